//! The console's JSON API under `/console/api`: a session cookie (http-only, secure,
//! same-site strict, only under `/console`) names the person; every change also carries the
//! session's CSRF token in a header and, when the browser sends one, an `Origin` of this host.
//! Handlers translate to `crate::console` and back.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, Query, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::{ApiError, AppState};
use crate::ServerError;
use crate::console::{self, SignedIn};
use crate::db::staff::{AuditEntry, ReportLine, ReportState, Staff, VisitLine};
use crate::staff::{SESSION_COOKIE, SESSION_MAX_SECONDS, SessionToken, StaffRole};

pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/api/session",
            get(current_session).post(sign_in).delete(sign_out),
        )
        .route("/console/api/staff", get(list_staff).post(add_staff))
        .route("/console/api/audit", get(audit_log))
        .route("/console/api/visits", get(visits))
        .route(
            "/console/api/visits/import",
            axum::routing::post(import_visits),
        )
        .route(
            "/console/api/visits/{visit_ref}/cancel",
            axum::routing::post(cancel_visit),
        )
        .route("/console/api/export", get(export))
        .route("/console/api/purge", axum::routing::post(purge))
        .route("/console/api/line", get(line_lookup))
        .route("/console/api/reports", get(reports))
        .route(
            "/console/api/reports/{id}",
            axum::routing::put(handle_report),
        )
        .route(
            "/console/api/visits/{visit_ref}/confirm-by-phone",
            axum::routing::post(confirm_by_phone),
        )
}

fn session_token(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .and_then(|(_, value)| SessionToken::from_cookie_value(value))
}

/// A browser sends `Origin` with every cross-site request; one naming another host is refused
/// whatever else it carries.
fn origin_is_this_host(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(ORIGIN) else {
        return true;
    };
    let host = headers.get(HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, rest)| rest);
    matches!((origin_host, host), (Some(o), Some(h)) if o == h)
}

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = session_token(&parts.headers).ok_or(ServerError::NotSignedIn)?;
        if !matches!(parts.method, Method::GET | Method::HEAD) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            if sent != Some(token.csrf_token().as_str()) || !origin_is_this_host(&parts.headers) {
                return Err(ServerError::CsrfRejected.into());
            }
        }
        let staff = state
            .db
            .session_staff(&token, state.now())
            .await?
            .ok_or(ServerError::NotSignedIn)?;
        Ok(SignedIn { staff, token })
    }
}

#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionView {
    pub staff: StaffView,
    pub organisation: String,
    /// To send back in the `x-csrf-token` header with every change.
    pub csrf_token: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StaffView {
    pub username: String,
    pub display_name: String,
    pub role: StaffRole,
    pub disabled: bool,
}

impl From<&Staff> for StaffView {
    fn from(s: &Staff) -> Self {
        Self {
            username: s.username.clone(),
            display_name: s.display_name.clone(),
            role: s.role,
            disabled: s.disabled_at.is_some(),
        }
    }
}

async fn session_view(state: &AppState, who: &SignedIn) -> Result<SessionView, ApiError> {
    let org = state
        .db
        .organisation_by_id(who.staff.organisation_id)
        .await?;
    Ok(SessionView {
        staff: (&who.staff).into(),
        organisation: org.name,
        csrf_token: who.token.csrf_token(),
    })
}

fn cookie(value: &str, max_age: u64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/console; Max-Age={max_age}; HttpOnly; Secure; SameSite=Strict"
    ))
    .expect("a hex token makes a valid header")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SignIn {
    username: String,
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    connect: Option<axum::extract::Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Json(body): Json<SignIn>,
) -> Result<Response, ApiError> {
    if !origin_is_this_host(&headers) {
        return Err(ServerError::CsrfRejected.into());
    }
    let address = connect.map_or_else(|| "unknown".to_string(), |c| c.0.0.ip().to_string());
    let who = console::sign_in(
        &state.db,
        &body.username,
        &body.password,
        &address,
        state.now(),
    )
    .await?;
    // Whatever session cookie came with this request is now ended, not reused.
    if let Some(old) = session_token(&headers) {
        state.db.end_session(&old).await?;
    }
    let view = session_view(&state, &who).await?;
    let mut response = Json(view).into_response();
    response.headers_mut().insert(
        SET_COOKIE,
        cookie(&who.token.to_cookie_value(), SESSION_MAX_SECONDS),
    );
    Ok(response)
}

