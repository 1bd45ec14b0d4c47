//! Complete handshakes, resumption after a restart, and each side's own checks.

use doorstep_core::agent;
use doorstep_core::codec::{Code, CodeKind};
use doorstep_core::customer;
use doorstep_core::handshake::{Challenge, Proof, TicketRef};
use doorstep_core::receipt::{Outcome, Receipt, SignedReceipt, UnverifiedOutcome};
use doorstep_core::scenario::{SCENARIO_NOW, Scenario};
use doorstep_core::ticket::{Check, CustomerField, SignedTicket};
use doorstep_core::{Error, PublicKey, SeededRandomness, Signature, SoftwareKey, Trust};

#[test]
fn a_visit_completes_with_matching_codes_and_receipts() {
    let scenario = Scenario::new("complete");
    let run = scenario.run(None, &mut SeededRandomness::new("run"));
    assert!(run.refused.is_none(), "{:?}", run.refused);
    let kinds: Vec<_> = run.codes.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            CodeKind::Challenge,
            CodeKind::Proof,
            CodeKind::Response,
            CodeKind::Receipt
        ]
    );
    let (a, c) = (run.agent_code.unwrap(), run.customer_code.unwrap());
    assert_eq!(a, c);
    assert!(a.value() < 1_000_000);

    let agent_receipt = run.agent_receipt.unwrap();
    assert_eq!(agent_receipt.outcome(), Outcome::Verified);
    assert!(agent_receipt.checks_done().contains(Check::DeviceKey));
    assert!(
        agent_receipt
            .checks_done()
            .contains(Check::IdentityDocument)
    );
    let customer_receipt = run.customer_receipt.unwrap();
    assert_eq!(customer_receipt.visit_id, scenario.ticket.visit_id);
    assert_eq!(
        Some(customer_receipt.transcript_hash),
        agent_receipt.transcript_hash()
    );
    assert!(customer_receipt.agent_receipt.is_some());
}

#[test]
fn different_sessions_give_different_codes_and_transcripts() {
    let scenario = Scenario::new("complete");
    let one = scenario.run(None, &mut SeededRandomness::new("one"));
    let two = scenario.run(None, &mut SeededRandomness::new("two"));
    assert_ne!(one.codes[0].text, two.codes[0].text);
    assert_ne!(
        one.customer_receipt.unwrap().transcript_hash,
        two.customer_receipt.unwrap().transcript_hash
    );
}

/// Drives a handshake by hand, writing every state to JSON and reading it back between steps,
/// as an app killed at the door would.
#[test]
fn every_state_survives_a_restart() {
    fn reload<T: serde::Serialize + serde::de::DeserializeOwned>(state: T) -> T {
        serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap()
    }
    let s = Scenario::new("resume");
    let trust = s.trust();
    let mut rng = SeededRandomness::new("resume rng");
    let (c1, challenge) =
        customer::AwaitingProof::start(s.notice(), s.customer_key.public_key(), s.now, &mut rng);
    let c1 = reload(c1);
    assert_eq!(c1.challenge(), &challenge);

    let a0 =
        reload(agent::Ready::new(&s.ticket_encoded, s.customer_key.public_key(), &trust).unwrap());
    let a1 = reload(
        a0.receive_challenge(challenge, &trust, s.now, &mut rng)
            .unwrap(),
    );
    let sig = s.agent_key.sign(&a1.bytes_to_sign());
    let (a2, proof) = a1.finish(sig).unwrap();
    let a2 = reload(a2);
    assert_eq!(a2.proof(), &proof);
    assert!(
        matches!(proof.ticket, TicketRef::Digest(_)),
        "the customer holds the notice"
    );

    let c2 = reload(c1.receive_proof(&proof, &trust, s.now).unwrap());
    assert_eq!(c2.ticket().ticket().agent_name, "Sanne de Vries");
    let c2 = reload(c2.person_confirmed());
    assert_eq!(c2.confirmation_code(), a2.confirmation_code());
    let sig = s.customer_key.sign(&c2.bytes_to_sign());
    let (c3, response) = c2.finish(sig).unwrap();
    let c3 = reload(c3);
    assert_eq!(c3.response(), &response);

    let a2 = reload(a2.codes_match());
    let a3 = reload(a2.receive_response(&response).unwrap());
    assert_eq!(a3.confirmation_code(), c3.confirmation_code());
    assert!(a3.allowed_fields().contains(CustomerField::CardLastFour));
    assert!(!a3.allowed_fields().contains(CustomerField::DateOfBirth));
}

/// One door: the scenario's parties with a fresh handshake under way.
struct Door {
    s: Scenario,
    trust: Trust,
    rng: SeededRandomness,
}

impl Door {
    fn new(label: &str) -> Self {
        let s = Scenario::new(label);
        let trust = s.trust();
        Self {
            s,
            trust,
            rng: SeededRandomness::new("door rng"),
        }
    }

