//! NFC in the app shell: the agent's door card and the customer's reader, wired to whatever
//! carries APDUs on this platform. Every decision is in `doorstep_device` (`DoorCard`, the
//! `customer_tap_*` calls); this only moves bytes and tells the views.
//!
//! - Agent, desktop (development and tests): with `DOORSTEP_VPCD` set, the door card sits
//!   behind vsmartcard's virtual reader in pcscd, so another app reading through PC/SC taps it.
//! - Customer, desktop: a contactless reader through PC/SC (`DOORSTEP_PCSC_READER`, or the
//!   first reader with a card in its field).
//! - Phones: card emulation (Android) and the reader (Android, iOS) come from the app's plugin
//!   (`mobile/tauri-plugin-doorstep`).

use std::sync::Arc;
#[cfg(desktop)]
use std::time::Duration;

use serde::Serialize;
use tauri::{Emitter, Runtime};
use ts_rs::TS;

use doorstep_device::{DeviceError, ErrorKind};

use crate::AppState;

/// The event that carries [`TapEvent`]s to the agent's door screen.
pub const DOOR_TAP_EVENT: &str = "door-tap";

/// How long the customer's phone waits for the agent's phone to come into the field.
#[cfg(desktop)]
const WAIT_FOR_CARD: Duration = Duration::from_secs(20);

/// What this device can do over NFC, for the views to offer it or not.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct NfcAbility {
    /// The customer can hold this device to the agent's.
    pub reader: bool,
    /// The agent's door screen answers a reading phone.
    pub card: bool,
}

pub fn ability() -> NfcAbility {
    NfcAbility {
        // Phones: every supported phone reads (the plugin says so if NFC is off, at the tap).
        reader: cfg!(mobile) || reader_name().is_some(),
        // Android emulates the card; iPhones use QR codes; desktops only in development.
        card: cfg!(target_os = "android")
            || (cfg!(all(desktop, debug_assertions))
                && std::env::var_os("DOORSTEP_VPCD").is_some()),
    }
}

/// One command APDU from the reading phone, answered; the door screen hears what changed.
pub async fn apdu<R: Runtime>(
    app: &tauri::AppHandle<R>,
    state: &AppState,
    command: &[u8],
) -> Vec<u8> {
    let mut door = state.door.lock().await;
    let (reply, event) = door.apdu(&state.device, command).await;
    if let Some(event) = event {
        let _ = app.emit(DOOR_TAP_EVENT, &event);
    }
    reply
}

#[cfg(desktop)]
fn reader_name() -> Option<String> {
    if let Ok(name) = std::env::var("DOORSTEP_PCSC_READER") {
        return Some(name);
    }
    doorstep_nfc::pcsc::readers().ok()?.into_iter().next()
}

#[cfg(mobile)]
fn reader_name() -> Option<String> {
    None
}

#[cfg(desktop)]
fn no_reader() -> DeviceError {
    DeviceError::new(
        ErrorKind::NfcLinkLost,
        "No contactless reader is connected.",
    )
}

