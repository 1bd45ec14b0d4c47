//! The device's sync client. It enrols the device, pulls the agent's visit package or the
//! customer's notices with the denylist, and drains the outbox in batches.
//!
//! Guarantees (see `docs/sync.md`): delivery is at least once and the effect exactly once (each
//! upload carries the UUIDv7 the device gave it; the server stores an id once); nothing leaves
//! the device's outbox until the server's countersignature for it is checked and stored; a
//! failed batch is retried later with exponential backoff and jitter; a device clock that is off
//! is corrected from the server's `Date` for signing requests, and reported.

mod client;

use std::sync::Arc;

use doorstep_api::wire::{self, Bytes, UploadStatus};
use doorstep_core::pins::PinnedOrganisation;
use doorstep_core::rotation::KeyRotation;
use doorstep_core::system::Clock;
use doorstep_core::{Policy, PublicKey, Role};
use doorstep_store::{Enrolment, PackagedVisit, Store, StoreError};

pub use client::{Client, DeviceSigner};

/// Uploads per request: small enough that a cut connection wastes little, large enough that a
/// day's visits go in a few round trips.
pub const BATCH_SIZE: u32 = 50;
/// The longest a back-office's `Retry-After` can make the phone wait, in seconds.
pub const MAX_RETRY_AFTER: u64 = 3600;
/// The checkpoint holding the time of the last complete sync, for the app's status line.
pub const LAST_SYNC_CHECKPOINT: &str = "last_sync";
/// The checkpoint holding the device's standing as last heard (`wire::DeviceStanding`, JSON):
/// held after enrolling, or told that a new device was enrolled for its person.
pub const STANDING_CHECKPOINT: &str = "standing";

/// The checkpoint holding the last log anchor the back-office countersigned (JSON
/// `{"entries": n, "hash": hex}`): from there on the device sends its log's chain hashes.
pub const LOG_ANCHOR_CHECKPOINT: &str = "log_anchor";

#[derive(serde::Serialize, serde::Deserialize)]
struct KeptAnchor {
    entries: u64,
    hash: String,
}

/// The device's standing as of its last sync; none heard yet reads as the default.
pub async fn standing(store: &Store) -> Result<wire::DeviceStanding, SyncError> {
    Ok(store
        .checkpoint(STANDING_CHECKPOINT)
        .await?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

async fn keep_standing(store: &Store, standing: &wire::DeviceStanding) -> Result<(), SyncError> {
    let json = serde_json::to_string(standing)
        .map_err(|e| SyncError::Protocol(format!("the standing cannot be kept: {e}")))?;
    store.set_checkpoint(STANDING_CHECKPOINT, &json).await?;
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("no connection to the back-office: {0}")]
    Offline(String),
    #[error("the back-office is unavailable right now: {0}")]
    ServerUnavailable(String),
    /// `429`: nothing is sent again before `retry_after` seconds have passed.
    #[error("the back-office asks this device to wait {retry_after} s: {message}")]
    RateLimited { retry_after: u64, message: String },
    #[error("this device's clock is too far from the back-office's: {message}")]
    ClockOff {
        server_time: Option<u64>,
        message: String,
    },
    #[error("the back-office refused the request ({kind}): {message}")]
    Refused {
        status: u16,
        kind: String,
        message: String,
    },
    #[error("the back-office's answer makes no sense: {0}")]
    Protocol(String),
    #[error("the device key could not sign: {0}")]
    Signing(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The back-office is not the organisation the app has pinned.
    #[error(transparent)]
    Trust(#[from] doorstep_core::Error),
}

impl SyncError {
    /// True when the same request may succeed later without anyone doing anything.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            SyncError::Offline(_)
                | SyncError::ServerUnavailable(_)
                | SyncError::ClockOff { .. }
                | SyncError::RateLimited { .. }
        )
    }

    /// A stable name for the app (`revoked_device`, `offline`, …).
    pub fn kind(&self) -> &str {
        match self {
            SyncError::Offline(_) => "offline",
            SyncError::ServerUnavailable(_) => "server_unavailable",
            SyncError::RateLimited { .. } => "rate_limited",
            SyncError::ClockOff { .. } => "clock_off",
            SyncError::Refused { kind, .. } => kind,
            SyncError::Protocol(_) => "protocol",
            SyncError::Signing(_) => "signing",
            SyncError::Store(_) => "store",
            SyncError::Trust(e) => e.kind(),
        }
    }
}

/// Exponential backoff with jitter: the n-th retry waits between half and all of
/// `base · 2ⁿ`, capped, so a fleet coming back online does not knock on the door in step.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base_secs: u64,
    pub max_secs: u64,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base_secs: 10,
            max_secs: doorstep_store::MAX_DEFERRAL,
        }
    }
}

