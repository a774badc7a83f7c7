//! Consecutive phone-digit mismatches per pass: after `max_phone_failures` within
//! `phone_failure_window` the pass is suspended (a possibly lent pass). A match resets the
//! count; so does the office restoring the pass.

use foldhash::HashMap;
use jiff::{SignedDuration, Timestamp};

/// The current run of phone mismatches of each pass.
#[derive(Default)]
pub struct PhoneFailures {
    /// pass id → (mismatches so far, when the first of them happened). Bounded by the passes
    /// with a mismatch within one window (pruned on every tick).
    by_pass: HashMap<String, (u32, Timestamp)>,
}

impl PhoneFailures {
    /// The mismatches of `pass` counted at `now`: those of its current run, if that began
    /// less than `window` ago.
    pub fn count(&self, pass: &str, now: Timestamp, window: SignedDuration) -> u32 {
        match self.by_pass.get(pass) {
            Some(&(count, first)) if now.duration_since(first) < window => count,
            _ => 0,
        }
    }

    /// Counts one more mismatch at `now`; returns the count within the window.
    pub fn mismatch(&mut self, pass: &str, now: Timestamp, window: SignedDuration) -> u32 {
        let entry = self.by_pass.entry(pass.to_string()).or_insert((0, now));
        if now.duration_since(entry.1) >= window {
            *entry = (0, now);
        }
        entry.0 += 1;
        entry.0
    }

    /// Forgets the pass's mismatches (the digits matched, or the office restored it).
    pub fn forget(&mut self, pass: &str) {
        if !self.by_pass.is_empty() {
            self.by_pass.remove(pass);
        }
    }

    /// Forgets mismatch runs whose window has passed.
    pub fn prune(&mut self, now: Timestamp, window: SignedDuration) {
        self.by_pass
            .retain(|_, (_, first)| now.duration_since(*first) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_within_the_window_and_restarts_after_it() {
        let mut f = PhoneFailures::default();
        let t0: Timestamp = "2026-11-22T00:00:00Z".parse().unwrap();
        let w = SignedDuration::from_mins(60);
        assert_eq!(f.mismatch("P", t0, w), 1);
        assert_eq!(f.mismatch("P", t0 + SignedDuration::from_mins(59), w), 2);
        assert_eq!(f.mismatch("P", t0 + SignedDuration::from_mins(61), w), 1);
        assert_eq!(f.count("P", t0 + SignedDuration::from_mins(61), w), 1);
        assert_eq!(f.count("P", t0 + SignedDuration::from_mins(121), w), 0);
        f.forget("P");
        assert_eq!(f.count("P", t0 + SignedDuration::from_mins(61), w), 0);
        assert_eq!(f.mismatch("P", t0 + SignedDuration::from_mins(62), w), 1);
    }
}
