//! The organisations' private keys, loaded from their owner-only files when first needed.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use doorstep_core::signed::DocumentToSign;
use doorstep_core::{PublicKey, Signature, SoftwareKey};
use uuid::Uuid;

use crate::ServerError;
use crate::crypto::{Crypto, SigningKey};
use crate::organisations::{Organisation, load_signing_key, signing_key_path};

/// One organisation's signing key, with its public half worked out once, and the ECDSA
/// implementation the server signs and verifies with.
#[derive(Clone)]
pub struct OrganisationSigner {
    key: Arc<SigningKey>,
    public: PublicKey,
    crypto: Crypto,
}

impl OrganisationSigner {
    pub fn new(key: SoftwareKey, crypto: Crypto) -> Result<Self, ServerError> {
        let public = key.public_key();
        let key = SigningKey::new(crypto, &key, &public)
            .ok_or_else(|| ServerError::Damaged("the signing key was refused".into()))?;
        Ok(Self {
            key: Arc::new(key),
            public,
            crypto,
        })
    }

    pub fn public_key(&self) -> PublicKey {
        self.public
    }

    pub fn sign(&self, document: DocumentToSign) -> Result<Vec<u8>, ServerError> {
        let signature = self
            .key
            .sign(&document.bytes())
            .ok_or_else(|| ServerError::Damaged("signing failed".into()))?;
        Ok(document.finish_from_own_key(signature))
    }

    pub fn verify(&self, key: &PublicKey, message: &[u8], signature: &Signature) -> bool {
        self.crypto.verify(key, message, signature)
    }

    pub fn verifier(&self, key: &PublicKey) -> crate::crypto::Verifier {
        self.crypto.verifier(key)
    }
}

#[derive(Clone)]
pub struct KeyRing {
    dir: PathBuf,
    crypto: Crypto,
    loaded: Arc<Mutex<HashMap<Uuid, OrganisationSigner>>>,
}

impl KeyRing {
    pub fn new(dir: PathBuf) -> Self {
        Self::with_crypto(dir, Crypto::default())
    }

    pub fn with_crypto(dir: PathBuf, crypto: Crypto) -> Self {
        Self {
            dir,
            crypto,
            loaded: Arc::default(),
        }
    }

    pub fn signer(&self, org: &Organisation) -> Result<OrganisationSigner, ServerError> {
        if let Some(s) = self.loaded.lock().expect("key ring lock").get(&org.id) {
            return Ok(s.clone());
        }
        let path = signing_key_path(&self.dir, &org.id);
        let signer = OrganisationSigner::new(load_signing_key(&path)?, self.crypto)?;
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
