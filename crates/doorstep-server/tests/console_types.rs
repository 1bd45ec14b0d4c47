//! The console's TypeScript types are generated from the Rust types its API sends, so the two
//! cannot drift: this test fails when `web/console/src/lib/api-types.ts` is not what this build
//! generates. `DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-server --test console_types`
//! rewrites it.

use doorstep_api::wire::ErrorBody;
use doorstep_core::{Outcome, Role};
use doorstep_server::console::{
    AgentLine, CustomerPage, LineLookup, OrganisationView, PhoneConfirmation, VisitDetail,
};
use doorstep_server::db::customers::{CustomerLine, Erasure};
use doorstep_server::db::export::Purged;
use doorstep_server::db::organisations::Settings;
use doorstep_server::db::revocation::DeviceListing;
use doorstep_server::db::staff::{
    AgentName, AuditEntry, ReportLine, ReportState, VisitLine, VisitPage,
};
use doorstep_server::db::visit_detail::{ReceiptView, SignatureView, TicketView, VisitRecords};
use doorstep_server::http::console::{Cancelled, Imported, SessionView, StaffView};
use doorstep_server::planning::NewVisit;
use doorstep_server::staff::StaffRole;
use ts_rs::{Config, TS};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../web/console/src/lib/api-types.ts"
);

fn generated() -> String {
    let cfg = Config::new().with_large_int("number");
    let declarations = [
        ErrorBody::decl(&cfg),
        Outcome::decl(&cfg),
        Role::decl(&cfg),
        StaffRole::decl(&cfg),
        StaffView::decl(&cfg),
        SessionView::decl(&cfg),
        AuditEntry::decl(&cfg),
        VisitLine::decl(&cfg),
        LineLookup::decl(&cfg),
        PhoneConfirmation::decl(&cfg),
        ReportState::decl(&cfg),
        ReportLine::decl(&cfg),
        Imported::decl(&cfg),
        Cancelled::decl(&cfg),
        Purged::decl(&cfg),
        AgentName::decl(&cfg),
        VisitPage::decl(&cfg),
        SignatureView::decl(&cfg),
        TicketView::decl(&cfg),
        ReceiptView::decl(&cfg),
        VisitRecords::decl(&cfg),
        VisitDetail::decl(&cfg),
        NewVisit::decl(&cfg),
        DeviceListing::decl(&cfg),
        AgentLine::decl(&cfg),
        CustomerLine::decl(&cfg),
        CustomerPage::decl(&cfg),
        Erasure::decl(&cfg),
        Settings::decl(&cfg),
        OrganisationView::decl(&cfg),
    ];
    let mut out = String::from(
        "// Generated from the Rust types by crates/doorstep-server/tests/console_types.rs; do not edit.\n\
         // DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-server --test console_types\n\n",
    );
    for declaration in declarations {
        out.push_str("export ");
        out.push_str(&declaration);
        out.push_str("\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

#[test]
fn the_console_s_types_are_generated_from_the_api_s() {
    let want = generated();
    if std::env::var_os("DOORSTEP_WRITE_BINDINGS").is_some() {
        std::fs::write(PATH, &want).unwrap();
    }
    let have = std::fs::read_to_string(PATH).unwrap_or_default();
    assert!(
        have == want,
        "{PATH} is out of date: DOORSTEP_WRITE_BINDINGS=1 cargo test -p doorstep-server --test console_types"
    );
}