    fn challenge(&mut self, with_notice: bool) -> (customer::AwaitingProof, Challenge) {
        let key = self.s.customer_key.public_key();
        if with_notice {
            customer::AwaitingProof::start(self.s.notice(), key, self.s.now, &mut self.rng)
        } else {
            customer::AwaitingProof::start_without_notice(
                self.s.ticket.visit_id,
                key,
                self.s.now,
                &mut self.rng,
            )
        }
    }

    fn proof_to_sign(&mut self, challenge: Challenge) -> agent::ProofToSign {
        let s = &self.s;
        agent::Ready::new(&s.ticket_encoded, s.customer_key.public_key(), &self.trust)
            .unwrap()
            .receive_challenge(challenge, &self.trust, s.now, &mut self.rng)
            .unwrap()
    }

    fn proof(&mut self, challenge: Challenge) -> (agent::AwaitingResponse, Proof) {
        let to_sign = self.proof_to_sign(challenge);
        let sig = self.s.agent_key.sign(&to_sign.bytes_to_sign());
        to_sign.finish(sig).unwrap()
    }
}

#[test]
fn a_customer_without_the_notice_gets_and_checks_the_whole_ticket() {
    let mut door = Door::new("no notice");
    let (c1, challenge) = door.challenge(false);
    assert!(!challenge.holds_notice);
    let (_, proof) = door.proof(challenge);
    assert!(matches!(proof.ticket, TicketRef::Full(_)));
    let c2 = c1.receive_proof(&proof, &door.trust, door.s.now).unwrap();
    assert_eq!(c2.ticket().ticket(), &door.s.ticket);
}

#[test]
fn a_digest_the_customer_does_not_hold_is_an_unknown_ticket() {
    let mut door = Door::new("unknown ticket");
    let (c1, challenge) = door.challenge(true);
    let (a2, mut proof) = door.proof(challenge);
    proof.ticket = TicketRef::Digest([7; 16]);
    let refused = c1
        .receive_proof(&proof, &door.trust, door.s.now)
        .unwrap_err();
    assert_eq!(refused.error, Error::UnknownTicket);
    // The same session takes the full-ticket form of the same proof.
    let c2 = refused
        .session
        .receive_proof(&a2.proof_with_full_ticket(), &door.trust, door.s.now)
        .unwrap();
    assert_eq!(
        c2.person_confirmed().confirmation_code(),
        a2.confirmation_code()
    );
}

#[test]
fn a_refused_step_returns_the_session_to_try_again() {
    let mut door = Door::new("retry");
    let (c1, challenge) = door.challenge(true);
    let (_, proof) = door.proof(challenge);
    let mut damaged = proof.clone();
    damaged.time += 1;
    let refused = c1
        .receive_proof(&damaged, &door.trust, door.s.now)
        .unwrap_err();
    assert_eq!(refused.error, Error::BadProofSignature);
    assert!(
        refused
            .session
            .receive_proof(&proof, &door.trust, door.s.now)
            .is_ok()
    );
}

#[test]
fn a_signature_from_the_wrong_hardware_key_is_caught_before_anything_is_shown() {
    let mut door = Door::new("signer");
    let (_, challenge) = door.challenge(true);
    let to_sign = door.proof_to_sign(challenge);
    let wrong = door.s.customer_key.sign(&to_sign.bytes_to_sign());
    assert_eq!(
        to_sign.finish(wrong).unwrap_err().error,
        Error::SignerMismatch
    );
}

#[test]
fn the_agent_refuses_a_challenge_for_another_visit_or_with_an_expired_ticket() {
    let s = Scenario::new("agent checks");
    let trust = s.trust();
    let mut rng = SeededRandomness::new("rng");
    let (_, mut challenge) =
        customer::AwaitingProof::start(s.notice(), s.customer_key.public_key(), s.now, &mut rng);
    let ready = agent::Ready::new(&s.ticket_encoded, s.customer_key.public_key(), &trust).unwrap();
    let late = SCENARIO_NOW + 12 * 3600;
    challenge.time = late;
    let refused = ready
        .receive_challenge(challenge.clone(), &trust, late, &mut rng)
        .unwrap_err();
    assert_eq!(refused.error, Error::TicketExpired);
    challenge.visit_id.0[0] ^= 1;
    let refused = refused
        .session
        .receive_challenge(challenge, &trust, s.now, &mut rng)
        .unwrap_err();
    assert_eq!(refused.error, Error::WrongVisit);
}

