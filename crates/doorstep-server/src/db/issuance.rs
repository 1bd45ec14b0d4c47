//! What devices pull: the agent's visit package and the customer's notices. A ticket is issued
//! on first need for a (visit, agent device, customer key) and then reused, so the agent and the
//! customer hold the very same ticket; its lifetime is the visit window, no wider.

use doorstep_api::wire::{self, Bytes, Role};
use doorstep_core::KeyId;
use doorstep_core::notice::Notice;
use doorstep_core::ticket::Ticket;
use uuid::Uuid;

use super::devices::Device;
use super::organisations::Organisation;
use super::rows;
use super::visits::{SubjectColumn, Visit};
use crate::keys::OrganisationSigner;
use crate::{Db, ServerError};

/// How far ahead an agent's package reaches.
pub const AGENT_HORIZON: u64 = 36 * 3600;
/// How far ahead a customer hears of a visit.
pub const CUSTOMER_HORIZON: u64 = 14 * 86_400;

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
        let existing: Option<Vec<u8>> = sqlx::query_scalar(
            "SELECT encoded FROM tickets WHERE visit_id = $1 AND agent_device_id = $2 AND customer_key_id = $3
             ORDER BY serial DESC LIMIT 1",
        )
        .bind(visit.id.0.to_vec())
        .bind(agent_device.id.as_bytes().to_vec())
        .bind(customer_key_id.0.to_vec())
        .fetch_optional(&self.pool)
        .await?;
        if let Some(encoded) = existing {
            return Ok(encoded);
        }
        let (agent, _) = self.agent_by_id(visit.agent_id).await?;
        let mut tx = self.pool.begin().await?;
        let serial: i64 = sqlx::query_scalar(
            "INSERT INTO tickets (visit_id, agent_device_id, customer_key_id, issued_at, encoded)
             VALUES ($1, $2, $3, $4, $5) RETURNING serial",
        )
        .bind(visit.id.0.to_vec())
        .bind(agent_device.id.as_bytes().to_vec())
        .bind(customer_key_id.0.to_vec())
        .bind(rows::signed(now))
        .bind(Vec::<u8>::new())
        .fetch_one(&mut *tx)
        .await?;
        let ticket = Ticket {
            serial: u64::try_from(serial).map_err(|_| ServerError::Damaged("serial".into()))?,
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
        };
        let encoded = signer.sign(ticket.to_sign(signer.public_key()))?;
        sqlx::query("UPDATE tickets SET encoded = $1 WHERE serial = $2")
            .bind(encoded.clone())
            .bind(serial)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(encoded)
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
        for visit in self
            .open_visits_of(SubjectColumn::Agent, device.subject_id, now, AGENT_HORIZON)
            .await?
        {
            let Some(customer_device) = self.active_device_of(visit.customer_id).await? else {
                awaiting += 1;
                continue;
            };
            let customer_key = customer_device.public_key;
            let ticket = self
                .ticket_for(&visit, device, customer_key.key_id(), signer, now)
                .await?;
            let customer = self.customer_by_id(visit.customer_id).await?;
            visits.push(wire::PackagedVisit {
                ticket: Bytes(ticket),
                customer_key: Bytes(customer_key.as_bytes().to_vec()),
                customer_data: customer.data_for(visit.fields),
                address: customer.address(),
            });
        }
        Ok(wire::AgentPackage {
            visits,
            awaiting_customer_enrolment: awaiting,
            denylist: Bytes(self.current_denylist(org, signer, now).await?),
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
        for visit in self
            .open_visits_of(
                SubjectColumn::Customer,
                device.subject_id,
                now,
                CUSTOMER_HORIZON,
            )
            .await?
        {
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
            let notice = Notice {
                ticket,
                purpose: visit.purpose.clone(),
                retention_days: org.retention_days,
                official_phone: org.official_phone.clone(),
                organisation_name: org.name.clone(),
            };
            notices.push(wire::CustomerNotice {
                notice: Bytes(signer.sign(notice.to_sign(signer.public_key()))?),
                agent_photo: photo.map(Bytes),
            });
        }
        Ok(wire::CustomerNotices {
            notices,
            denylist: Bytes(self.current_denylist(org, signer, now).await?),
        })
    }

    /// The visit a receipt names, if it belongs to this agent.
    pub async fn visit_of_agent(
        &self,
        visit_id: &[u8],
        agent_id: Uuid,
    ) -> Result<Option<Visit>, ServerError> {
        sqlx::query(
            "SELECT id, visit_ref, agent_id, customer_id, window_start, window_minutes, purpose, checks, fields, completed_at
             FROM visits WHERE id = $1 AND agent_id = $2",
        )
        .bind(visit_id.to_vec())
        .bind(agent_id.as_bytes().to_vec())
        .fetch_optional(&self.pool)
        .await?
        .map(|r| super::visits::visit_from_row(&r))
        .transpose()
    }
}
