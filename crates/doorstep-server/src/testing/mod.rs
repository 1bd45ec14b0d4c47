//! A back-office for tests and the demo (feature `testing`): one fixture that every suite and
//! `doorstep demo` set up their world with.
//!
//! Fresh databases come on every backend this machine offers: always a new SQLite file, and a
//! new PostgreSQL database when `DOORSTEP_TEST_POSTGRES_URL` names a server (the test scripts
//! start one). With `DOORSTEP_REQUIRE_POSTGRES=1` a missing server fails the test instead of
//! silently testing one backend.

pub mod android_attestation;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use doorstep_core::system::{Clock, unix_now};
use doorstep_core::ticket::VisitId;
use doorstep_core::{Role, when};
use sqlx::{Connection, Executor};

use crate::db::agents::NewAgent;
use crate::db::organisations::{NewOrganisation, Organisation};
use crate::http::{AppState, router};
use crate::keys::KeyRing;
use crate::planning::NewVisit;
use crate::{Db, ServerError};

/// The organisation every fixture books for.
pub const OFFICIAL_PHONE: &str = "+31 20 555 0100";
pub const AGENT_NAME: &str = "Sanne de Vries";
pub const ON_BEHALF_OF: &str = "Northbank Cards";

pub fn organisation(name: &str) -> NewOrganisation<'_> {
    NewOrganisation {
        name,
        official_phone: OFFICIAL_PHONE,
        retention_days: 30,
        customer_code_days: 3,
        cooling_off_hours: 24,
    }
}

/// A visit of two hours from `start`, handing over a card, showing the customer's name.
/// Suites that need other terms change the fields they care about.
pub fn visit(visit_ref: &str, staff_ref: &str, customer_ref: &str, start: u64) -> NewVisit {
    NewVisit {
        visit_ref: visit_ref.into(),
        staff_ref: staff_ref.into(),
        customer_ref: customer_ref.into(),
        window_start: when::format(start),
        window_minutes: 120,
        purpose: "Hand over your new card".into(),
        checks: "card_handover".into(),
        fields: "full_name".into(),
    }
}

/// Everything a customer record may hold.
pub fn customer_data() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("full_name".into(), "Jan Jansen".into()),
        ("postal_address".into(), "Kerkstraat 1, 3511 Utrecht".into()),
        ("card_last_four".into(), "4242".into()),
        ("date_of_birth".into(), "1970-01-01".into()),
    ])
}

/// A clock that runs with the system's, shifted by an offset the test can change.
#[derive(Clone, Default)]
pub struct ShiftedClock(Arc<AtomicI64>);

impl ShiftedClock {
    pub fn clock(&self) -> Clock {
        let offset = self.0.clone();
        Arc::new(move || unix_now().saturating_add_signed(offset.load(Ordering::SeqCst)))
    }

