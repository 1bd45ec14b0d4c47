//! The receipt log: append-only (enforced by triggers) and hash-chained, so an altered or
//! removed entry is detectable. Recording a receipt also queues its upload, in one transaction.

use sha2::{Digest, Sha256};
use sqlx::Row;
use uuid::Uuid;

use doorstep_core::ticket::VisitId;

use crate::{Store, StoreError, to_i64, to_u64};
use doorstep_core::UploadKind;

/// A receipt's identity in the log and on the wire (UUIDv7, made on the device).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ReceiptId(pub Uuid);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainEntry {
    pub seq: i64,
    pub id: ReceiptId,
    pub visit_id: VisitId,
    pub receipt: Vec<u8>,
    pub recorded_at: u64,
    pub prev_hash: [u8; 32],
    pub entry_hash: [u8; 32],
    pub countersignature: Option<Vec<u8>>,
}

fn entry_hash(
    prev: &[u8; 32],
    id: &Uuid,
    visit: &VisitId,
    receipt: &[u8],
    recorded_at: u64,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"DS1 receipt log");
    h.update(prev);
    h.update(id.as_bytes());
    h.update(visit.0);
    h.update((receipt.len() as u64).to_be_bytes());
    h.update(receipt);
    h.update(recorded_at.to_be_bytes());
    h.finalize().into()
}

fn hash_column(row: &sqlx::sqlite::SqliteRow, column: &str) -> Result<[u8; 32], StoreError> {
    let bytes: Vec<u8> = row.try_get(column)?;
    bytes
        .try_into()
        .map_err(|_| StoreError::Damaged(format!("receipt log: {column}")))
}

impl Store {
    /// Appends a signed receipt to the log and queues it for upload, atomically.
    pub async fn record_receipt(
        &self,
        visit_id: VisitId,
        signed_receipt: &[u8],
        now: u64,
    ) -> Result<ReceiptId, StoreError> {
        let id = Uuid::now_v7();
        let mut tx = self.pool.begin().await?;
        let prev: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT entry_hash FROM receipts ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let prev: [u8; 32] = match prev {
            Some(p) => p
                .try_into()
                .map_err(|_| StoreError::Damaged("receipt log: entry_hash".into()))?,
            None => [0; 32],
        };
        let hash = entry_hash(&prev, &id, &visit_id, signed_receipt, now);
        sqlx::query(
            "INSERT INTO receipts (id, visit_id, receipt, recorded_at, prev_hash, entry_hash)
             VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(visit_id.0.to_vec())
        .bind(signed_receipt)
        .bind(to_i64(now))
        .bind(prev.to_vec())
        .bind(hash.to_vec())
        .execute(&mut *tx)
        .await?;
        self.enqueue_in(&mut tx, id, UploadKind::Receipt, signed_receipt, now)
            .await?;
        tx.commit().await?;
        Ok(ReceiptId(id))
    }

    /// The visit's last signed receipt, as the agent's phone hands it to the customer's.
    pub async fn last_receipt_for(&self, visit_id: VisitId) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT receipt FROM receipts WHERE visit_id = ? ORDER BY seq DESC LIMIT 1",
        )
        .bind(visit_id.0.to_vec())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn receipt_log(&self) -> Result<Vec<ChainEntry>, StoreError> {
        let rows = sqlx::query("SELECT * FROM receipts ORDER BY seq")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let id: Vec<u8> = row.try_get("id")?;
                let visit: Vec<u8> = row.try_get("visit_id")?;
                let damaged = |what: &str| StoreError::Damaged(format!("receipt log: {what}"));
                Ok(ChainEntry {
                    seq: row.try_get("seq")?,
                    id: ReceiptId(Uuid::from_slice(&id).map_err(|_| damaged("id"))?),
                    visit_id: VisitId(visit.try_into().map_err(|_| damaged("visit id"))?),
                    receipt: row.try_get("receipt")?,
                    recorded_at: to_u64(row.try_get("recorded_at")?),
                    prev_hash: hash_column(row, "prev_hash")?,
                    entry_hash: hash_column(row, "entry_hash")?,
                    countersignature: row.try_get("countersignature")?,
                })
            })
            .collect()
    }

    /// Walks the log from the start; returns the number of entries and the head hash, or where
    /// it breaks.
    pub async fn verify_receipt_log(&self) -> Result<(usize, [u8; 32]), StoreError> {
        let mut prev = [0u8; 32];
        let mut expected_seq = 1;
        let log = self.receipt_log().await?;
        for e in &log {
            let recomputed = entry_hash(&prev, &e.id.0, &e.visit_id, &e.receipt, e.recorded_at);
            // Sequence numbers are assigned 1, 2, 3…; a gap means a removed entry.
            if e.seq != expected_seq || e.prev_hash != prev || e.entry_hash != recomputed {
                return Err(StoreError::ChainBroken { seq: e.seq });
            }
            prev = e.entry_hash;
            expected_seq += 1;
        }
        Ok((log.len(), prev))
    }

    /// The log's chain recomputed from what each entry holds, ignoring the hashes stored beside
    /// them: the number of entries and the chain hashes of positions `from ..= entries` (at
    /// most the `max` newest). What the back-office anchors; an entry altered, removed or
    /// re-hashed on the phone changes every hash from that entry on.
    pub async fn log_hashes(
        &self,
        from: u64,
        max: usize,
    ) -> Result<(u64, Vec<[u8; 32]>), StoreError> {
        let mut hash = [0u8; 32];
        let mut hashes = std::collections::VecDeque::new();
        let log = self.receipt_log().await?;
        for (position, e) in (1u64..).zip(&log) {
            hash = entry_hash(&hash, &e.id.0, &e.visit_id, &e.receipt, e.recorded_at);
            if position >= from {
                if hashes.len() == max {
                    hashes.pop_front();
                }
                hashes.push_back(hash);
            }
        }
        Ok((log.len() as u64, hashes.into()))
    }
}
