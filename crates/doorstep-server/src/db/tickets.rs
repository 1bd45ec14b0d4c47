//! The tickets table: one row per ticket issued, with its serial and signed encoding. What a
//! ticket says is decided in `crate::issuance`.

use doorstep_core::KeyId;
use uuid::Uuid;

use super::devices::Device;
use super::rows;
use super::visits::Visit;
use crate::{Db, ServerError};

impl Db {
    /// The ticket already issued for (visit, agent device, customer key), if any.
    pub async fn existing_ticket(
        &self,
        visit: &Visit,
        agent_device: &Device,
        customer_key_id: KeyId,
    ) -> Result<Option<Vec<u8>>, ServerError> {
        Ok(sqlx::query_scalar(
            "SELECT encoded FROM tickets WHERE visit_id = $1 AND agent_device_id = $2 AND customer_key_id = $3
             ORDER BY serial DESC LIMIT 1",
        )
        .bind(visit.id.0.to_vec())
        .bind(agent_device.id.as_bytes().to_vec())
        .bind(customer_key_id.0.to_vec())
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Records a new ticket: takes the next serial, has `encode` build and sign the ticket with
    /// it, and stores the result, in one transaction.
    pub async fn issue_ticket(
        &self,
        visit: &Visit,
        agent_device: &Device,
        customer_key_id: KeyId,
        now: u64,
        encode: impl FnOnce(u64) -> Result<Vec<u8>, ServerError>,
    ) -> Result<Vec<u8>, ServerError> {
        let mut tx = self.pool.begin().await?;
        let serial: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (visit_id, agent_device_id, customer_key_id, issued_at, encoded)
             VALUES ($1, $2, $3, $4, $5) RETURNING serial",
        )
        .bind(visit.id.0.to_vec())
        .bind(agent_device.id.as_bytes().to_vec())
        .bind(customer_key_id.0.to_vec())
        .bind(rows::signed(now))
        .bind(Vec::<u8>::new())
        .fetch_one(&mut *tx)
        .await?;
        let encoded =
            encode(u64::try_from(serial).map_err(|_| ServerError::Damaged("serial".into()))?)?;
        sqlx::query("UPDATE tickets SET encoded = $1 WHERE serial = $2")
            .bind(encoded.clone())
            .bind(serial)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(encoded)
    }

    /// The visit a receipt names, if it belongs to this agent.
    pub async fn visit_of_agent(
        &self,
        visit_id: &[u8],
        agent_id: Uuid,
    ) -> Result<Option<Visit>, ServerError> {
        sqlx::query(
            "SELECT id, visit_ref, agent_id, customer_id, window_start, window_minutes, purpose, checks, fields, completed_at
             FROM visits WHERE id = $1 AND agent_id = $2",
        )
        .bind(visit_id.to_vec())
        .bind(agent_id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| super::visits::visit_from_row(&r))
        .transpose()
    }
}
