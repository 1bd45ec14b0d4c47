//! A small back-office world for tests: one organisation with an agent and a customer, both with
//! enrolled devices, and a visit an hour from now. Built on a fresh database per backend.
#![allow(dead_code)]

use doorstep_api::wire::Role;
use doorstep_core::agent::{self, CustomerVerified};
use doorstep_core::customer::AwaitingProof;
use doorstep_core::enrolment::EnrolmentCode;
use doorstep_core::notice::VerifiedNotice;
use doorstep_core::receipt::{Receipt, UnverifiedOutcome};
use doorstep_core::ticket::{CheckSet, SignedTicket, VisitId};
use doorstep_core::{Policy, Trust};
use doorstep_core::{SeededRandomness, SoftwareKey};
use doorstep_server::Db;
use doorstep_server::db::devices::Device;
use doorstep_server::db::organisations::{NewOrganisation, Organisation};
use doorstep_server::keys::{KeyRing, OrganisationSigner};
use doorstep_server::planning::NewVisit;
use doorstep_server::testing::{self, Backoffice, fresh_database_urls};

pub const NOW: u64 = 1_795_500_000;
pub const PHOTO: &[u8] = b"agent photo bytes";

pub struct World {
    pub db: Db,
    pub keys: KeyRing,
    pub key_dir: std::path::PathBuf,
    pub org: Organisation,
    pub signer: OrganisationSigner,
    pub agent_key: SoftwareKey,
    pub agent_device: Device,
    pub customer_key: SoftwareKey,
    pub customer_device: Device,
    pub visit: VisitId,
}

pub fn new_org(name: &str) -> NewOrganisation<'_> {
    testing::organisation(name)
}

pub fn visit(visit_ref: &str, agent: &str, customer: &str, start: u64) -> NewVisit {
    NewVisit {
        checks: "device_key card_handover".into(),
        fields: "full_name card_last_four".into(),
        ..testing::visit(visit_ref, agent, customer, start)
    }
}

pub use testing::customer_data;

pub async fn enrol(
    db: &Db,
    org: &Organisation,
    role: Role,
    subject: &str,
    seed: &str,
) -> (SoftwareKey, Device) {
    let key = SoftwareKey::generate(&mut SeededRandomness::new(seed));
    let code = db
        .issue_enrolment_code(org, role, subject, "https://doorstep.example", NOW)
        .await
        .unwrap();
    let typed = EnrolmentCode::from_typed(&code.invite.code.to_typed()).unwrap();
    let (device, _) = db
        .enrol_device(&typed, key.public_key(), None, NOW)
        .await
        .unwrap();
    (key, device)
}

impl World {
    /// One world per backend, each in its own fresh database.
    pub async fn on_every_backend(dir: &tempfile::TempDir) -> Vec<World> {
        let mut worlds = Vec::new();
        for url in fresh_database_urls(dir.path()).await {
            worlds.push(World::build(&url, dir).await);
        }
        worlds
    }

    pub async fn build(url: &str, dir: &tempfile::TempDir) -> World {
        let key_dir = dir.path().join(uuid::Uuid::now_v7().simple().to_string());
        let office = Backoffice::create(url, &key_dir, &new_org("Northbank"))
            .await
            .unwrap();
        office.add_agent("A-1", PHOTO).await.unwrap();
        office.add_customer("C-1", &customer_data()).await.unwrap();
        let visit = office
            .add_visit(&visit("V-1", "A-1", "C-1", NOW + 3600), NOW)
            .await
            .unwrap();
        let Backoffice {
            db,
            org,
            key_dir,
            keys,
            ..
        } = office;
        let signer = keys.signer(&org).unwrap();
        let (agent_key, agent_device) = enrol(&db, &org, Role::Agent, "A-1", "agent").await;
        let (customer_key, customer_device) =
            enrol(&db, &org, Role::Customer, "C-1", "customer").await;
        World {
            db,
            keys,
            key_dir,
            org,
            signer,
            agent_key,
            agent_device,
            customer_key,
            customer_device,
            visit,
        }
    }

