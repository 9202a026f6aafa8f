//! Injected gambling spam: detection, removal and a report of each removal.

use scraper::Html;
use url::Url;

use crate::article::SpamRemoval;
use crate::extract::meta::PageMeta;
use crate::rules::{RuleSource, RulesError};

/// Compiled `config/rules/spam.toml`.
#[derive(Debug, Default)]
pub struct SpamRules {}

impl SpamRules {
    pub fn compile(_sources: &[RuleSource]) -> Result<Self, RulesError> {
        Ok(SpamRules {})
    }
}

/// Detaches injected spam from `doc` and reports what was removed and why.
/// `source` is the whole decoded page, for signals the parser hides (text after `</html>`).
pub fn remove_spam(
    _doc: &mut Html,
    _source: &str,
    _base: Option<&Url>,
    _rules: &SpamRules,
) -> Vec<SpamRemoval> {
    Vec::new()
}

/// True when the page as a whole is spam rather than an article with spam injected.
pub fn is_spam_page(_found: &[SpamRemoval], _meta: &PageMeta, _rules: &SpamRules) -> bool {
    false
}
