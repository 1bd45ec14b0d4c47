//! Revocation: cancelling a visit, revoking one device, revoking a customer. Each changes what
//! the next denylist snapshot holds (`db::denylist`), which both phones pick up at their next
//! sync and check offline at the door.

use doorstep_core::Role;
use sqlx::Row;
use uuid::Uuid;

use super::organisations::Organisation;
use super::rows;
use crate::{Db, ServerError};

/// A device as the operator lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct DeviceListing {
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: Uuid,
    pub role: Role,
    /// The agent's staff reference or the customer's reference.
    pub subject_ref: String,
    pub key_id: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub enrolled_at: u64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub revoked_at: Option<u64>,
    /// Enrolled for someone who already had a device: receives nothing until then.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub held_until: Option<u64>,
    /// What the key's attestation showed at enrolment; `None`: none was sent.
    pub attestation: Option<String>,
    /// Its last signed request (a sync); `None`: none since enrolment.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub last_seen_at: Option<u64>,
}

/// A cancelled visit's tickets stay on the denylist this long after the visit's window ended,
/// so a phone whose clock runs late still refuses them.
pub const CANCELLED_TICKETS_KEPT: u64 = 24 * 3600;

impl Db {
    /// Cancels a visit: it leaves the agent's package and the customer's notices, and every
    /// ticket already issued for it goes on the denylist. Returns how many tickets that is.
    pub async fn cancel_visit(
        &self,
        org: &Organisation,
        visit_ref: &str,
        now: u64,
    ) -> Result<u64, ServerError> {
        let mut tx = self.pool.begin().await?;
        let id: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT id FROM visits WHERE organisation_id = $1 AND visit_ref = $2",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(visit_ref)
        .fetch_optional(&mut *tx)
        .await?;
        let id = id.ok_or_else(|| ServerError::UnknownVisit(visit_ref.into()))?;
        sqlx::query("UPDATE visits SET cancelled_at = COALESCE(cancelled_at, $1) WHERE id = $2")
            .bind(rows::signed(now))
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        let tickets: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tickets WHERE visit_id = $1")
            .bind(&id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(u64::try_from(tickets).unwrap_or(0))
    }

    /// Revokes one device of the organisation (a lost or stolen phone).
    pub async fn revoke_device(
        &self,
        org: &Organisation,
        device_id: Uuid,
        now: u64,
    ) -> Result<(), ServerError> {
        let changed = self
            .set_on_own_device(
                org,
                device_id,
                "revoked_at = COALESCE(revoked_at, $1)",
                "TRUE",
                now,
            )
            .await?;
        if changed == 0 {
            return Err(ServerError::UnknownDevice(device_id.to_string()));
        }
        Ok(())
    }

    /// Sets `assignment` (where `$1` is `now`) on the organisation's device `device_id` if
    /// `condition` holds; returns whether it did. Both texts are constants of this crate.
    pub(crate) async fn set_on_own_device(
        &self,
        org: &Organisation,
        device_id: Uuid,
        assignment: &'static str,
        condition: &'static str,
        now: u64,
    ) -> Result<u64, ServerError> {
        Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE devices SET {assignment} WHERE id = $2 AND organisation_id = $3 AND {condition}"
        )))
        .bind(rows::signed(now))
        .bind(device_id.as_bytes().to_vec())
        .bind(org.id.as_bytes().to_vec())
        .execute(&self.pool)
        .await?
        .rows_affected())
    }

    /// Revokes a customer: every device of theirs, and no new enrolment code or device.
    pub async fn revoke_customer(
        &self,
        org: &Organisation,
        customer_ref: &str,
        now: u64,
    ) -> Result<(), ServerError> {
        let customer = self.customer(org, customer_ref).await?;
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE customers SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(rows::signed(now))
            .bind(customer.id.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE subject_id = $2",
        )
        .bind(rows::signed(now))
        .bind(customer.id.as_bytes().to_vec())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether the customer with this id was revoked.
    pub(crate) async fn customer_revoked(&self, customer_id: Uuid) -> Result<bool, ServerError> {
        let revoked: Option<Option<i64>> =
            sqlx::query_scalar("SELECT revoked_at FROM customers WHERE id = $1")
                .bind(customer_id.as_bytes().to_vec())
                .fetch_optional(&self.pool)
                .await?;
        Ok(matches!(revoked, Some(Some(_))))
    }

    /// Every device of the organisation, newest first.
    pub async fn devices(&self, org: &Organisation) -> Result<Vec<DeviceListing>, ServerError> {
        let rows = sqlx::query(
            "SELECT d.id, d.role, d.key_id, d.enrolled_at, d.revoked_at, d.held_until, d.attestation,
                    d.last_seen_at, COALESCE(a.staff_ref, c.customer_ref) AS subject_ref
             FROM devices d
             LEFT JOIN agents a ON a.id = d.subject_id
             LEFT JOIN customers c ON c.id = d.subject_id
             WHERE d.organisation_id = $1 ORDER BY d.enrolled_at DESC, d.id",
        )
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let role: String = r.try_get("role")?;
                let key_id: Vec<u8> = r.try_get("key_id")?;
                Ok(DeviceListing {
                    id: rows::uuid(r, "id")?,
                    role: Role::parse(&role)
                        .ok_or_else(|| ServerError::Damaged("device role".into()))?,
                    subject_ref: r.try_get("subject_ref")?,
                    key_id: hex::encode(key_id),
                    enrolled_at: rows::unsigned(r, "enrolled_at")?,
                    revoked_at: r
                        .try_get::<Option<i64>, _>("revoked_at")?
                        .map(|t| u64::try_from(t).unwrap_or(0)),
                    held_until: r
                        .try_get::<Option<i64>, _>("held_until")?
                        .map(|t| u64::try_from(t).unwrap_or(0)),
                    attestation: r.try_get("attestation")?,
                    last_seen_at: r
                        .try_get::<Option<i64>, _>("last_seen_at")?
                        .map(|t| u64::try_from(t).unwrap_or(0)),
                })
            })
            .collect()
    }

    /// Serials of tickets for cancelled visits whose window has not long ended.
    pub(crate) async fn cancelled_ticket_serials(
        &self,
        org: &Organisation,
        now: u64,
    ) -> Result<Vec<u64>, ServerError> {
        let serials: Vec<i64> = sqlx::query_scalar(
            "SELECT t.serial FROM tickets t JOIN visits v ON v.id = t.visit_id
             WHERE v.organisation_id = $1 AND v.cancelled_at IS NOT NULL
               AND v.window_start + v.window_minutes * 60 > $2
             ORDER BY t.serial",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(rows::signed(now.saturating_sub(CANCELLED_TICKETS_KEPT)))
        .fetch_all(&self.pool)
        .await?;
        Ok(serials
            .into_iter()
            .filter_map(|s| u64::try_from(s).ok())
            .collect())
    }
}
