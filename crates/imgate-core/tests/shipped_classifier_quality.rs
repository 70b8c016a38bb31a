//! Quality floors of the classifier the product ships (`conf/lexicons`, `conf/models`), measured on the
//! team-written probe sets `data/political_news.probe-test.jsonl` and the test half (even ids) of
//! `data/political_news.probe3.jsonl`: news headlines, leads, short articles and posts in both languages that no
//! lexicon, model or option was tuned on (see `data/README.md`). The floors sit a little below
//! the figures measured when the model was last rebuilt, so a change that makes the shipped classifier worse at
//! news it has not seen fails here. No timing is involved.

use imgate_core::classify::corpus::{parse_record, LabelRule, Record};
use imgate_core::classify::eval::{EvalReport, Evaluator};
use imgate_core::classify::obfuscate::{Obfuscator, Rng};
use imgate_core::classify::{CategorySpec, Classifier, Document, Normalizer};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn shipped_classifier() -> Classifier {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec![
        "lexicons/political_news.zh.txt".into(),
        "lexicons/political_news.en.txt".into(),
    ];
    spec.model = Some("models/political_news.model".into());
    let mut read =
        |p: &str| std::fs::read_to_string(format!("{ROOT}/conf/{p}")).map_err(|e| e.to_string());
    match Classifier::build(&[("political_news".into(), spec)], &mut read) {
        Ok(c) => c,
        Err(e) => panic!("the shipped classifier does not build: {e}"),
    }
}

/// The records of `data/FILE` that `keep` keeps.
fn records_of(file: &str, keep: impl Fn(&Record) -> bool) -> Vec<Record> {
    let path = format!("{ROOT}/data/{file}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let rule = LabelRule::Field("political_news".into());
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_record(l, &rule, i + 1).unwrap_or_else(|e| panic!("{path}: {e}")))
        .filter(|r| keep(r))
        .collect()
}

fn probe_records() -> Vec<Record> {
    records_of("political_news.probe-test.jsonl", |_| true)
}

/// probe3's test half: the items whose number is even (`probe3-en-002`, ...).
fn probe3_test_records() -> Vec<Record> {
    records_of("political_news.probe3.jsonl", |r| {
        r.id.rsplit('-')
            .next()
            .and_then(|n| n.parse::<u32>().ok())
            .is_some_and(|n| n % 2 == 0)
    })
}

/// Evaluates `c` on `records`, each text passed through `variant` first.
fn evaluate(
    c: &Classifier,
    records: &[Record],
    variant: impl Fn(&str, u64) -> String,
) -> EvalReport {
    let mut ev = Evaluator::new("political_news", "probe-test");
    for (i, r) in records.iter().enumerate() {
        let text = variant(&r.text, i as u64);
        let verdict = c.classify(&Document {
            texts: vec![&text],
            ..Default::default()
        });
        let matched = verdict.matched().any(|name| name == "political_news");
        ev.add(&r.lang, r.label, matched, text.len() as u64, 0.0);
    }
    ev.finish()
}

/// Fails unless each `(lang, min_f1, max_fpr)` holds in `report`.
fn assert_floors(report: &EvalReport, floors: &[(&str, f64, f64)]) {
    for &(lang, min_f1, max_fpr) in floors {
        let m = report
            .per_lang
            .get(lang)
            .unwrap_or_else(|| panic!("no {lang} records"));
        assert!(
            m.f1 >= min_f1 && m.fpr <= max_fpr,
            "{lang}: F1 {:.4} (floor {min_f1}), FPR {:.4} (ceiling {max_fpr})\n{}",
            m.f1,
            m.fpr,
            report.table()
        );
    }
}

/// Classifies `records` (checking the set still has `expected` of them) as written and holds the floors.
fn holds_floors(records: &[Record], expected: usize, floors: &[(&str, f64, f64)]) {
    assert_eq!(records.len(), expected, "the data set changed");
    let report = evaluate(&shipped_classifier(), records, |t, _| t.to_string());
    assert_floors(&report, floors);
}

