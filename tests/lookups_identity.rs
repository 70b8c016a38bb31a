//! Identity sources against the real demo server: introspection with real tokens,
//! coalescing, negative caching, an unreachable endpoint; the trusted-header source.

mod lookups_common;

use imgate::lookups::{build_identity, IdentitySpec};
use lookups_common::{closed_port, request, Demo};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn spec(text: &str) -> IdentitySpec {
    toml::from_str(text).unwrap()
}

const SHIPPED: &str = r#"
kind = "introspect"
url = "/api/v1/session"
account_id_at = "/account_id"
timeout = "1s"
ttl = "60s"
negative_ttl = "10s"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspect_identifies_missing_and_invalid() {
    let demo = Demo::start().await;
    let source = build_identity(&spec(SHIPPED), &demo.ctx(Path::new("."))).unwrap();
    let token = demo.login("alice").await;

    let id = source
        .identify(&request(Some(&format!("Bearer {token}"))), None)
        .await
        .unwrap();
    assert_eq!(id.account_id, "u-alice");

    let err = source
        .identify(&request(Some("Bearer not-a-real-token")), None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("identity.invalid", 401)
    );

    let err = source.identify(&request(None), None).await.unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("identity.missing", 401)
    );

    // No token ever appears in errors.
    assert!(!format!("{err:?}").contains(&token));
    let stats = source.stats();
    assert_eq!(
        (stats.misses, stats.negatives, stats.errors),
        (2, 2, 0),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspect_coalesces_concurrent_first_lookups() {
    let demo = Demo::start().await;
    let source = build_identity(&spec(SHIPPED), &demo.ctx(Path::new("."))).unwrap();
    let token = demo.login("xinhua").await;
    let before = demo.count("sessions").await;

    let header = format!("Bearer {token}");
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let source = Arc::clone(&source);
        let header = header.clone();
        tasks.push(tokio::spawn(async move {
            source.identify(&request(Some(&header)), None).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().account_id, "u-xinhua");
    }
    assert_eq!(
        demo.count("sessions").await - before,
        1,
        "one upstream request for 20 callers"
    );
    // And later calls are cache hits.
    source
        .identify(&request(Some(&header)), None)
        .await
        .unwrap();
    assert_eq!(demo.count("sessions").await - before, 1);
    let stats = source.stats();
    assert_eq!(stats.misses, 1, "{stats:?}");
    assert_eq!(stats.hits + stats.coalesced, 20, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspect_caches_unknown_tokens_for_negative_ttl() {
    let demo = Demo::start().await;
    let text = SHIPPED.replace("negative_ttl = \"10s\"", "negative_ttl = \"300ms\"");
    let source = build_identity(&spec(&text), &demo.ctx(Path::new("."))).unwrap();
    let before = demo.count("sessions").await;
    let bad = request(Some("Bearer forged"));
    for _ in 0..5 {
        let err = source.identify(&bad, None).await.unwrap_err();
        assert_eq!(err.code(), "identity.invalid");
    }
    assert_eq!(
        demo.count("sessions").await - before,
        1,
        "negative answer cached"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    source.identify(&bad, None).await.unwrap_err();
    assert_eq!(
        demo.count("sessions").await - before,
        2,
        "asked again after negative_ttl"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspect_unreachable_is_unavailable_quickly() {
    let base = closed_port();
    let ctx = imgate::lookups::BuildContext {
        base_dir: Path::new("."),
        upstream_base: base,
        runtime: tokio::runtime::Handle::current(),
    };
    let source = build_identity(&spec(SHIPPED), &ctx).unwrap();
    let started = Instant::now();
    let err = source
        .identify(&request(Some("Bearer whatever")), None)
        .await
        .unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("identity.unavailable", 503)
    );
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(source.stats().errors, 1);
    // Errors are not cached: the next call tries again.
    source
        .identify(&request(Some("Bearer whatever")), None)
        .await
        .unwrap_err();
    assert_eq!(source.stats().errors, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspect_without_account_id_is_unavailable() {
    let demo = Demo::start().await;
    let text = SHIPPED.replace("\"/account_id\"", "\"/no_such_field\"");
    let source = build_identity(&spec(&text), &demo.ctx(Path::new("."))).unwrap();
    let token = demo.login("alice").await;
    let err = source
        .identify(&request(Some(&format!("Bearer {token}"))), None)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "identity.unavailable");
}

#[tokio::test]
async fn header_source_trusts_only_configured_peers() {
    let source = build_identity(
        &spec(
            r#"
kind = "header"
header = "x-authenticated-account"
trusted_sources = ["127.0.0.1", "10.0.0.0/8"]
"#,
        ),
        &imgate::lookups::BuildContext {
            base_dir: Path::new("."),
            upstream_base: "http://127.0.0.1:1".into(),
            runtime: tokio::runtime::Handle::current(),
        },
    )
    .unwrap();
    let mut req = request(None);
    req.insert_header("x-authenticated-account", "u-xinhua")
        .unwrap();
    let trusted = Some("10.20.30.40".parse().unwrap());
    let untrusted = Some("192.168.1.1".parse().unwrap());

    assert_eq!(
        source.identify(&req, trusted).await.unwrap().account_id,
        "u-xinhua"
    );
    assert!(source.strip_headers(trusted).is_empty());

    let err = source.identify(&req, untrusted).await.unwrap_err();
    assert_eq!(err.code(), "identity.missing");
    let strip = source.strip_headers(untrusted);
    assert_eq!(strip.len(), 1);
    assert_eq!(strip[0].as_str(), "x-authenticated-account");
    // What the proxy does with it: the upstream never sees the forged header.
    for name in strip {
        req.remove_header(name);
    }
    assert!(req.headers.get("x-authenticated-account").is_none());
    assert_eq!(source.strip_headers(None).len(), 1);
}
