//! Source (来源), author (作者 / 记者) and editor (责任编辑) from labelled info lines,
//! bylines and credits.
//!
//! Source order: the labelled 来源 value nearest the headline → an element whose class
//! names a source (`span.source`) → a labelled 来源 credit after the headline (footer
//! `本文来源：…`) → `ContentSource`/source metas (unless they just repeat the site name) →
//! JSON-LD author of type Organization → an outlet name next to the visible date
//! (`2018-02-28 14:31 中央社`) → the outlet of a byline in the body (`雅安日報/北緯網記者 張雨蝶`).
//!
//! Author order: a labelled 作者/记者 value near the headline, or a byline line there
//! (`本报记者 王乐文 方 敏`) → `rel=author` / class `author` elements → JSON-LD author of
//! type Person → a labelled credit after the headline (`作者：李金磊 责任编辑：…`) → a byline
//! in the body (`（记者 岳品瑜 董晗萱）`, trailing `（张巨峰）`) → the `Author` meta, only when
//! the name also appears in the visible text outside an editor credit.
//!
//! Editor order: the first labelled 责任编辑/编辑/责编 value from the headline on.
//!
//! A value is cut at the next label, a date, page furniture (字号 打印 …) and brackets;
//! a 来源 value also at the first space (`来源：央视新闻客户端 中国青年网` → 央视新闻客户端).

use std::borrow::Cow;

use super::date::find_dates;
use super::dom::{is_han, Scan};
use super::rules::{LabelKind, MetaRules};

/// One `label：value` pair in a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub kind: LabelKind,
    pub label: String,
    /// The raw value (up to the next label), not yet cleaned.
    pub value: String,
    /// Byte offset of the label in the line.
    pub start: usize,
}

fn is_open_bracket(c: char) -> bool {
    matches!(c, '(' | '（' | '[' | '【' | '〔' | '「' | '《' | '<')
}

fn is_boundary_before(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => {
            c.is_whitespace()
                || is_open_bracket(c)
                || matches!(
                    c,
                    '|' | '｜'
                        | '丨'
                        | '/'
                        | '／'
                        | '，'
                        | ','
                        | '。'
                        | '；'
                        | ';'
                        | ')'
                        | '）'
                        | ']'
                        | '】'
                        | '」'
                        | '》'
                        | '\u{a0}'
                )
                || c.is_ascii_digit()
        }
    }
}

/// Every label field of a line, in order.
pub fn fields(line: &str, rules: &MetaRules) -> Vec<Field> {
    let mut starts: Vec<(usize, usize, LabelKind, usize)> = Vec::new(); // (label start, value start, kind, label end)
    for m in rules.labels.find_iter(line) {
        let kind = rules.label_kind(m.pattern().as_usize());
        let word = &line[m.start()..m.end()];
        let after = &line[m.end()..];
        let trimmed = after.trim_start_matches([' ', '\u{3000}', '\u{a0}', '\t']);
        let sep_len = after.len() - trimmed.len();
        let before = line[..m.start()].chars().next_back();
        // A role word right at the start of the previous label's value (作者：记者王敬照)
        // belongs to that value.
        if let Some(last) = starts.last() {
            if matches!(kind, LabelKind::Author) && line[last.1..m.start()].trim().is_empty() {
                continue;
            }
        }
        let value_start = if let Some(rest) = trimmed.strip_prefix([':', '：']) {
            m.end() + sep_len + (trimmed.len() - rest.len())
        } else if word.ends_with(['于', '於'])
            && word.chars().count() >= 3
            && is_boundary_before(before)
        {
            m.end()
        } else if matches!(kind, LabelKind::Author | LabelKind::Editor)
            && (trimmed.starts_with(['/', '／']))
            && is_boundary_before(before)
        {
            m.end() + sep_len + trimmed.chars().next().map_or(0, char::len_utf8)
        } else if word.chars().count() >= 2
            && sep_len > 0
            && !trimmed.is_empty()
            && is_boundary_before(before)
            && matches!(
                kind,
                LabelKind::Author | LabelKind::Editor | LabelKind::Source
            )
        {
            m.end() + sep_len
        } else {
            continue;
        };
        starts.push((m.start(), value_start, kind, m.end()));
    }
    let mut out = Vec::new();
    for (i, &(start, value_start, kind, label_end)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(line.len(), |n| n.0);
        let mut value = if value_start <= end {
            &line[value_start..end]
        } else {
            ""
        };
        // `（编辑：小何）返回…`: a label opened inside a bracket ends at its closing bracket.
        let opened = line[..start]
            .trim_end()
            .chars()
            .next_back()
            .is_some_and(is_open_bracket);
        if opened {
            if let Some(i) = value.find([')', '）', ']', '】', '」', '〕']) {
                value = &value[..i];
            }
        }
        out.push(Field {
            kind,
            label: line[start..label_end].to_string(),
            value: value.to_string(),
            start,
        });
    }
    out
}

