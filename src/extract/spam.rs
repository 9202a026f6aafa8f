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

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use regex::Regex;
use scraper::{Html, Node, StrTendril};
use serde::Deserialize;
use url::Url;

use crate::article::SpamRemoval;
use crate::extract::chars::three_byte_code;
use crate::extract::clean::{
    compact_text, hidden_style, is_blank, is_invisible_tag, visible_chars,
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
    /// Length of each word in characters.
    word_chars: Vec<usize>,
    context: Option<AhoCorasick>,
    /// The words and then the context words, reporting every occurrence (overlapping): a
    /// page's text is searched once and each element's terms are then picked from the
    /// list (see [`Occurrences`]).
    all_words: Option<AhoCorasick>,
    /// False when two words (or two context words) differ only in ASCII case: which one
    /// a search reports would then be up to the automaton, not to a list.
    occurrences_exact: bool,
    /// Which characters belong to one script only.
    scripts: ScriptTable,
    hidden_classes: NameSet,
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
        let mut hidden_classes = NameSet::default();
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
                for class in classes {
                    hidden_classes.insert(class.to_ascii_lowercase());
                }
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
        let build_kind = |words: &[String],
                          kind: MatchKind|
         -> Result<Option<AhoCorasick>, RulesError> {
            if words.is_empty() {
                return Ok(None);
            }
            AhoCorasickBuilder::new()
                .match_kind(kind)
                .ascii_case_insensitive(true)
                // A DFA: a few hundred kilobytes once, and every element's text is
                // searched (the default NFA was most of the search time).
                .kind(Some(AhoCorasickKind::DFA))
                .build(words)
                .map(Some)
                .map_err(|e| invalid("spam.toml", format!("cannot build the term matcher: {e}")))
        };
        let build = |words: &[String]| build_kind(words, MatchKind::LeftmostLongest);
        // Occurrence lists stand for leftmost-longest search only when no two words can
        // match the same span.
        let distinct = |words: &[String]| {
            let folded: HashSet<String> = words.iter().map(|w| w.to_ascii_lowercase()).collect();
            folded.len() == words.len()
        };
        let occurrences_exact = distinct(&words) && distinct(&context);
        let all_words = if occurrences_exact {
            let both: Vec<String> = words.iter().chain(&context).cloned().collect();
            build_kind(&both, MatchKind::Standard)?
        } else {
            None
        };
        Ok(SpamRules {
            matcher: build(&words)?,
            context: build(&context)?,
            all_words,
            occurrences_exact,
            settings,
            tiers,
            word_chars: words.iter().map(|w| w.chars().count()).collect(),
            words,
            scripts: ScriptTable::new(&simplified_only, &traditional_only),
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
                self.count_term(&mut hits, found.pattern().as_usize());
            }
        }
        hits.context = self.context.as_ref().is_some_and(|c| c.is_match(text));
        hits
    }

    /// Adds one match of word `i` to `hits`.
    fn count_term(&self, hits: &mut Hits, i: usize) {
        let word = &self.words[i];
        let chars = self.word_chars[i];
        match self.tiers[i] {
            Tier::Strong => {
                hits.strong += 1;
                hits.term_chars += chars;
                hits.strong_chars += chars;
                if !hits.strong_terms.contains(word) {
                    hits.strong_terms.push(word.clone());
                }
            }
            Tier::Weak => {
                hits.weak += 1;
                hits.term_chars += chars;
                if !hits.weak_terms.contains(word) {
                    hits.weak_terms.push(word.clone());
                }
            }
            Tier::Neutral => {}
        }
    }

    /// (simplified-only, traditional-only) characters in `text`.
    fn script_counts(&self, text: &str) -> (usize, usize) {
        let mut simplified = 0;
        let mut traditional = 0;
        for c in text.chars() {
            match self.script_of(c) {
                Some(false) => simplified += 1,
                Some(true) => traditional += 1,
                None => {}
            }
        }
        (simplified, traditional)
    }

    /// `Some(true)` for a traditional-only character, `Some(false)` simplified-only.
    #[inline]
    fn script_of(&self, c: char) -> Option<bool> {
        match self.scripts.get(c as u32) {
            SIMPLIFIED => Some(false),
            TRADITIONAL => Some(true),
            _ => None,
        }
    }

    /// `markup.replace_all(text, " ")`: tags, comments, scripts and style blocks each
    /// replaced by a space. [`strip_markup_fast`] does it without the regex engine (the
    /// literals of a script are full of markup, and the regex's work per tag showed in the
    /// profile); the regex stays for the few texts it leaves to it.
    fn strip_markup<'t>(&self, text: &'t str) -> Cow<'t, str> {
        match strip_markup_fast(text) {
            Some(stripped) => stripped,
            None => self.markup.replace_all(text, " "),
        }
    }

    /// How many strong terms occur in already [`normalize`]d text (the count of [`hits`]).
    ///
    /// [`hits`]: SpamRules::hits
    fn strong_count(&self, text: &str) -> usize {
        self.matcher.as_ref().map_or(0, |m| {
            m.find_iter(text)
                .filter(|found| self.tiers[found.pattern().as_usize()] == Tier::Strong)
                .count()
        })
    }
}

const SIMPLIFIED: u8 = 1;
const TRADITIONAL: u8 = 2;

/// The script of each character of the script table: two bits per character of the
/// Basic Multilingual Plane (where every CJK character of the table lives), a map for
/// the rest. Probed for each of the first 200,000 characters of a page, where hashing
/// each character showed in the profile.
#[derive(Debug, Default)]
struct ScriptTable {
    bmp: Vec<u64>,
    astral: HashMap<u32, u8>,
    /// Some ASCII character has a script (never with the shipped lists): ASCII runs of
    /// text are looked up only then.
    ascii: bool,
}

impl ScriptTable {
    fn new(simplified: &HashSet<char>, traditional: &HashSet<char>) -> Self {
        let mut table = ScriptTable {
            bmp: vec![0; 0x10000 / 32],
            astral: HashMap::new(),
            ascii: false,
        };
        for (set, script) in [(simplified, SIMPLIFIED), (traditional, TRADITIONAL)] {
            for &c in set {
                let n = c as usize;
                if n < 0x10000 {
                    table.bmp[n / 32] |= (script as u64) << (2 * (n % 32));
                } else {
                    table.astral.insert(n as u32, script);
                }
            }
        }
        table.ascii = table.bmp[..128 / 32].iter().any(|&word| word != 0);
        table
    }

    /// [`SIMPLIFIED`], [`TRADITIONAL`] or 0 for a code point.
    #[inline]
    fn get(&self, code: u32) -> u8 {
        let n = code as usize;
        match self.bmp.get(n / 32) {
            Some(word) => ((word >> (2 * (n % 32))) & 3) as u8,
            None if self.astral.is_empty() => 0,
            None => self.astral.get(&code).copied().unwrap_or(0),
        }
    }
}

/// Lower-cased class or id names, probed with a page's class / id tokens without
/// allocating: a 256-bit filter on (first byte, length) answers most misses before the
/// token is hashed (every element with a class is probed).
#[derive(Debug, Default)]
struct NameSet {
    names: HashSet<String>,
    filter: [u64; 4],
}

impl NameSet {
    fn bucket(first: u8, len: usize) -> usize {
        (first as usize).wrapping_mul(31).wrapping_add(len) & 255
    }

    /// Adds an already lower-cased name.
    fn insert(&mut self, name: String) {
        if let Some(&first) = name.as_bytes().first() {
            let b = Self::bucket(first, name.len());
            self.filter[b / 64] |= 1 << (b % 64);
        }
        self.names.insert(name);
    }

    fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// False when [`NameSet::contains_folded`] is false for a non-empty `token` (the
    /// filter alone).
    fn may_contain_folded(&self, token: &str) -> bool {
        token.as_bytes().first().map_or(true, |&first| {
            let b = Self::bucket(first.to_ascii_lowercase(), token.len());
            self.filter[b / 64] & (1 << (b % 64)) != 0
        })
    }