/// Waits (without holding a thread) for the agent's phone in the reader's field.
#[cfg(desktop)]
pub async fn hold<R: Runtime>(
    _app: &tauri::AppHandle<R>,
) -> Result<doorstep_nfc::pcsc::PcscCard, DeviceError> {
    let reader = reader_name().ok_or_else(no_reader)?;
    let deadline = tokio::time::Instant::now() + WAIT_FOR_CARD;
    loop {
        match doorstep_nfc::pcsc::PcscCard::connect(&reader) {
            Ok(card) => return Ok(card),
            Err(e) if tokio::time::Instant::now() >= deadline => {
                return Err(DeviceError {
                    kind: ErrorKind::NfcLinkLost,
                    message: e.to_string(),
                    transient: true,
                });
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// The phone's reader (Android reader mode, iOS Core NFC) through the app's plugin: waits for
/// the agent's phone, then carries APDUs; the session ends when this is dropped.
#[cfg(mobile)]
pub struct PluginReader<R: Runtime> {
    app: tauri::AppHandle<R>,
}

#[cfg(mobile)]
impl<R: Runtime> doorstep_nfc::Transport for PluginReader<R> {
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, doorstep_nfc::TransportError> {
        use tauri_plugin_doorstep::DoorstepExt;
        self.app
            .doorstep()
            .reader_transceive(command)
            .map_err(|e| doorstep_nfc::TransportError(e.to_string()))
    }
}

#[cfg(mobile)]
impl<R: Runtime> Drop for PluginReader<R> {
    fn drop(&mut self) {
        use tauri_plugin_doorstep::DoorstepExt;
        let _ = self.app.doorstep().reader_stop();
    }
}

#[cfg(mobile)]
pub async fn hold<R: Runtime>(app: &tauri::AppHandle<R>) -> Result<PluginReader<R>, DeviceError> {
    use tauri_plugin_doorstep::DoorstepExt;
    let handle = app.clone();
    tauri::async_runtime::spawn_blocking(move || handle.doorstep().reader_start())
        .await
        .map_err(|e| DeviceError::new(ErrorKind::NfcLinkLost, e.to_string()))?
        .map_err(|e| DeviceError {
            kind: ErrorKind::NfcLinkLost,
            message: e.to_string(),
            transient: true,
        })?;
    Ok(PluginReader { app: app.clone() })
}

/// The door screen is up: on Android the plugin's card service hands each APDU here and the
/// answer goes back through it. Elsewhere there is no card to enable (desktops in development
/// serve it behind vpcd for the whole run).
pub fn door_card_on<R: Runtime>(
    app: &tauri::AppHandle<R>,
    state: Arc<AppState>,
) -> Result<(), DeviceError> {
    #[cfg(target_os = "android")]
    {
        use tauri_plugin_doorstep::{DoorstepExt, Incoming};
        let handle = app.clone();
        app.doorstep()
            .card_enable(move |incoming| {
                let (handle, state) = (handle.clone(), state.clone());
                tauri::async_runtime::spawn(async move {
                    match incoming {
                        Incoming::Apdu(command) => {
                            let reply = apdu(&handle, &state, &command).await;
                            let _ = handle.doorstep().card_respond(&reply);
                        }
                        Incoming::FieldOff => state.door.lock().await.field_off(),
                    }
                });
            })
            .map_err(|e| DeviceError::new(ErrorKind::NfcLinkLost, e.to_string()))?;
    }
    #[cfg(not(target_os = "android"))]
    let _ = (app, state);
    Ok(())
}

pub fn door_card_off<R: Runtime>(app: &tauri::AppHandle<R>) {
    #[cfg(target_os = "android")]
    {
        use tauri_plugin_doorstep::DoorstepExt;
        let _ = app.doorstep().card_disable();
    }
    #[cfg(not(target_os = "android"))]
    let _ = app;
}

/// The desktop's stand-in for a phone's card emulation: the door card behind vpcd, served
/// from a thread of its own for as long as the app runs.
#[cfg(all(desktop, debug_assertions))]
pub fn serve_virtual_card<R: Runtime>(app: tauri::AppHandle<R>, state: Arc<AppState>) {
    use doorstep_nfc::vpcd::{self, VirtualCard};
    let Ok(address) = std::env::var("DOORSTEP_VPCD") else {
        return;
    };
    struct Door<R: Runtime> {
        app: tauri::AppHandle<R>,
        state: Arc<AppState>,
    }
    impl<R: Runtime> VirtualCard for Door<R> {
        fn apdu(&mut self, command: &[u8]) -> Vec<u8> {
            tauri::async_runtime::block_on(apdu(&self.app, &self.state, command))
        }
        fn field_off(&mut self) {
            tauri::async_runtime::block_on(self.state.door.lock()).field_off();
        }
    }
    std::thread::spawn(move || {
        let mut door = Door { app, state };
        // pcscd may start after the app; keep knocking.
        loop {
            if let Err(e) = vpcd::serve(&address, &mut door, &|| true) {
                eprintln!("doorstep: virtual card at {address}: {e}");
            }
            std::thread::sleep(Duration::from_secs(1));
        }
    });
}
