//! Headline.
//!
//! Fallback order:
//! 1. the visible headline element (`h1`/`h2`/`h3`, `itemprop=headline`, a title-like class
//!    such as `.title`/`.article-title`, `<ucaptitle>`) whose text equals, or is a prefix
//!    of, the `ArticleTitle`/`og:title` meta or the `<title>`; among several, the higher
//!    heading level and the earlier one win. Without any such reference match, a long
//!    heading right above the date/来源 line is taken.
//! 2. the `ArticleTitle` meta, then `og:title` / `twitter:title`, then JSON-LD `headline`.
//! 3. `<title>` with the site suffix (or prefix) removed: it is split on `_ | - —` and the
//!    parts naming the site, the column or a portal (`…网`, `…政府`, `首页` …) are dropped.
//!
//! Subtitles and kickers are never joined to the title.

use super::dom::{collapse_ws, MarkKind, Scan};
use super::rules::MetaRules;

/// Comparison key: no whitespace, lower-case, full-width ASCII folded.
pub fn key(s: &str) -> String {
    key_up_to(s, usize::MAX).map_or_else(String::new, |(k, _)| k)
}

/// [`key`]`(s)` and its length in characters, or `None` once it would be longer than
/// `max` characters (long texts are never compared whole).
fn key_up_to(s: &str, max: usize) -> Option<(String, usize)> {
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    let mut count = 0;
    // Characters the key keeps as they are (most of them) are copied in runs.
    let mut run = 0;
    for (i, c) in s.char_indices() {
        let unchanged = if c.is_ascii() {
            !c.is_ascii_uppercase() && !c.is_whitespace()
        } else {
            // U+3000 is a space; nothing else there is one or has a lower case.
            (0x3001..=0x9FFF).contains(&(c as u32))
        };
        if unchanged {
            count += 1;
        } else {
            out.push_str(&s[run..i]);
            run = i + c.len_utf8();
            if !c.is_whitespace() {
                for lowered in lower(fold_full_width(c)) {
                    out.push(lowered);
                    count += 1;
                }
            }
        }
        if count > max {
            return None;
        }
    }
    out.push_str(&s[run..]);
    Some((out, count))
}

/// `haystack.contains(needle)` for the short texts compared here (headlines), without
/// the set-up cost of the general substring searcher.
fn contains_short(haystack: &str, needle: &str) -> bool {
    let needle = needle.as_bytes();
    let Some(&first) = needle.first() else {
        return true;
    };
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w[0] == first && w == needle)
}

/// Full-width ASCII (U+FF01..U+FF5E) as ASCII.
fn fold_full_width(c: char) -> char {
    match c as u32 {
        0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

/// The characters of [`key`]`(s)`, without building the string.
fn key_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(fold_full_width)
        .flat_map(lower)
}

/// True when [`key`]`(text)` is a prefix of (or equal to) `k`; stops at the first
/// difference, so most lines cost a character or two.
fn key_is_prefix(text: &str, k: &str) -> bool {
    let mut expected = k.chars();
    key_chars(text).all(|c| expected.next() == Some(c))
}

/// `char::to_lowercase`, skipping the case table for ASCII and for the CJK block
/// U+3000..U+9FFF (no character there has a lower-case mapping; checked by a unit test).
fn lower(c: char) -> Lower {
    if c.is_ascii() {
        Lower::Same(Some(c.to_ascii_lowercase()))
    } else if (0x3000..=0x9FFF).contains(&(c as u32)) {
        Lower::Same(Some(c))
    } else {
        Lower::Mapped(c.to_lowercase())
    }
}

enum Lower {
    Same(Option<char>),
    Mapped(std::char::ToLowercase),
}

impl Iterator for Lower {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        match self {
            Lower::Same(c) => c.take(),
            Lower::Mapped(m) => m.next(),
        }
    }
}

/// The chosen headline and its line (the anchor for dates and bylines).
pub struct Headline {
    pub text: Option<String>,
    pub line: Option<usize>,
}

