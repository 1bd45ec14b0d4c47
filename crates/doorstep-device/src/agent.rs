//! The agent's side: the day's visits, and at the door challenge → proof → response → outcome.
//! After each step the session is saved, so the flow survives the app being closed.

use serde::{Deserialize, Serialize};

use doorstep_api::wire::{MAX_REPORT_NOTE_CHARS, Report};
use doorstep_core::agent::{AwaitingResponse, CodesMatched, CustomerVerified};
use doorstep_core::handshake::{Challenge, Proof, Response};
use doorstep_core::office::OfficeReference;
use doorstep_core::page::PassToSign;
use doorstep_core::receipt::{Outcome, Receipt, UnverifiedOutcome};
use doorstep_core::system::SystemRandomness;
use doorstep_core::ticket::{Check, CheckSet, VisitId};
use doorstep_core::{Code, Policy};

use crate::error::{codes_differ, unknown_visit};
use crate::views::{
    AgentReceiptView, AgentVisit, CodeView, CustomerConfirmed, PagePassView, ProofShown,
    VisitTerms, check_names, checks_to_record,
};
use crate::{Device, DeviceError, ErrorKind, render};

/// Where the agent's handshake for a visit stands.
#[derive(Serialize, Deserialize)]
enum AgentSession {
    AwaitingResponse(Box<AwaitingResponse>),
    CodesMatched(Box<CodesMatched>),
    CustomerVerified(Box<CustomerVerified>),
}

pub(crate) fn parse_visit_id(hex_id: &str) -> Result<VisitId, DeviceError> {
    hex::decode(hex_id)
        .ok()
        .and_then(|b| b.try_into().ok())
        .map(VisitId)
        .ok_or_else(unknown_visit)
}

impl Device {
    pub async fn agent_visits(&self) -> Result<Vec<AgentVisit>, DeviceError> {
        self.unlocked()?;
        Ok(self
            .store
            .visit_summaries(self.now())
            .await?
            .iter()
            .map(|v| AgentVisit {
                terms: VisitTerms::from(&v.ticket),
                status: v.outcome.clone().unwrap_or_else(|| "open".into()),
                address: v.address.clone(),
                purpose: v.purpose.clone(),
                visit_ref: v.visit_ref.clone(),
                customer_has_app: v.ticket.ticket().customer_has_app(),
            })
            .collect())
    }

    pub async fn agent_visit(&self, visit_id: &str) -> Result<AgentVisit, DeviceError> {
        self.unlocked()?;
        self.agent_visits()
            .await?
            .into_iter()
            .find(|v| v.terms.visit_id == visit_id)
            .ok_or_else(unknown_visit)
    }

    /// The customer's challenge, scanned: checked against this visit, answered with the proof
    /// to show and the confirmation code to read aloud once the customer's phone checked it.
    pub async fn agent_scan_challenge(
        &self,
        visit_id: &str,
        text: &str,
    ) -> Result<ProofShown, DeviceError> {
        self.unlocked()?;
        parse_visit_id(visit_id)?;
        let challenge = Code::from_text(text)?.into_challenge()?;
        let (proof, confirmation_code) = self.agent_answer_challenge(visit_id, challenge).await?;
        Ok(ProofShown {
            proof: render(&Code::Proof(proof))?,
            confirmation_code,
        })
    }

