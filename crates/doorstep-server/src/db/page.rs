//! What the verification page's question needs: the ticket a pass names, with whether its
//! visit, agent and agent's phone still stand. SQL only; the rules are in `crate::page`.

use std::collections::HashSet;

use sqlx::Row;
use uuid::Uuid;

use super::office::ReferencesGiven;
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

    /// The page's reference for the pass with `pass_nonce`, on the visit `visit_id`: the one
    /// given before if the page asks again, otherwise `fresh`, stored. Two pages asking at once
    /// get the same.
    pub async fn page_reference_for_pass(
        &self,
        visit_id: [u8; 16],
        pass_nonce: &[u8],
        fresh: &str,
        now: u64,
    ) -> Result<String, ServerError> {
        sqlx::query(
            "INSERT INTO page_checks (visit_id, reference, pass_nonce, checked_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(visit_id.to_vec())
        .bind(fresh)
        .bind(pass_nonce.to_vec())
        .bind(rows::signed(now))
        .execute(&self.pool)
        .await?;
        sqlx::query_scalar("SELECT reference FROM page_checks WHERE pass_nonce = $1")
            .bind(pass_nonce.to_vec())
            .fetch_optional(&self.pool)
            .await?
            // Only if `fresh` was already another pass's reference for this visit: one in ten
            // million.
            .ok_or_else(|| ServerError::Damaged("page_checks: reference taken".into()))
    }

    /// The references the page gave for these visits, as (visit id, reference digits).
    pub async fn page_references(
        &self,
        visit_ids: &[[u8; 16]],
    ) -> Result<HashSet<([u8; 16], String)>, ServerError> {
        self.references_given(ReferencesGiven::ByThePage, visit_ids)
            .await
    }
}
