//! The customer's side: the coming visits as the notices tell them, and at the door
//! challenge → proof → response, an optional receipt from the agent, and reports.

use serde::{Deserialize, Serialize};

use doorstep_api::wire::{MAX_REPORT_NOTE_CHARS, Report};
use doorstep_core::customer::{AgentVerified, AwaitingProof, CodeShown, Done};
use doorstep_core::handshake::{Challenge, Proof, Response};
use doorstep_core::system::SystemRandomness;
use doorstep_core::ticket::VisitId;
use doorstep_core::{Code, Policy, UploadKind};
use doorstep_store::StoredNotice;

use crate::agent::parse_visit_id;
use crate::error::{codes_differ, unknown_visit};
use crate::views::{
    AgentConfirmed, CodeToCompare, CodeView, CustomerVisit, KeptReceipt, VisitTerms, photo_url,
};
use crate::{Device, DeviceError, ErrorKind, render};

/// Where the customer's handshake for a visit stands.
#[derive(Serialize, Deserialize)]
enum CustomerSession {
    AwaitingProof(AwaitingProof),
    AgentVerified(Box<AgentVerified>),
    CodeShown(Box<CodeShown>),
    Done(Done),
}

fn no_proof_checked() -> DeviceError {
    DeviceError::new(
        ErrorKind::NoHandshake,
        "No agent has been checked for this visit yet: scan the agent's code first.",
    )
}

fn visit_view(n: &StoredNotice) -> CustomerVisit {
    let notice = n.notice.notice();
    CustomerVisit {
        terms: VisitTerms::from(n.notice.ticket()),
        purpose: notice.purpose.clone(),
        retention_days: notice.retention_days,
        organisation: notice.organisation_name.clone(),
        photo: photo_url(n.photo.as_deref()),
    }
}

impl Device {
    pub async fn customer_visits(&self) -> Result<Vec<CustomerVisit>, DeviceError> {
        let mut visits: Vec<_> = self.store.notices().await?.iter().map(visit_view).collect();
        // The next visit first.
        visits.sort_by(|a, b| {
            (a.terms.window_start, &a.terms.visit_id)
                .cmp(&(b.terms.window_start, &b.terms.visit_id))
        });
        Ok(visits)
    }

    /// "Someone is at my door": the announced visits whose window is now, with the same
    /// tolerance the ticket check allows. None means nobody is expected: the views say so, with
    /// the official number, before any code is shown or scanned.
    pub async fn customer_visits_now(&self) -> Result<Vec<CustomerVisit>, DeviceError> {
        let (now, skew) = (self.now(), Policy::default().clock_skew);
        let mut visits: Vec<_> = self
            .store
            .notices()
            .await?
            .iter()
            .filter(|n| n.notice.ticket().ticket().window_includes(now, skew))
            .map(visit_view)
            .collect();
        visits.sort_by_key(|v| v.terms.window_start);
        Ok(visits)
    }

    async fn notice(&self, visit_id: &str) -> Result<StoredNotice, DeviceError> {
        let visit = parse_visit_id(visit_id)?;
        self.store
            .notices()
            .await?
            .into_iter()
            .find(|n| n.notice.ticket().ticket().visit_id == visit)
            .ok_or_else(unknown_visit)
    }

    /// The challenge to show the agent. The one in progress is shown again unless `fresh`
    /// (after a refused proof, a fresh challenge defeats a replayed one).
    pub async fn customer_challenge(
        &self,
        visit_id: &str,
        fresh: bool,
    ) -> Result<CodeView, DeviceError> {
        render(&Code::Challenge(
            self.customer_start_challenge(visit_id, fresh).await?,
        ))
    }

    pub(crate) async fn customer_start_challenge(
        &self,
        visit_id: &str,
        fresh: bool,
    ) -> Result<Challenge, DeviceError> {
        let notice = self.notice(visit_id).await?;
        let visit = notice.notice.ticket().ticket().visit_id;
        if !fresh
            && let Some(CustomerSession::AwaitingProof(waiting)) =
                self.store.load_session(visit).await?
        {
            return Ok(waiting.challenge().clone());
        }
        let now = self.now();
        let (waiting, challenge) = AwaitingProof::start(
            notice.notice,
            self.key.public_key(),
            now,
            &mut SystemRandomness,
        );
        self.store
            .save_session(visit, &CustomerSession::AwaitingProof(waiting), now)
            .await?;
        Ok(challenge)
    }

