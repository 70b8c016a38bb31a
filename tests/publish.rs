//! Publishing end to end with the demo's seed accounts: identity, classification,
//! approval, and that the upstream never sees a blocked post.

mod common;

use common::http::{request, RawResponse};
use common::Harness;
use serde_json::{json, Value};

const POLITICAL_ZH: &str =
    "外交部发言人就中美关系答记者问，国务院总理会见来访的外国总统，双方签署联合声明。";
const POLITICAL_EN: &str = "The prime minister faced a confidence vote in parliament after the opposition party accused the government of breaking its election promises on foreign policy.";
const SPORTS_EN: &str = "The home side scored twice in the second half to win the cup final, and the striker was named player of the match.";
const TECH_ZH: &str = "新款手机搭载更大容量电池，摄像头升级，售价与上一代持平，本周五开始预售。";

fn login(h: &Harness, user: &str) -> String {
    let body = json!({"username": user, "password": format!("{user}-pass")}).to_string();
    let resp = h.raw(&request(
        "POST",
        "/api/v1/sessions",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    ));
    assert_eq!(resp.status, 201, "{}", resp.text());
    resp.json()["token"].as_str().expect("token").to_owned()
}

fn post(h: &Harness, token: Option<&str>, body: &Value) -> RawResponse {
    let auth = token.map(|t| format!("Bearer {t}"));
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(auth) = &auth {
        headers.push(("Authorization", auth.as_str()));
    }
    h.raw(&request(
        "POST",
        "/api/v1/posts",
        &headers,
        body.to_string().as_bytes(),
    ))
}

/// `text` with each ASCII letter written as `letter(c)` gives (unchanged when it gives none).
fn respell(text: &str, letter: impl Fn(char) -> Option<char>) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphabetic() {
                letter(c).unwrap_or(c)
            } else {
                c
            }
        })
        .collect()
}

fn posts_seen(h: &Harness) -> u64 {
    h.upstream_stats()["requests"]["posts"]
        .as_u64()
        .expect("posts count")
}

#[test]
fn alice_is_blocked_on_political_posts_and_reprints_but_not_on_anything_else() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    for body in [
        json!({"title": "时政要闻", "content": POLITICAL_ZH}),
        json!({"content": POLITICAL_EN}),
        json!({"content": "转发", "reprint": {"url": "https://news.example.com/2026/11/a.html", "title": POLITICAL_EN}}),
        // News written into the URL field is read too.
        json!({"content": "转发", "reprint": {"url": POLITICAL_ZH}}),
        json!({"content": "share", "reprint": {"url": format!("{POLITICAL_EN} https://news.example.com/a.html")}}),
        json!({"content": SPORTS_EN, "category": "political_news"}),
    ] {
        let resp = post(&h, Some(&alice), &body);
        assert_eq!(resp.status, 403, "{body}: {}", resp.text());
        assert_eq!(resp.code(), "publish.not_approved");
        assert!(resp.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("political_news"));
    }
    assert_eq!(posts_seen(&h), 0, "a blocked post reached the upstream");
    for body in [
        json!({"content": SPORTS_EN}),
        json!({"title": "新品", "content": TECH_ZH}),
    ] {
        let resp = post(&h, Some(&alice), &body);
        assert_eq!(resp.status, 201, "{body}: {}", resp.text());
    }
    assert_eq!(posts_seen(&h), 2);
}

