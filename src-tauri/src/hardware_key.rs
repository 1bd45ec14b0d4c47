//! The device key in the phone's secure hardware (Android Keystore, the iOS Secure Enclave),
//! through the app's plugin. Phone builds sign only with it: the store holds no private key.

use doorstep_api::wire;
use doorstep_core::{PublicKey, Signature};
use doorstep_device::{public_key_from_platform, signature_from_platform};
use doorstep_sync::{DeviceSigner, SyncError};
use tauri::Runtime;
use tauri_plugin_doorstep::DoorstepExt;

/// The key's name in the platform's key store.
const ALIAS: &str = "doorstep-device-key";

/// What a key made at first start is attested over. Enrolment makes the key anew over its own
/// challenge (`attest`), and only that attestation is ever sent.
const FIRST_START: &[u8] = b"doorstep device key, first start";

pub struct PluginKey<R: Runtime> {
    app: tauri::AppHandle<R>,
    /// Replaced once, when enrolment makes the key anew.
    public: std::sync::RwLock<PublicKey>,
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
                    .key_create(ALIAS, FIRST_START)
                    .map_err(failed)?
                    .public_key
            }
        };
        Ok(Self {
            app: app.clone(),
            public: std::sync::RwLock::new(public_key_from_platform(&exported)?),
        })
    }
}

impl<R: Runtime> DeviceSigner for PluginKey<R> {
    fn public_key(&self) -> PublicKey {
        *self.public.read().unwrap_or_else(|e| e.into_inner())
    }

    fn sign(&self, bytes: &[u8]) -> Result<Signature, SyncError> {
        let der = self.app.doorstep().key_sign(ALIAS, bytes).map_err(failed)?;
        signature_from_platform(&self.public_key(), bytes, &der)
    }

    /// Before enrolling: the key is made anew, attested over this enrolment's challenge (the
    /// device is not enrolled yet, so nothing depended on the old one).
    fn attest(&self, challenge: &[u8]) -> Result<Option<wire::KeyAttestation>, SyncError> {
        let created = self
            .app
            .doorstep()
            .key_create(ALIAS, challenge)
            .map_err(failed)?;
        *self.public.write().unwrap_or_else(|e| e.into_inner()) =
            public_key_from_platform(&created.public_key)?;
        let attestation = wire::KeyAttestation {
            android_chain: created
                .attestation_chain
                .into_iter()
                .map(wire::Bytes)
                .collect(),
            app_attest: created.app_attest.map(|(key_id, object)| wire::AppAttest {
                key_id,
                object: wire::Bytes(object),
            }),
        };
        Ok(Some(attestation))
    }
}
