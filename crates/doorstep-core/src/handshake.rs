//! The three legs of the doorstep handshake and what each side signs.
//!
//! Leg 1 (customer → agent) `Challenge`, leg 2 (agent → customer) `Proof`, leg 3 (customer →
//! agent) `Response`. Encodings are canonical, so both sides hash identical bytes.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::cbor::{CborError, Decoder, Encoder, MapBuilder, fixed};
use crate::keys::{PublicKey, Signature, sha256};
use crate::ticket::{VISIT_ID_LEN, VisitId};
use crate::vocabulary::ConfirmationCode;

pub const NONCE_LEN: usize = 16;
pub const TICKET_DIGEST_WIRE_LEN: usize = 16;

pub type Nonce = [u8; NONCE_LEN];

fn public_key(bytes: &[u8], field: u64) -> Result<PublicKey, CborError> {
    PublicKey::from_compressed(bytes).map_err(|_| CborError::OutOfRange { field })
}

fn signature(bytes: &[u8], field: u64) -> Result<Signature, CborError> {
    Signature::from_wire(bytes).map_err(|_| CborError::OutOfRange { field })
}

/// Leg 1: the customer's fresh challenge. Unsigned: its freshness is what matters, and the agent's
/// signature in leg 2 covers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Challenge {
    pub visit_id: VisitId,
    pub nonce: Nonce,
    pub ephemeral_key: PublicKey,
    pub time: u64,
    /// The customer's device holds the visit notice, so the agent may send the ticket's digest
    /// instead of the whole ticket.
    pub holds_notice: bool,
}

impl Challenge {
    pub fn encode(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.bytes(&self.visit_id.0);
        })
        .entry(2, |e| {
            e.bytes(&self.nonce);
        })
        .entry(3, |e| {
            e.bytes(self.ephemeral_key.as_bytes());
        })
        .entry(4, |e| {
            e.uint(self.time);
        })
        .entry_if(self.holds_notice, 5, |e| {
            e.bool(true);
        });
        m.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let visit_id = VisitId(fixed::<VISIT_ID_LEN>(m.required(1)?.bytes()?, 1)?);
        let nonce = fixed(m.required(2)?.bytes()?, 2)?;
        let ephemeral_key = public_key(m.required(3)?.bytes()?, 3)?;
        let time = m.required(4)?.uint()?;
        // Absent means false; an explicit false would be a second encoding of the same value.
        let holds_notice = match m.optional(5)?.map(|v| v.bool()).transpose()? {
            Some(true) => true,
            Some(false) => return Err(CborError::NotCanonical),
            None => false,
        };
        m.end()?;
        d.finish()?;
        Ok(Self {
            visit_id,
            nonce,
            ephemeral_key,
            time,
            holds_notice,
        })
    }
}

/// How the proof names the ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TicketRef {
    /// The encoded signed ticket.
    Full(Vec<u8>),
    /// The first bytes of the ticket's SHA-256, when the customer's notice holds the ticket.
    Digest([u8; TICKET_DIGEST_WIRE_LEN]),
}

/// Leg 2: the agent proves it holds the key the ticket names, bound to this challenge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    pub ticket: TicketRef,
    /// The customer's nonce, echoed so a stale code is told apart from a forged one.
    pub customer_nonce: Nonce,
    pub ephemeral_key: PublicKey,
    pub agent_nonce: Nonce,
    pub time: u64,
    pub signature: Signature,
}

impl Proof {
    pub fn encode(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        match &self.ticket {
            TicketRef::Full(t) => m.entry(1, |e| {
                e.raw(t);
            }),
            TicketRef::Digest(d) => m.entry(2, |e| {
                e.bytes(d);
            }),
        };
        m.entry(3, |e| {
            e.bytes(&self.customer_nonce);
        })
        .entry(4, |e| {
            e.bytes(self.ephemeral_key.as_bytes());
        })
        .entry(5, |e| {
            e.bytes(&self.agent_nonce);
        })
        .entry(6, |e| {
            e.uint(self.time);
        })
        .entry(7, |e| {
            e.bytes(self.signature.as_bytes());
        });
        m.finish()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let full = m.optional(1)?.map(|v| v.raw_item()).transpose()?;
        let digest = m.optional(2)?.map(|v| v.bytes()).transpose()?;
        let ticket = match (full, digest) {
            (Some(t), None) => TicketRef::Full(t.to_vec()),
            (None, Some(d)) => TicketRef::Digest(fixed(d, 2)?),
            (None, None) => return Err(CborError::MissingField(1)),
            (Some(_), Some(_)) => return Err(CborError::UnknownField(2)),
        };
        let customer_nonce = fixed(m.required(3)?.bytes()?, 3)?;
        let ephemeral_key = public_key(m.required(4)?.bytes()?, 4)?;
        let agent_nonce = fixed(m.required(5)?.bytes()?, 5)?;
        let time = m.required(6)?.uint()?;
        let signature = signature(m.required(7)?.bytes()?, 7)?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            ticket,
            customer_nonce,
            ephemeral_key,
            agent_nonce,
            time,
            signature,
        })
    }
}

