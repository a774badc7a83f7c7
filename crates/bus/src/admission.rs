//! Admission at the MQTT boundary: each source (a configured reader, a configured MQTT door,
//! all unconfigured readers together) may send at its own rate; beyond it, messages are
//! dropped before any parsing and counted into the `rejected_input` summary of that source.
//! One babbling or forged source cannot crowd out the others, and a flood costs a hash lookup
//! per message, not a decision, an event or a reply.
//!
//! Token buckets: a source holds up to `burst` tokens, refilled at `per_second`; a message
//! takes one. The map of buckets is bounded ([`MAX_BUCKETS`]): sources are configured readers
//! and doors plus a few shared keys, so the bound is never reached by a valid configuration;
//! if it were, new sources would share [`OVERFLOW`].

use std::collections::HashMap;
use tokio::time::Instant;

/// A source's allowance.
#[derive(Clone, Copy, Debug)]
pub struct Rate {
    pub per_second: f64,
    pub burst: f64,
}

/// A reader: ten swipes a second with a burst of twenty is far beyond any queue of people
/// and any reader's retries.
pub const READER: Rate = Rate {
    per_second: 10.0,
    burst: 20.0,
};
/// All readers the configuration does not name, together: enough to answer a misconfigured
/// reader, not enough for a flood to cost anything.
pub const UNKNOWN_READERS: Rate = Rate {
    per_second: 20.0,
    burst: 40.0,
};
/// An MQTT door controller's inputs (contact, exit button, fire, tamper).
pub const DOOR: Rate = Rate {
    per_second: 20.0,
    burst: 40.0,
};
/// Buckets held at most.
pub const MAX_BUCKETS: usize = 4096;
/// The shared key beyond [`MAX_BUCKETS`].
pub const OVERFLOW: &str = "(other sources)";

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of one adapter.
#[derive(Default)]
pub struct Admission {
    buckets: HashMap<String, Bucket>,
}

impl Admission {
    /// Whether one more message from `source` is admitted at `now`.
    pub fn admit(&mut self, source: &str, rate: Rate, now: Instant) -> bool {
        let key = if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(source) {
            OVERFLOW
        } else {
            source
        };
        let bucket = match self.buckets.get_mut(key) {
            Some(b) => b,
            None => self.buckets.entry(key.to_string()).or_insert(Bucket {
                tokens: rate.burst,
                at: now,
            }),
        };
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate.per_second).min(rate.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_flooding_source_does_not_take_another_sources_share() {
        let mut a = Admission::default();
        let t0 = Instant::now();
        let admitted = (0..10_000)
            .filter(|_| a.admit("readers/r-flood", READER, t0))
            .count();
        assert_eq!(admitted, 20, "the burst, then nothing");
        assert!(a.admit("readers/r-north-in", READER, t0));
        // A second later the flooding source has ten more.
        let t1 = t0 + Duration::from_secs(1);
        let admitted = (0..10_000)
            .filter(|_| a.admit("readers/r-flood", READER, t1))
            .count();
        assert_eq!(admitted, 10);
    }

    #[test]
    fn buckets_are_bounded() {
        let mut a = Admission::default();
        let t0 = Instant::now();
        for i in 0..(MAX_BUCKETS + 100) {
            a.admit(&format!("s-{i}"), DOOR, t0);
        }
        assert_eq!(a.buckets.len(), MAX_BUCKETS + 1);
        assert!(a.buckets.contains_key(OVERFLOW));
    }
}
