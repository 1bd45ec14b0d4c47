//! The operating system's random source and clock, for shells that run on one (phones, the
//! back-office, the CLI). The core itself never calls them: they are passed in, so a test or
//! the web page can pass its own.

use alloc::sync::Arc;

use crate::keys::Randomness;

/// The system's cryptographically secure random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandomness;

impl Randomness for SystemRandomness {
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        // Without a random source no key or nonce can be made safely: stopping is the only
        // honest answer, and every platform Doorstep runs on has one.
        getrandom::fill(dest).expect("the system random source is available");
    }
}

/// A source of the current time in Unix seconds; tests move it.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// Unix seconds now, by the system's clock (0 if it reads before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The system's clock as a [`Clock`].
pub fn system_clock() -> Clock {
    Arc::new(unix_now)
}
