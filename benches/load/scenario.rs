//! Scenarios: which requests are sent, in which proportions, and what each target should
//! answer. Everything the generator and the correctness checks need to know about a request
//! lives here, so tightening an expectation (when a rule lands) is a one-line change.

use crate::idcard;
use crate::texts;
use bytes::Bytes;
use http::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request};
use http_body_util::Full;
use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The timeline read of the marked scenario (about 16 KiB with the seeded posts).
pub const TIMELINE_PATH: &str = "/api/v1/timeline?limit=50";
/// Posts seeded before a scenario that reads the timeline.
pub const SEED_POSTS: usize = 50;

/// A scenario of the issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum ScenarioId {
    /// `GET /api/v1/session` with a bearer token: unrouted, so imgate just forwards it.
    Passthrough,
    /// `POST /api/v1/accounts`: half valid (unique usernames), half invalid in one field.
    Register,
    /// `POST /api/v1/posts`, ~1 KiB: political and not, by an ordinary and an approved account.
    Publish,
    /// `GET /api/v1/timeline?limit=50` (~16 KiB) whose authors imgate marks.
    Marked,
    /// The others, in the proportions of `--mix`.
    Mix,
}

impl ScenarioId {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioId::Passthrough => "passthrough",
            ScenarioId::Register => "register",
            ScenarioId::Publish => "publish",
            ScenarioId::Marked => "marked",
            ScenarioId::Mix => "mix",
        }
    }

    /// Whether the scenario reads the timeline, so the demo server needs seeded posts.
    pub fn needs_seed(self) -> bool {
        matches!(self, ScenarioId::Marked | ScenarioId::Mix)
    }
}

impl fmt::Display for ScenarioId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `--mix passthrough=70,marked=20,publish=8,register=2`.
#[derive(Debug, Clone)]
pub struct MixWeights(pub Vec<(ScenarioId, u32)>);

impl FromStr for MixWeights {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let mut weights = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, weight) = part
                .split_once('=')
                .ok_or_else(|| format!("{part:?}: expected NAME=WEIGHT"))?;
            let id = match name.trim() {
                "passthrough" => ScenarioId::Passthrough,
                "register" => ScenarioId::Register,
                "publish" => ScenarioId::Publish,
                "marked" => ScenarioId::Marked,
                other => return Err(format!("{other:?} is not a scenario of the mix")),
            };
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("{part:?}: the weight must be a whole number"))?;
            if weight > 0 {
                weights.push((id, weight));
            }
        }
        if weights.is_empty() {
            return Err("the mix needs at least one positive weight".into());
        }
        Ok(MixWeights(weights))
    }
}

/// Which of the three targets answers: it decides what the answer should be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// The demo IM server, no proxy.
    Direct,
    /// Plain pingora passthrough: must answer exactly like the demo server.
    Pingora,
    /// imgate (started here, or `--target`).
    Imgate,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Direct => "direct",
            TargetKind::Pingora => "pingora",
            TargetKind::Imgate => "imgate",
        }
    }
}

/// Which of the rules under construction the measured config has; an expectation that needs
/// an absent rule is reported as "pending rule" instead of failing.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Rules {
    /// A `publish` rule on `POST /api/v1/posts`.
    pub publish: bool,
    /// A `mark` rule on `GET /api/v1/timeline`.
    pub mark_timeline: bool,
    /// A `mark` rule on `POST /api/v1/posts` (the created post's author).
    pub mark_post: bool,
}

