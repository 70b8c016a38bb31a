//! Deterministic obfuscation of test text, as an evader would do it: zero-width characters, symbols and spaces
//! inserted between CJK characters, traditional characters, full-width Latin, Cyrillic look-alikes.
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
const CJK_SEPARATORS: [&str; 8] = ["-", "*", " ", "\u{3000}", "·", "|", "_", "★"];
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
        let mut out = String::with_capacity(text.len() * 2);
        let mut prev_cjk = false;
        let mut prev_alpha = false;
        for c in text.chars() {
            let cjk = super::normalize::is_cjk(c);
            if cjk {
                if prev_cjk && rng.chance(35) {
                    match rng.below(3) {
                        0 => out.push(ZERO_WIDTH[rng.below(ZERO_WIDTH.len() as u64) as usize]),
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
                out.push(t);
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
                } else {
                    out.push(c);
                }
            } else {
                out.push(c);
            }
            prev_cjk = cjk;
            prev_alpha = c.is_ascii_alphabetic();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn obfuscated_text_normalises_back() {
        let norm = Normalizer::new();
        let o = Obfuscator::new(&norm);
        for seed in 0..20 {
            let plain = "国务院总理 会见 外交部长 the prime minister of the government";
            let ob = o.obfuscate(plain, seed);
            assert_eq!(norm.normalize(&ob).text, norm.normalize(plain).text, "{ob}");
        }
        assert_ne!(
            o.obfuscate("国务院总理会见外交部长", 1),
            "国务院总理会见外交部长"
        );
    }
}
