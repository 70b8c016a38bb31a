//! Minimal driver for instruction-count profiling of `classify()` (e.g. under `valgrind --tool=callgrind`, whose
//! counts stay stable on a busy machine where wall-clock timings do not): `classify_profile CONF_DIR FILE [ROUNDS]`.
//! Each line of FILE is one document; tabs separate its texts (e.g. `title<TAB>content`). Only the full
//! classifier (shipped lexicons + model) runs, so `--toggle-collect` on `Classifier::classify` gives the cost per
//! call directly: divide by lines x ROUNDS.
//!
//! `classify_profile CONF_DIR FILE dump` instead prints, per line, the full classification (scores and evidence,
//! as JSON) of the line and of two obfuscated variants of it: diffing two such dumps checks that a change to the
//! classifier's implementation changed no result. `classify_profile CONF_DIR FILE scores` prints only each line's
//! score, one per line (for experiments that score many variants of texts, such as windows of a long one).
use imgate_core::classify::obfuscate::Obfuscator;
use imgate_core::classify::{CategorySpec, Classifier, Document, Normalizer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (conf, file) = (args.get(1).ok_or("CONF_DIR")?, args.get(2).ok_or("FILE")?);
    let dump = args.get(3).is_some_and(|a| a == "dump");
    let scores = args.get(3).is_some_and(|a| a == "scores");
    let rounds: usize = match args.get(3) {
        Some(a) if !dump && !scores => a.parse()?,
        _ => 100,
    };
    let mut read =
        |p: &str| std::fs::read_to_string(format!("{conf}/{p}")).map_err(|e| e.to_string());
    let mut spec = CategorySpec::new();
    spec.lexicons = vec![
        "lexicons/political_news.zh.txt".into(),
        "lexicons/political_news.en.txt".into(),
    ];
    spec.model = Some("models/political_news.model".into());
    let c = Classifier::build(&[("political_news".into(), spec)], &mut read)?;
    let text = std::fs::read_to_string(file)?;
    let docs: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    if scores {
        for texts in &docs {
            let v = c.classify(&Document {
                texts: texts.clone(),
                ..Default::default()
            });
            let s = v.verdicts.first().map_or(f64::NAN, |v| v.score);
            println!("{s:.4}");
        }
        return Ok(());
    }
    if dump {
        let ob = Obfuscator::new(&Normalizer::new());
        for (i, texts) in docs.iter().enumerate() {
            let mut variants = vec![texts.iter().map(|t| t.to_string()).collect::<Vec<_>>()];
            for seed in 0..2 {
                variants.push(
                    texts
                        .iter()
                        .map(|t| ob.obfuscate(t, i as u64 * 2 + seed))
                        .collect(),
                );
            }
            for v in &variants {
                let c = c.classify(&Document {
                    texts: v.iter().map(String::as_str).collect(),
                    ..Default::default()
                });
                println!("{}", serde_json::to_string(&c)?);
            }
        }
        return Ok(());
    }
    let mut score = 0.0;
    for _ in 0..rounds {
        for texts in &docs {
            let v = c.classify(&Document {
                texts: texts.clone(),
                ..Default::default()
            });
            score += v.verdicts.first().map_or(0.0, |v| v.score);
        }
    }
    println!("{} calls, score sum {score:.6}", rounds * docs.len());
    Ok(())
}
