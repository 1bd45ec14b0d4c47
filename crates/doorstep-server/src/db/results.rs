//! The results table: uploads stored once under the device's id for them, with their digest
//! and countersignature. SQL only; what may be stored is decided in `crate::ingest`.
//!
//! Every lookup and the insert take a whole batch in one query: on SQLite and PostgreSQL alike
//! the round trips, not the rows, are what costs.

use std::collections::{HashMap, HashSet};

use doorstep_api::wire::{self, Role};
use doorstep_core::KeyId;
use doorstep_core::receipt::Outcome;
use sqlx::Row;
use uuid::Uuid;

use super::devices::Device;
use super::rows;
use crate::{Db, ServerError};

const RESULT_COLUMNS: usize = 10;

/// A ticket issued to a device, as stored, with the customer key it names and, if that key is
/// enrolled, the key as stored (33-byte compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedRow {
    pub encoded: Vec<u8>,
    pub customer_key_id: KeyId,
    pub customer_key: Option<Vec<u8>>,
}

/// What is already stored under an upload id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredUpload {
    pub device_id: Uuid,
    pub digest: Vec<u8>,
    pub countersignature: Vec<u8>,
}

/// An accepted upload, countersigned, to store.
pub struct NewResult<'a> {
    pub upload: &'a wire::Upload,
    pub visit_id: Option<[u8; 16]>,
    pub outcome: Option<Outcome>,
    pub digest: [u8; 32],
    pub countersignature: Vec<u8>,
    /// Its place in the batch.
    pub index: usize,
}

impl Db {
    pub async fn stored_uploads(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, StoredUpload>, ServerError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT upload_id, device_id, payload_digest, countersignature FROM results WHERE upload_id IN ({})",
            self.params(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_bytes().to_vec());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    rows::uuid(r, "upload_id")?,
                    StoredUpload {
                        device_id: rows::uuid(r, "device_id")?,
                        digest: r.try_get("payload_digest")?,
                        countersignature: r.try_get("countersignature")?,
                    },
                ))
            })
            .collect()
    }

    /// The signed encodings of the tickets issued to `device` among `serials`, by serial.
    pub async fn tickets_issued_to(
        &self,
        device: &Device,
        serials: &[u64],
    ) -> Result<HashMap<u64, IssuedRow>, ServerError> {
        if serials.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT t.serial, t.encoded, t.customer_key_id, d.public_key FROM tickets t
             LEFT JOIN devices d ON d.key_id = t.customer_key_id
             WHERE t.agent_device_id = {} AND t.serial IN ({})",
            self.params(1, 1),
            self.params(2, serials.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(device.id.as_bytes().to_vec());
        for s in serials {
            query = query.bind(rows::signed(*s));
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    rows::unsigned(r, "serial")?,
                    IssuedRow {
                        encoded: r.try_get("encoded")?,
                        customer_key_id: KeyId(rows::fixed(r, "customer_key_id")?),
                        customer_key: r.try_get("public_key")?,
                    },
                ))
            })
            .collect()
    }

    /// Which of `visit_ids` this device was issued a ticket for: as the agent holding it, or
    /// as the customer whose key it names. A report may speak only of those.
    pub async fn visits_issued_to(
        &self,
        device: &Device,
        visit_ids: &[[u8; 16]],
    ) -> Result<HashSet<[u8; 16]>, ServerError> {
        if visit_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let (column, id) = match device.role {
            Role::Agent => ("agent_device_id", device.id.as_bytes().to_vec()),
            Role::Customer => ("customer_key_id", device.public_key.key_id().0.to_vec()),
        };
        let sql = format!(
            "SELECT DISTINCT visit_id FROM tickets WHERE {column} = {} AND visit_id IN ({})",
            self.params(1, 1),
            self.params(2, visit_ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id);
        for v in visit_ids {
            query = query.bind(v.to_vec());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| rows::fixed(r, "visit_id"))
            .collect()
    }

    /// Inserts the accepted uploads, which marks their visits done, in one statement; returns
    /// the ids actually inserted (not already there).
    pub async fn store_results(
        &self,
        device: &Device,
        accepted: &[NewResult<'_>],
        now: u64,
    ) -> Result<HashSet<Uuid>, ServerError> {
        if accepted.is_empty() {
            return Ok(HashSet::new());
        }
        // Two batches naming the same visits may lock them in opposite orders on PostgreSQL;
        // the one it picks to stop is tried again, a few times.
        let mut attempts = 0;
        loop {
            match self.try_store_results(device, accepted, now).await {
                Err(ServerError::Database(sqlx::Error::Database(e)))
                    if e.code().as_deref() == Some("40P01") && attempts < 3 =>
                {
                    attempts += 1;
                    tracing::info!("results batch deadlocked with another; trying again");
                }
                other => return other,
            }
        }
    }

    async fn try_store_results(
        &self,
        device: &Device,
        accepted: &[NewResult<'_>],
        now: u64,
    ) -> Result<HashSet<Uuid>, ServerError> {
        let values = (0..accepted.len())
            .map(|row| {
                format!(
                    "({})",
                    self.params(1 + row * RESULT_COLUMNS, RESULT_COLUMNS)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO results (upload_id, organisation_id, device_id, kind, visit_id, outcome, payload, payload_digest, received_at, countersignature)
             VALUES {values} ON CONFLICT (upload_id) DO NOTHING"
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in accepted {
            let upload = a.upload;
            insert = insert
                .bind(upload.id.as_bytes().to_vec())
                .bind(device.organisation_id.as_bytes().to_vec())
                .bind(device.id.as_bytes().to_vec())
                .bind(upload.kind.as_str())
                .bind(a.visit_id.map(|v| v.to_vec()))
                .bind(a.outcome.map(|o| o.name()))
                .bind(upload.payload.0.clone())
                .bind(a.digest.to_vec())
                .bind(rows::signed(now))
                .bind(a.countersignature.clone());
        }
        // One statement, atomic on its own; the database marks the visits done (migration 0008).
        let _writing = match self.backend() {
            super::Backend::Sqlite => Some(self.results_writer.lock().await),
            super::Backend::Postgres => None,
        };
        let added = insert.execute(&self.pool).await?.rows_affected();
        if added == accepted.len() as u64 {
            return Ok(accepted.iter().map(|a| a.upload.id).collect());
        }
        // Another delivery of some of them got there first: ours are the rows holding our
        // countersignature (each is made with fresh randomness).
        let ids: Vec<Uuid> = accepted.iter().map(|a| a.upload.id).collect();
        let sql = format!(
            "SELECT upload_id, countersignature FROM results WHERE upload_id IN ({})",
            self.params(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in &ids {
            query = query.bind(id.as_bytes().to_vec());
        }
        let stored: HashMap<Uuid, Vec<u8>> = query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((rows::uuid(r, "upload_id")?, r.try_get("countersignature")?)))
            .collect::<Result<_, ServerError>>()?;
        Ok(accepted
            .iter()
            .filter(|a| stored.get(&a.upload.id) == Some(&a.countersignature))
            .map(|a| a.upload.id)
            .collect())
    }
}
