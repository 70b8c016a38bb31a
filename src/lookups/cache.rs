//! A `moka` cache in front of a remote lookup, with request coalescing, separate TTLs
//! for positive and negative answers, and stale-if-error.
//!
//! Two caches share the values: `fresh` holds answers for their TTL and is where
//! coalescing happens (`try_get_with`: concurrent misses for one key run one fetch, the
//! others wait for it); `stale` keeps the last good answer a while longer, and is read
//! only when a fetch fails. Errors are never cached: the next request tries again.

use super::stats::Counters;
use moka::future::Cache;
use moka::Expiry;
use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Tells positive answers (cached for `ttl`) from negative ones (`negative_ttl`).
pub(crate) trait Answer: Clone + Send + Sync + 'static {
    fn is_negative(&self) -> bool;
}

/// How long answers are kept, and how many.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CacheSettings {
    pub ttl: Duration,
    pub negative_ttl: Duration,
    /// How long past its TTL an answer may still be served while the source fails.
    pub stale_if_error: Duration,
    pub max_entries: u64,
}

impl CacheSettings {
    /// Settings from a spec's keys, refusing a cache that could hold nothing.
    pub fn checked(
        ttl: Duration,
        negative_ttl: Duration,
        stale_if_error: Duration,
        max_entries: u64,
    ) -> Result<CacheSettings, super::LookupConfigError> {
        if max_entries == 0 {
            return Err(super::LookupConfigError::new(
                "max_entries",
                "must be at least 1",
            ));
        }
        Ok(CacheSettings {
            ttl,
            negative_ttl,
            stale_if_error,
            max_entries,
        })
    }
}

/// Where an answer came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Served<V> {
    /// From the cache or a fetch made for this call (or a coalesced one).
    Fresh(V),
    /// From an expired entry, because the fetch failed with the contained error.
    Stale(V),
}

/// Per-entry lifetime: the TTL for the answer's polarity, plus a fixed extra (the
/// stale-if-error window for the `stale` cache). Re-inserting restarts it.
struct Lifetime {
    ttl: Duration,
    negative_ttl: Duration,
    extra: Duration,
}

impl Lifetime {
    fn of<V: Answer>(&self, value: &V) -> Duration {
        let base = if value.is_negative() {
            self.negative_ttl
        } else {
            self.ttl
        };
        base.saturating_add(self.extra)
    }
}

impl<K, V: Answer> Expiry<K, V> for Lifetime {
    fn expire_after_create(&self, _key: &K, value: &V, _at: Instant) -> Option<Duration> {
        Some(self.of(value))
    }

    fn expire_after_update(
        &self,
        _key: &K,
        value: &V,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(self.of(value))
    }
}

/// The cache of one source.
pub(crate) struct CachedLookup<K, V> {
    fresh: Cache<K, V>,
    /// `None` when stale-if-error is off.
    stale: Option<Cache<K, V>>,
    counters: Arc<Counters>,
}

impl<K, V> std::fmt::Debug for CachedLookup<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedLookup")
            .field("fresh_entries", &self.fresh.entry_count())
            .field("stale", &self.stale.is_some())
            .finish()
    }
}

impl<K, V> CachedLookup<K, V>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    V: Answer,
{
    pub fn new(settings: CacheSettings, counters: Arc<Counters>) -> Self {
        let build = |extra: Duration| {
            Cache::builder()
                .max_capacity(settings.max_entries)
                .expire_after(Lifetime {
                    ttl: settings.ttl,
                    negative_ttl: settings.negative_ttl,
                    extra,
                })
                .build()
        };
        let stale = (!settings.stale_if_error.is_zero()).then(|| build(settings.stale_if_error));
        CachedLookup {
            fresh: build(Duration::ZERO),
            stale,
            counters,
        }
    }

