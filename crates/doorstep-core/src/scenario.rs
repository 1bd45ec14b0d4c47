//! A complete visit, deterministic from its seed: an organisation, an agent, a customer, their
//! documents, and a run of the handshake with or without an attack. The command-line demo, the
//! attack tests, the benchmarks and the test vectors all use it, so they exercise one path.
//!
//! Keys here come from [`SeededRandomness`]: predictable, for demos and tests only.

use alloc::string::String;
use alloc::vec::Vec;

use crate::agent;
use crate::codec::{Code, CodeKind, encode_text};
use crate::customer::{self, CustomerReceipt};
use crate::error::Error;
use crate::handshake::{Challenge, NONCE_LEN, Proof, Response, TicketRef, proof_signed_bytes};
use crate::keys::{EphemeralKey, PublicKey, Randomness, SeededRandomness, SoftwareKey};
use crate::notice::{Denylist, Notice, VerifiedNotice};
use crate::receipt::{Receipt, SignedReceipt};
use crate::ticket::{Check, CustomerField, Ticket, VisitId};
use crate::trust::{Policy, Trust};
use crate::vocabulary::{ConfirmationCode, Role};

/// 2026-11-23 10:30:00 UTC: inside the scenario's visit window.
pub const SCENARIO_NOW: u64 = 1_795_429_800;
const WINDOW_START: u64 = SCENARIO_NOW - 30 * 60;

/// The attacks and faults the demo can show being refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    MalformedCode,
    UnsupportedVersion,
    ForgedTicket,
    AlteredTicket,
    ForgedProof,
    ForgedResponse,
    ExpiredTicket,
    NotYetValid,
    OutsideWindow,
    WrongVisit,
    WrongAgentKey,
    WrongCustomerKey,
    ReplayedProof,
    ReplayedResponse,
    RevokedAgent,
    StaleDenylist,
    ClockWrong,
    TamperedReceipt,
    CancelledVisit,
    AgentOnlyReceipt,
    RevokedCustomer,
}

impl Tamper {
    pub const ALL: [Tamper; 21] = [
        Tamper::MalformedCode,
        Tamper::UnsupportedVersion,
        Tamper::ForgedTicket,
        Tamper::AlteredTicket,
        Tamper::ForgedProof,
        Tamper::ForgedResponse,
        Tamper::ExpiredTicket,
        Tamper::NotYetValid,
        Tamper::OutsideWindow,
        Tamper::WrongVisit,
        Tamper::WrongAgentKey,
        Tamper::WrongCustomerKey,
        Tamper::ReplayedProof,
        Tamper::ReplayedResponse,
        Tamper::RevokedAgent,
        Tamper::StaleDenylist,
        Tamper::ClockWrong,
        Tamper::TamperedReceipt,
        Tamper::CancelledVisit,
        Tamper::AgentOnlyReceipt,
        Tamper::RevokedCustomer,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Tamper::MalformedCode => "malformed-code",
            Tamper::UnsupportedVersion => "unsupported-version",
            Tamper::ForgedTicket => "forged-ticket",
            Tamper::AlteredTicket => "altered-ticket",
            Tamper::ForgedProof => "forged-proof",
            Tamper::ForgedResponse => "forged-response",
            Tamper::ExpiredTicket => "expired-ticket",
            Tamper::NotYetValid => "not-yet-valid",
            Tamper::OutsideWindow => "outside-window",
            Tamper::WrongVisit => "wrong-visit",
            Tamper::WrongAgentKey => "wrong-agent-key",
            Tamper::WrongCustomerKey => "wrong-customer-key",
            Tamper::ReplayedProof => "replayed-proof",
            Tamper::ReplayedResponse => "replayed-response",
            Tamper::RevokedAgent => "revoked-agent",
            Tamper::StaleDenylist => "stale-denylist",
            Tamper::ClockWrong => "clock-wrong",
            Tamper::TamperedReceipt => "tampered-receipt",
            Tamper::CancelledVisit => "cancelled-visit",
            Tamper::AgentOnlyReceipt => "agent-only-receipt",
            Tamper::RevokedCustomer => "revoked-customer",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Tamper::ALL.into_iter().find(|t| t.name() == name)
    }

