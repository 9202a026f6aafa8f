//! Article metadata: title, date, source, author, editor, site, column, ...

use scraper::Html;
use url::Url;

use crate::extract::content::Body;
use crate::extract::ExtractOptions;
use crate::rules::{RuleSource, RulesError};

/// Compiled `config/rules/meta.toml`.
#[derive(Debug, Default)]
pub struct MetaRules {}

impl MetaRules {
    pub fn compile(_sources: &[RuleSource]) -> Result<Self, RulesError> {
        Ok(MetaRules {})
    }
}

/// How precise a publication date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    Date,
    DateTime,
}

impl std::fmt::Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Precision::Date => "date",
            Precision::DateTime => "datetime",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// RFC 3339 with offset, or `YYYY-MM-DD` for [`Precision::Date`].
    pub value: String,
    pub precision: Precision,
    /// Where it came from (`visible_line`, `meta:PubDate`, `json_ld`, `url`, ...).
    pub from: String,
}

/// Metadata gathered from the whole page (before cleaning) and completed from the body.
#[derive(Debug, Clone, Default)]
pub struct PageMeta {
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    pub published: Option<Published>,
    pub source: Option<String>,
    pub author: Option<String>,
    pub editor: Option<String>,
    pub site_name: Option<String>,
    pub site_id_code: Option<String>,
    pub column: Option<String>,
    pub keywords: Vec<String>,
    pub description: Option<String>,
    pub language: Option<String>,
    pub script: Option<String>,
}

/// The base for relative links: `<base href>` resolved against the page address.
pub fn base_url(doc: &Html, page: Option<&Url>) -> Option<Url> {
    let selector = scraper::Selector::parse("base[href]").expect("static selector");
    let href = doc
        .select(&selector)
        .next()
        .and_then(|e| e.value().attr("href"));
    match (page, href) {
        (Some(page), Some(href)) => page.join(href.trim()).ok().or_else(|| Some(page.clone())),
        (None, Some(href)) => Url::parse(href.trim()).ok(),
        (Some(page), None) => Some(page.clone()),
        (None, None) => None,
    }
}

/// Reads every field the uncleaned page offers.
pub fn read(
    _doc: &Html,
    _base: Option<&Url>,
    _rules: &MetaRules,
    _options: &ExtractOptions,
) -> PageMeta {
    PageMeta::default()
}

/// Completes `meta` from the body and removes metadata lines from the body text.
pub fn complete(_meta: &mut PageMeta, _body: &mut Body, _rules: &MetaRules) {}
