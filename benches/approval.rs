//! The cached approval lookup used by publish decisions and response marking: an
//! in-memory set of approved accounts, probed for approved and unknown ids.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use imgate::lookups::approval::set::PublisherSetBuilder;

fn approval_lookup(c: &mut Criterion) {
    let mut builder = PublisherSetBuilder::with_capacity(100_000);
    for i in 0..100_000 {
        builder
            .insert(&format!("u-{i}"), ["political_news"])
            .expect("insert");
    }
    let set = builder.build();
    let mut group = c.benchmark_group("approval");
    group.bench_function("is_approved_hit_100k", |b| {
        b.iter(|| set.is_approved(black_box("u-54321")))
    });
    group.bench_function("is_approved_miss_100k", |b| {
        b.iter(|| set.is_approved(black_box("u-alice")))
    });
    group.bench_function("allows_category_100k", |b| {
        b.iter(|| set.allows(black_box("u-54321"), black_box("political_news")))
    });
    group.finish();
}

criterion_group!(benches, approval_lookup);
criterion_main!(benches);
