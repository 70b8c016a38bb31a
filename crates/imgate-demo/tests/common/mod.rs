//! Shared helpers: a real demo server on an ephemeral port and a real HTTP client.
#![allow(dead_code)]

use imgate_demo::{DemoOptions, DemoServer};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub struct Demo {
    pub server: DemoServer,
    pub base: String,
    pub client: Client,
}

pub async fn start() -> Demo {
    start_with(DemoOptions::default()).await
}

pub async fn start_with(options: DemoOptions) -> Demo {
    let server = DemoServer::start("127.0.0.1:0".parse().unwrap(), options)
        .await
        .expect("demo server starts");
    let base = format!("http://{}", server.local_addr());
    Demo {
        server,
        base,
        client: Client::new(),
    }
}

impl Demo {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        let resp = self.get(path).await;
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub async fn post_raw(&self, path: &str, body: &'static str) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .post_json(
                "/api/v1/sessions",
                &json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn create_post(&self, token: &str, body: &Value) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(self.url("/api/v1/posts"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    pub async fn stats(&self) -> Value {
        self.get_json("/__demo/stats").await.1["requests"].clone()
    }

    pub async fn requests(&self, limit: usize) -> Vec<Value> {
        let (status, body) = self
            .get_json(&format!("/__demo/requests?limit={limit}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        body.as_array().unwrap().clone()
    }
}
