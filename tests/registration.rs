//! Real-name registration end to end: rejected sign-ups never reach the upstream,
//! accepted ones arrive byte-for-byte; the fail-closed body path; path and method variants.

mod common;

use common::http::{chunked_request, request, Connection};
use common::Harness;
use serde_json::{json, Value};

/// Appends the ISO 7064 MOD 11-2 check character to 17 digits.
fn with_check(body17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let sum: u32 = body17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).expect("digit") * w)
        .sum();
    format!("{body17}{}", CHECK[(sum % 11) as usize])
}

fn valid_id() -> String {
    with_check("11010119900307001")
}

fn registration(
    username: &str,
    id: &str,
    phone: &str,
    name: &str,
    accepted: Value,
    version: &str,
) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "username": username,
        "password": "s3cret-pass",
        "real_name": name,
        "id_number": id,
        "phone": phone,
        "agreement": {"accepted": accepted, "version": version}
    }))
    .expect("json")
}

fn post_json(h: &Harness, target: &str, body: &[u8]) -> common::http::RawResponse {
    h.raw(&request(
        "POST",
        target,
        &[("Content-Type", "application/json")],
        body,
    ))
}

fn register_count(h: &Harness) -> u64 {
    h.upstream_stats()["requests"]["register"]
        .as_u64()
        .expect("register count")
}

#[test]
fn a_valid_registration_reaches_the_upstream_byte_for_byte() {
    let h = Harness::start();
    let body = registration(
        "zhang",
        &valid_id(),
        "138 0013 8000",
        "张三",
        json!(true),
        "2014-08",
    );
    let resp = post_json(&h, "/api/v1/accounts", &body);
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.json()["account"]["id"], "u-zhang");
    let seen = h.upstream_requests(1).pop().expect("upstream saw it");
    assert_eq!(seen["body"].as_str().expect("body").as_bytes(), &body[..]);
    assert_eq!(seen["path"], "/api/v1/accounts");
}

#[test]
fn a_sign_up_cannot_make_its_own_account_look_approved() {
    let h = Harness::start();
    let mut body: Value = serde_json::from_slice(&registration(
        "spoofer",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    ))
    .expect("json");
    body["verified_publisher"] = json!(true);
    let sent = serde_json::to_vec(&body).expect("json");
    let resp = post_json(&h, "/api/v1/accounts", &sent);
    assert_eq!(resp.status, 201, "{}", resp.text());
    // The upstream stored and echoed the claim; the gateway's marker replaced it.
    assert_eq!(resp.json()["account"]["id"], "u-spoofer");
    assert_eq!(resp.json()["account"]["verified_publisher"], json!(false));
    let seen = h.upstream_requests(1).pop().expect("upstream saw it");
    assert_eq!(seen["body"].as_str().expect("body").as_bytes(), &sent[..]);
    // An escaped spelling of the key is the same key.
    let escaped = String::from_utf8(registration(
        "spoofer2",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    ))
    .expect("utf-8")
    .replacen('{', r#"{"verified\u005fpublisher":true,"#, 1);
    let resp = post_json(&h, "/api/v1/accounts", escaped.as_bytes());
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.json()["account"]["verified_publisher"], json!(false));
}

#[test]
fn a_sign_up_nested_deeper_than_the_marker_can_show_is_refused() {
    let h = Harness::start();
    let valid = String::from_utf8(registration(
        "deep",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    ))
    .expect("utf-8");
    // 64 levels in all (the body itself is one) pass; 65 do not.
    let with_profile = |levels: usize| {
        let nested = format!("{}1{}", "[".repeat(levels - 1), "]".repeat(levels - 1));
        valid.replacen('{', &format!("{{\"profile\":{nested},"), 1)
    };
    let resp = post_json(&h, "/api/v1/accounts", with_profile(65).as_bytes());
    assert_eq!(resp.status, 400, "{}", resp.text());
    assert_eq!(resp.code(), "body.too_deep");
    assert_eq!(register_count(&h), 0);
    let resp = post_json(&h, "/api/v1/accounts", with_profile(64).as_bytes());
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(register_count(&h), 1);
}

