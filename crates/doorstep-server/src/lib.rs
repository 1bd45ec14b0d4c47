//! The Doorstep back-office: organisations and their signing keys, agents, customers, visits,
//! device enrolment, ticket and notice issuance, results with countersignatures, denylists,
//! export and retention. SQLite by default, PostgreSQL when one machine is outgrown; the same
//! code and the same tests run on both.

pub mod admin;
pub mod attestation;
pub mod console;
pub mod cores;
pub mod db;
pub mod http;
pub mod ingest;
pub mod issuance;
pub mod keys;
pub mod letter;
pub mod log_anchor;
pub mod page;
pub mod planning;
pub mod staff;
#[cfg(feature = "testing")]
pub mod testing;

pub use db::{Backend, Db};

use doorstep_core::Role;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the database schema could not be brought up to date: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the database URL is not supported: {0} (use sqlite:PATH or postgres://…)")]
    UnsupportedDatabase(String),
    #[error("no organisation named {0:?}")]
    UnknownOrganisation(String),
    #[error("an organisation named {0:?} already exists")]
    OrganisationExists(String),
    #[error("no agent {0:?} in this organisation")]
    UnknownAgent(String),
    #[error("an agent with staff reference {0:?} already exists in this organisation")]
    AgentExists(String),
    #[error("agent {0:?} is revoked")]
    AgentRevoked(String),
    #[error("no customer {0:?} in this organisation")]
    UnknownCustomer(String),
    #[error("customer {0:?} is revoked")]
    CustomerRevoked(String),
    #[error("no visit {0:?} in this organisation")]
    UnknownVisit(String),
    #[error("no device {0} in this organisation")]
    UnknownDevice(String),
    #[error("a customer with reference {0:?} already exists in this organisation")]
    CustomerExists(String),
    #[error("a visit with reference {0:?} already exists in this organisation")]
    VisitExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the import was refused, nothing was stored:\n{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Import(Vec<planning::RowError>),
    #[error("this enrolment code is not known; check it was typed correctly")]
    UnknownEnrolmentCode,
    #[error("this enrolment code has already been used; ask for a new one")]
    EnrolmentCodeUsed,
    #[error("this enrolment code has expired; ask for a new one")]
    EnrolmentCodeExpired,
    #[error("this device key is already enrolled")]
    KeyAlreadyEnrolled,
    #[error("the device key's attestation was refused: {0}")]
    AttestationRefused(#[from] attestation::AttestationError),
    #[error("this back-office enrols only devices whose key is attested in secure hardware")]
    AttestationRequired,
    #[error("the username or the password is wrong")]
    LoginRefused,
    #[error("too many failed logins; try again in {retry_after} s")]
    LoginThrottled { retry_after: u64 },
    #[error("not signed in, or the session has ended; sign in again")]
    NotSignedIn,
    #[error("your role ({}) may not do this", .0.as_str())]
    NotAllowed(staff::StaffRole),
    #[error("this change did not come from the console's own page")]
    CsrfRejected,
    #[error("at most {max} uploads per batch")]
    BatchTooLarge { max: usize },
    #[error("only a device enrolled as {} may do this", .0.as_str())]
    WrongRole(Role),
    #[error("the signing key file {path}: {reason}")]
    SigningKey { path: String, reason: String },
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    #[error(
        "this device's receipt log no longer matches what the back-office anchored: it was altered on the phone"
    )]
    ReceiptLogRewritten,
    /// A code that breaks the protocol's rules, with the core's own reason.
    #[error("{0}")]
    Protocol(doorstep_core::Error),
    #[error("this code names no visit of this back-office")]
    UnknownPass,
    /// The page pass checks, but its visit can no longer take place.
    #[error("this visit can no longer take place: {}", .0.name())]
    VisitNotOn(crate::page::VisitStanding),
    /// A file or socket failed: not the client's fault, never a 400.
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
}

impl ServerError {
    /// A stable name for programs (the API's `error` field).
    pub fn kind(&self) -> &'static str {
        match self {
            ServerError::Database(_) | ServerError::Migration(_) => "database_unavailable",
            ServerError::UnsupportedDatabase(_) => "unsupported_database",
            ServerError::UnknownOrganisation(_) => "unknown_organisation",
            ServerError::OrganisationExists(_) => "organisation_exists",
            ServerError::UnknownAgent(_) => "unknown_agent",
            ServerError::AgentExists(_) => "agent_exists",
            ServerError::AgentRevoked(_) => "agent_revoked",
            ServerError::UnknownCustomer(_) => "unknown_customer",
            ServerError::CustomerRevoked(_) => "customer_revoked",
            ServerError::UnknownVisit(_) => "unknown_visit",
            ServerError::UnknownDevice(_) => "unknown_device",
            ServerError::CustomerExists(_) => "customer_exists",
            ServerError::VisitExists(_) => "visit_exists",
            ServerError::Invalid(_) => "invalid",
            ServerError::Import(_) => "import_refused",
            ServerError::UnknownEnrolmentCode => "unknown_enrolment_code",
            ServerError::EnrolmentCodeUsed => "enrolment_code_used",
            ServerError::EnrolmentCodeExpired => "enrolment_code_expired",
            ServerError::KeyAlreadyEnrolled => "key_already_enrolled",
            ServerError::AttestationRefused(_) => "attestation_refused",
            ServerError::AttestationRequired => "attestation_required",
            ServerError::LoginRefused => "login_refused",
            ServerError::LoginThrottled { .. } => "login_throttled",
            ServerError::NotSignedIn => "not_signed_in",
            ServerError::NotAllowed(_) => "not_allowed",
            ServerError::CsrfRejected => "csrf_rejected",
            ServerError::BatchTooLarge { .. } => "batch_too_large",
            ServerError::WrongRole(_) => "wrong_role",
            ServerError::SigningKey { .. } => "signing_key_unavailable",
            ServerError::Damaged(_) => "damaged",
            ServerError::ReceiptLogRewritten => "receipt_log_rewritten",
            ServerError::Protocol(e) => e.kind(),
            ServerError::UnknownPass => "unknown_pass",
            ServerError::VisitNotOn(standing) => standing.name(),
            ServerError::Io { .. } => "io",
        }
    }

    pub(crate) fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        ServerError::Io {
            what: what.into(),
            source,
        }
    }
}

/// The system's clock as the database stores times.
pub(crate) fn now_unix() -> i64 {
    db::rows::signed(doorstep_core::system::unix_now())
}
