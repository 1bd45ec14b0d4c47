//! The one-time enrolment code a person receives by letter or SMS: a short code to type, and
//! the same code with the back-office's address as a QR (`DS2E:`), so scanning it needs no
//! typing at all.
//!
//! Typed form: 16 Crockford base32 characters in groups of four (80 random bits), e.g.
//! `7KQM-3F9X-PL2D-W8HB`. Reading is forgiving the way Crockford intends: case, `I`/`L` for 1,
//! `O` for 0, spaces and dashes do not matter.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cbor::{CborError, Decoder, MapBuilder, bounded_text, fixed};
use crate::error::Error;

pub const ENROLMENT_CODE_LEN: usize = 10;
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TYPED_CHARS: usize = ENROLMENT_CODE_LEN * 8 / 5;
pub const MAX_SERVER_URL_CHARS: usize = 200;

/// The secret itself. Equality is not constant-time; the server compares hashes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct EnrolmentCode(pub [u8; ENROLMENT_CODE_LEN]);

impl core::fmt::Debug for EnrolmentCode {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EnrolmentCode(…)")
    }
}

impl EnrolmentCode {
    pub fn to_typed(&self) -> String {
        let mut bits: u128 = 0;
        for b in self.0 {
            bits = (bits << 8) | u128::from(b);
        }
        let mut out = String::with_capacity(TYPED_CHARS + 3);
        for i in 0..TYPED_CHARS {
            if i > 0 && i % 4 == 0 {
                out.push('-');
            }
            let shift = 5 * (TYPED_CHARS - 1 - i);
            out.push(char::from(ALPHABET[((bits >> shift) & 31) as usize]));
        }
        out
    }

    pub fn from_typed(text: &str) -> Result<Self, Error> {
        let mut bits: u128 = 0;
        let mut count = 0;
        for c in text.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let c = match c.to_ascii_uppercase() {
                'I' | 'L' => '1',
                'O' => '0',
                other => other,
            };
            let value = ALPHABET
                .iter()
                .position(|&a| char::from(a) == c)
                .ok_or_else(|| {
                    Error::malformed("the enrolment code has a character it cannot contain")
                })?;
            count += 1;
            if count > TYPED_CHARS {
                return Err(Error::malformed("the enrolment code is too long"));
            }
            bits = (bits << 5) | value as u128;
        }
        if count < TYPED_CHARS {
            return Err(Error::malformed("the enrolment code is too short"));
        }
        let bytes = bits.to_be_bytes();
        Ok(Self(
            fixed(&bytes[16 - ENROLMENT_CODE_LEN..], 0)
                .map_err(|_| Error::malformed("the enrolment code"))?,
        ))
    }
}

/// What the enrolment QR carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrolmentInvite {
    pub server_url: String,
    pub organisation_name: String,
    pub code: EnrolmentCode,
}

impl EnrolmentInvite {
    pub fn encode(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.text(&self.server_url);
        })
        .entry(2, |e| {
            e.text(&self.organisation_name);
        })
        .entry(3, |e| {
            e.bytes(&self.code.0);
        });
        m.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        Ok(Self::decode_payload(bytes)?)
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let server_url = bounded_text(m.required(1)?.text()?, MAX_SERVER_URL_CHARS, 1)?;
        let organisation_name = bounded_text(m.required(2)?.text()?, 64, 2)?;
        let code = EnrolmentCode(fixed(m.required(3)?.bytes()?, 3)?);
        m.end()?;
        d.finish()?;
        Ok(Self {
            server_url,
            organisation_name,
            code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_codes_round_trip_and_forgive_what_people_mistype() {
        let code = EnrolmentCode([0xde, 0xad, 0xbe, 0xef, 0x00, 0x11, 0x22, 0x33, 0x44, 0xff]);
        let typed = code.to_typed();
        assert_eq!(typed.len(), 19);
        assert_eq!(EnrolmentCode::from_typed(&typed), Ok(code));
        let sloppy = typed
            .to_lowercase()
            .replace('-', " ")
            .replace('1', "l")
            .replace('0', "o");
        assert_eq!(EnrolmentCode::from_typed(&sloppy), Ok(code));
        assert!(EnrolmentCode::from_typed(&typed[..18]).is_err());
        assert!(EnrolmentCode::from_typed(&(typed.clone() + "A")).is_err());
        assert!(EnrolmentCode::from_typed("UUUU-UUUU-UUUU-UUUU").is_err());
        assert!(EnrolmentCode::from_typed("").is_err());
    }
}