/// Cuts a raw value at page furniture, brackets and dates.
fn cut_value(value: &str, rules: &MetaRules) -> String {
    let mut end = value.len();
    if let Some(m) = rules.widgets.find(value) {
        end = end.min(m.start());
    }
    if let Some(f) = find_dates(value, rules).first() {
        end = end.min(f.start);
    }
    for stop in [
        '|', '｜', '丨', '\t', '【', '[', '〔', '<', '>', '»', '。', '，', '；', '！', '？',
    ] {
        if let Some(i) = value.find(stop) {
            if i > 0 {
                end = end.min(i);
            }
        }
    }
    let v = &value[..end];
    trim_punct(v).to_string()
}

/// Trims spaces and punctuation (and unbalanced brackets) from both ends.
pub fn trim_punct(s: &str) -> &str {
    let mut s = s.trim_matches(|c: char| {
        c.is_whitespace()
            || matches!(
                c,
                ':' | '：'
                    | ','
                    | '，'
                    | ';'
                    | '；'
                    | '。'
                    | '.'
                    | '、'
                    | '|'
                    | '｜'
                    | '丨'
                    | '-'
                    | '—'
                    | '\u{a0}'
                    | '·'
                    | '/'
                    | '／'
                    | '*'
                    | '★'
                    | '▲'
                    | '●'
            )
    });
    loop {
        let before = s;
        for (open, close) in [
            ('(', ')'),
            ('（', '）'),
            ('[', ']'),
            ('【', '】'),
            ('「', '」'),
            ('《', '》'),
            ('〔', '〕'),
        ] {
            if s.ends_with(close) && !s.contains(open) {
                s = s[..s.len() - close.len_utf8()].trim_end();
            }
            if s.starts_with(open) && !s.contains(close) {
                s = s[open.len_utf8()..].trim_start();
            }
        }
        // `s` only ever shrinks: the same length means nothing was trimmed.
        if s.len() == before.len() {
            break;
        }
    }
    s
}

/// A 来源 value: one name (cut at the first space and a short trailing `(北京)`).
pub fn clean_source(value: &str, rules: &MetaRules) -> Option<String> {
    let v = cut_value(value, rules);
    let v = v.split_whitespace().next().unwrap_or("");
    let mut v = trim_punct(v).to_string();
    // `中国新闻网(北京)`: a dateline place after the outlet.
    for (open, close) in [('(', ')'), ('（', '）')] {
        if v.ends_with(close) {
            if let Some(i) = v.rfind(open) {
                let inner = &v[i + open.len_utf8()..v.len() - close.len_utf8()];
                if i > 0 && inner.chars().count() <= 4 {
                    v.truncate(i);
                }
            }
        }
    }
    let v = trim_punct(&v).to_string();
    valid_source(&v, rules).then_some(v)
}

fn valid_source(v: &str, rules: &MetaRules) -> bool {
    let n = v.chars().count();
    if !(2..=40).contains(&n) {
        return false;
    }
    if v.chars()
        .all(|c| c.is_ascii_digit() || c.is_ascii_punctuation())
    {
        return false;
    }
    if rules.widget_line_words.contains(v) {
        return false;
    }
    !rules.label_words.iter().any(|w| w == v)
}

