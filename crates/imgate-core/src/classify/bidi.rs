//! Text written backwards behind a right-to-left override reads as the reader sees it.
//!
//! `U+202E` (RIGHT-TO-LEFT OVERRIDE) makes every following character display right to left, up to `U+202C`
//! (POP DIRECTIONAL FORMATTING) or the end of the paragraph. A post that stores `\u{202E}.etov tnemailrap`
//! shows "parliament vote." while its characters say the reverse: the normaliser drops the control as
//! default-ignorable and would read the reversed letters. The classifier reads such texts in display order.
//! Embeddings and isolates (`U+202B`, `U+2067`) do not reorder the letters inside a Latin word, so only the
//! override is undone.

use std::sync::LazyLock;

/// Whether `text` holds a right-to-left override. Every classified text is asked, so the searcher is built
/// once (building one per call cost more than the search).
pub fn has_override(text: &str) -> bool {
    static OVERRIDE: LazyLock<memchr::memmem::Finder<'static>> =
        LazyLock::new(|| memchr::memmem::Finder::new("\u{202E}"));
    OVERRIDE.find(text.as_bytes()).is_some()
}

/// `text` with the characters of each right-to-left override run (from `U+202E` to `U+202C`, a line break or
/// the end) in display order, the controls themselves dropped.
pub fn display_order(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run: Vec<char> = Vec::new();
    let mut overriding = false;
    for c in text.chars() {
        match c {
            '\u{202E}' => {
                out.extend(run.drain(..).rev());
                overriding = true;
            }
            '\u{202C}' | '\n' | '\r' | '\u{2029}' if overriding => {
                out.extend(run.drain(..).rev());
                overriding = false;
                if c != '\u{202C}' {
                    out.push(c);
                }
            }
            _ if overriding => run.push(c),
            _ => out.push(c),
        }
    }
    out.extend(run.drain(..).rev());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_override_run_reads_in_display_order() {
        let stored = "Breaking: \u{202E}.etov tnemailrap a gnisol retfa dengiser retsinim emirp ehT\u{202C} More soon.";
        assert!(has_override(stored));
        assert_eq!(
            display_order(stored),
            "Breaking: The prime minister resigned after losing a parliament vote. More soon."
        );
        // Up to the end of the line, when nothing pops it.
        assert_eq!(display_order("\u{202E}cba\nxyz"), "abc\nxyz");
        assert_eq!(display_order("\u{202E}部交外"), "外交部");
        assert!(!has_override("plain \u{202B}text\u{202C}"));
    }
}