#[test]
fn the_agent_refuses_a_revoked_customer_device() {
    let s = Scenario::new("revoked customer");
    let mut list = s.denylist.clone();
    list.sequence += 1;
    list.customer_keys
        .push(s.customer_key.public_key().key_id());
    let mut trust = s.trust();
    let encoded = list
        .to_sign(s.organisation_key.public_key())
        .sign_with(&s.organisation_key)
        .unwrap();
    trust.install_denylist(&encoded).unwrap();
    let mut rng = SeededRandomness::new("rng");
    let (_, challenge) =
        customer::AwaitingProof::start(s.notice(), s.customer_key.public_key(), s.now, &mut rng);
    let ready = agent::Ready::new(&s.ticket_encoded, s.customer_key.public_key(), &trust).unwrap();
    let refused = ready
        .receive_challenge(challenge, &trust, s.now, &mut rng)
        .unwrap_err();
    assert!(matches!(refused.error, Error::Revoked { .. }));
}

#[test]
fn an_older_denylist_cannot_replace_a_newer_one() {
    let s = Scenario::new("denylist order");
    let mut newer = s.denylist.clone();
    newer.sequence += 1;
    newer.agent_keys.push(s.agent_key.public_key().key_id());
    let sign = |l: &doorstep_core::notice::Denylist| {
        l.to_sign(s.organisation_key.public_key())
            .sign_with(&s.organisation_key)
            .unwrap()
    };
    let mut trust = s.trust();
    trust.install_denylist(&sign(&newer)).unwrap();
    trust.install_denylist(&sign(&s.denylist)).unwrap();
    assert_eq!(trust.denylist.as_ref().unwrap().sequence, newer.sequence);
}

#[test]
fn codes_of_one_kind_are_refused_where_another_is_expected() {
    let s = Scenario::new("kinds");
    let run = s.run(None, &mut SeededRandomness::new("rng"));
    let challenge = Code::from_text(&run.codes[0].text).unwrap();
    assert_eq!(
        challenge.into_proof().unwrap_err(),
        Error::WrongMessageKind {
            expected: "proof",
            found: "challenge"
        }
    );
}

/// What the back-office checks of an uploaded receipt against the ticket it issued.
#[test]
fn a_verified_receipt_proves_both_people_and_claims_no_check_the_ticket_lacks() {
    let mut door = Door::new("both sign");
    let (c1, challenge) = door.challenge(true);
    let (a2, proof) = door.proof(challenge);
    let shown = c1
        .receive_proof(&proof, &door.trust, door.s.now)
        .unwrap()
        .person_confirmed();
    let sig = door.s.customer_key.sign(&shown.bytes_to_sign());
    let (_, response) = shown.finish(sig).unwrap();
    let verified = a2.codes_match().receive_response(&response).unwrap();
    let ticket =
        SignedTicket::verify(&door.s.ticket_encoded, &door.trust.organisation_keys).unwrap();
    let customer_key = door.s.customer_key.public_key();
    let ecdsa = |k: &PublicKey, m: &[u8], s: &Signature| k.verify(m, s);

    let receipt = verified.receipt(Default::default(), door.s.now);
    assert_eq!(receipt.outcome(), Outcome::Verified);
    assert_eq!(receipt.transcript_hash(), Some(verified.transcript_hash()));
    receipt
        .check_against_ticket(&ticket, Some(&customer_key), &ecdsa)
        .unwrap();

    // Signed by the agent and read back, it still carries the customer's answer.
    let encoded = receipt
        .to_sign(door.s.agent_key.public_key())
        .sign_with(&door.s.agent_key)
        .unwrap();
    let (_, decoded) = SignedReceipt::peek(&encoded).unwrap();
    assert_eq!(decoded, receipt);

    // The same answer does not pass for another customer's key...
    let stranger = SoftwareKey::generate(&mut SeededRandomness::new("stranger"));
    assert_eq!(
        receipt.check_against_ticket(&ticket, Some(&stranger.public_key()), &ecdsa),
        Err(Error::WrongCustomerKey)
    );
    // ...nor for a ticket the customer never answered.
    let mut other = door.s.ticket.clone();
    other.serial += 1;
    let other = other
        .to_sign(door.s.organisation_key.public_key())
        .sign_with(&door.s.organisation_key)
        .unwrap();
    let other = SignedTicket::verify(&other, &door.trust.organisation_keys).unwrap();
    let answer = receipt.customer_answer().unwrap();
    assert!(answer.signed_by(&customer_key, &ticket.digest(), &ecdsa));
    assert!(!answer.signed_by(&customer_key, &other.digest(), &ecdsa));
    assert_eq!(
        receipt.check_against_ticket(&other, Some(&customer_key), &ecdsa),
        Err(Error::UnknownTicket)
    );

    // A receipt claiming a check the visit did not allow is refused, whatever its outcome.
    let claims_more = Receipt::without_handshake(
        &ticket,
        UnverifiedOutcome::Refused,
        [Check::AddressConfirmation].into_iter().collect(),
        None,
        door.s.now,
    );
    assert_eq!(
        claims_more.check_against_ticket(&ticket, Some(&customer_key), &ecdsa),
        Err(Error::ChecksNotAllowed)
    );
}
