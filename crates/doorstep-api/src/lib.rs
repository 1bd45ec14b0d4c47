//! The contract between devices and the back-office that both sides share, with no I/O.
//!
//! [`auth`]: every request is signed by the device's enrolled key — no passwords or bearer
//! tokens to steal. [`wire`]: the paths and JSON bodies of the versioned API.

pub mod auth;
pub mod wire;
