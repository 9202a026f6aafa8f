//! One iterative pass over the DOM that collects everything the metadata stage reads:
//! the visible text as lines, meta tags, JSON-LD, `<title>`, canonical links and the
//! elements whose tag, class or id mark them as a headline, source, author, date or
//! breadcrumb. No recursion: `ego_tree`'s `traverse` walks open/close edges, so a page of
//! 100 000 nested `<div>`s costs memory, not stack.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

use super::rules::{Hint, MetaRules};
use crate::extract::chars::wide_space_len;

/// What the scan needs to know about an element's tag name, worked out once when the
/// element opens and kept on a stack until it closes.
#[derive(Debug, Clone, Copy, Default)]
struct Tag {
    flags: u16,
    /// `h1`..`h6` level, else 0.
    heading: u8,
}

impl Tag {
    /// Starts and ends a line.
    const BLOCK: u16 = 1;
    /// Content never visible article text (`style`, `svg`, `button` …).
    const SKIP: u16 = 1 << 1;
    const BR: u16 = 1 << 2;
    const IMG: u16 = 1 << 3;
    const ANCHOR: u16 = 1 << 4;
    /// `td`, `th`: a space on each side.
    const CELL: u16 = 1 << 5;
    const TITLE: u16 = 1 << 6;
    const META: u16 = 1 << 7;
    const LINK: u16 = 1 << 8;
    const SCRIPT: u16 = 1 << 9;
    const HTML: u16 = 1 << 10;
    /// `ucaptitle`: a headline.
    const UCAPTITLE: u16 = 1 << 11;
    /// `time`, `publishtime`: a date.
    const TIME: u16 = 1 << 12;
    /// Containers whose class or id never marks them (`body`, `ul`, `table` …).
    const NO_HINT: u16 = 1 << 13;

    fn of(name: &str) -> Tag {
        const BLOCK: u16 = Tag::BLOCK;
        let flags = match name {
            "address" | "article" | "aside" | "blockquote" | "center" | "dd" | "details"
            | "dialog" | "dir" | "div" | "dl" | "dt" | "fieldset" | "figcaption" | "figure"
            | "footer" | "header" | "hgroup" | "hr" | "li" | "main" | "menu" | "nav" | "p"
            | "pre" | "section" | "summary" | "thead" | "tfoot" | "caption" => BLOCK,
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                let level = name.as_bytes()[1] - b'0';
                return Tag {
                    flags: BLOCK,
                    heading: level,
                };
            }
            "body" | "ul" | "ol" | "table" | "tbody" | "tr" | "form" => BLOCK | Tag::NO_HINT,
            "html" => BLOCK | Tag::NO_HINT | Tag::HTML,
            "style" | "noscript" | "template" | "svg" | "select" | "textarea" | "iframe"
            | "object" | "embed" | "canvas" | "audio" | "video" | "map" | "math" | "button" => {
                Tag::SKIP
            }
            "br" => Tag::BR,
            "img" => Tag::IMG,
            "a" => Tag::ANCHOR,
            "td" | "th" => Tag::CELL,
            "title" => Tag::TITLE,
            "meta" => Tag::META,
            "link" => Tag::LINK,
            "script" => Tag::SCRIPT,
            "ucaptitle" => Tag::UCAPTITLE,
            "time" | "publishtime" => Tag::TIME,
            _ => 0,
        };
        Tag { flags, heading: 0 }
    }

    fn is(self, flag: u16) -> bool {
        self.flags & flag != 0
    }
}

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
        if self.link_chars == 0 {
            return false;
        }
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
    /// The line being built, whitespace already collapsed (see [`push_collapsed`]).
    current: String,
    /// Whitespace was seen after the last character of `current`.
    pending_space: bool,
    current_links: usize,
    current_heading: u8,
    heading_depth: Vec<(ego_tree::NodeId, u8)>,
    link_depth: usize,
    open: Vec<OpenMark>,
    /// Reused buffer for an element's hint: `id class1 class2 `.
    hint: String,
    /// Recently matched hints (list items and table cells repeat their classes).
    hints_seen: HintCache,
    /// Reused buffer for an element's squeezed style.
    style: String,
}

