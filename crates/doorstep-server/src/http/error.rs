//! The API's one error type: a status and a JSON body with a stable kind.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use doorstep_api::auth::AuthError;
use doorstep_api::wire::ErrorBody;

use crate::ServerError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorBody,
    /// Seconds, sent as `Retry-After`.
    retry_after: Option<u64>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, kind: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                error: kind.into(),
                message: message.into(),
            },
            retry_after: None,
        }
    }

    /// `429`: the device made too many requests; it may try again after `retry_after` seconds.
    pub(crate) fn rate_limited(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from this device; try again in {retry_after} s"),
            )
        }
    }

    /// `429`: too many failed logins for this name or from this address.
    pub(crate) fn rate_limited_login(retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "login_throttled",
                format!("too many failed logins; try again in {retry_after} s"),
            )
        }
    }

    pub(crate) fn bad_request(kind: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, kind, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
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
            E::EnrolmentCodeUsed | E::KeyAlreadyEnrolled | E::ReceiptLogRewritten => {
                StatusCode::CONFLICT
            }
            E::EnrolmentCodeExpired => StatusCode::GONE,
            E::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::WrongRole(_)
            | E::AgentRevoked(_)
            | E::CustomerRevoked(_)
            | E::AttestationRefused(_)
            | E::AttestationRequired
            | E::NotAllowed(_)
            | E::CsrfRejected => StatusCode::FORBIDDEN,
            E::LoginRefused | E::NotSignedIn => StatusCode::UNAUTHORIZED,
            E::LoginThrottled { retry_after } => return ApiError::rate_limited_login(*retry_after),
            E::Invalid(_) | E::Protocol(_) => StatusCode::BAD_REQUEST,
            E::UnknownPass => StatusCode::NOT_FOUND,
            E::VisitNotOn(_) => StatusCode::CONFLICT,
            E::Import(_) => StatusCode::UNPROCESSABLE_ENTITY,
            E::UnknownOrganisation(_)
            | E::UnknownAgent(_)
            | E::UnknownCustomer(_)
            | E::UnknownVisit(_)
            | E::UnknownDevice(_) => StatusCode::NOT_FOUND,
            E::OrganisationExists(_)
            | E::AgentExists(_)
            | E::CustomerExists(_)
            | E::VisitExists(_) => StatusCode::CONFLICT,
            E::Database(_) | E::Migration(_) => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        if status.is_server_error() {
            // The details (SQL, file paths) go to the log, never to the client.
            tracing::error!(error = %e, "request failed");
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                "the back-office cannot serve this right now; try again later"
            } else {
                "the back-office failed to complete the request"
            };
            return ApiError::new(status, e.kind(), message);
        }
        ApiError::new(status, e.kind(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_or_socket_failure_is_the_server_s_fault_never_the_client_s() {
        let e = ServerError::io(
            "cannot listen on 127.0.0.1:1",
            std::io::Error::other("busy"),
        );
        let api = ApiError::from(e);
        assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(api.body.error, "io");
        assert!(
            !api.body.message.contains("127.0.0.1") && !api.body.message.contains("busy"),
            "{}",
            api.body.message
        );
        let invalid = ApiError::from(ServerError::Invalid("bad field".into()));
        assert_eq!(invalid.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            invalid.body.message, "bad field",
            "a client's mistake is explained"
        );
        let key = ApiError::from(ServerError::SigningKey {
            path: "/srv/doorstep/keys/org.key".into(),
            reason: "permission denied".into(),
        });
        assert!(!key.body.message.contains("/srv"), "{}", key.body.message);
    }
}
