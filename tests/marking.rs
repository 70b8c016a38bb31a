//! The verified-publisher marker end to end on the demo: every shape, spoofing, framing,
//! encodings, HTTP/1.0 and HEAD, keep-alive.

mod common;

use common::http::{request, Connection};
use common::Harness;
use serde_json::{json, Value};

/// Creates posts directly on the demo server (not through the gateway).
fn seed_posts(h: &Harness) {
    let client = reqwest::blocking::Client::new();
    for user in ["xinhua", "alice", "mallory"] {
        let login: Value = client
            .post(h.upstream_url("/api/v1/sessions"))
            .json(&json!({"username": user, "password": format!("{user}-pass")}))
            .send()
            .unwrap()
            .json()
            .unwrap();
        let token = login["token"].as_str().unwrap();
        for i in 0..3 {
            let resp = client
                .post(h.upstream_url("/api/v1/posts"))
                .bearer_auth(token)
                .json(&json!({"content": format!("post {i} by {user}")}))
                .send()
                .unwrap();
            assert_eq!(resp.status(), 201);
        }
    }
}

fn markers(body: &Value) -> Vec<(String, Value)> {
    body["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["author"]["id"].as_str().unwrap().to_owned(),
                p["author"]["verified_publisher"].clone(),
            )
        })
        .collect()
}

fn assert_marked(pairs: &[(String, Value)]) {
    assert!(!pairs.is_empty());
    for (id, marker) in pairs {
        let expected = id == "u-xinhua";
        assert_eq!(marker, &Value::Bool(expected), "{id}");
    }
}

#[test]
fn the_timeline_marks_every_author_and_overwrites_the_spoofed_marker() {
    let h = Harness::start();
    seed_posts(&h);
    let direct: Value = reqwest::blocking::get(h.upstream_url("/api/v1/timeline?limit=50"))
        .unwrap()
        .json()
        .unwrap();
    assert!(
        markers(&direct)
            .iter()
            .any(|(id, m)| id == "u-mallory" && m == &Value::Bool(true)),
        "demo spoofs"
    );
    for framing in [None, Some(("X-Demo-Chunked", "1"))] {
        let headers: Vec<(&str, &str)> = framing.into_iter().collect();
        let resp = h.raw(&request("GET", "/api/v1/timeline?limit=50", &headers, b""));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert!(resp.header("etag").is_none());
        // The gateway's own exchange answers with the marked body's exact length.
        assert_eq!(resp.header("transfer-encoding"), None);
        assert_eq!(
            resp.header("content-length"),
            Some(resp.body.len().to_string().as_str())
        );
        let body = resp.json();
        assert_eq!(body["posts"].as_array().unwrap().len(), 9);
        assert_marked(&markers(&body));
    }
}

