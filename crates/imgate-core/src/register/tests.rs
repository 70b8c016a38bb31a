//! Rule-engine tests: the shipped routes' specs, every violation at once, strict types,
//! repeated form fields, PII rewriting and spec errors.

use super::*;
use crate::body::{parse_strict_object, FormFields};

/// The `register` block of the shipped JSON route (`POST /api/v1/accounts`).
pub(crate) const SHIPPED_JSON: &str = r#"
body = "json"

[[fields]]
name = "real_name"
at = "/real_name"
validator = "person_name"

[[fields]]
name = "id_number"
at = "/id_number"
validator = "cn_resident_id"
allow_legacy_15 = false

[[fields]]
name = "phone"
at = "/phone"
validator = "cn_mobile"

[agreement]
accepted_at = "/agreement/accepted"
version_at = "/agreement/version"
current = "2014-08"
"#;

/// The `register` block of the shipped form route (`POST /legacy/register.do`).
pub(crate) const SHIPPED_FORM: &str = r#"
body = "form"

[[fields]]
name = "real_name"
validator = "person_name"

[[fields]]
name = "id_number"
validator = "cn_resident_id"

[[fields]]
name = "phone"
validator = "cn_mobile"

[agreement]
accepted_at = "agree"
version_at = "agreement_version"
current = "2014-08"
accepted_values = ["1", "on"]
"#;

fn today() -> Date {
    Date::new(2026, 11, 29).unwrap()
}

fn rule(toml_text: &str, context: &RegisterContext) -> RegisterRule {
    let spec: RegisterSpec = toml::from_str(toml_text).unwrap();
    RegisterRule::compile(&spec, context).unwrap()
}

fn spec_error(toml_text: &str, context: &RegisterContext) -> RegisterSpecError {
    let spec: RegisterSpec = toml::from_str(toml_text).unwrap();
    RegisterRule::compile(&spec, context).unwrap_err()
}

fn check_json(rule: &RegisterRule, raw: &str) -> Result<RegisterOutcome, Rejection> {
    let body = InspectedBody::Json(parse_strict_object(raw.as_bytes()).unwrap());
    rule.check(&body, raw.as_bytes(), today())
}

fn check_form(rule: &RegisterRule, raw: &str) -> Result<RegisterOutcome, Rejection> {
    let body = InspectedBody::Form(FormFields::parse(raw.as_bytes()).unwrap());
    rule.check(&body, raw.as_bytes(), today())
}

fn codes(r: &Rejection) -> Vec<&str> {
    r.violations.iter().map(|v| v.code.as_str()).collect()
}

const GOOD_JSON: &str = r#"{"username":"zs","password":"pw","real_name":"张三","id_number":"11010519491231002X","phone":"+86 138 1234 5678","agreement":{"accepted":true,"version":"2014-08"}}"#;
const GOOD_FORM: &str = "username=zs&password=pw&real_name=%E5%BC%A0%E4%B8%89&id_number=11010519491231002x&phone=13812345678&agree=on&agreement_version=2014-08";

#[test]
fn shipped_json_route_accepts_a_valid_registration_unchanged() {
    let r = rule(SHIPPED_JSON, &RegisterContext::default());
    let out = check_json(&r, GOOD_JSON).unwrap();
    assert_eq!(out.body, ForwardBody::Unchanged);
    assert_eq!(
        out.masked,
        vec![
            MaskedField {
                name: "id_number".into(),
                masked: "110105********002X".into()
            },
            MaskedField {
                name: "phone".into(),
                masked: "138****5678".into()
            },
        ]
    );
}

#[test]
fn shipped_form_route_accepts_a_valid_registration_unchanged() {
    let r = rule(SHIPPED_FORM, &RegisterContext::default());
    let out = check_form(&r, GOOD_FORM).unwrap();
    assert_eq!(out.body, ForwardBody::Unchanged);
    assert_eq!(out.masked.len(), 2);
    assert!(check_form(&r, &GOOD_FORM.replace("agree=on", "agree=1")).is_ok());
}

