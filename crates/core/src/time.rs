//! Time as the core sees it: instants are arguments, never read from a clock here.

use jiff::{Timestamp, tz::TimeZone};

/// RFC 3339 with the zone's offset and milliseconds: `2026-11-22T08:03:12.418+08:00`.
pub fn rfc3339(at: Timestamp, tz: &TimeZone) -> String {
    at.to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%.3f%:z")
        .to_string()
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
}
