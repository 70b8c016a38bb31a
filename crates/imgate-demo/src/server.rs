//! The listener: hyper HTTP/1.1 with keep-alive, one task per connection, graceful shutdown.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};

use crate::app::App;
use crate::routes;

/// How long in-flight requests may take to finish once shutdown starts; idle keep-alive
/// connections close at once.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Pause after a failed `accept` (e.g. out of file descriptors), so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(10);

/// How the demo server is set up.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// The approved-publisher list (`conf/publishers.toml` format), re-read when it changes.
    /// `None` uses the built-in list, identical to the shipped file.
    pub publishers_file: Option<PathBuf>,
}

/// A running demo server. Dropping the handle stops it too, without waiting.
#[derive(Debug)]
pub struct DemoServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl DemoServer {
    /// Binds `addr` (use "127.0.0.1:0" for an ephemeral port) and starts serving on the current
    /// tokio runtime. Fails if the address cannot be bound or the publishers file cannot be
    /// loaded.
    pub async fn start(addr: SocketAddr, options: DemoOptions) -> io::Result<DemoServer> {
        let app = Arc::new(App::new(options.publishers_file)?);
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(serve(listener, app, stopped));
        Ok(DemoServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The bound address (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and closes connections: idle ones at once, busy ones after their
    /// current request (or after a short grace period).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            // The server task may already be gone; nothing to stop then.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // A panic in the accept loop has nothing left to clean up.
            let _ = task.await;
        }
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn serve(listener: TcpListener, app: Arc<App>, mut stopped: oneshot::Receiver<()>) {
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        .pipeline_flush(true);
    let graceful = GracefulShutdown::new();
    let mut connections = JoinSet::new();

    loop {
        tokio::select! {
            // A send or a dropped handle both mean stop.
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    // Small JSON responses: do not let Nagle hold them back.
                    let _ = stream.set_nodelay(true);
                    let app = Arc::clone(&app);
                    let service = service_fn(move |req| routes::handle(Arc::clone(&app), req));
                    let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                    connections.spawn(async move {
                        // A client that goes away mid-request is not the server's problem.
                        let _ = connection.await;
                    });
                }
                Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }

    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(SHUTDOWN_GRACE) => {}
    }
    connections.shutdown().await;
}

/// Blocking entry used by `imgate demo-upstream`: builds its own multi-thread tokio runtime
/// with `worker_threads` workers (at least one) and serves until SIGINT or SIGTERM.
pub fn run_blocking(
    addr: SocketAddr,
    options: DemoOptions,
    worker_threads: usize,
) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads.max(1))
        .thread_name("imgate-demo")
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let server = DemoServer::start(addr, options).await?;
        eprintln!(
            "imgate-demo: demo IM server listening on http://{}",
            server.local_addr()
        );
        let signal = wait_for_signal().await;
        server.shutdown().await;
        signal
    })
}

async fn wait_for_signal() -> io::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut terminate = signal(SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result,
            _ = terminate.recv() => Ok(()),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await
    }
}
