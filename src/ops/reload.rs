//! Hot reload: build a new policy snapshot and swap it in atomically.
//!
//! Triggers: SIGHUP, `POST /admin/reload`, and (when `[reload] watch = true`) a change to
//! the config file or a file it references. In-flight requests keep the snapshot they
//! started with (they hold an `Arc<Policy>`); an invalid new config is refused with its
//! `file:line:column`, and the old policy keeps serving. Settings bound at start
//! (listeners, upstream pool, threads, logging, admin, audit) need a restart; a reload
//! that changes them says so in the log and applies everything else.
//!
//! The file watcher is more careful than an operator's explicit trigger, because it also
//! sees files that are still being written (an editor that saves in place, a copy over a
//! slow disk), and a config cut off before a route's table is still valid TOML that
//! simply enforces less. So it applies a change only once the files have stayed the same
//! for a whole interval, and never applies one that takes enforcement away (a route, a
//! checked field, a restricted category, a mark rule): that needs SIGHUP or
//! `POST /admin/reload`, which say the operator means it.

use super::metrics::Metrics;
use crate::config::{self, Config, ConfigError, LoadOptions, Policy, RouteAction, ServerSettings};
use arc_swap::ArcSwap;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

/// Reloads one configuration file into a live policy handle.
pub struct Reloader {
    path: PathBuf,
    options: LoadOptions,
    policy: Arc<ArcSwap<Policy>>,
    running: ServerSettings,
    metrics: Metrics,
    /// Serialises reloads so two triggers cannot interleave.
    lock: Mutex<()>,
    /// `[reload] watch` of the config in force: a reload can switch the watcher off.
    watching: AtomicBool,
}

/// What a successful reload installed.
#[derive(Debug, Clone)]
pub struct Reloaded {
    pub sha256: String,
    /// Start-bound settings that changed and still need a restart.
    pub needs_restart: Vec<&'static str>,
}

impl Reloader {
    pub fn new(
        path: PathBuf,
        options: LoadOptions,
        policy: Arc<ArcSwap<Policy>>,
        running: ServerSettings,
        metrics: Metrics,
    ) -> Reloader {
        let watching = AtomicBool::new(running.reload.watch);
        Reloader {
            path,
            options,
            policy,
            running,
            metrics,
            lock: Mutex::new(()),
            watching,
        }
    }

    pub fn policy(&self) -> &Arc<ArcSwap<Policy>> {
        &self.policy
    }

    /// Loads the file again and swaps the policy in. `trigger` is for the log.
    pub fn reload(&self, trigger: &str) -> Result<Reloaded, ConfigError> {
        let _guard = self.serialise();
        let loaded = self.load(trigger)?;
        Ok(self.install(trigger, loaded))
    }

    /// What the file watcher does on a settled change: like [`Reloader::reload`], but a
    /// config that enforces less than the running one is held back (see the module doc).
    fn reload_watched(&self) {
        const TRIGGER: &str = "file change";
        let _guard = self.serialise();
        let Ok(loaded) = self.load(TRIGGER) else {
            return;
        };
        let removed = removed_enforcement(&self.policy.load(), &loaded.policy);
        if removed.is_empty() {
            self.install(TRIGGER, loaded);
            return;
        }
        self.metrics.reload(false);
        tracing::error!(
            trigger = TRIGGER,
            removed = ?removed,
            "configuration change not applied: it removes enforcement (a file still being written looks like this); \
             the previous policy stays active. If the change is meant, apply it with SIGHUP or POST /admin/reload"
        );
    }

    fn serialise(&self) -> MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Loads and compiles the config; a refusal is logged and counted here.
    fn load(&self, trigger: &str) -> Result<Config, ConfigError> {
        config::load_with(&self.path, &self.options).inspect_err(|error| {
            self.metrics.reload(false);
            tracing::error!(trigger, %error, "configuration reload refused; the previous policy stays active");
        })
    }

    /// Swaps a loaded config's policy in.
    fn install(&self, trigger: &str, loaded: Config) -> Reloaded {
        // An http approval source fills its in-memory list in the background:
        // wait (bounded) so marking does not briefly show nobody as approved.
        if let Some(approval) = &loaded.policy.approval {
            let ready =
                crate::runtime::background().block_on(approval.wait_ready(Duration::from_secs(5)));
            if !ready {
                tracing::warn!(trigger, "the approval list is not synced yet; marking shows nobody approved until it is");
            }
        }
        let needs_restart = restart_bound_changes(&self.running, &loaded.server);
        self.watching
            .store(loaded.server.reload.watch, Ordering::Relaxed);
        let sha256 = loaded.policy.source.sha256.clone();
        self.policy.store(Arc::new(loaded.policy));
        self.metrics.reload(true);
        if needs_restart.is_empty() {
            tracing::info!(trigger, sha256 = %sha256, "configuration reloaded");
        } else {
            tracing::warn!(
                trigger,
                sha256 = %sha256,
                needs_restart = ?needs_restart,
                "configuration reloaded; these settings only change on restart (or a pingora graceful upgrade)"
            );
        }
        Reloaded {
            sha256,
            needs_restart,
        }
    }

