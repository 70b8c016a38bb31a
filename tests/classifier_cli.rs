//! `imgate learn` and `imgate eval` as processes: a model learnt from a small labelled corpus, written as a
//! readable file, evaluated with the table's figures, the JSON report and the per-record scores file.

mod common;

use std::path::Path;

use common::imgate;
use serde_json::Value;

/// A small two-language corpus written for this test: political records share one vocabulary, the others
/// another, so a model learnt on it separates them.
fn write_corpus(path: &Path) -> Vec<Value> {
    let political_en = [
        "Parliament passed the budget bill after the finance minister defended the tax plan",
        "Senators vote to confirm the new foreign minister before the summit",
        "The government set an election date as opposition parties start to campaign",
        "Cabinet ministers met the president to discuss sanctions and the treaty",
    ];
    let other_en = [
        "The striker scored twice as the club won the league match at home",
        "The bakery on the corner sells fresh sourdough bread every weekend",
        "A new phone launched with a bigger battery and a brighter camera",
        "Heavy rain is expected along the coast this weekend, forecasters said",
    ];
    let political_zh = [
        "国务院常务会议部署财政政策 外交部长出席峰会",
        "全国人大常委会审议预算法修正案草案",
        "外交部发言人就双边关系答记者问",
        "省委书记主持召开常委会议研究改革方案",
    ];
    let other_zh = [
        "主队凭借下半场两粒进球逆转取胜",
        "新款手机发布 电池续航大幅提升",
        "周末沿海地区将有强降雨 注意出行安全",
        "这家面包店每个周末都有新鲜出炉的面包",
    ];
    let mut records = Vec::new();
    for i in 0..48 {
        let political = i % 2 == 0;
        let (lang, pool) = match (i % 4 < 2, political) {
            (true, true) => ("en", &political_en),
            (true, false) => ("en", &other_en),
            (false, true) => ("zh", &political_zh),
            (false, false) => ("zh", &other_zh),
        };
        records.push(serde_json::json!({
            "id": format!("cli-{i:03}"),
            "lang": lang,
            "text": format!("{} ({i})", pool[(i / 4) % 4]),
            "category": if political { "politics" } else { "other" },
            "political_news": political,
        }));
    }
    let lines: Vec<String> = records.iter().map(Value::to_string).collect();
    std::fs::write(path, lines.join("\n") + "\n").expect("write corpus");
    records
}

/// FNV-1a bucket of an id, the documented held-out rule (`bucket < holdout` is held out).
fn bucket(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % 100
}

/// The JSON lines of a scores file.
fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("scores written")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

#[test]
fn learn_writes_a_readable_model_that_eval_scores_per_record() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("corpus.jsonl");
    let records = write_corpus(&corpus);
    let model = dir.path().join("m.model");
    let (code, out, err) = imgate(&[
        "learn",
        "-i",
        corpus.to_str().unwrap(),
        "--split",
        "all",
        "--folds",
        "0",
        "-o",
        model.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&model).expect("model written");
    assert!(text.starts_with("# imgate linear model"), "{text}");
    assert!(text.contains("\nimgate-linear-model 3\n"), "{text}");
    assert!(text.lines().any(|l| l.starts_with("bias en ")), "{text}");
    assert!(text.lines().filter(|l| l.starts_with("f ")).count() > 10);
    // Features, not text: no record's words stand in the file as written.
    for r in &records {
        assert!(!text.contains(r["text"].as_str().unwrap_or_default()));
    }

    let scores = dir.path().join("scores.jsonl");
    let (code, out, err) = imgate(&[
        "eval",
        "-i",
        corpus.to_str().unwrap(),
        "--split",
        "all",
        "--model",
        model.to_str().unwrap(),
        "--json",
        "--scores",
        scores.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    let overall = &report["plain"]["overall"];
    assert_eq!(overall["docs"], 48);
    assert_eq!(
        overall["tp"].as_u64().unwrap_or(0) + overall["fn"].as_u64().unwrap_or(0),
        24
    );
    assert!(overall["f1"].as_f64().unwrap_or(0.0) > 0.9, "{out}");
    for lang in ["en", "zh"] {
        assert_eq!(report["plain"]["per_lang"][lang]["docs"], 24, "{out}");
    }

    // One line per record, in corpus order, agreeing with the report's counts.
    let lines = json_lines(&scores);
    assert_eq!(lines.len(), records.len());
    for (line, record) in lines.iter().zip(&records) {
        assert_eq!(line["id"], record["id"]);
        assert_eq!(line["lang"], record["lang"]);
        assert_eq!(line["label"], record["political_news"]);
        assert_eq!(line["obfuscated"], false);
        assert!(line["score"].is_f64(), "{line}");
        assert!(line.get("text").is_none(), "{line}");
    }
    let count = |label: bool, matched: bool| {
        lines
            .iter()
            .filter(|l| l["label"] == label && l["matched"] == matched)
            .count() as u64
    };
    assert_eq!(Some(count(true, true)), overall["tp"].as_u64());
    assert_eq!(Some(count(false, true)), overall["fp"].as_u64());
    assert_eq!(Some(count(true, false)), overall["fn"].as_u64());
}

#[test]
fn eval_uses_the_held_out_part_by_default_and_scores_obfuscated_variants_too() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("corpus.jsonl");
    let records = write_corpus(&corpus);
    let held_out = records
        .iter()
        .filter(|r| bucket(r["id"].as_str().unwrap_or_default()) < 20)
        .count();
    assert!(held_out > 0 && held_out < records.len());
    let scores = dir.path().join("scores.jsonl");
    let lexicon = dir.path().join("terms.txt");
    std::fs::write(&lexicon, "# test lexicon\nminister 2\n外交部 2\n").expect("lexicon");
    let (code, out, err) = imgate(&[
        "eval",
        "-i",
        corpus.to_str().unwrap(),
        "--lexicon",
        lexicon.to_str().unwrap(),
        "--obfuscate",
        "--json",
        "--scores",
        scores.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).expect("JSON report");
    assert_eq!(report["plain"]["overall"]["docs"], held_out as u64);
    assert_eq!(report["obfuscated"]["overall"]["docs"], held_out as u64);
    let lines = json_lines(&scores);
    assert_eq!(lines.len(), 2 * held_out);
    assert!(lines[..held_out].iter().all(|l| l["obfuscated"] == false));
    assert!(lines[held_out..].iter().all(|l| l["obfuscated"] == true));
}

#[test]
fn a_malformed_corpus_line_is_refused_with_its_file_and_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = dir.path().join("broken.jsonl");
    std::fs::write(
        &corpus,
        "{\"id\":\"a\",\"lang\":\"en\",\"text\":\"x\",\"political_news\":true}\nnot json\n",
    )
    .expect("write");
    let (code, out, err) = imgate(&["eval", "-i", corpus.to_str().unwrap(), "--split", "all"]);
    assert_ne!(code, 0, "{out}{err}");
    assert!(
        err.contains("broken.jsonl") && err.contains("line 2"),
        "{err}"
    );
}
