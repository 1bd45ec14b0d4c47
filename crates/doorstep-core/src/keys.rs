//! P-256 keys, key ids, signatures and the randomness the caller supplies.
//!
//! The core never holds a device's long-term private key: anything a device signs is handed out
//! as bytes (see [`crate::signing`]) so the key can stay in Android Keystore or the Secure
//! Enclave. [`SoftwareKey`] exists for the back-office, the command-line tool and tests.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature as EcdsaSignature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Length of a key id: the first bytes of SHA-256 over the compressed public key.
pub const KEY_ID_LEN: usize = 8;
pub const PUBLIC_KEY_LEN: usize = 33;
pub const SIGNATURE_LEN: usize = 64;

/// Randomness supplied by the caller: the core has no random source of its own, which keeps it
/// deterministic under test and portable to any platform.
pub trait Randomness {
    fn fill_bytes(&mut self, dest: &mut [u8]);
}

/// A deterministic byte stream (SHA-256 in counter mode) for test vectors and reproducible
/// demos. It is predictable by design: never use it for real sessions.
#[derive(Clone, Debug)]
pub struct SeededRandomness {
    seed: [u8; 32],
    counter: u64,
}

impl SeededRandomness {
    pub fn new(label: &str) -> Self {
        Self {
            seed: Sha256::digest(label.as_bytes()).into(),
            counter: 0,
        }
    }
}

impl Randomness for SeededRandomness {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_be_bytes());
            self.counter += 1;
            let block = h.finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct KeyId(pub [u8; KEY_ID_LEN]);

impl core::fmt::Debug for KeyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl core::fmt::Display for KeyId {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// A P-256 public key, kept in its 33-byte compressed SEC1 form (the form on the wire).
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "alloc::vec::Vec<u8>", into = "alloc::vec::Vec<u8>")]
pub struct PublicKey {
    compressed: [u8; PUBLIC_KEY_LEN],
}

impl core::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "PublicKey({})", self.key_id())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidKey;

impl core::fmt::Display for InvalidKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("not a valid P-256 key")
    }
}

impl PublicKey {
    /// Accepts compressed (33-byte) or uncompressed (65-byte) SEC1, as secure hardware exports
    /// the latter. Other SEC1 forms (compact, hybrid) are refused: they would give one key two
    /// encodings.
    pub fn from_sec1(bytes: &[u8]) -> Result<Self, InvalidKey> {
        match (bytes.len(), bytes.first()) {
            (PUBLIC_KEY_LEN, Some(0x02 | 0x03)) | (65, Some(0x04)) => {}
            _ => return Err(InvalidKey),
        }
        let key = VerifyingKey::from_sec1_bytes(bytes).map_err(|_| InvalidKey)?;
        Ok(Self::from_verifying_key(&key))
    }

    fn from_verifying_key(key: &VerifyingKey) -> Self {
        let point = key.to_sec1_point(true);
        let mut compressed = [0u8; PUBLIC_KEY_LEN];
        compressed.copy_from_slice(point.as_bytes());
        Self { compressed }
    }

    pub fn as_bytes(&self) -> &[u8; PUBLIC_KEY_LEN] {
        &self.compressed
    }

    /// The 65-byte SEC1 form other libraries import.
    pub fn to_uncompressed(&self) -> [u8; 65] {
        let mut out = [0u8; 65];
        out.copy_from_slice(self.verifying_key().to_sec1_point(false).as_bytes());
        out
    }

    pub fn key_id(&self) -> KeyId {
        let digest = Sha256::digest(self.compressed);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&digest[..KEY_ID_LEN]);
        KeyId(id)
    }

    /// The wire form: compressed only, so each key has exactly one encoding.
    pub fn from_compressed(bytes: &[u8]) -> Result<Self, InvalidKey> {
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(InvalidKey);
        }
        Self::from_sec1(bytes)
    }

    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        // The bytes were validated on construction.
        VerifyingKey::from_sec1_bytes(&self.compressed).expect("validated public key")
    }

    pub(crate) fn ecdh_key(&self) -> p256::PublicKey {
        p256::PublicKey::from_sec1_bytes(&self.compressed).expect("validated public key")
    }

    /// ECDSA-SHA256 verification of `message`.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        let Ok(sig) = EcdsaSignature::from_slice(&signature.0) else {
            return false;
        };
        self.verifying_key().verify(message, &sig).is_ok()
    }
}

