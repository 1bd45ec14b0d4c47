//! The console's page and its files, embedded at build time (`build.rs`), served under
//! `/console/` with a strict Content-Security-Policy: only this host's own scripts, styles and
//! API, never in a frame.

use axum::Router;
use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::AppState;

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/console", get(|| async { redirect() }))
        .route("/console/", get(|| async { asset("index.html") }))
        .route(
            "/console/assets/{*file}",
            get(|Path(file): Path<String>| async move { asset(&format!("assets/{file}")) }),
        )
}

fn redirect() -> Response {
    (StatusCode::PERMANENT_REDIRECT, [(LOCATION, "/console/")]).into_response()
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("woff2") => "font/woff2",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn asset(name: &str) -> Response {
    let Some((_, bytes)) = CONSOLE_ASSETS.iter().find(|(n, _)| *n == name) else {
        if name == "index.html" {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "This doorstep-server was built without its console: run `make console-dist`, then build it again.",
            )
                .into_response();
        }
        return StatusCode::NOT_FOUND.into_response();
    };
    // Hashed file names never change content; the page itself is always fetched fresh.
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = (
        [(CONTENT_TYPE, content_type(name)), (CACHE_CONTROL, cache)],
        *bytes,
    )
        .into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("content-security-policy", CONTENT_SECURITY_POLICY),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
    ] {
        headers.insert(
            HeaderName::from_static(name),
            HeaderValue::from_static(value),
        );
    }
    response
}
