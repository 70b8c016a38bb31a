//! Extensions for the gateway's tests: validators, conditional and range requests, gzip,
//! chunked responses; plus connection handling (keep-alive, HEAD, shutdown).

mod common;

use std::io::Read;
use std::time::Duration;

use common::{start, Demo};
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn with_posts(n: usize) -> Demo {
    let demo = start().await;
    let token = demo.login("alice", "alice-pass").await;
    for i in 0..n {
        demo.create_post(
            &token,
            &json!({"content": format!("post number {i}"), "title": "t"}),
        )
        .await;
    }
    demo
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn reads_carry_validators_and_honour_if_none_match() {
    let demo = with_posts(3).await;
    for path in [
        "/api/v1/posts/p-1",
        "/api/v1/timeline",
        "/api/v1/timeline?limit=2",
        "/api/v1/accounts/u-alice",
    ] {
        let resp = demo.get(path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let etag = resp.headers()["etag"].to_str().unwrap().to_owned();
        assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
        let last_modified = resp.headers()["last-modified"].to_str().unwrap().to_owned();
        assert!(last_modified.ends_with(" GMT"));
        assert_eq!(resp.headers()["vary"], "Accept-Encoding");
        assert_eq!(resp.headers()["accept-ranges"], "bytes");
        let body = resp.bytes().await.unwrap();

        // Same body, same ETag.
        let again = demo.get(path).await;
        assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

        let resp = demo
            .client
            .get(demo.url(path))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED, "{path}");
        assert_eq!(resp.headers()["etag"].to_str().unwrap(), etag);
        assert!(resp.bytes().await.unwrap().is_empty());

        let resp = demo
            .client
            .get(demo.url(path))
            .header("if-none-match", format!("\"other\", W/{etag}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED, "weak comparison");

        let resp = demo
            .client
            .get(demo.url(path))
            .header("if-none-match", "\"something-else\"")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.bytes().await.unwrap(), body);

        let resp = demo
            .client
            .get(demo.url(path))
            .header("if-modified-since", &last_modified)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);
        let resp = demo
            .client
            .get(demo.url(path))
            .header("if-modified-since", "Thu, 01 Jan 1970 00:00:00 GMT")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn timeline_etag_changes_with_new_posts() {
    let demo = with_posts(1).await;
    let before = demo.get("/api/v1/timeline").await.headers()["etag"].clone();
    let token = demo.login("alice", "alice-pass").await;
    demo.create_post(&token, &json!({"content": "new"})).await;
    let resp = demo
        .client
        .get(demo.url("/api/v1/timeline"))
        .header("if-none-match", before.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_ne!(resp.headers()["etag"], before);
}

#[tokio::test]
async fn single_ranges_are_served_as_206() {
    let demo = with_posts(2).await;
    let full = demo.get("/api/v1/posts/p-1").await.bytes().await.unwrap();
    let etag = demo.get("/api/v1/posts/p-1").await.headers()["etag"].clone();
    let range = |value: &'static str| {
        demo.client
            .get(demo.url("/api/v1/posts/p-1"))
            .header("range", value)
    };

    let resp = range("bytes=0-9").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        format!("bytes 0-9/{}", full.len())
    );
    assert_eq!(resp.bytes().await.unwrap(), full.slice(0..10));

    let resp = range("bytes=-5").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.unwrap(), full.slice(full.len() - 5..));

    let resp = range("bytes=10-").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(resp.bytes().await.unwrap(), full.slice(10..));

    let resp = range("bytes=100000-").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        format!("bytes */{}", full.len())
    );

    // Several ranges: the whole body, as servers may.
    let resp = range("bytes=0-1,4-5").send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap(), full);

    // If-Range with the current ETag applies the range; a stale one gets everything.
    let resp = range("bytes=0-3")
        .header("if-range", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
    let resp = range("bytes=0-3")
        .header("if-range", "\"stale\"")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Timeline and accounts too.
    for path in ["/api/v1/timeline", "/api/v1/accounts/u-mallory"] {
        let resp = demo
            .client
            .get(demo.url(path))
            .header("range", "bytes=0-0")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT, "{path}");
        assert_eq!(&resp.bytes().await.unwrap()[..], b"{");
    }
}