    /// Whether `token`, ASCII-lower-cased, is in the set.
    fn contains_folded(&self, token: &str) -> bool {
        let Some(&first) = token.as_bytes().first() else {
            return self.names.contains(token);
        };
        let b = Self::bucket(first.to_ascii_lowercase(), token.len());
        if self.filter[b / 64] & (1 << (b % 64)) == 0 {
            return false;
        }
        if token.bytes().any(|b| b.is_ascii_uppercase()) {
            self.names.contains(&token.to_ascii_lowercase())
        } else {
            self.names.contains(token)
        }
    }
}

/// The multiply-rotate hash of rustc (FxHash), for the per-page sets of node ids: ids are
/// small integers the parser hands out, SipHash on them showed in the profile.
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdSet = HashSet<NodeId, BuildHasherDefault<IdHasher>>;

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
/// Copied in runs of characters kept as they are (a character at a time showed in the
/// profile: titles, meta texts and headings of every page go through here).
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Start of the run of characters not yet copied.
    let mut run = 0;
    for (i, c) in text.char_indices() {
        let folded = match c as u32 {
            // Never blank (white space ends at U+3000, zero-width characters at U+FEFF),
            // never full-width ASCII.
            0x21..=0x7e | 0x3001..=0xfefe => continue,
            0xff01..=0xff5e => char::from_u32(c as u32 - 0xfee0),
            _ if is_blank(c) => None,
            _ => continue,
        };
        out.push_str(&text[run..i]);
        out.extend(folded);
        run = i + c.len_utf8();
    }
    out.push_str(&text[run..]);
    out
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
    let (mut page, removals, cuts, counted) = {
        let mut scan = Scan::new(doc, base, rules);
        scan.after_html_end(source);
        scan.document_writes();
        scan.blocks();
        // Nothing cut: the text left is the text measured, already searched.
        let counted = scan.cuts.is_empty().then(|| scan.flat.body_counts(rules));
        (
            std::mem::take(&mut scan.page),
            scan.removals,
            scan.cuts,
            counted,
        )
    };
    apply(doc, cuts);
    let counted = counted.or_else(|| {
        body_of(doc).map(|body| {
            let text = normalized_text(body, BODY_TEXT_CHARS);
            let context = rules
                .context
                .as_ref()
                .map_or(0, |c| c.find_iter(&text).count());
            (rules.strong_count(&text), context)
        })
    });
    if let Some((strong, context)) = counted {
        page.body_strong = strong;
        page.body_context = context;
    }
    SpamReport { removals, page }
}

/// How much of the text left after removal [`PageSignals`] reads.
const BODY_TEXT_CHARS: usize = 300_000;
/// How much of a page's text decides its script.
const SCRIPT_SAMPLE_CHARS: usize = 200_000;

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

/// What one walk over the whole document finds for the later steps: the page-level
/// signals (read before anything is removed), `<body>`, the style sheets and scripts, and
/// without a page address every link's `href` (for [`dominant_site`]).
struct Survey<'d> {
    page: PageSignals,
    body: Option<NodeRef<'d, Node>>,
    styles: Vec<NodeRef<'d, Node>>,
    scripts: Vec<NodeRef<'d, Node>>,
    hrefs: Vec<&'d str>,
}

impl<'d> Survey<'d> {
    #[inline(never)]
    fn of(doc: &'d Html, rules: &SpamRules, want_hrefs: bool) -> Self {
        let mut survey = Survey {
            page: PageSignals::default(),
            body: None,
            styles: Vec::new(),
            scripts: Vec::new(),
            hrefs: Vec::new(),
        };
        let signals = &mut survey.page;
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
                    // Read without interning the names (`Element::attr`) or lower-casing
                    // the value: a page has dozens of `<meta>`.
                    let name = attr(el, "name")
                        .or_else(|| attr(el, "property"))
                        .unwrap_or_default();
                    let wanted = ["keywords", "description", "og:title", "og:description"];
                    if wanted.iter().any(|w| name.eq_ignore_ascii_case(w)) {
                        let h = rules.hits(&normalize(attr(el, "content").unwrap_or_default()));
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
                "body" if survey.body.is_none() => survey.body = Some(node),
                "style" => survey.styles.push(node),
                "script" => survey.scripts.push(node),
                "a" if want_hrefs => {
                    if let Some(href) = attr(el, "href") {
                        survey.hrefs.push(href);
                    }
                }
                _ => {}
            }
        }
        survey
    }
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
    let keep = match labels.as_slice() {
        [.., sld, tld] if tld.len() == 2 && SECOND_LEVEL.contains(sld) => 3,
        _ => 2,
    };
    labels[labels.len().saturating_sub(keep)..].join(".")
}

/// [`site_key`] of a host [`plain_web_host`] accepted (no empty label, no trailing dot),
/// as a slice of it, up to ASCII case.
fn plain_site_key(host: &str) -> &str {
    // Dots found from the end with a byte loop (`rmatch_indices` costs more than these
    // short hosts, one per absolute link).
    let bytes = host.as_bytes();
    let mut end = bytes.len();
    let mut dots = std::iter::from_fn(move || {
        let dot = bytes[..end].iter().rposition(|&b| b == b'.')?;
        end = dot;
        Some(dot)
    });
    let (last_dot, second_dot) = (dots.next(), dots.next());
    let Some(last_dot) = last_dot else {
        return host;
    };
    let tld = &host[last_dot + 1..];
    let sld = &host[second_dot.map_or(0, |d| d + 1)..last_dot];
    let keep_three = tld.len() == 2 && SECOND_LEVEL.iter().any(|l| sld.eq_ignore_ascii_case(l));
    let start = if keep_three { dots.next() } else { second_dot };
    start.map_or(host, |d| &host[d + 1..])
}

/// Second-level labels under which a country code's sites register (`a.gov.cn`).
const SECOND_LEVEL: [&str; 12] = [
    "com", "net", "org", "gov", "edu", "ac", "co", "or", "ne", "go", "mil", "idv",
];

/// Link statistics of one element's subtree.
#[derive(Debug, Clone, Copy, Default)]
struct LinkStats {
    links: u32,
    foreign: u32,
    /// Links to other sites whose text carries terms.
    foreign_terms: u32,
}

/// Visible-text figures of one node's subtree (white space not counted).
#[derive(Debug, Clone, Copy, Default)]
struct TextStats {
    /// Visible characters.
    text: u32,
    /// Characters in prose runs (text nodes of 40+ characters with sentence punctuation).
    prose: u32,
    /// Characters inside links.
    link: u32,
}

/// Text nodes of at least this many characters with sentence punctuation are prose.
const PROSE_MIN_CHARS: u32 = 40;

/// One node of `<body>`'s subtree, in document order.
#[derive(Clone, Copy)]
struct Measured<'d> {
    node: NodeRef<'d, Node>,
    /// Position of the parent in [`Flat::nodes`] (`NO_PARENT` for `<body>`).
    parent: u32,
    /// One past the position of the subtree's last node.
    end: u32,
    /// The subtree's visible text is `Flat::text[text_start..text_end]`.
    text_start: u32,
    text_end: u32,
    stats: TextStats,
    links: LinkStats,
}

const NO_PARENT: u32 = u32::MAX;

/// `<body>`'s subtree measured in one walk: every node in document order (a subtree is a
/// contiguous range, so skipping one is a jump), and all visible text of the page, blanks
/// removed and full-width ASCII folded as [`normalize`] does, so that the text of any
/// element is a slice of it rather than a string built per element.
#[derive(Default)]
struct Flat<'d> {
    nodes: Vec<Measured<'d>>,
    text: String,
    /// Byte length of the first [`BODY_TEXT_CHARS`] characters of `text`, once reached.
    body_text_end: Option<usize>,
    /// Words in `text` (when the rules allow picking matches from a list).
    occurrences: Option<Occurrences>,
    /// Bit per position of `nodes`: the element has a class token that may be one of the
    /// configured hiding classes (it passes [`NameSet`]'s filter). Without one, and
    /// without hiding rules in the page's `<style>`, an element's class attribute need
    /// not be read again (most elements, most pages).
    config_class_bits: Vec<u64>,
}

/// A byte range of [`Flat::text`].
type Span = (usize, usize);

