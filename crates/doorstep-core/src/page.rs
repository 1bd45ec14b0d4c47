//! The agent-first code for a customer without the app: a URL that any phone's camera opens as
//! the organisation's verification page, on its own pinned back-office.
//!
//! The agent's phone signs a *page pass* with its device key: which ticket (serial and digest
//! prefix), a fresh nonce and its time. The URL carries only that, never anything about the
//! customer. The page fetches the signed ticket from the back-office, checks the organisation's
//! signature against the keys shipped with the page, then the pass against the agent key the
//! ticket names ([`check_pass`]).
//!
//! ```cddl
//! page-pass = {
//!   1: uint,                ; ticket serial
//!   2: bstr .size 16,       ; first 16 bytes of the ticket digest
//!   3: bstr .size 16,       ; agent nonce
//!   4: uint,                ; agent's time, Unix seconds
//!   5: bstr .size 64,       ; the agent key's signature over page-pass-signed-bytes
//! }
//! page-pass-signed-bytes = [ "DS2 page pass", ticket-digest: bstr .size 32, nonce, time ]
//! ```
//!
//! The URL is the back-office's origin in capitals, `/V/`, and the pass in
//! [`base45::PATH_ALPHABET`]: every character is in the QR alphanumeric set, so the symbol
//! stays in alphanumeric mode, and none means anything in a URL path.

use alloc::string::String;
use alloc::vec::Vec;

use crate::base45::{self, PATH_ALPHABET};
use crate::cbor::{CborError, Decoder, Encoder, fixed};
use crate::error::Error;
use crate::handshake::{NONCE_LEN, Nonce, TICKET_DIGEST_WIRE_LEN};
use crate::keys::{PublicKey, Randomness, Signature};
use crate::ticket::SignedTicket;
use crate::trust::{Policy, Trust};
use crate::vocabulary::ConfirmationCode;

/// Where the page lives on the back-office, in the capitals a QR's alphanumeric mode holds.
pub const PATH_PREFIX: &str = "/V/";
/// A pass older than this is refused: the agent's phone shows a fresh one each time, so a
/// photo of an old screen is worthless.
pub const MAX_PASS_AGE: u64 = 10 * 60;
const CONTEXT: &str = "DS2 page pass";

/// The agent's signed pass for one ticket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PagePass {
    pub serial: u64,
    pub ticket_digest: [u8; TICKET_DIGEST_WIRE_LEN],
    pub nonce: Nonce,
    pub time: u64,
    pub signature: Signature,
}

fn signed_bytes(ticket_digest: &[u8; 32], nonce: &Nonce, time: u64) -> Vec<u8> {
    let mut e = Encoder::new();
    e.array(4)
        .text(CONTEXT)
        .bytes(ticket_digest)
        .bytes(nonce)
        .uint(time);
    e.into_bytes()
}

impl PagePass {
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::new();
        e.map(5)
            .uint(1)
            .uint(self.serial)
            .uint(2)
            .bytes(&self.ticket_digest)
            .uint(3)
            .bytes(&self.nonce)
            .uint(4)
            .uint(self.time)
            .uint(5)
            .bytes(self.signature.as_bytes());
        e.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CborError> {
        let mut d = Decoder::new(bytes);
        let mut m = d.map()?;
        let serial = m.required(1)?.uint()?;
        let ticket_digest = fixed(m.required(2)?.bytes()?, 2)?;
        let nonce = fixed(m.required(3)?.bytes()?, 3)?;
        let time = m.required(4)?.uint()?;
        let signature = Signature::from_wire(m.required(5)?.bytes()?)
            .map_err(|_| CborError::OutOfRange { field: 5 })?;
        m.end()?;
        d.finish()?;
        Ok(Self {
            serial,
            ticket_digest,
            nonce,
            time,
            signature,
        })
    }

    /// The six digits both people read aloud: the agent's phone gives them with the code,
    /// the page once it checked the pass. Equal digits say the page checked the pass this
    /// visitor's phone shows; what stops a visitor showing someone else's pass is the photo.
    pub fn spoken_code(&self) -> ConfirmationCode {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&self.nonce), self.signature.as_bytes());
        let mut okm = [0u8; 8];
        hk.expand(b"DS2 page code", &mut okm)
            .expect("8 bytes is a valid HKDF output length");
        ConfirmationCode::new((u64::from_be_bytes(okm) % 1_000_000) as u32)
    }

    /// The URL a camera opens: `back_office`'s origin (scheme, host and port; any path is
    /// dropped, the page lives at the root) in capitals, then `/V/` and the pass.
    pub fn to_url(&self, back_office: &str) -> Result<String, Error> {
        let origin = origin_of(back_office)
            .ok_or_else(|| Error::malformed("the back-office address has no origin"))?;
        let mut url = origin.to_ascii_uppercase();
        if !url
            .bytes()
            .all(|c| base45::is_alphanumeric_mode(c) && c != b' ')
        {
            return Err(Error::malformed(
                "the back-office address has characters a QR code's alphanumeric mode lacks",
            ));
        }
        url.push_str(PATH_PREFIX);
        url.push_str(&base45::encode_in(PATH_ALPHABET, &self.encode()));
        Ok(url)
    }

    /// The pass in a URL or in the path alone, as the page reads `location.pathname`.
    pub fn from_url(url: &str) -> Result<Self, Error> {
        if url.len() > crate::codec::MAX_TEXT_LEN {
            return Err(Error::malformed("the code is far too long"));
        }
        let url = url.trim();
        let upper = url.to_ascii_uppercase();
        let Some(at) = upper.find(PATH_PREFIX) else {
            return Err(Error::malformed("it is not a Doorstep page address"));
        };
        let text = &url[at + PATH_PREFIX.len()..];
        let text = text.split(['?', '#']).next().unwrap_or_default();
        let bytes = base45::decode_in(PATH_ALPHABET, &text.to_ascii_uppercase())
            .map_err(Error::malformed)?;
        Ok(Self::decode(&bytes)?)
    }
}

