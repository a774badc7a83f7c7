//! Schedules: weekly windows in the site's time zone, with holidays. A door's schedule says
//! when it is open for normal passage; an access group's schedule says when its passes work.
//!
//! Windows are compared in civil (wall-clock) time, so daylight-saving changes need no special
//! case: `06:00-22:00` opens at 06:00 on the clock whatever the offset is that day, a window
//! that spans the skipped hour simply has one hour less, and the repeated hour counts twice.

use crate::config;
use foldhash::{HashMap, HashMapExt, HashSet};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

const MINUTES_PER_DAY: u16 = 24 * 60;
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// One weekly window, e.g. `mon-fri 07:00-19:00`, `sat,sun 08:00-12:00`,
/// `daily 22:00-06:00` (across midnight: it belongs to the day it starts on), or
/// `hol 08:00-12:00` (extension: only on the schedule's holidays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Bit 0 = Monday … bit 6 = Sunday.
    days: u8,
    /// The window applies on holidays only (and the weekly ones do not).
    holidays_only: bool,
    /// Minutes after midnight, `start` inclusive, `end` exclusive; `end <= start` means the
    /// window runs across midnight into the next day.
    start: u16,
    end: u16,
}

/// Parses one window. The error says what is wrong and what is expected.
pub fn parse_window(text: &str) -> Result<Window, String> {
    const EXPECTED: &str = "expected '<days> HH:MM-HH:MM' such as 'mon-fri 07:00-19:00', 'sat,sun 08:00-12:00', 'daily 22:00-06:00' or 'hol 08:00-12:00'";
    let mut parts = text.split_whitespace();
    let (Some(days_text), Some(times), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("window '{text}': {EXPECTED}"));
    };
    let (days, holidays_only) =
        parse_days(days_text).map_err(|e| format!("window '{text}': {e}"))?;
    let (start, end) = times
        .split_once('-')
        .ok_or_else(|| format!("window '{text}': times '{times}' lack a '-'; {EXPECTED}"))?;
    let start = parse_clock(start).map_err(|e| format!("window '{text}': {e}"))?;
    let end = parse_clock(end).map_err(|e| format!("window '{text}': {e}"))?;
    if start == MINUTES_PER_DAY {
        return Err(format!(
            "window '{text}': a window cannot start at 24:00; start it at 00:00"
        ));
    }
    if start == end {
        return Err(format!(
            "window '{text}': start and end are the same; for a whole day write 00:00-24:00"
        ));
    }
    Ok(Window {
        days,
        holidays_only,
        start,
        end: end % MINUTES_PER_DAY,
    })
}

fn parse_days(text: &str) -> Result<(u8, bool), String> {
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "daily" | "*" => return Ok((0x7f, false)),
        "hol" | "holiday" | "holidays" => return Ok((0, true)),
        _ => {}
    }
    let mut days = 0u8;
    for item in lower.split(',') {
        let bits = match item.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day_index(a)?, day_index(b)?);
                // `fri-mon` wraps over the weekend.
                let mut bits = 0u8;
                let mut d = a;
                loop {
                    bits |= 1 << d;
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
                bits
            }
            None => 1 << day_index(item)?,
        };
        days |= bits;
    }
    Ok((days, false))
}

fn day_index(name: &str) -> Result<usize, String> {
    DAY_NAMES.iter().position(|d| *d == name).ok_or_else(|| {
        format!("'{name}' is not a day; use mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri, 'daily' or 'hol'")
    })
}

fn parse_clock(text: &str) -> Result<u16, String> {
    let bad = || format!("'{text}' is not a time of day; write HH:MM between 00:00 and 24:00");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return Err(bad());
    }
    let h: u16 = h.parse().map_err(|_| bad())?;
    let m: u16 = m.parse().map_err(|_| bad())?;
    if m >= 60 || h > 24 || (h == 24 && m != 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

impl Window {
    fn applies_on(&self, weekday: usize, holiday: bool) -> bool {
        if self.holidays_only {
            holiday
        } else {
            !holiday && self.days & (1 << weekday) != 0
        }
    }

    fn across_midnight(&self) -> bool {
        self.end <= self.start
    }

    /// Whether the window is open at `minute` of a day, given that day's and the previous
    /// day's weekday and holiday status.
    fn covers(&self, today: (usize, bool), yesterday: (usize, bool), minute: u16) -> bool {
        let from_today = self.applies_on(today.0, today.1)
            && minute >= self.start
            && (self.across_midnight() || minute < self.end);
        let from_yesterday = self.across_midnight()
            && self.applies_on(yesterday.0, yesterday.1)
            && minute < self.end;
        from_today || from_yesterday
    }
}

/// A schedule ready to be asked "open now?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timetable {
    pub windows: Vec<Window>,
    pub holidays: HashSet<Date>,
}

