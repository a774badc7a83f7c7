//! The report window and the instants occupancy is judged at: one night per date change
//! (judged at 03:00 local, when nearly everyone who lives somewhere is at home and asleep)
//! and one afternoon sample per day (15:00, for daytime head counts).

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

/// Dates `from` and `to` (inclusive, local): the nights judged are the `to - from` nights
/// between them, the first beginning on the evening of `from`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub from: Date,
    pub to: Date,
}

/// The hour a night is judged at.
pub const NIGHT_HOUR: i8 = 3;
/// The hour the afternoon head count is taken at.
pub const DAY_HOUR: i8 = 15;

/// One instant occupancy is judged at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sample {
    /// Unix seconds.
    pub t: i64,
    /// Night `n` of the window (03:00) or the afternoon of the `n`-th day after `from`.
    pub night: bool,
    pub n: u32,
}

impl Window {
    /// The window ending on `to` and covering `nights` nights.
    pub fn ending(to: Date, nights: i64) -> Window {
        Window {
            from: to.checked_sub(jiff::Span::new().days(nights)).unwrap_or(to),
            to,
        }
    }

    /// How many nights the window judges.
    pub fn nights(&self) -> u32 {
        (self.to - self.from).get_days().max(0) as u32
    }

    /// The dates of the window, `from` to `to` inclusive.
    pub fn dates(&self) -> Vec<Date> {
        (0..=self.nights() as i64)
            .filter_map(|d| self.from.checked_add(jiff::Span::new().days(d)).ok())
            .collect()
    }

    /// Night anchors and afternoon samples in time order.
    pub fn samples(&self, tz: &TimeZone) -> Vec<Sample> {
        let mut out = Vec::with_capacity(2 * self.nights() as usize);
        for n in 0..self.nights() {
            let Ok(date) = self.from.checked_add(jiff::Span::new().days(n as i64 + 1)) else {
                continue;
            };
            for (hour, night) in [(NIGHT_HOUR, true), (DAY_HOUR, false)] {
                if let Ok(z) = date
                    .to_datetime(Time::constant(hour, 0, 0, 0))
                    .to_zoned(tz.clone())
                {
                    out.push(Sample {
                        t: z.timestamp().as_second(),
                        night,
                        n,
                    });
                }
            }
        }
        out
    }

    /// Local noons of `from` to `to`: night `n` runs from noon `n` to noon `n + 1`.
    pub fn noons(&self, tz: &TimeZone) -> Vec<i64> {
        self.dates()
            .into_iter()
            .filter_map(|d| {
                d.to_datetime(Time::constant(12, 0, 0, 0))
                    .to_zoned(tz.clone())
                    .ok()
            })
            .map(|z| z.timestamp().as_second())
            .collect()
    }

    /// Local midnights from `from` to the day after `to`, for daily counts.
    pub fn midnights(&self, tz: &TimeZone) -> Vec<i64> {
        (0..=self.nights() as i64 + 1)
            .filter_map(|d| self.from.checked_add(jiff::Span::new().days(d)).ok())
            .filter_map(|d| d.to_datetime(Time::midnight()).to_zoned(tz.clone()).ok())
            .map(|z| z.timestamp().as_second())
            .collect()
    }
}

/// Parses `YYYY-MM-DD`, saying what a good date looks like when it is not one.
pub fn parse_date(s: &str) -> Result<Date, crate::OccupancyError> {
    s.trim().parse().map_err(|e| {
        crate::OccupancyError::Input(format!(
            "'{s}' is not a date ({e}); write it as YYYY-MM-DD, e.g. 2026-11-22"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_weeks_have_28_nights_judged_at_three_and_fifteen() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let w = Window {
            from: "2026-10-25".parse().unwrap(),
            to: "2026-11-22".parse().unwrap(),
        };
        assert_eq!(w.nights(), 28);
        let s = w.samples(&tz);
        assert_eq!(s.len(), 56);
        let first: jiff::Timestamp = "2026-10-26T03:00:00+08:00".parse().unwrap();
        assert_eq!(
            s[0],
            Sample {
                t: first.as_second(),
                night: true,
                n: 0
            }
        );
        assert_eq!(s[1].t - s[0].t, 12 * 3600);
        assert!(s.windows(2).all(|p| p[0].t < p[1].t));
        assert_eq!(w.midnights(&tz).len(), 30);
    }
}
