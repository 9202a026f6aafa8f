//! Extraction: from the bytes of one page to an [`Article`] or an explicit [`NotArticle`].
//!
//! The cascade, in order (each step is its own module):
//! 1. [`crate::decode`]: bytes → text, with the encoding and where it came from.
//! 2. [`parse`] once into a DOM (html5ever's tree builder into a `scraper` tree; tolerant
//!    of any malformed HTML), fed by gazette's own byte-run tokenizer, with html5ever's
//!    tokenizer where it gives up.
//! 3. [`spam`]: find and detach injected gambling spam, reporting each removal.
//! 4. [`meta::read`]: metadata from meta tags, JSON-LD, visible info lines, footer and
//!    breadcrumb, read *before* cleaning because cleaning removes those regions.
//! 5. [`clean`]: detach navigation, widgets, related links, footers, hidden blocks.
//! 6. [`content`]: score the remaining blocks and take the article body.
//! 7. [`meta::complete`]: fill fields from the body (bylines) and drop metadata lines
//!    from the body text.
//! 8. a gate: pages that are not articles (list pages, challenge walls, spam pages,
//!    empty pages) become [`NotArticle`], never an empty or junk article.

pub(crate) mod chars;
pub mod clean;
pub mod content;
pub mod meta;
pub(crate) mod nodes;
pub mod parse;
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
    #[error("the input nests elements about {depth} levels deep (limit {limit}); no real page does, and parsing it would stall")]
    TooDeep { depth: usize, limit: usize },
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
        let status = page.http.as_ref().map_or(200, |h| h.status);
        if let Some(wall) = self.rules.walls.detect(status, &page.bytes) {
            return Ok(Outcome::NotArticle(NotArticle {
                kind: NotArticleKind::Challenge,
                reason: format!(
                    "an anti-bot challenge page ({}): {}",
                    wall.kind, wall.detail
                ),
                url: page.url.as_ref().map(|u| u.to_string()),
                title: None,
                spam: Vec::new(),
                encoding: EncodingInfo::default(),
            }));
        }
        let decoded = decode::decode(&page.bytes, page.content_type.as_deref());
        Ok(self.process_decoded(page, &decoded))
    }

    /// Runs the cascade on text that is already decoded.
    pub fn process_decoded(&self, page: &RawPage, decoded: &Decoded) -> Outcome {
        let rules = &*self.rules;
        let mut doc = parse::parse_document(&decoded.text);
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
pub fn check_input(bytes: &[u8], max_bytes: usize) -> Result<(), ExtractError> {
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
    let depth = nesting_estimate(bytes, MAX_NESTING + 1);
    if depth > MAX_NESTING {
        return Err(ExtractError::TooDeep {
            depth,
            limit: MAX_NESTING,
        });
    }
    Ok(())
}

/// Pages nested deeper than this are refused: the HTML tree builder's scope checks grow
/// with depth squared, so 100 000 nested `<div>`s take minutes (a cheap denial of service).
/// Real pages, even with many unclosed `<font>` tags, stay far below.
pub const MAX_NESTING: usize = 2000;

/// What a tag name means for the nesting depth.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum TagKind {
    /// Holds children: opening adds a level, closing removes one.
    Nesting,
    /// Never holds children or is closed implicitly by the parser (`br`, `p`, `li`,
    /// `td`, ...): no level either way.
    Flat,
    /// Its content is raw text up to the closing tag, skipped whole.
    Script,
    Style,
}

/// The longest name [`tag_kind`] tells apart (`colgroup`, `!doctype`); any longer name
/// nests.
const LONGEST_KNOWN_TAG: usize = 8;

/// The kind of a lower-cased tag name of at most [`LONGEST_KNOWN_TAG`] bytes. A `match`
/// on the bytes compiles to a few comparisons, where a list lookup compared the name
/// with every entry.
fn tag_kind(name: &[u8]) -> TagKind {
    match name {
        b"area" | b"base" | b"br" | b"col" | b"colgroup" | b"dd" | b"dt" | b"embed" | b"hr"
        | b"html" | b"head" | b"body" | b"img" | b"input" | b"li" | b"link" | b"meta"
        | b"option" | b"p" | b"param" | b"rp" | b"rt" | b"source" | b"tbody" | b"td" | b"tfoot"
        | b"th" | b"thead" | b"tr" | b"track" | b"wbr" | b"!doctype" => TagKind::Flat,
        b"script" => TagKind::Script,
        b"style" => TagKind::Style,
        _ => TagKind::Nesting,
    }
}

