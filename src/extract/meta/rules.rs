//! `config/rules/meta.toml`, parsed and compiled once.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;
use serde::Deserialize;

use super::title::key;
use crate::rules::{RuleSource, RulesError};

/// The raw TOML layout; every list of a user file is appended to the built-in one.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawMeta {
    labels: RawLabels,
    date_format: Vec<RawPattern>,
    url_date: Vec<RawPattern>,
    dates: RawDates,
    meta_tags: RawMetaTags,
    hints: RawHints,
    title: RawTitle,
    names: RawNames,
    script: RawScript,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawLabels {
    source: Vec<String>,
    source_not: Vec<String>,
    author: Vec<String>,
    editor: Vec<String>,
    published: Vec<String>,
    published_weak: Vec<String>,
    not_published: Vec<String>,
    widget: Vec<String>,
    widget_line: Vec<String>,
    furniture: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPattern {
    name: String,
    pattern: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawDates {
    today_words: Vec<String>,
    copyright_words: Vec<String>,
    weekday_words: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawMetaTags {
    title: Vec<String>,
    published: Vec<String>,
    source: Vec<String>,
    author: Vec<String>,
    site_name: Vec<String>,
    site_id: Vec<String>,
    column: Vec<String>,
    keywords: Vec<String>,
    description: Vec<String>,
    regenerated: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawHints {
    title: Vec<String>,
    title_not: Vec<String>,
    source: Vec<String>,
    author: Vec<String>,
    date: Vec<String>,
    breadcrumb: Vec<String>,
    breadcrumb_words: Vec<String>,
    breadcrumb_separators: Vec<String>,
    breadcrumb_not: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawTitle {
    separators: Vec<String>,
    site_words: Vec<String>,
    not_title: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawNames {
    role_prefixes: Vec<String>,
    role_suffixes: Vec<String>,
    org_suffixes: Vec<String>,
    not_name: Vec<String>,
    affiliation_starts: Vec<String>,
    self_outlets: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct RawScript {
    simplified: String,
    traditional: String,
}

/// What a label word introduces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelKind {
    Source,
    /// A compound such as 资料来源 that looks like a source label but is not one.
    NotSource,
    Author,
    Editor,
    Published,
    PublishedWeak,
    NotPublished,
}

/// One compiled date pattern.
#[derive(Debug)]
pub struct DatePattern {
    pub name: String,
    pub regex: Regex,
    /// Every match holds an ASCII `19` or `20`: the pattern has the year group
    /// `(?P<y>(?:19|20)\d{2})` as a required part (see [`needs_century`]).
    pub needs_century: bool,
}

/// True when `pattern` is a sequence one of whose required parts is a group holding
/// exactly `(?:19|20)\d{2}`: then every match holds `19` or `20`, and a text without
/// either needs no search.
fn needs_century(pattern: &str) -> bool {
    use regex_syntax::hir::{Hir, HirKind};
    let parse = |p: &str| regex_syntax::Parser::new().parse(p).ok();
    let (Some(hir), Some(year)) = (parse(pattern), parse(r"(?:19|20)\d{2}")) else {
        return false;
    };
    let parts: &[Hir] = match hir.kind() {
        HirKind::Concat(parts) => parts,
        _ => std::slice::from_ref(&hir),
    };
    parts
        .iter()
        .any(|part| matches!(part.kind(), HirKind::Capture(group) if *group.sub == year))
}

/// Compiled `config/rules/meta.toml`.
#[derive(Debug)]
pub struct MetaRules {
    /// Every label word (longest first), with its kind.
    pub labels: AhoCorasick,
    pub label_kinds: Vec<LabelKind>,
    pub label_words: Vec<String>,
    pub widgets: AhoCorasick,
    pub widget_line_words: HashSet<String>,
    /// Labels of lines that are page furniture (关键字：…).
    pub furniture_labels: Vec<String>,
    pub date_formats: Vec<DatePattern>,
    pub url_dates: Vec<DatePattern>,
    pub today_words: Vec<String>,
    pub copyright_words: Vec<String>,
    pub weekday_words: Vec<String>,
    /// `today_words` and `copyright_words` together: a line with any of them holds no
    /// publication date.
    pub not_date_line_words: AhoCorasick,
    pub meta_title: Vec<String>,
    pub meta_published: Vec<String>,
    pub meta_source: Vec<String>,
    pub meta_author: Vec<String>,
    pub meta_site_name: Vec<String>,
    pub meta_site_id: Vec<String>,
    pub meta_column: Vec<String>,
    pub meta_keywords: Vec<String>,
    pub meta_description: Vec<String>,
    pub meta_regenerated: Vec<String>,
    /// The `[hints]` class / id fragments of every category, compiled together.
    pub hints: HintMatcher,
    pub breadcrumb_words: Vec<String>,
    pub breadcrumb_separators: Vec<String>,
    pub breadcrumb_not: Vec<String>,
    pub title_separators: Vec<String>,
    /// `title_separators`, longest first (the order a title is split in).
    pub title_separators_longest_first: Vec<String>,
    pub title_site_words: Vec<String>,
    /// The non-empty `title_site_words`.
    pub title_site_word: AhoCorasick,
    /// `title_site_words` holds an empty word, which every text contains.
    pub title_site_words_have_empty: bool,
    pub not_title: Vec<String>,
    /// `not_title` as comparison keys ([`super::title::key`]).
    pub not_title_keys: HashSet<String>,
    /// Role words, longest first.
    pub role_prefixes: Vec<String>,
    pub role_suffixes: Vec<String>,
    pub org_suffixes: Vec<String>,
    pub not_name: Vec<String>,
    /// The non-empty `not_name` words (a name contains none of them).
    pub not_name_words: AhoCorasick,
    /// `not_name` holds an empty word, which every text contains.
    pub not_name_has_empty: bool,
    pub affiliation_starts: Vec<String>,
    /// The non-empty `affiliation_starts` (an empty one never cuts a name).
    pub affiliation_words: AhoCorasick,
    pub self_outlets: Vec<String>,
    pub simplified_only: HashSet<char>,
    pub traditional_only: HashSet<char>,
    /// The two sets above as one lookup table over the main Han blocks.
    pub script_chars: ScriptChars,
    /// `site identification code` in footers: 政府网站标识码 5118000022.
    pub site_id_line: Regex,
    /// The 主办 (host) credit in footers: `主办单位：某某市人民政府办公室`.
    pub host_line: Regex,
}

fn invalid(file: &str, message: impl Into<String>) -> RulesError {
    RulesError::Invalid {
        file: file.to_string(),
        message: message.into(),
    }
}

fn longest_first(mut words: Vec<String>) -> Vec<String> {
    let mut seen = HashSet::new();
    words.retain(|w| !w.is_empty() && seen.insert(w.clone()));
    words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    words
}

/// An automaton finding every non-empty word of `words` (standard semantics, so
/// overlapping matches can be listed).
fn words_automaton(words: &[String], file: &str, what: &str) -> Result<AhoCorasick, RulesError> {
    AhoCorasick::new(words.iter().filter(|w| !w.is_empty()))
        .map_err(|e| invalid(file, format!("{what}: {e}")))
}

impl Default for MetaRules {
    fn default() -> Self {
        let builtin = crate::rules::BUILTIN_FILES
            .iter()
            .find(|(name, _)| *name == "meta.toml")
            .map(|(_, text)| *text)
            .unwrap_or_default();
        MetaRules::compile(&[RuleSource {
            name: "built-in meta.toml".into(),
            text: builtin.to_string(),
        }])
        .expect("the built-in meta.toml compiles")
    }
}

impl MetaRules {
    /// Parses and merges every source (built-in first), compiling each pattern once.
    pub fn compile(sources: &[RuleSource]) -> Result<Self, RulesError> {
        let mut all = RawMeta::default();
        for source in sources {
            let raw: RawMeta =
                toml::from_str(&source.text).map_err(|e| invalid(&source.name, e.to_string()))?;
            merge(&mut all, raw, &source.name)?;
        }
        let file = sources
            .last()
            .map(|s| s.name.clone())
            .unwrap_or_else(|| "meta.toml".into());

        let mut label_pairs: Vec<(String, LabelKind)> = Vec::new();
        let l = &all.labels;
        for (words, kind) in [
            (&l.source_not, LabelKind::NotSource),
            (&l.not_published, LabelKind::NotPublished),
            (&l.source, LabelKind::Source),
            (&l.editor, LabelKind::Editor),
            (&l.author, LabelKind::Author),
            (&l.published, LabelKind::Published),
            (&l.published_weak, LabelKind::PublishedWeak),
        ] {
            for w in words {
                if !w.is_empty() && !label_pairs.iter().any(|(x, _)| x == w) {
                    label_pairs.push((w.clone(), kind));
                }
            }
        }
        // Both are searched in every line: a DFA walks them fastest.
        let labels = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(label_pairs.iter().map(|(w, _)| w.as_str()))
            .map_err(|e| invalid(&file, format!("labels: {e}")))?;
        let widgets = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(l.widget.iter().filter(|w| !w.is_empty()))
            .map_err(|e| invalid(&file, format!("labels.widget: {e}")))?;

        let not_date_line_words = words_automaton(
            &[&all.dates.today_words[..], &all.dates.copyright_words[..]].concat(),
            &file,
            "dates",
        )?;

        let compile_patterns = |list: &[RawPattern], what: &str| {
            list.iter()
                .map(|p| {
                    let regex = Regex::new(&p.pattern).map_err(|e| {
                        invalid(&file, format!("{what} '{}': bad pattern: {e}", p.name))
                    })?;
                    for group in ["y", "m"] {
                        if regex.capture_names().all(|n| n != Some(group)) {
                            return Err(invalid(
                                &file,
                                format!(
                                    "{what} '{}': the pattern needs a (?P<{group}>…) group",
                                    p.name
                                ),
                            ));
                        }
                    }
                    Ok(DatePattern {
                        name: p.name.clone(),
                        needs_century: needs_century(&p.pattern),
                        regex,
                    })
                })
                .collect::<Result<Vec<_>, RulesError>>()
        };
        let date_formats = compile_patterns(&all.date_format, "date_format")?;
        let url_dates = compile_patterns(&all.url_date, "url_date")?;

        let simplified: HashSet<char> = all
            .script
            .simplified
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let traditional: HashSet<char> = all
            .script
            .traditional
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let simplified_only: HashSet<char> = simplified.difference(&traditional).copied().collect();
        let traditional_only: HashSet<char> =
            traditional.difference(&simplified).copied().collect();
        let script_chars = ScriptChars::new(&simplified_only, &traditional_only);

        let lower = |v: &[String]| v.iter().map(|s| s.to_lowercase()).collect::<Vec<_>>();
        let t = &all.meta_tags;
        let h = &all.hints;
        let n = &all.names;
        Ok(MetaRules {
            labels,
            label_kinds: label_pairs.iter().map(|(_, k)| *k).collect(),
            label_words: label_pairs.into_iter().map(|(w, _)| w).collect(),
            widgets,
            widget_line_words: l.widget_line.iter().cloned().collect(),
            furniture_labels: l.furniture.clone(),
            date_formats,
            url_dates,
            today_words: all.dates.today_words.clone(),
            copyright_words: all.dates.copyright_words.clone(),
            weekday_words: all.dates.weekday_words.clone(),
            not_date_line_words,
            meta_title: lower(&t.title),
            meta_published: lower(&t.published),
            meta_source: lower(&t.source),
            meta_author: lower(&t.author),
            meta_site_name: lower(&t.site_name),
            meta_site_id: lower(&t.site_id),
            meta_column: lower(&t.column),
            meta_keywords: lower(&t.keywords),
            meta_description: lower(&t.description),
            meta_regenerated: lower(&t.regenerated),
            hints: HintMatcher::compile(
                [
                    (Hint::TITLE, lower(&h.title)),
                    (Hint::TITLE_NOT, lower(&h.title_not)),
                    (Hint::SOURCE, lower(&h.source)),
                    (Hint::AUTHOR, lower(&h.author)),
                    (Hint::DATE, lower(&h.date)),
                    (Hint::BREADCRUMB, lower(&h.breadcrumb)),
                ],
                &file,
            )?,
            breadcrumb_words: h.breadcrumb_words.clone(),
            breadcrumb_separators: h.breadcrumb_separators.clone(),
            breadcrumb_not: h.breadcrumb_not.clone(),
            title_separators: all.title.separators.clone(),
            title_separators_longest_first: {
                let mut seps = all.title.separators.clone();
                seps.sort_by_key(|s| std::cmp::Reverse(s.len()));
                seps
            },
            title_site_words: all.title.site_words.clone(),
            title_site_word: words_automaton(&all.title.site_words, &file, "title.site_words")?,
            title_site_words_have_empty: all.title.site_words.iter().any(|w| w.is_empty()),
            not_title: all.title.not_title.clone(),
            not_title_keys: all.title.not_title.iter().map(|w| key(w)).collect(),
            role_prefixes: longest_first(n.role_prefixes.clone()),
            role_suffixes: longest_first(n.role_suffixes.clone()),
            org_suffixes: longest_first(n.org_suffixes.clone()),
            not_name: n.not_name.clone(),
            not_name_words: words_automaton(&n.not_name, &file, "names.not_name")?,
            not_name_has_empty: n.not_name.iter().any(|w| w.is_empty()),
            affiliation_starts: n.affiliation_starts.clone(),
            affiliation_words: words_automaton(
                &n.affiliation_starts,
                &file,
                "names.affiliation_starts",
            )?,
            self_outlets: n.self_outlets.clone(),
            simplified_only,
            traditional_only,
            script_chars,
            site_id_line: Regex::new(
                r"(?:政府网站标识码|政府網站標識碼|网站标识码|網站標識碼|标识码|標識碼)\s*[:：]?\s*([A-Za-z]{0,2}\d{6,12})",
            )
            .expect("static pattern"),
            host_line: Regex::new(r"(?:主办单位|主辦單位|主办|主辦|主办方|主辦方)\s*[:：]\s*([^\s|｜丨，,]+)")
                .expect("static pattern"),
        })
    }

    /// The kind of the label word `word`.
    pub fn label_kind(&self, pattern_index: usize) -> LabelKind {
        self.label_kinds[pattern_index]
    }
}

/// Which script a Han character belongs to only: [`ScriptChars::SIMPLIFIED`],
/// [`ScriptChars::TRADITIONAL`] or 0. A table for U+3400..U+9FFF (where nearly all
/// of them are) and the sets for the rest, so counting a text costs no hashing.
#[derive(Debug)]
pub struct ScriptChars {
    table: Vec<u8>,
    simplified_rest: HashSet<char>,
    traditional_rest: HashSet<char>,
}

impl ScriptChars {
    pub const SIMPLIFIED: u8 = 1;
    pub const TRADITIONAL: u8 = 2;
    const FIRST: u32 = 0x3400;
    const LAST: u32 = 0x9FFF;

    fn new(simplified: &HashSet<char>, traditional: &HashSet<char>) -> Self {
        let mut table = vec![0u8; (Self::LAST - Self::FIRST + 1) as usize];
        let mut rest = |set: &HashSet<char>, mark: u8| {
            let mut others = HashSet::new();
            for &c in set {
                match (c as u32).checked_sub(Self::FIRST) {
                    Some(i) if c as u32 <= Self::LAST => table[i as usize] = mark,
                    _ => {
                        others.insert(c);
                    }
                }
            }
            others
        };
        let simplified_rest = rest(simplified, Self::SIMPLIFIED);
        let traditional_rest = rest(traditional, Self::TRADITIONAL);
        ScriptChars {
            table,
            simplified_rest,
            traditional_rest,
        }
    }

    /// The script `c` is used in only, or 0 (the two sets never share a character).
    pub fn of(&self, c: char) -> u8 {
        let code = c as u32;
        if (Self::FIRST..=Self::LAST).contains(&code) {
            return self.table[(code - Self::FIRST) as usize];
        }
        if self.simplified_rest.contains(&c) {
            Self::SIMPLIFIED
        } else if self.traditional_rest.contains(&c) {
            Self::TRADITIONAL
        } else {
            0
        }
    }
}

/// A set of `[hints]` categories, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hint(u8);

impl Hint {
    pub const TITLE: Hint = Hint(1);
    pub const TITLE_NOT: Hint = Hint(2);
    pub const SOURCE: Hint = Hint(4);
    pub const AUTHOR: Hint = Hint(8);
    pub const DATE: Hint = Hint(16);
    pub const BREADCRUMB: Hint = Hint(32);

    /// True when every category of `other` is in `self`.
    pub fn has(self, other: Hint) -> bool {
        self.0 & other.0 == other.0
    }

    fn add(&mut self, other: Hint) {
        self.0 |= other.0;
    }
}

/// Matches an element's hint string (its id and classes, each followed by a space)
/// against every `[hints]` list at once, ignoring ASCII case.
///
/// A word longer than 4 bytes matches anywhere in the hint; a shorter one must be a
/// whole token of the hint split on whitespace, `-` and `_` (`ly`, `bt`), and a 4-byte
/// one may also be a token's prefix (`tit` is 3 bytes: token only; `wzbt` 4: `wzbt2`
/// matches). All words are one DFA walked once over the hint; token words are checked
/// for their boundaries where they match.
#[derive(Debug)]
pub struct HintMatcher {
    dfa: Option<aho_corasick::dfa::DFA>,
    /// The DFA's patterns, by pattern index.
    words: Vec<HintWord>,
    /// Categories holding an empty word, which every non-empty hint matches (the hint
    /// ends with a space, so its last token is empty).
    empty: Hint,
}

#[derive(Debug)]
struct HintWord {
    hint: Hint,
    len: usize,
    place: WordPlace,
}

/// Where a hint word may match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WordPlace {
    Anywhere,
    Token,
    TokenPrefix,
}

/// What splits a hint into tokens.
fn is_hint_separator(c: char) -> bool {
    c.is_whitespace() || c == '-' || c == '_'
}

impl HintMatcher {
    fn compile(
        lists: impl IntoIterator<Item = (Hint, Vec<String>)>,
        file: &str,
    ) -> Result<Self, RulesError> {
        let mut patterns: Vec<String> = Vec::new();
        let mut words: Vec<HintWord> = Vec::new();
        let mut empty = Hint::default();
        for (hint, list) in lists {
            for word in list {
                let place = match word.len() {
                    0 => {
                        empty.add(hint);
                        continue;
                    }
                    // A token never holds a separator: such a word never matches.
                    _ if word.len() <= 4 && word.contains(is_hint_separator) => continue,
                    1..=3 => WordPlace::Token,
                    4 => WordPlace::TokenPrefix,
                    _ => WordPlace::Anywhere,
                };
                match patterns.iter().position(|p| *p == word) {
                    Some(i) => words[i].hint.add(hint),
                    None => {
                        words.push(HintWord {
                            hint,
                            len: word.len(),
                            place,
                        });
                        patterns.push(word);
                    }
                }
            }
        }
        let dfa = if patterns.is_empty() {
            None
        } else {
            Some(
                aho_corasick::dfa::DFA::new(&patterns)
                    .map_err(|e| invalid(file, format!("hints: {e}")))?,
            )
        };
        Ok(HintMatcher { dfa, words, empty })
    }

    /// Every category with a word matching `hint` (see the type's doc).
    pub fn matches(&self, hint: &str) -> Hint {
        use aho_corasick::automaton::Automaton;
        use aho_corasick::Anchored;

        if hint.is_empty() {
            return Hint::default();
        }
        let mut found = Hint::default();
        // An empty word is a token only where the hint has an empty one (two separators
        // in a row, or one at either end), as splitting the hint would give.
        if self.empty != Hint::default() && hint.split(is_hint_separator).any(str::is_empty) {
            found = self.empty;
        }
        let Some(dfa) = &self.dfa else {
            return found;
        };
        let Ok(mut state) = dfa.start_state(Anchored::No) else {
            return found;
        };
        for (i, &byte) in hint.as_bytes().iter().enumerate() {
            state = dfa.next_state(Anchored::No, state, byte.to_ascii_lowercase());
            if !dfa.is_special(state) {
                continue;
            }
            if dfa.is_dead(state) {
                break;
            }
            if !dfa.is_match(state) {
                continue;
            }
            // Every word ending here.
            let end = i + 1;
            for k in 0..dfa.match_len(state) {
                let word = &self.words[dfa.match_pattern(state, k).as_usize()];
                if found.has(word.hint) {
                    continue;
                }
                let start = end - word.len;
                let starts_token = || {
                    hint.get(..start).is_some_and(|before| {
                        before.chars().next_back().map_or(true, is_hint_separator)
                    })
                };
                let ends_token = || {
                    hint.get(end..)
                        .is_some_and(|after| after.chars().next().map_or(true, is_hint_separator))
                };
                let matched = match word.place {
                    WordPlace::Anywhere => true,
                    WordPlace::Token => starts_token() && ends_token(),
                    WordPlace::TokenPrefix => starts_token(),
                };
                if matched {
                    found.add(word.hint);
                }
            }
        }
        found
    }
}

fn merge(all: &mut RawMeta, raw: RawMeta, _file: &str) -> Result<(), RulesError> {
    macro_rules! ext {
        ($($a:ident).+) => { all.$($a).+.extend(raw.$($a).+) };
    }
    ext!(labels.source);
    ext!(labels.source_not);
    ext!(labels.author);
    ext!(labels.editor);
    ext!(labels.published);
    ext!(labels.published_weak);
    ext!(labels.not_published);
    ext!(labels.widget);
    ext!(labels.widget_line);
    ext!(labels.furniture);
    ext!(date_format);
    ext!(url_date);
    ext!(dates.today_words);
    ext!(dates.copyright_words);
    ext!(dates.weekday_words);
    ext!(meta_tags.title);
    ext!(meta_tags.published);
    ext!(meta_tags.source);
    ext!(meta_tags.author);
    ext!(meta_tags.site_name);
    ext!(meta_tags.site_id);
    ext!(meta_tags.column);
    ext!(meta_tags.keywords);
    ext!(meta_tags.description);
    ext!(meta_tags.regenerated);
    ext!(hints.title);
    ext!(hints.title_not);
    ext!(hints.source);
    ext!(hints.author);
    ext!(hints.date);
    ext!(hints.breadcrumb);
    ext!(hints.breadcrumb_words);
    ext!(hints.breadcrumb_separators);
    ext!(hints.breadcrumb_not);
    ext!(title.separators);
    ext!(title.site_words);
    ext!(title.not_title);
    ext!(names.role_prefixes);
    ext!(names.role_suffixes);
    ext!(names.org_suffixes);
    ext!(names.not_name);
    ext!(names.affiliation_starts);
    ext!(names.self_outlets);
    all.script.simplified.push_str(&raw.script.simplified);
    all.script.traditional.push_str(&raw.script.traditional);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_date_formats_need_a_century() {
        let rules = MetaRules::default();
        assert!(rules.date_formats.iter().all(|p| p.needs_century));
        assert!(!needs_century(r"(?P<y>(?:19|20)\d{2})?-(?P<m>\d{2})"));
        assert!(!needs_century(r"(?P<y>\d{4})-(?P<m>\d{2})"));
        assert!(!needs_century(r"a|(?P<y>(?:19|20)\d{2})"));
    }

    /// The per-word test the compiled matcher replaced.
    fn hint_match_reference(hint: &str, word: &str) -> bool {
        if word.len() > 4 {
            return hint.contains(word);
        }
        hint.split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .any(|part| part == word || (word.len() == 4 && part.starts_with(word)))
    }

    #[test]
    fn hint_matcher_equals_the_per_word_test() {
        let words: Vec<Vec<String>> = [
            vec!["title", "bt", "tit", "wzbt", "art_tit", "标题"],
            vec!["subtitle", "nav", "list", "sub-title"],
            vec!["source", "ly", "from"],
            vec!["author", "by"],
            vec!["time", "date", "pubtime", ""],
            vec!["crumb", "path", "dqwz", "a-b"],
        ]
        .into_iter()
        .map(|v| v.into_iter().map(String::from).collect())
        .collect();
        let hints = [
            Hint::TITLE,
            Hint::TITLE_NOT,
            Hint::SOURCE,
            Hint::AUTHOR,
            Hint::DATE,
            Hint::BREADCRUMB,
        ];
        let matcher =
            HintMatcher::compile(hints.iter().copied().zip(words.iter().cloned()), "test")
                .expect("compiles");
        let pieces = [
            "title", "sub", "bt", "tit", "tits", "wzbt", "wzbt2", "art", "ly", "from", "fro",
            "path", "pathx", "dqwz", "a", "b", "by", "time", "标题", "标", "x", "", "Title", "BT",
            "WZBT2", "SubTitle", "a-b",
        ];
        let seps = [" ", "-", "_", "\u{3000}", ""];
        let mut rng = fastrand::Rng::with_seed(3);
        for _ in 0..20_000 {
            let mut hint = String::new();
            for _ in 0..rng.usize(0..5) {
                hint.push_str(pieces[rng.usize(0..pieces.len())]);
                hint.push_str(seps[rng.usize(0..seps.len())]);
                if rng.bool() {
                    hint.push(' ');
                }
            }
            let found = matcher.matches(&hint);
            for (hint_kind, list) in hints.iter().zip(&words) {
                let lower = hint.to_ascii_lowercase();
                let expected =
                    !hint.is_empty() && list.iter().any(|w| hint_match_reference(&lower, w));
                assert_eq!(found.has(*hint_kind), expected, "{hint:?} {list:?}");
            }
        }
    }
}