impl Rules {
    /// Reads the routes of an imgate config: which rules exist, by method and path.
    pub fn from_config(text: &str) -> Result<Rules, String> {
        let table: toml::Table = text.parse().map_err(|e| format!("config: {e}"))?;
        let mut rules = Rules::default();
        let routes = table.get("route").and_then(|r| r.as_array());
        for route in routes.into_iter().flatten() {
            let Some(route) = route.as_table() else {
                continue;
            };
            let path = route.get("path").and_then(|p| p.as_str()).unwrap_or("");
            let methods: Vec<&str> = route
                .get("methods")
                .and_then(|m| m.as_array())
                .map(|m| m.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            let has = |method: &str| methods.is_empty() || methods.contains(&method);
            let marks = route.contains_key("mark");
            if path == "/api/v1/posts" && has("POST") {
                rules.publish |= route.contains_key("publish");
                rules.mark_post |= marks;
            }
            if path == "/api/v1/timeline" && has("GET") {
                rules.mark_timeline |= marks;
            }
        }
        Ok(rules)
    }
}

/// The error code expected in a rejection's JSON envelope.
#[derive(Debug, Clone, Copy)]
pub enum CodeMatch {
    Exact(&'static str),
    Prefix(&'static str),
}

impl CodeMatch {
    pub fn matches(self, code: &str) -> bool {
        match self {
            CodeMatch::Exact(want) => code == want,
            CodeMatch::Prefix(want) => code.starts_with(want),
        }
    }
}

impl fmt::Display for CodeMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CodeMatch::Exact(c) => f.write_str(c),
            CodeMatch::Prefix(c) => write!(f, "{c}*"),
        }
    }
}

/// What a target should answer to one variant.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub status: u16,
    pub code: Option<CodeMatch>,
    /// Set when the gateway would answer differently once a rule under construction exists:
    /// the text says which rule, and the check reports instead of failing.
    pub pending: Option<&'static str>,
}

impl Expect {
    fn status(status: u16) -> Expect {
        Expect {
            status,
            code: None,
            pending: None,
        }
    }
}

/// The ways a registration is invalid (exactly one field wrong each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegCase {
    Valid,
    BadChecksum,
    BadPhone,
    OldAgreement,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    /// Ordinary account.
    Alice,
    /// Approved political-news publisher.
    Xinhua,
}

impl Author {
    pub fn account_id(self) -> &'static str {
        match self {
            Author::Alice => "u-alice",
            Author::Xinhua => "u-xinhua",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Political,
    Sports,
    Tech,
}

impl Topic {
    pub fn title(self) -> &'static str {
        match self {
            Topic::Political => texts::POLITICAL_TITLE,
            Topic::Sports => texts::SPORTS_TITLE,
            Topic::Tech => texts::TECH_TITLE,
        }
    }

    fn content(self) -> &'static str {
        match self {
            Topic::Political => texts::POLITICAL_CONTENT,
            Topic::Sports => texts::SPORTS_CONTENT,
            Topic::Tech => texts::TECH_CONTENT,
        }
    }
}

/// One kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Session,
    Register(RegCase),
    Publish(Author, Topic),
    Timeline,
}

impl Kind {
    pub fn name(self) -> String {
        match self {
            Kind::Session => "GET session".into(),
            Kind::Register(case) => format!("register {case:?}").to_lowercase(),
            Kind::Publish(author, topic) => format!("publish {author:?} {topic:?}").to_lowercase(),
            Kind::Timeline => "GET timeline?limit=50".into(),
        }
    }

    /// What `target` should answer, given the rules the config has.
    pub fn expect(self, target: TargetKind, rules: Rules) -> Expect {
        let gateway = target == TargetKind::Imgate;
        match self {
            Kind::Session => Expect::status(200),
            Kind::Timeline => Expect::status(200),
            Kind::Register(RegCase::Valid) => Expect::status(201),
            // The baselines forward invalid registrations and the demo server stores them.
            Kind::Register(_) if !gateway => Expect::status(201),
            Kind::Register(case) => Expect {
                status: 422,
                code: Some(match case {
                    RegCase::BadChecksum => CodeMatch::Exact("registration.id_number.checksum"),
                    RegCase::BadPhone => CodeMatch::Prefix("registration.phone."),
                    _ => CodeMatch::Exact("registration.agreement.version"),
                }),
                pending: None,
            },
            Kind::Publish(Author::Alice, Topic::Political) if gateway => {
                if rules.publish {
                    Expect {
                        status: 403,
                        code: Some(CodeMatch::Exact("publish.not_approved")),
                        pending: None,
                    }
                } else {
                    Expect {
                        status: 201,
                        code: None,
                        pending: Some("no publish rule on POST /api/v1/posts in the config"),
                    }
                }
            }
            Kind::Publish(..) => Expect::status(201),
        }
    }
}

