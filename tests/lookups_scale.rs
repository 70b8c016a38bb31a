//! Sizing for a million approved accounts: memory of the in-memory set and lookup time.
//! Prints its figures (run with `--release -- --nocapture` for the ones worth quoting);
//! asserts only loose bounds so it stays stable on a noisy machine.

use imgate::lookups::approval::set::PublisherSetBuilder;
use imgate::lookups::{build_approval, ApprovalSpec};
use std::hint::black_box;
use std::time::Instant;

/// A million in optimised builds; a tenth in debug builds, where the same code is ~20x
/// slower and the figures mean nothing anyway.
const N: usize = if cfg!(debug_assertions) {
    100_000
} else {
    1_000_000
};

fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn account(i: usize) -> String {
    format!("u-{i:08}")
}

#[test]
fn a_million_accounts() {
    let ids: Vec<String> = (0..N).map(account).collect();
    let misses: Vec<String> = (0..N).map(|i| format!("x-{i:08}")).collect();

    let before = rss_bytes();
    let started = Instant::now();
    let mut builder = PublisherSetBuilder::with_capacity(N);
    for (i, id) in ids.iter().enumerate() {
        let cats: &[&str] = if i % 10 == 0 {
            &["political_news", "finance"]
        } else {
            &["political_news"]
        };
        builder.insert(id, cats.iter().copied()).unwrap();
    }
    let set = builder.build();
    let build_time = started.elapsed();
    let after = rss_bytes();
    let delta = after.zip(before).map(|(a, b)| a.saturating_sub(b));

    // Lookups in a scattered order (a multiplicative stride), hits and misses.
    let rounds = 2 * N;
    let started = Instant::now();
    let mut found = 0usize;
    for k in 0..rounds {
        let i = (k.wrapping_mul(2_654_435_761)) % N;
        found += usize::from(set.is_approved(black_box(&ids[i])));
    }
    let hit_ns = started.elapsed().as_nanos() as f64 / rounds as f64;
    assert_eq!(found, rounds);
    let started = Instant::now();
    for k in 0..rounds {
        let i = (k.wrapping_mul(2_654_435_761)) % N;
        found -= usize::from(!set.is_approved(black_box(&misses[i])));
    }
    let miss_ns = started.elapsed().as_nanos() as f64 / rounds as f64;
    assert_eq!(found, 0);
    let started = Instant::now();
    let mut allowed = 0usize;
    for k in 0..rounds / 4 {
        let i = (k.wrapping_mul(2_654_435_761)) % N;
        allowed += set.get(black_box(&ids[i])).categories.len();
    }
    let get_ns = started.elapsed().as_nanos() as f64 / (rounds / 4) as f64;
    assert!(allowed > 0);

    println!(
        "{N} accounts: build {:?}, RSS delta {} MiB ({} bytes/account), is_approved hit {:.0} ns, miss {:.0} ns, categories() {:.0} ns",
        build_time,
        delta.map_or("?".into(), |d| format!("{:.1}", d as f64 / 1048576.0)),
        delta.map_or("?".into(), |d| (d / N as u64).to_string()),
        hit_ns,
        miss_ns,
        get_ns,
    );
    if let Some(delta) = delta {
        assert!(delta < 200 * N as u64, "set uses {delta} bytes");
    }
    drop(set);

    // Loading the same million from files, as the `file` source does at build and reload.
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::with_capacity(N * 32);
    let mut toml = String::with_capacity(N * 64);
    for id in &ids {
        csv.push_str(id);
        csv.push_str(",political_news\n");
        toml.push_str("[[publisher]]\naccount_id = \"");
        toml.push_str(id);
        toml.push_str("\"\ncategories = [\"political_news\"]\n");
    }
    std::fs::write(dir.path().join("big.csv"), &csv).unwrap();
    std::fs::write(dir.path().join("big.toml"), &toml).unwrap();
    drop((csv, toml));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ctx = imgate::lookups::BuildContext {
        base_dir: dir.path(),
        upstream_base: String::new(),
        runtime: runtime.handle().clone(),
    };
    for file in ["big.csv", "big.toml"] {
        let spec: ApprovalSpec =
            toml::from_str(&format!("kind = \"file\"\npath = \"{file}\"")).unwrap();
        let started = Instant::now();
        let reg = build_approval(&spec, &ctx).unwrap();
        let took = started.elapsed();
        assert!(reg.is_approved_cached(&account(N - 1)));
        assert_eq!(reg.stats().entries, N as u64);
        println!("{N} accounts: load {file} in {took:?}");
    }
}
