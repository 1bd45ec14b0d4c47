//! Android key attestation, checked when a phone enrols: the certificate chain it sends with its
//! hardware key must lead to a root this back-office is configured to trust, its leaf must
//! certify the very key that enrols, over this enrolment's challenge, and the key must have
//! been made in a TEE or StrongBox, not in software.
//!
//! Pure functions over bytes and a time; nothing is fetched (no revocation list: not yet).

use doorstep_api::wire;
use doorstep_core::PublicKey;
use doorstep_core::enrolment::EnrolmentCode;

use crate::ServerError;
use x509_cert::Certificate;
use x509_cert::der::asn1::{AnyRef, ObjectIdentifier};
use x509_cert::der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};

/// The KeyDescription extension Android Keystore puts in an attested key's certificate.
const KEY_DESCRIPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.1.17");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const P384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const RSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");

/// Longest chain accepted: Android's are three or four certificates.
pub const MAX_CHAIN: usize = 6;

/// Where the attested key lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecurityLevel {
    Software,
    TrustedEnvironment,
    StrongBox,
}

impl SecurityLevel {
    pub fn name(self) -> &'static str {
        match self {
            SecurityLevel::Software => "software",
            SecurityLevel::TrustedEnvironment => "tee",
            SecurityLevel::StrongBox => "strongbox",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttestationError {
    #[error("the attestation chain is empty or longer than {MAX_CHAIN} certificates")]
    ChainLength,
    #[error("certificate {0} of the attestation chain is unreadable")]
    Malformed(usize),
    #[error("certificate {0} of the attestation chain is not signed by the next")]
    BadSignature(usize),
    #[error("certificate {0} of the attestation chain is outside its validity")]
    OutsideValidity(usize),
    #[error("the attestation chain does not lead to a configured root")]
    UntrustedRoot,
    #[error("the attested key is not the key that enrols")]
    WrongKey,
    #[error("the attestation was made for another enrolment")]
    WrongChallenge,
    #[error("the key was made in software, not in secure hardware")]
    SoftwareKey,
    #[error("the leaf certificate carries no key description")]
    NoKeyDescription,
}

/// What a verified chain says about the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AndroidAttestation {
    pub security_level: SecurityLevel,
    pub attestation_version: u32,
}

/// Checks `chain` (leaf first, DER, as `KeyStore.getCertificateChain` gives it) against `roots`
/// (DER), the enrolling `key`, this enrolment's `challenge` and the time `now`.
pub fn verify_android_chain(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    key: &PublicKey,
    challenge: &[u8],
    now: u64,
) -> Result<AndroidAttestation, AttestationError> {
    if chain.is_empty() || chain.len() > MAX_CHAIN {
        return Err(AttestationError::ChainLength);
    }
    let certs = chain
        .iter()
        .enumerate()
        .map(|(i, der)| Certificate::from_der(der).map_err(|_| AttestationError::Malformed(i)))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, pair) in certs.windows(2).enumerate() {
        if !signed_by(&pair[0], &pair[1]) {
            return Err(AttestationError::BadSignature(i));
        }
    }
    // Every certificate above the leaf must be current (the leaf's validity is the key's own,
    // which Android sets loosely).
    for (i, cert) in certs.iter().enumerate().skip(1) {
        let validity = cert.tbs_certificate().validity();
        let (from, until) = (
            validity.not_before.to_unix_duration().as_secs(),
            validity.not_after.to_unix_duration().as_secs(),
        );
        if now < from || now > until {
            return Err(AttestationError::OutsideValidity(i));
        }
    }
    let top = certs.last().ok_or(AttestationError::ChainLength)?;
    let top_der = &chain[chain.len() - 1];
    let rooted = roots.iter().any(|root| {
        root == top_der || Certificate::from_der(root).is_ok_and(|root| signed_by(top, &root))
    });
    if !rooted {
        return Err(AttestationError::UntrustedRoot);
    }
    let leaf = certs[0].tbs_certificate();
    let spki = leaf.subject_public_key_info();
    let point = spki.subject_public_key.raw_bytes();
    if spki.algorithm.oid != EC_PUBLIC_KEY || PublicKey::from_sec1(point) != Ok(*key) {
        return Err(AttestationError::WrongKey);
    }
    let description = leaf
        .extensions()
        .into_iter()
        .flatten()
        .find(|e| e.extn_id == KEY_DESCRIPTION)
        .ok_or(AttestationError::NoKeyDescription)?;
    let (version, level, attested_challenge) =
        key_description(description.extn_value.as_bytes()).ok_or(AttestationError::Malformed(0))?;
    if attested_challenge != challenge {
        return Err(AttestationError::WrongChallenge);
    }
    let security_level = match level {
        1 => SecurityLevel::TrustedEnvironment,
        2 => SecurityLevel::StrongBox,
        _ => return Err(AttestationError::SoftwareKey),
    };
    Ok(AndroidAttestation {
        security_level,
        attestation_version: version,
    })
}