impl Backoff {
    /// The wait before the next attempt after `attempts` failed ones; `random` is any u64.
    pub fn delay(&self, attempts: u32, random: u64) -> u64 {
        let full = self
            .base_secs
            .saturating_mul(1u64 << attempts.min(30))
            .min(self.max_secs)
            .max(1);
        full / 2 + random % (full - full / 2 + 1)
    }
}

/// Done and total uploads, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub stored: u64,
    pub already_stored: u64,
    pub rejected: u64,
    /// Uploads still waiting (deferred after a failure, or queued during the sync).
    pub pending: u64,
    pub visits: usize,
    pub notices: usize,
    /// Seconds the device clock is behind (+) or ahead (−) of the server's, when it had to be
    /// corrected.
    pub clock_offset: i64,
}

fn random_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("the system random source is available");
    u64::from_le_bytes(b)
}

/// Enrols the device with a one-time code at the back-office `pin` names, and records the
/// enrolment in its store. The back-office must answer as the pinned organisation (name, keys);
/// what is recorded (name, keys, address, official number) comes from the pin.
pub async fn enrol(
    store: &Store,
    pin: &PinnedOrganisation,
    typed_code: &str,
    signer: &dyn DeviceSigner,
    now: u64,
) -> Result<Enrolment, SyncError> {
    let client = Client::new(&pin.back_office)?;
    // A code that does not parse is refused by the back-office with its reason; it has no
    // challenge to attest over.
    let attestation = match doorstep_core::enrolment::EnrolmentCode::from_typed(typed_code) {
        Ok(code) => signer.attest(&doorstep_api::wire::attestation_challenge(&code))?,
        Err(_) => None,
    };
    let answer = client.enrol(typed_code, attestation, signer, now).await?;
    let answered_keys = answer
        .organisation_keys
        .iter()
        .map(|k| PublicKey::from_compressed(&k.0))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| SyncError::Protocol("an organisation key is not a P-256 key".into()))?;
    // The pin's keys, moved on only by hand-overs a pinned (or handed-over) key signed.
    let mut trusted = pin.keys.clone();
    let rotations: Vec<Vec<u8>> = answer.key_rotations.into_iter().map(|b| b.0).collect();
    KeyRotation::apply_all(&rotations, &mut trusted, now)?;
    pin.check_answer(&answer.organisation_name, &answered_keys, &trusted)?;
    let enrolment = Enrolment {
        role: answer.role,
        organisation_name: pin.name.clone(),
        organisation_keys: trusted,
        server_url: pin.back_office.clone(),
        official_phone: pin.official_phone.clone(),
        device_key: signer.public_key(),
        enrolled_at: now,
        retention_days: answer.retention_days,
    };
    store.enrol(&enrolment).await?;
    Ok(enrolment)
}

pub struct Syncer<'a> {
    pub store: &'a Store,
    pub client: Client,
    pub signer: Arc<dyn DeviceSigner>,
    pub clock: Clock,
    pub backoff: Backoff,
    /// Added to the device clock when signing requests; learnt from the server.
    clock_offset: i64,
}

