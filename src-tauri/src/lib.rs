//! The Doorstep app's Rust shell. Commands translate between the views and
//! [`doorstep_device::Device`], which does the work; nothing here decides anything.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use doorstep_core::pins::Pins;
use doorstep_device::{Device, DeviceError, DoorCard, ErrorKind, KeyHome};
use doorstep_store::{FileKeyProvider, KeyProvider};
use tauri::Manager;

pub mod commands;
#[cfg(mobile)]
mod hardware_key;
pub mod tap;

/// What the commands share: the device, one sync at a time, and the agent's door card.
pub struct AppState {
    pub device: Device,
    pub door: tokio::sync::Mutex<DoorCard>,
    pub key_store: &'static str,
    pub sync_lock: tokio::sync::Mutex<()>,
    pub started: std::time::Instant,
}

/// The device's data key: from the system key store where there is one (Secret Service,
/// Keychain, Credential Manager), else from an owner-only file beside the data. On phones the
/// file lives in the app's private storage; a key held by Android Keystore or the Secure
/// Enclave needs a native plugin of its own (see docs/app.md).
fn key_provider(dir: &Path) -> (Box<dyn KeyProvider>, &'static str) {
    #[cfg(desktop)]
    if std::env::var("DOORSTEP_KEY_STORE").as_deref() != Ok("file") {
        let account = dir.display().to_string();
        if let Ok(provider) = doorstep_keyring::KeyringKeyProvider::new(&account)
            && provider.data_key().is_ok()
        {
            return (Box::new(provider), "system");
        }
        eprintln!("doorstep: the system key store is unavailable; the data key is kept in a file");
    }
    (Box::new(FileKeyProvider::new(dir.join("data.key"))), "file")
}

/// The data directory: `DOORSTEP_DATA_DIR` if set (two instances on one desktop, tests), else
/// the platform's app data directory.
fn data_dir(app: &tauri::App) -> Result<PathBuf, DeviceError> {
    if let Some(dir) = std::env::var_os("DOORSTEP_DATA_DIR") {
        return Ok(PathBuf::from(dir));
    }
    app.path()
        .app_data_dir()
        .map_err(|e| DeviceError::new(ErrorKind::Storage, e.to_string()))
}

/// The organisations this build trusts, shipped inside it (`pins.json`, written by
/// `doorstep-server pins` for each organisation the build serves).
pub const SHIPPED_PINS: &str = include_str!("../pins.json");

/// The variable naming a development pins file (the demo's and the tests' loopback
/// back-office). Only debug builds read it; a release build trusts what it shipped with.
pub const DEVELOPMENT_PINS_VAR: &str = "DOORSTEP_DEVELOPMENT_PINS";

/// The pins from `text`; a file given at run time is a development configuration whatever it
/// says, so the app's banner never hides that its trust did not ship with it.
pub fn parse_pins(text: &str, from_file: bool) -> Result<Pins, DeviceError> {
    let mut pins: Pins = serde_json::from_str(text).map_err(|e| {
        DeviceError::from(doorstep_core::Error::BadPins {
            reason: e.to_string(),
        })
    })?;
    pins.development |= from_file;
    Ok(pins.checked()?)
}

/// This build's pins: the shipped ones, or in a debug build the file
/// [`DEVELOPMENT_PINS_VAR`] names.
pub fn build_pins() -> Result<Pins, DeviceError> {
    #[cfg(debug_assertions)]
    if let Some(path) = std::env::var_os(DEVELOPMENT_PINS_VAR) {
        let text = std::fs::read_to_string(&path).map_err(|e| {
            DeviceError::from(doorstep_core::Error::BadPins {
                reason: format!("{}: {e}", PathBuf::from(&path).display()),
            })
        })?;
        return parse_pins(&text, true);
    }
    parse_pins(SHIPPED_PINS, false)
}

/// Opens the device with its signing key where `home` says: the store on desktops, the
/// phone's secure hardware in phone builds.
pub async fn open_state(dir: &Path, pins: Pins, home: KeyHome) -> Result<AppState, DeviceError> {
    let (keys, key_store) = key_provider(dir);
    #[allow(unused_mut)] // changed on desktop only
    let mut device = Device::open_with(
        dir,
        &*keys,
        doorstep_core::system::system_clock(),
        pins,
        home,
    )
    .await?;
    // Phones lock the agent role behind the platform's prompt (the `unlock` command); a
    // desktop has no such prompt and hosts only the demo and the tests.
    #[cfg(desktop)]
    device.set_lock(None);
    Ok(AppState {
        device,
        door: tokio::sync::Mutex::new(DoorCard::new()),
        key_store,
        sync_lock: tokio::sync::Mutex::new(()),
        started: std::time::Instant::now(),
    })
}

/// Adds every command and plugin to `builder`: the real one in `run`, a mock one in tests.
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    #[cfg(mobile)]
    let builder = builder
        .plugin(tauri_plugin_barcode_scanner::init())
        .plugin(tauri_plugin_biometric::init())
        .plugin(tauri_plugin_doorstep::init());
    builder.invoke_handler(commands::handler())
}

pub fn run() {
    with_commands(tauri::Builder::default())
        .setup(|app| {
            let dir = data_dir(app)?;
            // Phones sign only with their hardware key; the store never holds one.
            #[cfg(mobile)]
            let home = KeyHome::Signer(Arc::new(
                hardware_key::PluginKey::open(app.handle()).map_err(DeviceError::from)?,
            ));
            #[cfg(desktop)]
            let home = KeyHome::Store;
            let state = Arc::new(tauri::async_runtime::block_on(open_state(
                &dir,
                build_pins()?,
                home,
            ))?);
            #[cfg(all(desktop, debug_assertions))]
            tap::serve_virtual_card(app.handle().clone(), state.clone());
            app.manage(state);
            Ok(())
        })
        .run(tauri::generate_context!())
        .expect("the app failed to start");
}
