//! The versioned HTTP API. Handlers authenticate, translate JSON and delegate to [`Db`]; they
//! decide nothing themselves. Every request is signed by a device key (see `doorstep_api::auth`);
//! every error is JSON with a stable kind.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, OriginalUri, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use doorstep_api::auth::{self, AuthError, DeviceStatus, ReplayGuard, RequestParts};
use doorstep_api::wire::{self, ErrorBody, paths};
use doorstep_core::PublicKey;
use doorstep_core::enrolment::EnrolmentCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::devices::Device;
use crate::organisations::Organisation;
use crate::signing::{KeyRing, OrganisationSigner};
use crate::{Db, ServerError};

pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// The server's clock; tests move it.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(|| u64::try_from(crate::now_unix()).unwrap_or(0))
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub keys: KeyRing,
    pub clock: Clock,
    replay: Arc<Mutex<ReplayGuard>>,
}

impl AppState {
    pub fn new(db: Db, keys: KeyRing, clock: Clock) -> Self {
        Self {
            db,
            keys,
            clock,
            replay: Arc::default(),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route(paths::OPENAPI, get(openapi))
        .route(paths::ENROL, post(enrol))
        .route(paths::AGENT_PACKAGE, get(agent_package))
        .route(paths::CUSTOMER_NOTICES, get(customer_notices))
        .route(paths::UPLOADS, post(uploads))
        .route(paths::DENYLIST, get(denylist))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such endpoint")
        })
        .layer(DefaultBodyLimit::max(wire::MAX_BODY_BYTES))
        .with_state(state)
}

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: kind.into(),
                message: message.into(),
            },
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        let status = match e {
            AuthError::RevokedDevice => StatusCode::FORBIDDEN,
            _ => StatusCode::UNAUTHORIZED,
        };
        ApiError::new(status, e.kind(), e.to_string())
    }
}

impl From<ServerError> for ApiError {
    fn from(e: ServerError) -> Self {
        use ServerError as E;
        let status = match &e {
            E::UnknownEnrolmentCode => StatusCode::NOT_FOUND,
            E::EnrolmentCodeUsed | E::KeyAlreadyEnrolled => StatusCode::CONFLICT,
            E::EnrolmentCodeExpired => StatusCode::GONE,
            E::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::WrongRole(_) | E::AgentRevoked(_) => StatusCode::FORBIDDEN,
            E::Invalid(_) => StatusCode::BAD_REQUEST,
            E::Database(_) | E::Migration(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        ApiError::new(status, e.kind(), e.to_string())
    }
}

fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "request bodies are limited to {} bytes",
                    wire::MAX_BODY_BYTES
                ),
            )
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
        }
    })
}

fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_body", e.to_string()))
}

fn reply<T: Serialize>(value: &T) -> Response {
    axum::Json(value).into_response()
}

struct Signed<'a> {
    method: &'a Method,
    uri: &'a OriginalUri,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Signed<'_> {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method.as_str(),
            path: self
                .uri
                .path_and_query()
                .map_or(self.uri.path(), |p| p.as_str()),
            body: self.body,
        }
    }

    fn header(&self) -> Option<&str> {
        self.headers.get(auth::HEADER).and_then(|v| v.to_str().ok())
    }

    fn verify(
        &self,
        state: &AppState,
        status: Option<DeviceStatus>,
    ) -> Result<PublicKey, ApiError> {
        let now = (state.clock)();
        let mut guard = state.replay.lock().expect("replay guard lock");
        Ok(auth::verify_request(
            self.header(),
            self.parts(),
            |_| status,
            &mut guard,
            now,
            auth::DEFAULT_WINDOW,
        )?)
    }

    /// The enrolled, unrevoked device that signed this request, and its organisation.
    async fn device(
        &self,
        state: &AppState,
    ) -> Result<(Device, Organisation, OrganisationSigner), ApiError> {
        let header = auth::SignatureHeader::parse(self.header().ok_or(AuthError::Missing)?)?;
        let device = state.db.device_by_key(header.key_id).await?;
        let status = device.as_ref().map(|d| match d.revoked_at {
            Some(_) => DeviceStatus::Revoked,
            None => DeviceStatus::Active(d.public_key),
        });
        self.verify(state, status)?;
        let device = device.expect("verified, so found");
        let org = state.db.organisation_by_id(device.organisation_id).await?;
        let signer = state.keys.signer(&org)?;
        Ok((device, org, signer))
    }
}

/// The enrolled, unrevoked device that signed this request, its organisation and signer.
async fn signed_by_device(
    state: &AppState,
    method: &Method,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Device, Organisation, OrganisationSigner), ApiError> {
    Signed {
        method,
        uri,
        headers,
        body,
    }
    .device(state)
    .await
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON).into_response()
}

async fn enrol(
    State(state): State<AppState>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_error(body)?;
    let request: wire::EnrolRequest = json(&body)?;
    let key = PublicKey::from_compressed(&request.public_key.0).map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_key",
            "public_key must be a 33-byte compressed P-256 key",
        )
    })?;
    let code = EnrolmentCode::from_typed(&request.code)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "malformed_code", e.to_string()))?;
    // Signed by the key being enrolled: proof the device holds it.
    let signed = Signed {
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
    };
    signed.verify(&state, Some(DeviceStatus::Active(key)))?;
    let (device, org) = state.db.enrol_device(&code, key, (state.clock)()).await?;
    tracing::info!(device = %device.id, role = device.role.as_str(), "device enrolled");
    Ok(reply(&wire::EnrolResponse {
        device_id: device.id,
        role: device.role,
        organisation_name: org.name.clone(),
        organisation_keys: org
            .keys
            .iter()
            .map(|k| wire::Bytes(k.as_bytes().to_vec()))
            .collect(),
        retention_days: org.retention_days,
        official_phone: org.official_phone.clone(),
    }))
}

async fn agent_package(
    State(state): State<AppState>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (device, org, signer) = signed_by_device(&state, &method, &uri, &headers, &[]).await?;
    let package = state
        .db
        .agent_package(&org, &device, &signer, (state.clock)())
        .await?;
    Ok(reply(&package))
}

async fn customer_notices(
    State(state): State<AppState>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (device, org, signer) = signed_by_device(&state, &method, &uri, &headers, &[]).await?;
    let notices = state
        .db
        .customer_notices(&org, &device, &signer, (state.clock)())
        .await?;
    Ok(reply(&notices))
}

async fn uploads(
    State(state): State<AppState>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_error(body)?;
    let (device, _org, signer) = signed_by_device(&state, &method, &uri, &headers, &body).await?;
    let batch: wire::UploadBatch = json(&body)?;
    let results = state
        .db
        .ingest(&device, &batch.uploads, &signer, (state.clock)())
        .await?;
    Ok(reply(&wire::UploadResults { results }))
}

async fn denylist(
    State(state): State<AppState>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (_device, org, signer) = signed_by_device(&state, &method, &uri, &headers, &[]).await?;
    let denylist = state
        .db
        .current_denylist(&org, &signer, (state.clock)())
        .await?;
    Ok(reply(&wire::DenylistSnapshot {
        denylist: wire::Bytes(denylist),
    }))
}
