//! Boilerplate removal: navigation, widgets, related links, footers, hidden blocks.

use scraper::Html;

use crate::rules::{RuleSource, RulesError};

/// Compiled `config/rules/clean.toml`.
#[derive(Debug, Default)]
pub struct CleanRules {}

impl CleanRules {
    pub fn compile(_sources: &[RuleSource]) -> Result<Self, RulesError> {
        Ok(CleanRules {})
    }
}

/// Detaches every boilerplate node from `doc`.
pub fn clean(_doc: &mut Html, _rules: &CleanRules) {}
