//! The published test vectors (tests/vectors/doorstep-v2.json) replayed through this crate:
//! what another implementation must reproduce, byte for byte.

use doorstep_core::codec::{Code, CodeKind, encode_text};
use doorstep_core::customer::AwaitingProof;
use doorstep_core::notice::VerifiedNotice;
use doorstep_core::scenario::{Scenario, Tamper};
use doorstep_core::ticket::SignedTicket;
use doorstep_core::{
    Policy, PublicKey, Randomness, SeededRandomness, SoftwareKey, Trust, agent, base45,
};
use serde_json::Value;

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/doorstep-v2.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn bytes(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn key(v: &Value) -> SoftwareKey {
    let k = SoftwareKey::from_bytes(&bytes(&v["private"])).unwrap();
    assert_eq!(k.public_key().as_bytes().to_vec(), bytes(&v["public"]));
    assert_eq!(
        k.public_key().key_id().to_string(),
        v["key_id"].as_str().unwrap()
    );
    k
}

/// Hands out the recorded draws in order, and fails if the sizes differ.
struct Replay(std::collections::VecDeque<Vec<u8>>);

impl Randomness for Replay {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let next = self.0.pop_front().expect("no more recorded draws");
        dest.copy_from_slice(&next);
    }
}

#[test]
fn the_handshake_reproduces_byte_for_byte() {
    let v = vectors();
    let org = key(&v["keys"]["organisation"]);
    let agent_key = key(&v["keys"]["agent"]);
    let customer_key = key(&v["keys"]["customer"]);
    let org_keys: Vec<PublicKey> = vec![org.public_key()];
    let times = &v["times"];
    let customer_now = times["customer_now"].as_u64().unwrap();
    let agent_now = times["agent_now"].as_u64().unwrap();

    let ticket_bytes = bytes(&v["documents"]["ticket"]["encoded"]);
    let ticket = SignedTicket::verify(&ticket_bytes, &org_keys).unwrap();
    assert_eq!(
        ticket.digest().to_vec(),
        bytes(&v["documents"]["ticket"]["sha256"])
    );
    let ticket_to_sign = ticket.ticket().to_sign(org.public_key()).bytes();
    assert_eq!(ticket_to_sign, bytes(&v["documents"]["ticket"]["to_sign"]));
    let notice =
        VerifiedNotice::verify(&bytes(&v["documents"]["notice"]["encoded"]), &org_keys).unwrap();
    let mut trust = Trust::new(org_keys.clone(), Policy::default());
    trust
        .install_denylist(&bytes(&v["documents"]["denylist"]["encoded"]))
        .unwrap();

    let h = &v["handshake"];
    let draws = h["random_draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(bytes)
        .collect();
    let mut rng = Replay(draws);
    let (awaiting, challenge) =
        AwaitingProof::start(notice, customer_key.public_key(), customer_now, &mut rng);
    assert_eq!(challenge.encode(), bytes(&h["challenge"]["cbor"]));
    assert_eq!(
        Code::Challenge(challenge.clone()).to_text(),
        h["challenge"]["text"].as_str().unwrap()
    );

    let ready = agent::Ready::new(&ticket_bytes, customer_key.public_key(), &trust).unwrap();
    let to_sign = ready
        .receive_challenge(challenge, &trust, agent_now, &mut rng)
        .unwrap();
    assert_eq!(to_sign.bytes_to_sign(), bytes(&h["proof_to_sign"]));
    let (awaiting_response, proof) = to_sign
        .finish(agent_key.sign(&bytes(&h["proof_to_sign"])))
        .unwrap();
    assert_eq!(proof.encode(), bytes(&h["proof"]["cbor"]));
    assert_eq!(
        awaiting_response.proof_with_full_ticket().encode(),
        bytes(&h["proof_with_full_ticket"]["cbor"])
    );

    let verified = awaiting
        .receive_proof(&proof, &trust, customer_now)
        .unwrap()
        .person_confirmed();
    assert_eq!(verified.bytes_to_sign(), bytes(&h["response_to_sign"]));
    let (done, response) = verified
        .finish(customer_key.sign(&bytes(&h["response_to_sign"])))
        .unwrap();
    assert_eq!(response.encode(), bytes(&h["response"]["cbor"]));
    assert_eq!(
        u64::from(done.confirmation_code().value()),
        h["confirmation_code"].as_u64().unwrap()
    );
    assert_eq!(
        done.receipt().transcript_hash.to_vec(),
        bytes(&h["transcript_hash"])
    );

    let customer_verified = awaiting_response
        .codes_match()
        .receive_response(&response)
        .unwrap();
    let receipt_time = times["receipt_time"].as_u64().unwrap();
    let receipt_doc = customer_verified.receipt_to_sign(Default::default(), receipt_time);
    assert_eq!(receipt_doc.bytes(), bytes(&h["receipt_to_sign"]));
    let receipt = receipt_doc.sign_with(&agent_key).unwrap();
    assert_eq!(receipt, bytes(&h["receipt"]["cbor"]));
    assert_eq!(
        encode_text(CodeKind::Receipt, &receipt),
        h["receipt"]["text"].as_str().unwrap()
    );
    assert!(rng.0.is_empty(), "every recorded draw is used");
}

#[test]
fn every_refusal_reproduces_with_its_error() {
    let v = vectors();
    let scenario = Scenario::new(v["scenario_seed"].as_str().unwrap());
    for r in v["refusals"].as_array().unwrap() {
        let tamper = Tamper::from_name(r["tamper"].as_str().unwrap()).unwrap();
        let seed = r["randomness_seed"].as_str().unwrap();
        let run = scenario.run(Some(tamper), &mut SeededRandomness::new(seed));
        let texts: Vec<_> = run.codes.iter().map(|c| c.text.as_str()).collect();
        let expected: Vec<_> = r["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        assert_eq!(texts, expected, "{}", tamper.name());
        let (by, error) = run.refused.unwrap();
        assert_eq!(by.as_str(), r["refused_by"].as_str().unwrap());
        assert_eq!(error.kind(), r["error_kind"].as_str().unwrap());
    }
}

#[test]
fn base45_samples_agree() {
    for s in vectors()["base45"].as_array().unwrap() {
        let raw = bytes(&s["bytes"]);
        let text = s["text"].as_str().unwrap();
        assert_eq!(base45::encode(&raw), text);
        assert_eq!(base45::decode(text).unwrap(), raw);
    }
}
