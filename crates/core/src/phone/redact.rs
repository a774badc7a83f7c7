//! Finding phone numbers inside free text and masking them: the one function every event,
//! export and log line goes through, so that no form of a number slips past one path.
//!
//! A number is found in whatever form people type it: `13912345678`, `139 1234 5678`,
//! `139-1234-5678`, `+86 139 1234 5678`, `0086-13912345678`, or in full-width digits
//! (`１３９１２３４５６７８`). Groups of digits joined by at most two separators (space,
//! dash, dot, brackets, `+`, the ideographic space or the full-width dash) are read together;
//! a run of groups that spells a mainland mobile number (11 digits starting `13`–`19`, with an
//! optional `86`/`0086` prefix) is replaced by its masked form `139****5678`. Any single group
//! of 11 or more digits is masked as well, whatever it spells. Dates, times, room numbers and
//! short ids are left as they are.

use std::borrow::Cow;

/// Groups read together as one number at most (e.g. `+86`, `139`, `1234`, `5678`).
const MAX_GROUPS: usize = 5;
/// Separator characters allowed between two groups of one number.
const MAX_GAP: usize = 2;

/// `text` with every phone number in it masked; borrowed when there was nothing to mask.
pub fn mask_phones(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| digit(c).is_some()) {
        return Cow::Borrowed(text);
    }
    let groups = groups(text);
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < groups.len() {
        match number_at(&groups, i) {
            Some((last, phone)) => {
                let start = with_plus(text, groups[i].start);
                spans.push((start, groups[last].end, super::mask(&phone)));
                i = last + 1;
            }
            None => {
                let g = &groups[i];
                if g.digits.len() >= 11 {
                    spans.push((g.start, g.end, super::mask(&g.digits)));
                }
                i += 1;
            }
        }
    }
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, masked) in spans {
        out.push_str(&text[at..start]);
        out.push_str(&masked);
        at = end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

/// [`mask_phones`] in place, for an optional field.
pub fn mask_field(field: &mut Option<String>) {
    if let Some(text) = field
        && let Cow::Owned(masked) = mask_phones(text)
    {
        *text = masked;
    }
}

/// A run of digits: byte range in the text, its ASCII digits, and whether only separators
/// (at most [`MAX_GAP`]) stand between it and the next group.
struct Group {
    start: usize,
    end: usize,
    digits: String,
    joined_to_next: bool,
}

fn groups(text: &str) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    let mut gap: Option<usize> = None;
    for (at, c) in text.char_indices() {
        if let Some(d) = digit(c) {
            let next_to_last = out.last().is_some_and(|g| g.end == at && gap.is_none());
            if next_to_last {
                let g = out.last_mut().expect("checked above");
                g.digits.push(d);
                g.end = at + c.len_utf8();
            } else {
                if let (Some(g), Some(n)) = (out.last_mut(), gap) {
                    g.joined_to_next = n <= MAX_GAP;
                }
                out.push(Group {
                    start: at,
                    end: at + c.len_utf8(),
                    digits: d.to_string(),
                    joined_to_next: false,
                });
            }
            gap = None;
        } else if separator(c) {
            gap = Some(gap.map_or(1, |n| n.saturating_add(1)));
        } else {
            gap = Some(usize::MAX);
        }
    }
    out
}

/// The mobile number spelled by groups `i..=last`, if any run starting at `i` spells one.
fn number_at(groups: &[Group], i: usize) -> Option<(usize, String)> {
    let mut digits = String::new();
    for (j, g) in groups.iter().enumerate().skip(i).take(MAX_GROUPS) {
        digits.push_str(&g.digits);
        if let Some(phone) = mobile(&digits) {
            return Some((j, phone));
        }
        if digits.len() >= 15 || !g.joined_to_next {
            return None;
        }
    }
    None
}

/// The national number when `digits` is exactly a mainland mobile number, with or without
/// its country prefix.
fn mobile(digits: &str) -> Option<String> {
    let national = match digits.len() {
        11 => digits,
        13 => digits.strip_prefix("86")?,
        15 => digits.strip_prefix("0086")?,
        _ => return None,
    };
    let b = national.as_bytes();
    (b[0] == b'1' && (b'3'..=b'9').contains(&b[1])).then(|| national.to_string())
}

/// A `+` directly before the number (as in `+86`) is part of it.
fn with_plus(text: &str, start: usize) -> usize {
    if text[..start].ends_with('+') {
        start - 1
    } else {
        start
    }
}

/// The ASCII digit for an ASCII or full-width digit.
fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_digit(c as u32 - '０' as u32, 10),
        _ => None,
    }
}

fn separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '(' | ')' | '+' | '\u{3000}' | '－' | '（' | '）' | '＋'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_written_form_of_a_mobile_number_is_masked() {
        for (text, want) in [
            ("13912345678", "139****5678"),
            (
                "called 13987654321 at the gate",
                "called 139****4321 at the gate",
            ),
            ("139 0000 1213", "139****1213"),
            ("139-0000-1213", "139****1213"),
            ("+86 139 0000 1213", "139****1213"),
            ("+86-13900001213", "139****1213"),
            ("(+86) 139-0000-1213", "(139****1213"),
            ("0086 139 0000 1213", "139****1213"),
            ("8613900001213", "139****1213"),
            ("１３９００００１２１３", "139****1213"),
            ("１３９－００００－１２１３", "139****1213"),
            ("q=13912345678&x=1", "q=139****5678&x=1"),
            ("room 501 13912345678", "room 501 139****5678"),
            ("王卫平13912345678", "王卫平139****5678"),
            ("card 98765432109876", "card 987*******9876"),
        ] {
            assert_eq!(mask_phones(text), want, "{text}");
        }
    }

    #[test]
    fn dates_times_rooms_and_ids_stay_readable() {
        for text in [
            "2026-11-22T08:03:12.418+08:00",
            "valid until 2026-12-31",
            "18-2-501",
            "P-000123",
            "R-004211",
            "north-estate:1042",
            "04A1B2C3",
            "12345678",
            "door-20-1",
            "",
        ] {
            assert!(matches!(mask_phones(text), Cow::Borrowed(_)), "{text}");
        }
    }

    #[test]
    fn a_field_is_masked_in_place() {
        let mut f = Some("139-0000-1213".to_string());
        mask_field(&mut f);
        assert_eq!(f.as_deref(), Some("139****1213"));
        let mut none = None;
        mask_field(&mut none);
        assert_eq!(none, None);
    }
}
