//! The organisations' private keys: made once into owner-only files, loaded from them when
//! first needed, and used through one of the ECDSA [`backends`].

pub mod backends;

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use doorstep_core::signed::DocumentToSign;
use doorstep_core::system::SystemRandomness;
use doorstep_core::{PublicKey, Signature, SoftwareKey};
use uuid::Uuid;

use crate::ServerError;
use crate::db::organisations::Organisation;
use backends::{Crypto, SigningKey};

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

    pub fn verifier(&self, key: &PublicKey) -> crate::keys::backends::Verifier {
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

    /// The signer for the organisation's newest key. After a rotation (`Db::rotate_key`) the
    /// next call loads the new key file, so running servers switch without a restart.
    pub fn signer(&self, org: &Organisation) -> Result<OrganisationSigner, ServerError> {
        let newest = org.keys.last();
        if let Some(s) = self.loaded.lock().expect("key ring lock").get(&org.id)
            && Some(&s.public_key()) == newest
        {
            return Ok(s.clone());
        }
        let path = signing_key_path(&self.dir, &org.id);
        let signer = OrganisationSigner::new(load_signing_key(&path)?, self.crypto)?;
        if Some(&signer.public_key()) != newest {
            return Err(ServerError::SigningKey {
                path: path.display().to_string(),
                reason: "it is not the organisation's newest key".into(),
            });
        }
        self.loaded
            .lock()
            .expect("key ring lock")
            .insert(org.id, signer.clone());
        Ok(signer)
    }
}

/// Where an organisation's signing key is kept, beside the database or where the operator says.
pub fn signing_key_path(dir: &Path, organisation: &Uuid) -> PathBuf {
    dir.join(format!("organisation-{organisation}.key"))
}

fn key_error(path: &Path, reason: impl ToString) -> ServerError {
    ServerError::SigningKey {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// Where a new key waits during a rotation, and where a replaced key is kept afterwards (the
/// back-office never signs with it again; it is kept only so an audit can match old documents).
pub fn pending_key_path(dir: &Path, organisation: &Uuid) -> PathBuf {
    dir.join(format!("organisation-{organisation}.key.new"))
}

pub fn replaced_key_path(dir: &Path, organisation: &Uuid, key: &PublicKey) -> PathBuf {
    dir.join(format!(
        "organisation-{organisation}-{}.replaced.key",
        key.key_id()
    ))
}

/// Writes a fresh key where a rotation expects it; returns it.
pub fn create_pending_key(dir: &Path, organisation: &Uuid) -> Result<SoftwareKey, ServerError> {
    let key = SoftwareKey::generate(&mut SystemRandomness);
    write_private(&pending_key_path(dir, organisation), &key)?;
    Ok(key)
}

/// Makes the pending key the signing key, keeping the replaced one aside.
pub fn install_pending_key(
    dir: &Path,
    organisation: &Uuid,
    replaced: &PublicKey,
) -> Result<(), ServerError> {
    let current = signing_key_path(dir, organisation);
    let aside = replaced_key_path(dir, organisation, replaced);
    std::fs::rename(&current, &aside).map_err(|e| key_error(&current, e))?;
    let pending = pending_key_path(dir, organisation);
    std::fs::rename(&pending, &current).map_err(|e| key_error(&pending, e))
}

/// Makes an organisation's signing key and writes it where only its owner can read it; returns
/// the public half.
pub fn create_signing_key(dir: &Path, organisation: &Uuid) -> Result<PublicKey, ServerError> {
    let key = SoftwareKey::generate(&mut SystemRandomness);
    write_private(&signing_key_path(dir, organisation), &key)?;
    Ok(key.public_key())
}

fn write_private(path: &Path, key: &SoftwareKey) -> Result<(), ServerError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| key_error(path, e))?;
    file.write_all(hex::encode(key.to_bytes()).as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| key_error(path, e))
}

pub fn load_signing_key(path: &Path) -> Result<SoftwareKey, ServerError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
    let bytes = hex::decode(text.trim()).map_err(|e| key_error(path, e))?;
    SoftwareKey::from_bytes(&bytes).map_err(|e| key_error(path, e))
}
