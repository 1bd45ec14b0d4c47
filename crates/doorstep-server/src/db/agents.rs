//! Agents of an organisation: added, listed, revoked. Revocation is a timestamp, never a
//! deletion, so past receipts stay attributable; it revokes the agent's devices with it.

use sqlx::Row;
use sqlx::any::AnyRow;
use uuid::Uuid;

use super::organisations::Organisation;
use super::rows;
use crate::{Db, ServerError, now_unix};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: Uuid,
    pub staff_ref: String,
    pub display_name: String,
    pub on_behalf_of: String,
    pub photo_hash: [u8; 16],
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAgent<'a> {
    pub staff_ref: &'a str,
    pub display_name: &'a str,
    pub on_behalf_of: &'a str,
    /// The photo customers will see in their notice; its hash goes into tickets.
    pub photo: &'a [u8],
}

const AGENT_COLUMNS: &str = "id, staff_ref, display_name, on_behalf_of, photo_hash, revoked_at";

fn agent_from_row(r: &AnyRow) -> Result<Agent, ServerError> {
    Ok(Agent {
        id: rows::uuid(r, "id")?,
        staff_ref: r.try_get("staff_ref")?,
        display_name: r.try_get("display_name")?,
        on_behalf_of: r.try_get("on_behalf_of")?,
        photo_hash: rows::fixed(r, "photo_hash")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

impl Db {
    pub async fn add_agent(
        &self,
        org: &Organisation,
        a: &NewAgent<'_>,
    ) -> Result<Agent, ServerError> {
        let id = Uuid::now_v7();
        let photo_hash: [u8; 16] = doorstep_core::keys::sha256(&[a.photo])[..16]
            .try_into()
            .expect("16 bytes");
        let inserted = sqlx::query(
            "INSERT INTO agents (id, organisation_id, staff_ref, display_name, on_behalf_of, photo_hash, photo, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(org.id.as_bytes().to_vec())
        .bind(a.staff_ref)
        .bind(a.display_name)
        .bind(a.on_behalf_of)
        .bind(photo_hash.to_vec())
        .bind(a.photo.to_vec())
        .bind(now_unix())
        .execute(&self.pool)
        .await;
        match inserted {
            Ok(_) => {}
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                return Err(ServerError::AgentExists(a.staff_ref.into()));
            }
            Err(e) => return Err(e.into()),
        }
        Ok(Agent {
            id,
            staff_ref: a.staff_ref.into(),
            display_name: a.display_name.into(),
            on_behalf_of: a.on_behalf_of.into(),
            photo_hash,
            revoked_at: None,
        })
    }

    pub async fn agents(&self, org: &Organisation) -> Result<Vec<Agent>, ServerError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE organisation_id = $1 ORDER BY staff_ref"
        )))
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(agent_from_row).collect()
    }

    pub async fn agent(&self, org: &Organisation, staff_ref: &str) -> Result<Agent, ServerError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AGENT_COLUMNS} FROM agents WHERE organisation_id = $1 AND staff_ref = $2"
        )))
        .bind(org.id.as_bytes().to_vec())
        .bind(staff_ref)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| ServerError::UnknownAgent(staff_ref.into()))?;
        agent_from_row(&row)
    }

    pub(crate) async fn agent_by_id(
        &self,
        id: Uuid,
    ) -> Result<(Agent, Option<Vec<u8>>), ServerError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {AGENT_COLUMNS}, photo FROM agents WHERE id = $1"
        )))
        .bind(id.as_bytes().to_vec())
        .fetch_one(&self.pool)
        .await?;
        Ok((agent_from_row(&row)?, row.try_get("photo")?))
    }

    /// Revokes an agent by staff reference, and every device enrolled for them; revoking twice
    /// keeps the first time.
    pub async fn revoke_agent(
        &self,
        org: &Organisation,
        staff_ref: &str,
    ) -> Result<(), ServerError> {
        let agent = self.agent(org, staff_ref).await?;
        let now = now_unix();
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE agents SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now)
            .bind(agent.id.as_bytes().to_vec())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE devices SET revoked_at = COALESCE(revoked_at, $1) WHERE subject_id = $2",
        )
        .bind(now)
        .bind(agent.id.as_bytes().to_vec())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