    /// The cached answer for `key`, or the result of `fetch` (run at most once across
    /// concurrent callers). When the fetch fails, the last good answer within the
    /// stale-if-error window is served; else the fetch's error is returned.
    ///
    /// `fetch` counts its own misses and errors (it knows whether it reached the source).
    pub async fn get<F, E>(&self, key: K, fetch: F) -> Result<Served<V>, Arc<E>>
    where
        F: std::future::Future<Output = Result<V, E>>,
        E: Send + Sync + 'static,
    {
        if let Some(value) = self.fresh.get(&key).await {
            Counters::bump(&self.counters.hits);
            return Ok(Served::Fresh(value));
        }
        let ran = AtomicBool::new(false);
        let result = self
            .fresh
            .try_get_with(key.clone(), async {
                ran.store(true, Ordering::Relaxed);
                let value = fetch.await?;
                if let Some(stale) = &self.stale {
                    stale.insert(key.clone(), value.clone()).await;
                }
                Ok(value)
            })
            .await;
        if !ran.load(Ordering::Relaxed) {
            Counters::bump(&self.counters.coalesced);
        }
        match result {
            Ok(value) => Ok(Served::Fresh(value)),
            Err(err) => match &self.stale {
                Some(stale) => match stale.get(&key).await {
                    Some(value) => {
                        Counters::bump(&self.counters.stale_serves);
                        Ok(Served::Stale(value))
                    }
                    None => Err(err),
                },
                None => Err(err),
            },
        }
    }

    /// Forgets fresh answers (the stale copies stay, for errors): the next lookups ask
    /// the source again. Used when a list sync shows the source's data changed.
    pub fn invalidate_fresh(&self) {
        self.fresh.invalidate_all();
    }

    pub fn entry_count(&self) -> u64 {
        self.fresh.entry_count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[derive(Clone, Debug, PartialEq)]
    struct V(bool);
    impl Answer for V {
        fn is_negative(&self) -> bool {
            !self.0
        }
    }

    fn settings(stale_ms: u64) -> CacheSettings {
        CacheSettings {
            ttl: Duration::from_millis(100),
            negative_ttl: Duration::from_millis(100),
            stale_if_error: Duration::from_millis(stale_ms),
            max_entries: 100,
        }
    }

    #[tokio::test]
    async fn coalesces_concurrent_misses() {
        let counters = Arc::new(Counters::default());
        let cache = Arc::new(CachedLookup::<u32, V>::new(settings(0), counters.clone()));
        let calls = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let cache = cache.clone();
            let calls = calls.clone();
            tasks.push(tokio::spawn(async move {
                cache
                    .get(1, async {
                        calls.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, String>(V(true))
                    })
                    .await
            }));
        }
        for task in tasks {
            assert_eq!(task.await.unwrap().unwrap(), Served::Fresh(V(true)));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(counters.coalesced.load(Ordering::Relaxed), 19);
    }

    #[tokio::test]
    async fn serves_stale_within_window_then_errors() {
        let counters = Arc::new(Counters::default());
        let cache = CachedLookup::<u32, V>::new(settings(300), counters.clone());
        let ok = cache.get(1, async { Ok::<_, String>(V(true)) }).await;
        assert_eq!(ok.unwrap(), Served::Fresh(V(true)));
        tokio::time::sleep(Duration::from_millis(150)).await;
        let stale = cache.get(1, async { Err::<V, _>("down".to_owned()) }).await;
        assert_eq!(stale.unwrap(), Served::Stale(V(true)));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let gone = cache.get(1, async { Err::<V, _>("down".to_owned()) }).await;
        assert_eq!(gone.unwrap_err().as_str(), "down");
        assert_eq!(counters.stale_serves.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cache = CachedLookup::<u32, V>::new(settings(0), Arc::default());
        assert!(cache.get(1, async { Err::<V, _>(()) }).await.is_err());
        let ok = cache.get(1, async { Ok::<_, ()>(V(false)) }).await;
        assert_eq!(ok.unwrap(), Served::Fresh(V(false)));
    }
}
