//! Approved publishers from the provider's approval service over HTTP.
//!
//! Two endpoints (the demo server has both):
//! - per account, for publish decisions: `GET {url}` with `{account_id}` filled in →
//!   `200 {"account_id", "approved": bool, "categories": [..]}` (`404` also means "not
//!   approved"). Answers are cached (`ttl`, `negative_ttl`, `max_entries`); concurrent
//!   lookups of one account make one request; when the service fails, the last answer is
//!   served for up to `stale_if_error` past its TTL, and after that the lookup is
//!   `approval.unavailable` (or "not approved" with `on_unavailable = "deny"`).
//! - the whole list, for response marking (which cannot wait for I/O): `GET {list_url}`
//!   → `200 {"publishers": [{"account_id", "categories"}], "version": n}`, fetched when the
//!   source is built and then every `sync_interval` on the lookups runtime. The copy is
//!   used only while its last successful sync is younger than `max_staleness`; after that
//!   (and before the first sync, and without a `list_url`) `is_approved_cached` answers
//!   `false` for everyone — marking fails safe: an approved account may briefly be shown
//!   unmarked, an unapproved one is never shown as approved. When a sync sees a new
//!   `version` (or the list has none), cached per-account answers are dropped, so a
//!   revocation reaches publish decisions within `sync_interval` instead of `ttl`.

use super::set::{PublisherSet, PublisherSetBuilder, SetError};
use super::{Approval, ApprovalError, ApprovalRegistry, OnUnavailable};
use crate::lookups::cache::{Answer, CacheSettings, CachedLookup, Served};
use crate::lookups::duration;
use crate::lookups::http_client::{resolve_url, FetchError, HttpClient};
use crate::lookups::stats::Counters;
use crate::lookups::task::AbortOnDrop;
use crate::lookups::{BuildContext, LookupConfigError, LookupStats};
use arc_swap::ArcSwapOption;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::HeaderMap;
use reqwest::Url;
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

/// `[approval] kind = "http"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// Per-account endpoint, containing `{account_id}` (filled in percent-encoded). A
    /// path starting with `/` is relative to the upstream.
    pub url: String,
    /// Whole-list endpoint, synced for response marking. Without it marking shows every
    /// account as not approved (a warning is logged when the source is built).
    #[serde(default)]
    pub list_url: Option<String>,
    /// Deadline for one request, connect to last body byte. Default `"1s"`.
    #[serde(default = "defaults::timeout", deserialize_with = "duration::parse")]
    pub timeout: Duration,
    /// How long an approval is cached. Default `"30s"`.
    #[serde(default = "defaults::ttl", deserialize_with = "duration::parse")]
    pub ttl: Duration,
    /// How long "not approved" is cached. Default `"30s"`.
    #[serde(default = "defaults::ttl", deserialize_with = "duration::parse")]
    pub negative_ttl: Duration,
    /// Most cached accounts. Default 100000.
    #[serde(default = "defaults::max_entries")]
    pub max_entries: u64,
    /// While the service fails, keep using an answer this long past its TTL. Default
    /// `"5m"`; `"0s"` turns it off.
    #[serde(
        default = "defaults::stale_if_error",
        deserialize_with = "duration::parse"
    )]
    pub stale_if_error: Duration,
    /// No answer and nothing stale: `"fail_closed"` (503 `approval.unavailable`, the
    /// default) or `"deny"` (treat the account as not approved).
    #[serde(default)]
    pub on_unavailable: OnUnavailable,
    /// How often the whole list is fetched. Default `"5s"`.
    #[serde(
        default = "defaults::sync_interval",
        deserialize_with = "duration::parse"
    )]
    pub sync_interval: Duration,
    /// How old the synced list may get (since its last successful sync) before marking
    /// treats everyone as not approved. Default `"60s"`.
    #[serde(
        default = "defaults::max_staleness",
        deserialize_with = "duration::parse"
    )]
    pub max_staleness: Duration,
}

mod defaults {
    use std::time::Duration;
    pub fn timeout() -> Duration {
        Duration::from_secs(1)
    }
    pub fn ttl() -> Duration {
        Duration::from_secs(30)
    }
    pub fn max_entries() -> u64 {
        100_000
    }
    pub fn stale_if_error() -> Duration {
        Duration::from_secs(300)
    }
    pub fn sync_interval() -> Duration {
        Duration::from_secs(5)
    }
    pub fn max_staleness() -> Duration {
        Duration::from_secs(60)
    }
}