impl Builder {
    fn finish_line(&mut self) {
        if !self.current.is_empty() {
            self.scan.lines.push(Line {
                // A copy of the exact size; `current` keeps its room for the next line.
                text: self.current.as_str().to_owned(),
                heading: self.current_heading,
                link_chars: self.current_links,
            });
        }
        self.current.clear();
        self.pending_space = false;
        self.current_links = 0;
        self.current_heading = self.heading_depth.last().map(|h| h.1).unwrap_or(0);
    }

    fn push_text(&mut self, text: &str) {
        if text.bytes().all(|b| ASCII_BLANK[usize::from(b)]) {
            // Indentation between tags (most text nodes): only a space may be due.
            if !text.is_empty() {
                self.pending_space = !self.current.is_empty();
            }
        } else {
            push_collapsed(&mut self.current, &mut self.pending_space, text);
            if self.link_depth > 0 {
                self.current_links += text.chars().filter(|c| !c.is_whitespace()).count();
            }
            if let Some(h) = self.heading_depth.last() {
                if !text.trim().is_empty() {
                    self.current_heading = h.1;
                }
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
        self.scan.lines.len() + usize::from(!self.current.is_empty())
    }
}

/// The attributes the scan reads from every element, found in one pass over them
/// (`Element::attr` interns the name and hashes it on each call).
#[derive(Default)]
struct ElementAttrs<'a> {
    hidden: bool,
    style: Option<&'a str>,
    rel: Option<&'a str>,
    itemprop: Option<&'a str>,
    datetime: Option<&'a str>,
    content: Option<&'a str>,
    /// The first `id`, as `Element::id` finds it.
    id: Option<&'a str>,
}

impl<'a> ElementAttrs<'a> {
    /// Reads the attributes; the class names go to `classes` (cleared first) sorted and
    /// without repeats, the order `Element::classes` gives. Reading the `class` value
    /// directly spares interning every class name (`Element::classes` builds atoms).
    fn of(el: &'a scraper::node::Element, classes: &mut Vec<&'a str>) -> Self {
        let mut attrs = ElementAttrs::default();
        classes.clear();
        if el.attrs.is_empty() {
            return attrs;
        }
        for (name, value) in el.attrs() {
            match name {
                "class" => classes.extend(value.split_whitespace()),
                "id" => {
                    attrs.id = attrs.id.or(Some(value));
                }
                "hidden" => attrs.hidden = true,
                "style" => attrs.style = Some(value),
                "rel" => attrs.rel = Some(value),
                "itemprop" => attrs.itemprop = Some(value),
                "datetime" => attrs.datetime = Some(value),
                "content" => attrs.content = Some(value),
                _ => {}
            }
        }
        if classes.len() > 1 {
            classes.sort_unstable();
            classes.dedup();
        }
        attrs
    }
}

/// Walks the document once.
pub fn scan(doc: &Html, rules: &MetaRules) -> Scan {
    let mut b = Builder {
        scan: Scan::default(),
        current: String::new(),
        pending_space: false,
        current_links: 0,
        current_heading: 0,
        heading_depth: Vec::new(),
        link_depth: 0,
        open: Vec::new(),
        hint: String::new(),
        style: String::new(),
        hints_seen: HintCache::default(),
    };
    // While inside a skipped subtree: the node that opened it.
    let mut skipping: Option<ego_tree::NodeId> = None;
    // The tags of the open elements (not skipped), innermost last.
    let mut tags: Vec<Tag> = Vec::new();
    // The current element's class names.
    let mut classes: Vec<&str> = Vec::new();
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skipping.is_some() {
                    continue;
                }
                let el = match node.value() {
                    Node::Text(text) => {
                        b.push_text(text);
                        continue;
                    }
                    Node::Element(el) => el,
                    _ => continue,
                };
                let tag = Tag::of(el.name());
                if tag.is(Tag::TITLE) {
                    if b.scan.title_tag.is_none() {
                        let t: String = node
                            .children()
                            .filter_map(|c| c.value().as_text().map(|t| &**t))
                            .collect();
                        b.scan.title_tag = Some(collapse_ws(&t));
                    }
                    skipping = Some(node.id());
                    continue;
                }
                if tag.is(Tag::SCRIPT) {
                    let ty = el.attr("type").unwrap_or("");
                    if contains_ignore_ascii_case(ty, "ld+json") {
                        let t: String = node
                            .children()
                            .filter_map(|c| c.value().as_text().map(|t| &**t))
                            .collect();
                        if let Ok(v) = serde_json::from_str::<serde_json::Value>(t.trim()) {
                            b.scan.json_ld.push(v);
                        }
                    }
                    skipping = Some(node.id());
                    continue;
                }
                if tag.is(Tag::META) {
                    collect_meta(&mut b.scan, el);
                    tags.push(tag);
                    continue;
                }
                if tag.is(Tag::LINK) {
                    if b.scan.canonical.is_none()
                        && el.attr("rel").is_some_and(|rel| {
                            rel.split_whitespace()
                                .any(|r| r.eq_ignore_ascii_case("canonical"))
                        })
                    {
                        b.scan.canonical = el.attr("href").map(|h| h.trim().to_string());
                    }
                    tags.push(tag);
                    continue;
                }
                if tag.is(Tag::HTML) {
                    if let Some(lang) = el.attr("lang") {
                        b.scan.html_lang = Some(lang.trim().to_string());
                    }
                }
                let attrs = ElementAttrs::of(el, &mut classes);
                let ng_hide = fill_hint(attrs.id, &classes, &mut b.hint);
                if tag.is(Tag::SKIP) || ng_hide || is_hidden(&attrs, &mut b.style) {
                    skipping = Some(node.id());
                    continue;
                }
                tags.push(tag);
                if tag.is(Tag::BR) {
                    b.push_break();
                    continue;
                }
                if tag.is(Tag::IMG) {
                    continue;
                }
                if tag.is(Tag::BLOCK) {
                    b.finish_line();
                }
                if tag.heading > 0 {
                    b.heading_depth.push((node.id(), tag.heading));
                }
                if tag.is(Tag::ANCHOR) {
                    b.link_depth += 1;
                }
                if tag.is(Tag::CELL) {
                    b.push_text(" ");
                }
                if b.open.len() < MAX_OPEN_MARKS {
                    if let Some(kind) = mark_kind(tag, &attrs, &b.hint, &mut b.hints_seen, rules) {
                        let attr = attrs
                            .datetime
                            .or(attrs.content)
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
            Edge::Close(node) => {
                if let Some(id) = skipping {
                    if id == node.id() {
                        skipping = None;
                    }
                    continue;
                }
                if !node.value().is_element() {
                    continue;
                }
                let tag = tags.pop().unwrap_or_default();
                if tag.is(Tag::ANCHOR) {
                    b.link_depth = b.link_depth.saturating_sub(1);
                }
                if tag.is(Tag::CELL) {
                    b.push_text(" ");
                }
                if tag.is(Tag::BLOCK) {
                    b.finish_line();
                }
                if tag.heading > 0 && b.heading_depth.last().map(|h| h.0) == Some(node.id()) {
                    b.heading_depth.pop();
                }
                if b.open.last().map(|m| m.node) == Some(node.id()) {
                    if let Some(mark) = b.open.pop() {
                        let end_line = b.next_line();
                        let mut text = resolve_breaks(&mark.text);
                        if let Some((cut, _)) = text.char_indices().nth(MAX_MARK_CHARS) {
                            text.truncate(cut);
                        }
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

/// True when `haystack` contains `needle` (ASCII), ignoring ASCII case.
fn contains_ignore_ascii_case(haystack: &str, needle: &str) -> bool {
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

fn collect_meta(scan: &mut Scan, el: &scraper::node::Element) {
    // content, then the keys in this order: name, property, itemprop, http-equiv.
    let mut content = None;
    let mut keys: [Option<&str>; 4] = [None; 4];
    for (name, value) in el.attrs() {
        match name {
            "content" => content = Some(value),
            "name" => keys[0] = Some(value),
            "property" => keys[1] = Some(value),
            "itemprop" => keys[2] = Some(value),
            "http-equiv" => keys[3] = Some(value),
            _ => {}
        }
    }
    let Some(content) = content else {
        return;
    };
    for key in keys.into_iter().flatten() {
        let key = key.trim();
        scan.metas.push(MetaTag {
            key: if key.is_ascii() {
                key.to_ascii_lowercase()
            } else {
                key.to_lowercase()
            },
            content: content.to_string(),
        });
    }
}

/// A small direct-mapped cache of hint matches: the same hint always gives the same
/// categories, and a page repeats a few class lists on many elements.
#[derive(Default)]
struct HintCache {
    slots: [(String, Hint); 16],
}

impl HintCache {
    fn matches(&mut self, hint: &str, rules: &MetaRules) -> Hint {
        let bytes = hint.as_bytes();
        let slot = (bytes.len()
            ^ usize::from(bytes.first().copied().unwrap_or(0))
            ^ (usize::from(bytes.get(bytes.len() / 2).copied().unwrap_or(0)) << 2))
            % self.slots.len();
        let (seen, found) = &mut self.slots[slot];
        if seen.as_str() != hint || seen.is_empty() {
            *found = rules.hints.matches(hint);
            seen.clear();
            seen.push_str(hint);
        }
        *found
    }
}

/// Writes the element's hint (`id class1 class2 `, as written) into `hint`; true when
/// a class is `ng-hide` (hidden).
fn fill_hint(id: Option<&str>, classes: &[&str], hint: &mut String) -> bool {
    hint.clear();
    if let Some(id) = id {
        hint.push_str(id);
        hint.push(' ');
    }
    let mut ng_hide = false;
    for &class in classes {
        ng_hide |= class == "ng-hide";
        hint.push_str(class);
        hint.push(' ');
    }
    ng_hide
}

/// Inline-style or attribute hiding (stylesheets are not evaluated; the `ng-hide`
/// class is found by [`fill_hint`]).
fn is_hidden(attrs: &ElementAttrs, squeezed: &mut String) -> bool {
    if attrs.hidden {
        return true;
    }
    if let Some(style) = attrs.style {
        // The style without whitespace, ASCII lower-cased.
        squeezed.clear();
        if style.is_ascii() {
            squeezed.extend(
                style
                    .bytes()
                    .filter(|&b| !ASCII_BLANK[usize::from(b)])
                    .map(|b| char::from(b.to_ascii_lowercase())),
            );
        } else {
            squeezed.extend(style.chars().filter(|c| !c.is_whitespace()));
            squeezed.make_ascii_lowercase();
        }
        if squeezed.contains("display:none") || squeezed.contains("visibility:hidden") {
            return true;
        }
    }
    false
}

/// Why the element is marked, if it is; `hint` is its id and classes.
fn mark_kind(
    tag: Tag,
    attrs: &ElementAttrs,
    hint: &str,
    seen: &mut HintCache,
    rules: &MetaRules,
) -> Option<MarkKind> {
    if (1..=3).contains(&tag.heading) {
        return Some(MarkKind::Title(tag.heading));
    }
    let rel = attrs.rel.unwrap_or("");
    let itemprop = attrs.itemprop.unwrap_or("");
    if rel.eq_ignore_ascii_case("author") || itemprop.eq_ignore_ascii_case("author") {
        return Some(MarkKind::RelAuthor);
    }
    if itemprop.eq_ignore_ascii_case("headline") || tag.is(Tag::UCAPTITLE) {
        return Some(MarkKind::Title(0));
    }
    if itemprop.eq_ignore_ascii_case("datepublished") || tag.is(Tag::TIME) {
        return Some(MarkKind::Date);
    }
    if hint.is_empty() || tag.is(Tag::NO_HINT) {
        return None;
    }
    let found = seen.matches(hint, rules);
    if found.has(Hint::BREADCRUMB) {
        return Some(MarkKind::Breadcrumb);
    }
    if found.has(Hint::TITLE) && !found.has(Hint::TITLE_NOT) {
        return Some(MarkKind::Title(0));
    }
    if found.has(Hint::SOURCE) {
        return Some(MarkKind::Source);
    }
    if found.has(Hint::AUTHOR) {
        return Some(MarkKind::Author);
    }
    if found.has(Hint::DATE) {
        return Some(MarkKind::Date);
    }
    None
}

/// Collapses every run of whitespace (including U+3000 and &nbsp;) into one space.
pub fn collapse_ws(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_collapsed(&mut out, &mut false, s);
    out
}

/// Whitespace for [`collapse_ws`]: Unicode whitespace, no-break and zero-width spaces
/// ([`not_kept_at`] decides the same from the bytes).
#[cfg(test)]
fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{a0}' || c == '\u{feff}' || c == '\u{200b}'
}

/// Bytes that may start a character [`push_collapsed`] does not keep: ASCII whitespace
/// and the lead bytes of U+0085, U+00A0, U+1680, U+2000..U+205F, U+3000, U+FEFF and
/// U+FFFD. Every other byte belongs to a kept character (most of Chinese text).
const MAY_NOT_KEEP: [bool; 256] = {
    let mut table = ASCII_BLANK;
    table[0xC2] = true;
    table[0xE1] = true;
    table[0xE2] = true;
    table[0xE3] = true;
    table[0xEF] = true;
    table
};

/// ASCII whitespace (`char::is_whitespace`: tab to carriage return, and space).
const ASCII_BLANK: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x09;
    while b <= 0x0D {
        table[b] = true;
        b += 1;
    }
    table[b' ' as usize] = true;
    table
};

/// Appends `text` to `out` with whitespace collapsed as [`collapse_ws`] does, so that
/// text pushed in pieces gives the same result as the whole: `pending` carries "a space
/// is due before the next character" from one call to the next. U+FFFD is dropped.
///
/// Works on bytes: runs of kept characters are found without decoding them and copied at
/// once; only the few lead bytes of [`MAY_NOT_KEEP`] are looked at more closely.
fn push_collapsed(out: &mut String, pending: &mut bool, text: &str) {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // A run of kept characters, copied at once.
        let start = i;
        i = skip_kept(bytes, i);
        if i > start {
            if *pending {
                out.push(' ');
                *pending = false;
            }
            out.push_str(&text[start..i]);
        }
        // Then spaces (one is due before the next kept character) and dropped U+FFFD.
        while i < bytes.len() {
            let Some((len, space)) = not_kept_at(bytes, i) else {
                break;
            };
            if space {
                *pending = !out.is_empty();
            }
            i += len;
        }
    }
}

/// The first index from `i` on where a character [`push_collapsed`] does not keep starts
/// (or the end). `i` is at the start of a character.
fn skip_kept(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() {
        let b = bytes[i];
        if b.wrapping_sub(0xE4) <= 0xEE - 0xE4 {
            // U+4000..U+EFFF (the CJK ideographs): never a space, three bytes.
            i += 3;
        } else if !MAY_NOT_KEEP[usize::from(b)] {
            // Any other byte that cannot start a dropped character (continuation bytes
            // included: they are stepped over one by one).
            i += 1;
        } else if not_kept_at(bytes, i).is_some() {
            return i;
        } else {
            // A kept character with a lead byte of [`MAY_NOT_KEEP`] (`。`, `，`, `—`).
            i += utf8_len(b);
        }
    }
    bytes.len()
}

/// Length of the UTF-8 sequence a lead byte starts.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

/// When the character at `i` is one [`push_collapsed`] does not keep: its byte length and
/// whether it is a space (else it is U+FFFD, dropped). Read from the bytes, as [`is_space`]
/// decides: ASCII whitespace, U+0085, U+00A0, U+1680, U+2000..U+200B, U+2028, U+2029,
/// U+202F, U+205F, U+3000, U+FEFF.
fn not_kept_at(bytes: &[u8], i: usize) -> Option<(usize, bool)> {
    let b = bytes[i];
    if !MAY_NOT_KEEP[usize::from(b)] {
        return None;
    }
    if b < 0x80 {
        return Some((1, true));
    }
    if bytes[i..].starts_with("\u{fffd}".as_bytes()) {
        return Some((3, false));
    }
    wide_space_len(&bytes[i..]).map(|len| (len, true))
}

/// `<br>` inside a headline: nothing between two CJK characters, a space otherwise;
/// whitespace collapsed.
///
/// The breaks between two significant characters (neither whitespace nor a break) all
/// see the same neighbours, so their space, if any, is written once at the start of the
/// text after them, inside the same whitespace run.
fn resolve_breaks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending = false;
    // The last significant character before the current piece.
    let mut prev: Option<char> = None;
    let mut breaks = false;
    for (i, piece) in s.split(BREAK).enumerate() {
        breaks |= i > 0;
        let mut significant = piece.chars().filter(|c| !c.is_whitespace());
        if let Some(first) = significant.next() {
            if breaks && !(prev.is_some_and(is_cjk) && is_cjk(first)) {
                push_collapsed(&mut out, &mut pending, " ");
            }
            breaks = false;
            prev = Some(significant.next_back().unwrap_or(first));
        }
        push_collapsed(&mut out, &mut pending, piece);
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The character-by-character collapse the streaming one replaced.
    fn collapse_reference(s: &str) -> String {
        let mut out = String::new();
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

    /// The quadratic `<br>` resolution the one-pass one replaced.
    fn resolve_reference(s: &str) -> String {
        let chars: Vec<char> = s.chars().collect();
        let mut out = String::new();
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
        collapse_reference(&out)
    }

    const ALPHABET: &[char] = &[
        'a',
        'Z',
        '1',
        ' ',
        '\t',
        '\n',
        '\u{b}',
        '\u{c}',
        '\r',
        '\u{85}',
        '\u{a0}',
        '\u{1680}',
        '\u{2003}',
        '\u{200b}',
        '\u{2028}',
        '\u{202f}',
        '\u{205f}',
        '\u{3000}',
        '\u{feff}',
        '\u{fffd}',
        '中',
        '文',
        '，',
        '。',
        '\u{e9}',
        '\u{2014}',
        '\u{ff01}',
        '\u{1f600}',
        BREAK,
    ];

    fn random_text(rng: &mut fastrand::Rng, with_breaks: bool) -> String {
        if rng.u8(..) < 40 {
            // Long runs, as in indentation and paragraphs.
            let mut text = String::new();
            for _ in 0..rng.usize(1..6) {
                let c = ALPHABET[rng.usize(0..ALPHABET.len())];
                if with_breaks || c != BREAK {
                    text.extend(std::iter::repeat(c).take(rng.usize(1..20)));
                }
            }
            return text;
        }
        let len = rng.usize(0..24);
        (0..len)
            .map(|_| ALPHABET[rng.usize(0..ALPHABET.len())])
            .filter(|&c| with_breaks || c != BREAK)
            .collect()
    }

    #[test]
    fn streaming_collapse_equals_the_whole_text_collapsed() {
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..20_000 {
            let text = random_text(&mut rng, false);
            let expected = collapse_reference(&text);
            assert_eq!(collapse_ws(&text), expected, "{text:?}");
            // The same text pushed in pieces.
            let cuts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            let mut out = String::new();
            let mut pending = false;
            let mut from = 0;
            for &cut in &cuts {
                if rng.bool() {
                    push_collapsed(&mut out, &mut pending, &text[from..cut]);
                    from = cut;
                }
            }
            push_collapsed(&mut out, &mut pending, &text[from..]);
            assert_eq!(out, expected, "{text:?} in pieces");
        }
    }

    #[test]
    fn byte_classification_equals_the_character_one() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let expected = if is_space(c) {
                Some((c.len_utf8(), true))
            } else if c == '\u{fffd}' {
                Some((3, false))
            } else {
                None
            };
            assert_eq!(not_kept_at(bytes, 0), expected, "{:X}", c as u32);
            assert_eq!(utf8_len(bytes[0]), c.len_utf8());
            let kept = if expected.is_some() { 0 } else { bytes.len() };
            assert_eq!(skip_kept(bytes, 0), kept, "{:X}", c as u32);
        }
    }

    #[test]
    fn hint_from_raw_attributes_equals_the_element_accessors() {
        let html = Html::parse_document(
            "<div id='Main' class='b a  b\tc\u{3000}d'><p class=''>x</p><span id='x' \
             class='ng-hide title'>y</span><svg><a xlink:href='#' class='k'>z</a></svg>\
             <i class=' z  y '></i></div>",
        );
        let mut classes = Vec::new();
        let mut hint = String::new();
        for node in html.tree.nodes() {
            let Some(el) = node.value().as_element() else {
                continue;
            };
            let attrs = ElementAttrs::of(el, &mut classes);
            let ng_hide = fill_hint(attrs.id, &classes, &mut hint);
            let mut expected = String::new();
            if let Some(id) = el.id() {
                expected.push_str(id);
                expected.push(' ');
            }
            for class in el.classes() {
                expected.push_str(class);
                expected.push(' ');
            }
            assert_eq!(hint, expected);
            assert_eq!(ng_hide, el.classes().any(|c| c == "ng-hide"));
        }
    }

    #[test]
    fn one_pass_break_resolution_equals_the_reference() {
        let mut rng = fastrand::Rng::with_seed(11);
        for _ in 0..20_000 {
            let text = random_text(&mut rng, true);
            assert_eq!(resolve_breaks(&text), resolve_reference(&text), "{text:?}");
        }
        assert_eq!(resolve_breaks("县政府\u{1}召开会议"), "县政府召开会议");
        assert_eq!(resolve_breaks("Council\u{1} meets"), "Council meets");
    }
}
