//! The sample estate shipped in `config/`: built into the binary so `gatehouse demo` needs no
//! files, and generated from a seed by `gatehouse sample generate` so it can be remade.
//!
//! - [`estate`]: the layout (areas, buildings, gates, controllers) and its configuration file.
//! - [`residents`]: households and residents, written as CSV and XLSX.
//! - [`names`]: Chinese names, fake phone numbers, card numbers.

mod estate;
mod names;
mod residents;

use base64::Engine;
use rand::SeedableRng;
use std::path::Path;

pub use estate::FIRST_PORT;
pub use residents::Resident;

/// The sample estate's configuration.
pub const CONFIG: &str = include_str!("../config/estate.toml");

/// What `gatehouse demo` may change in the sample, so that several demos run side by side on
/// one machine and report to a district (`scripts/district-demo`). The default changes nothing.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `[site] id`.
    pub site: Option<String>,
    /// `[site] name`.
    pub site_name: Option<String>,
    /// The first simulated controller's Modbus TCP port (the sample's is [`FIRST_PORT`]); the
    /// others keep their distance from it.
    pub modbus_port: Option<u16>,
    /// `[uplink] urls`, the district broker's nodes; empty: no uplink.
    pub uplink: Vec<String>,
    /// `[[issuers]]` added to the sample's own: (id, base64 public key).
    pub issuers: Vec<(String, String)>,
}

/// The sample's configuration text with `o` applied, for [`crate::config::parse`] to check
/// like any file: a site id or a key that is wrong is refused there.
pub fn config_with(o: &Overrides) -> Result<String, String> {
    use toml::Value;
    let mut doc: toml::Table = CONFIG
        .parse()
        .map_err(|e| format!("the built-in sample: {e}"))?;
    if let Some(id) = &o.site {
        doc["site"]["id"] = Value::from(id.as_str());
    }
    if let Some(name) = &o.site_name {
        doc["site"]["name"] = Value::from(name.as_str());
    }
    if let Some(first) = o.modbus_port {
        let controllers = doc["controllers"].as_array_mut().into_iter().flatten();
        for ctl in controllers {
            let Some(address) = ctl.get("address").and_then(Value::as_str) else {
                continue;
            };
            let moved = address
                .rsplit_once(':')
                .and_then(|(host, port)| {
                    let offset = port.parse::<u16>().ok()?.checked_sub(FIRST_PORT)?;
                    Some(format!("{host}:{}", first.checked_add(offset)?))
                })
                .ok_or_else(|| {
                    format!("--modbus-port {first} leaves no room for the sample's controllers; choose a lower port.")
                })?;
            ctl["address"] = Value::from(moved);
        }
    }
    if !o.uplink.is_empty() {
        let urls = o.uplink.iter().map(|u| Value::from(u.as_str())).collect();
        let uplink = toml::Table::from_iter([("urls".into(), Value::Array(urls))]);
        doc.insert("uplink".into(), Value::Table(uplink));
    }
    let issuers = doc
        .entry("issuers")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Some(issuers) = issuers.as_array_mut() {
        issuers.extend(o.issuers.iter().map(|(id, key)| {
            Value::Table(toml::Table::from_iter([
                ("id".into(), Value::from(id.as_str())),
                ("public_key".into(), Value::from(key.as_str())),
            ]))
        }));
    }
    toml::to_string(&doc).map_err(|e| format!("the built-in sample: {e}"))
}

/// The seed the shipped sample was generated with.
pub const SEED: u64 = 7;

/// The demo office's Ed25519 secret key. It is public on purpose: it lets the demo and the
/// tests sign office commands. Never use it for a real estate.
pub const DEMO_OFFICE_SECRET: [u8; 32] = *b"gatehouse-demo-office-1-secret!!";

/// The generated sample: configuration text, residents, and the demo office key.
pub struct Sample {
    pub config: String,
    pub residents: Vec<Resident>,
    /// Base64 of [`DEMO_OFFICE_SECRET`], the content of `demo-office.key`.
    pub office_secret: String,
}

/// Generates the sample estate; the same seed gives the same estate.
pub fn generate(seed: u64) -> Sample {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let layout = estate::layout(&mut rng);
    let key = ed25519_dalek::SigningKey::from_bytes(&DEMO_OFFICE_SECRET);
    let b64 = base64::engine::general_purpose::STANDARD;
    let public = b64.encode(key.verifying_key().to_bytes());
    Sample {
        config: estate::config_toml(&layout, seed, &public),
        residents: residents::residents(&mut rng, &layout),
        office_secret: b64.encode(DEMO_OFFICE_SECRET),
    }
}

