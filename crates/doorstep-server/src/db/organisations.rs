//! Organisations and their signing keys. The private key is written once to a file only its
//! owner can read; the database holds public keys only, so a database leak forges nothing.

use std::path::Path;

use doorstep_core::PublicKey;
use doorstep_core::pins::PinnedOrganisation;
use sqlx::Row;
use uuid::Uuid;

use crate::keys;
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
    /// Days a customer's enrolment code stays valid.
    pub customer_code_days: u32,
    /// Hours a device enrolled for someone who already has one is held before it takes over.
    pub cooling_off_hours: u32,
}

impl Organisation {
    /// The key the back-office signs with now: the one not being retired, listed last. Older
    /// ones are still trusted until the end of their rotation's overlap.
    pub fn signing_key(&self) -> Option<&PublicKey> {
        self.keys.last()
    }

    /// What an app build pins for this organisation when its back-office is at `back_office`.
    pub fn pin(&self, back_office: &str) -> PinnedOrganisation {
        PinnedOrganisation {
            name: self.name.clone(),
            official_phone: self.official_phone.clone(),
            back_office: back_office.trim_end_matches('/').to_string(),
            keys: self.keys.clone(),
        }
    }
}

/// What an operator chooses when creating an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganisation<'a> {
    pub name: &'a str,
    pub official_phone: &'a str,
    pub retention_days: u32,
    pub customer_code_days: u32,
    pub cooling_off_hours: u32,
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
        let public = keys::create_signing_key(key_dir, &id)?;
        let now = now_unix();
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO organisations (id, name, created_at, official_phone, retention_days, customer_code_days, cooling_off_hours)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(name)
        .bind(now)
        .bind(new.official_phone)
        .bind(i64::from(new.retention_days))
        .bind(i64::from(new.customer_code_days))
        .bind(i64::from(new.cooling_off_hours))
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
            customer_code_days: new.customer_code_days,
            cooling_off_hours: new.cooling_off_hours,
        })
    }

    pub async fn organisation(&self, name: &str) -> Result<Organisation, ServerError> {
        let row = sqlx::query(
            "SELECT id, name, official_phone, retention_days, customer_code_days, cooling_off_hours FROM organisations WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownOrganisation(name.into()))?;
        self.organisation_from_row(&row).await
    }

    /// Changes the settings an admin may change from the console. The official number is not
    /// one of them: app builds pin it, and a number that changed only here would not be the
    /// number customers' apps show.
    pub async fn update_settings(
        &self,
        org: &Organisation,
        settings: &Settings,
    ) -> Result<Organisation, ServerError> {
        settings.check()?;
        sqlx::query(
            "UPDATE organisations SET retention_days = $1, customer_code_days = $2, cooling_off_hours = $3 WHERE id = $4",
        )
        .bind(i64::from(settings.retention_days))
        .bind(i64::from(settings.customer_code_days))
        .bind(i64::from(settings.cooling_off_hours))
        .bind(org.id.as_bytes().to_vec())
        .execute(&self.pool)
        .await?;
        self.organisation_by_id(org.id).await
    }

    pub async fn organisation_by_id(&self, id: Uuid) -> Result<Organisation, ServerError> {
        let row = sqlx::query(
            "SELECT id, name, official_phone, retention_days, customer_code_days, cooling_off_hours FROM organisations WHERE id = $1",
        )
        .bind(id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownOrganisation(id.to_string()))?;
        self.organisation_from_row(&row).await
    }

    /// The organisation's public keys, including every one of `key_ids` that is its own: from
    /// memory when they are all known, else read again. Ingest checks each batch's tickets with
    /// these without a query per batch.
    pub async fn organisation_keys_including(
        &self,
        organisation_id: Uuid,
        key_ids: &[doorstep_core::KeyId],
    ) -> Result<Vec<PublicKey>, ServerError> {
        let cached = self
            .organisation_keys
            .read()
            .expect("organisation keys lock")
            .get(&organisation_id)
            .filter(|keys| {
                key_ids
                    .iter()
                    .all(|id| keys.iter().any(|k| k.key_id() == *id))
            })
            .cloned();
        if let Some(keys) = cached {
            return Ok(keys);
        }
        let keys = self.organisation_by_id(organisation_id).await?.keys;
        self.organisation_keys
            .write()
            .expect("organisation keys lock")
            .insert(organisation_id, keys.clone());
        Ok(keys)
    }

    pub async fn organisations(&self) -> Result<Vec<Organisation>, ServerError> {
        let rows = sqlx::query(
            "SELECT id, name, official_phone, retention_days, customer_code_days, cooling_off_hours FROM organisations ORDER BY name",
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
        let id = super::rows::uuid(row, "id")?;
        let keys = sqlx::query(
            "SELECT public_key FROM organisation_keys
             WHERE organisation_id = $1 AND (retired_at IS NULL OR retired_at > $2)
             ORDER BY CASE WHEN retired_at IS NULL THEN 1 ELSE 0 END, created_at, key_id",
        )
        .bind(id.as_bytes().to_vec())
        .bind(now_unix())
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
            customer_code_days: u32::try_from(row.try_get::<i64, _>("customer_code_days")?)
                .map_err(|_| ServerError::Damaged("customer code days".into()))?,
            cooling_off_hours: u32::try_from(row.try_get::<i64, _>("cooling_off_hours")?)
                .map_err(|_| ServerError::Damaged("cooling-off hours".into()))?,
        })
    }
}

/// The organisation's settings an admin changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub retention_days: u32,
    pub customer_code_days: u32,
    pub cooling_off_hours: u32,
}

impl Settings {
    /// Bounds that keep each setting meaningful: personal data kept at least a day and at most
    /// ten years, a code valid one to ninety days, a cooling-off of at most a month.
    pub fn check(&self) -> Result<(), ServerError> {
        let problems: Vec<&str> = [
            (
                !(1..=3650).contains(&self.retention_days),
                "retention is 1 to 3650 days",
            ),
            (
                !(1..=90).contains(&self.customer_code_days),
                "a customer's code is valid 1 to 90 days",
            ),
            (
                self.cooling_off_hours > 720,
                "the cooling-off is at most 720 hours",
            ),
        ]
        .into_iter()
        .filter_map(|(bad, why)| bad.then_some(why))
        .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ServerError::Invalid(problems.join("; ")))
        }
    }
}
