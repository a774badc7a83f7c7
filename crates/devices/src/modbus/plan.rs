//! What one poll reads: the points of a controller grouped into as few requests as the map
//! allows (one request per table when the addresses fit in one), and the decoded result.

use crate::profile::{Point, Table};
use std::collections::BTreeSet;

/// The most a single request may read, per the Modbus application protocol.
const MAX_BITS: u16 = 2000;
const MAX_WORDS: u16 = 125;

/// One read request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadRange {
    pub table: Table,
    pub start: u16,
    pub count: u16,
}

/// Covers every address with the fewest ranges: addresses of a table are taken in order and a
/// range grows while it stays within one request's limit. Gaps are read too: one bigger
/// request costs less on the wire than two small ones.
pub fn plan(addresses: impl IntoIterator<Item = (Table, u16)>) -> Vec<ReadRange> {
    let sorted: BTreeSet<(Table, u16)> = addresses.into_iter().collect();
    let mut ranges: Vec<ReadRange> = Vec::new();
    for (table, address) in sorted {
        let limit = if table.is_bits() { MAX_BITS } else { MAX_WORDS };
        match ranges.last_mut() {
            Some(r)
                if r.table == table
                    && u32::from(address) - u32::from(r.start) < u32::from(limit) =>
            {
                r.count = address - r.start + 1;
            }
            _ => ranges.push(ReadRange {
                table,
                start: address,
                count: 1,
            }),
        }
    }
    ranges
}

/// The values one poll read; bits are 0 or 1.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    parts: Vec<(ReadRange, Vec<u16>)>,
}

impl Snapshot {
    pub fn push(&mut self, range: ReadRange, values: Vec<u16>) {
        self.parts.push((range, values));
    }

    /// The raw value at `address` of `table`, if this poll read it.
    pub fn get(&self, table: Table, address: u16) -> Option<u16> {
        self.parts.iter().find_map(|(r, values)| {
            (r.table == table && address >= r.start && address - r.start < r.count)
                .then(|| values.get(usize::from(address - r.start)).copied())
                .flatten()
        })
    }

    /// Whether `point` is active for channel `ch`; none when the poll did not read it.
    pub fn point(&self, point: Option<Point>, ch: u16) -> Option<bool> {
        let p = point?;
        self.get(p.table, p.address(ch)).map(|raw| p.is_active(raw))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::Profiles;

    fn addresses(profile: &str, channels: &[u16]) -> Vec<(Table, u16)> {
        let p = Profiles::builtin().get(profile).unwrap().clone();
        let mut out = Vec::new();
        for &ch in channels {
            for point in [p.contact, p.exit, p.tamper, p.lock_released, p.fire]
                .into_iter()
                .flatten()
            {
                out.push((point.table, point.address(ch)));
            }
        }
        if let Some(r) = &p.reads {
            out.push((r.counter.table, r.counter.address(0)));
            out.push((r.slots_table, r.slot_address(0)));
            out.push((
                r.slots_table,
                r.slot_address(r.slot_count - 1) + r.slot_size - 1,
            ));
        }
        out
    }

    #[test]
    fn each_shipped_map_polls_in_one_request() {
        let relay = plan(addresses("relay-io", &[0, 1, 2, 3]));
        assert_eq!(
            relay,
            [ReadRange {
                table: Table::Discrete,
                start: 0,
                count: 8
            }]
        );
        let timed = plan(addresses("timed-relay", &[0, 2]));
        assert_eq!(
            timed,
            [ReadRange {
                table: Table::Input,
                start: 0,
                count: 0x11
            }]
        );
        let reader = plan(addresses("reader-controller", &[0, 1]));
        assert_eq!(
            reader,
            [
                ReadRange {
                    table: Table::Discrete,
                    start: 0,
                    count: 2
                },
                ReadRange {
                    table: Table::Input,
                    start: 0x100,
                    count: 0x70
                },
            ]
        );
    }

    #[test]
    fn splits_only_past_the_request_limit() {
        let r = plan([
            (Table::Holding, 0),
            (Table::Holding, 124),
            (Table::Holding, 125),
        ]);
        assert_eq!(r.len(), 2);
        assert_eq!(
            r[0],
            ReadRange {
                table: Table::Holding,
                start: 0,
                count: 125
            }
        );
        let mut s = Snapshot::default();
        s.push(r[0], (0..125).collect());
        assert_eq!(s.get(Table::Holding, 124), Some(124));
        assert_eq!(s.get(Table::Holding, 125), None);
        assert_eq!(s.get(Table::Input, 1), None);
    }
}
