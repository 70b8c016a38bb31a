//! The in-memory IM data: accounts, sessions and posts.
//!
//! One `RwLock` guards everything: reads (the hot path) share it, writes are short because the
//! JSON of a new account or post is rendered once, at creation, and then only shared. Accounts
//! and posts are immutable, which is what makes that pre-rendering sound.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use bytes::{BufMut, BytesMut};
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::doc::{combine_hashes, Doc};
use crate::time::{rfc3339, whole_seconds};

/// Timeline page size when the client names none.
pub const DEFAULT_TIMELINE_LIMIT: usize = 20;
/// Largest timeline page; larger requests are clamped, as the contract says "max 200".
pub const MAX_TIMELINE_LIMIT: usize = 200;
/// Longest username; ids are `u-<username>`, so this bounds ids too.
pub const MAX_USERNAME_LEN: usize = 32;

/// Keys of the registration body that are not profile keys: credentials, personal data that is
/// stored but never shown, and the fields every Account object already has.
const NON_PROFILE_KEYS: &[&str] = &[
    "id",
    "username",
    "password",
    "display_name",
    "real_name",
    "id_number",
    "phone",
    "agreement",
];

const ACCOUNT_PREFIX: &[u8] = b"{\"account\":";
const POST_PREFIX: &[u8] = b"{\"post\":";

/// Personal data a real backend keeps for its records; the API never returns it.
#[derive(Debug, Default, Clone)]
#[expect(dead_code, reason = "kept like a real backend keeps it; never served")]
pub struct PrivateData {
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub agreement: Option<Value>,
}

/// A registration request, already parsed from JSON or from the legacy form.
#[derive(Debug, Default)]
pub struct NewAccount {
    pub username: String,
    pub password: String,
    pub display_name: Option<String>,
    pub private: PrivateData,
    /// Any other keys: the legacy server stores them as profile keys and shows them back.
    pub profile: Map<String, Value>,
}

/// Why an account could not be created.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    #[error("username must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")]
    InvalidUsername,
    #[error("password must not be empty")]
    EmptyPassword,
    #[error("username already taken")]
    UsernameTaken,
}

/// A stored account.
#[derive(Debug)]
pub struct Account {
    id: String,
    username: String,
    password: String,
    #[expect(dead_code, reason = "kept like a real backend keeps it; never served")]
    private: PrivateData,
    /// The Account object, embedded as is in every post by this account.
    raw: Box<RawValue>,
    /// `{"account": Account}`, ready to serve.
    doc: Doc,
}

impl Account {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    /// The `{"account": ...}` document.
    pub fn doc(&self) -> &Doc {
        &self.doc
    }

    /// The bare Account object.
    #[cfg(test)]
    pub fn json(&self) -> &str {
        self.raw.get()
    }
}

/// The optional reprint block of a post.
#[derive(Debug, Clone, Serialize)]
pub struct Reprint {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A post request, already parsed.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub title: Option<String>,
    pub content: String,
    pub category: Option<String>,
    pub reprint: Option<Reprint>,
}

/// A stored post.
#[derive(Debug)]
pub struct Post {
    /// `{"post": Post}`, ready to serve.
    doc: Doc,
}

impl Post {
    pub fn doc(&self) -> &Doc {
        &self.doc
    }
}

#[derive(Serialize)]
struct PostOut<'a> {
    id: &'a str,
    author: &'a RawValue,
    title: Option<&'a str>,
    content: &'a str,
    category: Option<&'a str>,
    reprint: Option<&'a Reprint>,
    created_at: &'a str,
}

/// Accounts, sessions and posts.
pub struct Store {
    inner: RwLock<Inner>,
    /// Counter mixed into session tokens so two tokens never collide even with equal seeds.
    token_counter: AtomicU64,
    token_keys: std::hash::RandomState,
}

