//! Extraction: from the bytes of one page to an [`Article`] or an explicit [`NotArticle`].
//!
//! The cascade, in order (each step is its own module):
//! 1. [`crate::decode`]: bytes → text, with the encoding and where it came from.
//! 2. parse once into a DOM (html5ever via `scraper`; tolerant of any malformed HTML).
//! 3. [`spam`]: find and detach injected gambling spam, reporting each removal.
//! 4. [`meta::read`]: metadata from meta tags, JSON-LD, visible info lines, footer and
//!    breadcrumb, read *before* cleaning because cleaning removes those regions.
//! 5. [`clean`]: detach navigation, widgets, related links, footers, hidden blocks.
//! 6. [`content`]: score the remaining blocks and take the article body.
//! 7. [`meta::complete`]: fill fields from the body (bylines) and drop metadata lines
//!    from the body text.
//! 8. a gate: pages that are not articles (list pages, challenge walls, spam pages,
//!    empty pages) become [`NotArticle`], never an empty or junk article.

pub mod clean;
pub mod content;
pub mod meta;
pub mod spam;

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::article::{Article, EncodingInfo, HttpInfo, SpamRemoval, EXTRACTOR_VERSION};
use crate::decode::{self, Decoded};
use crate::rules::{Rules, RulesError};

/// The bytes of one page and what is known about where they came from.
#[derive(Debug, Clone, Default)]
pub struct RawPage {
    pub bytes: Vec<u8>,
    /// The address asked for (or given with `--url` for a saved file).
    pub url: Option<Url>,
    /// The address after redirects, when fetched.
    pub final_url: Option<Url>,
    /// The HTTP `Content-Type` header, whose charset outranks `<meta>`.
    pub content_type: Option<String>,
    pub http: Option<HttpInfo>,
    pub fetched_at: Option<DateTime<Utc>>,
}

impl RawPage {
    /// The address relative links resolve against (before `<base>`).
    pub fn address(&self) -> Option<&Url> {
        self.final_url.as_ref().or(self.url.as_ref())
    }
}

/// What extraction made of a page.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Article(Box<Article>),
    NotArticle(NotArticle),
}

/// A page that is deliberately not turned into an article.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NotArticle {
    pub kind: NotArticleKind,
    /// Why, in words a user can act on.
    pub reason: String,
    pub url: Option<String>,
    pub title: Option<String>,
    /// Spam found on the page (a spam page is evidence the site is compromised).
    pub spam: Vec<SpamRemoval>,
    pub encoding: EncodingInfo,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum NotArticleKind {
    /// A column / index page: many links, little prose.
    ListPage,
    /// The page is itself gambling / casino promotion.
    SpamPage,
    /// An anti-bot challenge or access-denied wall.
    Challenge,
    /// An error page (404 text served with 200, 系统维护 ...).
    ErrorPage,
    /// No body text could be found.
    Empty,
}

/// Extraction failed outright (the input is unusable, not merely "not an article").
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExtractError {
    #[error("the input is empty (0 bytes)")]
    EmptyInput,
    #[error("the input looks binary, not HTML ({0})")]
    Binary(String),
    #[error("the input is {size} bytes, over the {limit}-byte limit")]
    TooLarge { size: usize, limit: usize },
}

