//! What devices pull: the agent's visit package and the customer's notices. A ticket is issued
//! on first need for a (visit, agent device, customer key) and then reused, so the agent and the
//! customer hold the very same ticket; its lifetime is the visit window, no wider. [`ticket`]
//! and [`notice`] say what the documents hold; the database only stores them.

use doorstep_api::wire::{self, Bytes, Role};
use doorstep_core::KeyId;
use doorstep_core::notice::Notice;
use doorstep_core::ticket::{NO_CUSTOMER_KEY, Ticket};

use crate::db::agents::Agent;
use crate::db::devices::Device;
use crate::db::organisations::Organisation;
use crate::db::visits::{SubjectColumn, Visit};
use crate::keys::OrganisationSigner;
use crate::{Db, ServerError};

/// How far ahead an agent's package reaches.
pub const AGENT_HORIZON: u64 = 36 * 3600;
/// How far ahead a customer hears of a visit.
pub const CUSTOMER_HORIZON: u64 = 14 * 86_400;

/// The ticket for `visit`: valid for its window only, naming the agent, the agent's device key,
/// the customer's key, and exactly the checks and fields the visit allows.
pub fn ticket(
    visit: &Visit,
    agent: Agent,
    agent_device: &Device,
    customer_key_id: KeyId,
    serial: u64,
) -> Ticket {
    Ticket {
        serial,
        visit_id: visit.id,
        window_start: visit.window_start,
        window_minutes: visit.window_minutes,
        not_before: visit.window_start,
        not_after: visit.window_end(),
        agent_id: agent.staff_ref,
        agent_name: agent.display_name,
        on_behalf_of: agent.on_behalf_of,
        photo_hash: agent.photo_hash,
        agent_key: agent_device.public_key,
        customer_key_id,
        checks: visit.checks,
        fields: visit.fields,
    }
}

/// The notice a customer receives: the ticket, why the visit happens, how long data is kept, and
/// whom to call.
pub fn notice(org: &Organisation, visit: &Visit, ticket: Vec<u8>) -> Notice {
    Notice {
        ticket,
        purpose: visit.purpose.clone(),
        retention_days: org.retention_days,
        official_phone: org.official_phone.clone(),
        organisation_name: org.name.clone(),
    }
}

impl Db {
    /// The signed ticket for `visit` carried by `agent_device`, issuing one if needed.
    async fn ticket_for(
        &self,
        visit: &Visit,
        agent_device: &Device,
        customer_key_id: KeyId,
        signer: &OrganisationSigner,
        now: u64,
    ) -> Result<Vec<u8>, ServerError> {
        if let Some(encoded) = self
            .existing_ticket(visit, agent_device, customer_key_id)
            .await?
        {
            return Ok(encoded);
        }
        let (agent, _) = self.agent_by_id(visit.agent_id).await?;
        self.issue_ticket(visit, agent_device, customer_key_id, now, |serial| {
            let ticket = ticket(visit, agent, agent_device, customer_key_id, serial);
            signer.sign(ticket.to_sign(signer.public_key()))
        })
        .await
    }

    /// The agent's visits for the coming hours, each with its ticket, the customer's key and
    /// only the customer data the ticket allows.
    pub async fn agent_package(
        &self,
        org: &Organisation,
        device: &Device,
        signer: &OrganisationSigner,
        now: u64,
    ) -> Result<wire::AgentPackage, ServerError> {
        if device.role != Role::Agent {
            return Err(ServerError::WrongRole(Role::Agent));
        }
        let mut visits = Vec::new();
        let mut awaiting = 0;
        let standing = self.standing(device).await?;
        // A held device receives nothing yet.
        let open = match standing.held_until {
            Some(_) => Vec::new(),
            None => {
                self.open_visits_of(SubjectColumn::Agent, device.subject_id, now, AGENT_HORIZON)
                    .await?
            }
        };
        for visit in open {
            if self.customer_revoked(visit.customer_id).await? {
                continue;
            }
            // A customer without an enrolled phone (never enrolled, or their phone revoked) is
            // visited all the same, on a ticket naming no key: they check the agent on the
            // verification page, and a revoked phone can answer no challenge.
            let customer_key = match self.active_device_of(visit.customer_id).await? {
                Some(customer_device) => Some(customer_device.public_key),
                None => {
                    awaiting += 1;
                    None
                }
            };
            let key_id = customer_key.map_or(NO_CUSTOMER_KEY, |k| k.key_id());
            let ticket = self.ticket_for(&visit, device, key_id, signer, now).await?;
            let customer = self.customer_by_id(visit.customer_id).await?;
            visits.push(wire::PackagedVisit {
                ticket: Bytes(ticket),
                customer_key: Bytes(customer_key.map_or(Vec::new(), |k| k.as_bytes().to_vec())),
                // Only a customer's answer opens these on the phone: without a key to answer
                // with, the agent's phone is not sent them at all.
                customer_data: if customer_key.is_some() {
                    customer.data_for(visit.fields)
                } else {
                    Default::default()
                },
                address: customer.address(),
                purpose: Some(visit.purpose.clone()),
                visit_ref: Some(visit.visit_ref.clone()),
            });
        }
        Ok(wire::AgentPackage {
            visits,
            awaiting_customer_enrolment: awaiting,
            denylist: Bytes(self.current_denylist(org, signer, now).await?),
            standing,
            key_rotations: self.key_rotations_on_wire(org).await?,
            retention_days: Some(org.retention_days),
        })
    }

    /// Notices of the customer's coming visits whose agent has an enrolled device.
    pub async fn customer_notices(
        &self,
        org: &Organisation,
        device: &Device,
        signer: &OrganisationSigner,
        now: u64,
    ) -> Result<wire::CustomerNotices, ServerError> {
        if device.role != Role::Customer {
            return Err(ServerError::WrongRole(Role::Customer));
        }
        let mut notices = Vec::new();
        let standing = self.standing(device).await?;
        // A held device receives nothing yet: no who, no when, no photo.
        let open = match standing.held_until {
            Some(_) => Vec::new(),
            None => {
                self.open_visits_of(
                    SubjectColumn::Customer,
                    device.subject_id,
                    now,
                    CUSTOMER_HORIZON,
                )
                .await?
            }
        };
        for visit in open {
            let Some(agent_device) = self.active_device_of(visit.agent_id).await? else {
                continue;
            };
            let ticket = self
                .ticket_for(
                    &visit,
                    &agent_device,
                    device.public_key.key_id(),
                    signer,
                    now,
                )
                .await?;
            let (_, photo) = self.agent_by_id(visit.agent_id).await?;
            let notice = notice(org, &visit, ticket);
            notices.push(wire::CustomerNotice {
                notice: Bytes(signer.sign(notice.to_sign(signer.public_key()))?),
                agent_photo: photo.map(Bytes),
            });
        }
        Ok(wire::CustomerNotices {
            notices,
            denylist: Bytes(self.current_denylist(org, signer, now).await?),
            standing,
            key_rotations: self.key_rotations_on_wire(org).await?,
            retention_days: Some(org.retention_days),
        })
    }

    async fn key_rotations_on_wire(&self, org: &Organisation) -> Result<Vec<Bytes>, ServerError> {
        Ok(self
            .key_rotations(org)
            .await?
            .into_iter()
            .map(Bytes)
            .collect())
    }
}
