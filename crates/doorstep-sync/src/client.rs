//! The HTTP side: every request signed by the device key, every answer decoded or turned into a
//! typed error that says whether trying again can help.

use std::time::Duration;

use doorstep_api::auth::{self, NONCE_LEN, RequestParts, RequestToSign};
use doorstep_api::wire::{self, ErrorBody, paths};
use doorstep_core::{PublicKey, Signature, SoftwareKey};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::SyncError;

/// Whatever holds the device's private key: secure hardware on phones, a software key in tests
/// and the demo.
pub trait DeviceSigner: Send + Sync {
    fn public_key(&self) -> PublicKey;
    fn sign(&self, bytes: &[u8]) -> Result<Signature, SyncError>;

    /// Called once, just before the device enrols: a hardware key is (re)made here so that
    /// the platform attests it over `challenge`, and the attestation goes with the enrolment.
    /// A software key has none to give.
    fn attest(&self, _challenge: &[u8]) -> Result<Option<wire::KeyAttestation>, SyncError> {
        Ok(None)
    }
}

impl DeviceSigner for SoftwareKey {
    fn public_key(&self) -> PublicKey {
        SoftwareKey::public_key(self)
    }

    fn sign(&self, bytes: &[u8]) -> Result<Signature, SyncError> {
        Ok(SoftwareKey::sign(self, bytes))
    }
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
}

impl Client {
    pub fn new(base_url: &str) -> Result<Self, SyncError> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| SyncError::Offline(e.to_string()))?;
        Ok(Self {
            http,
            base_url: base_url.trim_end_matches('/').to_string(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends one signed request. `now` is the time to sign with (the device clock, corrected by
    /// the caller if the server said it is off).
    async fn send<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<T, SyncError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SyncError::Offline(e.to_string()))?;
        let parts = RequestParts {
            method: method.as_str(),
            path,
            body: &body,
        };
        let request = RequestToSign::new(parts, signer.public_key(), now, nonce);
        let signature = signer.sign(request.bytes_to_sign())?;
        let header = request
            .finish(signature)
            .map_err(|e| SyncError::Signing(e.to_string()))?;
        let mut builder = self
            .http
            .request(method, format!("{}{path}", self.base_url))
            .header(auth::HEADER, header);
        if !body.is_empty() {
            builder = builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let response = builder
            .send()
            .await
            .map_err(|e| SyncError::Offline(e.to_string()))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let server_time = response
            .headers()
            .get(reqwest::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs());
        let bytes = response
            .bytes()
            .await
            .map_err(|e| SyncError::Offline(e.to_string()))?;
        if status.is_success() {
            return serde_json::from_slice(&bytes)
                .map_err(|e| SyncError::Protocol(format!("unreadable answer: {e}")));
        }
        let body: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
        let (kind, message) = body.map_or_else(
            || ("http_error".to_string(), format!("HTTP {status}")),
            |b| (b.error, b.message),
        );
        if status.is_server_error() {
            return Err(SyncError::ServerUnavailable(message));
        }
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            return Err(SyncError::RateLimited {
                retry_after: retry_after.unwrap_or(60).min(crate::MAX_RETRY_AFTER),
                message,
            });
        }
        if kind == "stale_request" {
            return Err(SyncError::ClockOff {
                server_time,
                message,
            });
        }
        Err(SyncError::Refused {
            status: status.as_u16(),
            kind,
            message,
        })
    }

    async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<T, SyncError> {
        let body = serde_json::to_vec(body).expect("API bodies serialise");
        self.send(reqwest::Method::POST, path, body, signer, now)
            .await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<T, SyncError> {
        self.send(reqwest::Method::GET, path, Vec::new(), signer, now)
            .await
    }

    pub async fn enrol(
        &self,
        typed_code: &str,
        attestation: Option<wire::KeyAttestation>,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<wire::EnrolResponse, SyncError> {
        let request = wire::EnrolRequest {
            code: typed_code.into(),
            public_key: wire::Bytes(signer.public_key().as_bytes().to_vec()),
            attestation,
        };
        self.post(paths::ENROL, &request, signer, now).await
    }

    pub async fn agent_package(
        &self,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<wire::AgentPackage, SyncError> {
        self.get(paths::AGENT_PACKAGE, signer, now).await
    }

    pub async fn customer_notices(
        &self,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<wire::CustomerNotices, SyncError> {
        self.get(paths::CUSTOMER_NOTICES, signer, now).await
    }

    pub async fn upload(
        &self,
        batch: &wire::UploadBatch,
        signer: &dyn DeviceSigner,
        now: u64,
    ) -> Result<wire::UploadResults, SyncError> {
        self.post(paths::UPLOADS, batch, signer, now).await
    }
}
