//! One error shape for the app: a kind from a closed list the views translate, the English
//! sentence for logs, and whether trying again later may help. Every failure a phone can meet
//! (the protocol's, the store's, the sync's, the device's own) maps to exactly one kind here.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use doorstep_store::StoreError;
use doorstep_sync::SyncError;

/// Declares [`ErrorKind`] and the list of all its values together, so the list cannot miss one.
macro_rules! error_kinds {
    ($($(#[$doc:meta])* $variant:ident,)*) => {
        /// Why something failed, as the views receive it (`"wrong_visit"`, …). Each kind has a
        /// text in every catalogue; a test fails otherwise.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorKind {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorKind {
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant,)*];
        }
    };
}

error_kinds! {
    // The protocol's checks (one per `doorstep_core::Error` variant).
    MalformedCode,
    UnsupportedVersion,
    WrongMessageKind,
    UnknownOrganisationKey,
    BadTicketSignature,
    BadNoticeSignature,
    BadDenylistSignature,
    BadProofSignature,
    BadResponseSignature,
    BadReceiptSignature,
    TicketExpired,
    TicketNotYetValid,
    OutsideVisitWindow,
    WrongVisit,
    WrongAgentKey,
    WrongCustomerKey,
    UnknownTicket,
    NonceMismatch,
    Revoked,
    DenylistTooOld,
    ClockClearlyWrong,
    SignerMismatch,
    ReceiptMismatch,
    BadCountersignature,
    CountersignatureMismatch,
    VerifiedWithoutCustomer,
    ChecksNotAllowed,
    OrganisationNotPinned,
    InsecureBackOffice,
    BackOfficeNotAsPinned,
    BadPins,
    BadRotation,
    /// A typed office reference is not eight digits with a right check digit.
    BadOfficeReference,
    /// A page pass older than the page accepts.
    PassTooOld,
    // The phone's own store.
    NotEnrolled,
    KeyUnavailable,
    ReceiptLogBroken,
    /// The store could not be read or written, or what it holds is damaged.
    Storage,
    // Talking to the back-office.
    Offline,
    ServerUnavailable,
    /// The back-office asked the phone to wait before syncing again.
    RateLimited,
    ClockOff,
    /// The back-office answered with something that makes no sense.
    BadServerAnswer,
    Signing,
    UnknownEnrolmentCode,
    EnrolmentCodeUsed,
    EnrolmentCodeExpired,
    KeyAlreadyEnrolled,
    /// The back-office revoked this device.
    DeviceRevoked,
    /// The back-office found this phone's receipt log altered since it last anchored it.
    ReceiptLogRewritten,
    /// The back-office enrols only phones whose key it can check is in secure hardware, and
    /// this one's could not be shown to be.
    KeyNotAttested,
    /// Any other refusal; the message names the back-office's reason.
    RefusedByServer,
    // The app's own steps.
    /// The agent role is locked: the platform's unlock prompt must pass first.
    Locked,
    NoCodeInImage,
    /// The picture is larger than the app reads (file size or pixels).
    ImageTooLarge,
    NoHandshake,
    CustomerNotVerified,
    /// The customer said the person at the door is not the one in the signed photo.
    PersonNotInPhoto,
    /// The two people read out different confirmation codes.
    CodesDiffer,
    /// The customer's answer was scanned before the two codes were compared.
    CodesNotCompared,
    UnknownVisit,
    /// A typed code, and more than one organisation this app trusts: the person must pick one.
    ChooseOrganisation,
    AlreadyEnrolled,
    NoteTooLong,
    CodeTooLarge,
    // A tap (NFC).
    /// The phones parted before the exchange was over.
    NfcLinkLost,
    /// The agent's phone is not at this visit's door screen, or has not confirmed the code yet.
    AgentNotReady,
    /// What answered the tap is not a Doorstep agent's phone (or answered nonsense).
    NotADoorstepPhone,
}

impl ErrorKind {
    /// The kind's name, as the views and reports carry it (`wrong_visit`).
    pub fn name(self) -> String {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::String(name)) => name,
            _ => unreachable!("a unit variant serialises to its name"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS, thiserror::Error)]
