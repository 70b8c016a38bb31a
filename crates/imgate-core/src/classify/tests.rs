//! Tests of the assembled classifier.

use super::*;

fn files(name: &str) -> Result<String, String> {
    match name {
        "pol.txt" => Ok("# test lexicon\n国务院 | 2\n外交部 | 2\nminister | 1\nprime minister | 1\nelection | 1\n".into()),
        "dom.txt" => Ok("gov.example\n".into()),
        "m.model" => Ok("imgate-linear-model 3\nbias zh -1\nbias en -1\nlength 1 2\nf 3 政治\nf 2 parliament\nf 1 局\n".into()),
        "bad.txt" => Ok("ok\nminister | x\n".into()),
        "post.model" => Ok(concat!(
            "imgate-linear-model 3\nbias zh 0.5\nbias en -2\nlength 1 0\n",
            "f 4 parliament\nf 3 vote\nf -4 striker\nf -4 goal\nf -0.5 转发\nf -1 大家\nf 2 政治\nf 1 news\nf 1 example\n"
        )
        .into()),
        "passage.model" => {
            // Two strong political words and 200 mildly negative padding words.
            let mut m = String::from(
                "imgate-linear-model 3\nbias zh -3\nbias en -3\nlength 1 0\nf 200 parliament\nf 200 vote\n",
            );
            for w in padding_words() {
                m.push_str(&format!("f -1 {w}\n"));
            }
            Ok(m)
        }
        "lang.model" => Ok(
            "imgate-linear-model 3\nbias zh 0\nbias en 0\nlexicon zh 0.5\nlexicon en 2\nlength 1 0\nf 1 政治\nf 1 vote\n"
                .into(),
        ),
        _ => Err("no such file".into()),
    }
}

/// 200 distinct padding words (`padaa`, `padab`, ...).
fn padding_words() -> Vec<String> {
    (0..200)
        .map(|i| {
            format!(
                "pad{}{}",
                (b'a' + (i / 26) as u8) as char,
                (b'a' + (i % 26) as u8) as char
            )
        })
        .collect()
}

fn classifier(threshold: f64) -> Classifier {
    let mut spec = CategorySpec::new();
    spec.threshold = threshold;
    spec.lexicons = vec!["pol.txt".into()];
    spec.domains = vec!["dom.txt".into()];
    spec.declared.insert("Politics".into(), 5.0);
    Classifier::build(&[("political_news".into(), spec)], &mut files).unwrap()
}

fn doc(t: &str) -> Document<'_> {
    Document {
        texts: vec![t],
        ..Default::default()
    }
}

#[test]
fn lexicon_hits_with_original_offsets() {
    let c = classifier(1.0);
    let text = "國\u{200B}務-院 召开会议";
    let v = c.classify(&doc(text));
    let v = v.get("political_news").unwrap();
    assert!(v.matched);
    let t = &v.evidence.terms[0];
    assert_eq!(&text[t.start..t.end], "國\u{200B}務-院");
    assert_eq!(&*t.term, "国务院");
    assert_eq!(&*t.source, "pol.txt:2");
}

#[test]
fn word_boundaries() {
    let c = classifier(0.1);
    for s in ["natural selection", "administer the dose", "ministerial"] {
        assert!(!c.classify(&doc(s)).verdicts[0].matched, "{s}");
    }
    let v = c.classify(&doc("The Prime Minister spoke"));
    // "prime minister" and "minister" both hit: distinct terms add up.
    assert_eq!(v.verdicts[0].evidence.lexicon_raw, 2.0);
}

#[test]
fn obfuscated_latin_is_caught() {
    let c = classifier(0.1);
    assert!(c.classify(&doc("ｅｌｅｃｔｉｏｎ")).verdicts[0].matched);
    assert!(c.classify(&doc("\u{0435}l\u{0435}cti\u{043E}n")).verdicts[0].matched);
}