impl TryFrom<alloc::vec::Vec<u8>> for PublicKey {
    type Error = InvalidKey;
    fn try_from(value: alloc::vec::Vec<u8>) -> Result<Self, InvalidKey> {
        Self::from_compressed(&value)
    }
}

impl From<PublicKey> for alloc::vec::Vec<u8> {
    fn from(value: PublicKey) -> Self {
        value.compressed.to_vec()
    }
}

/// An ECDSA P-256 signature as r‖s (64 bytes) with s in the lower half of the order, so each
/// signature has one encoding and transcripts hash identically on both sides.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "alloc::vec::Vec<u8>", into = "alloc::vec::Vec<u8>")]
pub struct Signature(pub(crate) [u8; SIGNATURE_LEN]);

impl core::fmt::Debug for Signature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Signature(..)")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidSignatureEncoding;

impl core::fmt::Display for InvalidSignatureEncoding {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("not a valid low-s P-256 signature")
    }
}

impl Signature {
    /// Parses r‖s or ASN.1 DER (what Android Keystore and the Secure Enclave return), and
    /// normalises s to the low half.
    pub fn from_hardware(bytes: &[u8]) -> Result<Self, InvalidSignatureEncoding> {
        let sig = if bytes.len() == SIGNATURE_LEN {
            EcdsaSignature::from_slice(bytes)
        } else {
            EcdsaSignature::from_der(bytes)
        }
        .map_err(|_| InvalidSignatureEncoding)?;
        Ok(Self::from_ecdsa(sig.normalize_s()))
    }

    /// Parses the wire form, which must already be low-s.
    pub fn from_wire(bytes: &[u8]) -> Result<Self, InvalidSignatureEncoding> {
        let sig = EcdsaSignature::from_slice(bytes).map_err(|_| InvalidSignatureEncoding)?;
        if sig.normalize_s() != sig {
            return Err(InvalidSignatureEncoding);
        }
        Ok(Self::from_ecdsa(sig))
    }

    fn from_ecdsa(sig: EcdsaSignature) -> Self {
        let mut out = [0u8; SIGNATURE_LEN];
        out.copy_from_slice(&sig.to_bytes());
        Self(out)
    }

    pub fn as_bytes(&self) -> &[u8; SIGNATURE_LEN] {
        &self.0
    }
}

impl TryFrom<alloc::vec::Vec<u8>> for Signature {
    type Error = InvalidSignatureEncoding;
    fn try_from(value: alloc::vec::Vec<u8>) -> Result<Self, Self::Error> {
        Self::from_wire(&value)
    }
}

impl From<Signature> for alloc::vec::Vec<u8> {
    fn from(value: Signature) -> Self {
        value.0.to_vec()
    }
}

/// A private key held in memory: the organisation's signing key on the back-office, and keys in
/// tests and demos. Devices use secure hardware through [`crate::signing`] instead.
#[derive(Clone)]
pub struct SoftwareKey {
    key: SigningKey,
}

impl core::fmt::Debug for SoftwareKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SoftwareKey({})", self.public_key().key_id())
    }
}

impl SoftwareKey {
    pub fn generate(rng: &mut impl Randomness) -> Self {
        loop {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            // Fails only for zero or values ≥ the group order (probability ~2^-32).
            if let Ok(key) = SigningKey::from_slice(&bytes) {
                return Self { key };
            }
        }
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, InvalidKey> {
        SigningKey::from_slice(bytes)
            .map(|key| Self { key })
            .map_err(|_| InvalidKey)
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_verifying_key(self.key.verifying_key())
    }

    /// Deterministic ECDSA (RFC 6979) over SHA-256 of `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        let sig: EcdsaSignature = self.key.sign(message);
        Signature::from_ecdsa(sig.normalize_s())
    }
}

