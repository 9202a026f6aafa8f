//! One iterative pass over the DOM that collects everything the metadata stage reads:
//! the visible text as lines, meta tags, JSON-LD, `<title>`, canonical links and the
//! elements whose tag, class or id mark them as a headline, source, author, date or
//! breadcrumb. No recursion: `ego_tree`'s `traverse` walks open/close edges, so a page of
//! 100 000 nested `<div>`s costs memory, not stack.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::rules::MetaRules;

/// Tags whose content is never visible article text.
const SKIP_TAGS: &[&str] = &[
    "style", "noscript", "template", "svg", "select", "textarea", "iframe", "object", "embed",
    "canvas", "audio", "video", "map", "math", "button",
];

/// Tags that start and end a line.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "body",
    "center",
    "dd",
    "details",
    "dialog",
    "dir",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "html",
    "li",
    "main",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
    "caption",
];

/// How many marked elements may be open (nested) at once; deeper ones are ignored.
const MAX_OPEN_MARKS: usize = 8;
/// Marked element text is cut here (a headline or byline is short).
const MAX_MARK_CHARS: usize = 600;
/// Stand-in for `<br>` inside a marked element, resolved when the mark closes.
const BREAK: char = '\u{1}';

/// One line of visible text (a block, or a run of inline content between `<br>`s).
#[derive(Debug, Clone, Default)]
pub struct Line {
    pub text: String,
    /// `h1`..`h6` level when the text is inside a heading, else 0.
    pub heading: u8,
    /// Characters of the line inside `<a>`.
    pub link_chars: usize,
}

impl Line {
    /// True when most of the line is link text (navigation, related lists).
    pub fn mostly_link(&self) -> bool {
        let total = self.text.chars().filter(|c| !c.is_whitespace()).count();
        total > 0 && self.link_chars * 10 >= total * 7
    }
}

/// Why an element was marked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// `h1`..`h3` (level), `itemprop=headline`, or a title-like class (level 0).
    Title(u8),
    Source,
    Author,
    /// `rel=author` / `itemprop=author`: a structural byline.
    RelAuthor,
    Date,
    Breadcrumb,
}

/// A marked element and its text.
#[derive(Debug, Clone)]
pub struct Mark {
    pub kind: MarkKind,
    pub text: String,
    /// Index of the first line the element contributes to.
    pub line: usize,
    /// Index one past the element's last line.
    pub end_line: usize,
    /// `datetime` / `content` attribute when present.
    pub attr: Option<String>,
}

/// A `<meta>` tag: lower-cased key (name, property, itemprop or http-equiv) and content.
#[derive(Debug, Clone)]
pub struct MetaTag {
    pub key: String,
    pub content: String,
}

/// Everything the metadata stage needs from the page.
#[derive(Debug, Default)]
pub struct Scan {
    pub lines: Vec<Line>,
    pub marks: Vec<Mark>,
    pub metas: Vec<MetaTag>,
    pub json_ld: Vec<serde_json::Value>,
    pub title_tag: Option<String>,
    pub canonical: Option<String>,
    pub html_lang: Option<String>,
}

impl Scan {
    /// The first non-empty content of the first meta key in `keys` (in order of `keys`).
    pub fn meta<'a>(&'a self, keys: &'a [String]) -> Option<(&'a str, &'a str)> {
        keys.iter().find_map(|k| {
            self.metas
                .iter()
                .find(|m| &m.key == k && !m.content.trim().is_empty())
                .map(|m| (k.as_str(), m.content.trim()))
        })
    }

    /// Every non-empty meta content for `key`.
    pub fn metas_named<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.metas
            .iter()
            .filter(move |m| m.key == key)
            .map(|m| m.content.trim())
            .filter(|c| !c.is_empty())
    }
}

struct OpenMark {
    node: ego_tree::NodeId,
    kind: MarkKind,
    text: String,
    line: usize,
    attr: Option<String>,
}

struct Builder {
    scan: Scan,
    current: String,
    current_links: usize,
    current_heading: u8,
    heading_depth: Vec<(ego_tree::NodeId, u8)>,
    link_depth: usize,
    open: Vec<OpenMark>,
}

impl Builder {
    fn finish_line(&mut self) {
        let text = collapse_ws(&self.current);
        if !text.is_empty() {
            self.scan.lines.push(Line {
                text,
                heading: self.current_heading,
                link_chars: self.current_links,
            });
        }
        self.current.clear();
        self.current_links = 0;
        self.current_heading = self.heading_depth.last().map(|h| h.1).unwrap_or(0);
    }