/// Largest per-account answer read.
const MAX_ANSWER: usize = 64 * 1024;
/// Largest list read (a million accounts is about 60 MB of JSON).
const MAX_LIST: usize = 256 * 1024 * 1024;
/// The placeholder in `url`.
const PLACEHOLDER: &str = "{account_id}";
/// Characters kept as they are in the account-id path segment (RFC 3986 unreserved).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

impl Answer for Approval {
    fn is_negative(&self) -> bool {
        !self.is_approved()
    }
}

#[derive(Deserialize)]
struct OneAnswer {
    #[serde(default)]
    account_id: Option<String>,
    approved: bool,
    #[serde(default)]
    categories: Vec<String>,
}

#[derive(Deserialize)]
struct ListAnswer {
    publishers: Vec<ListEntry>,
    #[serde(default)]
    version: Option<u64>,
}

#[derive(Deserialize)]
struct ListEntry {
    account_id: String,
    categories: Vec<String>,
}

/// Only the version, to skip rebuilding the set when the list did not change.
#[derive(Deserialize)]
struct ListVersion {
    #[serde(default)]
    version: Option<u64>,
}

struct Snapshot {
    set: PublisherSet,
    version: Option<u64>,
}

struct Shared {
    url_prefix: String,
    url_suffix: String,
    list_url: Option<Url>,
    client: HttpClient,
    cache: CachedLookup<String, Approval>,
    on_unavailable: OnUnavailable,
    max_staleness: Duration,
    snapshot: ArcSwapOption<Snapshot>,
    /// When the last successful sync finished, as nanoseconds since `epoch` plus one
    /// (0: never). Atomic so the marking path reads it without a lock.
    last_sync: AtomicU64,
    epoch: Instant,
    ready: tokio::sync::watch::Sender<bool>,
    counters: Arc<Counters>,
}

/// The `http` approval registry.
pub struct HttpApproval {
    shared: Arc<Shared>,
    _sync: Option<AbortOnDrop>,
}

impl std::fmt::Debug for HttpApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpApproval")
            .field(
                "url",
                &format!(
                    "{}{PLACEHOLDER}{}",
                    self.shared.url_prefix, self.shared.url_suffix
                ),
            )
            .field("list_url", &self.shared.list_url.as_ref().map(Url::as_str))
            .field("cache", &self.shared.cache)
            .finish()
    }
}

impl HttpApproval {
    /// Checks the spec and starts the list sync (its first run is immediate).
    pub fn build(spec: &HttpSpec, ctx: &BuildContext) -> Result<Self, LookupConfigError> {
        let (prefix, suffix) = spec
            .url
            .split_once(PLACEHOLDER)
            .ok_or_else(|| LookupConfigError::new("url", format!("must contain {PLACEHOLDER}")))?;
        if suffix.contains(PLACEHOLDER) {
            return Err(LookupConfigError::new(
                "url",
                format!("{PLACEHOLDER} appears twice"),
            ));
        }
        // Validate the template with a sample id; resolve relative URLs once.
        const SAMPLE: &str = "imgate0sample0account0id";
        let sample = resolve_url(
            &format!("{prefix}{SAMPLE}{suffix}"),
            &ctx.upstream_base,
            "url",
        )?;
        let resolved = sample.as_str();
        let (url_prefix, url_suffix) = resolved
            .split_once(SAMPLE)
            .map(|(p, s)| (p.to_owned(), s.to_owned()))
            .ok_or_else(|| {
                LookupConfigError::new("url", "{account_id} must be in the path or query")
            })?;
        let list_url = spec
            .list_url
            .as_deref()
            .map(|raw| resolve_url(raw, &ctx.upstream_base, "list_url"))
            .transpose()?;
        for (key, value) in [
            ("sync_interval", spec.sync_interval),
            ("max_staleness", spec.max_staleness),
        ] {
            if value.is_zero() {
                return Err(LookupConfigError::new(key, "must be more than zero"));
            }
        }
        let settings = CacheSettings::checked(
            spec.ttl,
            spec.negative_ttl,
            spec.stale_if_error,
            spec.max_entries,
        )?;
        let counters = Arc::new(Counters::default());
        let shared = Arc::new(Shared {
            url_prefix,
            url_suffix,
            list_url,
            client: HttpClient::new(spec.timeout, "timeout")?,
            cache: CachedLookup::new(settings, counters.clone()),
            on_unavailable: spec.on_unavailable,
            max_staleness: spec.max_staleness,
            snapshot: ArcSwapOption::empty(),
            last_sync: AtomicU64::new(0),
            epoch: Instant::now(),
            ready: tokio::sync::watch::Sender::new(false),
            counters,
        });
        let sync = match &shared.list_url {
            Some(_) => {
                let task = ctx
                    .runtime
                    .spawn(sync_loop(Arc::downgrade(&shared), spec.sync_interval));
                Some(AbortOnDrop::new(task.abort_handle()))
            }
            None => {
                tracing::warn!(
                    "approval source has no list_url: response marking will show every account as not approved"
                );
                None
            }
        };
        Ok(HttpApproval {
            shared,
            _sync: sync,
        })
    }
}

