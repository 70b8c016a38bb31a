//! A person's legal name as written on a Chinese identity document.
//!
//! Design (what is accepted and why):
//! - The name is trimmed and NFC-normalised (so `e` + combining acute equals `é`); the
//!   length is counted in characters of that form, 2 to 50 by default.
//! - A name is written in ONE script: Han ideographs (every CJK block including the
//!   extension planes B-I and the compatibility ideographs, plus `〇`) or Latin letters
//!   (ASCII, Latin-1, Extended-A/B, Extended Additional, with combining diacritics).
//!   `张Zhang` mixes scripts and is refused: no document spells a name that way.
//! - The separator dot `·` (U+00B7) joins the parts of transliterated names
//!   (`阿沛·阿旺晋美`, `Ahmat·Ali`). Look-alike dots that input methods produce are folded
//!   to it first. A dot may not lead, trail, double or touch a space.
//! - Spaces separate the parts of Latin names only, one at a time; Han names have none.
//! - Inside a Latin part, one hyphen or apostrophe may join two letters (`Jean-Luc`,
//!   `O'Neil`; `’` is folded to `'`).
//! - Digits, symbols, punctuation, emoji, control, format and zero-width characters are
//!   refused.
//! - Words that fill a name field when someone does not give theirs are refused: `test`,
//!   `admin`, `user`, `unknown`, `测试`, `管理员`, `用户`, `匿名`, `未知`, ... (compared without
//!   case, spaces, dots and joiners), and one character typed four times or more (`aaaa`).
//!   Names that are placeholders in examples but also real names (`张三`, `John Smith`) are
//!   not refused.

use unicode_normalization::UnicodeNormalization;

/// The separator dot every look-alike is folded to.
pub const MIDDLE_DOT: char = '\u{00B7}';

/// Characters that input methods and fonts substitute for U+00B7.
const DOT_LOOKALIKES: &[char] = &[
    '\u{2022}', // bullet
    '\u{2027}', // hyphenation point
    '\u{30FB}', // katakana middle dot
    '\u{FF65}', // halfwidth katakana middle dot
    '\u{2219}', // bullet operator
    '\u{22C5}', // dot operator
    '\u{0387}', // greek ano teleia
    '\u{16EB}', // runic single punctuation
    '\u{2E31}', // word separator middle dot
    '\u{00B7}', // itself
    '\u{2E33}', // raised dot
    '\u{A78F}', // latin letter sinological dot
    '\u{318D}', // hangul letter araea
];

/// Options of the `person_name` validator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameOptions {
    pub min_chars: usize,
    pub max_chars: usize,
}

impl Default for NameOptions {
    fn default() -> Self {
        NameOptions {
            min_chars: 2,
            max_chars: 50,
        }
    }
}

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("must be {min} to {max} characters long")]
    Length { min: usize, max: usize },
    #[error("may contain only Chinese characters, or only Latin letters (parts separated by single spaces, at most one hyphen or apostrophe between two letters); no digits or other symbols")]
    Characters,
    #[error("the separator dot · must stand alone between two name parts")]
    Dot,
    #[error("is a placeholder, not a person's name: give the name on the identity document")]
    Placeholder,
}

