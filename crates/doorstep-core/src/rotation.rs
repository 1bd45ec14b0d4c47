//! Organisation key rotation. A device learns a new organisation key only from a rotation
//! document signed by a key it already trusts (at first, the pinned one): nothing a server
//! merely says adds a key. The signing key names itself as the key it replaces and when it
//! stops being trusted; the overlap (at least [`MIN_OVERLAP`]) lets tickets and notices signed
//! just before the rotation stay good while every phone syncs.
//!
//! ```cddl
//! rotation = {
//!   1: uint,            ; issued at, Unix seconds
//!   2: bstr .size 33,   ; the new organisation key
//!   3: bstr .size 8,    ; the key id it replaces: the signer's own
//!   4: uint,            ; when the replaced key stops being trusted
//! }
//! ```

use alloc::vec::Vec;

use crate::cbor::{CborError, Decoder, MapBuilder, fixed};
use crate::error::Error;
use crate::keys::{KEY_ID_LEN, KeyId, PUBLIC_KEY_LEN, PublicKey};
use crate::signed::{DocumentKind, DocumentToSign, Envelope};

/// The shortest overlap a rotation may give: a day, as long as a phone may go without syncing.
pub const MIN_OVERLAP: u64 = 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRotation {
    pub issued_at: u64,
    pub new_key: PublicKey,
    pub replaces: KeyId,
    pub retire_at: u64,
}

impl KeyRotation {
    fn encode_payload(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.uint(self.issued_at);
        })
        .entry(2, |e| {
            e.bytes(self.new_key.as_bytes());
        })
        .entry(3, |e| {
            e.bytes(&self.replaces.0);
        })
        .entry(4, |e| {
            e.uint(self.retire_at);
        });
        m.finish()
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let issued_at = m.required(1)?.uint()?;
        let new_key =
            PublicKey::from_compressed(&fixed::<PUBLIC_KEY_LEN>(m.required(2)?.bytes()?, 2)?)
                .map_err(|_| CborError::BadLength { field: 2 })?;
        let replaces = KeyId(fixed::<KEY_ID_LEN>(m.required(3)?.bytes()?, 3)?);
        let retire_at = m.required(4)?.uint()?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            issued_at,
            new_key,
            replaces,
            retire_at,
        })
    }

    /// To be signed by the key being replaced.
    pub fn to_sign(&self, replaced_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(DocumentKind::Rotation, replaced_key, self.encode_payload())
    }

    /// The rotation, if a key in `trusted` signed it, it replaces that very key, and its
    /// overlap is long enough.
    pub fn verify(encoded: &[u8], trusted: &[PublicKey]) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        let signer = envelope.verify(DocumentKind::Rotation, trusted)?;
        let rotation = Self::decode_payload(envelope.payload)?;
        if rotation.replaces != signer.key_id()
            || rotation.retire_at < rotation.issued_at.saturating_add(MIN_OVERLAP)
            || rotation.new_key == signer
        {
            return Err(Error::BadRotation);
        }
        Ok(rotation)
    }

    /// Applies the rotations (oldest first) to the keys a device trusts at `now`: each new key
    /// joins once a trusted key vouched for it, and each replaced key leaves when its time has
    /// come. A rotation already applied whose signer has since left is passed over.
    pub fn apply_all(
        encoded: &[Vec<u8>],
        trusted: &mut Vec<PublicKey>,
        now: u64,
    ) -> Result<(), Error> {
        for doc in encoded {
            let rotation = match Self::verify(doc, trusted) {
                Ok(r) => r,
                Err(Error::UnknownOrganisationKey { .. })
                    if Self::already_applied(doc, trusted) =>
                {
                    continue;
                }
                Err(e) => return Err(e),
            };
            if !trusted.contains(&rotation.new_key) {
                trusted.push(rotation.new_key);
            }
            if now >= rotation.retire_at {
                trusted.retain(|k| k.key_id() != rotation.replaces);
            }
        }
        Ok(())
    }

    /// Its new key is trusted and the key it replaces is gone: nothing left to do.
    fn already_applied(encoded: &[u8], trusted: &[PublicKey]) -> bool {
        let Ok(envelope) = Envelope::decode_all(encoded) else {
            return false;
        };
        Self::decode_payload(envelope.payload).is_ok_and(|r| {
            trusted.contains(&r.new_key) && !trusted.iter().any(|k| k.key_id() == r.replaces)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{SeededRandomness, SoftwareKey};

    fn key(label: &str) -> SoftwareKey {
        SoftwareKey::generate(&mut SeededRandomness::new(label))
    }

    fn rotation(by: &SoftwareKey, to: &SoftwareKey, issued_at: u64, overlap: u64) -> Vec<u8> {
        KeyRotation {
            issued_at,
            new_key: to.public_key(),
            replaces: by.public_key().key_id(),
            retire_at: issued_at + overlap,
        }
        .to_sign(by.public_key())
        .sign_with(by)
        .unwrap()
    }

    #[test]
    fn a_trusted_key_hands_over_to_a_new_one_which_alone_remains_after_the_overlap() {
        let (old, new, newer) = (key("old"), key("new"), key("newer"));
        let docs = vec![
            rotation(&old, &new, 1000, MIN_OVERLAP),
            rotation(&new, &newer, 1000 + MIN_OVERLAP + 10, 2 * MIN_OVERLAP),
        ];
        let mut trusted = vec![old.public_key()];
        KeyRotation::apply_all(&docs[..1], &mut trusted, 1000).unwrap();
        assert_eq!(trusted, [old.public_key(), new.public_key()], "overlap");
        KeyRotation::apply_all(&docs, &mut trusted, 1000 + MIN_OVERLAP + 20).unwrap();
        assert_eq!(trusted, [new.public_key(), newer.public_key()]);
        // Applying again changes nothing, though the first signer is gone.
        KeyRotation::apply_all(&docs, &mut trusted, 1000 + MIN_OVERLAP + 30).unwrap();
        assert_eq!(trusted, [new.public_key(), newer.public_key()]);
    }

    #[test]
    fn a_rotation_from_an_untrusted_key_or_without_overlap_adds_nothing() {
        let (old, mallory, new) = (key("old"), key("mallory"), key("new"));
        let mut trusted = vec![old.public_key()];
        let forged = rotation(&mallory, &mallory, 1000, MIN_OVERLAP);
        let forged_for_new = rotation(&mallory, &new, 1000, MIN_OVERLAP);
        for doc in [forged, forged_for_new] {
            assert!(matches!(
                KeyRotation::apply_all(&[doc], &mut trusted, 1000),
                Err(Error::UnknownOrganisationKey { .. })
            ));
        }
        let hasty = rotation(&old, &new, 1000, MIN_OVERLAP - 1);
        assert_eq!(
            KeyRotation::apply_all(&[hasty], &mut trusted, 1000),
            Err(Error::BadRotation)
        );
        // Signed by the old key but naming another key as the one replaced.
        let other = KeyRotation {
            issued_at: 1000,
            new_key: new.public_key(),
            replaces: mallory.public_key().key_id(),
            retire_at: 1000 + MIN_OVERLAP,
        }
        .to_sign(old.public_key())
        .sign_with(&old)
        .unwrap();
        assert_eq!(
            KeyRotation::verify(&other, &trusted),
            Err(Error::BadRotation)
        );
        let mut tampered = rotation(&old, &new, 1000, MIN_OVERLAP);
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(KeyRotation::verify(&tampered, &trusted).is_err());
        assert_eq!(trusted, [old.public_key()]);
    }
}
