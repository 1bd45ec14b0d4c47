//! Results devices push: each upload is checked (signature, device, visit, ticket), stored once
//! under the device's id for it, and countersigned. Delivering the same upload again returns the
//! same countersignature; reusing an id for other content is refused.
//!
//! A batch costs a fixed handful of queries whatever its size (look up known ids, look up the
//! tickets named, insert, mark visits done): on SQLite and PostgreSQL alike the round trips, not
//! the rows, are what costs.

use std::collections::{HashMap, HashSet};

use doorstep_api::wire::{
    self, Bytes, ErrorBody, MAX_REPORT_NOTE_CHARS, Role, UploadKind, UploadStatus,
};
use doorstep_core::PublicKey;
use doorstep_core::countersignature::Countersignature;
use doorstep_core::keys::sha256;
use doorstep_core::receipt::{Outcome, SignedReceipt};
use sqlx::Row;
use uuid::Uuid;

use crate::devices::Device;
use crate::signing::OrganisationSigner;
use crate::{Db, ServerError, rows};

const RESULT_COLUMNS: usize = 10;

/// Why an upload was refused for good.
fn rejected(id: Uuid, kind: &str, message: impl Into<String>) -> wire::UploadResult {
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

fn stored(id: Uuid, status: UploadStatus, countersignature: Vec<u8>) -> wire::UploadResult {
    wire::UploadResult {
        id,
        status,
        countersignature: Some(Bytes(countersignature)),
        error: None,
    }
}

/// `$first, $first+1, …` for `n` values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What is already stored under an upload id.
struct StoredUpload {
    device_id: Uuid,
    digest: Vec<u8>,
    countersignature: Vec<u8>,
}

/// An upload that passed every check, ready to store.
struct Accepted {
    index: usize,
    visit_id: Option<Vec<u8>>,
    outcome: Option<Outcome>,
    digest: [u8; 32],
    countersignature: Vec<u8>,
}

/// A receipt whose signature checked out, waiting for its ticket to be looked up.
struct SignedBy {
    index: usize,
    visit_id: [u8; 16],
    serial: u64,
    outcome: Outcome,
}

fn replay_result(
    device: &Device,
    id: Uuid,
    digest: &[u8; 32],
    s: &StoredUpload,
) -> wire::UploadResult {
    if s.device_id != device.id || s.digest != digest {
        return rejected(
            id,
            "upload_id_reused",
            "this upload id was already used for other content",
        );
    }
    stored(id, UploadStatus::AlreadyStored, s.countersignature.clone())
}

impl Db {
    async fn stored_uploads(
        &self,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, StoredUpload>, ServerError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT upload_id, device_id, payload_digest, countersignature FROM results WHERE upload_id IN ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id.as_bytes().to_vec());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    rows::uuid(r, "upload_id")?,
                    StoredUpload {
                        device_id: rows::uuid(r, "device_id")?,
                        digest: r.try_get("payload_digest")?,
                        countersignature: r.try_get("countersignature")?,
                    },
                ))
            })
            .collect()
    }

    /// (serial, visit) pairs of the tickets issued to `device` among `serials`.
    async fn tickets_issued_to(
        &self,
        device: &Device,
        serials: &[u64],
    ) -> Result<HashSet<(u64, [u8; 16])>, ServerError> {
        if serials.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT serial, visit_id FROM tickets WHERE agent_device_id = $1 AND serial IN ({})",
            placeholders(2, serials.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(device.id.as_bytes().to_vec());
        for s in serials {
            query = query.bind(rows::signed(*s));
        }
        query
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((rows::unsigned(r, "serial")?, rows::fixed(r, "visit_id")?)))
            .collect()
    }

    /// Checks, stores and countersigns a batch. Everything accepted is stored in one
    /// transaction: a crash stores all of it or none, and the device resends what it did not
    /// hear back about.
    pub async fn ingest(
        &self,
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
        let mut results: Vec<Option<wire::UploadResult>> = vec![None; uploads.len()];
        let digests: Vec<[u8; 32]> = uploads.iter().map(|u| sha256(&[&u.payload.0])).collect();
        let ids: Vec<Uuid> = uploads.iter().map(|u| u.id).collect();
        let known = self.stored_uploads(&ids).await?;

        let mut receipts = Vec::new();
        let mut checked: Vec<(usize, Option<Vec<u8>>, Option<Outcome>)> = Vec::new();
        let mut seen = HashSet::new();
        // Every receipt of the batch must be signed by the uploading device's key.
        let device_key = signer.verifier(&device.public_key);
        let check =
            |k: &PublicKey, m: &[u8], s: &_| k == &device.public_key && device_key.verify(m, s);
        for (i, upload) in uploads.iter().enumerate() {
            let id = upload.id;
            if !seen.insert(id) {
                results[i] = Some(rejected(
                    id,
                    "duplicate_in_batch",
                    "the same upload id twice in one batch",
                ));
                continue;
            }
            if let Some(s) = known.get(&id) {
                results[i] = Some(replay_result(device, id, &digests[i], s));
                continue;
            }
            let payload = &upload.payload.0;
            match (upload.kind, device.role) {
                (UploadKind::Receipt, Role::Agent) => {
                    match SignedReceipt::verify_with(payload, &device.public_key, &check) {
                        Ok(r) => receipts.push(SignedBy {
                            index: i,
                            visit_id: r.receipt().visit_id().0,
                            serial: r.receipt().ticket_serial(),
                            outcome: r.receipt().outcome(),
                        }),
                        Err(e) => results[i] = Some(rejected(id, e.kind(), e.to_string())),
                    }
                }
                // A customer's report about a visitor, or an agent's note on an outcome.
                (UploadKind::Report, _) => match serde_json::from_slice::<wire::Report>(payload) {
                    Ok(report) if report.note.chars().count() <= MAX_REPORT_NOTE_CHARS => {
                        checked.push((i, report.visit_id.map(|v| v.as_bytes().to_vec()), None));
                    }
                    Ok(_) => {
                        results[i] = Some(rejected(id, "malformed_report", "the note is too long"))
                    }
                    Err(e) => results[i] = Some(rejected(id, "malformed_report", e.to_string())),
                },
                (UploadKind::Receipt, _) => {
                    results[i] = Some(rejected(id, "wrong_role", "only agents upload receipts"));
                }
            }
        }

        // A ticket issued to this device for the visit the receipt names proves the visit is
        // this agent's, in this organisation.
        let serials: Vec<u64> = receipts.iter().map(|r| r.serial).collect();
        let issued = self.tickets_issued_to(device, &serials).await?;
        for r in receipts {
            if issued.contains(&(r.serial, r.visit_id)) {
                checked.push((r.index, Some(r.visit_id.to_vec()), Some(r.outcome)));
                continue;
            }
            let id = uploads[r.index].id;
            results[r.index] = Some(
                if self
                    .visit_of_agent(&r.visit_id, device.subject_id)
                    .await?
                    .is_none()
                {
                    rejected(
                        id,
                        "unknown_visit",
                        "the receipt names a visit that is not this agent's",
                    )
                } else {
                    rejected(
                        id,
                        "unknown_ticket",
                        "the receipt names a ticket not issued to this device for this visit",
                    )
                },
            );
        }

        let mut accepted = Vec::with_capacity(checked.len());
        for (index, visit_id, outcome) in checked {
            let upload = &uploads[index];
            let countersignature = signer.sign(
                Countersignature::new(*upload.id.as_bytes(), &upload.payload.0, now)
                    .to_sign(signer.public_key()),
            )?;
            accepted.push(Accepted {
                index,
                visit_id,
                outcome,
                digest: digests[index],
                countersignature,
            });
        }

        let inserted = self.store_accepted(device, uploads, &accepted, now).await?;
        let mut raced = Vec::new();
        for a in &accepted {
            let id = uploads[a.index].id;
            if inserted.contains(&id) {
                results[a.index] =
                    Some(stored(id, UploadStatus::Stored, a.countersignature.clone()));
            } else {
                raced.push(a.index);
            }
        }
        // Another delivery of the same upload got there first: answer with what it stored.
        if !raced.is_empty() {
            let raced_ids: Vec<Uuid> = raced.iter().map(|&i| uploads[i].id).collect();
            let winners = self.stored_uploads(&raced_ids).await?;
            for i in raced {
                let id = uploads[i].id;
                let s = winners
                    .get(&id)
                    .ok_or_else(|| ServerError::Damaged("an upload vanished".into()))?;
                results[i] = Some(replay_result(device, id, &digests[i], s));
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every upload has a result"))
            .collect())
    }

    /// Inserts the accepted uploads and marks their visits done, in one transaction; returns
    /// the ids actually inserted (not already there).
    async fn store_accepted(
        &self,
        device: &Device,
        uploads: &[wire::Upload],
        accepted: &[Accepted],
        now: u64,
    ) -> Result<HashSet<Uuid>, ServerError> {
        if accepted.is_empty() {
            return Ok(HashSet::new());
        }
        let values = (0..accepted.len())
            .map(|row| {
                format!(
                    "({})",
                    placeholders(1 + row * RESULT_COLUMNS, RESULT_COLUMNS)
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "INSERT INTO results (upload_id, organisation_id, device_id, kind, visit_id, outcome, payload, payload_digest, received_at, countersignature)
             VALUES {values} ON CONFLICT (upload_id) DO NOTHING RETURNING upload_id"
        );
        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
        for a in accepted {
            let upload = &uploads[a.index];
            insert = insert
                .bind(upload.id.as_bytes().to_vec())
                .bind(device.organisation_id.as_bytes().to_vec())
                .bind(device.id.as_bytes().to_vec())
                .bind(upload.kind.as_str())
                .bind(a.visit_id.clone())
                .bind(a.outcome.map(|o| o.name()))
                .bind(upload.payload.0.clone())
                .bind(a.digest.to_vec())
                .bind(rows::signed(now))
                .bind(a.countersignature.clone());
        }
        let mut tx = self.pool.begin().await?;
        let inserted: HashSet<Uuid> = insert
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| rows::uuid(r, "upload_id"))
            .collect::<Result<_, _>>()?;
        // A visit is done once someone answered the door; "not home" leaves it open.
        let done: Vec<&Vec<u8>> = accepted
            .iter()
            .filter(|a| inserted.contains(&uploads[a.index].id))
            .filter(|a| a.outcome.is_some_and(|o| o != Outcome::NotHome))
            .filter_map(|a| a.visit_id.as_ref())
            .collect();
        if !done.is_empty() {
            let sql = format!(
                "UPDATE visits SET completed_at = COALESCE(completed_at, $1) WHERE id IN ({})",
                placeholders(2, done.len())
            );
            let mut update = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(rows::signed(now));
            for v in done {
                update = update.bind(v.clone());
            }
            update.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(inserted)
    }
}
