//! Agents of an organisation: added, listed, revoked. Revocation is a timestamp, never a
//! deletion, so past receipts stay attributable.

use sqlx::Row;
use uuid::Uuid;

use crate::organisations::Organisation;
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
    /// The photo customers will see; only its hash is kept here and put in tickets.
    pub photo: &'a [u8],
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
            "INSERT INTO agents (id, organisation_id, staff_ref, display_name, on_behalf_of, photo_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id.as_bytes().to_vec())
        .bind(org.id.as_bytes().to_vec())
        .bind(a.staff_ref)
        .bind(a.display_name)
        .bind(a.on_behalf_of)
        .bind(photo_hash.to_vec())
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
        let rows = sqlx::query(
            "SELECT id, staff_ref, display_name, on_behalf_of, photo_hash, revoked_at FROM agents
             WHERE organisation_id = $1 ORDER BY staff_ref",
        )
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let damaged = |e: &dyn ToString| ServerError::Damaged(e.to_string());
                let id: Vec<u8> = r.try_get("id")?;
                let photo: Vec<u8> = r.try_get("photo_hash")?;
                Ok(Agent {
                    id: Uuid::from_slice(&id).map_err(|e| damaged(&e))?,
                    staff_ref: r.try_get("staff_ref")?,
                    display_name: r.try_get("display_name")?,
                    on_behalf_of: r.try_get("on_behalf_of")?,
                    photo_hash: photo.try_into().map_err(|_| damaged(&"photo hash"))?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    /// Revokes an agent by staff reference; revoking twice keeps the first time.
    pub async fn revoke_agent(
        &self,
        org: &Organisation,
        staff_ref: &str,
    ) -> Result<(), ServerError> {
        let found = sqlx::query(
            "UPDATE agents SET revoked_at = COALESCE(revoked_at, $1) WHERE organisation_id = $2 AND staff_ref = $3",
        )
        .bind(now_unix())
        .bind(org.id.as_bytes().to_vec())
        .bind(staff_ref)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if found == 0 {
            return Err(ServerError::UnknownAgent(staff_ref.into()));
        }
        Ok(())
    }
}
