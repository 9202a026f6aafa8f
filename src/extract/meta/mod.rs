//! Article metadata: title, date, source, author, editor, site, column, ...
//!
//! Two entry points:
//! - [`read`] runs on the whole DOM after spam removal and *before* cleaning (cleaning
//!   removes the info line, breadcrumb and footer that carry most metadata). It scans the
//!   page once ([`dom::scan`], iterative) and picks each field by a documented fallback
//!   order: see [`title`], [`date`], [`people`] and [`site`], and docs/metadata.md.
//! - [`complete`] runs once the body is known: it fills author/source/editor from bylines
//!   in the body, removes metadata lines (来源：… 发布时间：… 【字号 大中小】, standalone
//!   bylines, a repeated headline) from the body, and sets language and script.
//!
//! All label words, date formats and name heuristics are data (`config/rules/meta.toml`).

pub mod date;
pub mod dom;
pub mod people;
pub mod rules;
pub mod script;
pub mod site;
pub mod title;

use scraper::Html;
use url::Url;

use crate::extract::content::Body;
use crate::extract::ExtractOptions;

pub use rules::MetaRules;

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
    // The first `base[href]` in arena order, as `Html::select` finds it (which skips
    // nodes without a parent), without parsing and matching a selector on every node.
    let href = doc.tree.nodes().find_map(|node| {
        let el = node.value().as_element()?;
        if el.name() != "base" || node.parent().is_none() {
            return None;
        }
        el.attr("href")
    });
    match (page, href) {
        (Some(page), Some(href)) => page.join(href.trim()).ok().or_else(|| Some(page.clone())),
        (None, Some(href)) => Url::parse(href.trim()).ok(),
        (Some(page), None) => Some(page.clone()),
        (None, None) => None,
    }
}

/// Reads every field the uncleaned page offers.
pub fn read(
    doc: &Html,
    base: Option<&Url>,
    rules: &MetaRules,
    options: &ExtractOptions,
) -> PageMeta {
    let scan = dom::scan(doc, rules);
    read_scan(&scan, base, rules, options)
}

/// [`read`] on an existing scan (tests and tools).
pub fn read_scan(
    scan: &dom::Scan,
    base: Option<&Url>,
    rules: &MetaRules,
    options: &ExtractOptions,
) -> PageMeta {
    let site_name = site::site_name(scan, rules);
    let meta_column = scan
        .meta(&rules.meta_column)
        .map(|(_, v)| dom::collapse_ws(v));
    let headline = title::choose(scan, site_name.as_deref(), meta_column.as_deref(), rules);
    let page_url = base.map(|u| u.as_str().to_string());
    // The line of the visible date, when the date is one (an outlet may stand next to it).
    let (published, date_line) = date::choose_with_line(
        scan,
        headline.line,
        page_url.as_deref(),
        rules,
        options.timezone,
    );
    let people = people::read(scan, headline.line, site_name.as_deref(), date_line, rules);
    let column = site::column(scan, headline.text.as_deref(), rules);
    PageMeta {
        canonical_url: site::canonical(scan, base),
        title: headline.text,
        published,
        source: people.source,
        author: people.author,
        editor: people.editor,
        site_name,
        site_id_code: site::site_id(scan, rules),
        column,
        keywords: site::keywords(scan, rules),
        description: site::description(scan, rules),
        language: None,
        script: None,
    }
}

/// How many blocks at each end of the body are checked for metadata lines.
const HEAD_BLOCKS: usize = 6;
const TAIL_BLOCKS: usize = 8;

