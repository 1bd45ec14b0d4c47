//! The device store's data key held by the desktop's key store (Secret Service on Linux, the
//! Keychain on macOS, the Credential Manager on Windows) instead of a file: a copied data
//! directory then holds only sealed data. Phones use their own key stores through the app.
//!
//! The key is created on first use and stored as hex under a service and account name, one
//! entry per store.

use doorstep_store::{KeyProvider, StoreError};

pub const SERVICE: &str = "Doorstep device store";

pub struct KeyringKeyProvider {
    entry: keyring::Entry,
}

fn unavailable(e: impl std::fmt::Display) -> StoreError {
    StoreError::KeyUnavailable(format!("the desktop key store: {e}"))
}

impl KeyringKeyProvider {
    /// The key of the store named `account` (one per data directory, say).
    pub fn new(account: &str) -> Result<Self, StoreError> {
        Ok(Self {
            entry: keyring::Entry::new(SERVICE, account).map_err(unavailable)?,
        })
    }

    /// Forgets the key: everything sealed with it becomes unreadable (for "remove this device").
    pub fn forget(&self) -> Result<(), StoreError> {
        match self.entry.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

impl KeyProvider for KeyringKeyProvider {
    fn data_key(&self) -> Result<[u8; 32], StoreError> {
        match self.entry.get_password() {
            Ok(hex_key) => hex::decode(hex_key.trim())
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or_else(|| unavailable("the stored key is damaged")),
            Err(keyring::Error::NoEntry) => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(unavailable)?;
                self.entry
                    .set_password(&hex::encode(key))
                    .map_err(unavailable)?;
                // Read back: a key store that silently dropped it would cost the data later.
                match self.entry.get_password() {
                    Ok(stored) if stored == hex::encode(key) => Ok(key),
                    Ok(_) => Err(unavailable("the key did not read back")),
                    Err(e) => Err(unavailable(e)),
                }
            }
            Err(e) => Err(unavailable(e)),
        }
    }
}
