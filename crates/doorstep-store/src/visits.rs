//! The agent's visit package, the customer's notices, handshakes in progress, and retention.

use std::collections::BTreeMap;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use doorstep_core::agent::{self, CustomerVerified};
use doorstep_core::notice::VerifiedNotice;
use doorstep_core::receipt::Outcome;
use doorstep_core::ticket::{SignedTicket, VisitId};
use doorstep_core::{PublicKey, Trust};

use crate::sealing::SealedColumn;
use crate::{Store, StoreError, to_i64};

/// One visit as the back-office packages it for the agent's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagedVisit {
    pub ticket: Vec<u8>,
    /// None for a customer with no enrolled phone: the ticket names `NO_CUSTOMER_KEY`.
    pub customer_key: Option<PublicKey>,
    /// The customer's data this visit may show, by field name (`full_name`, …). Fields the
    /// ticket does not allow are dropped before anything is stored.
    pub customer_data: BTreeMap<String, String>,
    /// Where the visit takes place, so the agent can find the door.
    pub address: Option<String>,
    /// Why, in the notice's words (sealed and erased with the address), and the office's
    /// reference for the visit.
    pub purpose: Option<String>,
    pub visit_ref: Option<String>,
}

/// A visit of the day as the agent's list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisitSummary {
    pub ticket: SignedTicket,
    pub outcome: Option<String>,
    pub address: Option<String>,
    pub purpose: Option<String>,
    pub visit_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredNotice {
    pub notice: VerifiedNotice,
    pub photo: Option<Vec<u8>>,
}

/// How long after its window ends an agent's visit stays on the list with the customer's data
/// and address: the rest of the working day, never the next one's. After that the phone holds
/// no address or customer field of it, synced or not: a result needs neither.
pub const AGENT_LOOKBACK: u64 = 12 * 3600;

/// The longest any back-office can make a phone keep personal data, whatever it says.
pub const MAX_RETENTION_DAYS: u32 = 90;

pub(crate) fn bounded_retention(days: u32) -> u32 {
    days.min(MAX_RETENTION_DAYS)
}

const VISIT_DATA: SealedColumn = SealedColumn {
    table: "visits",
    column: "customer_data_sealed",
};
const VISIT_ADDRESS: SealedColumn = SealedColumn {
    table: "visits",
    column: "address_sealed",
};
const VISIT_PURPOSE: SealedColumn = SealedColumn {
    table: "visits",
    column: "purpose_sealed",
};
const SESSION_STATE: SealedColumn = SealedColumn {
    table: "sessions",
    column: "state_sealed",
};
const NOTICE_PHOTO: SealedColumn = SealedColumn {
    table: "notices",
    column: "photo_sealed",
};

