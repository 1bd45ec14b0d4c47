//! Request authentication by device keys.
//!
//! A device signs `["DS1 request", method, path, SHA-256(body), time, nonce, key id]` with its
//! enrolled key and sends it in one header:
//!
//! `Doorstep-Signature: v1 key=<key id hex> time=<unix seconds> nonce=<32 hex> sig=<128 hex>`
//!
//! The server looks the key up, refuses times outside a window around its clock, and checks the
//! signature before it says anything about the key (an unknown key reads as a bad signature; a
//! revoked one is named only to its holder). The caller then refuses nonces it has seen inside
//! the window (the back-office keeps them in its database, shared by every process). A recorded
//! request is useless after the window, and inside it the nonce makes it single-use. Signing is
//! sans-IO, so the key can stay in secure hardware.

use std::collections::BTreeMap;

use doorstep_core::cbor::Encoder;
use doorstep_core::{KeyId, PublicKey, Signature};
use sha2::{Digest, Sha256};

pub const HEADER: &str = "doorstep-signature";
/// How far a request's time may be from the server's clock, either way, in seconds.
pub const DEFAULT_WINDOW: u64 = 300;
pub const NONCE_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the request is not signed")]
    Missing,
    #[error("the request's signature header is malformed: {0}")]
    Malformed(&'static str),
    #[error("the signing device has been revoked")]
    RevokedDevice,
    #[error(
        "the request's time is {skew} seconds away from the server's clock; check the device's clock"
    )]
    Stale { skew: u64 },
    #[error("the request was already received (replay)")]
    Replayed,
    #[error("the request's signature is not valid")]
    BadSignature,
}

impl AuthError {
    pub fn kind(&self) -> &'static str {
        match self {
            AuthError::Missing => "unsigned_request",
            AuthError::Malformed(_) => "malformed_signature",
            AuthError::RevokedDevice => "revoked_device",
            AuthError::Stale { .. } => "stale_request",
            AuthError::Replayed => "replayed_request",
            AuthError::BadSignature => "bad_request_signature",
        }
    }
}

/// The parts of a request that are signed.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Path and query, exactly as sent.
    pub path: &'a str,
    pub body: &'a [u8],
}

fn signed_bytes(
    parts: &RequestParts<'_>,
    time: u64,
    nonce: &[u8; NONCE_LEN],
    key_id: KeyId,
) -> Vec<u8> {
    let body_digest: [u8; 32] = Sha256::digest(parts.body).into();
    let mut e = Encoder::new();
    e.array(7)
        .text("DS1 request")
        .text(&parts.method.to_ascii_uppercase())
        .text(parts.path)
        .bytes(&body_digest)
        .uint(time)
        .bytes(nonce)
        .bytes(&key_id.0);
    e.into_bytes()
}

/// A request waiting for the device key's signature.
#[derive(Debug, Clone)]
pub struct RequestToSign {
    key: PublicKey,
    time: u64,
    nonce: [u8; NONCE_LEN],
    bytes: Vec<u8>,
}

impl RequestToSign {
    /// `nonce` must be fresh random bytes from the caller.
    pub fn new(parts: RequestParts<'_>, key: PublicKey, time: u64, nonce: [u8; NONCE_LEN]) -> Self {
        let bytes = signed_bytes(&parts, time, &nonce, key.key_id());
        Self {
            key,
            time,
            nonce,
            bytes,
        }
    }

    pub fn bytes_to_sign(&self) -> &[u8] {
        &self.bytes
    }

    /// The header value, once the signature checks out against the device's key.
    pub fn finish(self, signature: Signature) -> Result<String, AuthError> {
        if !self.key.verify(&self.bytes, &signature) {
            return Err(AuthError::BadSignature);
        }
        Ok(format!(
            "v1 key={} time={} nonce={} sig={}",
            self.key.key_id(),
            self.time,
            hex::encode(self.nonce),
            hex::encode(signature.as_bytes())
        ))
    }
}

/// A parsed header whose signature is not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: KeyId,
    pub time: u64,
    pub nonce: [u8; NONCE_LEN],
    pub signature: Signature,
}

