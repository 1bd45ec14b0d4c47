//! Organisation key rotation on the back-office: a new key, a hand-over document signed by the
//! current one, and the current one's retirement at the end of the overlap. Devices apply the
//! hand-overs in order (`doorstep_core::rotation`); a build's pin may keep naming the old key.

use std::path::Path;

use doorstep_core::rotation::{KeyRotation, MIN_OVERLAP};
use doorstep_core::{PublicKey, SoftwareKey};

use super::organisations::Organisation;
use super::rows;
use crate::keys::{self, load_signing_key, signing_key_path};
use crate::{Db, ServerError};

impl Db {
    /// Rotates the organisation's signing key: the new key signs from now on, the current one
    /// stays trusted for `overlap` seconds (at least a day). Returns the new public key.
    pub async fn rotate_key(
        &self,
        org: &Organisation,
        key_dir: &Path,
        overlap: u64,
        now: u64,
    ) -> Result<PublicKey, ServerError> {
        if overlap < MIN_OVERLAP {
            return Err(ServerError::Invalid(format!(
                "the overlap must be at least {} hours, so every phone syncs within it",
                MIN_OVERLAP / 3600
            )));
        }
        let current = load_signing_key(&signing_key_path(key_dir, &org.id))?;
        if org.signing_key() != Some(&current.public_key()) {
            return Err(ServerError::SigningKey {
                path: signing_key_path(key_dir, &org.id).display().to_string(),
                reason: "it is not the organisation's newest key".into(),
            });
        }
        let new: SoftwareKey = keys::create_pending_key(key_dir, &org.id)?;
        let rotation = KeyRotation {
            issued_at: now,
            new_key: new.public_key(),
            replaces: current.public_key().key_id(),
            retire_at: now + overlap,
        };
        let encoded = rotation
            .to_sign(current.public_key())
            .sign_with(&current)
            .map_err(|e| ServerError::Damaged(e.to_string()))?;
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO organisation_keys (key_id, organisation_id, public_key, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(new.public_key().key_id().0.to_vec())
        .bind(org.id.as_bytes().to_vec())
        .bind(new.public_key().as_bytes().to_vec())
        .bind(rows::signed(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE organisation_keys SET retired_at = $1 WHERE key_id = $2")
            .bind(rows::signed(now + overlap))
            .bind(current.public_key().key_id().0.to_vec())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO key_rotations (organisation_id, issued_at, new_key_id, encoded) VALUES ($1, $2, $3, $4)",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(rows::signed(now))
        .bind(new.public_key().key_id().0.to_vec())
        .bind(&encoded)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        keys::install_pending_key(key_dir, &org.id, &current.public_key())?;
        Ok(new.public_key())
    }

    /// Every hand-over of the organisation, oldest first, for devices to apply.
    pub async fn key_rotations(&self, org: &Organisation) -> Result<Vec<Vec<u8>>, ServerError> {
        Ok(sqlx::query_scalar(
            "SELECT encoded FROM key_rotations WHERE organisation_id = $1 ORDER BY issued_at, new_key_id",
        )
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?)
    }
}
