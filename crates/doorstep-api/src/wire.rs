//! The API's JSON bodies, shared by the server and the sync client. Binary fields (signed
//! documents, keys, countersignatures) travel as standard Base64 strings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

// Part of the bodies below; the vocabulary is the core's.
pub use doorstep_core::{Role, UploadKind};

/// Every path the API serves; the version is part of the path.
pub mod paths {
    pub const ENROL: &str = "/v1/enrol";
    pub const AGENT_PACKAGE: &str = "/v1/agent/package";
    pub const CUSTOMER_NOTICES: &str = "/v1/customer/notices";
    pub const UPLOADS: &str = "/v1/uploads";
    pub const DENYLIST: &str = "/v1/denylist";
    pub const OPENAPI: &str = "/v1/openapi.json";
}

/// Largest request body the server reads; anything longer is refused unread.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most uploads in one batch.
pub const MAX_BATCH_ITEMS: usize = 200;

/// Bytes as a Base64 string in JSON.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Bytes)
            .map_err(serde::de::Error::custom)
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

/// Sent signed by the key being enrolled, which proves the device holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The typed form of the one-time code.
    pub code: String,
    /// The device's public key, 33-byte compressed SEC1.
    pub public_key: Bytes,
    /// What the platform offers to attest that the key lives in secure hardware, made over
    /// [`attestation_challenge`] of this code. Absent for software keys (desktops, tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<KeyAttestation>,
}

/// A hardware key's attestation, as the phone's platform made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyAttestation {
    /// Android key attestation: the certificate chain, leaf first (DER).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub android_chain: Vec<Bytes>,
    /// iOS App Attest: the attested key's identifier and the attestation object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_attest: Option<AppAttest>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppAttest {
    pub key_id: String,
    pub object: Bytes,
}

/// The challenge a hardware key is attested over when it enrols with `code`: fresh (the code
/// is used once) and bound to this enrolment, so an attestation cannot be replayed for
/// another.
pub fn attestation_challenge(code: &doorstep_core::enrolment::EnrolmentCode) -> [u8; 32] {
    doorstep_core::keys::sha256(&[b"doorstep key attestation v1", &code.0])
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolResponse {
    pub device_id: Uuid,
    pub role: Role,
    pub organisation_name: String,
    pub organisation_keys: Vec<Bytes>,
    /// What the organisation's notices say about retention, for the app's privacy screen.
    pub retention_days: u32,
    pub official_phone: String,
    /// Every organisation key hand-over, oldest first: a device applies them to the keys its
    /// build pins before comparing, so a build older than a rotation still enrols.
    #[serde(default)]
    pub key_rotations: Vec<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackagedVisit {
    pub ticket: Bytes,
    /// The customer's enrolled key (33 bytes), or empty for a customer with no enrolled phone,
    /// whose ticket names `NO_CUSTOMER_KEY`.
    pub customer_key: Bytes,
    /// Only the fields the ticket allows.
    pub customer_data: BTreeMap<String, String>,
    /// Where the visit takes place (the customer's postal address), so the agent finds the door.
    #[serde(default)]
    pub address: Option<String>,
    /// Why the visit is made, as the notice tells the customer, and the office's reference for
    /// it: visits at one address are told apart by them.
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub visit_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentPackage {
    pub visits: Vec<PackagedVisit>,
    /// Scheduled visits not in the package yet because the customer has no enrolled device.
    pub awaiting_customer_enrolment: u32,
    pub denylist: Bytes,
    #[serde(default)]
    pub standing: DeviceStanding,
    /// Every organisation key hand-over, oldest first, applied before anything they sign.
    #[serde(default)]
    pub key_rotations: Vec<Bytes>,
    /// How long the organisation lets its phones keep personal data, in days; the phone caps it.
    #[serde(default)]
    pub retention_days: Option<u32>,
}

/// What a device should know about itself: held after enrolling for someone who already had a
/// device (it receives nothing until then), or told that a new device was enrolled for its
/// person and takes over at a time, so that the person can stop it if it was not them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStanding {
    pub held_until: Option<u64>,
    pub new_device: Option<NewDevice>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewDevice {
    pub enrolled_at: u64,
    pub takes_over_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerNotice {
    pub notice: Bytes,
    pub agent_photo: Option<Bytes>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerNotices {
    pub notices: Vec<CustomerNotice>,
    pub denylist: Bytes,
    #[serde(default)]
    pub standing: DeviceStanding,
    /// Every organisation key hand-over, oldest first, applied before anything they sign.
    #[serde(default)]
    pub key_rotations: Vec<Bytes>,
    /// How long the organisation lets its phones keep personal data, in days; the phone caps it.
    #[serde(default)]
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenylistSnapshot {
    pub denylist: Bytes,
}

/// The longest note a report may carry, in characters.
pub const MAX_REPORT_NOTE_CHARS: usize = 2000;

/// The largest report payload the back-office reads, in bytes (a note of
/// [`MAX_REPORT_NOTE_CHARS`] in any script, with room for the other fields).
pub const MAX_REPORT_BYTES: usize = 4 * MAX_REPORT_NOTE_CHARS + 512;

/// A customer's report about a visitor, or an agent's note on a visit's outcome. A field the
/// API does not define is refused, not ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// The visit the report is about, if the customer's app knew it.
    pub visit_id: Option<Uuid>,
    /// The error kind the handshake refused with, if any.
    pub reason: Option<String>,
    pub note: String,
    pub time: u64,
}

/// One upload; `id` (a UUIDv7 made on the device) is the idempotency key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upload {
    pub id: Uuid,
    pub kind: UploadKind,
    pub payload: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadBatch {
    pub uploads: Vec<Upload>,
    /// The head of the device's receipt log, for the back-office to anchor; a device with
    /// receipts sends it with every batch.
    #[serde(default)]
    pub log: Option<LogHead>,
}

/// Most chain hashes a [`LogHead`] carries.
pub const MAX_LOG_HASHES: usize = 1000;

/// The device's receipt log as it stands: how many entries, and the chain hashes of the newest
/// ones, from the position of the last anchor the device holds to the newest, oldest first (at
/// most [`MAX_LOG_HASHES`]). The back-office finds the position it anchored among them; a
/// device that never heard an anchor's answer still covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogHead {
    pub entries: u64,
    /// Hashes of positions `entries - hashes.len() + 1 ..= entries`.
    pub hashes: Vec<Bytes>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadStatus {
    /// Stored now.
    Stored,
    /// Stored by an earlier delivery of the same upload; the same countersignature again.
    AlreadyStored,
    /// Refused for good; resending will not help.
    Rejected,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResult {
    pub id: Uuid,
    pub status: UploadStatus,
    pub countersignature: Option<Bytes>,
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadResults {
    pub results: Vec<UploadResult>,
    /// The back-office's countersignature on the log head sent (`doorstep_core`'s `LogAnchor`).
    #[serde(default)]
    pub log_anchor: Option<Bytes>,
}

/// Every error the API returns: a stable kind for programs and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ErrorBody {
    pub error: String,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_travel_as_base64_and_bad_base64_is_an_error() {
        let json = serde_json::to_string(&Bytes(vec![0, 1, 2, 255])).unwrap();
        assert_eq!(json, "\"AAEC/w==\"");
        assert_eq!(
            serde_json::from_str::<Bytes>(&json).unwrap(),
            Bytes(vec![0, 1, 2, 255])
        );
        assert!(serde_json::from_str::<Bytes>("\"not base64!\"").is_err());
    }
}
