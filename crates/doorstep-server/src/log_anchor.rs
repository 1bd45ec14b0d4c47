//! Anchoring each agent phone's receipt log. With every upload batch the phone sends the
//! number of entries in its log and the chain hashes from the last anchor it heard of to the
//! newest, recomputed from the entries; the back-office keeps the newest anchor per device and
//! countersigns each new head. A log rewritten on the phone (its triggers dropped, the chain
//! recomputed) no longer holds the anchored hash at that position: the next sync is refused
//! with `receipt_log_rewritten` and the device is marked for the back-office to look into.
//! [`check`] is the rule, apart from the database.
//!
//! What it cannot see: entries removed or altered before they were ever anchored (a phone
//! rewritten between a visit and its first sync); anchoring at every sync keeps that gap short.

use doorstep_api::wire::{LogHead, MAX_LOG_HASHES};
use doorstep_core::countersignature::LogAnchor;
use sqlx::Row;

use crate::db::devices::Device;
use crate::db::rows;
use crate::keys::OrganisationSigner;
use crate::{Db, ServerError};

/// A log position as the back-office keeps it: entries, and the newest entry's chain hash.
pub type Anchor = (u64, [u8; 32]);

/// The anchor to move to, given the one kept and the log the device sent; `ReceiptLogRewritten`
/// when the device's log no longer holds the kept anchor's hash at its position.
pub fn check(kept: Option<Anchor>, sent: Option<&LogHead>) -> Result<Option<Anchor>, ServerError> {
    let Some(sent) = sent else {
        return match kept {
            None => Ok(None),
            Some(_) => Err(ServerError::ReceiptLogRewritten),
        };
    };
    let malformed = |why: &str| ServerError::Invalid(format!("the receipt log's head: {why}"));
    if sent.hashes.len() > MAX_LOG_HASHES || sent.hashes.len() as u64 > sent.entries {
        return Err(malformed("too many hashes"));
    }
    let hashes = sent
        .hashes
        .iter()
        .map(|h| h.0.as_slice().try_into())
        .collect::<Result<Vec<[u8; 32]>, _>>()
        .map_err(|_| malformed("a hash is 32 bytes"))?;
    let Some(&newest) = hashes.last() else {
        return match (kept, sent.entries) {
            (None, 0) => Ok(None),
            (None, _) => Err(malformed("no hash of the newest entry")),
            (Some(_), _) => Err(ServerError::ReceiptLogRewritten),
        };
    };
    let first = sent.entries - hashes.len() as u64 + 1;
    if let Some((entries, hash)) = kept {
        let at = entries
            .checked_sub(first)
            .and_then(|i| hashes.get(usize::try_from(i).ok()?));
        if at != Some(&hash) {
            return Err(ServerError::ReceiptLogRewritten);
        }
    }
    Ok(Some((sent.entries, newest)))
}

impl Db {
    async fn log_anchor(&self, device: &Device) -> Result<Option<Anchor>, ServerError> {
        let row = sqlx::query("SELECT log_entries, log_head FROM devices WHERE id = $1")
            .bind(device.id.as_bytes().to_vec())
            .fetch_one(&self.pool)
            .await?;
        let entries: Option<i64> = row.try_get("log_entries")?;
        match entries {
            None => Ok(None),
            Some(_) => Ok(Some((
                rows::unsigned(&row, "log_entries")?,
                rows::fixed(&row, "log_head")?,
            ))),
        }
    }

