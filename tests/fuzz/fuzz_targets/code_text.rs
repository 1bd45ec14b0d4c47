//! Any text a scanner may return: prefix, version, kind, Base45 and CBOR parsing.
#![no_main]

use doorstep_core::Code;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(code) = Code::from_text(text) {
        // Whatever decodes must re-encode to a text that decodes to the same code.
        let again = Code::from_text(&code.to_text()).expect("re-encoded code decodes");
        assert_eq!(again, code);
    }
});
