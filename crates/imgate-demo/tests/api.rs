//! The JSON API of the contract, driven over real HTTP.

mod common;

use common::start;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn registration(username: &str) -> Value {
    json!({
        "username": username,
        "password": "secret-pass",
        "real_name": "张三",
        "id_number": "11010519491231002X",
        "phone": "13800138000",
        "agreement": {"accepted": true, "version": "2014-08"}
    })
}

#[tokio::test]
async fn seed_accounts_are_present() {
    let demo = start().await;
    let (status, body) = demo.get_json("/api/v1/accounts/u-xinhua").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["account"]["id"], "u-xinhua");
    assert_eq!(body["account"]["username"], "xinhua");
    assert!(body["account"]["display_name"].is_string());
    assert!(body["account"].get("verified_publisher").is_none());

    let (_, body) = demo.get_json("/api/v1/accounts/u-alice").await;
    assert_eq!(
        body,
        json!({"account": {"id": "u-alice", "username": "alice", "display_name": "Alice"}})
    );

    let (_, body) = demo.get_json("/api/v1/accounts/u-mallory").await;
    assert_eq!(body["account"]["verified_publisher"], true);
    assert_eq!(body["account"]["username"], "mallory");

    for (user, pass, id) in [
        ("xinhua", "xinhua-pass", "u-xinhua"),
        ("alice", "alice-pass", "u-alice"),
        ("mallory", "mallory-pass", "u-mallory"),
    ] {
        let (status, body) = demo
            .post_json(
                "/api/v1/sessions",
                &json!({"username": user, "password": pass}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(body["account_id"], id);
        assert!(body["token"].as_str().is_some_and(|t| !t.is_empty()));
    }
    demo.server.shutdown().await;
}

#[tokio::test]
async fn register_creates_accounts_without_exposing_personal_data() {
    let demo = start().await;
    let (status, body) = demo
        .post_json("/api/v1/accounts", &registration("bob"))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        body,
        json!({"account": {"id": "u-bob", "username": "bob", "display_name": "bob"}})
    );
    let (status, fetched) = demo.get_json("/api/v1/accounts/u-bob").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, body);
    let text = fetched.to_string();
    for secret in ["secret-pass", "11010519491231002X", "13800138000", "张三"] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    // The new account can log in.
    let token = demo.login("bob", "secret-pass").await;
    assert!(!token.is_empty());
}

#[tokio::test]
async fn register_keeps_arbitrary_profile_keys_like_a_legacy_server() {
    let demo = start().await;
    let mut body = registration("eve");
    body["verified_publisher"] = json!(true);
    body["bio"] = json!("hello");
    body["display_name"] = json!("Eve E.");
    let (status, created) = demo.post_json("/api/v1/accounts", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        created,
        json!({"account": {"id": "u-eve", "username": "eve", "display_name": "Eve E.",
                            "verified_publisher": true, "bio": "hello"}})
    );
}

