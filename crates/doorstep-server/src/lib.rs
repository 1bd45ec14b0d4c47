//! The Doorstep back-office: organisations and their signing keys, agents, customers, visits,
//! device enrolment, ticket and notice issuance, results with countersignatures, denylists,
//! export and retention. SQLite by default, PostgreSQL when one machine is outgrown; the same
//! code and the same tests run on both.

pub mod agents;
pub mod crypto;
pub mod customers;
pub mod db;
pub mod denylist;
pub mod devices;
pub mod export;
pub mod http;
pub mod issuance;
pub mod organisations;
mod rows;
pub mod signing;
pub mod testing;
pub mod uploads;
pub mod visits;
pub mod when;

pub use db::{Backend, Db};

use doorstep_api::wire::Role;

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
    #[error("a customer with reference {0:?} already exists in this organisation")]
    CustomerExists(String),
    #[error("a visit with reference {0:?} already exists in this organisation")]
    VisitExists(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the import was refused, nothing was stored:\n{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Import(Vec<visits::RowError>),
    #[error("this enrolment code is not known; check it was typed correctly")]
    UnknownEnrolmentCode,
    #[error("this enrolment code has already been used; ask for a new one")]
    EnrolmentCodeUsed,
    #[error("this enrolment code has expired; ask for a new one")]
    EnrolmentCodeExpired,
    #[error("this device key is already enrolled")]
    KeyAlreadyEnrolled,
    #[error("at most {max} uploads per batch")]
    BatchTooLarge { max: usize },
    #[error("only a device enrolled as {} may do this", .0.as_str())]
    WrongRole(Role),
    #[error("the signing key file {path}: {reason}")]
    SigningKey { path: String, reason: String },
    #[error("stored data is damaged: {0}")]
    Damaged(String),
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
            ServerError::CustomerExists(_) => "customer_exists",
            ServerError::VisitExists(_) => "visit_exists",
            ServerError::Invalid(_) => "invalid",
            ServerError::Import(_) => "import_refused",
            ServerError::UnknownEnrolmentCode => "unknown_enrolment_code",
            ServerError::EnrolmentCodeUsed => "enrolment_code_used",
            ServerError::EnrolmentCodeExpired => "enrolment_code_expired",
            ServerError::KeyAlreadyEnrolled => "key_already_enrolled",
            ServerError::BatchTooLarge { .. } => "batch_too_large",
            ServerError::WrongRole(_) => "wrong_role",
            ServerError::SigningKey { .. } => "signing_key_unavailable",
            ServerError::Damaged(_) => "damaged",
        }
    }
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