#[test]
fn the_shipped_classifier_keeps_its_quality_on_unseen_news() {
    // Measured when the model was rebuilt (session 14, unchanged in session 15): en F1 0.937 (FPR 0.025), zh F1
    // 0.940 (FPR 0.050).
    holds_floors(
        &probe_records(),
        240,
        &[("en", 0.90, 0.0625), ("zh", 0.90, 0.0625)],
    );
}

#[test]
fn the_shipped_classifier_keeps_its_quality_on_probe3s_test_half() {
    // Measured when the model was rebuilt (session 14, unchanged in session 15): en F1 0.943 (FPR 0), zh F1
    // 0.960 (FPR 0.016).
    holds_floors(
        &probe3_test_records(),
        200,
        &[("en", 0.90, 0.05), ("zh", 0.90, 0.06)],
    );
}

/// The blind test set of session 14 (`data/political_news.probe5.jsonl`: written after the session's changes by
/// helpers that read nothing of the repository; never looked at item by item).
#[test]
fn the_shipped_classifier_keeps_its_quality_on_the_blind_session_14_set() {
    // Measured when it was written (session 14): en F1 0.874 (FPR 0.030), zh F1 0.957 (FPR 0.080); after the
    // session-15 rebuild en 0.886 (0.030), zh 0.957 (0.080).
    holds_floors(
        &records_of("political_news.probe5.jsonl", |_| true),
        400,
        &[("en", 0.85, 0.06), ("zh", 0.92, 0.11)],
    );
}

/// The blind set of session 15 (`data/political_news.probe6.jsonl`: written by a helper that read nothing of
/// the repository; its figures, never its items, chose between the session's six candidate models).
#[test]
fn the_shipped_classifier_keeps_its_quality_on_the_blind_session_15_set() {
    // Session 14's model: en F1 0.837 (FPR 0.070), zh 0.898 (0.030); the session-15 rebuild: en 0.856
    // (0.070), zh 0.898 (0.030).
    holds_floors(
        &records_of("political_news.probe6.jsonl", |_| true),
        400,
        &[("en", 0.82, 0.10), ("zh", 0.86, 0.06)],
    );
}

/// The red-team posts of session 14 (`data/political_news.redteam.jsonl`: 2023-2026 posts in both languages,
/// with many hard negatives). The session's lexicon additions were chosen looking at its errors, so it is a
/// development set, not an unseen one: the floor holds what was fixed.
#[test]
fn the_shipped_classifier_keeps_what_the_red_team_posts_taught_it() {
    // Measured when the model was rebuilt (session 14): en F1 0.954 (FPR 0.033), zh F1 0.975 (FPR 0.025);
    // session 15: en 0.958 (0.033), zh 0.979 (0.025).
    holds_floors(
        &records_of("political_news.redteam.jsonl", |_| true),
        480,
        &[("en", 0.92, 0.06), ("zh", 0.94, 0.05)],
    );
}

#[test]
fn obfuscated_probe_news_is_caught_exactly_as_often_as_plain() {
    let c = shipped_classifier();
    let mut records = probe_records();
    records.extend(probe3_test_records());
    let ob = Obfuscator::new(&Normalizer::new());
    let plain = evaluate(&c, &records, |t, _| t.to_string());
    let obfuscated = evaluate(&c, &records, |t, seed| ob.obfuscate(t, seed));
    assert_eq!(
        (plain.overall.tp, plain.overall.fp),
        (obfuscated.overall.tp, obfuscated.overall.fp),
        "plain:\n{}\nobfuscated:\n{}",
        plain.table(),
        obfuscated.table()
    );
}

/// The English items of probe-test and of probe3's test half.
fn english_probe_records() -> Vec<Record> {
    let mut records = probe_records();
    records.extend(probe3_test_records());
    records.retain(|r| r.lang == "en");
    records
}

