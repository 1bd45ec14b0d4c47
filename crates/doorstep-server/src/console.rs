//! What the console's people do, with its rules: signing in (throttled, the same answer for a
//! wrong name as for a wrong password), each action checked against the person's role and
//! written to the audit log. The HTTP side (`http::console`) only translates.

use uuid::Uuid;

use crate::db::staff::{AuditEntry, NewStaff, Staff, VisitLine};
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
    db.visit_lines(who.staff.organisation_id, from, to, agent_ref)
        .await
}
