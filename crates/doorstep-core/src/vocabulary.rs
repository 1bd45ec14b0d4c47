//! The words every layer shares: who a device belongs to, what it uploads, and the code both
//! people read aloud. One type each, used from the core out to the app's views.

use core::fmt;

use serde::{Deserialize, Serialize};

/// Whose device: the field agent's or the customer's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Customer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Agent, Role::Customer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Customer => "customer",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a device sends the back-office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadKind {
    /// An agent's signed receipt.
    Receipt,
    /// A customer's "report this visitor", or an agent's note on an outcome.
    Report,
}

impl UploadKind {
    pub const ALL: [UploadKind; 2] = [UploadKind::Receipt, UploadKind::Report];

    pub fn as_str(self) -> &'static str {
        match self {
            UploadKind::Receipt => "receipt",
            UploadKind::Report => "report",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        UploadKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The 6-digit code both screens show after the handshake. It displays as `406 859`: two
/// groups of three are easier to read aloud and compare than six digits in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConfirmationCode(u32);

impl ConfirmationCode {
    /// The code from any number; only its last six digits count.
    pub fn new(value: u32) -> Self {
        Self(value % 1_000_000)
    }

    pub fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Display for ConfirmationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:03} {:03}", self.0 / 1000, self.0 % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn a_confirmation_code_reads_in_two_groups_of_three() {
        assert_eq!(ConfirmationCode::new(406_859).to_string(), "406 859");
        assert_eq!(ConfirmationCode::new(7).to_string(), "000 007");
        assert_eq!(ConfirmationCode::new(1_234_567).to_string(), "234 567");
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        for kind in UploadKind::ALL {
            assert_eq!(UploadKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Role::parse("admin"), None);
    }
}
