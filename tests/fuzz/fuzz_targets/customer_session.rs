//! A customer waiting at the door is shown any code at all: the whole verification path must
//! refuse it with an error, never panic, and never accept a code it did not expect.
#![no_main]

use doorstep_core::customer::AwaitingProof;
use doorstep_core::scenario::Scenario;
use doorstep_core::{Code, SeededRandomness};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|text: &str| {
    static SCENARIO: OnceLock<Scenario> = OnceLock::new();
    let s = SCENARIO.get_or_init(|| Scenario::new("fuzz"));
    let Ok(proof) = Code::from_text(text).and_then(Code::into_proof) else {
        return;
    };
    let mut rng = SeededRandomness::new("fuzz session");
    let (session, _) = AwaitingProof::start(s.notice(), s.customer_key.public_key(), s.now, &mut rng);
    // Without the agent's key no input can produce a valid proof for this fresh challenge.
    assert!(session.receive_proof(&proof, &s.trust(), s.now).is_err());
});
