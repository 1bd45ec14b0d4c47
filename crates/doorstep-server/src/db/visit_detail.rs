//! One visit as the console's visit page shows it: what its tickets say and who signed them,
//! and each receipt with the signatures behind it: the agent's device, the customer's device
//! (for a verified visit) and the back-office's countersignature.

use doorstep_core::signed::Envelope;
use doorstep_core::ticket::{CheckSet, FieldSet, Ticket};
use serde::Serialize;
use sqlx::Row;

use super::organisations::Organisation;
use super::rows;
use crate::{Db, ServerError};

/// A signature as an auditor reads it: which key, and the signature's bytes in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignatureView {
    pub key_id: String,
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct TicketView {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub serial: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub issued_at: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub not_before: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub not_after: u64,
    pub agent_name: String,
    pub on_behalf_of: String,
    /// The agent's device key the ticket names.
    pub agent_key_id: String,
    pub customer_key_id: String,
    pub checks: Vec<String>,
    pub fields: Vec<String>,
    /// The organisation's signature over the ticket.
    pub organisation: SignatureView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ReceiptView {
    pub upload_id: String,
    pub outcome: doorstep_core::Outcome,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub ticket_serial: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub time: u64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub received_at: u64,
    pub checks_done: Vec<String>,
    pub transcript_hash: Option<String>,
    pub office_reference: Option<String>,
    /// The agent's device signed the receipt.
    pub agent: SignatureView,
    /// The customer's device signed its answer inside it: present for a verified visit, and
    /// only then.
    pub customer: Option<SignatureView>,
    /// The back-office's countersignature, made when the receipt arrived.
    pub back_office: SignatureView,
}

/// The visit's tickets and receipts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct VisitRecords {
    pub checks: Vec<String>,
    pub fields: Vec<String>,
    pub tickets: Vec<TicketView>,
    pub receipts: Vec<ReceiptView>,
}

fn signature_of(encoded: &[u8], what: &str) -> Result<SignatureView, ServerError> {
    let envelope = Envelope::decode_all(encoded)
        .map_err(|e| ServerError::Damaged(format!("stored {what}: {e}")))?;
    Ok(SignatureView {
        key_id: hex::encode(envelope.key_id.0),
        signature: hex::encode(envelope.signature.as_bytes()),
    })
}

fn names<T: Copy>(items: impl Iterator<Item = T>, name: impl Fn(T) -> &'static str) -> Vec<String> {
    items.map(|i| name(i).to_string()).collect()
}

impl Db {
    pub async fn visit_records(
        &self,
        org: &Organisation,
        visit_ref: &str,
    ) -> Result<VisitRecords, ServerError> {
        let visit = sqlx::query(
            "SELECT id, checks, fields FROM visits WHERE organisation_id = $1 AND visit_ref = $2",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(visit_ref)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownVisit(visit_ref.into()))?;
        let id: Vec<u8> = visit.try_get("id")?;
        let checks = CheckSet::from_bits(rows::unsigned(&visit, "checks")?)
            .ok_or_else(|| ServerError::Damaged("visit checks".into()))?;
        let fields = FieldSet::from_bits(rows::unsigned(&visit, "fields")?)
            .ok_or_else(|| ServerError::Damaged("visit fields".into()))?;

        let tickets = sqlx::query(
            "SELECT serial, issued_at, encoded FROM tickets WHERE visit_id = $1 ORDER BY serial",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let encoded: Vec<u8> = r.try_get("encoded")?;
            let envelope = Envelope::decode_all(&encoded)
                .map_err(|e| ServerError::Damaged(format!("stored ticket: {e}")))?;
            let ticket = Ticket::decode_payload(envelope.payload)
                .map_err(|e| ServerError::Damaged(format!("stored ticket: {e}")))?;
            Ok(TicketView {
                serial: ticket.serial,
                issued_at: rows::unsigned(r, "issued_at")?,
                not_before: ticket.not_before,
                not_after: ticket.not_after,
                agent_name: ticket.agent_name.clone(),
                on_behalf_of: ticket.on_behalf_of.clone(),
                agent_key_id: hex::encode(ticket.agent_key.key_id().0),
                customer_key_id: hex::encode(ticket.customer_key_id.0),
                checks: names(ticket.checks.iter(), |c| c.name()),
                fields: names(ticket.fields.iter(), |f| f.name()),
                organisation: signature_of(&encoded, "ticket")?,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;

        let receipts = sqlx::query(
            "SELECT upload_id, payload, received_at, countersignature FROM results
             WHERE visit_id = $1 AND kind = 'receipt' ORDER BY received_at, upload_id",
        )
        .bind(&id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let payload: Vec<u8> = r.try_get("payload")?;
            let receipt = super::export::stored_receipt(&payload)?;
            let countersignature: Vec<u8> = r.try_get("countersignature")?;
            Ok(ReceiptView {
                upload_id: rows::uuid(r, "upload_id")?.to_string(),
                outcome: receipt.outcome(),
                ticket_serial: receipt.ticket_serial(),
                time: receipt.time(),
                received_at: rows::unsigned(r, "received_at")?,
                checks_done: names(receipt.checks_done().iter(), |c| c.name()),
                transcript_hash: receipt.transcript_hash().map(hex::encode),
                office_reference: receipt.office_reference().map(|o| o.digits()),
                agent: signature_of(&payload, "receipt")?,
                customer: receipt.customer_answer().map(|answer| SignatureView {
                    // The ticket names the customer's key; the answer is signed with it.
                    key_id: tickets_customer_key(&tickets, receipt.ticket_serial()),
                    signature: hex::encode(answer.signature.as_bytes()),
                }),
                back_office: signature_of(&countersignature, "countersignature")?,
            })
        })
        .collect::<Result<Vec<_>, ServerError>>()?;

        Ok(VisitRecords {
            checks: names(checks.iter(), |c| c.name()),
            fields: names(fields.iter(), |f| f.name()),
            tickets,
            receipts,
        })
    }
}

fn tickets_customer_key(tickets: &[TicketView], serial: u64) -> String {
    tickets
        .iter()
        .find(|t| t.serial == serial)
        .map(|t| t.customer_key_id.clone())
        .unwrap_or_default()
}
