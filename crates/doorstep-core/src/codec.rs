//! Codes as text: `DS2<kind>:` followed by Base45 of the canonical CBOR.
//!
//! Every character is in the QR alphanumeric set, so a code is dense in a QR symbol and survives
//! phone scanners, which return strings. The codec does not care how the text travels: QR, NFC,
//! a URL fragment or a paste.

use alloc::string::String;
use alloc::vec::Vec;

use crate::base45;
use crate::enrolment::EnrolmentInvite;
use crate::error::Error;
use crate::handshake::{Challenge, Proof, Response};
use crate::receipt::SignedReceipt;

const SCHEME: &str = "DS";
pub const VERSION: char = '2';
/// Longest text accepted; far above any real code, low enough to bound work on hostile input.
pub const MAX_TEXT_LEN: usize = 4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Challenge,
    Proof,
    Response,
    Receipt,
    /// A one-time enrolment invite (not part of the doorstep handshake).
    Enrolment,
}

impl CodeKind {
    pub const ALL: [CodeKind; 5] = [
        CodeKind::Challenge,
        CodeKind::Proof,
        CodeKind::Response,
        CodeKind::Receipt,
        CodeKind::Enrolment,
    ];

    fn letter(self) -> char {
        match self {
            CodeKind::Challenge => 'C',
            CodeKind::Proof => 'P',
            CodeKind::Response => 'R',
            CodeKind::Receipt => 'K',
            CodeKind::Enrolment => 'E',
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            CodeKind::Challenge => "challenge",
            CodeKind::Proof => "proof",
            CodeKind::Response => "response",
            CodeKind::Receipt => "receipt",
            CodeKind::Enrolment => "enrolment",
        }
    }

    fn from_letter(c: char) -> Option<Self> {
        CodeKind::ALL.into_iter().find(|k| k.letter() == c)
    }
}

/// A decoded code. Receipts stay encoded: their signature is checked against the agent's key
/// by whoever knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Code {
    Challenge(Challenge),
    Proof(Proof),
    Response(Response),
    Receipt(Vec<u8>),
    Enrolment(EnrolmentInvite),
}

impl Code {
    pub fn kind(&self) -> CodeKind {
        match self {
            Code::Challenge(_) => CodeKind::Challenge,
            Code::Proof(_) => CodeKind::Proof,
            Code::Response(_) => CodeKind::Response,
            Code::Receipt(_) => CodeKind::Receipt,
            Code::Enrolment(_) => CodeKind::Enrolment,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Code::Challenge(c) => c.encode(),
            Code::Proof(p) => p.encode(),
            Code::Response(r) => r.encode(),
            Code::Receipt(r) => r.clone(),
            Code::Enrolment(e) => e.encode(),
        }
    }

    pub fn to_text(&self) -> String {
        encode_text(self.kind(), &self.to_bytes())
    }

    /// Parses a code as a scanner returns it. Leading and trailing white space is ignored, and
    /// so is everything up to a `#`, so the same code works as a URL fragment.
    pub fn from_text(text: &str) -> Result<Self, Error> {
        let (kind, bytes) = decode_text(text)?;
        Self::from_bytes(kind, bytes)
    }

    /// Parses a code's bytes whose kind the transport already says (an NFC instruction).
    pub fn from_bytes(kind: CodeKind, bytes: Vec<u8>) -> Result<Self, Error> {
        Ok(match kind {
            CodeKind::Challenge => Code::Challenge(Challenge::decode(&bytes)?),
            CodeKind::Proof => Code::Proof(Proof::decode(&bytes)?),
            CodeKind::Response => Code::Response(Response::decode(&bytes)?),
            CodeKind::Receipt => {
                SignedReceipt::peek(&bytes)?;
                Code::Receipt(bytes)
            }
            CodeKind::Enrolment => Code::Enrolment(EnrolmentInvite::decode(&bytes)?),
        })
    }

    fn wrong_kind(self, expected: CodeKind) -> Error {
        Error::WrongMessageKind {
            expected: expected.name(),
            found: self.kind().name(),
        }
    }

    pub fn into_challenge(self) -> Result<Challenge, Error> {
        match self {
            Code::Challenge(c) => Ok(c),
            other => Err(other.wrong_kind(CodeKind::Challenge)),
        }
    }

    pub fn into_proof(self) -> Result<Proof, Error> {
        match self {
            Code::Proof(p) => Ok(p),
            other => Err(other.wrong_kind(CodeKind::Proof)),
        }
    }

    pub fn into_response(self) -> Result<Response, Error> {
        match self {
            Code::Response(r) => Ok(r),
            other => Err(other.wrong_kind(CodeKind::Response)),
        }
    }

    pub fn into_enrolment(self) -> Result<EnrolmentInvite, Error> {
        match self {
            Code::Enrolment(e) => Ok(e),
            other => Err(other.wrong_kind(CodeKind::Enrolment)),
        }
    }

    pub fn into_receipt(self) -> Result<Vec<u8>, Error> {
        match self {
            Code::Receipt(r) => Ok(r),
            other => Err(other.wrong_kind(CodeKind::Receipt)),
        }
    }
}

pub fn encode_text(kind: CodeKind, bytes: &[u8]) -> String {
    let mut s = String::with_capacity(5 + bytes.len() * 3 / 2 + 1);
    s.push_str(SCHEME);
    s.push(VERSION);
    s.push(kind.letter());
    s.push(':');
    s.push_str(&base45::encode(bytes));
    s
}

pub fn decode_text(text: &str) -> Result<(CodeKind, Vec<u8>), Error> {
    if text.len() > MAX_TEXT_LEN {
        return Err(Error::malformed("the code is far too long"));
    }
    let text = text.trim();
    let text = text.rsplit_once('#').map_or(text, |(_, fragment)| fragment);
    let Some(rest) = text
        .get(..SCHEME.len())
        .filter(|p| p.eq_ignore_ascii_case(SCHEME))
        .map(|_| &text[SCHEME.len()..])
    else {
        return Err(Error::malformed("it is not a Doorstep code"));
    };
    let mut chars = rest.chars();
    let version = chars
        .next()
        .ok_or_else(|| Error::malformed("the code is cut short"))?;
    if !version.is_ascii_alphanumeric() {
        return Err(Error::malformed("the code has no version"));
    }
    if version != VERSION {
        return Err(Error::UnsupportedVersion {
            found: version.into(),
        });
    }
    let kind = chars
        .next()
        .and_then(|c| CodeKind::from_letter(c.to_ascii_uppercase()))
        .ok_or_else(|| Error::malformed("the code's kind is unknown"))?;
    if chars.next() != Some(':') {
        return Err(Error::malformed("the code's prefix is damaged"));
    }
    let bytes = base45::decode(chars.as_str()).map_err(Error::malformed)?;
    Ok((kind, bytes))
}
