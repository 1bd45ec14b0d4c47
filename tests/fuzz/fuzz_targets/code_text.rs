//! Any text a scanner may return, or a verification page's address: prefix, version, kind,
//! Base45 (and its URL-path alphabet) and CBOR parsing.
#![no_main]

use doorstep_core::Code;
use doorstep_core::page::PagePass;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(code) = Code::from_text(text) {
        // Whatever decodes must re-encode to a text that decodes to the same code.
        let again = Code::from_text(&code.to_text()).expect("re-encoded code decodes");
        assert_eq!(again, code);
    }
    if let Ok(pass) = PagePass::from_url(text) {
        let again = PagePass::from_url(&pass.to_url("https://x.example").expect("an origin"))
            .expect("re-encoded pass decodes");
        assert_eq!(again, pass);
    }
});