impl Shared {
    fn account_url(&self, account_id: &str) -> Result<Url, FetchError> {
        let encoded = utf8_percent_encode(account_id, SEGMENT);
        Url::parse(&format!("{}{encoded}{}", self.url_prefix, self.url_suffix))
            .map_err(|e| FetchError::Malformed(format!("cannot build the URL: {e}")))
    }

    /// Asks the service about one account.
    async fn fetch(&self, account_id: &str) -> Result<Approval, FetchError> {
        Counters::bump(&self.counters.misses);
        let result = self.fetch_inner(account_id).await;
        if let Err(err) = &result {
            Counters::bump(&self.counters.errors);
            tracing::warn!(error = %err, "approval service lookup failed");
        }
        result
    }

    async fn fetch_inner(&self, account_id: &str) -> Result<Approval, FetchError> {
        let url = self.account_url(account_id)?;
        let (status, body) = self.client.get(url, json_accept(), MAX_ANSWER).await?;
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Approval::none());
        }
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let answer: OneAnswer = serde_json::from_slice(&body)
            .map_err(|e| FetchError::Malformed(format!("not an approval answer: {e}")))?;
        if answer
            .account_id
            .as_deref()
            .is_some_and(|id| id != account_id)
        {
            return Err(FetchError::Malformed(
                "the answer is about another account".into(),
            ));
        }
        if !answer.approved {
            return Ok(Approval::none());
        }
        let mut categories: Vec<String> = answer
            .categories
            .into_iter()
            .filter(|c| !c.is_empty())
            .collect();
        categories.sort_unstable();
        categories.dedup();
        Ok(Approval { categories })
    }

    /// Age of the last successful sync, if any.
    fn sync_age(&self) -> Option<Duration> {
        match self.last_sync.load(Ordering::Acquire) {
            0 => None,
            stamp => {
                let at = self.epoch + Duration::from_nanos(stamp - 1);
                Some(at.elapsed())
            }
        }
    }

    fn mark_synced(&self) {
        let nanos = u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_sync.store(nanos + 1, Ordering::Release);
        self.ready.send_replace(true);
    }

    /// Fetches the list once; on success the new set is in force.
    async fn sync_once(&self, list_url: Url) -> Result<(), FetchError> {
        let (status, body) = self.client.get(list_url, json_accept(), MAX_LIST).await?;
        if !status.is_success() {
            return Err(FetchError::Status(status.as_u16()));
        }
        let current_version = self.snapshot.load().as_ref().and_then(|s| s.version);
        // Parsing a large list is CPU work: keep it off the async workers.
        let parsed = tokio::task::spawn_blocking(move || parse_list(&body, current_version))
            .await
            .map_err(|e| FetchError::Malformed(format!("list parse task failed: {e}")))??;
        if let Some(snapshot) = parsed {
            tracing::debug!(accounts = snapshot.set.len(), version = ?snapshot.version,
                "approved-publisher list synced");
            // Decisions should not keep an answer the provider has since changed; drop
            // them first, so no lookup sees the new list with an old cached answer.
            self.cache.invalidate_fresh();
            self.snapshot.store(Some(Arc::new(snapshot)));
        }
        self.mark_synced();
        Counters::bump(&self.counters.reloads);
        Ok(())
    }
}

fn json_accept() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        reqwest::header::ACCEPT,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    headers
}

/// The new snapshot, or `None` when the list's version is the one already held.
fn parse_list(body: &[u8], current: Option<u64>) -> Result<Option<Snapshot>, FetchError> {
    let malformed =
        |e: serde_json::Error| FetchError::Malformed(format!("not a publisher list: {e}"));
    let version = serde_json::from_slice::<ListVersion>(body)
        .map_err(malformed)?
        .version;
    if version.is_some() && version == current {
        return Ok(None);
    }
    let list: ListAnswer = serde_json::from_slice(body).map_err(malformed)?;
    let mut builder = PublisherSetBuilder::with_capacity(list.publishers.len());
    for entry in &list.publishers {
        match builder.merge(
            &entry.account_id,
            entry.categories.iter().map(String::as_str),
        ) {
            Ok(()) => {}
            // An entry without categories approves nothing; an empty id names nobody.
            Err(SetError::EmptyCategories(_) | SetError::EmptyAccountId) => {}
            Err(err) => return Err(FetchError::Malformed(err.to_string())),
        }
    }
    Ok(Some(Snapshot {
        set: builder.build(),
        version: list.version,
    }))
}

