//! The agent's side of the handshake as a chain of states, each consumed by the next step.
//!
//! `Ready` → (`receive_challenge`) → `ProofToSign` → (`finish` with the device key's signature)
//! → `AwaitingResponse` → (`codes_match`, once the two people compared their codes aloud) →
//! `CodesMatched` → (`receive_response`) → `CustomerVerified`. Customer data the visit
//! allows is only released from `CustomerVerified`, which only a verified response creates.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::{Error, RefuseWith, Refused};
use crate::handshake::{
    Challenge, CustomerAnswer, Nonce, Proof, Response, TICKET_DIGEST_WIRE_LEN, TicketRef,
    confirmation_code, proof_signed_bytes, response_signed_bytes, transcript_after_proof,
};
use crate::keys::{EphemeralKey, PublicKey, Randomness, Signature};
use crate::receipt::{Outcome, Receipt, UnverifiedOutcome};
use crate::signed::DocumentToSign;
use crate::ticket::{Check, CheckSet, FieldSet, SignedTicket};
use crate::trust::Trust;
use crate::vocabulary::ConfirmationCode;

/// A visit from the day's package, ready for the door.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Ready {
    ticket: SignedTicket,
    customer_key: PublicKey,
}

impl Ready {
    /// `customer_key` is the customer's enrolled public key from the visit package; it must be
    /// the one the ticket names.
    pub fn new(
        ticket_encoded: &[u8],
        customer_key: PublicKey,
        trust: &Trust,
    ) -> Result<Self, Error> {
        let ticket = SignedTicket::verify(ticket_encoded, &trust.organisation_keys)?;
        if ticket.ticket().customer_key_id != customer_key.key_id() {
            return Err(Error::WrongCustomerKey);
        }
        Ok(Self {
            ticket,
            customer_key,
        })
    }

    pub fn ticket(&self) -> &SignedTicket {
        &self.ticket
    }

    /// Checks the customer's challenge is for this visit, now, and from a customer not revoked,
    /// then prepares the proof for the agent's device key to sign.
    pub fn receive_challenge(
        self,
        challenge: Challenge,
        trust: &Trust,
        now: u64,
        rng: &mut impl Randomness,
    ) -> Result<ProofToSign, Refused<Self>> {
        let checked = self.check_challenge(&challenge, trust, now);
        let ((), state) = checked.or_refuse(self)?;
        let ephemeral = EphemeralKey::generate(rng);
        let mut agent_nonce = Nonce::default();
        rng.fill_bytes(&mut agent_nonce);
        Ok(ProofToSign {
            ready: state,
            challenge,
            ephemeral,
            agent_nonce,
            time: now,
        })
    }

    fn check_challenge(&self, challenge: &Challenge, trust: &Trust, now: u64) -> Result<(), Error> {
        let t = self.ticket.ticket();
        if challenge.visit_id != t.visit_id {
            return Err(Error::WrongVisit);
        }
        trust.check_peer_clock(now, challenge.time)?;
        trust.check_customer_not_revoked(self.customer_key.key_id(), t, now)?;
        trust.check_ticket_time(t, now)
    }
}

/// The challenge passed; the agent's device key must sign the proof.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProofToSign {
    ready: Ready,
    challenge: Challenge,
    ephemeral: EphemeralKey,
    agent_nonce: Nonce,
    time: u64,
}

impl ProofToSign {
    pub fn bytes_to_sign(&self) -> Vec<u8> {
        proof_signed_bytes(
            &self.challenge,
            &self.ready.ticket.digest(),
            &self.ephemeral.public_key(),
            &self.agent_nonce,
            self.time,
        )
    }

    pub fn finish(self, signature: Signature) -> Result<(AwaitingResponse, Proof), Refused<Self>> {
        let signed = self.bytes_to_sign();
        let agent_key = self.ready.ticket.ticket().agent_key;
        if !agent_key.verify(&signed, &signature) {
            return Err(Refused {
                error: Error::SignerMismatch,
                session: alloc::boxed::Box::new(self),
            });
        }
        let digest = self.ready.ticket.digest();
        let ticket = if self.challenge.holds_notice {
            let mut prefix = [0u8; TICKET_DIGEST_WIRE_LEN];
            prefix.copy_from_slice(&digest[..TICKET_DIGEST_WIRE_LEN]);
            TicketRef::Digest(prefix)
        } else {
            TicketRef::Full(self.ready.ticket.encoded().to_vec())
        };
        let proof = Proof {
            ticket,
            customer_nonce: self.challenge.nonce,
            ephemeral_key: self.ephemeral.public_key(),
            agent_nonce: self.agent_nonce,
            time: self.time,
            signature,
        };
        let transcript = transcript_after_proof(&signed, &signature);
        let shared = self.ephemeral.shared_secret(&self.challenge.ephemeral_key);
        let state = AwaitingResponse {
            ready: self.ready,
            transcript,
            agent_nonce: self.agent_nonce,
            confirmation_code: confirmation_code(&shared, &transcript),
            proof: proof.clone(),
        };
        Ok((state, proof))
    }
}

/// The proof is on screen beside the confirmation code; waiting for the two people to read
/// their codes aloud to each other.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AwaitingResponse {
    ready: Ready,
    transcript: [u8; 32],
    agent_nonce: Nonce,
    confirmation_code: ConfirmationCode,
    proof: Proof,
}

