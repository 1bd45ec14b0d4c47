//! The versioned HTTP API. Handlers take a [`SignedDevice`] (or, to enrol, a
//! [`SignedRequest`]), delegate to the database and the rules, and translate; they decide
//! nothing themselves. Every error is JSON with a stable kind ([`ApiError`]).

pub mod console;
mod console_page;
mod error;
mod resources;
mod signed;
mod verify_page;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use doorstep_api::wire::{self, paths};

pub use console::CSRF_HEADER;
pub use doorstep_core::system::{Clock, system_clock};
pub use error::ApiError;
pub use signed::{SignedDevice, SignedRequest};

use crate::Db;
use crate::keys::KeyRing;

pub const OPENAPI_JSON: &str = include_str!("openapi.json");

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: KeyRing,
    pub clock: Clock,
    /// Signed requests one device may make per minute before `429 rate_limited`.
    pub requests_per_minute: u32,
    /// How the hardware-key attestations sent at enrolment are judged.
    pub attestation: std::sync::Arc<crate::attestation::AttestationPolicy>,
    /// The address phones reach this back-office at, printed in enrolment letters.
    pub public_url: String,
    /// Questions to the verification page's endpoint, per address.
    pub page_limiter: verify_page::PageLimiter,
}

impl AppState {
    pub fn new(db: Db, keys: KeyRing, clock: Clock) -> Self {
        Self {
            db,
            keys,
            clock,
            requests_per_minute: crate::db::requests::DEFAULT_REQUESTS_PER_MINUTE,
            attestation: Default::default(),
            public_url: "http://127.0.0.1:8080".into(),
            page_limiter: Default::default(),
        }
    }

    pub fn now(&self) -> u64 {
        (self.clock)()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::OPENAPI, get(resources::openapi))
        .route(paths::ENROL, post(resources::enrol))
        .route(paths::AGENT_PACKAGE, get(resources::agent_package))
        .route(paths::CUSTOMER_NOTICES, get(resources::customer_notices))
        .route(paths::UPLOADS, post(resources::uploads))
        .route(paths::DENYLIST, get(resources::denylist))
        .merge(console::routes())
        .merge(console_page::routes())
        .merge(verify_page::routes())
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .layer(DefaultBodyLimit::max(wire::MAX_BODY_BYTES))
        .with_state(state)
}
