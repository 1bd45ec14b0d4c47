//! Signed documents: envelopes and payloads of tickets, notices, denylists, receipts and key
//! hand-overs.
#![no_main]

use doorstep_core::notice::{Denylist, VerifiedNotice};
use doorstep_core::receipt::SignedReceipt;
use doorstep_core::rotation::KeyRotation;
use doorstep_core::scenario::Scenario;
use doorstep_core::ticket::{SignedTicket, Ticket};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static KEYS: OnceLock<Vec<doorstep_core::PublicKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| Scenario::new("fuzz").organisation_keys());
    if let Ok(t) = Ticket::decode_payload(data) {
        assert_eq!(t.encode_payload(), data);
    }
    let _ = SignedTicket::verify(data, keys);
    let _ = VerifiedNotice::verify(data, keys);
    let _ = Denylist::verify(data, keys);
    let _ = SignedReceipt::peek(data);
    let _ = SignedReceipt::verify(data, &keys[0]);
    // An unverifiable hand-over is still read to see whether it was applied already.
    let mut trusted = keys.clone();
    if KeyRotation::apply_all(&[data.to_vec()], &mut trusted, 0).is_err() {
        assert_eq!(&trusted, keys, "a refused hand-over changes nothing");
    }
});
