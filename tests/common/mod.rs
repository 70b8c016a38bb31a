//! Integration harness: the real demo IM server and the real `imgate` binary on
//! ephemeral loopback ports, driven by real HTTP clients.

#![allow(dead_code)]

pub mod http;

use serde_json::Value;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A demo server plus a gateway process in front of it; both stop on drop.
pub struct Harness {
    pub upstream: SocketAddr,
    pub gateway: SocketAddr,
    pub admin: SocketAddr,
    pub dir: tempfile::TempDir,
    child: Option<Child>,
    demo: Option<imgate_demo::DemoServer>,
    runtime: tokio::runtime::Runtime,
    /// The gateway's `RUST_LOG`.
    rust_log: &'static str,
}

/// The project's shipped `conf/` folder.
pub fn conf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("conf")
}

/// A free loopback port for a process the harness starts. Ports come from a per-process
/// counter below the kernel's ephemeral range (which the demo server and every client
/// connection use), so two gateways started by parallel tests never race for the same
/// port, and each candidate is checked by binding it first.
pub fn free_port() -> SocketAddr {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 10_000 + (std::process::id() % 200) as u16 * 100;
    loop {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 2_000;
        let port = base.wrapping_add(offset);
        if !(1024..32_000).contains(&port) {
            continue;
        }
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener.local_addr().expect("local addr");
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read conf dir") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy conf file");
        }
    }
}

impl Harness {
    /// The shipped configuration, pointed at fresh ports.
    pub fn start() -> Harness {
        Self::start_with(|_| {})
    }

    /// The shipped configuration, edited by `edit` (which receives the TOML text after
    /// the addresses were replaced).
    pub fn start_with(edit: impl FnOnce(&mut String)) -> Harness {
        Self::start_with_files(&[], edit)
    }

    /// Like [`Harness::start_with`], also writing `files` (relative to the config folder)
    /// before the gateway starts.
    pub fn start_with_files(files: &[(&str, &[u8])], edit: impl FnOnce(&mut String)) -> Harness {
        Self::start_inner(files, edit, None, "info")
    }

    /// The shipped configuration with the gateway's `RUST_LOG` set to `rust_log`.
    pub fn start_logging(rust_log: &'static str) -> Harness {
        Self::start_inner(&[], |_| {}, None, rust_log)
    }

    /// The shipped configuration in front of `upstream` (some other server) instead of
    /// the demo server.
    pub fn start_with_upstream(upstream: SocketAddr) -> Harness {
        Self::start_inner(&[], |_| {}, Some(upstream), "info")
    }

    /// [`Harness::start_with_upstream`] with the configuration edited by `edit`.
    pub fn start_with_upstream_edited(
        upstream: SocketAddr,
        edit: impl FnOnce(&mut String),
    ) -> Harness {
        Self::start_inner(&[], edit, Some(upstream), "info")
    }

    fn start_inner(
        files: &[(&str, &[u8])],
        edit: impl FnOnce(&mut String),
        custom_upstream: Option<SocketAddr>,
        rust_log: &'static str,
    ) -> Harness {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        let dir = tempfile::tempdir().expect("temp dir");
        copy_dir(&conf_dir(), dir.path());
        for (name, bytes) in files {
            std::fs::write(dir.path().join(name), bytes).expect("write extra file");
        }
        let (demo, upstream) = match custom_upstream {
            Some(addr) => (None, addr),
            None => {
                let demo = runtime
                    .block_on(imgate_demo::DemoServer::start(
                        "127.0.0.1:0".parse().expect("addr"),
                        imgate_demo::DemoOptions {
                            publishers_file: Some(dir.path().join("publishers.toml")),
                        },
                    ))
                    .expect("start the demo server");
                let addr = demo.local_addr();
                (Some(demo), addr)
            }
        };
        let gateway = free_port();
        let admin = free_port();
        let config_path = dir.path().join("imgate.toml");
        let mut text = std::fs::read_to_string(&config_path).expect("read config");
        let listen_line = "address = \"127.0.0.1:8080\"";
        let upstream_line = "addresses = [\"127.0.0.1:8081\"]";
        let admin_line = "address = \"127.0.0.1:9090\"";
        assert!(
            text.contains(listen_line) && text.contains(upstream_line) && text.contains(admin_line)
        );
        text = text
            .replace(listen_line, &format!("address = \"{gateway}\""))
            .replace(admin_line, &format!("address = \"{admin}\""))
            .replace(upstream_line, &format!("addresses = [\"{upstream}\"]"));
        edit(&mut text);
        std::fs::write(&config_path, &text).expect("write config");
        let mut harness = Harness {
            upstream,
            gateway,
            admin,
            dir,
            child: None,
            demo,
            runtime,
            rust_log,
        };
        harness.spawn_gateway();
        harness
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("imgate.toml")
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("gateway.log")
    }

