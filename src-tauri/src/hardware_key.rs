//! The device key in the phone's secure hardware (Android Keystore, the iOS Secure Enclave),
//! through the app's plugin. Phone builds sign only with it: the store holds no private key.

use doorstep_core::{PublicKey, Signature};
use doorstep_device::{public_key_from_platform, signature_from_platform};
use doorstep_sync::{DeviceSigner, SyncError};
use tauri::Runtime;
use tauri_plugin_doorstep::DoorstepExt;

/// The key's name in the platform's key store.
const ALIAS: &str = "doorstep-device-key";

/// What the key's creation is attested over until enrolment sends a fresh challenge (not yet:
/// docs/mobile.md).
const ATTESTATION_CONTEXT: &[u8] = b"doorstep device key";

pub struct PluginKey<R: Runtime> {
    app: tauri::AppHandle<R>,
    public: PublicKey,
}

fn failed(e: tauri_plugin_doorstep::Error) -> SyncError {
    SyncError::Signing(e.to_string())
}

impl<R: Runtime> PluginKey<R> {
    /// The hardware key, made on the app's first start.
    pub fn open(app: &tauri::AppHandle<R>) -> Result<Self, SyncError> {
        let plugin = app.doorstep();
        let exported = match plugin.key_public(ALIAS).map_err(failed)? {
            Some(exported) => exported,
            None => {
                plugin
                    .key_create(ALIAS, ATTESTATION_CONTEXT)
                    .map_err(failed)?
                    .public_key
            }
        };
        Ok(Self {
            app: app.clone(),
            public: public_key_from_platform(&exported)?,
        })
    }
}

impl<R: Runtime> DeviceSigner for PluginKey<R> {
    fn public_key(&self) -> PublicKey {
        self.public
    }

    fn sign(&self, bytes: &[u8]) -> Result<Signature, SyncError> {
        let der = self.app.doorstep().key_sign(ALIAS, bytes).map_err(failed)?;
        signature_from_platform(&self.public, bytes, &der)
    }
}
