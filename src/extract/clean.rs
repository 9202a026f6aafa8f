//! Boilerplate removal: navigation, widgets, related links, footers, hidden blocks.
//!
//! Every rule is data (`config/rules/clean.toml`); this module only knows how to apply
//! them safely. Safety comes from measuring the page first (`DomStats`): how much
//! visible text and how much prose every element holds, and which element holds most of
//! the prose (the likely article). A guarded rule never removes that element or its
//! ancestors, nor anything holding a large share of the page's text or prose, so a class
//! named `bottom` or `and-w-sidebar` on the article wrapper costs nothing. Text rules only
//! read short blocks, so a paragraph that mentions 网站地图 or 版权所有 stays.
//!
//! Order per element (outermost first, first match wins, the subtree goes with it):
//! tag rules, hidden elements, aria-hidden, class / id rules, text rules.
//!
//! All walks over the tree are iterative: pages with 100 000 nested elements must not
//! overflow the stack.

use std::collections::{HashMap, HashSet};

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::node::Element;
use scraper::{Html, Node};
use serde::Deserialize;

use crate::rules::{RuleSource, RulesError};

/// Compiled `config/rules/clean.toml`.
#[derive(Debug, Default)]
pub struct CleanRules {
    settings: Settings,
    tag_rules: Vec<TagRule>,
    attr_rules: Vec<AttrRule>,
    text_rules: Vec<TextRule>,
    hidden_classes: HashSet<String>,
}

#[derive(Debug, Clone, Copy)]
struct Settings {
    prose_min_chars: usize,
    guard_text_share: f64,
    guard_prose_share: f64,
    hidden_guard_prose_share: f64,
    text_rule_max_chars: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            prose_min_chars: 40,
            guard_text_share: 0.4,
            guard_prose_share: 0.3,
            hidden_guard_prose_share: 0.5,
            text_rule_max_chars: 1500,
        }
    }
}

#[derive(Debug)]
struct TagRule {
    name: String,
    tags: HashSet<String>,
    guarded: bool,
    outside_article: bool,
}

#[derive(Debug)]
struct AttrRule {
    name: String,
    pattern: Regex,
    min_link_share: f64,
}

