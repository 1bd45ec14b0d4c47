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
use std::collections::BTreeMap;

use axum::extract::Path;
use doorstep_core::Role;

use crate::db::agents::NewAgent;
use crate::db::customers::Erasure;
use crate::db::staff::{
    AuditEntry, MAX_VISIT_PAGE, ReportLine, ReportState, Staff, VisitPage, VisitQuery,
};
use crate::planning::NewVisit;
use crate::staff::{SESSION_COOKIE, SESSION_MAX_SECONDS, SessionToken, StaffRole};

pub const CSRF_HEADER: &str = "x-csrf-token";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/console/api/session",
            get(current_session).post(sign_in).delete(sign_out),
        )
        .route("/console/api/staff", get(list_staff).post(add_staff))
        .route(
            "/console/api/staff/{username}/disable",
            axum::routing::post(disable_staff),
        )
        .route(
            "/console/api/organisation",
            get(organisation).put(update_settings),
        )
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
        .route("/console/api/visits/{visit_ref}", get(visit))
        .route("/console/api/bookings", axum::routing::post(book_visit))
        .route("/console/api/agents", get(agents).post(add_agent))
        .route("/console/api/agents/{staff_ref}/photo", get(agent_photo))
        .route(
            "/console/api/agents/{staff_ref}/revoke",
            axum::routing::post(revoke_agent),
        )
        .route(
            "/console/api/agents/{staff_ref}/letter",
            axum::routing::post(agent_letter),
        )
        .route(
            "/console/api/devices/{id}/revoke",
            axum::routing::post(revoke_device),
        )
        .route("/console/api/customers", get(customers).post(add_customer))
        .route(
            "/console/api/customers/{customer_ref}",
            axum::routing::put(edit_customer),
        )
        .route(
            "/console/api/customers/{customer_ref}/revoke",
            axum::routing::post(revoke_customer),
        )
        .route(
            "/console/api/customers/{customer_ref}/erase",
            axum::routing::post(erase_customer),
        )
        .route(
            "/console/api/customers/{customer_ref}/letter",
            axum::routing::post(customer_letter),
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
    state: Option<String>,
    offset: Option<u32>,
    limit: Option<u32>,
}