struct Inner {
    /// By id (`u-<username>`), which also makes username lookups a map hit.
    accounts: HashMap<String, Arc<Account>>,
    sessions: HashMap<String, Arc<Account>>,
    /// Post `p-<n>` is at index `n - 1`.
    posts: Vec<Arc<Post>>,
    /// When this state began (start or reset): the `Last-Modified` of an empty timeline.
    epoch: SystemTime,
    /// Rendered timelines by page size, valid until the next post: a benchmark reading the
    /// timeline in a loop then costs a map lookup, and its gzip form is compressed once.
    /// Emptied under the write lock, so a cached page never misses a post.
    timeline_cache: Mutex<HashMap<usize, Arc<Doc>>>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// A store holding the seed accounts.
    pub fn new() -> Self {
        Store {
            inner: RwLock::new(Inner::seeded()),
            token_counter: AtomicU64::new(0),
            token_keys: std::hash::RandomState::new(),
        }
    }

    /// Back to the seed state: seed accounts only, no sessions, no posts, ids restart at `p-1`.
    pub fn reset(&self) {
        *self.inner.write() = Inner::seeded();
    }

    pub fn register(&self, new: NewAccount) -> Result<Arc<Account>, RegisterError> {
        if !valid_username(&new.username) {
            return Err(RegisterError::InvalidUsername);
        }
        if new.password.is_empty() {
            return Err(RegisterError::EmptyPassword);
        }
        let id = account_id(&new.username);
        // Cheap pre-check under the read lock, so a flood of duplicates does not serialise
        // on the write lock, and the rendering happens outside any lock.
        if self.inner.read().accounts.contains_key(&id) {
            return Err(RegisterError::UsernameTaken);
        }
        let account = Arc::new(render_account(id, new, SystemTime::now()));
        let mut inner = self.inner.write();
        if inner.accounts.contains_key(&account.id) {
            return Err(RegisterError::UsernameTaken);
        }
        inner
            .accounts
            .insert(account.id.clone(), Arc::clone(&account));
        Ok(account)
    }

    /// Checks a password and opens a session: `(token, account)`.
    pub fn login(&self, username: &str, password: &str) -> Option<(String, Arc<Account>)> {
        let account = {
            let inner = self.inner.read();
            let account = inner.accounts.get(&account_id(username))?;
            if account.password != password {
                return None;
            }
            Arc::clone(account)
        };
        let token = self.new_token();
        self.inner
            .write()
            .sessions
            .insert(token.clone(), Arc::clone(&account));
        Some((token, account))
    }

    pub fn session(&self, token: &str) -> Option<Arc<Account>> {
        self.inner.read().sessions.get(token).cloned()
    }

    pub fn account(&self, id: &str) -> Option<Arc<Account>> {
        self.inner.read().accounts.get(id).cloned()
    }

    pub fn post(&self, id: &str) -> Option<Arc<Post>> {
        let digits = id.strip_prefix("p-")?;
        // Only the canonical spelling names a post: not "p-01", "p-+1" or "p-0".
        if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: usize = digits.parse().ok()?;
        self.inner.read().posts.get(n.checked_sub(1)?).cloned()
    }

    pub fn create_post(&self, author: &Account, new: &NewPost) -> Arc<Post> {
        let now = whole_seconds(SystemTime::now());
        let created_at = rfc3339(now);
        let mut inner = self.inner.write();
        let id = format!("p-{}", inner.posts.len() + 1);
        let post = Arc::new(render_post(&id, &author.raw, new, &created_at, now));
        inner.posts.push(Arc::clone(&post));
        inner.timeline_cache.get_mut().clear();
        post
    }

    /// The newest `limit` posts, newest first, as a `{"posts": [...]}` document.
    pub fn timeline(&self, limit: usize) -> Arc<Doc> {
        let inner = self.inner.read();
        let take = limit.min(inner.posts.len());
        if let Some(doc) = inner.timeline_cache.lock().get(&take) {
            return Arc::clone(doc);
        }
        // Rendered under the read lock, so no post can slip in between render and caching.
        let modified = inner.posts.last().map_or(inner.epoch, |p| p.doc.modified());
        let newest = inner.posts[inner.posts.len() - take..].iter().rev();
        let doc = Arc::new(render_timeline(newest, modified));
        inner.timeline_cache.lock().insert(take, Arc::clone(&doc));
        doc
    }