#[test]
fn every_violation_is_reported_at_once() {
    let r = rule(SHIPPED_JSON, &RegisterContext::default());
    let raw = r#"{"real_name":"张三3","id_number":"110105194912310021","phone":"12012345678","agreement":{"accepted":false,"version":"2013-01"}}"#;
    let rej = check_json(&r, raw).unwrap_err();
    assert_eq!(rej.status, 422);
    assert_eq!(rej.code, "registration.real_name.characters");
    assert_eq!(
        codes(&rej),
        vec![
            "registration.real_name.characters",
            "registration.id_number.checksum",
            "registration.phone.prefix",
            "registration.agreement.not_accepted",
            "registration.agreement.version",
        ]
    );
    assert_eq!(rej.violations[1].field, "/id_number");
    for v in &rej.violations {
        assert!(!v.message.contains("110105194912310021"), "{}", v.message);
        assert!(!v.message.contains("12012345678"), "{}", v.message);
        assert!(v.message.contains('/'), "names the field: {}", v.message);
    }
}

#[test]
fn missing_and_mistyped_fields() {
    let r = rule(SHIPPED_JSON, &RegisterContext::default());
    let raw = r#"{"real_name":null,"id_number":110105194912310020,"agreement":{"accepted":"true","version":201408}}"#;
    let rej = check_json(&r, raw).unwrap_err();
    assert_eq!(
        codes(&rej),
        vec![
            "registration.real_name.missing",
            "registration.id_number.type",
            "registration.phone.missing",
            "registration.agreement.not_accepted",
            "registration.agreement.version",
        ]
    );
    let rej = check_json(&r, "{}").unwrap_err();
    assert_eq!(rej.violations.len(), 5);
}

#[test]
fn older_agreement_versions_only_when_listed() {
    let text = SHIPPED_JSON.replace(
        "current = \"2014-08\"",
        "current = \"2014-08\"\nalso_accepted = [\"2013-01\"]",
    );
    let r = rule(&text, &RegisterContext::default());
    assert!(check_json(&r, &GOOD_JSON.replace("2014-08", "2013-01")).is_ok());
    assert!(check_json(&r, &GOOD_JSON.replace("2014-08", "2012-01")).is_err());
}

#[test]
fn form_violations_and_repeated_fields() {
    let r = rule(SHIPPED_FORM, &RegisterContext::default());
    let rej = check_form(&r, "real_name=%E5%BC%A0&id_number=110105491231002&phone=1381234567&agree=true&agreement_version=2014-08").unwrap_err();
    assert_eq!(
        codes(&rej),
        vec![
            "registration.real_name.length",
            "registration.id_number.legacy_disabled",
            "registration.phone.format",
            "registration.agreement.not_accepted",
        ]
    );
    let rej = check_form(&r, &format!("{GOOD_FORM}&phone=13912345678")).unwrap_err();
    assert_eq!(
        (rej.status, rej.code.as_ref()),
        (400, "body.repeated_field")
    );
    let rej = check_form(&r, &format!("{GOOD_FORM}&agree=0")).unwrap_err();
    assert_eq!(rej.code, "body.repeated_field");
    // A repeated field that no rule reads is the upstream's business.
    assert!(check_form(&r, &format!("{GOOD_FORM}&x=1&x=2")).is_ok());
}

#[test]
fn body_kind_mismatch_is_415() {
    let r = rule(SHIPPED_FORM, &RegisterContext::default());
    let body = InspectedBody::Json(parse_strict_object(GOOD_JSON.as_bytes()).unwrap());
    assert_eq!(
        r.check(&body, GOOD_JSON.as_bytes(), today())
            .unwrap_err()
            .status,
        415
    );
}

