//! Base45 (RFC 9285): bytes as QR alphanumeric characters, so a code is dense and phone
//! scanners hand it back as an ordinary string.

use alloc::string::String;
use alloc::vec::Vec;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
/// The same grouping (two bytes as three characters) in the 41 QR alphanumeric characters that
/// a URL path keeps as they are: no space, no `%` (an escape), no `/` or `.` (a browser folds
/// `/../`). 41³ > 2¹⁶, so nothing is lost and a code is as dense as in Base45.
pub const PATH_ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ$*+-:";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base45Error {
    BadCharacter { position: usize },
    BadLength,
    ValueTooLarge { position: usize },
}

impl core::fmt::Display for Base45Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Base45Error::BadCharacter { position } => {
                write!(f, "character {position} is not a Base45 character")
            }
            Base45Error::BadLength => write!(f, "the text has an impossible length"),
            Base45Error::ValueTooLarge { position } => {
                write!(f, "the group at character {position} is out of range")
            }
        }
    }
}

/// Whether a QR code's alphanumeric mode holds this character.
pub fn is_alphanumeric_mode(c: u8) -> bool {
    ALPHABET.contains(&c)
}

pub fn encode(bytes: &[u8]) -> String {
    encode_in(ALPHABET, bytes)
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    decode_in(ALPHABET, text)
}

/// Base45's grouping in another alphabet of 41 to 45 characters.
pub fn encode_in(alphabet: &[u8], bytes: &[u8]) -> String {
    let base = alphabet.len();
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |v: usize| out.push(alphabet[v] as char);
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => {
                let n = (a as usize) * 256 + b as usize;
                push(n % base);
                push(n / base % base);
                push(n / (base * base));
            }
            [a] => {
                push(a as usize % base);
                push(a as usize / base);
            }
            _ => unreachable!("chunks(2) yields one or two bytes"),
        }
    }
    out
}

fn value(alphabet: &[u8], c: u8, position: usize) -> Result<u32, Base45Error> {
    alphabet
        .iter()
        .position(|&a| a == c)
        .map(|v| v as u32)
        .ok_or(Base45Error::BadCharacter { position })
}

pub fn decode_in(alphabet: &[u8], text: &str) -> Result<Vec<u8>, Base45Error> {
    let base = alphabet.len() as u32;
    let input = text.as_bytes();
    if input.len() % 3 == 1 {
        return Err(Base45Error::BadLength);
    }
    let mut out = Vec::with_capacity(input.len() / 3 * 2 + 1);
    for (i, group) in input.chunks(3).enumerate() {
        let at = i * 3;
        let mut n = 0u32;
        for (j, &c) in group.iter().enumerate().rev() {
            n = n * base + value(alphabet, c, at + j)?;
        }
        if group.len() == 3 {
            if n > 0xffff {
                return Err(Base45Error::ValueTooLarge { position: at });
            }
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            if n > 0xff {
                return Err(Base45Error::ValueTooLarge { position: at });
            }
            out.push(n as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9285_examples() {
        assert_eq!(encode(b"AB"), "BB8");
        assert_eq!(encode(b"Hello!!"), "%69 VD92EX0");
        assert_eq!(encode(b"base-45"), "UJCLQE7W581");
        assert_eq!(decode("QED8WEX0").unwrap(), b"ietf!");
    }

    #[test]
    fn the_path_alphabet_round_trips_every_pair_and_keeps_to_path_characters() {
        let bytes: Vec<u8> = (0..=255u8)
            .flat_map(|a| [a, a.wrapping_mul(7), 255 - a])
            .collect();
        let text = encode_in(PATH_ALPHABET, &bytes);
        assert!(
            text.bytes()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || b"$*+-:".contains(&c))
        );
        assert_eq!(decode_in(PATH_ALPHABET, &text).unwrap(), bytes);
        assert_eq!(encode_in(PATH_ALPHABET, &[0xff, 0xff]).len(), 3);
        assert_eq!(
            decode_in(PATH_ALPHABET, "%69"),
            Err(Base45Error::BadCharacter { position: 0 })
        );
        assert_eq!(
            decode_in(PATH_ALPHABET, "::::"),
            Err(Base45Error::BadLength)
        );
        assert_eq!(
            decode_in(PATH_ALPHABET, ":::"),
            Err(Base45Error::ValueTooLarge { position: 0 })
        );
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            decode("GGW"),
            Err(Base45Error::ValueTooLarge { position: 0 })
        );
        assert_eq!(
            decode("AB"),
            Err(Base45Error::ValueTooLarge { position: 0 })
        );
        assert_eq!(decode("A"), Err(Base45Error::BadLength));
        assert_eq!(
            decode("AB_"),
            Err(Base45Error::BadCharacter { position: 2 })
        );
    }
}
