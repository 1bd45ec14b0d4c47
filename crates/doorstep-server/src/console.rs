//! What the console's people do, with its rules: signing in (throttled, the same answer for a
//! wrong name as for a wrong password), each action checked against the person's role and
//! written to the audit log. The HTTP side (`http::console`) only translates.

use uuid::Uuid;

use crate::db::staff::{AuditEntry, NewStaff, ReportLine, ReportState, Staff, VisitLine};
use crate::staff::{self, Action, SessionToken, StaffRole};
use crate::{Db, ServerError};

/// Someone signed in to the console, as a request's session shows them.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub staff: Staff,
    pub token: SessionToken,
}

impl SignedIn {
    pub fn require(&self, action: Action) -> Result<(), ServerError> {
        if self.staff.role.may(action) {
            Ok(())
        } else {
            Err(ServerError::NotAllowed(self.staff.role))
        }
    }
}

/// Fresh random bytes: session tokens, salts, made-up passwords.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], ServerError> {
    let mut bytes = [0; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| ServerError::io("no randomness", std::io::Error::other(e.to_string())))?;
    Ok(bytes)
}

/// Signs a person in: a fresh session (never one the browser brought along, so a planted
/// session id is worthless), or the reason not.
pub async fn sign_in(
    db: &Db,
    username: &str,
    password: &str,
    address: &str,
    now: u64,
) -> Result<SignedIn, ServerError> {
    let recent = db.recent_login_failures(username, address, now).await?;
    if let Some(retry_after) = staff::login_wait(recent, now) {
        return Err(ServerError::LoginThrottled { retry_after });
    }
    let account = db.staff_for_login(username).await?;
    let matches = staff::password_matches(password, account.as_ref().map(|(_, h)| h.as_str()));
    let Some((staff, _)) = account.filter(|_| matches) else {
        db.record_login_failure(username, address, now).await?;
        return Err(ServerError::LoginRefused);
    };
    let token = SessionToken(random()?);
    db.start_session(&staff, &token, now).await?;
    db.audit(
        staff.organisation_id,
        Some(&staff),
        "sign_in",
        &staff.username,
        "",
        now,
    )
    .await?;
    Ok(SignedIn { staff, token })
}

pub async fn sign_out(db: &Db, who: &SignedIn, now: u64) -> Result<(), ServerError> {
    db.end_session(&who.token).await?;
    db.audit(
        who.staff.organisation_id,
        Some(&who.staff),
        "sign_out",
        &who.staff.username,
        "",
        now,
    )
    .await
}

/// A new staff account in the signed-in admin's organisation.
pub async fn add_staff(
    db: &Db,
    who: &SignedIn,
    username: &str,
    display_name: &str,
    role: StaffRole,
    password: &str,
    now: u64,
) -> Result<Staff, ServerError> {
    who.require(Action::ManageStaff)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let hash = staff::hash_password(password, random()?)?;
    let added = db
        .add_staff(
            &org,
            NewStaff {
                username,
                display_name,
                role,
                password_hash: &hash,
            },
            now,
        )
        .await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "staff_added",
        &added.username,
        added.role.as_str(),
        now,
    )
    .await?;
    Ok(added)
}

pub async fn list_staff(db: &Db, who: &SignedIn) -> Result<Vec<Staff>, ServerError> {
    who.require(Action::ManageStaff)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    db.list_staff(&org).await
}

pub async fn audit_log(
    db: &Db,
    who: &SignedIn,
    before: Option<Uuid>,
    limit: u32,
) -> Result<Vec<AuditEntry>, ServerError> {
    who.require(Action::ReadAudit)?;
    db.audit_log(who.staff.organisation_id, before, limit).await
}

/// The longest span one listing of visits covers.
pub const MAX_VISIT_SPAN: u64 = 31 * 86_400;

/// Visits overlapping `[from, to)`: the day view, refreshed as results come in.
pub async fn visits(
    db: &Db,
    who: &SignedIn,
    from: u64,
    to: u64,
    agent_ref: Option<&str>,
) -> Result<Vec<VisitLine>, ServerError> {
    who.require(Action::ViewVisits)?;
    if to <= from || to - from > MAX_VISIT_SPAN {
        return Err(ServerError::Invalid(
            "a listing covers a span of up to 31 days, its end after its start".into(),
        ));
    }
    db.visit_lines(who.staff.organisation_id, from, to, agent_ref, None)
        .await
}

/// What the operator on the official line sees about one customer: their visits from a day
/// ago to a week ahead, and which of them has an agent booked at their door right now.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LineLookup {
    pub customer_ref: String,
    pub visits: Vec<VisitLine>,
    /// The visits whose window is now, not cancelled: a caller with someone at the door is
    /// told who should be there, or that nobody should.
    pub booked_now: Vec<String>,
}

