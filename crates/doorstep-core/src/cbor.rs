//! A small deterministic CBOR subset (RFC 8949 §4.2.1 core deterministic encoding).
//!
//! Only what the protocol needs: unsigned and negative integers, byte and text strings, arrays,
//! maps with integer keys, booleans. The decoder accepts only the canonical form (shortest heads,
//! definite lengths, map keys strictly ascending), so every value has exactly one encoding and a
//! signature over re-encoded bytes can never be ambiguous. It never panics on any input.

use alloc::string::String;
use alloc::vec::Vec;

/// Why bytes are not a well-formed deterministic CBOR item of the expected shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CborError {
    Truncated,
    NotCanonical,
    Unsupported,
    UnexpectedType { expected: &'static str },
    TrailingBytes,
    TooDeep,
    BadText,
    MissingField(u64),
    UnknownField(u64),
    BadLength { field: u64 },
    OutOfRange { field: u64 },
}

impl core::fmt::Display for CborError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            CborError::Truncated => write!(f, "data ends too early"),
            CborError::NotCanonical => write!(f, "data is not in deterministic form"),
            CborError::Unsupported => write!(f, "data uses an unsupported CBOR feature"),
            CborError::UnexpectedType { expected } => write!(f, "expected {expected}"),
            CborError::TrailingBytes => write!(f, "unexpected bytes after the end"),
            CborError::TooDeep => write!(f, "data is nested too deeply"),
            CborError::BadText => write!(f, "text is not valid UTF-8"),
            CborError::MissingField(k) => write!(f, "field {k} is missing"),
            CborError::UnknownField(k) => write!(f, "field {k} is not known"),
            CborError::BadLength { field } => write!(f, "field {field} has the wrong length"),
            CborError::OutOfRange { field } => write!(f, "field {field} is out of range"),
        }
    }
}

const MAJOR_UNSIGNED: u8 = 0;
const MAJOR_NEGATIVE: u8 = 1;
const MAJOR_BYTES: u8 = 2;
const MAJOR_TEXT: u8 = 3;
const MAJOR_ARRAY: u8 = 4;
const MAJOR_MAP: u8 = 5;
const MAJOR_SIMPLE: u8 = 7;
const SIMPLE_FALSE: u8 = 20;
const SIMPLE_TRUE: u8 = 21;
const MAX_DEPTH: usize = 8;

/// Appends canonical CBOR to a buffer. Callers must write map keys in ascending order;
/// `MapWriter` checks that in debug builds.
#[derive(Default)]
pub struct Encoder {
    out: Vec<u8>,
}

impl Encoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.out
    }

    fn head(&mut self, major: u8, value: u64) {
        let m = major << 5;
        match value {
            0..=23 => self.out.push(m | value as u8),
            24..=0xff => self.out.extend_from_slice(&[m | 24, value as u8]),
            0x100..=0xffff => {
                self.out.push(m | 25);
                self.out.extend_from_slice(&(value as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.out.push(m | 26);
                self.out.extend_from_slice(&(value as u32).to_be_bytes());
            }
            _ => {
                self.out.push(m | 27);
                self.out.extend_from_slice(&value.to_be_bytes());
            }
        }
    }

    pub fn uint(&mut self, value: u64) -> &mut Self {
        self.head(MAJOR_UNSIGNED, value);
        self
    }

    pub fn int(&mut self, value: i64) -> &mut Self {
        if value >= 0 {
            self.head(MAJOR_UNSIGNED, value as u64);
        } else {
            // -1 - n encodes n; for i64::MIN this is i64::MAX, which fits.
            self.head(MAJOR_NEGATIVE, (-1 - value) as u64);
        }
        self
    }

    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.head(MAJOR_BYTES, value.len() as u64);
        self.out.extend_from_slice(value);
        self
    }

    pub fn text(&mut self, value: &str) -> &mut Self {
        self.head(MAJOR_TEXT, value.len() as u64);
        self.out.extend_from_slice(value.as_bytes());
        self
    }

    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.out
            .push(MAJOR_SIMPLE << 5 | if value { SIMPLE_TRUE } else { SIMPLE_FALSE });
        self
    }

    pub fn array(&mut self, len: usize) -> &mut Self {
        self.head(MAJOR_ARRAY, len as u64);
        self
    }

    pub fn map(&mut self, len: usize) -> &mut Self {
        self.head(MAJOR_MAP, len as u64);
        self
    }

    /// Bytes already encoded elsewhere (a nested signed document), embedded as one item.
    pub fn raw(&mut self, encoded_item: &[u8]) -> &mut Self {
        self.out.extend_from_slice(encoded_item);
        self
    }
}