    pub fn shift(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

/// One organisation in its own database, with its signing key in `key_dir`.
pub struct Backoffice {
    pub db: Db,
    pub org: Organisation,
    pub key_dir: PathBuf,
    pub keys: KeyRing,
    /// The clock the served API runs on.
    pub clock: ShiftedClock,
}

/// The API served on loopback; stops when dropped.
pub struct Served {
    pub addr: SocketAddr,
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Served {
    /// Stops serving now: what follows happens offline.
    pub fn stop(&self) {
        self.task.abort();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Backoffice {
    /// Opens (and migrates) the database at `db_url` and creates the organisation in it.
    pub async fn create(
        db_url: &str,
        key_dir: &Path,
        organisation: &NewOrganisation<'_>,
    ) -> Result<Self, ServerError> {
        let db = Db::open(db_url).await?;
        std::fs::create_dir_all(key_dir).map_err(|e| ServerError::SigningKey {
            path: key_dir.display().to_string(),
            reason: e.to_string(),
        })?;
        let org = db.create_organisation(organisation, key_dir).await?;
        Ok(Self {
            db,
            org,
            key_dir: key_dir.to_path_buf(),
            keys: KeyRing::new(key_dir.to_path_buf()),
            clock: ShiftedClock::default(),
        })
    }

    /// Agent `staff_ref`, named [`AGENT_NAME`], working for [`ON_BEHALF_OF`].
    pub async fn add_agent(&self, staff_ref: &str, photo: &[u8]) -> Result<(), ServerError> {
        let agent = NewAgent {
            staff_ref,
            display_name: AGENT_NAME,
            on_behalf_of: ON_BEHALF_OF,
            photo,
        };
        self.db.add_agent(&self.org, &agent).await.map(drop)
    }

    pub async fn add_customer(
        &self,
        customer_ref: &str,
        data: &BTreeMap<String, String>,
    ) -> Result<(), ServerError> {
        self.db
            .add_customer(&self.org, customer_ref, data)
            .await
            .map(drop)
    }

    pub async fn add_visit(&self, visit: &NewVisit, now: u64) -> Result<VisitId, ServerError> {
        self.db.add_visit(&self.org, visit, now).await
    }

    /// A one-time enrolment code, typed form, for a device that will reach the API at `url`.
    pub async fn code(
        &self,
        role: Role,
        subject: &str,
        url: &str,
        now: u64,
    ) -> Result<String, ServerError> {
        Ok(self.invite(role, subject, url, now).await?.code.to_typed())
    }

    /// A one-time enrolment code as the invite a QR carries (`DS2E:` once encoded), naming `url`.
    pub async fn invite(
        &self,
        role: Role,
        subject: &str,
        url: &str,
        now: u64,
    ) -> Result<doorstep_core::enrolment::EnrolmentInvite, ServerError> {
        let issued = self
            .db
            .issue_enrolment_code(&self.org, role, subject, url, now)
            .await?;
        Ok(issued.invite)
    }

    /// Stores a key hand-over as if the back-office had made it: for tests of what phones do
    /// with one a trusted key did not sign (a compromised back-office serving a forgery).
    pub async fn insert_key_rotation(
        &self,
        new_key: &doorstep_core::PublicKey,
        encoded: &[u8],
        issued_at: u64,
    ) -> Result<(), ServerError> {
        sqlx::query(
            "INSERT INTO key_rotations (organisation_id, issued_at, new_key_id, encoded) VALUES ($1, $2, $3, $4)",
        )
        .bind(self.org.id.as_bytes().to_vec())
        .bind(crate::db::rows::signed(issued_at))
        .bind(new_key.key_id().0.to_vec())
        .bind(encoded)
        .execute(&self.db.pool)
        .await?;
        Ok(())
    }

    /// Serves the API on a free loopback port.
    pub async fn serve(&self) -> std::io::Result<Served> {
        self.serve_limited(crate::db::requests::DEFAULT_REQUESTS_PER_MINUTE)
            .await
    }

    /// As [`Backoffice::serve`], another server on the same database, with its own rate limit.
    pub async fn serve_limited(&self, requests_per_minute: u32) -> std::io::Result<Served> {
        self.serve_with(requests_per_minute, Default::default())
            .await
    }

    /// As [`Backoffice::serve`], judging enrolling keys' attestations by `attestation`.
    pub async fn serve_attesting(
        &self,
        attestation: crate::attestation::AttestationPolicy,
    ) -> std::io::Result<Served> {
        self.serve_with(
            crate::db::requests::DEFAULT_REQUESTS_PER_MINUTE,
            attestation,
        )
        .await
    }

    /// A console account with `password` (at least 12 characters).
    pub async fn add_staff(
        &self,
        username: &str,
        role: crate::staff::StaffRole,
        password: &str,
    ) -> crate::db::staff::Staff {
        let hash = crate::staff::hash_password(password, [username.len() as u8; 16]).unwrap();
        self.db
            .add_staff(
                &self.org,
                crate::db::staff::NewStaff {
                    username,
                    display_name: username,
                    role,
                    password_hash: &hash,
                },
                (self.clock.clock())(),
            )
            .await
            .unwrap()
    }

    async fn serve_with(
        &self,
        requests_per_minute: u32,
        attestation: crate::attestation::AttestationPolicy,
    ) -> std::io::Result<Served> {
        let mut state = AppState::new(self.db.clone(), self.keys.clone(), self.clock.clock());
        state.requests_per_minute = requests_per_minute;
        state.attestation = Arc::new(attestation);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        state.public_url = format!("http://{addr}");
        let task = tokio::spawn(async move {
            // Ends only when the test aborts it (on drop).
            axum::serve(
                listener,
                router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
            .ok();
        });
        Ok(Served {
            addr,
            url: format!("http://{addr}"),
            task,
        })
    }
}

pub const POSTGRES_URL_VAR: &str = "DOORSTEP_TEST_POSTGRES_URL";

/// One database URL per backend, each naming an empty database made for the caller.
pub async fn fresh_database_urls(dir: &Path) -> Vec<String> {
    let mut urls = vec![format!(
        "sqlite:{}",
        dir.join(format!("{}.db", uuid::Uuid::now_v7().simple()))
            .display()
    )];
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(base) => urls.push(fresh_postgres_database(&base).await),
        Err(_) if std::env::var("DOORSTEP_REQUIRE_POSTGRES").as_deref() == Ok("1") => {
            panic!("{POSTGRES_URL_VAR} is not set; run the tests through scripts/with-postgres.sh")
        }
        Err(_) => {}
    }
    urls
}

/// Creates a database beside the one `base` names and returns its URL.
async fn fresh_postgres_database(base: &str) -> String {
    let name = format!("t_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(base)
        .await
        .expect("the test PostgreSQL server accepts connections");
    admin
        // The name is ours (a UUID), so formatting it into the statement is safe.
        .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name}"
        ))))
        .await
        .expect("a test database can be created");
    admin.close().await.ok();
    let (before_query, query) = base.split_once('?').unwrap_or((base, ""));
    let server = &before_query[..before_query.rfind('/').expect("a database path")];
    format!("{server}/{name}?{query}")
}
