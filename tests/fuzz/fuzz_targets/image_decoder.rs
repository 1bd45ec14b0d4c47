//! "Scan from an image": whatever file a person picks, or a camera frame, is read within the
//! decoder's bounds or refused, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = doorstep_qr::decode_png(data);
});
