//! Base45 (RFC 9285): bytes as QR alphanumeric characters, so a code is dense and phone
//! scanners hand it back as an ordinary string.

use alloc::string::String;
use alloc::vec::Vec;

const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

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

pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |v: usize| out.push(ALPHABET[v] as char);
    for pair in bytes.chunks(2) {
        match *pair {
            [a, b] => {
                let n = (a as usize) * 256 + b as usize;
                push(n % 45);
                push(n / 45 % 45);
                push(n / 2025);
            }
            [a] => {
                push(a as usize % 45);
                push(a as usize / 45);
            }
            _ => unreachable!("chunks(2) yields one or two bytes"),
        }
    }
    out
}

fn value(c: u8, position: usize) -> Result<u32, Base45Error> {
    ALPHABET
        .iter()
        .position(|&a| a == c)
        .map(|v| v as u32)
        .ok_or(Base45Error::BadCharacter { position })
}

pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let input = text.as_bytes();
    if input.len() % 3 == 1 {
        return Err(Base45Error::BadLength);
    }
    let mut out = Vec::with_capacity(input.len() / 3 * 2 + 1);
    for (i, group) in input.chunks(3).enumerate() {
        let at = i * 3;
        let mut n = 0u32;
        for (j, &c) in group.iter().enumerate().rev() {
            n = n * 45 + value(c, at + j)?;
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
