//! The `jwt` identity source with keys committed under tests/data/jwt/ (test-only keys).

mod lookups_common;

use imgate::lookups::{build_identity, IdentitySource, IdentitySpec};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use lookups_common::request;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jwt")
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn source(keys: &str) -> Arc<dyn IdentitySource> {
    let text = format!(
        r#"
kind = "jwt"
keys = {keys}
issuer = "https://auth.example"
audience = "imgate"
leeway = "5s"
"#
    );
    let spec: IdentitySpec = toml::from_str(&text).unwrap();
    let dir = data_dir();
    let ctx = imgate::lookups::BuildContext {
        base_dir: &dir,
        upstream_base: "http://127.0.0.1:1".into(),
        runtime: tokio::runtime::Handle::current(),
    };
    build_identity(&spec, &ctx).unwrap()
}

fn all_keys() -> Arc<dyn IdentitySource> {
    source(
        r#"[
  { algorithm = "HS256", file = "hs256.secret" },
  { algorithm = "RS256", file = "rs256.pub.pem", kid = "rsa-1" },
  { algorithm = "ES256", file = "es256.pub.pem" },
]"#,
    )
}

fn claims() -> Value {
    json!({"sub": "u-xinhua", "iss": "https://auth.example", "aud": "imgate", "exp": now() + 300, "iat": now()})
}

fn sign(alg: Algorithm, key_file: &str, claims: &Value, kid: Option<&str>) -> String {
    let bytes = std::fs::read(data_dir().join(key_file)).unwrap();
    let key = match alg {
        Algorithm::HS256 => EncodingKey::from_secret(bytes.strip_suffix(b"\n").unwrap()).unwrap(),
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&bytes).unwrap(),
        Algorithm::ES256 => EncodingKey::from_ec_pem(&bytes).unwrap(),
        other => panic!("{other:?}"),
    };
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    encode(&header, claims, &key).unwrap()
}

async fn code(source: &Arc<dyn IdentitySource>, token: &str) -> Result<String, &'static str> {
    source
        .identify(&request(Some(&format!("Bearer {token}"))), None)
        .await
        .map(|id| id.account_id)
        .map_err(|e| e.code())
}

#[tokio::test]
async fn verifies_each_algorithm() {
    let s = all_keys();
    for (alg, file) in [
        (Algorithm::HS256, "hs256.secret"),
        (Algorithm::RS256, "rs256.key.pem"),
        (Algorithm::ES256, "es256.key.pem"),
    ] {
        let token = sign(alg, file, &claims(), None);
        assert_eq!(code(&s, &token).await, Ok("u-xinhua".into()), "{alg:?}");
    }
    let token = sign(Algorithm::RS256, "rs256.key.pem", &claims(), Some("rsa-1"));
    assert_eq!(code(&s, &token).await, Ok("u-xinhua".into()));
}

#[tokio::test]
async fn refuses_bad_tokens() {
    let s = all_keys();
    let invalid = Err("identity.invalid");

    let mut expired = claims();
    expired["exp"] = json!(now() - 60);
    for (alg, file) in [
        (Algorithm::HS256, "hs256.secret"),
        (Algorithm::RS256, "rs256.key.pem"),
        (Algorithm::ES256, "es256.key.pem"),
    ] {
        assert_eq!(
            code(&s, &sign(alg, file, &expired, None)).await,
            invalid,
            "expired {alg:?}"
        );
    }

    let mut issuer = claims();
    issuer["iss"] = json!("https://evil.example");
    assert_eq!(
        code(&s, &sign(Algorithm::RS256, "rs256.key.pem", &issuer, None)).await,
        invalid
    );

    let mut audience = claims();
    audience["aud"] = json!("another-service");
    assert_eq!(
        code(
            &s,
            &sign(Algorithm::ES256, "es256.key.pem", &audience, None)
        )
        .await,
        invalid
    );

    let mut no_aud = claims();
    no_aud.as_object_mut().unwrap().remove("aud");
    assert_eq!(
        code(&s, &sign(Algorithm::HS256, "hs256.secret", &no_aud, None)).await,
        invalid
    );

    let mut no_exp = claims();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        code(&s, &sign(Algorithm::HS256, "hs256.secret", &no_exp, None)).await,
        invalid
    );

    // nbf given as a string must not bypass the check (the jsonwebtoken < 10.3 bug).
    let mut nbf = claims();
    nbf["nbf"] = json!("99999999999");
    assert_eq!(
        code(&s, &sign(Algorithm::HS256, "hs256.secret", &nbf, None)).await,
        invalid
    );
    let mut future = claims();
    future["nbf"] = json!(now() + 3600);
    assert_eq!(
        code(&s, &sign(Algorithm::HS256, "hs256.secret", &future, None)).await,
        invalid
    );

    // Signed by a key that is not configured.
    let forged = sign(Algorithm::RS256, "other-rs256.key.pem", &claims(), None);
    assert_eq!(code(&s, &forged).await, invalid);
    // A valid token with one byte of the signature changed.
    let good = sign(Algorithm::ES256, "es256.key.pem", &claims(), None);
    let mut tampered = good.into_bytes();
    let last = tampered.len() - 2;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert_eq!(
        code(&s, std::str::from_utf8(&tampered).unwrap()).await,
        invalid
    );
    // kid naming another key.
    let wrong_kid = sign(Algorithm::RS256, "rs256.key.pem", &claims(), Some("rsa-2"));
    assert_eq!(code(&s, &wrong_kid).await, invalid);
    // Garbage and the classic alg=none.
    assert_eq!(code(&s, "not.a.jwt").await, invalid);
    let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1LXhpbmh1YSJ9.";
    assert_eq!(code(&s, none).await, invalid);

    let err = s.identify(&request(None), None).await.unwrap_err();
    assert_eq!(err.code(), "identity.missing");
}