    /// What the attack is, in a sentence.
    pub fn description(self) -> &'static str {
        match self {
            Tamper::MalformedCode => "the agent's code is damaged in transit",
            Tamper::UnsupportedVersion => "the agent's app speaks a future protocol version",
            Tamper::ForgedTicket => "an impostor signs a ticket with a key of their own",
            Tamper::AlteredTicket => "an impostor edits the name on a genuine ticket",
            Tamper::ForgedProof => "an impostor holds a genuine ticket but not the agent's key",
            Tamper::ForgedResponse => "someone else answers in place of the customer",
            Tamper::ExpiredTicket => "the agent shows a ticket that has expired",
            Tamper::NotYetValid => "the agent shows a ticket that is not valid yet",
            Tamper::OutsideWindow => "the agent arrives outside the booked window",
            Tamper::WrongVisit => "the agent's ticket is for a different visit",
            Tamper::WrongAgentKey => "a different agent's device holds the visit's ticket",
            Tamper::WrongCustomerKey => "the visit package holds another customer's key",
            Tamper::ReplayedProof => "a proof recorded at an earlier door is replayed",
            Tamper::ReplayedResponse => "a response recorded at an earlier door is replayed",
            Tamper::RevokedAgent => "the agent's device has been revoked",
            Tamper::StaleDenylist => "the customer's denylist is more than a day old",
            Tamper::ClockWrong => "the customer's phone clock is two hours fast",
            Tamper::TamperedReceipt => {
                "the agent's receipt is altered before the customer keeps it"
            }
            Tamper::CancelledVisit => "the visit was cancelled after its ticket was issued",
            Tamper::RevokedCustomer => "the customer's phone was reported lost and revoked",
            Tamper::AgentOnlyReceipt => {
                "the agent's phone signs \"verified\" without the customer's signed answer"
            }
        }
    }
}

/// The parties and documents of one visit.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub organisation_key: SoftwareKey,
    pub agent_key: SoftwareKey,
    pub customer_key: SoftwareKey,
    pub ticket: Ticket,
    pub ticket_encoded: Vec<u8>,
    pub notice_encoded: Vec<u8>,
    pub denylist: Denylist,
    pub now: u64,
}

impl Scenario {
    pub fn new(seed: &str) -> Self {
        let mut rng = SeededRandomness::new(seed);
        let organisation_key = SoftwareKey::generate(&mut rng);
        let agent_key = SoftwareKey::generate(&mut rng);
        let customer_key = SoftwareKey::generate(&mut rng);
        let mut visit = [0u8; 16];
        rng.fill_bytes(&mut visit);
        // Shape the bytes as a UUIDv7 (time-ordered, as the back-office issues them).
        visit[..6].copy_from_slice(&(WINDOW_START * 1000).to_be_bytes()[2..]);
        visit[6] = 0x70 | (visit[6] & 0x0f);
        visit[8] = 0x80 | (visit[8] & 0x3f);
        let ticket = Ticket {
            serial: 1042,
            visit_id: VisitId(visit),
            window_start: WINDOW_START,
            window_minutes: 120,
            not_before: WINDOW_START - 2 * 3600,
            not_after: WINDOW_START + 10 * 3600,
            agent_id: "A-0117".into(),
            agent_name: "Sanne de Vries".into(),
            on_behalf_of: "Northbank Cards".into(),
            photo_hash: crate::keys::sha256(&[b"agent photo A-0117"])[..16]
                .try_into()
                .expect("16 bytes"),
            agent_key: agent_key.public_key(),
            customer_key_id: customer_key.public_key().key_id(),
            checks: [
                Check::DeviceKey,
                Check::IdentityDocument,
                Check::CardHandover,
            ]
            .into_iter()
            .collect(),
            fields: [CustomerField::FullName, CustomerField::CardLastFour]
                .into_iter()
                .collect(),
        };
        let ticket_encoded = sign(&organisation_key, &ticket);
        let notice_encoded = Self::notice_for(&organisation_key, &ticket_encoded);
        let denylist = Denylist {
            issued_at: SCENARIO_NOW - 3600,
            sequence: 7,
            ..Denylist::default()
        };
        Self {
            organisation_key,
            agent_key,
            customer_key,
            ticket,
            ticket_encoded,
            notice_encoded,
            denylist,
            now: SCENARIO_NOW,
        }
    }

