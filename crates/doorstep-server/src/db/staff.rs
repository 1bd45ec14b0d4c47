//! Staff accounts, console sessions, failed logins and the audit log. Sessions and failures
//! live here rather than in one process's memory, so several `serve` processes share them.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organisations::Organisation;
use super::rows;
use crate::staff::{
    LOGIN_WINDOW_SECONDS, RecentFailures, SESSION_IDLE_SECONDS, SESSION_MAX_SECONDS, SessionToken,
    StaffRole,
};
use crate::{Db, ServerError};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Staff {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

pub struct NewStaff<'a> {
    pub username: &'a str,
    pub display_name: &'a str,
    pub role: StaffRole,
    /// Argon2id PHC string (`staff::hash_password`).
    pub password_hash: &'a str,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AuditEntry {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: Uuid,
    pub at: i64,
    pub staff_username: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
}

const STAFF_COLUMNS: &str =
    "s.id, s.organisation_id, s.username, s.display_name, s.role, s.created_at, s.disabled_at";

fn staff_from_row(r: &AnyRow) -> Result<Staff, ServerError> {
    let role: String = r.try_get("role")?;
    Ok(Staff {
        id: rows::uuid(r, "id")?,
        organisation_id: rows::uuid(r, "organisation_id")?,
        username: r.try_get("username")?,
        display_name: r.try_get("display_name")?,
        role: StaffRole::parse(&role).ok_or_else(|| ServerError::Damaged("staff role".into()))?,
        created_at: r.try_get("created_at")?,
        disabled_at: r.try_get("disabled_at")?,
    })
}

/// Usernames are compared as typed, without case.
pub fn normalise_username(username: &str) -> String {
    username.trim().to_lowercase()
}