#[derive(Debug)]
struct TextRule {
    name: String,
    pattern: Regex,
    max_chars: usize,
    max_prose_chars: usize,
    min_link_share: f64,
    min_distinct: usize,
    prose_ok: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    settings: RawSettings,
    #[serde(default)]
    tags: Vec<RawTagRule>,
    #[serde(default)]
    hidden: RawHidden,
    #[serde(default)]
    attrs: Vec<RawAttrRule>,
    #[serde(default)]
    texts: Vec<RawTextRule>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSettings {
    prose_min_chars: Option<usize>,
    guard_text_share: Option<f64>,
    guard_prose_share: Option<f64>,
    hidden_guard_prose_share: Option<f64>,
    text_rule_max_chars: Option<usize>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTagRule {
    name: String,
    tags: Vec<String>,
    #[serde(default = "default_true")]
    guarded: bool,
    #[serde(default)]
    outside_article: bool,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawHidden {
    #[serde(default)]
    classes: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAttrRule {
    name: String,
    pattern: String,
    #[serde(default)]
    min_link_share: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTextRule {
    name: String,
    pattern: String,
    max_chars: usize,
    #[serde(default)]
    max_prose_chars: usize,
    #[serde(default)]
    min_link_share: f64,
    #[serde(default = "default_one")]
    min_distinct: usize,
    #[serde(default)]
    prose_ok: bool,
}

fn default_true() -> bool {
    true
}

fn default_one() -> usize {
    1
}

fn invalid(file: &str, message: String) -> RulesError {
    RulesError::Invalid {
        file: file.to_string(),
        message,
    }
}

fn compile_regex(file: &str, rule: &str, pattern: &str) -> Result<Regex, RulesError> {
    Regex::new(pattern).map_err(|e| invalid(file, format!("rule \"{rule}\": bad pattern: {e}")))
}

impl CleanRules {
    /// Parses and compiles every source; later sources append rules and override settings.
    pub fn compile(sources: &[RuleSource]) -> Result<Self, RulesError> {
        let mut rules = CleanRules::default();
        for source in sources {
            let file = source.name.as_str();
            let raw: RawFile =
                toml::from_str(&source.text).map_err(|e| invalid(file, e.to_string()))?;
            let s = &mut rules.settings;
            let r = raw.settings;
            if let Some(v) = r.prose_min_chars {
                s.prose_min_chars = v;
            }
            if let Some(v) = r.guard_text_share {
                s.guard_text_share = v;
            }
            if let Some(v) = r.guard_prose_share {
                s.guard_prose_share = v;
            }
            if let Some(v) = r.hidden_guard_prose_share {
                s.hidden_guard_prose_share = v;
            }
            if let Some(v) = r.text_rule_max_chars {
                s.text_rule_max_chars = v;
            }
            for tag in raw.tags {
                rules.tag_rules.push(TagRule {
                    name: tag.name,
                    tags: tag.tags.iter().map(|t| t.to_ascii_lowercase()).collect(),
                    guarded: tag.guarded,
                    outside_article: tag.outside_article,
                });
            }
            rules
                .hidden_classes
                .extend(raw.hidden.classes.iter().map(|c| c.to_ascii_lowercase()));
            for attr in raw.attrs {
                let pattern = compile_regex(file, &attr.name, &attr.pattern)?;
                rules.attr_rules.push(AttrRule {
                    name: attr.name,
                    pattern,
                    min_link_share: attr.min_link_share,
                });
            }
            for text in raw.texts {
                let pattern = compile_regex(file, &text.name, &text.pattern)?;
                if text.min_distinct == 0 {
                    return Err(invalid(
                        file,
                        format!("rule \"{}\": min_distinct must be at least 1", text.name),
                    ));
                }
                rules.text_rules.push(TextRule {
                    name: text.name,
                    pattern,
                    max_chars: text.max_chars,
                    max_prose_chars: text.max_prose_chars,
                    min_link_share: text.min_link_share,
                    min_distinct: text.min_distinct,
                    prose_ok: text.prose_ok,
                });
            }
        }
        Ok(rules)
    }
}

/// What [`clean`] removed, by rule name (for logs and tests).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CleanReport {
    /// (rule name, elements removed), in the order rules first fired.
    pub removed: Vec<(String, usize)>,
    /// Visible characters removed (white space not counted).
    pub removed_chars: usize,
    /// Visible characters before cleaning.
    pub total_chars: usize,
    /// (rule name, start of the removed text) for every removal that held text.
    pub samples: Vec<(String, String)>,
}

impl CleanReport {
    fn count(&mut self, rule: &str) {
        match self.removed.iter_mut().find(|(name, _)| name == rule) {
            Some((_, n)) => *n += 1,
            None => self.removed.push((rule.to_string(), 1)),
        }
    }

    /// How many elements a rule removed.
    pub fn removed_by(&self, rule: &str) -> usize {
        self.removed
            .iter()
            .find(|(name, _)| name == rule)
            .map_or(0, |(_, n)| *n)
    }
}

/// Detaches every boilerplate node from `doc`.
pub fn clean(doc: &mut Html, rules: &CleanRules) -> CleanReport {
    let stats = DomStats::measure(doc, rules.settings.prose_min_chars);
    let mut report = CleanReport {
        total_chars: stats.total.text as usize,
        ..CleanReport::default()
    };
    let mut texts = TextCache::default();
    let mut doomed: Vec<NodeId> = Vec::new();
    let mut stack: Vec<(NodeRef<Node>, bool)> = vec![(doc.tree.root(), false)];
    while let Some((node, in_article)) = stack.pop() {
        let verdict = match node.value() {
            Node::Comment(_) => Some("comments"),
            Node::ProcessingInstruction(_) => Some("processing_instructions"),
            Node::Element(el) => judge_element(node, el, in_article, rules, &stats, &mut texts),
            _ => None,
        };
        if let Some(rule) = verdict {
            report.count(rule);
            let chars = stats.get(node.id()).text as usize;
            report.removed_chars += chars;
            if chars > 0 {
                report
                    .samples
                    .push((rule.to_string(), compact_text(node, 80)));
            }
            doomed.push(node.id());
            continue;
        }
        let inside = in_article
            || node
                .value()
                .as_element()
                .is_some_and(|el| matches!(el.name(), "article" | "main"));
        // Reverse so children are visited in document order.
        let children: Vec<_> = node.children().collect();
        for child in children.into_iter().rev() {
            stack.push((child, inside));
        }
    }
    for id in doomed {
        if let Some(mut n) = doc.tree.get_mut(id) {
            n.detach();
        }
    }
    report
}

/// The first rule that removes this element, if any.
fn judge_element<'r>(
    node: NodeRef<Node>,
    el: &Element,
    in_article: bool,
    rules: &'r CleanRules,
    stats: &DomStats,
    texts: &mut TextCache,
) -> Option<&'r str> {
    let name = el.name();
    if matches!(name, "html" | "body" | "head") {
        return None;
    }
    let s = stats.get(node.id());
    let settings = &rules.settings;
    let guarded_ok = || {
        !stats.protected.contains(&node.id())
            && stats.removable(s, settings.guard_text_share, settings.guard_prose_share)
    };
    for rule in &rules.tag_rules {
        if rule.tags.contains(name) {
            if rule.outside_article && in_article {
                continue;
            }
            if !rule.guarded || guarded_ok() {
                return Some(rule.name.as_str());
            }
        }
    }
    if name == "title" || name == "meta" {
        return None;
    }
    // A hidden element that holds the page's main prose is an article revealed by a
    // script (or a tab), not boilerplate.
    if hidden_reason(el, &rules.hidden_classes).is_some()
        && !stats.protected.contains(&node.id())
        && stats.removable(s, 1.0, settings.hidden_guard_prose_share)
    {
        return Some("hidden");
    }
    if el
        .attr("aria-hidden")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        && s.prose == 0
    {
        return Some("aria_hidden");
    }
    if !rules.attr_rules.is_empty() && guarded_ok() {
        let id = el.id().map(|i| i.to_ascii_lowercase());
        let classes: Vec<String> = el.classes().map(|c| c.to_ascii_lowercase()).collect();
        for rule in &rules.attr_rules {
            if rule.min_link_share > 0.0 && (s.link as f64) < rule.min_link_share * s.text as f64 {
                continue;
            }
            let hit = id
                .iter()
                .chain(classes.iter())
                .any(|token| rule.pattern.is_match(token));
            if hit {
                return Some(rule.name.as_str());
            }
        }
    }
    if s.text == 0 || s.text as usize > settings.text_rule_max_chars {
        return None;
    }
    let mut text: Option<&str> = None;
    for rule in &rules.text_rules {
        // Prose may ride along in a footer, but a block that is mostly prose is content.
        if s.text as usize > rule.max_chars
            || s.prose as usize > rule.max_prose_chars
            || (s.prose * 2 > s.text && !rule.prose_ok)
            || (s.prose > 0 && !guarded_ok())
        {
            continue;
        }
        if rule.min_link_share > 0.0 && (s.link as f64) < rule.min_link_share * s.text as f64 {
            continue;
        }
        let t = match text {
            Some(t) => t,
            None => {
                let t = texts.get(node, stats);
                text = Some(t);
                t
            }
        };
        if distinct_matches(&rule.pattern, t, rule.min_distinct) {
            return Some(rule.name.as_str());
        }
    }
    None
}

fn distinct_matches(pattern: &Regex, text: &str, min: usize) -> bool {
    if min <= 1 {
        return pattern.is_match(text);
    }
    let mut seen: Vec<&str> = Vec::new();
    for m in pattern.find_iter(text) {
        if !seen.contains(&m.as_str()) {
            seen.push(m.as_str());
            if seen.len() >= min {
                return true;
            }
        }
    }
    false
}

/// Why an element is not shown, judged from its own attributes.
pub(crate) fn hidden_reason(
    el: &Element,
    hidden_classes: &HashSet<String>,
) -> Option<&'static str> {
    if el.attr("hidden").is_some() {
        return Some("hidden attribute");
    }
    if el.name() == "input"
        && el
            .attr("type")
            .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
    {
        return Some("hidden input");
    }
    if let Some(style) = el.attr("style") {
        if let Some(why) = hidden_style(style) {
            return Some(why);
        }
    }
    if !hidden_classes.is_empty()
        && el
            .classes()
            .any(|c| hidden_classes.contains(c.to_ascii_lowercase().as_str()))
    {
        return Some("hiding class");
    }
    None
}

/// The properties [`hidden_style`] reads (lower case).
const HIDING_PROPERTIES: [&str; 19] = [
    "display",
    "visibility",
    "font-size",
    "opacity",
    "position",
    "left",
    "top",
    "right",
    "margin-left",
    "margin-top",
    "text-indent",
    "height",
    "max-height",
    "width",
    "max-width",
    "overflow",
    "overflow-y",
    "overflow-x",
    "clip",
];

/// Reads an inline style (or a CSS rule body) and says whether it hides the element.
pub(crate) fn hidden_style(style: &str) -> Option<&'static str> {
    let mut position_out = false;
    let mut offscreen = false;
    let mut zero_height = false;
    let mut zero_width = false;
    let mut overflow_hidden = false;
    for decl in style.split(';') {
        let Some((prop, value)) = decl.split_once(':') else {
            continue;
        };
        let prop = prop.trim();
        // Only the properties matched below can hide an element: skip the others before
        // the value is normalised (four allocations), as this runs on every declaration
        // of every inline style and style sheet (profile: docs/performance.md).
        if !HIDING_PROPERTIES
            .iter()
            .any(|p| prop.eq_ignore_ascii_case(p))
        {
            continue;
        }
        let prop = prop.to_ascii_lowercase();
        let value: String = value
            .to_ascii_lowercase()
            .replace("!important", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        match prop.as_str() {
            "display" if value == "none" => return Some("display:none"),
            "visibility" if value == "hidden" || value == "collapse" => {
                return Some("visibility:hidden")
            }
            "font-size" if is_zero_length(&value) => return Some("font-size:0"),
            "opacity" if value.parse::<f64>().is_ok_and(|o| o <= 0.01) => return Some("opacity:0"),
            "position" if value == "absolute" || value == "fixed" => position_out = true,
            "left" | "top" | "right" | "margin-left" | "margin-top" if far_negative(&value) => {
                offscreen = true
            }
            "text-indent" if far_negative(&value) => return Some("text-indent off-screen"),
            "height" | "max-height" if is_zero_length(&value) => zero_height = true,
            "width" | "max-width" if is_zero_length(&value) => zero_width = true,
            "overflow" | "overflow-y" | "overflow-x" if value == "hidden" => overflow_hidden = true,
            "clip" if value.replace(' ', "").starts_with("rect(0") => {
                offscreen = offscreen || position_out
            }
            _ => {}
        }
    }
    if position_out && offscreen {
        return Some("positioned off-screen");
    }
    if (zero_height || zero_width) && overflow_hidden {
        return Some("zero size with overflow hidden");
    }
    None
}

fn is_zero_length(value: &str) -> bool {
    let number: String = value
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-')
        .collect();
    let unit = &value[number.len()..];
    !number.is_empty()
        && number.parse::<f64>().is_ok_and(|n| n.abs() < 0.5)
        && matches!(
            unit.trim(),
            "" | "px" | "pt" | "em" | "rem" | "%" | "vw" | "vh"
        )
}

/// A coordinate far to the left / top (e.g. `-9999px`, `-999em`).
fn far_negative(value: &str) -> bool {
    let v = value.trim();
    let Some(rest) = v.strip_prefix('-') else {
        return false;
    };
    let number: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let Ok(n) = number.parse::<f64>() else {
        return false;
    };
    let unit = rest[number.len()..].trim();
    match unit {
        "" | "px" | "pt" => n >= 500.0,
        "em" | "rem" => n >= 50.0,
        "%" | "vw" | "vh" => n >= 90.0,
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------
// Page measurements shared by the clean and spam stages.

/// Visible-text measurements of one node (white space not counted).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NodeStats {
    /// Visible characters.
    pub text: u32,
    /// Characters in prose runs (long text with sentence punctuation).
    pub prose: u32,
    /// Characters inside links.
    pub link: u32,
    /// Children (elements or text) that hold visible text.
    pub text_children: u32,
    /// Holds a non-blank text node directly.
    pub direct_text: bool,
}

/// [`NodeStats`] for every node, measured once before anything is removed.
#[derive(Debug, Default)]
pub(crate) struct DomStats {
    map: HashMap<NodeId, NodeStats>,
    pub total: NodeStats,
    /// The element holding the most prose (paragraphs credited to their container) and
    /// all its ancestors: the likely article, never removed by a guarded rule.
    pub protected: HashSet<NodeId>,
}

/// Elements that make a paragraph of their own; their parent is the text's container.
fn is_paragraph_tag(name: &str) -> bool {
    matches!(
        name,
        "p" | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "blockquote"
            | "pre"
            | "dd"
            | "dt"
            | "figcaption"
    )
}

fn is_block_tag(name: &str) -> bool {
    is_paragraph_tag(name)
        || matches!(
            name,
            "div"
                | "section"
                | "article"
                | "main"
                | "td"
                | "th"
                | "table"
                | "tbody"
                | "tr"
                | "ul"
                | "ol"
                | "body"
                | "center"
                | "form"
                | "dl"
                | "figure"
        )
}

/// Elements whose text is never shown.
pub(crate) fn is_invisible_tag(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "head"
            | "title"
            | "textarea"
            | "option"
            | "select"
    )
}

impl DomStats {
    /// One iterative walk; children are summed into parents on the closing edge.
    pub fn measure(doc: &Html, prose_min_chars: usize) -> DomStats {
        Self::measure_from(doc.tree.root(), prose_min_chars)
    }