/// Bytes that continue a tag name for [`nesting_estimate`].
fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'!'
}

/// Where `pat` (starting with `<` or `-`, no letters but ASCII-case-insensitively)
/// next occurs at or after `from`; only positions of its first byte are compared.
fn find_ignore_case(bytes: &[u8], from: usize, pat: &[u8]) -> Option<usize> {
    let mut at = from.min(bytes.len());
    while let Some(offset) = memchr::memchr(pat[0], &bytes[at..]) {
        let found = at + offset;
        if bytes
            .get(found..found + pat.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(pat))
        {
            return Some(found);
        }
        at = found + 1;
    }
    None
}

/// A byte-level estimate of the deepest element nesting, stopping early at `stop_at`.
/// Counts open minus close tags, skipping comments, scripts and styles; works on any
/// ASCII-compatible encoding without decoding.
///
/// One pass: `memchr` jumps from tag to tag, and only the first
/// [`LONGEST_KNOWN_TAG`]` + 1` bytes of a name are read (a longer name nests).
fn nesting_estimate(bytes: &[u8], stop_at: usize) -> usize {
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = memchr::memchr(b'<', &bytes[i..]) {
        i += offset + 1;
        let rest = &bytes[i..];
        if rest.starts_with(b"!--") {
            i = find_ignore_case(bytes, i + 3, b"-->").map_or(bytes.len(), |end| end + 3);
            continue;
        }
        let closing = rest.first() == Some(&b'/');
        let name_start = i + usize::from(closing);
        // The name lower-cased, up to one byte past the longest known name.
        let mut lowered = [0u8; LONGEST_KNOWN_TAG + 1];
        let mut name_len = 0;
        for &b in bytes[name_start..].iter().take(lowered.len()) {
            if !is_name_byte(b) {
                break;
            }
            lowered[name_len] = b.to_ascii_lowercase();
            name_len += 1;
        }
        if name_len == 0 {
            continue;
        }
        let kind = if name_len <= LONGEST_KNOWN_TAG {
            tag_kind(&lowered[..name_len])
        } else {
            TagKind::Nesting
        };
        let tag_end = memchr::memchr(b'>', &bytes[name_start + name_len..])
            .map_or(bytes.len(), |p| name_start + name_len + p);
        let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
        i = tag_end;
        match kind {
            TagKind::Flat => {}
            _ if closing => depth = depth.saturating_sub(1),
            TagKind::Script => i = find_ignore_case(bytes, i, b"</script").unwrap_or(bytes.len()),
            TagKind::Style => i = find_ignore_case(bytes, i, b"</style").unwrap_or(bytes.len()),
            TagKind::Nesting if !self_closing => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest >= stop_at {
                    break;
                }
            }
            TagKind::Nesting => {}
        }
    }
    deepest
}