impl<'a> Syncer<'a> {
    pub fn new(
        store: &'a Store,
        client: Client,
        signer: Arc<dyn DeviceSigner>,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            client,
            signer,
            clock,
            backoff: Backoff::default(),
            clock_offset: 0,
        }
    }

    fn signing_time(&self) -> u64 {
        (self.clock)().saturating_add_signed(self.clock_offset)
    }

    /// Runs a request; if the server says the clock is off and tells its own time, adopts the
    /// difference and tries once more.
    async fn call<T, F, Fut>(&mut self, request: F) -> Result<T, SyncError>
    where
        F: Fn(Client, Arc<dyn DeviceSigner>, u64) -> Fut,
        Fut: Future<Output = Result<T, SyncError>>,
    {
        let first = request(
            self.client.clone(),
            self.signer.clone(),
            self.signing_time(),
        )
        .await;
        match first {
            Err(SyncError::ClockOff {
                server_time: Some(server),
                ..
            }) => {
                let device = (self.clock)();
                self.clock_offset = i64::try_from(server).unwrap_or(i64::MAX)
                    - i64::try_from(device).unwrap_or(i64::MAX);
                request(
                    self.client.clone(),
                    self.signer.clone(),
                    self.signing_time(),
                )
                .await
            }
            other => other,
        }
    }

    /// Pushes every due upload, then pulls what the device's role needs.
    pub async fn sync(
        &mut self,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.push(&mut report, progress).await?;
        self.pull(&mut report).await?;
        let now = (self.clock)();
        self.store
            .set_checkpoint(LAST_SYNC_CHECKPOINT, &now.to_string())
            .await?;
        report.pending = self.store.pending_uploads().await?;
        report.clock_offset = self.clock_offset;
        Ok(report)
    }

    /// Drains the outbox in batches. A batch that fails is deferred with backoff and the error
    /// returned; what was acknowledged before stays acknowledged.
    pub async fn push(
        &mut self,
        report: &mut SyncReport,
        progress: &mut (dyn FnMut(Progress) + Send),
    ) -> Result<(), SyncError> {
        let total = self.store.pending_uploads().await?;
        let mut done = 0;
        progress(Progress { done, total });
        let mut first = true;
        loop {
            let now = (self.clock)();
            let due = self.store.due_uploads(now, BATCH_SIZE).await?;
            let log = self.log_head().await?;
            // With nothing to upload, a device with a receipt log still has it checked once.
            if due.is_empty() && !(first && log.is_some()) {
                return Ok(());
            }
            first = false;
            let batch = wire::UploadBatch {
                uploads: due
                    .iter()
                    .map(|e| wire::Upload {
                        id: e.id,
                        kind: e.kind,
                        payload: Bytes(e.payload.clone()),
                    })
                    .collect(),
                log,
            };
            let batch = Arc::new(batch);
            let answer = self
                .call(|client, signer, t| {
                    let batch = batch.clone();
                    async move { client.upload(&batch, &*signer, t).await }
                })
                .await
                .and_then(|a| self.check_answer(&batch, a));
            let answer = match answer {
                Ok((results, anchor)) => self.keep_anchor(&batch, anchor).await.map(|()| results),
                Err(e) => Err(e),
            };
            let results = match answer {
                Ok(results) => results,
                Err(e) => {
                    // The back-office's Retry-After is a floor under the backoff.
                    let floor = match &e {
                        SyncError::RateLimited { retry_after, .. } => *retry_after,
                        _ => 0,
                    };
                    for entry in &due {
                        let wait = self.backoff.delay(entry.attempts, random_u64()).max(floor);
                        self.store.defer_upload(entry.id, now, now + wait).await?;
                    }
                    return Err(e);
                }
            };
            for r in results {
                match (r.status, r.countersignature) {
                    (UploadStatus::Stored | UploadStatus::AlreadyStored, Some(cs)) => {
                        if let Err(e) = self.store.acknowledge_upload(r.id, &cs.0, now).await {
                            // A countersignature that does not check out is the server's fault;
                            // the upload stays queued and is offered again later.
                            let attempts =
                                due.iter().find(|d| d.id == r.id).map_or(0, |d| d.attempts);
                            self.store
                                .defer_upload(
                                    r.id,
                                    now,
                                    now + self.backoff.delay(attempts, random_u64()),
                                )
                                .await?;
                            return Err(SyncError::Protocol(format!(
                                "a countersignature did not verify: {e}"
                            )));
                        }
                        if r.status == UploadStatus::Stored {
                            report.stored += 1;
                        } else {
                            report.already_stored += 1;
                        }
                    }
                    (UploadStatus::Rejected, _) => {
                        let (kind, message) = r
                            .error
                            .map_or(("rejected".into(), String::new()), |e| (e.error, e.message));
                        self.store.reject_upload(r.id, &kind, &message).await?;
                        report.rejected += 1;
                    }
                    (_, None) => unreachable!("checked by check_answer"),
                }
                done += 1;
                progress(Progress {
                    done,
                    total: total.max(done),
                });
            }
        }
    }

    /// The receipt log's head to send: its chain hashes from the last anchor this device heard
    /// of to the newest; none while the log is empty and was never anchored.
    async fn log_head(&self) -> Result<Option<wire::LogHead>, SyncError> {
        let kept: Option<KeptAnchor> = self
            .store
            .checkpoint(LOG_ANCHOR_CHECKPOINT)
            .await?
            .and_then(|json| serde_json::from_str(&json).ok());
        let from = kept.as_ref().map_or(1, |k| k.entries.max(1));
        let (entries, hashes) = self.store.log_hashes(from, wire::MAX_LOG_HASHES).await?;
        if entries == 0 && kept.is_none() {
            return Ok(None);
        }
        Ok(Some(wire::LogHead {
            entries,
            hashes: hashes.iter().map(|h| Bytes(h.to_vec())).collect(),
        }))
    }

    /// The back-office's anchor must cover exactly the head sent, signed by a trusted key.
    async fn keep_anchor(
        &self,
        batch: &wire::UploadBatch,
        anchor: Option<Bytes>,
    ) -> Result<(), SyncError> {
        let (Some(log), Some(anchor)) = (&batch.log, anchor) else {
            return match batch.log {
                Some(_) => Err(SyncError::Protocol(
                    "the receipt log's head came back unanchored".into(),
                )),
                None => Ok(()),
            };
        };
        let head: [u8; 32] = log
            .hashes
            .last()
            .and_then(|h| h.0.as_slice().try_into().ok())
            .unwrap_or([0; 32]);
        let keys = self.store.enrolment().await?.organisation_keys;
        doorstep_core::countersignature::LogAnchor::verify(
            &anchor.0,
            &keys,
            self.signer.public_key().key_id(),
            log.entries,
            &head,
        )
        .map_err(|e| SyncError::Protocol(format!("the log anchor did not verify: {e}")))?;
        let kept = KeptAnchor {
            entries: log.entries,
            hash: hex::encode(head),
        };
        let json = serde_json::to_string(&kept)
            .map_err(|e| SyncError::Protocol(format!("the log anchor cannot be kept: {e}")))?;
        self.store
            .set_checkpoint(LOG_ANCHOR_CHECKPOINT, &json)
            .await?;
        Ok(())
    }

    /// The answer must speak of exactly the uploads sent, each stored one with a countersignature.
    fn check_answer(
        &self,
        batch: &wire::UploadBatch,
        answer: wire::UploadResults,
    ) -> Result<(Vec<wire::UploadResult>, Option<Bytes>), SyncError> {
        let sent: Vec<_> = batch.uploads.iter().map(|u| u.id).collect();
        let got: Vec<_> = answer.results.iter().map(|r| r.id).collect();
        if sent != got {
            return Err(SyncError::Protocol(
                "the answer is for other uploads".into(),
            ));
        }
        if answer
            .results
            .iter()
            .any(|r| r.status != UploadStatus::Rejected && r.countersignature.is_none())
        {
            return Err(SyncError::Protocol(
                "a stored upload came back without a countersignature".into(),
            ));
        }
        Ok((answer.results, answer.log_anchor))
    }

    /// Moves the trusted organisation keys on by the hand-overs a trusted key signed, before
    /// anything signed with a new key is read; a forged one stops the sync (`bad_rotation`,
    /// `unknown_organisation_key`) and changes nothing.
    /// The retention period moves with the organisation's setting (the store caps it).
    async fn apply_key_rotations(
        &self,
        rotations: &[wire::Bytes],
        retention_days: Option<u32>,
    ) -> Result<(), SyncError> {
        let mut enrolment = self.store.enrolment().await?;
        let docs: Vec<Vec<u8>> = rotations.iter().map(|b| b.0.clone()).collect();
        let mut keys = enrolment.organisation_keys.clone();
        KeyRotation::apply_all(&docs, &mut keys, (self.clock)())?;
        let retention_days = retention_days.unwrap_or(enrolment.retention_days);
        if keys != enrolment.organisation_keys || retention_days != enrolment.retention_days {
            enrolment.organisation_keys = keys;
            enrolment.retention_days = retention_days;
            self.store.enrol(&enrolment).await?;
        }
        Ok(())
    }

    /// Pulls the agent's package or the customer's notices, and the denylist with them.
    pub async fn pull(&mut self, report: &mut SyncReport) -> Result<(), SyncError> {
        let role = self.store.enrolment().await?.role;
        match role {
            Role::Agent => {
                let package = self
                    .call(
                        |client, signer, t| async move { client.agent_package(&*signer, t).await },
                    )
                    .await?;
                self.apply_key_rotations(&package.key_rotations, package.retention_days)
                    .await?;
                self.store.put_denylist(&package.denylist.0).await?;
                let trust = self.store.trust(Policy::default()).await?;
                let visits = package
                    .visits
                    .into_iter()
                    .map(|v| {
                        Ok(PackagedVisit {
                            ticket: v.ticket.0,
                            customer_key: match v.customer_key.0.as_slice() {
                                [] => None,
                                key => Some(PublicKey::from_compressed(key).map_err(|_| {
                                    SyncError::Protocol("a customer key is not a P-256 key".into())
                                })?),
                            },
                            customer_data: v.customer_data,
                            address: v.address,
                            purpose: v.purpose,
                            visit_ref: v.visit_ref,
                        })
                    })
                    .collect::<Result<Vec<_>, SyncError>>()?;
                self.store.put_package(&visits, &trust).await?;
                keep_standing(self.store, &package.standing).await?;
                report.visits = visits.len();
            }
            Role::Customer => {
                let notices =
                    self.call(|client, signer, t| async move {
                        client.customer_notices(&*signer, t).await
                    })
                    .await?;
                self.apply_key_rotations(&notices.key_rotations, notices.retention_days)
                    .await?;
                self.store.put_denylist(&notices.denylist.0).await?;
                let now = (self.clock)();
                for n in &notices.notices {
                    self.store
                        .put_notice(
                            &n.notice.0,
                            n.agent_photo.as_ref().map(|p| p.0.as_slice()),
                            now,
                        )
                        .await?;
                }
                keep_standing(self.store, &notices.standing).await?;
                report.notices = notices.notices.len();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_stays_between_half_and_all() {
        let b = Backoff::default();
        for attempts in 0..40 {
            let full = (10u64 << attempts.min(30)).min(3600);
            for random in [0, 1, 7, u64::MAX, 123_456_789] {
                let d = b.delay(attempts, random);
                assert!(d >= full / 2 && d <= full, "{attempts} {random} {d}");
            }
        }
        // Jitter actually spreads devices out.
        let spread: std::collections::BTreeSet<_> = (0..100).map(|r| b.delay(5, r)).collect();
        assert!(spread.len() > 50);
    }
}
