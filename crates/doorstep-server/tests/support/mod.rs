//! A small back-office world for tests: one organisation with an agent and a customer, both with
//! enrolled devices, and a visit an hour from now. Built on a fresh database per backend.
#![allow(dead_code)]

use std::collections::BTreeMap;

use doorstep_api::wire::Role;
use doorstep_core::enrolment::EnrolmentCode;
use doorstep_core::receipt::{Receipt, UnverifiedOutcome};
use doorstep_core::ticket::{CheckSet, SignedTicket, VisitId};
use doorstep_core::{SeededRandomness, SoftwareKey};
use doorstep_server::devices::Device;
use doorstep_server::organisations::{NewOrganisation, Organisation};
use doorstep_server::signing::{KeyRing, OrganisationSigner};
use doorstep_server::testing::fresh_database_urls;
use doorstep_server::visits::NewVisit;
use doorstep_server::{Db, agents::NewAgent, when};

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
    NewOrganisation {
        name,
        official_phone: "+31 20 555 0100",
        retention_days: 30,
    }
}

pub fn visit(visit_ref: &str, agent: &str, customer: &str, start: u64) -> NewVisit {
    NewVisit {
        visit_ref: visit_ref.into(),
        staff_ref: agent.into(),
        customer_ref: customer.into(),
        window_start: when::format(start),
        window_minutes: 120,
        purpose: "Hand over your new card".into(),
        checks: "device_key card_handover".into(),
        fields: "full_name card_last_four".into(),
    }
}

pub fn customer_data() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("full_name".into(), "Jan Jansen".into()),
        ("postal_address".into(), "Kerkstraat 1, Utrecht".into()),
        ("card_last_four".into(), "4242".into()),
        ("date_of_birth".into(), "1970-01-01".into()),
    ])
}

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
        .enrol_device(&typed, key.public_key(), NOW)
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
        let db = Db::open(url).await.unwrap();
        let key_dir = dir.path().join(uuid::Uuid::now_v7().simple().to_string());
        std::fs::create_dir(&key_dir).unwrap();
        let org = db
            .create_organisation(&new_org("Northbank"), &key_dir)
            .await
            .unwrap();
        let keys = KeyRing::new(key_dir.clone());
        let signer = keys.signer(&org).unwrap();
        db.add_agent(
            &org,
            &NewAgent {
                staff_ref: "A-1",
                display_name: "Sanne de Vries",
                on_behalf_of: "Northbank Cards",
                photo: PHOTO,
            },
        )
        .await
        .unwrap();
        db.add_customer(&org, "C-1", &customer_data())
            .await
            .unwrap();
        let (agent_key, agent_device) = enrol(&db, &org, Role::Agent, "A-1", "agent").await;
        let (customer_key, customer_device) =
            enrol(&db, &org, Role::Customer, "C-1", "customer").await;
        let visit = db
            .add_visit(&org, &visit("V-1", "A-1", "C-1", NOW + 3600), NOW)
            .await
            .unwrap();
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
}
