//! What the screens show, as plain serialisable data (camelCase for the views' TypeScript).
//! Times are Unix seconds; the views format them in the person's language and zone.

use std::collections::BTreeMap;

use base64::Engine;
use serde::Serialize;
use ts_rs::TS;

use doorstep_core::customer::CustomerReceipt;
use doorstep_core::pins::PinnedOrganisation;
use doorstep_core::ticket::{Check, CheckSet, SignedTicket};
use doorstep_core::{Outcome, Role};
use doorstep_store::Enrolment;

use crate::{DeviceError, ErrorKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "Enrolment")]
pub struct EnrolmentView {
    pub role: Role,
    pub organisation: String,
    pub server_url: String,
    /// From the organisation pinned in the app: the number to call when in doubt.
    pub official_phone: String,
    pub enrolled_at: u64,
}

impl From<&Enrolment> for EnrolmentView {
    fn from(e: &Enrolment) -> Self {
        Self {
            role: e.role,
            organisation: e.organisation_name.clone(),
            server_url: e.server_url.clone(),
            official_phone: e.official_phone.clone(),
            enrolled_at: e.enrolled_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "NewDevice")]
pub struct NewDeviceView {
    pub enrolled_at: u64,
    pub takes_over_at: u64,
}

/// An organisation this build trusts, as the enrolment screens show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "PinnedOrganisation")]
pub struct PinnedOrganisationView {
    pub name: String,
    pub back_office: String,
    pub official_phone: String,
}

impl From<&PinnedOrganisation> for PinnedOrganisationView {
    fn from(p: &PinnedOrganisation) -> Self {
        Self {
            name: p.name.clone(),
            back_office: p.back_office.clone(),
            official_phone: p.official_phone.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// The build trusts a development configuration (loopback back-offices): every screen says so.
    pub development: bool,
    /// The organisations this build trusts, for the enrolment screen.
    pub organisations: Vec<PinnedOrganisationView>,
    pub enrolment: Option<EnrolmentView>,
    /// The agent role is locked until the platform's prompt passes (`unlock`).
    pub locked: bool,
    /// This device was enrolled for someone who already had one: it receives nothing before
    /// this time, unless the organisation confirms it sooner.
    pub held_until: Option<u64>,
    /// A new device was enrolled for this person: when, and when it takes over (this one is
    /// then revoked). If it was not them, they call the official number before then.
    pub new_device: Option<NewDeviceView>,
    pub pending_uploads: u64,
    pub rejected_uploads: u64,
    pub last_sync: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "SyncResult")]
pub struct SyncView {
    pub stored: u64,
    pub rejected: u64,
    pub pending: u64,
    pub visits: u64,
    pub notices: u64,
    pub clock_offset: i64,
}

/// The code for a customer without the app: the verification page's URL as a QR, the six
/// digits both people read aloud, and until when (Unix seconds) the page accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PagePassView {
    pub code: CodeView,
    pub spoken_code: String,
    pub valid_until: u64,
}

/// A code to show: its text (what a scanner reads) and the QR symbol as SVG.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CodeView {
    pub text: String,
    pub svg: String,
    pub qr_version: i16,
}

impl CodeView {
    pub fn new(text: String) -> Result<Self, DeviceError> {
        let symbol = doorstep_qr::Symbol::new(&text)
            .map_err(|e| DeviceError::new(ErrorKind::CodeTooLarge, e.to_string()))?;
        Ok(Self {
            svg: symbol.to_svg(),
            qr_version: symbol.size().version,
            text,
        })
    }
}

/// Who is coming and what they may do and see: the part of a ticket both sides show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct VisitTerms {
    pub visit_id: String,
    pub agent_name: String,
    pub on_behalf_of: String,
    pub window_start: u64,
    pub window_end: u64,
    /// What the agent may check at the door (`card_handover`, …).
    pub checks: Vec<&'static str>,
    /// The customer's data the agent may see (`full_name`, …).
    pub fields: Vec<&'static str>,
}

impl From<&SignedTicket> for VisitTerms {
    fn from(ticket: &SignedTicket) -> Self {
        let t = ticket.ticket();
        Self {
            visit_id: hex::encode(t.visit_id.0),
            agent_name: t.agent_name.clone(),
            on_behalf_of: t.on_behalf_of.clone(),
            window_start: t.window_start,
            window_end: t.window_end(),
            checks: t.checks.iter().map(|c| c.name()).collect(),
            fields: t.fields.iter().map(|f| f.name()).collect(),
        }
    }
}