#[test]
fn letters_markup_or_spacing_do_not_hide_political_news() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let lone_letters: String = POLITICAL_ZH.chars().flat_map(|c| [c, 'x']).collect();
    let lone_digits: String = POLITICAL_ZH
        .chars()
        .zip("0123456789".chars().cycle())
        .flat_map(|(c, d)| [c, d])
        .collect();
    let spelled = |sep: &str, gap: &str| -> String {
        POLITICAL_EN
            .split(' ')
            .map(|w| w.chars().map(String::from).collect::<Vec<_>>().join(sep))
            .collect::<Vec<_>>()
            .join(gap)
    };
    let references: String = POLITICAL_ZH
        .chars()
        .map(|c| format!("&#{};", u32::from(c)))
        .collect();
    let tagged: String = POLITICAL_ZH
        .chars()
        .map(|c| format!("{c}<b></b>"))
        .collect();
    // Leetspeak: vowels after a word's first letter written as digits (`m1n1st3r`).
    let leet: String = POLITICAL_EN
        .split(' ')
        .map(|w| {
            let mut out = String::new();
            for (k, c) in w.chars().enumerate() {
                out.push(match c {
                    'e' if k > 0 => '3',
                    'i' if k > 0 => '1',
                    'o' if k > 0 => '0',
                    'a' if k > 0 => '4',
                    _ => c,
                });
            }
            out
        })
        .collect::<Vec<_>>()
        .join(" ");
    // Words run together in camel case, as in a hashtag.
    let camel: String = POLITICAL_EN
        .split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    // The same in full-width letters (`ＴｈｅＰｒｉｍｅ`), whose case is read from the original text too.
    let camel_full_width = respell(&camel, |c| char::from_u32(u32::from(c) + 0xFEE0));
    // Small capitals (`ᴍɪɴɪꜱᴛᴇʀ`) and negative squared letters (`🅼🅸🅽`), which no Unicode normalisation reads as
    // letters.
    let lower = POLITICAL_EN.to_lowercase();
    let small_caps = respell(&lower, |c| {
        "ᴀʙᴄᴅᴇꜰɢʜɪᴊᴋʟᴍɴᴏᴘꞯʀꜱᴛᴜᴠᴡxʏᴢ"
            .chars()
            .nth(usize::from(c as u8 - b'a'))
    });
    let squared = respell(&lower, |c| {
        char::from_u32(0x1F170 + u32::from(c as u8 - b'a'))
    });
    // Symbols for letters inside words (`pr!me m!n!$ter`).
    let symbol_leet = POLITICAL_EN
        .replace("ime", "!me")
        .replace("inis", "!n!s")
        .replace("arl", "@rl");
    // A symbol inside every longer word (`min*ister`, `gov😀ernment`).
    let symbols: String = POLITICAL_EN
        .split(' ')
        .enumerate()
        .map(|(k, w)| match w.char_indices().nth(2) {
            Some((at, _)) if w.len() > 4 => {
                format!("{}{}{}", &w[..at], ["*", "😀", "|", "★"][k % 4], &w[at..])
            }
            _ => w.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(" ");
    for content in [
        camel,
        camel_full_width,
        small_caps,
        squared,
        symbol_leet,
        symbols,
        lone_letters,
        lone_digits,
        spelled("-", " "),
        spelled(".", " "),
        spelled(" ", "   "),
        references,
        tagged,
        leet,
    ] {
        let resp = post(&h, Some(&alice), &json!({ "content": content }));
        assert_eq!(
            (resp.status, resp.code()),
            (403, "publish.not_approved".to_owned()),
            "{content}: {}",
            resp.text()
        );
    }
    assert_eq!(posts_seen(&h), 0);
    // Ordinary text with single letters and abbreviations still passes.
    let resp = post(
        &h,
        Some(&alice),
        &json!({"content": format!("{SPORTS_EN} A B C of the U.S. cup, 买了A股基金 3月5日 &amp; <b>wow</b> $5 mail press@example.org Yahoo! 🇬🇧, mp3 and 4x100m, g20 in 2026, my iPhone on YouTube #GoalOfTheSeason, a+b=c, c++ *wow* 😀 ★")}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text());
}

/// Alice reprints `url` with the comment "转发": refused as unapproved political news.
fn assert_reprint_refused(h: &Harness, alice: &str, url: &str) {
    let resp = post(
        h,
        Some(alice),
        &json!({"content": "转发", "reprint": {"url": url}}),
    );
    assert_eq!(
        (resp.status, resp.code()),
        (403, "publish.not_approved".to_owned()),
        "{url}: {}",
        resp.text()
    );
}

/// Alice reprints `url` with a football report: published.
fn assert_sports_reprint_published(h: &Harness, alice: &str, url: &str) {
    let resp = post(
        h,
        Some(alice),
        &json!({"content": SPORTS_EN, "reprint": {"url": url}}),
    );
    assert_eq!(resp.status, 201, "{url}: {}", resp.text());
}

#[test]
fn reprints_from_government_sites_and_politics_sections_are_political_news() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    for url in [
        "http://www.gov.cn/xinwen/2026-11/02/content_5001.htm",
        "https://www.fmprc.gov.cn/web/wjdt_674879/",
        "https://www.bbc.co.uk/news/politics-60000000",
        "https://www.theguardian.com/politics/2026/nov/02/a",
    ] {
        assert_reprint_refused(&h, &alice, url);
    }
    assert_eq!(posts_seen(&h), 0);
    // Other sections of the same sites, and other sites, are judged by the text alone.
    for url in [
        "https://www.bbc.co.uk/sport/football/60000000",
        "https://www.theguardian.com/football/2026/nov/02/a",
        "https://news.example.com/2026/11/a.html",
    ] {
        assert_sports_reprint_published(&h, &alice, url);
    }
}

#[test]
fn a_headline_in_a_reprint_link_is_read_like_the_headline() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let encoded: String = POLITICAL_ZH.bytes().map(|b| format!("%{b:02X}")).collect();
    for url in [
        // Unlisted hosts: only the slug says what the article is.
        "https://daily.example.net/world/2026/11/02/prime-minister-loses-confidence-vote-in-parliament-after-opposition-revolt-a7f3e1"
            .to_owned(),
        format!("https://portal.example.cn/2026/{encoded}.shtml"),
    ] {
        assert_reprint_refused(&h, &alice, &url);
    }
    assert_eq!(posts_seen(&h), 0);
    // Links whose path is a date, an id or site structure add nothing either way.
    for url in [
        "https://daily.example.net/news/article/2026/11/02/a7f3e1.html?utm_source=election",
        "https://daily.example.net/sport/football/late-equaliser-keeps-the-title-race-open",
    ] {
        assert_sports_reprint_published(&h, &alice, url);
    }
}