pub fn choose(
    scan: &Scan,
    site_name: Option<&str>,
    column: Option<&str>,
    rules: &MetaRules,
) -> Headline {
    let meta_titles: Vec<String> = rules
        .meta_title
        .iter()
        .flat_map(|k| scan.metas_named(k))
        .map(collapse_ws)
        .filter(|t| !t.is_empty())
        .collect();
    let title_tag = scan.title_tag.clone().unwrap_or_default();
    let cleaned_tag = clean_title_tag(&title_tag, site_name, column, rules);
    let mut refs: Vec<String> = meta_titles.iter().map(|t| key(t)).collect();
    refs.push(key(&title_tag));
    if let Some(c) = &cleaned_tag {
        refs.push(key(c));
    }
    // A <title> or meta that is just the site name says nothing about the headline.
    let site_key = site_name.map(key);
    refs.retain(|r| r.chars().count() >= 2 && Some(r) != site_key.as_ref());

    // Candidates in order: marked headlines (with the lines of multi-line title
    // containers), then every plain line: (text, line, level bonus, may stand without a
    // reference match).
    let mut candidates: Vec<(&str, usize, i32, bool)> = Vec::new();
    for mark in &scan.marks {
        let MarkKind::Title(level) = mark.kind else {
            continue;
        };
        let bonus = match level {
            1 => 10,
            2 => 6,
            3 => 3,
            _ => 5,
        };
        candidates.push((mark.text.trim(), mark.line, bonus, true));
        // A title container holding the headline and the info line: each line alone.
        if mark.end_line > mark.line + 1 {
            for i in mark.line..mark.end_line.min(mark.line + 6).min(scan.lines.len()) {
                candidates.push((scan.lines[i].text.as_str(), i, bonus - 1, true));
            }
        }
    }
    // Any plain line that matches a reference (headlines in unmarked elements). Such a
    // line scores only when its key is a prefix of (or equals) a reference: test that
    // first, without building the key.
    let ref_starts: Vec<Option<char>> = refs.iter().map(|r| r.chars().next()).collect();
    let ref_chars: Vec<usize> = refs.iter().map(|r| r.chars().count()).collect();
    let plain = scan.lines.iter().enumerate().filter(|(_, line)| {
        let start = key_chars(&line.text).next();
        refs.iter()
            .zip(&ref_starts)
            .any(|(r, &s)| s == start && key_is_prefix(&line.text, r))
            && !line.mostly_link()
            && line.text.chars().count() <= 200
    });
    let candidates = candidates
        .into_iter()
        .chain(plain.map(|(i, line)| (line.text.as_str(), i, -5, false)));
    let mut info_lines = InfoLines::new(scan, rules);
    let mut best: Option<(i32, usize, &str)> = None;
    for (text, line, bonus, standalone) in candidates {
        let Some((k, n)) = key_up_to(text, 200) else {
            continue;
        };
        if n < 2 || rules.not_title_keys.contains(&k) {
            continue;
        }
        let mut score = 0;
        for (r, &r_chars) in refs.iter().zip(&ref_chars) {
            let s = if *r == k {
                100
            } else if n >= 4 && n * 10 >= r_chars * 4 && r.starts_with(&k) {
                80
            } else if standalone && n >= 6 && n * 10 >= r_chars * 3 && contains_short(r, &k) {
                60
            } else if standalone && r_chars >= 6 && k.starts_with(r.as_str()) {
                50
            } else {
                0
            };
            score = score.max(s);
        }
        if score == 0 {
            // A long heading right above the info line.
            if standalone && n >= 8 && info_lines.follows(line + 1) {
                score = 30;
            } else {
                continue;
            }
        }
        score += bonus;
        if info_lines.near(line) {
            score += 15;
        } else if scan.lines.get(line).is_some_and(|l| l.mostly_link()) {
            score -= 25;
        }
        if text.ends_with("...") || text.ends_with('…') {
            score -= 40;
        }
        let better = match &best {
            None => true,
            Some(b) => score > b.0 || (score == b.0 && line < b.1),
        };
        if better {
            best = Some((score, line, text));
        }
    }
    if let Some((score, line, text)) = best {
        if score >= 30 {
            return Headline {
                text: Some(text.to_string()),
                line: Some(line),
            };
        }
    }
    let fallback = meta_titles
        .first()
        .cloned()
        .or_else(|| json_ld_headline(scan))
        .or(cleaned_tag);
    // Anchor on the line showing the fallback title, if any does.
    let line = fallback.as_ref().and_then(|t| {
        let k = key(t);
        scan.lines
            .iter()
            .position(|l| !l.mostly_link() && key_chars(&l.text).eq(k.chars()))
    });
    Headline {
        text: fallback,
        line,
    }
}

/// Which lines carry an info label (`来源：`, `发布时间：`) or a date, worked out on
/// demand: only the lines around scoring candidates are asked about.
struct InfoLines<'a> {
    scan: &'a Scan,
    rules: &'a MetaRules,
    labelled: Vec<Option<bool>>,
    dated: Vec<Option<bool>>,
}

