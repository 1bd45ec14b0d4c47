//! The receipt the agent signs at the end of a visit; the customer keeps a copy.
//!
//! It holds only what an audit needs: which visit, what happened, which checks, the transcript
//! hash that ties it to the handshake, and when. No customer data.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::cbor::{CborError, Decoder, MapBuilder, fixed};
use crate::error::Error;
use crate::handshake::CustomerAnswer;
use crate::keys::{KeyId, PublicKey};
use crate::office::OfficeReference;
use crate::signed::{DocumentKind, DocumentToSign, Envelope};
use crate::ticket::{CheckSet, SignedTicket, VISIT_ID_LEN, VisitId};

/// What happened at the door. The views and the back-office name it in snake_case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Verified = 1,
    NotHome = 2,
    Refused = 3,
    Failed = 4,
    Suspicious = 5,
    /// The phones could not complete the exchange; the office's operator confirmed the agent and
    /// the visit with the customer on the official line, and the receipt carries the office's
    /// reference. Not `Verified`: only one device signed.
    VerifiedByOffice = 6,
    /// The customer has no app: their phone's camera opened the agent's page pass on the
    /// organisation's verification page, which checked the agent and gave a reference the
    /// customer read to the agent. Not `Verified`: only the agent's device signed.
    CheckedOnPage = 7,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Verified => "verified",
            Outcome::NotHome => "not_home",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
            Outcome::Suspicious => "suspicious",
            Outcome::VerifiedByOffice => "verified_by_office",
            Outcome::CheckedOnPage => "checked_on_page",
        }
    }

    /// Whether a receipt with this outcome carries a reference the back-office gave.
    pub fn carries_reference(self) -> bool {
        matches!(self, Outcome::VerifiedByOffice | Outcome::CheckedOnPage)
    }

    fn from_code(code: u64) -> Option<Self> {
        Some(match code {
            1 => Outcome::Verified,
            2 => Outcome::NotHome,
            3 => Outcome::Refused,
            4 => Outcome::Failed,
            5 => Outcome::Suspicious,
            6 => Outcome::VerifiedByOffice,
            7 => Outcome::CheckedOnPage,
            _ => return None,
        })
    }
}

/// The outcomes an agent may record without a completed handshake. `Verified` is absent on
/// purpose: only a finished [`crate::agent::CustomerVerified`] session can produce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnverifiedOutcome {
    NotHome,
    Refused,
    Failed,
    Suspicious,
}

