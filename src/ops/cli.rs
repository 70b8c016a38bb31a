//! The `imgate` command line.

use crate::config::schema::LogFormat;
use clap::{Parser, Subcommand, ValueEnum};
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "imgate",
    version,
    about = "Compliance gateway for instant-messaging HTTP APIs",
    long_about = "imgate sits in front of a legacy IM server's HTTP API as a reverse proxy and enforces \
                  real-name registration, political-news publishing approval and the verified-publisher \
                  marker, as configured in a TOML file."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormatArg {
    Text,
    Json,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Text => LogFormat::Text,
            LogFormatArg::Json => LogFormat::Json,
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway with a configuration file.
    Run {
        /// The configuration file.
        #[arg(long, short, default_value = "conf/imgate.toml")]
        config: PathBuf,
        /// Log format (overrides `[logging] format`).
        #[arg(long, value_enum)]
        log_format: Option<LogFormatArg>,
        /// Admin listener address (overrides `[admin] address`; "" turns it off).
        #[arg(long)]
        admin_listen: Option<String>,
        /// Graceful upgrade: take the listening sockets over from the running imgate
        /// (through `[server] upgrade_sock`), then send it SIGQUIT.
        #[arg(long)]
        upgrade: bool,
    },
    /// Validate a configuration file and exit: 0 when valid, 2 with `file:line:column: message` when not.
    Check {
        /// The configuration file.
        #[arg(long, short, default_value = "conf/imgate.toml")]
        config: PathBuf,
    },
    /// Run the demo: the bundled demo IM server and the gateway in front of it, in one process.
    Demo {
        /// Gateway listen address.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Demo IM server listen address (the gateway's upstream).
        #[arg(long, default_value = "127.0.0.1:8081")]
        upstream_listen: SocketAddr,
        /// The gateway's configuration file.
        #[arg(long, short, default_value = "conf/imgate.toml")]
        config: PathBuf,
        /// Log format (overrides `[logging] format`).
        #[arg(long, value_enum)]
        log_format: Option<LogFormatArg>,
        /// Admin listener address (overrides `[admin] address`; "" turns it off).
        #[arg(long)]
        admin_listen: Option<String>,
    },
    /// Run the demo IM server alone.
    DemoUpstream {
        /// Listen address.
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: SocketAddr,
        /// Approved-publisher list (TOML) served by the approval endpoints; re-read when it changes.
        #[arg(long, default_value = "conf/publishers.toml")]
        publishers: PathBuf,
        /// Worker threads.
        #[arg(long, default_value_t = 1)]
        threads: usize,
    },
    /// Build or refresh a category's linear model from a labelled JSONL corpus.
    Learn(super::classify_cli::LearnArgs),
    /// Precision, recall, F1, false-positive rate and throughput on a labelled JSONL corpus.
    Eval(super::classify_cli::EvalArgs),
    /// A plain pingora proxy with no policy (the load bench's overhead baseline).
    #[command(hide = true)]
    BaselineProxy {
        #[arg(long)]
        listen: SocketAddr,
        #[arg(long)]
        upstream: SocketAddr,
        #[arg(long, default_value_t = 1)]
        threads: usize,
        /// Per-connection write buffer towards clients, in bytes (the load bench passes
        /// imgate's `[listen] write_buffer`, so both proxies send alike). Default: pingora's.
        #[arg(long, default_value_t = 1460)]
        write_buffer: usize,
    },
}