/// True when `name` looks like an organisation (ends in 网 报 局 中心 …).
pub fn is_org(name: &str, rules: &MetaRules) -> bool {
    name.chars().count() >= 3
        && rules
            .org_suffixes
            .iter()
            .any(|s| name.ends_with(s.as_str()))
}

/// True when `token` can be a person's name or pen name.
pub fn is_person(token: &str, rules: &MetaRules) -> bool {
    let n = token.chars().count();
    if rules.not_name_has_empty || rules.not_name_words.is_match(token) {
        return false;
    }
    if token.chars().all(is_han) {
        return (2..=5).contains(&n) && !is_org(token, rules);
    }
    // Latin names (John Smith) and editor codes (NF055).
    (2..=40).contains(&n)
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '.' | '-' | '\''))
        && token.chars().any(|c| c.is_ascii_alphabetic())
}

fn strip_role_prefix<'a>(mut token: &'a str, rules: &MetaRules) -> &'a str {
    loop {
        let before = token;
        for p in &rules.role_prefixes {
            if let Some(rest) = token.strip_prefix(p.as_str()) {
                let rest = rest.trim_start_matches([' ', ':', '：', '/', '／']);
                if rest.chars().count() >= 2 {
                    token = rest;
                    break;
                }
            }
        }
        if token == before {
            return token;
        }
    }
}

fn strip_role_suffix<'a>(token: &'a str, rules: &MetaRules) -> &'a str {
    for s in &rules.role_suffixes {
        if let Some(rest) = token.strip_suffix(s.as_str()) {
            let rest = rest.trim_end();
            if rest.chars().count() >= 2 {
                return rest;
            }
        }
    }
    token
}

/// `邱俊欽桃園19日電` → `邱俊欽`: a wire dateline (place + day + 电) after the name.
fn strip_dateline(token: &str) -> &str {
    let chars: Vec<(usize, char)> = token.char_indices().collect();
    if let Some(pos) = chars.iter().position(|(_, c)| c.is_ascii_digit()) {
        let tail: String = chars[pos..].iter().map(|(_, c)| c).collect();
        if tail.contains('日') && (tail.contains('电') || tail.contains('電')) && pos >= 4 {
            // A two-character place name before the day.
            return &token[..chars[pos - 2].0];
        }
    }
    token
}

/// `方敏北京大学经济学院教授` → `方敏`.
fn strip_affiliation<'a>(token: &'a str, rules: &MetaRules) -> &'a str {
    if token.chars().count() <= 4 || is_org(token, rules) {
        return token;
    }
    // Each word counts at its first occurrence only, and only when that is not at the
    // start. Overlapping matches come in order of their end, so a word's first match
    // is its first occurrence.
    let mut cut = token.len();
    let mut seen: Vec<usize> = Vec::new();
    for m in rules.affiliation_words.find_overlapping_iter(token) {
        let word = m.pattern().as_usize();
        if seen.contains(&word) {
            continue;
        }
        seen.push(word);
        if m.start() > 0 {
            cut = cut.min(m.start());
        }
    }
    &token[..cut]
}

/// Splits a names value (`杜卿卿 李隽`, `叨叨姐、胡一刀&李小飞刀`, `王乐文 方 敏`) into
/// person names; organisations, desks and prose are dropped.
pub fn parse_names(value: &str, rules: &MetaRules, allow_codes: bool) -> Vec<String> {
    names_from(value, rules, allow_codes, false)
}

/// Like [`parse_names`], but empty unless every word is a name (or a role / desk word):
/// for unlabelled bylines, where one stray word means the line is prose.
pub fn parse_names_strict(value: &str, rules: &MetaRules) -> Vec<String> {
    names_from(value, rules, false, true)
}

