//! The verification page's question, for a customer without the app: is the visit this pass
//! names still on? Asked with nothing but the pass the agent's phone showed, so the back-office
//! learns nothing it did not know; and answered only for a pass the ticket's agent key signed,
//! so a guessed serial tells nothing either.

use doorstep_core::office::OfficeReference;
use doorstep_core::page::{self, PagePass};
use doorstep_core::system::SystemRandomness;
use serde::Serialize;

use crate::db::organisations::Organisation;
use crate::db::page::PassTicket;
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

impl VisitStanding {
    pub fn name(self) -> &'static str {
        match self {
            VisitStanding::Booked => "booked",
            VisitStanding::Cancelled => "cancelled",
            VisitStanding::AgentRevoked => "agent_revoked",
            VisitStanding::PhoneRevoked => "phone_revoked",
        }
    }
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

/// The pass in `path`, the ticket it names and that ticket's organisation, once the pass is
/// known to be the ticket's agent's.
async fn signed_pass(
    db: &Db,
    path: &str,
) -> Result<(PagePass, PassTicket, Organisation), ServerError> {
    let pass = PagePass::from_url(path).map_err(ServerError::Protocol)?;
    let ticket = db
        .pass_ticket(pass.serial)
        .await?
        .ok_or(ServerError::UnknownPass)?;
    let organisation = db.organisation_by_id(ticket.organisation_id).await?;
    // Not the agent's pass for this very ticket: the same answer as no ticket at all.
    page::check_pass_signatures(&pass, &ticket.encoded, &organisation.keys)
        .map_err(|_| ServerError::UnknownPass)?;
    Ok((pass, ticket, organisation))
}

fn standing(ticket: &PassTicket) -> VisitStanding {
    if ticket.visit_cancelled {
        VisitStanding::Cancelled
    } else if ticket.agent_revoked {
        VisitStanding::AgentRevoked
    } else if ticket.device_revoked {
        VisitStanding::PhoneRevoked
    } else {
        VisitStanding::Booked
    }
}

pub async fn answer(db: &Db, path: &str, now: u64) -> Result<PassAnswer, ServerError> {
    let (_, ticket, organisation) = signed_pass(db, path).await?;
    let standing = standing(&ticket);
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

/// The customer checked the agent on the page and said the photo and the code match: the
/// reference they read to the agent, for the receipt "checked on the page". Given only for a
/// pass that passes every check the page made, by the back-office's clock, on a visit still on;
/// the same pass asked again gets the same reference.
pub async fn record_check(db: &Db, path: &str, now: u64) -> Result<OfficeReference, ServerError> {
    let (pass, ticket, organisation) = signed_pass(db, path).await?;
    let checked = page::check_pass(&pass, &ticket.encoded, &organisation.keys, now)
        .map_err(ServerError::Protocol)?;
    match standing(&ticket) {
        VisitStanding::Booked => {}
        other => return Err(ServerError::VisitNotOn(other)),
    }
    let fresh = OfficeReference::generate(&mut SystemRandomness);
    let given = db
        .page_reference_for_pass(
            checked.ticket().visit_id.0,
            &pass.nonce,
            &fresh.digits(),
            now,
        )
        .await?;
    OfficeReference::parse(&given)
        .map_err(|_| ServerError::Damaged("page_checks: reference".into()))
}