impl<'a> InfoLines<'a> {
    fn new(scan: &'a Scan, rules: &'a MetaRules) -> Self {
        InfoLines {
            scan,
            rules,
            labelled: vec![None; scan.lines.len()],
            dated: vec![None; scan.lines.len()],
        }
    }

    /// A short line with an info label.
    fn is_info(&mut self, i: usize) -> bool {
        *self.labelled[i].get_or_insert_with(|| {
            let text = &self.scan.lines[i].text;
            text.chars().count() <= 150 && super::date::has_info_label(text, self.rules)
        })
    }

    /// A short line with an info label or a date.
    fn is_info_or_dated(&mut self, i: usize) -> bool {
        self.is_info(i)
            || *self.dated[i].get_or_insert_with(|| {
                let text = &self.scan.lines[i].text;
                text.chars().count() <= 150 && !super::date::find_dates(text, self.rules).is_empty()
            })
    }

    /// An info line within 8 lines before or 6 after `line`.
    fn near(&mut self, line: usize) -> bool {
        let lo = line.saturating_sub(8);
        let hi = (line + 7).min(self.labelled.len());
        (lo..hi).any(|i| self.is_info(i))
    }

    /// An info or date line among the 6 lines from `line` on.
    fn follows(&mut self, line: usize) -> bool {
        let hi = line.saturating_add(6).min(self.labelled.len());
        (line..hi).any(|i| self.is_info_or_dated(i))
    }
}

fn json_ld_headline(scan: &Scan) -> Option<String> {
    scan.json_ld.iter().find_map(|v| {
        let items: Vec<&serde_json::Value> = match v {
            serde_json::Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        items
            .into_iter()
            .find_map(|i| i.get("headline").and_then(|h| h.as_str()).map(collapse_ws))
    })
}

/// `<title>` without the site / column parts.
pub fn clean_title_tag(
    title: &str,
    site_name: Option<&str>,
    column: Option<&str>,
    rules: &MetaRules,
) -> Option<String> {
    let title = collapse_ws(title);
    if title.is_empty() {
        return None;
    }
    // Split into (part, separator-after) keeping byte ranges.
    let mut parts: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    let mut i = 0;
    let seps = &rules.title_separators_longest_first;
    while i < title.len() {
        if let Some(sep) = seps.iter().find(|s| title[i..].starts_with(s.as_str())) {
            parts.push((start, i));
            i += sep.len();
            start = i;
        } else {
            i += title[i..].chars().next().map_or(1, char::len_utf8);
        }
    }
    parts.push((start, title.len()));
    let site_key = site_name.map(key);
    let column_key = column.map(key);
    let is_site = |p: &str| {
        let p = p.trim();
        if p.is_empty() {
            return true;
        }
        let k = key(p);
        site_key
            .as_ref()
            .is_some_and(|s| *s == k || (k.len() >= 6 && contains_short(s, &k)))
            || column_key.as_ref().is_some_and(|c| *c == k)
            || (p.chars().count() <= 20
                && (rules.title_site_words_have_empty || rules.title_site_word.is_match(p)))
    };
    let (mut lo, mut hi) = (0, parts.len());
    while hi - lo > 1 && is_site(&title[parts[hi - 1].0..parts[hi - 1].1]) {
        hi -= 1;
    }
    // Once the site name is gone, short parts before it are channels (`… - 要闻 - 某某网`).
    if hi < parts.len() {
        while hi - lo > 1
            && title[parts[hi - 1].0..parts[hi - 1].1]
                .trim()
                .chars()
                .count()
                <= 6
        {
            hi -= 1;
        }
    }
    while hi - lo > 1 && is_site(&title[parts[lo].0..parts[lo].1]) {
        lo += 1;
    }
    let out = title[parts[lo].0..parts[hi - 1].1].trim().to_string();
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_cjk_character_has_a_lower_case_mapping() {
        for c in (0x3000..=0x9FFF).filter_map(char::from_u32) {
            assert!(c.to_lowercase().eq(std::iter::once(c)), "{c:?}");
        }
    }

    #[test]
    fn key_prefix_test_agrees_with_the_key() {
        let texts = [
            "县政府 召开会议",
            "ＡＢＣ会议",
            "İstanbul",
            "abc",
            "",
            "  x ",
        ];
        for a in texts {
            for b in texts {
                let k = key(b);
                assert_eq!(key_is_prefix(a, &k), k.starts_with(&key(a)), "{a:?} {b:?}");
            }
        }
    }
}