    fn notice_for(organisation_key: &SoftwareKey, ticket_encoded: &[u8]) -> Vec<u8> {
        Notice {
            ticket: ticket_encoded.to_vec(),
            purpose: "Hand over your new card and check your identity".into(),
            retention_days: 30,
            official_phone: "+31 20 555 0100".into(),
            organisation_name: "Northbank".into(),
        }
        .to_sign(organisation_key.public_key())
        .sign_with(organisation_key)
        .expect("software key signs its own document")
    }

    pub fn organisation_keys(&self) -> Vec<PublicKey> {
        alloc::vec![self.organisation_key.public_key()]
    }

    pub fn trust(&self) -> Trust {
        self.trust_with(&self.denylist)
    }

    fn trust_with(&self, denylist: &Denylist) -> Trust {
        let mut trust = Trust::new(self.organisation_keys(), Policy::default());
        let encoded = denylist
            .to_sign(self.organisation_key.public_key())
            .sign_with(&self.organisation_key)
            .expect("software key signs its own document");
        trust
            .install_denylist(&encoded)
            .expect("a freshly signed denylist verifies");
        trust
    }

    pub fn notice(&self) -> VerifiedNotice {
        VerifiedNotice::verify(&self.notice_encoded, &self.organisation_keys())
            .expect("the scenario's notice verifies")
    }

    /// Runs the whole handshake, with an attack if asked, and records every code and result.
    pub fn run(&self, tamper: Option<Tamper>, rng: &mut impl Randomness) -> Run {
        let mut run = Run::default();
        let outcome = self.drive(tamper, rng, &mut run);
        if let Err((role, error)) = outcome {
            run.refused = Some((role, error));
        }
        run
    }

    /// The handshake step by step; each step is its own function below, so an attack is
    /// applied where it happens.
    fn drive(
        &self,
        tamper: Option<Tamper>,
        rng: &mut impl Randomness,
        run: &mut Run,
    ) -> Result<(), (Role, Error)> {
        let device = self.agent_device(tamper);
        let customer_trust = self.customer_trust(tamper);
        let customer_now = if tamper == Some(Tamper::ClockWrong) {
            self.now + 2 * 3600
        } else {
            self.now
        };
        let agent_now = self.now + 20;

        let (awaiting_proof, challenge_text) = self.leg_challenge(customer_now, rng, run);
        let (awaiting_response, proof_text) =
            self.leg_proof(tamper, &device, &challenge_text, agent_now, rng, run)?;
        let agent_verified = customer_checks_proof(
            awaiting_proof,
            &proof_text,
            &customer_trust,
            customer_now,
            run,
        )?;
        let response_text = self.leg_response(tamper, agent_verified, run)?;
        let receipt_text = agent_checks_response(
            tamper,
            awaiting_response,
            &response_text,
            &device.key,
            agent_now,
            run,
        )?;
        customer_keeps_receipt(&receipt_text, run)
    }

