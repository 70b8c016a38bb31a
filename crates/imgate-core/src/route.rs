//! The route table: method + path template, matched on a canonical path.
//!
//! Templates use `{name}` for one segment and `{*name}` for the rest of the path
//! (matchit syntax). Matching is tried on the exact-case canonical path first and then
//! case-insensitively on the static parts, so a case variant of an enforced route is
//! still recognised (and then refused by the caller) instead of slipping past it.

use crate::path::CanonicalPath;
use std::borrow::Cow;

/// Which methods a route applies to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Methods {
    Any,
    Only(Vec<String>),
}

impl Methods {
    pub fn allows(&self, method: &str) -> bool {
        match self {
            Methods::Any => true,
            Methods::Only(list) => list.iter().any(|m| m.eq_ignore_ascii_case(method)),
        }
    }

    fn overlaps(&self, other: &Methods) -> bool {
        match (self, other) {
            (Methods::Any, _) | (_, Methods::Any) => true,
            (Methods::Only(a), Methods::Only(b)) => a.iter().any(|m| b.contains(m)),
        }
    }
}

/// A template that could not be added to the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("invalid path template `{template}`: {reason}")]
    Template { template: String, reason: String },
    #[error("route `{template}` overlaps an earlier route with the same template and method")]
    Duplicate { template: String },
}

/// A matched route with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch<'a, T> {
    pub route: &'a T,
    pub index: usize,
    pub params: Vec<(String, String)>,
    /// False when only a case-insensitive reading of the path matched.
    pub exact_case: bool,
    /// The route's template, for [`RouteMatch::spelled`].
    pub template: &'a str,
}

impl<T> RouteMatch<'_, T> {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `path` (the request path this match was found for) as the route spells it: the template's static
    /// segments, with the request's own segments where the template has parameters (`/API/v1/posts/P-1`
    /// against `/api/v1/posts/{id}` gives `/api/v1/posts/P-1`). What a client told to use the route's letter
    /// case should send. `None` when a parameter is only part of a segment (then the template is the hint).
    pub fn spelled(&self, path: &str) -> Option<String> {
        let mut out = String::with_capacity(path.len());
        let mut theirs = path.split('/');
        for (i, ours) in self.template.split('/').enumerate() {
            if i > 0 {
                out.push('/');
            }
            if ours.starts_with("{*") && ours.ends_with('}') {
                let rest: Vec<&str> = theirs.collect();
                out.push_str(&rest.join("/"));
                return (!rest.is_empty()).then_some(out);
            }
            let given = theirs.next()?;
            if ours.starts_with('{') && ours.ends_with('}') && ours.matches('{').count() == 1 {
                out.push_str(given);
            } else if ours.contains('{') {
                return None;
            } else {
                out.push_str(ours);
            }
        }
        theirs.next().is_none().then_some(out)
    }
}

#[derive(Debug, Default)]
struct Slot {
    entries: Vec<(Methods, usize)>,
}

/// Routes in insertion order, each a `T` (the compiled rules of the route).
pub struct RouteTable<T> {
    exact: matchit::Router<usize>,
    folded: matchit::Router<usize>,
    slots: Vec<Slot>,
    templates: Vec<String>,
    routes: Vec<T>,
}

impl<T> Default for RouteTable<T> {
    fn default() -> Self {
        RouteTable {
            exact: matchit::Router::new(),
            folded: matchit::Router::new(),
            slots: Vec::new(),
            templates: Vec::new(),
            routes: Vec::new(),
        }
    }
}

impl<T> std::fmt::Debug for RouteTable<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RouteTable")
            .field("templates", &self.templates)
            .finish()
    }
}

impl<T> RouteTable<T> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a route; returns its index.
    pub fn insert(
        &mut self,
        methods: Methods,
        template: &str,
        route: T,
    ) -> Result<usize, RouteError> {
        validate_template(template)?;
        let index = self.routes.len();
        let slot = match self.templates.iter().position(|t| t == template) {
            Some(slot) => {
                if self.slots[slot]
                    .entries
                    .iter()
                    .any(|(m, _)| m.overlaps(&methods))
                {
                    return Err(RouteError::Duplicate {
                        template: template.to_owned(),
                    });
                }
                slot
            }
            None => {
                let slot = self.slots.len();
                let to_error = |e: matchit::InsertError| RouteError::Template {
                    template: template.to_owned(),
                    reason: e.to_string(),
                };
                self.exact.insert(template, slot).map_err(to_error)?;
                // Case-folded twins can legitimately collide (`/A` and `/a`); the first wins.
                let _ = self.folded.insert(fold_static(template), slot);
                self.slots.push(Slot::default());
                self.templates.push(template.to_owned());
                slot
            }
        };
        self.slots[slot].entries.push((methods, index));
        self.routes.push(route);
        Ok(index)
    }

    pub fn routes(&self) -> &[T] {
        &self.routes
    }

    pub fn template(&self, index: usize) -> Option<&str> {
        let slot = self
            .slots
            .iter()
            .position(|s| s.entries.iter().any(|(_, i)| *i == index))?;
        self.templates.get(slot).map(String::as_str)
    }

    /// Finds the route for `method` and a canonical path.
    pub fn find(&self, method: &str, path: &CanonicalPath) -> Option<RouteMatch<'_, T>> {
        if let Ok(m) = self.exact.at(&path.path) {
            let params = m
                .params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            return self.pick(*m.value, method, params, true);
        }
        // Most paths are lower case already: then they are their own folding.
        let folded = if path
            .path
            .bytes()
            .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
        {
            Cow::Owned(path.path.to_lowercase())
        } else {
            Cow::Borrowed(path.path.as_str())
        };
        let m = self.folded.at(&folded).ok()?;
        let params = m
            .params
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        self.pick(*m.value, method, params, false)
    }

    fn pick(
        &self,
        slot: usize,
        method: &str,
        params: Vec<(String, String)>,
        exact_case: bool,
    ) -> Option<RouteMatch<'_, T>> {
        let (_, index) = self.slots[slot]
            .entries
            .iter()
            .find(|(m, _)| m.allows(method))?;
        Some(RouteMatch {
            route: &self.routes[*index],
            index: *index,
            params,
            exact_case,
            template: self.templates.get(slot).map_or("", String::as_str),
        })
    }
}

