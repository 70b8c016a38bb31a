//! The small tokio runtime that runs background work (approval-file polling, approval
//! list sync). pingora owns the request runtimes; background tasks need a home that
//! exists before pingora starts and survives policy reloads.

use std::sync::OnceLock;
use tokio::runtime::{Builder, Handle, Runtime};

static BACKGROUND: OnceLock<Runtime> = OnceLock::new();

/// The process-wide background runtime (one worker thread), started on first use.
pub fn background() -> &'static Handle {
    BACKGROUND
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("imgate-background")
                .enable_all()
                .build()
                .unwrap_or_else(|e| {
                    // Without a runtime no lookup can refresh: refuse to start at all.
                    eprintln!("imgate: cannot start the background runtime: {e}");
                    std::process::exit(70)
                })
        })
        .handle()
}