/// The start of KeyDescription: attestationVersion, attestationSecurityLevel, (the KeyMint
/// version and level, skipped), attestationChallenge. The rest is not needed here.
fn key_description(bytes: &[u8]) -> Option<(u32, u8, Vec<u8>)> {
    let outer = AnyRef::from_der(bytes).ok()?;
    if outer.tag() != Tag::Sequence {
        return None;
    }
    let mut reader = SliceReader::new(outer.value()).ok()?;
    let version: u32 = reader.decode().ok()?;
    let level = enumerated(&mut reader)?;
    let _keymint_version: AnyRef = reader.decode().ok()?;
    let _keymint_level: AnyRef = reader.decode().ok()?;
    let challenge: AnyRef = reader.decode().ok()?;
    if challenge.tag() != Tag::OctetString {
        return None;
    }
    Some((version, level, challenge.value().to_vec()))
}

fn enumerated(reader: &mut SliceReader) -> Option<u8> {
    let value: AnyRef = reader.decode().ok()?;
    match (value.tag(), value.value()) {
        (Tag::Enumerated, [level]) => Some(*level),
        _ => None,
    }
}

/// Whether `issuer`'s key made `cert`'s signature.
fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
    let Ok(tbs) = cert.tbs_certificate().to_der() else {
        return false;
    };
    let spki = issuer.tbs_certificate().subject_public_key_info();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
    let algorithm: &'static dyn VerificationAlgorithm =
        match (cert.signature_algorithm().oid, spki.algorithm.oid, curve) {
            (ECDSA_SHA256, EC_PUBLIC_KEY, Some(P256)) => &signature::ECDSA_P256_SHA256_ASN1,
            (ECDSA_SHA256, EC_PUBLIC_KEY, Some(P384)) => &signature::ECDSA_P384_SHA256_ASN1,
            (ECDSA_SHA384, EC_PUBLIC_KEY, Some(P256)) => &signature::ECDSA_P256_SHA384_ASN1,
            (ECDSA_SHA384, EC_PUBLIC_KEY, Some(P384)) => &signature::ECDSA_P384_SHA384_ASN1,
            (RSA_SHA256, RSA_ENCRYPTION, _) => &signature::RSA_PKCS1_2048_8192_SHA256,
            _ => return false,
        };
    UnparsedPublicKey::new(algorithm, spki.subject_public_key.raw_bytes())
        .verify(&tbs, cert.signature().raw_bytes())
        .is_ok()
}

/// The certificates of a PEM bundle, as DER; each must parse as a certificate.
pub fn certificates_from_pem(text: &str) -> Result<Vec<Vec<u8>>, ServerError> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (line, &mut body) {
            ("-----BEGIN CERTIFICATE-----", None) => body = Some(String::new()),
            ("-----END CERTIFICATE-----", Some(b64)) => {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| ServerError::Invalid(format!("attestation roots: {e}")))?;
                Certificate::from_der(&der).map_err(|e| {
                    ServerError::Invalid(format!("attestation roots: not a certificate: {e}"))
                })?;
                out.push(der);
                body = None;
            }
            (line, Some(b64)) => b64.push_str(line),
            _ => {}
        }
    }
    if out.is_empty() || body.is_some() {
        return Err(ServerError::Invalid(
            "attestation roots: no complete PEM certificate in the file".into(),
        ));
    }
    Ok(out)
}

/// How this back-office judges the attestations phones send when they enrol.
#[derive(Debug, Clone, Default)]
pub struct AttestationPolicy {
    /// Android attestation roots (DER) a chain must lead to; none configured, chains are kept
    /// as unverified.
    pub android_roots: Vec<Vec<u8>>,
    /// Refuse every enrolment without a verified hardware attestation.
    pub required: bool,
}

impl AttestationPolicy {
    /// What to record of the attestation sent with an enrolment (`None`: none was sent), or
    /// why the enrolment is refused.
    pub fn judge(
        &self,
        attestation: Option<&wire::KeyAttestation>,
        key: &PublicKey,
        code: &EnrolmentCode,
        now: u64,
    ) -> Result<Option<String>, ServerError> {
        let challenge = wire::attestation_challenge(code);
        let recorded = match attestation {
            Some(a) if !a.android_chain.is_empty() => {
                if self.android_roots.is_empty() {
                    Recorded::Unverified("android, not verified: no root configured")
                } else {
                    let chain: Vec<Vec<u8>> = a.android_chain.iter().map(|c| c.0.clone()).collect();
                    let verified =
                        verify_android_chain(&chain, &self.android_roots, key, &challenge, now)?;
                    Recorded::Verified(format!("android {}", verified.security_level.name()))
                }
            }
            // Verifying App Attest objects is not yet done: recorded, never trusted.
            Some(a) if a.app_attest.is_some() => {
                Recorded::Unverified("apple app attest, not verified")
            }
            _ => Recorded::Nothing,
        };
        match recorded {
            Recorded::Verified(text) => Ok(Some(text)),
            _ if self.required => Err(ServerError::AttestationRequired),
            Recorded::Unverified(text) => Ok(Some(text.to_string())),
            Recorded::Nothing => Ok(None),
        }
    }
}

enum Recorded {
    Verified(String),
    Unverified(&'static str),
    Nothing,
}
