//! Length limits on what an event may carry. Any text in an event can come from outside (a
//! topic, a payload, a file, a form): one hostile message must not make an event larger than a
//! broker accepts (it would stall the outbox) or fill the disk. Every event is cut to these
//! limits before it is written ([`bound_event`]); a cut field ends with [`CUT_MARKER`].
//!
//! The limits, in characters (documented in `docs/mqtt.md`):
//! - [`MAX_NAME`] for names and ids (door, reader, pass, person, zone, issuer, command id, …);
//! - [`MAX_TEXT`] for free text (`detail`, `error`, `source`, `object`, `sample`, …).
//!
//! With about 35 text fields, an event stays below 35 × 1 KiB × 4 bytes per character:
//! well under the 64 KiB payload limit of MQTT brokers' defaults.

use crate::event::Event;

/// Names and ids: 128 characters.
pub const MAX_NAME: usize = 128;
/// Free text: 512 characters.
pub const MAX_TEXT: usize = 512;
/// What a cut field ends with, so a reader knows it was longer.
pub const CUT_MARKER: &str = "…[cut]";

/// `text` cut to at most `max` characters (marker included) on a character boundary.
pub fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let keep = max.saturating_sub(CUT_MARKER.chars().count());
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(CUT_MARKER);
    std::borrow::Cow::Owned(out)
}

/// Cuts `field` in place.
fn cut_in_place(field: &mut String, max: usize) {
    if let std::borrow::Cow::Owned(short) = cut(field, max) {
        *field = short;
    }
}

fn cut_opt(field: &mut Option<String>, max: usize) {
    if let Some(text) = field {
        cut_in_place(text, max);
    }
}

/// An excerpt of raw input for a `sample` field: printable characters only (control
/// characters become `?`), invalid UTF-8 replaced, cut to [`MAX_TEXT`].
pub fn sample(raw: &[u8]) -> String {
    // Never look at more than the limit allows (4 bytes a character at most).
    let head = &raw[..raw.len().min(MAX_TEXT * 4)];
    let text: String = String::from_utf8_lossy(head)
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    let text = if head.len() < raw.len() {
        format!("{text}{CUT_MARKER}")
    } else {
        text
    };
    cut(&text, MAX_TEXT).into_owned()
}

/// Cuts every text field of `event` to its limit. The log's own fields (`id`, `at`, hashes)
/// are the gateway's and left alone.
pub fn bound_event(event: &mut Event) {
    for name in [
        &mut event.door,
        &mut event.reader,
        &mut event.pass,
        &mut event.card,
        &mut event.person,
        &mut event.household,
        &mut event.actor,
        &mut event.state,
        &mut event.device,
        &mut event.zone,
        &mut event.mode,
        &mut event.by,
        &mut event.command,
        &mut event.issuer,
        &mut event.action,
        &mut event.first_at,
        &mut event.last_at,
    ] {
        cut_opt(name, MAX_NAME);
    }
    for text in [
        &mut event.detail,
        &mut event.error,
        &mut event.source,
        &mut event.object,
        &mut event.sample,
    ] {
        cut_opt(text, MAX_TEXT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Kind;

    #[test]
    fn long_fields_are_cut_with_a_marker() {
        let mut e = Event::new(Kind::RejectedInput, "2026-11-22T08:00:00.000+08:00");
        e.source = Some(format!("gatehouse/s/readers/{}/swipe", "r".repeat(40_000)));
        e.error = Some("读".repeat(10_000));
        e.reader = Some("x".repeat(1000));
        e.door = Some("gate-north".into());
        bound_event(&mut e);
        let source = e.source.as_deref().unwrap();
        assert_eq!(source.chars().count(), MAX_TEXT);
        assert!(source.ends_with(CUT_MARKER));
        assert_eq!(e.error.as_deref().unwrap().chars().count(), MAX_TEXT);
        assert_eq!(e.reader.as_deref().unwrap().chars().count(), MAX_NAME);
        assert_eq!(
            e.door.as_deref(),
            Some("gate-north"),
            "short fields untouched"
        );
        assert!(serde_json::to_vec(&e).unwrap().len() < 8 * 1024);
    }

    #[test]
    fn samples_are_printable_and_bounded() {
        assert_eq!(sample(b"{\"card\":\n1}"), "{\"card\":?1}");
        assert_eq!(sample(&[0xff, b'a']), "\u{fffd}a");
        let big = sample(&vec![b'a'; 100_000]);
        assert_eq!(big.chars().count(), MAX_TEXT);
        assert!(big.ends_with(CUT_MARKER));
    }
}
