//! Injected gambling spam: detection, removal and a report of each removal.
//!
//! Hacked government sites carry lottery / casino promotion that is meant for search
//! engines, not readers: hidden blocks of links, text after `</html>`, `document.write`
//! calls, scrolling `<marquee>`s, clusters of links to foreign domains, a simplified-script
//! line on a traditional-script page. Words alone decide only for short visible blocks
//! dominated by strong promotion terms; everything else needs a structural signal, so a
//! news article about 福利彩票 policy is never touched.
//!
//! The lexicon and the script table are data (`config/rules/spam.toml`), compiled once.

use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{Html, Node, StrTendril};
use serde::Deserialize;
use url::Url;

use crate::article::SpamRemoval;
use crate::extract::clean::{
    compact_text, hidden_reason, hidden_style, is_blank, is_invisible_tag, measure_text, DomStats,
    TextCache,
};
use crate::extract::meta::PageMeta;
use crate::rules::{RuleSource, RulesError};

/// Longest text kept in a [`SpamRemoval`].
const REPORT_MAX_CHARS: usize = 300;

/// Compiled `config/rules/spam.toml`.
#[derive(Debug)]
pub struct SpamRules {
    settings: Settings,
    /// Every term of every tier; `tiers[pattern index]` says which.
    matcher: Option<AhoCorasick>,
    tiers: Vec<Tier>,
    words: Vec<String>,
    context: Option<AhoCorasick>,
    simplified_only: HashSet<char>,
    traditional_only: HashSet<char>,
    hidden_classes: HashSet<String>,
    href: Regex,
    markup: Regex,
    write_call: Regex,
    from_char_code: Regex,
}