#[test]
fn invalid_registrations_report_every_violation_and_never_reach_the_upstream() {
    let h = Harness::start();
    let mut bad_checksum = valid_id();
    let last = if bad_checksum.ends_with('1') {
        "2"
    } else {
        "1"
    };
    bad_checksum.replace_range(17..18, last);
    let body = registration(
        "bad",
        &bad_checksum,
        "12345678901",
        "Zhang3",
        json!(true),
        "2010-01",
    );
    let resp = post_json(&h, "/api/v1/accounts", &body);
    assert_eq!(resp.status, 422, "{}", resp.text());
    let error = &resp.json()["error"];
    let codes: Vec<&str> = error["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .map(|v| v["code"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        codes,
        [
            "registration.real_name.characters",
            "registration.id_number.checksum",
            "registration.phone.prefix",
            "registration.agreement.version"
        ]
    );
    assert_eq!(error["code"], "registration.real_name.characters");
    let text = resp.text();
    assert!(
        !text.contains(&bad_checksum) && !text.contains("12345678901"),
        "{text}"
    );
    assert_eq!(register_count(&h), 0);
}

#[test]
fn table_of_rejected_registrations() {
    let h = Harness::start();
    let id = valid_id();
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":id,"phone":"13800138000"}),
            "registration.agreement.not_accepted",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":id,"phone":"13800138000","agreement":{"accepted":false,"version":"2014-08"}}),
            "registration.agreement.not_accepted",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":id,"phone":"13800138000","agreement":{"accepted":"true","version":"2014-08"}}),
            "registration.agreement.not_accepted",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.id_number.missing",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":12345,"phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.id_number.type",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":with_check("99010119900307001"),"phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.id_number.region",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":with_check("11010119900230001"),"phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.id_number.birth_date",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":with_check("11010121000101001"),"phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.id_number.birth_date",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":"1101011990030700","phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.id_number.format",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张","id_number":id,"phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.real_name.length",
        ),
        (
            json!({"username":"a","password":"p","real_name":"·张三","id_number":id,"phone":"13800138000","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.real_name.dot",
        ),
        (
            json!({"username":"a","password":"p","real_name":"张三","id_number":id,"phone":"1380013800","agreement":{"accepted":true,"version":"2014-08"}}),
            "registration.phone.format",
        ),
    ];
    for (body, code) in cases {
        let resp = post_json(&h, "/api/v1/accounts", &serde_json::to_vec(&body).unwrap());
        assert_eq!(resp.status, 422, "{body}: {}", resp.text());
        assert_eq!(resp.json()["error"]["code"], code, "{body}");
    }
    assert_eq!(register_count(&h), 0);
}

#[test]
fn accepted_identity_variants() {
    let h = Harness::start();
    let cases = [
        ("gb", "11010519491231002X", "+86 138-0013-8000", "张三"),
        (
            "lowerx",
            "11010519491231002x",
            "0086 13800138000",
            "欧阳·娜娜",
        ),
        (
            "hk",
            &with_check("81000019900307001"),
            "13900139000",
            "Chan Tai Man",
        ),
        (
            "tw",
            &with_check("83000019900307002"),
            "19912345678",
            "阿·木",
        ),
    ];
    for (user, id, phone, name) in cases {
        let body = registration(user, id, phone, name, json!(true), "2014-08");
        let resp = post_json(&h, "/api/v1/accounts", &body);
        assert_eq!(resp.status, 201, "{user}: {}", resp.text());
    }
    assert_eq!(register_count(&h), 4);
}

#[test]
fn the_body_path_fails_closed() {
    let h = Harness::start();
    let ok = registration(
        "x",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    );
    type Case<'a> = (Vec<u8>, Vec<(&'a str, &'a str)>, u16, &'a str);
    let cases: Vec<Case> = vec![
        (
            b"{\"username\":".to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.malformed_json",
        ),
        (
            br#"{"id_number":"1","id_number":"2"}"#.to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.duplicate_key",
        ),
        (
            br#"{"agreement":{"accepted":true,"accepted":false}}"#.to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.duplicate_key",
        ),
        (
            b"{\"real_name\":\"\xff\"}".to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.invalid_utf8",
        ),
        (
            br#"{"real_name":"\ud800"}"#.to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.malformed_json",
        ),
        (
            b"[1,2]".to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.not_an_object",
        ),
        (
            b"".to_vec(),
            vec![("Content-Type", "application/json")],
            400,
            "body.malformed_json",
        ),
        (
            ok.clone(),
            vec![("Content-Type", "text/plain")],
            415,
            "body.unsupported_media_type",
        ),
        (ok.clone(), vec![], 415, "body.unsupported_media_type"),
        (
            ok.clone(),
            vec![("Content-Type", "application/json; charset=latin1")],
            415,
            "body.unsupported_media_type",
        ),
        (
            ok.clone(),
            vec![
                ("Content-Type", "application/json"),
                ("Content-Encoding", "gzip"),
            ],
            415,
            "body.encoding_unsupported",
        ),
        (
            vec![b' '; 70 * 1024],
            vec![("Content-Type", "application/json")],
            413,
            "body.too_large",
        ),
    ];
    for (body, headers, status, code) in cases {
        let resp = h.raw(&request("POST", "/api/v1/accounts", &headers, &body));
        assert_eq!(resp.status, status, "{code}: {}", resp.text());
        assert_eq!(resp.code(), code);
    }
    // Chunked, over the limit without a Content-Length.
    let chunk = vec![b' '; 16 * 1024];
    let chunks: Vec<&[u8]> = (0..5).map(|_| &chunk[..]).collect();
    let resp = h.raw(&chunked_request(
        "POST",
        "/api/v1/accounts",
        &[("Content-Type", "application/json")],
        &chunks,
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (413, "body.too_large".to_owned())
    );
    assert_eq!(register_count(&h), 0);
    assert_eq!(
        h.upstream_requests(1000).len(),
        0,
        "nothing reached the upstream"
    );
}

