//! Approval registries against the real demo server's approval service, and the file
//! source's hot reload.

mod lookups_common;

use imgate::lookups::{build_approval, ApprovalRegistry, ApprovalSpec};
use lookups_common::{Demo, PUBLISHERS};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn spec(text: &str) -> ApprovalSpec {
    toml::from_str(text).unwrap()
}

fn http_spec(extra: &str) -> ApprovalSpec {
    spec(&format!(
        r#"
kind = "http"
url = "/api/v1/internal/publishers/{{account_id}}"
{extra}
"#
    ))
}

/// Waits until `check` holds, up to `limit`; returns how long it took.
async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !check() {
        assert!(
            started.elapsed() < limit,
            "condition not met within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_answers_and_caches() {
    let demo = Demo::start().await;
    let reg = build_approval(&http_spec("ttl = \"30s\""), &demo.ctx(Path::new("."))).unwrap();
    let before = demo.count("internal").await;
    let xinhua = reg.categories("u-xinhua").await.unwrap();
    assert!(xinhua.allows("political_news"));
    let alice = reg.categories("u-alice").await.unwrap();
    assert!(!alice.is_approved());
    for _ in 0..5 {
        reg.categories("u-xinhua").await.unwrap();
        reg.categories("u-alice").await.unwrap();
    }
    assert_eq!(
        demo.count("internal").await - before,
        2,
        "positive and negative answers cached"
    );
    let stats = reg.stats();
    assert_eq!(
        (stats.misses, stats.hits, stats.negatives),
        (2, 10, 6),
        "{stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_coalesces_concurrent_lookups() {
    let demo = Demo::start().await;
    let reg = build_approval(&http_spec(""), &demo.ctx(Path::new("."))).unwrap();
    // Slow the service a little so all 20 callers overlap.
    demo.faults(200, None).await;
    let before = demo.count("internal").await;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let reg = Arc::clone(&reg);
        tasks.push(tokio::spawn(
            async move { reg.categories("u-xinhua").await },
        ));
    }
    for task in tasks {
        assert!(task.await.unwrap().unwrap().allows("political_news"));
    }
    assert_eq!(
        demo.count("internal").await - before,
        1,
        "one request for 20 callers"
    );
    assert_eq!(reg.stats().coalesced, 19);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_serves_stale_then_fails_closed() {
    let demo = Demo::start().await;
    let reg = build_approval(
        &http_spec("ttl = \"200ms\"\nstale_if_error = \"1s\"\ntimeout = \"500ms\""),
        &demo.ctx(Path::new(".")),
    )
    .unwrap();
    assert!(reg
        .categories("u-xinhua")
        .await
        .unwrap()
        .allows("political_news"));

    demo.faults(0, Some(500)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Expired, the service fails: the stale answer is served.
    assert!(reg
        .categories("u-xinhua")
        .await
        .unwrap()
        .allows("political_news"));
    assert_eq!(reg.stats().stale_serves, 1);
    // Never looked up before: nothing stale, so unavailable.
    let err = reg.categories("u-alice").await.unwrap_err();
    assert_eq!(
        (err.code(), err.status().as_u16()),
        ("approval.unavailable", 503)
    );

    // Past ttl + stale_if_error: unavailable for everyone.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let err = reg.categories("u-xinhua").await.unwrap_err();
    assert_eq!(err.code(), "approval.unavailable");

    // The service recovers: answers again.
    demo.faults(0, None).await;
    assert!(reg
        .categories("u-xinhua")
        .await
        .unwrap()
        .allows("political_news"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_slow_service_times_out_quickly() {
    let demo = Demo::start().await;
    let reg = build_approval(&http_spec("timeout = \"200ms\""), &demo.ctx(Path::new("."))).unwrap();
    demo.faults(3000, None).await;
    let started = Instant::now();
    let err = reg.categories("u-xinhua").await.unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.code(), "approval.unavailable");
    assert!(took < Duration::from_millis(800), "took {took:?}");
    assert_eq!(reg.stats().errors, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_on_unavailable_deny_treats_as_not_approved() {
    let demo = Demo::start().await;
    let reg = build_approval(
        &http_spec("on_unavailable = \"deny\"\nstale_if_error = \"0s\""),
        &demo.ctx(Path::new(".")),
    )
    .unwrap();
    demo.faults(0, Some(503)).await;
    let approval = reg.categories("u-xinhua").await.unwrap();
    assert!(!approval.is_approved());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_list_sync_feeds_marking() {
    let demo = Demo::start().await;
    let reg = build_approval(
        &http_spec(
            "list_url = \"/api/v1/internal/publishers\"\nsync_interval = \"100ms\"\nmax_staleness = \"600ms\"",
        ),
        &demo.ctx(Path::new(".")),
    )
    .unwrap();
    assert!(reg.wait_ready(Duration::from_secs(2)).await, "first sync");
    assert!(reg.is_approved_cached("u-xinhua"));
    assert!(!reg.is_approved_cached("u-mallory"));
    assert!(!reg.is_approved_cached("u-alice"));
    let stats = reg.stats();
    assert!(stats.snapshot_age.unwrap() < Duration::from_secs(1) && stats.entries == 1);

    // A new approval and a revocation arrive with the next syncs.
    let (code, _) = demo
        .post(
            "/__demo/publishers",
            json!({"account_id": "u-alice", "categories": ["political_news"]}),
        )
        .await;
    assert_eq!(code, 200);
    eventually(Duration::from_secs(2), || reg.is_approved_cached("u-alice")).await;
    // The per-account cache is dropped on a version change, so decisions follow too.
    assert!(reg
        .categories("u-alice")
        .await
        .unwrap()
        .allows("political_news"));
    assert_eq!(demo.delete("/__demo/publishers/u-alice").await, 200);
    eventually(Duration::from_secs(2), || {
        !reg.is_approved_cached("u-alice")
    })
    .await;
    assert!(!reg.categories("u-alice").await.unwrap().is_approved());

    // The service goes down: the copy is used until max_staleness, then nobody is marked.
    demo.faults(0, Some(500)).await;
    assert!(reg.is_approved_cached("u-xinhua"));
    eventually(Duration::from_secs(3), || {
        !reg.is_approved_cached("u-xinhua")
    })
    .await;
    assert!(reg.stats().reload_errors >= 1);
    // Recovery.
    demo.faults(0, None).await;
    eventually(Duration::from_secs(2), || {
        reg.is_approved_cached("u-xinhua")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_sync_stops_when_dropped() {
    let demo = Demo::start().await;
    let reg = build_approval(
        &http_spec("list_url = \"/api/v1/internal/publishers\"\nsync_interval = \"50ms\""),
        &demo.ctx(Path::new(".")),
    )
    .unwrap();
    assert!(reg.wait_ready(Duration::from_secs(2)).await);
    drop(reg);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let before = demo.count("internal").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(demo.count("internal").await, before, "no syncs after drop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_source_reloads_and_keeps_last_good_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("publishers.toml");
    std::fs::write(&path, PUBLISHERS).unwrap();
    let ctx = imgate::lookups::BuildContext {
        base_dir: dir.path(),
        upstream_base: String::new(),
        runtime: tokio::runtime::Handle::current(),
    };
    let reg: Arc<dyn ApprovalRegistry> = build_approval(
        &spec("kind = \"file\"\npath = \"publishers.toml\"\npoll_interval = \"100ms\""),
        &ctx,
    )
    .unwrap();
    assert!(reg
        .categories("u-xinhua")
        .await
        .unwrap()
        .allows("political_news"));
    assert!(reg.is_approved_cached("u-xinhua") && !reg.is_approved_cached("u-mallory"));

    // Revocation (write a new file and rename it over, as editors and deploy tools do).
    let tmp = dir.path().join("publishers.toml.new");
    std::fs::write(&tmp, "# nobody\n").unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let took = eventually(Duration::from_secs(2), || {
        !reg.is_approved_cached("u-xinhua")
    })
    .await;
    assert!(took < Duration::from_millis(800), "revoked after {took:?}");
    assert!(!reg.categories("u-xinhua").await.unwrap().is_approved());

    // In-place edit approving someone again.
    std::fs::write(&path, PUBLISHERS.replace("u-xinhua", "u-alice")).unwrap();
    eventually(Duration::from_secs(2), || reg.is_approved_cached("u-alice")).await;

    // A broken version keeps the previous list.
    let errors = reg.stats().reload_errors;
    std::fs::write(
        &path,
        "[[publisher]]\naccount_id = \"u-bob\"\ncategories = []\n",
    )
    .unwrap();
    eventually(Duration::from_secs(2), || {
        reg.stats().reload_errors > errors
    })
    .await;
    assert!(reg.is_approved_cached("u-alice") && !reg.is_approved_cached("u-bob"));

    // A deleted file keeps the previous list too.
    std::fs::remove_file(&path).unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(reg.is_approved_cached("u-alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_source_csv_and_build_errors() {
    let dir = tempfile::tempdir().unwrap();
    let ctx = imgate::lookups::BuildContext {
        base_dir: dir.path(),
        upstream_base: String::new(),
        runtime: tokio::runtime::Handle::current(),
    };
    std::fs::write(
        dir.path().join("approved.csv"),
        "account_id,categories\nu-xinhua,political_news\nu-multi,finance;political_news\n",
    )
    .unwrap();
    let reg = build_approval(&spec("kind = \"file\"\npath = \"approved.csv\""), &ctx).unwrap();
    assert!(reg.categories("u-multi").await.unwrap().allows("finance"));
    assert_eq!(reg.stats().entries, 2);

    std::fs::write(
        dir.path().join("broken.toml"),
        "[[publisher]]\naccount_id = 1\n",
    )
    .unwrap();
    let err = build_approval(&spec("kind = \"file\"\npath = \"broken.toml\""), &ctx).unwrap_err();
    assert_eq!(err.key, "path");
    let (file, line, _column) = err.in_file.clone().expect("a position in the list");
    assert!(file.ends_with("broken.toml") && line == 2, "{err}");

    let err = build_approval(&spec("kind = \"file\"\npath = \"missing.toml\""), &ctx).unwrap_err();
    assert_eq!(err.key, "path");
    std::fs::write(dir.path().join("list.txt"), "").unwrap();
    let err = build_approval(&spec("kind = \"file\"\npath = \"list.txt\""), &ctx).unwrap_err();
    assert_eq!(err.key, "format");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_poller_stops_when_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("publishers.toml");
    std::fs::write(&path, PUBLISHERS).unwrap();
    let ctx = imgate::lookups::BuildContext {
        base_dir: dir.path(),
        upstream_base: String::new(),
        runtime: tokio::runtime::Handle::current(),
    };
    let reg = build_approval(
        &spec("kind = \"file\"\npath = \"publishers.toml\"\npoll_interval = \"20ms\""),
        &ctx,
    )
    .unwrap();
    let weak = Arc::downgrade(&reg);
    drop(reg);
    assert!(weak.upgrade().is_none(), "no task keeps the source alive");
}
