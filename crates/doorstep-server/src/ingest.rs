//! The rules for a batch of uploads from one device, apart from the database: [`check`] and
//! [`settle`] are pure functions of the device, its uploads and what the database knows, and
//! return a verdict per upload. [`ingest`] looks up what they need, countersigns what they
//! accept and stores it in one transaction.
//!
//! The rules: an upload id is stored once (the same content again gets the same
//! countersignature; other content under a used id is refused); only agents upload receipts,
//! each signed by the uploading device's key and naming a ticket issued to that device for that
//! visit; reports are bounded in size, carry no field the API does not define, and may name
//! only a visit the reporting device was issued a ticket for.

use std::collections::{HashMap, HashSet};

use doorstep_api::wire::{
    self, Bytes, ErrorBody, MAX_REPORT_BYTES, MAX_REPORT_NOTE_CHARS, Role, UploadKind, UploadStatus,
};
use doorstep_core::countersignature::Countersignature;
use doorstep_core::keys::sha256;
use doorstep_core::receipt::{Outcome, Receipt, SignedReceipt};
use doorstep_core::ticket::SignedTicket;
use doorstep_core::{KeyId, PublicKey, Signature};
use uuid::Uuid;

use crate::db::devices::Device;
use crate::db::results::{NewResult, StoredUpload};
use crate::keys::OrganisationSigner;
use crate::{Db, ServerError};

/// What becomes of one upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Decided already: refused, or stored by an earlier delivery.
    Answer(wire::UploadResult),
    /// Passed every check: to be countersigned and stored.
    Accept {
        visit_id: Option<[u8; 16]>,
        outcome: Option<Outcome>,
    },
}

/// A receipt whose signature checked out, waiting for its ticket to be looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub receipt: Receipt,
}

impl SignedBy {
    pub fn visit_id(&self) -> [u8; 16] {
        self.receipt.visit_id().0
    }

    pub fn serial(&self) -> u64 {
        self.receipt.ticket_serial()
    }
}

/// Where an upload stands after the checks that need no ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Decided(Verdict),
    /// A receipt, signed by the device; its ticket decides.
    Receipt(SignedBy),
    /// A well-formed report naming a visit: the tickets issued to the device decide.
    Report {
        visit_id: [u8; 16],
    },
}

/// Why an upload was refused for good.
pub fn rejected(id: Uuid, kind: &str, message: impl Into<String>) -> wire::UploadResult {
    wire::UploadResult {
        id,
        status: UploadStatus::Rejected,
        countersignature: None,
        error: Some(ErrorBody {
            error: kind.into(),
            message: message.into(),
        }),
    }
}

pub fn stored(id: Uuid, status: UploadStatus, countersignature: Vec<u8>) -> wire::UploadResult {
    wire::UploadResult {
        id,
        status,
        countersignature: Some(Bytes(countersignature)),
        error: None,
    }
}

pub fn digest(upload: &wire::Upload) -> [u8; 32] {
    sha256(&[&upload.payload.0])
}

/// The answer to an upload whose id is already stored.
pub fn replay_result(
    device: &Device,
    upload: &wire::Upload,
    s: &StoredUpload,
) -> wire::UploadResult {
    if s.device_id != device.id || s.digest != digest(upload) {
        return rejected(
            upload.id,
            "upload_id_reused",
            "this upload id was already used for other content",
        );
    }
    stored(
        upload.id,
        UploadStatus::AlreadyStored,
        s.countersignature.clone(),
    )
}