impl SignatureHeader {
    pub fn parse(value: &str) -> Result<Self, AuthError> {
        let mut fields = value.split_ascii_whitespace();
        if fields.next() != Some("v1") {
            return Err(AuthError::Malformed("unknown version"));
        }
        let mut found: BTreeMap<&str, &str> = BTreeMap::new();
        for field in fields {
            let (name, value) = field.split_once('=').ok_or(AuthError::Malformed("field"))?;
            if found.insert(name, value).is_some() {
                return Err(AuthError::Malformed("repeated field"));
            }
        }
        let get = |name| {
            found
                .get(name)
                .copied()
                .ok_or(AuthError::Malformed("missing field"))
        };
        let hex_array = |name, value: &str| -> Result<Vec<u8>, AuthError> {
            hex::decode(value).map_err(|_| AuthError::Malformed(name))
        };
        let key_id = hex_array("key", get("key")?)?
            .try_into()
            .map(KeyId)
            .map_err(|_| AuthError::Malformed("key"))?;
        let time = get("time")?
            .parse()
            .map_err(|_| AuthError::Malformed("time"))?;
        let nonce = hex_array("nonce", get("nonce")?)?
            .try_into()
            .map_err(|_| AuthError::Malformed("nonce"))?;
        let signature = Signature::from_wire(&hex_array("sig", get("sig")?)?)
            .map_err(|_| AuthError::Malformed("sig"))?;
        if found.len() != 4 {
            return Err(AuthError::Malformed("unknown field"));
        }
        Ok(Self {
            key_id,
            time,
            nonce,
            signature,
        })
    }
}

/// What the server knows of a device key. A revoked key is kept so that only a request it
/// signed learns that it is revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Active(PublicKey),
    Revoked(PublicKey),
}

/// A request whose signature checked out, by an active key; the caller must still refuse its
/// nonce if seen before [`Verified::expires`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub key: PublicKey,
    pub nonce: [u8; NONCE_LEN],
    /// Until when the request could be replayed: its time plus the window.
    pub expires: u64,
}