    pub fn measure_from(root: NodeRef<Node>, prose_min_chars: usize) -> DomStats {
        let mut map = HashMap::new();
        let mut stack: Vec<(NodeId, NodeStats)> = Vec::new();
        // Open elements that are blocks: (stack depth, id, is a paragraph tag).
        let mut blocks: Vec<(usize, NodeId, bool)> = Vec::new();
        let mut credited: HashMap<NodeId, u32> = HashMap::new();
        let mut in_link = 0usize;
        let mut invisible = 0usize;
        let mut total = NodeStats::default();
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if let Node::Element(el) = node.value() {
                        if el.name() == "a" {
                            in_link += 1;
                        }
                        if is_invisible_tag(el.name()) {
                            invisible += 1;
                        }
                        if is_block_tag(el.name()) {
                            blocks.push((stack.len(), node.id(), is_paragraph_tag(el.name())));
                        }
                    }
                    stack.push((node.id(), NodeStats::default()));
                }
                Edge::Close(node) => {
                    let Some((id, mut s)) = stack.pop() else {
                        continue;
                    };
                    match node.value() {
                        Node::Text(t) if invisible == 0 => {
                            let (chars, prose) = measure_text(t, prose_min_chars);
                            s.text = chars;
                            s.prose = prose;
                            if in_link > 0 {
                                s.link = chars;
                            }
                            if prose > 0 {
                                // A paragraph's prose belongs to the paragraph's parent.
                                let container = match blocks.last() {
                                    Some(&(depth, _, true)) if depth > 0 => {
                                        stack.get(depth - 1).map(|e| e.0)
                                    }
                                    Some(&(_, id, _)) => Some(id),
                                    None => None,
                                };
                                if let Some(c) = container {
                                    *credited.entry(c).or_default() += prose;
                                }
                            }
                        }
                        Node::Element(el) => {
                            if el.name() == "a" {
                                in_link = in_link.saturating_sub(1);
                            }
                            if is_invisible_tag(el.name()) {
                                invisible = invisible.saturating_sub(1);
                            }
                            if blocks.last().is_some_and(|b| b.1 == id) {
                                blocks.pop();
                            }
                        }
                        _ => {}
                    }
                    if let Some((_, parent)) = stack.last_mut() {
                        parent.text += s.text;
                        parent.prose += s.prose;
                        parent.link += s.link;
                        if s.text > 0 {
                            parent.text_children += 1;
                            if matches!(node.value(), Node::Text(_)) {
                                parent.direct_text = true;
                            }
                        }
                    } else {
                        total = s;
                    }
                    map.insert(id, s);
                }
            }
        }
        let mut protected = HashSet::new();
        let anchor = credited.into_iter().max_by_key(|(_, prose)| *prose);
        if let Some(node) = anchor
            .filter(|(_, prose)| *prose >= 100)
            .and_then(|(id, _)| root.tree().get(id))
        {
            protected.insert(node.id());
            protected.extend(node.ancestors().map(|a| a.id()));
        }
        DomStats {
            map,
            total,
            protected,
        }
    }

    pub fn get(&self, id: NodeId) -> NodeStats {
        self.map.get(&id).copied().unwrap_or_default()
    }

    /// True when a node is small enough, relative to the page, to be removed safely.
    pub fn removable(&self, s: NodeStats, max_text_share: f64, max_prose_share: f64) -> bool {
        let text_ok = s.text as f64 <= max_text_share * self.total.text as f64 || s.text < 200;
        let prose_ok =
            s.prose == 0 || (s.prose as f64) <= max_prose_share * self.total.prose as f64;
        text_ok && prose_ok
    }
}

