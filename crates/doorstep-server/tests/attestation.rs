//! Android key attestation chains, built the way Android Keystore builds them (a root, an
//! intermediate, and a leaf certifying the key with the KeyDescription extension), then checked
//! as an enrolment checks them; and each way a chain can lie, refused. A real device's chain is
//! not available on the machines this runs on: these are made here, with fixed keys.

use doorstep_core::PublicKey;
use doorstep_server::attestation::{AttestationError, SecurityLevel, verify_android_chain};
use p256::ecdsa::SigningKey;
use p256::ecdsa::signature::Signer;

const NOW: u64 = 1_800_000_000; // 2027-01-15

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match content.len() {
        n if n < 0x80 => out.push(n as u8),
        n if n < 0x100 => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
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
fn key_description(level: u8, challenge: &[u8]) -> Vec<u8> {
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

struct Cert<'a> {
    serial: u8,
    issuer: &'a str,
    subject: &'a str,
    key: &'a SigningKey,
    signer: &'a SigningKey,
    valid: (&'a str, &'a str),
    extension: Option<Vec<u8>>,
}

fn certificate(c: Cert) -> Vec<u8> {
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

struct Chain {
    root: Vec<u8>,
    chain: Vec<Vec<u8>>,
    device_key: PublicKey,
}

const CHALLENGE: &[u8] = b"this enrolment's challenge";

fn chain_with(level: u8, challenge: &[u8], leaf_signer: Option<&SigningKey>) -> Chain {
    let root_key = SigningKey::from_slice(&[1; 32]).unwrap();
    let intermediate_key = SigningKey::from_slice(&[2; 32]).unwrap();
    let device_key = SigningKey::from_slice(&[3; 32]).unwrap();
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
        key: &device_key,
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

#[test]
fn a_strongbox_key_attested_over_this_enrolment_verifies() {
    let c = chain_with(2, CHALLENGE, None);
    let verified = verify_android_chain(
        &c.chain,
        std::slice::from_ref(&c.root),
        &c.device_key,
        CHALLENGE,
        NOW,
    )
    .unwrap();
    assert_eq!(verified.security_level, SecurityLevel::StrongBox);
    assert_eq!(verified.attestation_version, 200);
    // Sent without its root, the chain still leads to the configured one.
    let verified = verify_android_chain(
        &c.chain[..2],
        std::slice::from_ref(&c.root),
        &c.device_key,
        CHALLENGE,
        NOW,
    )
    .unwrap();
    assert_eq!(verified.security_level, SecurityLevel::StrongBox);
    let tee = chain_with(1, CHALLENGE, None);
    assert_eq!(
        verify_android_chain(
            &tee.chain,
            std::slice::from_ref(&tee.root),
            &tee.device_key,
            CHALLENGE,
            NOW
        )
        .unwrap()
        .security_level,
        SecurityLevel::TrustedEnvironment
    );
}

#[test]
fn every_lie_in_a_chain_is_refused_with_its_reason() {
    let c = chain_with(2, CHALLENGE, None);
    let roots = [c.root.clone()];
    let check = |chain: &[Vec<u8>], roots: &[Vec<u8>], key: &PublicKey, challenge: &[u8], now| {
        verify_android_chain(chain, roots, key, challenge, now).unwrap_err()
    };
    // Another enrolment's attestation, replayed.
    assert_eq!(
        check(&c.chain, &roots, &c.device_key, b"another challenge", NOW),
        AttestationError::WrongChallenge
    );
    // A genuine chain for another key than the one enrolling.
    let other = SigningKey::from_slice(&[9; 32]).unwrap();
    let other =
        PublicKey::from_sec1(other.verifying_key().to_sec1_point(false).as_bytes()).unwrap();
    assert_eq!(
        check(&c.chain, &roots, &other, CHALLENGE, NOW),
        AttestationError::WrongKey
    );
    // A root nobody configured (a chain made by whoever wants one).
    let stranger = chain_with(2, CHALLENGE, None);
    let foreign_root = certificate(Cert {
        serial: 1,
        issuer: "Someone's root",
        subject: "Someone's root",
        key: &SigningKey::from_slice(&[8; 32]).unwrap(),
        signer: &SigningKey::from_slice(&[8; 32]).unwrap(),
        valid: ("260101000000Z", "460101000000Z"),
        extension: None,
    });
    assert_eq!(
        check(
            &stranger.chain,
            &[foreign_root],
            &c.device_key,
            CHALLENGE,
            NOW
        ),
        AttestationError::UntrustedRoot
    );
    assert_eq!(
        check(&c.chain, &[], &c.device_key, CHALLENGE, NOW),
        AttestationError::UntrustedRoot
    );
    // A leaf signed by a key that is not the intermediate's.
    let forged = chain_with(
        2,
        CHALLENGE,
        Some(&SigningKey::from_slice(&[7; 32]).unwrap()),
    );
    assert_eq!(
        check(&forged.chain, &roots, &forged.device_key, CHALLENGE, NOW),
        AttestationError::BadSignature(0)
    );
    // A key made in software.
    let software = chain_with(0, CHALLENGE, None);
    assert_eq!(
        check(
            &software.chain,
            &roots,
            &software.device_key,
            CHALLENGE,
            NOW
        ),
        AttestationError::SoftwareKey
    );
    // A flipped byte anywhere in the intermediate.
    let mut tampered = c.chain.clone();
    let n = tampered[1].len();
    tampered[1][n - 10] ^= 1;
    assert!(matches!(
        check(&tampered, &roots, &c.device_key, CHALLENGE, NOW),
        AttestationError::BadSignature(_) | AttestationError::Malformed(_)
    ));
    // The intermediate expired.
    assert_eq!(
        check(&c.chain, &roots, &c.device_key, CHALLENGE, 2_500_000_000),
        AttestationError::OutsideValidity(1)
    );
    // Nothing, too much, and garbage.
    assert_eq!(
        check(&[], &roots, &c.device_key, CHALLENGE, NOW),
        AttestationError::ChainLength
    );
    assert_eq!(
        check(
            &vec![c.chain[0].clone(); 7],
            &roots,
            &c.device_key,
            CHALLENGE,
            NOW
        ),
        AttestationError::ChainLength
    );
    assert_eq!(
        check(
            &[b"not a certificate".to_vec()],
            &roots,
            &c.device_key,
            CHALLENGE,
            NOW
        ),
        AttestationError::Malformed(0)
    );
}
