//! Scheduling visits, one at a time or from a CSV file. An import is all or nothing: every row
//! is checked first, every problem is reported with its line number, and only a clean file is
//! stored, in one transaction.

use std::collections::{BTreeMap, HashSet};

use doorstep_core::ticket::{Check, CheckSet, CustomerField, FieldSet, VisitId};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organisations::Organisation;
use doorstep_core::when;

use super::rows;
use crate::{Db, ServerError};

pub const MAX_WINDOW_MINUTES: u32 = 12 * 60;
pub const MAX_PURPOSE_CHARS: usize = 280;
/// The CSV header `visit import` expects.
pub const CSV_HEADER: [&str; 8] = [
    "visit_ref",
    "staff_ref",
    "customer_ref",
    "window_start",
    "window_minutes",
    "purpose",
    "checks",
    "fields",
];

/// A visit as an operator describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVisit {
    pub visit_ref: String,
    pub staff_ref: String,
    pub customer_ref: String,
    /// See [`when::parse`] for the accepted forms.
    pub window_start: String,
    pub window_minutes: u32,
    pub purpose: String,
    /// Check names separated by spaces (`device_key identity_document`).
    pub checks: String,
    /// Customer field names separated by spaces (`full_name postal_address`).
    pub fields: String,
}

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

/// One bad line of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

struct Checked {
    visit_ref: String,
    agent_id: Uuid,
    customer_id: Uuid,
    window_start: u64,
    window_minutes: u32,
    purpose: String,
    checks: CheckSet,
    fields: FieldSet,
}

