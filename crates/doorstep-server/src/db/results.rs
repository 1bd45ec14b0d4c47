//! The results table: uploads stored once under the device's id for them, with their digest
//! and countersignature. SQL only; what may be stored is decided in `crate::ingest`.
//!
//! Every lookup and the insert take a whole batch in one query: on SQLite and PostgreSQL alike
//! the round trips, not the rows, are what costs.

use std::collections::{HashMap, HashSet};

use doorstep_api::wire::{self, Role};
use doorstep_core::receipt::Outcome;
use sqlx::Row;
use uuid::Uuid;

use super::devices::Device;
use super::rows;
use crate::{Db, ServerError};

const RESULT_COLUMNS: usize = 10;

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
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
            placeholders(1, ids.len())
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
    ) -> Result<HashMap<u64, Vec<u8>>, ServerError> {
        if serials.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT serial, encoded FROM tickets WHERE agent_device_id = $1 AND serial IN ({})",
            placeholders(2, serials.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(device.id.as_bytes().to_vec());
        for s in serials {
            query = query.bind(rows::signed(*s));
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((rows::unsigned(r, "serial")?, r.try_get("encoded")?)))
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
            "SELECT DISTINCT visit_id FROM tickets WHERE {column} = $1 AND visit_id IN ({})",
            placeholders(2, visit_ids.len())
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

    /// Inserts the accepted uploads and marks their visits done, in one transaction; returns
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
        let values = (0..accepted.len())
            .map(|row| {
                format!(
                    "({})",
                    placeholders(1 + row * RESULT_COLUMNS, RESULT_COLUMNS)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO results (upload_id, organisation_id, device_id, kind, visit_id, outcome, payload, payload_digest, received_at, countersignature)
             VALUES {values} ON CONFLICT (upload_id) DO NOTHING RETURNING upload_id"
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
        let mut tx = self.pool.begin().await?;
        let inserted: HashSet<Uuid> = insert
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| rows::uuid(r, "upload_id"))
            .collect::<Result<_, _>>()?;
        // A visit is done once someone answered the door; "not home" leaves it open.
        let done: Vec<[u8; 16]> = accepted
            .iter()
            .filter(|a| inserted.contains(&a.upload.id))
            .filter(|a| a.outcome.is_some_and(|o| o != Outcome::NotHome))
            .filter_map(|a| a.visit_id)
            .collect();
        if !done.is_empty() {
            let sql = format!(
                "UPDATE visits SET completed_at = COALESCE(completed_at, $1) WHERE id IN ({})",
                placeholders(2, done.len())
            );
            let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(rows::signed(now));
            for v in done {
                update = update.bind(v.to_vec());
            }
            update.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }
}