    /// The agent's proof, scanned. Every check passed: the agent is who the notice says, and
    /// the customer is asked whether the person at the door is the one in the photo. Otherwise
    /// the error says why, and the challenge stays so the customer may scan again.
    pub async fn customer_scan_proof(
        &self,
        visit_id: &str,
        text: &str,
    ) -> Result<AgentConfirmed, DeviceError> {
        self.notice(visit_id).await?;
        let proof = Code::from_text(text)?.into_proof()?;
        self.customer_check_proof(visit_id, &proof).await
    }

    pub(crate) async fn customer_check_proof(
        &self,
        visit_id: &str,
        proof: &Proof,
    ) -> Result<AgentConfirmed, DeviceError> {
        let notice = self.notice(visit_id).await?;
        let visit = notice.notice.ticket().ticket().visit_id;
        let waiting = match self.store.load_session(visit).await? {
            Some(CustomerSession::AwaitingProof(w)) => w,
            _ => {
                return Err(DeviceError::new(
                    ErrorKind::NoHandshake,
                    "Show your code to the agent first, then scan theirs.",
                ));
            }
        };
        let trust = self.store.trust(Policy::default()).await?;
        let now = self.now();
        let verified = waiting.receive_proof(proof, &trust, now)?;
        let terms = VisitTerms::from(verified.ticket());
        self.store
            .save_session(
                visit,
                &CustomerSession::AgentVerified(Box::new(verified)),
                now,
            )
            .await?;
        Ok(AgentConfirmed {
            terms,
            photo: photo_url(notice.photo.as_deref()),
        })
    }

    /// The answer to "is the person at your door this person?". Yes: the confirmation code to
    /// read aloud. No: the visit ends here, a report is queued, and the error says so.
    pub async fn customer_person_at_door(
        &self,
        visit_id: &str,
        is_this_person: bool,
    ) -> Result<CodeToCompare, DeviceError> {
        let visit = parse_visit_id(visit_id)?;
        let verified = match self.store.load_session(visit).await? {
            Some(CustomerSession::AgentVerified(v)) => *v,
            _ => return Err(no_proof_checked()),
        };
        let now = self.now();
        if !is_this_person {
            return self
                .customer_ends_visit(
                    visit,
                    DeviceError::new(
                        ErrorKind::PersonNotInPhoto,
                        "The person at the door is not the agent in the signed photo.",
                    ),
                    now,
                )
                .await;
        }
        let shown = verified.person_confirmed();
        let confirmation_code = shown.confirmation_code().to_string();
        self.store
            .save_session(visit, &CustomerSession::CodeShown(Box::new(shown)), now)
            .await?;
        Ok(CodeToCompare { confirmation_code })
    }

    /// Whether the code the agent read out is the one on this screen. Same: the device key
    /// signs the answer, kept with the customer's receipt, for the agent to scan. Different:
    /// the visit ends here and a report is queued.
    pub async fn customer_compare_code(
        &self,
        visit_id: &str,
        same: bool,
    ) -> Result<CodeView, DeviceError> {
        render(&Code::Response(
            self.customer_sign_response(visit_id, same).await?,
        ))
    }

    /// The customer's signed response, once the codes matched; the same one again if it was
    /// signed already.
    pub(crate) async fn customer_sign_response(
        &self,
        visit_id: &str,
        same: bool,
    ) -> Result<Response, DeviceError> {
        let visit = parse_visit_id(visit_id)?;
        let shown = match self.store.load_session(visit).await? {
            Some(CustomerSession::CodeShown(c)) => *c,
            Some(CustomerSession::Done(done)) => return Ok(done.response().clone()),
            _ => return Err(no_proof_checked()),
        };
        let now = self.now();
        if !same {
            return self.customer_ends_visit(visit, codes_differ(), now).await;
        }
        let signature = self.sign(&shown.bytes_to_sign())?;
        let (done, response) = shown.finish(signature)?;
        self.store.keep_receipt(&done.receipt(), now).await?;
        self.store
            .save_session(visit, &CustomerSession::Done(done), now)
            .await?;
        Ok(response)
    }