/// `scheme://host[:port]` of an address, or None if it has no `scheme://`.
fn origin_of(address: &str) -> Option<&str> {
    let (_, rest) = address.split_once("://")?;
    let host_len = rest.find('/').unwrap_or(rest.len());
    (host_len > 0).then(|| &address[..address.len() - rest.len() + host_len])
}

/// A pass waiting for the agent key's signature (secure hardware signs [`PassToSign::bytes`]).
#[derive(Debug, Clone)]
pub struct PassToSign {
    agent_key: PublicKey,
    serial: u64,
    digest: [u8; 32],
    nonce: Nonce,
    time: u64,
}

impl PassToSign {
    pub fn new(ticket: &SignedTicket, randomness: &mut dyn Randomness, now: u64) -> Self {
        let mut nonce = [0u8; NONCE_LEN];
        randomness.fill_bytes(&mut nonce);
        Self {
            agent_key: ticket.ticket().agent_key,
            serial: ticket.ticket().serial,
            digest: ticket.digest(),
            nonce,
            time: now,
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        signed_bytes(&self.digest, &self.nonce, self.time)
    }

    /// The pass, if `signature` is the ticket's agent key's.
    pub fn finish(self, signature: Signature) -> Result<PagePass, Error> {
        if !self.agent_key.verify(&self.bytes(), &signature) {
            return Err(Error::SignerMismatch);
        }
        let mut prefix = [0u8; TICKET_DIGEST_WIRE_LEN];
        prefix.copy_from_slice(&self.digest[..TICKET_DIGEST_WIRE_LEN]);
        Ok(PagePass {
            serial: self.serial,
            ticket_digest: prefix,
            nonce: self.nonce,
            time: self.time,
            signature,
        })
    }
}

/// The signatures alone: the ticket is signed by one of `organisation_keys`, it is the ticket
/// the pass names, and the pass is signed by the agent key the ticket names. The back-office
/// checks this much before it says anything about the visit.
pub fn check_pass_signatures(
    pass: &PagePass,
    ticket_encoded: &[u8],
    organisation_keys: &[PublicKey],
) -> Result<SignedTicket, Error> {
    let ticket = SignedTicket::verify(ticket_encoded, organisation_keys)?;
    let t = ticket.ticket();
    let digest = ticket.digest();
    if t.serial != pass.serial || !digest.starts_with(&pass.ticket_digest) {
        return Err(Error::UnknownTicket);
    }
    if !t.agent_key.verify(
        &signed_bytes(&digest, &pass.nonce, pass.time),
        &pass.signature,
    ) {
        return Err(Error::BadProofSignature);
    }
    Ok(ticket)
}

/// Every check the page makes, in this order: the signatures ([`check_pass_signatures`], with
/// the keys shipped with the page); the pass is fresh; and `now` is within the ticket's
/// validity and the visit's window. Whether the visit was cancelled or the agent revoked since
/// is the back-office's to say.
pub fn check_pass(
    pass: &PagePass,
    ticket_encoded: &[u8],
    organisation_keys: &[PublicKey],
    now: u64,
) -> Result<SignedTicket, Error> {
    let ticket = check_pass_signatures(pass, ticket_encoded, organisation_keys)?;
    let policy = Policy {
        require_denylist: false,
        ..Policy::default()
    };
    if pass.time > now.saturating_add(policy.clock_skew) {
        return Err(Error::ClockClearlyWrong {
            local: now,
            peer: pass.time,
        });
    }
    let age = now.saturating_sub(pass.time);
    if age > MAX_PASS_AGE {
        return Err(Error::PassTooOld { minutes: age / 60 });
    }
    Trust::new(organisation_keys.to_vec(), policy).check_ticket_time(ticket.ticket(), now)?;
    Ok(ticket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SeededRandomness;
    use crate::scenario::Scenario;

    fn signed_pass(s: &Scenario, at: u64) -> PagePass {
        let ticket =
            SignedTicket::verify(&s.ticket_encoded, &[s.organisation_key.public_key()]).unwrap();
        let to_sign = PassToSign::new(&ticket, &mut SeededRandomness::new("pass"), at);
        let signature = s.agent_key.sign(&to_sign.bytes());
        to_sign.finish(signature).unwrap()
    }

    #[test]
    fn a_fresh_pass_checks_and_its_url_keeps_to_a_qr_s_alphanumeric_mode_within_version_10() {
        let s = Scenario::new("page");
        let pass = signed_pass(&s, s.now);
        let url = pass.to_url("https://doorstep.example.org/api").unwrap();
        assert!(url.starts_with("HTTPS://DOORSTEP.EXAMPLE.ORG/V/"), "{url}");
        assert!(
            url.bytes()
                .all(|c| crate::base45::is_alphanumeric_mode(c) && c != b' ')
        );
        let size = doorstep_qr::Symbol::new(&url).unwrap().size();
        assert!(size.version <= 10, "{size:?}");
        assert_eq!(PagePass::from_url(&url).unwrap(), pass);
        // Both screens show the same six digits; another pass shows others.
        let again = PagePass::from_url(&url).unwrap().spoken_code();
        assert_eq!(again, pass.spoken_code());
        assert_ne!(signed_pass(&s, s.now + 1).spoken_code(), pass.spoken_code());
        // As the page reads it: the path alone, in whatever case the browser kept.
        let path = &url[url.find("/V/").unwrap()..];
        assert_eq!(
            PagePass::from_url(&path.to_ascii_lowercase()).unwrap(),
            pass
        );
        let keys = [s.organisation_key.public_key()];
        let ticket = check_pass(&pass, &s.ticket_encoded, &keys, s.now + 60).unwrap();
        assert_eq!(ticket.ticket().visit_id, s.ticket.visit_id);
    }

    #[test]
    fn every_check_refuses_with_its_own_reason() {
        let s = Scenario::new("page");
        let keys = [s.organisation_key.public_key()];
        let pass = signed_pass(&s, s.now);
        let kind = |p: &PagePass, ticket: &[u8], keys: &[PublicKey], now: u64| {
            check_pass(p, ticket, keys, now).unwrap_err().kind()
        };
        // Another organisation's keys: the page's own are the only ones it trusts.
        let stranger = Scenario::new("another organisation");
        let foreign = [stranger.organisation_key.public_key()];
        assert_eq!(
            kind(&pass, &s.ticket_encoded, &foreign, s.now),
            "unknown_organisation_key"
        );
        // A ticket altered in transit.
        let mut altered = s.ticket_encoded.clone();
        let middle = altered.len() / 2;
        altered[middle] ^= 1;
        assert!(check_pass(&pass, &altered, &keys, s.now).is_err());
        // A real ticket, but not the one the pass names.
        assert_eq!(
            kind(&pass, &stranger.ticket_encoded, &foreign, s.now),
            "unknown_ticket"
        );
        // Any change to the pass breaks the agent's signature.
        let mut later = pass.clone();
        later.time += 1;
        assert_eq!(
            kind(&later, &s.ticket_encoded, &keys, s.now),
            "bad_proof_signature"
        );
        // A photo of yesterday's screen.
        assert_eq!(
            kind(&pass, &s.ticket_encoded, &keys, s.now + MAX_PASS_AGE + 60),
            "pass_too_old"
        );
        // Signed by the wrong key: the finishing step refuses it.
        let ticket = SignedTicket::verify(&s.ticket_encoded, &keys).unwrap();
        let to_sign = PassToSign::new(&ticket, &mut SeededRandomness::new("x"), s.now);
        let by_customer = s.customer_key.sign(&to_sign.bytes());
        assert_eq!(to_sign.finish(by_customer), Err(Error::SignerMismatch));
        // Outside the visit's window.
        let late = s.ticket.window_end() + 3600;
        let late_pass = signed_pass(&s, late);
        assert!(matches!(
            check_pass(&late_pass, &s.ticket_encoded, &keys, late).unwrap_err(),
            Error::OutsideVisitWindow | Error::TicketExpired
        ));
    }

    #[test]
    fn malformed_addresses_are_refused_without_panicking() {
        for text in [
            "",
            "HTTPS://X.ORG",
            "HTTPS://X.ORG/V/",
            "HTTPS://X.ORG/V/%%%",
            "HTTPS://X.ORG/V/0",
            "HTTPS://X.ORG/V/000",
            "/V/::::::",
        ] {
            assert_eq!(
                PagePass::from_url(text).unwrap_err().kind(),
                "malformed_code"
            );
        }
        let s = Scenario::new("page");
        let pass = signed_pass(&s, s.now);
        assert!(pass.to_url("doorstep.example.org").is_err());
        assert!(pass.to_url("https://door_step.example.org").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_decodes_or_is_refused(text in ".{0,400}") {
            let _ = PagePass::from_url(&text);
        }

        #[test]
        fn any_path_alphabet_text_decodes_or_is_refused(text in "/V/[0-9A-Z$*+:-]{0,300}") {
            let _ = PagePass::from_url(&text);
        }
    }
}
