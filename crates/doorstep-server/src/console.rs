//! What the console's people do, with its rules: signing in (throttled, the same answer for a
//! wrong name as for a wrong password), each action checked against the person's role and
//! written to the audit log. The HTTP side (`http::console`) only translates.

use uuid::Uuid;

use std::collections::BTreeMap;

use doorstep_core::Role;
use doorstep_core::codec::Code;

use crate::db::agents::NewAgent;
use crate::db::customers::{CustomerLine, Erasure};
use crate::db::revocation::DeviceListing;
use crate::db::staff::{
    AuditEntry, NewStaff, ReportLine, ReportState, Staff, VisitLine, VisitPage, VisitQuery,
};
use crate::db::visit_detail::VisitRecords;
use crate::planning::NewVisit;
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

/// A page of the visits overlapping the query's span: the day view, refreshed as results
/// come in, and the visits list.
pub async fn visits(
    db: &Db,
    who: &SignedIn,
    query: &VisitQuery<'_>,
) -> Result<VisitPage, ServerError> {
    who.require(Action::ViewVisits)?;
    if query.to <= query.from || query.to - query.from > MAX_VISIT_SPAN {
        return Err(ServerError::Invalid(
            "a listing covers a span of up to 31 days, its end after its start".into(),
        ));
    }
    db.visit_lines(who.staff.organisation_id, query).await
}

/// What the operator on the official line sees about a caller: the customers the search
/// found (by reference, or by the phone number they call from), their visits from a day ago
/// to a week ahead, and which of them has an agent booked at their door right now.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct LineLookup {
    pub search: String,
    pub customer_refs: Vec<String>,
    pub visits: Vec<VisitLine>,
    /// The visits whose window is now, not cancelled: a caller with someone at the door is
    /// told who should be there, or that nobody should.
    pub booked_now: Vec<String>,
}

pub async fn line_lookup(
    db: &Db,
    who: &SignedIn,
    search: &str,
    now: u64,
) -> Result<LineLookup, ServerError> {
    who.require(Action::AnswerOfficialLine)?;
    let search = search.trim();
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let customer_refs = match db.customer(&org, search).await {
        Ok(customer) => vec![customer.customer_ref],
        Err(ServerError::UnknownCustomer(_)) => db.customers_by_phone(&org, search).await?,
        Err(e) => return Err(e),
    };
    let mut visits = Vec::new();
    for customer_ref in &customer_refs {
        let page = db
            .visit_lines(
                org.id,
                &VisitQuery {
                    from: now.saturating_sub(86_400),
                    to: now + 7 * 86_400,
                    customer_ref: Some(customer_ref),
                    limit: crate::db::staff::MAX_VISIT_PAGE,
                    ..VisitQuery::default()
                },
            )
            .await?;
        visits.extend(page.lines);
    }
    visits.sort_by(|a, b| (a.window_start, &a.visit_ref).cmp(&(b.window_start, &b.visit_ref)));
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
        org.id,
        Some(&who.staff),
        "line_lookup",
        search,
        &format!("{} customer(s) found", customer_refs.len()),
        now,
    )
    .await?;
    Ok(LineLookup {
        search: search.to_string(),
        customer_refs,
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
    db.report_lines(who.staff.organisation_id, None).await
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

/// One visit's page: its line, its tickets and receipts with every signature, its reports.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitDetail {
    pub line: VisitLine,
    pub records: VisitRecords,
    /// Reports about the visit; empty for a role that neither handles reports nor audits.
    pub reports: Vec<ReportLine>,
}

pub async fn visit(db: &Db, who: &SignedIn, visit_ref: &str) -> Result<VisitDetail, ServerError> {
    who.require(Action::ViewVisits)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let records = db.visit_records(&org, visit_ref).await?;
    // The line comes from the same listing as everywhere else, found by its reference.
    let line = db
        .visit_lines(
            org.id,
            &VisitQuery {
                from: 0,
                to: i64::MAX as u64,
                visit_ref: Some(visit_ref),
                limit: 1,
                ..VisitQuery::default()
            },
        )
        .await?
        .lines
        .pop()
        .ok_or_else(|| ServerError::UnknownVisit(visit_ref.into()))?;
    // Those who handle reports, and auditors, read them; a planner has no need to.
    let reports = if who.staff.role.may(Action::AnswerOfficialLine)
        || who.staff.role.may(Action::ReadAudit)
    {
        db.report_lines(org.id, Some(visit_ref)).await?
    } else {
        Vec::new()
    };
    Ok(VisitDetail {
        line,
        records,
        reports,
    })
}

/// Books one visit, as the form describes it; the same checks as an import's rows.
pub async fn book_visit(
    db: &Db,
    who: &SignedIn,
    visit: &NewVisit,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::PlanVisits)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    db.add_visit(&org, visit, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "visit_booked",
        &visit.visit_ref,
        &format!("agent {}, customer {}", visit.staff_ref, visit.customer_ref),
        now,
    )
    .await
}