#[test]
fn chunked_and_expect_continue_bodies_are_inspected_and_forwarded() {
    let h = Harness::start();
    let body = registration(
        "chunky",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    );
    let (a, b) = body.split_at(17);
    let resp = h.raw(&chunked_request(
        "POST",
        "/api/v1/accounts",
        &[("Content-Type", "application/json")],
        &[a, b],
    ));
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(
        h.upstream_requests(1)[0]["body"]
            .as_str()
            .unwrap()
            .as_bytes(),
        &body[..]
    );

    // Expect: 100-continue, answered by the gateway; the connection stays usable.
    let body = registration(
        "expecting",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    );
    let mut conn = Connection::open(h.gateway);
    let head = format!(
        "POST /api/v1/accounts HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    conn.send(head.as_bytes());
    let (status, _) = conn.read_head();
    assert_eq!(status, 100);
    conn.send(&body);
    let resp = conn.read_response(false);
    assert_eq!(resp.status, 201, "{}", resp.text());
    conn.send(&request("GET", "/api/v1/accounts/u-expecting", &[], b""));
    let resp = conn.read_response(false);
    assert_eq!(resp.status, 200, "keep-alive after Expect: {}", resp.text());
}

#[test]
fn a_rejection_keeps_the_connection_alive() {
    let h = Harness::start();
    let mut conn = Connection::open(h.gateway);
    let bad = registration("k", "1", "1", "1", json!(false), "0");
    conn.send(&request(
        "POST",
        "/api/v1/accounts",
        &[("Content-Type", "application/json")],
        &bad,
    ));
    assert_eq!(conn.read_response(false).status, 422);
    conn.send(&request("GET", "/api/v1/accounts/u-alice", &[], b""));
    assert_eq!(conn.read_response(false).status, 200);
}

#[test]
fn path_and_method_variants_of_the_register_route_are_refused() {
    let h = Harness::start();
    let body = registration(
        "variant",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    );
    for target in [
        "/api/v1/accounts/",
        "//api/v1/accounts",
        "/api//v1/accounts",
        "/api/v1/./accounts",
        "/api/v1/x/../accounts",
        "/API/v1/accounts",
        "/api/v1/Accounts",
        "/api/v1/accounts;jsessionid=1",
        "/api/v1/%61ccounts",
        "/api%2Fv1%2Faccounts",
        "/api/v1/accounts%2F",
        "/api\\v1\\accounts",
        "http://gateway.test/api/v1/accounts",
    ] {
        let resp = post_json(&h, target, &body);
        assert_eq!(resp.status, 400, "{target}: {}", resp.text());
        assert_eq!(resp.code(), "path.non_canonical", "{target}");
        // The message names the form to send: the route's own spelling, never the variant.
        let message = resp.json()["error"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        assert!(
            message.ends_with("exactly `/api/v1/accounts`"),
            "{target}: {message}"
        );
    }
    let resp = h.raw(&request(
        "POST",
        "/api/v1/accounts",
        &[
            ("Content-Type", "application/json"),
            ("X-HTTP-Method-Override", "PUT"),
        ],
        &body,
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (400, "request.method_override".to_owned())
    );
    // A query string is fine and is forwarded as is.
    let resp = post_json(&h, "/api/v1/accounts?source=app", &body);
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(register_count(&h), 1);
}

#[test]
fn the_legacy_form_endpoint_is_enforced() {
    let h = Harness::start();
    let form = |user: &str, agree: &str, version: &str| {
        format!(
            "username={user}&password=pw&real_name=%E5%BC%A0%E4%B8%89&id_number={}&phone=13800138000&agree={agree}&agreement_version={version}",
            valid_id()
        )
    };
    let ct = [("Content-Type", "application/x-www-form-urlencoded")];
    let body = form("legacy1", "on", "2014-08");
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &ct,
        body.as_bytes(),
    ));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(resp.json()["ret"], 0);
    assert_eq!(h.upstream_requests(1)[0]["body"], body);

    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &ct,
        form("legacy2", "0", "2014-08").as_bytes(),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (422, "registration.agreement.not_accepted".to_owned())
    );
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &ct,
        form("legacy3", "1", "2013-01").as_bytes(),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (422, "registration.agreement.version".to_owned())
    );
    let repeated = format!(
        "{}&id_number=110101199003070011",
        form("legacy4", "1", "2014-08")
    );
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &ct,
        repeated.as_bytes(),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (400, "body.repeated_field".to_owned())
    );
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &[("Content-Type", "application/json")],
        b"{}",
    ));
    assert_eq!(resp.status, 415);
    let resp = h.raw(&request(
        "POST",
        "/legacy/REGISTER.DO",
        &ct,
        form("legacy5", "1", "2014-08").as_bytes(),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (400, "path.non_canonical".to_owned())
    );
    assert_eq!(h.upstream_stats()["requests"]["legacy_register"], 1);
}

