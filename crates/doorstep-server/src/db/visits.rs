//! The visits table. What may be scheduled is decided in `crate::planning`.

use std::collections::HashSet;

use doorstep_core::ticket::{CheckSet, FieldSet, VisitId};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organisations::Organisation;

use super::rows;
use crate::planning::CheckedVisit;
use crate::{Db, ServerError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub id: VisitId,
    pub visit_ref: String,
    pub agent_id: Uuid,
    pub customer_id: Uuid,
    pub window_start: u64,
    pub window_minutes: u32,
    pub purpose: String,
    pub checks: CheckSet,
    pub fields: FieldSet,
    pub completed_at: Option<u64>,
}

impl Visit {
    pub fn window_end(&self) -> u64 {
        self.window_start + u64::from(self.window_minutes) * 60
    }
}

const VISIT_COLUMNS: &str = "id, visit_ref, agent_id, customer_id, window_start, window_minutes, purpose, checks, fields, completed_at";

pub(crate) fn visit_from_row(r: &AnyRow) -> Result<Visit, ServerError> {
    let bits = |c: &str| -> Result<u64, ServerError> { rows::unsigned(r, c) };
    Ok(Visit {
        id: VisitId(rows::fixed(r, "id")?),
        visit_ref: r.try_get("visit_ref")?,
        agent_id: rows::uuid(r, "agent_id")?,
        customer_id: rows::uuid(r, "customer_id")?,
        window_start: rows::unsigned(r, "window_start")?,
        window_minutes: u32::try_from(rows::unsigned(r, "window_minutes")?)
            .map_err(|_| ServerError::Damaged("window minutes".into()))?,
        purpose: r.try_get("purpose")?,
        checks: CheckSet::from_bits(bits("checks")?)
            .ok_or_else(|| ServerError::Damaged("checks".into()))?,
        fields: FieldSet::from_bits(bits("fields")?)
            .ok_or_else(|| ServerError::Damaged("fields".into()))?,
        completed_at: r
            .try_get::<Option<i64>, _>("completed_at")?
            .map(|t| u64::try_from(t).unwrap_or(0)),
    })
}

impl Db {
    /// The visit references the organisation has used.
    pub async fn visit_refs(&self, org: &Organisation) -> Result<HashSet<String>, ServerError> {
        Ok(
            sqlx::query_scalar("SELECT visit_ref FROM visits WHERE organisation_id = $1")
                .bind(org.id.as_bytes().to_vec())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect(),
        )
    }

    /// Stores checked visits in one transaction: all or none.
    pub async fn insert_visits(
        &self,
        org: &Organisation,
        visits: &[CheckedVisit],
        now: u64,
    ) -> Result<Vec<VisitId>, ServerError> {
        let mut tx = self.pool.begin().await?;
        let mut ids = Vec::with_capacity(visits.len());
        for v in visits {
            let id = VisitId(*Uuid::now_v7().as_bytes());
            let inserted = sqlx::query(
                "INSERT INTO visits (id, organisation_id, visit_ref, agent_id, customer_id, window_start, window_minutes, purpose, checks, fields, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(id.0.to_vec())
            .bind(org.id.as_bytes().to_vec())
            .bind(&v.visit_ref)
            .bind(v.agent_id.as_bytes().to_vec())
            .bind(v.customer_id.as_bytes().to_vec())
            .bind(rows::signed(v.window_start))
            .bind(i64::from(v.window_minutes))
            .bind(&v.purpose)
            .bind(i64::from(v.checks.bits()))
            .bind(i64::from(v.fields.bits()))
            .bind(rows::signed(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(ServerError::VisitExists(v.visit_ref.clone()));
                }
                other => {
                    other?;
                }
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    pub async fn visits(&self, org: &Organisation) -> Result<Vec<Visit>, ServerError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VISIT_COLUMNS} FROM visits WHERE organisation_id = $1 ORDER BY window_start, visit_ref"
        )))
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(visit_from_row)
        .collect()
    }

    /// Open visits of one agent or one customer that end after `now` and start before
    /// `now + horizon`.
    pub(crate) async fn open_visits_of(
        &self,
        column: SubjectColumn,
        subject: Uuid,
        now: u64,
        horizon: u64,
    ) -> Result<Vec<Visit>, ServerError> {
        let column = match column {
            SubjectColumn::Agent => "agent_id",
            SubjectColumn::Customer => "customer_id",
        };
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {VISIT_COLUMNS} FROM visits
             WHERE {column} = $1 AND completed_at IS NULL AND cancelled_at IS NULL
               AND window_start + window_minutes * 60 > $2 AND window_start <= $3
             ORDER BY window_start, visit_ref"
        )))
        .bind(subject.as_bytes().to_vec())
        .bind(rows::signed(now))
        .bind(rows::signed(now.saturating_add(horizon)))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(visit_from_row)
        .collect()
    }
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum SubjectColumn {
    Agent,
    Customer,
}
