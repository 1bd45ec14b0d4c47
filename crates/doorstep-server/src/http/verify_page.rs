//! The verification page for a customer without the app: `/V/<pass>`, the URL the agent's
//! code holds, serves the page (embedded at build time, `build.rs`) with the organisations'
//! keys it checks tickets against; the page asks `/verify/api/pass/<pass>` where the visit
//! stands. No cookies, no third-party host, a strict Content-Security-Policy, and a limit on
//! questions per address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Serialize;

use super::{ApiError, AppState};
use crate::page::{self, VisitStanding};

include!(concat!(env!("OUT_DIR"), "/verify_assets.rs"));

/// WebAssembly needs `wasm-unsafe-eval`; nothing else is loosened.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; \
     style-src 'self'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";
/// Questions one address may ask a minute: a customer asks once or twice; a script trying
/// serials is slowed to a crawl.
pub const QUESTIONS_PER_MINUTE: u32 = 30;

/// Questions asked per address in the current minute, in this process.
#[derive(Clone, Default)]
pub struct PageLimiter(Arc<Mutex<HashMap<IpAddr, (u64, u32)>>>);

impl PageLimiter {
    /// Whether `address` may ask now, or in how many seconds.
    fn admit(&self, address: IpAddr, now: u64) -> Result<(), u64> {
        let minute = now / 60;
        let mut asked = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if asked.len() > 100_000 {
            asked.retain(|_, (m, _)| *m == minute);
        }
        let entry = asked.entry(address).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= QUESTIONS_PER_MINUTE {
            return Err(60 - now % 60);
        }
        entry.1 += 1;
        Ok(())
    }
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/V/{*pass}", get(page))
        .route("/v/{*pass}", get(page))
        .route("/verify/api/pass/{*pass}", get(ask))
        .route("/verify/api/checked/{*pass}", post(checked))
        .route(
            "/verify/{*file}",
            get(|Path(file): Path<String>| async move { asset(&file) }),
        )
}

#[derive(Serialize)]
struct OrganisationOnPage {
    name: String,
    official_phone: String,
    keys: Vec<String>,
}

/// The page, with the organisations this back-office serves: their keys, to check tickets
/// with, and their official numbers, for the red screen.
async fn page(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some((_, html)) = VERIFY_ASSETS.iter().find(|(n, _)| *n == "index.html") else {
        return Ok(missing());
    };
    let organisations: Vec<OrganisationOnPage> = state
        .db
        .organisations()
        .await?
        .into_iter()
        .map(|o| OrganisationOnPage {
            name: o.name,
            official_phone: o.official_phone,
            keys: o.keys.iter().map(|k| hex::encode(k.as_bytes())).collect(),
        })
        .collect();
    // Inside a non-executed <script type="application/json">: no "<" may end it early.
    let json = serde_json::to_string(&organisations)
        .unwrap_or_else(|_| "[]".into())
        .replace('<', "\\u003c");
    let html = String::from_utf8_lossy(html).replace("__ORGANISATIONS__", &json);
    Ok(with_headers(
        ([(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        "no-store",
    ))
}

#[derive(Serialize)]
struct PassAnswerBody {
    now: u64,
    standing: VisitStanding,
    /// The signed ticket and the agent's photo, base64.
    ticket: String,
    photo: String,
    purpose: String,
    organisation: String,
    official_phone: String,
}

type Connection = Option<axum::extract::Extension<ConnectInfo<SocketAddr>>>;

/// The time now, if the asking address is within its limit.
fn admitted(state: &AppState, connect: Connection) -> Result<u64, ApiError> {
    let address = connect.map_or(IpAddr::from([0, 0, 0, 0]), |c| c.0.0.ip());
    let now = state.now();
    state
        .page_limiter
        .admit(address, now)
        .map_err(ApiError::rate_limited)?;
    Ok(now)
}

async fn ask(
    State(state): State<AppState>,
    connect: Connection,
    Path(pass): Path<String>,
) -> Result<Response, ApiError> {
    let now = admitted(&state, connect)?;
    let answer = page::answer(&state.db, &format!("/V/{pass}"), now).await?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let body = PassAnswerBody {
        now: answer.now,
        standing: answer.standing,
        ticket: b64.encode(&answer.ticket),
        photo: b64.encode(&answer.photo),
        purpose: answer.purpose,
        organisation: answer.organisation,
        official_phone: answer.official_phone,
    };
    Ok(with_headers(Json(body).into_response(), "no-store"))
}

#[derive(Serialize)]
struct CheckedBody {
    /// As read out: two groups of four digits.
    reference: String,
}

/// The customer said the photo and the code match: the reference they read to the agent.
async fn checked(
    State(state): State<AppState>,
    connect: Connection,
    Path(pass): Path<String>,
) -> Result<Response, ApiError> {
    let now = admitted(&state, connect)?;
    let reference = page::record_check(&state.db, &format!("/V/{pass}"), now).await?;
    let body = CheckedBody {
        reference: reference.to_string(),
    };
    Ok(with_headers(Json(body).into_response(), "no-store"))
}

fn missing() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "This doorstep-server was built without its verification page: run `make page-wasm`, then build it again.",
    )
        .into_response()
}

fn asset(name: &str) -> Response {
    let Some((_, bytes)) = VERIFY_ASSETS
        .iter()
        .find(|(n, _)| *n == name && *n != "index.html")
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match name.rsplit('.').next() {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        _ => "application/octet-stream",
    };
    with_headers(
        ([(CONTENT_TYPE, content_type)], *bytes).into_response(),
        "no-cache",
    )
}

fn with_headers(mut response: Response, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        (
            "permissions-policy",
            "camera=(), microphone=(), geolocation=()",
        ),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_asks_thirty_times_a_minute_then_waits_for_the_next() {
        let limiter = PageLimiter::default();
        let one = IpAddr::from([192, 0, 2, 1]);
        let other = IpAddr::from([192, 0, 2, 2]);
        let now = 6_000_000 + 15;
        for _ in 0..QUESTIONS_PER_MINUTE {
            assert_eq!(limiter.admit(one, now), Ok(()));
        }
        assert_eq!(limiter.admit(one, now + 1), Err(44));
        assert_eq!(limiter.admit(other, now + 1), Ok(()));
        assert_eq!(limiter.admit(one, now + 45), Ok(()));
    }
}