    /// The challenge checked against this visit, whichever way it came: the proof to give back
    /// and the confirmation code to read aloud.
    pub(crate) async fn agent_answer_challenge(
        &self,
        visit_id: &str,
        challenge: Challenge,
    ) -> Result<(Proof, String), DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        let trust = self.store.trust(Policy::default()).await?;
        let now = self.now();
        let ready = self.store.ready_for(visit, &trust).await?;
        let to_sign = ready.receive_challenge(challenge, &trust, now, &mut SystemRandomness)?;
        let signature = self.sign(&to_sign.bytes_to_sign())?;
        let (awaiting, proof) = to_sign.finish(signature)?;
        let confirmation_code = awaiting.confirmation_code().to_string();
        self.store
            .save_session(
                visit,
                &AgentSession::AwaitingResponse(Box::new(awaiting)),
                now,
            )
            .await?;
        Ok((proof, confirmation_code))
    }

    /// Whether the code the customer read out is the one on this screen. Same: the customer's
    /// answer may now be scanned. Different: the visit is recorded as suspicious, its receipt
    /// signed and queued, and the error says why.
    pub async fn agent_compare_code(&self, visit_id: &str, same: bool) -> Result<(), DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        let awaiting = match self.store.load_session::<AgentSession>(visit).await? {
            Some(AgentSession::AwaitingResponse(a)) => *a,
            Some(AgentSession::CodesMatched(_)) if same => return Ok(()),
            _ => return Err(no_handshake()),
        };
        let now = self.now();
        if !same {
            self.agent_record_outcome(visit_id, Outcome::Suspicious, &[], "")
                .await?;
            return Err(codes_differ());
        }
        self.store
            .save_session(
                visit,
                &AgentSession::CodesMatched(Box::new(awaiting.codes_match())),
                now,
            )
            .await
            .map_err(Into::into)
    }

    /// The code for a customer without the app, who scans it with the phone's own camera: the
    /// organisation's verification page at its pinned back-office, with a fresh pass for this
    /// visit signed by this device's key. The page refuses it after
    /// [`doorstep_core::page::MAX_PASS_AGE`] (`valid_until`), so a photo of the screen is soon
    /// worthless.
    pub async fn agent_page_pass(&self, visit_id: &str) -> Result<PagePassView, DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        let trust = self.store.trust(Policy::default()).await?;
        let ticket = self.store.visit_ticket(visit, &trust).await?;
        let to_sign = PassToSign::new(&ticket, &mut SystemRandomness, self.now());
        let signature = self.sign(&to_sign.bytes())?;
        let pass = to_sign.finish(signature)?;
        Ok(PagePassView {
            code: CodeView::new(pass.to_url(&self.store.enrolment().await?.server_url)?)?,
            spoken_code: pass.spoken_code().to_string(),
            valid_until: pass.time + doorstep_core::page::MAX_PASS_AGE,
        })
    }

    /// The same proof with the whole ticket inside, for a customer whose phone does not hold
    /// the notice (their app said "unknown ticket").
    pub async fn agent_full_proof(&self, visit_id: &str) -> Result<CodeView, DeviceError> {
        render(&Code::Proof(
            self.agent_proof_with_full_ticket(visit_id).await?,
        ))
    }

    pub(crate) async fn agent_proof_with_full_ticket(
        &self,
        visit_id: &str,
    ) -> Result<Proof, DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        match self.store.load_session::<AgentSession>(visit).await? {
            Some(AgentSession::AwaitingResponse(a)) => Ok(a.proof_with_full_ticket()),
            _ => Err(no_handshake()),
        }
    }

    /// The customer's response, scanned: the customer is verified and the data this visit may
    /// show is opened.
    pub async fn agent_scan_response(
        &self,
        visit_id: &str,
        text: &str,
    ) -> Result<CustomerConfirmed, DeviceError> {
        self.unlocked()?;
        parse_visit_id(visit_id)?;
        let response = Code::from_text(text)?.into_response()?;
        self.agent_accept_response(visit_id, &response).await
    }

    pub(crate) async fn agent_accept_response(
        &self,
        visit_id: &str,
        response: &Response,
    ) -> Result<CustomerConfirmed, DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        let matched = match self.store.load_session::<AgentSession>(visit).await? {
            Some(AgentSession::CodesMatched(m)) => *m,
            Some(AgentSession::AwaitingResponse(_)) => {
                return Err(DeviceError::new(
                    ErrorKind::CodesNotCompared,
                    "Compare the confirmation codes aloud with the customer first.",
                ));
            }
            Some(AgentSession::CustomerVerified(v)) if v.is_same_response(response) => {
                return self.customer_confirmed(&v).await;
            }
            _ => return Err(no_handshake()),
        };
        let verified = matched.receive_response(response)?;
        let confirmed = self.customer_confirmed(&verified).await?;
        self.store
            .save_session(
                visit,
                &AgentSession::CustomerVerified(Box::new(verified)),
                self.now(),
            )
            .await?;
        Ok(confirmed)
    }

    async fn customer_confirmed(
        &self,
        verified: &CustomerVerified,
    ) -> Result<CustomerConfirmed, DeviceError> {
        Ok(CustomerConfirmed {
            confirmation_code: verified.confirmation_code().to_string(),
            customer_data: self.store.customer_data(verified).await?,
            checks_to_record: checks_to_record(verified.ticket().ticket().checks),
        })
    }

    /// Signs, logs and queues the visit's receipt, with the agent's note (if any) queued for the
    /// back-office beside it. `Verified` needs a handshake that verified the customer.
    pub async fn agent_record_outcome(
        &self,
        visit_id: &str,
        outcome: Outcome,
        checks_done: &[String],
        note: &str,
    ) -> Result<AgentReceiptView, DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        check_note(note)?;
        let checks = checks_from_names(checks_done);
        let now = self.now();
        let session = self.store.load_session::<AgentSession>(visit).await?;
        let receipt = match (outcome, session) {
            (Outcome::VerifiedByOffice | Outcome::CheckedOnPage, _) => {
                return Err(DeviceError::new(
                    ErrorKind::BadOfficeReference,
                    "A visit confirmed by the office or checked on the page is recorded with the reference the customer read out.",
                ));
            }
            (Outcome::Verified, Some(AgentSession::CustomerVerified(v))) => v.receipt(checks, now),
            (Outcome::Verified, _) => {
                return Err(DeviceError::new(
                    ErrorKind::CustomerNotVerified,
                    "The customer is not verified yet: scan their response first.",
                ));
            }
            (other, session) => {
                let unverified = unverified(other);
                match session {
                    Some(AgentSession::AwaitingResponse(a)) => a.abandon(unverified, now),
                    Some(AgentSession::CodesMatched(m)) => m.abandon(unverified, now),
                    Some(AgentSession::CustomerVerified(v)) => Receipt::without_handshake(
                        v.ticket(),
                        unverified,
                        checks,
                        Some(v.transcript_hash()),
                        now,
                    ),
                    None => {
                        let trust = self.store.trust(Policy::default()).await?;
                        let ready = self.store.ready_for(visit, &trust).await?;
                        Receipt::without_handshake(
                            ready.ticket(),
                            unverified,
                            CheckSet::default(),
                            None,
                            now,
                        )
                    }
                }
            }
        };
        self.sign_and_queue(visit_id, visit, receipt, note, now)
            .await
    }

    /// Plan B: a phone could not scan, the customer called the official number and the office's
    /// operator confirmed this agent and this visit, and gave a reference. The receipt records
    /// it as "verified by the office" with that reference; the back-office accepts it only if it
    /// issued the reference for this visit. A handshake under way is given up, its transcript
    /// kept in the receipt.
    pub async fn agent_record_office_confirmation(
        &self,
        visit_id: &str,
        reference: &str,
        checks_done: &[String],
        note: &str,
    ) -> Result<AgentReceiptView, DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        let reference = OfficeReference::parse(reference)?;
        check_note(note)?;
        let now = self.now();
        let (ticket, transcript) = match self.store.load_session::<AgentSession>(visit).await? {
            Some(AgentSession::AwaitingResponse(a)) => {
                (a.ticket().clone(), Some(a.transcript_hash()))
            }
            Some(AgentSession::CodesMatched(m)) => (m.ticket().clone(), Some(m.transcript_hash())),
            Some(AgentSession::CustomerVerified(v)) => {
                (v.ticket().clone(), Some(v.transcript_hash()))
            }
            // No handshake began: a customer without the app calls the office as well.
            None => {
                let trust = self.store.trust(Policy::default()).await?;
                (self.store.visit_ticket(visit, &trust).await?, None)
            }
        };
        let checks = checks_without_handshake(checks_done, &ticket);
        let receipt = Receipt::confirmed_by_office(&ticket, reference, checks, transcript, now);
        self.sign_and_queue(visit_id, visit, receipt, note, now)
            .await
    }

    /// The customer, without the app, checked this agent on the verification page (the page
    /// pass) and read out the reference the page gave them. The receipt records "checked on the
    /// page" with that reference; the back-office accepts it only if its page gave the reference
    /// for this visit. The checks the agent made of the customer are what identify them here.
    pub async fn agent_record_page_check(
        &self,
        visit_id: &str,
        reference: &str,
        checks_done: &[String],
        note: &str,
    ) -> Result<AgentReceiptView, DeviceError> {
        self.unlocked()?;
        let visit = parse_visit_id(visit_id)?;
        let reference = OfficeReference::parse(reference)?;
        check_note(note)?;
        let trust = self.store.trust(Policy::default()).await?;
        let ticket = self.store.visit_ticket(visit, &trust).await?;
        let checks = checks_without_handshake(checks_done, &ticket);
        let now = self.now();
        let receipt = Receipt::checked_on_page(&ticket, reference, checks, now);
        self.sign_and_queue(visit_id, visit, receipt, note, now)
            .await
    }

    async fn sign_and_queue(
        &self,
        visit_id: &str,
        visit: VisitId,
        receipt: Receipt,
        note: &str,
        now: u64,
    ) -> Result<AgentReceiptView, DeviceError> {
        let to_sign = receipt.to_sign(self.key.public_key());
        let signature = self.sign(&to_sign.bytes())?;
        let signed = to_sign.finish(signature)?;
        self.store
            .record_outcome(visit, receipt.outcome(), now)
            .await?;
        self.store.record_receipt(visit, &signed, now).await?;
        self.store.clear_session(visit).await?;
        let note = note.trim();
        if !note.is_empty() {
            let report = Report {
                visit_id: Some(uuid::Uuid::from_bytes(visit.0)),
                reason: Some(receipt.outcome().name().to_string()),
                note: note.to_string(),
                time: now,
            };
            self.queue_report(&report, now).await?;
        }
        Ok(AgentReceiptView {
            visit_id: visit_id.to_string(),
            outcome: receipt.outcome(),
            checks_done: check_names(receipt.checks_done()),
            time: receipt.time(),
            code: render(&Code::Receipt(signed))?,
        })
    }
}