/// An agent as the console lists them, with their devices.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AgentLine {
    pub staff_ref: String,
    pub display_name: String,
    pub on_behalf_of: String,
    pub revoked: bool,
    pub devices: Vec<DeviceListing>,
}

pub async fn agents(db: &Db, who: &SignedIn) -> Result<Vec<AgentLine>, ServerError> {
    who.require(Action::ManageAgents)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let devices = db.devices(&org).await?;
    Ok(db
        .agents(&org)
        .await?
        .into_iter()
        .map(|a| AgentLine {
            devices: devices
                .iter()
                .filter(|d| d.role == Role::Agent && d.subject_ref == a.staff_ref)
                .cloned()
                .collect(),
            staff_ref: a.staff_ref,
            display_name: a.display_name,
            on_behalf_of: a.on_behalf_of,
            revoked: a.revoked_at.is_some(),
        })
        .collect())
}

/// Agents' photos are shown to customers in every notice: a JPEG or PNG of at most this size.
pub const MAX_AGENT_PHOTO_BYTES: usize = 256 * 1024;

fn check_photo(photo: &[u8]) -> Result<(), ServerError> {
    let jpeg = photo.starts_with(&[0xff, 0xd8, 0xff]);
    let png = photo.starts_with(b"\x89PNG\r\n\x1a\n");
    if !(jpeg || png) {
        return Err(ServerError::Invalid(
            "the photo must be a JPEG or PNG image".into(),
        ));
    }
    if photo.len() > MAX_AGENT_PHOTO_BYTES {
        return Err(ServerError::Invalid(format!(
            "the photo is {} KiB; at most {} KiB",
            photo.len() / 1024,
            MAX_AGENT_PHOTO_BYTES / 1024
        )));
    }
    Ok(())
}

pub async fn add_agent(
    db: &Db,
    who: &SignedIn,
    agent: &NewAgent<'_>,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::ManageAgents)?;
    check_photo(agent.photo)?;
    if agent.staff_ref.trim().is_empty() || agent.display_name.trim().is_empty() {
        return Err(ServerError::Invalid(
            "an agent needs a staff reference and a name".into(),
        ));
    }
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    db.add_agent(&org, agent).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "agent_added",
        agent.staff_ref,
        agent.display_name,
        now,
    )
    .await
}

/// The photo customers are shown of this agent.
pub async fn agent_photo(db: &Db, who: &SignedIn, staff_ref: &str) -> Result<Vec<u8>, ServerError> {
    who.require(Action::ViewVisits)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let agent = db.agent(&org, staff_ref).await?;
    let (_, photo) = db.agent_by_id(agent.id).await?;
    photo.ok_or_else(|| ServerError::UnknownAgent(staff_ref.into()))
}

pub async fn revoke_agent(
    db: &Db,
    who: &SignedIn,
    staff_ref: &str,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::ManageAgents)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    db.revoke_agent(&org, staff_ref).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "agent_revoked",
        staff_ref,
        "with their devices",
        now,
    )
    .await
}

/// Revokes one device (a lost or stolen phone); an agent's needs the right to manage agents,
/// a customer's the right to manage customers.
pub async fn revoke_device(
    db: &Db,
    who: &SignedIn,
    id: uuid::Uuid,
    now: u64,
) -> Result<(), ServerError> {
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let device = db
        .devices(&org)
        .await?
        .into_iter()
        .find(|d| d.id == id)
        .ok_or_else(|| ServerError::UnknownDevice(id.to_string()))?;
    who.require(match device.role {
        Role::Agent => Action::ManageAgents,
        Role::Customer => Action::ManageCustomers,
    })?;
    db.revoke_device(&org, id, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "device_revoked",
        &device.subject_ref,
        &format!("device {id}, key {}", device.key_id),
        now,
    )
    .await
}

/// Issues a fresh one-time enrolment code for an agent or a customer and returns the letter
/// that carries it, as PDF. The code itself is not kept, only its hash.
pub async fn enrolment_letter(
    db: &Db,
    who: &SignedIn,
    role: Role,
    subject_ref: &str,
    back_office: &str,
    now: u64,
) -> Result<Vec<u8>, ServerError> {
    who.require(match role {
        Role::Agent => Action::ManageAgents,
        Role::Customer => Action::ManageCustomers,
    })?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let (name, address) = match role {
        Role::Agent => (db.agent(&org, subject_ref).await?.display_name, None),
        Role::Customer => {
            let customer = db.customer(&org, subject_ref).await?;
            let data = customer.data.unwrap_or_default();
            (
                data.get("full_name").cloned().unwrap_or_default(),
                data.get("postal_address").cloned(),
            )
        }
    };
    let issued = db
        .issue_enrolment_code(&org, role, subject_ref, back_office, now)
        .await?;
    let qr_text = Code::Enrolment(issued.invite.clone()).to_text();
    let typed = issued.invite.code.to_typed();
    let pdf = crate::letter::enrolment_letter(&crate::letter::Letter {
        organisation: &org.name,
        official_phone: &org.official_phone,
        role,
        name: &name,
        subject_ref,
        postal_address: address.as_deref(),
        qr_text: &qr_text,
        typed_code: &typed,
        back_office,
        expires_at: issued.expires_at,
        issued_at: now,
    })
    .map_err(|e| ServerError::Invalid(format!("the enrolment code does not fit a QR code: {e}")))?;
    db.audit(
        org.id,
        Some(&who.staff),
        "enrolment_letter",
        subject_ref,
        role.as_str(),
        now,
    )
    .await?;
    Ok(pdf)
}

