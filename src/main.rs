//! The `imgate` binary: the ready gateway, its checks, and the demo.

use clap::Parser;
use imgate::config;
use imgate::ops::cli::{Cli, Command};
use imgate::ops::serve::{self, Overrides};
use std::process::ExitCode;

/// mimalloc instead of glibc malloc: the gateway allocates many small, short-lived
/// buffers per request, and the load bench showed malloc/free at ~11% of CPU.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check { config: path } => match config::load(&path) {
            Ok(loaded) => {
                println!(
                    "{}: OK ({} routes, sha256 {})",
                    path.display(),
                    loaded.policy.routes.routes().len(),
                    &loaded.policy.source.sha256[..12]
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(2)
            }
        },
        Command::Run {
            config: path,
            log_format,
            admin_listen,
            upgrade,
        } => {
            let overrides = Overrides {
                log_format: log_format.map(Into::into),
                admin_listen,
                upgrade,
                ..Overrides::default()
            };
            fail(serve::run(&path, overrides))
        }
        Command::Demo {
            listen,
            upstream_listen,
            config: path,
            log_format,
            admin_listen,
        } => fail(imgate::ops::demo::run(
            &path,
            listen,
            upstream_listen,
            admin_listen,
            log_format.map(Into::into),
        )),
        Command::Learn(args) => report(imgate::ops::classify_cli::run_learn(&args), "learn"),
        Command::Eval(args) => report(imgate::ops::classify_cli::run_eval(&args), "eval"),
        Command::BaselineProxy {
            listen,
            upstream,
            threads,
            write_buffer,
        } => imgate::ops::baseline::run(listen, upstream, threads, write_buffer),
        Command::DemoUpstream {
            listen,
            publishers,
            threads,
        } => {
            let options = imgate_demo::DemoOptions {
                publishers_file: publishers.is_file().then_some(publishers),
            };
            match imgate_demo::run_blocking(listen, options, threads.max(1)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("imgate demo-upstream: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn fail(result: Result<(), serve::StartError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

fn report(result: Result<(), Box<dyn std::error::Error>>, command: &str) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("imgate {command}: {e}");
            ExitCode::FAILURE
        }
    }
}
