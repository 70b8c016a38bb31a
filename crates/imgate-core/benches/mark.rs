//! Marker injection on a realistic timeline response, against the cost of the obvious
//! alternative (decode into `serde_json::Value`, re-encode), so the ratio is visible.
//!
//! Run: `cargo bench -p imgate-core --bench mark`

use std::collections::HashSet;
use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use imgate_core::mark::{MarkRule, MarkSpec, MarkedBody, Others};

const AUTHORS: &[(&str, &str, &str)] = &[
    ("u-xinhua", "xinhua", "新华社"),
    ("u-alice", "alice", "Alice Chen"),
    ("u-mallory", "mallory", "Mallory"),
    ("u-bob", "bob", "Bob Li"),
];

const CONTENT: &[&str] = &[
    "Morning all! The new ferry timetable is out: boats every 20 minutes until 22:00, \
     night service on weekends only.",
    "今天上午，市图书馆举办了主题为“阅读点亮生活”的公益讲座，吸引了近两百名市民参加。\
     讲座结束后，志愿者们还为小读者们准备了绘本分享活动。",
    "Does anyone know a good place to fix a bike chain near the east gate? Mine snapped \
     halfway up the hill.",
    "Photo dump from the weekend hike \u{1f3d4}\u{fe0f} -- the trail was muddy but the view \
     from the ridge made up for it. Bring real shoes, not trainers.",
];

/// A demo-server timeline: `{"posts":[Post, ...]}`, newest first, as the legacy server
/// writes it (compact, mallory's profile carrying a spoofed marker).
fn timeline(posts: usize) -> Vec<u8> {
    let mut out = String::from(r#"{"posts":["#);
    for n in 0..posts {
        if n > 0 {
            out.push(',');
        }
        let (id, username, display) = AUTHORS[n % AUTHORS.len()];
        let spoof = if username == "mallory" {
            r#","bio":"news you can trust","verified_publisher":true"#
        } else {
            ""
        };
        let (title, category, reprint) = if n % 5 == 0 {
            (
                r#""Daily briefing""#,
                r#""political_news""#,
                r#"{"url":"https://news.example.cn/a/2026/1102.html","title":"Original report","source":"Example News"}"#,
            )
        } else {
            ("null", "null", "null")
        };
        let content = serde_json::to_string(CONTENT[n % CONTENT.len()]).unwrap_or_default();
        out.push_str(&format!(
            r#"{{"id":"p-{post}","author":{{"id":"{id}","username":"{username}","display_name":"{display}"{spoof}}},"title":{title},"content":{content},"category":{category},"reprint":{reprint},"created_at":"2026-11-02T{h:02}:{m:02}:00Z"}}"#,
            post = 1000 - n,
            h = 23 - n % 24,
            m = (n * 7) % 60,
        ));
    }
    out.push_str("]}");
    out.into_bytes()
}

fn rule() -> MarkRule {
    let spec = MarkSpec {
        select: vec!["posts[*].author".to_owned()],
        id_field: Some("id".to_owned()),
        id_from_path: None,
        field: "verified_publisher".to_owned(),
        approved_value: serde_json::Value::Bool(true),
        others: Others::False,
        header: None,
        max_body: None,
    };
    match MarkRule::compile(&spec) {
        Ok(rule) => rule,
        Err(e) => panic!("bench spec does not compile: {e}"),
    }
}

fn bench(c: &mut Criterion) {
    let body = timeline(50);
    let rule = rule();
    let approved: HashSet<&str> = ["u-xinhua"].into_iter().collect();
    let mut is_approved = |id: &str| approved.contains(id);

    let marked = match rule.apply(&body, None, &mut is_approved) {
        Ok(out) => out.body.into_bytes(&body),
        Err(e) => panic!("bench body does not mark: {e}"),
    };
    eprintln!(
        "timeline: {} posts, {} bytes in, {} bytes out",
        50,
        body.len(),
        marked.len()
    );

    let mut group = c.benchmark_group("timeline_50_posts");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("mark", |b| {
        b.iter(|| {
            let out = rule.apply(black_box(&body), None, &mut is_approved);
            black_box(out.map(|o| o.marked).unwrap_or(0))
        })
    });
    group.bench_function("mark_already_marked", |b| {
        b.iter(|| {
            let out = rule.apply(black_box(&marked), None, &mut is_approved);
            black_box(matches!(out.map(|o| o.body), Ok(MarkedBody::Unchanged)))
        })
    });
    group.bench_function("baseline_serde_value_roundtrip", |b| {
        b.iter(|| {
            let value: serde_json::Value =
                serde_json::from_slice(black_box(&body)).unwrap_or_default();
            black_box(serde_json::to_vec(&value).unwrap_or_default())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
