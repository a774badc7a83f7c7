//! The daemon's live occupancy: head counts per zone and the inside-now list, kept up to date
//! from the runtime's durable events by `gatehouse_occupancy::live`, seeded from the log at
//! start so that a restart does not zero them. It makes the retained MQTT summary of
//! `docs/interfaces.md#mqtt` (through `Gateway::set_occupancy_summary`) and answers the console's
//! occupancy routes. Household statuses for the summary come from the report's inference over
//! the last 28 days, remade every 15 minutes on a blocking thread.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Duration;

use gatehouse_core::config::Config;
use gatehouse_core::directory::Directory;
use gatehouse_core::event::{Event, Kind};
use gatehouse_occupancy::live::LiveOccupancy;
use gatehouse_occupancy::report::Status;
use gatehouse_occupancy::site::Site;
use gatehouse_occupancy::{Method, Occupancy, Window};
use gatehouse_runtime::Gateway;
use gatehouse_store::{StoreError, StoreReader};
use gatehouse_web::{OccupancyNow, OccupancyQuery};
use serde_json::json;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// At start (and at each rebuild) the tracker reads this much of the log back: an entry
/// counts for 18 hours, so two days hold everything that can still count.
const SEED_HOURS: i64 = 48;
/// Damaged records the seeding leaves out before it gives up on the log.
const MAX_SKIPPED: u32 = 1000;
/// Household statuses are judged over this many nights, as the report does by default.
const STATUS_NIGHTS: i64 = 28;
/// The report's presence rules look up to 6 days back from the window's first night.
const STATUS_LEAD_DAYS: i64 = 7;
/// How often the summary is remade and published whether or not anything changed, and the
/// household statuses and the tracker's copy of the estate are remade.
pub const REFRESH: Duration = Duration::from_secs(15 * 60);
/// A change of the estate (a pass issued, residents imported) remakes the tracker this soon.
const ESTATE_SETTLE: Duration = Duration::from_secs(30);
/// Console queries waiting for the task; more are refused with "try again".
const QUERIES: usize = 32;

/// How the task publishes.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Changed head counts are published at most this often.
    pub min_interval: Duration,
    /// The summary is published at least this often.
    pub refresh: Duration,
}

impl Default for Timing {
    fn default() -> Timing {
        Timing {
            min_interval: Duration::from_secs(10),
            refresh: REFRESH,
        }
    }
}

/// Household counts by status, as the summary carries them.
type Households = BTreeMap<&'static str, u32>;

/// Starts the task. Returns it and the console's hook.
pub fn start(
    config: &Config,
    gateway: Gateway,
    timing: Timing,
    shutdown: CancellationToken,
) -> (JoinHandle<()>, OccupancyNow) {
    let (queries_tx, queries) = mpsc::channel(QUERIES);
    // Subscribed before the seed is read, so that no event falls between the two.
    let events = gateway.events();
    let task = tokio::spawn(run(
        Arc::new(config.clone()),
        gateway,
        events,
        queries,
        timing,
        shutdown,
    ));
    let hook: OccupancyNow = Arc::new(move |query| {
        let queries = queries_tx.clone();
        Box::pin(async move {
            let (reply, answer) = oneshot::channel();
            queries
                .try_send((query, reply))
                .map_err(|_| "live occupancy is busy or stopped".to_string())?;
            answer
                .await
                .map_err(|_| "live occupancy stopped".to_string())
        })
    });
    (task, hook)
}

type Query = (OccupancyQuery, oneshot::Sender<serde_json::Value>);

/// What a rebuild hands back: a tracker seeded from the log, and household statuses.
struct Built {
    tracker: LiveOccupancy,
    households: Option<Households>,
}