async fn visits(
    State(state): State<AppState>,
    who: SignedIn,
    Query(span): Query<VisitSpan>,
) -> Result<Json<VisitPage>, ApiError> {
    let query = VisitQuery {
        from: span.from,
        to: span.to,
        agent_ref: span.agent.as_deref().filter(|a| !a.is_empty()),
        state: span.state.as_deref().filter(|s| !s.is_empty()),
        offset: span.offset.unwrap_or(0),
        limit: span.limit.unwrap_or(MAX_VISIT_PAGE),
        ..VisitQuery::default()
    };
    Ok(Json(console::visits(&state.db, &who, &query).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LineQuery {
    /// A customer reference, or the phone number the caller calls from.
    search: String,
}

async fn line_lookup(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<LineQuery>,
) -> Result<Json<console::LineLookup>, ApiError> {
    Ok(Json(
        console::line_lookup(&state.db, &who, &query.search, state.now()).await?,
    ))
}

async fn visit(
    State(state): State<AppState>,
    who: SignedIn,
    Path(visit_ref): Path<String>,
) -> Result<Json<console::VisitDetail>, ApiError> {
    Ok(Json(console::visit(&state.db, &who, &visit_ref).await?))
}

async fn book_visit(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<NewVisit>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::book_visit(&state.db, &who, &body, state.now()).await?;
    Ok(axum::http::StatusCode::CREATED)
}

async fn agents(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<Vec<console::AgentLine>>, ApiError> {
    Ok(Json(console::agents(&state.db, &who).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddAgent {
    staff_ref: String,
    display_name: String,
    on_behalf_of: String,
    /// The photo as base64 (standard alphabet).
    photo: String,
}

async fn add_agent(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<AddAgent>,
) -> Result<axum::http::StatusCode, ApiError> {
    use base64::Engine;
    let photo = base64::engine::general_purpose::STANDARD
        .decode(body.photo.as_bytes())
        .map_err(|_| ServerError::Invalid("the photo is not base64".into()))?;
    let agent = NewAgent {
        staff_ref: body.staff_ref.trim(),
        display_name: body.display_name.trim(),
        on_behalf_of: body.on_behalf_of.trim(),
        photo: &photo,
    };
    console::add_agent(&state.db, &who, &agent, state.now()).await?;
    Ok(axum::http::StatusCode::CREATED)
}

async fn agent_photo(
    State(state): State<AppState>,
    who: SignedIn,
    Path(staff_ref): Path<String>,
) -> Result<Response, ApiError> {
    let photo = console::agent_photo(&state.db, &who, &staff_ref).await?;
    let content_type = if photo.starts_with(b"\x89PNG") {
        "image/png"
    } else {
        "image/jpeg"
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type),
            (axum::http::header::CACHE_CONTROL, "private, max-age=300"),
        ],
        photo,
    )
        .into_response())
}

async fn revoke_agent(
    State(state): State<AppState>,
    who: SignedIn,
    Path(staff_ref): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::revoke_agent(&state.db, &who, &staff_ref, state.now()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn revoke_device(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<uuid::Uuid>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::revoke_device(&state.db, &who, id, state.now()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

fn pdf(bytes: Vec<u8>, name: &str) -> Response {
    let disposition = format!("attachment; filename=\"{name}.pdf\"");
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/pdf".to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
            // A letter holds a live enrolment code: never kept in a cache.
            (axum::http::header::CACHE_CONTROL, "no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// A file name made only of the reference's letters, digits and dashes.
fn file_name(prefix: &str, subject_ref: &str) -> String {
    let safe: String = subject_ref
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    format!("{prefix}-{safe}")
}

async fn agent_letter(
    State(state): State<AppState>,
    who: SignedIn,
    Path(staff_ref): Path<String>,
) -> Result<Response, ApiError> {
    let letter = console::enrolment_letter(
        &state.db,
        &who,
        Role::Agent,
        &staff_ref,
        &state.public_url,
        state.now(),
    )
    .await?;
    Ok(pdf(letter, &file_name("enrolment-letter", &staff_ref)))
}

async fn customer_letter(
    State(state): State<AppState>,
    who: SignedIn,
    Path(customer_ref): Path<String>,
) -> Result<Response, ApiError> {
    let letter = console::enrolment_letter(
        &state.db,
        &who,
        Role::Customer,
        &customer_ref,
        &state.public_url,
        state.now(),
    )
    .await?;
    Ok(pdf(letter, &file_name("enrolment-letter", &customer_ref)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerSearch {
    search: Option<String>,
    offset: Option<u32>,
    limit: Option<u32>,
}

async fn customers(
    State(state): State<AppState>,
    who: SignedIn,
    Query(q): Query<CustomerSearch>,
) -> Result<Json<console::CustomerPage>, ApiError> {
    Ok(Json(
        console::customers(
            &state.db,
            &who,
            q.search.as_deref().unwrap_or(""),
            q.offset.unwrap_or(0),
            q.limit.unwrap_or(50),
        )
        .await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewCustomer {
    customer_ref: String,
    data: BTreeMap<String, String>,
}

async fn add_customer(
    State(state): State<AppState>,
    who: SignedIn,
    Json(body): Json<NewCustomer>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::save_customer(
        &state.db,
        &who,
        body.customer_ref.trim(),
        &body.data,
        true,
        state.now(),
    )
    .await?;
    Ok(axum::http::StatusCode::CREATED)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerFields {
    data: BTreeMap<String, String>,
}

async fn edit_customer(
    State(state): State<AppState>,
    who: SignedIn,
    Path(customer_ref): Path<String>,
    Json(body): Json<CustomerFields>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::save_customer(
        &state.db,
        &who,
        &customer_ref,
        &body.data,
        false,
        state.now(),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn revoke_customer(
    State(state): State<AppState>,
    who: SignedIn,
    Path(customer_ref): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::revoke_customer(&state.db, &who, &customer_ref, state.now()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn erase_customer(
    State(state): State<AppState>,
    who: SignedIn,
    Path(customer_ref): Path<String>,
) -> Result<Json<Erasure>, ApiError> {
    Ok(Json(
        console::erase_customer(&state.db, &who, &customer_ref, state.now()).await?,
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

async fn disable_staff(
    State(state): State<AppState>,
    who: SignedIn,
    Path(username): Path<String>,
) -> Result<axum::http::StatusCode, ApiError> {
    console::disable_staff(&state.db, &who, &username, state.now()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

async fn organisation(
    State(state): State<AppState>,
    who: SignedIn,
) -> Result<Json<console::OrganisationView>, ApiError> {
    Ok(Json(console::organisation(&state.db, &who).await?))
}

async fn update_settings(
    State(state): State<AppState>,
    who: SignedIn,
    Json(settings): Json<crate::db::organisations::Settings>,
) -> Result<Json<console::OrganisationView>, ApiError> {
    Ok(Json(
        console::update_settings(&state.db, &who, &settings, state.now()).await?,
    ))
}