    fn spawn_gateway(&mut self) {
        let log = std::fs::File::create(self.log_path()).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_imgate"))
            .args(["run", "--config"])
            .arg(self.config_path())
            .env("RUST_LOG", self.rust_log)
            .stdout(Stdio::from(log.try_clone().expect("clone log")))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start imgate");
        self.child = Some(child);
        wait_for_port(self.gateway, self.child.as_mut());
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.gateway, path)
    }

    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{}", self.admin, path)
    }

    pub fn upstream_url(&self, path: &str) -> String {
        format!("http://{}{}", self.upstream, path)
    }

    /// Sends raw bytes to the gateway and reads one response.
    pub fn raw(&self, request: &[u8]) -> http::RawResponse {
        http::exchange(self.gateway, request)
    }

    /// The last `n` requests the demo server received (oldest first).
    pub fn upstream_requests(&self, n: usize) -> Vec<Value> {
        let url = self.upstream_url(&format!("/__demo/requests?limit={n}"));
        let body = reqwest::blocking::get(url)
            .expect("demo requests")
            .text()
            .expect("body");
        let value: Value = serde_json::from_str(&body).expect("json");
        value.as_array().cloned().unwrap_or_default()
    }

    pub fn upstream_stats(&self) -> Value {
        let url = self.upstream_url("/__demo/stats");
        reqwest::blocking::get(url)
            .expect("demo stats")
            .json()
            .expect("json")
    }

    pub fn reset_upstream(&self) {
        reqwest::blocking::Client::new()
            .post(self.upstream_url("/__demo/reset"))
            .send()
            .expect("demo reset");
    }

    /// Everything the gateway has logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// Stops the demo server (to simulate an upstream outage).
    pub fn stop_upstream(&mut self) {
        if let Some(demo) = self.demo.take() {
            self.runtime.block_on(demo.shutdown());
        }
    }

    pub fn gateway_pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Sends the gateway `signal` (e.g. "TERM") and waits up to `within` for it to exit;
    /// its exit code, or `None` when it did not exit (it is killed then) or died by a signal.
    pub fn stop_gateway(&mut self, signal: &str, within: std::time::Duration) -> Option<i32> {
        let mut child = self.child.take()?;
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -{signal}");
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("wait for imgate") {
                return status.code();
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A scripted upstream: answers each request with the bytes `respond` returns for its
/// request line (e.g. `GET /x HTTP/1.1`), then closes the connection.
pub fn scripted_upstream(respond: fn(&str) -> Vec<u8>) -> SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind scripted upstream");
    let addr = listener.local_addr().expect("addr");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => break,
                        Ok(_) => {}
                    }
                }
                let response = respond(request_line.trim_end());
                let mut stream = reader.into_inner();
                let _ = stream.write_all(&response);
                let _ = stream.flush();
            });
        }
    });
    addr
}

/// Waits until `addr` accepts connections (or the child exits, or 30 s pass).
pub fn wait_for_port(addr: SocketAddr, mut child: Option<&mut Child>) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        if let Some(child) = child.as_mut() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("imgate exited before listening on {addr}: {status}");
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on {addr} after 30 s");
}

/// Runs `imgate` with `args` and returns (exit code, stdout, stderr).
pub fn imgate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_imgate"))
        .args(args)
        .output()
        .expect("run imgate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