pub async fn line_lookup(
    db: &Db,
    who: &SignedIn,
    customer_ref: &str,
    now: u64,
) -> Result<LineLookup, ServerError> {
    who.require(Action::AnswerOfficialLine)?;
    let customer_ref = customer_ref.trim();
    let visits = db
        .visit_lines(
            who.staff.organisation_id,
            now.saturating_sub(86_400),
            now + 7 * 86_400,
            None,
            Some(customer_ref),
        )
        .await?;
    let skew = doorstep_core::Policy::default().clock_skew;
    let booked_now = visits
        .iter()
        .filter(|v| {
            let start = u64::try_from(v.window_start).unwrap_or(0);
            let end = start + u64::try_from(v.window_minutes).unwrap_or(0) * 60;
            !v.cancelled && doorstep_core::ticket::window_includes(start, end, now, skew)
        })
        .map(|v| v.visit_ref.clone())
        .collect();
    db.audit(
        who.staff.organisation_id,
        Some(&who.staff),
        "line_lookup",
        customer_ref,
        "",
        now,
    )
    .await?;
    Ok(LineLookup {
        customer_ref: customer_ref.to_string(),
        visits,
        booked_now,
    })
}

/// The reference an operator reads to the customer once they have confirmed the visit at the
/// door on the official line (plan B, `db::office`).
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PhoneConfirmation {
    pub visit_ref: String,
    pub agent_name: String,
    pub agent_ref: String,
    pub window_start: u64,
    pub window_minutes: u32,
    pub reference: String,
}

pub async fn confirm_by_phone(
    db: &Db,
    who: &SignedIn,
    visit_ref: &str,
    now: u64,
) -> Result<PhoneConfirmation, ServerError> {
    who.require(Action::AnswerOfficialLine)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let confirmed = db
        .confirm_visit_by_phone(&org, visit_ref, &who.staff.username, now)
        .await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "visit_confirmed_by_phone",
        visit_ref,
        &confirmed.agent_staff_ref,
        now,
    )
    .await?;
    Ok(PhoneConfirmation {
        visit_ref: confirmed.visit_ref,
        agent_name: confirmed.agent_name,
        agent_ref: confirmed.agent_staff_ref,
        window_start: confirmed.window_start,
        window_minutes: confirmed.window_minutes,
        reference: confirmed.reference.to_string(),
    })
}

/// The queue of reports phones sent (a customer's about a visitor, an agent's about a visit).
pub async fn reports(db: &Db, who: &SignedIn) -> Result<Vec<ReportLine>, ServerError> {
    who.require(Action::AnswerOfficialLine)?;
    db.report_lines(who.staff.organisation_id).await
}

pub async fn handle_report(
    db: &Db,
    who: &SignedIn,
    id: Uuid,
    state: ReportState,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::AnswerOfficialLine)?;
    db.set_report_state(
        who.staff.organisation_id,
        id,
        state,
        &who.staff.username,
        now,
    )
    .await?;
    db.audit(
        who.staff.organisation_id,
        Some(&who.staff),
        "report_handled",
        &id.to_string(),
        state.as_str(),
        now,
    )
    .await
}

/// Books the visits of a CSV file (`planning::CSV_HEADER`): all of them, or none with every
/// bad row named by its line.
pub async fn import_visits(
    db: &Db,
    who: &SignedIn,
    csv: &str,
    now: u64,
) -> Result<usize, ServerError> {
    who.require(Action::PlanVisits)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let ids = db.import_visits(&org, csv, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "visits_imported",
        &format!("{} visit(s)", ids.len()),
        "",
        now,
    )
    .await?;
    Ok(ids.len())
}

/// Cancels a visit: its tickets go on the denylist, so phones refuse them after their next
/// sync. Returns how many tickets that was.
pub async fn cancel_visit(
    db: &Db,
    who: &SignedIn,
    visit_ref: &str,
    now: u64,
) -> Result<u64, ServerError> {
    who.require(Action::PlanVisits)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let tickets = db.cancel_visit(&org, visit_ref, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "visit_cancelled",
        visit_ref,
        &format!("{tickets} ticket(s) on the denylist"),
        now,
    )
    .await?;
    Ok(tickets)
}

/// Completed visits with their receipts and countersignatures, for audit (`db::export`).
pub async fn export(
    db: &Db,
    who: &SignedIn,
    format: &str,
    now: u64,
) -> Result<Vec<crate::db::export::ExportedResult>, ServerError> {
    who.require(Action::Export)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let results = db.export(&org).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "export",
        &format!("{} result(s)", results.len()),
        format,
        now,
    )
    .await?;
    Ok(results)
}

/// Runs the retention purge now (`db::export::purge`); what it erased is in the audit log.
pub async fn purge(
    db: &Db,
    who: &SignedIn,
    now: u64,
) -> Result<crate::db::export::Purged, ServerError> {
    who.require(Action::ManageOrganisation)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let purged = db.purge(&org, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "purge",
        &format!("{} day(s) retention", org.retention_days),
        &format!(
            "{} customer(s), {} report text(s) erased",
            purged.customers, purged.reports
        ),
        now,
    )
    .await?;
    Ok(purged)
}
