//! Results devices push: each upload is checked (signature, device, visit, ticket), stored once
//! under the device's id for it, and countersigned. Delivering the same upload again returns the
//! same countersignature; reusing an id for other content is refused.

use doorstep_api::wire::{self, Bytes, ErrorBody, Role, UploadKind, UploadStatus};
use doorstep_core::countersignature::Countersignature;
use doorstep_core::keys::sha256;
use doorstep_core::receipt::{Outcome, SignedReceipt};
use sqlx::Row;
use uuid::Uuid;

use crate::devices::Device;
use crate::signing::OrganisationSigner;
use crate::{Db, ServerError, rows};

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

/// An upload that passed every check, ready to store.
struct Accepted {
    id: Uuid,
    kind: UploadKind,
    visit_id: Option<Vec<u8>>,
    outcome: Option<Outcome>,
    payload: Vec<u8>,
    digest: [u8; 32],
    countersignature: Vec<u8>,
}

const MAX_REPORT_NOTE_CHARS: usize = 2000;

impl Db {
    /// Checks one upload; `Err` is the refusal to send back.
    async fn check_upload(
        &self,
        device: &Device,
        upload: &wire::Upload,
        signer: &OrganisationSigner,
    ) -> Result<Result<(Option<Vec<u8>>, Option<Outcome>), wire::UploadResult>, ServerError> {
        let id = upload.id;
        let payload = &upload.payload.0;
        match upload.kind {
            UploadKind::Receipt => {
                if device.role != Role::Agent {
                    return Ok(Err(rejected(
                        id,
                        "wrong_role",
                        "only agents upload receipts",
                    )));
                }
                let check = |k: &_, m: &[u8], s: &_| signer.verify(k, m, s);
                let receipt = match SignedReceipt::verify_with(payload, &device.public_key, &check)
                {
                    Ok(r) => r,
                    Err(e) => return Ok(Err(rejected(id, e.kind(), e.to_string()))),
                };
                let r = receipt.receipt();
                let Some(visit) = self
                    .visit_of_agent(&r.visit_id().0, device.subject_id)
                    .await?
                else {
                    return Ok(Err(rejected(
                        id,
                        "unknown_visit",
                        "the receipt names a visit that is not this agent's",
                    )));
                };
                let issued: Option<i64> = sqlx::query_scalar(
                    "SELECT serial FROM tickets WHERE serial = $1 AND visit_id = $2 AND agent_device_id = $3",
                )
                .bind(rows::signed(r.ticket_serial()))
                .bind(visit.id.0.to_vec())
                .bind(device.id.as_bytes().to_vec())
                .fetch_optional(&self.pool)
                .await?;
                if issued.is_none() {
                    return Ok(Err(rejected(
                        id,
                        "unknown_ticket",
                        "the receipt names a ticket not issued to this device for this visit",
                    )));
                }
                Ok(Ok((Some(visit.id.0.to_vec()), Some(r.outcome()))))
            }
            UploadKind::Report => {
                if device.role != Role::Customer {
                    return Ok(Err(rejected(
                        id,
                        "wrong_role",
                        "only customers send reports",
                    )));
                }
                match serde_json::from_slice::<wire::Report>(payload) {
                    Ok(report) if report.note.chars().count() <= MAX_REPORT_NOTE_CHARS => {
                        Ok(Ok((report.visit_id.map(|v| v.as_bytes().to_vec()), None)))
                    }
                    Ok(_) => Ok(Err(rejected(
                        id,
                        "malformed_report",
                        "the note is too long",
                    ))),
                    Err(e) => Ok(Err(rejected(id, "malformed_report", e.to_string()))),
                }
            }
        }
    }