    fn new_token(&self) -> String {
        let n = self.token_counter.fetch_add(1, Ordering::Relaxed);
        let mut out = String::with_capacity(36);
        out.push_str("tok-");
        for salt in [0u64, 1] {
            let mut hasher = self.token_keys.build_hasher();
            hasher.write_u64(n);
            hasher.write_u64(salt);
            out.push_str(&format!("{:016x}", hasher.finish()));
        }
        out
    }
}

impl Inner {
    fn seeded() -> Self {
        let now = whole_seconds(SystemTime::now());
        let seeds = [
            ("xinhua", "xinhua-pass", "Xinhua News Agency", Map::new()),
            ("alice", "alice-pass", "Alice", Map::new()),
            ("mallory", "mallory-pass", "Mallory", {
                let mut profile = Map::new();
                profile.insert("verified_publisher".into(), Value::Bool(true));
                profile
            }),
        ];
        let accounts = seeds
            .into_iter()
            .map(|(username, password, display_name, profile)| {
                let new = NewAccount {
                    username: username.into(),
                    password: password.into(),
                    display_name: Some(display_name.into()),
                    private: PrivateData::default(),
                    profile,
                };
                let account = render_account(account_id(username), new, now);
                (account.id.clone(), Arc::new(account))
            })
            .collect();
        Inner {
            accounts,
            sessions: HashMap::new(),
            posts: Vec::new(),
            epoch: now,
            timeline_cache: Mutex::new(HashMap::new()),
        }
    }
}

