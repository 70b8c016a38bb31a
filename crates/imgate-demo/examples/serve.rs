//! Runs the demo IM server alone, for manual testing and load measurements:
//!
//! ```text
//! cargo run --release -p imgate-demo --example serve -- [ADDR] [WORKER_THREADS] [PUBLISHERS_FILE]
//! ```
//!
//! Defaults: `127.0.0.1:8081`, 1 worker thread, the built-in publisher list.

use std::net::SocketAddr;
use std::process::ExitCode;

use imgate_demo::{run_blocking, DemoOptions};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = match args.next().as_deref().unwrap_or("127.0.0.1:8081").parse() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("bad address: {err}");
            return ExitCode::from(2);
        }
    };
    let workers: usize = match args.next().as_deref().unwrap_or("1").parse() {
        Ok(n) => n,
        Err(err) => {
            eprintln!("bad worker count: {err}");
            return ExitCode::from(2);
        }
    };
    let options = DemoOptions {
        publishers_file: args.next().map(Into::into),
    };
    match run_blocking(addr, options, workers) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("imgate-demo: {err}");
            ExitCode::FAILURE
        }
    }
}
