//! The commands the views call. Each one unpacks its arguments, calls the device and hands the
//! result back; errors travel as [`DeviceError`] (kind, message, transient).

use std::sync::Arc;

use serde::Serialize;
use tauri::{Emitter, Runtime, State};
use ts_rs::TS;

use doorstep_core::Outcome;
use doorstep_device::views::{
    AgentConfirmed, AgentReceiptView, AgentVisit, CodeToCompare, CodeView, CustomerConfirmed,
    CustomerVisit, EnrolmentView, KeptReceipt, PagePassView, PinnedOrganisationView, ProofShown,
    Status, SyncView,
};
use doorstep_device::{DeviceError, ErrorKind, TapAnswered, decode_image_base64};

use crate::AppState;

type Shared<'a> = State<'a, Arc<AppState>>;
type Answer<T> = Result<T, DeviceError>;

pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        status,
        first_screen_shown,
        unlock,
        enrolment_offer,
        enrol,
        sync,
        decode_image,
        agent_visits,
        agent_visit,
        agent_scan_challenge,
        agent_full_proof,
        agent_compare_code,
        agent_scan_response,
        agent_record_outcome,
        agent_record_office_confirmation,
        agent_page_pass,
        agent_record_page_check,
        customer_visits,
        customer_visits_now,
        customer_challenge,
        customer_scan_proof,
        customer_person_at_door,
        customer_compare_code,
        customer_scan_receipt,
        customer_report,
        customer_receipts,
        agent_door_open,
        agent_door_close,
        customer_tap_agent,
        customer_tap_answer,
        customer_tap_receipt,
    ]
}

#[derive(Debug, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AppStatus {
    #[serde(flatten)]
    pub device: Status,
    /// `system` (the OS key store holds the data key) or `file`.
    #[ts(type = "\"system\" | \"file\"")]
    pub key_store: &'static str,
    /// `desktop` or `mobile`: which ways of scanning the views offer.
    #[ts(type = "\"desktop\" | \"mobile\"")]
    pub platform: &'static str,
    /// Whether the door can be done with one tap on this device.
    pub nfc: crate::tap::NfcAbility,
}

#[tauri::command]
pub async fn status(state: Shared<'_>) -> Answer<AppStatus> {
    Ok(AppStatus {
        device: state.device.status().await?,
        key_store: state.key_store,
        platform: if cfg!(mobile) { "mobile" } else { "desktop" },
        nfc: crate::tap::ability(),
    })
}

/// The views call this once their first screen is on display; the time is logged for the
/// cold-start measurement (`scripts/measure-app.sh`).
#[tauri::command]
pub fn first_screen_shown(state: Shared<'_>) -> u64 {
    let since_start = state.started.elapsed().as_millis() as u64;
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    eprintln!(
        "doorstep: first screen at {wall} ms (unix), {since_start} ms after the store opened"
    );
    since_start
}

/// Runs the platform's biometric or device-credential prompt from Rust and, only if it passes,
/// opens the agent role (until some idle minutes pass). Nothing biometric reaches the app.
#[tauri::command]
pub async fn unlock<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
    reason: String,
) -> Answer<()> {
    #[cfg(mobile)]
    {
        use tauri_plugin_biometric::{AuthOptions, BiometricExt};
        let options = AuthOptions {
            allow_device_credential: true,
            ..Default::default()
        };
        app.biometric()
            .authenticate(reason, options)
            .map_err(|e| DeviceError::new(ErrorKind::Locked, e.to_string()))?;
    }
    #[cfg(desktop)]
    let _ = (app, reason);
    state.device.unlock();
    Ok(())
}

/// The pinned organisation a code would enrol this device with, for the person to confirm.
#[tauri::command]
pub async fn enrolment_offer(
    state: Shared<'_>,
    code: String,
    organisation: Option<String>,
) -> Answer<PinnedOrganisationView> {
    state
        .device
        .enrolment_offer(&code, organisation.as_deref())
        .await
}

#[tauri::command]
pub async fn enrol(
    state: Shared<'_>,
    code: String,
    organisation: Option<String>,
) -> Answer<EnrolmentView> {
    state.device.enrol(&code, organisation.as_deref()).await
}

#[derive(Clone, Serialize)]
struct SyncProgress {
    done: u64,
    total: u64,
}

/// Syncs now; progress goes out as `sync-progress` events. A second call while one runs waits.
#[tauri::command]
pub async fn sync<R: Runtime>(app: tauri::AppHandle<R>, state: Shared<'_>) -> Answer<SyncView> {
    let _one_at_a_time = state.sync_lock.lock().await;
    state
        .device
        .sync(&mut |p| {
            let _ = app.emit(
                "sync-progress",
                SyncProgress {
                    done: p.done,
                    total: p.total,
                },
            );
        })
        .await
}

/// A picture (PNG, base64) from "scan from an image" or a webcam frame, decoded off the thread
/// that draws the app.
#[tauri::command]
pub async fn decode_image(png_base64: String) -> Answer<String> {
    tauri::async_runtime::spawn_blocking(move || decode_image_base64(&png_base64))
        .await
        .map_err(|e| DeviceError::new(ErrorKind::NoCodeInImage, e.to_string()))?
}

#[tauri::command]
pub async fn agent_visits(state: Shared<'_>) -> Answer<Vec<AgentVisit>> {
    state.device.agent_visits().await
}

#[tauri::command]
pub async fn agent_visit(state: Shared<'_>, visit_id: String) -> Answer<AgentVisit> {
    state.device.agent_visit(&visit_id).await
}