#[test]
fn xinhua_may_publish_political_news_and_mallory_may_not() {
    let h = Harness::start();
    let xinhua = login(&h, "xinhua");
    let body = json!({"title": "时政要闻", "content": POLITICAL_ZH});
    let sent = body.to_string();
    let resp = post(&h, Some(&xinhua), &body);
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.json()["post"]["author"]["verified_publisher"], true);
    assert_eq!(
        h.upstream_requests(1)[0]["body"],
        sent,
        "forwarded byte-for-byte"
    );

    let mallory = login(&h, "mallory");
    let resp = post(&h, Some(&mallory), &json!({"content": POLITICAL_EN}));
    assert_eq!(
        (resp.status, resp.code()),
        (403, "publish.not_approved".to_owned())
    );
    let resp = post(&h, Some(&mallory), &json!({"content": SPORTS_EN}));
    assert_eq!(resp.status, 201);
    assert_eq!(
        resp.json()["post"]["author"]["verified_publisher"],
        false,
        "spoofed marker overwritten"
    );
}

#[test]
fn no_token_or_a_bad_token_is_401() {
    let h = Harness::start();
    let resp = post(&h, None, &json!({"content": SPORTS_EN}));
    assert_eq!(
        (resp.status, resp.code()),
        (401, "identity.missing".to_owned())
    );
    assert_eq!(
        resp.json()["error"]["message"].as_str(),
        Some("sign in first: this route needs `Authorization: Bearer <token>`")
    );
    let resp = post(&h, Some("not-a-real-token"), &json!({"content": SPORTS_EN}));
    assert_eq!(
        (resp.status, resp.code()),
        (401, "identity.invalid".to_owned())
    );
    let message = |resp: &RawResponse| resp.json()["error"]["message"].as_str().map(str::to_owned);
    assert_eq!(
        message(&resp).as_deref(),
        Some("the credential is not valid or has expired; sign in again")
    );
    // Two credentials (which one would the upstream read?): the message says what to fix.
    let alice = login(&h, "alice");
    let (first, second) = (format!("Bearer {alice}"), format!("Bearer {alice}"));
    let resp = h.raw(&request(
        "POST",
        "/api/v1/posts",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", first.as_str()),
            ("Authorization", second.as_str()),
        ],
        json!({"content": SPORTS_EN}).to_string().as_bytes(),
    ));
    assert_eq!(
        (resp.status, resp.code()),
        (401, "identity.invalid".to_owned())
    );
    let text = message(&resp).unwrap_or_default();
    assert!(
        text.contains("more than one")
            && text.contains("exactly one `Authorization: Bearer <token>` header"),
        "{text}"
    );
    assert!(
        !text.contains(&alice),
        "the token must not be echoed: {text}"
    );
    let resp = post(&h, Some("a b"), &json!({"content": SPORTS_EN}));
    let text = message(&resp).unwrap_or_default();
    assert!(text.contains("malformed"), "{text}");
    assert_eq!(posts_seen(&h), 0);
}