#[tokio::test]
async fn register_errors() {
    let demo = start().await;
    let (status, body) = demo.post_raw("/api/v1/accounts", "{not json").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].is_string());
    let (status, _) = demo.post_raw("/api/v1/accounts", "[1,2]").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = demo
        .post_json("/api/v1/accounts", &json!({"username": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = demo
        .post_json("/api/v1/accounts", &json!({"password": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for bad in ["with space", "a/b", "", "ünïcode", "x".repeat(33).as_str()] {
        let (status, body) = demo
            .post_json(
                "/api/v1/accounts",
                &json!({"username": bad, "password": "pw"}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad:?}: {body}");
    }
    let (status, body) = demo
        .post_json("/api/v1/accounts", &registration("alice"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn sessions_and_introspection() {
    let demo = start().await;
    let (status, body) = demo
        .post_json(
            "/api/v1/sessions",
            &json!({"username": "alice", "password": "nope"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());
    let (status, _) = demo
        .post_json(
            "/api/v1/sessions",
            &json!({"username": "nobody", "password": "x"}),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = demo.post_raw("/api/v1/sessions", "{").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = demo
        .post_json("/api/v1/sessions", &json!({"username": "alice"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let token = demo.login("alice", "alice-pass").await;
    let resp = demo
        .client
        .get(demo.url("/api/v1/session"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"account_id": "u-alice", "username": "alice"}));

    let resp = demo
        .client
        .get(demo.url("/api/v1/session"))
        .bearer_auth("tok-unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(resp.headers()["www-authenticate"], "Bearer");
    let (status, body) = demo.get_json("/api/v1/session").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["error"].is_string());

    // Two logins give two distinct, independently valid tokens.
    let other = demo.login("alice", "alice-pass").await;
    assert_ne!(token, other);
}

#[tokio::test]
async fn posts_have_the_contract_shape() {
    let demo = start().await;
    let token = demo.login("xinhua", "xinhua-pass").await;
    let (status, body) = demo
        .create_post(
            &token,
            &json!({
                "title": "Headline",
                "content": "Body text",
                "category": "political_news",
                "reprint": {"url": "https://example.com/a", "source": "Example"}
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let post = &body["post"];
    assert_eq!(post["id"], "p-1");
    assert_eq!(
        post["author"],
        json!({"id": "u-xinhua", "username": "xinhua", "display_name": "Xinhua News Agency"})
    );
    assert_eq!(post["title"], "Headline");
    assert_eq!(post["content"], "Body text");
    assert_eq!(post["category"], "political_news");
    assert_eq!(
        post["reprint"],
        json!({"url": "https://example.com/a", "source": "Example"})
    );
    let created_at = post["created_at"].as_str().unwrap();
    assert_eq!(created_at.len(), 20, "{created_at}");
    assert!(created_at.ends_with('Z') && created_at.as_bytes()[10] == b'T');
    let keys: Vec<&str> = post
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        [
            "id",
            "author",
            "title",
            "content",
            "category",
            "reprint",
            "created_at"
        ]
    );

    // Minimal post: nulls for the optional parts.
    let (status, body) = demo
        .create_post(&token, &json!({"content": "just text"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["post"]["id"], "p-2");
    assert_eq!(body["post"]["title"], Value::Null);
    assert_eq!(body["post"]["category"], Value::Null);
    assert_eq!(body["post"]["reprint"], Value::Null);

    let (status, fetched) = demo.get_json("/api/v1/posts/p-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["post"]["id"], "p-1");
    assert_eq!(fetched["post"]["reprint"]["source"], "Example");

    // Mallory's stored profile key shows up in her posts' author objects.
    let mallory = demo.login("mallory", "mallory-pass").await;
    let (_, body) = demo.create_post(&mallory, &json!({"content": "hi"})).await;
    assert_eq!(body["post"]["author"]["verified_publisher"], true);
}

#[tokio::test]
async fn post_errors() {
    let demo = start().await;
    let resp = demo
        .client
        .post(demo.url("/api/v1/posts"))
        .json(&json!({"content": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (status, _) = demo
        .create_post("tok-bogus", &json!({"content": "x"}))
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let token = demo.login("alice", "alice-pass").await;
    for bad in [
        json!({}),
        json!({"content": 5}),
        json!({"content": "x", "title": 1}),
        json!({"content": "x", "reprint": {"title": "no url"}}),
        json!("just a string"),
    ] {
        let (status, body) = demo.create_post(&token, &bad).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].is_string());
    }
    let resp = demo
        .client
        .post(demo.url("/api/v1/posts"))
        .bearer_auth(&token)
        .body("{\"content\":")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);

    for missing in [
        "/api/v1/posts/p-1",
        "/api/v1/posts/p-0",
        "/api/v1/posts/x",
        "/api/v1/accounts/u-nobody",
    ] {
        let (status, body) = demo.get_json(missing).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");
        assert!(body["error"].is_string());
    }
    let (status, _) = demo.get_json("/no/such/path").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let resp = demo
        .client
        .put(demo.url("/api/v1/posts"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "POST");
}

#[tokio::test]
async fn timeline_is_newest_first_with_limits() {
    let demo = start().await;
    let (status, body) = demo.get_json("/api/v1/timeline").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"posts": []}));

    let token = demo.login("alice", "alice-pass").await;
    for i in 1..=205 {
        let (status, _) = demo
            .create_post(&token, &json!({"content": format!("post {i}")}))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let ids = |body: &Value| -> Vec<String> {
        body["posts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, body) = demo.get_json("/api/v1/timeline").await;
    let got = ids(&body);
    assert_eq!(got.len(), 20);
    assert_eq!(got[0], "p-205");
    assert_eq!(got[19], "p-186");
    assert_eq!(body["posts"][0]["author"]["id"], "u-alice");
    assert_eq!(body["posts"][0]["content"], "post 205");

    let (_, body) = demo.get_json("/api/v1/timeline?limit=3").await;
    assert_eq!(ids(&body), ["p-205", "p-204", "p-203"]);
    let (_, body) = demo.get_json("/api/v1/timeline?limit=1000").await;
    assert_eq!(ids(&body).len(), 200);
    let (_, body) = demo.get_json("/api/v1/timeline?limit=0").await;
    assert_eq!(ids(&body).len(), 0);
    let (status, _) = demo.get_json("/api/v1/timeline?limit=abc").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = demo.get_json("/api/v1/timeline?limit=-1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn responses_are_json_with_content_length() {
    let demo = start().await;
    let resp = demo.get("/api/v1/accounts/u-alice").await;
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert!(resp.headers().get("transfer-encoding").is_none());
    let len: usize = resp.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(resp.bytes().await.unwrap().len(), len);
}