impl AwaitingResponse {
    /// The proof to show again (after a restart, say).
    pub fn proof(&self) -> &Proof {
        &self.proof
    }

    pub fn ticket(&self) -> &SignedTicket {
        &self.ready.ticket
    }

    /// The handshake so far, which a receipt of an abandoned exchange keeps.
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.transcript
    }

    /// Known as soon as the proof is signed, so the agent can read it out while the customer's
    /// phone checks the proof.
    pub fn confirmation_code(&self) -> ConfirmationCode {
        self.confirmation_code
    }

    /// The same proof carrying the whole ticket, for a customer whose notice is missing or out
    /// of date (they saw "unknown ticket"). The signature covers the ticket's digest, so it
    /// stays valid.
    pub fn proof_with_full_ticket(&self) -> Proof {
        Proof {
            ticket: TicketRef::Full(self.ready.ticket.encoded().to_vec()),
            ..self.proof.clone()
        }
    }

    /// The agent heard the customer read out the same code: only now may the customer's answer
    /// be scanned.
    pub fn codes_match(self) -> CodesMatched {
        CodesMatched { awaiting: self }
    }

    /// Gives up on the handshake (the customer walked away, say), keeping the transcript so far
    /// in the receipt.
    pub fn abandon(self, outcome: UnverifiedOutcome, now: u64) -> Receipt {
        Receipt::without_handshake(
            &self.ready.ticket,
            outcome,
            CheckSet::default(),
            Some(self.transcript),
            now,
        )
    }
}

/// Both people said their codes match; waiting for the customer's response.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodesMatched {
    awaiting: AwaitingResponse,
}

impl CodesMatched {
    pub fn ticket(&self) -> &SignedTicket {
        self.awaiting.ticket()
    }

    pub fn transcript_hash(&self) -> [u8; 32] {
        self.awaiting.transcript
    }

    pub fn confirmation_code(&self) -> ConfirmationCode {
        self.awaiting.confirmation_code
    }

    pub fn receive_response(self, response: &Response) -> Result<CustomerVerified, Refused<Self>> {
        let checked = self.check_response(response);
        let ((), state) = checked.or_refuse(self)?;
        let a = state.awaiting;
        let answer = CustomerAnswer {
            transcript: a.transcript,
            agent_nonce: a.agent_nonce,
            signature: response.signature,
        };
        Ok(CustomerVerified {
            ticket: a.ready.ticket,
            answer,
            confirmation_code: a.confirmation_code,
        })
    }

    fn check_response(&self, response: &Response) -> Result<(), Error> {
        let a = &self.awaiting;
        if response.agent_nonce != a.agent_nonce {
            return Err(Error::NonceMismatch);
        }
        let signed = response_signed_bytes(&a.transcript, &a.agent_nonce, &a.ready.ticket.digest());
        if !a.ready.customer_key.verify(&signed, &response.signature) {
            return Err(Error::BadResponseSignature);
        }
        Ok(())
    }

    pub fn abandon(self, outcome: UnverifiedOutcome, now: u64) -> Receipt {
        self.awaiting.abandon(outcome, now)
    }
}

/// Both sides are verified.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CustomerVerified {
    ticket: SignedTicket,
    answer: CustomerAnswer,
    confirmation_code: ConfirmationCode,
}

impl CustomerVerified {
    pub fn ticket(&self) -> &SignedTicket {
        &self.ticket
    }

    /// Whether `response` is the very one that verified the customer: sent again because its
    /// acknowledgement was lost (a tap cut short), it changes nothing.
    pub fn is_same_response(&self, response: &Response) -> bool {
        response.agent_nonce == self.answer.agent_nonce
            && response.signature == self.answer.signature
    }

    pub fn confirmation_code(&self) -> ConfirmationCode {
        self.confirmation_code
    }

    pub fn transcript_hash(&self) -> [u8; 32] {
        self.answer.final_transcript()
    }

    /// The customer fields the agent may now see: exactly the ticket's, nothing more.
    pub fn allowed_fields(&self) -> FieldSet {
        self.ticket.ticket().fields
    }

    /// The verified receipt, for the agent's device key to sign. Checks outside the ticket are
    /// dropped: a receipt cannot claim more than the visit allowed.
    pub fn receipt(&self, extra_checks_done: CheckSet, now: u64) -> Receipt {
        let allowed = self.ticket.ticket().checks;
        let checks_done = core::iter::once(Check::DeviceKey)
            .chain(extra_checks_done.iter())
            .filter(|c| allowed.contains(*c))
            .collect();
        Receipt {
            visit_id: self.ticket.ticket().visit_id,
            ticket_serial: self.ticket.ticket().serial,
            outcome: Outcome::Verified,
            checks_done,
            transcript_hash: Some(self.answer.final_transcript()),
            customer_answer: Some(self.answer),
            office_reference: None,
            time: now,
        }
    }

    pub fn receipt_to_sign(&self, extra_checks_done: CheckSet, now: u64) -> DocumentToSign {
        self.receipt(extra_checks_done, now)
            .to_sign(self.ticket.ticket().agent_key)
    }
}