    /// What the agent's device carries, as the attack doctored it.
    fn agent_device(&self, tamper: Option<Tamper>) -> AgentDevice {
        use Tamper as T;
        let org = &self.organisation_key;
        let ticket_variant = |edit: &dyn Fn(&mut Ticket)| {
            let mut t = self.ticket.clone();
            edit(&mut t);
            sign(org, &t)
        };
        let mut device = AgentDevice {
            key: self.agent_key.clone(),
            ticket: self.ticket_encoded.clone(),
            customer_key: self.customer_key.public_key(),
            // A doctored device skips its own app's checks and builds the proof by hand, so
            // these attacks reach the customer, whose checks are what is being shown.
            hand_built: matches!(
                tamper,
                Some(
                    T::ForgedProof
                        | T::WrongVisit
                        | T::ExpiredTicket
                        | T::NotYetValid
                        | T::OutsideWindow
                        | T::ForgedTicket
                        | T::AlteredTicket
                )
            ),
        };
        match tamper {
            Some(T::ExpiredTicket) => {
                device.ticket = ticket_variant(&|t| t.not_after = SCENARIO_NOW - 3600)
            }
            Some(T::NotYetValid) => {
                device.ticket = ticket_variant(&|t| t.not_before = SCENARIO_NOW + 3600)
            }
            Some(T::OutsideWindow) => {
                device.ticket = ticket_variant(&|t| t.window_start = SCENARIO_NOW + 3 * 3600)
            }
            Some(T::WrongVisit) => device.ticket = ticket_variant(&|t| t.visit_id.0[15] ^= 1),
            Some(T::WrongAgentKey) => {
                device.key = SoftwareKey::generate(&mut SeededRandomness::new("other agent"));
                let other = device.key.public_key();
                device.ticket = ticket_variant(&|t| t.agent_key = other);
            }
            Some(T::ForgedTicket) => {
                let impostor_org = SoftwareKey::generate(&mut SeededRandomness::new("impostor"));
                device.ticket = sign(&impostor_org, &self.ticket);
            }
            Some(T::AlteredTicket) => device.ticket = alter_ticket_name(&self.ticket_encoded),
            Some(T::ForgedProof) => {
                device.key = SoftwareKey::generate(&mut SeededRandomness::new("impostor agent"));
            }
            Some(T::WrongCustomerKey) => {
                device.customer_key =
                    SoftwareKey::generate(&mut SeededRandomness::new("another customer"))
                        .public_key();
            }
            _ => {}
        }
        device
    }

    /// The customer's trust, with the denylist the attack gave it. The agent's own checks use
    /// [`Scenario::trust`], so the customer's side is what refuses these attacks.
    fn customer_trust(&self, tamper: Option<Tamper>) -> Trust {
        let mut list = self.denylist.clone();
        match tamper {
            Some(Tamper::RevokedAgent) => {
                list.sequence += 1;
                list.agent_keys.push(self.agent_key.public_key().key_id());
            }
            // Just over the day a phone may go without syncing.
            Some(Tamper::StaleDenylist) => list.issued_at = SCENARIO_NOW - 25 * 3600,
            Some(Tamper::CancelledVisit) => {
                list.sequence += 1;
                list.ticket_serials.push(self.ticket.serial);
            }
            _ => {}
        }
        self.trust_with(&list)
    }

    /// The agent's trust, with the denylist the attack gave it.
    fn agent_trust(&self, tamper: Option<Tamper>) -> Trust {
        let mut list = self.denylist.clone();
        if tamper == Some(Tamper::RevokedCustomer) {
            list.sequence += 1;
            list.customer_keys
                .push(self.customer_key.public_key().key_id());
        }
        self.trust_with(&list)
    }

    /// Leg 1: the customer shows a challenge.
    fn leg_challenge(
        &self,
        now: u64,
        rng: &mut impl Randomness,
        run: &mut Run,
    ) -> (customer::AwaitingProof, String) {
        let customer_pub = self.customer_key.public_key();
        let (awaiting, challenge) =
            customer::AwaitingProof::start(self.notice(), customer_pub, now, rng);
        let text = Code::Challenge(challenge).to_text();
        run.record(CodeKind::Challenge, &text);
        (awaiting, text)
    }