/// Completes `meta` from the body and removes metadata lines from the body text.
pub fn complete(meta: &mut PageMeta, body: &mut Body, rules: &MetaRules) {
    let n = body.blocks.len();
    let title_key = meta.title.as_deref().map(title::key);
    let mut remove = vec![false; n];
    for (i, removed) in remove.iter_mut().enumerate() {
        let at_head = i < HEAD_BLOCKS;
        let at_tail = i + TAIL_BLOCKS >= n;
        if !at_head && !at_tail {
            continue;
        }
        let text = body.blocks[i].text.trim();
        if text.is_empty() {
            continue;
        }
        if i < 3 && title_key.as_ref().is_some_and(|t| &title::key(text) == t) {
            *removed = true;
            continue;
        }
        if is_widget_line(text, rules) || starts_with_furniture_label(text, rules) {
            *removed = true;
            continue;
        }
        // The info box copied into the body: `2018年09月16日 15:31 中時`, or the author's
        // or outlet's name alone on a line.
        if at_head && is_date_info_line(text, rules) {
            *removed = true;
            continue;
        }
        let known = [&meta.author, &meta.source];
        if known.iter().any(|k| {
            k.as_deref()
                .is_some_and(|k| title::key(k) == title::key(text))
        }) {
            *removed = true;
            continue;
        }
        let info = people::read_line(text, rules);
        let standalone_byline = text.chars().count() <= 40 && people::byline(text, rules).is_some();
        if info.only_meta || standalone_byline {
            *removed = true;
            if meta.source.is_none() {
                meta.source = info.source.clone().or(info.outlet.clone());
            }
            if meta.author.is_none() {
                meta.author = info.author.clone();
            }
            if meta.editor.is_none() {
                meta.editor = info.editor.clone();
            }
        }
    }
    // Bylines inside kept paragraphs: a dateline near the top, a credit at the end.
    if meta.author.is_none() {
        let kept: Vec<usize> = (0..n).filter(|&i| !remove[i]).collect();
        for &i in kept.iter().take(3) {
            if let Some(names) = people::dateline_author(&body.blocks[i].text, rules) {
                meta.author = people::join_names(&names);
                break;
            }
        }
        if meta.author.is_none() {
            for &i in kept.iter().rev().take(2) {
                if let Some(names) = people::trailing_author(&body.blocks[i].text, rules) {
                    meta.author = people::join_names(&names);
                    break;
                }
            }
        }
    }
    let mut idx = 0;
    body.blocks.retain(|_| {
        let keep = !remove[idx];
        idx += 1;
        keep
    });
    let mut sample = meta.title.clone().unwrap_or_default();
    for b in body.blocks.iter().take(200) {
        sample.push('\n');
        sample.push_str(&b.text);
    }
    let (language, script) = script::detect(&sample, rules);
    meta.language = language;
    meta.script = script;
}

/// `2018年09月16日 15:31 中時`: a date with a time and at most a short outlet name.
fn is_date_info_line(text: &str, rules: &MetaRules) -> bool {
    if text.chars().count() > 40 {
        return false;
    }
    let found = date::find_dates(text, rules);
    let Some(first) = found.first() else {
        return false;
    };
    // A bare date line in the body is usually the document's own date (kept).
    if !text[..first.start].trim().is_empty() || first.value.time.is_none() {
        return false;
    }
    let rest: String = text[first.end..]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    rest.chars().count() <= 12 && !rest.contains(['。', '，', '！', '？', '；'])
}

/// `关键字： LPR`, `标签：…`: labelled page furniture.
fn starts_with_furniture_label(text: &str, rules: &MetaRules) -> bool {
    let t = text.trim_start_matches(['【', '[', '(', '（', ' ']);
    rules.furniture_labels.iter().any(|l| {
        t.strip_prefix(l.as_str())
            .is_some_and(|rest| rest.trim_start().starts_with([':', '：']))
    }) && text.chars().count() <= 80
}

/// A line of page furniture only (`【字号 大 中 小】【打印】【关闭】`).
fn is_widget_line(text: &str, rules: &MetaRules) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '【' | '】'
                        | '['
                        | ']'
                        | '|'
                        | '｜'
                        | '丨'
                        | '/'
                        | '：'
                        | ':'
                        | '('
                        | ')'
                        | '（'
                        | '）'
                        | '·'
                        | '>'
                )
        })
        .filter(|w| !w.is_empty())
        .collect();
    !words.is_empty() && words.iter().all(|w| rules.widget_line_words.contains(*w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_finds_what_the_selector_finds() {
        let page = Url::parse("http://example.gov.cn/a/b.html").ok();
        for html in [
            "<html><head><base target='_blank'><base href='/x/'><base href='/y/'></head></html>",
            "<html><head></head><body><svg><base href='/svg/'></base></svg></body></html>",
            "<html><head><BASE HREF=' http://other.cn/ '></head></html>",
            "<html><head><title>t</title></head><body>no base</body></html>",
        ] {
            let doc = Html::parse_document(html);
            let selector = scraper::Selector::parse("base[href]").expect("static selector");
            let expected = doc
                .select(&selector)
                .next()
                .and_then(|e| e.value().attr("href"));
            let expected = match expected {
                Some(href) => page.as_ref().and_then(|p| p.join(href.trim()).ok()),
                None => page.clone(),
            };
            assert_eq!(base_url(&doc, page.as_ref()), expected, "{html}");
        }
    }

    #[test]
    fn script_table_agrees_with_the_sets() {
        let rules = MetaRules::default();
        for c in rules.simplified_only.iter().chain(&rules.traditional_only) {
            let expected = if rules.simplified_only.contains(c) {
                rules::ScriptChars::SIMPLIFIED
            } else {
                rules::ScriptChars::TRADITIONAL
            };
            assert_eq!(rules.script_chars.of(*c), expected, "{c}");
        }
        assert_eq!(rules.script_chars.of('a'), 0);
        assert_eq!(rules.script_chars.of('的'), 0);
    }
}
