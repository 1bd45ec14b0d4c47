//! Devices and their one-time enrolment codes. A code is good for one device, for a limited
//! time; only its hash is stored. Enrolling a new device for a person revokes their earlier one:
//! a replaced phone must not keep working.

use doorstep_api::wire::Role;
use doorstep_core::enrolment::{ENROLMENT_CODE_LEN, EnrolmentCode, EnrolmentInvite};
use doorstep_core::keys::sha256;
use doorstep_core::{KeyId, PublicKey};
use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organisations::Organisation;
use super::rows;
use crate::{Db, ServerError};

/// How long an enrolment code stays valid.
pub const ENROLMENT_CODE_LIFETIME: u64 = 14 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub role: Role,
    /// The agent's or the customer's id.
    pub subject_id: Uuid,
    pub public_key: PublicKey,
    pub revoked_at: Option<i64>,
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
        let expires_at = now + ENROLMENT_CODE_LIFETIME;
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
        sqlx::query(
            "UPDATE devices SET revoked_at = $1 WHERE subject_id = $2 AND revoked_at IS NULL",
        )
        .bind(rows::signed(now))
        .bind(subject_id.as_bytes().to_vec())
        .execute(&mut *tx)
        .await?;
        let id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO devices (id, organisation_id, role, subject_id, key_id, public_key, enrolled_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(organisation_id.as_bytes().to_vec())
        .bind(role.as_str())
        .bind(subject_id.as_bytes().to_vec())
        .bind(public_key.key_id().0.to_vec())
        .bind(public_key.as_bytes().to_vec())
        .bind(rows::signed(now))
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
            },
            org,
        ))
    }

    /// The device a request's key id names, revoked or not.
    pub async fn device_by_key(&self, key_id: KeyId) -> Result<Option<Device>, ServerError> {
        sqlx::query(
            "SELECT id, organisation_id, role, subject_id, public_key, revoked_at FROM devices WHERE key_id = $1",
        )
        .bind(key_id.0.to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| device_from_row(&r))
        .transpose()
    }

    /// The person's current device, if they have enrolled one.
    pub(crate) async fn active_device_of(
        &self,
        subject_id: Uuid,
    ) -> Result<Option<Device>, ServerError> {
        sqlx::query(
            "SELECT id, organisation_id, role, subject_id, public_key, revoked_at FROM devices
             WHERE subject_id = $1 AND revoked_at IS NULL ORDER BY enrolled_at DESC LIMIT 1",
        )
        .bind(subject_id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| device_from_row(&r))
        .transpose()
    }
}