fn validate_template(template: &str) -> Result<(), RouteError> {
    let fail = |reason: &str| RouteError::Template {
        template: template.to_owned(),
        reason: reason.to_owned(),
    };
    if !template.starts_with('/') {
        return Err(fail("a template must start with `/`"));
    }
    let canonical = crate::path::canonicalize(template).map_err(|e| fail(&e.to_string()))?;
    if canonical.variant.is_some() && template != "/" {
        return Err(fail(
            "a template must be a canonical path (no `//`, `.`/`..` segments, `%` escapes, `;` or trailing slash)",
        ));
    }
    Ok(())
}

/// Lower-cases the static parts of a template, leaving `{param}` names alone.
fn fold_static(template: &str) -> String {
    let mut out = String::with_capacity(template.len());
    let mut depth = 0usize;
    for c in template.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 {
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::path::canonicalize;

    fn table() -> RouteTable<&'static str> {
        let mut t = RouteTable::new();
        t.insert(
            Methods::Only(vec!["POST".into()]),
            "/api/v1/accounts",
            "register",
        )
        .unwrap();
        t.insert(
            Methods::Only(vec!["GET".into()]),
            "/api/v1/accounts/{id}",
            "account",
        )
        .unwrap();
        t.insert(
            Methods::Only(vec!["POST".into()]),
            "/api/v1/posts",
            "publish",
        )
        .unwrap();
        t.insert(Methods::Only(vec!["GET".into()]), "/api/v1/posts", "list")
            .unwrap();
        t.insert(Methods::Any, "/__demo/{*rest}", "deny").unwrap();
        t.insert(
            Methods::Only(vec!["POST".into()]),
            "/legacy/register.do",
            "legacy",
        )
        .unwrap();
        t
    }

    fn find<'a>(
        t: &'a RouteTable<&'static str>,
        m: &str,
        p: &str,
    ) -> Option<RouteMatch<'a, &'static str>> {
        t.find(m, &canonicalize(p).unwrap())
    }

    #[test]
    fn matches_method_and_template() {
        let t = table();
        assert_eq!(
            find(&t, "POST", "/api/v1/accounts").map(|m| *m.route),
            Some("register")
        );
        assert_eq!(find(&t, "GET", "/api/v1/accounts"), None);
        let m = find(&t, "GET", "/api/v1/accounts/u-alice").unwrap();
        assert_eq!((*m.route, m.param("id")), ("account", Some("u-alice")));
        assert_eq!(
            find(&t, "GET", "/api/v1/posts").map(|m| *m.route),
            Some("list")
        );
        assert_eq!(
            find(&t, "DELETE", "/__demo/stats").map(|m| *m.route),
            Some("deny")
        );
    }

    #[test]
    fn case_variants_match_but_are_flagged() {
        let t = table();
        let m = find(&t, "POST", "/API/V1/Accounts").unwrap();
        assert_eq!((*m.route, m.exact_case), ("register", false));
        let m = find(&t, "POST", "/legacy/REGISTER.DO").unwrap();
        assert_eq!((*m.route, m.exact_case), ("legacy", false));
        assert_eq!(
            m.spelled("/legacy/REGISTER.DO").as_deref(),
            Some("/legacy/register.do")
        );
        // Parameter values keep the request's spelling; static parts take the route's.
        let m = find(&t, "GET", "/API/v1/Accounts/U-Alice").unwrap();
        assert_eq!(
            m.spelled("/API/v1/Accounts/U-Alice").as_deref(),
            Some("/api/v1/accounts/U-Alice")
        );
        let m = find(&t, "GET", "/__DEMO/Stats/X").unwrap();
        assert_eq!(
            m.spelled("/__DEMO/Stats/X").as_deref(),
            Some("/__demo/Stats/X")
        );
        // A path of another shape than the template gives no spelling.
        assert_eq!(m.spelled("/__demo").as_deref(), None);
        assert!(find(&t, "post", "/api/v1/accounts").is_some());
    }

    #[test]
    fn bad_templates_are_refused() {
        let mut t: RouteTable<()> = RouteTable::new();
        assert!(t.insert(Methods::Any, "api", ()).is_err());
        assert!(t.insert(Methods::Any, "/a//b", ()).is_err());
        assert!(t.insert(Methods::Any, "/a/{", ()).is_err());
        t.insert(Methods::Only(vec!["GET".into()]), "/a", ())
            .unwrap();
        assert!(matches!(
            t.insert(Methods::Any, "/a", ()),
            Err(RouteError::Duplicate { .. })
        ));
        t.insert(Methods::Only(vec!["POST".into()]), "/a", ())
            .unwrap();
    }
}