    /// The response the customer signed once the codes matched; an error before that.
    pub(crate) async fn customer_signed_response(
        &self,
        visit_id: &str,
    ) -> Result<Response, DeviceError> {
        let visit = parse_visit_id(visit_id)?;
        match self.store.load_session(visit).await? {
            Some(CustomerSession::Done(done)) => Ok(done.response().clone()),
            _ => Err(DeviceError::new(
                ErrorKind::CodesNotCompared,
                "Compare the confirmation codes aloud with the agent first.",
            )),
        }
    }

    /// Drops the handshake, queues a report naming why, and hands back the reason.
    async fn customer_ends_visit<T>(
        &self,
        visit: VisitId,
        reason: DeviceError,
        now: u64,
    ) -> Result<T, DeviceError> {
        self.store.clear_session(visit).await?;
        let report = Report {
            visit_id: Some(uuid::Uuid::from_bytes(visit.0)),
            reason: Some(reason.kind.name()),
            note: String::new(),
            time: now,
        };
        self.queue_report(&report, now).await?;
        Err(reason)
    }

    /// The agent's signed receipt, scanned: kept with the customer's receipt if it is for this
    /// very handshake.
    pub async fn customer_scan_receipt(
        &self,
        visit_id: &str,
        text: &str,
    ) -> Result<KeptReceipt, DeviceError> {
        parse_visit_id(visit_id)?;
        let encoded = Code::from_text(text)?.into_receipt()?;
        self.customer_accept_receipt(visit_id, &encoded).await
    }

    pub(crate) async fn customer_accept_receipt(
        &self,
        visit_id: &str,
        encoded: &[u8],
    ) -> Result<KeptReceipt, DeviceError> {
        let visit = parse_visit_id(visit_id)?;
        let done = match self.store.load_session(visit).await? {
            Some(CustomerSession::Done(d)) => d,
            _ => {
                return Err(DeviceError::new(
                    ErrorKind::NoHandshake,
                    "This visit has no completed check to attach a receipt to.",
                ));
            }
        };
        let done = done.accept_agent_receipt(encoded)?;
        let receipt = done.receipt();
        self.store.keep_receipt(&receipt, self.now()).await?;
        self.store
            .save_session(visit, &CustomerSession::Done(done), self.now())
            .await?;
        Ok(KeptReceipt::from(&receipt))
    }

    /// "Report this visitor": queued, and sent with the next sync.
    pub async fn customer_report(
        &self,
        visit_id: Option<&str>,
        reason: Option<ErrorKind>,
        note: &str,
    ) -> Result<(), DeviceError> {
        if note.chars().count() > MAX_REPORT_NOTE_CHARS {
            return Err(DeviceError::new(
                ErrorKind::NoteTooLong,
                "The note is too long.",
            ));
        }
        let visit_id = visit_id.map(parse_visit_id).transpose()?;
        let now = self.now();
        let report = Report {
            visit_id: visit_id.map(|v| uuid::Uuid::from_bytes(v.0)),
            reason: reason.map(ErrorKind::name),
            note: note.trim().to_string(),
            time: now,
        };
        self.queue_report(&report, now).await
    }

    /// Queues a report for the back-office; the next sync sends it.
    pub(crate) async fn queue_report(&self, report: &Report, now: u64) -> Result<(), DeviceError> {
        let payload = serde_json::to_vec(report)
            .map_err(|e| DeviceError::new(ErrorKind::Storage, e.to_string()))?;
        self.store
            .enqueue(UploadKind::Report, &payload, now)
            .await?;
        Ok(())
    }

    pub async fn customer_receipts(&self) -> Result<Vec<KeptReceipt>, DeviceError> {
        Ok(self
            .store
            .kept_receipts()
            .await?
            .iter()
            .map(KeptReceipt::from)
            .collect())
    }
}
