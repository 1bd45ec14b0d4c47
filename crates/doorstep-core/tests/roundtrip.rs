//! Every message and document survives encode → decode unchanged, as bytes and as text, and no
//! input makes a decoder panic.

use doorstep_core::codec::{Code, decode_text};
use doorstep_core::enrolment::{EnrolmentCode, EnrolmentInvite};
use doorstep_core::handshake::{Challenge, Proof, Response, TicketRef};
use doorstep_core::notice::{Denylist, Notice, VerifiedNotice};
use doorstep_core::receipt::{SignedReceipt, UnverifiedOutcome};
use doorstep_core::ticket::{CheckSet, FieldSet, SignedTicket, Ticket, VisitId};
use doorstep_core::{KeyId, PublicKey, SeededRandomness, Signature, SoftwareKey, base45};
use proptest::prelude::*;

fn key(seed: u64) -> SoftwareKey {
    SoftwareKey::generate(&mut SeededRandomness::new(&seed.to_string()))
}

fn public_key() -> impl Strategy<Value = PublicKey> {
    any::<u64>().prop_map(|s| key(s).public_key())
}

fn signature() -> impl Strategy<Value = Signature> {
    (any::<u64>(), any::<[u8; 8]>()).prop_map(|(s, m)| key(s).sign(&m))
}

