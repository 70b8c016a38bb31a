//! Is an account approved to publish in a restricted category?
//!
//! One trait, [`ApprovalRegistry`], answers two questions:
//! - [`ApprovalRegistry::categories`], for publish decisions: may do I/O (cached), and
//!   says so when it cannot answer ([`ApprovalError::Unavailable`], 503);
//! - [`ApprovalRegistry::is_approved_cached`], for response marking: from memory only,
//!   never waits (pingora's body filters are synchronous), and fails safe — when in doubt
//!   it says "not approved", so no unapproved account is ever shown as approved.
//!
//! Sources: [`inline`] (in `imgate.toml`), [`file`] (a TOML or CSV list, reloaded when it
//! changes), [`http`] (the provider's approval service, with a synced copy of its list for
//! marking). All keep approved accounts in a compact [`set::PublisherSet`].

pub mod file;
pub mod http;
pub mod inline;
mod parse;
pub mod set;

pub use file::{FileFormat, FileSpec};
pub use http::HttpSpec;
pub use inline::{InlineSpec, PublisherEntry};

use super::{BuildContext, LookupConfigError};
use serde::Deserialize;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// `[approval]`: where the approved-publisher list comes from. Tagged by `kind`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ApprovalSpec {
    /// The list written in `imgate.toml`; see [`InlineSpec`].
    Inline(InlineSpec),
    /// A TOML or CSV file, reloaded on change; see [`FileSpec`].
    File(FileSpec),
    /// The provider's approval service; see [`HttpSpec`].
    Http(HttpSpec),
}

/// The restricted categories an account may publish in (empty: none; not approved).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Approval {
    pub categories: Vec<String>,
}

impl Approval {
    /// Not approved for anything.
    pub fn none() -> Self {
        Approval::default()
    }

    /// Whether the account may publish in `category`.
    pub fn allows(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }

    /// Approved for at least one restricted category.
    pub fn is_approved(&self) -> bool {
        !self.categories.is_empty()
    }
}

/// What to do when the approval service cannot answer and no stale answer may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnUnavailable {
    /// Refuse the decision: 503 `approval.unavailable` (default).
    #[default]
    FailClosed,
    /// Treat the account as not approved (restricted posts get the usual 403; ordinary
    /// posts go through). For providers that prefer availability of ordinary traffic.
    Deny,
}

/// Why the registry could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApprovalError {
    #[error("approval source unavailable: {0}")]
    Unavailable(Cow<'static, str>),
}

impl ApprovalError {
    /// Stable reason code.
    pub fn code(&self) -> &'static str {
        match self {
            ApprovalError::Unavailable(_) => "approval.unavailable",
        }
    }

    /// HTTP status: 503.
    pub fn status(&self) -> ::http::StatusCode {
        match self {
            ApprovalError::Unavailable(_) => ::http::StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// A short message for the client (the reason stays in the logs).
    pub fn public_message(&self) -> &'static str {
        "the approval service is unavailable; try again later"
    }
}

/// Which restricted categories an account may publish in.
#[async_trait::async_trait]
pub trait ApprovalRegistry: Send + Sync + std::fmt::Debug {
    /// Which restricted categories `account_id` may publish (may do I/O; cached).
    async fn categories(&self, account_id: &str) -> Result<Approval, ApprovalError>;

    /// Approved for any category, from memory only, never waits (for response marking).
    /// Fails safe: `false` whenever the in-memory view is missing or too old.
    fn is_approved_cached(&self, account_id: &str) -> bool;

    /// Waits (at most `timeout`) until the in-memory view is loaded — for sources that
    /// fill it in the background (the `http` list sync). `true` when ready. A reload can
    /// await this before swapping the new registry in, so marking does not briefly show
    /// everyone as unapproved.
    async fn wait_ready(&self, _timeout: Duration) -> bool {
        true
    }

    /// The source's counters.
    fn stats(&self) -> super::LookupStats;

    /// The category names the loaded approvals grant, for sources that load them whole at build time (a
    /// file): a config check refuses names no `[categories]` table defines (a typo approves nobody).
    /// `None` for sources that ask per account.
    fn granted_categories(&self) -> Option<Vec<String>> {
        None
    }
}

pub(crate) fn build(
    spec: &ApprovalSpec,
    ctx: &BuildContext,
) -> Result<Arc<dyn ApprovalRegistry>, LookupConfigError> {
    Ok(match spec {
        ApprovalSpec::Inline(spec) => Arc::new(inline::InlineApproval::build(spec)?),
        ApprovalSpec::File(spec) => Arc::new(file::FileApproval::build(spec, ctx)?),
        ApprovalSpec::Http(spec) => Arc::new(http::HttpApproval::build(spec, ctx)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approval_allows_its_categories() {
        let a = Approval {
            categories: vec!["political_news".into()],
        };
        assert!(a.allows("political_news") && !a.allows("finance") && a.is_approved());
        assert!(!Approval::none().is_approved());
    }

    #[test]
    fn error_code_and_status() {
        let e = ApprovalError::Unavailable("down".into());
        assert_eq!(
            (e.code(), e.status().as_u16()),
            ("approval.unavailable", 503)
        );
    }

    #[test]
    fn spec_is_tagged_by_kind() {
        let spec: ApprovalSpec =
            toml::from_str("kind = \"file\"\npath = \"publishers.toml\"\n").unwrap();
        assert!(matches!(spec, ApprovalSpec::File(_)));
        let spec: ApprovalSpec = toml::from_str(
            "kind = \"inline\"\npublishers = [{ account_id = \"u-x\", categories = [\"political_news\"] }]\n",
        )
        .unwrap();
        assert!(matches!(spec, ApprovalSpec::Inline(_)));
        let err = toml::from_str::<ApprovalSpec>(
            "kind = \"http\"\nurl = \"/x/{account_id}\"\nttl = \"1s\"\nbogus = 1\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("bogus"), "{err}");
    }
}