impl Db {
    pub async fn add_staff(
        &self,
        org: &Organisation,
        new: NewStaff<'_>,
        now: u64,
    ) -> Result<Staff, ServerError> {
        let username = normalise_username(new.username);
        if username.is_empty()
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c))
        {
            return Err(ServerError::Invalid(
                "a username has 1 to 64 letters, digits or . _ - @".into(),
            ));
        }
        let display_name = new.display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(ServerError::Invalid(
                "a staff member's name has 1 to 100 characters".into(),
            ));
        }
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO staff (id, organisation_id, username, display_name, role, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(org.id.as_bytes().to_vec())
        .bind(&username)
        .bind(display_name)
        .bind(new.role.as_str())
        .bind(new.password_hash)
        .bind(rows::signed(now))
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(ServerError::Invalid(format!(
                    "the username {username:?} is taken"
                )));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Staff {
            id,
            organisation_id: org.id,
            username,
            display_name: display_name.to_string(),
            role: new.role,
            created_at: rows::signed(now),
            disabled_at: None,
        })
    }

    pub async fn list_staff(&self, org: &Organisation) -> Result<Vec<Staff>, ServerError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.organisation_id = $1 ORDER BY s.username"
        )))
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(staff_from_row).collect()
    }

    /// The account and its password hash, if the username exists and is not disabled.
    pub async fn staff_for_login(
        &self,
        username: &str,
    ) -> Result<Option<(Staff, String)>, ServerError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS}, s.password_hash FROM staff s
             WHERE s.username = $1 AND s.disabled_at IS NULL"
        )))
        .bind(normalise_username(username))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((staff_from_row(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    /// Disables an account and ends its sessions at once.
    pub async fn disable_staff(
        &self,
        org: &Organisation,
        username: &str,
        now: u64,
    ) -> Result<Staff, ServerError> {
        let username = normalise_username(username);
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS} FROM staff s WHERE s.organisation_id = $1 AND s.username = $2"
        )))
        .bind(org.id.as_bytes().to_vec())
        .bind(&username)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| ServerError::Invalid(format!("no staff member {username:?}")))?;
        let mut staff = staff_from_row(&row)?;
        sqlx::query("UPDATE staff SET disabled_at = $1 WHERE id = $2 AND disabled_at IS NULL")
            .bind(rows::signed(now))
            .bind(staff.id.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
            .bind(staff.id.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        staff.disabled_at.get_or_insert(rows::signed(now));
        Ok(staff)
    }

    pub async fn start_session(
        &self,
        staff: &Staff,
        token: &SessionToken,
        now: u64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO staff_sessions (token_hash, staff_id, created_at, last_seen, expires_at)
             VALUES ($1, $2, $3, $3, $4)",
        )
        .bind(token.stored_hash().to_vec())
        .bind(staff.id.as_bytes().to_vec())
        .bind(rows::signed(now))
        .bind(rows::signed(now + SESSION_MAX_SECONDS))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The staff member a live session belongs to, and the session kept alive; `None` for an
    /// unknown, idle, expired or disabled one.
    pub async fn session_staff(
        &self,
        token: &SessionToken,
        now: u64,
    ) -> Result<Option<Staff>, ServerError> {
        let hash = token.stored_hash().to_vec();
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {STAFF_COLUMNS}, x.last_seen, x.expires_at FROM staff_sessions x
             JOIN staff s ON s.id = x.staff_id
             WHERE x.token_hash = $1 AND s.disabled_at IS NULL"
        )))
        .bind(&hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let last_seen = rows::unsigned(&row, "last_seen")?;
        let expires_at = rows::unsigned(&row, "expires_at")?;
        if now >= expires_at || now >= last_seen + SESSION_IDLE_SECONDS {
            self.end_session(token).await?;
            return Ok(None);
        }
        sqlx::query("UPDATE staff_sessions SET last_seen = $1 WHERE token_hash = $2")
            .bind(rows::signed(now))
            .bind(&hash)
            .execute(&self.pool)
            .await?;
        staff_from_row(&row).map(Some)
    }

    pub async fn end_session(&self, token: &SessionToken) -> Result<(), ServerError> {
        sqlx::query("DELETE FROM staff_sessions WHERE token_hash = $1")
            .bind(token.stored_hash().to_vec())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn recent_login_failures(
        &self,
        username: &str,
        address: &str,
        now: u64,
    ) -> Result<RecentFailures, ServerError> {
        let since = rows::signed(now.saturating_sub(LOGIN_WINDOW_SECONDS));
        sqlx::query("DELETE FROM login_failures WHERE at <= $1")
            .bind(since)
            .execute(&self.pool)
            .await?;
        let count = |column: &'static str, value: String| {
            let sql = format!(
                "SELECT COUNT(*) AS n, MIN(at) AS oldest FROM login_failures WHERE {column} = $1 AND at > $2"
            );
            async move {
                let r = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(value)
                    .bind(since)
                    .fetch_one(&self.pool)
                    .await?;
                let n: i64 = r.try_get("n")?;
                let oldest: Option<i64> = r.try_get("oldest")?;
                Ok::<_, ServerError>((
                    u32::try_from(n).unwrap_or(u32::MAX),
                    oldest.and_then(|t| u64::try_from(t).ok()),
                ))
            }
        };
        let (for_username, oldest_for_username) =
            count("username", normalise_username(username)).await?;
        let (from_address, oldest_from_address) = count("address", address.to_string()).await?;
        Ok(RecentFailures {
            for_username,
            oldest_for_username,
            from_address,
            oldest_from_address,
        })
    }

    pub async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        now: u64,
    ) -> Result<(), ServerError> {
        sqlx::query("INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)")
            .bind(normalise_username(username))
            .bind(address)
            .bind(rows::signed(now))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Appends to the organisation's audit log; nothing ever changes or removes a line.
    pub async fn audit(
        &self,
        organisation_id: Uuid,
        by: Option<&Staff>,
        action: &str,
        subject: &str,
        detail: &str,
        now: u64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO audit_log (id, organisation_id, at, staff_id, staff_username, action, subject, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::now_v7().as_bytes().to_vec())
        .bind(organisation_id.as_bytes().to_vec())
        .bind(rows::signed(now))
        .bind(by.map(|s| s.id.as_bytes().to_vec()))
        .bind(by.map_or("(system)", |s| s.username.as_str()))
        .bind(action)
        .bind(subject)
        .bind(detail)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest `limit` lines before `before` (an entry's id), newest first.
    pub async fn audit_log(
        &self,
        organisation_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, ServerError> {
        let before = before.unwrap_or(Uuid::max()).as_bytes().to_vec();
        let rows = sqlx::query(
            "SELECT id, at, staff_username, action, subject, detail FROM audit_log
             WHERE organisation_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
        )
        .bind(organisation_id.as_bytes().to_vec())
        .bind(before)
        .bind(i64::from(limit.min(500)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: rows::uuid(r, "id")?,
                    at: r.try_get("at")?,
                    staff_username: r.try_get("staff_username")?,
                    action: r.try_get("action")?,
                    subject: r.try_get("subject")?,
                    detail: r.try_get("detail")?,
                })
            })
            .collect()
    }
}

/// A visit as the console's day view lists it: who, when, and how it stands.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitLine {
    pub visit_ref: String,
    pub agent_ref: String,
    pub agent_name: String,
    pub customer_ref: String,
    pub window_start: i64,
    pub window_minutes: i64,
    pub purpose: String,
    pub cancelled: bool,
    /// The outcome of the latest receipt received; none yet while the visit is scheduled.
    pub outcome: Option<doorstep_core::Outcome>,
    /// Reports (a customer's or an agent's) received about this visit.
    pub reports: i64,
}

/// At most this many visits in one page of a listing.
pub const MAX_VISIT_PAGE: u32 = 500;