fn names_from(value: &str, rules: &MetaRules, allow_codes: bool, strict: bool) -> Vec<String> {
    if strict && value.contains(['，', '。', ',', '；', '！', '？']) {
        return Vec::new();
    }
    let value = cut_value(value, rules);
    let value = strip_role_prefix(&value, rules).to_string();
    let raw: Vec<&str> = value
        .split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '、' | ','
                        | '，'
                        | ';'
                        | '；'
                        | '&'
                        | '＆'
                        | '/'
                        | '／'
                        | '\\'
                        | '和'
                        | '及'
                        | '与'
                        | '與'
                        | '('
                        | ')'
                        | '（'
                        | '）'
                )
        })
        .filter(|t| !t.is_empty())
        .collect();
    // Re-join single characters padded apart (`方 敏`).
    let mut tokens: Vec<String> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let t = raw[i];
        if t.chars().count() == 1 && t.chars().all(is_han) {
            if let Some(next) = raw.get(i + 1) {
                if next.chars().count() == 1 && next.chars().all(is_han) {
                    tokens.push(format!("{t}{next}"));
                    i += 2;
                    continue;
                }
            }
        }
        tokens.push(t.to_string());
        i += 1;
    }
    let mut names: Vec<String> = Vec::new();
    for (idx, t) in tokens.iter().enumerate() {
        if rules.role_suffixes.iter().any(|s| s == t) {
            continue;
        }
        // `林悅／南市報導`: a desk after the slash.
        if idx > 0 && ["报道", "報導", "报导"].iter().any(|s| t.ends_with(s)) {
            continue;
        }
        let t = strip_role_prefix(t, rules);
        let t = strip_dateline(t);
        let t = strip_affiliation(t, rules);
        let t = strip_role_suffix(t, rules);
        let t = trim_punct(t);
        if is_person(t, rules) {
            let code = !t.chars().all(is_han);
            if code && !allow_codes && t.chars().any(|c| c.is_ascii_digit()) {
                continue;
            }
            if !names.iter().any(|n| n == t) {
                names.push(t.to_string());
            }
        } else if strict || (names.is_empty() && idx == 0 && t.chars().count() > 5) {
            // Prose, not a names list.
            return Vec::new();
        }
    }
    names
}

pub fn join_names(names: &[String]) -> Option<String> {
    (!names.is_empty()).then(|| names.join("、"))
}

/// What one line says about people and sources.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineInfo {
    pub source: Option<String>,
    pub author: Option<String>,
    pub editor: Option<String>,
    /// A byline outlet (`雅安日報/北緯網` of `雅安日報/北緯網記者 張雨蝶`).
    pub outlet: Option<String>,
    /// The line is nothing but metadata (labels, bylines, furniture).
    pub only_meta: bool,
}

/// Reads the labelled fields of a line.
pub fn read_line(line: &str, rules: &MetaRules) -> LineInfo {
    let mut info = LineInfo::default();
    let fs = fields(line, rules);
    for f in &fs {
        match f.kind {
            LabelKind::Source if info.source.is_none() => {
                info.source = clean_source(&f.value, rules);
                // `来源：中国新闻网 王帆`: a reporter after the outlet.
                if info.source.is_some() && info.author.is_none() {
                    let cut = cut_value(&f.value, rules);
                    let mut words = cut.split_whitespace();
                    words.next();
                    let rest: Vec<&str> = words.collect();
                    if rest.len() == 1 {
                        let names = parse_names(rest[0], rules, false);
                        if names.len() == 1 && names[0] == rest[0] {
                            info.author = join_names(&names);
                        }
                    }
                }
            }
            LabelKind::Author if info.author.is_none() => {
                info.author = join_names(&parse_names(&f.value, rules, false));
            }
            LabelKind::Editor if info.editor.is_none() => {
                info.editor = join_names(&parse_names(&f.value, rules, true));
            }
            _ => {}
        }
    }
    if info.author.is_none() {
        if let Some((outlet, names)) = byline(line, rules) {
            info.author = join_names(&names);
            info.outlet = outlet;
        }
    }
    info.only_meta = is_meta_line(line, &fs, rules);
    info
}

