//! Operations end to end: admin endpoints, metrics, hot reload (SIGHUP, admin, file
//! watch, refused configs), the audit log and privacy of captured output.

mod common;

use common::http::{request, Connection};
use common::Harness;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn get(url: &str) -> (u16, String) {
    let resp = reqwest::blocking::get(url).expect("admin request");
    (resp.status().as_u16(), resp.text().unwrap_or_default())
}

fn post(url: &str) -> (u16, Value) {
    let resp = reqwest::blocking::Client::new()
        .post(url)
        .send()
        .expect("admin request");
    (resp.status().as_u16(), resp.json().unwrap_or(Value::Null))
}

fn policy_sha(h: &Harness) -> String {
    let (_, text) = get(&h.admin_url("/admin/policy"));
    let v: Value = serde_json::from_str(&text).unwrap();
    v["sha256"].as_str().unwrap().to_owned()
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn admin_endpoints_and_metrics() {
    let h = Harness::start();
    assert_eq!(get(&h.admin_url("/healthz")).0, 200);
    let (status, ready) = get(&h.admin_url("/readyz"));
    assert_eq!(status, 200, "{ready}");
    h.raw(&request("GET", "/__demo/stats", &[], b""));
    h.raw(&request("GET", "/api/v1/accounts/u-xinhua", &[], b""));
    let bad = json!({"username":"m","password":"p","real_name":"1","id_number":"1","phone":"1","agreement":{"accepted":true,"version":"2014-08"}});
    h.raw(&request(
        "POST",
        "/api/v1/accounts",
        &[("Content-Type", "application/json")],
        bad.to_string().as_bytes(),
    ));
    let (status, metrics) = get(&h.admin_url("/metrics"));
    assert_eq!(status, 200);
    for needle in [
        "imgate_requests_total{route_kind=\"deny\",status=\"403\"} 1",
        "imgate_requests_total{route_kind=\"mark\",status=\"200\"} 1",
        // The JSON sign-up route also marks the new account in the answer.
        "imgate_requests_total{route_kind=\"register+mark\",status=\"422\"} 1",
        "imgate_decisions_total{reason=\"route.denied\"} 1",
        "imgate_decisions_total{reason=\"registration.real_name.characters\"} 1",
        "imgate_marked_accounts_total{approved=\"true\"} 1",
        "imgate_request_duration_seconds_bucket",
        "imgate_upstream_duration_seconds_bucket",
        "imgate_request_body_bytes_bucket",
        "imgate_lookup_hits_total{lookup=\"approval\"}",
        "imgate_lookup_misses_total{lookup=\"identity\"}",
        // The audit queue (never full here).
        "# TYPE imgate_audit_queue_lines gauge",
        "imgate_audit_queue_full_total 0",
    ] {
        assert!(metrics.contains(needle), "missing `{needle}` in\n{metrics}");
    }
    let (_, policy) = get(&h.admin_url("/admin/policy"));
    let policy: Value = serde_json::from_str(&policy).unwrap();
    assert_eq!(policy["sha256"].as_str().unwrap().len(), 64);
    assert!(policy["routes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r == "publish"));
    // The upstream going away makes the gateway not ready.
    let mut h = h;
    h.stop_upstream();
    assert_eq!(get(&h.admin_url("/readyz")).0, 503);
}

#[test]
fn an_admin_token_protects_all_but_health() {
    let token = "0123456789abcdef-admin";
    let h = Harness::start_with_files(&[("admin.token", token.as_bytes())], |t| {
        *t = t.replace(
            "# token_file = \"secrets/admin.token\"",
            "token_file = \"admin.token\"",
        );
    });
    assert_eq!(get(&h.admin_url("/healthz")).0, 200);
    assert_eq!(get(&h.admin_url("/metrics")).0, 401);
    assert_eq!(post(&h.admin_url("/admin/reload")).0, 401);
    let resp = reqwest::blocking::Client::new()
        .get(h.admin_url("/metrics"))
        .bearer_auth(token)
        .send()
        .unwrap();
    assert_eq!(resp.status(), 200);
}

#[test]
fn reload_under_load_drops_no_request() {
    let h = Harness::start();
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut workers = Vec::new();
    for worker in 0..4 {
        let (stop, done, failures) = (stop.clone(), done.clone(), failures.clone());
        let gateway = h.gateway;
        workers.push(std::thread::spawn(move || {
            let mut conn = Connection::open(gateway);
            let deadline = Instant::now() + Duration::from_secs(20);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let (req, expected) = if worker % 2 == 0 {
                    (request("GET", "/api/v1/accounts/u-alice", &[], b""), 200)
                } else {
                    let body = br#"{"username":"r","password":"p","real_name":"x","id_number":"1","phone":"2","agreement":{"accepted":false,"version":"1"}}"#;
                    (request("POST", "/api/v1/accounts", &[("Content-Type", "application/json")], body), 422)
                };
                conn.send(&req);
                let resp = conn.read_response(false);
                if resp.status != expected {
                    failures.lock().unwrap().push(format!("{} {}", resp.status, resp.text()));
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    let before = policy_sha(&h);
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(300));
        let status = std::process::Command::new("kill")
            .args(["-HUP", &h.gateway_pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    std::thread::sleep(Duration::from_millis(300));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("worker");
    }
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "failed requests during reload: {failures:?}"
    );
    assert!(done.load(Ordering::Relaxed) > 20, "the load loop ran");
    assert_eq!(policy_sha(&h), before);
    let (_, metrics) = get(&h.admin_url("/metrics"));
    let reloads = metrics
        .lines()
        .find(|l| l.starts_with("imgate_reloads_total{result=\"ok\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse::<u64>().ok())
        .unwrap_or(0);
    // Signals that arrive while a reload runs coalesce into one more reload.
    assert!(reloads >= 1, "SIGHUP reloads counted: {reloads}\n{metrics}");
    assert!(h.logs().contains("configuration reloaded"));
}

#[test]
fn an_invalid_reload_keeps_the_old_policy_and_a_valid_one_applies() {
    let h = Harness::start_with(|t| *t = t.replace("watch = true", "watch = false"));
    let original = std::fs::read_to_string(h.config_path()).unwrap();
    let before = policy_sha(&h);
    std::fs::write(
        h.config_path(),
        format!("{original}\n[[route]]\npath = \"/x\"\nbogus = 1\n"),
    )
    .unwrap();
    let (status, body) = post(&h.admin_url("/admin/reload"));
    assert_eq!(status, 422, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("imgate.toml:") && message.contains("bogus"),
        "{message}"
    );
    assert_eq!(policy_sha(&h), before);
    assert_eq!(
        h.raw(&request("GET", "/api/v1/timeline", &[], b"")).status,
        200
    );
    assert!(h.logs().contains("reload refused"));

    std::fs::write(
        h.config_path(),
        format!("{original}\n[[route]]\npath = \"/api/v1/session\"\naction = \"deny\"\n"),
    )
    .unwrap();
    let (status, body) = post(&h.admin_url("/admin/reload"));
    assert_eq!(status, 200, "{body}");
    assert_ne!(policy_sha(&h), before);
    let resp = h.raw(&request("GET", "/api/v1/session", &[], b""));
    assert_eq!((resp.status, resp.code()), (403, "route.denied".to_owned()));
}

#[test]
fn a_changed_config_file_is_reloaded_by_the_watcher() {
    let h = Harness::start_with(|t| *t = t.replace("interval = \"2s\"", "interval = \"200ms\""));
    assert_eq!(
        h.raw(&request("GET", "/api/v1/session", &[], b"")).status,
        401
    );
    let original = std::fs::read_to_string(h.config_path()).unwrap();
    std::fs::write(
        h.config_path(),
        format!("{original}\n[[route]]\npath = \"/api/v1/session\"\naction = \"deny\"\n"),
    )
    .unwrap();
    wait_until("the watcher to reload", || {
        h.raw(&request("GET", "/api/v1/session", &[], b"")).status == 403
    });
}

/// A sign-up that breaks every rule: 422 while registration is enforced, 201 (stored) when not.
fn bad_sign_up_status(h: &Harness, n: usize) -> u16 {
    let body = json!({"username": format!("w{n}"), "password": "pw", "real_name": "admin",
        "id_number": "110105194912310021", "phone": "12345678901",
        "agreement": {"accepted": false, "version": "2014-08"}});
    h.raw(&request(
        "POST",
        "/api/v1/accounts",
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    ))
    .status
}

#[test]
fn the_watcher_never_applies_a_file_cut_off_mid_write_but_an_explicit_reload_does() {
    let h = Harness::start_with(|t| *t = t.replace("interval = \"2s\"", "interval = \"100ms\""));
    assert_eq!(bad_sign_up_status(&h, 0), 422);
    let original = std::fs::read_to_string(h.config_path()).unwrap();
    // An editor saving in place, caught just before the JSON sign-up route's rules: valid
    // TOML whose route `register-json` no longer checks anything.
    let cut = original
        .find("[route.register]")
        .expect("the shipped register route");
    std::fs::write(h.config_path(), &original[..cut]).unwrap();
    wait_until("the watcher to hold the change back", || {
        h.logs()
            .contains("configuration change not applied: it removes enforcement")
    });
    let logs = h.logs();
    assert!(
        logs.contains("route register-json: field id_number"),
        "the log names what the change removes:\n{logs}"
    );
    assert_eq!(
        bad_sign_up_status(&h, 1),
        422,
        "the old policy still enforces"
    );

    // The operator means it: an explicit reload applies the same file.
    let (status, body) = post(&h.admin_url("/admin/reload"));
    assert_eq!(status, 200, "{body}");
    assert_eq!(bad_sign_up_status(&h, 2), 201);

    // Putting the rules back adds enforcement: the watcher applies that by itself.
    std::fs::write(h.config_path(), &original).unwrap();
    wait_until("the watcher to restore the rules", || {
        bad_sign_up_status(&h, 3) == 422
    });
}

#[test]
fn a_reload_that_turns_the_watcher_off_stops_it() {
    let h = Harness::start_with(|t| *t = t.replace("interval = \"2s\"", "interval = \"100ms\""));
    let original = std::fs::read_to_string(h.config_path()).unwrap();
    let off = original.replace("watch = true", "watch = false");
    std::fs::write(h.config_path(), &off).unwrap();
    wait_until("the watcher to apply watch = false", || {
        h.logs().matches("configuration reloaded").count() >= 1
    });
    std::fs::write(
        h.config_path(),
        format!("{off}\n[[route]]\npath = \"/api/v1/session\"\naction = \"deny\"\n"),
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(
        h.raw(&request("GET", "/api/v1/session", &[], b"")).status,
        401,
        "the watcher is off: the deny route is not applied"
    );
    let (status, _) = post(&h.admin_url("/admin/reload"));
    assert_eq!(status, 200);
    assert_eq!(
        h.raw(&request("GET", "/api/v1/session", &[], b"")).status,
        403
    );
}

#[test]
fn captured_output_never_holds_a_full_id_or_phone_number() {
    // At the most verbose level: pingora's own debug and trace lines print request heads
    // as sent, so they must stay off.
    let h = Harness::start_logging("trace");
    let valid_id = "11010519491231002X";
    let phones = ["13800138000", "13912345678"];
    let ids = [valid_id, "110105194912310021", "440301199001011234"];
    for (i, id) in ids.iter().enumerate() {
        let body = json!({"username": format!("p{i}"), "password": "pw", "real_name": "张三", "id_number": id,
            "phone": phones[i % 2], "agreement": {"accepted": true, "version": "2014-08"}});
        h.raw(&request(
            "POST",
            "/api/v1/accounts",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        ));
    }
    let form = format!("username=f1&password=p&real_name=%E5%BC%A0%E4%B8%89&id_number={valid_id}&phone=13800138000&agree=1&agreement_version=2014-08");
    h.raw(&request(
        "POST",
        "/legacy/register.do",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    ));
    // A number in a path or query of an unrouted request.
    h.raw(&request(
        "GET",
        &format!("/api/v1/lookup/{valid_id}?phone=13800138000"),
        &[],
        b"",
    ));
    // Numbers spelled with other separators, in a made-up method, a request id and a
    // duplicated JSON key.
    h.raw(&request("GET", "/api/v1/lookup/139.1234.5679", &[], b""));
    h.raw(&request(
        "GET",
        "/api/v1/lookup/440306198_50615123X",
        &[],
        b"",
    ));
    h.raw(&request(valid_id, "/x", &[], b""));
    let echoed = h.raw(&request(
        "GET",
        "/api/v1/session",
        &[("X-Request-Id", "440306198.50615123X")],
        b"",
    ));
    assert!(!echoed.text().contains("440306198.50615123X"));
    let duplicate = h.raw(&request(
        "POST",
        "/api/v1/accounts",
        &[("Content-Type", "application/json")],
        br#"{"139.1234.5679":1,"139.1234.5679":2}"#,
    ));
    assert_eq!(duplicate.code(), "body.duplicate_key");
    assert!(
        !duplicate.text().contains("139.1234.5679"),
        "{}",
        duplicate.text()
    );
    // What a browser sends for full-width digits, digits split by slashes, a number encoded twice, and
    // Arabic-Indic digits (session-14 red team).
    let full_width = "%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%91%EF%BC%93%EF%BC%98%EF%BC%90%EF%BC%90%EF%BC%90";
    let double = "%2531%2533%2538%2530%2530%2531%2533%2538%2530%2530%2530";
    let arabic = "%D9%A1%D9%A3%D9%A8%D9%A0%D9%A0%D9%A1%D9%A3%D9%A8%D9%A0%D9%A0%D9%A0";
    for target in [
        format!("/api/v1/accounts/{full_width}"),
        format!("/api/v1/accounts/{full_width}/"),
        "/x/138/0013/8000".to_owned(),
        format!("/x/{double}"),
        format!("/x/{arabic}"),
    ] {
        h.raw(&request("GET", &target, &[], b""));
    }
    std::thread::sleep(Duration::from_millis(300));
    let logs = h.logs();
    for spelled in [
        "139.1234.5679",
        "440306198_50615123X",
        "440306198.50615123X",
        full_width,
        "138/0013/8000",
        double,
        arabic,
    ] {
        assert!(
            !logs.contains(spelled),
            "`{spelled}` appears in the output:\n{logs}"
        );
    }
    assert!(logs.contains("139.****.5679"), "{logs}");
    assert!(
        logs.contains("\"decision\":\"allow\""),
        "audit lines present:\n{logs}"
    );
    assert!(
        logs.contains("110105********002X"),
        "masked id in the audit log:\n{logs}"
    );
    for secret in ids.iter().chain(phones.iter()) {
        assert!(
            !logs.contains(secret),
            "`{secret}` appears in the output:\n{logs}"
        );
    }
}

/// SIGTERM stops the gateway gracefully: it exits 0, and the audit lines of the last
/// requests are in its output (the audit writer is flushed and joined after the server).
#[test]
fn a_stopped_gateway_exits_cleanly_with_its_audit_lines_written() {
    let mut h = Harness::start_with(|t| {
        *t = t.replace("grace_period = \"5s\"", "grace_period = \"1s\"");
    });
    for i in 0..20 {
        let body = json!({"username": format!("stop{i}"), "password": "pw", "real_name": "张三",
            "id_number": "11010519491231002X", "phone": "13800138000",
            "agreement": {"accepted": true, "version": "2014-08"}});
        let resp = h.raw(&request(
            "POST",
            "/api/v1/accounts",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        ));
        assert_eq!(resp.status, 201, "{}", resp.text());
    }
    let code = h.stop_gateway("TERM", Duration::from_secs(30));
    assert_eq!(code, Some(0), "exit code after SIGTERM; log:\n{}", h.logs());
    let logs = h.logs();
    let audited = logs
        .lines()
        .filter(|l| {
            l.contains("\"route\":\"register-json\"") && l.contains("\"decision\":\"allow\"")
        })
        .count();
    assert_eq!(audited, 20, "one audit line per registration:\n{logs}");
    assert!(logs.contains("imgate stopped"), "{logs}");
}

/// The admin listener does not hold a half-sent request head forever (hyper's default): the connection is
/// closed after the head timeout, and whole requests are still served.
#[test]
fn the_admin_listener_closes_a_connection_whose_request_head_never_ends() {
    let h = Harness::start();
    let mut half = Connection::open(h.admin);
    half.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n");
    assert!(half.closed_within(Duration::from_secs(30)));
    let mut whole = Connection::open(h.admin);
    whole.send(&request("GET", "/healthz", &[], b""));
    assert_eq!(whole.read_response(false).status, 200);
}