#[test]
fn json_tricks_and_path_variants_do_not_get_past() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let auth = format!("Bearer {alice}");
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    // Unicode escapes spell the same political text.
    let escaped: String = POLITICAL_ZH
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let body = format!("{{\"content\":\"{escaped}\"}}");
    let resp = h.raw(&request("POST", "/api/v1/posts", &headers, body.as_bytes()));
    assert_eq!(
        (resp.status, resp.code()),
        (403, "publish.not_approved".to_owned()),
        "{}",
        resp.text()
    );
    // Duplicate keys: an innocent first copy, a political last copy.
    let body = format!("{{\"content\":\"{SPORTS_EN}\",\"content\":\"{POLITICAL_EN}\"}}");
    let resp = h.raw(&request("POST", "/api/v1/posts", &headers, body.as_bytes()));
    assert_eq!(
        (resp.status, resp.code()),
        (400, "body.duplicate_key".to_owned())
    );
    // Political text hidden in a field the API may add later.
    let body = json!({"content": "hi", "summary": POLITICAL_EN}).to_string();
    let resp = h.raw(&request("POST", "/api/v1/posts", &headers, body.as_bytes()));
    assert_eq!(resp.status, 403, "{}", resp.text());
    // Obfuscated: zero-width characters and separators between CJK characters.
    let obfuscated: String = POLITICAL_ZH
        .chars()
        .flat_map(|c| [c, '\u{200b}', '*'])
        .collect();
    let resp = post(&h, Some(&alice), &json!({"content": obfuscated}));
    assert_eq!(resp.status, 403, "{}", resp.text());
    // Path variants of the publish route.
    let body = json!({"content": POLITICAL_EN}).to_string();
    for target in [
        "/api/v1/posts/",
        "/api//v1/posts",
        "/API/v1/posts",
        "/api/v1/%70osts",
        "/api/v1/posts;x",
    ] {
        let resp = h.raw(&request("POST", target, &headers, body.as_bytes()));
        assert_eq!(
            (resp.status, resp.code()),
            (400, "path.non_canonical".to_owned()),
            "{target}"
        );
    }
    // A target without its leading slash parses as `/`: refused, not routed as `/`.
    let seen_before = h.upstream_requests(200).len();
    for target in ["api/v1/posts", "api/v1/posts?x=1"] {
        let resp = h.raw(&request("POST", target, &headers, body.as_bytes()));
        assert_eq!(
            (resp.status, resp.code()),
            (400, "path.invalid".to_owned()),
            "{target}"
        );
    }
    assert_eq!(
        h.upstream_requests(200).len(),
        seen_before,
        "nothing forwarded"
    );
    // A non-string text field is refused rather than forwarded unexamined.
    let resp = post(
        &h,
        Some(&alice),
        &json!({"content": {"nested": POLITICAL_EN}}),
    );
    assert_eq!(resp.status, 403, "{}", resp.text());
    let resp = post(&h, Some(&alice), &json!({"content": 42}));
    assert_eq!(
        (resp.status, resp.code()),
        (422, "publish.field_type".to_owned())
    );
    assert_eq!(posts_seen(&h), 0);
}