/// A page of customers, by reference prefix or phone number.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CustomerPage {
    pub customers: Vec<CustomerLine>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: u64,
}

pub const MAX_CUSTOMER_PAGE: u32 = 200;

pub async fn customers(
    db: &Db,
    who: &SignedIn,
    search: &str,
    offset: u32,
    limit: u32,
) -> Result<CustomerPage, ServerError> {
    who.require(Action::ManageCustomers)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let (customers, total) = db
        .customer_lines(&org, search, offset, limit.clamp(1, MAX_CUSTOMER_PAGE))
        .await?;
    Ok(CustomerPage { customers, total })
}

pub async fn save_customer(
    db: &Db,
    who: &SignedIn,
    customer_ref: &str,
    data: &BTreeMap<String, String>,
    new: bool,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::ManageCustomers)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    // A field left blank in the form is no value: nothing is stored for it.
    let data: BTreeMap<String, String> = data
        .iter()
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let data = &data;
    if new {
        db.add_customer(&org, customer_ref, data).await?;
    } else {
        db.update_customer(&org, customer_ref, data).await?;
    }
    // The audit log names the fields changed, never their values.
    db.audit(
        org.id,
        Some(&who.staff),
        if new {
            "customer_added"
        } else {
            "customer_edited"
        },
        customer_ref,
        &data.keys().cloned().collect::<Vec<_>>().join(" "),
        now,
    )
    .await
}

pub async fn revoke_customer(
    db: &Db,
    who: &SignedIn,
    customer_ref: &str,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::ManageCustomers)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    db.revoke_customer(&org, customer_ref, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "customer_revoked",
        customer_ref,
        "with their devices",
        now,
    )
    .await
}

/// Erases a customer's personal data at their request (`Db::erase_customer`).
pub async fn erase_customer(
    db: &Db,
    who: &SignedIn,
    customer_ref: &str,
    now: u64,
) -> Result<Erasure, ServerError> {
    who.require(Action::ManageCustomers)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let erased = db.erase_customer(&org, customer_ref, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "customer_erased",
        customer_ref,
        &format!(
            "{} device(s) revoked, {} visit(s) cancelled, {} report text(s) erased",
            erased.devices_revoked, erased.visits_cancelled, erased.reports_erased
        ),
        now,
    )
    .await?;
    Ok(erased)
}

/// The organisation as its admin sees it: settings, the pinned official number and its keys.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct OrganisationView {
    pub name: String,
    pub official_phone: String,
    pub settings: crate::db::organisations::Settings,
    /// Key ids, oldest first; the last signs now.
    pub key_ids: Vec<String>,
}

fn organisation_view(org: &crate::db::organisations::Organisation) -> OrganisationView {
    OrganisationView {
        name: org.name.clone(),
        official_phone: org.official_phone.clone(),
        settings: crate::db::organisations::Settings {
            retention_days: org.retention_days,
            customer_code_days: org.customer_code_days,
            cooling_off_hours: org.cooling_off_hours,
        },
        key_ids: org.keys.iter().map(|k| hex::encode(k.key_id().0)).collect(),
    }
}

pub async fn organisation(db: &Db, who: &SignedIn) -> Result<OrganisationView, ServerError> {
    who.require(Action::ManageOrganisation)?;
    Ok(organisation_view(
        &db.organisation_by_id(who.staff.organisation_id).await?,
    ))
}

pub async fn update_settings(
    db: &Db,
    who: &SignedIn,
    settings: &crate::db::organisations::Settings,
    now: u64,
) -> Result<OrganisationView, ServerError> {
    who.require(Action::ManageOrganisation)?;
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let updated = db.update_settings(&org, settings).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "settings_changed",
        &org.name,
        &format!(
            "retention {} days, customer codes {} days, cooling-off {} hours",
            settings.retention_days, settings.customer_code_days, settings.cooling_off_hours
        ),
        now,
    )
    .await?;
    Ok(organisation_view(&updated))
}

/// Disables a staff account; their sessions end with it. Nobody disables themselves, so an
/// organisation keeps the admin who is signed in.
pub async fn disable_staff(
    db: &Db,
    who: &SignedIn,
    username: &str,
    now: u64,
) -> Result<(), ServerError> {
    who.require(Action::ManageStaff)?;
    if username == who.staff.username {
        return Err(ServerError::Invalid(
            "you cannot disable your own account".into(),
        ));
    }
    let org = db.organisation_by_id(who.staff.organisation_id).await?;
    let disabled = db.disable_staff(&org, username, now).await?;
    db.audit(
        org.id,
        Some(&who.staff),
        "staff_disabled",
        &disabled.username,
        "",
        now,
    )
    .await
}
