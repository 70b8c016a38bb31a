//! The statistical signal: a linear (logistic) model over the features of [`super::features`], stored as a
//! plain, sorted, diffable text file.
//!
//! ```text
//! # comments: provenance, training options, metrics
//! imgate-linear-model 3
//! bias zh -2.5          # intercept of Chinese segments (the language threshold is folded in)
//! bias en -3.1          # intercept of Latin-script segments
//! lexicon zh 1.2        # learned scale of the lexicon signal (ln(1 + lexicon score)) for Chinese documents
//! lexicon en 0.9        # ... and for Latin-script ones (`lexicon 1.2` alone: one scale for both)
//! length 1 0            # length normalisation: power P and prior C (see below)
//! f 0.8413 国务院        # feature weight, then the normalised feature text (rest of the line)
//! f 1.0021 prime minister
//! ```
//! The model is trained on one-script *segments* (the CJK or the Latin features of a text); a document's scored
//! segments are pooled with an evidence-weighted intercept (see `engine::score_model`). A feature occurring `tf`
//! times contributes `weight * (1 + ln tf) / (S + C)^P`, where `S` is the sum of `(1 + ln tf)` over the
//! features the model knows. With `P = 1` the score is a weighted mean of the feature weights, so a 15-word post and a
//! 600-word article on the same topic score alike (the Euclidean norm of format 2 made scores grow with the
//! square root of the length, and the intercept that balanced long articles sank short posts). A prior `C > 0`
//! shrinks segments with only one or two known features towards the intercept; cross-validation preferred
//! `C = 0` for the shipped model, where stray words of the other script are kept out by the segment rule of
//! the scorer instead (a minority script is scored only from 4 tokens on).

use super::features::feature_key;
use super::BuildError;

/// The model file's first non-comment line.
pub const MAGIC: &str = "imgate-linear-model 3";

/// Length normalisation of a segment's feature sum: divide by `(S + prior)^power` (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LengthNorm {
    pub power: f64,
    pub prior: f64,
}

impl Default for LengthNorm {
    fn default() -> Self {
        LengthNorm {
            power: 1.0,
            prior: 0.0,
        }
    }
}

impl LengthNorm {
    /// The divisor for a segment whose known features sum to `s` (`(1 + ln tf)` values); at least a tiny
    /// positive number, so an empty segment scores its intercept.
    #[inline]
    pub fn divisor(&self, s: f64) -> f64 {
        (s + self.prior).max(1e-9).powf(self.power).max(1e-9)
    }

    fn valid(&self) -> bool {
        self.power.is_finite()
            && (0.0..=2.0).contains(&self.power)
            && self.prior.is_finite()
            && self.prior >= 0.0
    }
}

/// Learned weights of the lexicon signal, per language of the document (the scored segment language). Two
/// weights because the zh and en lexicon files are written independently: a sum of hand weights is not worth the
/// same in both, and with one shared weight the language with more training data set it for the other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LexiconScale {
    pub zh: f64,
    pub en: f64,
}

impl LexiconScale {
    /// The same weight for both languages (the `lexicon W` line, and `lexicon_weight` in the configuration).
    pub fn both(w: f64) -> Self {
        LexiconScale { zh: w, en: w }
    }

    /// The weight for a document whose scored language is Chinese (`zh`) or not.
    #[inline]
    pub fn of(&self, zh: bool) -> f64 {
        if zh {
            self.zh
        } else {
            self.en
        }
    }
}

/// A parsed linear model.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LinearModel {
    pub bias_zh: f64,
    pub bias_en: f64,
    /// Learned weights of `ln(1 + lexicon score)`; `None` if the model was trained without a lexicon.
    pub lexicon_scale: Option<LexiconScale>,
    /// Length normalisation of segment scores.
    pub length: LengthNorm,
    /// `(normalised feature text, weight)`, sorted by feature text.
    pub features: Vec<(String, f64)>,
    /// Comment lines (without `# `) kept for provenance.
    pub comments: Vec<String>,
}

fn syntax(file: &str, line: usize, column: usize, message: String) -> BuildError {
    BuildError::Syntax {
        file: file.to_string(),
        line,
        column,
        message,
    }
}

/// Length of the weight field at the start of `rest` (for column numbers).
fn w_len(rest: &str) -> usize {
    rest.split_once(' ').map_or(rest.len(), |(w, _)| w.len())
}