/// `mark_exchange = "proxy"`: pingora's streaming path marks too, with chunked framing.
#[test]
fn the_proxy_path_marks_with_chunked_framing() {
    let h = Harness::start_with(|t| {
        *t = t.replace("mark_exchange = \"gateway\"", "mark_exchange = \"proxy\"");
    });
    seed_posts(&h);
    for framing in [None, Some(("X-Demo-Chunked", "1"))] {
        let headers: Vec<(&str, &str)> = framing.into_iter().collect();
        let resp = h.raw(&request("GET", "/api/v1/timeline?limit=50", &headers, b""));
        assert_eq!(resp.status, 200);
        assert!(resp.header("etag").is_none() && resp.header("content-length").is_none());
        assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
        assert_marked(&markers(&resp.json()));
    }
    // HTTP/1.0: close-delimited.
    let resp = h.raw(b"GET /api/v1/accounts/u-xinhua HTTP/1.0\r\nHost: g\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert!(resp.header("transfer-encoding").is_none() && resp.header("content-length").is_none());
    assert_eq!(resp.json()["account"]["verified_publisher"], true);
    // A created post is marked on this path too.
    let resp = h.raw(&request("GET", "/api/v1/posts/p-1", &[], b""));
    assert_eq!(resp.json()["post"]["author"]["verified_publisher"], true);
}

#[test]
fn single_post_created_post_and_account_responses_are_marked() {
    let h = Harness::start();
    seed_posts(&h);
    let resp = h.raw(&request("GET", "/api/v1/posts/p-1", &[], b""));
    assert_eq!(resp.json()["post"]["author"]["verified_publisher"], true);
    let resp = h.raw(&request("GET", "/api/v1/posts/p-7", &[], b""));
    assert_eq!(resp.json()["post"]["author"]["id"], "u-mallory");
    assert_eq!(resp.json()["post"]["author"]["verified_publisher"], false);
    for (id, expected) in [("u-xinhua", true), ("u-alice", false), ("u-mallory", false)] {
        let resp = h.raw(&request("GET", &format!("/api/v1/accounts/{id}"), &[], b""));
        assert_eq!(resp.status, 200);
        assert_eq!(
            resp.json()["account"]["verified_publisher"],
            expected,
            "{id}"
        );
    }
    let resp = h.raw(&request("GET", "/api/v1/accounts/u-nobody", &[], b""));
    assert_eq!(resp.status, 404, "{}", resp.text());
    let resp = h.raw(&request("GET", "/api/v1/posts/p-999", &[], b""));
    assert_eq!(resp.status, 404);
}

#[test]
fn untouched_parts_keep_their_bytes() {
    let h = Harness::start();
    let direct = reqwest::blocking::get(h.upstream_url("/api/v1/accounts/u-alice"))
        .unwrap()
        .text()
        .unwrap();
    let resp = h.raw(&request("GET", "/api/v1/accounts/u-alice", &[], b""));
    let marked = resp.text();
    let expected = direct
        .trim_end()
        .strip_suffix("}}")
        .map(|s| format!("{s},\"verified_publisher\":false}}}}"));
    assert_eq!(Some(marked.trim_end().to_owned()), expected);
}

#[test]
fn conditional_range_and_compressed_requests_never_yield_unmarked_bytes() {
    let h = Harness::start();
    let direct = reqwest::blocking::get(h.upstream_url("/api/v1/accounts/u-mallory")).unwrap();
    let etag = direct
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for headers in [
        vec![("If-None-Match", etag.as_str())],
        vec![("Range", "bytes=0-20")],
        vec![("If-Modified-Since", "Sun, 29 Nov 2099 00:00:00 GMT")],
        vec![("Accept-Encoding", "gzip")],
    ] {
        let resp = h.raw(&request("GET", "/api/v1/accounts/u-mallory", &headers, b""));
        assert_eq!(resp.status, 200, "{headers:?}");
        assert!(resp.header("content-encoding").is_none());
        assert_eq!(
            resp.json()["account"]["verified_publisher"],
            false,
            "{headers:?}"
        );
    }
}

#[test]
fn http10_head_and_keepalive() {
    let h = Harness::start();
    // HTTP/1.0: a length, and the connection kept when the client asks for it.
    let mut conn = Connection::open(h.gateway);
    for id in ["u-xinhua", "u-alice"] {
        conn.send(
            format!(
                "GET /api/v1/accounts/{id} HTTP/1.0\r\nHost: g\r\nConnection: keep-alive\r\n\r\n"
            )
            .as_bytes(),
        );
        let resp = conn.read_response(false);
        assert_eq!(resp.status, 200);
        assert!(resp.header("transfer-encoding").is_none());
        assert_eq!(
            resp.header("content-length"),
            Some(resp.body.len().to_string().as_str())
        );
        assert_eq!(
            resp.json()["account"]["verified_publisher"],
            id == "u-xinhua"
        );
    }
    // HEAD: no body, no stale length or validators.
    let resp = h.raw(&request("HEAD", "/api/v1/accounts/u-xinhua", &[], b""));
    assert_eq!(resp.status, 200);
    assert!(resp.header("etag").is_none());
    // HTTP/2 clients get the marked body too (no chunked framing on h2).
    let client = reqwest::blocking::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = client
        .get(h.url("/api/v1/accounts/u-mallory"))
        .send()
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let body: Value = resp.json().unwrap();
    assert_eq!(body["account"]["verified_publisher"], false);
    // Several requests on one connection.
    let mut conn = Connection::open(h.gateway);
    for id in ["u-xinhua", "u-alice", "u-mallory", "u-xinhua"] {
        conn.send(&request("GET", &format!("/api/v1/accounts/{id}"), &[], b""));
        let resp = conn.read_response(false);
        assert_eq!(
            resp.json()["account"]["verified_publisher"],
            id == "u-xinhua"
        );
    }
}

fn scripted(request_line: &str) -> Vec<u8> {
    let spoofed = br#"{"account":{"id":"u-mallory","verified_publisher":true}}"#;
    let head = |ct: &str, extra: &str, len: usize| {
        format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\n{extra}Content-Length: {len}\r\nConnection: close\r\n\r\n").into_bytes()
    };
    let path = request_line.split(' ').nth(1).unwrap_or("");
    let mut out;
    match path {
        "/api/v1/accounts/text" => {
            out = head("text/plain", "", spoofed.len());
            out.extend_from_slice(spoofed);
        }
        "/api/v1/accounts/gzip" => {
            let fake = b"\x1f\x8b\x08\x00\x00\x00\x00\x00";
            out = head("application/json", "Content-Encoding: gzip\r\n", fake.len());
            out.extend_from_slice(fake);
        }
        "/api/v1/accounts/huge" => {
            let body = format!(
                "{{\"account\":{{\"id\":\"u-mallory\",\"pad\":\"{}\"}}}}",
                " ".repeat(2 << 20)
            );
            out = head("application/json", "", body.len());
            out.extend_from_slice(body.as_bytes());
        }
        "/api/v1/accounts/huge-chunked" => {
            // 2.5 MiB of JSON in chunks, no length declared: over max_body only once read.
            out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
            let first = b"{\"account\":{\"pad\":\"";
            out.extend_from_slice(format!("{:x}\r\n", first.len()).as_bytes());
            out.extend_from_slice(first);
            let chunk = " ".repeat(64 * 1024);
            for _ in 0..40 {
                out.extend_from_slice(format!("\r\n{:x}\r\n", chunk.len()).as_bytes());
                out.extend_from_slice(chunk.as_bytes());
            }
            out.extend_from_slice(b"\r\n0\r\n\r\n");
        }
        "/api/v1/accounts/big" => {
            // 512 KiB of JSON: within max_body, several writes to the client.
            let body = format!(
                "{{\"account\":{{\"id\":\"u-mallory\",\"pad\":\"{}\"}}}}",
                " ".repeat(512 << 10)
            );
            out = head("application/json", "", body.len());
            out.extend_from_slice(body.as_bytes());
        }
        "/api/v1/accounts/close-delimited" => {
            out = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n"
                .to_vec();
            out.extend_from_slice(br#"{"account":{"id":"u-mallory","verified_publisher":true}}"#);
        }
        "/api/v1/accounts/text-close-delimited" => {
            out = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n"
                .to_vec();
            out.extend_from_slice(b"plain text until close");
        }
        "/api/v1/accounts/broken" => {
            let body = br#"{"account":{"id":"u-mallory","verified_publisher":true}"#;
            out = head("application/json", "", body.len());
            out.extend_from_slice(body);
        }
        _ => {
            out = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .to_vec();
        }
    }
    out
}

#[test]
fn unmarkable_upstream_answers_fail_safe() {
    let upstream = common::scripted_upstream(scripted);
    let h = Harness::start_with_upstream(upstream);
    // Not JSON: passed through untouched.
    let resp = h.raw(&request("GET", "/api/v1/accounts/text", &[], b""));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-type"), Some("text/plain"));
    assert!(resp.text().contains("\"verified_publisher\":true"));
    // Compressed despite `Accept-Encoding: identity`: replaced by a JSON 502.
    let resp = h.raw(&request("GET", "/api/v1/accounts/gzip", &[], b""));
    assert_eq!(
        (resp.status, resp.code()),
        (502, "mark.encoded_response".to_owned()),
        "{}",
        resp.text()
    );
    // Declared larger than max_body: a JSON 502.
    let resp = h.raw(&request("GET", "/api/v1/accounts/huge", &[], b""));
    assert_eq!(
        (resp.status, resp.code()),
        (502, "mark.response_too_large".to_owned())
    );
    // Unparseable JSON, and a body that grows over the limit without declaring it: the
    // gateway has not answered yet, so the client gets a clean JSON 502.
    let resp = h.raw(&request("GET", "/api/v1/accounts/broken", &[], b""));
    assert_eq!(
        (resp.status, resp.code()),
        (502, "mark.malformed_json".to_owned()),
        "{}",
        resp.text()
    );
    let resp = h.raw(&request("GET", "/api/v1/accounts/huge-chunked", &[], b""));
    assert_eq!(
        (resp.status, resp.code()),
        (502, "mark.response_too_large".to_owned())
    );
    // The access log, the audit log and the metrics record the code the client received.
    let logs = h.logs();
    for code in ["mark.encoded_response", "mark.response_too_large"] {
        assert!(
            logs.contains(&format!("decision=\"{code}\"")),
            "no {code} decision in\n{logs}"
        );
    }
    assert!(!logs.contains("mark.unmarkable"), "{logs}");
    // A JSON body that ends when the upstream closes: marked, with a length.
    let resp = h.raw(&request(
        "GET",
        "/api/v1/accounts/close-delimited",
        &[],
        b"",
    ));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["account"]["verified_publisher"], false);
    assert_eq!(
        resp.header("content-length"),
        Some(resp.body.len().to_string().as_str())
    );
    // Not JSON and close-delimited: relayed as it arrives, chunked for HTTP/1.1.
    let resp = h.raw(&request(
        "GET",
        "/api/v1/accounts/text-close-delimited",
        &[],
        b"",
    ));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("transfer-encoding"), Some("chunked"));
    assert_eq!(resp.text(), "plain text until close");
    // On pingora's path the same broken body aborts the response instead: never
    // delivered un-marked.
    let h = Harness::start_with_upstream_edited(upstream, |t| {
        *t = t.replace("mark_exchange = \"gateway\"", "mark_exchange = \"proxy\"");
    });
    let client = reqwest::blocking::Client::new();
    let outcome = client
        .get(h.url("/api/v1/accounts/broken"))
        .send()
        .and_then(|r| r.text());
    if let Ok(text) = outcome {
        assert!(
            !text.contains("\"verified_publisher\":true"),
            "un-marked body delivered: {text}"
        );
    }
}