fn unverified(outcome: Outcome) -> UnverifiedOutcome {
    match outcome {
        Outcome::NotHome => UnverifiedOutcome::NotHome,
        Outcome::Refused => UnverifiedOutcome::Refused,
        Outcome::Suspicious => UnverifiedOutcome::Suspicious,
        Outcome::Failed
        | Outcome::Verified
        | Outcome::VerifiedByOffice
        | Outcome::CheckedOnPage => UnverifiedOutcome::Failed,
    }
}

fn check_note(note: &str) -> Result<(), DeviceError> {
    if note.chars().count() > MAX_REPORT_NOTE_CHARS {
        return Err(DeviceError::new(
            ErrorKind::NoteTooLong,
            "The note is too long.",
        ));
    }
    Ok(())
}

fn checks_from_names(names: &[String]) -> CheckSet {
    names
        .iter()
        .filter_map(|name| Check::ALL.iter().copied().find(|c| c.name() == name))
        .collect()
}

/// The checks of `names` a receipt made without the handshake may claim: those the ticket
/// allows, never the handshake itself, which did not decide this result.
fn checks_without_handshake(
    names: &[String],
    ticket: &doorstep_core::ticket::SignedTicket,
) -> CheckSet {
    checks_from_names(names)
        .iter()
        .filter(|c| *c != Check::DeviceKey && ticket.ticket().checks.contains(*c))
        .collect()
}

fn no_handshake() -> DeviceError {
    DeviceError::new(
        ErrorKind::NoHandshake,
        "No handshake is in progress for this visit: scan the customer's code first.",
    )
}