/// True when the line holds nothing but labelled metadata.
fn is_meta_line(line: &str, fs: &[Field], rules: &MetaRules) -> bool {
    let Some(first) = fs.first() else {
        return false;
    };
    if matches!(first.kind, LabelKind::NotSource) {
        return false;
    }
    let lead = trim_punct(&line[..first.start]);
    let lead_ok = lead.is_empty()
        || find_dates(lead, rules)
            .first()
            .is_some_and(|d| d.start == 0)
        || lead.chars().count() <= 12 && !lead.contains(['。', '，']);
    // Values are names, dates and outlets, never sentences (`日期:1月21日，凱爾特人…`
    // or `北京商报讯（记者 某某）5月20日，…` are paragraphs).
    let short_values = fs.iter().all(|f| {
        f.value.chars().count() <= 60 && !f.value.contains(['。', '，', '！', '？', '；'])
    });
    // A full sentence anywhere on the line makes it prose, whatever labels it holds.
    let sentence = line.contains(['。', '！', '？']);
    lead_ok && short_values && !sentence && line.chars().count() <= 160
}

/// A short byline: `半月谈记者 史卫燕`, `雅安日報/北緯網記者　張雨蝶`, `本报记者 王乐文 方 敏`,
/// `记者林悅／南市報導`, `执笔/叨叨姐、胡一刀&李小飞刀` → (outlet, names).
pub fn byline(line: &str, rules: &MetaRules) -> Option<(Option<String>, Vec<String>)> {
    let undated = strip_dates(line, rules);
    let line = trim_punct(&undated);
    if line.chars().count() > 40 {
        return None;
    }
    for m in rules.labels.find_iter(line) {
        if rules.label_kind(m.pattern().as_usize()) != LabelKind::Author {
            continue;
        }
        let word = &line[m.start()..m.end()];
        if word.chars().count() < 2 {
            continue;
        }
        let outlet = trim_punct(&line[..m.start()]);
        if outlet.chars().count() > 16 || outlet.contains(['。', '，', '：', ':']) {
            return None;
        }
        let names = parse_names_strict(&line[m.end()..], rules);
        if names.is_empty() {
            return None;
        }
        let outlet = outlet
            .trim_matches(|c: char| matches!(c, '《' | '》' | '「' | '」'))
            .to_string();
        let outlet = (!outlet.is_empty()
            && !rules
                .self_outlets
                .iter()
                .any(|s| outlet.starts_with(s.as_str())))
        .then_some(outlet);
        return Some((outlet, names));
    }
    None
}

/// Dateline credits inside a paragraph: `北京商报讯（记者 岳品瑜 董晗萱）`,
/// `（中央社記者邱俊欽桃園19日電）`, `（编译/林靖东）`.
pub fn dateline_author(text: &str, rules: &MetaRules) -> Option<Vec<String>> {
    let mut rest = text;
    let mut budget = 20;
    while let Some(open) = rest.find(['（', '(']) {
        budget -= 1;
        if budget == 0 {
            break;
        }
        let after = &rest[open + rest[open..].chars().next().map_or(1, char::len_utf8)..];
        let close = after.find(['）', ')']).unwrap_or(after.len());
        let inner = &after[..close];
        if inner.chars().count() <= 40 {
            for m in rules.labels.find_iter(inner) {
                let kind = rules.label_kind(m.pattern().as_usize());
                let word = &inner[m.start()..m.end()];
                if kind == LabelKind::Author
                    && (word.chars().count() >= 2
                        || inner[m.end()..].starts_with(['/', '／', ':', '：']))
                {
                    let names = parse_names(&inner[m.end()..], rules, false);
                    if !names.is_empty() {
                        return Some(names);
                    }
                }
            }
        }
        rest = after;
    }
    None
}