#[test]
fn pii_strip_and_hmac_rewrite_json() {
    let key = b"0123456789abcdef0123456789abcdef".to_vec();
    let text = SHIPPED_JSON
        .replace(
            "allow_legacy_15 = false",
            "allow_legacy_15 = false\npii = \"hmac\"",
        )
        .replace(
            "validator = \"cn_mobile\"",
            "validator = \"cn_mobile\"\npii = \"strip\"",
        );
    let ctx = RegisterContext {
        hmac_key: Some(key.clone()),
        divisions: None,
    };
    let r = rule(&text, &ctx);
    let out = check_json(&r, GOOD_JSON).unwrap();
    let ForwardBody::Replaced(bytes) = out.body else {
        panic!("expected a rewrite")
    };
    let expected_id = hmac_sha256_hex(&key, b"11010519491231002X");
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        format!(
            r#"{{"username":"zs","password":"pw","real_name":"张三","id_number":"{expected_id}","agreement":{{"accepted":true,"version":"2014-08"}}}}"#
        )
    );
    // The lower-case x spelling hashes to the same pseudonym.
    let out = check_json(&r, &GOOD_JSON.replace("002X", "002x")).unwrap();
    let ForwardBody::Replaced(bytes) = out.body else {
        panic!("expected a rewrite")
    };
    assert!(String::from_utf8(bytes).unwrap().contains(&expected_id));
}

#[test]
fn pii_rewrite_form() {
    let key = vec![7u8; 32];
    let text = SHIPPED_FORM
        .replace(
            "validator = \"cn_resident_id\"",
            "validator = \"cn_resident_id\"\npii = \"strip\"",
        )
        .replace(
            "validator = \"cn_mobile\"",
            "validator = \"cn_mobile\"\npii = \"hmac\"",
        );
    let r = rule(
        &text,
        &RegisterContext {
            hmac_key: Some(key.clone()),
            divisions: None,
        },
    );
    let out = check_form(&r, GOOD_FORM).unwrap();
    let phone = hmac_sha256_hex(&key, b"13812345678");
    assert_eq!(
        out.body,
        ForwardBody::Replaced(
            format!("username=zs&password=pw&real_name=%E5%BC%A0%E4%B8%89&phone={phone}&agree=on&agreement_version=2014-08")
                .into_bytes()
        )
    );
}

#[test]
fn generic_validators_on_operator_fields() {
    let text = r#"
body = "json"
[[fields]]
name = "username"
validator = "regex"
pattern = "[a-z][a-z0-9_]{2,15}"
message = "usernames are 3-16 lower-case letters, digits or _"
[[fields]]
name = "nickname"
validator = "length"
max_chars = 4
required = false
[[fields]]
name = "gender"
validator = "one_of"
values = ["f", "m", "x"]
[[fields]]
name = "adult"
at = "/flags/adult"
validator = "boolean_true"
[[fields]]
name = "channel"
validator = "equals"
value = 3
[[fields]]
name = "invite"
validator = "required"
[agreement]
accepted_at = "/agreement/accepted"
version_at = "/agreement/version"
current = "2014-08"
"#;
    let r = rule(text, &RegisterContext::default());
    let agreement = r#""agreement":{"accepted":true,"version":"2014-08"}"#;
    let ok = format!(
        r#"{{"username":"zs_1","gender":"x","flags":{{"adult":true}},"channel":3,"invite":{{}},{agreement}}}"#
    );
    assert!(check_json(&r, &ok).is_ok());
    let bad = format!(
        r#"{{"username":"Zs","nickname":"12345","gender":"F","flags":{{"adult":"true"}},"channel":"3",{agreement}}}"#
    );
    let rej = check_json(&r, &bad).unwrap_err();
    assert_eq!(
        codes(&rej),
        vec![
            "registration.username.pattern",
            "registration.nickname.length",
            "registration.gender.one_of",
            "registration.adult.type",
            "registration.channel.type",
            "registration.invite.missing",
        ]
    );
    assert_eq!(
        rej.violations[0].message,
        "usernames are 3-16 lower-case letters, digits or _"
    );
}

