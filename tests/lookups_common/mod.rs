//! Shared helpers for the lookups integration tests: a demo server, HTTP calls to its
//! hooks, and a build context on the test's runtime.
#![allow(dead_code)]

use imgate_demo::{DemoOptions, DemoServer};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub struct Demo {
    pub server: DemoServer,
    pub base: String,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    pub publishers: PathBuf,
}

pub const PUBLISHERS: &str =
    "[[publisher]]\naccount_id = \"u-xinhua\"\ncategories = [\"political_news\"]\n";

impl Demo {
    pub async fn start() -> Demo {
        let dir = tempfile::tempdir().unwrap();
        let publishers = dir.path().join("publishers.toml");
        std::fs::write(&publishers, PUBLISHERS).unwrap();
        let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let server = DemoServer::start(
            addr,
            DemoOptions {
                publishers_file: Some(publishers.clone()),
            },
        )
        .await
        .unwrap();
        let base = format!("http://{}", server.local_addr());
        Demo {
            server,
            base,
            client: reqwest::Client::new(),
            _dir: dir,
            publishers,
        }
    }

    pub fn ctx<'a>(&self, base_dir: &'a Path) -> imgate::lookups::BuildContext<'a> {
        imgate::lookups::BuildContext {
            base_dir,
            upstream_base: self.base.clone(),
            runtime: tokio::runtime::Handle::current(),
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn delete(&self, path: &str) -> u16 {
        let resp = self
            .client
            .delete(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        resp.status().as_u16()
    }

    /// `/__demo/stats` `requests.<name>`.
    pub async fn count(&self, name: &str) -> u64 {
        let stats: Value = self
            .client
            .get(format!("{}/__demo/stats", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        stats["requests"][name].as_u64().unwrap()
    }

    /// A real session token for a seed account.
    pub async fn login(&self, username: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/sessions",
                json!({"username": username, "password": format!("{username}-pass")}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn faults(&self, delay_ms: u64, status: Option<u16>) {
        let (code, body) = self
            .post(
                "/__demo/faults",
                json!({"publishers_delay_ms": delay_ms, "publishers_status": status}),
            )
            .await;
        assert_eq!(code, 200, "{body}");
    }
}

/// A request as pingora hands it to the gateway.
pub fn request(authorization: Option<&str>) -> pingora::http::RequestHeader {
    let mut req = pingora::http::RequestHeader::build("POST", b"/api/v1/posts", None).unwrap();
    if let Some(value) = authorization {
        req.insert_header("authorization", value).unwrap();
    }
    req
}

/// A port nothing listens on.
pub fn closed_port() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}
