//! The agent role's lock, enforced here rather than in the views: until the person unlocks the
//! phone (the platform's biometric or device-credential prompt, which the shell runs), every
//! call that reveals customer data or signs at the door is refused, and the phone locks again
//! after some idle minutes. A thief who opens the app on a stolen agent phone gets nothing; a
//! tampered view cannot skip the prompt.

use std::sync::Mutex;

use crate::{DeviceError, ErrorKind};

/// Minutes of no use after which the agent role locks again.
pub const DEFAULT_IDLE_MINUTES: u64 = 5;

pub(crate) struct AppLock {
    /// None: no lock (a desktop test or demo host with no platform prompt).
    idle_secs: Option<u64>,
    /// When the agent role was last used while unlocked; None while locked.
    last_use: Mutex<Option<u64>>,
}

impl AppLock {
    pub(crate) fn new(idle_minutes: Option<u64>) -> Self {
        Self {
            idle_secs: idle_minutes.map(|m| m * 60),
            last_use: Mutex::new(None),
        }
    }

    fn last_use(&self) -> std::sync::MutexGuard<'_, Option<u64>> {
        // A panic elsewhere cannot leave this in a state worth refusing over.
        self.last_use.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn unlock(&self, now: u64) {
        *self.last_use() = Some(now);
    }

    pub(crate) fn lock(&self) {
        *self.last_use() = None;
    }

    /// Whether a guarded call would be refused now; does not count as use.
    pub(crate) fn is_locked(&self, now: u64) -> bool {
        match (self.idle_secs, *self.last_use()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(idle), Some(last)) => now.saturating_sub(last) > idle,
        }
    }

    /// Lets a guarded call through if unlocked and not idle too long, counting it as use;
    /// otherwise locks and refuses.
    pub(crate) fn use_now(&self, now: u64) -> Result<(), DeviceError> {
        if self.idle_secs.is_none() {
            return Ok(());
        }
        if self.is_locked(now) {
            self.lock();
            return Err(DeviceError::new(
                ErrorKind::Locked,
                "The agent role is locked: unlock the phone to continue.",
            ));
        }
        *self.last_use() = Some(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locked_until_unlocked_and_again_after_idle_minutes() {
        let lock = AppLock::new(Some(5));
        assert_eq!(lock.use_now(1000).unwrap_err().kind, ErrorKind::Locked);
        lock.unlock(1000);
        assert!(lock.use_now(1000 + 299).is_ok());
        // Each use restarts the idle time.
        assert!(lock.use_now(1000 + 299 + 300).is_ok());
        assert!(lock.is_locked(1000 + 299 + 300 + 301));
        assert_eq!(
            lock.use_now(1000 + 299 + 300 + 301).unwrap_err().kind,
            ErrorKind::Locked
        );
        // Once locked by idleness it stays locked, even if the clock goes back.
        assert!(lock.use_now(1000).is_err());
        let none = AppLock::new(None);
        assert!(!none.is_locked(0) && none.use_now(0).is_ok());
    }
}
