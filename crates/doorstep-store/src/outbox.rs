//! Uploads waiting for the back-office. An entry leaves the queue only when the server's
//! countersignature for it is stored, in the same transaction.

use sqlx::sqlite::Sqlite;
use sqlx::{Row, Transaction};
use uuid::Uuid;

use doorstep_core::UploadKind;
use doorstep_core::countersignature::Countersignature;

use crate::sealing::SealedColumn;
use crate::{Store, StoreError, to_i64, to_u64};

/// A report's or a note's text is personal; a receipt is not, but one rule for every payload
/// keeps the queue simple.
const PAYLOAD: SealedColumn = SealedColumn {
    table: "outbox",
    column: "payload",
};

/// No retry is ever scheduled further ahead than this (an hour: the sync client's longest
/// backoff).
pub const MAX_DEFERRAL: u64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub id: Uuid,
    pub kind: UploadKind,
    pub payload: Vec<u8>,
    pub created_at: u64,
    pub attempts: u32,
}

impl Store {
    pub(crate) async fn enqueue_in(
        &self,
        tx: &mut Transaction<'_, Sqlite>,
        id: Uuid,
        kind: UploadKind,
        payload: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let row = id.as_bytes().to_vec();
        let sealed = self.sealer.seal(PAYLOAD, &row, payload)?;
        sqlx::query(
            "INSERT INTO outbox (id, kind, payload, payload_sealed, created_at, next_attempt_at) VALUES (?, ?, ?, 1, ?, ?)",
        )
        .bind(row)
        .bind(kind.as_str())
        .bind(sealed)
        .bind(to_i64(now))
        .bind(to_i64(now))
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Queues an upload that has no other record on the device (a report, say).
    pub async fn enqueue(
        &self,
        kind: UploadKind,
        payload: &[u8],
        now: u64,
    ) -> Result<Uuid, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        self.enqueue_in(&mut tx, id, kind, payload, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Entries due for upload at `now`, oldest first. An entry scheduled more than
    /// [`MAX_DEFERRAL`] ahead is due too: no backoff is that long, so the device clock was set
    /// back since, and waiting for it to catch up could take hours.
    pub async fn due_uploads(&self, now: u64, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, payload, payload_sealed, created_at, attempts FROM outbox
             WHERE acknowledged_at IS NULL AND rejected_kind IS NULL
               AND (next_attempt_at <= ? OR next_attempt_at > ?)
             ORDER BY created_at, id LIMIT ?",
        )
        .bind(to_i64(now))
        .bind(to_i64(now.saturating_add(MAX_DEFERRAL)))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: Vec<u8> = row.try_get("id")?;
                let kind: String = row.try_get("kind")?;
                let damaged = |what: &str| StoreError::Damaged(format!("outbox: {what}"));
                Ok(OutboxEntry {
                    id: Uuid::from_slice(&id).map_err(|_| damaged("id"))?,
                    kind: UploadKind::parse(&kind).ok_or_else(|| damaged("kind"))?,
                    payload: self.payload(
                        &id,
                        row.try_get("payload")?,
                        row.try_get("payload_sealed")?,
                    )?,
                    created_at: to_u64(row.try_get("created_at")?),
                    attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// A payload as stored: sealed, or plain if written before payloads were sealed.
    fn payload(&self, id: &[u8], stored: Vec<u8>, sealed: i64) -> Result<Vec<u8>, StoreError> {
        if sealed == 0 {
            return Ok(stored);
        }
        self.sealer.open(PAYLOAD, id, &stored)
    }

    /// Uploads not yet acknowledged, for the "pending" count the app shows.
    pub async fn pending_uploads(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE acknowledged_at IS NULL AND rejected_kind IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(to_u64(n))
    }

    /// A failed attempt: try again no earlier than `next_attempt_at` (at most
    /// [`MAX_DEFERRAL`] ahead of `now`).
    pub async fn defer_upload(
        &self,
        id: Uuid,
        now: u64,
        next_attempt_at: u64,
    ) -> Result<(), StoreError> {
        let next_attempt_at = next_attempt_at.min(now.saturating_add(MAX_DEFERRAL));
        sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ? AND acknowledged_at IS NULL",
        )
        .bind(to_i64(next_attempt_at))
        .bind(id.as_bytes().to_vec())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The server refused the entry for good (a forged or misdirected upload, say): keep it,
    /// marked, and stop sending it.
    pub async fn reject_upload(
        &self,
        id: Uuid,
        kind: &str,
        message: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET rejected_kind = ?, rejected_message = ? WHERE id = ? AND acknowledged_at IS NULL",
        )
        .bind(kind)
        .bind(message)
        .bind(id.as_bytes().to_vec())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Uploads the server refused: id, error kind and message.
    pub async fn rejected_uploads(&self) -> Result<Vec<(Uuid, String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, rejected_kind, rejected_message FROM outbox WHERE rejected_kind IS NOT NULL ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: Vec<u8> = r.try_get("id")?;
                Ok((
                    Uuid::from_slice(&id).map_err(|_| StoreError::Damaged("outbox: id".into()))?,
                    r.try_get("rejected_kind")?,
                    r.try_get::<Option<String>, _>("rejected_message")?
                        .unwrap_or_default(),
                ))
            })
            .collect()
    }

    /// The server stored the entry: check its countersignature covers exactly this upload,
    /// then store it and mark the entry done, in one transaction. Acknowledging twice is
    /// harmless; the first countersignature is kept.
    pub async fn acknowledge_upload(
        &self,
        id: Uuid,
        countersignature: &[u8],
        now: u64,
    ) -> Result<(), StoreError> {
        let keys = self.enrolment().await?.organisation_keys;
        let row = sqlx::query("SELECT payload, payload_sealed FROM outbox WHERE id = ?")
            .bind(id.as_bytes().to_vec())
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::Damaged(format!("no upload {id} in the outbox")))?;
        let payload = self.payload(
            id.as_bytes(),
            row.try_get("payload")?,
            row.try_get("payload_sealed")?,
        )?;
        Countersignature::verify(countersignature, &keys, *id.as_bytes(), &payload)?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE receipts SET countersignature = ? WHERE id = ? AND countersignature IS NULL",
        )
        .bind(countersignature)
        .bind(id.as_bytes().to_vec())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE outbox SET acknowledged_at = ? WHERE id = ? AND acknowledged_at IS NULL",
        )
        .bind(to_i64(now))
        .bind(id.as_bytes().to_vec())
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE visits SET synced_at = ? WHERE synced_at IS NULL
               AND visit_id IN (SELECT visit_id FROM receipts WHERE id = ?)",
        )
        .bind(to_i64(now))
        .bind(id.as_bytes().to_vec())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
