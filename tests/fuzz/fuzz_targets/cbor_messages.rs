//! The handshake messages' and the page pass's CBOR decoders; decoded messages must re-encode
//! to the same bytes (one encoding per value).
#![no_main]

use doorstep_core::handshake::{Challenge, Proof, Response};
use doorstep_core::page::PagePass;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = Challenge::decode(data) {
        assert_eq!(c.encode(), data);
    }
    if let Ok(p) = Proof::decode(data) {
        assert_eq!(p.encode(), data);
    }
    if let Ok(r) = Response::decode(data) {
        assert_eq!(r.encode(), data);
    }
    if let Ok(p) = PagePass::decode(data) {
        assert_eq!(p.encode(), data);
    }
});