#[test]
fn spec_errors_name_the_key() {
    let ctx = RegisterContext::default();
    let with_field = |field: &str| {
        format!(
            "body = \"json\"\n[[fields]]\n{field}\n[agreement]\naccepted_at = \"/a\"\nversion_at = \"/v\"\ncurrent = \"1\"\n"
        )
    };
    let cases = [
        (
            "name = \"id\"\nat = \"id\"\nvalidator = \"cn_resident_id\"",
            "fields[0].at",
        ),
        (
            "name = \"id\"\nvalidator = \"cn_mobile\"\nmin_age = 18",
            "fields[0].min_age",
        ),
        ("name = \"u\"\nvalidator = \"regex\"", "fields[0].pattern"),
        (
            "name = \"u\"\nvalidator = \"regex\"\npattern = \"(\"",
            "fields[0].pattern",
        ),
        (
            "name = \"u\"\nvalidator = \"length\"",
            "fields[0].max_chars",
        ),
        (
            "name = \"u\"\nvalidator = \"length\"\nmin_chars = 5\nmax_chars = 2",
            "fields[0].max_chars",
        ),
        (
            "name = \"u\"\nvalidator = \"one_of\"\nvalues = []",
            "fields[0].values",
        ),
        (
            "name = \"p\"\nvalidator = \"cn_mobile\"\nprefixes = [\"2\"]",
            "fields[0].prefixes",
        ),
        (
            "name = \"p\"\nvalidator = \"cn_mobile\"\npii = \"hmac\"",
            "fields[0].pii",
        ),
        (
            "name = \"p\"\nvalidator = \"boolean_true\"\naccepted_values = [\"1\"]",
            "fields[0].accepted_values",
        ),
        (
            "name = \"Bad Name\"\nvalidator = \"required\"",
            "fields[0].name",
        ),
        (
            "name = \"agreement\"\nvalidator = \"required\"",
            "fields[0].name",
        ),
        (
            "name = \"n\"\nvalidator = \"person_name\"\nmin_chars = 0",
            "fields[0].min_chars",
        ),
        (
            "name = \"n\"\nvalidator = \"person_name\"\nat = \"/a~2\"",
            "fields[0].at",
        ),
    ];
    for (field, key) in cases {
        let e = spec_error(&with_field(field), &ctx);
        assert_eq!(e.key, key, "{field}: {e}");
    }
    // A short hmac key is refused.
    let short = RegisterContext {
        hmac_key: Some(vec![1; 8]),
        divisions: None,
    };
    let e = spec_error(
        &with_field("name = \"p\"\nvalidator = \"cn_mobile\"\npii = \"hmac\""),
        &short,
    );
    assert_eq!(e.key, "fields[0].pii");
    // Agreement keys.
    let e = spec_error(
        &SHIPPED_JSON.replace("current = \"2014-08\"", "current = \"\""),
        &ctx,
    );
    assert_eq!(e.key, "agreement.current");
    let e = spec_error(
        &SHIPPED_FORM.replace("accepted_at = \"agree\"", "accepted_at = \"a&b\""),
        &ctx,
    );
    assert_eq!(e.key, "agreement.accepted_at");
    // Unknown keys are refused by serde.
    assert!(toml::from_str::<RegisterSpec>(
        &SHIPPED_JSON.replace("body = \"json\"", "body = \"json\"\nbogus = 1")
    )
    .is_err());
    assert!(toml::from_str::<RegisterSpec>(
        &SHIPPED_JSON.replace("allow_legacy_15 = false", "allow_legacy_16 = false")
    )
    .is_err());
    // The agreement table is mandatory.
    assert!(toml::from_str::<RegisterSpec>("body = \"json\"").is_err());
}

#[test]
fn legacy_numbers_and_minimum_age_from_the_spec() {
    let text = SHIPPED_JSON.replace(
        "allow_legacy_15 = false",
        "allow_legacy_15 = true\nmin_age = 18",
    );
    let r = rule(&text, &RegisterContext::default());
    let out = check_json(
        &r,
        &GOOD_JSON.replace("11010519491231002X", "110105491231002"),
    )
    .unwrap();
    assert_eq!(out.masked[0].masked, "110105********002X");
    let minor = {
        let body = "11010520101129001";
        let c = crate::validate::check_char(body.as_bytes()).unwrap();
        format!("{body}{}", char::from(c))
    };
    let rej = check_json(&r, &GOOD_JSON.replace("11010519491231002X", &minor)).unwrap_err();
    assert_eq!(codes(&rej), vec!["registration.id_number.too_young"]);
}