#[test]
fn revoking_an_approval_in_the_file_takes_effect_without_a_restart() {
    let h = Harness::start();
    let xinhua = login(&h, "xinhua");
    let resp = post(&h, Some(&xinhua), &json!({"content": POLITICAL_EN}));
    assert_eq!(resp.status, 201, "{}", resp.text());
    std::fs::write(
        h.dir.path().join("publishers.toml"),
        "# nobody is approved\n",
    )
    .unwrap();
    // The documented delay is poll_interval (1s); allow a generous margin on a busy machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let resp = post(&h, Some(&xinhua), &json!({"content": POLITICAL_EN}));
        if resp.status == 403 {
            assert_eq!(resp.code(), "publish.not_approved");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "revocation not applied: {}",
            resp.text()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let resp = h.raw(&request("GET", "/api/v1/accounts/u-xinhua", &[], b""));
    assert_eq!(resp.json()["account"]["verified_publisher"], false);
}

#[test]
fn an_author_field_must_match_the_identity() {
    let h = Harness::start_with(|t| {
        *t = t.replacen(
            "category_field = \"/category\"",
            "category_field = \"/category\"\nauthor_field = \"/author_id\"",
            1,
        );
    });
    let alice = login(&h, "alice");
    let resp = post(
        &h,
        Some(&alice),
        &json!({"content": SPORTS_EN, "author_id": "u-xinhua"}),
    );
    assert_eq!(
        (resp.status, resp.code()),
        (403, "publish.author_mismatch".to_owned())
    );
    let resp = post(
        &h,
        Some(&alice),
        &json!({"content": SPORTS_EN, "author_id": "u-alice"}),
    );
    assert_eq!(resp.status, 201);
}

/// The publish route marks the created post, so the gateway forwards it through its own
/// exchange: a chunked body and an HTTP/1.0 request arrive byte-for-byte, and a
/// `Connection`-nominated header does not travel upstream.
#[test]
fn chunked_and_http10_posts_arrive_byte_for_byte() {
    let h = Harness::start();
    let xinhua = login(&h, "xinhua");
    let auth = format!("Bearer {xinhua}");
    let body = json!({"title": "时政要闻", "content": POLITICAL_ZH}).to_string();
    let (first, rest) = body.as_bytes().split_at(17);
    let resp = h.raw(&common::http::chunked_request(
        "POST",
        "/api/v1/posts",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", auth.as_str()),
            ("Connection", "keep-alive, X-Hop"),
            ("X-Hop", "client-to-gateway only"),
        ],
        &[first, rest],
    ));
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(resp.json()["post"]["author"]["verified_publisher"], true);
    let seen = &h.upstream_requests(1)[0];
    assert_eq!(seen["body"], body.as_str(), "forwarded byte-for-byte");
    let headers = seen["headers"].to_string().to_ascii_lowercase();
    assert!(headers.contains("x-request-id"), "{headers}");
    assert!(
        !headers.contains("x-hop"),
        "nominated header forwarded: {headers}"
    );

    let request = format!(
        "POST /api/v1/posts HTTP/1.0\r\nHost: g\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let resp = h.raw(request.as_bytes());
    assert_eq!(resp.status, 201, "{}", resp.text());
    assert_eq!(
        resp.header("content-length"),
        Some(resp.body.len().to_string().as_str())
    );
    assert_eq!(h.upstream_requests(1)[0]["body"], body.as_str());
}

/// A transfer coding besides `chunked` (`Transfer-Encoding: gzip, chunked`) would have the body inspected
/// compressed: it is refused as an unsupported encoding (before, it failed as invalid UTF-8), and the upstream
/// sees nothing.
#[test]
fn a_compressing_transfer_coding_is_refused_as_an_unsupported_encoding() {
    use std::io::Write;
    let h = Harness::start();
    let alice = login(&h, "alice");
    let auth = format!("Bearer {alice}");
    let before = posts_seen(&h);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(json!({"content": POLITICAL_EN}).to_string().as_bytes())
        .expect("gzip");
    let body = gz.finish().expect("gzip");
    for coding in ["gzip, chunked", "deflate,chunked", "x-custom , chunked"] {
        let mut request = format!(
            "POST /api/v1/posts HTTP/1.1\r\nHost: g\r\nContent-Type: application/json\r\nAuthorization: {auth}\r\nTransfer-Encoding: {coding}\r\n\r\n{:x}\r\n",
            body.len()
        )
        .into_bytes();
        request.extend_from_slice(&body);
        request.extend_from_slice(b"\r\n0\r\n\r\n");
        let resp = h.raw(&request);
        assert_eq!(
            (resp.status, resp.code()),
            (415, "body.encoding_unsupported".to_owned()),
            "{coding}: {}",
            resp.text()
        );
        let first = coding.split(',').next().unwrap_or_default().trim();
        assert!(resp.text().contains(first), "{}", resp.text());
    }
    assert_eq!(posts_seen(&h), before);
    // Plain chunked, in any case, is what it was.
    let body = json!({"content": SPORTS_EN}).to_string();
    let resp = h.raw(&common::http::chunked_request(
        "POST",
        "/api/v1/posts",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", auth.as_str()),
        ],
        &[body.as_bytes()],
    ));
    assert_eq!(resp.status, 201, "{}", resp.text());
}

