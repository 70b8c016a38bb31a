//! The foundation end to end: passthrough fidelity, deny routes, upstream failures,
//! configuration errors, HTTP/2, request ids.

mod common;

use common::http::{chunked_request, request, Connection};
use common::{imgate, Harness};
use serde_json::Value;

fn last_upstream_request(h: &Harness) -> Value {
    h.upstream_requests(1)
        .pop()
        .expect("the upstream saw a request")
}

#[test]
fn passthrough_keeps_method_path_query_headers_and_body_with_content_length() {
    let h = Harness::start();
    let body = br#"{"note":"caf\u00e9 \u4e2d","bytes":"\t\r\n"}"#;
    let resp = h.raw(&request(
        "PUT",
        "/api/v1/things/42?b=2&a=%20x&a=1",
        &[
            ("X-Custom", "Value With  Spaces"),
            ("Content-Type", "application/json"),
        ],
        body,
    ));
    assert!(resp.status >= 200, "{resp:?}");
    let seen = last_upstream_request(&h);
    assert_eq!(seen["method"], "PUT");
    assert_eq!(seen["path"], "/api/v1/things/42?b=2&a=%20x&a=1");
    assert_eq!(seen["headers"]["x-custom"], "Value With  Spaces");
    assert_eq!(seen["headers"]["content-type"], "application/json");
    assert_eq!(seen["headers"]["x-forwarded-for"], "127.0.0.1");
    assert_eq!(seen["headers"]["x-forwarded-proto"], "http");
    assert!(seen["headers"]["x-request-id"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(seen["body"].as_str().unwrap().as_bytes(), body);
}

#[test]
fn passthrough_keeps_a_chunked_body() {
    let h = Harness::start();
    let chunks: [&[u8]; 3] = [b"first part, ", b"\xe4\xb8\xad second part, ", b"end"];
    let resp = h.raw(&chunked_request(
        "POST",
        "/api/v1/echo?chunked=1",
        &[("X-A", "1")],
        &chunks,
    ));
    assert!(resp.status >= 200, "{resp:?}");
    let seen = last_upstream_request(&h);
    assert_eq!(seen["method"], "POST");
    assert_eq!(seen["path"], "/api/v1/echo?chunked=1");
    assert_eq!(seen["headers"]["x-a"], "1");
    assert_eq!(seen["body"], "first part, 中 second part, end");
}

#[test]
fn passthrough_serves_the_demo_api_and_keeps_connections_alive() {
    let h = Harness::start();
    let mut conn = Connection::open(h.gateway);
    for _ in 0..3 {
        conn.send(&request(
            "GET",
            "/api/v1/accounts/u-alice",
            &[("X-Request-Id", "trace-123")],
            b"",
        ));
        let resp = conn.read_response(false);
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.json()["account"]["id"], "u-alice");
        assert_eq!(resp.header("x-request-id"), Some("trace-123"));
    }
    assert_eq!(
        last_upstream_request(&h)["headers"]["x-request-id"],
        "trace-123"
    );
}

/// pingora keeps an idle HTTP/1.1 connection open forever; the gateway closes it after
/// `[listen] idle_timeout`, counted from the last answer, and a client asking for a longer
/// `Keep-Alive: timeout=` does not get it.
#[test]
fn idle_client_connections_close_after_idle_timeout_and_busy_ones_stay() {
    let h = Harness::start_with(|t| {
        *t = t.replacen("idle_timeout = \"60s\"", "idle_timeout = \"2s\"", 1)
    });
    let mut conn = Connection::open(h.gateway);
    // Busy: six requests 600 ms apart span longer than the timeout on one connection.
    for _ in 0..6 {
        conn.send(&request(
            "GET",
            "/api/v1/accounts/u-alice",
            &[("Keep-Alive", "timeout=300")],
            b"",
        ));
        assert_eq!(conn.read_response(false).status, 200);
        std::thread::sleep(std::time::Duration::from_millis(600));
    }
    // Idle: the gateway closes it.
    assert!(conn.closed_within(std::time::Duration::from_secs(10)));
}

/// A new connection that sends nothing, or less than the HTTP/2 preface's 24 bytes, is not held forever
/// (pingora's h2c sniffing waited for 24 bytes with no deadline): a silent one is closed after
/// `[listen] idle_timeout`, and a complete 18-byte HTTP/1.0 request is answered at once.
#[test]
fn short_and_silent_new_connections_are_not_held_forever() {
    use std::io::{Read, Write};
    let h = Harness::start_with(|t| {
        *t = t.replacen("idle_timeout = \"60s\"", "idle_timeout = \"2s\"", 1);
    });
    // The shipped config has h2c on: this is the case that hung.
    let config = std::fs::read_to_string(h.config_path()).expect("config");
    assert!(config.contains("h2c = true"));
    let mut short = std::net::TcpStream::connect(h.gateway).expect("connect");
    short.write_all(b"GET / HTTP/1.0\r\n\r\n").expect("request");
    short
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let mut answer = Vec::new();
    short
        .read_to_end(&mut answer)
        .expect("an HTTP/1.0 answer, then the connection closes");
    assert!(
        answer.starts_with(b"HTTP/1."),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let mut silent = Connection::open(h.gateway);
    assert!(silent.closed_within(std::time::Duration::from_secs(15)));
    // Two bytes of something that could still be the preface: closed too.
    let mut partial = Connection::open(h.gateway);
    partial.send(b"PR");
    assert!(partial.closed_within(std::time::Duration::from_secs(15)));
}

/// A first request head dribbled a line at a time ("slowloris") must still be whole within the idle timeout:
/// pingora times each read, not the head, so the connection stayed open for as long as the client dribbled.
/// It is answered `408 request.timeout` and closed while the client is still sending.
#[test]
fn a_first_request_head_dribbled_past_the_idle_timeout_is_answered_408_and_closed() {
    use std::io::{Read, Write};
    let h = Harness::start_with(|t| {
        *t = t.replacen("idle_timeout = \"60s\"", "idle_timeout = \"2s\"", 1);
    });
    let mut conn = std::net::TcpStream::connect(h.gateway).expect("connect");
    conn.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .expect("timeout");
    conn.write_all(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\n")
        .expect("request line");
    let mut answer = Vec::new();
    let mut closed = false;
    // Up to 30 s of dribbling, ten times the idle timeout.
    for i in 0..100 {
        if conn
            .write_all(format!("X-Line-{i}: a\r\n").as_bytes())
            .is_err()
        {
            closed = true;
        }
        let mut buf = [0u8; 4096];
        match conn.read(&mut buf) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&answer);
    assert!(closed, "the connection is still open: {text}");
    assert!(text.starts_with("HTTP/1.1 408 "), "{text}");
    assert!(text.contains("\"code\":\"request.timeout\""), "{text}");
    // A head sent at once is served as before.
    let resp =
        h.raw(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(resp.status, 200);
}

/// `Connection: close` counts in any `Connection` field line (pingora read only the first, and kept the
/// connection open when an extension token came first).
#[test]
fn connection_close_in_a_second_field_line_closes_the_connection() {
    let h = Harness::start();
    let mut conn = Connection::open(h.gateway);
    conn.send(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\nConnection: x-foo\r\nConnection: close\r\n\r\n");
    let resp = conn.read_response(false);
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        resp.header("connection").map(str::to_ascii_lowercase),
        Some("close".to_owned())
    );
    assert!(conn.closed_within(std::time::Duration::from_secs(5)));
    // One line listing both still keeps the connection for a request that does not ask to close.
    let mut kept = Connection::open(h.gateway);
    kept.send(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\nConnection: x-foo\r\n\r\n");
    assert_eq!(kept.read_response(false).status, 200);
    kept.send(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(kept.read_response(false).status, 200);
}

/// Requests pingora refuses before any hook runs (a head it cannot parse, `CONNECT`) get the gateway's JSON
/// error like every other rejected request, not pingora's bare status; the upstream never sees them, and a
/// well-formed request still passes.
#[test]
fn requests_pingora_refuses_get_json_errors_too() {
    let h = Harness::start();
    let posts_before = h.upstream_stats()["requests"]["posts"].clone();
    let malformed: [&[u8]; 6] = [
        b"POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"POST /api/v1/posts HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n",
        b"GET /api/v1/accounts/u-alice HTTP/1.2\r\nHost: x\r\n\r\n",
        b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHo st: x\r\n\r\n",
        b"GARBAGE\r\n\r\n",
    ];
    for request in malformed {
        let resp = h.raw(request);
        let shown = String::from_utf8_lossy(request);
        assert_eq!(resp.status, 400, "{shown}");
        assert_eq!(resp.code(), "request.malformed", "{shown}");
        assert!(!resp.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .is_empty());
        let id = resp.header("x-request-id").unwrap_or_default().to_owned();
        assert_eq!(resp.json()["error"]["request_id"], id.as_str(), "{shown}");
        assert_eq!(resp.header("content-type"), Some("application/json"));
        assert_eq!(resp.header("server"), None, "{shown}");
    }
    let resp = h.raw(b"CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n");
    assert_eq!(
        (resp.status, resp.code()),
        (405, "request.method_not_allowed".to_owned())
    );
    assert_eq!(h.upstream_stats()["requests"]["posts"], posts_before);
    // Counted like every other answered request.
    let metrics = reqwest::blocking::get(h.admin_url("/metrics"))
        .expect("metrics")
        .text()
        .expect("metrics text");
    assert!(
        metrics.contains("imgate_decisions_total{reason=\"request.malformed\"} 6"),
        "{metrics}"
    );
    assert!(
        metrics.contains("imgate_decisions_total{reason=\"request.method_not_allowed\"} 1"),
        "{metrics}"
    );
    let resp =
        h.raw(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(resp.status, 200);
}

/// The replacement follows the configured error envelope, as the gateway's own errors do.
#[test]
fn requests_pingora_refuses_use_the_configured_error_envelope() {
    let h = Harness::start_with(|t| {
        *t = t.replacen("wrap = \"error\"", "wrap = \"\"", 1);
        *t = t.replacen("code_field = \"code\"", "code_field = \"err_code\"", 1);
    });
    let resp = h.raw(b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n");
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.json()["err_code"],
        "request.malformed",
        "{}",
        String::from_utf8_lossy(&resp.body)
    );
}

/// HTTP/2 connections idle out too (pingora's `h2_idle_timeout`): after a clean handshake
/// the gateway closes the idle connection (without a GOAWAY, or with NO_ERROR).
#[test]
fn idle_http2_connections_are_closed() {
    use std::io::{Read, Write};
    let h = Harness::start_with(|t| {
        *t = t.replacen("idle_timeout = \"60s\"", "idle_timeout = \"2s\"", 1);
    });
    let mut stream = std::net::TcpStream::connect(h.gateway).expect("connect");
    // The client preface and an empty SETTINGS frame: a valid, idle HTTP/2 connection.
    stream
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0")
        .expect("preface");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let mut received = Vec::new();
    stream
        .read_to_end(&mut received)
        .expect("the gateway closes the idle connection");
    // Walk the frames: 9-byte headers (24-bit length, type, flags, stream id).
    let (mut settings_acked, mut goaway_errors) = (false, Vec::new());
    let mut at = 0;
    while let Some(header) = received.get(at..at + 9) {
        let len =
            usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
        match (header[3], header[4]) {
            // SETTINGS with the ACK flag: our settings were accepted.
            (0x4, 0x1) => settings_acked = true,
            // GOAWAY payload: last stream id (4 bytes), then the error code (4 bytes).
            (0x7, _) => goaway_errors.extend(
                received
                    .get(at + 13..at + 17)
                    .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]])),
            ),
            _ => {}
        }
        at += 9 + len;
    }
    assert!(settings_acked, "frames: {received:02x?}");
    assert!(goaway_errors.iter().all(|&e| e == 0), "{goaway_errors:?}");
}

#[test]
fn deny_routes_answer_403_json_for_every_spelling_and_never_reach_the_upstream() {
    let h = Harness::start();
    let before = h.upstream_requests(1000).len();
    for target in [
        "/__demo/stats",
        "/__demo",
        "/__demo/requests?limit=5",
        "//__demo/stats",
        "/__demo//stats",
        "/x/../__demo/stats",
        "/__DEMO/stats",
        "/%5F_demo/stats",
        "/__demo%2Fstats",
        "/__demo/stats/",
        "/__demo;x=1/stats",
    ] {
        for method in ["GET", "POST"] {
            let resp = h.raw(&request(method, target, &[], b""));
            assert_eq!(resp.status, 403, "{method} {target}: {}", resp.text());
            assert_eq!(resp.code(), "route.denied", "{method} {target}");
            assert_eq!(resp.header("content-type"), Some("application/json"));
            assert!(resp.json()["error"]["request_id"].is_string());
        }
    }
    assert_eq!(
        h.upstream_requests(1000).len(),
        before,
        "a denied request reached the upstream"
    );
}

#[test]
fn method_override_headers_are_rejected() {
    let h = Harness::start();
    for header in [
        "X-HTTP-Method-Override",
        "X-Method-Override",
        "X-HTTP-Method",
    ] {
        let resp = h.raw(&request(
            "GET",
            "/api/v1/accounts/u-alice",
            &[(header, "POST")],
            b"",
        ));
        assert_eq!(resp.status, 400, "{header}");
        assert_eq!(resp.code(), "request.method_override");
    }
}

#[test]
fn upstream_down_is_a_502_json_error() {
    let mut h = Harness::start();
    h.stop_upstream();
    let resp = h.raw(&request("GET", "/api/v1/accounts/u-alice", &[], b""));
    assert_eq!(resp.status, 502, "{}", resp.text());
    assert_eq!(resp.code(), "upstream.unavailable");
    assert_eq!(resp.header("content-type"), Some("application/json"));
}

#[test]
fn default_deny_refuses_unlisted_routes() {
    let h = Harness::start_with(|t| {
        *t = t.replace("default_action = \"pass\"", "default_action = \"deny\"");
        t.push_str("\n[[route]]\npath = \"/api/v1/session\"\nmethods = [\"GET\"]\n");
    });
    let resp = h.raw(&request("GET", "/api/v1/unlisted", &[], b""));
    assert_eq!((resp.status, resp.code()), (403, "route.denied".to_owned()));
    let resp = h.raw(&request("POST", "/api/v1/sessions", &[], b"{}"));
    assert_eq!((resp.status, resp.code()), (403, "route.denied".to_owned()));
    // Listed routes still work: a pass route and an enforced one.
    let resp = h.raw(&request("GET", "/api/v1/session", &[], b""));
    assert_eq!(resp.status, 401, "the upstream answers: {}", resp.text());
    let resp = h.raw(&request("GET", "/api/v1/accounts/u-alice", &[], b""));
    assert_eq!(resp.status, 200);
}

#[test]
fn http2_cleartext_clients_are_served() {
    let h = Harness::start();
    let client = reqwest::blocking::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let resp = client
        .get(h.url("/api/v1/accounts/u-xinhua"))
        .send()
        .expect("h2 request");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 200);
    let resp = client
        .get(h.url("/__demo/stats"))
        .send()
        .expect("h2 request");
    assert_eq!(resp.status(), 403);
    let body: Value = resp.json().expect("json");
    assert_eq!(body["error"]["code"], "route.denied");
}

#[test]
fn check_accepts_the_shipped_config() {
    let path = common::conf_dir().join("imgate.toml");
    let (code, out, err) = imgate(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK"), "{out}");
}

/// Writes `text` as a config next to a copy of the shipped conf/ and runs `check`.
fn check_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("imgate.toml");
    std::fs::write(&path, text).unwrap();
    let (code, _out, err) = imgate(&["check", "--config", path.to_str().unwrap()]);
    (code, err)
}

const MINIMAL: &str =
    "[listen]\naddress = \"127.0.0.1:8080\"\n[upstream]\naddresses = [\"127.0.0.1:8081\"]\n";

#[test]
fn check_reports_unknown_keys_with_line_and_column() {
    let (code, err) = check_text(&format!(
        "{MINIMAL}[gateway]\ndefault_action = \"pass\"\nmax_bdy = \"1KiB\"\n"
    ));
    assert_eq!(code, 2);
    assert!(err.contains("imgate.toml:7:1:"), "{err}");
    assert!(err.contains("max_bdy"), "{err}");
}

#[test]
fn check_reports_bad_types_and_values_with_line_and_column() {
    let (code, err) = check_text(&format!("{MINIMAL}[upstream.x]\n"));
    assert_eq!(code, 2, "{err}");
    // (config, where the error points, what the message names)
    let cases = [
        (
            "[listen]\naddress = 8080\n[upstream]\naddresses = [\"127.0.0.1:8081\"]\n".to_owned(),
            "imgate.toml:2:11:",
            "",
        ),
        (
            MINIMAL.replace("addresses = [", "connect_timeout = \"soon\"\naddresses = ["),
            "imgate.toml:4:19:",
            "invalid duration",
        ),
        (
            format!("{MINIMAL}[gateway]\nmax_body = \"1MiB\"\n"),
            "imgate.toml:6:12:",
            "64KiB",
        ),
        (
            MINIMAL.replace("[upstream]", "write_buffer = \"2MiB\"\n[upstream]"),
            "imgate.toml:3:16:",
            "write_buffer",
        ),
        (
            format!("{MINIMAL}[server]\nmark_exchange = \"both\"\n"),
            "imgate.toml:6:17:",
            "",
        ),
        (
            MINIMAL.replace("[upstream]", "idle_timeout = \"1500ms\"\n[upstream]"),
            "imgate.toml:3:16:",
            "whole number of seconds",
        ),
        (
            format!("{MINIMAL}[gateway]\nbody_timeout = \"0s\"\n"),
            "imgate.toml:6:16:",
            "body_timeout",
        ),
    ];
    for (config, position, names) in cases {
        let (code, err) = check_text(&config);
        assert_eq!(code, 2, "{config}");
        assert!(
            err.contains(position) && err.contains(names),
            "{config}\n{err}"
        );
    }
}

#[test]
fn check_reports_bad_route_templates_with_line_and_column() {
    let (code, err) = check_text(&format!("{MINIMAL}\n[[route]]\npath = \"/api/{{id\"\n"));
    assert_eq!(code, 2);
    assert!(err.contains("imgate.toml:7:8:"), "{err}");
    let (code, err) = check_text(&format!("{MINIMAL}\n[[route]]\npath = \"/api//x\"\n"));
    assert_eq!(code, 2);
    assert!(
        err.contains("imgate.toml:7:8:") && err.contains("canonical"),
        "{err}"
    );
    let (code, err) = check_text(&format!(
        "{MINIMAL}\n[[route]]\npath = \"/a\"\n\n[[route]]\npath = \"/a\"\naction = \"deny\"\n"
    ));
    assert_eq!(code, 2);
    assert!(
        err.contains("imgate.toml:10:8:") && err.contains("overlaps"),
        "{err}"
    );
    let (code, err) = check_text(&format!(
        "{MINIMAL}\n[[route]]\npath = \"/a\"\nmethods = [\"post\"]\n"
    ));
    assert_eq!(code, 2);
    assert!(err.contains("imgate.toml:8:11:"), "{err}");
}

/// Errors found after parsing point at the key they are about, not at the table around it.
#[test]
fn check_points_rule_errors_at_their_key() {
    let shipped = std::fs::read_to_string(common::conf_dir().join("imgate.toml")).unwrap();
    let line_of = |text: &str, needle: &str| {
        text.lines()
            .position(|l| l.trim_start().starts_with(needle))
            .map(|i| i + 1)
            .unwrap_or(0)
    };
    // (replace, with, the line the error must point at starts with, what the message names)
    let cases = [
        (
            "validator = \"person_name\"\n\n[[route.register.fields]]\nname = \"id_number\"",
            "validator = \"regex\"\npattern = \"(\"\n\n[[route.register.fields]]\nname = \"id_number\"",
            "pattern = \"(\"",
            "invalid regex `(`: unclosed group",
        ),
        ("current = \"2014-08\"", "current = \"\"", "current = \"\"", "agreement.current"),
        (
            "at = \"id_number\"",
            "at = \"/id_number\"",
            "at = \"/id_number\"",
            "JSON pointer, but this route reads a form",
        ),
        (
            "name = \"register-legacy-form\"",
            "name = \"register-json\"",
            "name = \"register-json\"",
            "already used by route",
        ),
        ("code_field = \"code\"", "code_field = \"\"", "code_field", "code_field"),
        (
            "field = \"verified_publisher\"",
            "field = \"\"",
            "field = \"\"",
            "`field` must not be empty",
        ),
        (
            "lexicons/political_news.en.txt\"",
            "lexicons/missing.txt\"",
            "lexicons/missing.txt",
            "missing.txt",
        ),
        (
            "addresses = [\"127.0.0.1:8081\"]",
            "addresses = [\"127.0.0.1:0\"]",
            "addresses = [",
            "port 0",
        ),
    ];
    for (old, new, line_start, names) in cases {
        assert!(shipped.contains(old), "{old}");
        let text = shipped.replacen(old, new, 1);
        let dir = tempfile::tempdir().unwrap();
        for entry in ["lexicons", "models", "publishers.toml"] {
            let from = common::conf_dir().join(entry);
            let status = std::process::Command::new("cp")
                .args(["-r", from.to_str().unwrap(), dir.path().to_str().unwrap()])
                .status()
                .unwrap();
            assert!(status.success());
        }
        let path = dir.path().join("imgate.toml");
        std::fs::write(&path, &text).unwrap();
        let (code, _out, err) = imgate(&["check", "--config", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{new}: {err}");
        // The line at or after the edit that starts with `line_start` (the edited key, or the list
        // holding the edited value).
        let edited = shipped.find(old).unwrap_or(0);
        let want = line_of(&text[edited..], line_start) + text[..edited].matches('\n').count();
        assert!(
            err.contains(&format!("imgate.toml:{want}:")) && err.contains(names),
            "{new}: want line {want}, got {err}"
        );
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    }
}

/// A copy of the shipped conf/ in a temp dir, with `edit` applied to the named file.
fn shipped_copy_with(file: &str, edit: impl FnOnce(&mut Vec<u8>)) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("cp")
        .arg("-r")
        .arg(common::conf_dir().join("."))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let path = dir.path().join(file);
    let mut bytes = std::fs::read(&path).unwrap();
    edit(&mut bytes);
    std::fs::write(&path, bytes).unwrap();
    dir
}

#[test]
fn check_locates_bytes_that_are_not_utf8_and_unknown_granted_categories() {
    let dir = shipped_copy_with("imgate.toml", |b| b.extend_from_slice(b"# caf\xe9\n"));
    let config = dir.path().join("imgate.toml");
    let lines = std::fs::read(&config)
        .unwrap()
        .split(|&b| b == b'\n')
        .count()
        - 1;
    let (code, _out, err) = imgate(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "imgate.toml:{lines}:6: the file is not UTF-8 (byte 0xE9)"
        )),
        "{err}"
    );
    let dir = shipped_copy_with("lexicons/political_news.en.txt", |b| {
        b.extend_from_slice(b"ok | 1\nbad\xff | 1\n")
    });
    let config = dir.path().join("imgate.toml");
    let (code, _out, err) = imgate(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("political_news.en.txt:")
            && err.contains(":4: the file is not UTF-8 (byte 0xFF)"),
        "{err}"
    );
    let dir = shipped_copy_with("publishers.toml", |b| {
        *b = String::from_utf8_lossy(b)
            .replace("\"political_news\"", "\"politcal_news\"")
            .into_bytes();
    });
    let config = dir.path().join("imgate.toml");
    let (code, _out, err) = imgate(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("grants [\"politcal_news\"], which no [categories] table defines"),
        "{err}"
    );
    // A problem inside the publishers list is reported at its own line and column.
    let dir = shipped_copy_with("publishers.toml", |b| {
        b.extend_from_slice(b"\n[[publisher]]\naccount_id = 5\n")
    });
    let lines = std::fs::read(dir.path().join("publishers.toml"))
        .unwrap()
        .split(|&b| b == b'\n')
        .count()
        - 1;
    let config = dir.path().join("imgate.toml");
    let (code, _out, err) = imgate(&["check", "--config", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("publishers.toml:{lines}:14: invalid type")),
        "{err}"
    );
}

#[test]
fn check_reports_missing_files() {
    let (code, err) = check_text(&MINIMAL.replace(
        "address = \"127.0.0.1:8080\"",
        "address = \"127.0.0.1:8080\"\ntls = { cert = \"nope.crt\", key = \"nope.key\" }",
    ));
    assert_eq!(code, 2);
    assert!(
        err.contains("imgate.toml:3:16:") && err.contains("nope.crt"),
        "{err}"
    );
    let (code, _out, err) = imgate(&["check", "--config", "/nonexistent/imgate.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/imgate.toml:1:1:"), "{err}");
}