    /// Leg 2: the agent's device answers with its proof (or a doctored one, or one recorded
    /// elsewhere).
    fn leg_proof(
        &self,
        tamper: Option<Tamper>,
        device: &AgentDevice,
        challenge_text: &str,
        now: u64,
        rng: &mut impl Randomness,
        run: &mut Run,
    ) -> Result<(Option<agent::AwaitingResponse>, String), (Role, Error)> {
        let challenge = Code::from_text(challenge_text)
            .and_then(Code::into_challenge)
            .map_err(agent_err)?;
        let (awaiting, proof) = if device.hand_built {
            let proof = hand_built_proof(&challenge, &device.key, &device.ticket, now, rng);
            (None, proof)
        } else {
            let trust = self.agent_trust(tamper);
            let ready = agent::Ready::new(&device.ticket, device.customer_key, &trust)
                .map_err(agent_err)?;
            let to_sign = ready
                .receive_challenge(challenge, &trust, now, rng)
                .map_err(|r| agent_err(r.error))?;
            let signature = device.key.sign(&to_sign.bytes_to_sign());
            let (state, proof) = to_sign.finish(signature).map_err(|r| agent_err(r.error))?;
            run.agent_code = Some(state.confirmation_code());
            // The customer's notice names the original agent, so this device must show its
            // whole ticket for the customer to see whom it names.
            let proof = if tamper == Some(Tamper::WrongAgentKey) {
                state.proof_with_full_ticket()
            } else {
                proof
            };
            (Some(state), proof)
        };
        let mut text = Code::Proof(proof).to_text();
        match tamper {
            // Recorded at an earlier door: a complete, genuine proof for another challenge.
            Some(Tamper::ReplayedProof) => text = self.earlier_door().codes[1].text.clone(),
            Some(Tamper::MalformedCode) => {
                text.truncate(text.len() - 7);
                text.push_str("~~");
            }
            Some(Tamper::UnsupportedVersion) => text.replace_range(2..3, "3"),
            _ => {}
        }
        run.record(CodeKind::Proof, &text);
        Ok((awaiting, text))
    }

    /// Leg 3: the customer signs the response (or someone else does, or an old one is
    /// replayed).
    fn leg_response(
        &self,
        tamper: Option<Tamper>,
        agent_verified: customer::CodeShown,
        run: &mut Run,
    ) -> Result<String, (Role, Error)> {
        let response = if tamper == Some(Tamper::ForgedResponse) {
            let someone_else = SoftwareKey::generate(&mut SeededRandomness::new("someone else"));
            Response {
                agent_nonce: agent_verified.agent_nonce(),
                signature: someone_else.sign(&agent_verified.bytes_to_sign()),
            }
        } else {
            let signature = self.customer_key.sign(&agent_verified.bytes_to_sign());
            let (done, response) = agent_verified
                .finish(signature)
                .map_err(|r| customer_err(r.error))?;
            run.customer_done = Some(done);
            response
        };
        let mut text = Code::Response(response).to_text();
        if tamper == Some(Tamper::ReplayedResponse) {
            text = self.earlier_door().codes[2].text.clone();
        }
        run.record(CodeKind::Response, &text);
        Ok(text)
    }

    /// A genuine visit at another door, whose codes an attacker recorded.
    fn earlier_door(&self) -> Run {
        self.run(None, &mut SeededRandomness::new("earlier door"))
    }
}

/// The agent's device as an attack may have doctored it.
struct AgentDevice {
    key: SoftwareKey,
    ticket: Vec<u8>,
    customer_key: PublicKey,
    hand_built: bool,
}

fn agent_err(e: Error) -> (Role, Error) {
    (Role::Agent, e)
}

fn customer_err(e: Error) -> (Role, Error) {
    (Role::Customer, e)
}

/// The customer's phone checks the agent's proof.
fn customer_checks_proof(
    awaiting: customer::AwaitingProof,
    proof_text: &str,
    trust: &Trust,
    now: u64,
    run: &mut Run,
) -> Result<customer::CodeShown, (Role, Error)> {
    let proof = Code::from_text(proof_text)
        .and_then(Code::into_proof)
        .map_err(customer_err)?;
    let verified = awaiting
        .receive_proof(&proof, trust, now)
        .map_err(|r| customer_err(r.error))?;
    // The person at the door is the one in the photo.
    let shown = verified.person_confirmed();
    run.customer_code = Some(shown.confirmation_code());
    Ok(shown)
}