impl<'d> Flat<'d> {
    /// Whether the element at `i` may hold a configured hiding class.
    fn may_hold_config_class(&self, i: usize) -> bool {
        self.config_class_bits
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Where the normalised visible text of the subtree at `i` is.
    fn span_of(&self, i: usize) -> Span {
        let m = &self.nodes[i];
        (m.text_start as usize, m.text_end as usize)
    }

    fn slice(&self, (start, end): Span) -> &str {
        self.text.get(start..end).unwrap_or_default()
    }

    /// [`SpamRules::hits`] of a span of the text.
    fn hits(&self, rules: &SpamRules, span: Span) -> Hits {
        let text = self.slice(span);
        let Some(occurrences) = self.occurrences.as_ref().filter(|o| span.1 <= o.covered) else {
            return rules.hits(text);
        };
        let mut hits = Hits {
            chars: text.chars().count(),
            ..Hits::default()
        };
        for (_, _, word) in occurrences.terms_in(span) {
            rules.count_term(&mut hits, word as usize);
        }
        hits.context = occurrences.any_context_in(span);
        hits
    }

    /// Strong terms and context words in the first [`BODY_TEXT_CHARS`] characters of the
    /// text, as [`PageSignals`] counts them.
    fn body_counts(&self, rules: &SpamRules) -> (usize, usize) {
        let span = (0, self.body_text_end.unwrap_or(self.text.len()));
        match self.occurrences.as_ref().filter(|o| span.1 <= o.covered) {
            Some(occurrences) => (
                occurrences
                    .terms_in(span)
                    .filter(|&(_, _, word)| rules.tiers[word as usize] == Tier::Strong)
                    .count(),
                occurrences.context_count(span),
            ),
            None => {
                let text = self.slice(span);
                let context = rules
                    .context
                    .as_ref()
                    .map_or(0, |c| c.find_iter(text).count());
                (rules.strong_count(text), context)
            }
        }
    }
}

/// Every occurrence of every word and context word in a page's text, overlapping ones
/// included. The matches a leftmost-longest search of any span would report are picked
/// from them: from the left, the longest occurrence inside the span that starts at or
/// after the end of the previous pick. So the text is searched once, not once per
/// element (each short block used to be searched on its own).
#[derive(Default)]
struct Occurrences {
    /// (start, end, word), by start and then longest first.
    terms: Vec<(u32, u32, u32)>,
    context: Vec<(u32, u32, u32)>,
    /// The text searched: the first [`BODY_TEXT_CHARS`] characters (the body counts read
    /// them); spans past it are searched on their own.
    covered: usize,
}

impl Occurrences {
    #[inline(never)]
    fn of(text: &str, rules: &SpamRules) -> Self {
        let mut found = Occurrences {
            covered: text.len(),
            ..Occurrences::default()
        };
        if let Some(matcher) = &rules.all_words {
            let words = rules.words.len() as u32;
            for f in matcher.find_overlapping_iter(text) {
                let (start, end, id) = (f.start() as u32, f.end() as u32, f.pattern().as_u32());
                if id < words {
                    found.terms.push((start, end, id));
                } else {
                    found.context.push((start, end, id - words));
                }
            }
        }
        for list in [&mut found.terms, &mut found.context] {
            list.sort_unstable_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        }
        found
    }

    /// The leftmost-longest picks among `found` inside `span`.
    fn picks(
        found: &[(u32, u32, u32)],
        (start, end): Span,
    ) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        let first = found.partition_point(|o| (o.0 as usize) < start);
        let mut next = start;
        found[first..]
            .iter()
            .take_while(move |o| (o.0 as usize) < end)
            .filter(move |o| {
                let fits = o.0 as usize >= next && o.1 as usize <= end;
                if fits {
                    next = o.1 as usize;
                }
                fits
            })
            .copied()
    }

    fn terms_in(&self, span: Span) -> impl Iterator<Item = (u32, u32, u32)> + '_ {
        Self::picks(&self.terms, span)
    }

    /// How many context words a leftmost-longest search of `span` finds.
    fn context_count(&self, span: Span) -> usize {
        Self::picks(&self.context, span).count()
    }

    fn any_context_in(&self, span: Span) -> bool {
        Self::picks(&self.context, span).next().is_some()
    }
}

/// Characters counted while the page's text is gathered, and the class / id names seen.
#[derive(Default)]
struct PageCount {
    chars: usize,
    simplified: usize,
    traditional: usize,
    names: PageNames,
}

/// Which class tokens and ids `<body>` may hold, as a 1,024-bit filter on (first byte,
/// last byte, length), ASCII case folded: a `<style>` rule naming none of them cannot
/// hide anything on the page, so its declarations need not be read.
#[derive(Default)]
struct PageNames {
    classes: [u64; 16],
    ids: [u64; 16],
}

impl PageNames {
    fn bucket(name: &str) -> Option<usize> {
        let bytes = name.as_bytes();
        let (first, last) = (bytes.first()?, bytes.last()?);
        let key = u32::from(first.to_ascii_lowercase())
            | u32::from(last.to_ascii_lowercase()) << 8
            | (bytes.len() as u32) << 16;
        Some((key.wrapping_mul(0x9e37_79b1) >> 22) as usize)
    }

    fn add(filter: &mut [u64; 16], name: &str) {
        if let Some(b) = Self::bucket(name) {
            filter[b / 64] |= 1 << (b % 64);
        }
    }

    /// False when no class token (`is_class`) or id on the page folds to `name`.
    fn may_hold(&self, is_class: bool, name: &str) -> bool {
        let filter = if is_class { &self.classes } else { &self.ids };
        Self::bucket(name).map_or(true, |b| filter[b / 64] & (1 << (b % 64)) != 0)
    }
}

/// The first `max` characters of `text`.
fn prefix_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// A removal decided during the scan, applied at the end.
enum Cut {
    Node(NodeId),
    /// Keep only the first `keep_bytes` of a text node.
    Truncate(NodeId, usize),
}

struct Scan<'d, 'r> {
    rules: &'r SpamRules,
    doc: &'d Html,
    base: Option<Url>,
    base_key: Option<String>,
    /// The page address is http(s): a relative link stays on its site.
    base_is_web: bool,
    page: PageSignals,
    styles: Vec<NodeRef<'d, Node>>,
    scripts: Vec<NodeRef<'d, Node>>,
    flat: Flat<'d>,
    removals: Vec<SpamRemoval>,
    cuts: Vec<Cut>,
    cut_ids: IdSet,
    /// Elements hidden by rules in the page's own `<style>` or by a `document.write` wrapper.
    css_hidden_classes: NameSet,
    css_hidden_ids: NameSet,
    hidden_by_write: IdSet,
    /// `Some(true)` for a traditional-script page, `Some(false)` simplified, `None` unsure.
    page_traditional: Option<bool>,
}

/// The `selectors { body }` pairs of a style sheet, the rules inside `@media { }` blocks
/// included: exactly the matches of `([^{}]+)\{([^{}]*)\}`, found without a regex
/// engine (the regex was 4% of extraction time; style sheets are a quarter of the bytes
/// of a government page).
fn css_rules(css: &str) -> impl Iterator<Item = (&str, &str)> {
    let bytes = css.as_bytes();
    let next_brace =
        move |from: usize| memchr::memchr2(b'{', b'}', &bytes[from..]).map(|p| p + from);
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

/// `text.split(sep)` for an ASCII separator, cut with a byte loop: style sheets hold
/// thousands of short selector lists, where `str::split`'s searcher costs more than the
/// cutting.
fn split_at_byte(text: &str, sep: u8) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest?;
        match current.bytes().position(|b| b == sep) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                Some(&current[..at])
            }
            None => {
                rest = None;
                Some(current)
            }
        }
    })
}

/// The class (`true`) or id name a lone simple selector (`.x`, `#y`, `div.x`) names.
/// Descendant selectors would need a selector engine and are rare in injected spam.
fn simple_selector_name(selector: &str) -> Option<(bool, &str)> {
    let selector = selector.trim();
    if !selector.is_ascii() {
        if selector
            .contains(|c: char| c.is_whitespace() || matches!(c, '>' | '+' | '~' | ':' | '['))
        {
            return None;
        }
        let pos = selector.find(['.', '#'])?;
        let (kind, name) = selector[pos..].split_at(1);
        let name = name.split(['.', '#']).next().unwrap_or_default();
        return (!name.is_empty()).then_some((kind == ".", name));
    }
    // ASCII (nearly all): one pass over the bytes.
    let bytes = selector.as_bytes();
    let mut mark = None;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'>' | b'+' | b'~' | b':' | b'[' | b'\t'..=b'\r' | b' ' => return None,
            b'.' | b'#' if mark.is_none() => mark = Some(i),
            _ => {}
        }
    }
    let pos = mark?;
    let rest = &bytes[pos + 1..];
    let len = rest
        .iter()
        .position(|&b| b == b'.' || b == b'#')
        .unwrap_or(rest.len());
    (len > 0).then(|| (bytes[pos] == b'.', &selector[pos + 1..pos + 1 + len]))
}

