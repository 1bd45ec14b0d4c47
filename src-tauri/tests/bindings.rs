//! The views' TypeScript types are generated from the Rust types they receive, so the two cannot
//! drift: this test fails when `ui/src/lib/bindings.ts` is not what this build generates.
//! `DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-app --test bindings` rewrites it.

use doorstep_app_lib::commands::AppStatus;
use doorstep_app_lib::tap::NfcAbility;
use doorstep_core::{Outcome, Role};
use doorstep_device::views::{
    AgentConfirmed, AgentReceiptView, AgentVisit, CodeToCompare, CodeView, CustomerConfirmed,
    CustomerVisit, EnrolmentView, KeptReceipt, NewDeviceView, PagePassView, PinnedOrganisationView,
    ProofShown, Status, SyncView, VisitTerms,
};
use doorstep_device::{DeviceError, ErrorKind, TapAnswered, TapEvent};
use ts_rs::{Config, TS};

const PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../ui/src/lib/bindings.ts");

fn generated() -> String {
    // Times and counts are JSON numbers, well within a double's exact range.
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        Role::decl(&cfg),
        Outcome::decl(&cfg),
        ErrorKind::decl(&cfg),
        DeviceError::decl(&cfg),
        EnrolmentView::decl(&cfg),
        PinnedOrganisationView::decl(&cfg),
        NewDeviceView::decl(&cfg),
        Status::decl(&cfg),
        NfcAbility::decl(&cfg),
        AppStatus::decl(&cfg),
        SyncView::decl(&cfg),
        CodeView::decl(&cfg),
        VisitTerms::decl(&cfg),
        AgentVisit::decl(&cfg),
        CustomerVisit::decl(&cfg),
        CustomerConfirmed::decl(&cfg),
        AgentConfirmed::decl(&cfg),
        CodeToCompare::decl(&cfg),
        ProofShown::decl(&cfg),
        AgentReceiptView::decl(&cfg),
        PagePassView::decl(&cfg),
        KeptReceipt::decl(&cfg),
        TapAnswered::decl(&cfg),
        TapEvent::decl(&cfg),
    ];
    let kinds: Vec<String> = ErrorKind::ALL
        .iter()
        .map(|k| format!("  \"{}\",", k.name()))
        .collect();
    let mut out = String::from(
        "// Generated from the Rust types by src-tauri/tests/bindings.rs; do not edit.\n\
         // DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-app --test bindings\n\n",
    );
    for declaration in declarations {
        out.push_str("export ");
        out.push_str(&declaration);
        out.push_str("\n\n");
    }
    out.push_str("/** Every error kind the app's Rust side can report. */\n");
    out.push_str("export const ERROR_KINDS: readonly ErrorKind[] = [\n");
    out.push_str(&kinds.join("\n"));
    out.push_str("\n];\n");
    out
}

#[test]
fn the_views_bindings_are_current() {
    let generated = generated();
    if std::env::var("DOORSTEP_WRITE_BINDINGS").as_deref() == Ok("1") {
        std::fs::write(PATH, &generated).expect("the bindings file is writable");
        return;
    }
    let on_disk = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        on_disk == generated,
        "ui/src/lib/bindings.ts is out of date; regenerate it with \
         DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-app --test bindings"
    );
}

#[test]
fn every_error_kind_is_listed_once() {
    let names: std::collections::BTreeSet<String> =
        ErrorKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(names.len(), ErrorKind::ALL.len());
    assert!(names.contains("wrong_visit") && names.contains("storage"));
}
