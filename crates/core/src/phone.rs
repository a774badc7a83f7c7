//! Phone numbers: normalisation, validation, masking and digit matching.
//! A phone is stored once (on the person) and shown only masked: `138****5678`.
//! [`mask_phones`] finds numbers in any written form inside free text and masks them.

mod redact;
pub use redact::{mask_field, mask_phones};

/// Why a string is not a phone number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error(
        "'{0}' has characters that are not digits (allowed: digits, spaces, dashes, a leading +86)"
    )]
    NotDigits(String),
    #[error(
        "'{0}' is not a mainland mobile number: expected 11 digits starting with 1 (e.g. 13812345678)"
    )]
    NotMobile(String),
}

/// Strips spaces, dashes, dots, brackets and a `+86`/`0086`/`86` country prefix; checks that
/// what is left is an 11-digit mainland mobile number.
pub fn normalize(raw: &str) -> Result<String, PhoneError> {
    let trimmed = raw.trim();
    let mut digits = String::with_capacity(trimmed.len());
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '\u{3000}' => {}
            '+' if i == 0 => {}
            _ => return Err(PhoneError::NotDigits(raw.to_string())),
        }
    }
    let national = if digits.len() == 13 && digits.starts_with("86") {
        &digits[2..]
    } else if digits.len() == 15 && digits.starts_with("0086") {
        &digits[4..]
    } else {
        &digits[..]
    };
    let b = national.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        Ok(national.to_string())
    } else {
        Err(PhoneError::NotMobile(raw.to_string()))
    }
}

/// `13812345678` → `138****5678`. Anything shorter than 7 digits is masked whole.
pub fn mask(phone: &str) -> String {
    let n = phone.chars().count();
    if n < 7 {
        return "*".repeat(n);
    }
    let head: String = phone.chars().take(3).collect();
    let tail: String = phone.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

/// Whether typed digits match a registered phone: equal to its last `last_n` digits, or to the
/// whole number (after normalisation).
pub fn digits_match(registered: &str, typed: &str, last_n: usize) -> bool {
    let typed: String = typed.chars().filter(|c| c.is_ascii_digit()).collect();
    if typed.is_empty() {
        return false;
    }
    if typed.len() == last_n && registered.len() >= last_n {
        return registered.ends_with(&typed);
    }
    match normalize(&typed) {
        Ok(full) => full == registered,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_common_writings() {
        for raw in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "0086-13812345678",
            "8613812345678",
        ] {
            assert_eq!(normalize(raw).unwrap(), "13812345678", "{raw}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_mobile() {
        assert!(matches!(
            normalize("1381234567"),
            Err(PhoneError::NotMobile(_))
        ));
        assert!(matches!(
            normalize("12812345678"),
            Err(PhoneError::NotMobile(_))
        ));
        assert!(matches!(
            normalize("138abc45678"),
            Err(PhoneError::NotDigits(_))
        ));
        assert!(matches!(normalize(""), Err(PhoneError::NotMobile(_))));
    }

    #[test]
    fn masks_the_middle() {
        assert_eq!(mask("13812345678"), "138****5678");
        assert_eq!(mask("123"), "***");
    }

    #[test]
    fn matches_last_digits_or_whole_number() {
        assert!(digits_match("13812345678", "5678", 4));
        assert!(digits_match("13812345678", "13812345678", 4));
        assert!(digits_match("13812345678", "+86 138 1234 5678", 4));
        assert!(!digits_match("13812345678", "5679", 4));
        assert!(!digits_match("13812345678", "45678", 4));
        assert!(!digits_match("13812345678", "", 4));
    }
}
