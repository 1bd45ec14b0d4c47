//! The database layer: SQL, one file per table family, over one connection pool on SQLite or
//! PostgreSQL. The rules that decide what to store live outside it (`crate::ingest`,
//! `crate::keys`); the HTTP handlers and the admin commands call both.
//!
//! One connection pool over SQLite or PostgreSQL (sqlx's `Any` driver) with the migrations of
//! the chosen backend. Queries are written once, with `$1, $2, …` placeholders in order, which
//! both drivers accept.

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

use crate::ServerError;

pub mod agents;
pub mod customers;
pub mod denylist;
pub mod devices;
pub mod export;
pub mod office;
pub mod organisations;
pub mod page;
pub mod requests;
pub mod results;
pub mod revocation;
pub mod rotation;
pub(crate) mod rows;
pub mod staff;
pub mod tickets;
pub mod visit_detail;
pub mod visits;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub(crate) pool: AnyPool,
    backend: Backend,
    /// Each organisation's public keys as last read. Keys are only ever added, so a stale list
    /// is a shorter one: a look-up that misses a key reads the list again.
    organisation_keys: std::sync::Arc<
        std::sync::RwLock<std::collections::HashMap<uuid::Uuid, Vec<doorstep_core::PublicKey>>>,
    >,
    /// SQLite takes one writer at a time and makes the others sleep and retry; batches of
    /// results queue here instead, so concurrent uploads wait only as long as the write takes.
    pub(crate) results_writer: std::sync::Arc<tokio::sync::Mutex<()>>,
}

impl Db {
    /// Opens `url` (`sqlite:PATH` creates the file; `postgres://…`) and migrates it.
    pub async fn open(url: &str) -> Result<Self, ServerError> {
        install_default_drivers();
        let (backend, url) = if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(ServerError::UnsupportedDatabase(url.into()));
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 16 })
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    // WAL and full sync: a result acknowledged to a device is on disk.
                    if backend == Backend::Sqlite {
                        use sqlx::Executor;
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&pool).await?,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&pool).await?,
        }
        let db = Self {
            pool,
            backend,
            organisation_keys: Default::default(),
            results_writer: Default::default(),
        };
        db.backfill_phone_keys().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Placeholders for `n` values numbered from `first`, for statements built at run time:
    /// `$first, …` on PostgreSQL, `?, …` on SQLite, which binds them by position. (SQLite looks
    /// a numbered one up by name, which costs a scan per value: quadratic in a 500-value insert.)
    /// A statement built with this uses it for every value, in order.
    pub(crate) fn params(&self, first: usize, n: usize) -> String {
        let one = |i: usize| match self.backend {
            Backend::Postgres => format!("${i}"),
            Backend::Sqlite => "?".to_string(),
        };
        (first..first + n).map(one).collect::<Vec<_>>().join(", ")
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