    /// The agent's ticket for the world's visit, from its package.
    pub async fn ticket(&self) -> SignedTicket {
        let package = self
            .db
            .agent_package(&self.org, &self.agent_device, &self.signer, NOW)
            .await
            .unwrap();
        SignedTicket::verify(&package.visits[0].ticket.0, &self.org.keys).unwrap()
    }

    /// A receipt signed by the agent's device.
    pub fn receipt(&self, ticket: &SignedTicket, outcome: UnverifiedOutcome, time: u64) -> Vec<u8> {
        Receipt::without_handshake(ticket, outcome, CheckSet::default(), None, time)
            .to_sign(self.agent_key.public_key())
            .sign_with(&self.agent_key)
            .unwrap()
    }

    /// `count` more visits of A-1 at C-1, each met at the door through a real handshake between
    /// the world's two devices: the agent's states that sign "verified" receipts, with the time
    /// inside each visit's window.
    pub async fn verified_visits(&self, count: usize) -> Vec<(CustomerVerified, u64)> {
        for i in 0..count {
            let start = NOW + 7200 + 60 * i as u64;
            self.db
                .add_visit(
                    &self.org,
                    &visit(&format!("VV-{i}"), "A-1", "C-1", start),
                    NOW,
                )
                .await
                .unwrap();
        }
        let package = self
            .db
            .agent_package(&self.org, &self.agent_device, &self.signer, NOW)
            .await
            .unwrap();
        let notices = self
            .db
            .customer_notices(&self.org, &self.customer_device, &self.signer, NOW)
            .await
            .unwrap();
        let denylist = self
            .db
            .current_denylist(&self.org, &self.signer, NOW)
            .await
            .unwrap();
        let mut trust = Trust::new(self.org.keys.clone(), Policy::default());
        trust.install_denylist(&denylist).unwrap();
        let mut rng = SeededRandomness::new("verified visits");
        let mut verified = Vec::new();
        // Each notice checked once, found by its visit.
        let mut notices: std::collections::HashMap<_, _> = notices
            .notices
            .iter()
            .map(|n| {
                let notice = VerifiedNotice::verify(&n.notice.0, &self.org.keys).unwrap();
                (notice.ticket().ticket().visit_id, notice)
            })
            .collect();
        for packaged in &package.visits {
            let ticket = SignedTicket::verify(&packaged.ticket.0, &self.org.keys).unwrap();
            let visit_id = ticket.ticket().visit_id;
            let notice = notices.remove(&visit_id).unwrap();
            let at = ticket.ticket().window_start + 60;
            let customer_key = self.customer_key.public_key();
            let (waiting, challenge) = AwaitingProof::start(notice, customer_key, at, &mut rng);
            let ready = agent::Ready::new(&packaged.ticket.0, customer_key, &trust).unwrap();
            let to_sign = ready
                .receive_challenge(challenge, &trust, at, &mut rng)
                .unwrap();
            let signature = self.agent_key.sign(&to_sign.bytes_to_sign());
            let (awaiting, proof) = to_sign.finish(signature).unwrap();
            let shown = waiting
                .receive_proof(&proof, &trust, at)
                .unwrap()
                .person_confirmed();
            let signature = self.customer_key.sign(&shown.bytes_to_sign());
            let (_, response) = shown.finish(signature).unwrap();
            let state = awaiting.codes_match().receive_response(&response).unwrap();
            verified.push((state, at));
        }
        verified
    }

    /// A "verified" receipt of `state`'s visit, signed by the agent's device.
    pub fn verified_receipt(&self, state: &CustomerVerified, time: u64) -> Vec<u8> {
        state
            .receipt_to_sign(CheckSet::default(), time)
            .sign_with(&self.agent_key)
            .unwrap()
    }
}

/// Someone signed in to the console with `role`, as a request's session would show them.
pub async fn signed_in(
    w: &World,
    username: &'static str,
    role: doorstep_server::staff::StaffRole,
) -> doorstep_server::console::SignedIn {
    let staff =
        w.db.add_staff(
            &w.org,
            doorstep_server::db::staff::NewStaff {
                username,
                display_name: username,
                role,
                password_hash: "unused",
            },
            NOW,
        )
        .await
        .unwrap();
    doorstep_server::console::SignedIn {
        staff,
        token: doorstep_server::staff::SessionToken([1; 32]),
    }
}