    /// Reloads on every SIGHUP, on `runtime`.
    pub fn watch_sighup(self: &Arc<Self>, runtime: &tokio::runtime::Handle) -> std::io::Result<()> {
        let mut hangups = {
            let _enter = runtime.enter();
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?
        };
        let reloader = Arc::clone(self);
        runtime.spawn(async move {
            while hangups.recv().await.is_some() {
                let reloader = Arc::clone(&reloader);
                let _ = tokio::task::spawn_blocking(move || reloader.reload("SIGHUP")).await;
            }
        });
        Ok(())
    }

    /// Reloads when the config file or a file it references changes (polled), once the
    /// change has settled: the files' sizes and modification times must be the same on two
    /// polls in a row, so a file caught halfway through a write is not loaded.
    pub fn watch_files(self: &Arc<Self>, runtime: &tokio::runtime::Handle, interval: Duration) {
        let reloader = Arc::clone(self);
        runtime.spawn(async move {
            let mut applied = fingerprint(&reloader.watched());
            let mut pending: Option<Fingerprint> = None;
            let mut ticker = tokio::time::interval(interval);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                if !reloader.watching.load(Ordering::Relaxed) {
                    continue;
                }
                let now = fingerprint(&reloader.watched());
                if now == applied {
                    pending = None;
                    continue;
                }
                if pending.as_ref() != Some(&now) {
                    // Changed since the last poll: wait for it to settle.
                    pending = Some(now);
                    continue;
                }
                applied = now;
                pending = None;
                let reloader = Arc::clone(&reloader);
                let _ = tokio::task::spawn_blocking(move || reloader.reload_watched()).await;
            }
        });
    }

    fn watched(&self) -> Vec<PathBuf> {
        let mut files = vec![self.path.clone()];
        files.extend(self.policy.load().source.files.iter().cloned());
        files
    }
}

type Fingerprint = Vec<Option<(SystemTime, u64)>>;

fn fingerprint(files: &[PathBuf]) -> Fingerprint {
    files
        .iter()
        .map(|f| {
            std::fs::metadata(f)
                .ok()
                .and_then(|m| Some((m.modified().ok()?, m.len())))
        })
        .collect()
}

/// The start-bound settings that differ between what runs and what was loaded.
fn restart_bound_changes(running: &ServerSettings, loaded: &ServerSettings) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if running.listen != loaded.listen || running.tls != loaded.tls || running.h2c != loaded.h2c {
        changed.push("listen");
    }
    if running.upstream != loaded.upstream {
        changed.push("upstream");
    }
    if running.threads != loaded.threads || running.grace_period != loaded.grace_period {
        changed.push("server");
    }
    if running.logging != loaded.logging {
        changed.push("logging");
    }
    if running.admin != loaded.admin {
        changed.push("admin");
    }
    if running.audit != loaded.audit {
        changed.push("audit");
    }
    // The watcher runs only if it was on at start, at the interval of then; switching it
    // off takes effect at once (the watcher checks before each poll).
    let watcher_needs_start = loaded.reload.watch
        && (!running.reload.watch || running.reload.interval != loaded.reload.interval);
    if watcher_needs_start {
        changed.push("reload");
    }
    changed
}

/// What `old` enforces that `new` does not, item by item: enforced or denied routes (by
/// name), checked registration fields and the agreement, restricted publishing categories,
/// mark rules.
fn removed_enforcement(old: &Policy, new: &Policy) -> Vec<String> {
    let kept = enforcement(new);
    enforcement(old).difference(&kept).cloned().collect()
}

fn enforcement(policy: &Policy) -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    for route in policy.routes.routes() {
        let name = &route.name;
        match &route.action {
            RouteAction::Pass => {}
            RouteAction::Deny => {
                items.insert(format!("route {name}: deny"));
            }
            RouteAction::Enforce(rules) => {
                if let Some(register) = &rules.register {
                    items.insert(format!("route {name}: agreement"));
                    for field in register.field_names() {
                        items.insert(format!("route {name}: field {field}"));
                    }
                }
                if let Some(publish) = &rules.publish {
                    for category in publish.restricted() {
                        items.insert(format!("route {name}: restricted category {category}"));
                    }
                }
                if rules.mark.is_some() {
                    items.insert(format!("route {name}: mark"));
                }
            }
        }
    }
    items
}
