//! Doorstep over NFC, one tap instead of four QR codes.
//!
//! The agent's phone emulates a contactless card (Android host card emulation); the customer's
//! phone reads it, and drives, as it drives the QR exchange: its challenge in, the agent's proof
//! out; later its response in and the agent's receipt out. The messages are the very bytes a QR
//! code carries (without the Base45 text around them), so both phones check them with the same
//! code whichever way they travelled.
//!
//! Only short APDUs are used (at most 255 bytes of command data and 256 of response data): long
//! messages go as chained commands (ISO 7816-4 command chaining, CLA bit 0x10) and long answers
//! as `61xx` followed by GET RESPONSE, so no phone or reader needs extended length.
//!
//! This crate holds the framing and the two state machines, which do no I/O; what a message
//! means is decided by the device crate, behind [`card::Card`]'s requests and
//! [`reader::Reader`]'s results. Two features add I/O for desktops and tests: `pcsc` (a reader
//! through pcscd) and `vpcd` (the card side behind vsmartcard's virtual reader).

pub mod apdu;
pub mod card;
#[cfg(feature = "pcsc")]
pub mod pcsc;
pub mod reader;
#[cfg(feature = "vpcd")]
pub mod vpcd;

pub use apdu::{Command, StatusWord};
pub use card::{Answer, Card, Request, Step};
pub use reader::{NfcError, Reader, Tally, Transport, TransportError};

/// Doorstep's application identifier: proprietary (first nibble F), then "DOORSTEP" in ASCII.
/// The same bytes are in the Android `apduservice.xml` and the iOS Info.plist; a test keeps
/// them equal.
pub const AID: [u8; 9] = [0xF0, b'D', b'O', b'O', b'R', b'S', b'T', b'E', b'P'];

/// The framing's version, answered to SELECT, so a later change can be told apart.
pub const PROTOCOL_VERSION: u8 = 1;

/// Longest message either side accepts, assembled: above any Doorstep code (a QR code holds
/// less), low enough that a hostile peer cannot make a phone hold much.
pub const MAX_MESSAGE: usize = 4096;

/// The instructions of Doorstep's application (class 0x80, proprietary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Instruction {
    /// The customer's challenge in, the agent's proof out.
    Challenge,
    /// The same proof with the whole ticket in it, for a customer's phone without the notice.
    FullProof,
    /// The customer's response in; nothing out but the status.
    Response,
    /// The agent's signed receipt out, once the agent has recorded the visit.
    Receipt,
}

impl Instruction {
    pub const ALL: [Instruction; 4] = [
        Instruction::Challenge,
        Instruction::FullProof,
        Instruction::Response,
        Instruction::Receipt,
    ];

    pub const fn code(self) -> u8 {
        match self {
            Instruction::Challenge => 0x10,
            Instruction::FullProof => 0x12,
            Instruction::Response => 0x14,
            Instruction::Receipt => 0x16,
        }
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|i| i.code() == code)
    }

    /// Whether the command carries a message (and may be chained).
    pub const fn carries_data(self) -> bool {
        matches!(self, Instruction::Challenge | Instruction::Response)
    }
}
