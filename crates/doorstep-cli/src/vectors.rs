//! Test vectors: fixed keys, fixed randomness, deterministic (RFC 6979) signatures, and every
//! intermediate byte string, so another implementation (the web page's WebAssembly, an NFC
//! applet, a mobile build) can prove it agrees byte for byte.

use doorstep_core::codec::{Code, CodeKind, encode_text};
use doorstep_core::customer::AwaitingProof;
use doorstep_core::scenario::{SCENARIO_NOW, Scenario, Tamper};
use doorstep_core::{Randomness, SeededRandomness, SoftwareKey, agent, base45};
use serde_json::{Value, json};

/// Passes randomness through and remembers every draw, in order.
struct Recording<R> {
    inner: R,
    draws: Vec<String>,
}

impl<R: Randomness> Randomness for Recording<R> {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.inner.fill_bytes(dest);
        self.draws.push(hex::encode(&*dest));
    }
}

fn key(k: &SoftwareKey) -> Value {
    json!({
        "private": hex::encode(k.to_bytes()),
        "public": hex::encode(k.public_key().as_bytes()),
        "key_id": k.public_key().key_id().to_string(),
    })
}

fn code(kind: CodeKind, bytes: &[u8]) -> Value {
    json!({ "cbor": hex::encode(bytes), "text": encode_text(kind, bytes) })
}

pub fn build() -> Value {
    let s = Scenario::new("doorstep test vectors");
    let trust = s.trust();
    let mut rng = Recording {
        inner: SeededRandomness::new("doorstep test vectors: handshake"),
        draws: Vec::new(),
    };
    let customer_now = s.now;
    let agent_now = s.now + 20;
    let receipt_time = s.now + 60;

    let (awaiting, challenge) = AwaitingProof::start(
        s.notice(),
        s.customer_key.public_key(),
        customer_now,
        &mut rng,
    );
    let ready = agent::Ready::new(&s.ticket_encoded, s.customer_key.public_key(), &trust)
        .expect("the scenario's ticket verifies");
    let to_sign = ready
        .receive_challenge(challenge.clone(), &trust, agent_now, &mut rng)
        .expect("the challenge passes");
    let proof_to_sign = to_sign.bytes_to_sign();
    let (awaiting_response, proof) = to_sign
        .finish(s.agent_key.sign(&proof_to_sign))
        .expect("the agent's key signs");
    let full_proof = awaiting_response.proof_with_full_ticket();
    let verified = awaiting
        .receive_proof(&proof, &trust, customer_now)
        .expect("the proof passes")
        .person_confirmed();
    let response_to_sign = verified.bytes_to_sign();
    let (done, response) = verified
        .finish(s.customer_key.sign(&response_to_sign))
        .expect("the customer's key signs");
    let customer_verified = awaiting_response
        .codes_match()
        .receive_response(&response)
        .expect("the response passes");
    let receipt_doc = customer_verified.receipt_to_sign(Default::default(), receipt_time);
    let receipt_to_sign = receipt_doc.bytes();
    let receipt = receipt_doc.sign_with(&s.agent_key).expect("agent signs");
    let done = done
        .accept_agent_receipt(&receipt)
        .expect("receipt matches");

    let denylist = s
        .denylist
        .to_sign(s.organisation_key.public_key())
        .sign_with(&s.organisation_key)
        .expect("organisation signs");
    let ticket_doc = s.ticket.to_sign(s.organisation_key.public_key());

    let refusals: Vec<Value> = Tamper::ALL
        .iter()
        .map(|&t| {
            let run = s.run(Some(t), &mut SeededRandomness::new(t.name()));
            let (by, error) = run.refused.expect("every attack is refused");
            json!({
                "tamper": t.name(),
                "attack": t.description(),
                "randomness_seed": t.name(),
                "codes": run.codes.iter().map(|c| c.text.clone()).collect::<Vec<_>>(),
                "refused_by": by.as_str(),
                "error_kind": error.kind(),
            })
        })
        .collect();

    let base45_samples: Vec<Value> = [&b""[..], b"\x00", b"\xff\xff", b"ietf!", b"Hello!!"]
        .iter()
        .map(|b| json!({ "bytes": hex::encode(b), "text": base45::encode(b) }))
        .collect();

    json!({
        "format": "doorstep test vectors, protocol version 2",
        "about": "Keys are P-256; signatures are deterministic ECDSA-SHA256 (RFC 6979) with low s; \
                  codes are 'DS2' + kind letter + ':' + Base45(deterministic CBOR). \
                  random_draws lists every random byte string the handshake consumed, in order: \
                  customer ephemeral secret, customer nonce, agent ephemeral secret, agent nonce. \
                  Refusals are replayed with the scenario's deterministic randomness seeded by the attack's name.",
        "scenario_seed": "doorstep test vectors",
        "times": {
            "scenario_now": SCENARIO_NOW,
            "customer_now": customer_now,
            "agent_now": agent_now,
            "receipt_time": receipt_time,
        },
        "keys": {
            "organisation": key(&s.organisation_key),
            "agent": key(&s.agent_key),
            "customer": key(&s.customer_key),
        },
        "documents": {
            "ticket": {
                "to_sign": hex::encode(ticket_doc.bytes()),
                "encoded": hex::encode(&s.ticket_encoded),
                "sha256": hex::encode(doorstep_core::keys::sha256(&[&s.ticket_encoded])),
            },
            "notice": { "encoded": hex::encode(&s.notice_encoded) },
            "denylist": { "encoded": hex::encode(&denylist) },
        },
        "handshake": {
            "random_draws": rng.draws,
            "challenge": code(CodeKind::Challenge, &challenge.encode()),
            "proof_to_sign": hex::encode(&proof_to_sign),
            "proof": code(CodeKind::Proof, &proof.encode()),
            "proof_with_full_ticket": code(CodeKind::Proof, &full_proof.encode()),
            "response_to_sign": hex::encode(&response_to_sign),
            "response": code(CodeKind::Response, &response.encode()),
            "receipt_to_sign": hex::encode(&receipt_to_sign),
            "receipt": code(CodeKind::Receipt, &receipt),
            "confirmation_code": done.confirmation_code(),
            "transcript_hash": hex::encode(done.receipt().transcript_hash),
        },
        "refusals": refusals,
        "base45": base45_samples,
    })
}

pub fn to_json() -> String {
    let mut text = serde_json::to_string_pretty(&build()).expect("vectors serialise");
    text.push('\n');
    text
}

/// Decodes every code in the vectors, so a damaged file is caught by the same check.
pub fn codes_decode(vectors: &Value) -> bool {
    [
        "challenge",
        "proof",
        "proof_with_full_ticket",
        "response",
        "receipt",
    ]
    .iter()
    .all(|k| {
        vectors["handshake"][k]["text"]
            .as_str()
            .is_some_and(|t| Code::from_text(t).is_ok())
    })
}
