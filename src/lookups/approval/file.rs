//! Approved publishers from a file (TOML as `conf/publishers.toml`, or CSV), reloaded
//! without a restart when it changes.
//!
//! The file must be valid when the source is built. Afterwards a poller on the lookups
//! runtime `stat`s it every `poll_interval` and re-reads it when its modification time,
//! size or inode changes (editors that write a new file and rename it change the inode;
//! in-place writes change mtime/size). A new version that cannot be read or parsed is
//! logged with `file:line:column` and the previous set stays in force: an operator
//! mid-edit must not revoke — or approve — everybody. The set is swapped whole
//! (`ArcSwap`), so lookups never see half a file.

use super::parse::{parse_csv, parse_toml, ParseError};
use super::set::PublisherSet;
use super::{Approval, ApprovalError, ApprovalRegistry};
use crate::lookups::duration;
use crate::lookups::stats::Counters;
use crate::lookups::task::AbortOnDrop;
use crate::lookups::{BuildContext, LookupConfigError, LookupStats};
use arc_swap::ArcSwap;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant, SystemTime};

/// `[approval] kind = "file"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    /// The list, relative to the config file, e.g. `"publishers.toml"`.
    pub path: PathBuf,
    /// `"toml"` or `"csv"`. Default: from the extension (`.toml`, `.csv`).
    #[serde(default)]
    pub format: Option<FileFormat>,
    /// How often the file is checked for changes. Default `"1s"`.
    #[serde(
        default = "default_poll_interval",
        deserialize_with = "duration::parse"
    )]
    pub poll_interval: Duration,
}

/// The list formats (see the `parse` module for their grammar).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    /// `[[publisher]]` tables with `account_id` and `categories`.
    Toml,
    /// `account_id,category[;category]` per line.
    Csv,
}

fn default_poll_interval() -> Duration {
    Duration::from_secs(1)
}

/// Identity of one version of the file, as cheap to get as a `stat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl FileStamp {
    fn of(meta: &std::fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        FileStamp {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        }
    }
}

/// Why a version of the file was not used.
#[derive(Debug, thiserror::Error)]
pub enum FileLoadError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Displayed as `file:line:column: message`.
    #[error("{}:{source}", path.display())]
    Parse {
        path: PathBuf,
        #[source]
        source: ParseError,
    },
}

struct Loaded {
    set: PublisherSet,
    stamp: FileStamp,
    loaded_at: Instant,
}

/// Reads and parses one version, with the stamp taken before reading: if the file
/// changes while it is read, the next `stat` differs and it is read again, so a torn
/// read never sticks.
fn load(path: &Path, format: FileFormat) -> Result<Loaded, FileLoadError> {
    let io = |source| FileLoadError::Io {
        path: path.to_owned(),
        source,
    };
    let stamp = FileStamp::of(&std::fs::metadata(path).map_err(io)?);
    let text = std::fs::read_to_string(path).map_err(io)?;
    let set = match format {
        FileFormat::Toml => parse_toml(&text),
        FileFormat::Csv => parse_csv(&text),
    }
    .map_err(|source| FileLoadError::Parse {
        path: path.to_owned(),
        source,
    })?;
    Ok(Loaded {
        set,
        stamp,
        loaded_at: Instant::now(),
    })
}

struct Shared {
    path: PathBuf,
    format: FileFormat,
    current: ArcSwap<Loaded>,
    counters: Counters,
}

/// The `file` approval registry.
pub struct FileApproval {
    shared: Arc<Shared>,
    _poller: AbortOnDrop,
}

impl std::fmt::Debug for FileApproval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileApproval")
            .field("path", &self.shared.path)
            .field("format", &self.shared.format)
            .field("accounts", &self.shared.current.load().set.len())
            .finish()
    }
}

