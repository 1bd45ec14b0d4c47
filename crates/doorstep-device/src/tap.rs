//! The door over NFC. The agent's phone is the card ([`DoorCard`], armed only while the door
//! screen of one visit is up); the customer's phone is the reader and drives, in holds:
//!
//! 1. its challenge in, the agent's proof out — checked exactly as a scanned proof
//!    ([`Device::customer_tap_agent`]);
//! 2. the two people answer the photo question and compare the code aloud, each on their
//!    own screen, as with QR codes;
//! 3. its response in, and the agent's receipt out once the agent recorded the visit
//!    ([`Device::customer_tap_answer`], [`Device::customer_tap_receipt`]).
//!
//! The phones may part between holds: the handshake is stored on both, so the next hold goes
//! on where the last stopped. Every message is the same bytes a QR code carries and meets the
//! same checks, so what the QR path refuses the NFC path refuses, with the same error.

use serde::Serialize;
use ts_rs::TS;

use doorstep_core::{Code, CodeKind};
use doorstep_nfc::{Answer, Card, NfcError, Reader, Request, Step, Transport};

use crate::views::{AgentConfirmed, CustomerConfirmed, KeptReceipt};
use crate::{Device, DeviceError, ErrorKind};

/// What a tap did on the agent's phone, for its door screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(tag = "step", rename_all = "camelCase")]
pub enum TapEvent {
    /// The customer's challenge was answered: the code to read aloud.
    #[serde(rename_all = "camelCase")]
    ProofGiven { confirmation_code: String },
    /// The customer's response checked: the customer is verified, and the data the visit may
    /// show is open.
    CustomerConfirmed { confirmed: CustomerConfirmed },
    /// The customer's phone took the signed receipt.
    ReceiptGiven,
    /// A message was refused, with the error the QR path gives for the same message.
    Refused { error: DeviceError },
}

/// The agent's phone as a contactless card, for one visit at a time.
#[derive(Debug, Default)]
pub struct DoorCard {
    visit_id: Option<String>,
    card: Card,
}

impl DoorCard {
    pub fn new() -> Self {
        Self::default()
    }

    /// The door screen of this visit is up: the card answers, for this visit only.
    pub fn arm(&mut self, visit_id: &str) {
        self.visit_id = Some(visit_id.to_string());
        self.card.arm();
    }

    /// The door screen is gone: every command gets `6985`.
    pub fn disarm(&mut self) {
        self.visit_id = None;
        self.card.disarm();
    }

    pub fn armed_for(&self) -> Option<&str> {
        self.visit_id.as_deref()
    }

    /// The reading phone left the field.
    pub fn field_off(&mut self) {
        self.card.deactivated();
    }

    /// One command APDU from the reading phone: the response APDU, and what changed for the
    /// door screen, if anything.
    pub async fn apdu(&mut self, device: &Device, command: &[u8]) -> (Vec<u8>, Option<TapEvent>) {
        let request = match self.card.command(command) {
            Step::Reply(reply) => return (reply, None),
            Step::Ask(request) => request,
        };
        let Some(visit_id) = self.visit_id.clone() else {
            // Armed implies a visit; this is only reached if the two fell out of step.
            return (self.card.answer(Answer::NotYet), None);
        };
        let (answer, event) = match device.agent_card_answer(&visit_id, request).await {
            Ok(answered) => answered,
            Err(error) => (
                Answer::Refused(error.kind.name()),
                Some(TapEvent::Refused { error }),
            ),
        };
        (self.card.answer(answer), event)
    }
}

/// What the second hold brought: the agent's receipt if the agent had already recorded the
/// visit (otherwise a later hold, or the receipt's QR code, brings it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TapAnswered {
    pub receipt: Option<KeptReceipt>,
}

fn tap_error(e: NfcError) -> DeviceError {
    let (kind, transient) = match &e {
        NfcError::Transport(_) => (ErrorKind::NfcLinkLost, true),
        NfcError::NotArmed | NfcError::NotYet => (ErrorKind::AgentNotReady, true),
        NfcError::Refused { reason } => {
            // The agent's phone names its reason with the kind the QR path would show; a name
            // this app does not know means the other side is not a Doorstep agent's phone.
            let kind = serde_json::from_value(serde_json::Value::String(reason.clone()))
                .unwrap_or(ErrorKind::NotADoorstepPhone);
            (kind, false)
        }
        NfcError::NotDoorstep
        | NfcError::UnsupportedVersion(_)
        | NfcError::TooLong
        | NfcError::Malformed
        | NfcError::Status(_) => (ErrorKind::NotADoorstepPhone, false),
    };
    DeviceError {
        kind,
        message: e.to_string(),
        transient,
    }
}