#[tauri::command]
pub async fn agent_scan_challenge(
    state: Shared<'_>,
    visit_id: String,
    text: String,
) -> Answer<ProofShown> {
    state.device.agent_scan_challenge(&visit_id, &text).await
}

#[tauri::command]
pub async fn agent_compare_code(state: Shared<'_>, visit_id: String, same: bool) -> Answer<()> {
    state.device.agent_compare_code(&visit_id, same).await
}

#[tauri::command]
pub async fn agent_full_proof(state: Shared<'_>, visit_id: String) -> Answer<CodeView> {
    state.device.agent_full_proof(&visit_id).await
}

#[tauri::command]
pub async fn agent_scan_response(
    state: Shared<'_>,
    visit_id: String,
    text: String,
) -> Answer<CustomerConfirmed> {
    state.device.agent_scan_response(&visit_id, &text).await
}

#[tauri::command]
pub async fn agent_record_outcome(
    state: Shared<'_>,
    visit_id: String,
    outcome: Outcome,
    checks_done: Vec<String>,
    note: String,
) -> Answer<AgentReceiptView> {
    state
        .device
        .agent_record_outcome(&visit_id, outcome, &checks_done, &note)
        .await
}

#[tauri::command]
pub async fn agent_record_office_confirmation(
    state: Shared<'_>,
    visit_id: String,
    reference: String,
    checks_done: Vec<String>,
    note: String,
) -> Answer<AgentReceiptView> {
    state
        .device
        .agent_record_office_confirmation(&visit_id, &reference, &checks_done, &note)
        .await
}

/// The code a customer without the app opens with the phone's own camera.
#[tauri::command]
pub async fn agent_page_pass(state: Shared<'_>, visit_id: String) -> Answer<PagePassView> {
    state.device.agent_page_pass(&visit_id).await
}

#[tauri::command]
pub async fn agent_record_page_check(
    state: Shared<'_>,
    visit_id: String,
    reference: String,
    checks_done: Vec<String>,
    note: String,
) -> Answer<AgentReceiptView> {
    state
        .device
        .agent_record_page_check(&visit_id, &reference, &checks_done, &note)
        .await
}

#[tauri::command]
pub async fn customer_visits(state: Shared<'_>) -> Answer<Vec<CustomerVisit>> {
    state.device.customer_visits().await
}

#[tauri::command]
pub async fn customer_visits_now(state: Shared<'_>) -> Answer<Vec<CustomerVisit>> {
    state.device.customer_visits_now().await
}

#[tauri::command]
pub async fn customer_challenge(
    state: Shared<'_>,
    visit_id: String,
    fresh: bool,
) -> Answer<CodeView> {
    state.device.customer_challenge(&visit_id, fresh).await
}

#[tauri::command]
pub async fn customer_scan_proof(
    state: Shared<'_>,
    visit_id: String,
    text: String,
) -> Answer<AgentConfirmed> {
    state.device.customer_scan_proof(&visit_id, &text).await
}

#[tauri::command]
pub async fn customer_person_at_door(
    state: Shared<'_>,
    visit_id: String,
    is_this_person: bool,
) -> Answer<CodeToCompare> {
    state
        .device
        .customer_person_at_door(&visit_id, is_this_person)
        .await
}

#[tauri::command]
pub async fn customer_compare_code(
    state: Shared<'_>,
    visit_id: String,
    same: bool,
) -> Answer<CodeView> {
    state.device.customer_compare_code(&visit_id, same).await
}

#[tauri::command]
pub async fn customer_scan_receipt(
    state: Shared<'_>,
    visit_id: String,
    text: String,
) -> Answer<KeptReceipt> {
    state.device.customer_scan_receipt(&visit_id, &text).await
}

#[tauri::command]
pub async fn customer_report(
    state: Shared<'_>,
    visit_id: Option<String>,
    reason: Option<ErrorKind>,
    note: String,
) -> Answer<()> {
    state
        .device
        .customer_report(visit_id.as_deref(), reason, &note)
        .await
}

#[tauri::command]
pub async fn customer_receipts(state: Shared<'_>) -> Answer<Vec<KeptReceipt>> {
    state.device.customer_receipts().await
}

/// The agent's door screen of this visit is up: a reading phone may tap it.
#[tauri::command]
pub async fn agent_door_open<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
    visit_id: String,
) -> Answer<()> {
    state.device.agent_visit(&visit_id).await?;
    state.door.lock().await.arm(&visit_id);
    crate::tap::door_card_on(&app, state.inner().clone())
}

/// The door screen is gone: a tap gets nothing.
#[tauri::command]
pub async fn agent_door_close<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
) -> Answer<()> {
    state.door.lock().await.disarm();
    crate::tap::door_card_off(&app);
    Ok(())
}

#[tauri::command]
pub async fn customer_tap_agent<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
    visit_id: String,
    fresh: bool,
) -> Answer<AgentConfirmed> {
    let mut card = crate::tap::hold(&app).await?;
    state
        .device
        .customer_tap_agent(&visit_id, &mut card, fresh)
        .await
}

#[tauri::command]
pub async fn customer_tap_answer<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
    visit_id: String,
) -> Answer<TapAnswered> {
    let mut card = crate::tap::hold(&app).await?;
    state.device.customer_tap_answer(&visit_id, &mut card).await
}

#[tauri::command]
pub async fn customer_tap_receipt<R: Runtime>(
    app: tauri::AppHandle<R>,
    state: Shared<'_>,
    visit_id: String,
) -> Answer<KeptReceipt> {
    let mut card = crate::tap::hold(&app).await?;
    state
        .device
        .customer_tap_receipt(&visit_id, &mut card)
        .await
}
