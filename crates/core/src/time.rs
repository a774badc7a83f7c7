//! Time as the core sees it: instants are arguments, never read from a clock here.

use jiff::{Timestamp, tz::TimeZone};

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
    fn formats_with_site_offset_and_millis() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let at: Timestamp = "2026-11-22T00:03:12.418Z".parse().unwrap();
        assert_eq!(rfc3339(at, &tz), "2026-11-22T08:03:12.418+08:00");
        let back: Timestamp = rfc3339(at, &tz).parse().unwrap();
        assert_eq!(back, at);
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
