//! The back-office's staff: the role each account has and what each role may do, passwords
//! (Argon2id), console session tokens and the CSRF token bound to each, and when failed logins
//! throttle. No I/O here: the database keeps accounts and sessions (`db::staff`), the console
//! routes translate (`console`).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use doorstep_core::keys::sha256;

use crate::ServerError;

/// One role per account. Devices have their own roles (`doorstep_core::Role`); these are people
/// at the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum StaffRole {
    /// Staff accounts, organisation settings and keys; everything the others do.
    Admin,
    /// Visits, agents, customers, enrolment letters.
    Planner,
    /// The official phone line: looks up visits, confirms by phone, handles reports.
    Operator,
    /// Reads everything, changes nothing, exports.
    Auditor,
}

/// What someone does in the console. Each handler names the one it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ManageStaff,
    ManageOrganisation,
    ViewVisits,
    PlanVisits,
    ManageAgents,
    ManageCustomers,
    AnswerOfficialLine,
    ReadAudit,
    Export,
}

impl StaffRole {
    pub const ALL: [StaffRole; 4] = [
        StaffRole::Admin,
        StaffRole::Planner,
        StaffRole::Operator,
        StaffRole::Auditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StaffRole::Admin => "admin",
            StaffRole::Planner => "planner",
            StaffRole::Operator => "operator",
            StaffRole::Auditor => "auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn may(self, action: Action) -> bool {
        use Action as A;
        match self {
            StaffRole::Admin => true,
            StaffRole::Planner => matches!(
                action,
                A::ViewVisits | A::PlanVisits | A::ManageAgents | A::ManageCustomers
            ),
            StaffRole::Operator => matches!(action, A::ViewVisits | A::AnswerOfficialLine),
            StaffRole::Auditor => matches!(action, A::ViewVisits | A::ReadAudit | A::Export),
        }
    }
}

/// Staff passwords are at least this long; a phrase is easier to type than symbols.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longer inputs are refused before hashing, so a login cannot be made expensive.
pub const MAX_PASSWORD_BYTES: usize = 256;

/// Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant Argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn check_new_password(password: &str) -> Result<(), ServerError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ServerError::Invalid(format!(
            "a staff password has at least {MIN_PASSWORD_CHARS} characters"
        )));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(ServerError::Invalid(format!(
            "a staff password has at most {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// The PHC string stored for `password`, salted from `salt` (16 random bytes).
pub fn hash_password(password: &str, salt: [u8; 16]) -> Result<String, ServerError> {
    check_new_password(password)?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| ServerError::Invalid(format!("password salt: {e}")))?;
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ServerError::Invalid(format!("password hash: {e}")))
}

/// Whether `password` matches `stored`. With no account (`stored` None) a hash is still
/// checked, so the time taken does not tell whether a username exists.
pub fn password_matches(password: &str, stored: Option<&str>) -> bool {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        hash_password("nobody has this password", [0; 16]).unwrap_or_default()
    });
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let verify = |stored: &str| {
        PasswordHash::new(stored).is_ok_and(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    };
    match stored {
        Some(stored) => verify(stored),
        None => {
            let _ = verify(&DECOY);
            false
        }
    }
}

/// How long a console session lasts without use, and at most.
pub const SESSION_IDLE_SECONDS: u64 = 30 * 60;
pub const SESSION_MAX_SECONDS: u64 = 12 * 3600;

/// The cookie that carries a console session.
pub const SESSION_COOKIE: &str = "doorstep_console";

/// A session token as the browser holds it (in an http-only cookie); the database keeps only
/// its hash.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(pub [u8; 32]);

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

impl SessionToken {
    pub fn to_cookie_value(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_cookie_value(value: &str) -> Option<Self> {
        let bytes = hex::decode(value).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }

    pub fn stored_hash(&self) -> [u8; 32] {
        sha256(&[b"doorstep console session", &self.0])
    }

    /// The token the console sends back in a header with every change. It is derived from the
    /// session, which another site's page can neither read nor guess, so a forged form or
    /// fetch from elsewhere cannot carry it.
    pub fn csrf_token(&self) -> String {
        hex::encode(sha256(&[b"doorstep console csrf", &self.0]))
    }
}

/// Failed logins counted over this window, per username and per client address.
pub const LOGIN_WINDOW_SECONDS: u64 = 15 * 60;
/// Failures for one username within the window before its logins wait.
pub const LOGIN_FAILURES_PER_USERNAME: u32 = 5;
/// Failures from one address within the window, whatever the usernames.
pub const LOGIN_FAILURES_PER_ADDRESS: u32 = 20;

/// Recent failed logins, as the database counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RecentFailures {
    pub for_username: u32,
    pub oldest_for_username: Option<u64>,
    pub from_address: u32,
    pub oldest_from_address: Option<u64>,
}

