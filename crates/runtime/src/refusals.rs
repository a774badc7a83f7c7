//! Refused input, summarised: adapters report each refusal with [`crate::Gateway::refuse`]
//! (no waiting, no event yet); the owner task writes one `rejected_input` event per source per
//! [`INTERVAL`], carrying the count, the first and last refusal's times and the first one's
//! reason and sample. A flood of garbage is a handful of events a minute, never one per
//! message.
//!
//! Bounded: at most [`MAX_SOURCES`] sources are tallied at once; refusals from further sources
//! in the same interval are counted under [`OTHER_SOURCES`] (its sample names the source).

use gatehouse_core::bounds::{MAX_TEXT, cut, sample};
use gatehouse_core::io::RefusedSummary;
use jiff::Timestamp;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// How long refusals from one source are counted before their summary is written.
pub const INTERVAL: Duration = Duration::from_secs(5);
/// Sources tallied at once (each configured reader and door is one; so is each route).
pub const MAX_SOURCES: usize = 256;
/// Where refusals from sources beyond [`MAX_SOURCES`] are counted.
pub const OTHER_SOURCES: &str = "(other sources)";

/// One source's refusals in the current interval.
struct Tally {
    error: String,
    sample: Option<String>,
    count: u64,
    first: Timestamp,
    last: Timestamp,
    /// When the interval started (monotonic, so a wall-clock jump does not hold it open).
    opened: Instant,
}

/// The tallies of the current intervals.
#[derive(Default)]
pub(crate) struct Refusals {
    by_source: HashMap<String, Tally>,
    /// Refusals noted since start, all sources.
    total: u64,
}

impl Refusals {
    /// Counts one refusal from `source` for `error`; the first of an interval keeps its error
    /// and a sample of the input.
    pub(crate) fn note(
        &mut self,
        source: &str,
        error: &str,
        input: Option<&[u8]>,
        now: Timestamp,
        mono: Instant,
    ) {
        self.total += 1;
        let full = self.by_source.len() >= MAX_SOURCES && !self.by_source.contains_key(source);
        let (key, error, input) = if full {
            let sample = format!("{source}: {error}");
            (OTHER_SOURCES, error, Some(sample.into_bytes()))
        } else {
            (source, error, input.map(<[u8]>::to_vec))
        };
        if let Some(tally) = self.by_source.get_mut(key) {
            tally.count += 1;
            tally.last = now;
            return;
        }
        let key = cut(key, MAX_TEXT).into_owned();
        self.by_source.insert(
            key,
            Tally {
                error: cut(error, MAX_TEXT).into_owned(),
                sample: input.as_deref().map(sample),
                count: 1,
                first: now,
                last: now,
                opened: mono,
            },
        );
    }

    /// The summaries whose interval has ended by `mono`, removed from the tally.
    pub(crate) fn due(&mut self, mono: Instant) -> Vec<RefusedSummary> {
        let ended: Vec<String> = self
            .by_source
            .iter()
            .filter(|(_, t)| mono.duration_since(t.opened) >= INTERVAL)
            .map(|(k, _)| k.clone())
            .collect();
        ended
            .into_iter()
            .filter_map(|k| self.by_source.remove_entry(&k))
            .map(summary)
            .collect()
    }

    /// Every open summary (at shutdown).
    pub(crate) fn drain(&mut self) -> Vec<RefusedSummary> {
        self.by_source.drain().map(summary).collect()
    }

    pub(crate) fn total(&self) -> u64 {
        self.total
    }
}

fn summary((source, t): (String, Tally)) -> RefusedSummary {
    RefusedSummary {
        source,
        error: t.error,
        sample: t.sample,
        count: t.count,
        first: t.first,
        last: t.last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_one_summary_per_source_per_interval() {
        let mut r = Refusals::default();
        let t0: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        let start = Instant::now();
        for i in 0..10_000u64 {
            let garbage = format!("junk {i}");
            r.note(
                "gatehouse/s/readers/r-1/swipe",
                "payload is not a JSON object",
                Some(garbage.as_bytes()),
                t0,
                start,
            );
        }
        r.note("gatehouse/s/commands", "bad_signature", None, t0, start);
        assert!(r.due(start + INTERVAL / 2).is_empty(), "interval not over");
        let mut due = r.due(start + INTERVAL);
        due.sort_by(|a, b| a.source.cmp(&b.source));
        assert_eq!(due.len(), 2);
        assert_eq!(due[0].count, 1);
        assert_eq!(due[1].count, 10_000);
        assert_eq!(due[1].sample.as_deref(), Some("junk 0"));
        assert_eq!(due[1].error, "payload is not a JSON object");
        assert!(r.due(start + INTERVAL * 3).is_empty(), "nothing left");
        assert_eq!(r.total(), 10_001);
    }

    #[test]
    fn sources_are_bounded() {
        let mut r = Refusals::default();
        let t0: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        let start = Instant::now();
        for i in 0..(MAX_SOURCES + 500) {
            r.note(&format!("src-{i}"), "bad", None, t0, start);
        }
        let all = r.drain();
        assert_eq!(all.len(), MAX_SOURCES + 1);
        let other = all.iter().find(|s| s.source == OTHER_SOURCES).unwrap();
        assert_eq!(other.count, 500);
        assert!(other.sample.as_deref().unwrap().starts_with("src-"));
    }
}