/// A client that goes away while its marked answer is written is not the gateway's failure: no
/// `gateway.internal` decision, no ERROR line (pingora logged one with "status: 500").
#[test]
fn a_client_that_goes_away_is_not_an_internal_error() {
    use std::io::Write;
    let upstream = common::scripted_upstream(scripted);
    let h = Harness::start_with_upstream(upstream);
    for _ in 0..3 {
        let mut stream = std::net::TcpStream::connect(h.gateway).expect("connect");
        stream
            .write_all(b"GET /api/v1/accounts/big HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("request");
        drop(stream);
    }
    // The gateway reads the whole answer, then fails to write it.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let resp = h.raw(&request("GET", "/api/v1/accounts/big", &[], b""));
    assert_eq!(resp.status, 200);
    let logs = h.logs();
    assert!(logs.contains("path=/api/v1/accounts/big"), "{logs}");
    assert!(!logs.contains("gateway.internal"), "{logs}");
    assert!(!logs.contains("ERROR"), "{logs}");
}

/// An upstream that closes a kept-alive connection just as the next request arrives (the
/// race every pooled proxy meets): the gateway's own exchange sends the request again on
/// a fresh connection instead of answering 502.
#[test]
fn a_stale_pooled_upstream_connection_is_not_an_error() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                let read_head = |reader: &mut BufReader<std::net::TcpStream>| loop {
                    let mut line = String::new();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return false,
                        Ok(_) if line == "\r\n" => return true,
                        Ok(_) => {}
                    }
                };
                if !read_head(&mut reader) {
                    return;
                }
                let body = br#"{"account":{"id":"u-xinhua"}}"#;
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                out.extend_from_slice(body);
                let _ = reader.get_mut().write_all(&out);
                // The second request on this connection is read, then the connection is
                // closed without an answer.
                read_head(&mut reader);
            });
        }
    });
    let h = Harness::start_with_upstream(upstream);
    for _ in 0..6 {
        let resp = h.raw(&request("GET", "/api/v1/accounts/u-xinhua", &[], b""));
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.json()["account"]["verified_publisher"], true);
    }
}

