// The app's own commands get permissions like a plugin's, so each capability file grants only
// what its windows need.
const COMMANDS: &[&str] = &[
    "status",
    "first_screen_shown",
    "unlock",
    "enrolment_offer",
    "enrol",
    "sync",
    "decode_image",
    "agent_visits",
    "agent_visit",
    "agent_scan_challenge",
    "agent_full_proof",
    "agent_compare_code",
    "agent_scan_response",
    "agent_record_outcome",
    "agent_record_office_confirmation",
    "agent_page_pass",
    "agent_record_page_check",
    "customer_visits",
    "customer_visits_now",
    "customer_challenge",
    "customer_scan_proof",
    "customer_person_at_door",
    "customer_compare_code",
    "customer_scan_receipt",
    "customer_report",
    "customer_receipts",
    "agent_door_open",
    "agent_door_close",
    "customer_tap_agent",
    "customer_tap_answer",
    "customer_tap_receipt",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("the Tauri build step failed");
}