/// What a byte of an ASCII selector list is to [`ascii_selector_names`].
const SEL_NAME: u8 = 0;
const SEL_COMMA: u8 = 1;
const SEL_SPACE: u8 = 2;
/// A combinator, pseudo-class or attribute test: the selector is given up.
const SEL_REJECT: u8 = 3;
/// `.` or `#`.
const SEL_MARK: u8 = 4;

const SELECTOR_BYTES: [u8; 256] = {
    let mut table = [SEL_NAME; 256];
    table[b',' as usize] = SEL_COMMA;
    let mut b = b'\t';
    while b <= b'\r' {
        table[b as usize] = SEL_SPACE;
        b += 1;
    }
    table[b' ' as usize] = SEL_SPACE;
    table[b'>' as usize] = SEL_REJECT;
    table[b'+' as usize] = SEL_REJECT;
    table[b'~' as usize] = SEL_REJECT;
    table[b':' as usize] = SEL_REJECT;
    table[b'[' as usize] = SEL_REJECT;
    table[b'.' as usize] = SEL_MARK;
    table[b'#' as usize] = SEL_MARK;
    table
};

/// What [`simple_selector_name`] finds in each selector of an ASCII selector list (cut
/// at its commas), pushed onto `names` in one pass over the bytes: a selector is given
/// up at its first combinator, pseudo-class or attribute test (most are), and the scan
/// jumps to the next comma. Runs of name bytes are stepped over in a tight loop with a
/// byte-class table (style sheets hold thousands of selector lists per page).
fn ascii_selector_names<'a>(list: &'a str, names: &mut Vec<(bool, &'a str)>) {
    let bytes = list.as_bytes();
    let class = |i: usize| SELECTOR_BYTES[bytes[i] as usize];
    let mut start = 0;
    while start <= bytes.len() {
        let mut i = start;
        while i < bytes.len() && class(i) == SEL_SPACE {
            i += 1;
        }
        // First `.`/`#`, the next one (the name's end), end of the selector's text.
        let (mut mark, mut name_end) = (None, None);
        let mut rejected = false;
        let text_end = loop {
            while i < bytes.len() && class(i) == SEL_NAME {
                i += 1;
            }
            if i == bytes.len() {
                break i;
            }
            match class(i) {
                SEL_MARK => {
                    if mark.is_none() {
                        mark = Some(i);
                    } else if name_end.is_none() {
                        name_end = Some(i);
                    }
                    i += 1;
                }
                SEL_COMMA => break i,
                SEL_SPACE => {
                    let text_end = i;
                    while i < bytes.len() && class(i) == SEL_SPACE {
                        i += 1;
                    }
                    // White space inside the selector: a descendant combinator (or
                    // one around `>`, `+`, `~`).
                    rejected = i < bytes.len() && class(i) != SEL_COMMA;
                    break text_end;
                }
                _ => {
                    rejected = true;
                    break i;
                }
            }
        };
        if rejected {
            i = memchr::memchr(b',', &bytes[i..]).map_or(bytes.len(), |p| i + p);
        } else if let Some(pos) = mark {
            let end = name_end.unwrap_or(text_end);
            if end > pos + 1 {
                names.push((bytes[pos] == b'.', &list[pos + 1..end]));
            }
        }
        start = i + 1;
    }
}

/// The host of an absolute `http(s)://host/…` link whose host is a plain ASCII domain
/// name (letters, digits, inner dots and hyphens; no port, user, IDNA `xn--` label or
/// numeric last label, no control character or backslash in it): what the URL parser
/// would return up to ASCII case, found without parsing. Anything else gives `None`.
fn plain_web_host(href: &str) -> Option<&str> {
    let bytes = href.as_bytes();
    let start = if bytes.len() > 7 && bytes[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else if bytes.len() > 8 && bytes[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else {
        return None;
    };
    // The host is checked byte by byte; what follows it (path, query) cannot change
    // it, not even tabs or backslashes there.
    let label_ok = |label: &[u8]| {
        let punycode = label
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case(b"xn--"));
        !label.is_empty() && !punycode
    };
    let mut label_start = start;
    let mut end = bytes.len();
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        match b {
            b'/' | b'?' | b'#' => {
                end = i;
                break;
            }
            b'.' => {
                if !label_ok(&bytes[label_start..i]) {
                    return None;
                }
                label_start = i + 1;
            }
            b if b.is_ascii_alphanumeric() || b == b'-' => {}
            _ => return None,
        }
    }
    let last = &bytes[label_start..end];
    (label_ok(last) && last[0].is_ascii_alphabetic()).then(|| &href[start..end])
}

/// `Element::attr` without interning the name first (scraper makes an atom per call).
fn attr<'a>(el: &'a scraper::node::Element, name: &str) -> Option<&'a str> {
    el.attrs
        .iter()
        .find(|(q, _)| q.prefix.is_none() && q.ns.is_empty() && &*q.local == name)
        .map(|(_, value)| &**value)
}

/// Every byte is printable ASCII (`!` to DEL: no white space, no control character, no
/// part of a longer character), checked eight bytes at a time.
fn printable_ascii(bytes: &[u8]) -> bool {
    const LOW: u64 = 0x2121_2121_2121_2121;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A lane below 0x21 borrows into its high bit (exact as a yes/no for the word when
    // no lane has its high bit set, which `| word` covers).
    let bad = |word: u64| (word.wrapping_sub(LOW) | word) & HIGH != 0;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        if bad(u64::from_le_bytes(word)) {
            return false;
        }
    }
    let rest = chunks.remainder();
    let mut word = [b'a'; 8];
    word[..rest.len()].copy_from_slice(rest);
    !bad(u64::from_le_bytes(word))
}

/// Calls `f` with each white-space separated token of a class attribute (as
/// `split_whitespace` cuts them; ASCII values, nearly all, are cut on bytes) while it
/// returns true.
fn for_each_token(value: &str, mut f: impl FnMut(&str) -> bool) {
    // Most values are one name: printable ASCII through and through.
    if !value.is_empty() && printable_ascii(value.as_bytes()) {
        f(value);
        return;
    }
    if !value.is_ascii() {
        for token in value.split_whitespace() {
            if !f(token) {
                return;
            }
        }
        return;
    }
    let bytes = value.as_bytes();
    let space = |b: u8| matches!(b, b'\t'..=b'\r' | b' ');
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && space(bytes[i]) {
            i += 1;
        }
        let start = i;
        while i < bytes.len() && !space(bytes[i]) {
            i += 1;
        }
        if i > start && !f(&value[start..i]) {
            return;
        }
    }
}

/// The first position at or after `from` that is not ASCII white space (`\t` to `\r`,
/// space), eight bytes a step while whole words are white space: the indentation
/// between tags is most of the white space of a page.
fn skip_ascii_blanks(bytes: &[u8], mut from: usize) -> usize {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let lanes = |byte: u8| u64::from_le_bytes([byte; 8]);
    while let Some(chunk) = bytes.get(from..from + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // Every lane below 0x21 (no carry between lanes: each stays below 0x100) ...
        if (word.wrapping_add(lanes(0x80 - 0x21)) | word) & HIGH != 0 {
            break;
        }
        // ... and in 0x09..=0x0d or 0x20.
        let at_least_9 = word.wrapping_add(lanes(0x80 - 0x09));
        let at_least_14 = word.wrapping_add(lanes(0x80 - 0x0e));
        let space = word.wrapping_add(lanes(0x80 - 0x20));
        if ((at_least_9 & !at_least_14) | space) & HIGH != HIGH {
            break;
        }
        from += 8;
    }
    while from < bytes.len() && matches!(bytes[from], b'\t'..=b'\r' | b' ') {
        from += 1;
    }
    from
}