/// Checks a request's header; `lookup` finds the enrolled device by key id. The answer for an
/// unknown key is the answer for a bad signature, and a revoked key is reported only once its
/// signature verified, so the endpoint tells nobody which keys exist.
pub fn verify_request(
    header: Option<&str>,
    parts: RequestParts<'_>,
    lookup: impl FnOnce(KeyId) -> Option<DeviceStatus>,
    now: u64,
    window: u64,
) -> Result<Verified, AuthError> {
    let header = SignatureHeader::parse(header.ok_or(AuthError::Missing)?)?;
    let skew = now.abs_diff(header.time);
    if skew > window {
        return Err(AuthError::Stale { skew });
    }
    let status = lookup(header.key_id).ok_or(AuthError::BadSignature)?;
    let key = match status {
        DeviceStatus::Active(key) | DeviceStatus::Revoked(key) => key,
    };
    let bytes = signed_bytes(&parts, header.time, &header.nonce, header.key_id);
    if !key.verify(&bytes, &header.signature) {
        return Err(AuthError::BadSignature);
    }
    if let DeviceStatus::Revoked(_) = status {
        return Err(AuthError::RevokedDevice);
    }
    Ok(Verified {
        key,
        nonce: header.nonce,
        expires: header.time.saturating_add(window),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::{SeededRandomness, SoftwareKey};

    const NOW: u64 = 1_800_000_000;

    fn device() -> SoftwareKey {
        SoftwareKey::generate(&mut SeededRandomness::new("device"))
    }

    fn parts(body: &[u8]) -> RequestParts<'_> {
        RequestParts {
            method: "POST",
            path: "/v1/results",
            body,
        }
    }

    fn sign(key: &SoftwareKey, parts: RequestParts<'_>, time: u64, nonce: u8) -> String {
        let req = RequestToSign::new(parts, key.public_key(), time, [nonce; 16]);
        let sig = key.sign(req.bytes_to_sign());
        req.finish(sig).unwrap()
    }

    fn check(
        header: Option<&str>,
        parts: RequestParts<'_>,
        status: Option<DeviceStatus>,
        now: u64,
    ) -> Result<PublicKey, AuthError> {
        verify_request(header, parts, |_| status, now, DEFAULT_WINDOW).map(|v| v.key)
    }

    #[test]
    fn a_signed_request_verifies_and_names_its_nonce_and_how_long_it_could_be_replayed() {
        let key = device();
        let active = Some(DeviceStatus::Active(key.public_key()));
        let header = sign(&key, parts(b"batch"), NOW, 1);
        let verified = verify_request(
            Some(&header),
            parts(b"batch"),
            |_| active,
            NOW + 10,
            DEFAULT_WINDOW,
        )
        .unwrap();
        assert_eq!(verified.key, key.public_key());
        assert_eq!(verified.nonce, [1; 16]);
        assert_eq!(verified.expires, NOW + DEFAULT_WINDOW);
    }

    #[test]
    fn every_signed_part_is_bound() {
        let key = device();
        let active = Some(DeviceStatus::Active(key.public_key()));
        let header = sign(&key, parts(b"batch"), NOW, 2);
        for other in [
            RequestParts {
                method: "PUT",
                ..parts(b"batch")
            },
            RequestParts {
                path: "/v1/other",
                ..parts(b"batch")
            },
            parts(b"batcH"),
        ] {
            assert_eq!(
                check(Some(&header), other, active, NOW),
                Err(AuthError::BadSignature)
            );
        }
    }

    #[test]
    fn stale_unknown_revoked_and_unsigned_requests_are_refused() {
        let key = device();
        let active = Some(DeviceStatus::Active(key.public_key()));
        let old = sign(&key, parts(b""), NOW - 301, 3);
        assert_eq!(
            check(Some(&old), parts(b""), active, NOW),
            Err(AuthError::Stale { skew: 301 })
        );
        let header = sign(&key, parts(b""), NOW, 4);
        assert_eq!(
            check(Some(&header), parts(b""), None, NOW),
            Err(AuthError::BadSignature),
            "an unknown key reads as a bad signature"
        );
        let revoked = Some(DeviceStatus::Revoked(key.public_key()));
        assert_eq!(
            check(Some(&header), parts(b""), revoked, NOW),
            Err(AuthError::RevokedDevice)
        );
        assert_eq!(
            check(None, parts(b""), active, NOW),
            Err(AuthError::Missing)
        );
    }

    #[test]
    fn a_revoked_key_is_named_only_to_whoever_holds_it() {
        let key = device();
        let other = SoftwareKey::generate(&mut SeededRandomness::new("other"));
        // Someone else's signature under the revoked device's key id.
        let forged = sign(&other, parts(b""), NOW, 5).replace(
            &other.public_key().key_id().to_string(),
            &key.public_key().key_id().to_string(),
        );
        let revoked = Some(DeviceStatus::Revoked(key.public_key()));
        assert_eq!(
            check(Some(&forged), parts(b""), revoked, NOW),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn another_devices_key_does_not_verify() {
        let key = device();
        let other = SoftwareKey::generate(&mut SeededRandomness::new("other"));
        let header = sign(&key, parts(b""), NOW, 5);
        assert_eq!(
            check(
                Some(&header),
                parts(b""),
                Some(DeviceStatus::Active(other.public_key())),
                NOW
            ),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        for h in [
            "",
            "v2 key=00",
            "v1",
            "v1 key=zz time=1 nonce=00 sig=00",
            "v1 key=0011223344556677 time=x nonce=00 sig=00",
            "v1 key=0011223344556677 time=1 nonce=00 sig=00",
            "v1 key=0011223344556677 key=0011223344556677",
            "v1 nokey",
        ] {
            assert!(
                matches!(SignatureHeader::parse(h), Err(AuthError::Malformed(_))),
                "{h}"
            );
        }
    }

    #[test]
    fn a_hardware_signature_from_the_wrong_key_is_caught_on_the_device() {
        let key = device();
        let other = SoftwareKey::generate(&mut SeededRandomness::new("other"));
        let req = RequestToSign::new(parts(b""), key.public_key(), NOW, [0; 16]);
        let sig = other.sign(req.bytes_to_sign());
        assert_eq!(req.finish(sig), Err(AuthError::BadSignature));
    }
}