/// Writes `estate.toml`, `residents.csv`, `residents.xlsx` and `demo-office.key` into `dir`.
pub fn write(sample: &Sample, dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("estate.toml"), &sample.config)?;
    residents::write_csv(&dir.join("residents.csv"), &sample.residents)?;
    residents::write_xlsx(&dir.join("residents.xlsx"), &sample.residents)?;
    std::fs::write(
        dir.join("demo-office.key"),
        format!("{}\n", sample.office_secret),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_shipped_sample_is_what_the_generator_makes() {
        // If this fails, run `gatehouse sample generate --seed 7 --out config/` and commit.
        assert!(
            generate(SEED).config == CONFIG,
            "config/estate.toml is out of date with the generator"
        );
    }

    #[test]
    fn the_sample_has_the_size_of_an_old_quarter() {
        let cfg = crate::config::parse(CONFIG, "estate.toml").unwrap_or_else(|e| panic!("{e}"));
        let kind = |k| cfg.zones.iter().filter(|z| z.kind == Some(k)).count();
        use gatehouse_core::config::{DoorKind, Verify, ZoneKind};
        assert_eq!(kind(ZoneKind::Area), 3);
        assert!(kind(ZoneKind::Building) >= 20);
        let gates: Vec<_> = cfg
            .doors
            .iter()
            .filter(|d| d.outside == "outside")
            .collect();
        assert_eq!(gates.len(), 12);
        assert_eq!(
            gates.iter().filter(|d| d.verify != Verify::Card).count(),
            3,
            "3 guarded checkpoints"
        );
        assert_eq!(
            gates.iter().filter(|d| d.schedule.is_none()).count(),
            1,
            "one gate open at night"
        );
        let units = cfg
            .doors
            .iter()
            .filter(|d| d.kind == DoorKind::Unit)
            .count();
        assert_eq!(units, kind(ZoneKind::Unit), "one door per unit entrance");
        let profiles: HashSet<_> = cfg.controllers.iter().map(|c| c.profile.as_str()).collect();
        assert_eq!(profiles.len(), 3);
        assert_eq!(cfg.fire_inputs.len(), 3);

        let sample = generate(SEED);
        let households: HashSet<_> = sample.residents.iter().map(|r| &r.household).collect();
        assert!(
            (1_800..=2_300).contains(&households.len()),
            "{} households",
            households.len()
        );
        assert!(
            (4_500..=5_800).contains(&sample.residents.len()),
            "{} residents",
            sample.residents.len()
        );
        let cards: Vec<_> = sample
            .residents
            .iter()
            .filter_map(|r| r.card.as_ref())
            .collect();
        assert_eq!(
            cards.iter().collect::<HashSet<_>>().len(),
            cards.len(),
            "cards are unique"
        );
        for r in &sample.residents {
            assert_eq!(
                gatehouse_core::phone::normalize(&r.phone).as_deref(),
                Ok(r.phone.as_str())
            );
        }
    }

    #[test]
    fn the_demo_key_pair_matches_the_issuer() {
        let cfg = crate::config::parse(CONFIG, "estate.toml").unwrap_or_else(|e| panic!("{e}"));
        let public = ed25519_dalek::SigningKey::from_bytes(&DEMO_OFFICE_SECRET).verifying_key();
        let b64 = base64::engine::general_purpose::STANDARD;
        assert_eq!(cfg.issuers[0].public_key, b64.encode(public.to_bytes()));
        let shipped = include_str!("../config/demo-office.key");
        assert_eq!(shipped.trim(), generate(SEED).office_secret);
    }

    #[test]
    fn no_overrides_leave_the_sample_as_it_is() {
        let text = config_with(&Overrides::default()).unwrap();
        let table = |t: &str| t.parse::<toml::Table>().unwrap();
        assert_eq!(table(&text), table(CONFIG));
    }

    #[test]
    fn overrides_make_a_district_estate() {
        let public = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
        let key = base64::engine::general_purpose::STANDARD.encode(public.to_bytes());
        let o = Overrides {
            site: Some("estate-2".into()),
            site_name: Some("东风二区".into()),
            modbus_port: Some(16200),
            uplink: vec![
                "mqtt://127.0.0.1:24242".into(),
                "mqtt://127.0.0.1:24243".into(),
            ],
            issuers: vec![("district".into(), key.clone())],
        };
        let cfg = crate::config::parse(&config_with(&o).unwrap(), "overridden")
            .unwrap_or_else(|e| panic!("{e}"));
        let sample = crate::config::parse(CONFIG, "estate.toml").unwrap();
        assert_eq!(cfg.site.id, "estate-2");
        assert_eq!(cfg.site.name, "东风二区");
        let ports: Vec<_> = cfg
            .controllers
            .iter()
            .map(|c| c.address.as_deref().unwrap())
            .collect();
        assert_eq!(ports.len(), sample.controllers.len());
        for (i, address) in ports.iter().enumerate() {
            assert_eq!(*address, format!("127.0.0.1:{}", 16200 + i));
        }
        let uplink = cfg.uplink.as_ref().expect("an [uplink]");
        assert_eq!(uplink.urls, o.uplink);
        let ids: Vec<_> = cfg.issuers.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["office-1", "district"], "the sample's issuer is kept");
        assert_eq!(cfg.issuers[1].public_key, key);
        assert_eq!(cfg.doors.len(), sample.doors.len());
    }

    #[test]
    fn overrides_are_checked_like_a_file() {
        let refused = |o: Overrides| match config_with(&o) {
            Ok(text) => crate::config::parse(&text, "overridden")
                .err()
                .map(|e| e.to_string()),
            Err(e) => Some(e),
        };
        let site = |id: &str| Overrides {
            site: Some(id.into()),
            uplink: vec!["mqtt://127.0.0.1:24242".into()],
            ..Overrides::default()
        };
        for id in ["estate.1", "estate*", "estate>", "estate 1", "Estate-1", ""] {
            let e = refused(site(id)).unwrap_or_else(|| panic!("site id {id:?} accepted"));
            assert!(e.contains("site id"), "{e}");
        }
        let e = refused(Overrides {
            issuers: vec![("district".into(), "not-a-key".into())],
            ..Overrides::default()
        })
        .expect("a bad key refused");
        assert!(e.contains("issuer 'district'"), "{e}");
        let e = refused(Overrides {
            modbus_port: Some(65_530),
            ..Overrides::default()
        })
        .expect("ports past 65535 refused");
        assert!(e.contains("--modbus-port"), "{e}");
    }

    #[test]
    fn different_seeds_give_different_estates() {
        assert!(generate(1).config != generate(2).config);
        assert!(generate(3).residents == generate(3).residents);
    }
}
