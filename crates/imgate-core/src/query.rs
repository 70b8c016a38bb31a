//! Query parameters that shadow checked body fields.
//!
//! The gateway checks the fields of a request body, but many backends read their request parameters from the
//! query string and the body together: PHP's `$_REQUEST`, Java servlets' `getParameter` (query first), Rails'
//! `params`. A sign-up whose body passes every check could carry `?id_number=...&agree=0` that such a backend
//! reads instead, so the upstream would act on values the gateway never saw. On an inspected route, a query
//! parameter whose name roots at a checked field (`id_number`, `id_number[]`, `agreement.accepted`, any case)
//! is refused; other parameters pass.

use std::borrow::Cow;

use percent_encoding::percent_decode;

/// Matches every parameter name (a field list that reads every top-level member).
pub const ANY_FIELD: &str = "*";

/// The top-level member a JSON pointer names (`/agreement/accepted` -> `agreement`), unescaped; `None` for the
/// empty pointer. A pointer whose first segment is `*` yields [`ANY_FIELD`].
pub fn pointer_root(pointer: &str) -> Option<String> {
    let rest = pointer.strip_prefix('/')?;
    let first = rest.split('/').next().unwrap_or(rest);
    Some(first.replace("~1", "/").replace("~0", "~"))
}

/// The part of a parameter name that frameworks map to a field: up to the first `[` or `.` (`reprint[url]`,
/// `agreement.accepted`).
fn name_root(name: &str) -> &str {
    name.split(['[', '.']).next().unwrap_or(name)
}

/// The first parameter of `query` (without the `?`) whose decoded name roots at one of `roots` (compared
/// ignoring ASCII case), as decoded. Parameters are separated by `&` or `;`; `+` is a space.
pub fn shadowing_parameter<'q>(query: &'q str, roots: &[String]) -> Option<Cow<'q, str>> {
    if roots.is_empty() {
        return None;
    }
    for part in query.split(['&', ';']) {
        let raw_name = part.split('=').next().unwrap_or(part);
        if raw_name.is_empty() {
            continue;
        }
        let name: Cow<'q, str> = if raw_name.contains(['%', '+']) {
            let spaced = raw_name.replace('+', " ");
            Cow::Owned(
                String::from_utf8_lossy(&percent_decode(spaced.as_bytes()).collect::<Vec<u8>>())
                    .into_owned(),
            )
        } else {
            Cow::Borrowed(raw_name)
        };
        let root = name_root(name.trim());
        if roots
            .iter()
            .any(|r| r == ANY_FIELD || r.eq_ignore_ascii_case(root))
        {
            return Some(name);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pointer_roots() {
        assert_eq!(
            pointer_root("/agreement/accepted").as_deref(),
            Some("agreement")
        );
        assert_eq!(pointer_root("/id_number").as_deref(), Some("id_number"));
        assert_eq!(pointer_root("/a~1b/c").as_deref(), Some("a/b"));
        assert_eq!(pointer_root("/*/text").as_deref(), Some(ANY_FIELD));
        assert_eq!(pointer_root("id_number"), None);
    }

    #[test]
    fn parameters_named_like_checked_fields_are_found_however_spelled() {
        let checked = roots(&["id_number", "phone", "agree", "agreement"]);
        for query in [
            "id_number=110105194912310021",
            "lang=zh&phone=12345678901",
            "x=1;agree=0",
            "ID_NUMBER=1",
            "id%5Fnumber=1",
            "id_number[]=1",
            "agreement.accepted=false",
            "agreement%5Bversion%5D=2000-01",
            "phone",
        ] {
            assert!(shadowing_parameter(query, &checked).is_some(), "{query}");
        }
        assert_eq!(
            shadowing_parameter("a=1&id%5Fnumber=2", &checked).as_deref(),
            Some("id_number")
        );
    }

    #[test]
    fn other_parameters_pass() {
        let checked = roots(&["id_number", "phone"]);
        for query in [
            "",
            "lang=zh",
            "ref=phone_ad",
            "id=5&number=6",
            "=phone",
            "&&",
            "telephone=1",
        ] {
            assert!(shadowing_parameter(query, &checked).is_none(), "{query}");
        }
        assert!(shadowing_parameter("id_number=1", &[]).is_none());
    }

    #[test]
    fn a_field_list_over_every_member_shadows_every_parameter() {
        assert!(shadowing_parameter("lang=zh", &roots(&[ANY_FIELD])).is_some());
    }
}
