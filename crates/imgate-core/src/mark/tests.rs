//! End-to-end tests of `MarkRule`: the demo's response shapes, the authoritative marker,
//! byte preservation, errors, and properties over random documents.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;

const FIELD: &str = "verified_publisher";

fn spec(select: &[&str]) -> MarkSpec {
    MarkSpec {
        select: select.iter().map(|s| (*s).to_owned()).collect(),
        id_field: Some("id".to_owned()),
        id_from_path: None,
        field: FIELD.to_owned(),
        approved_value: Value::Bool(true),
        others: Others::False,
        header: Some("X-Verified-Publisher".to_owned()),
        max_body: None,
    }
}

fn rule(select: &[&str]) -> MarkRule {
    compile(&spec(select))
}

fn compile(spec: &MarkSpec) -> MarkRule {
    MarkRule::compile(spec).unwrap_or_else(|e| panic!("{spec:?}: {e}"))
}

/// Runs `rule` with an approved set, recording every id the callback was asked about.
fn run_with(
    rule: &MarkRule,
    body: &str,
    path: Option<&str>,
    approved: &[&str],
) -> (Result<MarkOutput, MarkError>, Vec<String>) {
    let set: HashSet<&str> = approved.iter().copied().collect();
    let mut asked = Vec::new();
    let out = rule.apply(body.as_bytes(), path, &mut |id: &str| {
        asked.push(id.to_owned());
        set.contains(id)
    });
    (out, asked)
}

fn marked(rule: &MarkRule, body: &str, approved: &[&str]) -> (String, MarkOutput) {
    let (out, _) = run_with(rule, body, None, approved);
    let out = out.unwrap_or_else(|e| panic!("{body}: {e}"));
    let text = String::from_utf8(out.body.bytes(body.as_bytes()).to_vec())
        .unwrap_or_else(|e| panic!("not UTF-8: {e}"));
    (text, out)
}

fn demo_post(id: &str, author: &str, extra: &str) -> String {
    format!(
        r#"{{"id":"{id}","author":{{"id":"u-{author}","username":"{author}","display_name":"{author}"{extra}}},"title":null,"content":"hello from {author}","category":null,"reprint":null,"created_at":"2026-11-02T10:00:00Z"}}"#
    )
}

