//! The organisations' private keys, loaded from their owner-only files when first needed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use doorstep_core::signed::DocumentToSign;
use doorstep_core::{PublicKey, SoftwareKey};
use uuid::Uuid;

use crate::ServerError;
use crate::organisations::{Organisation, load_signing_key, signing_key_path};

/// One organisation's signing key with its public half worked out once.
#[derive(Clone)]
pub struct OrganisationSigner {
    key: SoftwareKey,
    public: PublicKey,
}

impl OrganisationSigner {
    pub fn new(key: SoftwareKey) -> Self {
        let public = key.public_key();
        Self { key, public }
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    pub fn sign(&self, document: DocumentToSign) -> Result<Vec<u8>, ServerError> {
        document
            .sign_with(&self.key)
            .map_err(|e| ServerError::Damaged(format!("signing failed: {e}")))
    }
}

#[derive(Clone)]
pub struct KeyRing {
    dir: PathBuf,
    loaded: Arc<Mutex<HashMap<Uuid, OrganisationSigner>>>,
}

impl KeyRing {
    pub fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            loaded: Arc::default(),
        }
    }

    pub fn signer(&self, org: &Organisation) -> Result<OrganisationSigner, ServerError> {
        if let Some(s) = self.loaded.lock().expect("key ring lock").get(&org.id) {
            return Ok(s.clone());
        }
        let path = signing_key_path(&self.dir, &org.id);
        let signer = OrganisationSigner::new(load_signing_key(&path)?);
        if !org.keys.contains(&signer.public_key()) {
            return Err(ServerError::SigningKey {
                path: path.display().to_string(),
                reason: "it is not one of the organisation's current keys".into(),
            });
        }
        self.loaded
            .lock()
            .expect("key ring lock")
            .insert(org.id, signer.clone());
        Ok(signer)
    }
}
