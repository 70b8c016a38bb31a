//! Tracing setup: human-readable lines by default, JSON with `--log-format json` or
//! `[logging] format = "json"`. `RUST_LOG` overrides the configured level.

use crate::config::schema::LogFormat;
use std::io::IsTerminal;
use tracing::Level;
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls are ignored). Logs go to stderr.
pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // pingora's debug and trace output prints whole request heads (paths, queries,
    // headers) as the client sent them, unmasked: it stays off whatever `RUST_LOG` asks
    // for. Our own events mask what they print.
    let no_pingora_trace = filter_fn(|meta| {
        let verbose = matches!(*meta.level(), Level::DEBUG | Level::TRACE);
        !(verbose && meta.target().starts_with("pingora"))
    });
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .finish()
            .with(no_pingora_trace)
            .try_init(),
        LogFormat::Text => builder.finish().with(no_pingora_trace).try_init(),
    };
}
