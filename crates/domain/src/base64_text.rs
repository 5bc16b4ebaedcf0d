//! Base64 text as mail carries it (lines of the alphabet, `=` padding at
//! the end), kept as it came and decoded only when read: a file in a
//! message's source is then stored once, not once encoded and once decoded.
//!
//! Only a strict form is accepted, so that any decoder reads the same bytes
//! out of it as the parser that first decoded the message did.

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

const ALPHABET: u8 = 1;
const BLANK: u8 = 2;
const PAD: u8 = 4;
const OTHER: u8 = 8;

/// Each byte's class, looked up: the scan runs over megabytes per message.
static CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = match c {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'+' | b'/' => ALPHABET,
            b'\r' | b'\n' | b' ' | b'\t' => BLANK,
            b'=' => PAD,
            _ => OTHER,
        };
        b += 1;
    }
    t
};

/// The length `text` decodes to, when it is strict base64 text: the
/// alphabet, line breaks and blanks, and `=` padding only at the end.
pub fn decoded_len(text: &[u8]) -> Option<usize> {
    // The tail: the padding and blanks at the end.
    let body_len = text
        .iter()
        .rposition(|&b| CLASS[b as usize] & (BLANK | PAD) == 0)
        .map_or(0, |i| i + 1);
    let (body, tail) = text.split_at(body_len);
    let (mut chars, mut seen) = (0usize, 0u8);
    for &b in body {
        let class = CLASS[b as usize];
        chars += (class & ALPHABET) as usize;
        seen |= class;
    }
    let padding = tail.iter().filter(|&&b| b == b'=').count();
    if seen & (PAD | OTHER) != 0 {
        return None;
    }
    whole(chars, padding).then(|| chars / 4 * 3 + (chars % 4).saturating_sub(1))
}

/// The bytes of strict base64 text (see [`decoded_len`]).
pub fn decode(text: &[u8]) -> Option<Vec<u8>> {
    decoded_len(text)?;
    let mut compact = Vec::with_capacity(text.len());
    // A line at a time: the text is megabytes of lines of 76 characters.
    for run in text.split(|&b| CLASS[b as usize] == BLANK) {
        compact.extend_from_slice(run);
    }
    // Trailing bits are ignored, as mail parsers ignore them.
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &alphabet::STANDARD,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    LENIENT.decode(compact).ok()
}

/// Whether `chars` characters and `padding` make whole bytes.
fn whole(chars: usize, padding: usize) -> bool {
    let rest = chars % 4;
    rest != 1 && padding <= 2 && (padding == 0 || (chars + padding).is_multiple_of(4))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

    fn lines(text: &str, width: usize, eol: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        chars
            .chunks(width)
            .map(|c| c.iter().collect::<String>() + eol)
            .collect()
    }

    #[test]
    fn mail_shaped_text_decodes_to_its_bytes() {
        for n in 0..200usize {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 % 256) as u8).collect();
            for (engine, width, eol) in [
                (&STANDARD, 76, "\r\n"),
                (&STANDARD, 64, "\n"),
                (&STANDARD_NO_PAD, 72, "\r\n"),
                (&STANDARD, 1000, " \r\n\t"),
            ] {
                let text = lines(&engine.encode(&data), width, eol);
                assert_eq!(decoded_len(text.as_bytes()), Some(n), "{n} {text}");
                assert_eq!(decode(text.as_bytes()), Some(data.clone()), "{n} {text}");
            }
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "QUJD\r\nRA=\r\nRUY=", // padding inside
            "QUJDRA===",           // too much padding
            "QUJDR",               // a lone sixth of a byte
            "QUJDRA=",             // padding short of a whole group
            "QUJD-RA==",           // not the alphabet
            "QUJDRA==\r\n--b1--",  // a boundary inside
            "QUJD\u{3000}RA==",    // not a blank of ours
        ] {
            assert_eq!(decoded_len(text.as_bytes()), None, "{text}");
            assert_eq!(decode(text.as_bytes()), None, "{text}");
        }
    }
}
