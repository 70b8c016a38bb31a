//! Approved publishers listed in `imgate.toml` itself: for small, stable lists, changed
//! with a config reload.

use super::set::{PublisherSet, PublisherSetBuilder};
use super::{Approval, ApprovalError, ApprovalRegistry};
use crate::lookups::stats::Counters;
use crate::lookups::{LookupConfigError, LookupStats};
use serde::Deserialize;
use std::sync::Arc;

/// `[approval] kind = "inline"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InlineSpec {
    /// The approved accounts: `publishers = [{ account_id = "u-xinhua", categories =
    /// ["political_news"] }]`. May be empty (nobody approved).
    #[serde(default)]
    pub publishers: Vec<PublisherEntry>,
}

/// One approved account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublisherEntry {
    /// The upstream's account id.
    pub account_id: String,
    /// Restricted categories it may publish in (non-empty).
    pub categories: Vec<String>,
}

/// The `inline` approval registry.
#[derive(Debug)]
pub struct InlineApproval {
    set: PublisherSet,
    counters: Arc<Counters>,
}

impl InlineApproval {
    pub fn build(spec: &InlineSpec) -> Result<Self, LookupConfigError> {
        let mut builder = PublisherSetBuilder::with_capacity(spec.publishers.len());
        for (i, entry) in spec.publishers.iter().enumerate() {
            builder
                .insert(
                    &entry.account_id,
                    entry.categories.iter().map(String::as_str),
                )
                .map_err(|e| LookupConfigError::new(format!("publishers[{i}]"), e.to_string()))?;
        }
        Ok(InlineApproval {
            set: builder.build(),
            counters: Arc::default(),
        })
    }
}

#[async_trait::async_trait]
impl ApprovalRegistry for InlineApproval {
    async fn categories(&self, account_id: &str) -> Result<Approval, ApprovalError> {
        Counters::bump(&self.counters.hits);
        let approval = self.set.get(account_id);
        if !approval.is_approved() {
            Counters::bump(&self.counters.negatives);
        }
        Ok(approval)
    }

    fn is_approved_cached(&self, account_id: &str) -> bool {
        self.set.is_approved(account_id)
    }

    fn stats(&self) -> LookupStats {
        self.counters.snapshot(self.set.len() as u64, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn answers_from_the_config() {
        let spec: InlineSpec = toml::from_str(
            "publishers = [{ account_id = \"u-xinhua\", categories = [\"political_news\"] }]",
        )
        .unwrap();
        let reg = InlineApproval::build(&spec).unwrap();
        assert!(reg
            .categories("u-xinhua")
            .await
            .unwrap()
            .allows("political_news"));
        assert!(!reg.categories("u-alice").await.unwrap().is_approved());
        assert!(reg.is_approved_cached("u-xinhua") && !reg.is_approved_cached("u-mallory"));
        let stats = reg.stats();
        assert_eq!((stats.hits, stats.negatives, stats.entries), (2, 1, 1));
    }

    #[test]
    fn duplicate_is_a_config_error() {
        let spec: InlineSpec = toml::from_str(
            "publishers = [{ account_id = \"u-a\", categories = [\"x\"] }, { account_id = \"u-a\", categories = [\"y\"] }]",
        )
        .unwrap();
        assert_eq!(
            InlineApproval::build(&spec).unwrap_err().key,
            "publishers[1]"
        );
    }
}