/// A trailing credit at the end of the article: `…会议。记者  李秋晨`, `…（张巨峰）`.
pub fn trailing_author(text: &str, rules: &MetaRules) -> Option<Vec<String>> {
    let t = text.trim_end();
    for close in ['）', ')'] {
        if let Some(body) = t.strip_suffix(close) {
            if let Some(i) = body.rfind(['（', '(']) {
                let inner = &body[i + body[i..].chars().next().map_or(1, char::len_utf8)..];
                if inner.chars().count() <= 20 {
                    if let Some((_, names)) = byline(inner, rules) {
                        return Some(names);
                    }
                    let names = parse_names(inner, rules, false);
                    let whole: String = inner.chars().filter(|c| !c.is_whitespace()).collect();
                    if !names.is_empty()
                        && names.concat().chars().count() + 2 >= whole.chars().count()
                    {
                        return Some(names);
                    }
                }
            }
        }
    }
    // `…。记者 李秋晨` at the very end.
    let tail_start = t
        .char_indices()
        .rev()
        .take(20)
        .find(|(_, c)| matches!(c, '。' | '！' | '？' | '”' | '」'))
        .map(|(i, c)| i + c.len_utf8());
    if let Some(i) = tail_start {
        if let Some((_, names)) = byline(&t[i..], rules) {
            return Some(names);
        }
    }
    None
}

/// Picks source / author / editor from the whole page (before cleaning).
pub struct People {
    pub source: Option<String>,
    pub author: Option<String>,
    pub editor: Option<String>,
}

pub fn read(
    scan: &Scan,
    anchor: Option<usize>,
    site_name: Option<&str>,
    date_line: Option<usize>,
    rules: &MetaRules,
) -> People {
    let n = scan.lines.len();
    let a = anchor.unwrap_or(0);
    let near_lo = a.saturating_sub(8);
    let near_hi = (a + 16).min(n);
    let near: Vec<usize> = if anchor.is_some() {
        (near_lo..near_hi).collect()
    } else {
        Vec::new()
    };
    let after: Vec<usize> = (if anchor.is_some() { a } else { 0 }..n).collect();

    let mut source = None;
    let mut author = None;
    let mut editor = None;
    let mut outlet = None;
    // 1. labelled lines around the headline (nearest after it first).
    let mut order = near.clone();
    order.sort_by_key(|&i| if i >= a { (i - a) * 2 } else { (a - i) * 3 });
    for &i in &order {
        let line = &scan.lines[i];
        if line.text.chars().count() > 200 {
            continue;
        }
        let info = read_line(&line.text, rules);
        if source.is_none() {
            source = info.source.clone();
        }
        if author.is_none() && line.text.chars().count() <= 100 {
            author = info.author.clone();
            if outlet.is_none() {
                outlet = info.outlet.clone();
            }
        }
        if editor.is_none() {
            editor = info.editor.clone();
        }
    }
    // 2. marked elements near the headline (rel=author before class hints).
    let near_marks: Vec<&super::dom::Mark> = scan
        .marks
        .iter()
        .filter(|m| anchor.is_some_and(|a| m.line + 8 >= a && m.line <= a + 16))
        .collect();
    for mark in &near_marks {
        if source.is_some() || mark.kind != super::dom::MarkKind::Source {
            continue;
        }
        let text = strip_dates(&mark.text, rules);
        let info = read_line(&text, rules);
        let labelled = !fields(&text, rules).is_empty();
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let all_people = tokens.len() >= 2 && tokens.iter().all(|t| is_person(t, rules));
        source = info.source.or_else(|| {
            (!labelled && !all_people)
                .then(|| clean_source(&text, rules))
                .flatten()
        });
    }
    for kind in [
        super::dom::MarkKind::RelAuthor,
        super::dom::MarkKind::Author,
    ] {
        for mark in near_marks.iter().filter(|m| m.kind == kind) {
            if author.is_some() {
                break;
            }
            let text = strip_dates(&mark.text, rules);
            let info = read_line(&text, rules);
            let labelled = !fields(&text, rules).is_empty();
            author = info.author.or_else(|| {
                if labelled {
                    return None;
                }
                let names = parse_names(&text, rules, false);
                // A class name alone is weak evidence: only short personal names.
                let strict = kind == super::dom::MarkKind::Author;
                let plausible = names.iter().all(|n| !strict || n.chars().count() <= 3);
                (names.len() <= 4 && plausible)
                    .then(|| join_names(&names))
                    .flatten()
            });
            if author.is_some() && outlet.is_none() {
                outlet = info.outlet;
            }
        }
    }
    // 2b. `石佳/中国青年报` right under the headline: a person and an outlet.
    if let Some(a) = anchor {
        for line in scan.lines.iter().skip(a + 1).take(3) {
            if let Some((person, org)) = name_outlet_pair(&line.text, rules) {
                if author.is_none() {
                    author = Some(person);
                }
                if source.is_none() {
                    source = Some(org);
                }
                break;
            }
        }
    }
    // 3. JSON-LD authors.
    let (ld_people, ld_orgs) = json_ld_authors(scan);
    if author.is_none() {
        for p in &ld_people {
            let names = match byline(p, rules) {
                Some((_, names)) => names,
                None => parse_names(p, rules, false),
            };
            if let Some(a) = join_names(&names) {
                author = Some(a);
                break;
            }
        }
    }
    // 4. labelled credits after the headline (footer `本文来源：… 作者：…`).
    for &i in &after {
        // Once all three are known nothing below changes them.
        if source.is_some() && author.is_some() && editor.is_some() {
            break;
        }
        let line = &scan.lines[i];
        if line.text.chars().count() > 100 {
            continue;
        }
        if !rules.labels.is_match(&line.text) {
            continue;
        }
        let info = read_line(&line.text, rules);
        let labelled = fields(&line.text, rules);
        if source.is_none()
            && labelled
                .iter()
                .any(|f| f.kind == LabelKind::Source && f.label.chars().count() >= 3)
        {
            source = info.source.clone();
        }
        if author.is_none() && labelled.iter().any(|f| f.kind == LabelKind::Author) {
            author = info.author.clone();
        }
        if editor.is_none() {
            editor = info.editor.clone();
        }
    }
    // 5. metas.
    if source.is_none() {
        if let Some((_, v)) = scan.meta(&rules.meta_source) {
            let v = v.trim();
            let v = strip_label_prefix(v, rules);
            let v = cut_value(v, rules);
            let v = trim_punct(&v).to_string();
            let same_as_site = site_name.is_some_and(|s| s == v);
            if !same_as_site && valid_source(&v, rules) {
                source = Some(v);
            }
        }
    }
    if source.is_none() {
        source = ld_orgs
            .into_iter()
            .find(|o| valid_source(o, rules) && site_name != Some(o.as_str()));
    }
    // 6. an outlet next to the visible date.
    if source.is_none() {
        if let Some(i) = date_line {
            source = outlet_near_date(&scan.lines[i].text, rules);
        }
    }
    if source.is_none() {
        source = outlet;
    }
    if author.is_none() {
        if let Some((_, v)) = scan.meta(&rules.meta_author) {
            let names = parse_names(v, rules, false);
            if names.len() == 1
                && Some(&names[0]) != editor.as_ref()
                && confirmed_visible(scan, &names[0], rules)
            {
                author = Some(names[0].clone());
            }
        }
    }
    People {
        source,
        author,
        editor,
    }
}

