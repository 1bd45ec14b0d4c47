//! Scheduling visits, one at a time or from a CSV file: the rules, apart from the database.
//! [`check_visit`] decides whether a visit may be booked from the visit and what the database
//! says about its agent and customer; [`read_csv`] turns a file into visits by line. An import
//! is all or nothing: every row is checked first, every problem is reported with its line
//! number, and only a clean file is stored, in one transaction.

use std::collections::{BTreeMap, HashSet};

use doorstep_core::ticket::{Check, CheckSet, CustomerField, FieldSet, VisitId};
use doorstep_core::when;
use uuid::Uuid;

use crate::db::agents::Agent;
use crate::db::customers::Customer;
use crate::db::organisations::Organisation;
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
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

/// A visit that passed every check, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedVisit {
    pub visit_ref: String,
    pub agent_id: Uuid,
    pub customer_id: Uuid,
    pub window_start: u64,
    pub window_minutes: u32,
    pub purpose: String,
    pub checks: CheckSet,
    pub fields: FieldSet,
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

/// Whether `v` may be booked at `now`, given its agent and customer as the database found them
/// (`None`: no such person). The message says everything there is to fix.
pub fn check_visit(
    v: &NewVisit,
    agent: Option<&Agent>,
    customer: Option<&Customer>,
    now: u64,
) -> Result<CheckedVisit, String> {
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
    let agent = match agent {
        Some(a) if a.revoked_at.is_some() => {
            problems.push(format!("agent {:?} is revoked", v.staff_ref));
            None
        }
        Some(a) => Some(a),
        None => {
            problems.push(format!("no agent {:?}", v.staff_ref));
            None
        }
    };
    if customer.is_none() {
        problems.push(format!("no customer {:?}", v.customer_ref));
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    let (Some(agent), Some(customer), Some(window_start), Ok(checks), Ok(fields)) =
        (agent, customer, window_start, checks, fields)
    else {
        unreachable!("every missing part added a problem");
    };
    // The handshake itself is always a check.
    let checks: CheckSet = checks.into_iter().chain([Check::DeviceKey]).collect();
    Ok(CheckedVisit {
        visit_ref: v.visit_ref.trim().to_string(),
        agent_id: agent.id,
        customer_id: customer.id,
        window_start,
        window_minutes: v.window_minutes,
        purpose: purpose.to_string(),
        checks,
        fields: fields.into_iter().collect(),
    })
}

/// The visits of a CSV file with [`CSV_HEADER`], each with its line; a row that cannot be read
/// or repeats a reference (of the file, or of `existing_refs`) is an error of its line.
pub fn read_csv(
    csv_text: &str,
    existing_refs: &HashSet<String>,
) -> (Vec<(u64, NewVisit)>, Vec<RowError>) {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let header_error = |message| (Vec::new(), vec![RowError { line: 1, message }]);
    match reader.headers() {
        Err(e) => return header_error(e.to_string()),
        Ok(h) if h.iter().ne(CSV_HEADER) => {
            return header_error(format!("the header must be {}", CSV_HEADER.join(",")));
        }
        Ok(_) => {}
    }
    let mut errors = Vec::new();
    let mut visits = Vec::new();
    let mut refs_in_file: BTreeMap<String, u64> = BTreeMap::new();
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
        let mut refuse = |message| errors.push(RowError { line, message });
        if record.len() != CSV_HEADER.len() {
            refuse(format!(
                "{} columns, expected {}",
                record.len(),
                CSV_HEADER.len()
            ));
            continue;
        }
        let Ok(window_minutes) = record[4].parse::<u32>() else {
            refuse(format!("window_minutes {:?} is not a number", &record[4]));
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
        if existing_refs.contains(&visit.visit_ref) {
            refuse(format!("visit {:?} already exists", visit.visit_ref));
            continue;
        }
        if let Some(first) = refs_in_file.insert(visit.visit_ref.clone(), line) {
            refuse(format!("visit {:?} also on line {first}", visit.visit_ref));
            continue;
        }
        visits.push((line, visit));
    }
    (visits, errors)
}

impl Db {
    /// Looks up the visit's agent and customer and applies [`check_visit`].
    async fn check_against_records(
        &self,
        org: &Organisation,
        v: &NewVisit,
        now: u64,
    ) -> Result<Result<CheckedVisit, String>, ServerError> {
        let agent = match self.agent(org, &v.staff_ref).await {
            Ok(a) => Some(a),
            Err(ServerError::UnknownAgent(_)) => None,
            Err(e) => return Err(e),
        };
        let customer = match self.customer(org, &v.customer_ref).await {
            Ok(c) => Some(c),
            Err(ServerError::UnknownCustomer(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(check_visit(v, agent.as_ref(), customer.as_ref(), now))
    }

    pub async fn add_visit(
        &self,
        org: &Organisation,
        visit: &NewVisit,
        now: u64,
    ) -> Result<VisitId, ServerError> {
        let checked = self
            .check_against_records(org, visit, now)
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
        let (visits, mut errors) = read_csv(csv_text, &self.visit_refs(org).await?);
        let mut checked = Vec::new();
        for (line, visit) in visits {
            match self.check_against_records(org, &visit, now).await? {
                Ok(c) => checked.push(c),
                Err(message) => errors.push(RowError { line, message }),
            }
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.line);
            return Err(ServerError::Import(errors));
        }
        self.insert_visits(org, &checked, now).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_s_bad_rows_are_reported_by_line_and_its_good_rows_kept() {
        let text = format!(
            "{}\nV-1,A-1,C-1,2026-11-24T09:30:00Z,120,Card,card_handover,full_name\n\
             V-1,A-1,C-1,2026-11-24T09:30:00Z,120,Card,,\n\
             V-2,A-1,C-1,2026-11-24T09:30:00Z,two hours,Card,,\n\
             V-3,A-1,C-1,2026-11-24T09:30:00Z,120,Card,,\n",
            CSV_HEADER.join(",")
        );
        let existing = HashSet::from(["V-3".to_string()]);
        let (visits, errors) = read_csv(&text, &existing);
        assert_eq!(visits.len(), 1);
        assert_eq!(visits[0].0, 2);
        let lines: Vec<u64> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5]);
        assert!(errors[0].message.contains("also on line 2"));
        assert!(errors[2].message.contains("already exists"));
    }

    #[test]
    fn a_visit_without_its_people_says_everything_to_fix_at_once() {
        let visit = NewVisit {
            visit_ref: "V-1".into(),
            staff_ref: "A-9".into(),
            customer_ref: "C-9".into(),
            window_start: "tomorrow".into(),
            window_minutes: 0,
            purpose: String::new(),
            checks: "teleport".into(),
            fields: String::new(),
        };
        let problems = check_visit(&visit, None, None, 0).unwrap_err();
        for expected in [
            "window_start",
            "window_minutes",
            "purpose",
            "unknown check",
            "no agent",
            "no customer",
        ] {
            assert!(
                problems.contains(expected),
                "{expected} missing: {problems}"
            );
        }
    }
}
