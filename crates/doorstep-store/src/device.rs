//! The device's own signing key (sealed) and the receipts a customer keeps.

use sqlx::Row;

use doorstep_core::customer::CustomerReceipt;

use crate::sealing::SealedColumn;
use crate::{Store, StoreError, to_i64};

const DEVICE_SECRET: SealedColumn = SealedColumn {
    table: "device_secret",
    column: "key_sealed",
};

impl Store {
    /// The device's signing key, if one was stored.
    pub async fn device_secret(&self) -> Result<Option<Vec<u8>>, StoreError> {
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT key_sealed FROM device_secret WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        sealed
            .map(|s| self.sealer.open(DEVICE_SECRET, b"1", &s))
            .transpose()
    }

    /// Stores the device's signing key once; a second key would orphan the enrolment, so it
    /// is refused.
    pub async fn put_device_secret(&self, secret: &[u8]) -> Result<(), StoreError> {
        let sealed = self.sealer.seal(DEVICE_SECRET, b"1", secret)?;
        let inserted = sqlx::query(
            "INSERT INTO device_secret (id, key_sealed) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(sealed)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::Damaged(
                "device_secret: a key is already stored".into(),
            ));
        }
        Ok(())
    }

    /// Keeps (or updates, when the agent's receipt arrives later) the customer's receipt.
    pub async fn keep_receipt(
        &self,
        receipt: &CustomerReceipt,
        now: u64,
    ) -> Result<(), StoreError> {
        let body =
            serde_json::to_string(receipt).map_err(|e| StoreError::Damaged(e.to_string()))?;
        sqlx::query(
            "INSERT INTO kept_receipts (visit_id, body, created_at) VALUES (?, ?, ?)
             ON CONFLICT (visit_id) DO UPDATE SET body = excluded.body",
        )
        .bind(receipt.visit_id.0.to_vec())
        .bind(body)
        .bind(to_i64(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The customer's kept receipts, newest first.
    pub async fn kept_receipts(&self) -> Result<Vec<CustomerReceipt>, StoreError> {
        let rows = sqlx::query("SELECT body FROM kept_receipts ORDER BY created_at DESC, visit_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                serde_json::from_str(&body)
                    .map_err(|e| StoreError::Damaged(format!("kept_receipts: {e}")))
            })
            .collect()
    }
}