/// An ephemeral ECDH key for one handshake. It is serialisable because a session must survive
/// the app being killed at the door; stores encrypt session state at rest.
#[derive(Clone, Serialize, Deserialize)]
pub struct EphemeralKey {
    secret: [u8; 32],
    /// Derived from `secret` once; a scalar multiplication is the costliest step of a leg.
    public: PublicKey,
}

impl core::fmt::Debug for EphemeralKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EphemeralKey({:?})", self.public)
    }
}

impl EphemeralKey {
    pub fn generate(rng: &mut impl Randomness) -> Self {
        loop {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            if let Ok(key) = p256::SecretKey::from_slice(&secret) {
                let public = PublicKey::from_sec1(&key.public_key().to_sec1_bytes())
                    .expect("a derived point is valid");
                return Self { secret, public };
            }
        }
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    /// The x-coordinate of the shared point.
    pub fn shared_secret(&self, peer: &PublicKey) -> [u8; 32] {
        let secret = p256::SecretKey::from_slice(&self.secret).expect("validated on creation");
        let shared =
            p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.ecdh_key().as_affine());
        (*shared.raw_secret_bytes()).into()
    }
}

pub fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sign_and_verify() {
        let mut rng = SeededRandomness::new("keys");
        let key = SoftwareKey::generate(&mut rng);
        let sig = key.sign(b"hello");
        assert!(key.public_key().verify(b"hello", &sig));
        assert!(!key.public_key().verify(b"hellO", &sig));
    }

    #[test]
    fn high_s_signatures_are_normalised_from_hardware_and_refused_on_the_wire() {
        let mut rng = SeededRandomness::new("high-s");
        let key = SoftwareKey::generate(&mut rng);
        let low = EcdsaSignature::from_slice(key.sign(b"m").as_bytes()).unwrap();
        let (r, s) = low.split_scalars();
        let high = EcdsaSignature::from_scalars(r, -*s).unwrap();
        let high_bytes = high.to_bytes();
        assert!(Signature::from_wire(&high_bytes).is_err());
        let fixed = Signature::from_hardware(&high_bytes).unwrap();
        assert_eq!(fixed.as_bytes()[..], low.to_bytes()[..]);
        let der = high.to_der();
        assert_eq!(Signature::from_hardware(der.as_bytes()).unwrap(), fixed);
    }

    #[test]
    fn ecdh_agrees() {
        let mut rng = SeededRandomness::new("ecdh");
        let a = EphemeralKey::generate(&mut rng);
        let b = EphemeralKey::generate(&mut rng);
        assert_eq!(
            a.shared_secret(&b.public_key()),
            b.shared_secret(&a.public_key())
        );
    }

    #[test]
    fn only_compressed_keys_travel_on_the_wire() {
        let mut rng = SeededRandomness::new("wire");
        let key = SoftwareKey::generate(&mut rng);
        let compressed = *key.public_key().as_bytes();
        assert!(PublicKey::from_compressed(&compressed).is_ok());
        let uncompressed = key.key.verifying_key().to_sec1_point(false);
        assert!(PublicKey::from_compressed(uncompressed.as_bytes()).is_err());
        let mut compact = compressed;
        compact[0] = 0x05;
        assert_eq!(PublicKey::from_sec1(&compact), Err(InvalidKey));
    }

    #[test]
    fn uncompressed_keys_are_accepted() {
        let mut rng = SeededRandomness::new("sec1");
        let key = SoftwareKey::generate(&mut rng);
        let uncompressed = key.key.verifying_key().to_sec1_point(false);
        let parsed = PublicKey::from_sec1(uncompressed.as_bytes()).unwrap();
        assert_eq!(parsed, key.public_key());
    }
}
