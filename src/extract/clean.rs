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
use std::hash::BuildHasher;

use aho_corasick::AhoCorasick;
use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use regex::{Regex, RegexSet};
use scraper::node::Element;
use scraper::{Html, Node};
use serde::Deserialize;

use crate::extract::chars::three_byte_code;
use crate::extract::nodes::{class_names, id_of, slot, FastMap, FastSet, NodeSet};
use crate::rules::{RuleSource, RulesError};

/// Compiled `config/rules/clean.toml`.
#[derive(Debug, Default)]
pub struct CleanRules {
    settings: Settings,
    tag_rules: Vec<TagRule>,
    /// Tag name → the tag rules naming it, in rule order (one lookup per element).
    tag_rules_by_name: FastMap<String, Vec<usize>>,
    attr_rules: Vec<AttrRule>,
    /// Every attr rule's pattern in rule order: one pass per class or id token tells
    /// which rules it matches.
    attr_patterns: RegexSet,
    text_rules: Vec<TextRule>,
    text_prefilter: TextPrefilter,
    text_applicability: Applicability,
    hidden_classes: FastSet<String>,
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

/// What a text must hold for a text rule to match it, read from the rule's pattern.
/// Nearly every text fails this for nearly every rule, which then needs no regex search.
#[derive(Debug)]
enum TextNeed {
    /// Anchored at the start: the text begins with one of these characters.
    FirstChar(Vec<char>),
    /// Every match starts with one of these literals: the text holds one. Found for all
    /// such rules at once by `TextPrefilter::prefixes`, or for this rule alone.
    Prefix(Literals),
    /// Every match holds one of these literals (they are what one part of the pattern,
    /// which every match goes through, starts with).
    Holds(Literals),
    /// Nothing known: the regex decides alone.
    Unknown,
}

/// Literals searched for one rule: a few with `memmem` (vectorised, and quick on
/// Chinese text, where an automaton's prefilter stops at nearly every character), more
/// with one automaton.
#[derive(Debug)]
enum Literals {
    Few(Vec<memchr::memmem::Finder<'static>>),
    Many(AhoCorasick),
}

impl Literals {
    const FEW: usize = 4;

    fn new(literals: &[Vec<u8>]) -> Result<Self, aho_corasick::BuildError> {
        Ok(if literals.len() <= Self::FEW {
            Literals::Few(
                literals
                    .iter()
                    .map(|l| memchr::memmem::Finder::new(l).into_owned())
                    .collect(),
            )
        } else {
            Literals::Many(AhoCorasick::new(literals)?)
        })
    }

    /// Whether `text` holds one of the literals.
    fn found_in(&self, text: &str) -> bool {
        match self {
            Literals::Few(finders) => finders.iter().any(|f| f.find(text.as_bytes()).is_some()),
            Literals::Many(automaton) => automaton.is_match(text),
        }
    }
}

/// The [`TextNeed`] of every text rule, and one automaton for all `Prefix` needs, so
/// that one pass over a text can tell which of those rules can match it. Bit sets have
/// one bit per rule.
#[derive(Debug, Default)]
struct TextPrefilter {
    needs: Vec<TextNeed>,
    prefixes: Option<AhoCorasick>,
    /// Automaton pattern → its rule.
    prefix_rule: Vec<usize>,
    /// The rules decided by a text's first character alone (`FirstChar`, `Unknown`).
    decided_at_start: Vec<u64>,
    /// The `Unknown` rules: every text is a candidate.
    always: Vec<u64>,
    /// First character → the `FirstChar` rules a text starting with it can match.
    by_first_char: FastMap<char, Vec<u64>>,
    /// The `Prefix` rules.
    prefix_rules: Vec<u64>,
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
        for (index, rule) in rules.tag_rules.iter().enumerate() {
            for tag in &rule.tags {
                rules
                    .tag_rules_by_name
                    .entry(tag.clone())
                    .or_default()
                    .push(index);
            }
        }
        rules.attr_patterns = RegexSet::new(rules.attr_rules.iter().map(|r| r.pattern.as_str()))
            .map_err(|e| {
                invalid(
                    "clean.toml",
                    format!("the [[attrs]] patterns together: {e}"),
                )
            })?;

