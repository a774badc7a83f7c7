//! Time as the core sees it: instants are arguments, never read from a clock here.
//!
//! Also the one meaning of "valid until 2027-03-31" ([`end_of_day`], [`valid_until`]): the
//! last second of that day in the site's zone, wherever the date was written (residents
//! file, console, CLI).

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, tz::TimeZone};
use std::cell::Cell;

/// The last second (23:59:59) of `date` in the site's zone `tz`: a pass valid until that day
/// works all of it, and stops at midnight where the estate is. `None` only for a date at the
/// end of the supported range.
pub fn end_of_day(date: Date, tz: &TimeZone) -> Option<Timestamp> {
    date.at(23, 59, 59, 0)
        .to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// The first instant (00:00) of `date` in the site's zone `tz`: where a day given as a
/// search bound begins.
pub fn start_of_day(date: Date, tz: &TimeZone) -> Option<Timestamp> {
    date.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

/// Why a "valid until" text was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date; write YYYY-MM-DD, e.g. 2027-03-31")]
pub struct NotADate(pub String);

/// Reads "valid until" as people write it: a day (`2027-03-31`, also `2027/03/31`) is the
/// [`end_of_day`] in `tz`; an RFC 3339 instant (`2027-03-31T18:00:00+08:00`) is itself. Empty
/// text is no limit (`None`).
pub fn valid_until(text: &str, tz: &TimeZone) -> Result<Option<Timestamp>, NotADate> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(at) = text.parse::<Timestamp>() {
        return Ok(Some(at));
    }
    text.replace('/', "-")
        .parse::<Date>()
        .ok()
        .and_then(|d| end_of_day(d, tz))
        .map(Some)
        .ok_or_else(|| NotADate(text.to_string()))
}

/// `at - span`, or the earliest instant there is when that would be before it: a look-back
/// configured longer than all of history means "everything", never a panic.
pub fn saturating_sub(at: Timestamp, span: SignedDuration) -> Timestamp {
    at.checked_sub(span).unwrap_or(if span.is_negative() {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

/// `at + span`, or the latest instant there is when that would be after it.
pub fn saturating_add(at: Timestamp, span: SignedDuration) -> Timestamp {
    at.checked_add(span).unwrap_or(if span.is_negative() {
        Timestamp::MIN
    } else {
        Timestamp::MAX
    })
}

/// `hours` as a duration; every `u32` fits.
pub fn hours(hours: u32) -> SignedDuration {
    SignedDuration::from_hours(i64::from(hours))
}

/// RFC 3339 with the zone's offset and milliseconds: `2026-11-22T08:03:12.418+08:00`.
///
/// Written by hand rather than with `strftime`: every event is stamped with it, and the
/// generic formatter was a third of a decision's time.
pub fn rfc3339(at: Timestamp, tz: &TimeZone) -> String {
    let offset = tz.to_offset(at);
    let dt = offset.to_datetime(at);
    let mut s = String::with_capacity(29);
    push_padded(&mut s, dt.year() as i64, 4);
    for (sep, n, width) in [
        ('-', dt.month() as i64, 2),
        ('-', dt.day() as i64, 2),
        ('T', dt.hour() as i64, 2),
        (':', dt.minute() as i64, 2),
        (':', dt.second() as i64, 2),
        ('.', (dt.subsec_nanosecond() / 1_000_000) as i64, 3),
    ] {
        s.push(sep);
        push_padded(&mut s, n, width);
    }
    let secs = offset.seconds();
    s.push(if secs < 0 { '-' } else { '+' });
    push_padded(&mut s, (secs.abs() / 3600) as i64, 2);
    s.push(':');
    push_padded(&mut s, (secs.abs() % 3600 / 60) as i64, 2);
    s
}

/// Length of an [`rfc3339`] stamp with a four-digit year.
const STAMP_LEN: usize = 29;
/// Where the milliseconds sit in such a stamp.
const MILLIS: std::ops::Range<usize> = 20..23;

/// Stamps instants as [`rfc3339`] in one zone, reusing the date, time of day and offset of the
/// last second it stamped: decisions come many to a second, so most stamps only write their
/// milliseconds. Zone offsets change on whole seconds, so one second has one offset.
#[derive(Debug)]
pub struct Stamper {
    tz: TimeZone,
    /// The last second stamped (Unix seconds) and its stamp.
    last: Cell<Option<(i64, [u8; STAMP_LEN])>>,
}

impl Stamper {
    pub fn new(tz: TimeZone) -> Stamper {
        Stamper {
            tz,
            last: Cell::new(None),
        }
    }

    /// The same text as `rfc3339(at, zone)`.
    pub fn stamp(&self, at: Timestamp) -> String {
        let second = at.as_second();
        // Before 1970 a timestamp's sub-seconds are negative (and the last second before it
        // has second 0, like the first one after): not cached.
        let cacheable = second >= 0 && at.subsec_nanosecond() >= 0;
        if let Some((last, mut text)) = self.last.get()
            && cacheable
            && last == second
        {
            let millis = at.subsec_millisecond() as u32;
            for (i, digit) in [millis / 100, millis / 10 % 10, millis % 10]
                .into_iter()
                .enumerate()
            {
                text[MILLIS.start + i] = b'0' + digit as u8;
            }
            return std::str::from_utf8(&text)
                .expect("a stamp is ASCII")
                .to_string();
        }
        let text = rfc3339(at, &self.tz);
        if cacheable && let Ok(bytes) = <[u8; STAMP_LEN]>::try_from(text.as_bytes()) {
            self.last.set(Some((second, bytes)));
        }
        text
    }
}

/// Appends `n` in decimal, zero-padded to `width` digits.
fn push_padded(s: &mut String, n: i64, width: usize) {
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut n = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let len = (buf.len() - i).max(width);
    for &b in &buf[buf.len() - len..] {
        s.push(b as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_until_a_day_is_its_last_second_where_the_estate_is() {
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        let want: Timestamp = "2027-03-31T23:59:59+08:00".parse().unwrap();
        for text in ["2027-03-31", " 2027/03/31 ", "2027-03-31T23:59:59+08:00"] {
            assert_eq!(valid_until(text, &shanghai), Ok(Some(want)), "{text}");
        }
        let ny = TimeZone::get("America/New_York").unwrap();
        assert_eq!(
            valid_until("2027-03-31", &ny).unwrap().unwrap().to_string(),
            "2027-04-01T03:59:59Z"
        );
        assert_eq!(valid_until("", &shanghai), Ok(None));
        let e = valid_until("next spring", &shanghai).unwrap_err();
        assert!(e.to_string().contains("2027-03-31"), "{e}");
        assert_eq!(
            valid_until("2027-02-30", &shanghai),
            Err(NotADate("2027-02-30".into()))
        );
        let day: Date = "2027-03-31".parse().unwrap();
        assert_eq!(
            start_of_day(day, &shanghai).unwrap().to_string(),
            "2027-03-30T16:00:00Z"
        );
    }

    #[test]
    fn time_arithmetic_saturates_instead_of_panicking() {
        let now: Timestamp = "2026-11-23T07:00:00Z".parse().unwrap();
        assert_eq!(saturating_sub(now, hours(u32::MAX)), Timestamp::MIN);
        assert_eq!(saturating_add(now, hours(u32::MAX)), Timestamp::MAX);
        assert_eq!(saturating_sub(now, -hours(u32::MAX)), Timestamp::MAX);
        assert_eq!(
            saturating_sub(now, hours(1)),
            "2026-11-23T06:00:00Z".parse().unwrap()
        );
    }

    #[test]
    fn formats_with_site_offset_and_millis() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let at: Timestamp = "2026-11-22T00:03:12.418Z".parse().unwrap();
        assert_eq!(rfc3339(at, &tz), "2026-11-22T08:03:12.418+08:00");
        let back: Timestamp = rfc3339(at, &tz).parse().unwrap();
        assert_eq!(back, at);
    }

    #[test]
    fn stamper_agrees_with_rfc3339_across_seconds_and_offset_changes() {
        for zone in ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"] {
            let tz = TimeZone::get(zone).unwrap();
            let stamper = Stamper::new(tz.clone());
            // Around New York's and Lord Howe's 2026 changes (half an hour at Lord Howe), in
            // steps that land on, before and after whole seconds, and a stamp before 1970.
            for start in [
                "2026-03-08T06:59:58Z",
                "2026-11-01T05:59:58Z",
                "2026-04-04T14:59:58Z",
                "1969-12-31T23:59:59Z",
            ] {
                let mut at: Timestamp = start.parse().unwrap();
                for _ in 0..40 {
                    assert_eq!(stamper.stamp(at), rfc3339(at, &tz), "{zone} {at}");
                    at += jiff::SignedDuration::from_millis(137);
                }
            }
            // Going back in time reuses nothing stale.
            let earlier: Timestamp = "2026-01-01T00:00:00.001Z".parse().unwrap();
            assert_eq!(stamper.stamp(earlier), rfc3339(earlier, &tz));
        }
    }

    #[test]
    fn agrees_with_strftime_in_every_kind_of_zone() {
        for zone in [
            "Asia/Shanghai",
            "UTC",
            "America/New_York",
            "Asia/Kolkata",
            "America/St_Johns",
        ] {
            let tz = TimeZone::get(zone).unwrap();
            for at in [
                "2026-11-01T05:30:00.007Z",
                "2026-03-08T06:59:59.999Z",
                "1999-12-31T23:59:59Z",
            ] {
                let at: Timestamp = at.parse().unwrap();
                let want = at
                    .to_zoned(tz.clone())
                    .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
                    .to_string();
                assert_eq!(rfc3339(at, &tz), want, "{zone} {at}");
            }
        }
    }
}
