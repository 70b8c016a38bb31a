//! Quick throughput probe of `classify()` and of normalisation alone on a file (one core):
//! `classify_speed CONF_DIR FILE [ROUNDS] [COLD_KIB]`. Each line of FILE is one document.
//!
//! With `COLD_KIB`, a buffer of that many KiB is read and written between two documents, as the rest of a
//! proxy's request (sockets, other processes on the core) does in a live server, and `classify()` alone is
//! timed: the cost of a classifier whose tables have fallen out of the caches.
//!
//! Besides wall-clock MB/s it prints MB/s per CPU-second of this thread (from `/proc/thread-self/schedstat`,
//! Linux only), which stays meaningful on a busy shared machine where wall time is inflated by waiting.
use imgate_core::classify::{CategorySpec, Classifier, Document, Normalized, Normalizer};
use std::time::Instant;

/// CPU time of the current thread in seconds, if the kernel exposes it.
fn thread_cpu_seconds() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: f64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns / 1e9)
}

fn measure(label: &str, bytes: usize, mut f: impl FnMut() -> usize) -> usize {
    let c0 = thread_cpu_seconds();
    let t0 = Instant::now();
    let out = f();
    let wall = t0.elapsed().as_secs_f64();
    let cpu = match (c0, thread_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => format!("{:.1}", bytes as f64 / 1e6 / (b - a)),
        _ => "n/a".into(),
    };
    println!(
        "{label:<10} {:.1} MB/s wall, {cpu} MB/s per CPU-second",
        bytes as f64 / 1e6 / wall
    );
    out
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (conf, file) = (args.get(1).ok_or("CONF_DIR")?, args.get(2).ok_or("FILE")?);
    let rounds: usize = args.get(3).map_or(Ok(5), |s| s.parse())?;
    let cold_kib: Option<usize> = args.get(4).map(|s| s.parse()).transpose()?;
    let mut read =
        |p: &str| std::fs::read_to_string(format!("{conf}/{p}")).map_err(|e| e.to_string());
    let lexicons = vec![
        "lexicons/political_news.zh.txt".to_string(),
        "lexicons/political_news.en.txt".to_string(),
    ];
    let model = Some("models/political_news.model".to_string());
    let mut build = |lexicons: Vec<String>, model: Option<String>| {
        let mut spec = CategorySpec::new();
        spec.lexicons = lexicons;
        spec.model = model;
        Classifier::build(&[("political_news".into(), spec)], &mut read)
    };
    let c = build(lexicons.clone(), model.clone())?;
    // The two signals alone, to see how the time splits.
    let parts = [
        ("lexicon", build(lexicons, None)?),
        ("model", build(Vec::new(), model)?),
        ("neither", {
            // Normalisation and the call itself: a declared-category table is the one signal that reads no text.
            let mut spec = CategorySpec::new();
            spec.declared.insert("politics".into(), 1.0);
            Classifier::build(&[("political_news".into(), spec)], &mut read)?
        }),
    ];
    let text = std::fs::read_to_string(file)?;
    let docs: Vec<&str> = text.lines().collect();
    let bytes = text.len() * rounds;
    let norm = Normalizer::new();
    let mut buf = Normalized::default();
    measure("normalize", bytes, || {
        let mut n = 0;
        for _ in 0..rounds {
            for d in &docs {
                norm.normalize_into(d, &mut buf);
                n += buf.text.len();
            }
        }
        n
    });
    if let Some(kib) = cold_kib {
        cold("classify", &c, &docs, rounds, kib);
        for (label, c) in &parts {
            cold(label, c, &docs, rounds, kib);
        }
        return Ok(());
    }
    let hits = measure("classify", bytes, || {
        let mut hits = 0usize;
        for _ in 0..rounds {
            for d in &docs {
                let v = c.classify(&Document {
                    texts: vec![d],
                    ..Default::default()
                });
                hits += usize::from(v.verdicts.first().is_some_and(|v| v.matched));
            }
        }
        hits
    });
    println!("{hits} matched");
    for (label, c) in &parts {
        measure(label, bytes, || {
            let mut n = 0;
            for _ in 0..rounds {
                for d in &docs {
                    let v = c.classify(&Document {
                        texts: vec![d],
                        ..Default::default()
                    });
                    n += usize::from(v.verdicts.first().is_some_and(|v| v.matched));
                }
            }
            n
        });
    }
    Ok(())
}

/// `classify()` with the caches refilled by other work between documents (see the module doc).
fn cold(label: &str, c: &Classifier, docs: &[&str], rounds: usize, kib: usize) {
    let mut other = vec![0u64; kib * 1024 / 8];
    let mut spent = std::time::Duration::ZERO;
    let mut calls = 0u32;
    let mut bytes = 0usize;
    for round in 0..rounds {
        for d in docs {
            for (i, w) in other.iter_mut().enumerate() {
                *w = w.wrapping_add(i as u64 ^ round as u64);
            }
            std::hint::black_box(&other);
            let t = Instant::now();
            let v = c.classify(&Document {
                texts: vec![d],
                ..Default::default()
            });
            spent += t.elapsed();
            std::hint::black_box(v);
            calls += 1;
            bytes += d.len();
        }
    }
    println!(
        "{label:<10} caches refilled with {kib} KiB between documents: {:.2} us per document, {:.1} MB/s",
        spent.as_secs_f64() * 1e6 / f64::from(calls.max(1)),
        bytes as f64 / 1e6 / spent.as_secs_f64()
    );
}
