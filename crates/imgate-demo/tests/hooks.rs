//! The `/__demo/` hooks: stats, request log and reset.

mod common;

use common::start;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn stats_count_exactly_what_was_received() {
    let demo = start().await;
    assert_eq!(
        demo.stats().await,
        json!({"register": 0, "legacy_register": 0, "posts": 0, "sessions": 0, "reads": 0,
               "internal": 0})
    );
    demo.post_json(
        "/api/v1/accounts",
        &json!({"username": "bob", "password": "p"}),
    )
    .await;
    demo.post_raw("/api/v1/accounts", "{bad").await; // a malformed request is still received
    demo.client
        .post(demo.url("/legacy/register.do"))
        .form(&[("username", "carol"), ("password", "p")])
        .send()
        .await
        .unwrap();
    let token = demo.login("alice", "alice-pass").await;
    demo.client
        .get(demo.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    demo.create_post(&token, &json!({"content": "x"})).await;
    demo.create_post("bad-token", &json!({"content": "x"}))
        .await;
    demo.get("/api/v1/posts/p-1").await;
    demo.get("/api/v1/timeline").await;
    demo.get("/api/v1/accounts/u-alice").await;
    demo.get("/nowhere").await;
    demo.get("/api/v1/internal/publishers").await;
    demo.get("/api/v1/internal/publishers/u-alice").await;
    demo.client
        .put(demo.url("/api/v1/timeline"))
        .send()
        .await
        .unwrap(); // not a GET and no counted endpoint
                   // Hooks are not counted.
    demo.get("/__demo/requests").await;
    demo.get("/__demo/stats").await;

    assert_eq!(
        demo.stats().await,
        json!({"register": 2, "legacy_register": 1, "posts": 2, "sessions": 2, "reads": 4,
               "internal": 2})
    );
}

#[tokio::test]
async fn request_log_shows_what_the_upstream_saw() {
    let demo = start().await;
    assert!(demo.requests(10).await.is_empty());
    let resp = demo
        .client
        .post(demo.url("/api/v1/accounts?src=test&x=1"))
        .header("x-trace", "a")
        .header("x-trace", "b")
        .header("content-type", "application/json")
        .body(r#"{"username":"bob","password":"p","real_name":"张三"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    demo.get("/api/v1/timeline?limit=5").await;
    demo.client
        .post(demo.url("/api/v1/posts"))
        .body(vec![0xff, 0xfe, b'a'])
        .send()
        .await
        .unwrap();
    demo.get("/__demo/stats").await; // not logged

    let log = demo.requests(10).await;
    assert_eq!(log.len(), 3);
    let first = &log[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/api/v1/accounts?src=test&x=1");
    assert_eq!(first["headers"]["x-trace"], "a, b");
    assert_eq!(first["headers"]["content-type"], "application/json");
    assert!(first["headers"]["host"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert_eq!(
        first["body"],
        r#"{"username":"bob","password":"p","real_name":"张三"}"#
    );
    assert_eq!(log[1]["method"], "GET");
    assert_eq!(log[1]["path"], "/api/v1/timeline?limit=5");
    assert_eq!(log[1]["body"], "");
    assert_eq!(log[2]["body"], "\u{fffd}\u{fffd}a");

    let last = demo.requests(1).await;
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["path"], "/api/v1/posts");
    let (_, all) = demo.get_json("/__demo/requests").await;
    assert_eq!(all.as_array().unwrap().len(), 3);
    let (status, _) = demo.get_json("/__demo/requests?limit=x").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn request_log_keeps_the_last_1000() {
    let demo = start().await;
    for i in 0..1010 {
        demo.get(&format!("/api/v1/posts/p-{i}")).await;
    }
    let log = demo.requests(5000).await;
    assert_eq!(log.len(), 1000);
    assert_eq!(log[0]["path"], "/api/v1/posts/p-10");
    assert_eq!(log[999]["path"], "/api/v1/posts/p-1009");
    assert_eq!(demo.stats().await["reads"], 1010);
}

#[tokio::test]
async fn reset_restores_the_seed_state() {
    let demo = start().await;
    demo.post_json(
        "/api/v1/accounts",
        &json!({"username": "bob", "password": "p"}),
    )
    .await;
    let token = demo.login("alice", "alice-pass").await;
    demo.create_post(&token, &json!({"content": "x"})).await;
    demo.post_json("/__demo/faults", &json!({"publishers_status": 503}))
        .await;

    let (status, body) = demo.post_json("/__demo/reset", &json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"reset": true}));

    assert_eq!(
        demo.get("/api/v1/accounts/u-bob").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        demo.get("/api/v1/accounts/u-mallory").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        demo.get("/api/v1/posts/p-1").await.status(),
        StatusCode::NOT_FOUND
    );
    let (status, _) = demo
        .create_post(&token, &json!({"content": "old session"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        demo.get("/api/v1/internal/publishers").await.status(),
        StatusCode::OK
    );
    // Counters and log restarted at the reset (the requests above are after it).
    assert_eq!(
        demo.stats().await,
        json!({"register": 0, "legacy_register": 0, "posts": 1, "sessions": 0, "reads": 3,
               "internal": 1})
    );
    assert_eq!(demo.requests(100).await.len(), 5);
    // Post ids restart.
    let token = demo.login("alice", "alice-pass").await;
    let (_, body) = demo.create_post(&token, &json!({"content": "y"})).await;
    assert_eq!(body["post"]["id"], "p-1");
    // The username is free again.
    let (status, _) = demo
        .post_json(
            "/api/v1/accounts",
            &json!({"username": "bob", "password": "p"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn hooks_answer_wrong_methods_with_405() {
    let demo = start().await;
    let resp = demo.get("/__demo/reset").await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "POST");
    // Hooks with wrong methods are still not logged.
    assert!(demo.requests(10).await.is_empty());
}