    fn push_text(&mut self, text: &str) {
        self.current.push_str(text);
        if self.link_depth > 0 {
            self.current_links += text.chars().filter(|c| !c.is_whitespace()).count();
        }
        if let Some(h) = self.heading_depth.last() {
            if !text.trim().is_empty() {
                self.current_heading = h.1;
            }
        }
        for mark in &mut self.open {
            if mark.text.len() < MAX_MARK_CHARS * 3 {
                mark.text.push_str(text);
            }
        }
    }

    fn push_break(&mut self) {
        self.finish_line();
        for mark in &mut self.open {
            mark.text.push(BREAK);
        }
    }

    /// The index the next finished line will get.
    fn next_line(&self) -> usize {
        self.scan.lines.len() + usize::from(!collapse_ws(&self.current).is_empty())
    }
}

/// Walks the document once.
pub fn scan(doc: &Html, rules: &MetaRules) -> Scan {
    let mut b = Builder {
        scan: Scan::default(),
        current: String::new(),
        current_links: 0,
        current_heading: 0,
        heading_depth: Vec::new(),
        link_depth: 0,
        open: Vec::new(),
    };
    // While inside a skipped subtree: the node that opened it.
    let mut skipping: Option<ego_tree::NodeId> = None;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Text(text) => b.push_text(text),
                    Node::Element(el) => {
                        let name = el.name();
                        match name {
                            "title" => {
                                if b.scan.title_tag.is_none() {
                                    let t: String = node
                                        .children()
                                        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                                        .collect();
                                    b.scan.title_tag = Some(collapse_ws(&t));
                                }
                                skipping = Some(node.id());
                                continue;
                            }
                            "meta" => {
                                collect_meta(&mut b.scan, el);
                                continue;
                            }
                            "link" => {
                                let rel = el.attr("rel").unwrap_or("").to_ascii_lowercase();
                                if rel.split_whitespace().any(|r| r == "canonical")
                                    && b.scan.canonical.is_none()
                                {
                                    b.scan.canonical =
                                        el.attr("href").map(|h| h.trim().to_string());
                                }
                                continue;
                            }
                            "script" => {
                                let ty = el.attr("type").unwrap_or("").to_ascii_lowercase();
                                if ty.contains("ld+json") {
                                    let t: String = node
                                        .children()
                                        .filter_map(|c| c.value().as_text().map(|t| t.to_string()))
                                        .collect();
                                    if let Ok(v) =
                                        serde_json::from_str::<serde_json::Value>(t.trim())
                                    {
                                        b.scan.json_ld.push(v);
                                    }
                                }
                                skipping = Some(node.id());
                                continue;
                            }
                            "html" => {
                                if let Some(lang) = el.attr("lang") {
                                    b.scan.html_lang = Some(lang.trim().to_string());
                                }
                            }
                            _ => {}
                        }
                        if SKIP_TAGS.contains(&name) || is_hidden(el) {
                            skipping = Some(node.id());
                            continue;
                        }
                        if name == "br" {
                            b.push_break();
                            continue;
                        }
                        if name == "img" {
                            continue;
                        }
                        if BLOCK_TAGS.contains(&name) {
                            b.finish_line();
                        }
                        if let Some(level) = heading_level(name) {
                            b.heading_depth.push((node.id(), level));
                        }
                        if name == "a" {
                            b.link_depth += 1;
                        }
                        if name == "td" || name == "th" {
                            b.push_text(" ");
                        }
                        if b.open.len() < MAX_OPEN_MARKS {
                            if let Some(kind) = mark_kind(el, rules) {
                                let attr = el
                                    .attr("datetime")
                                    .or_else(|| el.attr("content"))
                                    .map(|s| s.trim().to_string());
                                // Inline elements continue the current line; blocks
                                // have just finished it: either way the next index.
                                let line = b.scan.lines.len();
                                b.open.push(OpenMark {
                                    node: node.id(),
                                    kind,
                                    text: String::new(),
                                    line,
                                    attr,
                                });
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skipping {
                    if id == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                let Node::Element(el) = node.value() else {
                    continue;
                };
                let name = el.name();
                if name == "a" {
                    b.link_depth = b.link_depth.saturating_sub(1);
                }
                if name == "td" || name == "th" {
                    b.push_text(" ");
                }
                if BLOCK_TAGS.contains(&name) {
                    b.finish_line();
                }
                if heading_level(name).is_some()
                    && b.heading_depth.last().map(|h| h.0) == Some(node.id())
                {
                    b.heading_depth.pop();
                }
                if b.open.last().map(|m| m.node) == Some(node.id()) {
                    if let Some(mark) = b.open.pop() {
                        let end_line = b.next_line();
                        let text = resolve_breaks(&mark.text);
                        let text: String = text.chars().take(MAX_MARK_CHARS).collect();
                        if !text.is_empty() || mark.attr.is_some() {
                            b.scan.marks.push(Mark {
                                kind: mark.kind,
                                text,
                                line: mark.line,
                                end_line,
                                attr: mark.attr,
                            });
                        }
                    }
                }
            }
        }
    }
    b.finish_line();
    // Marks are recorded when they close; order them by position.
    b.scan.marks.sort_by_key(|m| m.line);
    b.scan
}

fn heading_level(name: &str) -> Option<u8> {
    match name {
        "h1" => Some(1),
        "h2" => Some(2),
        "h3" => Some(3),
        "h4" => Some(4),
        "h5" => Some(5),
        "h6" => Some(6),
        _ => None,
    }
}

fn collect_meta(scan: &mut Scan, el: &scraper::node::Element) {
    let Some(content) = el.attr("content") else {
        return;
    };
    for key_attr in ["name", "property", "itemprop", "http-equiv"] {
        if let Some(key) = el.attr(key_attr) {
            scan.metas.push(MetaTag {
                key: key.trim().to_lowercase(),
                content: content.to_string(),
            });
        }
    }
}

/// Inline-style or attribute hiding (stylesheets are not evaluated).
fn is_hidden(el: &scraper::node::Element) -> bool {
    if el.attr("hidden").is_some() {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let s: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_lowercase();
        if s.contains("display:none") || s.contains("visibility:hidden") {
            return true;
        }
    }
    el.classes().any(|c| c == "ng-hide")
}

fn mark_kind(el: &scraper::node::Element, rules: &MetaRules) -> Option<MarkKind> {
    let name = el.name();
    if let Some(level) = heading_level(name) {
        if level <= 3 {
            return Some(MarkKind::Title(level));
        }
    }
    let rel = el.attr("rel").unwrap_or("");
    let itemprop = el.attr("itemprop").unwrap_or("").to_ascii_lowercase();
    if rel.eq_ignore_ascii_case("author") || itemprop == "author" {
        return Some(MarkKind::RelAuthor);
    }
    if itemprop == "headline" || name == "ucaptitle" {
        return Some(MarkKind::Title(0));
    }
    if itemprop == "datepublished" || name == "time" || name == "publishtime" {
        return Some(MarkKind::Date);
    }
    let mut hint = String::new();
    if let Some(id) = el.id() {
        hint.push_str(&id.to_ascii_lowercase());
        hint.push(' ');
    }
    for c in el.classes() {
        hint.push_str(&c.to_ascii_lowercase());
        hint.push(' ');
    }
    if hint.is_empty()
        || matches!(
            name,
            "body" | "html" | "ul" | "ol" | "table" | "tbody" | "tr" | "form"
        )
    {
        return None;
    }
    let has = |words: &[String]| words.iter().any(|w| hint_match(&hint, w));
    if has(&rules.hint_breadcrumb) {
        return Some(MarkKind::Breadcrumb);
    }
    if has(&rules.hint_title) && !has(&rules.hint_title_not) {
        return Some(MarkKind::Title(0));
    }
    if has(&rules.hint_source) {
        return Some(MarkKind::Source);
    }
    if has(&rules.hint_author) {
        return Some(MarkKind::Author);
    }
    if has(&rules.hint_date) {
        return Some(MarkKind::Date);
    }
    None
}

/// Short hints (`ly`, `bt`, `tit`) must be a whole class-name token or token part
/// separated by `-`/`_`; longer ones may appear anywhere.
fn hint_match(hint: &str, word: &str) -> bool {
    if word.len() > 4 {
        return hint.contains(word);
    }
    hint.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
        .any(|part| part == word || (word.len() == 4 && part.starts_with(word)))
}

/// Collapses every run of whitespace (including U+3000 and &nbsp;) into one space.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}' || c == '\u{200b}' {
            pending = !out.is_empty();
        } else if c != '\u{fffd}' {
            if pending {
                out.push(' ');
                pending = false;
            }
            out.push(c);
        }
    }
    out
}

/// `<br>` inside a headline: nothing between two CJK characters, a space otherwise.
fn resolve_breaks(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        if c != BREAK {
            out.push(c);
            continue;
        }
        let prev = chars[..i]
            .iter()
            .rev()
            .find(|c| !c.is_whitespace() && **c != BREAK);
        let next = chars[i + 1..]
            .iter()
            .find(|c| !c.is_whitespace() && **c != BREAK);
        match (prev, next) {
            (Some(p), Some(n)) if is_cjk(*p) && is_cjk(*n) => {}
            _ => out.push(' '),
        }
    }
    let collapsed = collapse_ws(&out);
    // A break between CJK characters may have left a space from the markup around it.
    let chars: Vec<char> = collapsed.chars().collect();
    let _ = chars;
    collapsed
}

/// CJK ideographs and full-width punctuation.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3000..=0x303F | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF
        | 0x20000..=0x3134F)
}

/// Han ideographs only.
pub fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F | 0x3007)
}