impl FileApproval {
    /// Loads the file (an invalid file is a config error) and starts the poller.
    pub fn build(spec: &FileSpec, ctx: &BuildContext) -> Result<Self, LookupConfigError> {
        let path = ctx.resolve_path(&spec.path);
        let format = match spec.format {
            Some(format) => format,
            None => match path.extension().and_then(|e| e.to_str()) {
                Some(ext) if ext.eq_ignore_ascii_case("toml") => FileFormat::Toml,
                Some(ext) if ext.eq_ignore_ascii_case("csv") => FileFormat::Csv,
                _ => {
                    return Err(LookupConfigError::new(
                        "format",
                        format!(
                            "cannot tell the format of {} from its extension: set format = \"toml\" or \"csv\"",
                            path.display()
                        ),
                    ))
                }
            },
        };
        if spec.poll_interval.is_zero() {
            return Err(LookupConfigError::new(
                "poll_interval",
                "must be more than zero",
            ));
        }
        let loaded = load(&path, format).map_err(|e| match e {
            FileLoadError::Parse { path, source } => LookupConfigError {
                in_file: Some((path, source.line, source.column)),
                ..LookupConfigError::new("path", source.message)
            },
            io => LookupConfigError::new("path", io.to_string()),
        })?;
        let stamp = loaded.stamp;
        let shared = Arc::new(Shared {
            path,
            format,
            current: ArcSwap::from_pointee(loaded),
            counters: Counters::default(),
        });
        let task = ctx
            .runtime
            .spawn(poll(Arc::downgrade(&shared), stamp, spec.poll_interval));
        Ok(FileApproval {
            shared,
            _poller: AbortOnDrop::new(task.abort_handle()),
        })
    }
}

/// Re-reads the file when its stamp changes, until the source is dropped.
async fn poll(shared: Weak<Shared>, mut seen: FileStamp, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    // Whether the last stat failed, to warn once per disappearance, not every tick.
    let mut missing = false;
    loop {
        ticks.tick().await;
        let Some(source) = shared.upgrade() else {
            return;
        };
        let stamp = match tokio::fs::metadata(&source.path).await {
            Ok(meta) => FileStamp::of(&meta),
            Err(err) => {
                if !missing {
                    tracing::warn!(file = %source.path.display(), error = %err,
                        "publisher list unreadable; keeping the previous list");
                    Counters::bump(&source.counters.reload_errors);
                    missing = true;
                }
                continue;
            }
        };
        if stamp == seen && !missing {
            continue;
        }
        missing = false;
        let (path, format) = (source.path.clone(), source.format);
        match tokio::task::spawn_blocking(move || load(&path, format)).await {
            Ok(Ok(loaded)) => {
                seen = loaded.stamp;
                tracing::info!(file = %source.path.display(), accounts = loaded.set.len(),
                    "publisher list reloaded");
                source.current.store(Arc::new(loaded));
                Counters::bump(&source.counters.reloads);
            }
            Ok(Err(err)) => {
                // Do not re-parse the same broken version every tick; the next change
                // is read again.
                seen = stamp;
                tracing::warn!(error = %err, "publisher list not reloaded; keeping the previous list");
                Counters::bump(&source.counters.reload_errors);
            }
            Err(err) => {
                tracing::error!(error = %err, "publisher list reload task failed");
                Counters::bump(&source.counters.reload_errors);
            }
        }
    }
}

#[async_trait::async_trait]
impl ApprovalRegistry for FileApproval {
    async fn categories(&self, account_id: &str) -> Result<Approval, ApprovalError> {
        let counters = &self.shared.counters;
        Counters::bump(&counters.hits);
        let approval = self.shared.current.load().set.get(account_id);
        if !approval.is_approved() {
            Counters::bump(&counters.negatives);
        }
        Ok(approval)
    }

    fn is_approved_cached(&self, account_id: &str) -> bool {
        self.shared.current.load().set.is_approved(account_id)
    }

    fn stats(&self) -> LookupStats {
        let current = self.shared.current.load();
        self.shared
            .counters
            .snapshot(current.set.len() as u64, Some(current.loaded_at.elapsed()))
    }

    fn granted_categories(&self) -> Option<Vec<String>> {
        let current = self.shared.current.load();
        Some(current.set.category_names().map(str::to_owned).collect())
    }
}
