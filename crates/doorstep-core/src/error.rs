//! The one error type of the protocol: one variant per cause, each with a sentence a person at
//! the door understands, and a stable machine-readable kind for logs, JSON and the apps.

use alloc::boxed::Box;
use alloc::string::String;
use thiserror::Error;

use crate::keys::KeyId;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Error {
    #[error("This is not a readable Doorstep code ({reason}).")]
    MalformedCode { reason: String },
    #[error(
        "This code uses protocol version {found}, which this app does not support. Update the app."
    )]
    UnsupportedVersion { found: String },
    #[error("This is a {found} code, but a {expected} code was expected.")]
    WrongMessageKind {
        expected: &'static str,
        found: &'static str,
    },
    #[error("The visit ticket was signed by a key ({key_id}) this device does not trust.")]
    UnknownOrganisationKey { key_id: KeyId },
    #[error("The visit ticket's signature is not valid: it was altered or forged.")]
    BadTicketSignature,
    #[error("The visit notice's signature is not valid: it was altered or forged.")]
    BadNoticeSignature,
    #[error("The list of revoked agents has an invalid signature.")]
    BadDenylistSignature,
    #[error(
        "The agent's code is not signed by the key named in the ticket: this is not the agent the visit was booked for."
    )]
    BadProofSignature,
    #[error("The customer's code is not signed by the customer's enrolled key.")]
    BadResponseSignature,
    #[error("The receipt's signature is not valid.")]
    BadReceiptSignature,
    #[error("The visit ticket has expired.")]
    TicketExpired,
    #[error("The visit ticket is not valid yet.")]
    TicketNotYetValid,
    #[error("This visit is booked for another time.")]
    OutsideVisitWindow,
    #[error("This code belongs to a different visit.")]
    WrongVisit,
    #[error("The agent's key is not the one your visit notice names.")]
    WrongAgentKey,
    #[error("This visit was booked for a different customer key.")]
    WrongCustomerKey,
    #[error("The agent referred to a ticket this device does not hold; ask for the full code.")]
    UnknownTicket,
    #[error("This code answers an earlier attempt; show a fresh code and scan again.")]
    NonceMismatch,
    #[error("The {what} has been revoked by the organisation.")]
    Revoked { what: &'static str },
    #[error("The list of revoked agents is too old to rely on; sync this device.")]
    DenylistTooOld,
    #[error(
        "A clock is clearly wrong: the two times differ by {} minutes. Check the date and time on both phones.",
        local.abs_diff(*peer) / 60
    )]
    ClockClearlyWrong { local: u64, peer: u64 },
    #[error("The signature returned by the secure key store does not match this device's key.")]
    SignerMismatch,
    #[error("The receipt does not match this visit's handshake.")]
    ReceiptMismatch,
    #[error("The back-office's countersignature is not valid.")]
    BadCountersignature,
    #[error("The back-office's countersignature is for another receipt.")]
    CountersignatureMismatch,
    #[error("A verified receipt must carry the customer's signed answer; this one does not.")]
    VerifiedWithoutCustomer,
    #[error("The receipt claims checks the visit did not allow.")]
    ChecksNotAllowed,
    #[error(
        "{back_office} is not an organisation this app trusts. If someone asked you to use it, it may be a scam."
    )]
    OrganisationNotPinned { back_office: String },
    #[error("{back_office} is not a secure (https) address; this app does not connect to it.")]
    InsecureBackOffice { back_office: String },
    #[error(
        "The back-office did not prove it is {organisation} as built into this app: its name or keys differ."
    )]
    BackOfficeNotAsPinned { organisation: String },
    #[error("The app's list of trusted organisations is unusable: {reason}.")]
    BadPins { reason: String },
    #[error(
        "A new organisation key was offered without a valid hand-over from a trusted key, or with too short an overlap."
    )]
    BadRotation,
    #[error(
        "This is not an office reference: it has eight digits. Check each digit with the customer."
    )]
    BadOfficeReference,
    #[error("This code is {minutes} minutes old. Ask the visitor to show a fresh one.")]
    PassTooOld { minutes: u64 },
}

impl Error {
    /// A stable identifier for the cause.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::MalformedCode { .. } => "malformed_code",
            Error::UnsupportedVersion { .. } => "unsupported_version",
            Error::WrongMessageKind { .. } => "wrong_message_kind",
            Error::UnknownOrganisationKey { .. } => "unknown_organisation_key",
            Error::BadTicketSignature => "bad_ticket_signature",
            Error::BadNoticeSignature => "bad_notice_signature",
            Error::BadDenylistSignature => "bad_denylist_signature",
            Error::BadProofSignature => "bad_proof_signature",
            Error::BadResponseSignature => "bad_response_signature",
            Error::BadReceiptSignature => "bad_receipt_signature",
            Error::TicketExpired => "ticket_expired",
            Error::TicketNotYetValid => "ticket_not_yet_valid",
            Error::OutsideVisitWindow => "outside_visit_window",
            Error::WrongVisit => "wrong_visit",
            Error::WrongAgentKey => "wrong_agent_key",
            Error::WrongCustomerKey => "wrong_customer_key",
            Error::UnknownTicket => "unknown_ticket",
            Error::NonceMismatch => "nonce_mismatch",
            Error::Revoked { .. } => "revoked",
            Error::DenylistTooOld => "denylist_too_old",
            Error::ClockClearlyWrong { .. } => "clock_clearly_wrong",
            Error::SignerMismatch => "signer_mismatch",
            Error::ReceiptMismatch => "receipt_mismatch",
            Error::BadCountersignature => "bad_countersignature",
            Error::CountersignatureMismatch => "countersignature_mismatch",
            Error::VerifiedWithoutCustomer => "verified_without_customer",
            Error::ChecksNotAllowed => "checks_not_allowed",
            Error::OrganisationNotPinned { .. } => "organisation_not_pinned",
            Error::InsecureBackOffice { .. } => "insecure_back_office",
            Error::BackOfficeNotAsPinned { .. } => "back_office_not_as_pinned",
            Error::BadPins { .. } => "bad_pins",
            Error::BadRotation => "bad_rotation",
            Error::BadOfficeReference => "bad_office_reference",
            Error::PassTooOld { .. } => "pass_too_old",
        }
    }

    pub(crate) fn malformed(reason: impl core::fmt::Display) -> Self {
        Error::MalformedCode {
            reason: alloc::format!("{reason}"),
        }
    }
}

impl From<crate::cbor::CborError> for Error {
    fn from(e: crate::cbor::CborError) -> Self {
        Error::malformed(e)
    }
}

/// A step that was refused hands its session back, so the person can scan again.
#[derive(Debug)]
pub struct Refused<S> {
    pub error: Error,
    /// Boxed: sessions are large and the error path should not make every result large.
    pub session: Box<S>,
}

impl<S> From<Refused<S>> for Error {
    fn from(r: Refused<S>) -> Self {
        r.error
    }
}

pub(crate) trait RefuseWith<T> {
    fn or_refuse<S>(self, session: S) -> Result<(T, S), Refused<S>>;
}

impl<T> RefuseWith<T> for Result<T, Error> {
    fn or_refuse<S>(self, session: S) -> Result<(T, S), Refused<S>> {
        match self {
            Ok(v) => Ok((v, session)),
            Err(error) => Err(Refused {
                error,
                session: Box::new(session),
            }),
        }
    }
}
