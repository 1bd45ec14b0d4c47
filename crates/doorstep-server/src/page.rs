//! The verification page's question, for a customer without the app: is the visit this pass
//! names still on? Asked with nothing but the pass the agent's phone showed, so the back-office
//! learns nothing it did not know; and answered only for a pass the ticket's agent key signed,
//! so a guessed serial tells nothing either.

use doorstep_core::page::{self, PagePass};
use serde::Serialize;

use crate::{Db, ServerError};

/// Where the visit stands, as the page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitStanding {
    Booked,
    Cancelled,
    AgentRevoked,
    PhoneRevoked,
}

/// The answer: the signed ticket for the page to check itself, with the keys it ships with, the
/// agent's photo whose hash the ticket signs, what the visit is for, and who to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PassAnswer {
    pub now: u64,
    pub standing: VisitStanding,
    pub ticket: Vec<u8>,
    pub photo: Vec<u8>,
    pub purpose: String,
    pub organisation: String,
    pub official_phone: String,
}

pub async fn answer(db: &Db, path: &str, now: u64) -> Result<PassAnswer, ServerError> {
    let pass = PagePass::from_url(path).map_err(ServerError::Protocol)?;
    let ticket = db
        .pass_ticket(pass.serial)
        .await?
        .ok_or(ServerError::UnknownPass)?;
    let organisation = db.organisation_by_id(ticket.organisation_id).await?;
    // Not the agent's pass for this very ticket: the same answer as no ticket at all.
    page::check_pass_signatures(&pass, &ticket.encoded, &organisation.keys)
        .map_err(|_| ServerError::UnknownPass)?;
    let standing = if ticket.visit_cancelled {
        VisitStanding::Cancelled
    } else if ticket.agent_revoked {
        VisitStanding::AgentRevoked
    } else if ticket.device_revoked {
        VisitStanding::PhoneRevoked
    } else {
        VisitStanding::Booked
    };
    Ok(PassAnswer {
        now,
        standing,
        ticket: ticket.encoded,
        photo: ticket.photo,
        purpose: ticket.purpose,
        organisation: organisation.name,
        official_phone: organisation.official_phone,
    })
}