/// Which visits a listing shows: those whose window overlaps `[from, to)`, narrowed down.
#[derive(Debug, Clone, Default)]
pub struct VisitQuery<'a> {
    pub from: u64,
    pub to: u64,
    pub agent_ref: Option<&'a str>,
    pub customer_ref: Option<&'a str>,
    pub visit_ref: Option<&'a str>,
    /// `scheduled`, `cancelled` or an outcome's name.
    pub state: Option<&'a str>,
    pub offset: u32,
    pub limit: u32,
}

/// One page of a listing, with how many visits match in all and the agents among them (to
/// filter by).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitPage {
    pub lines: Vec<VisitLine>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
    pub agents: Vec<AgentName>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentName {
    pub agent_ref: String,
    pub agent_name: String,
}

/// The states a listing filters by, besides the outcomes.
pub const VISIT_STATES: [&str; 2] = ["scheduled", "cancelled"];

impl Db {
    /// A page of the organisation's visits as `query` narrows them, in window order.
    pub async fn visit_lines(
        &self,
        organisation_id: Uuid,
        query: &VisitQuery<'_>,
    ) -> Result<VisitPage, ServerError> {
        let state = query.state.unwrap_or("");
        if !state.is_empty()
            && !VISIT_STATES.contains(&state)
            && serde_json::from_value::<doorstep_core::Outcome>(state.into()).is_err()
        {
            return Err(ServerError::Invalid(format!("no visit state {state:?}")));
        }
        let inner =
            "SELECT v.visit_ref, a.staff_ref, a.display_name, c.customer_ref, v.window_start,
                    v.window_minutes, v.purpose, v.cancelled_at,
                    (SELECT r.outcome FROM results r WHERE r.visit_id = v.id AND r.kind = 'receipt'
                     ORDER BY r.received_at DESC LIMIT 1) AS outcome,
                    (SELECT COUNT(*) FROM results r WHERE r.visit_id = v.id AND r.kind = 'report')
                     AS reports
             FROM visits v
             JOIN agents a ON a.id = v.agent_id
             JOIN customers c ON c.id = v.customer_id
             WHERE v.organisation_id = $1 AND v.window_start < $3
               AND v.window_start + v.window_minutes * 60 > $2
               AND ($4 = '' OR c.customer_ref = $4)
               AND ($9 = '' OR v.visit_ref = $9)";
        let narrowed = format!(
            "FROM ({inner}) t
             WHERE ($5 = '' OR t.staff_ref = $5)
               AND ($6 = '' OR ($6 = 'cancelled' AND t.cancelled_at IS NOT NULL)
                    OR ($6 = 'scheduled' AND t.cancelled_at IS NULL AND t.outcome IS NULL)
                    OR (t.cancelled_at IS NULL AND t.outcome = $6))"
        );
        let org = organisation_id.as_bytes().to_vec();
        let agent = query.agent_ref.unwrap_or("");
        let customer = query.customer_ref.unwrap_or("");
        // Every statement binds the same nine values, used or not, so numbering stays one.
        let visit_ref = query.visit_ref.unwrap_or("");
        let limit = i64::from(query.limit.clamp(1, MAX_VISIT_PAGE));
        let statement = |sql: String| {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(org.clone())
                .bind(rows::signed(query.from))
                .bind(rows::signed(query.to))
                .bind(customer.to_string())
                .bind(agent.to_string())
                .bind(state.to_string())
                .bind(limit)
                .bind(i64::from(query.offset))
                .bind(visit_ref.to_string())
        };
        let total: i64 = statement(format!(
            "SELECT COUNT(*) AS n {narrowed} AND $7 > 0 AND $8 >= 0"
        ))
        .fetch_one(&self.pool)
        .await?
        .try_get("n")?;
        let rows = statement(format!(
            "SELECT t.* {narrowed} ORDER BY t.window_start, t.visit_ref LIMIT $7 OFFSET $8"
        ))
        .fetch_all(&self.pool)
        .await?;
        let agents = sqlx::query(
            "SELECT DISTINCT a.staff_ref, a.display_name FROM visits v JOIN agents a ON a.id = v.agent_id
             WHERE v.organisation_id = $1 AND v.window_start < $3
               AND v.window_start + v.window_minutes * 60 > $2
             ORDER BY a.display_name, a.staff_ref",
        )
        .bind(&org)
        .bind(rows::signed(query.from))
        .bind(rows::signed(query.to))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(AgentName {
                agent_ref: r.try_get("staff_ref")?,
                agent_name: r.try_get("display_name")?,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;
        let lines = rows
            .iter()
            .map(|r| {
                let cancelled: Option<i64> = r.try_get("cancelled_at")?;
                let outcome = r
                    .try_get::<Option<String>, _>("outcome")?
                    .map(|name| {
                        serde_json::from_value(serde_json::Value::String(name))
                            .map_err(|_| ServerError::Damaged("result outcome".into()))
                    })
                    .transpose()?;
                Ok(VisitLine {
                    visit_ref: r.try_get("visit_ref")?,
                    agent_ref: r.try_get("staff_ref")?,
                    agent_name: r.try_get("display_name")?,
                    customer_ref: r.try_get("customer_ref")?,
                    window_start: r.try_get("window_start")?,
                    window_minutes: r.try_get("window_minutes")?,
                    purpose: r.try_get("purpose")?,
                    cancelled: cancelled.is_some(),
                    outcome,
                    reports: r.try_get("reports")?,
                })
            })
            .collect::<Result<Vec<_>, ServerError>>()?;
        Ok(VisitPage {
            lines,
            total: u64::try_from(total).unwrap_or(0),
            agents,
        })
    }
}

/// Where a report stands at the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    New,
    CalledBack,
    Closed,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::New => "new",
            ReportState::CalledBack => "called_back",
            ReportState::Closed => "closed",
        }
    }
}

