//! The back-office's countersignature on a receipt it has stored: proof, for the device and for
//! an audit, that this exact receipt reached the organisation and when. A device deletes nothing
//! before it holds one.

use alloc::vec::Vec;

use crate::cbor::{CborError, Decoder, MapBuilder, fixed};
use crate::error::Error;
use crate::keys::{PublicKey, sha256};
use crate::signed::{DocumentKind, DocumentToSign, Envelope};

/// The receipt's identity on the wire: the UUIDv7 the device gave it.
pub const RECEIPT_ID_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Countersignature {
    pub receipt_id: [u8; RECEIPT_ID_LEN],
    /// SHA-256 of the signed receipt exactly as uploaded.
    pub receipt_digest: [u8; 32],
    pub received_at: u64,
}

impl Countersignature {
    pub fn new(receipt_id: [u8; RECEIPT_ID_LEN], signed_receipt: &[u8], received_at: u64) -> Self {
        Self {
            receipt_id,
            receipt_digest: sha256(&[signed_receipt]),
            received_at,
        }
    }

    fn encode_payload(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.bytes(&self.receipt_id);
        })
        .entry(2, |e| {
            e.bytes(&self.receipt_digest);
        })
        .entry(3, |e| {
            e.uint(self.received_at);
        });
        m.finish()
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let receipt_id = fixed(m.required(1)?.bytes()?, 1)?;
        let receipt_digest = fixed(m.required(2)?.bytes()?, 2)?;
        let received_at = m.required(3)?.uint()?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            receipt_id,
            receipt_digest,
            received_at,
        })
    }

    pub fn to_sign(&self, organisation_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(
            DocumentKind::Countersignature,
            organisation_key,
            self.encode_payload(),
        )
    }

    /// Checks `encoded` is the organisation's countersignature on exactly this receipt.
    pub fn verify(
        encoded: &[u8],
        organisation_keys: &[PublicKey],
        receipt_id: [u8; RECEIPT_ID_LEN],
        signed_receipt: &[u8],
    ) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        envelope.verify(DocumentKind::Countersignature, organisation_keys)?;
        let countersignature = Self::decode_payload(envelope.payload)?;
        if countersignature.receipt_id != receipt_id
            || countersignature.receipt_digest != sha256(&[signed_receipt])
        {
            return Err(Error::CountersignatureMismatch);
        }
        Ok(countersignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{SeededRandomness, SoftwareKey};

    #[test]
    fn a_countersignature_covers_one_exact_receipt_from_one_organisation() {
        let mut rng = SeededRandomness::new("countersignature");
        let org = SoftwareKey::generate(&mut rng);
        let other_org = SoftwareKey::generate(&mut rng);
        let id = [9; RECEIPT_ID_LEN];
        let encoded = Countersignature::new(id, b"receipt", 1_800_000_000)
            .to_sign(org.public_key())
            .sign_with(&org)
            .unwrap();
        let keys = [org.public_key()];
        let checked = Countersignature::verify(&encoded, &keys, id, b"receipt").unwrap();
        assert_eq!(checked.received_at, 1_800_000_000);
        assert_eq!(
            Countersignature::verify(&encoded, &keys, id, b"receipt, altered"),
            Err(Error::CountersignatureMismatch)
        );
        assert_eq!(
            Countersignature::verify(&encoded, &keys, [8; RECEIPT_ID_LEN], b"receipt"),
            Err(Error::CountersignatureMismatch)
        );
        assert_eq!(
            Countersignature::verify(&encoded, &[other_org.public_key()], id, b"receipt")
                .map_err(|e| e.kind()),
            Err("unknown_organisation_key")
        );
        let mut forged = encoded.clone();
        let last = forged.len() - 1;
        forged[last] ^= 1;
        assert_eq!(
            Countersignature::verify(&forged, &keys, id, b"receipt"),
            Err(Error::BadCountersignature)
        );
    }
}