/// One of the agent's visits of the day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AgentVisit {
    pub terms: VisitTerms,
    /// `open`, or the recorded outcome (`verified`, `not_home`, …).
    pub status: String,
    pub address: Option<String>,
    /// Why (a catalogue key the views translate, or the office's own words) and the office's
    /// reference: visits at one address are told apart by them.
    pub purpose: Option<String>,
    pub visit_ref: Option<String>,
    /// False for a customer with no enrolled phone: they check the agent on the verification
    /// page (the page pass), not by the handshake.
    pub customer_has_app: bool,
}

/// The customer's coming visit, everything the notice says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CustomerVisit {
    pub terms: VisitTerms,
    pub purpose: String,
    pub retention_days: u32,
    pub organisation: String,
    /// The agent's photo as a `data:` URL, checked against the ticket's hash.
    pub photo: Option<String>,
}

pub(crate) fn photo_url(photo: Option<&[u8]>) -> Option<String> {
    let bytes = photo?;
    let mime = if bytes.starts_with(b"\x89PNG") {
        "image/png"
    } else if bytes.starts_with(&[0xff, 0xd8]) {
        "image/jpeg"
    } else {
        return None;
    };
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// The agent's screen once the customer is verified: the confirmation code both screens show
/// and exactly the customer data the ticket allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CustomerConfirmed {
    pub confirmation_code: String,
    pub customer_data: BTreeMap<String, String>,
    /// Checks the agent may tick besides the handshake itself.
    pub checks_to_record: Vec<&'static str>,
}

/// The customer's screen once the agent's proof checked out: who this is, with the signed photo,
/// for the question "is the person at your door this person?".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AgentConfirmed {
    pub terms: VisitTerms,
    pub photo: Option<String>,
}

/// The code the two people read aloud to each other, with "Same" / "Different" beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CodeToCompare {
    pub confirmation_code: String,
}

/// The agent's screen after the challenge: the proof to show, and already the code to read
/// aloud once the customer's phone has checked it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProofShown {
    pub proof: CodeView,
    pub confirmation_code: String,
}

/// The receipt the agent's device signed and queued; its code lets the customer keep it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(rename = "AgentReceipt")]
pub struct AgentReceiptView {
    pub visit_id: String,
    pub outcome: Outcome,
    pub checks_done: Vec<&'static str>,
    pub time: u64,
    pub code: CodeView,
}

/// One of the customer's kept receipts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct KeptReceipt {
    pub visit_id: String,
    pub agent_name: String,
    pub on_behalf_of: String,
    pub confirmation_code: String,
    pub verified_at: u64,
    /// The first bytes of the handshake's transcript hash, to quote to the organisation.
    pub reference: String,
    /// Set once the agent's signed receipt was scanned: the outcome it records.
    pub agent_outcome: Option<Outcome>,
    /// The customer data the agent could see at this visit.
    pub fields_seen: Vec<&'static str>,
    /// What the agent's signed receipt says was checked at the door (empty until scanned).
    pub checks_done: Vec<&'static str>,
}

impl From<&CustomerReceipt> for KeptReceipt {
    fn from(r: &CustomerReceipt) -> Self {
        Self {
            visit_id: hex::encode(r.visit_id.0),
            agent_name: r.agent_name.clone(),
            on_behalf_of: r.on_behalf_of.clone(),
            confirmation_code: r.confirmation_code.to_string(),
            verified_at: r.verified_at,
            reference: hex::encode(&r.transcript_hash[..6]),
            agent_outcome: r.agent_receipt.as_ref().map(|a| a.receipt().outcome()),
            fields_seen: r.fields.iter().map(|f| f.name()).collect(),
            checks_done: r
                .agent_receipt
                .as_ref()
                .map(|a| check_names(a.receipt().checks_done()))
                .unwrap_or_default(),
        }
    }
}

pub(crate) fn check_names(set: CheckSet) -> Vec<&'static str> {
    set.iter().map(|c| c.name()).collect()
}

/// Checks an agent may tick: the ticket's, except the handshake, which is never ticked by hand.
pub(crate) fn checks_to_record(set: CheckSet) -> Vec<&'static str> {
    set.iter()
        .filter(|c| *c != Check::DeviceKey)
        .map(|c| c.name())
        .collect()
}