fn num(file: &str, line: usize, column: usize, raw: &str) -> Result<f64, BuildError> {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(syntax(file, line, column, format!("bad number {raw:?}"))),
    }
}

impl LinearModel {
    /// Parses a model file.
    pub fn parse(file: &str, content: &str) -> Result<LinearModel, BuildError> {
        let mut m = LinearModel::default();
        let mut seen_magic = false;
        let mut seen = std::collections::HashSet::new();
        // `lexicon W`, `lexicon zh W`, `lexicon en W` (the per-language lines override the shared one).
        let (mut lex_both, mut lex_zh, mut lex_en) = (None, None, None);
        for (idx, line) in content.lines().enumerate() {
            let ln = idx + 1;
            if let Some(c) = line.strip_prefix('#') {
                m.comments
                    .push(c.strip_prefix(' ').unwrap_or(c).to_string());
                continue;
            }
            if line.trim().is_empty() {
                continue;
            }
            if !seen_magic {
                if matches!(
                    line.trim(),
                    "imgate-linear-model 1" | "imgate-linear-model 2"
                ) {
                    return Err(syntax(
                        file,
                        ln,
                        1,
                        "model format 1/2 (document-level scoring) is no longer supported: retrain with `imgate learn`"
                            .into(),
                    ));
                }
                if line.trim() != MAGIC {
                    return Err(syntax(
                        file,
                        ln,
                        1,
                        format!("expected {MAGIC:?} as the first line"),
                    ));
                }
                seen_magic = true;
                continue;
            }
            let (key, rest) = line.split_once(' ').unwrap_or((line, ""));
            let col2 = key.len() + 2;
            match key {
                "bias" => {
                    let (lang, v) = rest.split_once(' ').unwrap_or((rest, ""));
                    let v = num(file, ln, col2 + lang.len() + 1, v.trim())?;
                    match lang {
                        "zh" => m.bias_zh = v,
                        "en" => m.bias_en = v,
                        _ => {
                            return Err(syntax(
                                file,
                                ln,
                                col2,
                                format!("unknown bias language {lang:?} (zh|en)"),
                            ))
                        }
                    }
                }
                "lexicon" => match rest.split_once(' ') {
                    Some(("zh", v)) => lex_zh = Some(num(file, ln, col2 + 3, v.trim())?),
                    Some(("en", v)) => lex_en = Some(num(file, ln, col2 + 3, v.trim())?),
                    _ => lex_both = Some(num(file, ln, col2, rest.trim())?),
                },
                "length" => {
                    let (p, c) = rest.split_once(' ').unwrap_or((rest, ""));
                    let l = LengthNorm {
                        power: num(file, ln, col2, p)?,
                        prior: num(file, ln, col2 + p.len() + 1, c.trim())?,
                    };
                    if !l.valid() {
                        return Err(syntax(
                            file,
                            ln,
                            col2,
                            "length: need 0 <= power <= 2 and prior >= 0".into(),
                        ));
                    }
                    m.length = l;
                }
                "f" => {
                    let (w, feat) = rest.split_once(' ').unwrap_or((rest, ""));
                    let w = num(file, ln, col2, w)?;
                    if feat.is_empty() || feat.trim() != feat {
                        return Err(syntax(
                            file,
                            ln,
                            col2 + 1,
                            "missing or padded feature text".into(),
                        ));
                    }
                    let Some(key) = feature_key(feat) else {
                        return Err(syntax(
                            file,
                            ln,
                            col2 + w_len(rest) + 1,
                            format!("{feat:?} is not a feature (1-3 CJK chars, or 1-2 lower-case ASCII non-stop words)"),
                        ));
                    };
                    if !seen.insert(key) {
                        return Err(syntax(
                            file,
                            ln,
                            col2 + 1,
                            format!("duplicate feature {feat:?}"),
                        ));
                    }
                    m.features.push((feat.to_string(), w));
                }
                _ => {
                    return Err(syntax(
                        file,
                        ln,
                        1,
                        format!("unknown key {key:?} (bias|lexicon|length|f)"),
                    ))
                }
            }
        }
        if !seen_magic {
            return Err(syntax(
                file,
                1,
                1,
                format!("empty model: expected {MAGIC:?}"),
            ));
        }
        m.lexicon_scale = match (lex_zh.or(lex_both), lex_en.or(lex_both)) {
            (Some(zh), Some(en)) => Some(LexiconScale { zh, en }),
            (None, None) => None,
            _ => {
                return Err(syntax(
                    file,
                    1,
                    1,
                    "lexicon: a per-language weight needs the other language too (lexicon zh W + lexicon en W)"
                        .into(),
                ))
            }
        };
        m.features.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(m)
    }

