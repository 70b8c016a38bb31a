//! Hot reload: build a new policy snapshot and swap it in atomically.
//!
//! Triggers: SIGHUP, `POST /admin/reload`, and (when `[reload] watch = true`) a change to
//! the config file or a file it references. In-flight requests keep the snapshot they
//! started with (they hold an `Arc<Policy>`); an invalid new config is refused with its
//! `file:line:column`, and the old policy keeps serving. Settings bound at start
//! (listeners, upstream pool, threads, logging, admin, audit) need a restart; a reload
//! that changes them says so in the log and applies everything else.

use super::metrics::Metrics;
use crate::config::{self, ConfigError, LoadOptions, Policy, ServerSettings};
use arc_swap::ArcSwap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
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
        Reloader {
            path,
            options,
            policy,
            running,
            metrics,
            lock: Mutex::new(()),
        }
    }

    pub fn policy(&self) -> &Arc<ArcSwap<Policy>> {
        &self.policy
    }

    /// Loads the file again and swaps the policy in. `trigger` is for the log.
    pub fn reload(&self, trigger: &str) -> Result<Reloaded, ConfigError> {
        let _guard = self
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match config::load_with(&self.path, &self.options) {
            Ok(loaded) => {
                // An http approval source fills its in-memory list in the background:
                // wait (bounded) so marking does not briefly show nobody as approved.
                if let Some(approval) = &loaded.policy.approval {
                    let ready = crate::runtime::background()
                        .block_on(approval.wait_ready(Duration::from_secs(5)));
                    if !ready {
                        tracing::warn!(trigger, "the approval list is not synced yet; marking shows nobody approved until it is");
                    }
                }
                let needs_restart = restart_bound_changes(&self.running, &loaded.server);
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
                Ok(Reloaded {
                    sha256,
                    needs_restart,
                })
            }
            Err(error) => {
                self.metrics.reload(false);
                tracing::error!(trigger, %error, "configuration reload refused; the previous policy stays active");
                Err(error)
            }
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

    /// Reloads when the config file or a file it references changes (polled).
    pub fn watch_files(self: &Arc<Self>, runtime: &tokio::runtime::Handle, interval: Duration) {
        let reloader = Arc::clone(self);
        runtime.spawn(async move {
            let mut seen = fingerprint(&reloader.watched());
            let mut ticker = tokio::time::interval(interval);
            ticker.tick().await;
            loop {
                ticker.tick().await;
                let now = fingerprint(&reloader.watched());
                if now != seen {
                    seen = now;
                    let reloader = Arc::clone(&reloader);
                    let _ =
                        tokio::task::spawn_blocking(move || reloader.reload("file change")).await;
                }
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
    changed
}