impl Device {
    /// The agent's side of one whole message from the reading phone.
    async fn agent_card_answer(
        &self,
        visit_id: &str,
        request: Request,
    ) -> Result<(Answer, Option<TapEvent>), DeviceError> {
        Ok(match request {
            Request::Challenge(bytes) => {
                let challenge = Code::from_bytes(CodeKind::Challenge, bytes)?.into_challenge()?;
                let (proof, confirmation_code) =
                    self.agent_answer_challenge(visit_id, challenge).await?;
                (
                    Answer::Data(proof.encode()),
                    Some(TapEvent::ProofGiven { confirmation_code }),
                )
            }
            Request::FullProof => {
                let proof = self.agent_proof_with_full_ticket(visit_id).await?;
                (Answer::Data(proof.encode()), None)
            }
            Request::Response(bytes) => {
                let response = Code::from_bytes(CodeKind::Response, bytes)?.into_response()?;
                match self.agent_accept_response(visit_id, &response).await {
                    Ok(confirmed) => (
                        Answer::Data(Vec::new()),
                        Some(TapEvent::CustomerConfirmed { confirmed }),
                    ),
                    // The agent has not yet said the codes are the same: ask again later.
                    Err(e) if e.kind == ErrorKind::CodesNotCompared => (Answer::NotYet, None),
                    Err(e) => return Err(e),
                }
            }
            Request::Receipt => {
                self.unlocked()?;
                let visit = crate::agent::parse_visit_id(visit_id)?;
                match self.store.last_receipt_for(visit).await? {
                    Some(receipt) => (Answer::Data(receipt), Some(TapEvent::ReceiptGiven)),
                    None => (Answer::NotYet, None),
                }
            }
        })
    }

    /// First hold: this visit's challenge to the agent's phone, its proof back, checked as a
    /// scanned proof is. A phone that does not hold the ticket's notice is given the proof with
    /// the whole ticket in the same hold.
    pub async fn customer_tap_agent(
        &self,
        visit_id: &str,
        transport: &mut (dyn Transport + Send),
        fresh: bool,
    ) -> Result<AgentConfirmed, DeviceError> {
        let mut reader = Reader::new(transport);
        reader.select().map_err(tap_error)?;
        let challenge = self.customer_start_challenge(visit_id, fresh).await?;
        let proof = reader
            .challenge(&Code::Challenge(challenge).to_bytes())
            .map_err(tap_error)?;
        let proof = Code::from_bytes(CodeKind::Proof, proof)?.into_proof()?;
        match self.customer_check_proof(visit_id, &proof).await {
            Err(e) if e.kind == ErrorKind::UnknownTicket => {
                let full = reader.full_proof().map_err(tap_error)?;
                let full = Code::from_bytes(CodeKind::Proof, full)?.into_proof()?;
                self.customer_check_proof(visit_id, &full).await
            }
            checked => checked,
        }
    }

    /// Second hold, once the customer said the codes are the same: the signed response to the
    /// agent's phone, and its receipt back if the agent already recorded the visit.
    pub async fn customer_tap_answer(
        &self,
        visit_id: &str,
        transport: &mut (dyn Transport + Send),
    ) -> Result<TapAnswered, DeviceError> {
        let response = self.customer_signed_response(visit_id).await?;
        let mut reader = Reader::new(transport);
        reader.select().map_err(tap_error)?;
        match reader.response(&Code::Response(response).to_bytes()) {
            Ok(()) => {}
            // Taken on an earlier hold whose answer was lost: the receipt, checked against
            // this very handshake, tells.
            Err(NfcError::Refused { reason }) if reason == ErrorKind::NoHandshake.name() => {}
            Err(e) => return Err(tap_error(e)),
        }
        let receipt = match reader.receipt() {
            Ok(receipt) => Some(self.customer_accept_receipt(visit_id, &receipt).await?),
            Err(NfcError::NotYet) => None,
            Err(e) => return Err(tap_error(e)),
        };
        Ok(TapAnswered { receipt })
    }

    /// A later hold for the receipt alone.
    pub async fn customer_tap_receipt(
        &self,
        visit_id: &str,
        transport: &mut (dyn Transport + Send),
    ) -> Result<KeptReceipt, DeviceError> {
        self.customer_signed_response(visit_id).await?;
        let mut reader = Reader::new(transport);
        reader.select().map_err(tap_error)?;
        let receipt = reader.receipt().map_err(tap_error)?;
        self.customer_accept_receipt(visit_id, &receipt).await
    }
}
