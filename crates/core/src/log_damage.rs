//! Damage found in the event log (`alarm` `log_damaged`): records the store can no longer
//! read, or that no longer match their hash, found by the runtime's periodic check of the
//! whole log. The gateway keeps deciding (its state does not come from re-reading the log);
//! the alarm tells a person to look, and what to do.
//!
//! Damage does not heal while the process runs: a store is repaired by `gatehouse log
//! salvage` or `gatehouse restore`, both with the gateway stopped, so the alarm has no
//! clearing event. A check that finds the same ranges again raises nothing new.

use crate::event::{AlarmKind, Event, Kind};
use crate::io::Output;
use jiff::Timestamp;

/// Ranges named in one alarm's detail, at most; the rest are counted.
const NAMED: usize = 8;

/// The damaged ranges last reported (inclusive seq ranges, in order).
#[derive(Clone, Debug, Default)]
pub struct LogDamage {
    ranges: Vec<(u64, u64)>,
}

impl LogDamage {
    /// Records reported damaged by the last check (0 before any damage was found).
    pub fn records(&self) -> u64 {
        self.ranges.iter().map(|(a, b)| b - a + 1).sum()
    }

    /// Whether any damage is known: counted among the active alarms.
    pub fn active(&self) -> bool {
        !self.ranges.is_empty()
    }

    /// Takes a check's result; returns true when it differs from what was known (an alarm
    /// is due). An empty result keeps what was known: damage found earlier in this process
    /// is still there, a check that could not read it only proves the store was busy.
    fn report(&mut self, mut ranges: Vec<(u64, u64)>) -> bool {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        if ranges.is_empty() || ranges == self.ranges {
            return false;
        }
        self.ranges = ranges;
        true
    }

    /// What a person reads: the ranges, how many records, and what to do.
    fn detail(&self) -> String {
        let mut named: Vec<String> = self
            .ranges
            .iter()
            .take(NAMED)
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}–{b}")
                }
            })
            .collect();
        if self.ranges.len() > NAMED {
            named.push(format!("and {} more ranges", self.ranges.len() - NAMED));
        }
        let records = self.records();
        let what = if records == 1 {
            "record of the event log is"
        } else {
            "records of the event log are"
        };
        format!(
            "{records} {what} damaged (seq {}); decisions go on. Back up the store now, then with the gateway stopped run `gatehouse log salvage --out NEW` (or restore a backup) and see docs/deploy.md",
            named.join(", ")
        )
    }
}

impl crate::core::Core {
    /// A check of the whole log found these damaged ranges: raises `alarm` `log_damaged`
    /// when they are new.
    pub(crate) fn on_log_damaged(
        &mut self,
        ranges: Vec<(u64, u64)>,
        now: Timestamp,
    ) -> Vec<Output> {
        if !self.log_damage.report(ranges) {
            return Vec::new();
        }
        let mut event: Event = self.event(Kind::Alarm, now);
        event.alarm = Some(AlarmKind::LogDamaged);
        event.detail = Some(self.log_damage.detail());
        vec![Output::Record {
            event,
            then: vec![],
        }]
    }

    /// The damage the last check found.
    pub fn log_damage(&self) -> &LogDamage {
        &self.log_damage
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_new_damage_is_reported() {
        let mut d = LogDamage::default();
        assert!(!d.report(vec![]), "no damage, no alarm");
        assert!(!d.active());
        assert!(d.report(vec![(7, 9), (5000, 5000)]));
        assert_eq!(d.records(), 4);
        assert!(d.active());
        assert!(
            !d.report(vec![(5000, 5000), (7, 9)]),
            "same ranges in another order"
        );
        assert!(!d.report(vec![]), "an empty check keeps what was found");
        assert_eq!(d.records(), 4);
        assert!(d.report(vec![(7, 9), (5000, 5001)]), "more damage");
        assert!(!d.report(vec![(9, 7)]), "a backwards range is ignored");
    }

    #[test]
    fn the_detail_names_ranges_and_what_to_do() {
        let mut d = LogDamage::default();
        d.report(vec![(5000, 5000), (7, 9)]);
        let text = d.detail();
        assert!(text.starts_with("4 records"), "{text}");
        assert!(text.contains("seq 7–9, 5000"), "{text}");
        assert!(text.contains("gatehouse log salvage"), "{text}");
        d.report(vec![(3, 3)]);
        assert!(
            d.detail()
                .starts_with("1 record of the event log is damaged (seq 3)")
        );
        d.report((1..=20).map(|i| (i * 10, i * 10)).collect());
        let text = d.detail();
        assert!(text.contains("and 12 more ranges"), "{text}");
    }
}
