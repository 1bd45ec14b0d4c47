//! The back-office's ECDSA P-256, from one of two implementations: RustCrypto's `p256` (what the
//! devices and the protocol core use) or AWS-LC (`aws-lc-rs`). Ingest is dominated by checking
//! receipt signatures and countersigning; `cargo bench -p doorstep-server --bench ingest`
//! measures both, and the faster is the default.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, ParsedPublicKey,
};
use doorstep_core::{PublicKey, Signature, SoftwareKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Crypto {
    /// RustCrypto `p256`, pure Rust.
    P256,
    /// AWS-LC through `aws-lc-rs`; about five times faster here (docs/benchmarks.md).
    #[default]
    AwsLc,
}

impl Crypto {
    pub fn name(self) -> &'static str {
        match self {
            Crypto::P256 => "p256",
            Crypto::AwsLc => "aws-lc-rs",
        }
    }

    pub fn verify(self, key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
        self.verifier(key).verify(message, signature)
    }

    /// A verifier for one key, prepared once for the many signatures of a batch.
    pub fn verifier(self, key: &PublicKey) -> Verifier {
        match self {
            Crypto::P256 => Verifier::P256(*key),
            // Parsed once by AWS-LC, which recovers y from the compressed key itself, so the
            // many signatures of a batch skip decoding the point again. A key that is a
            // `PublicKey` is a valid point; were it refused, nothing verifies under it.
            Crypto::AwsLc => {
                Verifier::AwsLc(ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.as_bytes()).ok())
            }
        }
    }
}

pub enum Verifier {
    P256(PublicKey),
    AwsLc(Option<ParsedPublicKey>),
}

impl Verifier {
    pub fn verify(&self, message: &[u8], signature: &Signature) -> bool {
        match self {
            Verifier::P256(key) => key.verify(message, signature),
            Verifier::AwsLc(key) => key
                .as_ref()
                .is_some_and(|k| k.verify_sig(message, signature.as_bytes()).is_ok()),
        }
    }
}

/// A private key ready to sign with the chosen implementation.
pub(crate) enum SigningKey {
    P256(SoftwareKey),
    AwsLc(EcdsaKeyPair),
}

impl SigningKey {
    pub(crate) fn new(crypto: Crypto, key: &SoftwareKey, public: &PublicKey) -> Option<Self> {
        Some(match crypto {
            Crypto::P256 => SigningKey::P256(key.clone()),
            Crypto::AwsLc => SigningKey::AwsLc(
                EcdsaKeyPair::from_private_key_and_public_key(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &key.to_bytes(),
                    &public.to_uncompressed(),
                )
                .ok()?,
            ),
        })
    }

    pub(crate) fn sign(&self, message: &[u8]) -> Option<Signature> {
        match self {
            SigningKey::P256(key) => Some(key.sign(message)),
            SigningKey::AwsLc(pair) => {
                let signature = pair.sign(&SystemRandom::new(), message).ok()?;
                // AWS-LC may return a high s; the wire wants the low one.
                Signature::from_hardware(signature.as_ref()).ok()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::SeededRandomness;

    #[test]
    fn both_implementations_agree_on_what_verifies() {
        let other = SoftwareKey::generate(&mut SeededRandomness::new("other")).public_key();
        // Keys whose compressed form starts 02 and 03 (an even and an odd y) both verify.
        let mut prefixes = std::collections::HashSet::new();
        for seed in 0..8 {
            let key = SoftwareKey::generate(&mut SeededRandomness::new(&format!("crypto {seed}")));
            prefixes.insert(key.public_key().as_bytes()[0]);
            agree_for(&key, &other);
        }
        assert_eq!(prefixes.len(), 2);
    }

    fn agree_for(key: &SoftwareKey, other: &PublicKey) {
        let public = key.public_key();
        for signer in [Crypto::P256, Crypto::AwsLc] {
            let signing = SigningKey::new(signer, key, &public).unwrap();
            for n in 0..5u8 {
                let message = [n; 40];
                let sig = signing.sign(&message).unwrap();
                // Every signature is low-s, as the wire requires.
                assert_eq!(Signature::from_wire(sig.as_bytes()), Ok(sig));
                for checker in [Crypto::P256, Crypto::AwsLc] {
                    assert!(checker.verify(&public, &message, &sig));
                    assert!(!checker.verify(&public, &[n; 41], &sig));
                    assert!(!checker.verify(other, &message, &sig));
                }
            }
        }
    }
}
