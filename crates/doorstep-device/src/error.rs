//! One error shape for the app: a stable kind the views translate, the English sentence as a
//! fallback, and whether trying again later may help.

use serde::Serialize;

use doorstep_store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct DeviceError {
    pub kind: String,
    pub message: String,
    pub transient: bool,
}

impl DeviceError {
    pub fn new(kind: &str, message: impl Into<String>) -> Self {
        Self {
            kind: kind.to_string(),
            message: message.into(),
            transient: false,
        }
    }
}

impl From<doorstep_core::Error> for DeviceError {
    fn from(e: doorstep_core::Error) -> Self {
        Self::new(e.kind(), e.to_string())
    }
}

impl<S> From<doorstep_core::Refused<S>> for DeviceError {
    fn from(r: doorstep_core::Refused<S>) -> Self {
        r.error.into()
    }
}

impl From<StoreError> for DeviceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Protocol(p) => p.into(),
            StoreError::NotEnrolled => Self::new("not_enrolled", e.to_string()),
            StoreError::KeyUnavailable(_) => Self::new("key_unavailable", e.to_string()),
            StoreError::ChainBroken { .. } => Self::new("receipt_log_broken", e.to_string()),
            StoreError::Sealing | StoreError::Damaged(_) => {
                Self::new("store_damaged", e.to_string())
            }
            StoreError::Database(_) | StoreError::Migration(_) => {
                Self::new("storage", e.to_string())
            }
        }
    }
}