/// The checks that need nothing but the device, the batch, the uploads already stored under its
/// ids, and a signature check for the device's key.
pub fn check(
    device: &Device,
    uploads: &[wire::Upload],
    already_stored: &HashMap<Uuid, StoredUpload>,
    verify: &dyn Fn(&[u8], &Signature) -> bool,
) -> Vec<Checked> {
    let mut seen = HashSet::new();
    // Every receipt of the batch must be signed by the uploading device's key.
    let by_device =
        |k: &PublicKey, m: &[u8], s: &Signature| k == &device.public_key && verify(m, s);
    uploads
        .iter()
        .map(|upload| {
            let id = upload.id;
            let answer = |r| Checked::Decided(Verdict::Answer(r));
            if !seen.insert(id) {
                return answer(rejected(
                    id,
                    "duplicate_in_batch",
                    "the same upload id twice in one batch",
                ));
            }
            if let Some(s) = already_stored.get(&id) {
                return answer(replay_result(device, upload, s));
            }
            let payload = &upload.payload.0;
            match (upload.kind, device.role) {
                (UploadKind::Receipt, Role::Agent) => {
                    match SignedReceipt::verify_with(payload, &device.public_key, &by_device) {
                        Ok(r) => Checked::Receipt(SignedBy {
                            receipt: r.receipt().clone(),
                        }),
                        Err(e) => answer(rejected(id, e.kind(), e.to_string())),
                    }
                }
                (UploadKind::Receipt, Role::Customer) => {
                    answer(rejected(id, "wrong_role", "only agents upload receipts"))
                }
                // A customer's report about a visitor, or an agent's note on an outcome.
                (UploadKind::Report, _) if payload.len() > MAX_REPORT_BYTES => answer(rejected(
                    id,
                    "malformed_report",
                    format!("a report is at most {MAX_REPORT_BYTES} bytes"),
                )),
                (UploadKind::Report, _) => match serde_json::from_slice::<wire::Report>(payload) {
                    Ok(report) if report.note.chars().count() > MAX_REPORT_NOTE_CHARS => {
                        answer(rejected(id, "malformed_report", "the note is too long"))
                    }
                    Ok(report) => match report.visit_id {
                        Some(visit) => Checked::Report {
                            visit_id: visit.into_bytes(),
                        },
                        None => Checked::Decided(Verdict::Accept {
                            visit_id: None,
                            outcome: None,
                        }),
                    },
                    Err(e) => answer(rejected(id, "malformed_report", e.to_string())),
                },
            }
        })
        .collect()
}

/// The ticket rule: a ticket issued to this device for the visit the receipt names proves the
/// visit is this agent's, in this organisation; then the receipt must claim no check the ticket
/// lacks, and a `Verified` one must carry the customer's answer, signed by the key the ticket
/// names. `issued` holds the tickets issued to the device among those named, by serial;
/// `customer_keys` the enrolled keys those tickets name; `agents_visits` the named visits that
/// are this agent's; `reportable` the visits reports name that the device was issued a ticket
/// for.
pub struct Known<'a> {
    pub issued: &'a HashMap<u64, SignedTicket>,
    pub customer_keys: &'a HashMap<KeyId, PublicKey>,
    pub agents_visits: &'a HashSet<[u8; 16]>,
    pub reportable: &'a HashSet<[u8; 16]>,
}

pub fn settle(
    uploads: &[wire::Upload],
    checked: Vec<Checked>,
    known: &Known<'_>,
    verify: &dyn Fn(&PublicKey, &[u8], &Signature) -> bool,
) -> Vec<Verdict> {
    let Known {
        issued,
        customer_keys,
        agents_visits,
        reportable,
    } = known;
    checked
        .into_iter()
        .zip(uploads)
        .map(|(c, upload)| match c {
            Checked::Decided(v) => v,
            Checked::Report { visit_id } if reportable.contains(&visit_id) => Verdict::Accept {
                visit_id: Some(visit_id),
                outcome: None,
            },
            Checked::Report { .. } => Verdict::Answer(rejected(
                upload.id,
                "unknown_visit",
                "the report names a visit this device was not issued",
            )),
            Checked::Receipt(r) => {
                let ticket = issued
                    .get(&r.serial())
                    .filter(|t| t.ticket().visit_id.0 == r.visit_id());
                let Some(ticket) = ticket else {
                    return Verdict::Answer(if agents_visits.contains(&r.visit_id()) {
                        rejected(
                            upload.id,
                            "unknown_ticket",
                            "the receipt names a ticket not issued to this device for this visit",
                        )
                    } else {
                        rejected(
                            upload.id,
                            "unknown_visit",
                            "the receipt names a visit that is not this agent's",
                        )
                    });
                };
                let customer_key = customer_keys.get(&ticket.ticket().customer_key_id);
                match r.receipt.check_against_ticket(ticket, customer_key, verify) {
                    Ok(()) => Verdict::Accept {
                        visit_id: Some(r.visit_id()),
                        outcome: Some(r.receipt.outcome()),
                    },
                    Err(e) => Verdict::Answer(rejected(upload.id, e.kind(), e.to_string())),
                }
            }
        })
        .collect()
}