        rules.text_prefilter = TextPrefilter::compile(&rules.text_rules)
            .map_err(|e| invalid("clean.toml", format!("the [[texts]] prefixes: {e}")))?;
        rules.text_applicability = Applicability::compile(&rules.text_rules);
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
    let mut scratch = JudgeScratch::default();
    let mut texts = TextCache::default();
    let mut doomed: Vec<NodeId> = Vec::new();
    let mut stack: Vec<(NodeRef<Node>, bool)> = vec![(doc.tree.root(), false)];
    while let Some((node, in_article)) = stack.pop() {
        let verdict = match node.value() {
            Node::Comment(_) => Some("comments"),
            Node::ProcessingInstruction(_) => Some("processing_instructions"),
            Node::Element(el) => judge_element(
                node,
                el,
                in_article,
                rules,
                &stats,
                &mut scratch,
                &mut texts,
            ),
            _ => None,
        };
        if let Some(rule) = verdict {
            report.count(rule);
            let chars = stats.get(node.id()).text as usize;
            report.removed_chars += chars;
            if chars > 0 {
                let sample = match stats.compact_text_of(node.id()) {
                    Some(text) => first_chars(text, 80).to_string(),
                    None => compact_text(node, 80),
                };
                report.samples.push((rule.to_string(), sample));
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
        for child in node.children().rev() {
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

/// The first `n` characters of `text`.
fn first_chars(text: &str, n: usize) -> &str {
    match text.char_indices().nth(n) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// What [`judge_element`] keeps between elements of one page: class names and texts
/// repeat (a chain of wrappers around one link has one text), so each token and each
/// text is matched against a rule at most once.
#[derive(Default)]
struct JudgeScratch<'doc> {
    /// Class / id token → offset in `attr_bits` of the attr rules it matches.
    attr_matches_by_token: FastMap<&'doc str, usize>,
    /// Per attr rule: does some token of the current element match it.
    attr_hits: RuleBits,
    /// The last text judged (by address and length), whose rule bits `text_bits` holds
    /// (see [`TEXT_BIT_SETS`]). Rules are tried one by one, after the prefilter: a
    /// `RegexSet` of all of them overflows the lazy DFA and falls back to a slow engine.
    ///
    /// One text is enough: the texts are slices of the page text, one per node, so only
    /// nested nodes share one, and every node judged between an element and a
    /// descendant with the same text lies inside both and before the descendant's text:
    /// it holds no text and never reaches the text rules.
    text_key: Option<(usize, usize)>,
    attr_bits: Vec<u64>,
    text_bits: Vec<u64>,
    /// Per text rule: does it apply to the current element.
    applicable: RuleBits,
}

/// One bit per rule.
#[derive(Default)]
struct RuleBits(Vec<u64>);

fn words_for(rules: usize) -> usize {
    rules.div_ceil(64)
}

impl RuleBits {
    fn clear(&mut self, rules: usize) {
        self.0.clear();
        self.0.resize(words_for(rules), 0);
    }

    fn get(&self, rule: usize) -> bool {
        self.0
            .get(rule / 64)
            .is_some_and(|w| w & (1 << (rule % 64)) != 0)
    }
}

fn set_bit(bits: &mut [u64], index: usize) {
    if let Some(word) = bits.get_mut(index / 64) {
        *word |= 1 << (index % 64);
    }
}

/// The bit sets kept per text, one bit per text rule each, in this order: rules that
/// can match (a superset: the regex decides), rules whose candidate bit is known yet,
/// rules tried, rules matched.
const TEXT_BIT_SETS: usize = 4;
const CANDIDATE: usize = 0;
const KNOWN: usize = 1;
const TRIED: usize = 2;
const MATCHED: usize = 3;

impl<'doc> JudgeScratch<'doc> {
    /// Which attr rules some class or id token of `el` matches (tokens are matched
    /// lower-cased, as the rules are written).
    fn attr_hits(&mut self, el: &'doc Element, patterns: &RegexSet) -> &RuleBits {
        let words = words_for(patterns.len());
        self.attr_hits.clear(patterns.len());
        for token in id_of(el).into_iter().chain(class_names(el)) {
            let at = match self.attr_matches_by_token.get(token) {
                Some(&at) => at,
                None => {
                    let at = self.attr_bits.len();
                    self.attr_bits.resize(at + words, 0);
                    for rule in patterns.matches(&token.to_ascii_lowercase()).iter() {
                        self.attr_bits[at + rule / 64] |= 1 << (rule % 64);
                    }
                    self.attr_matches_by_token.insert(token, at);
                    at
                }
            };
            for (hit, bits) in self
                .attr_hits
                .0
                .iter_mut()
                .zip(&self.attr_bits[at..at + words])
            {
                *hit |= bits;
            }
        }
        &self.attr_hits
    }

    /// Where the rule bits of `text` start in `text_bits`; a new text has the rules its
    /// first character decides known.
    fn text_slot(&mut self, filter: &TextPrefilter, words: usize, text: &str) -> usize {
        let key = (text.as_ptr() as usize, text.len());
        if self.text_key == Some(key) {
            return 0;
        }
        self.text_key = Some(key);
        if self.text_bits.len() == TEXT_BIT_SETS * words {
            self.text_bits.fill(0);
        } else {
            self.text_bits.clear();
            self.text_bits.resize(TEXT_BIT_SETS * words, 0);
        }
        let (candidate, known) = self.text_bits[..2 * words].split_at_mut(words);
        filter.start(text, candidate, known);
        0
    }

    /// How many prefix rules apply to the current element and are not known yet for the
    /// text at `at`.
    fn undecided_prefix_rules(&self, filter: &TextPrefilter, words: usize, at: usize) -> u32 {
        let known = &self.text_bits[at + KNOWN * words..at + (KNOWN + 1) * words];
        self.applicable
            .0
            .iter()
            .zip(known)
            .zip(&filter.prefix_rules)
            .map(|((applies, known), prefix)| (applies & prefix & !known).count_ones())
            .sum()
    }

    /// Scans the text at `at` for every prefix rule's prefixes at once.
    fn scan_prefixes(&mut self, filter: &TextPrefilter, words: usize, at: usize, text: &str) {
        let (candidate, known) = self.text_bits[at..at + 2 * words].split_at_mut(words);
        filter.scan_prefixes(text, candidate);
        for (known, prefix) in known.iter_mut().zip(&filter.prefix_rules) {
            *known |= prefix;
        }
    }

    /// Whether text rule `rule` matches `text` (whose bits start at `at`), remembered.
    fn text_rule_matches(
        &mut self,
        rules: &CleanRules,
        words: usize,
        at: usize,
        rule: usize,
        text: &str,
    ) -> bool {
        let (word, bit) = (rule / 64, 1u64 << (rule % 64));
        let [candidate, known, tried, matched] =
            [CANDIDATE, KNOWN, TRIED, MATCHED].map(|set| at + set * words + word);
        if self.text_bits[known] & bit == 0 {
            self.text_bits[known] |= bit;
            if rules.text_prefilter.may_match(rule, text) {
                self.text_bits[candidate] |= bit;
            }
        }
        if self.text_bits[candidate] & bit == 0 {
            return false;
        }
        if self.text_bits[tried] & bit == 0 {
            self.text_bits[tried] |= bit;
            let r = &rules.text_rules[rule];
            if distinct_matches(&r.pattern, text, r.min_distinct) {
                self.text_bits[matched] |= bit;
            }
        }
        self.text_bits[matched] & bit != 0
    }
}

/// How many prefix rules must apply to an element, undecided for its text, before the
/// text is scanned for all prefix rules at once; with fewer, each rule's own automaton
/// searches alone (a prose paragraph, to which one or none applies, is read once, not
/// by the big overlapping scan).
const PREFIX_SCAN_MIN_RULES: u32 = 3;

/// The first rule that removes this element, if any.
#[inline(never)]
fn judge_element<'r, 'doc>(
    node: NodeRef<'doc, Node>,
    el: &'doc Element,
    in_article: bool,
    rules: &'r CleanRules,
    stats: &'doc DomStats,
    scratch: &mut JudgeScratch<'doc>,
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
    for &index in rules.tag_rules_by_name.get(name).into_iter().flatten() {
        let rule = &rules.tag_rules[index];
        if rule.outside_article && in_article {
            continue;
        }
        if !rule.guarded || guarded_ok() {
            return Some(rule.name.as_str());
        }
    }
    if name == "title" || name == "meta" {
        return None;
    }
    let attrs = HidingAttrs::of(el);
    // A hidden element that holds the page's main prose is an article revealed by a
    // script (or a tab), not boilerplate.
    if attrs.hidden_reason(el, &rules.hidden_classes).is_some()
        && !stats.protected.contains(&node.id())
        && stats.removable(s, 1.0, settings.hidden_guard_prose_share)
    {
        return Some("hidden");
    }
    if attrs
        .aria_hidden
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        && s.prose == 0
    {
        return Some("aria_hidden");
    }
    let has_tokens = id_of(el).is_some() || class_names(el).next().is_some();
    if !rules.attr_rules.is_empty() && has_tokens && guarded_ok() {
        let hits = scratch.attr_hits(el, &rules.attr_patterns);
        for (index, rule) in rules.attr_rules.iter().enumerate() {
            if rule.min_link_share > 0.0 && (s.link as f64) < rule.min_link_share * s.text as f64 {
                continue;
            }
            if hits.get(index) {
                return Some(rule.name.as_str());
            }
        }
    }
    if s.text == 0 || s.text as usize > settings.text_rule_max_chars {
        return None;
    }
    // Prose may ride along in a footer, but a block that is mostly prose is content.
    let prose_guarded = s.prose > 0 && !guarded_ok();
    // The text is read only when some rule applies to the element; then only the rules
    // the text can match (few, by the prefilter) are tried, in order.
    let count = rules.text_rules.len();
    if !rules
        .text_applicability
        .fill(s, prose_guarded, &mut scratch.applicable.0)
    {
        return None;
    }
    let text = texts.get(node, stats);
    let filter = &rules.text_prefilter;
    let words = words_for(count);
    let at = scratch.text_slot(filter, words, text);
    if scratch.undecided_prefix_rules(filter, words, at) >= PREFIX_SCAN_MIN_RULES {
        scratch.scan_prefixes(filter, words, at, text);
    }
    for word in 0..words {
        let mut pending = scratch.applicable.0.get(word).copied().unwrap_or(0);
        while pending != 0 {
            let index = word * 64 + pending.trailing_zeros() as usize;
            pending &= pending - 1;
            if scratch.text_rule_matches(rules, words, at, index, text) {
                return rules.text_rules.get(index).map(|r| r.name.as_str());
            }
        }
    }
    None
}

/// Which text rules apply to an element, from its figures: a few bit-mask lookups
/// instead of testing every rule's limits (most elements of a big page are paragraphs
/// that most rules exclude by length or prose).
#[derive(Debug, Default)]
struct Applicability {
    words: usize,
    by_chars: LimitMasks,
    by_prose: LimitMasks,
    /// Rules allowed on a block that is mostly prose.
    prose_ok: Vec<u64>,
    /// Rules that need no share of link text.
    no_link_share: Vec<u64>,
    /// Rules that need a share of link text: (rule, share).
    link_shares: Vec<(usize, f64)>,
}

/// Per distinct limit, ascending: the rules whose limit is at least it.
#[derive(Debug, Default)]
struct LimitMasks {
    limits: Vec<usize>,
    /// `words` words per limit.
    masks: Vec<u64>,
}

impl LimitMasks {
    fn compile(limits_by_rule: &[usize], words: usize) -> Self {
        let mut limits = limits_by_rule.to_vec();
        limits.sort_unstable();
        limits.dedup();
        let mut masks = vec![0; limits.len() * words];
        for (at, &limit) in limits.iter().enumerate() {
            for (rule, &own) in limits_by_rule.iter().enumerate() {
                if own >= limit {
                    set_bit(&mut masks[at * words..(at + 1) * words], rule);
                }
            }
        }
        LimitMasks { limits, masks }
    }

    /// The rules whose limit is at least `value` (`words` words), or `None` for none.
    fn at_least(&self, value: usize, words: usize) -> Option<&[u64]> {
        let at = self.limits.partition_point(|&limit| limit < value);
        self.masks.get(at * words..(at + 1) * words)
    }
}

impl Applicability {
    fn compile(rules: &[TextRule]) -> Self {
        let words = words_for(rules.len());
        let chars: Vec<usize> = rules.iter().map(|r| r.max_chars).collect();
        let prose: Vec<usize> = rules.iter().map(|r| r.max_prose_chars).collect();
        let mut applicability = Applicability {
            words,
            by_chars: LimitMasks::compile(&chars, words),
            by_prose: LimitMasks::compile(&prose, words),
            prose_ok: vec![0; words],
            no_link_share: vec![0; words],
            link_shares: Vec::new(),
        };
        for (index, rule) in rules.iter().enumerate() {
            if rule.prose_ok {
                set_bit(&mut applicability.prose_ok, index);
            }
            if rule.min_link_share > 0.0 {
                applicability.link_shares.push((index, rule.min_link_share));
            } else {
                set_bit(&mut applicability.no_link_share, index);
            }
        }
        applicability
    }

    /// Sets `applicable` to the rules that apply to an element with figures `s` (one bit
    /// per rule); false when none does.
    fn fill(&self, s: NodeStats, prose_guarded: bool, applicable: &mut Vec<u64>) -> bool {
        // Every word is written below whenever `true` is returned.
        if applicable.len() != self.words {
            applicable.clear();
            applicable.resize(self.words, 0);
        }
        if prose_guarded {
            return false;
        }
        let (Some(by_chars), Some(by_prose)) = (
            self.by_chars.at_least(s.text as usize, self.words),
            self.by_prose.at_least(s.prose as usize, self.words),
        ) else {
            return false;
        };
        let mostly_prose = s.prose * 2 > s.text;
        let mut any = 0;
        for (word, out) in applicable.iter_mut().enumerate() {
            let mut bits = by_chars[word] & by_prose[word];
            if mostly_prose {
                bits &= self.prose_ok[word];
            }
            let candidates = bits;
            bits &= self.no_link_share[word];
            *out = bits;
            any |= bits | candidates;
        }
        if any == 0 {
            return false;
        }
        // Rules needing link text, among those the limits leave.
        for &(rule, share) in &self.link_shares {
            let (word, bit) = (rule / 64, 1u64 << (rule % 64));
            let limits_ok = by_chars[word] & by_prose[word] & bit != 0
                && (!mostly_prose || self.prose_ok[word] & bit != 0);
            if limits_ok && (s.link as f64) >= share * s.text as f64 {
                applicable[word] |= bit;
            }
        }
        applicable.iter().any(|&w| w != 0)
    }
}

impl TextPrefilter {
    fn compile(rules: &[TextRule]) -> Result<Self, aho_corasick::BuildError> {
        let words = words_for(rules.len());
        let mut filter = TextPrefilter {
            decided_at_start: vec![0; words],
            always: vec![0; words],
            prefix_rules: vec![0; words],
            ..TextPrefilter::default()
        };
        let mut literals: Vec<Vec<u8>> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let pattern = rule.pattern.as_str();
            let need = match literal_prefixes(pattern) {
                Some((true, prefixes)) => first_chars_of(&prefixes).map(TextNeed::FirstChar),
                Some((false, prefixes)) => {
                    let own = Literals::new(&prefixes)?;
                    for prefix in prefixes {
                        literals.push(prefix);
                        filter.prefix_rule.push(index);
                    }
                    Some(TextNeed::Prefix(own))
                }
                None => None,
            };
            let need = match need {
                Some(need) => need,
                None => match required_literals(pattern) {
                    Some(required) => TextNeed::Holds(Literals::new(&required)?),
                    None => TextNeed::Unknown,
                },
            };
            match &need {
                TextNeed::FirstChar(chars) => {
                    set_bit(&mut filter.decided_at_start, index);
                    for &c in chars {
                        let rules = filter
                            .by_first_char
                            .entry(c)
                            .or_insert_with(|| vec![0; words]);
                        set_bit(rules, index);
                    }
                }
                TextNeed::Unknown => {
                    set_bit(&mut filter.decided_at_start, index);
                    set_bit(&mut filter.always, index);
                }
                TextNeed::Prefix(_) => set_bit(&mut filter.prefix_rules, index),
                TextNeed::Holds(_) => {}
            }
            filter.needs.push(need);
        }
        if !literals.is_empty() {
            // A DFA: every text is scanned whole (overlapping), so speed per byte counts.
            filter.prefixes = Some(
                AhoCorasick::builder()
                    .kind(Some(aho_corasick::AhoCorasickKind::DFA))
                    .build(&literals)?,
            );
        }
        Ok(filter)
    }

    /// What a text's first character decides: the candidate rules among those it
    /// decides, and which rules those are (both zeroed before).
    fn start(&self, text: &str, candidate: &mut [u64], known: &mut [u64]) {
        let by_first = text.chars().next().and_then(|c| self.by_first_char.get(&c));
        for (word, bits) in candidate.iter_mut().enumerate() {
            *bits = self.always.get(word).copied().unwrap_or(0)
                | by_first.and_then(|b| b.get(word)).copied().unwrap_or(0);
        }
        for (bits, decided) in known.iter_mut().zip(&self.decided_at_start) {
            *bits = *decided;
        }
    }

    /// Whether `text` holds what rule `rule` needs, for a rule not decided at the start.
    fn may_match(&self, rule: usize, text: &str) -> bool {
        match self.needs.get(rule) {
            Some(TextNeed::Prefix(own) | TextNeed::Holds(own)) => own.found_in(text),
            _ => true,
        }
    }

    /// Sets the candidate bit of every prefix rule whose prefixes `text` holds.
    fn scan_prefixes(&self, text: &str, candidate: &mut [u64]) {
        if let Some(prefixes) = &self.prefixes {
            for found in prefixes.find_overlapping_iter(text) {
                if let Some(&rule) = self.prefix_rule.get(found.pattern().as_usize()) {
                    set_bit(candidate, rule);
                }
            }
        }
    }
}

/// Literals one of which every match of `pattern` holds: those that one part of the
/// pattern's top-level sequence starts with (the part with the longest shortest
/// literal, then the fewest); `None` when no part has a finite set without the empty
/// literal.
fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::Extractor;
    use regex_syntax::hir::HirKind;
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut top = &hir;
    while let HirKind::Capture(group) = top.kind() {
        top = &group.sub;
    }
    let parts = match top.kind() {
        HirKind::Concat(parts) => parts.as_slice(),
        _ => std::slice::from_ref(top),
    };
    let mut best: Option<(usize, Vec<Vec<u8>>)> = None;
    for part in parts {
        let seq = Extractor::new().extract(part);
        let Some(literals) = seq.literals() else {
            continue;
        };
        let Some(shortest) = literals.iter().map(|l| l.as_bytes().len()).min() else {
            continue;
        };
        if shortest == 0 {
            continue;
        }
        let better = match &best {
            None => true,
            Some((len, set)) => shortest > *len || (shortest == *len && literals.len() < set.len()),
        };
        if better {
            let set = literals.iter().map(|l| l.as_bytes().to_vec()).collect();
            best = Some((shortest, set));
        }
    }
    best.map(|(_, set)| set)
}

/// The literal prefixes of `pattern` (every match starts with one of them) and whether
/// it is anchored at the start of the text; `None` when not known or when some prefix
/// is empty (any text could match).
fn literal_prefixes(pattern: &str) -> Option<(bool, Vec<Vec<u8>>)> {
    use regex_syntax::hir::literal::Extractor;
    use regex_syntax::hir::Look;
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let anchored = hir.properties().look_set_prefix().contains(Look::Start);
    let prefixes = Extractor::new().extract(&hir);
    let mut out = Vec::new();
    for literal in prefixes.literals()? {
        if literal.as_bytes().is_empty() {
            return None;
        }
        out.push(literal.as_bytes().to_vec());
    }
    Some((anchored, out))
}

/// The distinct first characters of `prefixes` (`None` if one does not start with a
/// whole character).
fn first_chars_of(prefixes: &[Vec<u8>]) -> Option<Vec<char>> {
    let mut chars = Vec::new();
    for prefix in prefixes {
        let valid = match std::str::from_utf8(prefix) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(&prefix[..e.valid_up_to()]).ok()?,
        };
        let first = valid.chars().next()?;
        if !chars.contains(&first) {
            chars.push(first);
        }
    }
    Some(chars)
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

/// The attributes that can hide an element, read in one pass over its attributes.
#[derive(Default)]
struct HidingAttrs<'a> {
    hidden: bool,
    input_type: Option<&'a str>,
    style: Option<&'a str>,
    aria_hidden: Option<&'a str>,
}

impl<'a> HidingAttrs<'a> {
    fn of(el: &'a Element) -> Self {
        let mut found = HidingAttrs::default();
        for (name, value) in el.attrs.iter() {
            if !name.ns.is_empty() {
                continue;
            }
            match &*name.local {
                "hidden" => found.hidden = true,
                "type" => found.input_type = Some(value),
                "style" => found.style = Some(value),
                "aria-hidden" => found.aria_hidden = Some(value),
                _ => {}
            }
        }
        found
    }

    fn hidden_reason<S: BuildHasher>(
        &self,
        el: &Element,
        hidden_classes: &HashSet<String, S>,
    ) -> Option<&'static str> {
        if self.hidden {
            return Some("hidden attribute");
        }
        if el.name() == "input"
            && self
                .input_type
                .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
        {
            return Some("hidden input");
        }
        if let Some(style) = self.style {
            if let Some(why) = hidden_style(style) {
                return Some(why);
            }
        }
        if !hidden_classes.is_empty()
            && class_names(el).any(|c| contains_lowercased(hidden_classes, c))
        {
            return Some("hiding class");
        }
        None
    }
}

/// `set.contains(token.to_ascii_lowercase())`, without allocating for lower-case tokens.
fn contains_lowercased<S: BuildHasher>(set: &HashSet<String, S>, token: &str) -> bool {
    if token.bytes().any(|b| b.is_ascii_uppercase()) {
        set.contains(token.to_ascii_lowercase().as_str())
    } else {
        set.contains(token)
    }
}

/// The property a declaration names, when it is one [`hidden_style`] reads (ASCII case
/// ignored): the name lower-cased into a small buffer and matched, a handful of
/// comparisons instead of one per property.
fn hiding_property(prop: &str) -> Option<&'static str> {
    const LONGEST: usize = 11; // "margin-left", "text-indent"
    let bytes = prop.as_bytes();
    if bytes.len() > LONGEST {
        return None;
    }
    let mut lowered = [0u8; LONGEST];
    for (to, from) in lowered.iter_mut().zip(bytes) {
        *to = from.to_ascii_lowercase();
    }
    Some(match &lowered[..bytes.len()] {
        b"display" => "display",
        b"visibility" => "visibility",
        b"font-size" => "font-size",
        b"opacity" => "opacity",
        b"position" => "position",
        b"left" => "left",
        b"top" => "top",
        b"right" => "right",
        b"margin-left" => "margin-left",
        b"margin-top" => "margin-top",
        b"text-indent" => "text-indent",
        b"height" => "height",
        b"max-height" => "max-height",
        b"width" => "width",
        b"max-width" => "max-width",
        b"overflow" => "overflow",
        b"overflow-y" => "overflow-y",
        b"overflow-x" => "overflow-x",
        b"clip" => "clip",
        _ => return None,
    })
}

/// ASCII white space as `char::is_whitespace` has it (`\t \n \x0b \x0c \r` and space).
fn is_ascii_blank(b: u8) -> bool {
    matches!(b, b'\t'..=b'\r' | b' ')
}

/// `s.trim()`, with the ASCII white space around a property name cut on bytes and the
/// full Unicode trim only when a non-ASCII character is at either end.
fn trim_blanks(s: &str) -> &str {
    let bytes = s.as_bytes();
    let mut start = 0;
    while start < bytes.len() && is_ascii_blank(bytes[start]) {
        start += 1;
    }
    let mut end = bytes.len();
    while end > start && is_ascii_blank(bytes[end - 1]) {
        end -= 1;
    }
    if start < end && (!bytes[start].is_ascii() || !bytes[end - 1].is_ascii()) {
        return s.trim();
    }
    &s[start..end]
}

/// Reads an inline style (or a CSS rule body) and says whether it hides the element.
///
/// `memchr` cuts the declarations (`;`) and their names (first `:`): this runs on every
/// declaration of every inline style and style sheet (1,800 per page), where
/// `str::split` and `split_once` cost more than the rest (docs/performance.md).
pub(crate) fn hidden_style(style: &str) -> Option<&'static str> {
    let mut position_out = false;
    let mut offscreen = false;
    let mut zero_height = false;
    let mut zero_width = false;
    let mut overflow_hidden = false;
    let bytes = style.as_bytes();
    let mut start = 0;
    while let Some(found) = memchr::memchr2(b':', b';', &bytes[start..]) {
        let at = start + found;
        if bytes[at] == b';' {
            // A declaration without a colon.
            start = at + 1;
            continue;
        }
        let end = memchr::memchr(b';', &bytes[at + 1..]).map_or(bytes.len(), |p| at + 1 + p);
        let (name, value) = (&style[start..at], &style[at + 1..end]);
        start = (end + 1).min(bytes.len());
        // Only the properties matched below can hide an element: skip the others before
        // the value is normalised.
        let Some(prop) = hiding_property(trim_blanks(name)) else {
            continue;
        };
        let value = normalized_style_value(value);
        let value = value.as_ref();
        match prop {
            "display" if value == "none" => return Some("display:none"),
            "visibility" if value == "hidden" || value == "collapse" => {
                return Some("visibility:hidden")
            }
            "font-size" if is_zero_length(value) => return Some("font-size:0"),
            "opacity" if value.parse::<f64>().is_ok_and(|o| o <= 0.01) => return Some("opacity:0"),
            "position" if value == "absolute" || value == "fixed" => position_out = true,
            "left" | "top" | "right" | "margin-left" | "margin-top" if far_negative(value) => {
                offscreen = true
            }
            "text-indent" if far_negative(value) => return Some("text-indent off-screen"),
            "height" | "max-height" if is_zero_length(value) => zero_height = true,
            "width" | "max-width" if is_zero_length(value) => zero_width = true,
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

/// A declaration value lower-cased, `!important` removed and white space collapsed to
/// single spaces; borrowed when it already is so (most values: `none`, `0`, `100px`),
/// as style sheets have thousands of declarations (spam reads every `<style>`).
fn normalized_style_value(value: &str) -> std::borrow::Cow<'_, str> {
    let trimmed = value.trim();
    let plain = trimmed
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase() && !matches!(b, b'!' | b'\t'..=b'\r'))
        && !trimmed.contains("  ");
    if plain {
        return std::borrow::Cow::Borrowed(trimmed);
    }
    std::borrow::Cow::Owned(
        value
            .to_ascii_lowercase()
            .replace("!important", "")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn is_zero_length(value: &str) -> bool {
    // The number's characters are ASCII: a byte prefix.
    let number = &value[..value
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.' || *b == b'-')
        .count()];
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
    let number = &rest[..rest
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count()];
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
    /// By arena slot; nodes outside the measured subtree keep the zero default.
    figures: Vec<NodeStats>,
    /// The visible text of the measured subtree with every blank removed, and per arena
    /// slot the byte range of each node's part of it: a node's compacted text is a slice,
    /// not a string built per node.
    compact: String,
    spans: Vec<(usize, usize)>,
    pub total: NodeStats,
    /// The element holding the most prose (paragraphs credited to their container) and
    /// all its ancestors: the likely article, never removed by a guarded rule.
    pub protected: NodeSet,
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

    #[inline(never)]
    pub fn measure_from(root: NodeRef<Node>, prose_min_chars: usize) -> DomStats {
        let tree = root.tree();
        let mut figures = vec![NodeStats::default(); tree.nodes().len()];
        let mut spans = vec![(0, 0); figures.len()];
        let mut compact = String::new();
        // Open nodes: (id, figures so far, where its compacted text starts).
        let mut stack: Vec<(NodeId, NodeStats, usize)> = Vec::new();
        // Open elements that are blocks: (stack depth, id, is a paragraph tag).
        let mut blocks: Vec<(usize, NodeId, bool)> = Vec::new();
        // Prose credited to each container, by arena slot.
        let mut credited: Vec<(u32, Option<NodeId>)> = vec![(0, None); figures.len()];
        let mut in_link = 0usize;
        let mut invisible = 0usize;
        let mut total = NodeStats::default();
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if let Node::Element(el) = node.value() {
                        let name = el.name();
                        if name == "a" {
                            in_link += 1;
                        }
                        if is_invisible_tag(name) {
                            invisible += 1;
                        }
                        if is_block_tag(name) {
                            blocks.push((stack.len(), node.id(), is_paragraph_tag(name)));
                        }
                    }
                    stack.push((node.id(), NodeStats::default(), compact.len()));
                }
                Edge::Close(node) => {
                    let Some((id, mut s, start)) = stack.pop() else {
                        continue;
                    };
                    match node.value() {
                        Node::Text(t) if invisible == 0 => {
                            let (chars, prose) =
                                measure_text_into(t, prose_min_chars, &mut compact);
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
                                    if let Some(entry) = credited.get_mut(slot(c)) {
                                        entry.0 += prose;
                                        entry.1 = Some(c);
                                    }
                                }
                            }
                        }
                        Node::Element(el) => {
                            let name = el.name();
                            if name == "a" {
                                in_link = in_link.saturating_sub(1);
                            }
                            if is_invisible_tag(name) {
                                invisible = invisible.saturating_sub(1);
                            }
                            if blocks.last().is_some_and(|b| b.1 == id) {
                                blocks.pop();
                            }
                        }
                        _ => {}
                    }
                    if let Some((_, parent, _)) = stack.last_mut() {
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
                    let at = slot(id);
                    if let (Some(f), Some(span)) = (figures.get_mut(at), spans.get_mut(at)) {
                        *f = s;
                        *span = (start, compact.len());
                    }
                }
            }
        }
        let mut protected = NodeSet::for_tree(tree);
        // The last container with the most prose, in arena order.
        let anchor = credited
            .iter()
            .max_by_key(|(prose, _)| *prose)
            .filter(|(prose, _)| *prose >= 100)
            .and_then(|(_, id)| id.and_then(|id| tree.get(id)));
        if let Some(node) = anchor {
            protected.insert(node.id());
            for a in node.ancestors() {
                protected.insert(a.id());
            }
        }
        DomStats {
            figures,
            compact,
            spans,
            total,
            protected,
        }
    }

