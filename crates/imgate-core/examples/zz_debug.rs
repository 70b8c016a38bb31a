use imgate_core::classify::*;
fn main() {
    let mut spec = CategorySpec::new();
    spec.lexicons = vec![
        "lexicons/political_news.zh.txt".into(),
        "lexicons/political_news.en.txt".into(),
    ];
    spec.model = Some("models/political_news.model".into());
    let mut read =
        |p: &str| std::fs::read_to_string(format!("conf/{p}")).map_err(|e| e.to_string());
    let c = Classifier::build(&[("political_news".into(), spec)], &mut read).unwrap();
    let t = "The prime minister faced a confidence vote in parliament after the opposition party accused the government of breaking its election promises on foreign policy.";
    for texts in [
        vec![t],
        vec!["转发", t],
        vec!["转发", "https://news.example.com/2026/11/a.html", t],
    ] {
        let r = c.classify(&Document {
            texts: texts.clone(),
            source_urls: vec![],
            declared_category: None,
        });
        let v = &r.verdicts[0];
        println!(
            "{:?}: score {:.3} matched {} lex {:.3} model {:?}",
            texts.len(),
            v.score,
            v.matched,
            v.evidence.lexicon_score,
            v.evidence.model.as_ref().map(|m| (m.lang, m.score))
        );
    }
}
