//! Deterministic obfuscation of test text, as an evader would do it: zero-width characters, symbols and spaces
//! inserted between CJK characters, traditional characters, full-width Latin, Cyrillic and Greek look-alikes,
//! HTML comments inside words, spaces sent as `%20`, and whole texts stored backwards behind a right-to-left
//! override (shown the right way round).
//!
//! Used only at test/eval time (`imgate eval --obfuscate`) to check that obfuscated variants are caught as often
//! as plain text; nothing generated here is stored in the product.

use super::normalize::Normalizer;
use std::collections::HashMap;

/// Small deterministic PRNG (xorshift64*), so runs are reproducible without a clock or a dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const ZERO_WIDTH: [char; 6] = [
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}',
];
const CJK_SEPARATORS: [&str; 10] = ["-", "*", " ", "\u{3000}", "·", "|", "_", "★", "丨", "ˇ"];
/// Lone letters and digits inserted between CJK characters (`外x交`, `外0交`).
const CJK_LETTERS: [char; 10] = ['x', 'b', 'k', 'Q', 'ｗ', 'о', '0', '1', '7', '９'];
const CYRILLIC: [(char, char); 11] = [
    ('a', 'а'),
    ('c', 'с'),
    ('e', 'е'),
    ('o', 'о'),
    ('p', 'р'),
    ('x', 'х'),
    ('y', 'у'),
    ('i', 'і'),
    ('A', 'А'),
    ('E', 'Е'),
    ('O', 'О'),
];

const GREEK: [(char, char); 9] = [
    ('a', 'α'),
    ('e', 'ε'),
    ('i', 'ι'),
    ('k', 'κ'),
    ('n', 'η'),
    ('o', 'ο'),
    ('p', 'ρ'),
    ('t', 'τ'),
    ('u', 'υ'),
];

/// Separators put between the letters of a spelled-out English word (`m-i-n-i-s-t-e-r`, `m—i—n`, `m...i...n`).
const LETTER_SEPARATORS: [&str; 9] = ["-", ".", " ", "*", "—", "•", "·", "...", "="];

/// Symbols put inside a word (`min*ister`, `gov😀ernment`, `par•liament`).
const IN_WORD_SYMBOLS: [&str; 13] = [
    "*",
    "|",
    "~",
    "😀",
    "★",
    "•",
    "·",
    "^",
    "\\",
    "†",
    "、",
    "°",
    "<!-- x -->",
];

/// Digits for vowels, as leetspeak writes them (`m1n1st3r`).
const LEET_VOWELS: [(char, char); 4] = [('e', '3'), ('o', '0'), ('i', '1'), ('a', '4')];

/// `word` in leetspeak: every vowel but the first letter written as a digit, if at least
/// [`super::leet::MIN_LETTERS`] letters are left (a reader needs some letters to see the word through the digits).
fn leet(word: &str) -> Option<String> {
    let out: String = word
        .chars()
        .enumerate()
        .map(|(k, c)| match LEET_VOWELS.iter().find(|(v, _)| *v == c) {
            Some((_, d)) if k > 0 => *d,
            _ => c,
        })
        .collect();
    let letters = out.chars().filter(char::is_ascii_alphabetic).count();
    (out != word && letters >= super::leet::MIN_LETTERS).then_some(out)
}

/// `word` with symbols for some of its inner letters (`p@rli@ment`, `m!n!$ter`): `a`, `i` and `s` with a letter
/// on both sides, never two in a row (a symbol next to a symbol has no letter on that side).
fn symbol_leet(word: &str) -> Option<String> {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::with_capacity(word.len());
    let mut replaced_last = false;
    for (k, &c) in chars.iter().enumerate() {
        let inner = k > 0 && k + 1 < chars.len();
        let symbol = match c {
            'a' => Some('@'),
            'i' => Some('!'),
            's' => Some('$'),
            _ => None,
        };
        match symbol {
            Some(sym) if inner && !replaced_last => {
                out.push(sym);
                replaced_last = true;
            }
            _ => {
                out.push(c);
                replaced_last = false;
            }
        }
    }
    (out != word).then_some(out)
}

/// Spells out some English words letter by letter (one word in eight of four letters or more), writes some
/// others in leetspeak (one in eight; digits or symbols for letters), some in alternating case (one in twelve) and
/// puts a symbol inside some others (one in eight). With a space between the letters, the words around get a wider gap, as a
/// writer would leave to keep them readable.
fn spell_out_words(text: &str, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        if word.len() >= 4 && word.bytes().all(|b| b.is_ascii_alphabetic()) && rng.chance(12) {
            let sep = LETTER_SEPARATORS[rng.below(LETTER_SEPARATORS.len() as u64) as usize];
            let wide = if sep == " " { "  " } else { "" };
            out.push_str(wide);
            for (k, c) in word.chars().enumerate() {
                if k > 0 {
                    out.push_str(sep);
                }
                out.push(c);
            }
            out.push_str(wide);
        } else if let Some(l) =
            (word.len() >= 4 && word.bytes().all(|b| b.is_ascii_alphabetic()) && rng.chance(12))
                .then(|| {
                    if rng.chance(50) {
                        symbol_leet(word)
                    } else {
                        leet(word)
                    }
                })
                .flatten()
        {
            out.push_str(&l);
        } else if word.len() >= 4 && word.bytes().all(|b| b.is_ascii_alphabetic()) && rng.chance(8)
        {
            // Alternating case (`pArLiAmEnT`).
            for (k, c) in word.chars().enumerate() {
                out.push(if k % 2 == 1 {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                });
            }
        } else if word.len() >= 4 && word.bytes().all(|b| b.is_ascii_alphabetic()) && rng.chance(12)
        {
            let at = 1 + rng.below(word.len() as u64 - 1) as usize;
            let (head, tail) = word.split_at(at);
            out.push_str(head);
            out.push_str(IN_WORD_SYMBOLS[rng.below(IN_WORD_SYMBOLS.len() as u64) as usize]);
            out.push_str(tail);
        } else {
            out.push_str(word);
        }
    }
    out
}

