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
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
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

    // (text, line, level bonus, may stand without a reference match)
    let mut candidates: Vec<(String, usize, i32, bool)> = Vec::new();
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
        candidates.push((mark.text.trim().to_string(), mark.line, bonus, true));
        // A title container holding the headline and the info line: each line alone.
        if mark.end_line > mark.line + 1 {
            for i in mark.line..mark.end_line.min(mark.line + 6).min(scan.lines.len()) {
                candidates.push((scan.lines[i].text.clone(), i, bonus - 1, true));
            }
        }
    }
    // Any plain line that matches a reference (headlines in unmarked elements).
    for (i, line) in scan.lines.iter().enumerate() {
        if !line.mostly_link() && line.text.chars().count() <= 200 {
            candidates.push((line.text.clone(), i, -5, false));
        }
    }
    let info_lines: Vec<bool> = scan
        .lines
        .iter()
        .map(|l| l.text.chars().count() <= 150 && super::date::has_info_label(&l.text, rules))
        .collect();
    let near_info = |line: usize| {
        let lo = line.saturating_sub(8);
        let hi = (line + 7).min(info_lines.len());
        (lo..hi).any(|i| info_lines[i])
    };
    let mut best: Option<(i32, usize, String)> = None;
    for (text, line, bonus, standalone) in candidates {
        let k = key(&text);
        let n = k.chars().count();
        if !(2..=200).contains(&n) || rules.not_title.iter().any(|w| key(w) == k) {
            continue;
        }
        let mut score = 0;
        for r in &refs {
            let s = if *r == k {
                100
            } else if n >= 4 && r.starts_with(&k) && n * 10 >= r.chars().count() * 4 {
                80
            } else if standalone && n >= 6 && r.contains(&k) && n * 10 >= r.chars().count() * 3 {
                60
            } else if standalone && k.starts_with(r.as_str()) && r.chars().count() >= 6 {
                50
            } else {
                0
            };
            score = score.max(s);
        }
        if score == 0 {
            // A long heading right above the info line.
            if standalone && n >= 8 && info_line_follows(scan, line + 1, rules) {
                score = 30;
            } else {
                continue;
            }
        }
        score += bonus;
        if near_info(line) {
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
                text: Some(text),
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
            .position(|l| !l.mostly_link() && key(&l.text) == k)
    });
    Headline {
        text: fallback,
        line,
    }
}

fn info_line_follows(scan: &Scan, end_line: usize, rules: &MetaRules) -> bool {
    scan.lines.iter().skip(end_line).take(6).any(|l| {
        l.text.chars().count() <= 150
            && (super::date::has_info_label(&l.text, rules)
                || !super::date::find_dates(&l.text, rules).is_empty())
    })
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
    let mut seps: Vec<&String> = rules.title_separators.iter().collect();
    seps.sort_by_key(|s| std::cmp::Reverse(s.len()));
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
    let is_site = |p: &str| {
        let p = p.trim();
        if p.is_empty() {
            return true;
        }
        let k = key(p);
        site_name.is_some_and(|s| key(s) == k || (k.len() >= 6 && key(s).contains(&k)))
            || column.is_some_and(|c| key(c) == k)
            || (p.chars().count() <= 20
                && rules
                    .title_site_words
                    .iter()
                    .any(|w| p.contains(w.as_str())))
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