#[test]
fn demo_timeline() {
    let body = format!(
        r#"{{"posts":[{},{},{},{}]}}"#,
        demo_post("p-4", "mallory", r#","verified_publisher":true"#),
        demo_post("p-3", "xinhua", ""),
        demo_post("p-2", "alice", ""),
        demo_post("p-1", "xinhua", ""),
    );
    let expected = format!(
        r#"{{"posts":[{},{},{},{}]}}"#,
        demo_post("p-4", "mallory", r#","verified_publisher":false"#),
        demo_post("p-3", "xinhua", r#","verified_publisher":true"#),
        demo_post("p-2", "alice", r#","verified_publisher":false"#),
        demo_post("p-1", "xinhua", r#","verified_publisher":true"#),
    );
    let rule = rule(&["posts[*].author"]);
    let (out, asked) = run_with(&rule, &body, None, &["u-xinhua"]);
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.body, MarkedBody::Rewritten(expected.into_bytes()));
    assert_eq!((out.marked, out.approved), (4, 2));
    assert_eq!(out.single_account, None);
    assert_eq!(out.header_value(), None);
    // Once per distinct account, in document order.
    assert_eq!(asked, ["u-mallory", "u-xinhua", "u-alice"]);
}

#[test]
fn demo_post_and_account() {
    let post = rule(&["post.author"]);
    let body = format!(r#"{{"post":{}}}"#, demo_post("p-1", "xinhua", ""));
    let (text, out) = marked(&post, &body, &["u-xinhua"]);
    assert_eq!(
        text,
        format!(
            r#"{{"post":{}}}"#,
            demo_post("p-1", "xinhua", r#","verified_publisher":true"#)
        )
    );
    assert_eq!(out.single_account, Some(true));
    assert_eq!(out.header_value(), Some("true"));

    let account = rule(&["account"]);
    let body = r#"{"account":{"id":"u-mallory","username":"mallory","display_name":"mallory","verified_publisher":true}}"#;
    let (text, out) = marked(&account, body, &["u-xinhua"]);
    assert_eq!(
        text,
        r#"{"account":{"id":"u-mallory","username":"mallory","display_name":"mallory","verified_publisher":false}}"#
    );
    assert_eq!(out.header_value(), Some("false"));
    assert_eq!((out.marked, out.approved), (1, 0));
}

#[test]
fn many_distinct_accounts_are_each_asked_once() {
    // More accounts than the memo keeps in its short list: every account is still asked
    // exactly once, and every object gets its own answer.
    let posts: Vec<String> = (0..3)
        .flat_map(|_| (0..40).map(|n| demo_post(&format!("p-{n}"), &format!("a{n}"), "")))
        .collect();
    let body = format!(r#"{{"posts":[{}]}}"#, posts.join(","));
    let approved: Vec<String> = (0..40).step_by(3).map(|n| format!("u-a{n}")).collect();
    let approved: Vec<&str> = approved.iter().map(String::as_str).collect();
    let (out, asked) = run_with(&rule(&["posts[*].author"]), &body, None, &approved);
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    let expected: Vec<String> = (0..40).map(|n| format!("u-a{n}")).collect();
    assert_eq!(asked, expected);
    assert_eq!((out.marked, out.approved), (120, 3 * approved.len()));
    let text = String::from_utf8(out.body.into_bytes(body.as_bytes())).unwrap_or_default();
    for n in 0..40 {
        let want = if n % 3 == 0 { "true" } else { "false" };
        let marker = format!(r#""display_name":"a{n}","verified_publisher":{want}}}"#);
        assert_eq!(text.matches(&marker).count(), 3, "account a{n}");
    }
}

#[test]
fn same_account_twice_is_a_single_account() {
    let r = rule(&["post.author", "post.replies[*].author"]);
    let body = r#"{"post":{"author":{"id":"u-x"},"replies":[{"author":{"id":"u-x"}}]}}"#;
    let (out, asked) = run_with(&r, body, None, &["u-x"]);
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(asked, ["u-x"]);
    assert_eq!(out.marked, 2);
    assert_eq!(out.single_account, Some(true));
    let body = r#"{"post":{"author":{"id":"u-x"},"replies":[{"author":{}}]}}"#;
    let (_, out) = marked(&r, body, &["u-x"]);
    assert_eq!(out.single_account, None);
}

#[test]
fn spoofed_and_duplicated_markers_are_overwritten() {
    let r = rule(&["account"]);
    let body = r#"{"account":{"verified_publisher":true,"id":"u-mallory","verified_publisher":"yes","x":1,"verified_publisher":true}}"#;
    let (text, _) = marked(&r, body, &[]);
    assert_eq!(
        text,
        r#"{"account":{"verified_publisher":false,"id":"u-mallory","x":1}}"#
    );
    // Approved, with the first copy already right: only the extra copies go.
    let body = r#"{"account":{"id":"u-x","verified_publisher":true,"verified_publisher":false}}"#;
    let (text, _) = marked(&r, body, &["u-x"]);
    assert_eq!(
        text,
        r#"{"account":{"id":"u-x","verified_publisher":true}}"#
    );
    // A marker spelled with escapes is still the marker.
    let body = r#"{"account":{"id":"u-m","verified\u005fpublisher":true}}"#;
    let (text, _) = marked(&r, body, &[]);
    assert_eq!(
        text,
        r#"{"account":{"id":"u-m","verified\u005fpublisher":false}}"#
    );
    // An object or array in the marker is replaced wholesale, whatever it contains.
    let body =
        r#"{"account":{"id":"u-m","verified_publisher":{"verified_publisher":true,"id":"u-x"}}}"#;
    let (text, _) = marked(
        &rule(&["account", "account.verified_publisher"]),
        body,
        &["u-x"],
    );
    assert_eq!(
        text,
        r#"{"account":{"id":"u-m","verified_publisher":false}}"#
    );
}

#[test]
fn unchanged_when_already_right_but_still_counted() {
    let r = rule(&["account"]);
    let body = r#"{"account":{"id":"u-x","verified_publisher":true}}"#;
    let (out, _) = run_with(&r, body, None, &["u-x"]);
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.body, MarkedBody::Unchanged);
    assert_eq!((out.marked, out.approved), (1, 1));
    // Same bytes, wrong account: must change.
    let (out, _) = run_with(&r, body, None, &[]);
    assert!(matches!(
        out,
        Ok(MarkOutput {
            body: MarkedBody::Rewritten(_),
            ..
        })
    ));
    // `true ` with different spelling (` true` is whitespace, not value) is fine, but
    // `1` is not `true`.
    let body = r#"{"account":{"id":"u-x","verified_publisher":1}}"#;
    let (text, _) = marked(&r, body, &["u-x"]);
    assert_eq!(
        text,
        r#"{"account":{"id":"u-x","verified_publisher":true}}"#
    );
}

#[test]
fn remove_mode() {
    let mut s = spec(&["posts[*].author"]);
    s.others = Others::Remove;
    let r = compile(&s);
    let body = r#"{"posts":[{"author":{"verified_publisher":true,"id":"u-m"}},{"author":{"id":"u-a","verified_publisher":false}},{"author":{"id":"u-x"}},{"author":{"id":"u-b"}}]}"#;
    let (text, out) = marked(&r, body, &["u-x"]);
    assert_eq!(
        text,
        r#"{"posts":[{"author":{"id":"u-m"}},{"author":{"id":"u-a"}},{"author":{"id":"u-x","verified_publisher":true}},{"author":{"id":"u-b"}}]}"#
    );
    assert_eq!((out.marked, out.approved), (4, 1));
    // Nothing to remove: unchanged.
    let (out, _) = run_with(&r, r#"{"posts":[{"author":{"id":"u-b"}}]}"#, None, &[]);
    assert_eq!(out.map(|o| o.body), Ok(MarkedBody::Unchanged));
}

#[test]
fn custom_approved_value() {
    let mut s = spec(&["account"]);
    s.approved_value = json!({"since": 2014, "by": "CAC"});
    let r = compile(&s);
    let (text, _) = marked(&r, r#"{"account":{"id":"u-x"}}"#, &["u-x"]);
    assert_eq!(
        text,
        r#"{"account":{"id":"u-x","verified_publisher":{"since":2014,"by":"CAC"}}}"#
    );
    assert_eq!(r.approved_value_json(), br#"{"since":2014,"by":"CAC"}"#);
}

#[test]
fn pretty_input_is_preserved_outside_the_edits() {
    let r = rule(&["posts[*].author"]);
    let body = "{\n  \"posts\" : [\n    {\n      \"id\": \"p-1\",\n      \"author\": {\n        \"id\": \"u-xinhua\",\n        \"score\": 1.50e+2,\n        \"bio\": \"\\u65b0\\u534e\\/news\"\n      },\n      \"content\": \"x\"\n    },\n    {\n      \"author\": {\n        \"verified_publisher\"  :  true ,\n        \"id\": \"u-mallory\"\n      }\n    },\n\t{ \"author\" : { } }\n  ]\n}\n";
    let expected = "{\n  \"posts\" : [\n    {\n      \"id\": \"p-1\",\n      \"author\": {\n        \"id\": \"u-xinhua\",\n        \"score\": 1.50e+2,\n        \"bio\": \"\\u65b0\\u534e\\/news\",\"verified_publisher\":true\n      },\n      \"content\": \"x\"\n    },\n    {\n      \"author\": {\n        \"verified_publisher\"  :  false ,\n        \"id\": \"u-mallory\"\n      }\n    },\n\t{ \"author\" : { \"verified_publisher\":false} }\n  ]\n}\n";
    let (text, out) = marked(&r, body, &["u-xinhua"]);
    assert_eq!(text, expected);
    assert_eq!((out.marked, out.approved), (3, 1));
}

#[test]
fn escaped_ids_are_decoded() {
    let r = rule(&["account"]);
    let (out, asked) = run_with(
        &r,
        r#"{"account":{"id":"u-\u0078inhua"}}"#,
        None,
        &["u-xinhua"],
    );
    assert_eq!(asked, ["u-xinhua"]);
    assert_eq!(out.map(|o| o.approved), Ok(1));
    let (_, asked) = run_with(&r, r#"{"account":{"id":"\ud83d\ude00\n\"q"}}"#, None, &[]);
    assert_eq!(asked, ["😀\n\"q"]);
}

#[test]
fn unusable_ids_are_never_approved() {
    let r = rule(&["posts[*]"]);
    let body = r#"{"posts":[{"id":7},{"id":null},{"id":{"id":"u-x"}},{"name":"u-x"},{"id":""},{"id":["u-x"]}]}"#;
    let (out, asked) = run_with(&r, body, None, &["u-x", "7", ""]);
    assert!(asked.is_empty(), "asked about {asked:?}");
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!((out.marked, out.approved), (6, 0));
    let text = String::from_utf8(out.body.into_bytes(body.as_bytes())).unwrap_or_default();
    assert_eq!(text.matches(r#""verified_publisher":false"#).count(), 6);
}

#[test]
fn nested_rooms_and_top_level_arrays() {
    let r = rule(&["rooms.*.timeline.events[*].sender"]);
    let body = r#"{"rooms":{"!a":{"timeline":{"events":[{"sender":{"id":"u-x"}},{"sender":{"id":"u-y"}}]}},"!b":{"timeline":{"events":[]}},"!c":{"state":{}}}}"#;
    let (text, out) = marked(&r, body, &["u-x"]);
    assert_eq!(
        text,
        r#"{"rooms":{"!a":{"timeline":{"events":[{"sender":{"id":"u-x","verified_publisher":true}},{"sender":{"id":"u-y","verified_publisher":false}}]}},"!b":{"timeline":{"events":[]}},"!c":{"state":{}}}}"#
    );
    assert_eq!(out.marked, 2);

    let r = rule(&["[*]"]);
    let (text, _) = marked(&r, r#"[{"id":"u-x"},{},null,3,[{"id":"u-x"}]]"#, &["u-x"]);
    assert_eq!(
        text,
        r#"[{"id":"u-x","verified_publisher":true},{"verified_publisher":false},null,3,[{"id":"u-x"}]]"#
    );
    let r = rule(&["[*].author"]);
    let (text, _) = marked(&r, r#"[{"author":{"id":"u-x"}}]"#, &[]);
    assert_eq!(
        text,
        r#"[{"author":{"id":"u-x","verified_publisher":false}}]"#
    );
    let r = rule(&["$"]);
    let (text, _) = marked(&r, r#"{"id":"u-x"}"#, &["u-x"]);
    assert_eq!(text, r#"{"id":"u-x","verified_publisher":true}"#);
}

#[test]
fn nested_selected_objects_are_each_marked() {
    let r = rule(&["a", "a.b", "a.*"]);
    let body = r#"{"a":{"id":"o","b":{"id":"i","verified_publisher":1}}}"#;
    let (text, out) = marked(&r, body, &["i"]);
    assert_eq!(
        text,
        r#"{"a":{"id":"o","b":{"id":"i","verified_publisher":true},"verified_publisher":false}}"#
    );
    assert_eq!(out.marked, 2);
}

#[test]
fn selectors_that_match_nothing() {
    let r = rule(&["post.author"]);
    for body in [
        r#"{"error":{"code":"not_found","message":"no such post"}}"#,
        r#"[]"#,
        r#""text""#,
        r#"{"post":null}"#,
        r#"{"post":{"author":"u-x"}}"#,
    ] {
        let (out, asked) = run_with(&r, body, None, &["u-x"]);
        assert!(asked.is_empty());
        assert_eq!(
            out,
            Ok(MarkOutput {
                body: MarkedBody::Unchanged,
                marked: 0,
                approved: 0,
                single_account: None
            }),
            "{body}"
        );
    }
}

#[test]
fn ids_from_path_params() {
    let mut s = spec(&["account"]);
    s.id_field = None;
    s.id_from_path = Some("id".to_owned());
    let r = compile(&s);
    assert_eq!(r.path_param(), Some("id"));
    let body = r#"{"account":{"id":"u-mallory","verified_publisher":true}}"#;
    let (out, asked) = run_with(&r, body, Some("u-xinhua"), &["u-xinhua"]);
    assert_eq!(asked, ["u-xinhua"]);
    let out = out.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.single_account, Some(true));
    // The body's own id is not consulted: the path names the account.
    assert_eq!(out.body, MarkedBody::Unchanged);
    let (out, _) = run_with(&r, body, Some("u-mallory"), &["u-xinhua"]);
    assert_eq!(
        out.map(|o| o.body),
        Ok(MarkedBody::Rewritten(
            br#"{"account":{"id":"u-mallory","verified_publisher":false}}"#.to_vec()
        ))
    );
    // Path ids do not make duplicate id members in the body an error.
    let (out, _) = run_with(&r, r#"{"account":{"id":1,"id":2}}"#, Some("u-a"), &[]);
    assert!(out.is_ok());
    // An error body selects nothing: the callback is not needed.
    let (out, asked) = run_with(&r, r#"{"error":"gone"}"#, Some("u-a"), &[]);
    assert!(asked.is_empty());
    assert_eq!(out.map(|o| o.body), Ok(MarkedBody::Unchanged));
    let (out, _) = run_with(&r, body, None, &[]);
    assert_eq!(out, Err(MarkError::MissingPathParam));
}

#[test]
fn errors_fail_closed() {
    let r = rule(&["posts[*].author"]);
    let cases: &[(&[u8], &str)] = &[
        (b"", "mark.malformed_json"),
        (b"<html>502</html>", "mark.malformed_json"),
        (
            br#"{"posts":[{"author":{"id":"u-x"}}]"#,
            "mark.malformed_json",
        ),
        (
            br#"{"posts":[{"author":{"id":"u-x",}}]}"#,
            "mark.malformed_json",
        ),
        (b"{\"posts\":[],\"x\":\"\xc3\x28\"}", "mark.invalid_utf8"),
        (
            br#"{"posts":[{"author":{"id":"\udc00"}}]}"#,
            "mark.lone_surrogate",
        ),
        (br#"{"bio":"\ud83d"}"#, "mark.lone_surrogate"),
        (br#"{"posts":[]}garbage"#, "mark.trailing_data"),
        (br#"{"posts":[]}{"posts":[]}"#, "mark.trailing_data"),
        (
            br#"{"posts":[{"author":{"id":"u-x","id":"u-y"}}]}"#,
            "mark.duplicate_id",
        ),
        (
            br#"{"posts":[{"author":{"id":"u-x","id":7}}]}"#,
            "mark.duplicate_id",
        ),
        (
            br#"{"posts":[{"author":{"id":"u-x","\u0069d":"u-y"}}]}"#,
            "mark.duplicate_id",
        ),
    ];
    for (body, code) in cases {
        let out = r.apply(body, None, &mut |_| true);
        assert_eq!(
            out.as_ref().err().map(MarkError::code),
            Some(*code),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    let deep = format!(
        r#"{{"posts":{}{}}}"#,
        "[".repeat(MAX_DEPTH + 1),
        "]".repeat(MAX_DEPTH + 1)
    );
    assert!(matches!(
        r.apply(deep.as_bytes(), None, &mut |_| true),
        Err(MarkError::TooDeep { .. })
    ));
    let mut small = spec(&["account"]);
    small.max_body = Some(10);
    let small = compile(&small);
    assert_eq!(
        small.apply(br#"{"account":{}}"#, None, &mut |_| true),
        Err(MarkError::TooLarge { len: 14, limit: 10 })
    );
}

#[test]
fn spec_from_toml_for_the_demo_routes() {
    let toml_text = r#"
[timeline]
select = ["posts[*].author"]
id_field = "id"
field = "verified_publisher"
approved_value = true
others = "false"
header = "X-Verified-Publisher"
max_body = 1048576

[post]
select = ["post.author"]
id_field = "id"
field = "verified_publisher"
header = "X-Verified-Publisher"

[account]
select = ["account"]
id_from_path = "id"
field = "verified_publisher"
others = "remove"
"#;
    let specs: HashMap<String, MarkSpec> =
        toml::from_str(toml_text).unwrap_or_else(|e| panic!("{e}"));
    let timeline = compile(&specs["timeline"]);
    assert_eq!(timeline.max_body(), 1_048_576);
    assert_eq!(timeline.header(), Some("X-Verified-Publisher"));
    let post = compile(&specs["post"]);
    assert_eq!(post.max_body(), DEFAULT_MAX_BODY);
    assert_eq!(post.others(), Others::False);
    assert_eq!(post.approved_value_json(), b"true");
    let account = compile(&specs["account"]);
    assert_eq!(account.id_source(), &IdSource::PathParam("id".to_owned()));
    assert_eq!(account.others(), Others::Remove);

    // The config layer's own size type: parsed there, mapped to bytes here.
    #[derive(serde::Deserialize)]
    struct Size(String);
    let spec: MarkSpec<Size> = toml::from_str(
        "select = [\"account\"]\nid_field = \"id\"\nfield = \"m\"\nmax_body = \"1MiB\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let spec = spec.map_max_body(|Size(text)| if text == "1MiB" { 1 << 20 } else { 0 });
    assert_eq!(compile(&spec).max_body(), 1 << 20);

    let unknown = toml::from_str::<MarkSpec>(
        "select = [\"account\"]\nid_field = \"id\"\nfield = \"m\"\nfeild = \"x\"\n",
    );
    assert!(unknown.is_err_and(|e| e.to_string().contains("feild")));
    let bad_others = toml::from_str::<MarkSpec>(
        "select = [\"a\"]\nid_field = \"id\"\nfield = \"m\"\nothers = \"null\"\n",
    );
    assert!(bad_others.is_err());
}

#[test]
fn spec_errors() {
    let check = |edit: &dyn Fn(&mut MarkSpec), expected: MarkSpecError| {
        let mut s = spec(&["account"]);
        edit(&mut s);
        assert_eq!(MarkRule::compile(&s).err(), Some(expected));
    };
    check(&|s| s.select.clear(), MarkSpecError::NoSelectors);
    // 13 selectors whose paths multiply (selector i names a key at level i only):
    // refused when the rule compiles, not when a body arrives.
    check(
        &|s| s.select = super::dfa::exponential_selectors(13),
        MarkSpecError::TooComplex { limit: 4096 },
    );
    check(
        &|s| s.select.push("posts[0]".to_owned()),
        MarkSpecError::Selector {
            index: 1,
            selector: "posts[0]".to_owned(),
            source: SelectorError {
                column: 7,
                kind: SelectorErrorKind::ExpectedBracketContent,
            },
        },
    );
    check(&|s| s.id_field = None, MarkSpecError::IdSource);
    check(
        &|s| s.id_from_path = Some("id".to_owned()),
        MarkSpecError::IdSource,
    );
    check(
        &|s| s.id_field = Some(String::new()),
        MarkSpecError::Empty { key: "id_field" },
    );
    check(
        &|s| s.field = String::new(),
        MarkSpecError::Empty { key: "field" },
    );
    check(
        &|s| s.field = "id".to_owned(),
        MarkSpecError::FieldIsIdField,
    );
    check(
        &|s| s.approved_value = Value::Bool(false),
        MarkSpecError::IndistinguishableValues,
    );
    check(
        &|s| s.header = Some("X Verified".to_owned()),
        MarkSpecError::InvalidHeaderName {
            name: "X Verified".to_owned(),
        },
    );
    check(
        &|s| s.header = Some("Content-Length".to_owned()),
        MarkSpecError::ReservedHeaderName {
            name: "Content-Length".to_owned(),
        },
    );
    check(&|s| s.max_body = Some(0), MarkSpecError::ZeroMaxBody);
    check(
        &|s| s.max_body = Some(super::spec::MAX_MAX_BODY + 1),
        MarkSpecError::MaxBodyTooLarge {
            limit: super::spec::MAX_MAX_BODY,
        },
    );
    let mut s = spec(&["account"]);
    s.others = Others::Remove;
    s.approved_value = Value::Bool(false);
    assert!(
        MarkRule::compile(&s).is_ok(),
        "present-false vs absent is distinguishable"
    );
    let msg = MarkRule::compile(&spec(&["a.", "b"]))
        .err()
        .map(|e| e.to_string());
    assert_eq!(
        msg.as_deref(),
        Some("`select[0]` (`a.`): column 3: expected a key or `*` after `.`")
    );
}

// ---------------------------------------------------------------------------------
// Properties over random documents.
// ---------------------------------------------------------------------------------

const KEYS: &[&str] = &[
    "posts", "post", "author", "account", "id", FIELD, "rooms", "events", "x", "a.b", "é\"",
];
const STRINGS: &[&str] = &[
    "u-a",
    "u-b",
    "u-c",
    "",
    "u-\"q\\",
    "u-\u{1}\n",
    "新华",
    "😀",
];
const SELECTORS: &[&str] = &[
    "posts[*].author",
    "post.author",
    "account",
    "*",
    "[*]",
    "*.author",
    "rooms.*.events[*]",
    "$",
    "posts[*]",
    "[*].author",
    r#"["a.b"].id"#,
    "*.*",
    "x.*",
    "x[*].x",
    "*.x.author",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..1000).prop_map(|n| json!(n)),
        Just(json!(1.5e10)),
        prop::sample::select(STRINGS).prop_map(|s| Value::String(s.to_owned())),
        // Long strings (past the scanner's 16-byte SWAR prefix, into its memchr path),
        // with quotes, backslashes and control characters to escape at any position.
        "[a-z 新😀]{12,90}([\"\\\\\u{1}\u{1f}\n][a-z 新😀]{0,60})?".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|members| {
                Value::Object(
                    members
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

/// The expected result, computed on a parsed tree: the same selection semantics,
/// written the obvious way.
struct Reference<'s> {
    selectors: Vec<Selector>,
    approved: &'s HashSet<String>,
    value: Value,
    others: Others,
    marked: usize,
}

impl Reference<'_> {
    fn visit(&mut self, v: &mut Value, states: &[(usize, usize)]) {
        let selected = states
            .iter()
            .any(|&(s, i)| self.selectors[s].steps().len() == i);
        match v {
            Value::Object(map) => {
                if selected {
                    self.marked += 1;
                    let ok = match map.get("id") {
                        Some(Value::String(id)) => !id.is_empty() && self.approved.contains(id),
                        _ => false,
                    };
                    match (ok, self.others) {
                        (true, _) => {
                            map.insert(FIELD.to_owned(), self.value.clone());
                        }
                        (false, Others::False) => {
                            map.insert(FIELD.to_owned(), Value::Bool(false));
                        }
                        (false, Others::Remove) => {
                            map.shift_remove(FIELD);
                        }
                    }
                }
                for (k, child) in map.iter_mut() {
                    if selected && k == FIELD {
                        continue;
                    }
                    let next = self.advance(states, Some(k));
                    self.visit(child, &next);
                }
            }
            Value::Array(items) => {
                let next = self.advance(states, None);
                for child in items {
                    self.visit(child, &next);
                }
            }
            _ => {}
        }
    }

    fn advance(&self, states: &[(usize, usize)], key: Option<&str>) -> Vec<(usize, usize)> {
        states
            .iter()
            .filter(|&&(s, i)| match (self.selectors[s].steps().get(i), key) {
                (Some(Step::AnyElement), None) | (Some(Step::AnyMember), Some(_)) => true,
                (Some(Step::Key(k)), Some(key)) => k == key,
                _ => false,
            })
            .map(|&(s, i)| (s, i + 1))
            .collect()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn marks_exactly_the_selected_objects(
        doc in json_value(),
        selected in prop::sample::subsequence(SELECTORS, 1..4),
        approved in prop::sample::subsequence(STRINGS, 0..4),
        pretty in any::<bool>(),
        remove in any::<bool>(),
        value in prop_oneof![Just(json!(true)), Just(json!("gov")), Just(json!({"since": 2014}))],
    ) {
        let mut s = spec(&selected);
        s.others = if remove { Others::Remove } else { Others::False };
        s.approved_value = value.clone();
        let rule = compile(&s);
        let input = if pretty {
            serde_json::to_vec_pretty(&doc)
        } else {
            serde_json::to_vec(&doc)
        }
        .unwrap_or_default();
        let approved: HashSet<String> = approved.iter().map(|s| (*s).to_owned()).collect();
        let mut asked: HashMap<String, usize> = HashMap::new();
        let out = rule
            .apply(&input, None, &mut |id: &str| {
                *asked.entry(id.to_owned()).or_default() += 1;
                approved.contains(id)
            });
        let out = match out {
            Ok(out) => out,
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        prop_assert!(asked.values().all(|&n| n == 1), "asked twice: {:?}", asked);

        let mut reference = Reference {
            selectors: rule.selectors().to_vec(),
            approved: &approved,
            value,
            others: s.others,
            marked: 0,
        };
        let mut expected = doc.clone();
        let all: Vec<(usize, usize)> = (0..reference.selectors.len()).map(|s| (s, 0)).collect();
        reference.visit(&mut expected, &all);
        prop_assert_eq!(out.marked, reference.marked);

        let output = out.body.bytes(&input).to_vec();
        let parsed: Value = serde_json::from_slice(&output)
            .map_err(|e| TestCaseError::fail(format!("output does not parse: {e}")))?;
        prop_assert_eq!(&parsed, &expected);
        // Same key order too (the workspace enables serde_json's preserve_order).
        prop_assert_eq!(serde_json::to_vec(&parsed).ok(), serde_json::to_vec(&expected).ok());
        if !pretty {
            // Compact input: the splice must produce exactly serde_json's compact form,
            // which also proves one marker per object and untouched bytes elsewhere.
            let want = serde_json::to_vec(&expected).unwrap_or_default();
            prop_assert_eq!(String::from_utf8_lossy(&output), String::from_utf8_lossy(&want));
        }
        prop_assert_eq!(out.body == MarkedBody::Unchanged, output == input);
    }

    #[test]
    fn raw_control_bytes_in_long_strings_are_refused(
        text in "[a-z 新😀]{0,120}",
        at in any::<prop::sample::Index>(),
        control in 0u8..0x20,
    ) {
        // The scanner's long-string path (memchr for the end, a block test for control
        // bytes) must refuse a raw control byte wherever it sits, as serde_json does.
        let rule = rule(&["account"]);
        let mut cut = at.index(text.len() + 1);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        let plain = format!(r#"{{"account":{{"id":"u-a","bio":"{text}"}}}}"#).into_bytes();
        prop_assert!(rule.apply(&plain, None, &mut |_| true).is_ok());
        let mut bytes = format!(r#"{{"account":{{"id":"u-a","bio":"{}"#, &text[..cut]).into_bytes();
        bytes.push(control);
        bytes.extend_from_slice(format!(r#"{}"}}}}"#, &text[cut..]).as_bytes());
        prop_assert!(serde_json::from_slice::<Value>(&bytes).is_err());
        prop_assert!(
            matches!(
                rule.apply(&bytes, None, &mut |_| true),
                Err(MarkError::Syntax { .. })
            ),
            "{:?}",
            String::from_utf8_lossy(&bytes)
        );
    }

    #[test]
    fn agrees_with_serde_json_on_validity(
        doc in json_value(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..4),
    ) {
        let mut bytes = serde_json::to_vec(&doc).unwrap_or_default();
        for (at, kind, byte) in edits {
            let noise = b"{}[],:\"\\ 0-e.tfnu\x01\xff"[usize::from(byte) % 19];
            if bytes.is_empty() {
                bytes.push(noise);
                continue;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, noise),
                _ => bytes[i] = noise,
            }
        }
        let rule = rule(&["*", "[*]", "*.author", "posts[*].author"]);
        let ours = rule.apply(&bytes, None, &mut |id: &str| id.len() % 2 == 0);
        let theirs = serde_json::from_slice::<Value>(&bytes);
        match (&ours, &theirs) {
            (Err(MarkError::DuplicateId { .. }), _) => {}
            (Ok(_), Err(e)) if e.to_string().contains("out of range") => {}
            _ => prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?} vs {:?} on {}", ours, theirs, String::from_utf8_lossy(&bytes)),
        }
        if let Ok(out) = ours {
            let output = out.body.bytes(&bytes);
            prop_assert!(serde_json::from_slice::<Value>(output).is_ok());
        }
    }
}

/// Bytes that matter to a JSON parser, for mutating valid documents.
const MUTATION_BYTES: &[u8] = b"\"\\{}[],:0-+.eEutfn \t\n\r\x01\x1fa/";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// The marker's scanner accepts exactly the documents serde_json accepts, on valid
    /// documents with one to three bytes inserted, deleted or replaced: a document the two
    /// read differently would let an upstream answer show the client an account the
    /// marker never saw. (No object is selected, so only syntax is compared.)
    #[test]
    fn the_scanner_accepts_what_serde_json_accepts(
        doc in json_value(),
        pretty in any::<bool>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, prop::sample::select(MUTATION_BYTES)), 1..4),
    ) {
        let mut bytes = if pretty {
            serde_json::to_vec_pretty(&doc)
        } else {
            serde_json::to_vec(&doc)
        }
        .unwrap_or_default();
        for (at, kind, byte) in edits {
            let at = at.index(bytes.len() + 1);
            match kind {
                0 => bytes.insert(at, byte),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ if at < bytes.len() => bytes[at] = byte,
                _ => bytes.push(byte),
            }
        }
        let rule = compile(&spec(&["nothing.selected"]));
        let ours = rule.apply(&bytes, None, &mut |_: &str| false).is_ok();
        let serde = serde_json::from_slice::<Value>(&bytes).is_ok();
        prop_assert_eq!(ours, serde, "{}", String::from_utf8_lossy(&bytes));
    }
}