    pub fn get(&self, id: NodeId) -> NodeStats {
        self.figures.get(slot(id)).copied().unwrap_or_default()
    }

    /// The node's visible text with every blank removed, as measured; `None` when the
    /// node holds no measured text (outside the measured subtree, blank, or inside an
    /// element whose text is never shown).
    pub fn compact_text_of(&self, id: NodeId) -> Option<&str> {
        let at = slot(id);
        if self.figures.get(at).map_or(0, |f| f.text) == 0 {
            return None;
        }
        let &(start, end) = self.spans.get(at)?;
        self.compact.get(start..end)
    }

    /// True when a node is small enough, relative to the page, to be removed safely.
    pub fn removable(&self, s: NodeStats, max_text_share: f64, max_prose_share: f64) -> bool {
        let text_ok = s.text as f64 <= max_text_share * self.total.text as f64 || s.text < 200;
        let prose_ok =
            s.prose == 0 || (s.prose as f64) <= max_prose_share * self.total.prose as f64;
        text_ok && prose_ok
    }
}

/// What a UTF-8 lead byte says about its character, for [`measure_text_into`]: the
/// character's length in the low bits, and flags for the few that need more than
/// counting.
mod lead_byte {
    pub const LENGTH: u8 = 0b111;
    /// ASCII white space.
    pub const BLANK: u8 = 1 << 3;
    /// ASCII `. ! ? ; ,`.
    pub const COMMA: u8 = 1 << 4;
    /// Lead bytes `C2 E1 E2 E3 EF`: the only ones of blank characters (U+0085, U+00A0,
    /// U+1680, U+2000–U+205F, U+3000, U+FEFF) and of counted full-width punctuation
    /// (U+3001, U+3002, U+FF01–U+FF1F); such a character is decoded.
    pub const DECODE: u8 = 1 << 5;
    pub const SPECIAL: u8 = BLANK | COMMA | DECODE;