/// `Some(seconds)` to wait when another attempt is not allowed now.
pub fn login_wait(recent: RecentFailures, now: u64) -> Option<u64> {
    let wait = |count: u32, limit: u32, oldest: Option<u64>| {
        (count >= limit).then(|| {
            oldest
                .map(|t| (t + LOGIN_WINDOW_SECONDS).saturating_sub(now).max(1))
                .unwrap_or(LOGIN_WINDOW_SECONDS)
        })
    };
    let by_user = wait(
        recent.for_username,
        LOGIN_FAILURES_PER_USERNAME,
        recent.oldest_for_username,
    );
    let by_address = wait(
        recent.from_address,
        LOGIN_FAILURES_PER_ADDRESS,
        recent.oldest_from_address,
    );
    by_user.max(by_address)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_may_do_its_own_work_and_only_admin_manages_staff() {
        for role in StaffRole::ALL {
            assert_eq!(StaffRole::parse(role.as_str()), Some(role));
            assert!(role.may(Action::ViewVisits));
            assert_eq!(role.may(Action::ManageStaff), role == StaffRole::Admin);
            assert_eq!(
                role.may(Action::ManageOrganisation),
                role == StaffRole::Admin
            );
        }
        assert!(StaffRole::Planner.may(Action::PlanVisits));
        assert!(!StaffRole::Planner.may(Action::ReadAudit));
        assert!(!StaffRole::Operator.may(Action::PlanVisits));
        assert!(StaffRole::Operator.may(Action::AnswerOfficialLine));
        assert!(!StaffRole::Auditor.may(Action::PlanVisits));
        assert!(!StaffRole::Auditor.may(Action::AnswerOfficialLine));
        assert!(StaffRole::Auditor.may(Action::Export));
        assert_eq!(StaffRole::parse("root"), None);
    }

    #[test]
    fn a_password_matches_its_own_hash_only() {
        let stored = hash_password("correct horse battery", [7; 16]).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(password_matches("correct horse battery", Some(&stored)));
        assert!(!password_matches("correct horse batterY", Some(&stored)));
        assert!(!password_matches("correct horse battery", Some("garbage")));
        assert!(!password_matches("nobody has this password", None));
        assert!(!password_matches(&"x".repeat(300), Some(&stored)));
        assert!(hash_password("short", [7; 16]).is_err());
        assert!(hash_password(&"long ".repeat(60), [7; 16]).is_err());
    }

    #[test]
    fn a_session_token_round_trips_and_its_csrf_token_and_hash_differ_from_it() {
        let token = SessionToken([3; 32]);
        let value = token.to_cookie_value();
        assert_eq!(SessionToken::from_cookie_value(&value), Some(token.clone()));
        assert_eq!(SessionToken::from_cookie_value("zz"), None);
        assert_eq!(SessionToken::from_cookie_value(&value[2..]), None);
        assert_ne!(token.csrf_token(), value);
        assert_ne!(hex::encode(token.stored_hash()), value);
        assert_ne!(SessionToken([4; 32]).csrf_token(), token.csrf_token());
        assert!(!format!("{token:?}").contains("03"));
    }

    #[test]
    fn logins_wait_after_five_failures_for_a_name_or_twenty_from_an_address() {
        let now = 10_000;
        let recent = |user, addr| RecentFailures {
            for_username: user,
            oldest_for_username: Some(now - 100),
            from_address: addr,
            oldest_from_address: Some(now - 600),
        };
        assert_eq!(login_wait(recent(4, 19), now), None);
        assert_eq!(login_wait(recent(5, 5), now), Some(800));
        assert_eq!(login_wait(recent(0, 20), now), Some(300));
        assert_eq!(login_wait(recent(5, 20), now), Some(800));
    }
}
