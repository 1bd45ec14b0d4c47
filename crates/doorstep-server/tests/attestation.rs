//! Android key attestation chains checked as an enrolment checks them: one recorded from a
//! phone (`recorded/`), and chains built the way Android Keystore builds them
//! (`testing::android_attestation`) for this enrolment's own challenge; each way a chain can
//! lie, refused.

use doorstep_core::PublicKey;
use doorstep_server::attestation::{AttestationError, SecurityLevel, verify_android_chain};
use doorstep_server::testing::android_attestation::{CHALLENGE, Cert, certificate, chain_with};
use p256::ecdsa::SigningKey;

const NOW: u64 = 1_800_000_000; // 2027-01-15

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

/// A chain a phone's KeyMint 2 TEE made (remotely provisioned intermediates, February 2023),
/// ending at Google's hardware attestation root, attested over the bytes `challenge`.
const RECORDED_CHAIN: &str = include_str!("recorded/android_tee_chain.pem");
/// 2023-03-01, inside the short-lived intermediates' validity.
const RECORDED_AT: u64 = 1_677_628_800;

fn recorded() -> (Vec<Vec<u8>>, PublicKey) {
    use x509_cert::der::Decode as _;
    let chain = doorstep_server::attestation::certificates_from_pem(RECORDED_CHAIN).unwrap();
    let leaf = x509_cert::Certificate::from_der(&chain[0]).unwrap();
    let point = leaf
        .tbs_certificate()
        .subject_public_key_info()
        .subject_public_key
        .raw_bytes()
        .to_vec();
    (chain, PublicKey::from_sec1(&point).unwrap())
}

#[test]
fn a_chain_recorded_from_a_phone_verifies_against_google_s_root_and_nothing_else() {
    let (chain, key) = recorded();
    assert_eq!(chain.len(), 5);
    let google_root = chain[4].clone();
    let verified = verify_android_chain(
        &chain,
        std::slice::from_ref(&google_root),
        &key,
        b"challenge",
        RECORDED_AT,
    )
    .unwrap();
    assert_eq!(verified.security_level, SecurityLevel::TrustedEnvironment);
    assert_eq!(verified.attestation_version, 200);
    // As phones send it, without the root: still leads to the configured root.
    let sent = &chain[..4];
    verify_android_chain(
        sent,
        std::slice::from_ref(&google_root),
        &key,
        b"challenge",
        RECORDED_AT,
    )
    .unwrap();

    let refused = |chain: &[Vec<u8>], roots: &[Vec<u8>], key: &PublicKey, challenge: &[u8], at| {
        verify_android_chain(chain, roots, key, challenge, at).unwrap_err()
    };
    // Replayed for another enrolment; claimed for another key; checked against a root this
    // back-office was not given; presented after its intermediates expired.
    assert_eq!(
        refused(
            sent,
            std::slice::from_ref(&google_root),
            &key,
            b"another",
            RECORDED_AT
        ),
        AttestationError::WrongChallenge
    );
    let other_key = chain_with(2, CHALLENGE, None).device_key;
    assert_eq!(
        refused(
            sent,
            std::slice::from_ref(&google_root),
            &other_key,
            b"challenge",
            RECORDED_AT
        ),
        AttestationError::WrongKey
    );
    let some_root = chain_with(2, CHALLENGE, None).root;
    assert_eq!(
        refused(sent, &[some_root], &key, b"challenge", RECORDED_AT),
        AttestationError::UntrustedRoot
    );
    assert_eq!(
        refused(
            sent,
            std::slice::from_ref(&google_root),
            &key,
            b"challenge",
            NOW
        ),
        AttestationError::OutsideValidity(1)
    );
    // One bit of the leaf's key description changed (its challenge), the signature no longer
    // holds.
    let mut tampered = sent.to_vec();
    let at = tampered[0]
        .windows(9)
        .position(|w| w == b"challenge")
        .unwrap();
    tampered[0][at] ^= 0x20;
    assert_eq!(
        refused(&tampered, &[google_root], &key, b"Challenge", RECORDED_AT),
        AttestationError::BadSignature(0)
    );
}

#[test]
fn serve_takes_its_roots_from_a_pem_file_and_will_not_require_what_it_cannot_verify() {
    use doorstep_server::admin::attestation_policy;
    let dir = tempfile::tempdir().unwrap();
    let roots = dir.path().join("roots.pem");
    let (chain, _) = recorded();
    let last = RECORDED_CHAIN.rfind("-----BEGIN").unwrap();
    std::fs::write(&roots, &RECORDED_CHAIN[last..]).unwrap();
    let policy = attestation_policy(Some(&roots), true).unwrap();
    assert_eq!(policy.android_roots, vec![chain[4].clone()]);
    assert!(policy.required);

    assert!(
        attestation_policy(None, false)
            .unwrap()
            .android_roots
            .is_empty()
    );
    let err = attestation_policy(None, true).unwrap_err();
    assert!(
        err.to_string().contains("--android-attestation-roots"),
        "{err}"
    );
    std::fs::write(&roots, "not a certificate").unwrap();
    assert!(attestation_policy(Some(&roots), false).is_err());
    assert!(attestation_policy(Some(&dir.path().join("missing.pem")), false).is_err());
}