/// A weighted request kind within a scenario.
#[derive(Debug, Clone)]
pub struct Variant {
    pub kind: Kind,
    pub weight: u32,
}

/// The variants of a plain scenario (not the mix), with their relative weights.
fn variants_of(id: ScenarioId) -> Vec<(Kind, u32)> {
    match id {
        ScenarioId::Passthrough => vec![(Kind::Session, 1)],
        ScenarioId::Register => vec![
            (Kind::Register(RegCase::Valid), 3),
            (Kind::Register(RegCase::BadChecksum), 1),
            (Kind::Register(RegCase::BadPhone), 1),
            (Kind::Register(RegCase::OldAgreement), 1),
        ],
        ScenarioId::Publish => vec![
            (Kind::Publish(Author::Alice, Topic::Political), 1),
            (Kind::Publish(Author::Alice, Topic::Sports), 1),
            (Kind::Publish(Author::Xinhua, Topic::Political), 1),
            (Kind::Publish(Author::Xinhua, Topic::Tech), 1),
        ],
        ScenarioId::Marked => vec![(Kind::Timeline, 1)],
        ScenarioId::Mix => Vec::new(),
    }
}

/// The variants of `id`; for the mix, every plain scenario's variants scaled by its weight.
pub fn variants(id: ScenarioId, mix: &MixWeights) -> Vec<Variant> {
    if id != ScenarioId::Mix {
        return variants_of(id)
            .into_iter()
            .map(|(kind, weight)| Variant { kind, weight })
            .collect();
    }
    let mut out = Vec::new();
    for &(part, weight) in &mix.0 {
        let inner = variants_of(part);
        let inner_sum: u32 = inner.iter().map(|(_, w)| w).sum();
        for (kind, w) in inner {
            // Scale so the scenario's share is `weight` whatever its inner weights add up to.
            out.push(Variant {
                kind,
                weight: weight * w * 12 / inner_sum.max(1),
            });
        }
    }
    out
}

/// Bearer tokens of the seed accounts, valid on the demo server until its next reset.
#[derive(Debug, Clone)]
pub struct Tokens {
    pub alice: String,
    pub xinhua: String,
}

/// The requests of one measurement: a deterministic sequence (request `n` is the same on every
/// target) built cheaply on the generator's hot path.
pub struct Workload {
    pub variants: Vec<Variant>,
    /// Variant indexes in a shuffled, weight-proportional order; request `n` uses `wheel[n % len]`.
    wheel: Vec<u16>,
    host: HeaderValue,
    alice: HeaderValue,
    xinhua: HeaderValue,
    json: HeaderValue,
    /// Pre-rendered publish bodies by topic.
    publish_bodies: [Bytes; 3],
    /// Makes usernames unique across runs against a deployment that is never reset.
    run_tag: String,
    /// Shared across measurements of a run so usernames never repeat.
    usernames: Arc<AtomicU64>,
}

