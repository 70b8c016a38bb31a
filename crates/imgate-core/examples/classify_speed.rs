//! Quick throughput probe of `classify()` on a file (one core): `classify_speed CONF_DIR FILE [ROUNDS]`.
use imgate_core::classify::{CategorySpec, Classifier, Document};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (conf, file) = (args.get(1).ok_or("CONF_DIR")?, args.get(2).ok_or("FILE")?);
    let rounds: usize = args.get(3).map_or(Ok(5), |s| s.parse())?;
    let mut spec = CategorySpec::new();
    spec.lexicons = vec![
        "lexicons/political_news.zh.txt".into(),
        "lexicons/political_news.en.txt".into(),
    ];
    spec.model = Some("models/political_news.model".into());
    let mut read =
        |p: &str| std::fs::read_to_string(format!("{conf}/{p}")).map_err(|e| e.to_string());
    let c = Classifier::build(&[("political_news".into(), spec)], &mut read)?;
    let text = std::fs::read_to_string(file)?;
    let docs: Vec<&str> = text.lines().collect();
    let t0 = Instant::now();
    let mut hits = 0usize;
    for _ in 0..rounds {
        for d in &docs {
            hits += usize::from(
                c.classify(&Document {
                    texts: vec![d],
                    ..Default::default()
                })
                .verdicts[0]
                    .matched,
            );
        }
    }
    let s = t0.elapsed().as_secs_f64();
    println!(
        "{:.1} MB/s ({hits} matched)",
        (text.len() * rounds) as f64 / 1e6 / s
    );
    Ok(())
}
