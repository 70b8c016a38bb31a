//! Criterion bench of the full `classify()` (normalisation included) on mixed zh/en text, with the shipped
//! lexicons and model. Throughput is reported in bytes, so criterion prints MB/s (one core: criterion runs the
//! routine on one thread).
//!
//! `post_1k_cold` is `post_1k` with 4 MiB of other memory written before each call (not timed): the classifier's
//! tables and code have left the L2 cache, as between two posts in a loaded gateway, where the proxy, the kernel
//! and the upstream share the core. Compare it with `post_1k` to see what the tables' size costs.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use imgate_core::classify::{CategorySpec, Classifier, Document, Normalized, Normalizer};

/// The shipped `conf/` folder; `IMGATE_CONF_DIR` overrides it.
fn conf_dir() -> String {
    std::env::var("IMGATE_CONF_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../../conf/").into())
}

fn classifier() -> Classifier {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec![
        "lexicons/political_news.zh.txt".into(),
        "lexicons/political_news.en.txt".into(),
    ];
    spec.model = Some("models/political_news.model".into());
    let conf = conf_dir();
    let mut read =
        |p: &str| std::fs::read_to_string(format!("{conf}/{p}")).map_err(|e| e.to_string());
    match Classifier::build(&[("political_news".into(), spec)], &mut read) {
        Ok(c) => c,
        Err(e) => panic!("cannot build classifier from {conf}: {e}"),
    }
}

/// Synthetic mixed text written for the bench (not taken from any corpus).
fn mixed_text() -> String {
    let zh = "国务院总理今天在北京会见来访的外国代表团，双方就经贸合作和地区形势交换了意见。\
              本赛季联赛第十轮比赛中，主队凭借下半场的两粒进球逆转取胜。新款手机发布会吸引了大量消费者关注。";
    let en = "The prime minister told parliament that the government would publish its budget next week. \
              Meanwhile the club confirmed the signing of a new striker ahead of the transfer deadline, \
              and the film festival opened with a sold-out premiere. Shares rose 3% in early trading. ";
    let mut s = String::new();
    while s.len() < 16 * 1024 {
        s.push_str(zh);
        s.push_str(en);
    }
    s
}

/// A ~1 KiB mixed zh/en post (title + content), the size the gateway classifies per publish request. Written for
/// the bench (not taken from any corpus).
fn post_1k() -> (&'static str, &'static str) {
    let title = "外交部长结束国事访问 Parliament votes on trade treaty";
    let content = "新华社北京电 外交部长周四结束为期三天的国事访问，并与东道国总理举行联合记者会。\
                   议会随后就双边贸易协定进行表决，执政党议员支持该协定。\
                   The opposition leader told reporters that the cabinet had rushed the ratification \
                   without a proper committee hearing. 反对党领袖表示内阁仓促批准。\
                   Diplomats said the treaty would take effect once the senate confirms it next month, \
                   and analysts expect the vote to dominate the coming election campaign. \
                   使馆确认，政府首脑将于春季访问国民议会，双方还签署了领事合作备忘录。\
                   The minister met the president at the palace and signed a memorandum on consular \
                   cooperation before flying home. 评论：这次访问意义重大，值得关注。Good news for both countries, \
                   and a welcome sign for regional trade. 网友纷纷点赞，认为前景可期。转发 https://news.example.com/2026/11/a.html";
    (title, content)
}

fn bench(c: &mut Criterion) {
    let cl = classifier();
    let text = mixed_text();
    let headline = "外交部发言人就地区局势答记者问 Minister visits Beijing";
    let mut g = c.benchmark_group("classify");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("mixed_16k", |b| {
        b.iter(|| {
            cl.classify(&Document {
                texts: vec![text.as_str()],
                ..Default::default()
            })
        })
    });
    // Normalisation alone, to see how the time of classify() splits.
    let norm = Normalizer::new();
    let mut buf = Normalized::default();
    g.bench_function("normalize_16k", |b| {
        b.iter(|| {
            norm.normalize_into(&text, &mut buf);
            buf.text.len()
        })
    });
    let (title, content) = post_1k();
    g.throughput(Throughput::Bytes((title.len() + content.len()) as u64));
    g.bench_function("post_1k", |b| {
        b.iter(|| {
            cl.classify(&Document {
                texts: vec![title, content],
                ..Default::default()
            })
        })
    });
    let mut other = vec![0u64; 4 << 17];
    let mut round = 0u64;
    g.bench_function("post_1k_cold", |b| {
        b.iter_batched(
            || {
                round += 1;
                for (i, w) in other.iter_mut().enumerate() {
                    *w = w.wrapping_add(i as u64 ^ round);
                }
                std::hint::black_box(&other);
            },
            |()| {
                cl.classify(&Document {
                    texts: vec![title, content],
                    ..Default::default()
                })
            },
            BatchSize::PerIteration,
        )
    });
    g.throughput(Throughput::Bytes(headline.len() as u64));
    g.bench_function("headline", |b| {
        b.iter(|| {
            cl.classify(&Document {
                texts: vec![headline],
                ..Default::default()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
