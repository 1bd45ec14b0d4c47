//! What the verification page checks in the browser, with the protocol core compiled to
//! WebAssembly: the organisation's signature on the ticket against the keys shipped with the
//! page, the agent's fresh pass against the key the ticket names, the pass's age, the visit's
//! window, and the agent's photo against the hash the organisation signed. The page's
//! JavaScript only fetches and draws; every decision is here.

use doorstep_core::page::{self, PagePass};
use doorstep_core::ticket::Check;
use doorstep_core::{Error, PublicKey};
use wasm_bindgen::prelude::*;

/// What the page shows: either the visit, every check passed, or why not.
#[wasm_bindgen(getter_with_clone)]
#[derive(Debug, Clone, Default)]
pub struct PageCheck {
    pub ok: bool,
    /// A stable reason (`bad_ticket_signature`, `pass_too_old`, …) the page translates.
    pub reason: String,
    pub agent_name: String,
    pub on_behalf_of: String,
    /// The visit window, Unix seconds.
    pub window_start: f64,
    pub window_end: f64,
    /// What the agent may see and check: stable names the page translates.
    pub fields: Vec<String>,
    pub checks: Vec<String>,
    /// The six digits the agent's phone shows beside the code, as `123 456`.
    pub spoken_code: String,
}

impl PageCheck {
    fn refused(reason: &str) -> Self {
        Self {
            reason: reason.into(),
            ..Self::default()
        }
    }
}

/// Every check on the pass in `path`, with the signed `ticket` and agent `photo` the back-office
/// returned, the organisation's `keys` (hex, comma-separated) shipped with the page, at `now`
/// (Unix seconds).
#[wasm_bindgen]
pub fn check(path: &str, ticket: &[u8], photo: &[u8], keys: &str, now: f64) -> PageCheck {
    let refuse = |e: Error| PageCheck::refused(e.kind());
    let keys: Vec<PublicKey> = keys
        .split(',')
        .filter_map(|k| hex::decode(k.trim()).ok())
        .filter_map(|k| PublicKey::from_compressed(&k).ok())
        .collect();
    let pass = match PagePass::from_url(path) {
        Ok(p) => p,
        Err(e) => return refuse(e),
    };
    let now = if now.is_finite() && now > 0.0 {
        now as u64
    } else {
        0
    };
    let ticket = match page::check_pass(&pass, ticket, &keys, now) {
        Ok(t) => t,
        Err(e) => return refuse(e),
    };
    let t = ticket.ticket();
    if !t.photo_matches(photo) {
        return PageCheck::refused("photo_not_signed");
    }
    PageCheck {
        ok: true,
        agent_name: t.agent_name.clone(),
        on_behalf_of: t.on_behalf_of.clone(),
        window_start: t.window_start as f64,
        window_end: t.window_end() as f64,
        fields: t.fields.iter().map(|f| f.name().to_string()).collect(),
        // The device-key check is the app's handshake, which this path does not have.
        checks: t
            .checks
            .iter()
            .filter(|c| *c != Check::DeviceKey)
            .map(|c| c.name().to_string())
            .collect(),
        spoken_code: pass.spoken_code().to_string(),
        ..PageCheck::default()
    }
}