/// `text` with a space typed inside about half of its words of five letters or more, at a random inner place
/// (`parlia ment`, `minis ter`), as an evader would split them.
fn split_words(text: &str, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    text.split(' ')
        .map(|w| {
            let letters = w.len() >= 5 && w.bytes().all(|b| b.is_ascii_alphabetic());
            if letters && rng.chance(50) {
                let at = 2 + rng.below(w.len() as u64 - 3) as usize;
                format!("{} {}", &w[..at], &w[at..])
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn english_news_with_words_split_by_spaces_is_still_caught() {
    let c = shipped_classifier();
    let records = english_probe_records();
    let plain = evaluate(&c, &records, |t, _| t.to_string());
    let split = evaluate(&c, &records, split_words);
    // Without joining the words back, 16 of the 30 political probe-test items caught plain were caught split.
    let (p, s) = (&plain.overall, &split.overall);
    assert!(
        s.tp * 10 >= p.tp * 9 && s.fp <= p.fp + 3,
        "plain:\n{}\nsplit:\n{}",
        plain.table(),
        split.table()
    );
}

#[test]
fn english_news_run_together_or_spaced_letter_by_letter_is_mostly_caught() {
    let c = shipped_classifier();
    let records = english_probe_records();
    let plain = evaluate(&c, &records, |t, _| t.to_string());
    let run_together = evaluate(&c, &records, |t, _| t.replace(' ', ""));
    let letter_spaced = evaluate(&c, &records, |t, _| {
        let letters: Vec<String> = t.chars().filter(|c| *c != ' ').map(String::from).collect();
        letters.join(" ")
    });
    // Measured: 59 caught plain, 43 run together, 43 letter-spaced (18 and 5 without splitting long words).
    for (what, r) in [
        ("run together", &run_together),
        ("letter-spaced", &letter_spaced),
    ] {
        assert!(
            r.overall.tp * 100 >= plain.overall.tp * 55 && r.overall.fp <= plain.overall.fp + 3,
            "{what}:\n{}\nplain:\n{}",
            r.table(),
            plain.table()
        );
    }
}

#[test]
fn chinese_news_with_letters_between_its_characters_is_caught_as_often_as_plain() {
    let c = shipped_classifier();
    let mut records = probe_records();
    records.extend(probe3_test_records());
    records.retain(|r| r.lang == "zh");
    let plain = evaluate(&c, &records, |t, _| t.to_string());
    // Between every two Chinese characters: two letters (`外ab交`), or a letter with spaces (`外 x 交`).
    let between_characters = |t: &str, gap: &dyn Fn() -> String| {
        let hanzi = |c: char| ('\u{4E00}'..='\u{9FFF}').contains(&c);
        let mut out = String::new();
        let mut prev: Option<char> = None;
        for c in t.chars() {
            if prev.is_some_and(hanzi) && hanzi(c) {
                out.push_str(&gap());
            }
            out.push(c);
            prev = Some(c);
        }
        out
    };
    let pairs = ["ab", "ok", "xy", "QQ", "zz"];
    let two_letters = evaluate(&c, &records, |t, seed| {
        let rng = std::cell::RefCell::new(Rng::new(seed));
        between_characters(t, &|| {
            pairs[rng.borrow_mut().below(pairs.len() as u64) as usize].to_string()
        })
    });
    let spaced_letter = evaluate(&c, &records, |t, _| between_characters(t, &|| " x ".into()));
    for (what, r) in [
        ("two letters", &two_letters),
        ("a spaced letter", &spaced_letter),
    ] {
        assert_eq!(
            (r.overall.tp, r.overall.fp),
            (plain.overall.tp, plain.overall.fp),
            "{what}:\n{}\nplain:\n{}",
            r.table(),
            plain.table()
        );
    }
}