/// A client may send its next requests before reading the answers (HTTP/1.1 pipelining):
/// each is decided on its own, answered in order, and a blocked post never reaches the
/// upstream. Without pingora's pipelining switch the gateway answered the first and
/// closed the connection, dropping the rest.
#[test]
fn pipelined_requests_are_answered_in_order_each_under_its_own_rule() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let auth = format!("Bearer {alice}");
    let json_post = |text: &str| {
        request(
            "POST",
            "/api/v1/posts",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", auth.as_str()),
            ],
            json!({ "content": text }).to_string().as_bytes(),
        )
    };
    let sports = json_post(SPORTS_EN);
    let political = json_post(POLITICAL_ZH);
    let chunked = common::http::chunked_request(
        "POST",
        "/api/v1/posts",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", auth.as_str()),
        ],
        &[
            br#"{"content":"#,
            json!(TECH_ZH).to_string().as_bytes(),
            b"}",
        ],
    );
    let session = request("GET", "/api/v1/session", &[("Authorization", &auth)], b"");
    let timeline = request("GET", "/api/v1/timeline?limit=5", &[], b"");
    let denied = request("GET", "/__demo/stats", &[], b"");
    let exchanges: [(&[u8], u16); 6] = [
        (&session, 200),
        (&sports, 201),
        (&political, 403),
        (&timeline, 200),
        (&denied, 403),
        (&chunked, 201),
    ];
    let before = posts_seen(&h);
    let mut connection = common::http::Connection::open(h.gateway);
    connection.send(
        &exchanges
            .iter()
            .flat_map(|(r, _)| r.iter().copied())
            .collect::<Vec<u8>>(),
    );
    let answers: Vec<RawResponse> = exchanges
        .iter()
        .map(|_| connection.read_response(false))
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert_eq!(statuses, exchanges.map(|(_, s)| s));
    assert_eq!(answers[0].json()["username"], "alice");
    assert_eq!(answers[2].code(), "publish.not_approved");
    assert_eq!(answers[4].code(), "route.denied");
    // The timeline was marked: every author carries the marker.
    let posts = answers[3].json()["posts"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!posts.is_empty());
    assert!(posts
        .iter()
        .all(|p| p["author"]["verified_publisher"].is_boolean()));
    // Two posts went upstream (sports and the chunked one); the political one did not.
    assert_eq!(posts_seen(&h), before + 2);
    // And the connection is still usable afterwards.
    connection.send(&session);
    assert_eq!(connection.read_response(false).status, 200);
}