fn ticket() -> impl Strategy<Value = Ticket> {
    (
        (
            any::<u64>(),
            any::<[u8; 16]>(),
            0u64..u32::MAX as u64,
            any::<u32>(),
        ),
        (
            any::<u64>(),
            any::<u64>(),
            "[ -~]{0,32}",
            "\\PC{0,64}",
            "\\PC{0,64}",
        ),
        (
            any::<[u8; 16]>(),
            public_key(),
            any::<[u8; 8]>(),
            0u16..32,
            0u16..64,
        ),
    )
        .prop_map(
            |(
                (serial, visit, window_start, window_minutes),
                (not_before, not_after, agent_id, agent_name, on_behalf_of),
                (photo_hash, agent_key, customer, checks, fields),
            )| Ticket {
                serial,
                visit_id: VisitId(visit),
                window_start,
                window_minutes,
                not_before,
                not_after,
                agent_id,
                agent_name,
                on_behalf_of,
                photo_hash,
                agent_key,
                customer_key_id: KeyId(customer),
                checks: CheckSet::from_bits(checks.into()).unwrap(),
                fields: FieldSet::from_bits(fields.into()).unwrap(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn tickets_round_trip(t in ticket(), org in any::<u64>()) {
        let org = key(org);
        let encoded = t.to_sign(org.public_key()).sign_with(&org).unwrap();
        let verified = SignedTicket::verify(&encoded, &[org.public_key()]).unwrap();
        prop_assert_eq!(verified.ticket(), &t);
        prop_assert_eq!(Ticket::decode_payload(&t.encode_payload()).unwrap(), t);
    }

    #[test]
    fn notices_round_trip(t in ticket(), purpose in "\\PC{0,200}", days in any::<u32>(), phone in "[0-9 +]{0,32}") {
        let org = key(1);
        let ticket = t.to_sign(org.public_key()).sign_with(&org).unwrap();
        let notice = Notice { ticket, purpose, retention_days: days, official_phone: phone, organisation_name: "Org".into() };
        let encoded = notice.to_sign(org.public_key()).sign_with(&org).unwrap();
        let verified = VerifiedNotice::verify(&encoded, &[org.public_key()]).unwrap();
        prop_assert_eq!(verified.notice(), &notice);
    }

    #[test]
    fn denylists_round_trip(issued in any::<u64>(), seq in any::<u64>(),
                            agents in prop::collection::vec(any::<[u8; 8]>(), 0..20),
                            serials in prop::collection::vec(any::<u64>(), 0..20)) {
        let org = key(2);
        let list = Denylist {
            issued_at: issued,
            sequence: seq,
            agent_keys: agents.iter().copied().map(KeyId).collect(),
            customer_keys: agents.into_iter().rev().map(KeyId).collect(),
            ticket_serials: serials,
        };
        let encoded = list.to_sign(org.public_key()).sign_with(&org).unwrap();
        prop_assert_eq!(Denylist::verify(&encoded, &[org.public_key()]).unwrap(), list);
    }

    #[test]
    fn challenges_round_trip(visit in any::<[u8; 16]>(), nonce in any::<[u8; 16]>(), k in public_key(), time in any::<u64>(), holds in any::<bool>()) {
        let c = Challenge { visit_id: VisitId(visit), nonce, ephemeral_key: k, time, holds_notice: holds };
        prop_assert_eq!(Challenge::decode(&c.encode()).unwrap(), c.clone());
        prop_assert_eq!(Code::from_text(&Code::Challenge(c.clone()).to_text()).unwrap(), Code::Challenge(c));
    }

    #[test]
    fn proofs_round_trip(t in ticket(), full in any::<bool>(), n1 in any::<[u8; 16]>(), n2 in any::<[u8; 16]>(),
                         k in public_key(), time in any::<u64>(), sig in signature()) {
        let org = key(3);
        let ticket = if full {
            TicketRef::Full(t.to_sign(org.public_key()).sign_with(&org).unwrap())
        } else {
            TicketRef::Digest(n1)
        };
        let p = Proof { ticket, customer_nonce: n1, ephemeral_key: k, agent_nonce: n2, time, signature: sig };
        prop_assert_eq!(Proof::decode(&p.encode()).unwrap(), p.clone());
        prop_assert_eq!(Code::from_text(&Code::Proof(p.clone()).to_text()).unwrap(), Code::Proof(p));
    }

    #[test]
    fn responses_round_trip(n in any::<[u8; 16]>(), sig in signature()) {
        let r = Response { agent_nonce: n, signature: sig };
        prop_assert_eq!(Response::decode(&r.encode()).unwrap(), r.clone());
        prop_assert_eq!(Code::from_text(&Code::Response(r.clone()).to_text()).unwrap(), Code::Response(r));
    }

    #[test]
    fn receipts_round_trip(t in ticket(), outcome in 0usize..4, checks in 0u16..32, hash in proptest::option::of(any::<[u8; 32]>()), time in any::<u64>()) {
        let org = key(4);
        let agent = key(5);
        let ticket = SignedTicket::verify(&t.to_sign(org.public_key()).sign_with(&org).unwrap(), &[org.public_key()]).unwrap();
        let outcome = [UnverifiedOutcome::NotHome, UnverifiedOutcome::Refused, UnverifiedOutcome::Failed, UnverifiedOutcome::Suspicious][outcome];
        let r = doorstep_core::receipt::Receipt::without_handshake(&ticket, outcome, CheckSet::from_bits(checks.into()).unwrap(), hash, time);
        let encoded = r.to_sign(agent.public_key()).sign_with(&agent).unwrap();
        let back = SignedReceipt::verify(&encoded, &agent.public_key()).unwrap();
        prop_assert_eq!(back.receipt(), &r);
    }

    #[test]
    fn enrolment_invites_round_trip(url in "\\PC{0,200}", org in "\\PC{0,64}", code in any::<[u8; 10]>()) {
        let invite = EnrolmentInvite { server_url: url, organisation_name: org, code: EnrolmentCode(code) };
        prop_assert_eq!(Code::from_text(&Code::Enrolment(invite.clone()).to_text()).unwrap(), Code::Enrolment(invite));
        prop_assert_eq!(EnrolmentCode::from_typed(&EnrolmentCode(code).to_typed()).unwrap(), EnrolmentCode(code));
    }

    #[test]
    fn base45_round_trips(b in prop::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(base45::decode(&base45::encode(&b)).unwrap(), b);
    }

    #[test]
    fn no_text_makes_the_decoder_panic(text in "\\PC{0,400}") {
        let _ = Code::from_text(&text);
        let _ = decode_text(&text);
    }

    #[test]
    fn no_bytes_make_the_decoders_panic(b in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = Challenge::decode(&b);
        let _ = Proof::decode(&b);
        let _ = Response::decode(&b);
        let _ = Ticket::decode_payload(&b);
        let _ = SignedTicket::verify(&b, &[]);
        let _ = SignedReceipt::peek(&b);
        let _ = EnrolmentInvite::decode(&b);
        let _ = EnrolmentCode::from_typed(&String::from_utf8_lossy(&b));
        let text = format!("DS2P:{}", base45::encode(&b));
        let _ = Code::from_text(&text);
    }
}

#[test]
fn a_flipped_bit_anywhere_in_a_ticket_is_refused() {
    let org = key(9);
    let t = doorstep_core::scenario::Scenario::new("bits").ticket;
    let encoded = t.to_sign(org.public_key()).sign_with(&org).unwrap();
    for i in 0..encoded.len() * 8 {
        let mut damaged = encoded.clone();
        damaged[i / 8] ^= 1 << (i % 8);
        assert!(
            SignedTicket::verify(&damaged, &[org.public_key()]).is_err(),
            "bit {i}"
        );
    }
}

/// Found by the cbor_messages fuzz target: an ephemeral key in SEC1 "compact" form (tag 0x05)
/// decoded, then re-encoded differently, giving one proof two encodings.
#[test]
fn a_proof_with_a_compact_form_key_is_refused() {
    let run = doorstep_core::scenario::Scenario::new("compact")
        .run(None, &mut SeededRandomness::new("compact"));
    let (_, mut bytes) = decode_text(&run.codes[1].text).unwrap();
    let proof = Proof::decode(&bytes).unwrap();
    let key = proof.ephemeral_key.as_bytes();
    let at = bytes.windows(key.len()).position(|w| w == key).unwrap();
    bytes[at] = 0x05;
    assert!(Proof::decode(&bytes).is_err());
}