#[error("{message}")]
pub struct DeviceError {
    pub kind: ErrorKind,
    /// The English sentence, for logs and reports; the views show the kind's translation.
    pub message: String,
    /// Whether the same step may succeed later without anyone changing anything.
    pub transient: bool,
}

impl DeviceError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            transient: false,
        }
    }
}

impl From<&doorstep_core::Error> for ErrorKind {
    fn from(e: &doorstep_core::Error) -> Self {
        use ErrorKind as K;
        use doorstep_core::Error as E;
        match e {
            E::MalformedCode { .. } => K::MalformedCode,
            E::UnsupportedVersion { .. } => K::UnsupportedVersion,
            E::WrongMessageKind { .. } => K::WrongMessageKind,
            E::UnknownOrganisationKey { .. } => K::UnknownOrganisationKey,
            E::BadTicketSignature => K::BadTicketSignature,
            E::BadNoticeSignature => K::BadNoticeSignature,
            E::BadDenylistSignature => K::BadDenylistSignature,
            E::BadProofSignature => K::BadProofSignature,
            E::BadResponseSignature => K::BadResponseSignature,
            E::BadReceiptSignature => K::BadReceiptSignature,
            E::TicketExpired => K::TicketExpired,
            E::TicketNotYetValid => K::TicketNotYetValid,
            E::OutsideVisitWindow => K::OutsideVisitWindow,
            E::WrongVisit => K::WrongVisit,
            E::WrongAgentKey => K::WrongAgentKey,
            E::WrongCustomerKey => K::WrongCustomerKey,
            E::UnknownTicket => K::UnknownTicket,
            E::NonceMismatch => K::NonceMismatch,
            E::Revoked { .. } => K::Revoked,
            E::DenylistTooOld => K::DenylistTooOld,
            E::ClockClearlyWrong { .. } => K::ClockClearlyWrong,
            E::SignerMismatch => K::SignerMismatch,
            E::ReceiptMismatch => K::ReceiptMismatch,
            E::BadCountersignature => K::BadCountersignature,
            E::CountersignatureMismatch => K::CountersignatureMismatch,
            E::VerifiedWithoutCustomer => K::VerifiedWithoutCustomer,
            E::ChecksNotAllowed => K::ChecksNotAllowed,
            E::OrganisationNotPinned { .. } => K::OrganisationNotPinned,
            E::InsecureBackOffice { .. } => K::InsecureBackOffice,
            E::BackOfficeNotAsPinned { .. } => K::BackOfficeNotAsPinned,
            E::BadPins { .. } => K::BadPins,
            E::BadRotation => K::BadRotation,
            E::BadOfficeReference => K::BadOfficeReference,
            E::PassTooOld { .. } => K::PassTooOld,
        }
    }
}

impl From<doorstep_core::Error> for DeviceError {
    fn from(e: doorstep_core::Error) -> Self {
        Self::new(ErrorKind::from(&e), e.to_string())
    }
}

impl<S> From<doorstep_core::Refused<S>> for DeviceError {
    fn from(r: doorstep_core::Refused<S>) -> Self {
        r.error.into()
    }
}

impl From<StoreError> for DeviceError {
    fn from(e: StoreError) -> Self {
        let kind = match &e {
            StoreError::Protocol(p) => return p.clone().into(),
            StoreError::NotEnrolled => ErrorKind::NotEnrolled,
            StoreError::KeyUnavailable(_) => ErrorKind::KeyUnavailable,
            StoreError::ChainBroken { .. } => ErrorKind::ReceiptLogBroken,
            StoreError::Sealing
            | StoreError::Damaged(_)
            | StoreError::Database(_)
            | StoreError::Migration(_) => ErrorKind::Storage,
        };
        Self::new(kind, e.to_string())
    }
}

impl From<SyncError> for DeviceError {
    fn from(e: SyncError) -> Self {
        let transient = e.is_transient();
        let message = e.to_string();
        let kind = match e {
            SyncError::Store(store) => return store.into(),
            SyncError::Trust(trust) => return trust.into(),
            SyncError::Offline(_) => ErrorKind::Offline,
            SyncError::ServerUnavailable(_) => ErrorKind::ServerUnavailable,
            SyncError::RateLimited { .. } => ErrorKind::RateLimited,
            SyncError::ClockOff { .. } => ErrorKind::ClockOff,
            SyncError::Protocol(_) => ErrorKind::BadServerAnswer,
            SyncError::Signing(_) => ErrorKind::Signing,
            SyncError::Refused { kind, .. } => refusal(&kind),
        };
        Self {
            kind,
            message,
            transient,
        }
    }
}