/// A body that trickles in is cut off at `[gateway] body_timeout` with a 408, whether it
/// stalls or keeps sending a byte now and then (each read alone would be in time), and
/// nothing of it reaches the upstream.
#[test]
fn a_body_slower_than_body_timeout_is_refused_with_408() {
    let h = Harness::start_with(|t| {
        *t = t.replace("body_timeout = \"15s\"", "body_timeout = \"1s\"");
    });
    let alice = login(&h, "alice");
    let body = json!({ "content": SPORTS_EN }).to_string();
    let head = format!(
        "POST /api/v1/posts HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\n\
         Authorization: Bearer {alice}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let before = posts_seen(&h);
    for trickle in [false, true] {
        let mut connection = common::http::Connection::open(h.gateway);
        connection.send(head.as_bytes());
        connection.send(&body.as_bytes()[..10]);
        if trickle {
            // A byte every 200 ms: each read is quick, the whole body is not. Writing
            // stops once the gateway has answered (it closes the connection then).
            for byte in &body.as_bytes()[10..] {
                std::thread::sleep(std::time::Duration::from_millis(200));
                if connection.answered() {
                    break;
                }
                connection.send(&[*byte]);
            }
        }
        let answer = connection.read_response(false);
        assert_eq!(answer.status, 408, "{}", answer.text());
        assert_eq!(answer.code(), "body.timeout");
        assert!(answer.text().contains("within 1s"), "{}", answer.text());
        assert_eq!(answer.header("connection"), Some("close"));
    }
    assert_eq!(posts_seen(&h), before);
    // The same body sent at once is fine.
    let sent = post(&h, Some(&alice), &json!({ "content": SPORTS_EN }));
    assert_eq!(sent.status, 201, "{}", sent.text());
}

/// The gateway decides a post on its text exactly as the classifier (and so `imgate eval`)
/// scores that text: the field names of the body are not part of it. They used to be, so
/// "content" and "title", both model features, moved every post's score.
#[test]
fn the_gateway_scores_a_post_exactly_as_the_classifier_scores_its_text() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let config = imgate::config::load(&common::conf_dir().join("imgate.toml")).expect("config");
    let classifier = &config.policy.classifier;
    let cases: [(Value, Vec<&str>); 3] = [
        (json!({"content": SPORTS_EN}), vec![SPORTS_EN]),
        (
            json!({"title": "Confidence vote", "content": POLITICAL_EN}),
            vec!["Confidence vote", POLITICAL_EN],
        ),
        (json!({"content": TECH_ZH}), vec![TECH_ZH]),
    ];
    for (body, texts) in cases {
        let answer = post(&h, Some(&alice), &body);
        let request_id = answer
            .header("x-request-id")
            .expect("request id")
            .to_owned();
        let expected = classifier.classify(&imgate::core::classify::Document {
            texts,
            ..Default::default()
        });
        let expected = expected.verdicts[0].score;
        // The audit line is written by its own thread within a few milliseconds.
        let mut audited = None;
        for _ in 0..200 {
            audited = h
                .logs()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|l| l["request_id"] == request_id.as_str());
            if audited.is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let audited = audited.expect("an audit line for the post");
        let score = audited["categories"][0]["score"].as_f64().expect("score");
        assert!(
            (score - expected).abs() < 1e-12,
            "{body}: gateway {score}, classifier {expected}"
        );
        assert_eq!(answer.status == 403, expected >= 0.0, "{body}");
    }
}

/// Text in fields the client does not show cannot dilute what the post shows: unlisted
/// strings are classified on their own as well as with the listed texts. A political post
/// with a sports report hidden in `meta.notes` used to pass (201).
#[test]
fn padding_in_unlisted_fields_does_not_dilute_the_post() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let padding = [
        "The home side scored twice in the second half to win the cup final.",
        "The striker was named player of the match after a superb volley.",
        "Fans sang throughout the ninety minutes despite the rain.",
        "The goalkeeper made three fine saves to keep a clean sheet.",
        "The coach praised his young squad for their fitness and spirit.",
        "Tickets for the next home game sold out within an hour.",
        "The midfielder limped off with a hamstring injury before half time.",
        "The referee showed four yellow cards in a bad-tempered derby.",
    ]
    .join(" ");
    let before = posts_seen(&h);
    let padded = post(
        &h,
        Some(&alice),
        &json!({"content": POLITICAL_EN, "meta": {"notes": padding}}),
    );
    assert_eq!(padded.status, 403, "{}", padded.text());
    assert_eq!(padded.code(), "publish.not_approved");
    assert_eq!(posts_seen(&h), before);
    // The same hidden notes beside an ordinary post change nothing.
    let ordinary = post(
        &h,
        Some(&alice),
        &json!({"content": TECH_ZH, "meta": {"notes": padding}}),
    );
    assert_eq!(ordinary.status, 201, "{}", ordinary.text());
    // The other way round: news hidden behind a long shown text is read on its own.
    let hidden = post(
        &h,
        Some(&alice),
        &json!({"content": padding, "meta": {"notes": POLITICAL_EN}}),
    );
    assert_eq!(hidden.status, 403, "{}", hidden.text());
    // Short field values are not read on their own: one word such as "vote" or "party"
    // would decide alone.
    let poll = post(
        &h,
        Some(&alice),
        &json!({"content": TECH_ZH, "poll": {"type": "vote", "tags": ["party", "launch"]}}),
    );
    assert_eq!(poll.status, 201, "{}", poll.text());
}

