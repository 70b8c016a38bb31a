//! The gateway's TLS listener, end to end: a throwaway CA signs the server certificate, and a raw TLS client
//! (rustls) sends requests as written, so a malformed head reaches the gateway as it would from any client.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::Harness;
use rustls::pki_types::ServerName;

/// A CA and a `localhost` / `127.0.0.1` certificate it signed: (CA certificate DER, server PEM, key PEM).
fn certificates() -> (Vec<u8>, String, String) {
    let ca_key = rcgen::KeyPair::generate().expect("CA key");
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "imgate test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
    let key = rcgen::KeyPair::generate().expect("server key");
    let params = rcgen::CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()])
        .expect("server params");
    let cert = params
        .signed_by(&key, &ca_cert, &ca_key)
        .expect("server certificate");
    (ca_cert.der().to_vec(), cert.pem(), key.serialize_pem())
}

fn start_tls() -> (Harness, Vec<u8>) {
    let (ca, cert, key) = certificates();
    let h = Harness::start_with_files(
        &[("gw.crt", cert.as_bytes()), ("gw.key", key.as_bytes())],
        |t| {
            *t = t.replacen(
                "h2c = true",
                "h2c = true\ntls = { cert = \"gw.crt\", key = \"gw.key\" }",
                1,
            );
        },
    );
    (h, ca)
}

/// Sends `request` over a new TLS connection (ALPN `http/1.1`) and reads until the server closes it.
fn exchange(h: &Harness, ca: &[u8], request: &[u8]) -> String {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.to_vec().into()).expect("CA as a root");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let name = ServerName::try_from("localhost").expect("name");
    let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("TLS client");
    let tcp = TcpStream::connect(h.gateway).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    tls.write_all(request).expect("send");
    let mut answer = Vec::new();
    // A close without close_notify is an error to rustls; what arrived before it is the answer.
    let _ = tls.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn the_tls_listener_serves_requests_and_answers_malformed_ones_with_json_errors() {
    let (h, ca) = start_tls();
    let ok = exchange(
        &h,
        &ca,
        b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
    );
    assert!(ok.starts_with("HTTP/1.1 200 "), "{ok}");
    assert!(ok.contains("u-alice"), "{ok}");

    let bad = exchange(
        &h,
        &ca,
        b"GET /api/v1/accounts/u-alice HTTP/1.1\r\nHost: localhost\r\nHost: other\r\n\r\n",
    );
    assert!(bad.starts_with("HTTP/1.1 400 "), "{bad}");
    let (head, body) = bad.split_once("\r\n\r\n").unwrap_or_default();
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{bad}"
    );
    let json: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(json["error"]["code"], "request.malformed", "{bad}");
}

/// An HTTP/2 client over TLS (ALPN h2, as browsers and most libraries connect): served, and the publishing
/// rule holds on it as on HTTP/1.1.
#[test]
fn http2_over_tls_is_served_and_enforced() {
    let (h, ca) = start_tls();
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_der(&ca).expect("CA"))
        .https_only(true)
        .build()
        .expect("client");
    let base = format!("https://localhost:{}", h.gateway.port());
    let account = client
        .get(format!("{base}/api/v1/accounts/u-alice"))
        .send()
        .expect("GET over TLS");
    assert_eq!(account.version(), reqwest::Version::HTTP_2);
    assert_eq!(account.status(), 200);
    let session: serde_json::Value = client
        .post(format!("{base}/api/v1/sessions"))
        .json(&serde_json::json!({"username": "alice", "password": "alice-pass"}))
        .send()
        .expect("login")
        .json()
        .expect("session JSON");
    let token = session["token"].as_str().expect("token");
    let post = |content: &str| {
        client
            .post(format!("{base}/api/v1/posts"))
            .bearer_auth(token)
            .json(&serde_json::json!({ "content": content }))
            .send()
            .expect("POST over TLS")
    };
    let blocked = post("The prime minister faced a confidence vote in parliament after the opposition party accused the government of breaking its election promises.");
    assert_eq!(blocked.version(), reqwest::Version::HTTP_2);
    assert_eq!(blocked.status(), 403);
    let error: serde_json::Value = blocked.json().expect("JSON error");
    assert_eq!(error["error"]["code"], "publish.not_approved");
    let allowed = post("The home side scored twice in the second half to win the cup final.");
    assert_eq!(allowed.status(), 201);
}