/// Lower-case hex SHA-256.
pub fn hex_sha256(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // The first version of `nesting_estimate`, kept to check the single pass against.

    /// Elements that never hold children or that the parser closes implicitly, so they do
    /// not add to the nesting depth.
    const REFERENCE_NON_NESTING: &[&[u8]] = &[
        b"area",
        b"base",
        b"br",
        b"col",
        b"colgroup",
        b"dd",
        b"dt",
        b"embed",
        b"hr",
        b"html",
        b"head",
        b"body",
        b"img",
        b"input",
        b"li",
        b"link",
        b"meta",
        b"option",
        b"p",
        b"param",
        b"rp",
        b"rt",
        b"source",
        b"tbody",
        b"td",
        b"tfoot",
        b"th",
        b"thead",
        b"tr",
        b"track",
        b"wbr",
        b"!doctype",
    ];

    /// A byte-level estimate of the deepest element nesting, stopping early at `stop_at`.
    /// Counts open minus close tags, skipping comments, scripts and styles; works on any
    /// ASCII-compatible encoding without decoding.
    fn reference_nesting_estimate(bytes: &[u8], stop_at: usize) -> usize {
        let lower_starts = |at: usize, pat: &[u8]| {
            bytes.len() >= at + pat.len() && bytes[at..at + pat.len()].eq_ignore_ascii_case(pat)
        };
        // `pat` starts with `<` or `-`; only positions of that byte are compared.
        let find_from = |from: usize, pat: &[u8]| {
            let mut at = from.min(bytes.len());
            while let Some(offset) = memchr::memchr(pat[0], &bytes[at..]) {
                if lower_starts(at + offset, pat) {
                    return Some(at + offset);
                }
                at += offset + 1;
            }
            None
        };
        let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
        while let Some(offset) = memchr::memchr(b'<', &bytes[i..]) {
            i += offset + 1;
            if lower_starts(i, b"!--") {
                i = find_from(i + 3, b"-->").map_or(bytes.len(), |end| end + 3);
                continue;
            }
            let closing = bytes.get(i) == Some(&b'/');
            let name_start = if closing { i + 1 } else { i };
            let name_len = bytes[name_start..]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'!')
                .count();
            if name_len == 0 {
                continue;
            }
            // Lower-cased into a small buffer: tag names that matter here are short.
            let mut lowered = [0u8; 10];
            let name: &[u8] = if name_len <= lowered.len() {
                for (to, from) in lowered.iter_mut().zip(&bytes[name_start..]) {
                    *to = from.to_ascii_lowercase();
                }
                &lowered[..name_len]
            } else {
                &bytes[name_start..name_start + name_len]
            };
            let tag_end =
                memchr::memchr(b'>', &bytes[name_start..]).map_or(bytes.len(), |p| name_start + p);
            let self_closing = tag_end > 0 && bytes.get(tag_end - 1) == Some(&b'/');
            i = tag_end.min(bytes.len());
            if REFERENCE_NON_NESTING.contains(&name) {
                continue;
            }
            if closing {
                depth = depth.saturating_sub(1);
            } else if name == b"script" || name == b"style" {
                let close: &[u8] = if name == b"script" {
                    b"</script"
                } else {
                    b"</style"
                };
                i = find_from(i, close).unwrap_or(bytes.len());
            } else if !self_closing {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest >= stop_at {
                    break;
                }
            }
        }
        deepest
    }

    /// A few thousand random pages of tag soup: the single pass equals the reference.
    #[test]
    fn nesting_estimate_equals_the_reference() {
        const PIECES: &[&str] = &[
            "<div>",
            "</div>",
            "<DIV class=a>",
            "<p>",
            "</P>",
            "<br/>",
            "<span/>",
            "<!--",
            "-->",
            "<script>",
            "</SCRIPT>",
            "<style>",
            "</style >",
            "<ul>",
            "</ul>",
            "<li>",
            "<colgroup>",
            "<colgroupx>",
            "<abcdefghij>",
            "<abcdefghijk>",
            "</abcdefghijkl>",
            "<!doctype html>",
            "<!DOCTYPE>",
            "<",
            ">",
            "/",
            "/>",
            "<<",
            "x",
            " ",
            "<a href=x>",
            "</a>",
            "<table>",
            "<td>",
            "<font>",
            "</font>",
            "<1>",
            "<!x>",
            "é",
            "<-->",
        ];
        let mut rng = fastrand::Rng::with_seed(6);
        for _ in 0..5000 {
            let n = rng.usize(0..60);
            let page: String = (0..n).map(|_| PIECES[rng.usize(..PIECES.len())]).collect();
            for stop in [usize::MAX, 3] {
                assert_eq!(
                    nesting_estimate(page.as_bytes(), stop),
                    reference_nesting_estimate(page.as_bytes(), stop),
                    "{page:?}"
                );
            }
        }
    }

    #[test]
    fn nesting_estimate_counts_containers_only() {
        let page = b"<html><head><script>if (a<b) {}</script></head><body><div><p>x<p>y<br><img src=a /><div><span>z</span></div></div><!-- <div><div> --></body></html>";
        assert_eq!(nesting_estimate(page, usize::MAX), 3);
        let deep = "<div>".repeat(10_000);
        assert_eq!(nesting_estimate(deep.as_bytes(), 5000), 5000);
    }

    #[test]
    fn real_pages_stay_far_below_the_nesting_limit() {
        let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let dirs = ["corpus/gov/pages", "corpus/zh-news/pages", "eval/aeb/pages"];
        let mut deepest = (0, String::new());
        for dir in dirs.iter().map(|d| shared.join(d)) {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                eprintln!("skipping: {} is absent", dir.display());
                continue;
            };
            for path in entries.flatten().map(|e| e.path()) {
                if path.extension().is_some_and(|e| e == "html") {
                    let bytes = std::fs::read(&path).unwrap();
                    let depth = nesting_estimate(&bytes, usize::MAX);
                    assert_eq!(depth, reference_nesting_estimate(&bytes, usize::MAX));
                    if depth > deepest.0 {
                        deepest = (depth, path.display().to_string());
                    }
                }
            }
        }
        eprintln!("deepest real page: {deepest:?}");
        assert!(deepest.0 < MAX_NESTING / 4, "{deepest:?}");
    }
}