    const fn table() -> [u8; 256] {
        let mut table = [0u8; 256];
        let mut b = 0;
        while b < 256 {
            table[b] = match b as u8 {
                b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' => 1 | BLANK,
                b'.' | b'!' | b'?' | b';' | b',' => 1 | COMMA,
                0x00..=0x7f => 1,
                0xc2 | 0xe1 | 0xe2 | 0xe3 | 0xef => DECODE,
                0xf0..=0xff => 4,
                0xe0..=0xef => 3,
                _ => 2,
            };
            b += 1;
        }
        table
    }

    pub static TABLE: [u8; 256] = table();
}

/// (visible chars, prose chars) of one text node, appending its non-blank characters
/// to `compact`.
///
/// Reads bytes, not characters: a table of lead bytes says which characters can be
/// blank or counted punctuation, so the bulk of Chinese text (lead bytes `E4`–`E9`) and
/// of ASCII is counted in a tight loop without decoding, and runs of white space are
/// skipped whole.
fn measure_text_into(text: &str, prose_min_chars: usize, compact: &mut String) -> (u32, u32) {
    use lead_byte::{BLANK, COMMA, LENGTH, SPECIAL, TABLE};
    let bytes = text.as_bytes();
    let mut chars = 0u32;
    let mut stops = 0u32;
    let mut commas = 0u32;
    // Start of the current run of non-blank characters (copied to `compact` whole).
    let mut run_start = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        let info = TABLE[usize::from(bytes[i])];
        if info & SPECIAL == 0 {
            chars += 1;
            i += usize::from(info & LENGTH);
            continue;
        }
        if info & COMMA != 0 {
            commas += 1;
            chars += 1;
            i += 1;
            continue;
        }
        let blank_len = if info & BLANK != 0 {
            Some(1)
        } else if let Some(c) = decode_e3_ef(bytes, i) {
            // CJK and full-width punctuation: decoded by hand. The only blanks in these
            // ranges are U+3000 and U+FEFF (`is_blank`).
            match c {
                '。' | '！' | '？' | '；' => stops += 1,
                '，' | '、' => commas += 1,
                _ => {}
            }
            if c == '\u{3000}' || c == '\u{feff}' {
                Some(3)
            } else {
                chars += 1;
                i += 3;
                None
            }
        } else {
            let c = text[i..].chars().next().unwrap_or('\u{fffd}');
            match c {
                '。' | '！' | '？' | '；' => stops += 1,
                '，' | '、' => commas += 1,
                _ => {}
            }
            if is_blank(c) {
                Some(c.len_utf8())
            } else {
                chars += 1;
                i += c.len_utf8();
                None
            }
        };
        if let Some(len) = blank_len {
            compact.push_str(&text[run_start..i]);
            i += len;
            while i < bytes.len() && TABLE[usize::from(bytes[i])] & BLANK != 0 {
                i += 1;
            }
            run_start = i;
        }
    }
    compact.push_str(&text[run_start..]);
    let prose = chars as usize >= prose_min_chars && (stops > 0 || commas >= 2);
    (chars, if prose { chars } else { 0 })
}

