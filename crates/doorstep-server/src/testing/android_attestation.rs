//! Android key attestation chains built the way Android Keystore builds them: a root, an
//! intermediate, and a leaf certifying the device key with the KeyDescription extension, all
//! with fixed keys. For tests and the demo: a real device's chain is not available here.

use doorstep_core::PublicKey;
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn oid(encoded: &[u8]) -> Vec<u8> {
    tlv(0x06, encoded)
}

const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const KEY_DESCRIPTION: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x01, 0x11];
const COMMON_NAME: &[u8] = &[0x55, 0x04, 0x03];
const SPKI_P256_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

fn name(cn: &str) -> Vec<u8> {
    seq(&[tlv(
        0x31,
        &seq(&[oid(COMMON_NAME), tlv(0x0c, cn.as_bytes())]),
    )])
}

fn spki(key: &SigningKey) -> Vec<u8> {
    [
        &SPKI_P256_PREFIX[..],
        key.verifying_key().to_sec1_point(false).as_bytes(),
    ]
    .concat()
}

/// KeyDescription: version, security level, KeyMint version and level, challenge, unique id,
/// and the two (here empty) authorization lists.
pub fn key_description(level: u8, challenge: &[u8]) -> Vec<u8> {
    seq(&[
        tlv(0x02, &[0x00, 200]),
        tlv(0x0a, &[level]),
        tlv(0x02, &[0x00, 200]),
        tlv(0x0a, &[level]),
        tlv(0x04, challenge),
        tlv(0x04, &[]),
        seq(&[]),
        seq(&[]),
    ])
}

pub struct Cert<'a> {
    pub serial: u8,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub key: &'a SigningKey,
    pub signer: &'a SigningKey,
    pub valid: (&'a str, &'a str),
    pub extension: Option<Vec<u8>>,
}

pub fn certificate(c: Cert) -> Vec<u8> {
    let algorithm = seq(&[oid(ECDSA_SHA256)]);
    let mut tbs = vec![
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &[c.serial]),
        algorithm.clone(),
        name(c.issuer),
        seq(&[
            tlv(0x17, c.valid.0.as_bytes()),
            tlv(0x17, c.valid.1.as_bytes()),
        ]),
        name(c.subject),
        spki(c.key),
    ];
    if let Some(value) = c.extension {
        tbs.push(tlv(
            0xa3,
            &seq(&[seq(&[oid(KEY_DESCRIPTION), tlv(0x04, &value)])]),
        ));
    }
    let tbs = seq(&tbs);
    let signature: p256::ecdsa::Signature = c.signer.sign(&tbs);
    let bits = [&[0u8][..], signature.to_der().as_bytes()].concat();
    seq(&[tbs, algorithm, tlv(0x03, &bits)])
}

pub struct Chain {
    pub root: Vec<u8>,
    pub chain: Vec<Vec<u8>>,
    pub device_key: PublicKey,
}

pub const CHALLENGE: &[u8] = b"this enrolment's challenge";

/// A chain for `device_key` (the fixed key 3 when `None`) at security `level` (0 software,
/// 1 TEE, 2 StrongBox) over `challenge`, its leaf signed by `leaf_signer` instead of the
/// intermediate if given.
pub fn chain_with(level: u8, challenge: &[u8], leaf_signer: Option<&SigningKey>) -> Chain {
    chain_for(
        &SigningKey::from_slice(&[3; 32]).unwrap(),
        level,
        challenge,
        leaf_signer,
    )
}

pub fn chain_for(
    device_key: &SigningKey,
    level: u8,
    challenge: &[u8],
    leaf_signer: Option<&SigningKey>,
) -> Chain {
    let root_key = SigningKey::from_slice(&[1; 32]).unwrap();
    let intermediate_key = SigningKey::from_slice(&[2; 32]).unwrap();
    let years = ("260101000000Z", "460101000000Z");
    let root = certificate(Cert {
        serial: 1,
        issuer: "Test attestation root",
        subject: "Test attestation root",
        key: &root_key,
        signer: &root_key,
        valid: years,
        extension: None,
    });
    let intermediate = certificate(Cert {
        serial: 2,
        issuer: "Test attestation root",
        subject: "Test attestation intermediate",
        key: &intermediate_key,
        signer: &root_key,
        valid: years,
        extension: None,
    });
    let leaf = certificate(Cert {
        serial: 3,
        issuer: "Test attestation intermediate",
        subject: "Android Keystore Key",
        key: device_key,
        signer: leaf_signer.unwrap_or(&intermediate_key),
        valid: ("700101000000Z", "480101000000Z"),
        extension: Some(key_description(level, challenge)),
    });
    Chain {
        root: root.clone(),
        chain: vec![leaf, intermediate, root],
        device_key: PublicKey::from_sec1(
            device_key.verifying_key().to_sec1_point(false).as_bytes(),
        )
        .unwrap(),
    }
}
