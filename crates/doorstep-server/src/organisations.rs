//! Organisations and their signing keys. The private key is written once to a file only its
//! owner can read; the database holds public keys only, so a database leak forges nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use doorstep_core::{PublicKey, Randomness, SoftwareKey};
use sqlx::Row;
use uuid::Uuid;

use crate::{Db, ServerError, now_unix};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: Uuid,
    pub name: String,
    pub keys: Vec<PublicKey>,
    /// The number customers are told to call when in doubt; printed in every notice.
    pub official_phone: String,
    /// Days personal data is kept after a visit; printed in notices and enforced by `purge`.
    pub retention_days: u32,
}

/// What an operator chooses when creating an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation<'a> {
    pub name: &'a str,
    pub official_phone: &'a str,
    pub retention_days: u32,
}

pub(crate) struct SystemRandomness;

impl Randomness for SystemRandomness {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        getrandom::fill(dest).expect("the system random source is available");
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

impl Db {
    /// Creates an organisation with a fresh signing key written to `key_dir`.
    pub async fn create_organisation(
        &self,
        new: &NewOrganisation<'_>,
        key_dir: &Path,
    ) -> Result<Organisation, ServerError> {
        let name = new.name;
        if self.organisation(name).await.is_ok() {
            return Err(ServerError::OrganisationExists(name.into()));
        }
        let id = Uuid::now_v7();
        let key = SoftwareKey::generate(&mut SystemRandomness);
        let path = signing_key_path(key_dir, &id);
        write_private(&path, &key)?;
        let public = key.public_key();
        let now = now_unix();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO organisations (id, name, created_at, official_phone, retention_days) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(name)
        .bind(now)
        .bind(new.official_phone)
        .bind(i64::from(new.retention_days))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO organisation_keys (key_id, organisation_id, public_key, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(public.key_id().0.to_vec())
        .bind(id.as_bytes().to_vec())
        .bind(public.as_bytes().to_vec())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Organisation {
            id,
            name: name.into(),
            keys: vec![public],
            official_phone: new.official_phone.into(),
            retention_days: new.retention_days,
        })
    }

    pub async fn organisation(&self, name: &str) -> Result<Organisation, ServerError> {
        let row = sqlx::query(
            "SELECT id, name, official_phone, retention_days FROM organisations WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownOrganisation(name.into()))?;
        self.organisation_from_row(&row).await
    }

    pub async fn organisation_by_id(&self, id: Uuid) -> Result<Organisation, ServerError> {
        let row = sqlx::query(
            "SELECT id, name, official_phone, retention_days FROM organisations WHERE id = $1",
        )
        .bind(id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownOrganisation(id.to_string()))?;
        self.organisation_from_row(&row).await
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>, ServerError> {
        let rows = sqlx::query(
            "SELECT id, name, official_phone, retention_days FROM organisations ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            out.push(self.organisation_from_row(row).await?);
        }
        Ok(out)
    }

    async fn organisation_from_row(
        &self,
        row: &sqlx::any::AnyRow,
    ) -> Result<Organisation, ServerError> {
        let id = crate::rows::uuid(row, "id")?;
        let keys = sqlx::query(
            "SELECT public_key FROM organisation_keys WHERE organisation_id = $1 AND retired_at IS NULL ORDER BY created_at",
        )
        .bind(id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let k: Vec<u8> = r.try_get("public_key")?;
            PublicKey::from_compressed(&k).map_err(|e| ServerError::Damaged(e.to_string()))
        })
        .collect::<Result<_, _>>()?;
        Ok(Organisation {
            id,
            name: row.try_get("name")?,
            keys,
            official_phone: row.try_get("official_phone")?,
            retention_days: u32::try_from(row.try_get::<i64, _>("retention_days")?)
                .map_err(|_| ServerError::Damaged("retention days".into()))?,
        })
    }
}