/// Leg 3: the customer proves it holds the enrolled key, bound to the whole transcript.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Response {
    /// The agent's nonce, echoed for the same reason as in the proof.
    pub agent_nonce: Nonce,
    pub signature: Signature,
}

impl Response {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(2)
            .uint(1)
            .bytes(&self.agent_nonce)
            .uint(2)
            .bytes(self.signature.as_bytes());
        e.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let agent_nonce = fixed(m.required(1)?.bytes()?, 1)?;
        let signature = signature(m.required(2)?.bytes()?, 2)?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            agent_nonce,
            signature,
        })
    }
}

/// What the agent signs in leg 2: the challenge as received, the full ticket digest (the same
/// whether the ticket or only its digest travels), and the agent's fresh values.
pub(crate) fn proof_signed_bytes(
    challenge: &Challenge,
    ticket_digest: &[u8; 32],
    ephemeral_key: &PublicKey,
    agent_nonce: &Nonce,
    time: u64,
) -> Vec<u8> {
    let mut e = Encoder::new();
    e.array(6)
        .text("DS1 proof")
        .bytes(&sha256(&[&challenge.encode()]))
        .bytes(ticket_digest)
        .bytes(ephemeral_key.as_bytes())
        .bytes(agent_nonce)
        .uint(time);
    e.into_bytes()
}

/// The transcript hash after leg 2; the confirmation code and leg 3 both derive from it.
pub(crate) fn transcript_after_proof(proof_signed: &[u8], signature: &Signature) -> [u8; 32] {
    sha256(&[proof_signed, signature.as_bytes()])
}

/// What the customer signs in leg 3. The ticket's digest is in it although the transcript
/// already depends on it: the back-office holds the ticket but not the transcript's preimage,
/// and must be able to tell that this answer was given for this visit.
pub(crate) fn response_signed_bytes(
    transcript: &[u8; 32],
    agent_nonce: &Nonce,
    ticket_digest: &[u8; 32],
) -> Vec<u8> {
    let mut e = Encoder::new();
    e.array(4)
        .text("DS2 response")
        .bytes(transcript)
        .bytes(agent_nonce)
        .bytes(ticket_digest);
    e.into_bytes()
}

/// The customer's signed answer as a receipt carries it, so that whoever holds the ticket and
/// the customer's enrolled key can check the customer took part: the transcript after leg 2,
/// the agent's nonce and the customer's leg-3 signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerAnswer {
    pub transcript: [u8; 32],
    pub agent_nonce: Nonce,
    pub signature: Signature,
}

impl CustomerAnswer {
    /// The transcript hash after leg 3, which both sides' receipts name.
    pub fn final_transcript(&self) -> [u8; 32] {
        final_transcript(&self.transcript, &self.signature)
    }

    /// Whether `customer_key` signed this answer for the ticket with `ticket_digest`.
    pub fn signed_by(
        &self,
        customer_key: &PublicKey,
        ticket_digest: &[u8; 32],
        check: &dyn Fn(&PublicKey, &[u8], &Signature) -> bool,
    ) -> bool {
        let signed = response_signed_bytes(&self.transcript, &self.agent_nonce, ticket_digest);
        check(customer_key, &signed, &self.signature)
    }
}

/// The transcript hash after leg 3, which receipts carry.
pub(crate) fn final_transcript(transcript: &[u8; 32], response: &Signature) -> [u8; 32] {
    sha256(&[transcript, response.as_bytes()])
}

/// The 6-digit code both people read aloud: HKDF-SHA256 over the ECDH secret of the two
/// ephemeral keys, salted with the transcript after leg 2. A relay that swapped either ephemeral
/// key would show different codes on the two screens.
pub fn confirmation_code(shared_secret: &[u8; 32], transcript: &[u8; 32]) -> ConfirmationCode {
    let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(transcript), shared_secret);
    let mut okm = [0u8; 8];
    hk.expand(b"DS1 confirmation code", &mut okm)
        .expect("8 bytes is a valid HKDF output length");
    // 64 bits reduced mod 10^6: the bias is below 2^-44.
    ConfirmationCode::new((u64::from_be_bytes(okm) % 1_000_000) as u32)
}