/// Syncs the list every `every` (first at once) until the source is dropped.
async fn sync_loop(shared: Weak<Shared>, every: Duration) {
    let mut failing = false;
    loop {
        let Some(source) = shared.upgrade() else {
            return;
        };
        let Some(list_url) = source.list_url.clone() else {
            return;
        };
        match source.sync_once(list_url).await {
            Ok(()) => {
                if failing {
                    tracing::info!("approved-publisher list sync recovered");
                }
                failing = false;
            }
            Err(err) => {
                Counters::bump(&source.counters.reload_errors);
                let age = source.sync_age();
                // Warn on the first failure of a streak, then stay quiet until recovery.
                if !failing {
                    tracing::warn!(error = %err, last_success_age = ?age,
                        "approved-publisher list sync failed; keeping the previous list");
                }
                failing = true;
            }
        }
        drop(source);
        tokio::time::sleep(every).await;
    }
}

#[async_trait::async_trait]
impl ApprovalRegistry for HttpApproval {
    async fn categories(&self, account_id: &str) -> Result<Approval, ApprovalError> {
        let shared = &self.shared;
        // "." and ".." would be dot segments in the URL; no account has those ids.
        if account_id.is_empty() || account_id == "." || account_id == ".." {
            return Ok(Approval::none());
        }
        let result = shared
            .cache
            .get(account_id.to_owned(), shared.fetch(account_id))
            .await;
        let approval = match result {
            Ok(Served::Fresh(approval)) => approval,
            Ok(Served::Stale(approval)) => {
                tracing::debug!("serving a stale approval answer");
                approval
            }
            Err(err) => match shared.on_unavailable {
                OnUnavailable::FailClosed => {
                    return Err(ApprovalError::Unavailable(err.to_string().into()));
                }
                OnUnavailable::Deny => {
                    tracing::warn!(error = %err, "approval service unavailable; treating the account as not approved");
                    Approval::none()
                }
            },
        };
        if !approval.is_approved() {
            Counters::bump(&shared.counters.negatives);
        }
        Ok(approval)
    }

    fn is_approved_cached(&self, account_id: &str) -> bool {
        let shared = &self.shared;
        let fresh_enough = shared
            .sync_age()
            .is_some_and(|age| age <= shared.max_staleness);
        fresh_enough
            && shared
                .snapshot
                .load()
                .as_ref()
                .is_some_and(|s| s.set.is_approved(account_id))
    }

    async fn wait_ready(&self, timeout: Duration) -> bool {
        if self.shared.list_url.is_none() {
            return true;
        }
        let mut ready = self.shared.ready.subscribe();
        tokio::time::timeout(timeout, ready.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    fn stats(&self) -> LookupStats {
        let shared = &self.shared;
        let entries = match &*shared.snapshot.load() {
            Some(snapshot) => snapshot.set.len() as u64,
            None => shared.cache.entry_count(),
        };
        shared.counters.snapshot(entries, shared.sync_age())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_parsing_skips_unchanged_versions() {
        let body = br#"{"publishers":[{"account_id":"u-x","categories":["political_news"]},{"account_id":"u-y","categories":[]}],"version":3}"#;
        let snapshot = parse_list(body, None).unwrap().unwrap();
        assert!(snapshot.set.is_approved("u-x") && !snapshot.set.is_approved("u-y"));
        assert_eq!(snapshot.version, Some(3));
        assert!(parse_list(body, Some(3)).unwrap().is_none());
        assert!(parse_list(b"{\"publishers\": 1}", None).is_err());
    }

    #[test]
    fn account_ids_are_one_encoded_segment() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let ctx = BuildContext {
            base_dir: std::path::Path::new("."),
            upstream_base: "http://127.0.0.1:9".into(),
            runtime: rt.handle().clone(),
        };
        let spec: HttpSpec =
            toml::from_str("url = \"/api/v1/internal/publishers/{account_id}?v=1\"").unwrap();
        let source = HttpApproval::build(&spec, &ctx).unwrap();
        let url = source.shared.account_url("u-a/../b c?").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/api/v1/internal/publishers/u-a%2F..%2Fb%20c%3F?v=1"
        );
        let bad: HttpSpec = toml::from_str("url = \"/api/v1/internal/publishers\"").unwrap();
        assert_eq!(HttpApproval::build(&bad, &ctx).unwrap_err().key, "url");
        // No list: marking shows nobody as approved.
        assert!(!source.is_approved_cached("u-xinhua"));
    }
}
