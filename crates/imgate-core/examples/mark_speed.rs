//! Quick throughput probe of marker injection on a response body from a file (one core):
//! `mark_speed FILE [ROUNDS] [SELECTOR]` (default selector `posts[*].author`, id field `id`,
//! approved id `u-xinhua`). Prints MB/s per CPU-second of this thread (Linux), which stays
//! meaningful on a busy machine; under `valgrind --tool=callgrind` the instruction count per
//! round is the stable figure.
use imgate_core::mark::{MarkRule, MarkSpec, Others};

fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = args
        .next()
        .ok_or("usage: mark_speed FILE [ROUNDS] [SELECTOR]")?;
    let rounds: usize = args.next().map_or(Ok(1000), |r| r.parse())?;
    let selector = args.next().unwrap_or_else(|| "posts[*].author".to_owned());
    let body = std::fs::read(&file)?;
    let rule = MarkRule::compile(&MarkSpec {
        select: vec![selector],
        id_field: Some("id".to_owned()),
        id_from_path: None,
        field: "verified_publisher".to_owned(),
        approved_value: serde_json::Value::Bool(true),
        others: Others::False,
        header: None,
        max_body: None,
    })?;
    let mut approved = |id: &str| id == "u-xinhua";
    let c0 = thread_cpu_seconds();
    let mut marked = 0;
    for _ in 0..rounds {
        let out = rule.apply(std::hint::black_box(&body), None, &mut approved)?;
        marked += out.marked;
        std::hint::black_box(out.body.into_bytes(&body));
    }
    let mb = (body.len() * rounds) as f64 / 1e6;
    match (c0, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => println!(
            "{} bytes x {rounds}: {:.1} MB/s per CPU-second, {:.2} us per body, {marked} accounts marked",
            body.len(),
            mb / (b - a),
            (b - a) * 1e6 / rounds as f64
        ),
        _ => println!("{marked} accounts marked"),
    }
    Ok(())
}
