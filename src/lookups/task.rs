//! Background tasks tied to the life of a source.
//!
//! Hot reload builds new sources and drops old ones; their polling and sync loops must
//! stop with them. Each loop holds only a `Weak` to the state it refreshes (so it never
//! keeps a dropped source alive) and the source aborts the task on drop (so it stops at
//! once instead of at its next tick).

use tokio::task::AbortHandle;

/// Aborts the task when dropped.
#[derive(Debug)]
pub(crate) struct AbortOnDrop(AbortHandle);

impl AbortOnDrop {
    pub fn new(handle: AbortHandle) -> Self {
        AbortOnDrop(handle)
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
