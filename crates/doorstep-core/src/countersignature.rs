//! The back-office's countersignature on a receipt it has stored: proof, for the device and for
//! an audit, that this exact receipt reached the organisation and when. A device deletes nothing
//! before it holds one.

use alloc::vec::Vec;

use crate::cbor::{CborError, Decoder, MapBuilder, fixed};
use crate::error::Error;
use crate::keys::{KEY_ID_LEN, KeyId, PublicKey, sha256};
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

/// The back-office's countersignature on the head of a device's receipt log: the log had
/// `entries` entries ending in hash `head` when it was anchored. The back-office keeps the
/// newest anchor per device; a log rewritten on the phone no longer holds that hash at that
/// position, which the next sync reveals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogAnchor {
    /// The device key whose log this is.
    pub device: KeyId,
    pub entries: u64,
    pub head: [u8; 32],
    pub anchored_at: u64,
}

impl LogAnchor {
    fn encode_payload(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.bytes(&self.device.0);
        })
        .entry(2, |e| {
            e.uint(self.entries);
        })
        .entry(3, |e| {
            e.bytes(&self.head);
        })
        .entry(4, |e| {
            e.uint(self.anchored_at);
        });
        m.finish()
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let device = KeyId(fixed::<KEY_ID_LEN>(m.required(1)?.bytes()?, 1)?);
        let entries = m.required(2)?.uint()?;
        let head = fixed(m.required(3)?.bytes()?, 3)?;
        let anchored_at = m.required(4)?.uint()?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            device,
            entries,
            head,
            anchored_at,
        })
    }

    pub fn to_sign(&self, organisation_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(
            DocumentKind::LogAnchor,
            organisation_key,
            self.encode_payload(),
        )
    }

    /// Checks `encoded` is the organisation's anchor of exactly this device's log head.
    pub fn verify(
        encoded: &[u8],
        organisation_keys: &[PublicKey],
        device: KeyId,
        entries: u64,
        head: &[u8; 32],
    ) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        envelope.verify(DocumentKind::LogAnchor, organisation_keys)?;
        let anchor = Self::decode_payload(envelope.payload)?;
        if anchor.device != device || anchor.entries != entries || &anchor.head != head {
            return Err(Error::CountersignatureMismatch);
        }
        Ok(anchor)
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

    #[test]
    fn a_log_anchor_covers_one_device_s_head_and_is_not_a_receipt_s_countersignature() {
        let mut rng = SeededRandomness::new("log anchor");
        let org = SoftwareKey::generate(&mut rng);
        let device = SoftwareKey::generate(&mut rng).public_key().key_id();
        let keys = [org.public_key()];
        let anchor = LogAnchor {
            device,
            entries: 3,
            head: [4; 32],
            anchored_at: 1_800_000_000,
        };
        let encoded = anchor.to_sign(org.public_key()).sign_with(&org).unwrap();
        assert_eq!(
            LogAnchor::verify(&encoded, &keys, device, 3, &[4; 32]),
            Ok(anchor)
        );
        for (entries, head) in [(2, [4; 32]), (3, [5; 32])] {
            assert_eq!(
                LogAnchor::verify(&encoded, &keys, device, entries, &head),
                Err(Error::CountersignatureMismatch)
            );
        }
        let other = KeyId([0; KEY_ID_LEN]);
        assert_eq!(
            LogAnchor::verify(&encoded, &keys, other, 3, &[4; 32]),
            Err(Error::CountersignatureMismatch)
        );
        // Signed for another purpose, the same key's signature does not pass as an anchor.
        let receipt_countersignature = Countersignature::new([1; RECEIPT_ID_LEN], b"r", 1)
            .to_sign(org.public_key())
            .sign_with(&org)
            .unwrap();
        assert!(LogAnchor::verify(&receipt_countersignature, &keys, device, 3, &[4; 32]).is_err());
    }
}