impl NameError {
    pub fn subcode(&self) -> &'static str {
        match self {
            NameError::Length { .. } => "length",
            NameError::Characters => "characters",
            NameError::Dot => "dot",
            NameError::Placeholder => "placeholder",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Han,
    Latin,
    Mark,
    Dot,
    Space,
    Joiner,
    Other,
}

fn is_dot_lookalike(c: char) -> bool {
    DOT_LOOKALIKES.contains(&c)
}

fn classify(c: char) -> Class {
    let u = u32::from(c);
    match u {
        0x3400..=0x4DBF    // Extension A
        | 0x4E00..=0x9FFF  // URO
        | 0xF900..=0xFAFF  // compatibility ideographs
        | 0x20000..=0x2A6DF // B
        | 0x2A700..=0x2B73F // C
        | 0x2B740..=0x2B81F // D
        | 0x2B820..=0x2CEAF // E
        | 0x2CEB0..=0x2EBEF // F
        | 0x2EBF0..=0x2EE5F // I
        | 0x2F800..=0x2FA1F // compatibility supplement
        | 0x30000..=0x3134F // G
        | 0x31350..=0x323AF // H
        | 0x3007 => Class::Han,
        0x41..=0x5A | 0x61..=0x7A => Class::Latin,
        0xC0..=0x24F if u != 0xD7 && u != 0xF7 => Class::Latin,
        0x1E00..=0x1EFF => Class::Latin,
        0x300..=0x36F => Class::Mark,
        0xB7 => Class::Dot,
        0x20 => Class::Space,
        0x2D | 0x27 => Class::Joiner,
        _ => Class::Other,
    }
}

/// Validates a name and returns its normalised form (trimmed, NFC, dots folded).
pub fn validate_person_name(input: &str, options: &NameOptions) -> Result<String, NameError> {
    let length_error = NameError::Length {
        min: options.min_chars,
        max: options.max_chars,
    };
    // Bound the work before normalising an attacker-sized string.
    if input.len() > options.max_chars.saturating_mul(4).saturating_add(64) {
        return Err(length_error);
    }
    let normalised: String = input
        .trim()
        .nfc()
        .map(|c| match c {
            c if is_dot_lookalike(c) => MIDDLE_DOT,
            '\u{2019}' => '\'',
            c => c,
        })
        .collect();
    if normalised.is_empty() {
        return Err(length_error);
    }
    let classes: Vec<Class> = normalised.chars().map(classify).collect();
    check_characters(&classes)?;
    check_dots(&classes)?;
    let count = classes.len();
    if count < options.min_chars || count > options.max_chars {
        return Err(length_error);
    }
    if is_placeholder(&normalised) {
        return Err(NameError::Placeholder);
    }
    Ok(normalised)
}

/// What people type into a name field instead of a name (see the module doc), lower case, without spaces,
/// dots and joiners.
const PLACEHOLDERS: &[&str] = &[
    "test",
    "tester",
    "testing",
    "testuser",
    "testtest",
    "admin",
    "adminuser",
    "administrator",
    "root",
    "user",
    "username",
    "guest",
    "demo",
    "sample",
    "example",
    "unknown",
    "anonymous",
    "anon",
    "none",
    "null",
    "nil",
    "undefined",
    "nobody",
    "noname",
    "name",
    "fullname",
    "realname",
    "yourname",
    "firstname",
    "lastname",
    "firstnamelastname",
    "foo",
    "bar",
    "foobar",
    "asdf",
    "qwerty",
    "xxx",
    "abc",
    "测试",
    "测试用户",
    "测试员",
    "测试账号",
    "管理员",
    "用户",
    "用户名",
    "匿名",
    "匿名用户",
    "无名",
    "无名氏",
    "未知",
    "某某",
    "某人",
    "姓名",
    "名字",
    "真实姓名",
    "本人",
    "暂无",
    "不详",
    "无",
    "空",
];

/// Whether a validated name is a placeholder ([`PLACEHOLDERS`], or one character four times or more).
fn is_placeholder(name: &str) -> bool {
    let key: String = name
        .chars()
        .filter(|&c| !matches!(c, ' ' | MIDDLE_DOT | '-' | '\''))
        .flat_map(char::to_lowercase)
        .collect();
    let mut chars = key.chars();
    let repeated = chars
        .next()
        .is_some_and(|first| key.chars().count() >= 4 && chars.all(|c| c == first));
    repeated || PLACEHOLDERS.contains(&key.as_str())
}

fn check_characters(classes: &[Class]) -> Result<(), NameError> {
    let has_han = classes.contains(&Class::Han);
    let has_latin = classes.contains(&Class::Latin);
    if classes.contains(&Class::Other) || (has_han && has_latin) || !(has_han || has_latin) {
        return Err(NameError::Characters);
    }
    for (i, class) in classes.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| classes.get(p)).copied();
        let next = classes.get(i + 1).copied();
        match class {
            // A combining mark only decorates a Latin letter (or another mark).
            Class::Mark if !matches!(prev, Some(Class::Latin | Class::Mark)) => {
                return Err(NameError::Characters)
            }
            // Spaces: Latin names only, single, between letters (the ends are trimmed).
            // A space touching a dot is left to `check_dots`, which reports `dot`.
            Class::Space
                if prev != Some(Class::Dot)
                    && next != Some(Class::Dot)
                    && (has_han
                        || !matches!(prev, Some(Class::Latin | Class::Mark))
                        || next != Some(Class::Latin)) =>
            {
                return Err(NameError::Characters)
            }
            Class::Joiner
                if has_han
                    || !matches!(prev, Some(Class::Latin | Class::Mark))
                    || next != Some(Class::Latin) =>
            {
                return Err(NameError::Characters)
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_dots(classes: &[Class]) -> Result<(), NameError> {
    for (i, class) in classes.iter().enumerate() {
        if *class != Class::Dot {
            continue;
        }
        let prev = i.checked_sub(1).and_then(|p| classes.get(p)).copied();
        let next = classes.get(i + 1).copied();
        let letter = |c: Option<Class>| matches!(c, Some(Class::Han | Class::Latin | Class::Mark));
        if !letter(prev) || !matches!(next, Some(Class::Han | Class::Latin)) {
            return Err(NameError::Dot);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(s: &str) -> Result<String, NameError> {
        validate_person_name(s, &NameOptions::default())
    }

    #[test]
    fn accepted_names() {
        let cases = [
            ("张三", "张三"),
            ("  王小明 ", "王小明"),
            ("欧阳娜娜", "欧阳娜娜"),
            ("阿沛·阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛•阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛・阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛･阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛‧阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛⋅阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛∙阿旺晋美", "阿沛·阿旺晋美"),
            ("阿沛΄阿旺晋美", "err"),
            ("爱新觉罗·溥仪", "爱新觉罗·溥仪"),
            ("李𠀋", "李𠀋"), // extension B
            ("王𰀀", "王𰀀"), // extension G
            ("李〇", "李〇"),
            ("Zhang San", "Zhang San"),
            ("José Martínez", "José Martínez"),
            ("Jose\u{301} Li", "José Li"), // combining acute composes
            ("Jean-Luc Picard", "Jean-Luc Picard"),
            ("Conan O’Brien", "Conan O'Brien"),
            ("Ahmat·Ali", "Ahmat·Ali"),
            ("Nguyễn Văn An", "Nguyễn Văn An"),
        ];
        for (input, want) in cases {
            if want == "err" {
                assert!(check(input).is_err(), "{input}");
            } else {
                assert_eq!(check(input).as_deref(), Ok(want), "{input}");
            }
        }
    }

    #[test]
    fn refused_names() {
        use NameError::*;
        let len = Length { min: 2, max: 50 };
        let cases = [
            ("", len),
            ("   ", len),
            ("张", len),
            ("A", len),
            (&*"张".repeat(51), len),
            ("张三3", Characters),
            ("张 三", Characters),
            ("张三!", Characters),
            ("张三😀", Characters),
            ("张\u{200B}三", Characters),
            ("张\u{0}三", Characters),
            ("张\t三", Characters),
            ("张Zhang", Characters),
            ("Zhang  San", Characters),
            ("Ｚhang", Characters),
            ("O''Neil", Characters),
            ("-Jean", Characters),
            ("\u{301}ab", Characters),
            ("·张三", Dot),
            ("张三·", Dot),
            ("阿沛··阿旺晋美", Dot),
            ("阿沛•・阿旺晋美", Dot),
            ("Ahmat ·Ali", Dot),
            ("张 ·三", Dot),
            ("Ahmat· Ali", Dot),
            ("123", Characters),
            ("Robert'); DROP TABLE", Characters),
            ("测试", Placeholder),
            ("测试用户", Placeholder),
            ("管理员", Placeholder),
            ("admin", Placeholder),
            ("Test", Placeholder),
            ("Admin User", Placeholder),
            ("ADMINISTRATOR", Placeholder),
            ("Null", Placeholder),
            ("Ab C", Placeholder),
            ("aaaa", Placeholder),
            ("啊啊啊啊", Placeholder),
        ];
        for (input, want) in cases {
            assert_eq!(check(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn length_bounds_are_configurable() {
        let opts = NameOptions {
            min_chars: 1,
            max_chars: 4,
        };
        assert!(validate_person_name("张", &opts).is_ok());
        assert!(validate_person_name("张三李四", &opts).is_ok());
        assert_eq!(
            validate_person_name("张三李四王", &opts),
            Err(NameError::Length { min: 1, max: 4 })
        );
    }

    proptest! {
        #[test]
        fn han_names_pass(s in "[\u{4E00}-\u{9FFF}]{2,20}") {
            prop_assert_eq!(check(&s), Ok(s.clone()));
        }

        #[test]
        fn dotted_han_names_pass(a in "[\u{4E00}-\u{9FFF}]{1,10}", b in "[\u{4E00}-\u{9FFF}]{1,10}") {
            let name = format!("{a}\u{30FB}{b}");
            prop_assert_eq!(check(&name), Ok(format!("{a}·{b}")));
        }

        #[test]
        fn latin_names_pass(parts in proptest::collection::vec("[A-Z][a-z]{1,8}", 1..4)) {
            let s = parts.join(" ");
            prop_assert_eq!(check(&s), Ok(s.clone()));
        }

        #[test]
        fn any_digit_is_refused(a in "[\u{4E00}-\u{9FFF}]{1,5}", d in "[0-9０-９]") {
            prop_assert_eq!(check(&format!("{a}{d}")), Err(NameError::Characters));
        }

        #[test]
        fn arbitrary_input_never_panics(s in "\\PC{0,80}") {
            let _ = check(&s);
        }
    }
}
