//! The provider's approval service: who may publish in restricted categories.
//!
//! The list comes from a publishers file (re-read when its modification time, size or inode
//! changes, checked with one `stat` per request to the approval endpoints) or, without a file,
//! from the built-in list. Test hooks may approve and revoke accounts in memory; a later change
//! of the file replaces the whole list again, as a real provider's nightly sync would. Every
//! change bumps `version`, which clients use to know when to refetch.
//!
//! Faults (a delay and/or a forced status) live here too, because they only ever apply to the
//! approval endpoints: they let the gateway's tests prove its timeouts and stale-if-error.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use parking_lot::Mutex;
use serde::{Deserialize, Serialize};

use crate::publishers::{builtin_publishers, parse_publishers, Publisher, PublishersError};

/// Why the publishers file could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path}:{source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: PublishersError,
    },
}

impl From<LoadError> for io::Error {
    fn from(err: LoadError) -> Self {
        let kind = match &err {
            LoadError::Io { source, .. } => source.kind(),
            LoadError::Parse { .. } => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, err)
    }
}

/// Injected misbehaviour of the approval endpoints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Sleep this long before answering.
    #[serde(default)]
    pub publishers_delay_ms: u64,
    /// Answer with this status (and an error body) instead of the real answer.
    #[serde(default)]
    pub publishers_status: Option<u16>,
}

impl Faults {
    pub fn delay(&self) -> Option<Duration> {
        (self.publishers_delay_ms > 0).then(|| Duration::from_millis(self.publishers_delay_ms))
    }
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

struct Watched {
    path: PathBuf,
    /// `None` after a failed stat, so the file's return counts as a change.
    stamp: Option<FileStamp>,
}

struct State {
    file: Option<Watched>,
    list: Vec<Publisher>,
    version: u64,
    faults: Faults,
}

/// A consistent view of the list.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub publishers: Vec<Publisher>,
    pub version: u64,
}

/// The approval registry shared by all connections.
pub struct Approvals {
    state: Mutex<State>,
}

impl Approvals {
    /// Loads the file (or the built-in list). A missing or invalid file is an error here, at
    /// start, because serving an empty list would silently change the gateway's decisions.
    pub fn new(file: Option<PathBuf>) -> Result<Self, LoadError> {
        let (file, list) = match file {
            Some(path) => {
                let (stamp, list) = load(&path)?;
                (
                    Some(Watched {
                        path,
                        stamp: Some(stamp),
                    }),
                    list,
                )
            }
            None => (None, builtin_publishers()),
        };
        Ok(Approvals {
            state: Mutex::new(State {
                file,
                list,
                version: 1,
                faults: Faults::default(),
            }),
        })
    }

    /// Re-reads the file if it changed since the last look. A file that became unreadable or
    /// invalid keeps the last good list (an operator mid-edit must not revoke everybody).
    pub fn refresh(&self) {
        let Some(path) = self.state.lock().file.as_ref().map(|w| w.path.clone()) else {
            return;
        };
        // stat and read outside the lock; the list is swapped in under it.
        let stamp = std::fs::metadata(&path).ok().map(|m| FileStamp::of(&m));
        let mut state = self.state.lock();
        let Some(watched) = state.file.as_mut() else {
            return;
        };
        if watched.stamp == stamp {
            return;
        }
        watched.stamp = stamp;
        if stamp.is_none() {
            return;
        }
        drop(state);
        let loaded = load(&path);
        let mut state = self.state.lock();
        match loaded {
            Ok((stamp, list)) => {
                if let Some(watched) = state.file.as_mut() {
                    watched.stamp = Some(stamp);
                }
                state.list = list;
                state.version += 1;
            }
            Err(err) => eprintln!("imgate-demo: keeping the previous publisher list: {err}"),
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let state = self.state.lock();
        Snapshot {
            publishers: state.list.clone(),
            version: state.version,
        }
    }

    /// The categories an account is approved for, if any.
    pub fn lookup(&self, account_id: &str) -> Option<Vec<String>> {
        let state = self.state.lock();
        state
            .list
            .iter()
            .find(|p| p.account_id == account_id)
            .map(|p| p.categories.clone())
    }

    /// Approves an account (replacing its categories); bumps the version when anything changed.
    pub fn approve(&self, publisher: Publisher) -> Snapshot {
        let mut state = self.state.lock();
        let changed = match state
            .list
            .iter_mut()
            .find(|p| p.account_id == publisher.account_id)
        {
            Some(existing) if existing.categories == publisher.categories => false,
            Some(existing) => {
                existing.categories = publisher.categories;
                true
            }
            None => {
                state.list.push(publisher);
                true
            }
        };
        if changed {
            state.version += 1;
        }
        Snapshot {
            publishers: state.list.clone(),
            version: state.version,
        }
    }

    /// Revokes an approval. `None` when the account was not approved.
    pub fn revoke(&self, account_id: &str) -> Option<Snapshot> {
        let mut state = self.state.lock();
        let before = state.list.len();
        state.list.retain(|p| p.account_id != account_id);
        if state.list.len() == before {
            return None;
        }
        state.version += 1;
        Some(Snapshot {
            publishers: state.list.clone(),
            version: state.version,
        })
    }

    pub fn faults(&self) -> Faults {
        self.state.lock().faults
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.lock().faults = faults;
    }

    /// Back to the source's list (file or built-in) with no faults. The version keeps growing,
    /// and only moves when the list actually differs, so caches need not refetch for nothing.
    pub fn reset(&self) {
        let path = self.state.lock().file.as_ref().map(|w| w.path.clone());
        let reloaded = match &path {
            Some(path) => match load(path) {
                Ok((stamp, list)) => Some((Some(stamp), list)),
                Err(err) => {
                    eprintln!("imgate-demo: reset keeps the previous publisher list: {err}");
                    None
                }
            },
            None => Some((None, builtin_publishers())),
        };
        let mut state = self.state.lock();
        state.faults = Faults::default();
        if let Some((stamp, list)) = reloaded {
            if let (Some(watched), Some(stamp)) = (state.file.as_mut(), stamp) {
                watched.stamp = Some(stamp);
            }
            if state.list != list {
                state.list = list;
                state.version += 1;
            }
        }
    }
}

fn load(path: &Path) -> Result<(FileStamp, Vec<Publisher>), LoadError> {
    let io_err = |source| LoadError::Io {
        path: path.to_owned(),
        source,
    };
    // Stat before reading: if the file changes in between, the next stat differs and it is
    // read again, so a torn view never sticks.
    let stamp = FileStamp::of(&std::fs::metadata(path).map_err(io_err)?);
    let text = std::fs::read_to_string(path).map_err(io_err)?;
    let list = parse_publishers(&text).map_err(|source| LoadError::Parse {
        path: path.to_owned(),
        source,
    })?;
    Ok((stamp, list))
}