/// The text children of `node` joined (borrowed when there is one, as usual).
fn child_text<'d>(node: NodeRef<'d, Node>) -> Cow<'d, str> {
    let mut texts = node.children().filter_map(|c| c.value().as_text());
    match (texts.next(), texts.next()) {
        (None, _) => Cow::Borrowed(""),
        (Some(only), None) => Cow::Borrowed(&**only),
        (Some(first), Some(second)) => {
            let mut joined = String::from(&**first);
            joined.push_str(second);
            for t in texts {
                joined.push_str(t);
            }
            Cow::Owned(joined)
        }
    }
}

impl<'d, 'r> Scan<'d, 'r> {
    fn new(doc: &'d Html, base: Option<&Url>, rules: &'r SpamRules) -> Self {
        let base_key = base.and_then(|b| b.host_str()).map(site_key);
        let survey = Survey::of(doc, rules, base_key.is_none());
        let mut scan = Scan {
            rules,
            doc,
            base: base.cloned(),
            base_is_web: base.is_some_and(|b| matches!(b.scheme(), "http" | "https")),
            base_key,
            page: survey.page,
            styles: survey.styles,
            scripts: survey.scripts,
            flat: Flat::default(),
            removals: Vec::new(),
            cuts: Vec::new(),
            cut_ids: IdSet::default(),
            css_hidden_classes: NameSet::default(),
            css_hidden_ids: NameSet::default(),
            hidden_by_write: IdSet::default(),
            page_traditional: None,
        };
        if scan.base_key.is_none() {
            scan.base_key = dominant_site(&survey.hrefs);
        }
        if let Some(body) = survey.body {
            let (mut flat, count) = scan.measure(body);
            // Without `<body>` no element is judged, so the style sheets are not needed.
            scan.read_styles(&count.names);
            if rules.occurrences_exact {
                let covered = flat.body_text_end.unwrap_or(flat.text.len());
                flat.occurrences = Some(Occurrences::of(&flat.text[..covered], rules));
            }
            scan.flat = flat;
            scan.page_traditional = scan.page_script(&count);
        }
        scan
    }

    /// Simple `.class {display:none}` / `#id {…}` rules in the page's `<style>` elements,
    /// for the names `<body>` may hold (the others could never match).
    #[inline(never)]
    fn read_styles(&mut self, on_page: &PageNames) {
        for &node in &self.styles {
            let css = child_text(node);
            let mut names = Vec::new();
            for (selectors, body) in css_rules(&css) {
                // The selectors are read first: most rules have none that could register
                // a name, and reading the body is the costlier half.
                names.clear();
                if selectors.is_ascii() {
                    ascii_selector_names(selectors, &mut names);
                } else {
                    names.extend(split_at_byte(selectors, b',').filter_map(simple_selector_name));
                }
                names.retain(|&(is_class, name)| on_page.may_hold(is_class, name));
                if names.is_empty() || hidden_style(body).is_none() {
                    continue;
                }
                for &(is_class, name) in &names {
                    let name = name.to_ascii_lowercase();
                    if is_class {
                        self.css_hidden_classes.insert(name);
                    } else {
                        self.css_hidden_ids.insert(name);
                    }
                }
            }
        }
    }

    /// Walks `<body>` once: each node's visible text figures and link figures (children
    /// summed into parents when they close), the page's visible text, and the script
    /// characters of its first [`SCRIPT_SAMPLE_CHARS`] characters.
    #[inline(never)]
    fn measure(&self, body: NodeRef<'d, Node>) -> (Flat<'d>, PageCount) {
        let mut flat = Flat::default();
        flat.nodes.reserve(self.doc.tree.nodes().len());
        let mut count = PageCount::default();
        // The open nodes, innermost last: position, is `<a>`, is invisible (the tag
        // name is read once, when the element opens).
        let mut open: Vec<(u32, bool, bool)> = Vec::new();
        let mut in_link = 0usize;
        let mut invisible = 0usize;
        let config_classes = &self.rules.hidden_classes;
        for edge in body.traverse() {
            match edge {
                Edge::Open(node) => {
                    let index = flat.nodes.len() as u32;
                    let (mut is_link, mut is_invisible) = (false, false);
                    let mut m = Measured {
                        node,
                        parent: open.last().map_or(NO_PARENT, |o| o.0),
                        end: index + 1,
                        text_start: flat.text.len() as u32,
                        text_end: flat.text.len() as u32,
                        stats: TextStats::default(),
                        links: LinkStats::default(),
                    };
                    match node.value() {
                        Node::Element(el) => {
                            let name = el.name();
                            is_link = name == "a";
                            is_invisible = is_invisible_tag(name);
                            in_link += usize::from(is_link);
                            invisible += usize::from(is_invisible);
                            // Every name `hidden_reason_of` may probe (any namespace).
                            for (attribute, value) in el.attrs.iter() {
                                match &*attribute.local {
                                    "class" => for_each_token(value, |token| {
                                        PageNames::add(&mut count.names.classes, token);
                                        if config_classes.may_contain_folded(token) {
                                            let bits = &mut flat.config_class_bits;
                                            let word = index as usize / 64;
                                            if bits.len() <= word {
                                                bits.resize(word + 1, 0);
                                            }
                                            bits[word] |= 1 << (index % 64);
                                        }
                                        true
                                    }),
                                    "id" => PageNames::add(&mut count.names.ids, value),
                                    _ => {}
                                }
                            }
                        }
                        Node::Text(t) if invisible == 0 => {
                            let (chars, prose) = self.gather_text(t, &mut flat, &mut count);
                            m.stats.text = chars;
                            m.stats.prose = prose;
                            if in_link > 0 {
                                m.stats.link = chars;
                            }
                        }
                        _ => {}
                    }
                    flat.nodes.push(m);
                    open.push((index, is_link, is_invisible));
                }
                Edge::Close(node) => {
                    let Some((index, is_link, is_invisible)) = open.pop() else {
                        continue;
                    };
                    let i = index as usize;
                    if let Node::Element(el) = node.value() {
                        if is_link {
                            in_link = in_link.saturating_sub(1);
                            if let Some(href) = attr(el, "href") {
                                let links = &mut flat.nodes[i].links;
                                links.links += 1;
                                if self.is_foreign(href) {
                                    links.foreign += 1;
                                    // The link's own text: its slice of the page text
                                    // unless it sits inside an invisible element.
                                    let terms = if invisible == 0 {
                                        let start = flat.nodes[i].text_start as usize;
                                        let text = flat.text.get(start..).unwrap_or_default();
                                        self.rules.hits(prefix_chars(text, 200)).any()
                                    } else {
                                        let text = normalize(&compact_text(node, 200));
                                        self.rules.hits(&text).any()
                                    };
                                    if terms {
                                        flat.nodes[i].links.foreign_terms += 1;
                                    }
                                }
                            }
                        }
                        if is_invisible {
                            invisible = invisible.saturating_sub(1);
                        }
                    }
                    let end = flat.nodes.len() as u32;
                    let text_end = flat.text.len() as u32;
                    let m = &mut flat.nodes[i];
                    m.end = end;
                    m.text_end = text_end;
                    let (stats, links) = (m.stats, m.links);
                    if let Some(&(parent, _, _)) = open.last() {
                        let p = &mut flat.nodes[parent as usize];
                        p.stats.text += stats.text;
                        p.stats.prose += stats.prose;
                        p.stats.link += stats.link;
                        p.links.links += links.links;
                        p.links.foreign += links.foreign;
                        p.links.foreign_terms += links.foreign_terms;
                    }
                }
            }
        }
        (flat, count)
    }