impl Store {
    /// Stores the day's package after checking every ticket, so nothing unverifiable reaches
    /// the door. Visits already completed keep their outcome; visits the package no longer
    /// holds (cancelled, moved to another agent) leave the phone unless a result is recorded.
    pub async fn put_package(
        &self,
        visits: &[PackagedVisit],
        trust: &Trust,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut kept = Vec::with_capacity(visits.len());
        for v in visits {
            let ticket = match v.customer_key {
                Some(key) => agent::Ready::new(&v.ticket, key, trust)?.ticket().clone(),
                None => app_less_ticket(&v.ticket, trust)?,
            };
            let t = ticket.ticket();
            kept.push(t.visit_id.0.to_vec());
            let allowed: Vec<&str> = t.fields.iter().map(|f| f.name()).collect();
            let data: BTreeMap<_, _> = v
                .customer_data
                .iter()
                .filter(|(k, _)| allowed.contains(&k.as_str()))
                .collect();
            let json = serde_json::to_vec(&data).map_err(|e| StoreError::Damaged(e.to_string()))?;
            let row = t.visit_id.0.to_vec();
            let sealed = self.sealer.seal(VISIT_DATA, &row, &json)?;
            let address = v
                .address
                .as_ref()
                .map(|a| self.sealer.seal(VISIT_ADDRESS, &row, a.as_bytes()))
                .transpose()?;
            let purpose = v
                .purpose
                .as_ref()
                .map(|p| self.sealer.seal(VISIT_PURPOSE, &row, p.as_bytes()))
                .transpose()?;
            sqlx::query(
                "INSERT INTO visits (visit_id, ticket, customer_key, window_start, window_end, customer_data_sealed, address_sealed, purpose_sealed, visit_ref)
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                 ON CONFLICT (visit_id) DO UPDATE SET ticket = excluded.ticket, customer_key = excluded.customer_key,
                   window_start = excluded.window_start, window_end = excluded.window_end,
                   customer_data_sealed = excluded.customer_data_sealed, address_sealed = excluded.address_sealed,
                   purpose_sealed = excluded.purpose_sealed, visit_ref = excluded.visit_ref
                 WHERE visits.outcome IS NULL",
            )
            .bind(t.visit_id.0.to_vec())
            .bind(&v.ticket)
            .bind(v.customer_key.map_or(Vec::new(), |k| k.as_bytes().to_vec()))
            .bind(to_i64(t.window_start))
            .bind(to_i64(t.window_end()))
            .bind(sealed)
            .bind(address)
            .bind(purpose)
            .bind(&v.visit_ref)
            .execute(&mut *tx)
            .await?;
        }
        let open: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT visit_id FROM visits WHERE outcome IS NULL
                   AND visit_id NOT IN (SELECT visit_id FROM receipts)",
        )
        .fetch_all(&mut *tx)
        .await?;
        for gone in open.iter().filter(|id| !kept.contains(id)) {
            sqlx::query("DELETE FROM sessions WHERE visit_id = ?")
                .bind(gone)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM visits WHERE visit_id = ?")
                .bind(gone)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The visits in the package, by window start: (ticket, outcome if recorded).
    pub async fn visits(&self) -> Result<Vec<(SignedTicket, Option<String>)>, StoreError> {
        let keys = self.enrolment().await?.organisation_keys;
        let rows =
            sqlx::query("SELECT ticket, outcome FROM visits ORDER BY window_start, visit_id")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                let ticket: Vec<u8> = r.try_get("ticket")?;
                Ok((SignedTicket::verify(&ticket, &keys)?, r.try_get("outcome")?))
            })
            .collect()
    }

    /// Today's and upcoming visits with their addresses, by window start: a visit leaves the
    /// list [`AGENT_LOOKBACK`] after its window ends.
    pub async fn visit_summaries(&self, now: u64) -> Result<Vec<VisitSummary>, StoreError> {
        let keys = self.enrolment().await?.organisation_keys;
        let rows = sqlx::query(
            "SELECT visit_id, ticket, outcome, address_sealed, purpose_sealed, visit_ref FROM visits WHERE window_end > ?
             ORDER BY window_start, visit_id",
        )
        .bind(to_i64(now.saturating_sub(AGENT_LOOKBACK)))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let ticket: Vec<u8> = r.try_get("ticket")?;
                let row: Vec<u8> = r.try_get("visit_id")?;
                let open = |column: SealedColumn| -> Result<Option<String>, StoreError> {
                    Ok(r.try_get::<Option<Vec<u8>>, _>(column.column)?
                        .map(|sealed| self.sealer.open(column, &row, &sealed))
                        .transpose()?
                        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
                };
                Ok(VisitSummary {
                    ticket: SignedTicket::verify(&ticket, &keys)?,
                    outcome: r.try_get("outcome")?,
                    address: open(VISIT_ADDRESS)?,
                    purpose: open(VISIT_PURPOSE)?,
                    visit_ref: r.try_get("visit_ref")?,
                })
            })
            .collect()
    }

    /// The agent's starting state for a visit at the door.
    pub async fn ready_for(
        &self,
        visit_id: VisitId,
        trust: &Trust,
    ) -> Result<agent::Ready, StoreError> {
        let row = sqlx::query("SELECT ticket, customer_key FROM visits WHERE visit_id = ?")
            .bind(visit_id.0.to_vec())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(doorstep_core::Error::UnknownTicket)?;
        let ticket: Vec<u8> = row.try_get("ticket")?;
        let key: Vec<u8> = row.try_get("customer_key")?;
        if key.is_empty() {
            // The customer has no phone to answer a challenge: the page is their way.
            return Err(doorstep_core::Error::WrongCustomerKey.into());
        }
        let key = PublicKey::from_compressed(&key)
            .map_err(|_| StoreError::Damaged("visits: customer key".into()))?;
        Ok(agent::Ready::new(&ticket, key, trust)?)
    }

    /// The ticket of a visit on this phone, checked against the organisation's keys: what the
    /// page pass for a customer without the app is signed over.
    pub async fn visit_ticket(
        &self,
        visit_id: VisitId,
        trust: &Trust,
    ) -> Result<SignedTicket, StoreError> {
        let ticket: Vec<u8> = sqlx::query_scalar("SELECT ticket FROM visits WHERE visit_id = ?")
            .bind(visit_id.0.to_vec())
            .fetch_optional(&self.pool)
            .await?
            .ok_or(doorstep_core::Error::UnknownTicket)?;
        Ok(SignedTicket::verify(&ticket, &trust.organisation_keys)?)
    }

    /// The customer's data for a visit whose handshake verified the customer: only a
    /// [`CustomerVerified`] session opens it, and only the fields its ticket allows.
    pub async fn customer_data(
        &self,
        verified: &CustomerVerified,
    ) -> Result<BTreeMap<String, String>, StoreError> {
        let visit = verified.ticket().ticket().visit_id;
        let sealed: Option<Option<Vec<u8>>> =
            sqlx::query_scalar("SELECT customer_data_sealed FROM visits WHERE visit_id = ?")
                .bind(visit.0.to_vec())
                .fetch_optional(&self.pool)
                .await?;
        let Some(Some(sealed)) = sealed else {
            // Purged or never packaged: nothing to show.
            return Ok(BTreeMap::new());
        };
        let row = visit.0.to_vec();
        let json = self.sealer.open(VISIT_DATA, &row, &sealed)?;
        let data: BTreeMap<String, String> =
            serde_json::from_slice(&json).map_err(|e| StoreError::Damaged(e.to_string()))?;
        let allowed: Vec<&str> = verified.allowed_fields().iter().map(|f| f.name()).collect();
        Ok(data
            .into_iter()
            .filter(|(k, _)| allowed.contains(&k.as_str()))
            .collect())
    }

    pub async fn record_outcome(
        &self,
        visit_id: VisitId,
        outcome: Outcome,
        now: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE visits SET outcome = ?, completed_at = ? WHERE visit_id = ?")
            .bind(outcome.name())
            .bind(to_i64(now))
            .bind(visit_id.0.to_vec())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Stores a notice after checking it (and the agent's photo against the ticket's hash).
    pub async fn put_notice(
        &self,
        encoded: &[u8],
        photo: Option<&[u8]>,
        now: u64,
    ) -> Result<VisitId, StoreError> {
        let keys = self.enrolment().await?.organisation_keys;
        let notice = VerifiedNotice::verify(encoded, &keys)?;
        let t = notice.ticket().ticket();
        let sealed_photo = match photo {
            Some(p) => {
                let digest = doorstep_core::keys::sha256(&[p]);
                if digest[..16] != t.photo_hash {
                    return Err(StoreError::Damaged(
                        "the agent's photo does not match the ticket".into(),
                    ));
                }
                let row = t.visit_id.0.to_vec();
                Some(self.sealer.seal(NOTICE_PHOTO, &row, p)?)
            }
            None => None,
        };
        sqlx::query(
            "INSERT INTO notices (visit_id, notice, photo_sealed, window_end, received_at) VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (visit_id) DO UPDATE SET notice = excluded.notice,
               photo_sealed = COALESCE(excluded.photo_sealed, notices.photo_sealed),
               window_end = excluded.window_end, received_at = excluded.received_at",
        )
        .bind(t.visit_id.0.to_vec())
        .bind(encoded)
        .bind(sealed_photo)
        .bind(to_i64(t.window_end()))
        .bind(to_i64(now))
        .execute(&self.pool)
        .await?;
        Ok(t.visit_id)
    }

    pub async fn notices(&self) -> Result<Vec<StoredNotice>, StoreError> {
        let keys = self.enrolment().await?.organisation_keys;
        let rows =
            sqlx::query("SELECT visit_id, notice, photo_sealed FROM notices ORDER BY window_end")
                .fetch_all(&self.pool)
                .await?;
        rows.iter()
            .map(|r| {
                let visit: Vec<u8> = r.try_get("visit_id")?;
                let encoded: Vec<u8> = r.try_get("notice")?;
                let sealed: Option<Vec<u8>> = r.try_get("photo_sealed")?;
                let photo = sealed
                    .map(|s| self.sealer.open(NOTICE_PHOTO, &visit, &s))
                    .transpose()?;
                Ok(StoredNotice {
                    notice: VerifiedNotice::verify(&encoded, &keys)?,
                    photo,
                })
            })
            .collect()
    }

    /// Saves a handshake state (any of the core's session states), sealed.
    pub async fn save_session<S: Serialize>(
        &self,
        visit_id: VisitId,
        state: &S,
        now: u64,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_vec(state).map_err(|e| StoreError::Damaged(e.to_string()))?;
        let row = visit_id.0.to_vec();
        let sealed = self.sealer.seal(SESSION_STATE, &row, &json)?;
        sqlx::query(
            "INSERT INTO sessions (visit_id, state_sealed, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (visit_id) DO UPDATE SET state_sealed = excluded.state_sealed, updated_at = excluded.updated_at",
        )
        .bind(row)
        .bind(sealed)
        .bind(to_i64(now))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn load_session<S: DeserializeOwned>(
        &self,
        visit_id: VisitId,
    ) -> Result<Option<S>, StoreError> {
        let row = visit_id.0.to_vec();
        let sealed: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT state_sealed FROM sessions WHERE visit_id = ?")
                .bind(&row)
                .fetch_optional(&self.pool)
                .await?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let json = self.sealer.open(SESSION_STATE, &row, &sealed)?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| StoreError::Damaged(format!("session state: {e}")))
    }

    pub async fn clear_session(&self, visit_id: VisitId) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE visit_id = ?")
            .bind(visit_id.0.to_vec())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Retention, run when the app starts and after every sync. What goes:
    /// - an agent's visit's customer data and address [`AGENT_LOOKBACK`] after its window ends,
    ///   synced or not, with its handshake state;
    /// - a visit's row `retention_days` after its window ended, once its result (if any) is
    ///   synced;
    /// - the customer's notices (with the agent's photo) and kept receipts `retention_days`
    ///   after the visit, and handshake states untouched that long;
    /// - uploads the back-office acknowledged `retention_days` ago.
    ///
    /// Unsynced results stay however old: they hold no personal data, and deleting one loses
    /// it. `retention_days` is capped at [`MAX_RETENTION_DAYS`].
    pub async fn purge(&self, now: u64, retention_days: u32) -> Result<PurgeReport, StoreError> {
        let retention = u64::from(bounded_retention(retention_days)) * 86_400;
        let cutoff = to_i64(now.saturating_sub(retention));
        let ended = to_i64(now.saturating_sub(AGENT_LOOKBACK));
        let mut tx = self.pool.begin().await?;
        let customer_data = sqlx::query(
            "UPDATE visits SET customer_data_sealed = NULL, address_sealed = NULL, purpose_sealed = NULL
             WHERE (customer_data_sealed IS NOT NULL OR address_sealed IS NOT NULL OR purpose_sealed IS NOT NULL)
               AND window_end <= ?",
        )
        .bind(ended)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let sessions = sqlx::query(
            "DELETE FROM sessions WHERE updated_at <= ? OR visit_id IN
               (SELECT visit_id FROM visits WHERE window_end <= ?
                UNION SELECT visit_id FROM notices WHERE window_end <= ?)",
        )
        .bind(cutoff)
        .bind(ended)
        .bind(ended)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let visits = sqlx::query(
            "DELETE FROM visits WHERE window_end <= ?
               AND visit_id NOT IN (SELECT visit_id FROM receipts WHERE countersignature IS NULL)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let notices = sqlx::query("DELETE FROM notices WHERE window_end <= ?")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let kept_receipts = sqlx::query("DELETE FROM kept_receipts WHERE created_at <= ?")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        let uploads = sqlx::query(
            "DELETE FROM outbox WHERE acknowledged_at IS NOT NULL AND acknowledged_at <= ?",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(PurgeReport {
            customer_data,
            visits,
            sessions,
            notices,
            kept_receipts,
            uploads,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PurgeReport {
    pub customer_data: u64,
    pub visits: u64,
    pub sessions: u64,
    pub notices: u64,
    pub kept_receipts: u64,
    pub uploads: u64,
}

/// A packaged ticket for a customer with no enrolled phone: signed by the organisation, and
/// naming no customer key.
fn app_less_ticket(encoded: &[u8], trust: &Trust) -> Result<SignedTicket, StoreError> {
    let ticket = SignedTicket::verify(encoded, &trust.organisation_keys)?;
    if ticket.ticket().customer_has_app() {
        return Err(doorstep_core::Error::WrongCustomerKey.into());
    }
    Ok(ticket)
}