/// The same race on a POST (the publish route, which marks the created post): the gateway
/// must not send it again, since a failed read cannot tell an idle close from "stored the
/// post, then died". The upstream sees the post once and the client gets a clean 502.
#[test]
fn a_post_on_a_stale_pooled_connection_is_not_sent_twice() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let posts = Arc::new(AtomicUsize::new(0));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let upstream = listener.local_addr().unwrap();
    let seen = posts.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = seen.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream);
                // (request line, Content-Length) of the next request, `None` at EOF.
                let read_head = |reader: &mut BufReader<std::net::TcpStream>| {
                    let mut first = String::new();
                    let mut length = 0usize;
                    loop {
                        let mut line = String::new();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return None,
                            Ok(_) if line == "\r\n" => return Some((first, length)),
                            Ok(_) => {
                                let lower = line.to_ascii_lowercase();
                                if let Some(v) = lower.strip_prefix("content-length:") {
                                    length = v.trim().parse().unwrap_or(0);
                                }
                                if first.is_empty() {
                                    first = line;
                                }
                            }
                        }
                    }
                };
                let mut served = 0;
                while let Some((line, length)) = read_head(&mut reader) {
                    let mut body = vec![0; length];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    if line.starts_with("POST") {
                        seen.fetch_add(1, Ordering::SeqCst);
                    }
                    if served == 1 {
                        // The second request on a connection: read, then closed unanswered.
                        return;
                    }
                    served += 1;
                    let (status, body): (&str, &[u8]) = if line.starts_with("GET /api/v1/session") {
                        ("200 OK", br#"{"account_id":"u-xinhua"}"#)
                    } else if line.starts_with("POST") {
                        (
                            "201 Created",
                            br#"{"post":{"id":"p-1","author":{"id":"u-xinhua"}}}"#,
                        )
                    } else {
                        ("200 OK", br#"{"account":{"id":"u-xinhua"}}"#)
                    };
                    let mut out = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    out.extend_from_slice(body);
                    if reader.get_mut().write_all(&out).is_err() {
                        return;
                    }
                }
            });
        }
    });
    let h = Harness::start_with_upstream(upstream);
    // A GET leaves a pooled connection behind (it was answered: it goes back to the pool).
    let resp = h.raw(&request("GET", "/api/v1/accounts/u-xinhua", &[], b""));
    assert_eq!(resp.status, 200, "{}", resp.text());
    let post = br#"{"title":"hello","content":"a walk by the river"}"#;
    let resp = h.raw(&request(
        "POST",
        "/api/v1/posts",
        &[
            ("Authorization", "Bearer token-x"),
            ("Content-Type", "application/json"),
        ],
        post,
    ));
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert_eq!(resp.json()["error"]["code"], "upstream.unavailable");
    assert_eq!(
        posts.load(Ordering::SeqCst),
        1,
        "the post went upstream twice"
    );
}

#[test]
fn non_json_responses_pass_untouched() {
    let h = Harness::start();
    // The demo answers 405 with a JSON error for a wrong method on a marked path? Use an
    // unknown post id: JSON 404 passes with only selectors that match nothing.
    let resp = h.raw(&request("GET", "/api/v1/posts/p-404", &[], b""));
    assert_eq!(resp.status, 404);
    assert!(resp.text().contains("error"));
}