#[tokio::test]
async fn algorithm_is_bound_to_its_key() {
    // Only an RS256 key: an HS256 token "signed" with the RSA public key's PEM (the
    // classic key-confusion attack) must fail.
    let s = source(r#"[{ algorithm = "RS256", file = "rs256.pub.pem" }]"#);
    let public_pem = std::fs::read(data_dir().join("rs256.pub.pem")).unwrap();
    let token = encode(
        &Header::new(Algorithm::HS256),
        &claims(),
        &EncodingKey::from_secret(&public_pem).unwrap(),
    )
    .unwrap();
    assert_eq!(code(&s, &token).await, Err("identity.invalid"));
}

#[tokio::test]
async fn leeway_and_claim_are_configurable() {
    let mut just_expired = claims();
    just_expired["exp"] = json!(now() - 2);
    let s = all_keys();
    let token = sign(Algorithm::HS256, "hs256.secret", &just_expired, None);
    assert_eq!(
        code(&s, &token).await,
        Ok("u-xinhua".into()),
        "within 5s leeway"
    );

    let spec: IdentitySpec = toml::from_str(
        r#"
kind = "jwt"
keys = [{ algorithm = "HS256", file = "hs256.secret" }]
claim = "/ext/account"
"#,
    )
    .unwrap();
    let dir = data_dir();
    let ctx = imgate::lookups::BuildContext {
        base_dir: &dir,
        upstream_base: String::new(),
        runtime: tokio::runtime::Handle::current(),
    };
    let s = build_identity(&spec, &ctx).unwrap();
    let nested = json!({"sub": "ignored", "ext": {"account": 1042}, "exp": now() + 60});
    let token = sign(Algorithm::HS256, "hs256.secret", &nested, None);
    assert_eq!(code(&s, &token).await, Ok("1042".into()));
}

#[tokio::test]
async fn bad_key_files_are_config_errors() {
    let dir = data_dir();
    let ctx = imgate::lookups::BuildContext {
        base_dir: &dir,
        upstream_base: String::new(),
        runtime: tokio::runtime::Handle::current(),
    };
    let build = |keys: &str| {
        let spec: IdentitySpec =
            toml::from_str(&format!("kind = \"jwt\"\nkeys = {keys}\n")).unwrap();
        build_identity(&spec, &ctx).map(|_| ()).unwrap_err()
    };
    let err = build(r#"[{ algorithm = "RS256", file = "missing.pem" }]"#);
    assert_eq!(err.key, "keys[0].file");
    let err = build(
        r#"[{ algorithm = "HS256", file = "hs256.secret" }, { algorithm = "ES256", file = "rs256.pub.pem" }]"#,
    );
    assert_eq!(err.key, "keys[1].file", "{err}");
    let short = tempfile::tempdir().unwrap();
    std::fs::write(short.path().join("short.secret"), "too-short\n").unwrap();
    let file = short.path().join("short.secret");
    let err = build(&format!(
        "[{{ algorithm = \"HS256\", file = {:?} }}]",
        file.display().to_string()
    ));
    assert!(
        err.key == "keys[0].file" && err.message.contains("32 bytes"),
        "{err}"
    );
    assert_eq!(build("[]").key, "keys");
}