/// (visible chars, prose chars) of one text node.
pub(crate) fn measure_text(text: &str, prose_min_chars: usize) -> (u32, u32) {
    let mut chars = 0u32;
    let mut stops = 0u32;
    let mut commas = 0u32;
    for c in text.chars() {
        if is_blank(c) {
            continue;
        }
        chars += 1;
        match c {
            '。' | '！' | '？' | '；' => stops += 1,
            '，' | '、' => commas += 1,
            '.' | '!' | '?' | ';' | ',' => commas += 1,
            _ => {}
        }
    }
    let prose = chars as usize >= prose_min_chars && (stops > 0 || commas >= 2);
    (chars, if prose { chars } else { 0 })
}

/// White space as pages use it: ASCII, no-break space, ideographic space, zero-width.
pub(crate) fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{a0}'
        )
}

/// Visible text of a subtree with every blank removed (iterative).
pub(crate) fn compact_text(node: NodeRef<Node>, limit: usize) -> String {
    let mut out = String::new();
    let mut invisible = 0usize;
    let mut count = 0usize;
    for edge in node.traverse() {
        match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(el) if is_invisible_tag(el.name()) => invisible += 1,
                Node::Text(t) if invisible == 0 => {
                    for c in t.chars().filter(|c| !is_blank(*c)) {
                        out.push(c);
                        count += 1;
                        if count >= limit {
                            return out;
                        }
                    }
                }
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
    out
}

/// Texts of elements, computed once per chain of single-child wrappers: in a chain
/// `<div><div><div>text</div></div></div>` every element has the same text, so only the
/// innermost one is read (keeps deep nesting linear).
#[derive(Default)]
pub(crate) struct TextCache {
    by_id: HashMap<NodeId, String>,
    rep: HashMap<NodeId, NodeId>,
}

impl TextCache {
    pub fn get<'a>(&'a mut self, node: NodeRef<Node>, stats: &DomStats) -> &'a str {
        let rep = self.representative(node, stats);
        self.by_id
            .entry(rep.id())
            .or_insert_with(|| compact_text(rep, usize::MAX))
            .as_str()
    }

    /// The innermost node that has the same visible text as `node` (memoized along the
    /// whole chain, so a chain is walked once).
    fn representative<'a>(
        &mut self,
        node: NodeRef<'a, Node>,
        stats: &DomStats,
    ) -> NodeRef<'a, Node> {
        let mut path = Vec::new();
        let mut current = node;
        let found = loop {
            if let Some(rep) = self
                .rep
                .get(&current.id())
                .and_then(|id| node.tree().get(*id))
            {
                break rep;
            }
            path.push(current.id());
            let s = stats.get(current.id());
            if s.direct_text || s.text_children != 1 {
                break current;
            }
            match current.children().find(|c| stats.get(c.id()).text > 0) {
                Some(child) if child.value().is_element() => current = child,
                _ => break current,
            }
        };
        for id in path {
            self.rep.insert(id, found.id());
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Only this stage's rules, so tests do not depend on other stages' files.
    pub(crate) fn builtin_clean_rules() -> CleanRules {
        CleanRules::compile(&[RuleSource {
            name: "clean.toml".into(),
            text: include_str!("../../config/rules/clean.toml").into(),
        }])
        .expect("built-in clean rules compile")
    }

    fn cleaned(html: &str) -> (String, CleanReport) {
        let rules = builtin_clean_rules();
        let mut doc = Html::parse_document(html);
        let report = clean(&mut doc, &rules);
        (compact_text(doc.tree.root(), usize::MAX), report)
    }

    const ARTICLE: &str = "县政府召开常务会议，研究部署今年秋冬季农业生产和防汛抗旱工作。会议强调，要坚持问题导向，压实各级责任，确保各项措施落到实处，切实保障人民群众生命财产安全。";

    fn page(extra_top: &str, extra_bottom: &str) -> String {
        format!(
            "<html><head><title>t</title></head><body>{extra_top}<div class=\"main\"><h1>标题</h1>\
             <div id=\"zoom\"><p>{ARTICLE}</p><p>{ARTICLE}</p><p>{ARTICLE}</p></div></div>{extra_bottom}</body></html>"
        )
    }

    #[test]
    fn removes_scripts_styles_comments_and_forms() {
        let html = page(
            "<script>var a='脚本文字';</script><style>.x{color:red}</style><!-- 注释文字 --><form><input value='搜索'><button>搜索按钮</button></form>",
            "<noscript>请启用脚本</noscript><iframe src='x'>框架</iframe><svg><text>图形文字</text></svg>",
        );
        let (text, report) = cleaned(&html);
        for gone in ["脚本文字", "注释文字", "搜索按钮", "请启用脚本", "图形文字"]
        {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn removes_breadcrumb_widgets_and_footer() {
        let html = page(
            "<div class=\"wz\">当前位置：<a href='/'>首页</a> &gt; <a>政务公开</a> &gt; 政务动态</div>\
             <div class=\"tt\">首页 &gt; 新闻中心</div>\
             <div class=\"info\"><span>来源：县政府办</span> <span>【字号：<a>大</a> <a>中</a> <a>小</a>】</span> <a>【打印】</a> <a>【关闭】</a></div>",
            "<div class=\"fx\">分享到：<a>微信</a><a>微博</a></div>\
             <div class=\"xx\">上一篇：<a>关于秋季征兵的通告</a><br>下一篇：<a>关于冬季防火的通知</a></div>\
             <div class=\"xg\"><h3>相关新闻</h3><ul><li><a>县长调研农业生产</a></li><li><a>全县防汛工作会议召开</a></li></ul></div>\
             <div class=\"db\"><p>主办：某某县人民政府办公室 承办：某某县大数据中心</p>\
             <p>政府网站标识码：5100000001 蜀ICP备12345678号-1 川公网安备51000002000001号</p>\
             <p>技术支持：某某科技有限公司</p></div>",
        );
        let (text, report) = cleaned(&html);
        for gone in [
            "当前位置",
            "新闻中心",
            "字号",
            "打印",
            "分享到",
            "上一篇",
            "相关新闻",
            "县长调研",
            "主办",
            "ICP备",
            "技术支持",
        ] {
            assert!(
                !text.contains(gone),
                "{gone} survived in {text}: {report:?}"
            );
        }
        // The metadata line may go, the article must stay whole.
        assert_eq!(text.matches("县政府召开常务会议").count(), 3, "{text}");
    }

    #[test]
    fn hidden_elements_go() {
        let html = page(
            "<div style=\"display: none\">隐藏一</div><div style=\"position:absolute; left:-9999px\">隐藏二</div>\
             <p style=\"font-size:0px\">隐藏三</p><div hidden>隐藏四</div><div style=\"height:0;overflow:hidden\">隐藏五</div>\
             <span class=\"hide\">隐藏六</span><i aria-hidden=\"true\">图标</i>",
            "",
        );
        let (text, _) = cleaned(&html);
        for gone in [
            "隐藏一",
            "隐藏二",
            "隐藏三",
            "隐藏四",
            "隐藏五",
            "隐藏六",
            "图标",
        ] {
            assert!(!text.contains(gone), "{gone} survived");
        }
    }

    #[test]
    fn article_revealed_by_script_is_not_hidden_boilerplate() {
        let html = format!(
            "<html><body><div style=\"display:none\" class=\"tab\">隐藏的选项卡</div>\
             <div id=\"main\" style=\"visibility:hidden\"><p>{ARTICLE}</p><p>{ARTICLE}</p></div>\
             <ul class=\"list\"><li><a>链接一</a></li></ul></body></html>"
        );
        let (text, report) = cleaned(&html);
        assert_eq!(text.matches("县政府召开常务会议").count(), 2, "{report:?}");
        assert!(!text.contains("隐藏的选项卡"));
    }

    #[test]
    fn guard_keeps_article_inside_misleading_class() {
        // The whole article sits in a container whose class looks like a footer / sidebar.
        let html = format!(
            "<html><body><div class=\"nav\"><a>首页</a><a>政务公开</a></div>\
             <div class=\"bottom\"><div class=\"side\"><p>{ARTICLE}</p><p>{ARTICLE}</p></div></div></body></html>"
        );
        let (text, report) = cleaned(&html);
        assert_eq!(text.matches("县政府召开常务会议").count(), 2, "{report:?}");
        assert!(!text.contains("政务公开"));
    }

    #[test]
    fn long_paragraph_mentioning_footer_words_is_kept() {
        let para = "为提升政府网站服务水平，县政府办公室对政府网站进行了全面改版，新版网站版权所有归县人民政府，网站地图和联系我们栏目也同步更新，群众可通过多种渠道提出意见建议。";
        let html = page(&format!("<p>{para}</p>"), "");
        let (text, report) = cleaned(&html);
        assert!(text.contains("为提升政府网站服务水平"), "{report:?}");
    }

    #[test]
    fn event_lines_in_article_survive() {
        let html = format!(
            "<html><body><div class=\"content\"><p>{ARTICLE}</p><p>主办单位：县文化馆</p><p>{ARTICLE}</p></div></body></html>"
        );
        let (text, _) = cleaned(&html);
        assert!(text.contains("主办单位：县文化馆"));
    }

    #[test]
    fn header_inside_article_is_kept() {
        let html = format!(
            "<html><body><header>网站头部导航</header><article><header><h1>文章标题在这里</h1></header><p>{ARTICLE}</p><footer>文章脚注说明</footer></article><footer>页脚内容</footer></body></html>"
        );
        let (text, _) = cleaned(&html);
        assert!(!text.contains("网站头部导航"));
        assert!(!text.contains("页脚内容"));
        assert!(text.contains("文章标题在这里"));
        assert!(text.contains("文章脚注说明"));
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        // Deep enough to overflow any recursive walk on a 2 MiB test thread; html5ever
        // itself is quadratic in depth, so deeper only slows the test down.
        let depth = 20_000;
        let mut html = String::with_capacity(depth * 12);
        html.push_str("<html><body>");
        for _ in 0..depth {
            html.push_str("<div>");
        }
        html.push_str(ARTICLE);
        html.push_str("<p style='display:none'>藏</p>");
        html.push_str("</body></html>");
        let rules = builtin_clean_rules();
        let started = std::time::Instant::now();
        let mut doc = Html::parse_document(&html);
        let parsed = started.elapsed();
        let report = clean(&mut doc, &rules);
        eprintln!(
            "parse {parsed:?}, clean {:?}: {report:?}",
            started.elapsed() - parsed
        );
        let text = compact_text(doc.tree.root(), usize::MAX);
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn old_table_layout_notice_keeps_every_article_line() {
        let bytes =
            include_bytes!("../../tests/fixtures/clean/county-notice-table-layout.gb2312.html");
        let (html, _, _) = encoding_rs::GBK.decode(bytes);
        let (text, report) = cleaned(&html);
        for kept in [
            "各乡镇人民政府，县直有关单位：",
            "决定于9月23日在县体育广场举办",
            "一、活动时间：2021年9月23日上午9:00",
            "二、活动地点：县体育广场",
            "主办单位：县人民政府",
            "承办单位：县农业农村局县文化广电旅游局",
            "网站地图和联系我们栏目也将公布咨询电话",
            "县农业农村局2021年9月10日",
        ] {
            assert!(
                text.contains(kept),
                "{kept} was cleaned away: {:#?}",
                report.samples
            );
        }
        for gone in [
            "网站首页",
            "您现在的位置",
            "字体",
            "打印本页",
            "关闭窗口",
            "上一篇",
            "县长信箱",
            "网站声明",
            "版权所有：某某县",
            "ICP备",
        ] {
            assert!(!text.contains(gone), "{gone} survived: {text}");
        }
    }

    #[test]
    fn disclaimers_and_rights_notices_go_but_article_mentions_stay() {
        let html = page(
            "",
            "<div class=\"note\"><p>平台声明：本文观点仅代表作者个人，本平台只提供信息存储空间。</p></div>\
             <p>声明：以上数据仅供参考，不构成任何投资建议，据此操作风险自担。</p>\
             <div class=\"news-statement\">本页内容由编辑部整理</div>\
             <p>【本文版权归示例报社所有，未经授权，不得转载。】</p>",
        );
        let (text, report) = cleaned(&html);
        for gone in ["平台声明", "仅供参考", "编辑部整理", "不得转载"] {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
        // A bare 声明 without a hedge is an ordinary sentence of the story.
        let html = page("", "<p>声明：县政府将于下周举行新闻发布会。</p>");
        let (text, _) = cleaned(&html);
        assert!(text.contains("县政府将于下周"));
    }

    #[test]
    fn paywall_and_player_widgets_go() {
        let html = page(
            "<div class=\"btn\"><span>转播到腾讯微博</span></div>",
            "<div style=\"color:red\">本则新闻已过查询时效，请加入本站付费会员阅读全文。</div>\
             <div>自动播放开关 自动播放</div><div>正在加载...</div><h3>精彩视频推荐</h3>",
        );
        let (text, report) = cleaned(&html);
        for gone in ["转播到", "查询时效", "自动播放", "正在加载", "精彩视频推荐"]
        {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn english_rails_captions_and_read_more_links_go() {
        let rail = "<div class=\"rail\"><h3>Most read in local news</h3><ul>\
             <li><a href=\"/a\">Village fair draws record crowd, organisers say, as rain holds off</a></li>\
             <li><a href=\"/b\">Bridge repairs finish early</a></li></ul></div>";
        let html = page(
            "",
            &format!(
                "{rail}<div><h3>Don't Miss</h3><a href=\"/c\">Ferry timetable changes</a></div>\
                 <p>Read more: <a href=\"/d\">Library opens new reading room</a></p>\
                 <div>Photo: Jane Example, Agency</div><div>Image 1 of 8</div><div>Top Video</div>"
            ),
        );
        let (text, report) = cleaned(&html);
        for gone in [
            "Villagefair",
            "Bridgerepairs",
            "Ferrytimetable",
            "Libraryopens",
            "JaneExample",
            "Image1of8",
            "TopVideo",
        ] {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn teaser_rails_tag_lists_and_credits_go() {
        // A "most read" rail whose cards carry their text outside the (empty) links, a
        // tag list, a bracketed image credit and a caption toggle.
        let card = |kicker: &str, line: &str| {
            format!(
                "<div class=\"rail__item swiper-slide\"><a href=\"/p\"><img src=\"/i.jpg\"></a>\
                 <h3 class=\"rail__item-headline\">{kicker}</h3><span>{line}</span>\
                 <a class=\"rail__item-anchor\" href=\"/p\"></a></div>"
            )
        };
        let rail = format!(
            "<div class=\"rail rail--trending\"><h3>Most read in world news</h3>{}{}{}</div>",
            card(
                "TIME TRAVELLER",
                "Fans say they spotted a singer in an old photograph, again"
            ),
            card(
                "BIG FREEZE",
                "Snow to hit the north as temperatures drop to minus ten"
            ),
            card(
                "PAY RISE",
                "Nurses offered new deal after months of talks with unions"
            )
        );
        let html = page(
            "",
            &format!(
                "{rail}<p><strong>Tags <a href=\"/t/1\">county budget</a>, \
                 <a href=\"/t/2\">farming</a>, <a href=\"/t/3\">flood defence</a></strong></p>\
                 <div>(Image credit: Example Agency/J. Doe)</div><div>Close</div>"
            ),
        );
        let (text, report) = cleaned(&html);
        for gone in [
            "TIMETRAVELLER",
            "Snowtohit",
            "Nursesoffered",
            "countybudget",
            "ExampleAgency",
            "Close",
        ] {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn lone_widget_labels_go() {
        let html = page(
            "<div class=\"slot\"><span>ADVERTISEMENT</span></div>",
            "<h3>Comments</h3><div>Like this:</div><div>Like Loading...</div>\
             <span>Image copyright</span><p>Sponsored</p>",
        );
        let (text, report) = cleaned(&html);
        for gone in [
            "ADVERTISEMENT",
            "Comments",
            "Likethis",
            "LikeLoading",
            "Imagecopyright",
            "Sponsored",
        ] {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn calls_to_action_go() {
        let html = page(
            "",
            "<div class=\"zone-widget-cta-letter\"><h5>A word to our readers</h5>\
             <p>We do this work every day at no cost to you, but it is far from free to produce.</p></div>\
             <aside-like class=\"newsletter-signup\">Get the morning briefing, free, every day.</aside-like>",
        );
        let (text, report) = cleaned(&html);
        for gone in ["Awordtoourreaders", "farfromfree", "morningbriefing"] {
            assert!(!text.contains(gone), "{gone} survived: {report:?}");
        }
        assert!(text.contains("县政府召开常务会议"));
    }

    #[test]
    fn user_rules_extend_the_built_in_ones() {
        let rules = CleanRules::compile(&[
            RuleSource {
                name: "clean.toml".into(),
                text: include_str!("../../config/rules/clean.toml").into(),
            },
            RuleSource {
                name: "/etc/gazette/rules/clean.toml".into(),
                text:
                    "[[texts]]\nname = \"site_banner\"\npattern = '^本站消息提醒'\nmax_chars = 40\n"
                        .into(),
            },
        ])
        .expect("user rules compile");
        let mut doc = Html::parse_document(&page("<div>本站消息提醒：系统升级</div>", ""));
        let report = clean(&mut doc, &rules);
        assert_eq!(report.removed_by("site_banner"), 1, "{report:?}");
        assert!(rules.text_rules.len() > 1, "built-in rules are kept");

        let bad = CleanRules::compile(&[RuleSource {
            name: "/etc/gazette/rules/clean.toml".into(),
            text: "[[texts]]\nname = \"broken\"\npattern = '(('\nmax_chars = 4\n".into(),
        }]);
        let message = bad.expect_err("a bad pattern is refused").to_string();
        assert!(
            message.contains("/etc/gazette/rules/clean.toml") && message.contains("broken"),
            "{message}"
        );
    }

    #[test]
    fn hidden_style_detection() {
        assert!(hidden_style("display:none").is_some());
        assert!(hidden_style("DISPLAY : NONE !important").is_some());
        assert!(hidden_style("position:absolute;top:-999px").is_some());
        assert!(hidden_style("position:absolute;left:-9999px;width:1px").is_some());
        assert!(hidden_style("font-size:0").is_some());
        assert!(hidden_style("height:0px;overflow:hidden").is_some());
        assert!(hidden_style("text-indent:-9999px").is_some());
        assert!(hidden_style("position:absolute;left:-10px").is_none());
        assert!(hidden_style("font-size:0.9em").is_none());
        assert!(hidden_style("height:0").is_none());
        assert!(hidden_style("color:red").is_none());
    }
}