impl Default for SpamRules {
    fn default() -> Self {
        SpamRules::compile(&[]).expect("empty spam rules compile")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tier {
    Strong,
    Weak,
    Neutral,
}

#[derive(Debug, Clone)]
struct Settings {
    short_block_max_chars: usize,
    short_block_tiny_chars: usize,
    short_block_min_term_share: f64,
    script_page_min_share: f64,
    script_page_min_chars: usize,
    script_line_max_chars: usize,
    cluster_min_links: usize,
    cluster_min_term_links: usize,
    spam_page_min_score: u32,
    spam_page_title_points: u32,
    spam_page_meta_points: u32,
    spam_page_heading_points: u32,
    spam_page_body_points: u32,
    spam_page_removal_points: u32,
    spam_page_min_removals: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            short_block_max_chars: 120,
            short_block_tiny_chars: 30,
            short_block_min_term_share: 0.3,
            script_page_min_share: 0.9,
            script_page_min_chars: 40,
            script_line_max_chars: 60,
            cluster_min_links: 3,
            cluster_min_term_links: 2,
            spam_page_min_score: 4,
            spam_page_title_points: 2,
            spam_page_meta_points: 1,
            spam_page_heading_points: 2,
            spam_page_body_points: 2,
            spam_page_removal_points: 1,
            spam_page_min_removals: 3,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    terms: Vec<RawTerms>,
    #[serde(default)]
    context: RawWords,
    #[serde(default)]
    script: RawScript,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    short_block_max_chars: Option<usize>,
    short_block_tiny_chars: Option<usize>,
    short_block_min_term_share: Option<f64>,
    script_page_min_share: Option<f64>,
    script_page_min_chars: Option<usize>,
    script_line_max_chars: Option<usize>,
    cluster_min_links: Option<usize>,
    cluster_min_term_links: Option<usize>,
    spam_page_min_score: Option<u32>,
    spam_page_title_points: Option<u32>,
    spam_page_meta_points: Option<u32>,
    spam_page_heading_points: Option<u32>,
    spam_page_body_points: Option<u32>,
    spam_page_removal_points: Option<u32>,
    spam_page_min_removals: Option<u32>,
    hidden_classes: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTerms {
    name: String,
    tier: String,
    words: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWords {
    #[serde(default)]
    words: Vec<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScript {
    #[serde(default)]
    pairs: String,
}

fn invalid(file: &str, message: String) -> RulesError {
    RulesError::Invalid {
        file: file.to_string(),
        message,
    }
}

fn static_regex(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex compiles")
}

impl SpamRules {
    pub fn compile(sources: &[RuleSource]) -> Result<Self, RulesError> {
        let mut settings = Settings::default();
        let mut words: Vec<String> = Vec::new();
        let mut tiers: Vec<Tier> = Vec::new();
        let mut context: Vec<String> = Vec::new();
        let mut simplified_only = HashSet::new();
        let mut traditional_only = HashSet::new();
        let mut hidden_classes = HashSet::new();
        for source in sources {
            let file = source.name.as_str();
            let raw: RawFile =
                toml::from_str(&source.text).map_err(|e| invalid(file, e.to_string()))?;
            let r = raw.settings;
            macro_rules! set {
                ($($field:ident),*) => {$(
                    if let Some(v) = r.$field { settings.$field = v; }
                )*};
            }
            set!(
                short_block_max_chars,
                short_block_tiny_chars,
                short_block_min_term_share,
                script_page_min_share,
                script_page_min_chars,
                script_line_max_chars,
                cluster_min_links,
                cluster_min_term_links,
                spam_page_min_score,
                spam_page_title_points,
                spam_page_meta_points,
                spam_page_heading_points,
                spam_page_body_points,
                spam_page_removal_points,
                spam_page_min_removals
            );
            if let Some(classes) = r.hidden_classes {
                hidden_classes.extend(classes.iter().map(|c| c.to_ascii_lowercase()));
            }
            for group in raw.terms {
                let tier = match group.tier.as_str() {
                    "strong" => Tier::Strong,
                    "weak" => Tier::Weak,
                    "neutral" => Tier::Neutral,
                    other => {
                        return Err(invalid(
                            file,
                            format!(
                                "term group \"{}\": tier \"{other}\" is not one of strong, weak, neutral",
                                group.name
                            ),
                        ))
                    }
                };
                for word in group.words {
                    let word = normalize(&word);
                    if word.is_empty() {
                        return Err(invalid(
                            file,
                            format!("term group \"{}\": empty word", group.name),
                        ));
                    }
                    // A later file may re-tier a word: the last definition wins.
                    if let Some(i) = words.iter().position(|w| *w == word) {
                        tiers[i] = tier;
                    } else {
                        words.push(word);
                        tiers.push(tier);
                    }
                }
            }
            context.extend(
                raw.context
                    .words
                    .iter()
                    .map(|w| normalize(w))
                    .filter(|w| !w.is_empty()),
            );
            for (n, pair) in raw.script.pairs.split_whitespace().enumerate() {
                let mut chars = pair.chars();
                match (chars.next(), chars.next(), chars.next()) {
                    (Some(s), Some(t), None) if s != t => {
                        simplified_only.insert(s);
                        traditional_only.insert(t);
                    }
                    _ => {
                        return Err(invalid(
                            file,
                            format!(
                            "[script] pairs: entry {} \"{pair}\" is not two different characters",
                            n + 1
                        ),
                        ))
                    }
                }
            }
        }
        let ambiguous: Vec<char> = simplified_only
            .intersection(&traditional_only)
            .copied()
            .collect();
        for c in ambiguous {
            simplified_only.remove(&c);
            traditional_only.remove(&c);
        }
        let build = |words: &[String]| -> Result<Option<AhoCorasick>, RulesError> {
            if words.is_empty() {
                return Ok(None);
            }
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::LeftmostLongest)
                .ascii_case_insensitive(true)
                .build(words)
                .map(Some)
                .map_err(|e| invalid("spam.toml", format!("cannot build the term matcher: {e}")))
        };
        Ok(SpamRules {
            matcher: build(&words)?,
            context: build(&context)?,
            settings,
            tiers,
            words,
            simplified_only,
            traditional_only,
            hidden_classes,
            href: static_regex(r#"(?i)href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#),
            markup: static_regex(
                r"(?is)<script\b.*?(?:</script\s*>|$)|<style\b.*?(?:</style\s*>|$)|<!--.*?(?:-->|$)|<[^>]*>?",
            ),
            write_call: static_regex(r"document\s*\.\s*write(?:ln)?\s*\("),
            from_char_code: static_regex(r"String\s*\.\s*fromCharCode\s*\(([\d\s,]+)\)"),
        })
    }

    /// Which terms occur in already [`normalize`]d text.
    fn hits(&self, text: &str) -> Hits {
        let mut hits = Hits {
            chars: text.chars().count(),
            ..Hits::default()
        };
        if let Some(m) = &self.matcher {
            for found in m.find_iter(text) {
                let i = found.pattern().as_usize();
                let word = &self.words[i];
                match self.tiers[i] {
                    Tier::Strong => {
                        hits.strong += 1;
                        hits.term_chars += word.chars().count();
                        hits.strong_chars += word.chars().count();
                        if !hits.strong_terms.contains(word) {
                            hits.strong_terms.push(word.clone());
                        }
                    }
                    Tier::Weak => {
                        hits.weak += 1;
                        hits.term_chars += word.chars().count();
                        if !hits.weak_terms.contains(word) {
                            hits.weak_terms.push(word.clone());
                        }
                    }
                    Tier::Neutral => {}
                }
            }
        }
        hits.context = self.context.as_ref().is_some_and(|c| c.is_match(text));
        hits
    }

    /// (simplified-only, traditional-only) characters in `text`.
    fn script_counts(&self, text: &str) -> (usize, usize) {
        let mut simplified = 0;
        let mut traditional = 0;
        for c in text.chars() {
            if self.simplified_only.contains(&c) {
                simplified += 1;
            } else if self.traditional_only.contains(&c) {
                traditional += 1;
            }
        }
        (simplified, traditional)
    }
}

/// Term hits in one text.
#[derive(Debug, Clone, Default)]
struct Hits {
    chars: usize,
    strong: usize,
    weak: usize,
    term_chars: usize,
    strong_chars: usize,
    strong_terms: Vec<String>,
    weak_terms: Vec<String>,
    /// Words of reporting about gambling (打击, 破获 ...).
    context: bool,
}

impl Hits {
    fn any(&self) -> bool {
        self.strong > 0 || self.weak > 0
    }

    fn detail(&self) -> String {
        let mut terms: Vec<&str> = self.strong_terms.iter().map(String::as_str).collect();
        terms.extend(self.weak_terms.iter().map(String::as_str));
        if terms.is_empty() {
            String::new()
        } else {
            format!("terms: {}", terms.join(", "))
        }
    }
}

/// Text as the matcher sees it: no white space, full-width ASCII folded to ASCII.
fn normalize(text: &str) -> String {
    text.chars()
        .filter(|c| !is_blank(*c))
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// The page-level evidence [`is_spam_page`] weighs (title, meta and headings are read
/// before anything is removed, the body text after).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageSignals {
    /// The `<title>` text.
    pub title: Option<String>,
    /// Strong terms in the title (empty when the title reads as reporting).
    pub title_terms: Vec<String>,
    /// Strong terms in meta keywords / description.
    pub meta_terms: Vec<String>,
    /// h1–h3 headings with text, and how many of them carry strong terms.
    pub headings: usize,
    pub spam_headings: usize,
    /// Strong-term and reporting-word occurrences in the text left after removal: a
    /// doorway page keeps its keyword-stuffed prose, a crackdown report has 打击 / 警方.
    pub body_strong: usize,
    pub body_context: usize,
}

/// Everything the spam stage found on a page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpamReport {
    /// Each detached piece of spam, in document order of detection.
    pub removals: Vec<SpamRemoval>,
    pub page: PageSignals,
}

/// Detaches injected spam from `doc` and reports what was removed and why.
/// `source` is the whole decoded page, for signals the parser hides (text after `</html>`).
pub fn remove_spam(
    doc: &mut Html,
    source: &str,
    base: Option<&Url>,
    rules: &SpamRules,
) -> SpamReport {
    let mut page = page_signals(doc, rules);
    let mut scan = Scan::new(doc, base, rules);
    scan.after_html_end(doc, source);
    scan.document_writes(doc);
    scan.blocks(doc);
    scan.apply(doc);
    if let Some(body) = body_of(doc) {
        let text = normalize(&compact_text(body, 300_000));
        page.body_strong = rules.hits(&text).strong;
        page.body_context = rules
            .context
            .as_ref()
            .map_or(0, |c| c.find_iter(&text).count());
    }
    SpamReport {
        removals: scan.removals,
        page,
    }
}

/// True when the page as a whole is spam rather than an article with spam injected.
///
/// Points: a promotional title (2), promotional meta keywords / description (1), two or
/// more promotional headings making up a third of all (2), keyword-stuffed text left
/// after removal with few reporting words (2), three or more removals (1). Four points
/// make a spam page: a hijacked title alone, or one 六合彩 headline, does not.
pub fn is_spam_page(found: &SpamReport, meta: &PageMeta, rules: &SpamRules) -> bool {
    let strong_no_context = |text: &str| {
        let h = rules.hits(&normalize(text));
        h.strong > 0 && !h.context
    };
    let title_spam =
        !found.page.title_terms.is_empty() || meta.title.as_deref().is_some_and(strong_no_context);
    let meta_spam = !found.page.meta_terms.is_empty()
        || meta.description.as_deref().is_some_and(strong_no_context)
        || meta.keywords.iter().any(|k| strong_no_context(k));
    let page = &found.page;
    let points = &rules.settings;
    let mut score = 0;
    if title_spam {
        score += points.spam_page_title_points;
    }
    if meta_spam {
        score += points.spam_page_meta_points;
    }
    // One heading is not enough: a news page's <h1> repeats its title (六合彩 results in
    // Hong Kong news); a parasite page repeats the keyword in many headings.
    if page.spam_headings >= 2 && page.spam_headings * 3 >= page.headings {
        score += points.spam_page_heading_points;
    }
    if page.body_strong >= 6 && page.body_context * 3 < page.body_strong {
        score += points.spam_page_body_points;
    }
    if found.removals.len() >= points.spam_page_min_removals as usize {
        score += points.spam_page_removal_points;
    }
    score >= points.spam_page_min_score
}

fn page_signals(doc: &Html, rules: &SpamRules) -> PageSignals {
    let mut signals = PageSignals::default();
    for node in doc.tree.root().descendants() {
        let Node::Element(el) = node.value() else {
            continue;
        };
        match el.name() {
            "title" if signals.title.is_none() => {
                let text = collapse(&raw_text(node), 500);
                let h = rules.hits(&normalize(&text));
                if h.strong > 0 && !h.context {
                    signals.title_terms = h.strong_terms;
                }
                signals.title = Some(text);
            }
            "meta" => {
                let name = el
                    .attr("name")
                    .or_else(|| el.attr("property"))
                    .unwrap_or_default();
                let name = name.to_ascii_lowercase();
                if matches!(
                    name.as_str(),
                    "keywords" | "description" | "og:title" | "og:description"
                ) {
                    let h = rules.hits(&normalize(el.attr("content").unwrap_or_default()));
                    if h.strong > 0 && !h.context {
                        for t in h.strong_terms {
                            if !signals.meta_terms.contains(&t) {
                                signals.meta_terms.push(t);
                            }
                        }
                    }
                }
            }
            "h1" | "h2" | "h3" => {
                let text = compact_text(node, 400);
                if text.is_empty() {
                    continue;
                }
                signals.headings += 1;
                let h = rules.hits(&normalize(&text));
                if h.strong > 0 && !h.context {
                    signals.spam_headings += 1;
                }
            }
            _ => {}
        }
    }
    signals
}

/// Text of a subtree as it reads (white space runs collapsed), for reports.
fn raw_text(node: NodeRef<Node>) -> String {
    let mut out = String::new();
    let mut invisible = 0usize;
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(el) if is_invisible_tag(el.name()) && el.name() != "title" => {
                    invisible += 1
                }
                Node::Text(t) if invisible == 0 => {
                    out.push_str(t);
                    out.push(' ');
                    if out.len() > 4 * REPORT_MAX_CHARS * 4 {
                        break;
                    }
                }
                _ => {}
            },
            Edge::Close(n) => {
                if let Node::Element(el) = n.value() {
                    if is_invisible_tag(el.name()) && el.name() != "title" {
                        invisible = invisible.saturating_sub(1);
                    }
                }
            }
        }
    }
    out
}

/// White space collapsed, cut to `max` characters.
fn collapse(text: &str, max: usize) -> String {
    let joined = text
        .split(|c: char| is_blank(c))
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if joined.chars().count() <= max {
        joined
    } else {
        let mut cut: String = joined.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The registrable part of a host: `www.a.gov.cn` → `a.gov.cn`, `x.example.com` → `example.com`.
fn site_key(host: &str) -> String {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    let second_level = [
        "com", "net", "org", "gov", "edu", "ac", "co", "or", "ne", "go", "mil", "idv",
    ];
    let keep = match labels.as_slice() {
        [.., sld, tld] if tld.len() == 2 && second_level.contains(sld) => 3,
        _ => 2,
    };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

/// Link statistics of one element's subtree.
#[derive(Debug, Clone, Copy, Default)]
struct LinkStats {
    links: u32,
    foreign: u32,
    /// Links to other sites whose text carries terms.
    foreign_terms: u32,
}

/// A removal decided during the scan, applied at the end.
enum Cut {
    Node(NodeId),
    /// Keep only the first `keep_bytes` of a text node.
    Truncate(NodeId, usize),
}

struct Scan<'r> {
    rules: &'r SpamRules,
    base: Option<Url>,
    base_key: Option<String>,
    removals: Vec<SpamRemoval>,
    cuts: Vec<Cut>,
    cut_ids: HashSet<NodeId>,
    /// Elements hidden by rules in the page's own `<style>` or by a `document.write` wrapper.
    css_hidden_classes: HashSet<String>,
    css_hidden_ids: HashSet<String>,
    hidden_by_write: HashSet<NodeId>,
    /// `Some(true)` for a traditional-script page, `Some(false)` simplified, `None` unsure.
    page_traditional: Option<bool>,
}

/// The `selectors { body }` pairs of a style sheet, the rules inside `@media { }` blocks
/// included: exactly the matches of `([^{}]+)\{([^{}]*)\}`, found without a regex
/// engine (the regex was 4% of extraction time; style sheets are a quarter of the bytes
/// of a government page).
fn css_rules(css: &str) -> impl Iterator<Item = (&str, &str)> {
    let bytes = css.as_bytes();
    let next_brace = move |from: usize| {
        bytes[from..]
            .iter()
            .position(|&b| b == b'{' || b == b'}')
            .map(|p| p + from)
    };
    // Start of the text since the last brace: the selector of the next rule.
    let mut segment = 0;
    std::iter::from_fn(move || loop {
        let open = next_brace(segment)?;
        if bytes[open] == b'}' {
            segment = open + 1;
            continue;
        }
        let selectors = &css[segment..open];
        let body = open + 1;
        match next_brace(body) {
            Some(close) if bytes[close] == b'}' => {
                segment = close + 1;
                if !selectors.is_empty() {
                    return Some((selectors, &css[body..close]));
                }
            }
            // A nested block (`@media … {`): its first rule starts after this brace.
            Some(_) => segment = body,
            None => return None,
        }
    })
}

impl<'r> Scan<'r> {
    fn new(doc: &Html, base: Option<&Url>, rules: &'r SpamRules) -> Self {
        let mut scan = Scan {
            rules,
            base: base.cloned(),
            base_key: base.and_then(|b| b.host_str()).map(site_key),
            removals: Vec::new(),
            cuts: Vec::new(),
            cut_ids: HashSet::new(),
            css_hidden_classes: HashSet::new(),
            css_hidden_ids: HashSet::new(),
            hidden_by_write: HashSet::new(),
            page_traditional: None,
        };
        if scan.base_key.is_none() {
            scan.base_key = dominant_site(doc);
        }
        scan.read_styles(doc);
        scan.page_traditional = scan.page_script(doc);
        scan
    }

    /// Simple `.class {display:none}` / `#id {…}` rules in the page's `<style>` elements.
    fn read_styles(&mut self, doc: &Html) {
        for node in doc.tree.root().descendants() {
            let Node::Element(el) = node.value() else {
                continue;
            };
            if el.name() != "style" {
                continue;
            }
            let css: String = node
                .children()
                .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                .collect();
            for (selectors, body) in css_rules(&css) {
                if hidden_style(body).is_none() {
                    continue;
                }
                for selector in selectors.split(',') {
                    let selector = selector.trim();
                    // Only a lone simple selector: `.x`, `#y`, `div.x`; descendant selectors
                    // would need a selector engine and are rare in injected spam.
                    if selector.contains(|c: char| {
                        c.is_whitespace() || matches!(c, '>' | '+' | '~' | ':' | '[')
                    }) {
                        continue;
                    }
                    if let Some(pos) = selector.find(['.', '#']) {
                        let (kind, name) = selector[pos..].split_at(1);
                        let name = name
                            .split(['.', '#'])
                            .next()
                            .unwrap_or_default()
                            .to_ascii_lowercase();
                        if name.is_empty() {
                            continue;
                        }
                        if kind == "." {
                            self.css_hidden_classes.insert(name);
                        } else {
                            self.css_hidden_ids.insert(name);
                        }
                    }
                }
            }
        }
    }

    fn page_script(&self, doc: &Html) -> Option<bool> {
        let body = body_of(doc)?;
        let text = compact_text(body, 200_000);
        let (simplified, traditional) = self.rules.script_counts(&text);
        let total = simplified + traditional;
        let s = &self.rules.settings;
        if total < s.script_page_min_chars {
            return None;
        }
        if traditional as f64 >= s.script_page_min_share * total as f64 {
            Some(true)
        } else if simplified as f64 >= s.script_page_min_share * total as f64 {
            Some(false)
        } else {
            None
        }
    }

    /// True when a short line is written in the other script than the page.
    fn script_mismatch(&self, text: &str) -> bool {
        let Some(traditional_page) = self.page_traditional else {
            return false;
        };
        if text.chars().count() > self.rules.settings.script_line_max_chars {
            return false;
        }
        let (simplified, traditional) = self.rules.script_counts(text);
        if traditional_page {
            simplified >= 2 && traditional == 0
        } else {
            traditional >= 2 && simplified == 0
        }
    }

    fn is_foreign(&self, href: &str) -> bool {
        let href = href.trim();
        let url = match &self.base {
            Some(base) => base.join(href).ok(),
            None => Url::parse(href).ok(),
        };
        let Some(url) = url else {
            return false;
        };
        if !matches!(url.scheme(), "http" | "https") {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        match &self.base_key {
            Some(key) => site_key(host) != *key,
            // Without a page address every absolute link counts as leaving the site.
            None => href.contains("//"),
        }
    }

    fn report(&mut self, text: &str, reason: &str, detail: String) {
        self.removals.push(SpamRemoval {
            text: collapse(text, REPORT_MAX_CHARS),
            reason: reason.to_string(),
            detail,
        });
    }

    fn cut(&mut self, id: NodeId) {
        if self.cut_ids.insert(id) {
            self.cuts.push(Cut::Node(id));
        }
    }

    /// Text after the last `</html>`: the parser moves it into `<body>`; find it there.
    fn after_html_end(&mut self, doc: &Html, source: &str) {
        let Some(tail) = text_after_html_end(source) else {
            return;
        };
        let visible = self.rules.markup.replace_all(tail, " ");
        let visible = decode_entities(&visible);
        let wanted = normalize(&visible);
        if !wanted.chars().any(|c| c.is_alphanumeric()) {
            return;
        }
        let hits = self.rules.hits(&wanted);
        let foreign: Vec<String> = self
            .rules
            .href
            .captures_iter(tail)
            .filter_map(|c| {
                c.get(1)
                    .or(c.get(2))
                    .or(c.get(3))
                    .map(|m| m.as_str().to_string())
            })
            .filter(|h| self.is_foreign(h))
            .collect();
        let mismatch = self.script_mismatch(&wanted);
        // Big sites leave whole footers after </html> by sloppy templating: only a short
        // tail, or one carrying strong terms, is spam.
        let short = wanted.chars().count() <= 200;
        let spam = hits.strong > 0
            || (short && (hits.weak > 0 || mismatch))
            || (!foreign.is_empty() && wanted.chars().count() <= 100);
        if !spam {
            return;
        }
        let mut detail = vec!["text after </html>".to_string()];
        if hits.any() {
            detail.push(hits.detail());
        }
        if !foreign.is_empty() {
            detail.push(format!("links to {}", hosts_of(&foreign)));
        }
        if mismatch {
            detail.push("in the other script than the page".to_string());
        }
        if !self.locate_tail(doc, &wanted) {
            detail.push("not found in the parsed page".to_string());
        }
        self.report(&visible, "after_html_end", detail.join("; "));
    }

    /// Marks the last text nodes of the page that spell `wanted` for removal.
    fn locate_tail(&mut self, doc: &Html, wanted: &str) -> bool {
        let Some(body) = body_of(doc) else {
            return false;
        };
        let mut texts: Vec<NodeRef<Node>> = Vec::new();
        let mut invisible = 0usize;
        for edge in body.traverse() {
            match edge {
                Edge::Open(n) => match n.value() {
                    Node::Element(el) if is_invisible_tag(el.name()) => invisible += 1,
                    Node::Text(_) if invisible == 0 => texts.push(n),
                    _ => {}
                },
                Edge::Close(n) => {
                    if let Node::Element(el) = n.value() {
                        if is_invisible_tag(el.name()) {
                            invisible = invisible.saturating_sub(1);
                        }
                    }
                }
            }
        }
        let mut remaining: &str = wanted;
        let mut planned: Vec<Cut> = Vec::new();
        for node in texts.iter().rev() {
            let Some(text) = node.value().as_text() else {
                continue;
            };
            let n = normalize(text);
            if n.is_empty() {
                continue;
            }
            if let Some(rest) = remaining.strip_suffix(n.as_str()) {
                planned.push(Cut::Node(node.id()));
                remaining = rest;
            } else if n.ends_with(remaining) {
                // The tail was merged into the page's last text node.
                let keep = byte_index_before_suffix(text, remaining.chars().count());
                planned.push(Cut::Truncate(node.id(), keep));
                remaining = "";
            } else {
                return false;
            }
            if remaining.is_empty() {
                break;
            }
        }
        if !remaining.is_empty() {
            return false;
        }
        for cut in planned {
            match cut {
                Cut::Node(id) => {
                    // Take empty wrappers (`<a>`, `<span>`) along with their text.
                    let mut target = id;
                    let mut current = doc.tree.get(id);
                    while let Some(parent) = current.and_then(|c| c.parent()) {
                        let is_wrapper = parent.value().as_element().is_some_and(|el| {
                            !matches!(el.name(), "body" | "html" | "p" | "div" | "td" | "li")
                        });
                        let only_child =
                            parent.children().filter(|c| !is_blank_node(*c)).count() == 1;
                        if is_wrapper && only_child {
                            target = parent.id();
                            current = Some(parent);
                        } else {
                            break;
                        }
                    }
                    self.cut(target);
                }
                Cut::Truncate(id, keep) => {
                    if self.cut_ids.insert(id) {
                        self.cuts.push(Cut::Truncate(id, keep));
                    }
                }
            }
        }
        true
    }

    /// Scripts that write promotion into the page.
    fn document_writes(&mut self, doc: &Html) {
        let scripts: Vec<NodeRef<Node>> = doc
            .tree
            .root()
            .descendants()
            .filter(|n| {
                n.value()
                    .as_element()
                    .is_some_and(|el| el.name() == "script")
            })
            .collect();
        let mut open_wrapper: Option<NodeId> = None;
        for script in scripts {
            let code: String = script
                .children()
                .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                .collect();
            if !self.rules.write_call.is_match(&code) {
                continue;
            }
            let mut written: String = self
                .rules
                .write_call
                .find_iter(&code)
                .map(|m| js_string_arguments(&code[m.end()..]))
                .collect::<Vec<_>>()
                .join("");
            for codes in self.rules.from_char_code.captures_iter(&code) {
                written.extend(
                    codes[1]
                        .split(',')
                        .filter_map(|n| n.trim().parse::<u32>().ok())
                        .filter_map(char::from_u32),
                );
            }
            let lower = written.to_ascii_lowercase();
            let hides = written_hidden_wrapper(&lower);
            if hides {
                open_wrapper = Some(script.id());
            } else if open_wrapper.is_some() && lower.contains("</div") {
                if let Some(start) = open_wrapper.take() {
                    self.mark_hidden_between(doc, start, script.id());
                }
            }
            let mut visible = decode_entities(&self.rules.markup.replace_all(&written, " "));
            let mut hits = self.rules.hits(&normalize(&visible));
            let mut detail = vec!["written by document.write".to_string()];
            if hits.strong == 0 {
                // `var s = '<a …>北京赛车</a>'; document.write(s)`: the text sits in other
                // literals of the same script. Only strong terms count there.
                let literals = decode_entities(
                    &self
                        .rules
                        .markup
                        .replace_all(&js_strings(&code, false), " "),
                );
                let literal_hits = self.rules.hits(&normalize(&literals));
                if literal_hits.strong > 0 {
                    hits = literal_hits;
                    visible = literals;
                    detail = vec![
                        "in the string literals of a script that calls document.write".to_string(),
                    ];
                }
            }
            let foreign: Vec<String> = self
                .rules
                .href
                .captures_iter(&written)
                .filter_map(|c| {
                    c.get(1)
                        .or(c.get(2))
                        .or(c.get(3))
                        .map(|m| m.as_str().to_string())
                })
                .filter(|h| self.is_foreign(h))
                .collect();
            let spam = hits.strong > 0
                || (hits.any() && !foreign.is_empty())
                || (hides && foreign.len() >= 2);
            if !spam {
                continue;
            }
            if hits.any() {
                detail.push(hits.detail());
            }
            if !foreign.is_empty() {
                detail.push(format!("links to {}", hosts_of(&foreign)));
            }
            let shown = if visible.trim().is_empty() {
                written.clone()
            } else {
                visible
            };
            self.report(&shown, "document_write", detail.join("; "));
            self.cut(script.id());
        }
    }

    /// Siblings between a script that opens a hidden `<div>` and the one that closes it.
    fn mark_hidden_between(&mut self, doc: &Html, start: NodeId, end: NodeId) {
        let Some(start) = doc.tree.get(start) else {
            return;
        };
        for sibling in start.next_siblings() {
            if sibling.id() == end {
                return;
            }
            self.hidden_by_write.insert(sibling.id());
        }
        // The closing script was not a sibling: nothing reliable to mark.
        self.hidden_by_write.clear();
    }

    /// The block walk: marquees, hidden blocks, foreign link clusters, short blocks.
    fn blocks(&mut self, doc: &Html) {
        let Some(body) = body_of(doc) else {
            return;
        };
        let stats = DomStats::measure_from(body, 40);
        let links = self.link_stats(body);
        let mut texts = TextCache::default();
        let mut stack: Vec<(NodeRef<Node>, Option<&'static str>)> = vec![(body, None)];
        while let Some((node, hidden_by)) = stack.pop() {
            if self.cut_ids.contains(&node.id()) {
                continue;
            }
            let mut hidden_here = hidden_by;
            match node.value() {
                Node::Element(el) => {
                    if el.name() == "noscript" {
                        self.judge_noscript(node);
                        continue;
                    }
                    if is_invisible_tag(el.name()) {
                        continue;
                    }
                    if hidden_here.is_none() {
                        hidden_here = self.hidden_reason_of(node, el);
                    }
                    if node.id() != body.id()
                        && self.judge_element(
                            node,
                            el.name(),
                            hidden_here,
                            &stats,
                            &links,
                            &mut texts,
                        )
                    {
                        continue;
                    }
                }
                Node::Text(t) => {
                    self.judge_text(node, t, hidden_here, &stats);
                    continue;
                }
                _ => continue,
            }
            let children: Vec<_> = node.children().collect();
            for child in children.into_iter().rev() {
                stack.push((child, hidden_here));
            }
        }
    }

    fn hidden_reason_of(
        &self,
        node: NodeRef<Node>,
        el: &scraper::node::Element,
    ) -> Option<&'static str> {
        if self.hidden_by_write.contains(&node.id()) {
            return Some("hidden by a document.write wrapper");
        }
        if let Some(why) = hidden_reason(el, &self.rules.hidden_classes) {
            return Some(why);
        }
        if el
            .classes()
            .any(|c| self.css_hidden_classes.contains(&c.to_ascii_lowercase()))
        {
            return Some("hidden by a rule in the page's <style>");
        }
        if el
            .id()
            .is_some_and(|id| self.css_hidden_ids.contains(&id.to_ascii_lowercase()))
        {
            return Some("hidden by a rule in the page's <style>");
        }
        None
    }

    /// Decides one element; true when it was cut (its subtree is then skipped).
    fn judge_element(
        &mut self,
        node: NodeRef<Node>,
        name: &str,
        hidden: Option<&'static str>,
        stats: &DomStats,
        links: &HashMap<NodeId, LinkStats>,
        texts: &mut TextCache,
    ) -> bool {
        let s = stats.get(node.id());
        if s.text == 0 {
            if name == "a" {
                return self.judge_image_link(node, hidden);
            }
            return false;
        }
        let l = links.get(&node.id()).copied().unwrap_or_default();
        let settings = &self.rules.settings;
        // Bounded reads: a hidden or scrolling block is judged on its first 5000 characters.
        let read = |texts: &mut TextCache| -> String {
            if (s.text as usize) <= settings.short_block_max_chars * 4 {
                texts.get(node, stats).to_string()
            } else {
                compact_text(node, 5000)
            }
        };
        if name == "marquee" {
            let text = normalize(&read(texts));
            let hits = self.rules.hits(&text);
            if hits.strong > 0 || hits.weak_terms.len() >= 2 {
                self.report(
                    &raw_text(node),
                    "marquee",
                    format!("scrolling <marquee>; {}", hits.detail()),
                );
                self.cut(node.id());
                return true;
            }
        }
        if let Some(why) = hidden {
            let fully_read = s.text <= 5000;
            let text = normalize(&read(texts));
            let hits = self.rules.hits(&text);
            let spam = hidden_spam(&hits, s.prose > 0)
                || (hits.weak_terms.len() >= 2 && l.foreign > 0 && s.prose == 0)
                || l.foreign_terms as usize >= settings.cluster_min_term_links;
            if spam {
                let mut detail = vec![why.to_string(), hits.detail()];
                if l.foreign > 0 {
                    detail.push(format!("{} links to other sites", l.foreign));
                }
                self.report(&raw_text(node), "lexicon_hidden_block", detail.join("; "));
                self.cut(node.id());
                return true;
            }
            // Nothing below can hold a term this block does not: skip the subtree (keeps
            // a hidden page wrapper linear).
            return fully_read && hits.strong == 0 && l.foreign_terms == 0;
        }
        if l.foreign as usize >= settings.cluster_min_links
            && l.foreign_terms as usize >= settings.cluster_min_term_links
            && l.foreign_terms * 2 >= l.links
            && s.prose == 0
            && s.link * 2 >= s.text
        {
            let hits = self.rules.hits(&normalize(&read(texts)));
            self.report(
                &raw_text(node),
                "foreign_link_cluster",
                format!(
                    "{} of {} links go to other sites, {} of them with terms; {}",
                    l.foreign,
                    l.links,
                    l.foreign_terms,
                    hits.detail()
                ),
            );
            self.cut(node.id());
            return true;
        }
        if s.prose > 0 || s.text as usize > settings.short_block_max_chars || name == "h1" {
            return false;
        }
        // Links that all stay on the site are its own navigation (a portal's 彩票 channel
        // menu), not injected promotion.
        if l.links > 0 && l.foreign == 0 {
            return false;
        }
        let text = normalize(texts.get(node, stats));
        if let Some((reason, detail)) = self.short_block_verdict(&text, l.foreign > 0) {
            // When one child holds all the promotion and the rest is other text, judge the
            // child instead: `<div>版权所有 <a>北京赛车</a></div>` loses only the link.
            if self.single_spam_child(node, &text, stats, texts) {
                return false;
            }
            self.report(&raw_text(node), reason, detail);
            self.cut(node.id());
            return true;
        }
        false
    }

    /// A link without text (a banner image) to another site, whose `title` / `alt` is
    /// promotion.
    fn judge_image_link(&mut self, node: NodeRef<Node>, hidden: Option<&'static str>) -> bool {
        let Some(el) = node.value().as_element() else {
            return false;
        };
        if !el.attr("href").is_some_and(|h| self.is_foreign(h)) {
            return false;
        }
        let mut label: String = el.attr("title").unwrap_or_default().to_string();
        for d in node.descendants() {
            if let Some(alt) = d
                .value()
                .as_element()
                .and_then(|e| e.attr("alt").or(e.attr("title")))
            {
                label.push(' ');
                label.push_str(alt);
            }
        }
        let hits = self.rules.hits(&normalize(&label));
        if hits.strong == 0 || hits.context {
            return false;
        }
        let reason = if hidden.is_some() {
            "lexicon_hidden_block"
        } else {
            "lexicon_short_block"
        };
        let detail = format!("image link to another site; {}", hits.detail());
        self.report(&label, reason, detail);
        self.cut(node.id());
        true
    }

    /// `<noscript>` holds its markup as raw text; links to other sites with terms in it
    /// are a classic injection (shown to crawlers that run no scripts).
    fn judge_noscript(&mut self, node: NodeRef<Node>) {
        let markup: String = node
            .descendants()
            .filter_map(|n| n.value().as_text().map(|t| t.to_string()))
            .collect();
        if markup.trim().is_empty() {
            return;
        }
        let visible = decode_entities(&self.rules.markup.replace_all(&markup, " "));
        let hits = self.rules.hits(&normalize(&visible));
        let foreign: Vec<String> = self
            .rules
            .href
            .captures_iter(&markup)
            .filter_map(|c| {
                c.get(1)
                    .or(c.get(2))
                    .or(c.get(3))
                    .map(|m| m.as_str().to_string())
            })
            .filter(|h| self.is_foreign(h))
            .collect();
        if hits.strong > 0 || (hits.any() && !foreign.is_empty()) {
            let mut detail = vec!["inside <noscript>".to_string(), hits.detail()];
            if !foreign.is_empty() {
                detail.push(format!("links to {}", hosts_of(&foreign)));
            }
            self.report(&visible, "lexicon_hidden_block", detail.join("; "));
            self.cut(node.id());
        }
    }

    /// True when exactly one child carries every strong term of `text` and either other
    /// children carry visible text of their own or the child is all there is (a wrapper).
    fn single_spam_child(
        &self,
        node: NodeRef<Node>,
        text: &str,
        stats: &DomStats,
        texts: &mut TextCache,
    ) -> bool {
        let total = self.rules.hits(text).strong;
        let mut holder_chars = None;
        for child in node.children() {
            let child_text = match child.value() {
                Node::Text(t) => normalize(t),
                Node::Element(el)
                    if !is_invisible_tag(el.name()) && stats.get(child.id()).text > 0 =>
                {
                    normalize(texts.get(child, stats))
                }
                _ => continue,
            };
            let strong = self.rules.hits(&child_text).strong;
            if strong == total {
                // Bare text is judged with its parent, never on its own.
                if !child.value().is_element() {
                    return false;
                }
                holder_chars = Some(child_text.chars().count());
            } else if strong > 0 {
                return false;
            }
        }
        // A wrapper around a single child (same text) is judged at the child.
        let chars = text.chars().count();
        holder_chars.is_some_and(|held| held == chars || chars >= held + 2)
    }

    /// A bare text node between blocks (spam appended to `<body>` or to a big container).
    fn judge_text(
        &mut self,
        node: NodeRef<Node>,
        text: &str,
        hidden: Option<&'static str>,
        stats: &DomStats,
    ) {
        let Some(parent) = node.parent() else {
            return;
        };
        let ps = stats.get(parent.id());
        let settings = &self.rules.settings;
        // Short parents were judged as a whole already.
        if ps.text as usize <= settings.short_block_max_chars && ps.prose == 0 {
            return;
        }
        let n = normalize(text);
        if n.is_empty() || n.chars().count() > settings.short_block_max_chars {
            return;
        }
        let verdict = if let Some(why) = hidden {
            let hits = self.rules.hits(&n);
            let prose = measure_text(text, 40).1 > 0;
            hidden_spam(&hits, prose)
                .then(|| ("lexicon_hidden_block", format!("{why}; {}", hits.detail())))
        } else {
            // Inside a paragraph of prose a short piece is part of a sentence.
            if ps.prose > 0
                && parent.value().as_element().is_some_and(|el| {
                    matches!(
                        el.name(),
                        "p" | "span" | "font" | "b" | "strong" | "em" | "i"
                    )
                })
            {
                return;
            }
            self.short_block_verdict(&n, false)
        };
        if let Some((reason, detail)) = verdict {
            self.report(text, reason, detail);
            self.cut(node.id());
        }
    }

    /// Whether a short visible text is promotion: dominated by strong terms, or in the
    /// other script with terms.
    fn short_block_verdict(
        &self,
        text: &str,
        foreign_link: bool,
    ) -> Option<(&'static str, String)> {
        let settings = &self.rules.settings;
        let hits = self.rules.hits(text);
        let mismatch = self.script_mismatch(text);
        if mismatch && (hits.any() || foreign_link) {
            let mut detail = if self.page_traditional == Some(true) {
                "simplified-script line on a traditional-script page".to_string()
            } else {
                "traditional-script line on a simplified-script page".to_string()
            };
            if hits.any() {
                detail.push_str("; ");
                detail.push_str(&hits.detail());
            }
            return Some(("script_mismatch", detail));
        }
        if hits.strong == 0 || hits.context {
            return None;
        }
        let dominated = hits.chars <= settings.short_block_tiny_chars
            || hits.strong_chars as f64 >= settings.short_block_min_term_share * hits.chars as f64
            || hits.strong_terms.len() >= 2;
        dominated.then(|| ("lexicon_short_block", hits.detail()))
    }

    /// Per element: links below it, how many leave the site, how many of those carry terms.
    fn link_stats(&self, body: NodeRef<Node>) -> HashMap<NodeId, LinkStats> {
        let mut map = HashMap::new();
        let mut stack: Vec<(NodeId, LinkStats)> = Vec::new();
        for edge in body.traverse() {
            match edge {
                Edge::Open(node) => {
                    if node.value().is_element() {
                        stack.push((node.id(), LinkStats::default()));
                    }
                }
                Edge::Close(node) => {
                    let Node::Element(el) = node.value() else {
                        continue;
                    };
                    let Some((id, mut s)) = stack.pop() else {
                        continue;
                    };
                    if el.name() == "a" {
                        if let Some(href) = el.attr("href") {
                            s.links += 1;
                            if self.is_foreign(href) {
                                s.foreign += 1;
                                let text = normalize(&compact_text(node, 200));
                                if self.rules.hits(&text).any() {
                                    s.foreign_terms += 1;
                                }
                            }
                        }
                    }
                    if let Some((_, parent)) = stack.last_mut() {
                        parent.links += s.links;
                        parent.foreign += s.foreign;
                        parent.foreign_terms += s.foreign_terms;
                    }
                    map.insert(id, s);
                }
            }
        }
        map
    }

    fn apply(&mut self, doc: &mut Html) {
        for cut in std::mem::take(&mut self.cuts) {
            match cut {
                Cut::Node(id) => {
                    if let Some(mut n) = doc.tree.get_mut(id) {
                        n.detach();
                    }
                }
                Cut::Truncate(id, keep) => {
                    if let Some(mut n) = doc.tree.get_mut(id) {
                        if let Node::Text(t) = n.value() {
                            let kept: String = t.text.get(..keep).unwrap_or_default().to_string();
                            t.text = StrTendril::from(kept);
                        }
                    }
                }
            }
        }
    }
}

/// A hidden block is spam when it carries strong terms, and, if it is prose (a hidden tab
/// of a real article), when those terms are dense rather than one mention.
fn hidden_spam(hits: &Hits, prose: bool) -> bool {
    let dense = hits.strong_chars * 10 >= hits.chars || hits.strong_terms.len() >= 3;
    hits.strong > 0 && (!prose || dense)
}

fn is_blank_node(node: NodeRef<Node>) -> bool {
    match node.value() {
        Node::Text(t) => t.chars().all(is_blank),
        Node::Comment(_) => true,
        _ => false,
    }
}

/// Without a page address: the site most absolute links point to, if one clearly leads.
fn dominant_site(doc: &Html) -> Option<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    let mut total = 0usize;
    for node in doc.tree.root().descendants() {
        let Some(href) = node
            .value()
            .as_element()
            .filter(|el| el.name() == "a")
            .and_then(|el| el.attr("href"))
        else {
            continue;
        };
        if let Some(host) = Url::parse(href.trim())
            .ok()
            .and_then(|u| u.host_str().map(site_key))
        {
            *counts.entry(host).or_default() += 1;
            total += 1;
        }
    }
    let (site, n) = counts.into_iter().max_by_key(|(_, n)| *n)?;
    (n >= 3 && n * 3 >= total).then_some(site)
}

fn body_of(doc: &Html) -> Option<NodeRef<'_, Node>> {
    doc.tree
        .root()
        .descendants()
        .find(|n| n.value().as_element().is_some_and(|el| el.name() == "body"))
}

fn hosts_of(urls: &[String]) -> String {
    let mut hosts: Vec<String> = Vec::new();
    for u in urls {
        let host = Url::parse(u.trim())
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
            .unwrap_or_else(|| u.clone());
        if !hosts.contains(&host) {
            hosts.push(host);
        }
    }
    hosts.truncate(5);
    hosts.join(", ")
}

/// Byte index in `text` where its last `suffix_chars` non-blank characters begin.
fn byte_index_before_suffix(text: &str, suffix_chars: usize) -> usize {
    let mut seen = 0;
    for (i, c) in text.char_indices().rev() {
        if is_blank(c) {
            continue;
        }
        seen += 1;
        if seen == suffix_chars {
            return i;
        }
    }
    0
}

/// What follows the last `</html>` tag in the source, if anything.
fn text_after_html_end(source: &str) -> Option<&str> {
    let bytes = source.as_bytes();
    let needle = b"</html";
    let mut at = None;
    let mut i = bytes.len();
    while i >= needle.len() {
        i -= 1;
        if i + needle.len() <= bytes.len()
            && bytes[i..i + needle.len()].eq_ignore_ascii_case(needle)
        {
            at = Some(i);
            break;
        }
    }
    let start = at?;
    let close = source[start..].find('>')? + start + 1;
    let tail = &source[close..];
    (!tail.trim().is_empty()).then_some(tail)
}

/// Decodes character references (`&#24425;`, `&#x5f69;`, `&amp;`, `&nbsp;` ...).
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('&') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let end = rest[1..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '#'))
            .map(|e| e + 1);
        let Some(end) = end.filter(|e| *e <= 12) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let name = &rest[1..end];
        let decoded = if let Some(num) = name.strip_prefix("#x").or_else(|| name.strip_prefix("#X"))
        {
            u32::from_str_radix(num, 16).ok().and_then(char::from_u32)
        } else if let Some(num) = name.strip_prefix('#') {
            num.parse::<u32>().ok().and_then(char::from_u32)
        } else {
            match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "middot" => Some('·'),
                "copy" => Some('©'),
                _ => None,
            }
        };
        match decoded {
            Some(c) => {
                out.push(c);
                let skip = if rest[end..].starts_with(';') {
                    end + 1
                } else {
                    end
                };
                rest = &rest[skip..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The string literals in the arguments of a call, `code` starting right after `(`,
/// decoded (JS escapes, `unescape('%u…')`).
fn js_string_arguments(code: &str) -> String {
    js_strings(code, true)
}

/// Decoded string literals of `code`: of one call's arguments (`one_call`, `code` starting
/// right after its `(`), or of the whole script.
fn js_strings(code: &str, one_call: bool) -> String {
    let mut out = String::new();
    let mut depth = 1usize;
    let mut chars = code.chars().peekable();
    let mut scanned = 0usize;
    let limit = if one_call { 20_000 } else { 200_000 };
    while let Some(c) = chars.next() {
        scanned += 1;
        if scanned > limit {
            break;
        }
        match c {
            '(' if one_call => depth += 1,
            ')' if one_call => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ';' | '\n' if one_call && depth == 1 => break,
            '"' | '\'' | '`' => {
                let quote = c;
                let mut lit = String::new();
                while let Some(c) = chars.next() {
                    scanned += 1;
                    if c == quote {
                        break;
                    }
                    if c != '\\' {
                        lit.push(c);
                        continue;
                    }
                    match chars.next() {
                        Some('n') => lit.push('\n'),
                        Some('t') => lit.push('\t'),
                        Some('x') => {
                            let hex: String = chars.by_ref().take(2).collect();
                            if let Some(ch) =
                                u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                            {
                                lit.push(ch);
                            }
                        }
                        Some('u') => {
                            let hex: String = if chars.peek() == Some(&'{') {
                                chars.next();
                                chars.by_ref().take_while(|c| *c != '}').collect()
                            } else {
                                chars.by_ref().take(4).collect()
                            };
                            if let Some(ch) =
                                u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                            {
                                lit.push(ch);
                            }
                        }
                        Some(other) => lit.push(other),
                        None => break,
                    }
                }
                out.push_str(&percent_unescape(&lit));
            }
            _ => {}
        }
    }
    out
}

/// JavaScript `unescape`: `%uXXXX` and `%XX`; text without `%` is returned as is.
fn percent_unescape(text: &str) -> String {
    if !text.contains('%') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        let (decoded, len) =
            if rest.len() >= 6 && (rest.as_bytes()[1] == b'u' || rest.as_bytes()[1] == b'U') {
                (
                    rest.get(2..6)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32),
                    6,
                )
            } else {
                (
                    rest.get(1..3)
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32),
                    3,
                )
            };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('%');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// True when written markup opens a hidden `<div>` it does not close.
fn written_hidden_wrapper(lower: &str) -> bool {
    let opens = lower.matches("<div").count();
    let closes = lower.matches("</div").count();
    if opens <= closes {
        return false;
    }
    let Some(start) = lower.rfind("<div") else {
        return false;
    };
    let tag_end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
    let tag = &lower[start..tag_end];
    tag.split("style=")
        .nth(1)
        .map(|s| s.trim_matches(|c| c == '"' || c == '\''))
        .and_then(hidden_style)
        .is_some()
}

#[cfg(test)]
mod tests;
