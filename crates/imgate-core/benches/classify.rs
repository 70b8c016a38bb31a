//! Criterion bench of the full `classify()` (normalisation included) on mixed zh/en text, with the shipped
//! lexicons and model. Throughput is reported in bytes, so criterion prints MB/s (one core: criterion runs the
//! routine on one thread).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
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
