//! The one CSV shape of the event log, shared by `gatehouse log export --format csv` and the
//! console's `/api/events.csv`: every field of the record in the spec's order, no phone column,
//! and every text field passed through [`crate::phone::mask_phones`] once more on the way out
//! (the log masks on append; an export must not depend on how old a record is).

use crate::event::Event;

/// The columns, in order. Every field of [`Event`] has one.
pub const COLUMNS: &[&str] = &[
    "seq",
    "id",
    "at",
    "kind",
    "door",
    "reader",
    "direction",
    "pass",
    "card",
    "person",
    "household",
    "method",
    "decision",
    "reason",
    "detail",
    "actor",
    "state",
    "alarm",
    "cleared",
    "device",
    "zone",
    "mode",
    "by",
    "command",
    "request",
    "issuer",
    "action",
    "counter",
    "ok",
    "error",
    "source",
    "object",
    "count",
    "first_at",
    "last_at",
    "sample",
    "temperature",
    "prev_hash",
    "hash",
];

/// `event` as it may leave the gateway: every text field masked.
pub fn masked(event: &Event) -> Event {
    let mut out = event.clone();
    out.mask_phones();
    out
}

/// One CSV row in [`COLUMNS`] order.
pub fn csv_row(event: &Event) -> Vec<String> {
    let serde_json::Value::Object(fields) =
        serde_json::to_value(masked(event)).unwrap_or(serde_json::Value::Null)
    else {
        return vec![String::new(); COLUMNS.len()];
    };
    COLUMNS
        .iter()
        .map(|column| match fields.get(*column) {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Kind;

    #[test]
    fn rows_never_carry_a_phone_number_in_any_form() {
        let mut e = Event::new(Kind::Access, "2026-11-22T08:03:12.418+08:00");
        e.detail = Some("let in by hand, called 139-0000-1213 to check".into());
        e.object = Some("people search: +86 139 1234 5678".into());
        e.source = Some("web:/api/people?q=１３９８７６５４３２１".into());
        e.sample = Some(r#"{"card":"x","note":"138 0013 8000"}"#.into());
        e.person = Some("R-004211".into());
        e.household = Some("18-2-501".into());
        let row = csv_row(&e).join(",");
        for leak in [
            "13900001213",
            "0000-1213",
            "1234 5678",
            "１３９８７６５４３２１",
            "0013 8000",
        ] {
            assert!(!row.contains(leak), "{leak} in {row}");
        }
        assert!(
            row.contains("139****1213") && row.contains("139****5678"),
            "{row}"
        );
        assert!(row.contains("139****4321"), "{row}");
        assert!(
            row.contains("138****8000"),
            "a refused input's sample: {row}"
        );
        assert!(
            row.contains("R-004211") && row.contains("18-2-501"),
            "ids stay readable: {row}"
        );
        assert!(!COLUMNS.iter().any(|c| c.contains("phone")));
    }

    #[test]
    fn every_field_of_the_record_has_a_column() {
        let mut e = Event::new(Kind::Command, "2026-11-22T08:03:12.418+08:00");
        e.seq = 3;
        e.id = "s:3".into();
        e.issuer = Some("office-1".into());
        e.counter = Some(9);
        e.ok = Some(true);
        e.prev_hash = "p".into();
        e.hash = "h".into();
        let serde_json::Value::Object(fields) = serde_json::to_value(&e).unwrap() else {
            panic!("an event serialises as an object")
        };
        for key in fields.keys() {
            assert!(
                COLUMNS.contains(&key.as_str()),
                "field {key} has no CSV column"
            );
        }
        let row = csv_row(&e);
        let at = |name: &str| COLUMNS.iter().position(|c| *c == name).unwrap();
        assert_eq!(row[at("counter")], "9");
        assert_eq!(row[at("ok")], "true");
        assert_eq!(row[at("hash")], "h");
    }
}
