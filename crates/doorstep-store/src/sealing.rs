//! Encryption of personal data at rest, column by column.
//!
//! The data key comes from a [`KeyProvider`]: the platform's key store on a phone or desktop, a
//! file with owner-only permissions where there is none. Each sealed value is bound to its table,
//! column and row (the associated data), so a value copied to another row does not open.

use std::io::Write;
use std::path::PathBuf;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::StoreError;

const FORMAT: u8 = 1;
const NONCE_LEN: usize = 24;

/// Where the device's data key lives. Implementations: [`FileKeyProvider`] here, the desktop's
/// key store in `doorstep-keyring`; the mobile apps add Android Keystore and the iOS Keychain.
pub trait KeyProvider: Send + Sync {
    fn data_key(&self) -> Result<[u8; 32], StoreError>;
}

/// A 32-byte key in a file readable only by its owner, created on first use.
pub struct FileKeyProvider {
    path: PathBuf,
}

impl FileKeyProvider {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }
}

impl KeyProvider for FileKeyProvider {
    fn data_key(&self) -> Result<[u8; 32], StoreError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => bytes
                .try_into()
                .map_err(|_| StoreError::KeyUnavailable("the key file is damaged".into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| StoreError::KeyUnavailable(e.to_string()))?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options
                    .open(&self.path)
                    .map_err(|e| StoreError::KeyUnavailable(e.to_string()))?;
                file.write_all(&key)
                    .and_then(|()| file.sync_all())
                    .map_err(|e| StoreError::KeyUnavailable(e.to_string()))?;
                Ok(key)
            }
            Err(e) => Err(StoreError::KeyUnavailable(e.to_string())),
        }
    }
}

/// Seals and opens column values with the data key.
pub(crate) struct Sealer {
    cipher: XChaCha20Poly1305,
}

/// A column that holds sealed values. With the row's key it is the associated data, so a value
/// copied to another row or column does not open.
#[derive(Clone, Copy)]
pub(crate) struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
}

impl SealedColumn {
    fn associated_data(&self, row: &[u8]) -> Vec<u8> {
        let mut aad = Vec::with_capacity(64);
        for part in [self.table.as_bytes(), self.column.as_bytes(), row] {
            aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
            aad.extend_from_slice(part);
        }
        aad
    }
}

impl Sealer {
    pub fn new(key: [u8; 32]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&key.into()),
        }
    }

    pub fn seal(
        &self,
        column: SealedColumn,
        row: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| StoreError::KeyUnavailable(e.to_string()))?;
        let aad = column.associated_data(row);
        let ciphertext = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Sealing)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(FORMAT);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    pub fn open(
        &self,
        column: SealedColumn,
        row: &[u8],
        sealed: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let (&format, rest) = sealed.split_first().ok_or(StoreError::Sealing)?;
        if format != FORMAT || rest.len() < NONCE_LEN {
            return Err(StoreError::Sealing);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = XNonce::try_from(nonce).map_err(|_| StoreError::Sealing)?;
        let aad = column.associated_data(row);
        self.cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| StoreError::Sealing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMN: SealedColumn = SealedColumn {
        table: "visits",
        column: "customer_data_sealed",
    };

    #[test]
    fn sealed_values_open_only_in_their_place_and_with_their_key() {
        let sealer = Sealer::new([1; 32]);
        let sealed = sealer.seal(COLUMN, b"row-1", b"Jane Doe").unwrap();
        assert!(!sealed.windows(8).any(|w| w == b"Jane Doe"));
        assert_eq!(sealer.open(COLUMN, b"row-1", &sealed).unwrap(), b"Jane Doe");
        assert!(sealer.open(COLUMN, b"row-2", &sealed).is_err());
        assert!(
            Sealer::new([2; 32])
                .open(COLUMN, b"row-1", &sealed)
                .is_err()
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert!(sealer.open(COLUMN, b"row-1", &tampered).is_err());
    }

    #[test]
    fn the_key_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data.key");
        let first = FileKeyProvider::new(&path).data_key().unwrap();
        assert_eq!(FileKeyProvider::new(&path).data_key().unwrap(), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, b"short").unwrap();
        assert!(FileKeyProvider::new(&path).data_key().is_err());
    }
}