/// A backend that merges query parameters into the JSON body's (Rails' `params`) would publish
/// `?content=...`, which the gateway never classified: a query parameter named like a read text field is
/// refused, before the upstream sees the post.
#[test]
fn post_text_cannot_ride_in_the_query_string() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let auth = format!("Bearer {alice}");
    let headers = [
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    let body = json!({"content": "Lunch was great."}).to_string();
    let before = posts_seen(&h);
    for target in [
        "/api/v1/posts?content=Prime%20minister%20resigns",
        "/api/v1/posts?reprint[url]=https://gov.example/x",
        "/api/v1/posts?Title=x",
    ] {
        let resp = h.raw(&request("POST", target, &headers, body.as_bytes()));
        assert_eq!(
            (resp.status, resp.code()),
            (400, "request.query_field".to_owned()),
            "{target}: {}",
            resp.text()
        );
    }
    assert_eq!(posts_seen(&h), before);
    let resp = h.raw(&request(
        "POST",
        "/api/v1/posts?draft=0",
        &headers,
        body.as_bytes(),
    ));
    assert_eq!(resp.status, 201, "{}", resp.text());
}

/// A political paragraph followed by a long benign one: the whole post's score is a weighted mean, and this
/// much padding sinks it, but the paragraph alone scores far above the threshold and decides the post. The
/// padding alone is an ordinary post.
#[test]
fn a_political_paragraph_is_not_hidden_by_a_long_benign_one() {
    let h = Harness::start();
    let alice = login(&h, "alice");
    let political = "Parliament voted down the government in a no-confidence motion on Monday. The prime minister resigned, and the president called a snap election. Opposition lawmakers said the ruling coalition had lost its majority in the national assembly.";
    let padding = [
        "Anyway, here is the recipe I promised: whisk three eggs with a cup of milk, add flour slowly until the batter is smooth, and let it rest for twenty minutes.",
        "Heat a pan with a little butter and pour a thin layer.",
        "Flip when the edges turn golden.",
        "Serve with berries and honey.",
        "The kids loved them, and we went to the park afterwards where the dog chased ducks by the pond for an hour.",
        "Then we watched the match: a late goal from the striker sealed the win, and the crowd sang all the way home.",
        "Next week we are trying waffles and maybe a picnic if the weather holds.",
        "My sister is bringing her famous lemon cake, and the neighbours promised to lend us their big umbrella.",
        "The garden finally has tomatoes, and the roses along the fence are blooming after all that rain.",
        "I also finished the novel about the lighthouse keeper; the ending made me cry on the train.",
        "Our new puppy learned to sit and roll over, and she sleeps in the laundry basket every afternoon.",
        "The bakery on the corner now sells sourdough on Sundays, so we queued for twenty minutes and it was worth it.",
        "We painted the kitchen a pale green and hung the old family photos by the window.",
        "In the evening we played board games, and grandpa won every round of cards as usual.",
    ]
    .join(" ");
    let before = posts_seen(&h);
    let resp = post(
        &h,
        Some(&alice),
        &json!({"content": format!("Great weekend! {political} {padding}")}),
    );
    assert_eq!(
        (resp.status, resp.code()),
        (403, "publish.not_approved".to_owned()),
        "{}",
        resp.text()
    );
    assert_eq!(posts_seen(&h), before);
    let resp = post(
        &h,
        Some(&alice),
        &json!({"content": format!("Great weekend! {padding}")}),
    );
    assert_eq!(resp.status, 201, "{}", resp.text());
}
