//! Devices and their one-time enrolment codes. A code is good for one device, for a limited
//! time (an agent's two weeks, a customer's a few days, as the organisation sets); only its hash
//! is stored.
//!
//! A code redeemed for someone who already has a device does not move the account at once: a
//! phone scammer who talked a customer out of their code would otherwise receive their notices.
//! The new device is *held*: it receives nothing, the earlier device keeps working and is told
//! at its next sync, and only when the organisation's cooling-off period has passed (or the
//! back-office confirms, `device confirm`) does the new device take over and the earlier one get
//! revoked. Revoking the held device during the hold (`device revoke`) ends the attempt.

use doorstep_api::wire::{DeviceStanding, NewDevice, Role};
use doorstep_core::enrolment::{ENROLMENT_CODE_LEN, EnrolmentCode, EnrolmentInvite};
use doorstep_core::keys::sha256;
use doorstep_core::{KeyId, PublicKey};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organisations::Organisation;
use super::rows;
use crate::{Db, ServerError};

/// How long an agent's enrolment code stays valid; a customer's lasts the organisation's
/// `customer_code_days`.
pub const ENROLMENT_CODE_LIFETIME: u64 = 14 * 86_400;

const DEVICE_COLUMNS: &str =
    "id, organisation_id, role, subject_id, public_key, revoked_at, held_until";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    /// The agent's or the customer's id.
    pub subject_id: Uuid,
    pub public_key: PublicKey,
    pub revoked_at: Option<i64>,
    /// A device enrolled for someone who already had one receives nothing before this time.
    pub held_until: Option<u64>,
}

/// A freshly made code, to print in a letter or send by SMS.
#[derive(Debug, Clone)]
pub struct IssuedCode {
    pub invite: EnrolmentInvite,
    pub expires_at: u64,
}

fn code_hash(code: &EnrolmentCode) -> Vec<u8> {
    sha256(&[b"DS1 enrolment code", &code.0]).to_vec()
}

fn device_from_row(r: &AnyRow) -> Result<Device, ServerError> {
    let role: String = r.try_get("role")?;
    let key: Vec<u8> = r.try_get("public_key")?;
    Ok(Device {
        id: rows::uuid(r, "id")?,
        organisation_id: rows::uuid(r, "organisation_id")?,
        role: Role::parse(&role).ok_or_else(|| ServerError::Damaged("device role".into()))?,
        subject_id: rows::uuid(r, "subject_id")?,
        public_key: PublicKey::from_compressed(&key)
            .map_err(|_| ServerError::Damaged("device key".into()))?,
        revoked_at: r.try_get("revoked_at")?,
        held_until: r
            .try_get::<Option<i64>, _>("held_until")?
            .map(|t| u64::try_from(t).unwrap_or(0)),
    })
}