/// Checks, countersigns and stores a batch. Everything accepted is stored in one transaction: a
/// crash stores all of it or none, and the device resends what it did not hear back about. A
/// batch costs a fixed handful of queries whatever its size.
pub async fn ingest(
    db: &Db,
    device: &Device,
    uploads: &[wire::Upload],
    signer: &OrganisationSigner,
    now: u64,
) -> Result<Vec<wire::UploadResult>, ServerError> {
    if uploads.len() > wire::MAX_BATCH_ITEMS {
        return Err(ServerError::BatchTooLarge {
            max: wire::MAX_BATCH_ITEMS,
        });
    }
    let ids: Vec<Uuid> = uploads.iter().map(|u| u.id).collect();
    let already_stored = db.stored_uploads(&ids).await?;
    let device_key = signer.verifier(&device.public_key);
    let checked = check(device, uploads, &already_stored, &|m, s| {
        device_key.verify(m, s)
    });
    let receipts: Vec<&SignedBy> = checked
        .iter()
        .filter_map(|c| match c {
            Checked::Receipt(r) => Some(r),
            _ => None,
        })
        .collect();
    let reported: Vec<[u8; 16]> = checked
        .iter()
        .filter_map(|c| match c {
            Checked::Report { visit_id } => Some(*visit_id),
            _ => None,
        })
        .collect();
    let reportable = db.visits_issued_to(device, &reported).await?;
    let serials: Vec<u64> = receipts.iter().map(|r| r.serial()).collect();
    let issued = db.tickets_issued_to(device, &serials).await?;
    let issued = if issued.is_empty() {
        HashMap::new()
    } else {
        // Tickets this back-office signed, read back with its own keys (old ones included).
        let keys = db.organisation_by_id(device.organisation_id).await?.keys;
        issued
            .into_iter()
            .map(|(serial, encoded)| {
                SignedTicket::verify(&encoded, &keys)
                    .map(|t| (serial, t))
                    .map_err(|e| ServerError::Damaged(format!("ticket {serial}: {e}")))
            })
            .collect::<Result<HashMap<_, _>, _>>()?
    };
    let mut customer_keys = HashMap::new();
    for ticket in issued.values() {
        let key_id = ticket.ticket().customer_key_id;
        if let Some(d) = db.device_by_key(key_id).await? {
            customer_keys.insert(key_id, d.public_key);
        }
    }
    // Only for receipts whose ticket is not this device's: which error to give.
    let mut agents_visits = HashSet::new();
    for r in receipts.iter().filter(|r| {
        issued
            .get(&r.serial())
            .is_none_or(|t| t.ticket().visit_id.0 != r.visit_id())
    }) {
        if db
            .visit_of_agent(&r.visit_id(), device.subject_id)
            .await?
            .is_some()
        {
            agents_visits.insert(r.visit_id());
        }
    }
    let verify = |k: &PublicKey, m: &[u8], s: &Signature| signer.verifier(k).verify(m, s);
    let known = Known {
        issued: &issued,
        customer_keys: &customer_keys,
        agents_visits: &agents_visits,
        reportable: &reportable,
    };
    let verdicts = settle(uploads, checked, &known, &verify);

    let mut results: Vec<Option<wire::UploadResult>> = vec![None; uploads.len()];
    let mut accepted = Vec::new();
    for (index, verdict) in verdicts.into_iter().enumerate() {
        match verdict {
            Verdict::Answer(r) => results[index] = Some(r),
            Verdict::Accept { visit_id, outcome } => {
                let upload = &uploads[index];
                let countersignature = signer.sign(
                    Countersignature::new(*upload.id.as_bytes(), &upload.payload.0, now)
                        .to_sign(signer.public_key()),
                )?;
                accepted.push(NewResult {
                    upload,
                    visit_id,
                    outcome,
                    digest: digest(upload),
                    countersignature,
                    index,
                });
            }
        }
    }

    let inserted = db.store_results(device, &accepted, now).await?;
    let mut raced = Vec::new();
    for a in &accepted {
        if inserted.contains(&a.upload.id) {
            results[a.index] = Some(stored(
                a.upload.id,
                UploadStatus::Stored,
                a.countersignature.clone(),
            ));
        } else {
            raced.push(a.index);
        }
    }
    // Another delivery of the same upload got there first: answer with what it stored.
    if !raced.is_empty() {
        let raced_ids: Vec<Uuid> = raced.iter().map(|&i| uploads[i].id).collect();
        let winners = db.stored_uploads(&raced_ids).await?;
        for i in raced {
            let s = winners
                .get(&uploads[i].id)
                .ok_or_else(|| ServerError::Damaged("an upload vanished".into()))?;
            results[i] = Some(replay_result(device, &uploads[i], s));
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every upload has a verdict"))
        .collect())
}

/// A whole upload request: the device's receipt log checked against its anchor, the uploads
/// ingested, and the log's new head anchored and countersigned.
pub async fn ingest_batch(
    db: &Db,
    device: &Device,
    batch: &wire::UploadBatch,
    signer: &OrganisationSigner,
    now: u64,
) -> Result<wire::UploadResults, ServerError> {
    let head = db.check_log(device, batch.log.as_ref(), now).await?;
    let results = ingest(db, device, &batch.uploads, signer, now).await?;
    let log_anchor = match head {
        Some(head) => Some(Bytes(db.anchor_log(device, head, signer, now).await?)),
        None => None,
    };
    Ok(wire::UploadResults {
        results,
        log_anchor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::SeededRandomness;
    use doorstep_core::receipt::UnverifiedOutcome;
    use doorstep_core::scenario::Scenario;

    fn upload(n: u8) -> wire::Upload {
        wire::Upload {
            id: Uuid::from_bytes([n; 16]),
            kind: UploadKind::Receipt,
            payload: Bytes(vec![n]),
        }
    }

    fn kind(v: &Verdict) -> Option<String> {
        match v {
            Verdict::Answer(r) => r.error.as_ref().map(|e| e.error.clone()),
            Verdict::Accept { .. } => None,
        }
    }

    #[test]
    fn a_receipt_is_accepted_only_with_its_ticket_and_a_verified_one_only_with_the_customers_answer()
     {
        let s = Scenario::new("settle");
        let ticket =
            SignedTicket::verify(&s.ticket_encoded, &[s.organisation_key.public_key()]).unwrap();
        let verified = s
            .run(None, &mut SeededRandomness::new("run"))
            .agent_receipt
            .unwrap();
        let not_home = Receipt::without_handshake(
            &ticket,
            UnverifiedOutcome::NotHome,
            Default::default(),
            None,
            s.now,
        );
        let visit = ticket.ticket().visit_id.0;
        let serial = ticket.ticket().serial;
        let customer = s.customer_key.public_key();
        let ecdsa = |k: &PublicKey, m: &[u8], sig: &Signature| k.verify(m, sig);
        let settle_one = |receipt: &Receipt,
                          issued: &HashMap<u64, SignedTicket>,
                          customer_keys: &HashMap<KeyId, PublicKey>,
                          agents: &HashSet<[u8; 16]>| {
            let checked = vec![Checked::Receipt(SignedBy {
                receipt: receipt.clone(),
            })];
            let known = Known {
                issued,
                customer_keys,
                agents_visits: agents,
                reportable: &HashSet::new(),
            };
            settle(&[upload(1)], checked, &known, &ecdsa).remove(0)
        };
        let issued = HashMap::from([(serial, ticket.clone())]);
        let keys = HashMap::from([(customer.key_id(), customer)]);
        let mine = HashSet::from([visit]);

        assert_eq!(
            settle_one(&verified, &issued, &keys, &mine),
            Verdict::Accept {
                visit_id: Some(visit),
                outcome: Some(Outcome::Verified)
            }
        );
        assert_eq!(
            kind(&settle_one(&not_home, &issued, &HashMap::new(), &mine)),
            None
        );
        // The agent's visit, but a ticket this device was never given.
        let none = HashMap::new();
        assert_eq!(
            kind(&settle_one(&verified, &none, &keys, &mine)).as_deref(),
            Some("unknown_ticket")
        );
        // Somebody else's visit.
        assert_eq!(
            kind(&settle_one(&verified, &none, &keys, &HashSet::new())).as_deref(),
            Some("unknown_visit")
        );
        // The customer's answer checked against another key than the ticket names.
        let stranger = doorstep_core::SoftwareKey::generate(&mut SeededRandomness::new("x"));
        let wrong_keys = HashMap::from([(customer.key_id(), stranger.public_key())]);
        assert_eq!(
            kind(&settle_one(&verified, &issued, &wrong_keys, &mine)).as_deref(),
            Some("wrong_customer_key")
        );
    }
}
