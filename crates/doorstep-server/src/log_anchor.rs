//! Anchoring each agent phone's receipt log. With every upload batch the phone sends the head
//! of its log and its log's hash at the position the back-office last anchored; the
//! back-office keeps the newest anchor per device and countersigns each new head. A log
//! rewritten on the phone (its triggers dropped, the chain recomputed) no longer holds the
//! anchored hash at that position: the next sync is refused with `receipt_log_rewritten` and the
//! device is marked for the back-office to look into. [`check`] is the rule, apart from the
//! database.
//!
//! What it cannot see: entries removed or altered before they were ever anchored (a phone
//! rewritten between a visit and its first sync); anchoring at every sync keeps that gap short.

use doorstep_api::wire::{LogHead, LogPosition};
use doorstep_core::countersignature::LogAnchor;
use sqlx::Row;

use crate::db::devices::Device;
use crate::db::rows;
use crate::keys::OrganisationSigner;
use crate::{Db, ServerError};

/// A log position as the back-office keeps it.
pub type Anchor = (u64, [u8; 32]);

fn position(p: &LogPosition) -> Result<Anchor, ServerError> {
    let hash = p
        .hash
        .0
        .as_slice()
        .try_into()
        .map_err(|_| ServerError::Invalid("a log hash is 32 bytes".into()))?;
    Ok((p.entries, hash))
}

/// The anchor to move to, given the one kept and the log the device sent; `ReceiptLogRewritten`
/// when the device's log no longer extends the kept anchor.
pub fn check(kept: Option<Anchor>, sent: Option<&LogHead>) -> Result<Option<Anchor>, ServerError> {
    let Some(sent) = sent else {
        return match kept {
            None => Ok(None),
            Some(_) => Err(ServerError::ReceiptLogRewritten),
        };
    };
    let head = position(&sent.head)?;
    let at_anchor = sent.at_anchor.as_ref().map(position).transpose()?;
    let extends = match kept {
        None => at_anchor.is_none(),
        Some((entries, hash)) => {
            at_anchor == Some((entries, hash))
                && head.0 >= entries
                && (head.0 > entries || head.1 == hash)
        }
    };
    if extends {
        Ok(Some(head))
    } else {
        Err(ServerError::ReceiptLogRewritten)
    }
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

    fn at(entries: u64, byte: u8) -> LogPosition {
        LogPosition {
            entries,
            hash: Bytes(vec![byte; 32]),
        }
    }

    fn log(head: LogPosition, at_anchor: Option<LogPosition>) -> LogHead {
        LogHead { head, at_anchor }
    }

    fn rewritten(r: Result<Option<Anchor>, ServerError>) -> bool {
        matches!(r, Err(ServerError::ReceiptLogRewritten))
    }

    #[test]
    fn a_log_must_extend_its_anchor_and_may_not_forget_it() {
        // The first anchor.
        assert_eq!(check(None, None).unwrap(), None);
        assert_eq!(
            check(None, Some(&log(at(2, 7), None))).unwrap(),
            Some((2, [7; 32]))
        );
        // Grown, or the same.
        let kept = Some((2, [7; 32]));
        assert_eq!(
            check(kept, Some(&log(at(5, 9), Some(at(2, 7))))).unwrap(),
            Some((5, [9; 32]))
        );
        assert_eq!(
            check(kept, Some(&log(at(2, 7), Some(at(2, 7))))).unwrap(),
            kept
        );
        // Rewritten before the anchor, shortened, rewritten at it, or the anchor forgotten.
        assert!(rewritten(check(kept, Some(&log(at(5, 9), Some(at(2, 8)))))));
        assert!(rewritten(check(kept, Some(&log(at(1, 9), Some(at(2, 7)))))));
        assert!(rewritten(check(kept, Some(&log(at(2, 8), Some(at(2, 7)))))));
        assert!(rewritten(check(kept, Some(&log(at(5, 9), None)))));
        assert!(rewritten(check(kept, None)));
        // An anchor the back-office never gave.
        assert!(rewritten(check(None, Some(&log(at(5, 9), Some(at(2, 7)))))));
        // A hash of the wrong length is a bad request, not a rewritten log.
        let short = LogPosition {
            entries: 1,
            hash: Bytes(vec![1; 31]),
        };
        assert!(matches!(
            check(None, Some(&log(short, None))),
            Err(ServerError::Invalid(_))
        ));
    }
}