    /// What is stored under `id`, if anything: the device, digest and countersignature.
    async fn stored_upload(
        &self,
        id: Uuid,
    ) -> Result<Option<(Uuid, Vec<u8>, Vec<u8>)>, ServerError> {
        sqlx::query(
            "SELECT device_id, payload_digest, countersignature FROM results WHERE upload_id = $1",
        )
        .bind(id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            Ok((
                rows::uuid(&r, "device_id")?,
                r.try_get("payload_digest")?,
                r.try_get("countersignature")?,
            ))
        })
        .transpose()
    }

    fn replay_result(
        device: &Device,
        id: Uuid,
        digest: &[u8; 32],
        stored: (Uuid, Vec<u8>, Vec<u8>),
    ) -> wire::UploadResult {
        let (stored_device, stored_digest, countersignature) = stored;
        if stored_device != device.id || stored_digest != digest {
            return rejected(
                id,
                "upload_id_reused",
                "this upload id was already used for other content",
            );
        }
        wire::UploadResult {
            id,
            status: UploadStatus::AlreadyStored,
            countersignature: Some(Bytes(countersignature)),
            error: None,
        }
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
        let mut results: Vec<Option<wire::UploadResult>> = vec![None; uploads.len()];
        let mut accepted: Vec<(usize, Accepted)> = Vec::new();
        for (i, upload) in uploads.iter().enumerate() {
            let digest = sha256(&[&upload.payload.0]);
            if uploads[..i].iter().any(|u| u.id == upload.id) {
                results[i] = Some(rejected(
                    upload.id,
                    "duplicate_in_batch",
                    "the same upload id twice in one batch",
                ));
                continue;
            }
            if let Some(stored) = self.stored_upload(upload.id).await? {
                results[i] = Some(Self::replay_result(device, upload.id, &digest, stored));
                continue;
            }
            match self.check_upload(device, upload, signer).await? {
                Err(refusal) => results[i] = Some(refusal),
                Ok((visit_id, outcome)) => {
                    let countersignature = signer.sign(
                        Countersignature::new(*upload.id.as_bytes(), &upload.payload.0, now)
                            .to_sign(signer.public_key()),
                    )?;
                    accepted.push((
                        i,
                        Accepted {
                            id: upload.id,
                            kind: upload.kind,
                            visit_id,
                            outcome,
                            payload: upload.payload.0.clone(),
                            digest,
                            countersignature,
                        },
                    ));
                }
            }
        }

        let mut tx = self.pool.begin().await?;
        let mut raced = Vec::new();
        for (i, a) in &accepted {
            let inserted = sqlx::query(
                "INSERT INTO results (upload_id, organisation_id, device_id, kind, visit_id, outcome, payload, payload_digest, received_at, countersignature)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (upload_id) DO NOTHING",
            )
            .bind(a.id.as_bytes().to_vec())
            .bind(device.organisation_id.as_bytes().to_vec())
            .bind(device.id.as_bytes().to_vec())
            .bind(a.kind.as_str())
            .bind(a.visit_id.clone())
            .bind(a.outcome.map(|o| o.name()))
            .bind(a.payload.clone())
            .bind(a.digest.to_vec())
            .bind(rows::signed(now))
            .bind(a.countersignature.clone())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 0 {
                // Another delivery of the same upload got there first.
                raced.push(*i);
                continue;
            }
            // A visit is done once someone answered the door; "not home" leaves it open.
            if let (Some(visit), Some(outcome)) = (&a.visit_id, a.outcome)
                && outcome != Outcome::NotHome
            {
                sqlx::query(
                    "UPDATE visits SET completed_at = COALESCE(completed_at, $1) WHERE id = $2",
                )
                .bind(rows::signed(now))
                .bind(visit.clone())
                .execute(&mut *tx)
                .await?;
            }
            results[*i] = Some(wire::UploadResult {
                id: a.id,
                status: UploadStatus::Stored,
                countersignature: Some(Bytes(a.countersignature.clone())),
                error: None,
            });
        }
        tx.commit().await?;
        for i in raced {
            let upload = &uploads[i];
            let digest = sha256(&[&upload.payload.0]);
            let stored = self
                .stored_upload(upload.id)
                .await?
                .ok_or_else(|| ServerError::Damaged("an upload vanished".into()))?;
            results[i] = Some(Self::replay_result(device, upload.id, &digest, stored));
        }
        Ok(results
            .into_iter()
            .map(|r| r.expect("every upload has a result"))
            .collect())
    }
}