/// The character at `i` when its lead byte is `E3` or `EF` (U+3000–U+3FFF, U+F000–U+FFFF;
/// `bytes` is valid UTF-8, so two continuation bytes follow).
fn decode_e3_ef(bytes: &[u8], i: usize) -> Option<char> {
    let lead = *bytes.get(i)?;
    if lead != 0xe3 && lead != 0xef {
        return None;
    }
    let (b1, b2) = (*bytes.get(i + 1)?, *bytes.get(i + 2)?);
    char::from_u32(three_byte_code(lead, b1, b2))
}

/// White space as pages use it: ASCII, no-break space, ideographic space, zero-width.
pub(crate) fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{feff}' | '\u{a0}'
        )
}

/// The non-blank characters of a subtree's visible text, in document order (iterative).
pub(crate) fn visible_chars<'a>(node: NodeRef<'a, Node>) -> impl Iterator<Item = char> + 'a {
    let mut invisible = 0usize;
    node.traverse()
        .filter_map(move |edge| match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(el) if is_invisible_tag(el.name()) => {
                    invisible += 1;
                    None
                }
                Node::Text(t) if invisible == 0 => Some(&*t.text),
                _ => None,
            },
            Edge::Close(n) => {
                if let Node::Element(el) = n.value() {
                    if is_invisible_tag(el.name()) {
                        invisible = invisible.saturating_sub(1);
                    }
                }
                None
            }
        })
        .flat_map(str::chars)
        .filter(|c| !is_blank(*c))
}

