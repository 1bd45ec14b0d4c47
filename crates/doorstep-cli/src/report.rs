//! What a demo run showed, as one serialisable document: the human output and `--json` are both
//! printed from it, so they cannot disagree.

use doorstep_core::scenario::{Run, Scenario, Tamper};
use doorstep_qr::Symbol;
use serde::Serialize;

use crate::clock::utc;

#[derive(Debug, Serialize)]
pub struct CodeReport {
    pub kind: &'static str,
    pub text: String,
    pub qr_version: i16,
    pub modules: usize,
    pub characters: usize,
    /// Bytes of CBOR carried (before Base45).
    pub bytes: usize,
}

#[derive(Debug, Serialize)]
pub struct Refusal {
    pub by: &'static str,
    pub kind: &'static str,
    pub message: String,
}

#[derive(Debug, Serialize)]
pub struct ConfirmationCodes {
    pub customer: Option<String>,
    pub agent: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct AgentReceiptReport {
    pub visit_id: String,
    pub ticket_serial: u64,
    pub outcome: &'static str,
    pub checks_done: Vec<&'static str>,
    pub transcript_hash: Option<String>,
    pub time: String,
}

#[derive(Debug, Serialize)]
pub struct CustomerReceiptReport {
    pub visit_id: String,
    pub agent_name: String,
    pub on_behalf_of: String,
    pub confirmation_code: String,
    pub transcript_hash: String,
    pub verified_at: String,
    pub holds_agent_signed_receipt: bool,
}

#[derive(Debug, Serialize)]
pub struct VisitReport {
    pub visit_id: String,
    pub organisation_key_id: String,
    pub agent_id: String,
    pub agent_name: String,
    pub on_behalf_of: String,
    pub agent_key_id: String,
    pub customer_key_id: String,
    pub window: String,
    pub checks: Vec<&'static str>,
    pub customer_fields_visible: Vec<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct DemoReport {
    pub tamper: Option<&'static str>,
    pub attack: Option<&'static str>,
    pub visit: VisitReport,
    pub codes: Vec<CodeReport>,
    pub confirmation_codes: ConfirmationCodes,
    /// "verified" when the visit completed, "refused" otherwise.
    pub outcome: &'static str,
    pub refused: Option<Refusal>,
    pub agent_receipt: Option<AgentReceiptReport>,
    pub customer_receipt: Option<CustomerReceiptReport>,
}

impl DemoReport {
    /// Whether the run did what it should: complete without an attack, stop with one.
    pub fn as_expected(&self) -> bool {
        (self.tamper.is_none()) == (self.outcome == "verified")
    }
}

pub fn build(scenario: &Scenario, tamper: Option<Tamper>, run: &Run) -> DemoReport {
    let t = &scenario.ticket;
    let codes = run
        .codes
        .iter()
        .map(|c| {
            let size = Symbol::new(&c.text).map(|s| s.size()).ok();
            let bytes = doorstep_core::codec::decode_text(&c.text).map_or(0, |(_, b)| b.len());
            CodeReport {
                kind: c.kind.name(),
                text: c.text.clone(),
                qr_version: size.map_or(0, |s| s.version),
                modules: size.map_or(0, |s| s.modules),
                characters: c.text.len(),
                bytes,
            }
        })
        .collect();
    DemoReport {
        tamper: tamper.map(Tamper::name),
        attack: tamper.map(Tamper::description),
        visit: VisitReport {
            visit_id: t.visit_id.to_string(),
            organisation_key_id: scenario.organisation_key.public_key().key_id().to_string(),
            agent_id: t.agent_id.clone(),
            agent_name: t.agent_name.clone(),
            on_behalf_of: t.on_behalf_of.clone(),
            agent_key_id: t.agent_key.key_id().to_string(),
            customer_key_id: t.customer_key_id.to_string(),
            window: format!("{} – {}", utc(t.window_start), utc(t.window_end())),
            checks: t.checks.iter().map(|c| c.name()).collect(),
            customer_fields_visible: t.fields.iter().map(|f| f.name()).collect(),
        },
        codes,
        confirmation_codes: ConfirmationCodes {
            customer: run.customer_code.map(|c| c.to_string()),
            agent: run.agent_code.map(|c| c.to_string()),
        },
        outcome: if run.completed() {
            "verified"
        } else {
            "refused"
        },
        refused: run.refused.as_ref().map(|(role, e)| Refusal {
            by: role.as_str(),
            kind: e.kind(),
            message: e.to_string(),
        }),
        agent_receipt: run.agent_receipt.as_ref().map(|r| AgentReceiptReport {
            visit_id: r.visit_id().to_string(),
            ticket_serial: r.ticket_serial(),
            outcome: r.outcome().name(),
            checks_done: r.checks_done().iter().map(|c| c.name()).collect(),
            transcript_hash: r.transcript_hash().map(hex::encode),
            time: utc(r.time()),
        }),
        customer_receipt: run
            .customer_receipt
            .as_ref()
            .map(|r| CustomerReceiptReport {
                visit_id: r.visit_id.to_string(),
                agent_name: r.agent_name.clone(),
                on_behalf_of: r.on_behalf_of.clone(),
                confirmation_code: r.confirmation_code.to_string(),
                transcript_hash: hex::encode(r.transcript_hash),
                verified_at: utc(r.verified_at),
                holds_agent_signed_receipt: r.agent_receipt.is_some(),
            }),
    }
}