    /// Renders the model file: comments, header, then features sorted by text, weights to 4 decimals.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for c in &self.comments {
            s.push_str("# ");
            s.push_str(c);
            s.push('\n');
        }
        s.push_str(MAGIC);
        s.push('\n');
        s.push_str(&format!(
            "bias zh {:.4}\nbias en {:.4}\n",
            self.bias_zh, self.bias_en
        ));
        match self.lexicon_scale {
            Some(l) if l.zh == l.en => s.push_str(&format!("lexicon {:.4}\n", l.zh)),
            Some(l) => s.push_str(&format!("lexicon zh {:.4}\nlexicon en {:.4}\n", l.zh, l.en)),
            None => {}
        }
        s.push_str(&format!(
            "length {} {}\n",
            self.length.power, self.length.prior
        ));
        let mut feats: Vec<&(String, f64)> = self.features.iter().collect();
        feats.sort_by(|a, b| a.0.cmp(&b.0));
        for (f, w) in feats {
            s.push_str(&format!("f {w:.4} {f}\n"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let m = LinearModel {
            bias_zh: -1.5,
            bias_en: -2.0,
            lexicon_scale: Some(LexiconScale { zh: 0.75, en: 1.5 }),
            length: LengthNorm {
                power: 0.75,
                prior: 1.5,
            },
            features: vec![("prime minister".into(), 1.25), ("国务院".into(), 2.0)],
            comments: vec!["trained on x".into()],
        };
        let t = m.to_text();
        assert!(t.contains("lexicon zh 0.7500\nlexicon en 1.5000\n"), "{t}");
        assert_eq!(LinearModel::parse("m", &t).unwrap(), m);
        let shared = LinearModel {
            lexicon_scale: Some(LexiconScale::both(0.5)),
            ..m
        };
        assert!(shared.to_text().contains("lexicon 0.5000\n"));
        assert_eq!(LinearModel::parse("m", &shared.to_text()).unwrap(), shared);
    }

    #[test]
    fn lexicon_lines() {
        let parse = |body: &str| LinearModel::parse("m", &format!("{MAGIC}\n{body}"));
        let scale = |body: &str| parse(body).ok().and_then(|m| m.lexicon_scale);
        // Format-3 files of earlier releases: one shared weight.
        assert_eq!(scale("lexicon 1.2\n"), Some(LexiconScale::both(1.2)));
        assert_eq!(
            scale("lexicon 1\nlexicon zh 2\n"),
            Some(LexiconScale { zh: 2.0, en: 1.0 })
        );
        assert_eq!(
            scale("lexicon en 3\nlexicon zh 2\n"),
            Some(LexiconScale { zh: 2.0, en: 3.0 })
        );
        assert_eq!(scale("bias zh 1\n"), None);
        assert!(parse("lexicon zh 2\n").is_err());
        assert!(parse("lexicon fr 2\n").is_err());
        assert!(parse("lexicon zh x\nlexicon en 1\n").is_err());
    }

    #[test]
    fn errors_are_located() {
        let t = format!("# c\n{MAGIC}\nbias zh 1\nf x1 abc\n");
        let bad_feat = format!("{MAGIC}\nf 1 the\n");
        match LinearModel::parse("m.txt", &bad_feat) {
            Err(BuildError::Syntax { line, column, .. }) => assert_eq!((line, column), (2, 5)),
            other => panic!("{other:?}"),
        }
        assert!(LinearModel::parse("m", "imgate-linear-model 1\n").is_err());
        assert!(LinearModel::parse("m", "imgate-linear-model 2\n").is_err());
        assert!(LinearModel::parse("m", &format!("{MAGIC}\nlength -1 2\n")).is_err());
        assert!(LinearModel::parse("m", &format!("{MAGIC}\nlength 1\n")).is_err());
        match LinearModel::parse("m.txt", &t) {
            Err(BuildError::Syntax { line, column, .. }) => assert_eq!((line, column), (4, 3)),
            other => panic!("{other:?}"),
        }
        assert!(LinearModel::parse("m", "nonsense\n").is_err());
        assert!(LinearModel::parse("m", &format!("{MAGIC}\nbias fr 1\n")).is_err());
        assert!(LinearModel::parse("m", &format!("{MAGIC}\nf 1 a\nf 2 a\n")).is_err());
    }
}
