//! Doorstep protocol core.
//!
//! A field agent and a customer prove to each other, face to face and offline, that each is who
//! a scheduled visit says. This crate holds the documents the back-office signs ([`ticket`],
//! [`notice`]), the three-leg handshake ([`customer`], [`agent`]), the wire codec ([`codec`]) and
//! one error type ([`Error`]). It does no I/O and has no clock or random source of its own: time
//! and randomness are passed in, and anything a device key signs is handed out as bytes, so keys
//! can live in secure hardware.
// `std` (on phones, servers and the CLI) adds the system's clock and random source; the web
// page's WebAssembly build goes without.
#![cfg_attr(not(feature = "std"), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod agent;
pub mod base45;
pub mod cbor;
pub mod codec;
pub mod countersignature;
pub mod customer;
pub mod enrolment;
mod error;
pub mod handshake;
pub mod keys;
pub mod notice;
pub mod office;
pub mod page;
pub mod pins;
pub mod receipt;
pub mod rotation;
#[cfg(feature = "scenario")]
pub mod scenario;
pub mod signed;
#[cfg(feature = "std")]
pub mod system;
pub mod ticket;
pub mod trust;
pub mod vocabulary;
pub mod when;

pub use codec::{Code, CodeKind};
pub use error::{Error, Refused};
pub use keys::{KeyId, PublicKey, Randomness, SeededRandomness, Signature, SoftwareKey};
pub use receipt::Outcome;
pub use trust::{Policy, Trust};
pub use vocabulary::{ConfirmationCode, Role, UploadKind};