/// Obfuscates text with a mix of techniques.
#[derive(Debug)]
pub struct Obfuscator {
    to_traditional: HashMap<char, char>,
}

impl Obfuscator {
    pub fn new(norm: &Normalizer) -> Self {
        let mut to_traditional = HashMap::new();
        for (s, t) in norm.traditional_variants() {
            to_traditional.entry(s).or_insert(t);
        }
        Obfuscator { to_traditional }
    }

    /// Returns an obfuscated variant of `text`; `seed` selects the variant.
    pub fn obfuscate(&self, text: &str, seed: u64) -> String {
        let mut rng = Rng::new(seed);
        let spelled = spell_out_words(text, &mut rng);
        let text = spelled.as_str();
        let mut out = String::with_capacity(text.len() * 2);
        let mut prev_cjk = false;
        let mut prev_alpha = false;
        for c in text.chars() {
            let cjk = super::normalize::is_cjk(c);
            if cjk {
                if prev_cjk && rng.chance(35) {
                    match rng.below(5) {
                        0 => out.push(ZERO_WIDTH[rng.below(ZERO_WIDTH.len() as u64) as usize]),
                        1 => out.push(CJK_LETTERS[rng.below(CJK_LETTERS.len() as u64) as usize]),
                        2 => out.push_str("<b></b>"),
                        _ => out.push_str(
                            CJK_SEPARATORS[rng.below(CJK_SEPARATORS.len() as u64) as usize],
                        ),
                    }
                }
                let t = if rng.chance(60) {
                    self.to_traditional.get(&c).copied().unwrap_or(c)
                } else {
                    c
                };
                if rng.chance(10) {
                    // An HTML character reference, as a rendering client shows it.
                    out.push_str(&format!("&#{};", u32::from(t)));
                } else {
                    out.push(t);
                }
            } else if c.is_ascii_alphabetic() {
                if prev_alpha && rng.chance(15) {
                    out.push(ZERO_WIDTH[rng.below(ZERO_WIDTH.len() as u64) as usize]);
                }
                let r = rng.below(100);
                if r < 20 {
                    // Full-width Latin.
                    out.push(char::from_u32(c as u32 + 0xFEE0).unwrap_or(c));
                } else if r < 40 {
                    let look = CYRILLIC
                        .iter()
                        .find(|(l, _)| *l == c)
                        .map_or(c, |(_, k)| *k);
                    out.push(look);
                } else if r < 50 {
                    let look = GREEK.iter().find(|(l, _)| *l == c).map_or(c, |(_, k)| *k);
                    out.push(look);
                } else {
                    out.push(c);
                }
            } else {
                out.push(c);
            }
            prev_cjk = cjk;
            prev_alpha = c.is_ascii_alphabetic();
        }
        match rng.below(10) {
            0 => out.replace(' ', "%20"),
            1 => {
                // Stored backwards, shown forwards (see `bidi`); line by line, as an override ends at a break.
                let lines: Vec<String> = out
                    .split('\n')
                    .map(|line| {
                        format!("\u{202E}{}\u{202C}", line.chars().rev().collect::<String>())
                    })
                    .collect();
                lines.join("\n")
            }
            _ => out,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscated_text_normalises_back() {
        let norm = Normalizer::new();
        let o = Obfuscator::new(&norm);
        let canonical = |s: &str| {
            let mut n = crate::classify::normalize::Normalized::default();
            let shown = crate::classify::bidi::display_order(s);
            super::super::prepare(&norm, &shown, &mut n);
            n.text.split_whitespace().collect::<Vec<_>>().join(" ")
        };
        let plain = "国务院总理 会见 外交部长 the prime minister of the government";
        let mut spelled = 0;
        for seed in 0..40 {
            let ob = o.obfuscate(plain, seed);
            assert_eq!(canonical(&ob), canonical(plain), "{ob}");
            spelled += usize::from(
                ob.contains("m-i")
                    || ob.contains("m.i")
                    || ob.contains("m i")
                    || ob.contains("m*i")
                    || ob.contains("g-o")
                    || ob.contains("g.o")
                    || ob.contains("g o")
                    || ob.contains("g*o")
                    || ob.contains("p-r")
                    || ob.contains("p.r")
                    || ob.contains("p r")
                    || ob.contains("p*r"),
            );
        }
        assert!(spelled > 0, "no variant spells a word out");
        // The plain text has no digit and none of these symbols: any in a variant come from those steps.
        assert!(
            (0..40).any(|seed| o
                .obfuscate(plain, seed)
                .contains(|c: char| c.is_ascii_digit())),
            "no variant writes a word in leetspeak"
        );
        assert!(
            (0..40).any(|seed| o.obfuscate(plain, seed).contains(['|', '~', '😀', '★'])),
            "no variant puts a symbol inside a word"
        );
        assert_ne!(
            o.obfuscate("国务院总理会见外交部长", 1),
            "国务院总理会见外交部长"
        );
    }
}