/// The agent's phone checks the response and signs the receipt (which the attack may alter on
/// its way to the customer).
fn agent_checks_response(
    tamper: Option<Tamper>,
    awaiting: Option<agent::AwaitingResponse>,
    response_text: &str,
    agent_key: &SoftwareKey,
    now: u64,
    run: &mut Run,
) -> Result<String, (Role, Error)> {
    let response = Code::from_text(response_text)
        .and_then(Code::into_response)
        .map_err(agent_err)?;
    let verified = awaiting
        .expect("a hand-built proof never passes the customer's checks")
        // The two people read out the same code.
        .codes_match()
        .receive_response(&response)
        .map_err(|r| agent_err(r.error))?;
    let extra_checks = [Check::IdentityDocument].into_iter().collect();
    let mut receipt_doc = verified.receipt(extra_checks, now + 40);
    if tamper == Some(Tamper::AgentOnlyReceipt) {
        // A doctored app keeps the transcript hash but drops the customer's answer.
        receipt_doc.customer_answer = None;
    }
    let receipt = receipt_doc
        .to_sign(agent_key.public_key())
        .sign_with(agent_key)
        .map_err(agent_err)?;
    run.agent_receipt = Some(
        SignedReceipt::verify(&receipt, &agent_key.public_key())
            .map_err(agent_err)?
            .receipt()
            .clone(),
    );
    let receipt = if tamper == Some(Tamper::TamperedReceipt) {
        alter_receipt_time(&receipt)
    } else {
        receipt
    };
    let text = encode_text(CodeKind::Receipt, &receipt);
    run.record(CodeKind::Receipt, &text);
    Ok(text)
}

/// The customer keeps the agent's receipt.
fn customer_keeps_receipt(receipt_text: &str, run: &mut Run) -> Result<(), (Role, Error)> {
    let receipt = Code::from_text(receipt_text)
        .and_then(Code::into_receipt)
        .map_err(customer_err)?;
    let done = run.customer_done.take().expect("set after leg 3");
    let done = done
        .accept_agent_receipt(&receipt)
        .map_err(|r| customer_err(r.error))?;
    run.customer_receipt = Some(done.receipt());
    run.customer_done = Some(done);
    Ok(())
}

fn sign(key: &SoftwareKey, ticket: &Ticket) -> Vec<u8> {
    ticket
        .to_sign(key.public_key())
        .sign_with(key)
        .expect("software key signs its own document")
}

/// A proof built outside the agent state machine, as a doctored device would: it signs whatever
/// ticket it holds with whatever key it has, and always sends the whole ticket.
fn hand_built_proof(
    challenge: &Challenge,
    key: &SoftwareKey,
    ticket: &[u8],
    now: u64,
    rng: &mut impl Randomness,
) -> Proof {
    let ephemeral = EphemeralKey::generate(rng);
    let mut agent_nonce = [0u8; NONCE_LEN];
    rng.fill_bytes(&mut agent_nonce);
    let digest = crate::keys::sha256(&[ticket]);
    let ephemeral_key = ephemeral.public_key();
    let signed = proof_signed_bytes(challenge, &digest, &ephemeral_key, &agent_nonce, now);
    Proof {
        ticket: TicketRef::Full(ticket.to_vec()),
        customer_nonce: challenge.nonce,
        ephemeral_key,
        agent_nonce,
        time: now,
        signature: key.sign(&signed),
    }
}

/// Changes one letter of the agent's name inside a signed ticket, leaving the signature.
fn alter_ticket_name(encoded: &[u8]) -> Vec<u8> {
    let mut altered = encoded.to_vec();
    if let Some(pos) = altered.windows(5).position(|w| w == b"Sanne") {
        altered[pos] = b'D';
    }
    altered
}

/// Moves the receipt's time by a second, leaving the signature.
fn alter_receipt_time(encoded: &[u8]) -> Vec<u8> {
    let mut altered = encoded.to_vec();
    // A byte of the payload's last field, just before the 66-byte signature.
    let at = altered.len() - 66 - 1;
    altered[at] ^= 1;
    altered
}

/// One code as it would appear on a screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedCode {
    pub kind: CodeKind,
    pub text: String,
}

/// Everything a run produced.
#[derive(Debug, Default)]
pub struct Run {
    pub codes: Vec<RecordedCode>,
    pub customer_code: Option<ConfirmationCode>,
    pub agent_code: Option<ConfirmationCode>,
    pub customer_done: Option<customer::Done>,
    pub customer_receipt: Option<CustomerReceipt>,
    pub agent_receipt: Option<Receipt>,
    pub refused: Option<(Role, Error)>,
}

impl Run {
    fn record(&mut self, kind: CodeKind, text: &str) {
        self.codes.push(RecordedCode {
            kind,
            text: text.into(),
        });
    }

    pub fn completed(&self) -> bool {
        self.refused.is_none() && self.customer_receipt.is_some()
    }
}
