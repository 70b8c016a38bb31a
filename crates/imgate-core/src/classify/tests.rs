//! Tests of the assembled classifier.

use super::*;

fn files(name: &str) -> Result<String, String> {
    match name {
        "pol.txt" => Ok("# test lexicon\n国务院 | 2\n外交部 | 2\nminister | 1\nprime minister | 1\nelection | 1\n".into()),
        "dom.txt" => Ok("gov.example\n".into()),
        "m.model" => Ok("imgate-linear-model 2\nbias zh -1\nbias en -1\nf 3 政治\nf 2 parliament\nf 1 局\n".into()),
        "bad.txt" => Ok("ok\nminister | x\n".into()),
        _ => Err("no such file".into()),
    }
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
    assert_eq!(t.term, "国务院");
    assert_eq!(t.source, "pol.txt:2");
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
    // Two known features, each once: -1 + (3 + 1) / sqrt(2).
    assert!((v.verdicts[0].score - (-1.0 + 4.0 / 2f64.sqrt())).abs() < 1e-6);
    assert_eq!(m.features_present, 2);
}

#[test]
fn build_errors_name_file_line_column() {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec!["bad.txt".into()];
    let e = Classifier::build(&[("p".into(), spec.clone())], &mut files).unwrap_err();
    assert_eq!(
        e.to_string(),
        "bad.txt:2:11: bad weight \"x\": expected a number"
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
