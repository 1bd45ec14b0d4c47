//! "Signed by which device": the one place a request's signature is checked. [`SignedRequest`]
//! reads the body and the signed parts; [`SignedDevice`] is a request signed by an enrolled,
//! unrevoked device, with its organisation and that organisation's signer.

use axum::body::Bytes;
use axum::extract::{FromRequest, OriginalUri, Request};
use axum::http::{HeaderMap, Method, StatusCode};
use doorstep_api::auth::{self, AuthError, DeviceStatus, RequestParts};
use doorstep_api::wire;
use doorstep_core::PublicKey;
use serde::de::DeserializeOwned;

use super::{ApiError, AppState};
use crate::db::devices::Device;
use crate::db::organisations::Organisation;
use crate::db::requests::Refusal;
use crate::keys::OrganisationSigner;

/// A request as signed: method, path and query, the signature header and the body.
pub struct SignedRequest {
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    pub body: Bytes,
}

impl SignedRequest {
    fn parts(&self) -> RequestParts<'_> {
        RequestParts {
            method: self.method.as_str(),
            path: self
                .uri
                .path_and_query()
                .map_or(self.uri.path(), |p| p.as_str()),
            body: &self.body,
        }
    }

    fn header(&self) -> Option<&str> {
        self.headers.get(auth::HEADER).and_then(|v| v.to_str().ok())
    }

    /// Checks the signature against the key `status` gives, within the replay window, then
    /// admits the request once (its nonce) and within the device's rate limit.
    pub async fn verify(
        &self,
        state: &AppState,
        status: Option<DeviceStatus>,
    ) -> Result<PublicKey, ApiError> {
        let now = state.now();
        let verified = auth::verify_request(
            self.header(),
            self.parts(),
            |_| status,
            now,
            auth::DEFAULT_WINDOW,
        )?;
        let admitted = state
            .db
            .admit_request(
                verified.key.key_id(),
                &verified.nonce,
                verified.expires,
                now,
                state.requests_per_minute,
            )
            .await?;
        match admitted {
            Ok(()) => Ok(verified.key),
            Err(Refusal::Replayed) => Err(AuthError::Replayed.into()),
            Err(Refusal::RateLimited { retry_after }) => Err(ApiError::rate_limited(retry_after)),
        }
    }

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        serde_json::from_slice(&self.body)
            .map_err(|e| ApiError::bad_request("malformed_body", e.to_string()))
    }
}

impl FromRequest<AppState> for SignedRequest {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .cloned()
            .unwrap_or_else(|| OriginalUri(parts.uri.clone()));
        let (method, headers) = (parts.method.clone(), parts.headers.clone());
        // The body limit travels in the request's extensions, so it still applies here.
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|e| {
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
                    ApiError::bad_request("unreadable_body", e.body_text())
                }
            })?;
        Ok(Self {
            method,
            uri,
            headers,
            body,
        })
    }
}

/// A request signed by an enrolled, unrevoked device.
pub struct SignedDevice {
    pub device: Device,
    pub organisation: Organisation,
    pub signer: OrganisationSigner,
    pub request: SignedRequest,
}

impl FromRequest<AppState> for SignedDevice {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let request = SignedRequest::from_request(req, state).await?;
        let header = auth::SignatureHeader::parse(request.header().ok_or(AuthError::Missing)?)?;
        // Holds that have run out take effect before anyone's standing is read.
        state.db.release_held_devices(state.now()).await?;
        let device = state.db.device_by_key(header.key_id).await?;
        let status = device.as_ref().map(|d| match d.revoked_at {
            Some(_) => DeviceStatus::Revoked(d.public_key),
            None => DeviceStatus::Active(d.public_key),
        });
        request.verify(state, status).await?;
        let device = device.expect("verified, so found");
        let organisation = state.db.organisation_by_id(device.organisation_id).await?;
        let signer = state.keys.signer(&organisation)?;
        Ok(Self {
            device,
            organisation,
            signer,
            request,
        })
    }
}