#[test]
fn domains_and_declared() {
    let c = classifier(1.5);
    let d = Document {
        texts: vec!["weather"],
        source_urls: vec!["https://news.gov.example/a"],
        declared_category: None,
    };
    let v = c.classify(&d);
    assert!(v.verdicts[0].matched);
    assert_eq!(
        v.verdicts[0].evidence.domain.as_ref().map(|h| h.weight),
        Some(2.0)
    );
    let d = Document {
        texts: vec!["weather"],
        source_urls: vec![],
        declared_category: Some(" politics "),
    };
    let v = c.classify(&d);
    assert_eq!(v.verdicts[0].score, 5.0);
    assert!(v.verdicts[0].evidence.declared.is_some());
    let json = serde_json::to_string(&v).unwrap();
    assert!(json.contains("\"declared\""));
    assert_eq!(
        serde_json::to_string(&v.verdicts[0].public()).unwrap(),
        r#"{"category":"political_news","matched":true}"#
    );
    // Spelled other ways, or one level of a hierarchical value.
    for value in ["POLITICS", "Ｐｏｌｉｔｉｃｓ", "news/politics", "politics/"] {
        let d = Document {
            texts: vec!["weather"],
            source_urls: vec![],
            declared_category: Some(value),
        };
        assert_eq!(c.classify(&d).verdicts[0].score, 5.0, "{value}");
    }
}

#[test]
fn declared_values_compare_by_their_words() {
    let mut spec = CategorySpec::new();
    spec.threshold = 1.0;
    spec.declared.insert("political_news".into(), 100.0);
    spec.declared.insert("时政".into(), 100.0);
    let c = Classifier::build(&[("political_news".into(), spec)], &mut files).unwrap();
    for value in [
        "political-news",
        "Political News",
        "political_news",
        "時政",
        " 时政 ",
    ] {
        let d = Document {
            texts: vec!["weather"],
            source_urls: vec![],
            declared_category: Some(value),
        };
        assert!(c.classify(&d).verdicts[0].matched, "{value}");
    }
    let d = Document {
        texts: vec!["weather"],
        source_urls: vec![],
        declared_category: Some("politicalnews-free"),
    };
    assert!(!c.classify(&d).verdicts[0].matched);
}

#[test]
fn model_contribution_is_visible() {
    let mut spec = CategorySpec::new();
    spec.model = Some("m.model".into());
    let c = Classifier::build(&[("p".into(), spec)], &mut files).unwrap();
    let v = c.classify(&doc("政治局会议"));
    let m = v.verdicts[0].evidence.model.clone().unwrap();
    assert_eq!(m.lang, "zh");
    assert_eq!(m.top_features[0].0, "政治");
    // Two known features, each once: -1 + (3 + 1) / (2 + prior 2).
    assert!((v.verdicts[0].score - (-1.0 + 4.0 / 4.0)).abs() < 1e-6);
    assert_eq!(m.features_present, 2);
}

#[test]
fn build_errors_name_file_line_column() {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec!["bad.txt".into()];
    let e = Classifier::build(&[("p".into(), spec.clone())], &mut files).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad.txt:2:12: bad weight \"x\": expected a number"
    );
    spec.lexicons = vec!["missing.txt".into()];
    assert!(matches!(
        Classifier::build(&[("p".into(), spec)], &mut files),
        Err(BuildError::Read { .. })
    ));
    assert!(Classifier::build(&[("p".into(), CategorySpec::new())], &mut files).is_err());
}