/// Settings of one extraction run, shared by all pages.
#[derive(Debug, Clone)]
pub struct ExtractOptions {
    /// Timezone for dates that carry none (+08:00 by default).
    pub timezone: FixedOffset,
    /// Pages over this size are refused rather than risking a stall.
    pub max_bytes: usize,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions {
            timezone: FixedOffset::east_opt(8 * 3600).expect("valid offset"),
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The extraction pipeline with its compiled rules; cheap to clone and share.
#[derive(Debug, Clone)]
pub struct Extractor {
    rules: Arc<Rules>,
    options: ExtractOptions,
}

impl Extractor {
    pub fn new(rules: Arc<Rules>, options: ExtractOptions) -> Self {
        Extractor { rules, options }
    }

    /// An extractor with the built-in rules and default options.
    pub fn builtin() -> Result<Self, RulesError> {
        Ok(Self::new(
            Arc::new(Rules::builtin()?),
            ExtractOptions::default(),
        ))
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    pub fn options(&self) -> &ExtractOptions {
        &self.options
    }

    /// Runs the whole cascade on one page.
    pub fn process(&self, page: &RawPage) -> Result<Outcome, ExtractError> {
        check_input(&page.bytes, self.options.max_bytes)?;
        let decoded = decode::decode(&page.bytes, page.content_type.as_deref());
        Ok(self.process_decoded(page, &decoded))
    }

    /// Runs the cascade on text that is already decoded.
    pub fn process_decoded(&self, page: &RawPage, decoded: &Decoded) -> Outcome {
        let rules = &*self.rules;
        let mut doc = scraper::Html::parse_document(&decoded.text);
        let base = meta::base_url(&doc, page.address());
        let encoding = decoded.info();

        let spam_report = spam::remove_spam(&mut doc, &decoded.text, base.as_ref(), &rules.spam);
        let spam = spam_report.removals.clone();
        let mut page_meta = meta::read(&doc, base.as_ref(), &rules.meta, &self.options);
        clean::clean(&mut doc, &rules.clean);
        let body = content::extract_body(&doc, base.as_ref(), &rules.content);

        let not_article = |kind: NotArticleKind, reason: String, title: Option<String>| {
            Outcome::NotArticle(NotArticle {
                kind,
                reason,
                url: page.url.as_ref().map(|u| u.to_string()),
                title,
                spam: spam.clone(),
                encoding: encoding.clone(),
            })
        };
        if spam::is_spam_page(&spam_report, &page_meta, &rules.spam) {
            return not_article(
                NotArticleKind::SpamPage,
                "the page itself is gambling / lottery promotion (the site is probably compromised)"
                    .into(),
                None,
            );
        }
        let mut body = match body {
            content::BodyOutcome::Body(body) => body,
            content::BodyOutcome::NotArticle { kind, reason } => {
                return not_article(kind, reason, page_meta.title.clone())
            }
        };
        meta::complete(&mut page_meta, &mut body, &rules.meta);
        let text = body.text();
        if text.trim().is_empty() {
            return not_article(
                NotArticleKind::Empty,
                "no article text found on the page".into(),
                page_meta.title.clone(),
            );
        }

        let content_sha256 = hex_sha256(text.as_bytes());
        let m = page_meta;
        Outcome::Article(Box::new(Article {
            schema_version: crate::SCHEMA_VERSION,
            url: page.url.as_ref().map(|u| u.to_string()),
            final_url: page.final_url.as_ref().map(|u| u.to_string()),
            canonical_url: m.canonical_url,
            title: m.title,
            published_at: m.published.as_ref().map(|p| p.value.clone()),
            published_precision: m.published.as_ref().map(|p| p.precision.to_string()),
            published_from: m.published.as_ref().map(|p| p.from.clone()),
            source: m.source,
            author: m.author,
            editor: m.editor,
            site_name: m.site_name,
            site_id_code: m.site_id_code,
            column: m.column,
            keywords: m.keywords,
            description: m.description,
            language: m.language,
            script: m.script,
            text,
            images: body.images,
            attachments: body.attachments,
            spam,
            encoding,
            fetched_at: page.fetched_at.map(|t| t.to_rfc3339()),
            http: page.http.clone(),
            content_sha256,
            extractor_version: EXTRACTOR_VERSION.to_string(),
            other_urls: Vec::new(),
        }))
    }
}

/// Refuses inputs that cannot be a web page before spending time on them.
fn check_input(bytes: &[u8], max_bytes: usize) -> Result<(), ExtractError> {
    if bytes.is_empty() {
        return Err(ExtractError::EmptyInput);
    }
    if bytes.len() > max_bytes {
        return Err(ExtractError::TooLarge {
            size: bytes.len(),
            limit: max_bytes,
        });
    }
    if let Some(kind) = decode::binary_signature(bytes) {
        return Err(ExtractError::Binary(kind.to_string()));
    }
    Ok(())
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}
