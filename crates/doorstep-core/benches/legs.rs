//! CPU per handshake leg (building the message, encoding it as text, decoding and verifying it
//! on the other side), and the QR version of every code.
//!
//! cargo bench -p doorstep-core --bench legs

use std::hint::black_box;

use criterion::{Criterion, criterion_group};
use doorstep_core::agent::{self, AwaitingResponse, ProofToSign};
use doorstep_core::codec::{Code, CodeKind, encode_text};
use doorstep_core::customer::{AwaitingProof, CodeShown, Done};
use doorstep_core::keys::EphemeralKey;
use doorstep_core::notice::VerifiedNotice;
use doorstep_core::scenario::Scenario;
use doorstep_core::{SeededRandomness, Trust};

/// What each device has verified before the visit (when the day's package or the notice
/// arrived), so the legs measure only the work done at the door.
struct Fixture {
    s: Scenario,
    trust: Trust,
    notice: VerifiedNotice,
    ready: agent::Ready,
}

impl Fixture {
    fn new() -> Self {
        let s = Scenario::new("bench");
        let trust = s.trust();
        let notice = s.notice();
        let ready =
            agent::Ready::new(&s.ticket_encoded, s.customer_key.public_key(), &trust).unwrap();
        Self {
            s,
            trust,
            notice,
            ready,
        }
    }

    fn leg1(&self, rng: &mut SeededRandomness) -> (AwaitingProof, ProofToSign) {
        let s = &self.s;
        let (waiting, challenge) =
            AwaitingProof::start(self.notice.clone(), s.customer_key.public_key(), s.now, rng);
        let text = Code::Challenge(challenge).to_text();
        let challenge = Code::from_text(&text).unwrap().into_challenge().unwrap();
        let to_sign = self
            .ready
            .clone()
            .receive_challenge(challenge, &self.trust, s.now, rng)
            .unwrap();
        (waiting, to_sign)
    }

    fn leg2(&self, waiting: AwaitingProof, to_sign: ProofToSign) -> (CodeShown, AwaitingResponse) {
        let sig = self.s.agent_key.sign(&to_sign.bytes_to_sign());
        let (awaiting, proof) = to_sign.finish(sig).unwrap();
        let text = Code::Proof(proof).to_text();
        let proof = Code::from_text(&text).unwrap().into_proof().unwrap();
        let verified = waiting
            .receive_proof(&proof, &self.trust, self.s.now)
            .unwrap();
        (verified.person_confirmed(), awaiting)
    }

    fn leg3(
        &self,
        verified: CodeShown,
        awaiting: AwaitingResponse,
    ) -> (Done, agent::CustomerVerified) {
        let sig = self.s.customer_key.sign(&verified.bytes_to_sign());
        let (done, response) = verified.finish(sig).unwrap();
        let text = Code::Response(response).to_text();
        let response = Code::from_text(&text).unwrap().into_response().unwrap();
        (
            done,
            awaiting.codes_match().receive_response(&response).unwrap(),
        )
    }

    fn receipt(&self, done: Done, verified: &agent::CustomerVerified) -> Done {
        let receipt = verified
            .receipt_to_sign(Default::default(), self.s.now)
            .sign_with(&self.s.agent_key)
            .unwrap();
        let text = encode_text(CodeKind::Receipt, &receipt);
        let receipt = Code::from_text(&text).unwrap().into_receipt().unwrap();
        done.accept_agent_receipt(&receipt).unwrap()
    }
}

fn legs(c: &mut Criterion) {
    let f = Fixture::new();
    let mut rng = SeededRandomness::new("bench rng");
    let mut group = c.benchmark_group("leg");
    group.bench_function("1 challenge: build + verify", |b| {
        b.iter(|| black_box(f.leg1(&mut rng)))
    });
    group.bench_function("2 proof: sign + verify", |b| {
        b.iter_batched(
            || f.leg1(&mut rng),
            |(w, t)| black_box(f.leg2(w, t)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("3 response: sign + verify", |b| {
        b.iter_batched(
            || {
                let (w, t) = f.leg1(&mut rng);
                f.leg2(w, t)
            },
            |(v, a)| black_box(f.leg3(v, a)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.bench_function("4 receipt: sign + verify", |b| {
        b.iter_batched(
            || {
                let (w, t) = f.leg1(&mut rng);
                let (v, a) = f.leg2(w, t);
                f.leg3(v, a)
            },
            |(d, v)| black_box(f.receipt(d, &v)),
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

/// The primitives the legs are made of, to see where a leg's time goes.
fn primitives(c: &mut Criterion) {
    let f = Fixture::new();
    let message = [7u8; 200];
    let signature = f.s.agent_key.sign(&message);
    let agent = f.s.agent_key.public_key();
    let mut rng = SeededRandomness::new("primitives");
    let ephemeral = EphemeralKey::generate(&mut rng);
    let mut group = c.benchmark_group("primitive");
    group.bench_function("ecdsa sign", |b| {
        b.iter(|| f.s.agent_key.sign(black_box(&message)))
    });
    group.bench_function("ecdsa verify", |b| {
        b.iter(|| agent.verify(black_box(&message), &signature))
    });
    group.bench_function("ephemeral key generation", |b| {
        b.iter(|| EphemeralKey::generate(&mut rng))
    });
    group.bench_function("ecdh", |b| {
        b.iter(|| ephemeral.shared_secret(black_box(&agent)))
    });
    group.finish();
}

criterion_group!(benches, legs, primitives);

/// The QR symbol of every code in a complete visit, at level M, printed before the timings.
fn print_code_sizes() {
    let f = Fixture::new();
    let run = f.s.run(None, &mut SeededRandomness::new("sizes"));
    let full = {
        let mut rng = SeededRandomness::new("sizes full");
        let (_, to_sign) = f.leg1(&mut rng);
        let sig = f.s.agent_key.sign(&to_sign.bytes_to_sign());
        let (awaiting, _) = to_sign.finish(sig).unwrap();
        Code::Proof(awaiting.proof_with_full_ticket()).to_text()
    };
    let mut codes: Vec<(String, String)> = run
        .codes
        .iter()
        .map(|c| (c.kind.name().to_string(), c.text.clone()))
        .collect();
    codes.push(("proof with whole ticket".into(), full));
    println!(
        "{:<26} {:>6} {:>6} {:>8} {:>8}",
        "code", "bytes", "chars", "version", "modules"
    );
    for (name, text) in codes {
        let bytes = doorstep_core::codec::decode_text(&text).unwrap().1.len();
        let size = doorstep_qr::Symbol::new(&text).unwrap().size();
        println!(
            "{name:<26} {bytes:>6} {:>6} {:>8} {:>8}",
            size.characters, size.version, size.modules
        );
    }
}

fn main() {
    print_code_sizes();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