fn parse_names<F: Copy>(
    text: &str,
    all: &[F],
    name: impl Fn(F) -> &'static str,
    what: &str,
) -> Result<Vec<F>, String> {
    text.split([' ', '+', ','])
        .filter(|s| !s.is_empty())
        .map(|s| {
            all.iter().copied().find(|f| name(*f) == s).ok_or_else(|| {
                let known: Vec<_> = all.iter().map(|f| name(*f)).collect();
                format!("unknown {what} {s:?} (known: {})", known.join(", "))
            })
        })
        .collect()
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
    /// Checks one visit against the organisation's agents and customers; the message says what
    /// to fix.
    async fn check_visit(
        &self,
        org: &Organisation,
        v: &NewVisit,
        now: u64,
    ) -> Result<Result<Checked, String>, ServerError> {
        let mut problems = Vec::new();
        if v.visit_ref.trim().is_empty() {
            problems.push("visit_ref is empty".to_string());
        }
        let window_start = when::parse(&v.window_start);
        if window_start.is_none() {
            problems.push(format!(
                "window_start {:?} is not a time like 2026-11-24T09:30:00Z",
                v.window_start
            ));
        }
        if !(1..=MAX_WINDOW_MINUTES).contains(&v.window_minutes) {
            problems.push(format!(
                "window_minutes must be 1 to {MAX_WINDOW_MINUTES}, not {}",
                v.window_minutes
            ));
        }
        if let Some(start) = window_start
            && start + u64::from(v.window_minutes) * 60 <= now
        {
            problems.push("the visit window has already ended".into());
        }
        let purpose = v.purpose.trim();
        if purpose.is_empty() || purpose.chars().count() > MAX_PURPOSE_CHARS {
            problems.push(format!(
                "purpose must be 1 to {MAX_PURPOSE_CHARS} characters"
            ));
        }
        let checks = parse_names(&v.checks, Check::ALL, Check::name, "check");
        let fields = parse_names(&v.fields, CustomerField::ALL, CustomerField::name, "field");
        for e in [checks.as_ref().err(), fields.as_ref().err()]
            .into_iter()
            .flatten()
        {
            problems.push(e.clone());
        }
        let agent = match self.agent(org, &v.staff_ref).await {
            Ok(a) if a.revoked_at.is_some() => {
                problems.push(format!("agent {:?} is revoked", v.staff_ref));
                None
            }
            Ok(a) => Some(a),
            Err(ServerError::UnknownAgent(_)) => {
                problems.push(format!("no agent {:?}", v.staff_ref));
                None
            }
            Err(e) => return Err(e),
        };
        let customer = match self.customer(org, &v.customer_ref).await {
            Ok(c) => Some(c),
            Err(ServerError::UnknownCustomer(_)) => {
                problems.push(format!("no customer {:?}", v.customer_ref));
                None
            }
            Err(e) => return Err(e),
        };
        if !problems.is_empty() {
            return Ok(Err(problems.join("; ")));
        }
        let (Some(agent), Some(customer), Some(window_start), Ok(checks), Ok(fields)) =
            (agent, customer, window_start, checks, fields)
        else {
            unreachable!("every missing part added a problem");
        };
        // The handshake itself is always a check.
        let checks: CheckSet = checks.into_iter().chain([Check::DeviceKey]).collect();
        Ok(Ok(Checked {
            visit_ref: v.visit_ref.trim().to_string(),
            agent_id: agent.id,
            customer_id: customer.id,
            window_start,
            window_minutes: v.window_minutes,
            purpose: purpose.to_string(),
            checks,
            fields: fields.into_iter().collect(),
        }))
    }

    async fn insert_visits(
        &self,
        org: &Organisation,
        visits: &[Checked],
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

    pub async fn add_visit(
        &self,
        org: &Organisation,
        visit: &NewVisit,
        now: u64,
    ) -> Result<VisitId, ServerError> {
        let checked = self
            .check_visit(org, visit, now)
            .await?
            .map_err(ServerError::Invalid)?;
        Ok(self.insert_visits(org, &[checked], now).await?[0])
    }

    /// Imports a CSV file with [`CSV_HEADER`]; all rows or none.
    pub async fn import_visits(
        &self,
        org: &Organisation,
        csv_text: &str,
        now: u64,
    ) -> Result<Vec<VisitId>, ServerError> {
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(true)
            .from_reader(csv_text.as_bytes());
        let header = reader
            .headers()
            .map_err(|e| {
                ServerError::Import(vec![RowError {
                    line: 1,
                    message: e.to_string(),
                }])
            })?
            .clone();
        if header.iter().ne(CSV_HEADER) {
            return Err(ServerError::Import(vec![RowError {
                line: 1,
                message: format!("the header must be {}", CSV_HEADER.join(",")),
            }]));
        }
        let mut errors = Vec::new();
        let mut checked = Vec::new();
        let mut refs_in_file: BTreeMap<String, u64> = BTreeMap::new();
        let existing: HashSet<String> =
            sqlx::query_scalar("SELECT visit_ref FROM visits WHERE organisation_id = $1")
                .bind(org.id.as_bytes().to_vec())
                .fetch_all(&self.pool)
                .await?
                .into_iter()
                .collect();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line());
                    errors.push(RowError {
                        line,
                        message: e.to_string(),
                    });
                    continue;
                }
            };
            let line = record.position().map_or(0, |p| p.line());
            if record.len() != CSV_HEADER.len() {
                errors.push(RowError {
                    line,
                    message: format!("{} columns, expected {}", record.len(), CSV_HEADER.len()),
                });
                continue;
            }
            let Ok(window_minutes) = record[4].parse::<u32>() else {
                errors.push(RowError {
                    line,
                    message: format!("window_minutes {:?} is not a number", &record[4]),
                });
                continue;
            };
            let visit = NewVisit {
                visit_ref: record[0].into(),
                staff_ref: record[1].into(),
                customer_ref: record[2].into(),
                window_start: record[3].into(),
                window_minutes,
                purpose: record[5].into(),
                checks: record[6].into(),
                fields: record[7].into(),
            };
            if existing.contains(&visit.visit_ref) {
                errors.push(RowError {
                    line,
                    message: format!("visit {:?} already exists", visit.visit_ref),
                });
                continue;
            }
            if let Some(first) = refs_in_file.insert(visit.visit_ref.clone(), line) {
                errors.push(RowError {
                    line,
                    message: format!("visit {:?} also on line {first}", visit.visit_ref),
                });
                continue;
            }
            match self.check_visit(org, &visit, now).await? {
                Ok(c) => checked.push(c),
                Err(message) => errors.push(RowError { line, message }),
            }
        }
        if !errors.is_empty() {
            return Err(ServerError::Import(errors));
        }
        self.insert_visits(org, &checked, now).await
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
             WHERE {column} = $1 AND completed_at IS NULL
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