impl Timetable {
    /// Compiles a configured schedule; the error names the schedule and what is wrong.
    pub fn parse(schedule: &config::Schedule) -> Result<Timetable, String> {
        let windows = schedule
            .windows
            .iter()
            .map(|w| parse_window(w))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("schedule '{}': {e}", schedule.id))?;
        let holidays = schedule
            .holidays
            .iter()
            .map(|h| {
                h.parse::<Date>().map_err(|e| {
                    format!(
                        "schedule '{}': holiday '{h}' is not a date like 2027-02-16 ({e})",
                        schedule.id
                    )
                })
            })
            .collect::<Result<HashSet<_>, _>>()?;
        Ok(Timetable { windows, holidays })
    }

    /// Whether any window is open at `at`, on the clock of `tz`.
    pub fn is_open(&self, at: Timestamp, tz: &TimeZone) -> bool {
        let local = tz.to_datetime(at);
        let date = local.date();
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        let today = (
            date.weekday().to_monday_zero_offset() as usize,
            self.holidays.contains(&date),
        );
        let yesterday = match date.yesterday() {
            Ok(y) => (
                y.weekday().to_monday_zero_offset() as usize,
                self.holidays.contains(&y),
            ),
            Err(_) => (today.0.wrapping_add(6) % 7, false),
        };
        self.windows
            .iter()
            .any(|w| w.covers(today, yesterday, minute))
    }
}

/// Every configured schedule, compiled, and the last known open/closed state of each door's
/// schedule (to publish transitions once).
#[derive(Default)]
pub struct Schedules {
    /// Schedule id → its compiled timetable.
    timetables: HashMap<String, Timetable>,
    /// door id → whether its schedule was open at the last look (the core looks at the
    /// configured doors that have a schedule, so this is bounded by them).
    door_open: HashMap<String, bool>,
}

impl Schedules {
    pub fn new(schedules: &[config::Schedule]) -> Result<Schedules, String> {
        let timetables = schedules
            .iter()
            .map(|s| Timetable::parse(s).map(|t| (s.id.clone(), t)))
            .collect::<Result<HashMap<_, _>, _>>()?;
        Ok(Schedules {
            timetables,
            door_open: HashMap::new(),
        })
    }

    /// Whether schedule `id` is open at `at`; an unknown schedule (which validation refuses)
    /// counts as always open so that a config slip never locks people out.
    pub fn is_open(&self, id: &str, at: Timestamp, tz: &TimeZone) -> bool {
        self.timetables.get(id).is_none_or(|t| t.is_open(at, tz))
    }

