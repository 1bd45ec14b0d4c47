//! A real back-office (axum over a real database) on loopback, and phones with real stores.
#![allow(dead_code)]

pub mod proxy;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use doorstep_api::wire::Role;
use doorstep_core::SoftwareKey;
use doorstep_core::receipt::{Receipt, UnverifiedOutcome};
use doorstep_core::ticket::CheckSet;
use doorstep_server::agents::NewAgent;
use doorstep_server::http::{AppState, router};
use doorstep_server::organisations::{NewOrganisation, Organisation};
use doorstep_server::signing::KeyRing;
use doorstep_server::visits::NewVisit;
use doorstep_server::{Db, when};
use doorstep_store::{FileKeyProvider, ReceiptId, Store};
use doorstep_sync::{Client, Clock, Syncer};

pub fn system_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A clock that runs with the system's, shifted by an offset the test can change.
#[derive(Clone, Default)]
pub struct ShiftedClock(pub Arc<AtomicI64>);

impl ShiftedClock {
    pub fn clock(&self) -> Clock {
        let offset = self.0.clone();
        Arc::new(move || system_now().saturating_add_signed(offset.load(Ordering::SeqCst)))
    }

    pub fn shift(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

pub struct Backoffice {
    pub db: Db,
    pub org: Organisation,
    pub key_dir: PathBuf,
    pub addr: SocketAddr,
    pub url: String,
    pub clock: ShiftedClock,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Backoffice {
    fn drop(&mut self) {
        self.server.abort();
    }
}

pub async fn serve(
    db: Db,
    key_dir: &Path,
    clock: &ShiftedClock,
) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let state = AppState::new(db, KeyRing::new(key_dir.to_path_buf()), clock.clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    (addr, task)
}

impl Backoffice {
    /// Northbank with agent A-1 and customer C-1, served on loopback.
    pub async fn start(db_url: &str, dir: &Path) -> Backoffice {
        let db = Db::open(db_url).await.unwrap();
        let key_dir = dir.join(format!("keys-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir(&key_dir).unwrap();
        let org = db
            .create_organisation(
                &NewOrganisation {
                    name: "Northbank",
                    official_phone: "+31 20 555 0100",
                    retention_days: 30,
                },
                &key_dir,
            )
            .await
            .unwrap();
        let clock = ShiftedClock::default();
        let (addr, server) = serve(db.clone(), &key_dir, &clock).await;
        let bo = Backoffice {
            db,
            org,
            key_dir,
            addr,
            url: format!("http://{addr}"),
            clock,
            server,
        };
        bo.add_agent("A-1").await;
        bo.add_customer("C-1").await;
        bo
    }

    pub async fn add_agent(&self, staff_ref: &str) {
        self.db
            .add_agent(
                &self.org,
                &NewAgent {
                    staff_ref,
                    display_name: "Sanne de Vries",
                    on_behalf_of: "Northbank Cards",
                    photo: b"photo",
                },
            )
            .await
            .unwrap();
    }

    pub async fn add_customer(&self, customer_ref: &str) {
        let data = BTreeMap::from([("full_name".to_string(), "Jan Jansen".to_string())]);
        self.db
            .add_customer(&self.org, customer_ref, &data)
            .await
            .unwrap();
    }

    /// Visits `count` visits for the agent and customer, starting within the hour.
    pub async fn schedule(&self, prefix: &str, agent: &str, customer: &str, count: usize) {
        let start = system_now() - 600;
        for i in 0..count {
            let visit = NewVisit {
                visit_ref: format!("{prefix}-{i}"),
                staff_ref: agent.into(),
                customer_ref: customer.into(),
                window_start: when::format(start),
                window_minutes: 240,
                purpose: "Hand over your new card".into(),
                checks: "card_handover".into(),
                fields: "full_name".into(),
            };
            self.db
                .add_visit(&self.org, &visit, system_now())
                .await
                .unwrap();
        }
    }

    pub async fn code(&self, role: Role, subject: &str) -> String {
        self.db
            .issue_enrolment_code(&self.org, role, subject, &self.url, system_now())
            .await
            .unwrap()
            .invite
            .code
            .to_typed()
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
        let client = Client::new(url).unwrap();
        doorstep_sync::enrol(&phone.store, &client, &code, &*phone.key, system_now())
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
