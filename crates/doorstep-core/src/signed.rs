//! The envelope of every document a key signs (COSE_Sign1-like, but smaller):
//! `[key id: bstr .size 8, payload: bstr, signature: bstr .size 64]`.
//!
//! The signature covers `["DS1 <document>", key id, payload]`, so a signature made for one kind
//! of document can never be passed off as another.

use alloc::vec::Vec;

use crate::cbor::{CborError, Decoder, Encoder, fixed};
use crate::error::Error;
use crate::keys::{KEY_ID_LEN, KeyId, PublicKey, Signature, SoftwareKey};

/// Which document a signature is for; part of what is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Ticket,
    Notice,
    Denylist,
    Receipt,
    Countersignature,
    Rotation,
    LogAnchor,
}

impl DocumentKind {
    fn context(self) -> &'static str {
        match self {
            DocumentKind::Ticket => "DS1 ticket",
            DocumentKind::Notice => "DS1 notice",
            DocumentKind::Denylist => "DS1 denylist",
            DocumentKind::Receipt => "DS1 receipt",
            DocumentKind::Countersignature => "DS1 countersignature",
            DocumentKind::Rotation => "DS1 key rotation",
            DocumentKind::LogAnchor => "DS1 receipt log anchor",
        }
    }

    pub(crate) fn bad_signature(self) -> Error {
        match self {
            DocumentKind::Ticket => Error::BadTicketSignature,
            DocumentKind::Notice => Error::BadNoticeSignature,
            DocumentKind::Denylist => Error::BadDenylistSignature,
            DocumentKind::Receipt => Error::BadReceiptSignature,
            DocumentKind::Countersignature => Error::BadCountersignature,
            DocumentKind::Rotation => Error::BadRotation,
            DocumentKind::LogAnchor => Error::BadCountersignature,
        }
    }
}

/// A parsed envelope whose signature has not been checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope<'a> {
    pub key_id: KeyId,
    pub payload: &'a [u8],
    pub signature: Signature,
}

impl<'a> Envelope<'a> {
    pub fn decode(decoder: &mut Decoder<'a>) -> Result<Self, CborError> {
        if decoder.array()? != 3 {
            return Err(CborError::UnexpectedType {
                expected: "a three-element signed document",
            });
        }
        let key_id = KeyId(fixed::<KEY_ID_LEN>(decoder.bytes()?, 0)?);
        let payload = decoder.bytes()?;
        let signature = Signature::from_wire(decoder.bytes()?)
            .map_err(|_| CborError::BadLength { field: 2 })?;
        Ok(Self {
            key_id,
            payload,
            signature,
        })
    }

    pub fn decode_all(bytes: &'a [u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let env = Self::decode(&mut d)?;
        d.finish()?;
        Ok(env)
    }

    /// Checks the signature with the one key whose id the envelope names.
    pub fn verify(&self, kind: DocumentKind, keys: &[PublicKey]) -> Result<PublicKey, Error> {
        self.verify_with(kind, keys, &|key, message, signature| {
            key.verify(message, signature)
        })
    }

    /// As [`Envelope::verify`], with the ECDSA check done by `check` (a faster implementation
    /// on a server, say).
    pub fn verify_with(
        &self,
        kind: DocumentKind,
        keys: &[PublicKey],
        check: &dyn Fn(&PublicKey, &[u8], &Signature) -> bool,
    ) -> Result<PublicKey, Error> {
        let key = keys
            .iter()
            .find(|k| k.key_id() == self.key_id)
            .ok_or(match kind {
                DocumentKind::Receipt => Error::BadReceiptSignature,
                _ => Error::UnknownOrganisationKey {
                    key_id: self.key_id,
                },
            })?;
        if check(
            key,
            &signed_bytes(kind, self.key_id, self.payload),
            &self.signature,
        ) {
            Ok(*key)
        } else {
            Err(kind.bad_signature())
        }
    }
}

/// The exact bytes a signer signs (ECDSA-SHA256) for a document.
pub fn signed_bytes(kind: DocumentKind, key_id: KeyId, payload: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new();
    e.array(3)
        .text(kind.context())
        .bytes(&key_id.0)
        .bytes(payload);
    e.into_bytes()
}

pub fn encode_envelope(key_id: KeyId, payload: &[u8], signature: &Signature) -> Vec<u8> {
    let mut e = Encoder::new();
    e.array(3)
        .bytes(&key_id.0)
        .bytes(payload)
        .bytes(signature.as_bytes());
    e.into_bytes()
}

/// A document waiting for its signature. Secure hardware signs [`DocumentToSign::bytes`]; the
/// result goes back through [`DocumentToSign::finish`], which checks it before wrapping it.
#[derive(Debug, Clone)]
pub struct DocumentToSign {
    kind: DocumentKind,
    signer: PublicKey,
    payload: Vec<u8>,
}

impl DocumentToSign {
    pub(crate) fn new(kind: DocumentKind, signer: PublicKey, payload: Vec<u8>) -> Self {
        Self {
            kind,
            signer,
            payload,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        signed_bytes(self.kind, self.signer.key_id(), &self.payload)
    }

    /// The encoded signed document.
    pub fn finish(self, signature: Signature) -> Result<Vec<u8>, Error> {
        if !self.signer.verify(&self.bytes(), &signature) {
            return Err(Error::SignerMismatch);
        }
        Ok(encode_envelope(
            self.signer.key_id(),
            &self.payload,
            &signature,
        ))
    }

    /// Wraps a signature without checking it: only for a signer in this process whose public
    /// key was derived from the very private key that signed (the back-office's own key), where
    /// the check would only cost time.
    pub fn finish_from_own_key(self, signature: Signature) -> Vec<u8> {
        encode_envelope(self.signer.key_id(), &self.payload, &signature)
    }

    pub fn sign_with(self, key: &SoftwareKey) -> Result<Vec<u8>, Error> {
        let signature = key.sign(&self.bytes());
        self.finish(signature)
    }
}
