//! What `gatehouse demo` sets up before the gateway starts: the sample estate's residents in
//! the store, imported once on the first run of a data directory through the same import a
//! user runs (`gatehouse import residents`).

use gatehouse_core::config::Config;
use std::path::Path;

/// The sample residents (seeded generator output, committed in `config/`).
pub const RESIDENTS_CSV: &str = include_str!("../config/residents.csv");

/// A card the demo's simulated residents carry, and the phone digits they would type.
/// Kept in memory only; never logged.
#[derive(Clone)]
pub struct Card {
    pub number: String,
    pub digits: String,
    /// The zone the holder lives in: they swipe at perimeter gates and at their own unit door.
    pub home: String,
}

/// At most this many cards are kept for the simulated traffic (one swipe every 2 s): a large
/// imported estate would otherwise keep every card, its holder's phone digits and home a
/// second time (about 30 MB at 250,000 passes).
const SIMULATED_CARDS: usize = 5_000;

/// Makes sure the demo's store holds the sample residents; returns cards for the simulated
/// traffic: every resident's card in a small estate, an even spread of
/// [`SIMULATED_CARDS`] in a large one.
pub fn prepare(config: &Config, data_dir: &Path) -> Result<Vec<Card>, String> {
    let store =
        gatehouse_store::Store::open_lean(data_dir, &config.site.id).map_err(|e| e.to_string())?;
    let mut estate = store.load_estate().map_err(|e| e.to_string())?;
    if estate.people.is_empty() {
        import_sample(config, data_dir, &store)?;
        estate = store.load_estate().map_err(|e| e.to_string())?;
    }
    let people: std::collections::HashMap<&str, &gatehouse_core::estate::Person> =
        estate.people.iter().map(|p| (p.id.as_str(), p)).collect();
    let homes: std::collections::HashMap<&str, &str> = estate
        .households
        .iter()
        .map(|h| (h.id.as_str(), h.zone.as_str()))
        .collect();
    let digits = usize::from(config.policy.phone_digits);
    let step = estate.passes.len().div_ceil(SIMULATED_CARDS).max(1);
    Ok(estate
        .passes
        .iter()
        .step_by(step)
        .filter_map(|pass| {
            let person = people.get(pass.holder.as_str())?;
            let home = homes.get(person.household.as_deref()?)?;
            let phone = &person.phone;
            Some(Card {
                number: pass.card.as_ref()?.to_string(),
                digits: phone[phone.len().saturating_sub(digits)..].to_string(),
                home: home.to_string(),
            })
        })
        .collect())
}

fn import_sample(
    config: &Config,
    data_dir: &Path,
    store: &gatehouse_store::Store,
) -> Result<(), String> {
    let file = data_dir.join("sample-residents.csv");
    std::fs::write(&file, RESIDENTS_CSV).map_err(|e| {
        format!(
            "Cannot write {}: {e}. Check that the data directory is writable.",
            file.display()
        )
    })?;
    let imported = crate::import::residents::import(&file, config, store, "demo", &mut |_, _| {})
        .map_err(|e| format!("Importing the sample residents failed: {e}"))?;
    tracing::info!(counts = %imported.counts, "Sample residents imported.");
    Ok(())
}

/// The demo's console logins, made on the first run of a data directory: the first admin
/// (its password, unless `GATEHOUSE_ADMIN_PASSWORD` gave it) and the guard `guard` for the
/// checkpoint screen (`GATEHOUSE_GUARD_PASSWORD`, else a random password). Printed once.
pub struct Logins {
    pub admin: Option<String>,
    pub guard: String,
}

/// The demo's user on the checkpoint screen.
pub const GUARD_USER: &str = "guard";

/// Makes the demo's console users on a fresh data directory; `None` when they exist already.
pub fn logins(data_dir: &Path) -> Result<Option<Logins>, String> {
    use gatehouse_web::{PasswordCost, Role, users::Users};
    if data_dir.join("web-users.json").exists() {
        return Ok(None);
    }
    let (users, admin) =
        Users::open(data_dir, PasswordCost::Standard).map_err(|e| e.to_string())?;
    let guard = std::env::var("GATEHOUSE_GUARD_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(gatehouse_web::users::random_password);
    users
        .put(GUARD_USER, Role::Guard, &guard)
        .map_err(|e| e.to_string())?;
    Ok(Some(Logins { admin, guard }))
}

/// How often a simulated resident swipes somewhere in the estate.
const SWIPE_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Simulated readers: every couple of seconds a sample resident swipes at a random reader —
/// over MQTT for MQTT readers, through the simulator's read buffer for readers wired to a
/// reader-controller. One swipe in ten types the wrong phone digits (a lent pass). Runs until
/// the runtime stops.
pub fn spawn_traffic(config: &Config, running: &crate::daemon::Running, cards: Vec<Card>) {
    use rand::Rng;
    let (Some(mqtt), false) = (running.mqtt.clone(), cards.is_empty()) else {
        return;
    };
    let on_controller: std::collections::HashSet<&str> = config
        .controllers
        .iter()
        .flat_map(|c| c.readers.iter().map(|r| r.id.as_str()))
        .collect();
    // (reader, wired to a simulated controller, the zone its door leads into; `None` for a
    // perimeter gate, which everybody uses).
    let readers: Vec<(String, bool, Option<String>)> = config
        .doors
        .iter()
        .flat_map(|d| {
            let on_controller = &on_controller;
            let into = (d.outside != gatehouse_core::model::OUTSIDE).then(|| d.inside.clone());
            d.readers.iter().map(move |r| {
                (
                    r.id.clone(),
                    on_controller.contains(r.id.as_str()),
                    into.clone(),
                )
            })
        })
        .collect();
    let site = config.site.id.clone();
    let sims = running.simulators.clone();
    tokio::spawn(async move {
        let Some((host, port)) = mqtt
            .rsplit_once(':')
            .and_then(|(h, p)| Some((h.to_string(), p.parse::<u16>().ok()?)))
        else {
            return;
        };
        let options = rumqttc::MqttOptions::new(format!("{site}-demo-readers"), host, port);
        let (client, mut eventloop) = rumqttc::AsyncClient::new(options, 64);
        tokio::spawn(async move {
            loop {
                if eventloop.poll().await.is_err() {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        });
        let mut tick = tokio::time::interval(SWIPE_EVERY);
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            n += 1;
            let (card, reader, wired, lent) = {
                let mut rng = rand::rng();
                let card = &cards[rng.random_range(0..cards.len())];
                let usable: Vec<_> = readers
                    .iter()
                    .filter(|(_, _, into)| into.as_ref().is_none_or(|z| *z == card.home))
                    .collect();
                if usable.is_empty() {
                    continue;
                }
                let (reader, wired, _) = usable[rng.random_range(0..usable.len())];
                (
                    card.clone(),
                    reader.clone(),
                    *wired,
                    rng.random_range(0..10) == 0,
                )
            };
            let digits = if lent {
                "0000".to_string()
            } else {
                card.digits.clone()
            };
            if wired {
                if let (Some(sims), Ok(number)) = (&sims, u32::from_str_radix(&card.number, 16)) {
                    let _ = sims.swipe(&reader, number, Some(&digits));
                }
            } else {
                let payload = serde_json::json!({"id": format!("demo-{n}"), "card": card.number, "pin": digits});
                let topic = format!("gatehouse/{site}/readers/{reader}/swipe");
                let _ = client
                    .publish(topic, rumqttc::QoS::AtLeastOnce, false, payload.to_string())
                    .await;
            }
        }
    });
}
