//! The verification page for a customer without the app: `/V/<pass>`, the URL the agent's
//! code holds, serves the page (embedded at build time, `build.rs`) with the organisations'
//! keys it checks tickets against; the page asks `/verify/api/pass/<pass>` where the visit
//! stands, and once the customer says the photo and the code match, `/verify/api/checked/<pass>`
//! for the reference they read to the agent. No cookies, no third-party host, a strict
//! Content-Security-Policy, and a limit on questions per address.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, LazyLock, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, VARY,
};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use serde::Serialize;

use super::{ApiError, AppState};
use crate::page::{self, VisitStanding};

include!(concat!(env!("OUT_DIR"), "/verify_assets.rs"));
include!(concat!(env!("OUT_DIR"), "/verify_gzipped.rs"));

/// The style sheet's link in `index.html`, which the page replaces with the sheet itself.
const STYLESHEET_LINK: &str = r#"<link rel="stylesheet" href="/verify/page.css">"#;

/// The page as served: its style sheet inlined, so the first screen paints with the HTML alone
/// (one round trip fewer on a slow link), and the policy that allows that one style by its
/// hash. WebAssembly needs `wasm-unsafe-eval`; nothing else is loosened.
struct PageTemplate {
    html: String,
    content_security_policy: String,
}

static TEMPLATE: LazyLock<PageTemplate> = LazyLock::new(|| {
    let file = |name: &str| {
        VERIFY_ASSETS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, b)| *b)
    };
    let css = String::from_utf8_lossy(file("page.css").unwrap_or_default());
    let html = String::from_utf8_lossy(file("index.html").unwrap_or_default())
        .replace(STYLESHEET_LINK, &format!("<style>{css}</style>"));
    let hash = base64::engine::general_purpose::STANDARD
        .encode(doorstep_core::keys::sha256(&[css.as_bytes()]));
    PageTemplate {
        html,
        content_security_policy: format!(
            "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; style-src 'sha256-{hash}'; \
             img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
             frame-ancestors 'none'"
        ),
    }
});

/// The policy every answer of the page's carries.
pub fn content_security_policy() -> &'static str {
    &TEMPLATE.content_security_policy
}
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
            get(|Path(file): Path<String>, headers: HeaderMap| async move {
                asset(&file, accepts_gzip(&headers))
            }),
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
    if !VERIFY_ASSETS.iter().any(|(n, _)| *n == "index.html") {
        return Ok(missing());
    }
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
    let html = TEMPLATE.html.replace("__ORGANISATIONS__", &json);
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

/// Whether the browser takes gzip (every current one does; a `q=0` refusal is honoured).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            parts.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"))
                && parts
                    .filter_map(|p| p.strip_prefix("q="))
                    .all(|q| q.parse::<f32>().map_or(true, |q| q > 0.0))
        })
}

fn asset(name: &str, gzip: bool) -> Response {
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
    let gzipped = VERIFY_GZIPPED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b);
    let mut response = match gzipped {
        Some(gzipped) if gzip => (
            [(CONTENT_TYPE, content_type), (CONTENT_ENCODING, "gzip")],
            gzipped,
        )
            .into_response(),
        _ => ([(CONTENT_TYPE, content_type)], *bytes).into_response(),
    };
    if gzipped.is_some() {
        response
            .headers_mut()
            .insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    with_headers(response, "no-cache")
}

fn with_headers(mut response: Response, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(policy) = HeaderValue::from_str(content_security_policy()) {
        headers.insert(CONTENT_SECURITY_POLICY, policy);
    }
    for (name, value) in [
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

    #[test]
    fn gzip_only_for_a_browser_that_takes_it() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
            accepts_gzip(&headers)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn the_page_s_style_is_inlined_and_allowed_by_its_hash_alone() {
        if !VERIFY_ASSETS.iter().any(|(n, _)| *n == "index.html") {
            return;
        }
        assert!(!TEMPLATE.html.contains(STYLESHEET_LINK));
        let style = &TEMPLATE.html
            [TEMPLATE.html.find("<style>").unwrap() + 7..TEMPLATE.html.find("</style>").unwrap()];
        let hash = base64::engine::general_purpose::STANDARD
            .encode(doorstep_core::keys::sha256(&[style.as_bytes()]));
        assert!(
            content_security_policy().contains(&format!("style-src 'sha256-{hash}';")),
            "{}",
            content_security_policy()
        );
    }
}