    /// Appends a visible text node to the page text (blanks dropped, full-width ASCII
    /// folded) and returns its (characters, prose characters).
    fn gather_text(&self, text: &str, flat: &mut Flat, count: &mut PageCount) -> (u32, u32) {
        let bytes = text.as_bytes();
        let out = &mut flat.text;
        let scripts = &self.rules.scripts;
        let mut chars = 0u32;
        let mut stops = 0u32;
        let mut commas = 0u32;
        let mut counted = count.chars;
        // Start of the run of characters not yet copied to `out`.
        let mut run = 0;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if (0xe4..=0xee).contains(&b) && i + 2 < bytes.len() {
                // A run of U+4000–U+EFFF, the CJK ideographs: never blank, counted
                // punctuation or full-width ASCII. Consumed up to the next character
                // count that matters (end of the script sample, end of the body text).
                let sampling = counted < SCRIPT_SAMPLE_CHARS;
                let limit = if sampling {
                    SCRIPT_SAMPLE_CHARS
                } else if counted < BODY_TEXT_CHARS {
                    BODY_TEXT_CHARS
                } else {
                    usize::MAX
                };
                let start = counted;
                if sampling {
                    loop {
                        let code = three_byte_code(bytes[i], bytes[i + 1], bytes[i + 2]);
                        match scripts.get(code) {
                            SIMPLIFIED => count.simplified += 1,
                            TRADITIONAL => count.traditional += 1,
                            _ => {}
                        }
                        counted += 1;
                        i += 3;
                        if counted == limit
                            || i + 2 >= bytes.len()
                            || !(0xe4..=0xee).contains(&bytes[i])
                        {
                            break;
                        }
                    }
                } else {
                    // Only the count matters: find where the run ends (or the limit).
                    let room = (limit - counted).min(bytes.len() / 3);
                    let stop = (i + 3 * room).min(bytes.len() - 2);
                    let ideograph = |b: u8| b.wrapping_sub(0xe4) <= 0xee - 0xe4;
                    let mut j = i + 3;
                    // Two characters a step, then the last one.
                    while j + 3 < stop && ideograph(bytes[j]) && ideograph(bytes[j + 3]) {
                        j += 6;
                    }
                    while j < stop && ideograph(bytes[j]) {
                        j += 3;
                    }
                    counted += (j - i) / 3;
                    i = j;
                }
                chars += (counted - start) as u32;
            } else if (0x21..=0x7e).contains(&b) {
                // A run of ASCII letters, digits and punctuation: never blank or folded.
                // Consumed up to the next character count that matters, like ideographs.
                let sampling = counted < SCRIPT_SAMPLE_CHARS && scripts.ascii;
                let limit = if counted < SCRIPT_SAMPLE_CHARS {
                    SCRIPT_SAMPLE_CHARS
                } else if counted < BODY_TEXT_CHARS {
                    BODY_TEXT_CHARS
                } else {
                    usize::MAX
                };
                let stop = bytes.len().min(i.saturating_add(limit - counted));
                let mut j = i;
                let punctuation = |c: u8| u32::from(matches!(c, b'.' | b'!' | b'?' | b';' | b','));
                if sampling {
                    while j < stop && (0x21..=0x7e).contains(&bytes[j]) {
                        let c = bytes[j];
                        commas += punctuation(c);
                        match scripts.get(u32::from(c)) {
                            SIMPLIFIED => count.simplified += 1,
                            TRADITIONAL => count.traditional += 1,
                            _ => {}
                        }
                        j += 1;
                    }
                } else {
                    // The usual case (no ASCII character has a script): a tight loop.
                    while j < stop && (0x21..=0x7e).contains(&bytes[j]) {
                        commas += punctuation(bytes[j]);
                        j += 1;
                    }
                }
                chars += (j - i) as u32;
                counted += j - i;
                i = j;
            } else if matches!(b, b'\t'..=b'\r' | b' ') {
                // ASCII white space (the indentation between tags is most of it).
                if run < i {
                    out.push_str(&text[run..i]);
                }
                i = skip_ascii_blanks(bytes, i + 1);
                run = i;
                continue;
            } else {
                // ASCII and three-byte characters (CJK punctuation) decoded in place.
                let decoded = if b < 0x80 {
                    Some(char::from(b))
                } else if (0xe0..=0xef).contains(&b) && i + 2 < bytes.len() {
                    char::from_u32(three_byte_code(b, bytes[i + 1], bytes[i + 2]))
                } else {
                    None
                };
                let Some(c) = decoded.or_else(|| text[i..].chars().next()) else {
                    break;
                };
                let width = c.len_utf8();
                // White space ends at U+3000, zero-width characters at U+FEFF: the
                // table lookup of `is_blank` only for what is below.
                let blank = match c as u32 {
                    0x21..=0x7e | 0x3001..=0xfefe | 0xff00.. => false,
                    _ => is_blank(c),
                };
                if blank {
                    if run < i {
                        out.push_str(&text[run..i]);
                    }
                    i += width;
                    run = i;
                    continue;
                }
                match c {
                    '。' | '！' | '？' | '；' => stops += 1,
                    '，' | '、' | '.' | '!' | '?' | ';' | ',' => commas += 1,
                    _ => {}
                }
                if let '\u{ff01}'..='\u{ff5e}' = c {
                    out.push_str(&text[run..i]);
                    out.push(char::from_u32(c as u32 - 0xfee0).unwrap_or(c));
                    run = i + width;
                }
                if counted < SCRIPT_SAMPLE_CHARS {
                    match scripts.get(c as u32) {
                        SIMPLIFIED => count.simplified += 1,
                        TRADITIONAL => count.traditional += 1,
                        _ => {}
                    }
                }
                i += width;
                chars += 1;
                counted += 1;
            }
            if counted == BODY_TEXT_CHARS {
                out.push_str(&text[run..i]);
                run = i;
                flat.body_text_end = Some(out.len());
            }
        }
        if run < bytes.len() {
            out.push_str(&text[run..]);
        }
        count.chars = counted;
        let prose = chars >= PROSE_MIN_CHARS && (stops > 0 || commas >= 2);
        (chars, if prose { chars } else { 0 })
    }

    fn page_script(&self, count: &PageCount) -> Option<bool> {
        let (simplified, traditional) = (count.simplified, count.traditional);
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
        // Most links are relative: without a ':' there is no scheme, so the link either
        // does not parse (no page address) or resolves on the page's own host. Kept to
        // what the URL parser cannot turn into another host: no backslash, no control
        // character (tabs and newlines are dropped by the parser), no leading `//`.
        if !href.contains(':')
            && (self.base.is_none()
                || (self.base_is_web
                    && !href.starts_with("//")
                    && !href.bytes().any(|b| b == b'\\' || b < 0x20)))
        {
            return false;
        }
        if let Some(host) = plain_web_host(href) {
            return match &self.base_key {
                Some(key) => !plain_site_key(host).eq_ignore_ascii_case(key),
                None => href.contains("//"),
            };
        }
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
    fn after_html_end(&mut self, source: &str) {
        let Some(tail) = text_after_html_end(source) else {
            return;
        };
        let visible = self.rules.strip_markup(tail);
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
        if !self.locate_tail(&wanted) {
            detail.push("not found in the parsed page".to_string());
        }
        self.report(&visible, "after_html_end", detail.join("; "));
    }

    /// Marks the last text nodes of the page that spell `wanted` for removal.
    fn locate_tail(&mut self, wanted: &str) -> bool {
        let Some(body) = body_of(self.doc) else {
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
                    let mut current = self.doc.tree.get(id);
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
    fn document_writes(&mut self) {
        let mut open_wrapper: Option<NodeId> = None;
        for script in std::mem::take(&mut self.scripts) {
            let code = child_text(script);
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
                    self.mark_hidden_between(start, script.id());
                }
            }
            let mut visible = decode_entities(&self.rules.strip_markup(&written));
            let mut hits = self.rules.hits(&normalize(&visible));
            let mut detail = vec!["written by document.write".to_string()];
            if hits.strong == 0 {
                // `var s = '<a …>北京赛车</a>'; document.write(s)`: the text sits in other
                // literals of the same script. Only strong terms count there.
                let literals = decode_entities(&self.rules.strip_markup(&js_strings(&code, false)));
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
    fn mark_hidden_between(&mut self, start: NodeId, end: NodeId) {
        let Some(start) = self.doc.tree.get(start) else {
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
    /// Document order over the measured nodes; a judged or invisible subtree is jumped.
    fn blocks(&mut self) {
        let flat = std::mem::take(&mut self.flat);
        let count = flat.nodes.len();
        // Why each visited element is hidden (its own reason or an ancestor's).
        let mut hidden: Vec<Option<&'static str>> = vec![None; count];
        let mut i = 0;
        while i < count {
            let m = flat.nodes[i];
            let subtree_end = (m.end as usize).max(i + 1);
            if !self.cut_ids.is_empty() && self.cut_ids.contains(&m.node.id()) {
                i = subtree_end;
                continue;
            }
            let inherited = hidden.get(m.parent as usize).copied().flatten();
            match m.node.value() {
                Node::Element(el) => {
                    if el.name() == "noscript" {
                        self.judge_noscript(m.node);
                        i = subtree_end;
                        continue;
                    }
                    if is_invisible_tag(el.name()) {
                        i = subtree_end;
                        continue;
                    }
                    let here = inherited.or_else(|| {
                        self.hidden_reason_of(m.node, el, flat.may_hold_config_class(i))
                    });
                    hidden[i] = here;
                    if i != 0 && self.judge_element(&flat, i, el.name(), here) {
                        i = subtree_end;
                        continue;
                    }
                }
                Node::Text(t) => {
                    self.judge_text(&flat, i, t, inherited);
                    i = subtree_end;
                    continue;
                }
                _ => {
                    i = subtree_end;
                    continue;
                }
            }
            i += 1;
        }
        self.flat = flat;
    }

    /// Why an element is not shown: `clean::hidden_reason` (hidden attribute, hidden
    /// input, inline style, hiding class) and then the page's own `<style>` rules, read
    /// from one pass over the attributes without allocating.
    /// `may_hold_config_class` is false when no class token of the element passes the
    /// filter of the configured hiding classes ([`Flat::may_hold_config_class`]).
    fn hidden_reason_of(
        &self,
        node: NodeRef<Node>,
        el: &scraper::node::Element,
        may_hold_config_class: bool,
    ) -> Option<&'static str> {
        if !self.hidden_by_write.is_empty() && self.hidden_by_write.contains(&node.id()) {
            return Some("hidden by a document.write wrapper");
        }
        if el.attrs.is_empty() {
            return None;
        }
        let check_config = may_hold_config_class && !self.rules.hidden_classes.is_empty();
        let check_css = !self.css_hidden_classes.is_empty();
        let mut hidden_attribute = false;
        let mut input_type = None;
        let mut style = None;
        let mut id = None;
        let mut config_class = false;
        let mut css_class = false;
        for (name, value) in el.attrs.iter() {
            // `Element::attr` looks up exactly (no prefix, no namespace); `id()` and
            // `classes()` go by the local name alone.
            let plain = name.prefix.is_none() && name.ns.is_empty();
            match &*name.local {
                "hidden" if plain => hidden_attribute = true,
                "type" if plain => input_type = Some(&**value),
                "style" if plain => style = Some(&**value),
                "id" if id.is_none() => id = Some(&**value),
                "class" if (check_config && !config_class) || (check_css && !css_class) => {
                    for_each_token(value, |token| {
                        if check_config && self.rules.hidden_classes.contains_folded(token) {
                            config_class = true;
                        }
                        if check_css && self.css_hidden_classes.contains_folded(token) {
                            css_class = true;
                        }
                        !config_class
                    });
                }
                _ => {}
            }
        }
        if hidden_attribute {
            return Some("hidden attribute");
        }
        if el.name() == "input" && input_type.is_some_and(|t| t.eq_ignore_ascii_case("hidden")) {
            return Some("hidden input");
        }
        if let Some(why) = style.and_then(hidden_style) {
            return Some(why);
        }
        if config_class {
            return Some("hiding class");
        }
        if css_class
            || (!self.css_hidden_ids.is_empty()
                && id.is_some_and(|id| self.css_hidden_ids.contains_folded(id)))
        {
            return Some("hidden by a rule in the page's <style>");
        }
        None
    }

    /// Decides the element at `i`; true when it was cut (its subtree is then skipped).
    fn judge_element(
        &mut self,
        flat: &Flat,
        i: usize,
        name: &str,
        hidden: Option<&'static str>,
    ) -> bool {
        let m = flat.nodes[i];
        let node = m.node;
        let s = m.stats;
        if s.text == 0 {
            if name == "a" {
                return self.judge_image_link(node, hidden);
            }
            return false;
        }
        let l = m.links;
        let settings = &self.rules.settings;
        let span = flat.span_of(i);
        let text = flat.slice(span);
        // Bounded reads: a hidden or scrolling block is judged on its first 5000 characters.
        let read = || {
            if (s.text as usize) <= settings.short_block_max_chars * 4 {
                span
            } else {
                (span.0, span.0 + prefix_chars(text, 5000).len())
            }
        };
        if name == "marquee" {
            let hits = flat.hits(self.rules, read());
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
            let hits = flat.hits(self.rules, read());
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
            let hits = flat.hits(self.rules, read());
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
        let hits = flat.hits(self.rules, span);
        if let Some((reason, detail)) = self.verdict(text, &hits, l.foreign > 0) {
            // When one child holds all the promotion and the rest is other text, judge the
            // child instead: `<div>版权所有 <a>北京赛车</a></div>` loses only the link.
            if self.single_spam_child(flat, i, text, hits.strong) {
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
        if !attr(el, "href").is_some_and(|h| self.is_foreign(h)) {
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
        let visible = decode_entities(&self.rules.strip_markup(&markup));
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
    fn single_spam_child(&self, flat: &Flat, i: usize, text: &str, total: usize) -> bool {
        let mut holder_chars = None;
        let end = flat.nodes[i].end as usize;
        let mut j = i + 1;
        while j < end {
            let child = flat.nodes[j];
            let next = (child.end as usize).max(j + 1);
            let child_span = match child.node.value() {
                Node::Text(_) => flat.span_of(j),
                Node::Element(el) if !is_invisible_tag(el.name()) && child.stats.text > 0 => {
                    flat.span_of(j)
                }
                _ => {
                    j = next;
                    continue;
                }
            };
            let child_text = flat.slice(child_span);
            let strong = flat.hits(self.rules, child_span).strong;
            if strong == total {
                // Bare text is judged with its parent, never on its own.
                if !child.node.value().is_element() {
                    return false;
                }
                holder_chars = Some(child_text.chars().count());
            } else if strong > 0 {
                return false;
            }
            j = next;
        }
        // A wrapper around a single child (same text) is judged at the child.
        let chars = text.chars().count();
        holder_chars.is_some_and(|held| held == chars || chars >= held + 2)
    }

    /// A bare text node between blocks (spam appended to `<body>` or to a big container).
    fn judge_text(&mut self, flat: &Flat, i: usize, text: &str, hidden: Option<&'static str>) {
        let m = flat.nodes[i];
        let Some(parent) = flat.nodes.get(m.parent as usize) else {
            return;
        };
        let ps = parent.stats;
        let settings = &self.rules.settings;
        // Short parents were judged as a whole already.
        if ps.text as usize <= settings.short_block_max_chars && ps.prose == 0 {
            return;
        }
        let span = flat.span_of(i);
        let n = flat.slice(span);
        if n.is_empty() || m.stats.text as usize > settings.short_block_max_chars {
            return;
        }
        let verdict = if let Some(why) = hidden {
            let hits = flat.hits(self.rules, span);
            let prose = m.stats.prose > 0;
            hidden_spam(&hits, prose)
                .then(|| ("lexicon_hidden_block", format!("{why}; {}", hits.detail())))
        } else {
            // Inside a paragraph of prose a short piece is part of a sentence.
            if ps.prose > 0
                && parent.node.value().as_element().is_some_and(|el| {
                    matches!(
                        el.name(),
                        "p" | "span" | "font" | "b" | "strong" | "em" | "i"
                    )
                })
            {
                return;
            }
            self.verdict(n, &flat.hits(self.rules, span), false)
        };
        if let Some((reason, detail)) = verdict {
            self.report(text, reason, detail);
            self.cut(m.node.id());
        }
    }

    /// Whether a short visible text is promotion: dominated by strong terms, or in the
    /// other script with terms.
    #[cfg(test)]
    fn short_block_verdict(
        &self,
        text: &str,
        foreign_link: bool,
    ) -> Option<(&'static str, String)> {
        self.verdict(text, &self.rules.hits(text), foreign_link)
    }

    /// [`Scan::short_block_verdict`] with the terms of `text` already found.
    fn verdict(
        &self,
        text: &str,
        hits: &Hits,
        foreign_link: bool,
    ) -> Option<(&'static str, String)> {
        let settings = &self.rules.settings;
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
}

/// Detaches the cut nodes and truncates the cut text nodes.
fn apply(doc: &mut Html, cuts: Vec<Cut>) {
    for cut in cuts {
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

/// `normalize(&compact_text(node, limit))` in one pass.
fn normalized_text(node: NodeRef<Node>, limit: usize) -> String {
    visible_chars(node)
        .take(limit)
        .map(|c| match c {
            // Full-width ASCII, as `normalize` folds it.
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
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

/// Without a page address: the site most absolute links point to, if one clearly leads
/// (of sites with as many links, the first one linked).
fn dominant_site(hrefs: &[&str]) -> Option<String> {
    let mut sites: Vec<(String, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut total = 0usize;
    for href in hrefs {
        if let Some(host) = Url::parse(href.trim())
            .ok()
            .and_then(|u| u.host_str().map(site_key))
        {
            let at = *index.entry(host.clone()).or_insert_with(|| {
                sites.push((host, 0));
                sites.len() - 1
            });
            sites[at].1 += 1;
            total += 1;
        }
    }
    let mut best: Option<(String, usize)> = None;
    for (site, n) in sites {
        if best.as_ref().map_or(true, |(_, most)| n > *most) {
            best = Some((site, n));
        }
    }
    let (site, n) = best?;
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

/// The markup regex of [`SpamRules`]
/// (`(?is)<script\b.*?(?:</script\s*>|$)|<style\b.*?(?:</style\s*>|$)|<!--.*?(?:-->|$)|<[^>]*>?`)
/// applied with `replace_all(text, " ")`, written out: every match starts at a `<`; a
/// `<script` / `<style` (ASCII case folded) followed by a non-word character runs to its
/// first closing tag (`</script`, white space, `>`) or the end; `<!--` to the first `-->`
/// or the end; any other `<` to the first `>` or the end. `None` where Unicode matters
/// (`<ſ` or `</ſ` anywhere in the text, as the regex's case folding reads `ſ` as `s`; a
/// non-ASCII character right after `<script` / `<style`, where `\b` needs Unicode word
/// classes): the regex decides those.
fn strip_markup_fast(text: &str) -> Option<Cow<'_, str>> {
    let bytes = text.as_bytes();
    let Some(first) = memchr::memchr(b'<', bytes) else {
        return Some(Cow::Borrowed(text));
    };
    // `ſ` folds to `s`: `<ſcript`, `</ſtyle>` … are tags to the regex.
    let long_s = "ſ".as_bytes();
    let tag_long_s = memchr::memmem::find_iter(bytes, long_s)
        .any(|at| bytes[..at].ends_with(b"<") || bytes[..at].ends_with(b"</"));
    if tag_long_s {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut at = Some(first);
    while let Some(open) = at {
        let end = markup_end(text, open)?;
        out.push_str(&text[copied..open]);
        out.push(' ');
        copied = end;
        at = memchr::memchr(b'<', &bytes[end..]).map(|p| end + p);
    }
    out.push_str(&text[copied..]);
    Some(Cow::Owned(out))
}

/// Where the markup regex's match starting at the `<` at `open` ends (see
/// [`strip_markup_fast`]); `None` when only the regex can tell.
fn markup_end(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let rest = &bytes[open + 1..];
    for (name, close) in [(&b"script"[..], &b"</script"[..]), (b"style", b"</style")] {
        if rest.len() >= name.len() && rest[..name.len()].eq_ignore_ascii_case(name) {
            let after = open + 1 + name.len();
            match bytes.get(after) {
                Some(&b) if b >= 0x80 => return None,
                // No word boundary: not this alternative (nor the next one).
                Some(&b) if b.is_ascii_alphanumeric() || b == b'_' => break,
                _ => return Some(closing_tag_end(text, after, close)),
            }
        }
    }
    if rest.starts_with(b"!--") {
        let from = open + 4;
        return Some(
            memchr::memmem::find(&bytes[from..], b"-->").map_or(bytes.len(), |p| from + p + 3),
        );
    }
    Some(memchr::memchr(b'>', rest).map_or(bytes.len(), |p| open + 1 + p + 1))
}

/// End of the first `close` (ASCII case folded), white space, `>` at or after `from`, or
/// the end of the text.
fn closing_tag_end(text: &str, from: usize, close: &[u8]) -> usize {
    let bytes = text.as_bytes();
    let mut search = from;
    while let Some(p) = memchr::memmem::find(&bytes[search..], b"</") {
        let start = search + p;
        let name_end = start + close.len();
        if bytes.len() >= name_end && bytes[start..name_end].eq_ignore_ascii_case(close) {
            let tail = &text[name_end..];
            let spaces = tail
                .char_indices()
                .find(|&(_, c)| !c.is_whitespace())
                .map_or(tail.len(), |(i, _)| i);
            if tail.as_bytes().get(spaces) == Some(&b'>') {
                return name_end + spaces + 1;
            }
        }
        search = start + 1;
    }
    bytes.len()
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
    if !one_call && code.len() <= JS_SCRIPT_SCAN_CHARS {
        return js_literals(code);
    }
    let mut out = String::new();
    let mut depth = 1usize;
    let mut chars = code.chars();
    let mut scanned = 0usize;
    let limit = if one_call {
        20_000
    } else {
        JS_SCRIPT_SCAN_CHARS
    };
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
                    // The escape's characters are not counted in `scanned`.
                    let Some((decoded, rest)) = js_escape(chars.as_str()) else {
                        break;
                    };
                    lit.extend(decoded);
                    chars = rest.chars();
                }
                out.push_str(&percent_unescape(&lit));
            }
            _ => {}
        }
    }
    out
}

/// How many characters of a whole script [`js_strings`] reads.
const JS_SCRIPT_SCAN_CHARS: usize = 200_000;

/// [`js_strings`] of a whole script that is shorter than its limit (so the limit cannot
/// apply): the code between literals is jumped with `memchr3` to the next quote, and a
/// literal is copied in runs up to its closing quote or next backslash (a script of a
/// page that calls `document.write` was read a character at a time).
fn js_literals(code: &str) -> String {
    let bytes = code.as_bytes();
    let mut out = String::new();
    let mut at = 0;
    while let Some(p) = memchr::memchr3(b'"', b'\'', b'`', &bytes[at..]) {
        let quote = bytes[at + p];
        let mut rest = &code[at + p + 1..];
        // Most literals have no escape and no `%`: copied straight into `out`.
        if let Some(k) = memchr::memchr2(quote, b'\\', rest.as_bytes()) {
            let plain = &rest[..k];
            if rest.as_bytes()[k] == quote && memchr::memchr(b'%', plain.as_bytes()).is_none() {
                out.push_str(plain);
                at = bytes.len() - rest.len() + k + 1;
                continue;
            }
        }
        let mut lit = String::new();
        loop {
            let Some(k) = memchr::memchr2(quote, b'\\', rest.as_bytes()) else {
                lit.push_str(rest);
                rest = "";
                break;
            };
            lit.push_str(&rest[..k]);
            if rest.as_bytes()[k] == quote {
                rest = &rest[k + 1..];
                break;
            }
            let Some((decoded, after)) = js_escape(&rest[k + 1..]) else {
                rest = "";
                break;
            };
            lit.extend(decoded);
            rest = after;
        }
        out.push_str(&percent_unescape(&lit));
        at = bytes.len() - rest.len();
    }
    out
}

/// The JavaScript escape at the start of `after` (the text after a backslash): the
/// character it stands for (none for a malformed `\x` / `\u`) and the text after it;
/// `None` when the text ends there.
fn js_escape(after: &str) -> Option<(Option<char>, &str)> {
    let mut chars = after.chars();
    let hex_char = |hex: &str| u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
    let decoded = match chars.next()? {
        'n' => Some('\n'),
        't' => Some('\t'),
        'x' => {
            let hex: String = chars.by_ref().take(2).collect();
            hex_char(&hex)
        }
        'u' => {
            let hex: String = if chars.clone().next() == Some('{') {
                chars.next();
                chars.by_ref().take_while(|c| *c != '}').collect()
            } else {
                chars.by_ref().take(4).collect()
            };
            hex_char(&hex)
        }
        other => Some(other),
    };
    Some((decoded, chars.as_str()))
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