/// Builds a map whose entries are collected first so the entry count and key order are right
/// by construction.
#[derive(Default)]
pub struct MapBuilder {
    entries: Vec<(u64, Vec<u8>)>,
}

impl MapBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn entry(&mut self, key: u64, write: impl FnOnce(&mut Encoder)) -> &mut Self {
        let mut e = Encoder::new();
        write(&mut e);
        self.entries.push((key, e.into_bytes()));
        self
    }

    pub fn entry_if(
        &mut self,
        present: bool,
        key: u64,
        write: impl FnOnce(&mut Encoder),
    ) -> &mut Self {
        if present {
            self.entry(key, write);
        }
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.entries.sort_by_key(|(k, _)| *k);
        let mut e = Encoder::new();
        e.map(self.entries.len());
        for (k, v) in &self.entries {
            e.uint(*k).raw(v);
        }
        e.into_bytes()
    }
}

/// Reads canonical CBOR from a slice. Every length is checked against the bytes left before
/// anything is allocated, so a hostile length cannot exhaust memory.
pub struct Decoder<'a> {
    input: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Decoder<'a> {
    pub fn new(input: &'a [u8]) -> Self {
        Self {
            input,
            pos: 0,
            depth: 0,
        }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn finish(&self) -> Result<(), CborError> {
        if self.pos == self.input.len() {
            Ok(())
        } else {
            Err(CborError::TrailingBytes)
        }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], CborError> {
        let end = self.pos.checked_add(n).ok_or(CborError::Truncated)?;
        let slice = self.input.get(self.pos..end).ok_or(CborError::Truncated)?;
        self.pos = end;
        Ok(slice)
    }

    fn peek_major(&self) -> Result<u8, CborError> {
        self.input
            .get(self.pos)
            .map(|b| b >> 5)
            .ok_or(CborError::Truncated)
    }

    fn head(&mut self) -> Result<(u8, u64), CborError> {
        let initial = self.take(1)?[0];
        let major = initial >> 5;
        let info = initial & 0x1f;
        let value = match info {
            0..=23 => info as u64,
            24 => {
                let v = self.take(1)?[0] as u64;
                if v < 24 {
                    return Err(CborError::NotCanonical);
                }
                v
            }
            25 => {
                let b = self.take(2)?;
                let v = u16::from_be_bytes([b[0], b[1]]) as u64;
                if v <= 0xff {
                    return Err(CborError::NotCanonical);
                }
                v
            }
            26 => {
                let b = self.take(4)?;
                let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as u64;
                if v <= 0xffff {
                    return Err(CborError::NotCanonical);
                }
                v
            }
            27 => {
                let b = self.take(8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                let v = u64::from_be_bytes(a);
                if v <= 0xffff_ffff {
                    return Err(CborError::NotCanonical);
                }
                v
            }
            // Indefinite lengths and reserved values are not deterministic.
            _ => return Err(CborError::Unsupported),
        };
        if major == 6 {
            return Err(CborError::Unsupported);
        }
        Ok((major, value))
    }

    fn expect_head(&mut self, major: u8, expected: &'static str) -> Result<u64, CborError> {
        let (m, v) = self.head()?;
        if m != major {
            return Err(CborError::UnexpectedType { expected });
        }
        Ok(v)
    }

    fn length(&mut self, major: u8, expected: &'static str) -> Result<usize, CborError> {
        let len = self.expect_head(major, expected)?;
        let remaining = (self.input.len() - self.pos) as u64;
        if len > remaining {
            return Err(CborError::Truncated);
        }
        Ok(len as usize)
    }

    pub fn uint(&mut self) -> Result<u64, CborError> {
        self.expect_head(MAJOR_UNSIGNED, "an unsigned integer")
    }

    pub fn int(&mut self) -> Result<i64, CborError> {
        let (m, v) = self.head()?;
        match m {
            MAJOR_UNSIGNED => i64::try_from(v).map_err(|_| CborError::Unsupported),
            MAJOR_NEGATIVE => i64::try_from(v)
                .map(|n| -1 - n)
                .map_err(|_| CborError::Unsupported),
            _ => Err(CborError::UnexpectedType {
                expected: "an integer",
            }),
        }
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], CborError> {
        let len = self.length(MAJOR_BYTES, "a byte string")?;
        self.take(len)
    }

    pub fn text(&mut self) -> Result<&'a str, CborError> {
        let len = self.length(MAJOR_TEXT, "a text string")?;
        core::str::from_utf8(self.take(len)?).map_err(|_| CborError::BadText)
    }

    pub fn bool(&mut self) -> Result<bool, CborError> {
        let initial = self.take(1)?[0];
        match initial {
            b if b == (MAJOR_SIMPLE << 5 | SIMPLE_FALSE) => Ok(false),
            b if b == (MAJOR_SIMPLE << 5 | SIMPLE_TRUE) => Ok(true),
            _ => Err(CborError::UnexpectedType {
                expected: "a boolean",
            }),
        }
    }

    /// Array header; every element is at least one byte, which bounds the count.
    pub fn array(&mut self) -> Result<usize, CborError> {
        self.length(MAJOR_ARRAY, "an array")
    }

    /// The raw bytes of the next complete item, for embedded signed documents.
    pub fn raw_item(&mut self) -> Result<&'a [u8], CborError> {
        let start = self.pos;
        self.skip()?;
        Ok(&self.input[start..self.pos])
    }

    fn skip(&mut self) -> Result<(), CborError> {
        self.enter()?;
        let (major, v) = self.head()?;
        match major {
            MAJOR_UNSIGNED | MAJOR_NEGATIVE => {}
            MAJOR_BYTES | MAJOR_TEXT => {
                let len = usize::try_from(v).map_err(|_| CborError::Truncated)?;
                let bytes = self.take(len)?;
                if major == MAJOR_TEXT && core::str::from_utf8(bytes).is_err() {
                    return Err(CborError::BadText);
                }
            }
            MAJOR_ARRAY => {
                for _ in 0..v {
                    self.skip()?;
                }
            }
            MAJOR_MAP => {
                let mut last = None;
                for _ in 0..v {
                    let key = self.uint()?;
                    if last.is_some_and(|l| key <= l) {
                        return Err(CborError::NotCanonical);
                    }
                    last = Some(key);
                    self.skip()?;
                }
            }
            MAJOR_SIMPLE if v == SIMPLE_FALSE as u64 || v == SIMPLE_TRUE as u64 => {}
            _ => return Err(CborError::Unsupported),
        }
        self.depth -= 1;
        Ok(())
    }

    fn enter(&mut self) -> Result<(), CborError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(CborError::TooDeep);
        }
        Ok(())
    }

    /// Reads a map with unsigned integer keys in strictly ascending order.
    pub fn map(&mut self) -> Result<MapReader<'_, 'a>, CborError> {
        let remaining = self.input.len() - self.pos;
        let len = self.expect_head(MAJOR_MAP, "a map")?;
        // Each entry needs at least two bytes.
        if len.saturating_mul(2) > remaining as u64 {
            return Err(CborError::Truncated);
        }
        Ok(MapReader {
            decoder: self,
            remaining: len,
            next_key: None,
            last_key: None,
        })
    }

    pub fn is_at_end(&self) -> bool {
        self.pos >= self.input.len()
    }

    pub fn peek_is_map(&self) -> bool {
        self.peek_major() == Ok(MAJOR_MAP)
    }
}

