//! The customer's side of the handshake as a chain of states, each consumed by the next step.
//!
//! `AwaitingProof` → (`receive_proof`) → `AgentVerified` (is the person at the door the one in
//! the photo?) → (`person_confirmed`) → `CodeShown` (read the codes aloud) → (`finish` with the
//! device key's signature, once they match) → `Done`. The agent's identity only exists from
//! `AgentVerified`, which only `receive_proof` creates after every check passed; the
//! confirmation code and the answer only after the photo question.

use serde::{Deserialize, Serialize};

use crate::error::{Error, RefuseWith, Refused};
use crate::handshake::{
    Challenge, Nonce, Proof, Response, TicketRef, confirmation_code, final_transcript,
    proof_signed_bytes, response_signed_bytes, transcript_after_proof,
};
use crate::keys::{EphemeralKey, PublicKey, Randomness, Signature};
use crate::notice::VerifiedNotice;
use crate::receipt::{Outcome, SignedReceipt};
use crate::ticket::{SignedTicket, VisitId};
use crate::trust::Trust;
use crate::vocabulary::ConfirmationCode;

/// Leg 1 sent; waiting for the agent's proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AwaitingProof {
    customer_key: PublicKey,
    notice: Option<VerifiedNotice>,
    challenge: Challenge,
    ephemeral: EphemeralKey,
}

impl AwaitingProof {
    /// Starts a handshake for the visit in `notice` (the app's usual case).
    pub fn start(
        notice: VerifiedNotice,
        customer_key: PublicKey,
        now: u64,
        rng: &mut impl Randomness,
    ) -> (Self, Challenge) {
        let visit_id = notice.ticket().ticket().visit_id;
        Self::begin(visit_id, Some(notice), customer_key, now, rng)
    }

    /// Starts a handshake knowing only the visit id (no notice on this device): the agent will
    /// send the whole ticket.
    pub fn start_without_notice(
        visit_id: VisitId,
        customer_key: PublicKey,
        now: u64,
        rng: &mut impl Randomness,
    ) -> (Self, Challenge) {
        Self::begin(visit_id, None, customer_key, now, rng)
    }

    fn begin(
        visit_id: VisitId,
        notice: Option<VerifiedNotice>,
        customer_key: PublicKey,
        now: u64,
        rng: &mut impl Randomness,
    ) -> (Self, Challenge) {
        let ephemeral = EphemeralKey::generate(rng);
        let mut nonce = Nonce::default();
        rng.fill_bytes(&mut nonce);
        let challenge = Challenge {
            visit_id,
            nonce,
            ephemeral_key: ephemeral.public_key(),
            time: now,
            holds_notice: notice.is_some(),
        };
        let state = Self {
            customer_key,
            notice,
            challenge: challenge.clone(),
            ephemeral,
        };
        (state, challenge)
    }

    /// The challenge to show again (after a restart, say).
    pub fn challenge(&self) -> &Challenge {
        &self.challenge
    }

    /// Verifies the agent's proof: the ticket's organisation signature, the agent's signature
    /// over this challenge, visit, keys, clocks, validity, window and the denylist.
    pub fn receive_proof(
        self,
        proof: &Proof,
        trust: &Trust,
        now: u64,
    ) -> Result<AgentVerified, Refused<Self>> {
        let checked = self.check_proof(proof, trust, now);
        let (ticket, state) = checked.or_refuse(self)?;
        let signed = proof_signed_bytes(
            &state.challenge,
            &ticket.digest(),
            &proof.ephemeral_key,
            &proof.agent_nonce,
            proof.time,
        );
        let transcript = transcript_after_proof(&signed, &proof.signature);
        let shared = state.ephemeral.shared_secret(&proof.ephemeral_key);
        Ok(AgentVerified {
            customer_key: state.customer_key,
            notice: state.notice,
            ticket,
            transcript,
            agent_nonce: proof.agent_nonce,
            confirmation_code: confirmation_code(&shared, &transcript),
            verified_at: now,
        })
    }

    fn check_proof(&self, proof: &Proof, trust: &Trust, now: u64) -> Result<SignedTicket, Error> {
        if proof.customer_nonce != self.challenge.nonce {
            return Err(Error::NonceMismatch);
        }
        let ticket = self.resolve_ticket(&proof.ticket, trust)?;
        let t = ticket.ticket();
        let signed = proof_signed_bytes(
            &self.challenge,
            &ticket.digest(),
            &proof.ephemeral_key,
            &proof.agent_nonce,
            proof.time,
        );
        if !t.agent_key.verify(&signed, &proof.signature) {
            return Err(Error::BadProofSignature);
        }
        if t.visit_id != self.challenge.visit_id {
            return Err(Error::WrongVisit);
        }
        if t.customer_key_id != self.customer_key.key_id() {
            return Err(Error::WrongCustomerKey);
        }
        trust.check_peer_clock(now, proof.time)?;
        trust.check_agent_not_revoked(t, now)?;
        trust.check_ticket_time(t, now)?;
        Ok(ticket)
    }

    fn resolve_ticket(&self, reference: &TicketRef, trust: &Trust) -> Result<SignedTicket, Error> {
        match reference {
            TicketRef::Digest(prefix) => match &self.notice {
                Some(n) if n.ticket().digest().starts_with(prefix) => Ok(n.ticket().clone()),
                _ => Err(Error::UnknownTicket),
            },
            TicketRef::Full(encoded) => {
                let ticket = SignedTicket::verify(encoded, &trust.organisation_keys)?;
                if let Some(n) = &self.notice {
                    // A re-issued ticket is fine, as long as it is for the same visit and agent.
                    let expected = n.ticket().ticket();
                    if ticket.ticket().visit_id != expected.visit_id {
                        return Err(Error::WrongVisit);
                    }
                    if ticket.ticket().agent_key != expected.agent_key {
                        return Err(Error::WrongAgentKey);
                    }
                }
                Ok(ticket)
            }
        }
    }
}

