//! The approval service (`/api/v1/internal/publishers*`): built-in list, publishers file with
//! reload, in-memory approve/revoke and injected faults.

mod common;

use std::time::{Duration, Instant};

use common::{start, start_with};
use imgate_demo::DemoOptions;
use reqwest::StatusCode;
use serde_json::{json, Value};

#[tokio::test]
async fn builtin_list_approves_xinhua_only() {
    let demo = start().await;
    let (status, body) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"publishers": [{"account_id": "u-xinhua", "categories": ["political_news"]}],
               "version": 1})
    );
    let (status, body) = demo.get_json("/api/v1/internal/publishers/u-xinhua").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"account_id": "u-xinhua", "approved": true, "categories": ["political_news"]})
    );
    for id in ["u-mallory", "u-nobody"] {
        let (status, body) = demo
            .get_json(&format!("/api/v1/internal/publishers/{id}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"account_id": id, "approved": false, "categories": []})
        );
    }
}

#[tokio::test]
async fn shipped_file_agrees_with_builtin() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conf/publishers.toml");
    if !path.exists() {
        return;
    }
    let demo = start_with(DemoOptions {
        publishers_file: Some(path),
    })
    .await;
    let (_, from_file) = demo.get_json("/api/v1/internal/publishers").await;
    let builtin = start().await;
    let (_, from_builtin) = builtin.get_json("/api/v1/internal/publishers").await;
    assert_eq!(from_file, from_builtin);
}

#[tokio::test]
async fn approve_and_revoke_bump_the_version() {
    let demo = start().await;
    let (status, body) = demo
        .post_json(
            "/__demo/publishers",
            &json!({"account_id": "u-alice", "categories": ["political_news"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["version"], 2);
    assert_eq!(body["publishers"].as_array().unwrap().len(), 2);
    let (_, one) = demo.get_json("/api/v1/internal/publishers/u-alice").await;
    assert_eq!(one["approved"], true);

    // Same approval again: no change, no bump.
    let (_, body) = demo
        .post_json(
            "/__demo/publishers",
            &json!({"account_id": "u-alice", "categories": ["political_news"]}),
        )
        .await;
    assert_eq!(body["version"], 2);

    let resp = demo
        .client
        .delete(demo.url("/__demo/publishers/u-alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["version"], 3);
    let resp = demo
        .client
        .delete(demo.url("/__demo/publishers/u-alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let (_, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(list["version"], 3);
    let (_, one) = demo.get_json("/api/v1/internal/publishers/u-alice").await;
    assert_eq!(one["approved"], false);

    for bad in [
        json!({"account_id": "", "categories": ["x"]}),
        json!({"account_id": "u-a", "categories": []}),
        json!({"account_id": "u-a"}),
    ] {
        let (status, _) = demo.post_json("/__demo/publishers", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // Reset restores the source's list, and the version keeps growing.
    demo.post_json(
        "/__demo/publishers",
        &json!({"account_id": "u-bob", "categories": ["political_news"]}),
    )
    .await;
    demo.post_json("/__demo/reset", &json!({})).await;
    let (_, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(list["version"], 5);
    assert_eq!(list["publishers"].as_array().unwrap().len(), 1);
}

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[tokio::test]
async fn file_is_reloaded_when_it_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("publishers.toml");
    write(
        &path,
        "[[publisher]]\naccount_id = \"u-a\"\ncategories = [\"political_news\"]\n",
    );
    let demo = start_with(DemoOptions {
        publishers_file: Some(path.clone()),
    })
    .await;
    let (_, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(list["version"], 1);
    assert_eq!(list["publishers"][0]["account_id"], "u-a");

    // A different size is a change even within the same mtime tick.
    write(
        &path,
        "[[publisher]]\naccount_id = \"u-bb\"\ncategories = [\"political_news\", \"x\"]\n",
    );
    let (_, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(list["version"], 2);
    assert_eq!(list["publishers"][0]["account_id"], "u-bb");
    let (_, one) = demo.get_json("/api/v1/internal/publishers/u-a").await;
    assert_eq!(one["approved"], false);

    // Unchanged file: same version.
    let (_, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(list["version"], 2);

    // An in-memory approval holds until the file changes again.
    demo.post_json(
        "/__demo/publishers",
        &json!({"account_id": "u-mem", "categories": ["political_news"]}),
    )
    .await;
    let (_, one) = demo.get_json("/api/v1/internal/publishers/u-mem").await;
    assert_eq!(one["approved"], true);
    write(&path, "# nobody approved\n");
    let (_, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(list["version"], 4);
    assert_eq!(list["publishers"], json!([]));

    // An invalid file keeps the last good list.
    write(&path, "[[publisher]]\naccount_id = 5\n");
    let (status, list) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["version"], 4);
}

#[tokio::test]
async fn invalid_file_fails_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("publishers.toml");
    write(&path, "[[publisher]]\naccount_id = \"u-a\"\n");
    let err = imgate_demo::DemoServer::start(
        "127.0.0.1:0".parse().unwrap(),
        DemoOptions {
            publishers_file: Some(path.clone()),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains("publishers.toml:"), "{err}");

    let err = imgate_demo::DemoServer::start(
        "127.0.0.1:0".parse().unwrap(),
        DemoOptions {
            publishers_file: Some(dir.path().join("missing.toml")),
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
}

#[tokio::test]
async fn faults_delay_and_fail_the_approval_service_only() {
    let demo = start().await;
    let (status, body) = demo
        .post_json(
            "/__demo/faults",
            &json!({"publishers_delay_ms": 300, "publishers_status": 503}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"faults": {"publishers_delay_ms": 300, "publishers_status": 503}})
    );
    let (_, current) = demo.get_json("/__demo/faults").await;
    assert_eq!(current, body);

    for path in [
        "/api/v1/internal/publishers",
        "/api/v1/internal/publishers/u-xinhua",
    ] {
        let started = Instant::now();
        let (status, body) = demo.get_json(path).await;
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body["error"].is_string());
    }
    // Other endpoints are unaffected.
    let started = Instant::now();
    let (status, _) = demo.get_json("/api/v1/accounts/u-alice").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() < Duration::from_millis(300));

    // Delay only.
    demo.post_json("/__demo/faults", &json!({"publishers_delay_ms": 200}))
        .await;
    let started = Instant::now();
    let (status, _) = demo.get_json("/api/v1/internal/publishers").await;
    assert_eq!(status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(200));

    // Status only, then cleared by reset.
    demo.post_json(
        "/__demo/faults",
        &json!({"publishers_delay_ms": 0, "publishers_status": 500}),
    )
    .await;
    let (status, _) = demo.get_json("/api/v1/internal/publishers/u-x").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    demo.post_json("/__demo/reset", &json!({})).await;
    let (status, _) = demo.get_json("/api/v1/internal/publishers/u-x").await;
    assert_eq!(status, StatusCode::OK);

    for bad in [
        json!({"publishers_status": 99}),
        json!({"publishers_status": 700}),
        json!({"publishers_delay_ms": -1}),
        json!({"unknown": 1}),
    ] {
        let (status, _) = demo.post_json("/__demo/faults", &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
}