/// Field-by-field access to a canonical integer-keyed map. Fields must be asked for in ascending
/// key order; any key not asked for is an error, so unknown fields are never silently dropped.
pub struct MapReader<'d, 'a> {
    decoder: &'d mut Decoder<'a>,
    remaining: u64,
    next_key: Option<u64>,
    last_key: Option<u64>,
}

impl<'a> MapReader<'_, 'a> {
    fn peek_key(&mut self) -> Result<Option<u64>, CborError> {
        if self.next_key.is_none() && self.remaining > 0 {
            let key = self.decoder.uint()?;
            if self.last_key.is_some_and(|l| key <= l) {
                return Err(CborError::NotCanonical);
            }
            self.last_key = Some(key);
            self.remaining -= 1;
            self.next_key = Some(key);
        }
        Ok(self.next_key)
    }

    /// Positions the decoder on the value of `key` if present.
    pub fn optional(&mut self, key: u64) -> Result<Option<&mut Decoder<'a>>, CborError> {
        match self.peek_key()? {
            Some(k) if k == key => {
                self.next_key = None;
                Ok(Some(&mut *self.decoder))
            }
            Some(k) if k < key => Err(CborError::UnknownField(k)),
            _ => Ok(None),
        }
    }

    pub fn required(&mut self, key: u64) -> Result<&mut Decoder<'a>, CborError> {
        self.optional(key)?.ok_or(CborError::MissingField(key))
    }

    /// Every entry must have been read.
    pub fn end(mut self) -> Result<(), CborError> {
        match self.peek_key()? {
            Some(k) => Err(CborError::UnknownField(k)),
            None => Ok(()),
        }
    }
}

