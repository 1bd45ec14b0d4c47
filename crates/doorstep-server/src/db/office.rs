//! Plan B: visits the office's operator confirmed by phone, and the references given.

use std::collections::HashSet;

use doorstep_core::Policy;
use doorstep_core::office::OfficeReference;
use doorstep_core::system::SystemRandomness;
use doorstep_core::ticket::window_includes;
use sqlx::Row;

use super::rows;
use crate::db::organisations::Organisation;
use crate::{Db, ServerError};

/// What the operator reads back to the customer: who is booked, when, and the reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficeConfirmation {
    pub visit_ref: String,
    pub agent_name: String,
    pub agent_staff_ref: String,
    pub window_start: u64,
    pub window_minutes: u32,
    pub reference: OfficeReference,
}

impl Db {
    /// The operator confirmed the visit `visit_ref` with the customer on the official line: a
    /// fresh reference for the agent's receipt. Only a visit that can take place now: not
    /// cancelled, its agent not revoked, its window now (with the tolerance the phones allow).
    pub async fn confirm_visit_by_phone(
        &self,
        org: &Organisation,
        visit_ref: &str,
        confirmed_by: &str,
        now: u64,
    ) -> Result<OfficeConfirmation, ServerError> {
        if confirmed_by.trim().is_empty() {
            return Err(ServerError::Invalid(
                "say who confirmed the visit (--by)".into(),
            ));
        }
        let row = sqlx::query(
            "SELECT v.id, v.window_start, v.window_minutes, v.cancelled_at, a.display_name, a.staff_ref, a.revoked_at
             FROM visits v JOIN agents a ON a.id = v.agent_id
             WHERE v.organisation_id = $1 AND v.visit_ref = $2",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(visit_ref)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownVisit(visit_ref.into()))?;
        let window_start = rows::unsigned(&row, "window_start")?;
        let window_minutes = u32::try_from(rows::unsigned(&row, "window_minutes")?)
            .map_err(|_| ServerError::Damaged("window_minutes".into()))?;
        let staff_ref: String = row.try_get("staff_ref")?;
        if row.try_get::<Option<i64>, _>("cancelled_at")?.is_some() {
            return Err(ServerError::Invalid(format!(
                "visit {visit_ref} was cancelled: nobody should be at the door for it"
            )));
        }
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Err(ServerError::AgentRevoked(staff_ref));
        }
        let window_end = window_start + u64::from(window_minutes) * 60;
        if !window_includes(window_start, window_end, now, Policy::default().clock_skew) {
            return Err(ServerError::Invalid(format!(
                "visit {visit_ref} is not booked for now: confirm it only while the agent is at the door"
            )));
        }
        let visit_id: Vec<u8> = row.try_get("id")?;
        let reference = OfficeReference::generate(&mut SystemRandomness);
        sqlx::query(
            "INSERT INTO office_confirmations (visit_id, reference, confirmed_at, confirmed_by) VALUES ($1, $2, $3, $4)",
        )
        .bind(visit_id)
        .bind(reference.digits())
        .bind(rows::signed(now))
        .bind(confirmed_by.trim())
        .execute(&self.pool)
        .await?;
        Ok(OfficeConfirmation {
            visit_ref: visit_ref.into(),
            agent_name: row.try_get("display_name")?,
            agent_staff_ref: staff_ref,
            window_start,
            window_minutes,
            reference,
        })
    }

    /// The references given for these visits, as (visit id, reference digits).
    pub async fn office_references(
        &self,
        visit_ids: &[[u8; 16]],
    ) -> Result<HashSet<([u8; 16], String)>, ServerError> {
        self.references_given(ReferencesGiven::ByTheOffice, visit_ids)
            .await
    }

    /// The references the office's operator or the verification page gave for these visits.
    pub(crate) async fn references_given(
        &self,
        by: ReferencesGiven,
        visit_ids: &[[u8; 16]],
    ) -> Result<HashSet<([u8; 16], String)>, ServerError> {
        if visit_ids.is_empty() {
            return Ok(HashSet::new());
        }
        let table = match by {
            ReferencesGiven::ByTheOffice => "office_confirmations",
            ReferencesGiven::ByThePage => "page_checks",
        };
        let sql = format!(
            "SELECT visit_id, reference FROM {table} WHERE visit_id IN ({})",
            self.params(1, visit_ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for v in visit_ids {
            query = query.bind(v.to_vec());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    rows::fixed(r, "visit_id")?,
                    r.try_get::<String, _>("reference")?,
                ))
            })
            .collect()
    }
}

/// Who gave a reference: each backs its own outcome only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReferencesGiven {
    ByTheOffice,
    ByThePage,
}
