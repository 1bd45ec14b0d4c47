//! The device key outside the store: a phone's secure hardware (Android Keystore, the iOS
//! Secure Enclave) behind the same [`DeviceSigner`] seam the software key uses. With such a key
//! the store holds no private key at all, so a copy of the app's folder signs nothing.

use doorstep_core::{PublicKey, Signature};
use doorstep_sync::{DeviceSigner, SyncError};

/// The DER prefix of an X.509 SubjectPublicKeyInfo for a P-256 key with an uncompressed point
/// (id-ecPublicKey, prime256v1, a 66-byte BIT STRING): what Android Keystore exports.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A public key as a platform exports it: SubjectPublicKeyInfo (Android) or the bare
/// uncompressed point (iOS). Anything else is refused.
pub fn public_key_from_platform(bytes: &[u8]) -> Result<PublicKey, SyncError> {
    let point = bytes.strip_prefix(&P256_SPKI_PREFIX[..]).unwrap_or(bytes);
    if point.len() != 65 {
        return Err(SyncError::Signing(
            "the platform's public key is not a P-256 key".into(),
        ));
    }
    PublicKey::from_sec1(point)
        .map_err(|_| SyncError::Signing("the platform's public key is not a P-256 point".into()))
}

/// A signature as hardware makes it (DER, `s` possibly high), checked against the key before
/// it is used: a platform that signed with another key is caught here, not at the door.
pub fn signature_from_platform(
    key: &PublicKey,
    message: &[u8],
    der: &[u8],
) -> Result<Signature, SyncError> {
    let signature = Signature::from_hardware(der)
        .map_err(|_| SyncError::Signing("the platform's signature is unreadable".into()))?;
    if !key.verify(message, &signature) {
        return Err(SyncError::Signing(
            "the platform signed with another key".into(),
        ));
    }
    Ok(signature)
}

/// Where a device's signing key lives.
pub enum KeyHome {
    /// A software key sealed in the store, made on first start: desktops, the demo and tests.
    Store,
    /// A key held elsewhere (secure hardware on phones); the store keeps none.
    Signer(std::sync::Arc<dyn DeviceSigner>),
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::{SeededRandomness, SoftwareKey};

    #[test]
    fn platform_public_keys_in_both_forms_and_nothing_else() {
        let key = SoftwareKey::generate(&mut SeededRandomness::new("platform")).public_key();
        let point = key.to_uncompressed();
        assert_eq!(public_key_from_platform(&point).unwrap(), key);
        let spki = [&P256_SPKI_PREFIX[..], &point[..]].concat();
        assert_eq!(public_key_from_platform(&spki).unwrap(), key);
        assert!(
            public_key_from_platform(key.as_bytes()).is_err(),
            "compressed is not what platforms export"
        );
        assert!(public_key_from_platform(&spki[..90]).is_err());
        let mut off_curve = point;
        off_curve[64] ^= 1;
        assert!(public_key_from_platform(&off_curve).is_err());
    }

    #[test]
    fn a_platform_signature_is_normalised_and_must_verify() {
        let key = SoftwareKey::generate(&mut SeededRandomness::new("platform"));
        let der = p256_der(&key, b"message");
        let signature = signature_from_platform(&key.public_key(), b"message", &der).unwrap();
        assert!(key.public_key().verify(b"message", &signature));
        assert!(signature_from_platform(&key.public_key(), b"other", &der).is_err());
        assert!(signature_from_platform(&key.public_key(), b"message", b"\x30\x02").is_err());
    }

    /// A DER signature the way hardware returns it.
    fn p256_der(key: &SoftwareKey, message: &[u8]) -> Vec<u8> {
        let raw = key.sign(message);
        let (r, s) = raw.as_bytes().split_at(32);
        let int = |v: &[u8]| {
            let v: Vec<u8> = v.iter().copied().skip_while(|b| *b == 0).collect();
            let mut out = if v[0] & 0x80 != 0 { vec![0] } else { vec![] };
            out.extend(v);
            [vec![0x02, out.len() as u8], out].concat()
        };
        let body = [int(r), int(s)].concat();
        [vec![0x30, body.len() as u8], body].concat()
    }
}
