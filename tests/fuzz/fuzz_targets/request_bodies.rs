//! What the back-office reads from the network before anything else: the signature header and
//! every JSON request body. Each input is read or refused, never a panic.
#![no_main]

use doorstep_api::auth::{self, DeviceStatus, RequestParts};
use doorstep_api::wire;
use doorstep_core::scenario::Scenario;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static KEY: OnceLock<doorstep_core::PublicKey> = OnceLock::new();
    let key = *KEY.get_or_init(|| Scenario::new("fuzz").agent_key.public_key());
    if let Ok(batch) = serde_json::from_slice::<wire::UploadBatch>(data) {
        // What was read writes back and reads again as the same batch.
        let again = serde_json::to_vec(&batch).unwrap();
        assert_eq!(serde_json::from_slice::<wire::UploadBatch>(&again).unwrap(), batch);
    }
    let _ = serde_json::from_slice::<wire::EnrolRequest>(data);
    let _ = serde_json::from_slice::<wire::Report>(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = auth::SignatureHeader::parse(text);
        let parts = RequestParts {
            method: "POST",
            path: wire::paths::UPLOADS,
            body: data,
        };
        let verified = auth::verify_request(
            Some(text),
            parts,
            |_| Some(DeviceStatus::Active(key)),
            1_800_000_000,
            auth::DEFAULT_WINDOW,
        );
        assert!(verified.is_err(), "nobody but the agent's key signs");
    }
});