/// `[A-Za-z0-9_.-]{1,32}`: safe in a URL path segment without escaping.
pub fn valid_username(username: &str) -> bool {
    (1..=MAX_USERNAME_LEN).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn account_id(username: &str) -> String {
    format!("u-{username}")
}

/// Splits off the keys that are not profile keys.
pub fn is_profile_key(key: &str) -> bool {
    !NON_PROFILE_KEYS.contains(&key)
}

fn render_account(id: String, new: NewAccount, created: SystemTime) -> Account {
    let NewAccount {
        username,
        password,
        display_name,
        private,
        profile,
    } = new;
    let mut object = Map::with_capacity(3 + profile.len());
    object.insert("id".into(), Value::String(id.clone()));
    object.insert("username".into(), Value::String(username.clone()));
    object.insert(
        "display_name".into(),
        Value::String(display_name.unwrap_or_else(|| username.clone())),
    );
    for (key, value) in profile {
        if is_profile_key(&key) {
            object.insert(key, value);
        }
    }
    // Serialising a map of JSON values cannot fail; `Box<RawValue>::default()` is `null`.
    let raw = serde_json::value::to_raw_value(&object).unwrap_or_default();
    let mut body = BytesMut::with_capacity(ACCOUNT_PREFIX.len() + raw.get().len() + 1);
    body.put_slice(ACCOUNT_PREFIX);
    body.put_slice(raw.get().as_bytes());
    body.put_u8(b'}');
    Account {
        id,
        username,
        password,
        private,
        raw,
        doc: Doc::new(body.freeze(), whole_seconds(created)),
    }
}

fn render_post(
    id: &str,
    author: &RawValue,
    new: &NewPost,
    created_at: &str,
    created: SystemTime,
) -> Post {
    let out = PostOut {
        id,
        author,
        title: new.title.as_deref(),
        content: &new.content,
        category: new.category.as_deref(),
        reprint: new.reprint.as_ref(),
        created_at,
    };
    let mut body =
        BytesMut::with_capacity(POST_PREFIX.len() + author.get().len() + new.content.len() + 160);
    body.put_slice(POST_PREFIX);
    // Serialising strings and a raw value into memory cannot fail; `null` keeps the document
    // well-formed all the same.
    if serde_json::to_writer((&mut body).writer(), &out).is_err() {
        body.truncate(POST_PREFIX.len());
        body.put_slice(b"null");
    }
    body.put_u8(b'}');
    Post {
        doc: Doc::new(body.freeze(), created),
    }
}

fn render_timeline<'a>(
    posts: impl Iterator<Item = &'a Arc<Post>> + Clone,
    modified: SystemTime,
) -> Doc {
    const HEAD: &[u8] = b"{\"posts\":[";
    const TAIL: &[u8] = b"]}";
    let len = HEAD.len() + TAIL.len() + posts.clone().map(|p| p.doc.body().len()).sum::<usize>();
    let mut body = BytesMut::with_capacity(len);
    body.put_slice(HEAD);
    for (i, post) in posts.clone().enumerate() {
        if i > 0 {
            body.put_u8(b',');
        }
        let doc = post.doc.body();
        body.put_slice(&doc[POST_PREFIX.len()..doc.len() - 1]);
    }
    body.put_slice(TAIL);
    // The body is a pure function of the posts (each already hashed) and their order.
    let hash = combine_hashes(posts.map(|p| p.doc.hash()));
    Doc::with_hash(body.freeze(), hash, modified)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new_account(username: &str) -> NewAccount {
        NewAccount {
            username: username.into(),
            password: "pw".into(),
            ..NewAccount::default()
        }
    }

    #[test]
    fn seeds_render_as_the_contract_says() {
        let store = Store::new();
        let mallory = store.account("u-mallory").unwrap();
        assert_eq!(
            &mallory.doc().body()[..],
            br#"{"account":{"id":"u-mallory","username":"mallory","display_name":"Mallory","verified_publisher":true}}"#
        );
        assert_eq!(
            mallory.json(),
            r#"{"id":"u-mallory","username":"mallory","display_name":"Mallory","verified_publisher":true}"#
        );
        assert!(store.login("alice", "alice-pass").is_some());
        assert!(store.login("alice", "wrong").is_none());
    }

    #[test]
    fn usernames_are_restricted() {
        assert!(valid_username("a.b-c_D9"));
        assert!(!valid_username(""));
        assert!(!valid_username("a/b"));
        assert!(!valid_username("é"));
        assert!(!valid_username(&"a".repeat(33)));
        let store = Store::new();
        assert_eq!(
            store.register(new_account("no space")).unwrap_err(),
            RegisterError::InvalidUsername
        );
        assert_eq!(
            store.register(new_account("alice")).unwrap_err(),
            RegisterError::UsernameTaken
        );
    }

    #[test]
    fn private_keys_never_become_profile_keys() {
        let store = Store::new();
        let mut new = new_account("bob");
        new.profile
            .insert("phone".into(), Value::from("13800000000"));
        new.profile.insert("id".into(), Value::from("u-admin"));
        new.profile.insert("bio".into(), Value::from("hi"));
        let bob = store.register(new).unwrap();
        assert_eq!(
            bob.json(),
            r#"{"id":"u-bob","username":"bob","display_name":"bob","bio":"hi"}"#
        );
    }

    #[test]
    fn posts_and_timeline() {
        let store = Store::new();
        let alice = store.account("u-alice").unwrap();
        for i in 0..3 {
            store.create_post(
                &alice,
                &NewPost {
                    title: None,
                    content: format!("c{i}"),
                    category: None,
                    reprint: None,
                },
            );
        }
        assert!(store.post("p-3").is_some());
        assert!(store.post("p-03").is_none());
        assert!(store.post("p-0").is_none());
        assert!(store.post("p-4").is_none());
        let timeline = store.timeline(2);
        let value: Value = serde_json::from_slice(timeline.body()).unwrap();
        assert_eq!(value["posts"][0]["id"], "p-3");
        assert_eq!(value["posts"][1]["id"], "p-2");
        assert_eq!(value["posts"].as_array().unwrap().len(), 2);
        store.reset();
        assert!(store.post("p-1").is_none());
    }
}