impl Workload {
    pub fn new(
        variants: Vec<Variant>,
        host: &str,
        tokens: &Tokens,
        run_tag: &str,
        usernames: Arc<AtomicU64>,
    ) -> Result<Workload, String> {
        let header = |v: String| {
            HeaderValue::from_str(&v).map_err(|e| format!("bad header value {v:?}: {e}"))
        };
        let body = |topic: Topic| {
            Bytes::from(
                serde_json::json!({ "title": topic.title(), "content": topic.content() })
                    .to_string(),
            )
        };
        Ok(Workload {
            wheel: build_wheel(&variants),
            variants,
            host: header(host.to_string())?,
            alice: header(format!("Bearer {}", tokens.alice))?,
            xinhua: header(format!("Bearer {}", tokens.xinhua))?,
            json: HeaderValue::from_static("application/json"),
            publish_bodies: [
                body(Topic::Political),
                body(Topic::Sports),
                body(Topic::Tech),
            ],
            run_tag: run_tag.to_string(),
            usernames,
        })
    }

    /// Request number `seq`: its variant index and the request itself.
    pub fn request(&self, seq: u64) -> (usize, Request<Full<Bytes>>) {
        let index = usize::from(self.wheel[(seq % self.wheel.len() as u64) as usize]);
        (index, self.build(self.variants[index].kind, seq))
    }

    /// The request of one kind (also used by the correctness checks).
    pub fn build(&self, kind: Kind, seq: u64) -> Request<Full<Bytes>> {
        let (method, path, auth, body) = match kind {
            Kind::Session => (Method::GET, "/api/v1/session", Some(&self.alice), None),
            Kind::Timeline => (Method::GET, TIMELINE_PATH, None, None),
            Kind::Register(case) => (
                Method::POST,
                "/api/v1/accounts",
                None,
                Some(self.registration(case, seq)),
            ),
            Kind::Publish(author, topic) => {
                let token = match author {
                    Author::Alice => &self.alice,
                    Author::Xinhua => &self.xinhua,
                };
                let body = match topic {
                    Topic::Political => &self.publish_bodies[0],
                    Topic::Sports => &self.publish_bodies[1],
                    Topic::Tech => &self.publish_bodies[2],
                };
                (
                    Method::POST,
                    "/api/v1/posts",
                    Some(token),
                    Some(body.clone()),
                )
            }
        };
        let mut request = Request::new(Full::new(body.clone().unwrap_or_default()));
        *request.method_mut() = method;
        *request.uri_mut() = http::Uri::from_static(path);
        let headers = request.headers_mut();
        headers.insert(HOST, self.host.clone());
        if let Some(auth) = auth {
            headers.insert(AUTHORIZATION, auth.clone());
        }
        if body.is_some() {
            headers.insert(CONTENT_TYPE, self.json.clone());
        }
        request
    }

    /// A registration body with a username never used before in this run.
    fn registration(&self, case: RegCase, seq: u64) -> Bytes {
        let n = self.usernames.fetch_add(1, Ordering::Relaxed);
        let id_number = match case {
            RegCase::BadChecksum => idcard::bad_checksum(seq),
            _ => idcard::valid(seq),
        };
        let phone = if case == RegCase::BadPhone {
            "1380013800"
        } else {
            "13800138000"
        };
        let version = if case == RegCase::OldAgreement {
            "2013-01"
        } else {
            "2014-08"
        };
        Bytes::from(
            serde_json::json!({
                "username": format!("lb{}-{n}", self.run_tag),
                "password": "load-bench-pass",
                "real_name": "张三",
                "id_number": id_number,
                "phone": phone,
                "agreement": { "accepted": true, "version": version },
            })
            .to_string(),
        )
    }
}

/// A weight-proportional sequence of variant indexes, shuffled with a fixed seed so kinds
/// interleave (no long runs of one kind) and every target sees the same order.
fn build_wheel(variants: &[Variant]) -> Vec<u16> {
    let mut wheel: Vec<u16> = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        let i = u16::try_from(i).unwrap_or(u16::MAX);
        wheel.extend(std::iter::repeat_n(i, v.weight.max(1) as usize));
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (1..wheel.len()).rev() {
        // xorshift64*: a fixed, dependency-free shuffle.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let r = state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        wheel.swap(i, (r % (i as u64 + 1)) as usize);
    }
    wheel
}
