//! Completed visits with their receipts and the back-office's countersignatures, as JSON or CSV
//! for audit and reporting; and retention: personal data erased once no visit needs it.

use base64::Engine;
use doorstep_core::receipt::SignedReceipt;
use serde::Serialize;
use sqlx::Row;

use super::organisations::Organisation;
use doorstep_core::when;

use super::rows;
use crate::{Db, ServerError};

/// One receipt of one visit. Holds references, never the customer's personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedResult {
    pub visit_ref: String,
    pub staff_ref: String,
    pub customer_ref: String,
    pub window_start: String,
    pub outcome: String,
    /// For a visit verified by the office (plan B), the reference its operator gave.
    pub office_reference: Option<String>,
    pub checks_done: Vec<&'static str>,
    pub transcript_hash: Option<String>,
    pub receipt_time: String,
    pub received_at: String,
    pub upload_id: String,
    pub receipt: String,
    pub countersignature: String,
}

/// A receipt as stored: verified on arrival, read again only to show its content.
pub(crate) fn stored_receipt(
    payload: &[u8],
) -> Result<doorstep_core::receipt::Receipt, ServerError> {
    SignedReceipt::peek(payload)
        .map(|(_, receipt)| receipt)
        .map_err(|e| ServerError::Damaged(format!("stored receipt: {e}")))
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

impl Db {
    pub async fn export(&self, org: &Organisation) -> Result<Vec<ExportedResult>, ServerError> {
        let found = sqlx::query(
            "SELECT v.visit_ref, a.staff_ref, c.customer_ref, v.window_start,
                    r.upload_id, r.payload, r.received_at, r.countersignature
             FROM results r
             JOIN visits v ON v.id = r.visit_id
             JOIN agents a ON a.id = v.agent_id
             JOIN customers c ON c.id = v.customer_id
             WHERE r.organisation_id = $1 AND r.kind = 'receipt'
             ORDER BY v.window_start, v.visit_ref, r.received_at",
        )
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        found
            .iter()
            .map(|r| {
                let payload: Vec<u8> = r.try_get("payload")?;
                let receipt = stored_receipt(&payload)?;
                let countersignature: Vec<u8> = r.try_get("countersignature")?;
                Ok(ExportedResult {
                    visit_ref: r.try_get("visit_ref")?,
                    staff_ref: r.try_get("staff_ref")?,
                    customer_ref: r.try_get("customer_ref")?,
                    window_start: when::format(rows::unsigned(r, "window_start")?),
                    outcome: receipt.outcome().name().into(),
                    office_reference: receipt.office_reference().map(|o| o.digits()),
                    checks_done: receipt.checks_done().iter().map(|c| c.name()).collect(),
                    transcript_hash: receipt.transcript_hash().map(hex::encode),
                    receipt_time: when::format(receipt.time()),
                    received_at: when::format(rows::unsigned(r, "received_at")?),
                    upload_id: rows::uuid(r, "upload_id")?.to_string(),
                    receipt: b64(&payload),
                    countersignature: b64(&countersignature),
                })
            })
            .collect()
    }

    /// Erases the personal data of customers with no open visit whose last visit ended more than
    /// the organisation's retention period ago, and the text of customers' reports received
    /// before then. Receipts stay: they hold no personal data.
    pub async fn purge(&self, org: &Organisation, now: u64) -> Result<Purged, ServerError> {
        let cutoff = now.saturating_sub(u64::from(org.retention_days) * 86_400);
        let customers = sqlx::query(
            "UPDATE customers SET data = NULL, purged_at = $1
             WHERE organisation_id = $2 AND data IS NOT NULL
               AND NOT EXISTS (
                   SELECT 1 FROM visits v WHERE v.customer_id = customers.id
                     AND (COALESCE(v.completed_at, v.window_start + v.window_minutes * 60) > $3))",
        )
        .bind(rows::signed(now))
        .bind(org.id.as_bytes().to_vec())
        .bind(rows::signed(cutoff))
        .execute(&self.pool)
        .await?
        .rows_affected();
        // The digest and countersignature stay, so a late redelivery is still recognised.
        let reports = sqlx::query(
            "UPDATE results SET payload = $1
             WHERE organisation_id = $2 AND kind = 'report' AND received_at <= $3 AND length(payload) > 0",
        )
        .bind(Vec::<u8>::new())
        .bind(org.id.as_bytes().to_vec())
        .bind(rows::signed(cutoff))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(Purged { customers, reports })
    }
}

/// What a purge erased.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Purged {
    pub customers: u64,
    pub reports: u64,
}

pub fn to_csv(results: &[ExportedResult]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "visit_ref",
        "staff_ref",
        "customer_ref",
        "window_start",
        "outcome",
        "office_reference",
        "checks_done",
        "transcript_hash",
        "receipt_time",
        "received_at",
        "upload_id",
        "receipt",
        "countersignature",
    ])
    .expect("writing to memory");
    for r in results {
        w.write_record([
            r.visit_ref.as_str(),
            &r.staff_ref,
            &r.customer_ref,
            &r.window_start,
            &r.outcome,
            r.office_reference.as_deref().unwrap_or(""),
            &r.checks_done.join(" "),
            r.transcript_hash.as_deref().unwrap_or(""),
            &r.receipt_time,
            &r.received_at,
            &r.upload_id,
            &r.receipt,
            &r.countersignature,
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 is UTF-8")
}
