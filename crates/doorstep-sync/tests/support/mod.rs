//! A real back-office (axum over a real database) on loopback, and phones with real stores.
#![allow(dead_code)]

pub mod proxy;

use std::ops::Deref;
use std::path::Path;
use std::sync::Arc;

use doorstep_api::wire::Role;
use doorstep_core::SoftwareKey;
use doorstep_core::receipt::{Receipt, UnverifiedOutcome};
use doorstep_core::system::unix_now;
use doorstep_core::ticket::CheckSet;
use doorstep_server::testing::{self, Served};
use doorstep_store::{FileKeyProvider, ReceiptId, Store};
use doorstep_sync::{Client, Syncer};

pub use doorstep_server::testing::ShiftedClock;

pub fn system_now() -> u64 {
    unix_now()
}

/// The test back-office, served on loopback.
pub struct Backoffice {
    office: testing::Backoffice,
    served: Served,
    pub url: String,
}

impl Deref for Backoffice {
    type Target = testing::Backoffice;

    fn deref(&self) -> &testing::Backoffice {
        &self.office
    }
}

impl Backoffice {
    /// Northbank with agent A-1 and customer C-1, served on loopback.
    pub async fn start(db_url: &str, dir: &Path) -> Backoffice {
        let key_dir = dir.join(format!("keys-{}", uuid::Uuid::now_v7().simple()));
        let office =
            testing::Backoffice::create(db_url, &key_dir, &testing::organisation("Northbank"))
                .await
                .unwrap();
        let served = office.serve().await.unwrap();
        let bo = Backoffice {
            office,
            url: served.url.clone(),
            served,
        };
        bo.add_agent("A-1").await;
        bo.add_customer("C-1").await;
        bo
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.served.addr
    }

    pub async fn add_agent(&self, staff_ref: &str) {
        self.office.add_agent(staff_ref, b"photo").await.unwrap();
    }

    pub async fn add_customer(&self, customer_ref: &str) {
        let data = testing::customer_data()
            .into_iter()
            .filter(|(k, _)| k == "full_name")
            .collect();
        self.office.add_customer(customer_ref, &data).await.unwrap();
    }

    /// Visits `count` visits for the agent and customer, starting within the hour.
    pub async fn schedule(&self, prefix: &str, agent: &str, customer: &str, count: usize) {
        let start = system_now() - 600;
        for i in 0..count {
            let visit = doorstep_server::planning::NewVisit {
                window_minutes: 240,
                ..testing::visit(&format!("{prefix}-{i}"), agent, customer, start)
            };
            self.office.add_visit(&visit, system_now()).await.unwrap();
        }
    }

    pub async fn code(&self, role: Role, subject: &str) -> String {
        self.office
            .code(role, subject, &self.url, system_now())
            .await
            .unwrap()
    }

    pub async fn exported_upload_ids(&self) -> Vec<String> {
        self.db
            .export(&self.org)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.upload_id)
            .collect()
    }
}

pub struct Phone {
    pub store: Store,
    pub key: Arc<SoftwareKey>,
    pub clock: ShiftedClock,
    pub dir: tempfile::TempDir,
}

impl Phone {
    pub async fn new(seed: &str) -> Phone {
        let dir = tempfile::tempdir().unwrap();
        let keys = FileKeyProvider::new(dir.path().join("data.key"));
        let store = Store::open(&dir.path().join("device.db"), &keys)
            .await
            .unwrap();
        let key = SoftwareKey::generate(&mut doorstep_core::SeededRandomness::new(&format!(
            "{seed} {}",
            uuid::Uuid::now_v7()
        )));
        Phone {
            store,
            key: Arc::new(key),
            clock: ShiftedClock::default(),
            dir,
        }
    }

    /// A phone enrolled through the API with a fresh code.
    pub async fn enrolled(bo: &Backoffice, role: Role, subject: &str) -> Phone {
        Self::enrolled_via(bo, &bo.url, role, subject).await
    }

    pub async fn enrolled_via(bo: &Backoffice, url: &str, role: Role, subject: &str) -> Phone {
        let phone = Phone::new(subject).await;
        let code = bo.code(role, subject).await;
        doorstep_sync::enrol(
            &phone.store,
            &bo.org.pin(url),
            &code,
            &*phone.key,
            system_now(),
        )
        .await
        .unwrap();
        phone
    }

    pub fn syncer_via(&self, url: &str) -> Syncer<'_> {
        let mut s = Syncer::new(
            &self.store,
            Client::new(url).unwrap(),
            self.key.clone(),
            self.clock.clock(),
        );
        s.backoff.base_secs = 1;
        s
    }

    pub fn now(&self) -> u64 {
        (self.clock.clock())()
    }

    /// Records a "not home" receipt for each visit in the agent's package.
    pub async fn record_receipts(&self, per_visit: usize) -> Vec<ReceiptId> {
        let mut ids = Vec::new();
        for (ticket, _) in self.store.visits().await.unwrap() {
            for n in 0..per_visit {
                let receipt = Receipt::without_handshake(
                    &ticket,
                    UnverifiedOutcome::NotHome,
                    CheckSet::default(),
                    None,
                    self.now() + n as u64,
                )
                .to_sign(self.key.public_key())
                .sign_with(&self.key)
                .unwrap();
                ids.push(
                    self.store
                        .record_receipt(ticket.ticket().visit_id, &receipt, self.now())
                        .await
                        .unwrap(),
                );
            }
        }
        ids
    }
}