#[tokio::test]
async fn gzip_is_negotiated_on_reads() {
    let demo = with_posts(30).await;
    for path in [
        "/api/v1/posts/p-1",
        "/api/v1/timeline?limit=30",
        "/api/v1/accounts/u-mallory",
    ] {
        let plain = demo.get(path).await;
        assert!(plain.headers().get("content-encoding").is_none());
        let plain_etag = plain.headers()["etag"].clone();
        let plain = plain.bytes().await.unwrap();

        let resp = demo
            .client
            .get(demo.url(path))
            .header("accept-encoding", "gzip, deflate")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-encoding"], "gzip");
        assert_eq!(resp.headers()["vary"], "Accept-Encoding");
        let gz_etag = resp.headers()["etag"].clone();
        assert_ne!(gz_etag, plain_etag, "each representation has its own ETag");
        let body = resp.bytes().await.unwrap();
        assert_eq!(gunzip(&body), plain);

        // 304 for the gzip representation's tag.
        let resp = demo
            .client
            .get(demo.url(path))
            .header("accept-encoding", "gzip")
            .header("if-none-match", gz_etag)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_MODIFIED);

        // A range applies to the gzip bytes.
        let resp = demo
            .client
            .get(demo.url(path))
            .header("accept-encoding", "gzip")
            .header("range", "bytes=0-1")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(&resp.bytes().await.unwrap()[..], &[0x1f, 0x8b]);

        let resp = demo
            .client
            .get(demo.url(path))
            .header("accept-encoding", "gzip;q=0, identity")
            .send()
            .await
            .unwrap();
        assert!(resp.headers().get("content-encoding").is_none());
    }
    // Writes and other endpoints are never compressed.
    let resp = demo
        .client
        .get(demo.url("/api/v1/internal/publishers"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert!(resp.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn x_demo_chunked_switches_framing_on_any_endpoint() {
    let demo = with_posts(40).await;
    let chunked = |req: reqwest::RequestBuilder| req.header("x-demo-chunked", "1");
    let token = demo.login("alice", "alice-pass").await;
    let requests = [
        chunked(demo.client.get(demo.url("/api/v1/timeline?limit=40"))),
        chunked(demo.client.get(demo.url("/api/v1/accounts/u-alice"))),
        chunked(demo.client.get(demo.url("/api/v1/internal/publishers"))),
        chunked(demo.client.get(demo.url("/__demo/stats"))),
        chunked(demo.client.get(demo.url("/nowhere"))),
        chunked(
            demo.client
                .post(demo.url("/api/v1/posts"))
                .bearer_auth(&token)
                .json(&json!({"content": "chunky"})),
        ),
    ];
    for req in requests {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.headers()["transfer-encoding"], "chunked");
        assert!(resp.headers().get("content-length").is_none());
        let body: Value = resp.json().await.unwrap();
        assert!(body.is_object());
    }
}

/// Sends raw HTTP/1.1 bytes and reads until the server closes (or 2 s pass).
async fn raw_exchange(demo: &Demo, request: &str) -> String {
    let mut stream = TcpStream::connect(demo.server.local_addr()).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn raw_chunked_framing_has_several_chunks_for_large_bodies() {
    let demo = with_posts(60).await;
    let text = raw_exchange(
        &demo,
        "GET /api/v1/timeline?limit=60 HTTP/1.1\r\nHost: x\r\nX-Demo-Chunked: 1\r\nConnection: close\r\n\r\n",
    )
    .await;
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "{head}"
    );
    assert!(
        body.starts_with("1000\r\n"),
        "4 KiB chunks: {}",
        &body[..20]
    );
    assert!(body.ends_with("0\r\n\r\n"));
}

#[tokio::test]
async fn keep_alive_and_head() {
    let demo = with_posts(1).await;
    let text = raw_exchange(
        &demo,
        "GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\n\r\n\
         HEAD /api/v1/posts/p-1 HTTP/1.1\r\nHost: x\r\n\r\n\
         GET /api/v1/timeline HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    // The HEAD answer has a length but no body: the next response follows its head directly.
    let head_at = text.find("HTTP/1.1 200 OK").unwrap();
    let second = &text[head_at + 1..];
    let second = &second[second.find("HTTP/1.1 200 OK").unwrap()..];
    let (head, rest) = second.split_once("\r\n\r\n").unwrap();
    assert!(head.to_ascii_lowercase().contains("content-length:"));
    assert!(rest.starts_with("HTTP/1.1 200 OK"), "{rest}");
    assert!(text.contains(r#"{"posts":[{"id":"p-1""#));
}

#[tokio::test]
async fn shutdown_closes_listener_and_idle_connections() {
    let demo = start().await;
    let addr = demo.server.local_addr();
    // An idle keep-alive connection.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(n > 0);

    tokio::time::timeout(Duration::from_secs(5), demo.server.shutdown())
        .await
        .expect("shutdown is prompt");
    // The idle connection is closed...
    let read = tokio::time::timeout(Duration::from_secs(2), idle.read(&mut buf))
        .await
        .expect("closed, not hanging");
    assert!(matches!(read, Ok(0) | Err(_)));
    // ...and nobody listens any more.
    assert!(TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let demo = start().await;
    let resp = demo
        .client
        .post(demo.url("/api/v1/accounts"))
        .body(vec![b' '; 5 * 1024 * 1024])
        .send()
        .await;
    // The server may close before the client finished sending; either way it refused.
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(demo.stats().await["register"], 1);
}
