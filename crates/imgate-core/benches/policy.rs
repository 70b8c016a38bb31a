//! Micro-benchmarks of the policy core's request-side work: validators, strict body
//! parsing, canonical paths and route lookup. Throughput is per call on one core.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use imgate_core::body::{parse_strict_object, FormFields};
use imgate_core::path::canonicalize;
use imgate_core::route::{Methods, RouteTable};
use imgate_core::validate::{
    validate_cn_mobile, validate_person_name, validate_resident_id, Date, Divisions,
    MobilePrefixes, NameOptions, ResidentIdOptions,
};

fn validators(c: &mut Criterion) {
    let today = Date::new(2026, 11, 29).expect("date");
    let options = ResidentIdOptions::default();
    let divisions = Divisions::embedded();
    let prefixes = MobilePrefixes::default();
    let names = NameOptions::default();
    let mut group = c.benchmark_group("validators");
    group.bench_function("cn_resident_id", |b| {
        b.iter(|| validate_resident_id(black_box("11010519491231002X"), today, &options, divisions))
    });
    group.bench_function("cn_mobile", |b| {
        b.iter(|| validate_cn_mobile(black_box("+86 138-0013-8000"), &prefixes))
    });
    group.bench_function("person_name_zh", |b| {
        b.iter(|| validate_person_name(black_box("欧阳·娜娜"), &names))
    });
    group.bench_function("person_name_latin", |b| {
        b.iter(|| validate_person_name(black_box("Jean-Luc Picard"), &names))
    });
    group.finish();
}

fn bodies(c: &mut Criterion) {
    let json = format!(
        r#"{{"username":"zhangsan","password":"s3cret","real_name":"张三","id_number":"11010519491231002X","phone":"13800138000","agreement":{{"accepted":true,"version":"2014-08"}},"bio":"{}"}}"#,
        "x".repeat(800)
    );
    let form = "username=zhangsan&password=pw&real_name=%E5%BC%A0%E4%B8%89&id_number=11010519491231002X&phone=13800138000&agree=on&agreement_version=2014-08";
    let mut group = c.benchmark_group("bodies");
    group.throughput(Throughput::Bytes(json.len() as u64));
    group.bench_function("strict_json_1k", |b| {
        b.iter(|| parse_strict_object(black_box(json.as_bytes())))
    });
    group.throughput(Throughput::Bytes(form.len() as u64));
    group.bench_function("form", |b| {
        b.iter(|| FormFields::parse(black_box(form.as_bytes())))
    });
    group.finish();
}

fn routing(c: &mut Criterion) {
    let mut table = RouteTable::new();
    for (method, path) in [
        ("POST", "/api/v1/accounts"),
        ("GET", "/api/v1/accounts/{id}"),
        ("POST", "/api/v1/posts"),
        ("GET", "/api/v1/posts/{id}"),
        ("GET", "/api/v1/timeline"),
        ("POST", "/legacy/register.do"),
    ] {
        table
            .insert(Methods::Only(vec![method.into()]), path, ())
            .expect("route");
    }
    let mut group = c.benchmark_group("routing");
    group.bench_function("canonicalize_and_find", |b| {
        b.iter(|| {
            let path = canonicalize(black_box("/api/v1/posts/p-12345")).expect("path");
            table.find("GET", &path).is_some()
        })
    });
    group.finish();
}

criterion_group!(benches, validators, bodies, routing);
criterion_main!(benches);