#[test]
fn spec_from_toml_like_json() {
    let spec: CategorySpec =
        serde_json::from_str(r#"{"threshold":0.5,"lexicons":["a"],"declared":{"politics":3.0}}"#)
            .unwrap();
    assert_eq!(spec.domain_weight, 2.0);
    assert!(serde_json::from_str::<CategorySpec>(r#"{"tresh":1}"#).is_err());
}

#[test]
fn classifier_is_send_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Classifier>();
}

fn post_classifier() -> Classifier {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec!["pol.txt".into()];
    spec.lexicon_weight = Some(1.0);
    spec.model = Some("post.model".into());
    Classifier::build(&[("p".into(), spec)], &mut files).unwrap()
}

fn score(c: &Classifier, texts: &[&str]) -> (f64, bool) {
    let v = c.classify(&Document {
        texts: texts.to_vec(),
        ..Default::default()
    });
    (v.verdicts[0].score, v.verdicts[0].matched)
}

#[test]
fn short_chinese_comment_does_not_sink_an_english_headline() {
    let c = post_classifier();
    let headline = "Parliament vote on the election";
    let (plain, m) = score(&c, &[headline]);
    assert!(m, "{plain}");
    // In the same text, a two-character comment is not a scored segment: nothing changes.
    assert_eq!(score(&c, &[&format!("转发：{headline}")]).0, plain);
    // As a text of its own it weighs by its evidence (one feature against two) and cannot flip the verdict.
    let (sep, m) = score(&c, &["转发", headline]);
    assert!(m && sep < plain, "{sep} vs {plain}");
    // A longer comment counts more, but the headline still decides.
    assert!(score(&c, &["转发一下，大家看看", headline]).1);
    // And a comment never makes a sports headline political.
    let sport = "Striker scores late goal";
    assert!(!score(&c, &[sport]).1);
    assert!(!score(&c, &["转发", sport]).1);
    assert!(!score(&c, &["转发一下，大家看看", sport]).1);
}

#[test]
fn urls_are_not_prose() {
    let c = post_classifier();
    let headline = "Parliament vote on the election";
    let plain = score(&c, &[headline]);
    // "news" and "example" are (positive) model features here, yet the URL adds nothing and removes nothing.
    for with_url in [
        format!("{headline} https://news.example.com/2026/11/a.html"),
        format!("{headline} (news.example.com)"),
        format!("转发 www.example.com/news {headline}"),
    ] {
        assert_eq!(score(&c, &[&with_url]), plain, "{with_url}");
    }
    assert_eq!(
        score(&c, &["https://news.example.com/2026/11/a.html", headline]),
        plain
    );
    // A URL whose path holds no words is no evidence: the sceptical intercept, not matched.
    assert_eq!(
        score(&c, &["https://news.example.com/2026/11/a8f3.html"]),
        (-2.0, false)
    );
    // A headline in the path, as a slug, is read like the headline.
    let slug = score(
        &c,
        &["https://a.example.com/world/parliament-vote-the-election-7f3a"],
    );
    assert!(slug.1 && slug.0 > -2.0, "{slug:?}");
    // Evidence offsets still point into the original text after blanking.
    let text = "see https://a.example.com/x then the election";
    let v = c.classify(&doc(text));
    let t = &v.verdicts[0].evidence.terms[0];
    assert_eq!(&text[t.start..t.end], "election");
}

#[test]
fn lexicon_weight_follows_the_scored_language() {
    let build = |weight: Option<f64>| {
        let mut spec = CategorySpec::new();
        spec.lexicons = vec!["pol.txt".into()];
        spec.model = Some("lang.model".into());
        spec.lexicon_weight = weight;
        Classifier::build(&[("political_news".into(), spec)], &mut files).unwrap()
    };
    let lex = |c: &Classifier, t: &str| c.classify(&doc(t)).verdicts[0].evidence.lexicon_score;
    let c = build(None);
    // One hit of weight 2 in each: slog(2) = ln 3, times the weight of the document's language.
    let zh = lex(&c, "国务院 政治 会议");
    let en = lex(&c, "the election vote");
    assert!((zh - 0.5 * 3f64.ln()).abs() < 1e-9, "{zh}");
    assert!((en - 2.0 * 1f64.ln_1p()).abs() < 1e-9, "{en}");
    // A short Chinese comment in front of an English text: the English weight (the model scores it as en).
    let mixed = lex(&c, "转发 the prime minister vote");
    assert!((mixed - 2.0 * 2f64.ln_1p()).abs() < 1e-9, "{mixed}");
    // The configured weight overrides both.
    let c = build(Some(1.0));
    assert!((lex(&c, "国务院 政治 会议") - 3f64.ln()).abs() < 1e-9);
    assert!((lex(&c, "the election vote") - 2f64.ln()).abs() < 1e-9);
}

#[test]
fn one_known_word_is_no_evidence_unless_the_lexicon_backs_it() {
    let c = post_classifier();
    // `parliament` weighs 4 in the model; alone it would score the bias plus 4 / (1 + prior).
    let (alone, matched) = score(&c, &["parliament"]);
    assert!(!matched, "{alone}");
    assert_eq!(alone, -2.0, "the more sceptical intercept");
    // Two known features: the model votes.
    assert!(score(&c, &["parliament vote"]).1);
    // One known feature with a lexicon term beside it: the lexicon decides, and one term (weight 1) is short
    // of its bar.
    let (backed, matched) = score(&c, &["parliament election"]);
    assert!(backed > alone && !matched, "{backed} vs {alone}");
}

#[test]
fn the_lexicon_decides_what_the_model_knows_too_little_of() {
    let c = post_classifier();
    // No model feature: the model's vote would be its intercept (-2), which outvoted any lexicon sum. Now the
    // lexicon decides at its bar (a sum of 1.5): three terms of weight 1 reach it, one does not.
    let (names, matched) = score(&c, &["Prime minister wins election"]);
    assert!(matched, "{names}");
    assert!(!score(&c, &["Election"]).1);
    // One known word does not decide either way: `parliament` (4) no longer carries a lone term over the bar,
    // and `striker` (-4) no longer sinks three.
    assert!(!score(&c, &["Parliament minister"]).1);
    assert!(score(&c, &["Striker prime minister election"]).1);
    // With two known features the model votes again.
    assert!(score(&c, &["Parliament vote minister"]).1);
    assert!(!score(&c, &["Striker goal prime minister election"]).1);
}

/// A political sentence padded with a long benign text: the whole document's mean sinks below the threshold,
/// its passage around the sentence does not, and the verdict says which passage decided.
#[test]
fn a_political_passage_is_not_hidden_by_padding() {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec!["pol.txt".into()];
    spec.lexicon_weight = Some(1.0);
    spec.model = Some("passage.model".into());
    let c = Classifier::build(&[("p".into(), spec)], &mut files).unwrap();
    let words = padding_words();
    let padding: Vec<String> = words
        .chunks(6)
        .map(|w| format!("{}.", w.join(" ")))
        .collect();
    let political = "The prime minister won the election and parliament will vote today.";
    let (before, after) = padding.split_at(padding.len() / 2);
    let text = format!("{} {political} {}", before.join(" "), after.join(" "));
    let whole = c.classify_whole(&Document {
        texts: vec![&text],
        ..Default::default()
    });
    assert!(!whole.verdicts[0].matched, "{:?}", whole.verdicts[0]);
    let v = &c
        .classify(&Document {
            texts: vec![&text],
            ..Default::default()
        })
        .verdicts[0];
    assert!(v.matched && v.score >= v.threshold, "{v:?}");
    let p = v.evidence.passage.as_ref().expect("the deciding passage");
    assert_eq!(p.text, 0);
    assert!(
        text[p.start..p.end].contains(political),
        "{}",
        &text[p.start..p.end]
    );
    assert!(p.score >= v.threshold + passages::PASSAGE_MARGIN);
    // The padding alone, and the padding around a sentence with the lexicon's words but not the model's
    // strong ones, stay unmatched.
    let benign = padding.join(" ");
    let weak = format!(
        "{} The prime minister spoke about the election today. {}",
        before.join(" "),
        after.join(" ")
    );
    for t in [&benign, &weak] {
        let v = &c
            .classify(&Document {
                texts: vec![t],
                ..Default::default()
            })
            .verdicts[0];
        assert!(!v.matched && v.evidence.passage.is_none(), "{v:?}");
    }
}