    /// When a sync last showed this device's receipt log rewritten, if ever.
    pub async fn log_rewritten_at(&self, device: &Device) -> Result<Option<u64>, ServerError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT log_rewritten_at FROM devices WHERE id = $1")
                .bind(device.id.as_bytes().to_vec())
                .fetch_one(&self.pool)
                .await?;
        Ok(at.map(|t| u64::try_from(t).unwrap_or(0)))
    }

    /// Checks the log the device sent against its anchor; on a rewritten log marks the device
    /// and refuses. Returns the head to anchor once the batch is stored.
    pub async fn check_log(
        &self,
        device: &Device,
        sent: Option<&LogHead>,
        now: u64,
    ) -> Result<Option<Anchor>, ServerError> {
        let kept = self.log_anchor(device).await?;
        let checked = check(kept, sent);
        if let Err(ServerError::ReceiptLogRewritten) = checked {
            tracing::warn!(device = %device.id, "a device's receipt log was rewritten");
            sqlx::query(
                "UPDATE devices SET log_rewritten_at = COALESCE(log_rewritten_at, $1) WHERE id = $2",
            )
            .bind(rows::signed(now))
            .bind(device.id.as_bytes().to_vec())
            .execute(&self.pool)
            .await?;
        }
        checked
    }

    /// Keeps `head` as the device's anchor (never moving it back, should two deliveries race)
    /// and returns the organisation's countersignature on it.
    pub async fn anchor_log(
        &self,
        device: &Device,
        head: Anchor,
        signer: &OrganisationSigner,
        now: u64,
    ) -> Result<Vec<u8>, ServerError> {
        sqlx::query(
            "UPDATE devices SET log_entries = $1, log_head = $2
             WHERE id = $3 AND COALESCE(log_entries, -1) <= $1",
        )
        .bind(rows::signed(head.0))
        .bind(head.1.to_vec())
        .bind(device.id.as_bytes().to_vec())
        .execute(&self.pool)
        .await?;
        let anchor = LogAnchor {
            device: device.public_key.key_id(),
            entries: head.0,
            head: head.1,
            anchored_at: now,
        };
        signer.sign(anchor.to_sign(signer.public_key()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_api::wire::Bytes;

    /// A log of `entries` whose chain hash at position p is [p; 32], sent from position `from`.
    fn log(entries: u64, from: u64) -> LogHead {
        LogHead {
            entries,
            hashes: (from..=entries).map(|p| Bytes(vec![p as u8; 32])).collect(),
        }
    }

    fn rewritten(r: Result<Option<Anchor>, ServerError>) -> bool {
        matches!(r, Err(ServerError::ReceiptLogRewritten))
    }

    #[test]
    fn a_log_must_hold_its_anchor_and_may_not_shrink_below_it() {
        // The first anchor.
        assert_eq!(check(None, None).unwrap(), None);
        assert_eq!(check(None, Some(&log(0, 1))).unwrap(), None);
        assert_eq!(check(None, Some(&log(2, 1))).unwrap(), Some((2, [2; 32])));
        // Grown, the same, or grown while the device never heard the last anchor's answer.
        let kept = Some((2, [2; 32]));
        assert_eq!(check(kept, Some(&log(5, 2))).unwrap(), Some((5, [5; 32])));
        assert_eq!(check(kept, Some(&log(2, 2))).unwrap(), kept);
        assert_eq!(check(kept, Some(&log(5, 1))).unwrap(), Some((5, [5; 32])));
        // Rewritten at or before the anchor, shortened, sent from after the anchor, or not at all.
        let mut altered = log(5, 2);
        altered.hashes[0] = Bytes(vec![9; 32]);
        assert!(rewritten(check(kept, Some(&altered))));
        assert!(rewritten(check(kept, Some(&log(1, 1)))));
        assert!(rewritten(check(kept, Some(&log(5, 3)))));
        assert!(rewritten(check(kept, Some(&log(0, 1)))));
        assert!(rewritten(check(kept, None)));
        // Malformed heads are bad requests, not rewritten logs.
        let short = LogHead {
            entries: 1,
            hashes: vec![Bytes(vec![1; 31])],
        };
        let more_hashes_than_entries = LogHead {
            entries: 1,
            hashes: vec![Bytes(vec![1; 32]); 2],
        };
        for bad in [short, more_hashes_than_entries] {
            assert!(matches!(
                check(None, Some(&bad)),
                Err(ServerError::Invalid(_))
            ));
        }
    }
}
