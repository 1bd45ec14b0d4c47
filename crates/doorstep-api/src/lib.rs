//! The contract between devices and the back-office that both sides share, with no I/O.
//!
//! [`auth`]: every request is signed by the device's enrolled key — no passwords or bearer
//! tokens to steal.

pub mod auth;