impl Db {
    /// A one-time code enrolling a device for the agent or customer named by `subject_ref`.
    pub async fn issue_enrolment_code(
        &self,
        org: &Organisation,
        role: Role,
        subject_ref: &str,
        server_url: &str,
        now: u64,
    ) -> Result<IssuedCode, ServerError> {
        let subject_id = match role {
            Role::Agent => {
                let agent = self.agent(org, subject_ref).await?;
                if agent.revoked_at.is_some() {
                    return Err(ServerError::AgentRevoked(subject_ref.into()));
                }
                agent.id
            }
            Role::Customer => {
                let customer = self.customer(org, subject_ref).await?;
                if self.customer_revoked(customer.id).await? {
                    return Err(ServerError::CustomerRevoked(subject_ref.into()));
                }
                customer.id
            }
        };
        let mut code = [0u8; ENROLMENT_CODE_LEN];
        getrandom::fill(&mut code).expect("the system random source is available");
        let code = EnrolmentCode(code);
        let expires_at = now
            + match role {
                Role::Agent => ENROLMENT_CODE_LIFETIME,
                Role::Customer => u64::from(org.customer_code_days) * 86_400,
            };
        sqlx::query(
            "INSERT INTO enrolment_codes (code_hash, organisation_id, role, subject_id, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code_hash(&code))
        .bind(org.id.as_bytes().to_vec())
        .bind(role.as_str())
        .bind(subject_id.as_bytes().to_vec())
        .bind(rows::signed(now))
        .bind(rows::signed(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(IssuedCode {
            invite: EnrolmentInvite {
                server_url: server_url.into(),
                organisation_name: org.name.clone(),
                code,
            },
            expires_at,
        })
    }

    /// Redeems a code for `public_key`, atomically: two devices racing with one code get one
    /// enrolment and one `enrolment_code_used`.
    pub async fn enrol_device(
        &self,
        code: &EnrolmentCode,
        public_key: PublicKey,
        attestation: Option<&str>,
        now: u64,
    ) -> Result<(Device, Organisation), ServerError> {
        let mut tx = self.pool.begin().await?;
        let row = sqlx::query(
            "SELECT organisation_id, role, subject_id, expires_at, redeemed_at FROM enrolment_codes WHERE code_hash = $1",
        )
        .bind(code_hash(code))
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(ServerError::UnknownEnrolmentCode)?;
        if row.try_get::<Option<i64>, _>("redeemed_at")?.is_some() {
            return Err(ServerError::EnrolmentCodeUsed);
        }
        if rows::unsigned(&row, "expires_at")? <= now {
            return Err(ServerError::EnrolmentCodeExpired);
        }
        let claimed = sqlx::query(
            "UPDATE enrolment_codes SET redeemed_at = $1 WHERE code_hash = $2 AND redeemed_at IS NULL",
        )
        .bind(rows::signed(now))
        .bind(code_hash(code))
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if claimed != 1 {
            return Err(ServerError::EnrolmentCodeUsed);
        }
        let role: String = row.try_get("role")?;
        let role = Role::parse(&role).ok_or_else(|| ServerError::Damaged("code role".into()))?;
        let organisation_id = rows::uuid(&row, "organisation_id")?;
        let subject_id = rows::uuid(&row, "subject_id")?;
        // A person revoked since the code was issued enrols nothing with it.
        let (subjects, revoked_error): (&str, fn(String) -> ServerError) = match role {
            Role::Agent => ("agents", ServerError::AgentRevoked),
            Role::Customer => ("customers", ServerError::CustomerRevoked),
        };
        let revoked: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT revoked_at FROM {subjects} WHERE id = $1"
        )))
        .bind(subject_id.as_bytes().to_vec())
        .fetch_one(&mut *tx)
        .await?;
        if revoked.is_some() {
            return Err(revoked_error(subject_id.to_string()));
        }
        // Someone with a device already: the new one is held through the cooling-off period.
        let has_device: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM devices WHERE subject_id = $1 AND revoked_at IS NULL",
        )
        .bind(subject_id.as_bytes().to_vec())
        .fetch_one(&mut *tx)
        .await?;
        let held_until = if has_device > 0 {
            let hours: i64 =
                sqlx::query_scalar("SELECT cooling_off_hours FROM organisations WHERE id = $1")
                    .bind(organisation_id.as_bytes().to_vec())
                    .fetch_one(&mut *tx)
                    .await?;
            Some(now + u64::try_from(hours).unwrap_or(0) * 3600)
        } else {
            None
        };
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO devices (id, organisation_id, role, subject_id, key_id, public_key, enrolled_at, held_until, attestation)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(organisation_id.as_bytes().to_vec())
        .bind(role.as_str())
        .bind(subject_id.as_bytes().to_vec())
        .bind(public_key.key_id().0.to_vec())
        .bind(public_key.as_bytes().to_vec())
        .bind(rows::signed(now))
        .bind(held_until.map(rows::signed))
        .bind(attestation)
        .execute(&mut *tx)
        .await;
        match inserted {
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(ServerError::KeyAlreadyEnrolled);
            }
            other => {
                other?;
            }
        }
        tx.commit().await?;
        let org = self.organisation_by_id(organisation_id).await?;
        Ok((
            Device {
                id,
                organisation_id,
                role,
                subject_id,
                public_key,
                revoked_at: None,
                held_until,
            },
            org,
        ))
    }

    /// The device a request's key id names, revoked or not.
    pub async fn device_by_key(&self, key_id: KeyId) -> Result<Option<Device>, ServerError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM devices WHERE key_id = $1"
        )))
        .bind(key_id.0.to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| device_from_row(&r))
        .transpose()
    }

    /// The person's current device, if they have enrolled one; a held one is not current yet.
    pub(crate) async fn active_device_of(
        &self,
        subject_id: Uuid,
    ) -> Result<Option<Device>, ServerError> {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DEVICE_COLUMNS} FROM devices
             WHERE subject_id = $1 AND revoked_at IS NULL AND held_until IS NULL
             ORDER BY enrolled_at DESC LIMIT 1"
        )))
        .bind(subject_id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| device_from_row(&r))
        .transpose()
    }

    /// Held devices whose cooling-off period has passed take over: each one's person's other
    /// devices are revoked (as of the end of the hold) and the hold lifted. Idempotent; every
    /// signed request runs it first, so no timer is needed.
    pub async fn release_held_devices(&self, now: u64) -> Result<(), ServerError> {
        let due = sqlx::query(
            "SELECT id, subject_id, held_until FROM devices
             WHERE held_until IS NOT NULL AND held_until <= $1 AND revoked_at IS NULL
             ORDER BY held_until",
        )
        .bind(rows::signed(now))
        .fetch_all(&self.pool)
        .await?;
        for row in &due {
            let id: Vec<u8> = row.try_get("id")?;
            let subject: Vec<u8> = row.try_get("subject_id")?;
            let released_at: i64 = row.try_get("held_until")?;
            let mut tx = self.pool.begin().await?;
            sqlx::query(
                "UPDATE devices SET revoked_at = $1
                 WHERE subject_id = $2 AND id <> $3 AND revoked_at IS NULL AND held_until IS NULL",
            )
            .bind(released_at)
            .bind(&subject)
            .bind(&id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE devices SET held_until = NULL WHERE id = $1")
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// The back-office confirmed (on the official line) that a held device is the person's: it
    /// takes over now.
    pub async fn confirm_device(
        &self,
        org: &Organisation,
        device_id: Uuid,
        now: u64,
    ) -> Result<(), ServerError> {
        let held = self
            .set_on_own_device(
                org,
                device_id,
                "held_until = $1",
                "held_until IS NOT NULL AND revoked_at IS NULL",
                now,
            )
            .await?;
        if held == 0 {
            return Err(ServerError::Invalid(format!(
                "device {device_id} is not a held device of this organisation"
            )));
        }
        self.release_held_devices(now).await
    }

    /// What a device should know about its own standing: whether it is held, and whether a new
    /// device was enrolled for its person and waits to take over.
    pub async fn standing(&self, device: &Device) -> Result<DeviceStanding, ServerError> {
        let newer = sqlx::query(
            "SELECT enrolled_at, held_until FROM devices
             WHERE subject_id = $1 AND id <> $2 AND revoked_at IS NULL AND held_until IS NOT NULL
             ORDER BY enrolled_at DESC LIMIT 1",
        )
        .bind(device.subject_id.as_bytes().to_vec())
        .bind(device.id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?;
        let new_device = match (&newer, device.held_until) {
            // A held device is not told about itself or other attempts.
            (Some(row), None) => Some(NewDevice {
                enrolled_at: rows::unsigned(row, "enrolled_at")?,
                takes_over_at: rows::unsigned(row, "held_until")?,
            }),
            _ => None,
        };
        Ok(DeviceStanding {
            held_until: device.held_until,
            new_device,
        })
    }
}
