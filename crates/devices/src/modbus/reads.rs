//! The read buffer of `reader-controller`s: a u16 counter of reads since power-on and a ring
//! of slots. Each poll takes the reads made since the last one, in order, and counts the ones
//! the ring has already overwritten (`reads_lost`).

use crate::profile::Reads;
use gatehouse_core::CardNumber;

/// One card read found in the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardRead {
    /// The reader's index on the controller (mapped to a reader id by the configuration).
    pub reader: u16,
    /// The 32-bit number the controller read.
    pub card: CardNumber,
    /// Keypad digits, left-padded with zeros to the length the controller reported.
    pub pin: Option<String>,
}

/// Where the gateway is in a controller's read buffer.
#[derive(Clone, Debug, Default)]
pub struct ReadCursor {
    /// The counter at the last poll; none until the first poll (reads made before the gateway
    /// first saw the controller are history, not requests).
    last: Option<u16>,
}

/// What a poll of the buffer found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Taken {
    pub reads: Vec<CardRead>,
    /// Reads overwritten before the gateway saw them.
    pub lost: u32,
}

impl ReadCursor {
    /// Takes the reads between the last counter and `counter`. `word(slot, offset)` reads one
    /// word of a slot from the poll's snapshot. `restarted` says the controller was unreachable
    /// since the last poll: a counter that went backwards then is a power cycle (counting from
    /// 0 again), not 65 000 lost reads.
    pub fn take(
        &mut self,
        counter: u16,
        layout: &Reads,
        restarted: bool,
        word: impl Fn(u16, u16) -> u16,
    ) -> Taken {
        let Some(last) = self.last.replace(counter) else {
            return Taken::default();
        };
        let new = if restarted && counter < last {
            u32::from(counter)
        } else {
            u32::from(counter.wrapping_sub(last))
        };
        let ring = u32::from(layout.slot_count);
        let lost = new.saturating_sub(ring);
        let mut taken = Taken {
            reads: Vec::new(),
            lost,
        };
        for k in (0..new.min(ring)).rev() {
            // Read number n (1-based) sits in slot (n - 1) mod count; u16 wrap-around keeps
            // the slot right because 65 536 is a multiple of any power-of-two ring.
            let n = counter.wrapping_sub(k as u16);
            let slot = (u32::from(n.wrapping_sub(1)) % ring) as u16;
            taken
                .reads
                .push(decode(layout, |offset| word(slot, offset)));
        }
        taken
    }
}

fn decode(layout: &Reads, word: impl Fn(u16) -> u16) -> CardRead {
    let card = (u32::from(word(layout.card_high)) << 16) | u32::from(word(layout.card_low));
    let pin_length = layout.pin_length.map(&word).unwrap_or(0);
    let pin = (pin_length > 0).then(|| {
        let high = layout.pin_high.map(&word).unwrap_or(0);
        let low = layout.pin_low.map(&word).unwrap_or(0);
        let value = (u32::from(high) << 16) | u32::from(low);
        format!("{value:0width$}", width = usize::from(pin_length))
    });
    CardRead {
        reader: word(layout.reader),
        card: CardNumber::from_u32(card),
        pin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profiles;
    use std::collections::HashMap;

    /// A buffer as the controller holds it, filled read by read.
    struct Buffer {
        counter: u16,
        words: HashMap<(u16, u16), u16>,
    }

    impl Buffer {
        fn read(&mut self, reader: u16, card: u32, pin: Option<(u16, u32)>) {
            self.counter = self.counter.wrapping_add(1);
            let slot = self.counter.wrapping_sub(1) % 16;
            let (len, value) = pin.unwrap_or((0, 0));
            let words = [
                reader,
                (card >> 16) as u16,
                card as u16,
                len,
                (value >> 16) as u16,
                value as u16,
            ];
            for (i, w) in words.into_iter().enumerate() {
                self.words.insert((slot, i as u16), w);
            }
        }
        fn take(&self, cursor: &mut ReadCursor, restarted: bool) -> Taken {
            let layout = Profiles::builtin()
                .get("reader-controller")
                .unwrap()
                .reads
                .clone()
                .unwrap();
            cursor.take(self.counter, &layout, restarted, |s, o| {
                self.words.get(&(s, o)).copied().unwrap_or(0)
            })
        }
    }

    #[test]
    fn takes_new_reads_in_order_with_pins() {
        let mut b = Buffer {
            counter: 5,
            words: HashMap::new(),
        };
        let mut c = ReadCursor::default();
        assert_eq!(
            b.take(&mut c, false),
            Taken::default(),
            "first poll only sets the baseline"
        );
        b.read(1, 0x04A1B2C3, Some((4, 78)));
        b.read(0, 0xDEAD, None);
        let t = b.take(&mut c, false);
        assert_eq!(t.lost, 0);
        assert_eq!(
            t.reads,
            [
                CardRead {
                    reader: 1,
                    card: CardNumber::from_u32(0x04A1B2C3),
                    pin: Some("0078".into())
                },
                CardRead {
                    reader: 0,
                    card: CardNumber::from_u32(0xDEAD),
                    pin: None
                },
            ]
        );
        assert!(b.take(&mut c, false).reads.is_empty());
    }

    #[test]
    fn wraps_the_counter_and_counts_lost_reads() {
        let mut b = Buffer {
            counter: 65530,
            words: HashMap::new(),
        };
        let mut c = ReadCursor::default();
        b.take(&mut c, false);
        for i in 0..20u32 {
            b.read(0, i, None);
        }
        assert_eq!(b.counter, 14, "wrapped past 65535");
        let t = b.take(&mut c, false);
        assert_eq!(t.lost, 4);
        let cards: Vec<_> = t.reads.iter().map(|r| r.card.clone()).collect();
        let want: Vec<_> = (4..20u32).map(CardNumber::from_u32).collect();
        assert_eq!(cards, want);
    }

    #[test]
    fn a_power_cycle_is_not_a_flood_of_lost_reads() {
        let mut b = Buffer {
            counter: 500,
            words: HashMap::new(),
        };
        let mut c = ReadCursor::default();
        b.take(&mut c, false);
        b.counter = 0;
        b.read(2, 0xAB, None);
        let t = b.take(&mut c, true);
        assert_eq!((t.lost, t.reads.len()), (0, 1));
    }
}