/// `石佳/中国青年报` (or `中国青年报/石佳`): an unlabelled person / outlet pair.
fn name_outlet_pair(line: &str, rules: &MetaRules) -> Option<(String, String)> {
    let line = strip_dates(line, rules);
    let line = line.trim();
    if line.chars().count() > 30 || !fields(line, rules).is_empty() {
        return None;
    }
    let parts: Vec<&str> = line.split(['/', '／']).map(trim_punct).collect();
    let [a, b] = parts[..] else { return None };
    let person = |t: &str| is_person(t, rules) && t.chars().count() <= 3;
    if person(a) && is_org(b, rules) {
        Some((a.to_string(), b.to_string()))
    } else if person(b) && is_org(a, rules) {
        Some((b.to_string(), a.to_string()))
    } else {
        None
    }
}

fn strip_label_prefix<'a>(v: &'a str, rules: &MetaRules) -> &'a str {
    if let Some(m) = rules.labels.find(v) {
        if m.start() == 0 {
            return v[m.end()..].trim_start_matches([':', '：', ' ']);
        }
    }
    v
}

/// `text` with every date replaced by a space (borrowed when it holds none).
fn strip_dates<'a>(text: &'a str, rules: &MetaRules) -> Cow<'a, str> {
    let found = find_dates(text, rules);
    if found.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for f in found {
        out.push_str(&text[last..f.start]);
        out.push(' ');
        last = f.end;
    }
    out.push_str(&text[last..]);
    Cow::Owned(out)
}

