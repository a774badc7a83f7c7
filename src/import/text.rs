//! The text of an office's file as the import reads it: bytes in the encoding Excel saved them
//! in (UTF-8 with or without a BOM, UTF-16 with a BOM, or GBK/GB18030 as Chinese Excel saves
//! CSV), and cells with full-width digits, letters, hyphens and spaces folded to their plain
//! forms.

/// The encodings a CSV file can arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Gb18030,
}

/// Bytes that are in none of the encodings an office's Excel writes.
#[derive(Debug, PartialEq, Eq)]
pub struct UnknownEncoding;

/// Decodes a CSV file's bytes: a BOM decides; else UTF-8 when the bytes are valid UTF-8; else
/// GB18030 (a superset of GBK) when they decode without errors.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), UnknownEncoding> {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, had_errors) = encoding.decode_without_bom_handling(&bytes[bom..]);
        if had_errors {
            return Err(UnknownEncoding);
        }
        let which = if encoding == encoding_rs::UTF_8 {
            Encoding::Utf8
        } else {
            Encoding::Utf16
        };
        return Ok((text.into_owned(), which));
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), Encoding::Utf8));
    }
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(UnknownEncoding);
    }
    Ok((text.into_owned(), Encoding::Gb18030))
}

/// A cell folded the way NFKC folds what matters in a residents file: full-width ASCII
/// (`１３８`, `Ａ`, `－`) to ASCII, the ideographic and no-break spaces to a space, the dash
/// and minus signs to `-`; zero-width characters and the BOM dropped; then trimmed. Chinese
/// characters are left as they are.
pub fn fold(cell: &str) -> String {
    let folded: String = cell
        .chars()
        .filter(|c| !matches!(c, '\u{200b}'..='\u{200d}' | '\u{feff}' | '\u{2060}'))
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' | '\u{00a0}' | '\u{2002}'..='\u{200a}' | '\u{202f}' => ' ',
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{fe58}' | '\u{fe63}' | '\u{30fc}' => '-',
            _ => c,
        })
        .collect();
    folded.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_letters_hyphens_and_spaces_fold_to_ascii() {
        assert_eq!(fold("１３８　００００　１２３４"), "138 0000 1234");
        assert_eq!(fold("１８－２－５０１"), "18-2-501");
        assert_eq!(fold("18—2‐501"), "18-2-501");
        assert_eq!(fold("ｏｗｎｅｒ"), "owner");
        assert_eq!(fold("\u{feff} 王卫平\u{200b} "), "王卫平");
        assert_eq!(fold("０４Ａ１Ｂ２Ｃ３"), "04A1B2C3");
    }

    #[test]
    fn gbk_utf8_with_and_without_bom_and_utf16_are_read() {
        let text = "户号,姓名\n18-2-501,王卫平\n";
        let (gbk, _, _) = encoding_rs::GBK.encode(text);
        assert_eq!(decode(&gbk), Ok((text.to_string(), Encoding::Gb18030)));
        assert_eq!(
            decode(text.as_bytes()),
            Ok((text.to_string(), Encoding::Utf8))
        );
        let bom = [&b"\xef\xbb\xbf"[..], text.as_bytes()].concat();
        assert_eq!(decode(&bom), Ok((text.to_string(), Encoding::Utf8)));
        let mut utf16 = vec![0xff, 0xfe];
        utf16.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(&utf16), Ok((text.to_string(), Encoding::Utf16)));
        // 0x80 alone is not GB18030 (nor UTF-8).
        assert_eq!(decode(b"a,\x80\xff\n"), Err(UnknownEncoding));
    }
}