/// Backends that merge query and body parameters (PHP's `$_REQUEST`, servlets' `getParameter`) would read a
/// checked field from the query string, which the gateway never checked; and a `Connection` header naming
/// `Content-Type` would have the checked form forwarded without its media type. Both are refused before the
/// upstream sees anything; other query parameters pass.
#[test]
fn the_query_string_and_connection_header_cannot_carry_what_the_body_check_missed() {
    let h = Harness::start();
    let body = format!(
        "username=qs1&password=pw&real_name=%E5%BC%A0%E4%B8%89&id_number={}&phone=13800138000&agree=1&agreement_version=2014-08",
        valid_id()
    );
    let ct = ("Content-Type", "application/x-www-form-urlencoded");
    for target in [
        "/legacy/register.do?id_number=110105194912310021",
        "/legacy/register.do?lang=zh&PHONE=12345678901",
        "/legacy/register.do?agree=0",
        "/legacy/register.do?x=1;agreement_version=2000-01",
        "/legacy/register.do?id%5Fnumber[]=1",
    ] {
        let resp = h.raw(&request("POST", target, &[ct], body.as_bytes()));
        assert_eq!(
            (resp.status, resp.code()),
            (400, "request.query_field".to_owned()),
            "{target}: {}",
            resp.text()
        );
        assert!(!resp.text().contains("12345678901"), "{}", resp.text());
    }
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &[ct, ("Connection", "keep-alive, Content-Type")],
        body.as_bytes(),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (400, "request.connection_header".to_owned()),
        "{}",
        resp.text()
    );
    let json_body = registration(
        "qs2",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    );
    let resp = post_json(&h, "/api/v1/accounts?agreement.accepted=false", &json_body);
    assert_eq!(
        (resp.status, resp.code()),
        (400, "request.query_field".to_owned())
    );
    assert_eq!(h.upstream_stats()["requests"]["legacy_register"], 0);
    assert_eq!(register_count(&h), 0);
    // Parameters that name no checked field pass, and the upstream gets the query as sent.
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do?lang=zh&ref=phone_ad",
        &[ct, ("Connection", "keep-alive")],
        body.as_bytes(),
    ));
    assert_eq!(resp.status, 200, "{}", resp.text());
    assert_eq!(
        h.upstream_requests(1)[0]["path"],
        "/legacy/register.do?lang=zh&ref=phone_ad"
    );
}

