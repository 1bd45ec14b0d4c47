//! What a device trusts and how strictly it checks time: the organisation's keys, the latest
//! denylist snapshot, and the tolerances. Both sessions verify through these functions.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::keys::{KeyId, PublicKey};
use crate::notice::Denylist;
use crate::ticket::Ticket;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    /// Tolerance on validity and window boundaries, in seconds.
    pub clock_skew: u64,
    /// Beyond this difference between the two devices' clocks, one of them is wrong.
    pub max_peer_clock_difference: u64,
    /// A denylist older than this no longer says who is revoked now. A day: a visit cancelled
    /// or a phone revoked yesterday is refused at today's door, offline, by any phone that
    /// synced since; one that did not is told to sync (`denylist_too_old`).
    pub denylist_max_age: u64,
    /// Refuse to proceed without any denylist.
    pub require_denylist: bool,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            clock_skew: 5 * 60,
            max_peer_clock_difference: 15 * 60,
            denylist_max_age: 24 * 3600,
            require_denylist: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trust {
    pub organisation_keys: Vec<PublicKey>,
    pub denylist: Option<Denylist>,
    pub policy: Policy,
}

impl Trust {
    pub fn new(organisation_keys: Vec<PublicKey>, policy: Policy) -> Self {
        Self {
            organisation_keys,
            denylist: None,
            policy,
        }
    }

    /// Installs a denylist snapshot after checking its signature. An older snapshot than the
    /// one held is ignored, so a replayed old list cannot un-revoke anyone.
    pub fn install_denylist(&mut self, encoded: &[u8]) -> Result<(), Error> {
        let list = Denylist::verify(encoded, &self.organisation_keys)?;
        if self
            .denylist
            .as_ref()
            .is_none_or(|held| list.sequence > held.sequence)
        {
            self.denylist = Some(list);
        }
        Ok(())
    }

    pub(crate) fn check_peer_clock(&self, now: u64, peer: u64) -> Result<(), Error> {
        if now.abs_diff(peer) > self.policy.max_peer_clock_difference {
            return Err(Error::ClockClearlyWrong { local: now, peer });
        }
        Ok(())
    }

    /// The denylist in force at `now`, or why there is none to rely on.
    fn current_denylist(&self, now: u64) -> Result<Option<&Denylist>, Error> {
        let Some(list) = &self.denylist else {
            return if self.policy.require_denylist {
                Err(Error::DenylistTooOld)
            } else {
                Ok(None)
            };
        };
        if list.issued_at > now.saturating_add(self.policy.clock_skew) {
            // A list signed in our future means our own clock is behind.
            return Err(Error::ClockClearlyWrong {
                local: now,
                peer: list.issued_at,
            });
        }
        if now - list.issued_at.min(now) > self.policy.denylist_max_age {
            return Err(Error::DenylistTooOld);
        }
        Ok(Some(list))
    }

    /// The customer checks the agent's device; the agent checks the customer's. Both check the
    /// ticket itself.
    pub(crate) fn check_agent_not_revoked(&self, ticket: &Ticket, now: u64) -> Result<(), Error> {
        self.check_not_revoked(ticket, now, |list| {
            list.agent_keys
                .contains(&ticket.agent_key.key_id())
                .then_some("agent's device")
        })
    }

    pub(crate) fn check_customer_not_revoked(
        &self,
        customer_key: KeyId,
        ticket: &Ticket,
        now: u64,
    ) -> Result<(), Error> {
        self.check_not_revoked(ticket, now, |list| {
            list.customer_keys
                .contains(&customer_key)
                .then_some("customer's device")
        })
    }

    fn check_not_revoked(
        &self,
        ticket: &Ticket,
        now: u64,
        revoked_device: impl Fn(&Denylist) -> Option<&'static str>,
    ) -> Result<(), Error> {
        let Some(list) = self.current_denylist(now)? else {
            return Ok(());
        };
        if let Some(what) = revoked_device(list) {
            return Err(Error::Revoked { what });
        }
        if list.ticket_serials.contains(&ticket.serial) {
            return Err(Error::Revoked {
                what: "visit ticket",
            });
        }
        Ok(())
    }

    pub(crate) fn check_ticket_time(&self, ticket: &Ticket, now: u64) -> Result<(), Error> {
        let skew = self.policy.clock_skew;
        if now.saturating_add(skew) < ticket.not_before {
            return Err(Error::TicketNotYetValid);
        }
        if now > ticket.not_after.saturating_add(skew) {
            return Err(Error::TicketExpired);
        }
        if !ticket.window_includes(now, skew) {
            return Err(Error::OutsideVisitWindow);
        }
        Ok(())
    }
}
