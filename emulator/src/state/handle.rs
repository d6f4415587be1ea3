//! Shared access to the portal of a running emulator.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::Portal;

/// A cloneable handle to the state of a running emulator.
///
/// The emulator's request handlers and the test that started it share the same [`Portal`]: what a
/// test changes through the handle is what the next call sees, and what a call changed is visible
/// through the handle once its answer has arrived.
///
/// ```
/// # async fn demo() -> std::io::Result<()> {
/// use b24_emulator::{Emulator, Portal, User};
/// let emu = Emulator::start(Portal::demo()).await?;
/// let new_id = emu.portal().lock().add_user(User::new("Ann", "Lee"));
/// assert!(emu.portal().lock().user(new_id).is_some());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct PortalHandle {
    inner: Arc<Mutex<Portal>>,
}

impl PortalHandle {
    /// Shares a portal.
    pub fn new(portal: Portal) -> Self {
        Self {
            inner: Arc::new(Mutex::new(portal)),
        }
    }

    /// Locks the portal. Do not hold the guard across an `.await` on a call to the emulator: the
    /// call would wait for the lock forever.
    ///
    /// A handler that panicked while holding the lock does not make the portal unusable: the lock
    /// is taken over as it is.
    pub fn lock(&self) -> MutexGuard<'_, Portal> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` with the portal locked and returns its result.
    pub fn with<R>(&self, f: impl FnOnce(&mut Portal) -> R) -> R {
        f(&mut self.lock())
    }

    /// A copy of the portal as it is now.
    pub fn snapshot(&self) -> Portal {
        self.lock().clone()
    }
}
