//! The world every device test starts from: a real back-office on loopback with one agent,
//! one customer and two visits, and the two phones enrolled against it.
#![allow(dead_code)]

pub mod reader;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use doorstep_core::Role;
use doorstep_core::pins::Pins;
use doorstep_core::system::unix_now as now;
use doorstep_device::Device;
use doorstep_server::Db;
use doorstep_server::db::organisations::Organisation;
use doorstep_server::testing::{Backoffice, Served, organisation, visit};
use doorstep_store::FileKeyProvider;

pub const ORG: &str = "Northbank Cards";

pub struct World {
    pub _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub db: Db,
    pub org: Organisation,
    pub url: String,
    pub _served: Served,
    /// One visit now and one later, both agent A-1 at customer C-1.
    pub codes: (String, String),
}

pub async fn world() -> World {
    world_attesting(Default::default()).await
}

/// The same world, its back-office judging enrolling keys' attestations by `policy`.
pub async fn world_attesting(policy: doorstep_server::attestation::AttestationPolicy) -> World {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    let office = Backoffice::create(
        &format!("sqlite:{}", root.join("office.db").display()),
        &root,
        &organisation(ORG),
    )
    .await
    .unwrap();
    office
        .add_agent("A-1", b"\x89PNG not really")
        .await
        .unwrap();
    let data = BTreeMap::from([
        ("full_name".to_string(), "Jan Jansen".to_string()),
        ("postal_address".to_string(), "Kerkstraat 1".to_string()),
        ("date_of_birth".to_string(), "1970-01-01".to_string()),
    ]);
    office.add_customer("C-1", &data).await.unwrap();
    for (visit_ref, start) in [("V-1", now() - 300), ("V-2", now() + 600)] {
        let visit = doorstep_server::planning::NewVisit {
            purpose: "Hand over your new debit card".into(),
            ..visit(visit_ref, "A-1", "C-1", start)
        };
        office.add_visit(&visit, now()).await.unwrap();
    }
    let served = office.serve_attesting(policy).await.unwrap();
    let mut codes = Vec::new();
    for (role, subject) in [(Role::Agent, "A-1"), (Role::Customer, "C-1")] {
        codes.push(
            office
                .code(role, subject, &served.url, now())
                .await
                .unwrap(),
        );
    }
    World {
        _dir: dir,
        root,
        db: office.db,
        org: office.org,
        url: served.url.clone(),
        _served: served,
        codes: (codes[0].clone(), codes[1].clone()),
    }
}

impl World {
    pub async fn invite(&self, role: Role, subject: &str) -> String {
        let issued = self
            .db
            .issue_enrolment_code(&self.org, role, subject, &self.url, now())
            .await
            .unwrap();
        doorstep_core::Code::Enrolment(issued.invite).to_text()
    }

    /// The build's trust: this back-office, pinned on loopback (a development configuration).
    pub fn pins(&self) -> Pins {
        Pins {
            development: true,
            organisations: vec![self.org.pin(&self.url)],
        }
    }

    /// A device as the app has it once the person passed the unlock prompt.
    pub async fn open(&self, dir: &Path) -> Device {
        let device = self.open_locked(dir).await;
        device.unlock();
        device
    }

    /// A device whose key is held outside its store, as a phone's secure hardware holds it.
    pub async fn open_with_key(
        &self,
        dir: &Path,
        key: std::sync::Arc<dyn doorstep_sync::DeviceSigner>,
    ) -> Device {
        let device = Device::open_with(
            dir,
            &FileKeyProvider::new(dir.join("data.key")),
            doorstep_core::system::system_clock(),
            self.pins(),
            doorstep_device::KeyHome::Signer(key),
        )
        .await
        .unwrap();
        device.unlock();
        device
    }

    pub async fn open_locked(&self, dir: &Path) -> Device {
        self.open_at(dir, doorstep_core::system::system_clock())
            .await
    }

    pub async fn open_at(&self, dir: &Path, clock: doorstep_core::system::Clock) -> Device {
        Device::open(
            dir,
            &FileKeyProvider::new(dir.join("data.key")),
            clock,
            self.pins(),
        )
        .await
        .unwrap()
    }
}

/// Both phones enrolled and synced; returns their data directories and the two visit ids (now, later).
pub async fn enrolled(w: &World) -> (PathBuf, PathBuf, String, String) {
    let (agent_dir, customer_dir) = (w.root.join("agent"), w.root.join("customer"));
    let customer = w.open(&customer_dir).await;
    let joined = customer.enrol(&w.codes.1, None).await.unwrap();
    assert_eq!(
        (joined.role, joined.organisation.as_str()),
        (Role::Customer, ORG)
    );
    customer.close().await;
    let agent = w.open(&agent_dir).await;
    agent.enrol(&w.codes.0, None).await.unwrap();
    assert_eq!(agent.sync(&mut |_| {}).await.unwrap().visits, 2);
    agent.close().await;
    let customer = w.open(&customer_dir).await;
    assert_eq!(customer.sync(&mut |_| {}).await.unwrap().notices, 2);
    let visits = customer.customer_visits().await.unwrap();
    customer.close().await;
    let ids = (
        visits[0].terms.visit_id.clone(),
        visits[1].terms.visit_id.clone(),
    );
    (agent_dir, customer_dir, ids.0, ids.1)
}
