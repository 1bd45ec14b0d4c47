//! Signed denylist snapshots: every revoked device key of the organisation and the serials of
//! tickets for cancelled visits (`db::revocation`). A new snapshot (with
//! the next sequence number) is signed when the content changes or the latest is an hour old,
//! so devices always find one fresh enough for their policy.

use doorstep_core::KeyId;
use doorstep_core::keys::sha256;
use doorstep_core::notice::Denylist;
use sqlx::Row;

use super::organisations::Organisation;
use super::rows;
use crate::keys::OrganisationSigner;
use crate::{Db, ServerError};

pub const REFRESH_AFTER: u64 = 3600;

impl Db {
    pub async fn current_denylist(
        &self,
        org: &Organisation,
        signer: &OrganisationSigner,
        now: u64,
    ) -> Result<Vec<u8>, ServerError> {
        let revoked = sqlx::query(
            "SELECT role, key_id FROM devices WHERE organisation_id = $1 AND revoked_at IS NOT NULL ORDER BY key_id",
        )
        .bind(org.id.as_bytes().to_vec())
        .fetch_all(&self.pool)
        .await?;
        let mut agent_keys = Vec::new();
        let mut customer_keys = Vec::new();
        for r in &revoked {
            let role: String = r.try_get("role")?;
            let key = KeyId(rows::fixed(r, "key_id")?);
            if role == "agent" {
                agent_keys.push(key);
            } else {
                customer_keys.push(key);
            }
        }
        let content = Denylist {
            issued_at: 0,
            sequence: 0,
            agent_keys,
            customer_keys,
            ticket_serials: self.cancelled_ticket_serials(org, now).await?,
        };
        let digest = sha256(&[&content.to_sign(signer.public_key()).bytes()]).to_vec();

        let latest = sqlx::query(
            "SELECT sequence, issued_at, content_digest, encoded FROM denylists
             WHERE organisation_id = $1 ORDER BY sequence DESC LIMIT 1",
        )
        .bind(org.id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?;
        let mut sequence = 1;
        if let Some(latest) = &latest {
            let issued_at = rows::unsigned(latest, "issued_at")?;
            let same: Vec<u8> = latest.try_get("content_digest")?;
            if same == digest && now.saturating_sub(issued_at) < REFRESH_AFTER {
                return Ok(latest.try_get("encoded")?);
            }
            sequence = rows::unsigned(latest, "sequence")? + 1;
        }
        let snapshot = Denylist {
            issued_at: now,
            sequence,
            ..content
        };
        let encoded = signer.sign(snapshot.to_sign(signer.public_key()))?;
        // Two requests racing here sign the same sequence; the first one stored wins.
        sqlx::query(
            "INSERT INTO denylists (organisation_id, sequence, issued_at, content_digest, encoded)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(rows::signed(sequence))
        .bind(rows::signed(now))
        .bind(digest)
        .bind(encoded)
        .execute(&self.pool)
        .await?;
        let stored: Vec<u8> = sqlx::query_scalar(
            "SELECT encoded FROM denylists WHERE organisation_id = $1 AND sequence = $2",
        )
        .bind(org.id.as_bytes().to_vec())
        .bind(rows::signed(sequence))
        .fetch_one(&self.pool)
        .await?;
        Ok(stored)
    }
}
