//! The Doorstep app's native parts on phones, as one Tauri plugin:
//!
//! - **the door card** (Android host card emulation): APDUs from a reading phone come in through
//!   [`Doorstep::card_enable`]'s callback, and [`Doorstep::card_respond`] answers each;
//! - **the reader** (Android reader mode, iOS Core NFC): [`Doorstep::reader_start`] waits for
//!   an agent's phone, [`Doorstep::reader_transceive`] sends one APDU;
//! - **the device key in secure hardware** (Android Keystore with StrongBox where present, iOS
//!   Secure Enclave): created non-exportable with its use gated by the person's
//!   authentication, with what the platform offers to attest it.
//!
//! Kotlin and Swift only move bytes between the platform and here; the framing, the checks and
//! the signatures' meaning are in `doorstep-nfc`, `doorstep-device` and `doorstep-core`. The views
//! cannot call this plugin: it has no commands.

#![cfg(mobile)]

mod mobile;

#[cfg(target_os = "ios")]
tauri::ios_plugin_binding!(init_plugin_doorstep);

pub use mobile::{CreatedKey, Doorstep, DoorstepExt, Error, Incoming};

/// Initialises the plugin; the app then reaches it through [`DoorstepExt::doorstep`].
pub fn init<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("doorstep")
        .setup(|app, api| {
            use tauri::Manager;
            #[cfg(target_os = "android")]
            let handle = api.register_android_plugin("app.doorstep.plugin", "DoorstepPlugin")?;
            #[cfg(target_os = "ios")]
            let handle = api.register_ios_plugin(init_plugin_doorstep)?;
            app.manage(Doorstep::new(handle));
            Ok(())
        })
        .build()
}