#[test]
fn http2_clients_get_the_same_checks() {
    let h = Harness::start();
    let client = reqwest::blocking::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let good = registration(
        "h2user",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    );
    let resp = client
        .post(h.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body(good.clone())
        .send()
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    assert_eq!(resp.status(), 201);
    assert_eq!(
        h.upstream_requests(1)[0]["body"]
            .as_str()
            .unwrap()
            .as_bytes(),
        &good[..]
    );
    let bad = registration("h2bad", "1", "13800138000", "张三", json!(true), "2014-08");
    let resp = client
        .post(h.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body(bad)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 422);
    let resp = client
        .post(h.url("/api/v1/accounts"))
        .header("content-type", "application/json")
        .body(vec![b' '; 70 * 1024])
        .send()
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(register_count(&h), 1);
}

#[test]
fn pii_can_be_replaced_by_a_keyed_hash_or_stripped_before_forwarding() {
    let key = b"0123456789abcdef0123456789abcdef\n";
    let h = Harness::start_with_files(&[("pii.key", key)], |t| {
        let hmac_id = t.replacen(
            "validator = \"cn_resident_id\"\npii = \"forward\"",
            "validator = \"cn_resident_id\"\npii = \"hmac\"",
            1,
        );
        let strip_phone = hmac_id.replacen(
            "validator = \"cn_mobile\"\npii = \"forward\"",
            "validator = \"cn_mobile\"\npii = \"strip\"",
            1,
        );
        *t = strip_phone.replace(
            "# hmac_key_file = \"secrets/pii.key\"",
            "hmac_key_file = \"pii.key\"",
        );
        assert!(
            t.contains("pii = \"hmac\"")
                && t.contains("pii = \"strip\"")
                && t.contains("hmac_key_file = \"pii.key\"")
        );
    });
    let id = valid_id();
    let body = registration("hashed", &id, "13800138000", "张三", json!(true), "2014-08");
    let resp = post_json(&h, "/api/v1/accounts", &body);
    assert_eq!(resp.status, 201, "{}", resp.text());
    let seen = h.upstream_requests(1).pop().unwrap();
    let forwarded = seen["body"].as_str().unwrap();
    let value: Value = serde_json::from_str(forwarded).unwrap();
    let expected = imgate::core::register::hmac_sha256_hex(&key[..32], id.as_bytes());
    assert_eq!(value["id_number"], expected.as_str());
    assert!(value.get("phone").is_none(), "{forwarded}");
    assert_eq!(value["real_name"], "张三");
    assert_eq!(
        seen["headers"]["content-length"],
        forwarded.len().to_string()
    );
    assert!(!forwarded.contains(&id) && !forwarded.contains("13800138000"));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn compressed_bodies_are_decoded_within_bounds_only_where_enabled() {
    let h = Harness::start_with(|t| {
        *t = t.replacen(
            "path = \"/api/v1/accounts\"\n",
            "path = \"/api/v1/accounts\"\ndecode = { max_size = \"64KiB\", max_ratio = 20 }\n",
            1,
        );
    });
    let headers = [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
    ];
    // A valid registration, compressed: inspected decoded, forwarded as received.
    let good = gzip(&registration(
        "gz",
        &valid_id(),
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    ));
    let resp = h.raw(&request("POST", "/api/v1/accounts", &headers, &good));
    assert_ne!(resp.status, 422, "{}", resp.text());
    let seen = h.upstream_requests(1).pop().unwrap();
    assert_eq!(seen["headers"]["content-encoding"], "gzip");
    assert_eq!(seen["headers"]["content-length"], good.len().to_string());
    // An invalid one is still refused.
    let bad = gzip(&registration(
        "gz2",
        "1",
        "13800138000",
        "张三",
        json!(true),
        "2014-08",
    ));
    let resp = h.raw(&request("POST", "/api/v1/accounts", &headers, &bad));
    assert_eq!(
        (resp.status, resp.code()),
        (422, "registration.id_number.format".to_owned())
    );
    // A decompression bomb and garbage.
    let bomb = gzip(&vec![b' '; 1 << 20]);
    let resp = h.raw(&request("POST", "/api/v1/accounts", &headers, &bomb));
    assert_eq!(
        (resp.status, resp.code()),
        (413, "body.too_large".to_owned())
    );
    let resp = h.raw(&request(
        "POST",
        "/api/v1/accounts",
        &headers,
        b"not gzip at all",
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (400, "body.undecodable".to_owned())
    );
    let resp = h.raw(&request(
        "POST",
        "/api/v1/accounts",
        &[
            ("Content-Type", "application/json"),
            ("Content-Encoding", "br"),
        ],
        &good,
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (415, "body.encoding_unsupported".to_owned())
    );
    // Routes without `decode` still refuse compressed bodies.
    let resp = h.raw(&request(
        "POST",
        "/legacy/register.do",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Encoding", "gzip"),
        ],
        &gzip(b"a=1"),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (415, "body.encoding_unsupported".to_owned())
    );
}
