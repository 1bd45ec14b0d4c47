//! The rules for a batch of uploads from one device, apart from the database: [`triage`] and
//! [`judge`] are pure functions of the device, its uploads and what the database knows, and
//! return a verdict per upload. [`ingest`] looks up what they need, judges and countersigns
//! every upload in one pass spread over the cores, and stores what it accepts in one
//! transaction.
//!
//! The rules: an upload id is stored once (the same content again gets the same
//! countersignature, whatever it would be judged now; other content under a used id is
//! refused); only agents upload receipts,
//! each signed by the uploading device's key and naming a ticket issued to that device for that
//! visit; reports are bounded in size, carry no field the API does not define, and may name
//! only a visit the reporting device was issued a ticket for.

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use doorstep_api::wire::{
    self, Bytes, ErrorBody, MAX_REPORT_BYTES, MAX_REPORT_NOTE_CHARS, Role, UploadKind, UploadStatus,
};
use doorstep_core::countersignature::Countersignature;
use doorstep_core::keys::sha256;
use doorstep_core::receipt::{Outcome, SignedReceipt};
use doorstep_core::ticket::SignedTicket;
use doorstep_core::{KeyId, PublicKey, Signature};
use uuid::Uuid;

use crate::db::devices::Device;
use crate::db::results::{NewResult, StoredUpload};
use crate::keys::OrganisationSigner;
use crate::keys::backends::Verifier;
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

/// Where an upload stands before any signature is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Triage {
    Decided(Verdict),
    /// A receipt, as it reads before its signature is checked: the ticket and visit it names
    /// tell what to look up.
    Receipt {
        serial: u64,
        visit_id: [u8; 16],
        /// For a receipt carrying a reference the back-office gave ("verified by the office",
        /// "checked on the page"), its outcome: which references to look up.
        referenced_by: Option<Outcome>,
    },
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

/// The ECDSA checks ingest makes, shareable across threads.
pub type Verify<'a> = dyn Fn(&PublicKey, &[u8], &Signature) -> bool + Sync + 'a;