/// `2018-02-28 14:31中央社 澎湖縣28日電` → 中央社; `北京新浪網 (2020-01-21 11:12)` → 北京新浪網.
fn outlet_near_date(line: &str, rules: &MetaRules) -> Option<String> {
    if line.chars().count() > 60 || !fields(line, rules).is_empty() {
        return None;
    }
    let rest = strip_dates(line, rules);
    rest.split(|c: char| {
        c.is_whitespace() || matches!(c, '(' | ')' | '（' | '）' | '|' | '｜' | '丨')
    })
    .map(trim_punct)
    .find(|t| is_org(t, rules) && t.chars().count() <= 12 && !t.starts_with(['来', '來']))
    .map(str::to_string)
}

/// A meta author counts only when the page shows the name after an author role word
/// (the meta is usually the CMS user or the duty editor).
fn confirmed_visible(scan: &Scan, name: &str, rules: &MetaRules) -> bool {
    scan.lines
        .iter()
        .filter(|l| l.text.contains(name))
        .any(|l| {
            fields(&l.text, rules)
                .iter()
                .any(|f| f.kind == LabelKind::Author && f.value.contains(name))
                || byline(&l.text, rules).is_some_and(|(_, names)| names.iter().any(|n| n == name))
        })
}

/// JSON-LD `author` values: (people, organisations).
fn json_ld_authors(scan: &Scan) -> (Vec<String>, Vec<String>) {
    let mut people = Vec::new();
    let mut orgs = Vec::new();
    let mut stack: Vec<&serde_json::Value> = scan.json_ld.iter().collect();
    let mut budget = 10_000;
    while let Some(v) = stack.pop() {
        budget -= 1;
        if budget == 0 {
            break;
        }
        match v {
            serde_json::Value::Object(map) => {
                if let Some(author) = map.get("author") {
                    let list: Vec<&serde_json::Value> = match author {
                        serde_json::Value::Array(a) => a.iter().collect(),
                        other => vec![other],
                    };
                    for a in list {
                        match a {
                            serde_json::Value::String(s) => people.push(s.trim().to_string()),
                            serde_json::Value::Object(o) => {
                                let name = o
                                    .get("name")
                                    .and_then(|n| n.as_str())
                                    .unwrap_or("")
                                    .trim()
                                    .to_string();
                                let ty = o.get("@type").and_then(|n| n.as_str()).unwrap_or("");
                                if name.is_empty() {
                                    continue;
                                }
                                if ty.eq_ignore_ascii_case("organization")
                                    || ty.eq_ignore_ascii_case("newsmediaorganization")
                                {
                                    orgs.push(name);
                                } else {
                                    people.push(name);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                for (k, child) in map {
                    if k != "author" {
                        stack.push(child);
                    }
                }
            }
            serde_json::Value::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    (people, orgs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affiliation_cut_equals_the_per_word_search() {
        let rules = MetaRules::default();
        let reference = |token: &str| {
            if token.chars().count() <= 4 || is_org(token, &rules) {
                return token.len();
            }
            let mut cut = token.len();
            for w in &rules.affiliation_starts {
                if let Some(i) = token.find(w.as_str()) {
                    if i > 0 {
                        cut = cut.min(i);
                    }
                }
            }
            cut
        };
        for token in [
            "方敏北京大学经济学院教授",
            "北京大学王某某北京",
            "王某某",
            "李四清华大学教授研究员",
            "中国人民大学张三",
            "张三中国人民大学北京",
            "大学生王五大学",
        ] {
            assert_eq!(
                strip_affiliation(token, &rules).len(),
                reference(token),
                "{token}"
            );
        }
    }
}