    /// Notes whether the schedule of `door` is `open` at this look; returns what it was at
    /// the last look (`None`: this is the first), so a transition is published once.
    pub fn set_open(&mut self, door: &str, open: bool) -> Option<bool> {
        match self.door_open.get_mut(door) {
            Some(was) => Some(std::mem::replace(was, open)),
            None => {
                self.door_open.insert(door.to_string(), open);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timetable(windows: &[&str], holidays: &[&str]) -> Timetable {
        Timetable::parse(&config::Schedule {
            id: "s".into(),
            windows: windows.iter().map(|w| w.to_string()).collect(),
            holidays: holidays.iter().map(|h| h.to_string()).collect(),
        })
        .unwrap()
    }

    fn at(tz: &TimeZone, civil: &str) -> Timestamp {
        civil
            .parse::<jiff::civil::DateTime>()
            .unwrap()
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp()
    }

    #[test]
    fn a_door_schedule_reports_its_last_look() {
        let mut s = Schedules::default();
        assert_eq!(s.set_open("gate-south", true), None, "first look");
        assert_eq!(s.set_open("gate-south", true), Some(true));
        assert_eq!(s.set_open("gate-south", false), Some(true));
        assert_eq!(s.set_open("gate-south", false), Some(false));
    }

    #[test]
    fn parses_the_written_forms() {
        for ok in [
            "mon-fri 07:00-19:00",
            "sat,sun 08:00-12:00",
            "daily 22:00-06:00",
            "hol 08:00-12:00",
            "fri-mon 00:00-24:00",
            "MON 7:30-8:00",
        ] {
            assert!(parse_window(ok).is_ok(), "{ok}");
        }
        for (bad, why) in [
            ("mon-fri", "expected"),
            ("mon-fri 07:00", "lack a '-'"),
            ("funday 07:00-08:00", "not a day"),
            ("mon 25:00-26:00", "not a time"),
            ("mon 07:60-08:00", "not a time"),
            ("mon 08:00-08:00", "same"),
            ("mon 24:00-06:00", "24:00"),
            ("mon 07:00-08:00 extra", "expected"),
        ] {
            let err = parse_window(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn weekday_windows_open_and_close_on_the_clock() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let t = timetable(&["mon-fri 07:00-19:00"], &[]);
        // 2026-11-23 is a Monday.
        assert!(!t.is_open(at(&tz, "2026-11-23T06:59"), &tz));
        assert!(t.is_open(at(&tz, "2026-11-23T07:00"), &tz));
        assert!(t.is_open(at(&tz, "2026-11-23T18:59"), &tz));
        assert!(!t.is_open(at(&tz, "2026-11-23T19:00"), &tz));
        assert!(!t.is_open(at(&tz, "2026-11-28T10:00"), &tz), "Saturday");
    }

    #[test]
    fn windows_across_midnight_belong_to_their_start_day() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let t = timetable(&["fri 22:00-06:00"], &[]);
        assert!(t.is_open(at(&tz, "2026-11-27T23:00"), &tz), "Friday night");
        assert!(
            t.is_open(at(&tz, "2026-11-28T05:59"), &tz),
            "Saturday early, from Friday"
        );
        assert!(!t.is_open(at(&tz, "2026-11-28T06:00"), &tz));
        assert!(
            !t.is_open(at(&tz, "2026-11-28T23:00"), &tz),
            "Saturday night is not Friday"
        );
        assert!(
            !t.is_open(at(&tz, "2026-11-27T05:00"), &tz),
            "Friday early belongs to Thursday"
        );
    }

    #[test]
    fn holidays_suspend_weekly_windows_and_open_holiday_ones() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let t = timetable(&["mon-sun 06:00-22:00", "hol 09:00-12:00"], &["2027-02-16"]);
        assert!(t.is_open(at(&tz, "2027-02-15T08:00"), &tz));
        assert!(!t.is_open(at(&tz, "2027-02-16T08:00"), &tz));
        assert!(t.is_open(at(&tz, "2027-02-16T10:00"), &tz));
        assert!(!t.is_open(at(&tz, "2027-02-16T13:00"), &tz));
    }

    #[test]
    fn daylight_saving_days_follow_the_wall_clock_in_new_york() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let t = timetable(&["daily 06:00-22:00", "daily 01:00-02:00"], &[]);
        // Spring forward 2026-03-08 02:00 → 03:00 EST→EDT: 06:00 local is 10:00 UTC.
        let open: Timestamp = "2026-03-08T10:00:00Z".parse().unwrap();
        let before: Timestamp = "2026-03-08T09:59:00Z".parse().unwrap();
        assert!(t.is_open(open, &tz));
        assert!(!t.is_open(before, &tz));
        // The day before (EST), 06:00 local was 11:00 UTC.
        assert!(!t.is_open("2026-03-07T10:30:00Z".parse().unwrap(), &tz));
        assert!(t.is_open("2026-03-07T11:00:00Z".parse().unwrap(), &tz));
        // Fall back 2026-11-01: 01:00-02:00 happens twice (05:00-06:00Z EDT, 06:00-07:00Z EST).
        for z in ["2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z"] {
            assert!(t.is_open(z.parse().unwrap(), &tz), "{z}");
        }
        assert!(
            !t.is_open("2026-11-01T07:30:00Z".parse().unwrap(), &tz),
            "02:30 EST"
        );
    }

    #[test]
    fn a_night_window_spans_the_berlin_spring_gap() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let t = timetable(&["sat 22:00-06:00"], &[]);
        // 2026-03-29 02:00 → 03:00 CET→CEST. Sunday 05:59 CEST = 03:59Z is still open.
        assert!(t.is_open("2026-03-29T03:59:00Z".parse().unwrap(), &tz));
        assert!(!t.is_open("2026-03-29T04:00:00Z".parse().unwrap(), &tz));
        assert!(
            t.is_open("2026-03-28T21:00:00Z".parse().unwrap(), &tz),
            "22:00 CET"
        );
    }
}