/// Visible text of a subtree with every blank removed, up to `limit` characters.
pub(crate) fn compact_text(node: NodeRef<Node>, limit: usize) -> String {
    visible_chars(node).take(limit).collect()
}

/// Texts of elements (visible text, every blank removed) for rules that read them.
/// Measured nodes are slices of the page text [`DomStats`] keeps; the text of any other
/// node is built once and kept.
#[derive(Default)]
pub(crate) struct TextCache {
    built: HashMap<NodeId, String>,
}

impl TextCache {
    /// The text of `node` as it was when `stats` measured it.
    pub fn get<'a>(&'a mut self, node: NodeRef<Node>, stats: &'a DomStats) -> &'a str {
        if let Some(text) = stats.compact_text_of(node.id()) {
            return text;
        }
        self.built
            .entry(node.id())
            .or_insert_with(|| compact_text(node, usize::MAX))
            .as_str()
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

    /// The per-rule test [`Applicability`] replaced.
    fn reference_applies(rule: &TextRule, s: NodeStats, prose_guarded: bool) -> bool {
        let excluded = s.text as usize > rule.max_chars
            || s.prose as usize > rule.max_prose_chars
            || (s.prose * 2 > s.text && !rule.prose_ok)
            || prose_guarded;
        let few_links =
            rule.min_link_share > 0.0 && (s.link as f64) < rule.min_link_share * s.text as f64;
        !excluded && !few_links
    }

    #[test]
    fn applicability_equals_the_per_rule_test() {
        let mut rules = builtin_clean_rules();
        // More than one word of rules, with limits and shares of every kind.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let pattern = Regex::new("x").unwrap();
        for i in 0..70 {
            rules.text_rules.push(TextRule {
                name: format!("extra{i}"),
                pattern: pattern.clone(),
                max_chars: next(400) as usize,
                max_prose_chars: next(300) as usize,
                min_link_share: [0.0, 0.0, 0.3, 0.5, 1.0, -1.0][next(6) as usize],
                min_distinct: 1,
                prose_ok: next(2) == 0,
            });
        }
        for rules in [&builtin_clean_rules(), &rules] {
            let applicability = Applicability::compile(&rules.text_rules);
            let mut bits = Vec::new();
            for _ in 0..20_000 {
                let text = 1 + next(1600) as u32;
                let prose = [0, next(u64::from(text) + 1) as u32, text][next(3) as usize];
                let link = [0, next(u64::from(text) + 1) as u32, text][next(3) as usize];
                let s = NodeStats {
                    text,
                    prose,
                    link,
                    ..NodeStats::default()
                };
                let guarded = next(8) == 0;
                let any = applicability.fill(s, guarded, &mut bits);
                let expected: Vec<bool> = rules
                    .text_rules
                    .iter()
                    .map(|r| reference_applies(r, s, guarded))
                    .collect();
                assert_eq!(any, expected.contains(&true), "{s:?} {guarded}");
                if any {
                    for (index, &e) in expected.iter().enumerate() {
                        assert_eq!(bits[index / 64] & (1 << (index % 64)) != 0, e, "{s:?}");
                    }
                }
            }
        }
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
    fn measuring_bytes_counts_like_characters() {
        // The character-by-character definition the byte reader must agree with.
        let reference = |text: &str| {
            let (mut chars, mut stops, mut commas) = (0u32, 0u32, 0u32);
            let mut compact = String::new();
            for c in text.chars().filter(|c| !is_blank(*c)) {
                chars += 1;
                compact.push(c);
                match c {
                    '。' | '！' | '？' | '；' => stops += 1,
                    '，' | '、' | '.' | '!' | '?' | ';' | ',' => commas += 1,
                    _ => {}
                }
            }
            let prose = chars >= 40 && (stops > 0 || commas >= 2);
            ((chars, if prose { chars } else { 0 }), compact)
        };
        let pieces = [
            "县政府召开常务会议",
            "，",
            "。",
            "、",
            "！",
            "？",
            "；",
            ".",
            ",",
            "!",
            "?",
            ";",
            " ",
            "\t",
            "\n",
            "\r",
            "\u{b}",
            "\u{c}",
            "\u{1c}",
            "\u{85}",
            "\u{a0}",
            "\u{1680}",
            "\u{2000}",
            "\u{200a}",
            "\u{200b}",
            "\u{200d}",
            "\u{2028}",
            "\u{202f}",
            "\u{205f}",
            "\u{3000}",
            "\u{3001}",
            "\u{3003}",
            "\u{feff}",
            "\u{ff0c}",
            "\u{ff1a}",
            "\u{ffe5}",
            "é",
            "ß",
            "\u{10000}",
            "😀",
            "abc",
            "Ĭ",
        ];
        let mut state = 12345u32;
        for _ in 0..2000 {
            let mut text = String::new();
            for _ in 0..(state % 60) {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                text.push_str(pieces[(state >> 16) as usize % pieces.len()]);
            }
            let mut compact = String::new();
            let measured = measure_text_into(&text, 40, &mut compact);
            assert_eq!((measured, compact), reference(&text), "{text:?}");
        }
    }

    #[test]
    fn prefilter_never_rejects_a_match() {
        let rules = builtin_clean_rules();
        let filter = &rules.text_prefilter;
        let known = filter
            .needs
            .iter()
            .filter(|n| !matches!(n, TextNeed::Unknown))
            .count();
        assert!(
            known * 4 >= rules.text_rules.len() * 3,
            "{:#?}",
            filter.needs
        );
        assert!(matches!(literal_prefixes("^(a|b)c|d"), Some((false, _))));
        assert!(matches!(literal_prefixes("^x?y"), Some((true, p)) if p.len() == 2));
        assert!(literal_prefixes(r"\w+x").is_none());
        let samples = [
            "当前位置：首页>新闻",
            "【当前位置】首页",
            "[您的位置]",
            "首页>政务公开",
            "网站首页/新闻",
            "上一篇：关于",
            "相关链接更多",
            "设计开发：某公司",
            "更多>>",
            "返回顶部",
            "广告",
            "特别声明：本站",
            "“特别声明：",
            "1.凡本网注明",
            "声明：仅代表作者观点",
            "注：本文不代表本站立场",
            "未经本网授权不得转载",
            "Photo:JaneDoe",
            "PHOTOCREDIT:x",
            "image3of8",
            "Image3/8",
            "caption",
            "readmore:x",
            "ReadMore：y",
            "topvideosabcdefghijklmn",
            "MostReadinWorld",
            "Subscribetoreadmore",
            "A-",
            "TOP",
            "↑",
            "点赞",
            "English",
            "正文内容",
            "本站版权所有©2024京ICP备12345号",
            "网站地图|联系我们|关于我们",
            "【打印本页】【关闭窗口】",
            "字号：大中小",
            "分享到：微信微博",
            "已过查询时效，请加入付费会员阅读全文",
            "建议使用IE9以上浏览器",
            "(c)2023Example",
        ];
        for sample in samples {
            check_prefilter(&rules, sample);
        }
    }

    /// Asserts that every rule matching `text` is a candidate for it, whether decided by
    /// the first character, by its own literals or by the scan for all prefixes; returns
    /// how many rules match.
    fn check_prefilter(rules: &CleanRules, text: &str) -> usize {
        let filter = &rules.text_prefilter;
        let words = words_for(rules.text_rules.len());
        let bit = |bits: &[u64], index: usize| bits[index / 64] & (1 << (index % 64)) != 0;
        let (mut candidate, mut known) = (vec![0; words], vec![0; words]);
        filter.start(text, &mut candidate, &mut known);
        let mut scanned = candidate.clone();
        filter.scan_prefixes(text, &mut scanned);
        let mut matches = 0;
        for (index, rule) in rules.text_rules.iter().enumerate() {
            if !distinct_matches(&rule.pattern, text, rule.min_distinct) {
                continue;
            }
            matches += 1;
            let name = &rule.name;
            if bit(&known, index) {
                assert!(
                    bit(&candidate, index),
                    "{name} by the first character: {text}"
                );
                continue;
            }
            assert!(filter.may_match(index, text), "{name} alone: {text}");
            if bit(&filter.prefix_rules, index) {
                assert!(bit(&scanned, index), "{name} by the scan: {text}");
            }
        }
        matches
    }

    // The declaration-by-declaration version of `hidden_style`, kept to check the
    // single pass against.
    const REFERENCE_HIDING_PROPERTIES: [&str; 19] = [
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

    fn reference_hidden_style(style: &str) -> Option<&'static str> {
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
            let Some(prop) = REFERENCE_HIDING_PROPERTIES
                .iter()
                .find(|p| prop.eq_ignore_ascii_case(p))
            else {
                continue;
            };
            let value = normalized_style_value(value);
            let value = value.as_ref();
            match *prop {
                "display" if value == "none" => return Some("display:none"),
                "visibility" if value == "hidden" || value == "collapse" => {
                    return Some("visibility:hidden")
                }
                "font-size" if is_zero_length(value) => return Some("font-size:0"),
                "opacity" if value.parse::<f64>().is_ok_and(|o| o <= 0.01) => {
                    return Some("opacity:0")
                }
                "position" if value == "absolute" || value == "fixed" => position_out = true,
                "left" | "top" | "right" | "margin-left" | "margin-top" if far_negative(value) => {
                    offscreen = true
                }
                "text-indent" if far_negative(value) => return Some("text-indent off-screen"),
                "height" | "max-height" if is_zero_length(value) => zero_height = true,
                "width" | "max-width" if is_zero_length(value) => zero_width = true,
                "overflow" | "overflow-y" | "overflow-x" if value == "hidden" => {
                    overflow_hidden = true
                }
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

    /// Random styles built from pieces that exercise the cutting, trimming and case
    /// rules: the single pass equals the reference.
    #[test]
    fn hidden_style_equals_the_reference() {
        const NAMES: &[&str] = &[
            "display",
            "DISPLAY",
            "Display",
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
            "overflow-x",
            "overflow-y",
            "clip",
            "color",
            "margin",
            "top2",
            "displayx",
            "",
        ];
        const VALUES: &[&str] = &[
            "none",
            "hidden",
            "collapse",
            "0",
            "0px",
            "-9999px",
            "-999em",
            "absolute",
            "fixed",
            "rect(0 0 0 0)",
            "1",
            "0.01",
            "NONE",
            "100%",
            "",
        ];
        const JUNK: &[&str] = &[
            "",
            "",
            " ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{3000}",
            "\u{b}",
            ":",
            ";",
            "é",
            "  ",
            " !important",
        ];
        let mut rng = fastrand::Rng::with_seed(17);
        let mut hidden = 0;
        for _ in 0..20_000 {
            let mut style = String::new();
            for _ in 0..rng.usize(0..6) {
                let mut pick = |list: &[&'static str]| list[rng.usize(..list.len())];
                for piece in [
                    pick(JUNK),
                    pick(NAMES),
                    pick(JUNK),
                    ":",
                    pick(JUNK),
                    pick(VALUES),
                    pick(JUNK),
                    ";",
                ] {
                    style.push_str(piece);
                }
            }
            let found = hidden_style(&style);
            assert_eq!(found, reference_hidden_style(&style), "{style:?}");
            hidden += usize::from(found.is_some());
        }
        assert!(hidden > 200, "{hidden}");
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

    /// The prefilter only skips regexes that cannot match: every text a rule's pattern
    /// matches is a candidate, whether the rule is decided by the first character, by
    /// its own literals or by the scan for all prefixes.
    #[test]
    fn text_prefilter_keeps_every_match() {
        let rules = builtin_clean_rules();
        let texts = [
            "当前位置：首页>新闻中心",
            "首页>政务公开>政府信息",
            "字号：大中小",
            "【打印本页】【关闭窗口】",
            "分享到：微信微博QQ空间",
            "上一篇：关于秋季征兵的通告",
            "相关链接县长调研农业生产",
            "网友评论",
            "版权所有某某县人民政府蜀ICP备12345678号",
            "技术支持：某某科技有限公司",
            "网站地图|联系我们|关于我们",
            "相关阅读",
            "更多>>",
            "阅读剩余全文",
            "无障碍浏览",
            "广告",
            "免责声明：本站转载的文章",
            "1.凡本网注明来源的作品",
            "返回顶部",
            "声明：本文仅代表作者观点",
            "（未经本网书面授权，不得转载）",
            "本文已过查询时效，请加入会员阅读全文",
            "开通VIP会员查看",
            "订阅后阅读全文",
            "subscribetoreadmore",
            "TopVideosAndMoreLinksHere",
            "relatedstories",
            "Photo:JaneDoe,AP",
            "Advertisement",
            "Tags:economy,trade",
            "Readmore:anotherstory",
            "延伸阅读：另一篇报道",
            ARTICLE,
        ];
        let matches: usize = texts.iter().map(|t| check_prefilter(&rules, t)).sum();
        assert!(matches >= 30, "{matches}");
    }

    #[test]
    fn required_literals_come_from_a_part_every_match_holds() {
        let lit = |s: &str| Some(vec![s.as_bytes().to_vec()]);
        assert_eq!(
            required_literals("^[(（]?.{0,60}(未经)(授权|许可)"),
            lit("未经")
        );
        assert_eq!(required_literals("x?y"), lit("y"));
        assert_eq!(required_literals(".*"), None);
        assert_eq!(required_literals("a?b?"), None);
    }
}
