//! Each estate's hash chain as its events arrive, with no I/O: which events are new, which
//! are duplicates, where the chain is broken, and which seqs are missing.
//!
//! Every record names the hash of the one before it (`prev_hash`) and carries its own
//! (`hash` = blake3 of the previous hash and the record's canonical JSON, `docs/log.md`), so
//! anyone holding the records can check the chain; the seals need the estate's key and are
//! not checked here. A stand-in published for a record that could not go out whole (a
//! `skipped` marker: too large, refused, unreadable) has no hash: the link after it is not
//! checked, and counted.
//!
//! Events may arrive out of order and more than once (MQTT QoS 1 through NATS). The head is
//! the highest seq up to which every event is here; events beyond a gap wait in `ahead`
//! (bounded: [`MAX_AHEAD`] per estate, past it they are stored but no longer remembered, and
//! the replay from the head brings them again).

use gatehouse_store::chain::{GENESIS, canonical, hash};
use std::collections::BTreeMap;

/// Events remembered beyond a gap, per estate.
pub const MAX_AHEAD: usize = 100_000;

/// One event as it arrived, parsed just enough.
#[derive(Clone, Debug, PartialEq)]
pub struct Arrived {
    pub seq: u64,
    /// `None` for a `skipped` marker.
    pub event: Option<gatehouse_core::Event>,
}

/// What became of one arrived event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// At or below the head, or already waiting beyond a gap: not stored again.
    Duplicate,
    /// New: store it.
    New,
}

/// A problem found in an estate's chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub seq: u64,
    pub what: String,
}

/// One estate's chain: its head and what waits beyond it.
#[derive(Clone, Debug, PartialEq)]
pub struct Chain {
    head: u64,
    /// The head record's hash; `None` when the head is a marker (the next link is unchecked).
    head_hash: Option<String>,
    /// Events beyond the head, waiting for the gap before them to fill.
    ahead: BTreeMap<u64, Option<gatehouse_core::Event>>,
    /// Problems found since the last [`Chain::take_problems`].
    problems: Vec<Problem>,
}

impl Default for Chain {
    fn default() -> Self {
        Chain::at(0, Some(GENESIS.to_string()))
    }
}

impl Chain {
    /// A chain whose events up to `head` are all stored, the last with `head_hash`.
    pub fn at(head: u64, head_hash: Option<String>) -> Chain {
        Chain {
            head,
            head_hash,
            ahead: BTreeMap::new(),
            problems: Vec::new(),
        }
    }

    pub fn head(&self) -> u64 {
        self.head
    }

    pub fn head_hash(&self) -> Option<&str> {
        self.head_hash.as_deref()
    }

    /// The first missing seq and the last before what waits, when events wait beyond a gap.
    pub fn gap(&self) -> Option<(u64, u64)> {
        self.ahead
            .keys()
            .next()
            .map(|&first| (self.head + 1, first - 1))
    }

    /// Takes an arrived event.
    pub fn take(&mut self, arrived: Arrived) -> Verdict {
        let seq = arrived.seq;
        if seq <= self.head || self.ahead.contains_key(&seq) {
            return Verdict::Duplicate;
        }
        if seq > self.head + 1 {
            if self.ahead.len() < MAX_AHEAD {
                self.ahead.insert(seq, arrived.event);
            }
            return Verdict::New;
        }
        self.advance(seq, arrived.event);
        while let Some(next) = self.ahead.remove(&(self.head + 1)) {
            self.advance(self.head + 1, next);
        }
        Verdict::New
    }

    /// Problems found since the last call.
    pub fn take_problems(&mut self) -> Vec<Problem> {
        std::mem::take(&mut self.problems)
    }

    /// Moves the head to `seq` (the next one), checking its link and its own hash.
    fn advance(&mut self, seq: u64, event: Option<gatehouse_core::Event>) {
        self.head = seq;
        let Some(event) = event else {
            self.head_hash = None;
            return;
        };
        if let Some(expected) = &self.head_hash
            && &event.prev_hash != expected
        {
            self.problems.push(Problem {
                seq,
                what: format!(
                    "names {} as the hash before it, but the record before it has {}",
                    short(&event.prev_hash),
                    short(expected)
                ),
            });
        }
        let recomputed = hash(&event.prev_hash, &canonical(&event));
        if recomputed != event.hash {
            self.problems.push(Problem {
                seq,
                what: format!(
                    "carries hash {} but its contents hash to {}: changed after it was written",
                    short(&event.hash),
                    short(&recomputed)
                ),
            });
        }
        self.head_hash = Some(event.hash);
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::event::Kind;

    /// A chain of `n` events as an estate's log would write them.
    fn chain_of(n: u64) -> Vec<gatehouse_core::Event> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let mut e = gatehouse_core::Event::new(
                    Kind::Access,
                    format!("2026-12-04T08:00:{:02}.000+08:00", seq % 60),
                );
                e.seq = seq;
                e.id = format!("north-estate:{seq}");
                e.prev_hash = prev.clone();
                e.hash = hash(&prev, &canonical(&e));
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn arrived(e: &gatehouse_core::Event) -> Arrived {
        Arrived {
            seq: e.seq,
            event: Some(e.clone()),
        }
    }

    #[test]
    fn in_order_events_advance_the_head_and_repeats_are_duplicates() {
        let events = chain_of(5);
        let mut chain = Chain::default();
        for e in &events {
            assert_eq!(chain.take(arrived(e)), Verdict::New);
        }
        assert_eq!(chain.head(), 5);
        assert_eq!(chain.take(arrived(&events[2])), Verdict::Duplicate);
        assert!(chain.take_problems().is_empty());
        assert_eq!(chain.gap(), None);
    }

    #[test]
    fn a_gap_waits_and_fills() {
        let events = chain_of(6);
        let mut chain = Chain::default();
        chain.take(arrived(&events[0]));
        chain.take(arrived(&events[3]));
        chain.take(arrived(&events[4]));
        assert_eq!(chain.gap(), Some((2, 3)));
        assert_eq!(chain.take(arrived(&events[4])), Verdict::Duplicate);
        chain.take(arrived(&events[2]));
        assert_eq!(chain.gap(), Some((2, 2)));
        chain.take(arrived(&events[1]));
        assert_eq!((chain.head(), chain.gap()), (5, None));
        assert!(chain.take_problems().is_empty(), "reordered, not broken");
    }

    #[test]
    fn a_changed_record_and_a_broken_link_are_problems() {
        let mut events = chain_of(4);
        events[1].door = Some("changed".into());
        let mut chain = Chain::default();
        for e in &events {
            chain.take(arrived(e));
        }
        let problems = chain.take_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].seq, 2);
        assert!(problems[0].what.contains("changed after it was written"));

        let mut events = chain_of(3);
        events[2].prev_hash = "f".repeat(64);
        events[2].hash = hash(&events[2].prev_hash, &canonical(&events[2]));
        let mut chain = Chain::default();
        for e in &events {
            chain.take(arrived(e));
        }
        let problems = chain.take_problems();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].what.contains("the record before it has"));
    }

    #[test]
    fn after_a_marker_the_next_link_is_not_checked() {
        let events = chain_of(3);
        let mut chain = Chain::default();
        chain.take(arrived(&events[0]));
        chain.take(Arrived {
            seq: 2,
            event: None,
        });
        chain.take(arrived(&events[2]));
        assert_eq!(chain.head(), 3);
        assert!(chain.take_problems().is_empty());
        assert_eq!(chain.head_hash(), Some(events[2].hash.as_str()));
    }
}
