//! Admitting signed requests: each nonce once (the replay guard) and at most so many requests
//! per device per minute (the rate limit), in the database so that every `serve` process on
//! one PostgreSQL enforces both together. Every step is an index look-up or insert, O(log n)
//! in the nonces held whatever times the senders pick.

use doorstep_core::KeyId;
use sqlx::Row;

use super::rows;
use crate::{Db, ServerError};

/// How long the rate limit looks back, in seconds.
pub const RATE_WINDOW: u64 = 60;

/// Requests one device may make per [`RATE_WINDOW`]. A phone's sync is a handful.
pub const DEFAULT_REQUESTS_PER_MINUTE: u32 = 60;

/// Why a signed request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The nonce was used before, inside its window.
    Replayed,
    /// Over the device's limit; it may try again after this many seconds.
    RateLimited { retry_after: u64 },
}

impl Db {
    /// Admits a verified request by `key_id` with `nonce`, which could be replayed until
    /// `expires`, if its nonce is new and the device is under `per_minute`.
    pub async fn admit_request(
        &self,
        key_id: KeyId,
        nonce: &[u8],
        expires: u64,
        now: u64,
        per_minute: u32,
    ) -> Result<Result<(), Refusal>, ServerError> {
        sqlx::query("DELETE FROM request_nonces WHERE keep_until <= $1")
            .bind(rows::signed(now))
            .execute(&self.pool)
            .await?;
        let since = rows::signed(now.saturating_sub(RATE_WINDOW));
        let recent = sqlx::query(
            "SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM request_nonces
             WHERE key_id = $1 AND received_at > $2",
        )
        .bind(key_id.0.to_vec())
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let count: i64 = recent.try_get("n")?;
        if count >= i64::from(per_minute) {
            let oldest: Option<i64> = recent.try_get("oldest")?;
            let oldest = oldest.map_or(now, |t| u64::try_from(t).unwrap_or(now));
            let retry_after = (oldest + RATE_WINDOW).saturating_sub(now).max(1);
            return Ok(Err(Refusal::RateLimited { retry_after }));
        }
        let keep_until = expires.max(now + RATE_WINDOW);
        let inserted = sqlx::query(
            "INSERT INTO request_nonces (key_id, nonce, received_at, keep_until) VALUES ($1, $2, $3, $4)
             ON CONFLICT (key_id, nonce) DO NOTHING",
        )
        .bind(key_id.0.to_vec())
        .bind(nonce.to_vec())
        .bind(rows::signed(now))
        .bind(rows::signed(keep_until))
        .execute(&self.pool)
        .await?
        .rows_affected();
        if inserted == 1 {
            // What the console shows as the device's last sync.
            sqlx::query("UPDATE devices SET last_seen_at = $1 WHERE key_id = $2")
                .bind(rows::signed(now))
                .bind(key_id.0.to_vec())
                .execute(&self.pool)
                .await?;
        }
        Ok(if inserted == 1 {
            Ok(())
        } else {
            Err(Refusal::Replayed)
        })
    }
}