/// What needs no signature check and no look-up: duplicates in the batch, the device's role,
/// and reading each receipt and report.
pub fn triage(device: &Device, uploads: &[wire::Upload]) -> Vec<Triage> {
    let mut seen = HashSet::new();
    uploads
        .iter()
        .map(|upload| {
            let id = upload.id;
            let answer = |r| Triage::Decided(Verdict::Answer(r));
            if !seen.insert(id) {
                return answer(rejected(
                    id,
                    "duplicate_in_batch",
                    "the same upload id twice in one batch",
                ));
            }
            let payload = &upload.payload.0;
            match (upload.kind, device.role) {
                (UploadKind::Receipt, Role::Agent) => match SignedReceipt::peek(payload) {
                    Ok((_, r)) => Triage::Receipt {
                        serial: r.ticket_serial(),
                        visit_id: r.visit_id().0,
                        referenced_by: r.office_reference().map(|_| r.outcome()),
                    },
                    Err(e) => answer(rejected(id, e.kind(), e.to_string())),
                },
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
                        Some(visit) => Triage::Report {
                            visit_id: visit.into_bytes(),
                        },
                        None => Triage::Decided(Verdict::Accept {
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

/// What the database knows about the uploads of a batch. `issued` holds the tickets issued to
/// the device among those named, by serial, as stored (each is checked against
/// `organisation_keys` once, by the first receipt that needs it); `customer_keys` the enrolled
/// keys those tickets name; `agents_visits` the named visits that are this agent's;
/// `reportable` the visits reports name that the device was issued a ticket for;
/// `references` the references the back-office gave for the visits receipts "verified by the
/// office" or "checked on the page" name, each with the outcome it backs: the operator's back
/// only the office's, the page's only the page's.
pub struct Known {
    pub issued: HashMap<u64, IssuedTicket>,
    pub organisation_keys: Vec<PublicKey>,
    pub customer_keys: HashMap<KeyId, PublicKey>,
    pub agents_visits: HashSet<[u8; 16]>,
    pub reportable: HashSet<[u8; 16]>,
    pub references: HashSet<(Outcome, [u8; 16], String)>,
}

/// A ticket as stored, and once checked, as read.
pub struct IssuedTicket {
    encoded: Vec<u8>,
    checked: OnceLock<Result<SignedTicket, String>>,
}

impl IssuedTicket {
    pub fn new(encoded: Vec<u8>) -> Self {
        Self {
            encoded,
            checked: OnceLock::new(),
        }
    }

    fn read(&self, keys: &[PublicKey], verify: &Verify<'_>) -> Result<&SignedTicket, ServerError> {
        self.checked
            .get_or_init(|| {
                SignedTicket::verify_with(&self.encoded, keys, verify).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| ServerError::Damaged(format!("a stored ticket: {e}")))
    }
}

/// The rules that need signatures and what the database knows: the receipt must be signed by
/// the uploading device's key (`verify_device`) and name a ticket issued to this device for
/// that visit; it must claim no check the ticket lacks, and a `Verified` one must carry the
/// customer's answer, signed by the key the ticket names.
pub fn judge(
    device: &Device,
    upload: &wire::Upload,
    triage: &Triage,
    known: &Known,
    verify_device: &(dyn Fn(&[u8], &Signature) -> bool + Sync),
    verify: &Verify<'_>,
) -> Result<Verdict, ServerError> {
    let refuse =
        |kind: &str, message: &str| Ok(Verdict::Answer(rejected(upload.id, kind, message)));
    match triage {
        Triage::Decided(v) => Ok(v.clone()),
        Triage::Report { visit_id } if known.reportable.contains(visit_id) => Ok(Verdict::Accept {
            visit_id: Some(*visit_id),
            outcome: None,
        }),
        Triage::Report { .. } => refuse(
            "unknown_visit",
            "the report names a visit this device was not issued",
        ),
        Triage::Receipt {
            serial, visit_id, ..
        } => {
            let by_device = |k: &PublicKey, m: &[u8], s: &Signature| {
                k == &device.public_key && verify_device(m, s)
            };
            let receipt =
                match SignedReceipt::verify_with(&upload.payload.0, &device.public_key, &by_device)
                {
                    Ok(r) => r,
                    Err(e) => return refuse(e.kind(), &e.to_string()),
                };
            let ticket = match known.issued.get(serial) {
                Some(issued) => Some(issued.read(&known.organisation_keys, verify)?),
                None => None,
            };
            let Some(ticket) = ticket.filter(|t| t.ticket().visit_id.0 == *visit_id) else {
                return if known.agents_visits.contains(visit_id) {
                    refuse(
                        "unknown_ticket",
                        "the receipt names a ticket not issued to this device for this visit",
                    )
                } else {
                    refuse(
                        "unknown_visit",
                        "the receipt names a visit that is not this agent's",
                    )
                };
            };
            let customer_key = known.customer_keys.get(&ticket.ticket().customer_key_id);
            let r = receipt.receipt();
            // Plan B and the page: only with a reference the back-office gave, that way, for
            // this very visit.
            if let Some(reference) = r.office_reference()
                && !known
                    .references
                    .contains(&(r.outcome(), *visit_id, reference.digits()))
            {
                return if r.outcome() == Outcome::CheckedOnPage {
                    refuse(
                        "unknown_page_reference",
                        "the verification page gave no such reference for this visit",
                    )
                } else {
                    refuse(
                        "unknown_office_reference",
                        "the office gave no such reference for this visit",
                    )
                };
            }
            match r.check_against_ticket(ticket, customer_key, verify) {
                Ok(()) => Ok(Verdict::Accept {
                    visit_id: Some(*visit_id),
                    outcome: Some(r.outcome()),
                }),
                Err(e) => refuse(e.kind(), &e.to_string()),
            }
        }
    }
}

/// A batch as its signature work needs it, shared by the cores that check it.
struct Checking {
    device: Device,
    device_key: Verifier,
    uploads: Vec<wire::Upload>,
    triaged: Vec<Triage>,
    known: Known,
    verifiers: HashMap<KeyId, (PublicKey, Verifier)>,
    signer: OrganisationSigner,
    now: u64,
}

/// An upload judged, and if accepted, its countersignature and the digest it signs.
type Checked = Result<(Verdict, Option<(Vec<u8>, [u8; 32])>), ServerError>;

impl Checking {
    fn verify(&self, k: &PublicKey, m: &[u8], s: &Signature) -> bool {
        match self.verifiers.get(&k.key_id()) {
            Some((key, v)) if key == k => v.verify(m, s),
            _ => self.signer.verify(k, m, s),
        }
    }

    /// Judges upload `i` and countersigns it if accepted; the countersignature's digest of the
    /// upload is the one stored with it.
    fn check(&self, i: usize) -> Checked {
        let upload = &self.uploads[i];
        let verdict = judge(
            &self.device,
            upload,
            &self.triaged[i],
            &self.known,
            &|m, s| self.device_key.verify(m, s),
            &|k, m, s| self.verify(k, m, s),
        )?;
        let countersigned = match verdict {
            Verdict::Accept { .. } => {
                let c = Countersignature::new(*upload.id.as_bytes(), &upload.payload.0, self.now);
                Some((
                    self.signer.sign(c.to_sign(self.signer.public_key()))?,
                    c.receipt_digest,
                ))
            }
            Verdict::Answer(_) => None,
        };
        Ok((verdict, countersigned))
    }
}

/// Checks, countersigns and stores a batch. Everything accepted is stored in one transaction: a
/// crash stores all of it or none, and the device resends what it did not hear back about. A
/// batch costs a fixed handful of queries whatever its size, and its signature work (receipts,
/// tickets, customers' answers, countersignatures) is one pass spread over the cores.
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
    // What is stored already is read only when the insert or a refusal says it matters: a
    // resent upload is rare, and judging it again costs less than a query for every batch.
    let triaged = triage(device, uploads);
    let known = look_up(db, device, &triaged).await?;

    // Each key is prepared once for all the signatures of the batch it checks.
    let verifiers: HashMap<KeyId, (PublicKey, Verifier)> = known
        .organisation_keys
        .iter()
        .chain(known.customer_keys.values())
        .map(|k| (k.key_id(), (*k, signer.verifier(k))))
        .collect();
    let batch = std::sync::Arc::new(Checking {
        device_key: signer.verifier(&device.public_key),
        device: device.clone(),
        uploads: uploads.to_vec(),
        triaged,
        known,
        verifiers,
        signer: signer.clone(),
        now,
    });
    let judged =
        crate::cores::on_cores((0..uploads.len()).collect(), move |&i| batch.check(i)).await;
    let mut results: Vec<Option<wire::UploadResult>> = vec![None; uploads.len()];
    let mut accepted = Vec::new();
    for (index, judged) in judged.into_iter().enumerate() {
        match judged? {
            (Verdict::Answer(r), _) => results[index] = Some(r),
            (Verdict::Accept { visit_id, outcome }, Some((countersignature, digest))) => {
                accepted.push(NewResult {
                    upload: &uploads[index],
                    visit_id,
                    outcome,
                    digest,
                    countersignature,
                    index,
                });
            }
            (Verdict::Accept { .. }, None) => unreachable!("an accepted upload is countersigned"),
        }
    }

    let inserted = db.store_results(device, &accepted, now).await?;
    // Stored by an earlier delivery (or another one just now): answered with what was stored.
    let mut maybe_stored = Vec::new();
    for a in &accepted {
        if inserted.contains(&a.upload.id) {
            results[a.index] = Some(stored(
                a.upload.id,
                UploadStatus::Stored,
                a.countersignature.clone(),
            ));
        } else {
            maybe_stored.push(a.index);
        }
    }
    let refused_now = results.iter().enumerate().filter_map(|(i, r)| {
        let kind = r.as_ref()?.error.as_ref()?.error.as_str();
        (kind != "duplicate_in_batch").then_some(i)
    });
    let refused_now: Vec<usize> = refused_now.collect();
    let accepted_but_not_inserted = maybe_stored.len();
    maybe_stored.extend(refused_now);
    if !maybe_stored.is_empty() {
        let ids: Vec<Uuid> = maybe_stored.iter().map(|&i| uploads[i].id).collect();
        let earlier = db.stored_uploads(&ids).await?;
        for (n, i) in maybe_stored.into_iter().enumerate() {
            match earlier.get(&uploads[i].id) {
                Some(s) => results[i] = Some(replay_result(device, &uploads[i], s)),
                None if n < accepted_but_not_inserted => {
                    return Err(ServerError::Damaged("an upload vanished".into()));
                }
                None => {}
            }
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every upload has a verdict"))
        .collect())
}

/// What the database knows about a triaged batch, in a few queries whatever its size.
async fn look_up(db: &Db, device: &Device, triaged: &[Triage]) -> Result<Known, ServerError> {
    let mut serials = Vec::new();
    let mut reported = Vec::new();
    let mut confirmed_by_office = Vec::new();
    let mut checked_on_page = Vec::new();
    for t in triaged {
        match t {
            Triage::Receipt {
                serial,
                visit_id,
                referenced_by,
            } => {
                serials.push(*serial);
                match referenced_by {
                    Some(Outcome::CheckedOnPage) => checked_on_page.push(*visit_id),
                    Some(_) => confirmed_by_office.push(*visit_id),
                    None => {}
                }
            }
            Triage::Report { visit_id } => reported.push(*visit_id),
            Triage::Decided(_) => {}
        }
    }
    let reportable = db.visits_issued_to(device, &reported).await?;
    let office = db.office_references(&confirmed_by_office).await?;
    let page = db.page_references(&checked_on_page).await?;
    let references = office
        .into_iter()
        .map(|(visit, r)| (Outcome::VerifiedByOffice, visit, r))
        .chain(
            page.into_iter()
                .map(|(visit, r)| (Outcome::CheckedOnPage, visit, r)),
        )
        .collect();
    let issued = db.tickets_issued_to(device, &serials).await?;
    let mut organisation_keys = Vec::new();
    // The keys the tickets name, each decoded once.
    let mut customer_keys: HashMap<KeyId, PublicKey> = HashMap::new();
    for t in issued.values() {
        if let Some(stored) = &t.customer_key
            && !customer_keys.contains_key(&t.customer_key_id)
        {
            let key = PublicKey::from_compressed(stored)
                .map_err(|_| ServerError::Damaged("a device key".into()))?;
            customer_keys.insert(t.customer_key_id, key);
        }
    }
    if !issued.is_empty() {
        // Whose keys signed the tickets, to have them at hand; each ticket is checked before
        // it is used.
        let signed_by: Vec<KeyId> = issued
            .values()
            .filter_map(|t| doorstep_core::signed::Envelope::decode_all(&t.encoded).ok())
            .map(|envelope| envelope.key_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        // Tickets this back-office signed, read back with its own keys (old ones included).
        organisation_keys = db
            .organisation_keys_including(device.organisation_id, &signed_by)
            .await?;
    }
    // Only for receipts whose ticket is not this device's: which error to give.
    let mut agents_visits = HashSet::new();
    for t in triaged {
        if let Triage::Receipt {
            serial, visit_id, ..
        } = t
            && !issued.contains_key(serial)
            && db
                .visit_of_agent(visit_id, device.subject_id)
                .await?
                .is_some()
        {
            agents_visits.insert(*visit_id);
        }
    }
    Ok(Known {
        issued: issued
            .into_iter()
            .map(|(serial, row)| (serial, IssuedTicket::new(row.encoded)))
            .collect(),
        organisation_keys,
        customer_keys,
        agents_visits,
        reportable,
        references,
    })
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
    use doorstep_core::receipt::{Receipt, UnverifiedOutcome};
    use doorstep_core::scenario::Scenario;

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
        let organisation_keys = vec![s.organisation_key.public_key()];
        let ticket = SignedTicket::verify(&s.ticket_encoded, &organisation_keys).unwrap();
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
        let device = Device {
            id: Uuid::from_bytes([1; 16]),
            organisation_id: Uuid::from_bytes([2; 16]),
            role: Role::Agent,
            subject_id: Uuid::from_bytes([3; 16]),
            public_key: s.agent_key.public_key(),
            revoked_at: None,
            held_until: None,
        };
        let ecdsa = |k: &PublicKey, m: &[u8], sig: &Signature| k.verify(m, sig);
        let by_agent = |m: &[u8], sig: &Signature| s.agent_key.public_key().verify(m, sig);
        let judge_one = |receipt: &Receipt,
                         issued: bool,
                         customer_keys: HashMap<KeyId, PublicKey>,
                         agents_visits: HashSet<[u8; 16]>| {
            let upload = wire::Upload {
                id: Uuid::from_bytes([9; 16]),
                kind: UploadKind::Receipt,
                payload: Bytes(
                    receipt
                        .to_sign(s.agent_key.public_key())
                        .sign_with(&s.agent_key)
                        .unwrap(),
                ),
            };
            let triaged = triage(&device, std::slice::from_ref(&upload));
            let known = Known {
                issued: if issued {
                    HashMap::from([(serial, IssuedTicket::new(s.ticket_encoded.clone()))])
                } else {
                    HashMap::new()
                },
                organisation_keys: organisation_keys.clone(),
                customer_keys,
                agents_visits,
                reportable: HashSet::new(),
                references: HashSet::new(),
            };
            judge(&device, &upload, &triaged[0], &known, &by_agent, &ecdsa).unwrap()
        };
        let keys = || HashMap::from([(customer.key_id(), customer)]);
        let mine = || HashSet::from([visit]);

        assert_eq!(
            judge_one(&verified, true, keys(), mine()),
            Verdict::Accept {
                visit_id: Some(visit),
                outcome: Some(Outcome::Verified)
            }
        );
        assert_eq!(
            kind(&judge_one(&not_home, true, HashMap::new(), mine())),
            None
        );
        // The agent's visit, but a ticket this device was never given.
        assert_eq!(
            kind(&judge_one(&verified, false, keys(), mine())).as_deref(),
            Some("unknown_ticket")
        );
        // Somebody else's visit.
        assert_eq!(
            kind(&judge_one(&verified, false, keys(), HashSet::new())).as_deref(),
            Some("unknown_visit")
        );
        // The customer's answer checked against another key than the ticket names.
        let stranger = doorstep_core::SoftwareKey::generate(&mut SeededRandomness::new("x"));
        let wrong_keys = HashMap::from([(customer.key_id(), stranger.public_key())]);
        assert_eq!(
            kind(&judge_one(&verified, true, wrong_keys, mine())).as_deref(),
            Some("wrong_customer_key")
        );
        // A receipt whose signature is not the uploading device's: refused before its ticket
        // is looked at.
        let mut payload = verified
            .to_sign(s.agent_key.public_key())
            .sign_with(&s.agent_key)
            .unwrap();
        let last = payload.len() - 1;
        payload[last] ^= 1;
        let forged = wire::Upload {
            id: Uuid::from_bytes([8; 16]),
            kind: UploadKind::Receipt,
            payload: Bytes(payload),
        };
        let triaged = triage(&device, std::slice::from_ref(&forged));
        assert!(matches!(triaged[0], Triage::Receipt { .. }));
        let known = Known {
            issued: HashMap::from([(serial, IssuedTicket::new(s.ticket_encoded.clone()))]),
            organisation_keys: organisation_keys.clone(),
            customer_keys: keys(),
            agents_visits: mine(),
            reportable: HashSet::new(),
            references: HashSet::new(),
        };
        let verdict = judge(&device, &forged, &triaged[0], &known, &by_agent, &ecdsa).unwrap();
        assert_eq!(kind(&verdict).as_deref(), Some("bad_receipt_signature"));
    }
}
