//! One handler per endpoint: each translates and delegates in a line or two.

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use doorstep_api::auth::DeviceStatus;
use doorstep_api::wire;
use doorstep_core::PublicKey;
use doorstep_core::enrolment::EnrolmentCode;

use super::{ApiError, AppState, OPENAPI_JSON, SignedDevice, SignedRequest};
use crate::ingest::ingest_batch;

type Answer<T> = Result<Json<T>, ApiError>;

pub(super) async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}

/// Signed by the key being enrolled: proof the device holds it.
pub(super) async fn enrol(
    State(state): State<AppState>,
    signed: SignedRequest,
) -> Answer<wire::EnrolResponse> {
    let request: wire::EnrolRequest = signed.json()?;
    let key = PublicKey::from_compressed(&request.public_key.0).map_err(|_| {
        ApiError::bad_request(
            "malformed_key",
            "public_key must be a 33-byte compressed P-256 key",
        )
    })?;
    let code = EnrolmentCode::from_typed(&request.code)
        .map_err(|e| ApiError::bad_request("malformed_code", e.to_string()))?;
    signed
        .verify(&state, Some(DeviceStatus::Active(key)))
        .await?;
    let now = state.now();
    let attestation = state
        .attestation
        .judge(request.attestation.as_ref(), &key, &code, now)?;
    let (device, org) = state
        .db
        .enrol_device(&code, key, attestation.as_deref(), now)
        .await?;
    tracing::info!(
        device = %device.id,
        role = device.role.as_str(),
        attestation = attestation.as_deref().unwrap_or("none"),
        "device enrolled"
    );
    Ok(Json(wire::EnrolResponse {
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
        key_rotations: state
            .db
            .key_rotations(&org)
            .await?
            .into_iter()
            .map(wire::Bytes)
            .collect(),
    }))
}

pub(super) async fn agent_package(
    State(state): State<AppState>,
    s: SignedDevice,
) -> Answer<wire::AgentPackage> {
    let db = &state.db;
    Ok(Json(
        db.agent_package(&s.organisation, &s.device, &s.signer, state.now())
            .await?,
    ))
}

pub(super) async fn customer_notices(
    State(state): State<AppState>,
    s: SignedDevice,
) -> Answer<wire::CustomerNotices> {
    let db = &state.db;
    Ok(Json(
        db.customer_notices(&s.organisation, &s.device, &s.signer, state.now())
            .await?,
    ))
}

pub(super) async fn uploads(
    State(state): State<AppState>,
    s: SignedDevice,
) -> Answer<wire::UploadResults> {
    let batch: wire::UploadBatch = s.request.json()?;
    Ok(Json(
        ingest_batch(&state.db, &s.device, &batch, &s.signer, state.now()).await?,
    ))
}

pub(super) async fn denylist(
    State(state): State<AppState>,
    s: SignedDevice,
) -> Answer<wire::DenylistSnapshot> {
    let denylist = state
        .db
        .current_denylist(&s.organisation, &s.signer, state.now())
        .await?;
    Ok(Json(wire::DenylistSnapshot {
        denylist: wire::Bytes(denylist),
    }))
}
