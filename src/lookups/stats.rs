//! Counters every lookup source keeps, cheap enough for the request path (relaxed
//! atomics), read by the metrics layer through `stats()`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of one source's counters. Counters only grow (for the life of the source).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LookupStats {
    /// Answers served from memory (cache or the in-memory set) without asking the source.
    pub hits: u64,
    /// Answers that needed the source (an upstream request, a token verification).
    pub misses: u64,
    /// Callers that waited for another caller's identical in-flight request instead of
    /// making their own (request coalescing).
    pub coalesced: u64,
    /// Source failures: timeouts, refused connections, unexpected answers.
    pub errors: u64,
    /// Negative answers: missing, unknown or invalid credentials; accounts not approved.
    pub negatives: u64,
    /// Answers served from an expired entry because the source failed (stale-if-error).
    pub stale_serves: u64,
    /// Successful reloads of the whole set (file re-read, list sync).
    pub reloads: u64,
    /// Failed reloads; the previous set was kept.
    pub reload_errors: u64,
    /// Entries in memory: accounts in the set, or answers in the cache.
    pub entries: u64,
    /// Age of the in-memory set (since the file was loaded or the list last synced);
    /// `None` for sources without one, or before the first successful sync.
    pub snapshot_age: Option<Duration>,
}

/// The live counters behind [`LookupStats`].
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub coalesced: AtomicU64,
    pub errors: AtomicU64,
    pub negatives: AtomicU64,
    pub stale_serves: AtomicU64,
    pub reloads: AtomicU64,
    pub reload_errors: AtomicU64,
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counters, with the source-specific gauges filled in by the caller.
    pub fn snapshot(&self, entries: u64, snapshot_age: Option<Duration>) -> LookupStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        LookupStats {
            hits: get(&self.hits),
            misses: get(&self.misses),
            coalesced: get(&self.coalesced),
            errors: get(&self.errors),
            negatives: get(&self.negatives),
            stale_serves: get(&self.stale_serves),
            reloads: get(&self.reloads),
            reload_errors: get(&self.reload_errors),
            entries,
            snapshot_age,
        }
    }
}