async fn run(
    config: Arc<Config>,
    gateway: Gateway,
    mut events: broadcast::Receiver<Arc<Event>>,
    mut queries: mpsc::Receiver<Query>,
    timing: Timing,
    shutdown: CancellationToken,
) {
    let store = gateway.store().clone();
    let first = spawn_build(&config, &gateway);
    let built = tokio::select! {
        () = shutdown.cancelled() => return,
        built = first => built,
    };
    let Built {
        mut tracker,
        households,
    } = match built {
        Ok(Ok(built)) => built,
        Ok(Err(e)) => {
            warn!(error = %e, "Live occupancy could not start; head counts are not published. Check the store and the estate, then restart.");
            return;
        }
        Err(e) => {
            warn!(error = %e, "Live occupancy stopped while starting.");
            return;
        }
    };
    let mut households = households.unwrap_or_default();
    info!(seq = tracker.seq(), "Live occupancy seeded from the log.");
    let mut published: Option<(Instant, serde_json::Value)> = None;
    let mut dirty = true;
    let mut refresh = tokio::time::interval_at(Instant::now() + timing.refresh, timing.refresh);
    // A rebuild under way, and the events that arrived since it began.
    let mut rebuilding: Option<JoinHandle<Result<Built, String>>> = None;
    let mut since_rebuild: Vec<Arc<Event>> = Vec::new();
    let mut estate_changed: Option<Instant> = None;
    loop {
        let publish_at = match &published {
            Some((at, _)) => *at + timing.min_interval,
            None => Instant::now(),
        };
        tokio::select! {
            () = shutdown.cancelled() => break,
            received = events.recv() => match received {
                Ok(e) => {
                    if rebuilding.is_some() {
                        since_rebuild.push(e.clone());
                    }
                    if e.seq > tracker.seq() {
                        tracker.observe(&e);
                        dirty = true;
                    }
                    if touches_estate(&e) {
                        estate_changed = Some(Instant::now() + ESTATE_SETTLE);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    warn!(missed, "Live occupancy fell behind the event feed; reading the missed events from the log.");
                    let (from, store) = (tracker.seq() + 1, store.clone());
                    match tokio::task::spawn_blocking(move || store.events(from, usize::MAX)).await {
                        Ok(Ok(missed)) => {
                            for e in &missed {
                                tracker.observe(e);
                            }
                            if rebuilding.is_some() {
                                since_rebuild.extend(missed.into_iter().map(Arc::new));
                            }
                            dirty = true;
                        }
                        Ok(Err(e)) => warn!(error = %e, "Could not read the missed events; head counts may be off until the next rebuild."),
                        Err(e) => warn!(error = %e, "Reading the missed events stopped."),
                    }
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            Some((query, reply)) = queries.recv() => {
                tracker.advance(jiff::Timestamp::now().as_second());
                let _ = reply.send(answer(&tracker, query));
            }
            () = tokio::time::sleep_until(publish_at), if dirty => {
                tracker.advance(jiff::Timestamp::now().as_second());
                let summary = summary(&config, &tracker, &households);
                // Only the head counts and statuses matter: `at` always moves.
                let same = published.as_ref().is_some_and(|(_, before)| before["inside"] == summary["inside"] && before["households"] == summary["households"]);
                if !same {
                    gateway.set_occupancy_summary(summary.clone());
                    published = Some((Instant::now(), summary));
                }
                dirty = false;
            }
            _ = refresh.tick() => {
                // At least every REFRESH the summary goes out again with a new `at`.
                tracker.advance(jiff::Timestamp::now().as_second());
                let summary = summary(&config, &tracker, &households);
                gateway.set_occupancy_summary(summary.clone());
                published = Some((Instant::now(), summary));
                if rebuilding.is_none() {
                    rebuilding = Some(spawn_build(&config, &gateway));
                }
            }
            () = async { tokio::time::sleep_until(estate_changed.unwrap_or_else(Instant::now)).await }, if estate_changed.is_some() && rebuilding.is_none() => {
                estate_changed = None;
                rebuilding = Some(spawn_build(&config, &gateway));
            }
            built = async { rebuilding.as_mut().expect("guarded by is_some").await }, if rebuilding.is_some() => {
                rebuilding = None;
                let caught_up = std::mem::take(&mut since_rebuild);
                match built {
                    Ok(Ok(mut built)) => {
                        let seeded = built.tracker.seq();
                        for e in caught_up.iter().filter(|e| e.seq > seeded) {
                            built.tracker.observe(e);
                        }
                        tracker = built.tracker;
                        if let Some(h) = built.households {
                            households = h;
                        }
                        dirty = true;
                    }
                    Ok(Err(e)) => warn!(error = %e, "Live occupancy could not be remade; keeping the counts it has."),
                    Err(e) => warn!(error = %e, "Remaking live occupancy stopped."),
                }
            }
        }
    }
}

/// Remakes the tracker on the blocking pool from the people directory's latest version (the
/// core's own records, shared) and the log.
fn spawn_build(config: &Arc<Config>, gateway: &Gateway) -> JoinHandle<Result<Built, String>> {
    let (config, store, directory) = (config.clone(), gateway.store().clone(), gateway.directory());
    tokio::task::spawn_blocking(move || build(&config, &store, &directory))
}

/// Admin actions after which the tracker's copy of the estate is out of date.
fn touches_estate(e: &Event) -> bool {
    e.kind == Kind::Admin && matches!(e.action.as_deref(), Some("issue_pass" | "import_residents"))
}

/// A tracker seeded from the last [`SEED_HOURS`] of the log, and household statuses over the
/// last [`STATUS_NIGHTS`] nights (none when the window cannot be judged).
///
/// The estate comes from the directory, which takes a change a moment after its event: a
/// change remakes the tracker only [`ESTATE_SETTLE`] later, and every [`REFRESH`] anyway.
fn build(config: &Config, store: &StoreReader, directory: &Directory) -> Result<Built, String> {
    let site =
        Arc::new(Site::shared(config, &directory.shared_estate()).map_err(|e| e.to_string())?);
    let mut tracker = LiveOccupancy::with_site(site.clone());
    let now = jiff::Timestamp::now();
    let seed_from = now - jiff::SignedDuration::from_hours(SEED_HOURS);
    let last = store.last_seq();
    if let Some(first) = first_seq_since(store, seed_from).map_err(|e| e.to_string())? {
        // A record damaged on disk is left out (`gatehouse log verify` names it), not a reason
        // to publish no head counts at all; at most MAX_SKIPPED are, then the log is unusable.
        let mut next = first;
        let mut skipped = 0;
        loop {
            let read = store.for_each_event(next, |e| {
                if e.seq > last {
                    return ControlFlow::Break(());
                }
                next = e.seq + 1;
                tracker.observe(e);
                ControlFlow::Continue(())
            });
            match read {
                Ok(()) => break,
                Err(e @ (StoreError::Damaged { .. } | StoreError::Corrupt { .. }))
                    if next <= last && skipped < MAX_SKIPPED =>
                {
                    warn!(seq = next, error = %e, "Live occupancy leaves out a damaged record of the log.");
                    skipped += 1;
                    next += 1;
                }
                Err(e) => return Err(e.to_string()),
            }
        }
    }
    let households = statuses(config, site, store, now, last);
    Ok(Built {
        tracker,
        households,
    })
}

/// The seq of the first event at or after `since`, if any.
fn first_seq_since(store: &StoreReader, since: jiff::Timestamp) -> Result<Option<u64>, StoreError> {
    let far = since + jiff::SignedDuration::from_hours(24 * 365 * 100);
    Ok(store.events_between(since, far, 1)?.first().map(|e| e.seq))
}

/// Households by status over the last four weeks, with the report's inference.
fn statuses(
    config: &Config,
    site: Arc<Site>,
    store: &StoreReader,
    now: jiff::Timestamp,
    last: u64,
) -> Option<Households> {
    let tz = jiff::tz::TimeZone::get(&config.site.timezone).ok()?;
    let today = now.to_zoned(tz).date();
    let window = Window::ending(today, STATUS_NIGHTS);
    let mut occ = match Occupancy::with_site(site, window, Method::Ours) {
        Ok(occ) => occ,
        Err(e) => {
            warn!(error = %e, "Household statuses could not be judged.");
            return None;
        }
    };
    let lead = now - jiff::SignedDuration::from_hours(24 * (STATUS_NIGHTS + STATUS_LEAD_DAYS));
    let from = match first_seq_since(store, lead) {
        Ok(from) => from.unwrap_or(last + 1),
        Err(e) => {
            warn!(error = %e, "Household statuses could not be judged: the log could not be read.");
            return None;
        }
    };
    // One reader thread: the daemon's decisions keep the other core.
    if let Err(e) = observe_store(&mut occ, store, from, last, 1) {
        warn!(error = %e, "Household statuses could not be judged: the log could not be read.");
        return None;
    }
    let mut counts: Households = [
        Status::Occupied,
        Status::Occasional,
        Status::Vacant,
        Status::Unknown,
    ]
    .into_iter()
    .map(|s| (s.as_str(), 0))
    .collect();
    for h in occ.finish().households {
        *counts.entry(h.status.as_str()).or_default() += 1;
    }
    Some(counts)
}

/// Feeds `occ` the log's events `from_seq..=to_seq`, read on `threads` threads beside the
/// caller's (the store's scans of seq ranges run side by side; see
/// `gatehouse_occupancy::scan`).
pub fn observe_store(
    occ: &mut Occupancy,
    store: &StoreReader,
    from_seq: u64,
    to_seq: u64,
    threads: usize,
) -> Result<(), StoreError> {
    gatehouse_occupancy::scan::observe_log(occ, from_seq, to_seq, threads, |a, b, f| {
        store.scan(a, b, |_, s| {
            f(s);
            ControlFlow::Continue(())
        })
    })
}

/// The retained summary: `{"at", "inside": {"site": n, zone: n…}, "households": {status: n}}`.
/// Counts only: no names or ids of people.
fn summary(config: &Config, tracker: &LiveOccupancy, households: &Households) -> serde_json::Value {
    let counts = tracker.head_counts();
    let mut inside = serde_json::Map::new();
    inside.insert("site".into(), counts.site.into());
    for z in counts.zones {
        inside.insert(z.zone, z.inside_now.into());
    }
    let at = jiff::tz::TimeZone::get(&config.site.timezone)
        .map(|tz| gatehouse_core::time::rfc3339(jiff::Timestamp::now(), &tz))
        .unwrap_or_else(|_| jiff::Timestamp::now().to_string());
    let (per_zone, site) = tracker.site().registered_per_zone();
    let mut registered = serde_json::Map::new();
    registered.insert("site".into(), site.into());
    for (z, n) in tracker.site().zones.iter().zip(per_zone) {
        registered.insert(z.id.clone(), n.into());
    }
    json!({ "at": at, "inside": inside, "registered": registered, "households": households })
}

fn answer(tracker: &LiveOccupancy, query: OccupancyQuery) -> serde_json::Value {
    let counts = tracker.head_counts();
    let as_of = counts
        .now
        .and_then(|t| jiff::Timestamp::from_second(t).ok())
        .map(|t| gatehouse_core::time::rfc3339(t, &tracker.site().tz));
    match query {
        OccupancyQuery::HeadCounts => {
            let (registered, registered_site) = tracker.site().registered_per_zone();
            let zones: Vec<_> = counts
                .zones
                .iter()
                .zip(&tracker.site().zones)
                .zip(registered)
                .map(|((c, z), registered)| {
                    let parent = z
                        .parent
                        .map(|p| tracker.site().zones[p as usize].id.as_str());
                    json!({ "zone": c.zone, "name": z.name, "parent": parent,
                            "inside_now": c.inside_now, "registered": registered })
                })
                .collect();
            json!({ "as_of": as_of, "site": counts.site, "registered": registered_site, "zones": zones })
        }
        OccupancyQuery::Inside { zone } => {
            let site = tracker.site();
            let z = zone.as_deref().and_then(|z| site.zone(z));
            let names: std::collections::HashMap<&str, &str> = site
                .people
                .iter()
                .map(|p| (p.id.as_str(), p.name.as_str()))
                .collect();
            let inside: Vec<_> = tracker
                .inside_now(z)
                .into_iter()
                .map(|i| {
                    // The holder's name for the console (never the phone).
                    let name = names.get(i.person.as_str()).copied();
                    let mut entry = json!(i);
                    entry["name"] = json!(name);
                    entry
                })
                .collect();
            json!({ "as_of": as_of, "zone": zone, "inside": inside })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store whose last hour holds `records` events, copied by a backup into one fresh file
    /// (so that every record's bytes appear once in it), with record `damaged` changed on disk.
    fn damaged_store(
        root: &std::path::Path,
        site: &str,
        records: u64,
        damaged: u64,
    ) -> gatehouse_store::Store {
        use gatehouse_store::{SEAL_KEY, secrets, tables};
        let live = root.join("live");
        let store = gatehouse_store::Store::open(&live, site).unwrap();
        let start = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(1);
        let mut written = Vec::new();
        for i in 0..records {
            let at = start + jiff::SignedDuration::from_secs(i as i64);
            let mut e = Event::new(Kind::Access, at.to_string());
            e.door = Some("gate-north".into());
            written.push(serde_json::to_string(&store.append_blocking(e).unwrap()).unwrap());
        }
        let data = root.join("data");
        std::fs::create_dir(&data).unwrap();
        store.backup(&data.join(tables::FILE_NAME)).unwrap();
        drop(store);
        let key = secrets::path(&data, SEAL_KEY).unwrap();
        std::fs::copy(secrets::path(&live, SEAL_KEY).unwrap(), key).unwrap();
        let file = data.join(tables::FILE_NAME);
        let mut bytes = std::fs::read(&file).unwrap();
        let json = written[damaged as usize - 1].as_bytes();
        let at = bytes
            .windows(json.len())
            .position(|w| w == json)
            .expect("the record is in the file");
        // 0x80 makes the byte invalid UTF-8: the record cannot be read at all.
        bytes[at + 5] ^= 0x80;
        std::fs::write(&file, bytes).unwrap();
        gatehouse_store::Store::open(&data, site).unwrap()
    }

    /// The store-operations bench found live occupancy giving up for good at one damaged
    /// record in the hours it seeds from: no head counts at all.
    #[test]
    fn live_occupancy_starts_past_a_damaged_record() {
        let config = crate::config::parse(crate::sample::CONFIG, "sample").unwrap();
        let root = tempfile::tempdir().unwrap();
        let store = damaged_store(root.path(), &config.site.id, 40, 10);
        let built = build(&config, &store.reader(), &Directory::default());
        assert!(built.is_ok(), "{:?}", built.err());
    }
}
