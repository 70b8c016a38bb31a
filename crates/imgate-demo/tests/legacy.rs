//! `POST /legacy/register.do`, the old form endpoint.

mod common;

use common::start;
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn submit(demo: &common::Demo, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let resp = demo
        .client
        .post(demo.url("/legacy/register.do"))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

#[tokio::test]
async fn registers_with_a_form() {
    let demo = start().await;
    let (status, body) = submit(
        &demo,
        &[
            ("username", "carol"),
            ("password", "carol-pass"),
            ("real_name", "李四"),
            ("id_number", "11010519491231002X"),
            ("phone", "13800138000"),
            ("agree", "on"),
            ("agreement_version", "2014-08"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"ret": 0, "uid": "u-carol"}));

    let (status, account) = demo.get_json("/api/v1/accounts/u-carol").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        account,
        json!({"account": {"id": "u-carol", "username": "carol", "display_name": "carol"}})
    );
    demo.login("carol", "carol-pass").await;
}

#[tokio::test]
async fn taken_username_is_ret_1_with_status_200() {
    let demo = start().await;
    let (status, body) = submit(&demo, &[("username", "alice"), ("password", "x")]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["ret"], 1);
    assert!(body["msg"].is_string());
}

#[tokio::test]
async fn invalid_input_is_ret_2_with_status_200() {
    let demo = start().await;
    for form in [
        vec![("username", "dave")],
        vec![("password", "x")],
        vec![("username", "bad name"), ("password", "x")],
    ] {
        let (status, body) = submit(&demo, &form).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["ret"], 2, "{form:?}");
        assert!(body["msg"].is_string());
    }
}

#[tokio::test]
async fn unknown_form_fields_become_profile_keys() {
    let demo = start().await;
    let (_, body) = submit(
        &demo,
        &[
            ("username", "frank"),
            ("password", "x"),
            ("verified_publisher", "true"),
        ],
    )
    .await;
    assert_eq!(body["ret"], 0);
    let (_, account) = demo.get_json("/api/v1/accounts/u-frank").await;
    assert_eq!(account["account"]["verified_publisher"], "true");
}
