//! The in-memory set of approved accounts, compact enough for a million of them.
//!
//! Each account costs its id (one `Box<str>`, no spare capacity) and an 8-byte bitset of
//! its categories; category names are interned once per set (at most 64 distinct ones,
//! far more than any deployment restricts). Sets are immutable once built: a reload
//! builds a new one and swaps it in whole, so readers never see a half-applied change.

use super::Approval;
use std::collections::HashMap;

/// Most distinct category names in one set (bits of the per-account bitset).
pub const MAX_CATEGORIES: usize = 64;

/// Why an entry cannot join a set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetError {
    #[error("account_id must not be empty")]
    EmptyAccountId,
    #[error("duplicate account_id {0:?}")]
    DuplicateAccount(String),
    #[error("categories of {0:?} must be a non-empty list of non-empty names")]
    EmptyCategories(String),
    #[error("more than {MAX_CATEGORIES} distinct categories")]
    TooManyCategories,
}

/// Approved accounts and their categories.
#[derive(Debug, Default)]
pub struct PublisherSet {
    names: Box<[Box<str>]>,
    accounts: HashMap<Box<str>, u64>,
}

impl PublisherSet {
    /// Every category name some account is granted.
    pub fn category_names(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }

    /// The categories of `account_id` (empty when it is not approved).
    pub fn get(&self, account_id: &str) -> Approval {
        let bits = self.accounts.get(account_id).copied().unwrap_or(0);
        Approval {
            categories: self
                .names
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, name)| name.to_string())
                .collect(),
        }
    }

    /// Approved for at least one category. No allocation.
    pub fn is_approved(&self, account_id: &str) -> bool {
        self.accounts.contains_key(account_id)
    }

    /// Approved for `category`. No allocation.
    pub fn allows(&self, account_id: &str, category: &str) -> bool {
        let Some(bit) = self.names.iter().position(|n| &**n == category) else {
            return false;
        };
        self.accounts
            .get(account_id)
            .is_some_and(|bits| bits & (1 << bit) != 0)
    }

    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }
}

/// Builds a [`PublisherSet`].
#[derive(Debug, Default)]
pub struct PublisherSetBuilder {
    names: Vec<Box<str>>,
    accounts: HashMap<Box<str>, u64>,
}

impl PublisherSetBuilder {
    pub fn with_capacity(accounts: usize) -> Self {
        PublisherSetBuilder {
            names: Vec::new(),
            accounts: HashMap::with_capacity(accounts),
        }
    }

    /// Adds an account; a second entry for the same account is an error (its categories
    /// would be ambiguous in a hand-written list).
    pub fn insert<'a>(
        &mut self,
        account_id: &str,
        categories: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), SetError> {
        let bits = self.bits(account_id, categories)?;
        if self.accounts.contains_key(account_id) {
            return Err(SetError::DuplicateAccount(account_id.to_owned()));
        }
        self.accounts.insert(account_id.into(), bits);
        Ok(())
    }

    /// Adds an account, joining its categories with an earlier entry's (for lists from
    /// a service, where a repeated entry is not an operator's typo).
    pub fn merge<'a>(
        &mut self,
        account_id: &str,
        categories: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), SetError> {
        let bits = self.bits(account_id, categories)?;
        match self.accounts.get_mut(account_id) {
            Some(existing) => *existing |= bits,
            None => {
                self.accounts.insert(account_id.into(), bits);
            }
        }
        Ok(())
    }

    fn bits<'a>(
        &mut self,
        account_id: &str,
        categories: impl IntoIterator<Item = &'a str>,
    ) -> Result<u64, SetError> {
        if account_id.is_empty() {
            return Err(SetError::EmptyAccountId);
        }
        let mut bits = 0u64;
        for name in categories {
            if name.is_empty() {
                return Err(SetError::EmptyCategories(account_id.to_owned()));
            }
            bits |= 1 << self.intern(name)?;
        }
        if bits == 0 {
            return Err(SetError::EmptyCategories(account_id.to_owned()));
        }
        Ok(bits)
    }

    fn intern(&mut self, name: &str) -> Result<usize, SetError> {
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            return Ok(i);
        }
        if self.names.len() == MAX_CATEGORIES {
            return Err(SetError::TooManyCategories);
        }
        self.names.push(name.into());
        Ok(self.names.len() - 1)
    }

    pub fn build(mut self) -> PublisherSet {
        self.accounts.shrink_to_fit();
        PublisherSet {
            names: self.names.into_boxed_slice(),
            accounts: self.accounts,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_and_answers() {
        let mut b = PublisherSetBuilder::default();
        b.insert("u-xinhua", ["political_news"]).unwrap();
        b.insert("u-multi", ["finance", "political_news"]).unwrap();
        let set = b.build();
        assert!(set.is_approved("u-xinhua") && !set.is_approved("u-alice"));
        assert!(set.allows("u-multi", "finance") && !set.allows("u-xinhua", "finance"));
        assert!(!set.allows("u-xinhua", "unknown"));
        let mut cats = set.get("u-multi").categories;
        cats.sort();
        assert_eq!(cats, ["finance", "political_news"]);
        assert!(set.get("u-nobody").categories.is_empty());
        assert_eq!(set.len(), 2);
    }

    #[test]
    fn rejects_bad_entries() {
        let mut b = PublisherSetBuilder::default();
        b.insert("u-a", ["x"]).unwrap();
        assert_eq!(
            b.insert("u-a", ["y"]),
            Err(SetError::DuplicateAccount("u-a".into()))
        );
        assert_eq!(b.insert("", ["y"]), Err(SetError::EmptyAccountId));
        assert!(matches!(
            b.insert("u-b", []),
            Err(SetError::EmptyCategories(_))
        ));
        assert!(matches!(
            b.insert("u-b", [""]),
            Err(SetError::EmptyCategories(_))
        ));
        b.merge("u-a", ["y"]).unwrap();
        assert_eq!(b.build().get("u-a").categories, ["x", "y"]);
    }

    #[test]
    fn bounds_distinct_categories() {
        let mut b = PublisherSetBuilder::default();
        for i in 0..MAX_CATEGORIES {
            b.insert(&format!("u-{i}"), [format!("c{i}").as_str()])
                .unwrap();
        }
        assert_eq!(
            b.insert("u-over", ["c-over"]),
            Err(SetError::TooManyCategories)
        );
    }
}
