//! What the verification page's question needs: the ticket a pass names, with whether its
//! visit, agent and agent's phone still stand. SQL only; the rules are in `crate::page`.

use sqlx::Row;
use uuid::Uuid;

use super::rows;
use crate::{Db, ServerError};

/// A ticket as issued, and where its visit stands now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassTicket {
    pub organisation_id: Uuid,
    pub encoded: Vec<u8>,
    pub purpose: String,
    pub photo: Vec<u8>,
    pub visit_cancelled: bool,
    pub agent_revoked: bool,
    pub device_revoked: bool,
}

impl Db {
    pub async fn pass_ticket(&self, serial: u64) -> Result<Option<PassTicket>, ServerError> {
        let Some(row) = sqlx::query(
            "SELECT v.organisation_id, t.encoded, v.purpose, a.photo, v.cancelled_at,
                    a.revoked_at AS agent_revoked_at, d.revoked_at AS device_revoked_at
             FROM tickets t
             JOIN visits v ON v.id = t.visit_id
             JOIN agents a ON a.id = v.agent_id
             JOIN devices d ON d.id = t.agent_device_id
             WHERE t.serial = $1",
        )
        .bind(rows::signed(serial))
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let set = |column: &str| -> Result<bool, ServerError> {
            Ok(row.try_get::<Option<i64>, _>(column)?.is_some())
        };
        Ok(Some(PassTicket {
            organisation_id: rows::uuid(&row, "organisation_id")?,
            encoded: row.try_get("encoded")?,
            purpose: row.try_get("purpose")?,
            photo: row
                .try_get::<Option<Vec<u8>>, _>("photo")?
                .unwrap_or_default(),
            visit_cancelled: set("cancelled_at")?,
            agent_revoked: set("agent_revoked_at")?,
            device_revoked: set("device_revoked_at")?,
        }))
    }
}
