//! The state shared by every connection.

use std::path::PathBuf;

use crate::approvals::{Approvals, LoadError};
use crate::log::RequestLog;
use crate::stats::Stats;
use crate::store::Store;

/// Everything a request handler may touch.
pub struct App {
    pub store: Store,
    pub approvals: Approvals,
    pub log: RequestLog,
    pub stats: Stats,
}

impl App {
    pub fn new(publishers_file: Option<PathBuf>) -> Result<Self, LoadError> {
        Ok(App {
            store: Store::new(),
            approvals: Approvals::new(publishers_file)?,
            log: RequestLog::default(),
            stats: Stats::default(),
        })
    }

    /// `POST /__demo/reset`: seed accounts only, no sessions or posts, zeroed counters, an
    /// empty request log, no faults, and the approval list as its source has it.
    pub fn reset(&self) {
        self.store.reset();
        self.stats.reset();
        self.log.clear();
        self.approvals.reset();
    }
}