/// Helpers for fixed-size fields.
pub fn fixed<const N: usize>(bytes: &[u8], field: u64) -> Result<[u8; N], CborError> {
    bytes.try_into().map_err(|_| CborError::BadLength { field })
}

/// Text with an upper bound on its length, so a display field cannot flood a screen.
pub fn bounded_text(text: &str, max: usize, field: u64) -> Result<String, CborError> {
    if text.chars().count() > max {
        return Err(CborError::BadLength { field });
    }
    Ok(text.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_use_shortest_heads() {
        for (v, len) in [
            (0u64, 1),
            (23, 1),
            (24, 2),
            (255, 2),
            (256, 3),
            (65_535, 3),
            (65_536, 5),
            (u32::MAX as u64, 5),
            (u32::MAX as u64 + 1, 9),
        ] {
            let mut e = Encoder::new();
            e.uint(v);
            let b = e.into_bytes();
            assert_eq!(b.len(), len, "{v}");
            let mut d = Decoder::new(&b);
            assert_eq!(d.uint().unwrap(), v);
            d.finish().unwrap();
        }
    }

    #[test]
    fn negative_integers_round_trip() {
        for v in [-1i64, -24, -25, -256, -257, -65_537, i64::MIN] {
            let mut e = Encoder::new();
            e.int(v);
            let b = e.into_bytes();
            assert_eq!(Decoder::new(&b).int().unwrap(), v);
        }
    }

    #[test]
    fn non_shortest_heads_are_rejected() {
        assert_eq!(
            Decoder::new(&[0x18, 0x05]).uint(),
            Err(CborError::NotCanonical)
        );
        assert_eq!(
            Decoder::new(&[0x19, 0x00, 0xff]).uint(),
            Err(CborError::NotCanonical)
        );
    }

    #[test]
    fn indefinite_lengths_and_tags_are_rejected() {
        assert_eq!(
            Decoder::new(&[0x5f, 0x41, 0x00, 0xff]).bytes(),
            Err(CborError::Unsupported)
        );
        assert_eq!(
            Decoder::new(&[0xc1, 0x00]).uint(),
            Err(CborError::Unsupported)
        );
    }

    #[test]
    fn maps_reject_unsorted_duplicate_and_unknown_keys() {
        let unsorted = [0xa2, 0x02, 0x00, 0x01, 0x00];
        let mut d = Decoder::new(&unsorted);
        let mut m = d.map().unwrap();
        assert!(m.optional(1).unwrap().is_none());
        m.required(2).unwrap().uint().unwrap();
        assert_eq!(m.end(), Err(CborError::NotCanonical));

        let dup = [0xa2, 0x01, 0x00, 0x01, 0x00];
        let mut d = Decoder::new(&dup);
        let mut m = d.map().unwrap();
        m.required(1).unwrap().uint().unwrap();
        assert_eq!(m.end(), Err(CborError::NotCanonical));

        let extra = [0xa2, 0x01, 0x00, 0x07, 0x00];
        let mut d = Decoder::new(&extra);
        let mut m = d.map().unwrap();
        m.required(1).unwrap().uint().unwrap();
        assert_eq!(m.end(), Err(CborError::UnknownField(7)));
    }

    #[test]
    fn huge_declared_lengths_fail_without_allocating() {
        let b = [0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Decoder::new(&b).bytes(), Err(CborError::Truncated));
        let m = [0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert!(matches!(Decoder::new(&m).map(), Err(CborError::Truncated)));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut b = alloc::vec![0x81u8; 64];
        b.push(0x00);
        assert_eq!(Decoder::new(&b).raw_item(), Err(CborError::TooDeep));
    }

    #[test]
    fn map_builder_sorts_keys() {
        let mut m = MapBuilder::new();
        m.entry(3, |e| {
            e.uint(1);
        });
        m.entry(1, |e| {
            e.text("a");
        });
        assert_eq!(m.finish(), [0xa2, 0x01, 0x61, b'a', 0x03, 0x01]);
    }
}