async fn current_session(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<SessionView>, ApiError> {
    Ok(Json(session_view(&state, &who).await?))
}

async fn sign_out(State(state): State<AppState>, who: SignedIn) -> Result<Response, ApiError> {
    console::sign_out(&state.db, &who, state.now()).await?;
    let mut response = axum::http::StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(SET_COOKIE, cookie("", 0));
    Ok(response)
}

async fn list_staff(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<Vec<StaffView>>, ApiError> {
    let staff = console::list_staff(&state.db, &who).await?;
    Ok(Json(staff.iter().map(StaffView::from).collect()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddStaff {
    username: String,
    display_name: String,
    role: StaffRole,
    password: String,
}

async fn add_staff(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<AddStaff>,
) -> Result<Json<StaffView>, ApiError> {
    let added = console::add_staff(
        &state.db,
        &who,
        &body.username,
        &body.display_name,
        body.role,
        &body.password,
        state.now(),
    )
    .await?;
    Ok(Json((&added).into()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditPage {
    before: Option<uuid::Uuid>,
    limit: Option<u32>,
}

async fn audit_log(
    State(state): State<AppState>,
    who: SignedIn,
    Query(page): Query<AuditPage>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    Ok(Json(
        console::audit_log(&state.db, &who, page.before, page.limit.unwrap_or(100)).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitSpan {
    from: u64,
    to: u64,
    agent: Option<String>,
}

async fn visits(
    State(state): State<AppState>,
    who: SignedIn,
    Query(span): Query<VisitSpan>,
) -> Result<Json<Vec<VisitLine>>, ApiError> {
    let agent = span.agent.as_deref().filter(|a| !a.is_empty());
    Ok(Json(
        console::visits(&state.db, &who, span.from, span.to, agent).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineQuery {
    customer: String,
}

async fn line_lookup(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<LineQuery>,
) -> Result<Json<console::LineLookup>, ApiError> {
    Ok(Json(
        console::line_lookup(&state.db, &who, &query.customer, state.now()).await?,
    ))
}

async fn confirm_by_phone(
    State(state): State<AppState>,
    who: SignedIn,
    axum::extract::Path(visit_ref): axum::extract::Path<String>,
) -> Result<Json<console::PhoneConfirmation>, ApiError> {
    Ok(Json(
        console::confirm_by_phone(&state.db, &who, &visit_ref, state.now()).await?,
    ))
}

async fn reports(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<Vec<ReportLine>>, ApiError> {
    Ok(Json(console::reports(&state.db, &who).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportUpdate {
    state: ReportState,
}

async fn handle_report(
    State(state): State<AppState>,
    who: SignedIn,
    axum::extract::Path(id): axum::extract::Path<uuid::Uuid>,
    Json(update): Json<ReportUpdate>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::handle_report(&state.db, &who, id, update.state, state.now()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisitImport {
    csv: String,
}

#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Imported {
    pub imported: usize,
}

async fn import_visits(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<VisitImport>,
) -> Result<Json<Imported>, ApiError> {
    let imported = console::import_visits(&state.db, &who, &body.csv, state.now()).await?;
    Ok(Json(Imported { imported }))
}

#[derive(Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Cancelled {
    pub tickets_denied: u64,
}

async fn cancel_visit(
    State(state): State<AppState>,
    who: SignedIn,
    axum::extract::Path(visit_ref): axum::extract::Path<String>,
) -> Result<Json<Cancelled>, ApiError> {
    let tickets_denied = console::cancel_visit(&state.db, &who, &visit_ref, state.now()).await?;
    Ok(Json(Cancelled { tickets_denied }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ExportQuery {
    format: ExportFormat,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ExportFormat {
    Csv,
    Json,
}

async fn export(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let (name, content_type) = match query.format {
        ExportFormat::Csv => ("csv", "text/csv; charset=utf-8"),
        ExportFormat::Json => ("json", "application/json"),
    };
    let results = console::export(&state.db, &who, name, state.now()).await?;
    let body = match query.format {
        ExportFormat::Csv => crate::db::export::to_csv(&results),
        ExportFormat::Json => serde_json::to_string_pretty(&results).expect("serialisable"),
    };
    let disposition = format!("attachment; filename=\"doorstep-results.{name}\"");
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

async fn purge(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<crate::db::export::Purged>, ApiError> {
    Ok(Json(console::purge(&state.db, &who, state.now()).await?))
}