impl From<UnverifiedOutcome> for Outcome {
    fn from(o: UnverifiedOutcome) -> Self {
        match o {
            UnverifiedOutcome::NotHome => Outcome::NotHome,
            UnverifiedOutcome::Refused => Outcome::Refused,
            UnverifiedOutcome::Failed => Outcome::Failed,
            UnverifiedOutcome::Suspicious => Outcome::Suspicious,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// Fields are private: a `Verified` receipt can only come from a finished handshake or from
/// decoding one that was signed.
pub struct Receipt {
    pub(crate) visit_id: VisitId,
    pub(crate) ticket_serial: u64,
    pub(crate) outcome: Outcome,
    pub(crate) checks_done: CheckSet,
    /// Present when the handshake ran; binds the receipt to it.
    pub(crate) transcript_hash: Option<[u8; 32]>,
    /// The customer's signed answer, which a `Verified` receipt must carry: a receipt proves
    /// both people took part, not only the agent.
    pub(crate) customer_answer: Option<CustomerAnswer>,
    /// The back-office's reference, which a `VerifiedByOffice` or `CheckedOnPage` receipt, and
    /// only one, carries: given by the operator on the official line, or by the verification page.
    pub(crate) office_reference: Option<OfficeReference>,
    pub(crate) time: u64,
}

impl Receipt {
    pub fn visit_id(&self) -> VisitId {
        self.visit_id
    }

    pub fn ticket_serial(&self) -> u64 {
        self.ticket_serial
    }

    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    pub fn checks_done(&self) -> CheckSet {
        self.checks_done
    }

    pub fn transcript_hash(&self) -> Option<[u8; 32]> {
        self.transcript_hash
    }

    pub fn time(&self) -> u64 {
        self.time
    }

    pub fn customer_answer(&self) -> Option<&CustomerAnswer> {
        self.customer_answer.as_ref()
    }

    pub fn office_reference(&self) -> Option<OfficeReference> {
        self.office_reference
    }

    /// What the back-office checks of a receipt against the ticket it issued: same visit and
    /// serial, no check the ticket did not allow, and for `Verified` the customer's answer,
    /// signed by `customer_key` (the key the ticket names) for this very ticket.
    pub fn check_against_ticket(
        &self,
        ticket: &SignedTicket,
        customer_key: Option<&PublicKey>,
        check: &dyn Fn(&PublicKey, &[u8], &crate::Signature) -> bool,
    ) -> Result<(), Error> {
        let t = ticket.ticket();
        if self.visit_id != t.visit_id {
            return Err(Error::WrongVisit);
        }
        if self.ticket_serial != t.serial {
            return Err(Error::UnknownTicket);
        }
        if !self.checks_done.iter().all(|c| t.checks.contains(c)) {
            return Err(Error::ChecksNotAllowed);
        }
        if self.outcome != Outcome::Verified {
            return Ok(());
        }
        let Some(answer) = &self.customer_answer else {
            return Err(Error::VerifiedWithoutCustomer);
        };
        let key = customer_key
            .filter(|k| k.key_id() == t.customer_key_id)
            .ok_or(Error::WrongCustomerKey)?;
        if !answer.signed_by(key, &ticket.digest(), check) {
            return Err(Error::BadResponseSignature);
        }
        Ok(())
    }

    /// A receipt for a visit where the handshake did not complete.
    pub fn without_handshake(
        ticket: &SignedTicket,
        outcome: UnverifiedOutcome,
        checks_done: CheckSet,
        transcript_hash: Option<[u8; 32]>,
        time: u64,
    ) -> Self {
        Self {
            visit_id: ticket.ticket().visit_id,
            ticket_serial: ticket.ticket().serial,
            outcome: outcome.into(),
            checks_done,
            transcript_hash,
            customer_answer: None,
            office_reference: None,
            time,
        }
    }

    /// A visit the office's operator confirmed by phone because a phone could not scan: the
    /// agent records the reference the office gave. The back-office accepts the receipt only
    /// if it issued that reference for this visit.
    pub fn confirmed_by_office(
        ticket: &SignedTicket,
        reference: OfficeReference,
        checks_done: CheckSet,
        transcript_hash: Option<[u8; 32]>,
        time: u64,
    ) -> Self {
        Self {
            visit_id: ticket.ticket().visit_id,
            ticket_serial: ticket.ticket().serial,
            outcome: Outcome::VerifiedByOffice,
            checks_done,
            transcript_hash,
            customer_answer: None,
            office_reference: Some(reference),
            time,
        }
    }

    /// A visit to a customer without the app, who checked the agent on the organisation's
    /// verification page: the agent records the reference the page gave the customer. As with
    /// the office's, the back-office accepts the receipt only if it gave that reference for this
    /// visit.
    pub fn checked_on_page(
        ticket: &SignedTicket,
        reference: OfficeReference,
        checks_done: CheckSet,
        time: u64,
    ) -> Self {
        Self {
            visit_id: ticket.ticket().visit_id,
            ticket_serial: ticket.ticket().serial,
            outcome: Outcome::CheckedOnPage,
            checks_done,
            transcript_hash: None,
            customer_answer: None,
            office_reference: Some(reference),
            time,
        }
    }

    fn encode_payload(&self) -> Vec<u8> {
        let mut m = MapBuilder::new();
        m.entry(1, |e| {
            e.bytes(&self.visit_id.0);
        })
        .entry(2, |e| {
            e.uint(self.ticket_serial);
        })
        .entry(3, |e| {
            e.uint(self.outcome as u64);
        })
        .entry(4, |e| {
            e.uint(self.checks_done.bits().into());
        })
        // With the customer's answer, the transcript hash follows from it and is not sent twice.
        .entry_if(
            self.customer_answer.is_none() && self.transcript_hash.is_some(),
            5,
            |e| {
                e.bytes(&self.transcript_hash.unwrap_or_default());
            },
        )
        .entry(6, |e| {
            e.uint(self.time);
        });
        if let Some(a) = &self.customer_answer {
            m.entry(7, |e| {
                e.array(3)
                    .bytes(&a.transcript)
                    .bytes(&a.agent_nonce)
                    .bytes(a.signature.as_bytes());
            });
        }
        if let Some(reference) = &self.office_reference {
            m.entry(8, |e| {
                e.text(&reference.digits());
            });
        }
        m.finish()
    }

    fn decode_payload(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let visit_id = VisitId(fixed::<VISIT_ID_LEN>(m.required(1)?.bytes()?, 1)?);
        let ticket_serial = m.required(2)?.uint()?;
        let outcome =
            Outcome::from_code(m.required(3)?.uint()?).ok_or(CborError::OutOfRange { field: 3 })?;
        let checks_done = CheckSet::from_bits(m.required(4)?.uint()?)
            .ok_or(CborError::OutOfRange { field: 4 })?;
        let transcript_hash = m.optional(5)?.map(|v| v.bytes()).transpose()?;
        let transcript_hash = transcript_hash.map(|h| fixed(h, 5)).transpose()?;
        let time = m.required(6)?.uint()?;
        let customer_answer = m.optional(7)?.map(decode_answer).transpose()?;
        let office_reference = m
            .optional(8)?
            .map(|v| {
                let text = v.text()?;
                // Only the stored form: eight digits, no separator.
                (text.len() == crate::office::OFFICE_REFERENCE_DIGITS)
                    .then(|| OfficeReference::parse(text).ok())
                    .flatten()
                    .ok_or(CborError::OutOfRange { field: 8 })
            })
            .transpose()?;
        m.end()?;
        d.finish()?;
        let transcript_hash = match (&customer_answer, transcript_hash) {
            (Some(a), None) => Some(a.final_transcript()),
            // Only a verified receipt carries the customer's answer, and then not the hash too.
            (Some(_), Some(_)) => return Err(CborError::UnknownField(5)),
            (None, hash) => hash,
        };
        if customer_answer.is_some() && outcome != Outcome::Verified {
            return Err(CborError::OutOfRange { field: 7 });
        }
        if office_reference.is_some() != outcome.carries_reference() {
            return Err(CborError::OutOfRange { field: 8 });
        }
        Ok(Self {
            visit_id,
            ticket_serial,
            outcome,
            checks_done,
            transcript_hash,
            customer_answer,
            office_reference,
            time,
        })
    }

    pub fn to_sign(&self, agent_key: PublicKey) -> DocumentToSign {
        DocumentToSign::new(DocumentKind::Receipt, agent_key, self.encode_payload())
    }
}

fn decode_answer(d: &mut Decoder<'_>) -> Result<CustomerAnswer, CborError> {
    if d.array()? != 3 {
        return Err(CborError::BadLength { field: 7 });
    }
    let transcript = fixed(d.bytes()?, 7)?;
    let agent_nonce = fixed(d.bytes()?, 7)?;
    let signature =
        crate::Signature::from_wire(d.bytes()?).map_err(|_| CborError::OutOfRange { field: 7 })?;
    Ok(CustomerAnswer {
        transcript,
        agent_nonce,
        signature,
    })
}

/// A receipt whose agent signature has been checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedReceipt {
    encoded: Vec<u8>,
    receipt: Receipt,
    agent_key_id: KeyId,
}

impl SignedReceipt {
    pub fn verify(encoded: &[u8], agent_key: &PublicKey) -> Result<Self, Error> {
        Self::verify_with(encoded, agent_key, &|key, message, signature| {
            key.verify(message, signature)
        })
    }

    /// As [`SignedReceipt::verify`], with the ECDSA check done by `check`.
    pub fn verify_with(
        encoded: &[u8],
        agent_key: &PublicKey,
        check: &dyn Fn(&PublicKey, &[u8], &crate::Signature) -> bool,
    ) -> Result<Self, Error> {
        let envelope = Envelope::decode_all(encoded)?;
        envelope.verify_with(
            DocumentKind::Receipt,
            core::slice::from_ref(agent_key),
            check,
        )?;
        let receipt = Receipt::decode_payload(envelope.payload)?;
        Ok(Self {
            encoded: encoded.to_vec(),
            receipt,
            agent_key_id: envelope.key_id,
        })
    }

    /// Reads a receipt without checking its signature, to find out whose key to check it with.
    pub fn peek(encoded: &[u8]) -> Result<(KeyId, Receipt), Error> {
        let envelope = Envelope::decode_all(encoded)?;
        Ok((envelope.key_id, Receipt::decode_payload(envelope.payload)?))
    }

    pub fn receipt(&self) -> &Receipt {
        &self.receipt
    }

    pub fn encoded(&self) -> &[u8] {
        &self.encoded
    }

    pub fn agent_key_id(&self) -> KeyId {
        self.agent_key_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandomness;
    use crate::scenario::Scenario;

    fn ticket(s: &Scenario) -> SignedTicket {
        SignedTicket::verify(&s.ticket_encoded, &[s.organisation_key.public_key()]).unwrap()
    }

    #[test]
    fn a_receipt_confirmed_by_the_office_carries_its_reference_through_signing() {
        let s = Scenario::new("office");
        let reference = OfficeReference::generate(&mut SeededRandomness::new("ref"));
        let receipt =
            Receipt::confirmed_by_office(&ticket(&s), reference, CheckSet::default(), None, s.now);
        let signed = receipt
            .to_sign(s.agent_key.public_key())
            .sign_with(&s.agent_key)
            .unwrap();
        let read = SignedReceipt::verify(&signed, &s.agent_key.public_key()).unwrap();
        assert_eq!(read.receipt().outcome(), Outcome::VerifiedByOffice);
        assert_eq!(read.receipt().office_reference(), Some(reference));
        // Only one device signed: the back-office checks the reference, not a customer's answer.
        read.receipt()
            .check_against_ticket(&ticket(&s), None, &|k, m, sig| k.verify(m, sig))
            .unwrap();
    }

    #[test]
    fn the_office_reference_and_its_outcome_go_together() {
        let s = Scenario::new("office");
        let t = ticket(&s);
        let reference = OfficeReference::generate(&mut SeededRandomness::new("ref"));
        let mut without = Receipt::confirmed_by_office(&t, reference, CheckSet::default(), None, 1);
        without.office_reference = None;
        let mut not_home = Receipt::without_handshake(
            &t,
            UnverifiedOutcome::NotHome,
            CheckSet::default(),
            None,
            1,
        );
        not_home.office_reference = Some(reference);
        let mut page_without = Receipt::checked_on_page(&t, reference, CheckSet::default(), 1);
        page_without.office_reference = None;
        for bad in [without, not_home, page_without] {
            assert_eq!(
                Receipt::decode_payload(&bad.encode_payload()),
                Err(CborError::OutOfRange { field: 8 })
            );
        }
    }

    #[test]
    fn a_receipt_checked_on_the_page_carries_the_page_s_reference_and_no_customer_answer() {
        let s = Scenario::new("page");
        let t = ticket(&s);
        let reference = OfficeReference::generate(&mut SeededRandomness::new("page ref"));
        let checks: CheckSet = [crate::ticket::Check::IdentityDocument]
            .into_iter()
            .collect();
        let receipt = Receipt::checked_on_page(&t, reference, checks, s.now);
        let signed = receipt
            .to_sign(s.agent_key.public_key())
            .sign_with(&s.agent_key)
            .unwrap();
        let read = SignedReceipt::verify(&signed, &s.agent_key.public_key()).unwrap();
        assert_eq!(read.receipt().outcome(), Outcome::CheckedOnPage);
        assert_eq!(read.receipt().outcome().name(), "checked_on_page");
        assert_eq!(read.receipt().office_reference(), Some(reference));
        assert_eq!(read.receipt().customer_answer(), None);
        assert_eq!(read.receipt().transcript_hash(), None);
        read.receipt()
            .check_against_ticket(&t, None, &|k, m, sig| k.verify(m, sig))
            .unwrap();
    }
}
