//! The Doorstep back-office: organisations and their signing keys, agents, and (to come)
//! visits, device enrolment, the sync API and results. SQLite by default, PostgreSQL when one
//! machine is outgrown; the same code and the same tests run on both.

pub mod agents;
pub mod db;
pub mod organisations;
pub mod testing;

pub use db::{Backend, Db};

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
    #[error("the signing key file {path}: {reason}")]
    SigningKey { path: String, reason: String },
    #[error("stored data is damaged: {0}")]
    Damaged(String),
}

pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
