//! The device's offline store (SQLite through sqlx, WAL, full sync).
//!
//! It holds what a phone needs at a door with no network: its enrolment, the day's visits or
//! the customer's notices, handshakes in progress, an append-only hash-chained log of receipts,
//! an outbox of uploads, the denylist and sync checkpoints. Personal data is sealed with a key
//! from the platform's key store; retention is enforced by [`Store::purge`].

use std::path::Path;
use std::str::FromStr;

use doorstep_core::{PublicKey, Role};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

mod device;
mod outbox;
mod receipts;
mod sealing;
mod visits;

pub use outbox::{MAX_DEFERRAL, OutboxEntry};
pub use receipts::{ChainEntry, ReceiptId};
pub use sealing::{FileKeyProvider, KeyProvider};
pub use visits::{
    AGENT_LOOKBACK, MAX_RETENTION_DAYS, PackagedVisit, PurgeReport, StoredNotice, VisitSummary,
};

use sealing::Sealer;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store's database failed: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the store's schema could not be brought up to date: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the device's data key is unavailable: {0}")]
    KeyUnavailable(String),
    #[error("sealed data could not be opened: wrong key or altered data")]
    Sealing,
    #[error("this device is not enrolled")]
    NotEnrolled,
    #[error("the receipt log is broken at entry {seq}: an entry was altered or removed")]
    ChainBroken { seq: i64 },
    #[error("stored data is damaged: {0}")]
    Damaged(String),
    #[error(transparent)]
    Protocol(#[from] doorstep_core::Error),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrolment {
    pub role: Role,
    pub organisation_name: String,
    pub organisation_keys: Vec<PublicKey>,
    pub server_url: String,
    /// From the pin, never from the back-office or a visitor.
    pub official_phone: String,
    pub device_key: PublicKey,
    pub enrolled_at: u64,
    /// How long the organisation lets the phone keep personal data; see [`Store::purge`].
    pub retention_days: u32,
}

pub struct Store {
    pool: SqlitePool,
    sealer: Sealer,
}

pub(crate) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(crate) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub async fn open(path: &Path, keys: &dyn KeyProvider) -> Result<Self, StoreError> {
        let sealer = Sealer::new(keys.data_key()?);
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // A completed visit must survive a power cut right after the customer walks away.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self { pool, sealer })
    }

    pub async fn close(self) {
        self.pool.close().await;
    }

    pub async fn enrol(&self, e: &Enrolment) -> Result<(), StoreError> {
        let keys: Vec<u8> = e
            .organisation_keys
            .iter()
            .flat_map(|k| k.as_bytes().to_vec())
            .collect();
        sqlx::query(
            "INSERT INTO enrolment (id, role, organisation_name, organisation_keys, server_url, official_phone, device_key, enrolled_at, retention_days)
             VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET role = excluded.role, organisation_name = excluded.organisation_name,
               organisation_keys = excluded.organisation_keys, server_url = excluded.server_url,
               official_phone = excluded.official_phone,
               device_key = excluded.device_key, enrolled_at = excluded.enrolled_at,
               retention_days = excluded.retention_days",
        )
        .bind(e.role.as_str())
        .bind(&e.organisation_name)
        .bind(keys)
        .bind(&e.server_url)
        .bind(&e.official_phone)
        .bind(e.device_key.as_bytes().to_vec())
        .bind(to_i64(e.enrolled_at))
        .bind(i64::from(visits::bounded_retention(e.retention_days)))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn enrolment(&self) -> Result<Enrolment, StoreError> {
        let row = sqlx::query("SELECT * FROM enrolment WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotEnrolled)?;
        let damaged = |what: &str| StoreError::Damaged(format!("enrolment: {what}"));
        let role =
            Role::parse(&row.try_get::<String, _>("role")?).ok_or_else(|| damaged("role"))?;
        let keys: Vec<u8> = row.try_get("organisation_keys")?;
        let organisation_keys = keys
            .chunks(33)
            .map(|k| PublicKey::from_compressed(k).map_err(|_| damaged("organisation key")))
            .collect::<Result<_, _>>()?;
        let device_key: Vec<u8> = row.try_get("device_key")?;
        Ok(Enrolment {
            role,
            organisation_name: row.try_get("organisation_name")?,
            organisation_keys,
            server_url: row.try_get("server_url")?,
            official_phone: row.try_get("official_phone")?,
            device_key: PublicKey::from_compressed(&device_key)
                .map_err(|_| damaged("device key"))?,
            enrolled_at: to_u64(row.try_get("enrolled_at")?),
            retention_days: u32::try_from(row.try_get::<i64, _>("retention_days")?)
                .map_err(|_| damaged("retention"))?,
        })
    }

    /// Keeps the newer of the held and the offered denylist (by sequence), after checking the
    /// offered one's signature.
    pub async fn put_denylist(&self, encoded: &[u8]) -> Result<(), StoreError> {
        let keys = self.enrolment().await?.organisation_keys;
        let list = doorstep_core::notice::Denylist::verify(encoded, &keys)?;
        sqlx::query(
            "INSERT INTO denylist (id, encoded, sequence, issued_at) VALUES (1, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET encoded = excluded.encoded, sequence = excluded.sequence,
               issued_at = excluded.issued_at
             WHERE excluded.sequence > denylist.sequence",
        )
        .bind(encoded)
        .bind(to_i64(list.sequence))
        .bind(to_i64(list.issued_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn denylist(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT encoded FROM denylist WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// The trust a session at the door uses: the enrolled organisation keys and the denylist.
    pub async fn trust(
        &self,
        policy: doorstep_core::Policy,
    ) -> Result<doorstep_core::Trust, StoreError> {
        let mut trust =
            doorstep_core::Trust::new(self.enrolment().await?.organisation_keys, policy);
        if let Some(list) = self.denylist().await? {
            trust.install_denylist(&list)?;
        }
        Ok(trust)
    }

    pub async fn checkpoint(&self, stream: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT cursor FROM checkpoints WHERE stream = ?")
                .bind(stream)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn set_checkpoint(&self, stream: &str, cursor: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO checkpoints (stream, cursor) VALUES (?, ?)
             ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor",
        )
        .bind(stream)
        .bind(cursor)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
