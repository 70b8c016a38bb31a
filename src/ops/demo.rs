//! `imgate demo`: the bundled demo IM server and the gateway in one process.

use super::serve::{self, Overrides, StartError};
use crate::config::schema::LogFormat;
use std::net::SocketAddr;
use std::path::Path;

/// Starts the demo server on `upstream_listen` (its own thread and runtime), prints a few
/// ready-to-paste curl commands, then runs the gateway on `listen` in front of it.
pub fn run(
    config_path: &Path,
    listen: SocketAddr,
    upstream_listen: SocketAddr,
    admin_listen: Option<String>,
    log_format: Option<LogFormat>,
) -> Result<(), StartError> {
    // Fail on a bad config before starting anything.
    crate::config::load(config_path)?;
    let publishers = config_path
        .parent()
        .unwrap_or(Path::new("."))
        .join("publishers.toml");
    let options = imgate_demo::DemoOptions {
        publishers_file: publishers.is_file().then_some(publishers),
    };
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("demo-upstream".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = ready_tx.send(Err(e.to_string()));
                    return;
                }
            };
            runtime.block_on(async move {
                match imgate_demo::DemoServer::start(upstream_listen, options).await {
                    Ok(server) => {
                        let _ = ready_tx.send(Ok(server.local_addr()));
                        std::future::pending::<()>().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.to_string()));
                    }
                }
            });
        })
        .map_err(|e| StartError::Pingora(format!("cannot start the demo server: {e}")))?;
    let upstream = ready_rx
        .recv()
        .map_err(|e| StartError::Pingora(format!("the demo server did not start: {e}")))?
        .map_err(|e| {
            StartError::Pingora(format!(
                "the demo server did not start on {upstream_listen}: {e}"
            ))
        })?;

    print_tour(listen, upstream);
    serve::run(
        config_path,
        Overrides {
            listen: Some(listen.to_string()),
            upstream: Some(upstream.to_string()),
            admin_listen,
            log_format,
            upgrade: false,
        },
    )
}

fn print_tour(gateway: SocketAddr, upstream: SocketAddr) {
    let g = format!("http://{gateway}");
    println!(
        r#"imgate demo: gateway on {g}, demo IM server on http://{upstream}

Try:
  # log in as alice (an ordinary account) and as xinhua (an approved publisher)
  curl -s -X POST {g}/api/v1/sessions -H 'content-type: application/json' -d '{{"username":"alice","password":"alice-pass"}}'
  curl -s -X POST {g}/api/v1/sessions -H 'content-type: application/json' -d '{{"username":"xinhua","password":"xinhua-pass"}}'
  # read an account and the timeline through the gateway
  curl -s {g}/api/v1/accounts/u-mallory
  curl -s '{g}/api/v1/timeline?limit=5'
  # the demo server's test hooks are not reachable through the gateway
  curl -s {g}/__demo/stats
"#
    );
}