/// Every check on the agent passed. The app shows who the agent is, with the signed photo large,
/// and asks whether the person at the door is this person. The confirmation code is not shown
/// yet: the photo question comes first, since it is what stops a live relay.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentVerified {
    customer_key: PublicKey,
    notice: Option<VerifiedNotice>,
    ticket: SignedTicket,
    transcript: [u8; 32],
    agent_nonce: Nonce,
    confirmation_code: ConfirmationCode,
    verified_at: u64,
}

impl AgentVerified {
    pub fn ticket(&self) -> &SignedTicket {
        &self.ticket
    }

    pub fn notice(&self) -> Option<&VerifiedNotice> {
        self.notice.as_ref()
    }

    /// The customer said the person at the door is the one in the photo.
    pub fn person_confirmed(self) -> CodeShown {
        CodeShown { verified: self }
    }
}

/// The photo matched; both screens show the confirmation code for the two people to read aloud
/// to each other. The customer's device key signs the answer only once they say it is the same.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeShown {
    verified: AgentVerified,
}

impl CodeShown {
    pub fn ticket(&self) -> &SignedTicket {
        &self.verified.ticket
    }

    pub fn confirmation_code(&self) -> ConfirmationCode {
        self.verified.confirmation_code
    }

    /// The nonce the agent's proof carried, which the response echoes.
    #[cfg(feature = "scenario")]
    pub(crate) fn agent_nonce(&self) -> Nonce {
        self.verified.agent_nonce
    }

    /// What the customer's device key must sign (ECDSA-SHA256) once the codes matched.
    pub fn bytes_to_sign(&self) -> alloc::vec::Vec<u8> {
        let v = &self.verified;
        response_signed_bytes(&v.transcript, &v.agent_nonce, &v.ticket.digest())
    }

    /// The codes matched: answers with the device key's signature.
    pub fn finish(self, signature: Signature) -> Result<(Done, Response), Refused<Self>> {
        if !self
            .verified
            .customer_key
            .verify(&self.bytes_to_sign(), &signature)
        {
            return Err(Refused {
                error: Error::SignerMismatch,
                session: alloc::boxed::Box::new(self),
            });
        }
        let v = self.verified;
        let response = Response {
            agent_nonce: v.agent_nonce,
            signature,
        };
        let done = Done {
            customer_key: v.customer_key,
            ticket: v.ticket,
            transcript_hash: final_transcript(&v.transcript, &signature),
            confirmation_code: v.confirmation_code,
            response: response.clone(),
            verified_at: v.verified_at,
            agent_receipt: None,
        };
        Ok((done, response))
    }
}

/// The customer has answered; the response stays available to show again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    customer_key: PublicKey,
    ticket: SignedTicket,
    transcript_hash: [u8; 32],
    confirmation_code: ConfirmationCode,
    response: Response,
    verified_at: u64,
    agent_receipt: Option<SignedReceipt>,
}

/// What the customer keeps: enough to show whom they let in and to prove it later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerReceipt {
    pub visit_id: VisitId,
    pub ticket_serial: u64,
    pub agent_name: alloc::string::String,
    pub on_behalf_of: alloc::string::String,
    pub transcript_hash: [u8; 32],
    pub confirmation_code: ConfirmationCode,
    pub verified_at: u64,
    /// The agent's signed receipt, once the customer has scanned it.
    pub agent_receipt: Option<SignedReceipt>,
    /// What the ticket let the agent see, so the receipt says it. (Absent from receipts kept
    /// before it was recorded.)
    #[serde(default)]
    pub fields: crate::ticket::FieldSet,
}

impl Done {
    pub fn response(&self) -> &Response {
        &self.response
    }

    pub fn confirmation_code(&self) -> ConfirmationCode {
        self.confirmation_code
    }

    pub fn receipt(&self) -> CustomerReceipt {
        let t = self.ticket.ticket();
        CustomerReceipt {
            visit_id: t.visit_id,
            ticket_serial: t.serial,
            agent_name: t.agent_name.clone(),
            on_behalf_of: t.on_behalf_of.clone(),
            transcript_hash: self.transcript_hash,
            confirmation_code: self.confirmation_code,
            verified_at: self.verified_at,
            agent_receipt: self.agent_receipt.clone(),
            fields: t.fields,
        }
    }

    /// Accepts the agent's signed receipt if it is for this very handshake.
    pub fn accept_agent_receipt(self, encoded: &[u8]) -> Result<Self, Refused<Self>> {
        let checked = self.check_receipt(encoded);
        let (receipt, mut state) = checked.or_refuse(self)?;
        state.agent_receipt = Some(receipt);
        Ok(state)
    }

    fn check_receipt(&self, encoded: &[u8]) -> Result<SignedReceipt, Error> {
        let t = self.ticket.ticket();
        let receipt = SignedReceipt::verify(encoded, &t.agent_key)?;
        let r = receipt.receipt();
        if r.visit_id != t.visit_id
            || r.transcript_hash != Some(self.transcript_hash)
            || r.outcome != Outcome::Verified
        {
            return Err(Error::ReceiptMismatch);
        }
        // The same checks the back-office makes: the customer's own answer inside, and no check
        // the visit did not allow.
        r.check_against_ticket(&self.ticket, Some(&self.customer_key), &|k, m, s| {
            k.verify(m, s)
        })?;
        Ok(receipt)
    }
}