/// A report in the office's queue.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReportLine {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: Uuid,
    pub received_at: i64,
    /// Who sent it: a customer's phone or an agent's.
    pub from_role: doorstep_core::Role,
    /// The customer's or the agent's reference.
    pub from_ref: String,
    pub visit_ref: Option<String>,
    /// The error the phone refused the visitor with, if any.
    pub reason: Option<String>,
    /// Empty once the retention period erased it.
    pub note: String,
    pub state: ReportState,
}

impl Db {
    /// The organisation's reports, newest first, at most 500.
    /// Reports newest first; only those about `visit_ref` if given.
    pub async fn report_lines(
        &self,
        organisation_id: Uuid,
        visit_ref: Option<&str>,
    ) -> Result<Vec<ReportLine>, ServerError> {
        let rows = sqlx::query(
            "SELECT r.upload_id, r.received_at, r.payload, d.role, v.visit_ref, h.state,
                    COALESCE(a.staff_ref, c.customer_ref) AS from_ref
             FROM results r
             JOIN devices d ON d.id = r.device_id
             LEFT JOIN agents a ON d.role = 'agent' AND a.id = d.subject_id
             LEFT JOIN customers c ON d.role = 'customer' AND c.id = d.subject_id
             LEFT JOIN visits v ON v.id = r.visit_id
             LEFT JOIN report_handling h ON h.upload_id = r.upload_id
             WHERE r.organisation_id = $1 AND r.kind = 'report'
               AND ($2 = '' OR v.visit_ref = $2)
             ORDER BY r.received_at DESC, r.upload_id DESC
             LIMIT 500",
        )
        .bind(organisation_id.as_bytes().to_vec())
        .bind(visit_ref.unwrap_or(""))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let payload: Vec<u8> = r.try_get("payload")?;
                // Erased reports keep no text; anything else was checked when it arrived.
                let report = serde_json::from_slice::<doorstep_api::wire::Report>(&payload).ok();
                let role: String = r.try_get("role")?;
                let state = match r.try_get::<Option<String>, _>("state")?.as_deref() {
                    None => ReportState::New,
                    Some("called_back") => ReportState::CalledBack,
                    Some("closed") => ReportState::Closed,
                    Some(_) => return Err(ServerError::Damaged("report state".into())),
                };
                Ok(ReportLine {
                    id: rows::uuid(r, "upload_id")?,
                    received_at: r.try_get("received_at")?,
                    from_role: doorstep_core::Role::parse(&role)
                        .ok_or_else(|| ServerError::Damaged("device role".into()))?,
                    from_ref: r
                        .try_get::<Option<String>, _>("from_ref")?
                        .unwrap_or_default(),
                    visit_ref: r.try_get("visit_ref")?,
                    reason: report.as_ref().and_then(|r| r.reason.clone()),
                    note: report.map(|r| r.note).unwrap_or_default(),
                    state,
                })
            })
            .collect()
    }

    /// Moves a report on (new → called back → closed, or straight to closed).
    pub async fn set_report_state(
        &self,
        organisation_id: Uuid,
        id: Uuid,
        state: ReportState,
        by: &str,
        now: u64,
    ) -> Result<(), ServerError> {
        let known: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT upload_id FROM results WHERE organisation_id = $1 AND upload_id = $2 AND kind = 'report'",
        )
        .bind(organisation_id.as_bytes().to_vec())
        .bind(id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?;
        if known.is_none() {
            return Err(ServerError::Invalid(format!("no report {id}")));
        }
        if state == ReportState::New {
            return Err(ServerError::Invalid(
                "a report cannot become new again".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM report_handling WHERE upload_id = $1")
            .bind(id.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO report_handling (upload_id, state, updated_at, updated_by) VALUES ($1, $2, $3, $4)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(state.as_str())
        .bind(rows::signed(now))
        .bind(by)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