/// The back-office's refusals a person can act on get their own kind; the rest share one.
fn refusal(server_kind: &str) -> ErrorKind {
    match server_kind {
        "unknown_enrolment_code" => ErrorKind::UnknownEnrolmentCode,
        "enrolment_code_used" => ErrorKind::EnrolmentCodeUsed,
        "enrolment_code_expired" => ErrorKind::EnrolmentCodeExpired,
        "key_already_enrolled" => ErrorKind::KeyAlreadyEnrolled,
        "revoked_device" => ErrorKind::DeviceRevoked,
        "receipt_log_rewritten" => ErrorKind::ReceiptLogRewritten,
        "attestation_refused" | "attestation_required" => ErrorKind::KeyNotAttested,
        _ => ErrorKind::RefusedByServer,
    }
}

pub(crate) fn unknown_visit() -> DeviceError {
    DeviceError::new(
        ErrorKind::UnknownVisit,
        "There is no such visit on this device.",
    )
}

/// Either person said the codes read aloud differ; both phones end the visit with this.
pub(crate) fn codes_differ() -> DeviceError {
    DeviceError::new(
        ErrorKind::CodesDiffer,
        "The two people read out different codes: someone may be relaying the codes.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use doorstep_core::Error as E;

    #[test]
    fn a_protocol_error_keeps_the_core_s_name_for_its_kind() {
        let errors = [
            E::MalformedCode { reason: "x".into() },
            E::UnsupportedVersion { found: "9".into() },
            E::WrongMessageKind {
                expected: "proof",
                found: "challenge",
            },
            E::BadTicketSignature,
            E::BadNoticeSignature,
            E::BadDenylistSignature,
            E::BadProofSignature,
            E::BadResponseSignature,
            E::BadReceiptSignature,
            E::TicketExpired,
            E::TicketNotYetValid,
            E::OutsideVisitWindow,
            E::WrongVisit,
            E::WrongAgentKey,
            E::WrongCustomerKey,
            E::UnknownTicket,
            E::NonceMismatch,
            E::Revoked { what: "agent" },
            E::DenylistTooOld,
            E::ClockClearlyWrong {
                local: 0,
                peer: 7200,
            },
            E::SignerMismatch,
            E::ReceiptMismatch,
            E::BadCountersignature,
            E::CountersignatureMismatch,
            E::VerifiedWithoutCustomer,
            E::ChecksNotAllowed,
            E::OrganisationNotPinned {
                back_office: "https://x".into(),
            },
            E::InsecureBackOffice {
                back_office: "http://x".into(),
            },
            E::BackOfficeNotAsPinned {
                organisation: "x".into(),
            },
            E::BadPins { reason: "x".into() },
            E::BadRotation,
        ];
        for e in errors {
            assert_eq!(ErrorKind::from(&e).name(), e.kind());
        }
    }

    #[test]
    fn one_store_failure_reaches_the_views_as_one_kind_whatever_the_path() {
        let direct = DeviceError::from(StoreError::Damaged("x".into()));
        let through_sync = DeviceError::from(SyncError::Store(StoreError::Damaged("x".into())));
        assert_eq!(direct.kind, ErrorKind::Storage);
        assert_eq!(through_sync.kind, ErrorKind::Storage);
    }

    #[test]
    fn the_back_office_s_refusals_map_to_kinds_a_person_can_act_on() {
        let refused = |kind: &str| {
            DeviceError::from(SyncError::Refused {
                status: 409,
                kind: kind.into(),
                message: "m".into(),
            })
            .kind
        };
        assert_eq!(refused("enrolment_code_used"), ErrorKind::EnrolmentCodeUsed);
        assert_eq!(refused("attestation_refused"), ErrorKind::KeyNotAttested);
        assert_eq!(refused("attestation_required"), ErrorKind::KeyNotAttested);
        assert_eq!(refused("revoked_device"), ErrorKind::DeviceRevoked);
        assert_eq!(refused("something_new"), ErrorKind::RefusedByServer);
    }
}
