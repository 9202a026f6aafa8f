//! Publication date.
//!
//! Fallback order (first that yields a date wins):
//! 1. the visible date line near the headline: a date after a 发布时间/发布日期/日期/时间/
//!    发布于… label, or an unlabelled date on a short info line right around the headline
//!    (`2019-10-23 09:30 来源：…`). 成文日期/印发日期… dates, "today is" header widgets,
//!    copyright years and dates inside link lists are never taken. A visible date without
//!    a time borrows the time of a meta date of the same day.
//! 2. meta tags in the order of `meta_tags.published` (`PubDate`, `article:published_time`,
//!    `publishdate`, …), skipping a value that is a CMS regeneration stamp (equal to the
//!    `others` 页面生成时间 meta) or later than the date in the URL.
//! 3. JSON-LD `datePublished`.
//! 4. the date in the URL (`t20191023_…`, `/2019-10/23/`, `/201910/23/`, `/20191023/`).
//!
//! Output: RFC 3339 in the site timezone when a time is known, else `YYYY-MM-DD`.

use chrono::{Datelike, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

use super::dom::{Mark, MarkKind, Scan};
use super::rules::{LabelKind, MetaRules};
use super::{Precision, Published};

/// A parsed date, possibly with a time and an explicit offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateValue {
    pub day: NaiveDate,
    pub time: Option<NaiveTime>,
    pub offset: Option<FixedOffset>,
}

impl DateValue {
    /// The calendar day in the site timezone.
    pub fn local_day(&self, tz: FixedOffset) -> NaiveDate {
        self.local(tz).0
    }

    fn local(&self, tz: FixedOffset) -> (NaiveDate, Option<NaiveTime>) {
        match (self.time, self.offset) {
            (Some(t), Some(off)) => {
                let naive = NaiveDateTime::new(self.day, t);
                match off.from_local_datetime(&naive).single() {
                    Some(dt) => {
                        let local = dt.with_timezone(&tz).naive_local();
                        (local.date(), Some(local.time()))
                    }
                    None => (self.day, Some(t)),
                }
            }
            _ => (self.day, self.time),
        }
    }

    pub fn to_published(&self, tz: FixedOffset, from: &str) -> Published {
        let (day, time) = self.local(tz);
        match time {
            Some(t) => Published {
                value: format!("{}T{}{}", day.format("%Y-%m-%d"), t.format("%H:%M:%S"), tz),
                precision: Precision::DateTime,
                from: from.to_string(),
            },
            None => Published {
                value: day.format("%Y-%m-%d").to_string(),
                precision: Precision::Date,
                from: from.to_string(),
            },
        }
    }
}

/// A date found in text: where it is and what it says.
#[derive(Debug, Clone, Copy)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub value: DateValue,
}

/// Every date in `text`, left to right, non-overlapping (earliest, then longest, wins).
pub fn find_dates(text: &str, rules: &MetaRules) -> Vec<Found> {
    let mut all: Vec<Found> = Vec::new();
    // Whether the text holds `19` or `20`, which every match of most patterns does;
    // looked up once, when first needed.
    let mut century: Option<bool> = None;
    for pattern in &rules.date_formats {
        if pattern.needs_century && !*century.get_or_insert_with(|| has_century(text)) {
            continue;
        }
        // Most texts hold no date: a plain match test allocates no capture slots.
        if !pattern.regex.is_match(text) {
            continue;
        }
        for caps in pattern.regex.captures_iter(text) {
            let Some(whole) = caps.get(0) else { continue };
            if let Some(value) = value_from_caps(&caps) {
                all.push(Found {
                    start: whole.start(),
                    end: whole.end(),
                    value,
                });
            }
        }
    }
    all.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut out: Vec<Found> = Vec::new();
    for f in all {
        if out.last().map_or(true, |last| f.start >= last.end) {
            // A year glued to more digits (an id like 1201910231234) is not a date.
            let before = text[..f.start].chars().next_back();
            if before.is_some_and(|c| c.is_ascii_digit()) {
                continue;
            }
            out.push(f);
        }
    }
    out
}

/// False when [`find_dates`] surely finds nothing in `text`: no ASCII digit, or no `19`
/// or `20` when every date format needs one.
fn may_hold_date(text: &str, rules: &MetaRules) -> bool {
    if rules.date_formats.iter().all(|p| p.needs_century) {
        has_century(text)
    } else {
        text.bytes().any(|b| b.is_ascii_digit())
    }
}

/// True when `text` holds `19` or `20` (ASCII), the start of a year.
fn has_century(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(found) = memchr::memchr2(b'1', b'2', &bytes[from..]) {
        let at = from + found;
        let second = if bytes[at] == b'1' { b'9' } else { b'0' };
        if bytes.get(at + 1) == Some(&second) {
            return true;
        }
        from = at + 1;
    }
    false
}

/// The first date in `text`.
pub fn parse_first(text: &str, rules: &MetaRules) -> Option<DateValue> {
    find_dates(text, rules).first().map(|f| f.value)
}

fn group_u32(caps: &regex::Captures, name: &str) -> Option<u32> {
    caps.name(name).and_then(|m| m.as_str().trim().parse().ok())
}

fn value_from_caps(caps: &regex::Captures) -> Option<DateValue> {
    let y = group_u32(caps, "y")? as i32;
    let m = group_u32(caps, "m")?;
    let d = group_u32(caps, "d")?;
    let day = NaiveDate::from_ymd_opt(y, m, d)?;
    let time = match (group_u32(caps, "H"), group_u32(caps, "M")) {
        (Some(mut h), Some(min)) => {
            let ampm = caps.name("ampm").map(|m| m.as_str().to_ascii_lowercase());
            match ampm.as_deref() {
                Some("下午" | "晚上" | "pm") if h < 12 => h += 12,
                Some("中午") if h < 11 => h += 12,
                Some("上午" | "凌晨" | "早上" | "am") if h == 12 => h = 0,
                _ => {}
            }
            NaiveTime::from_hms_opt(h, min, group_u32(caps, "S").unwrap_or(0))
        }
        _ => None,
    };
    let offset = caps.name("tz").and_then(|m| parse_offset(m.as_str()));
    Some(DateValue {
        day,
        time,
        offset: if time.is_some() { offset } else { None },
    })
}

fn parse_offset(s: &str) -> Option<FixedOffset> {
    if s == "Z" {
        return FixedOffset::east_opt(0);
    }
    let sign = if s.starts_with('-') { -1 } else { 1 };
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() != 4 {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// A date read from the URL; `day` is `None` when the URL gives only a month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrlDate {
    pub year: i32,
    pub month: u32,
    pub day: Option<NaiveDate>,
}

/// The date in a URL path, by the `url_date` patterns in order.
pub fn url_date(url: &str, rules: &MetaRules) -> Option<UrlDate> {
    let path = match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[i + 3 + j..],
            None => return None,
        },
        None => url,
    };
    for pattern in &rules.url_dates {
        if !pattern.regex.is_match(path) {
            continue;
        }
        for caps in pattern.regex.captures_iter(path) {
            let (Some(y), Some(m)) = (group_u32(&caps, "y"), group_u32(&caps, "m")) else {
                continue;
            };
            if !(1..=12).contains(&m) {
                continue;
            }
            match group_u32(&caps, "d") {
                Some(d) => {
                    if let Some(day) = NaiveDate::from_ymd_opt(y as i32, m, d) {
                        return Some(UrlDate {
                            year: y as i32,
                            month: m,
                            day: Some(day),
                        });
                    }
                }
                None => {
                    return Some(UrlDate {
                        year: y as i32,
                        month: m,
                        day: None,
                    })
                }
            }
        }
    }
    None
}

/// A visible date candidate.
#[derive(Debug, Clone, Copy)]
pub struct Visible {
    pub value: DateValue,
    pub line: usize,
    pub score: i32,
}

fn contains_any(text: &str, words: &[String]) -> bool {
    words
        .iter()
        .any(|w| !w.is_empty() && text.contains(w.as_str()))
}

/// Separators allowed between a label and its date.
fn only_separators(s: &str) -> bool {
    s.chars().all(|c| {
        c.is_whitespace()
            || matches!(
                c,
                ':' | '：'
                    | '('
                    | ')'
                    | '（'
                    | '）'
                    | '['
                    | ']'
                    | '【'
                    | '】'
                    | '|'
                    | '｜'
                    | '丨'
                    | '\u{a0}'
            )
    })
}

/// The label kind right before byte offset `at` in `line`, if any.
pub fn label_before(line: &str, at: usize, rules: &MetaRules) -> Option<LabelKind> {
    let mut found = None;
    for m in rules.labels.find_iter(&line[..at]) {
        if only_separators(&line[m.end()..at]) {
            found = Some(rules.label_kind(m.pattern().as_usize()));
        }
    }
    found
}

/// True when the line carries a source or author label (an info line).
pub fn has_info_label(line: &str, rules: &MetaRules) -> bool {
    // A colon after the label or a label ending in 于/於 is needed: no such character,
    // no info label.
    if !line.contains([':', '：', '于', '於']) {
        return false;
    }
    rules.labels.find_iter(line).any(|m| {
        let kind = rules.label_kind(m.pattern().as_usize());
        let rest = line[m.end()..].trim_start();
        matches!(
            kind,
            LabelKind::Source | LabelKind::Author | LabelKind::Editor | LabelKind::Published
        ) && (rest.starts_with(':')
            || rest.starts_with('：')
            || line[..m.end()].ends_with(['于', '於']))
    })
}

/// Scores every visible date; `anchor` is the headline's line.
pub fn visible_candidates(scan: &Scan, anchor: Option<usize>, rules: &MetaRules) -> Vec<Visible> {
    let mut out = Vec::new();
    for (idx, line) in scan.lines.iter().enumerate() {
        let text = line.text.as_str();
        if !may_hold_date(text, rules) {
            continue;
        }
        // (Dates first: the cheaper test, and most lines have none.)
        let found = find_dates(text, rules);
        if found.is_empty() || rules.not_date_line_words.is_match(text) {
            continue;
        }
        let short = text.chars().count() <= 120;
        let info_line = short && has_info_label(text, rules);
        for f in &found {
            let mut label = label_before(text, f.start, rules);
            // `发文日期：` alone on a line, its value on the next (label and value cells).
            if label.is_none() && only_separators(&text[..f.start]) && idx > 0 {
                let prev = scan.lines[idx - 1].text.as_str();
                if prev.chars().count() <= 20 {
                    label = label_before(prev, prev.len(), rules);
                }
            }
            let mut score = match label {
                Some(LabelKind::NotPublished) => continue,
                Some(LabelKind::Published) => 100,
                Some(LabelKind::PublishedWeak) => 60,
                _ if short && !line.mostly_link() => 40,
                _ => continue,
            };
            if line.heading > 0 && label.is_none() {
                continue;
            }
            if info_line {
                score += 10;
            }
            match anchor {
                Some(a) if idx >= a => {
                    let dist = (idx - a) as i32;
                    if dist > 15 {
                        if score < 60 && !info_line {
                            continue;
                        }
                        score -= 30 + dist.min(200) / 10;
                    } else {
                        score -= dist;
                    }
                }
                Some(a) => {
                    let dist = (a - idx) as i32;
                    if contains_any(text, &rules.weekday_words) && label.is_none() {
                        continue;
                    }
                    if dist > 12 {
                        if score < 60 {
                            continue;
                        }
                        score -= 35 + dist.min(200) / 10;
                    } else {
                        score -= 5 + dist * 2;
                    }
                }
                None => {
                    if score < 60 && !info_line {
                        continue;
                    }
                }
            }
            out.push(Visible {
                value: f.value,
                line: idx,
                score,
            });
        }
    }
    // Marked date elements (<time>, <publishtime>, class="pubtime") near the headline.
    for mark in scan.marks.iter().filter(|m| m.kind == MarkKind::Date) {
        if let Some(v) = mark_date(mark, rules) {
            let near = anchor.is_some_and(|a| mark.line + 12 >= a && mark.line <= a + 15);
            if near {
                let dist = anchor.map_or(0, |a| (mark.line as i32 - a as i32).abs());
                out.push(Visible {
                    value: v,
                    line: mark.line,
                    score: 75 - dist,
                });
            }
        }
    }
    out
}

fn mark_date(mark: &Mark, rules: &MetaRules) -> Option<DateValue> {
    let text = mark.text.as_str();
    if text.chars().count() > 80 {
        return None;
    }
    let found = find_dates(text, rules);
    let first = found.first()?;
    if let Some(LabelKind::NotPublished) = label_before(text, first.start, rules) {
        return None;
    }
    Some(first.value)
}

/// Picks the publication date by the documented order.
pub fn choose(
    scan: &Scan,
    anchor: Option<usize>,
    page_url: Option<&str>,
    rules: &MetaRules,
    tz: FixedOffset,
) -> Option<Published> {
    choose_with_line(scan, anchor, page_url, rules, tz).0
}

/// [`choose`], and the line of the visible date when the date is one.
pub fn choose_with_line(
    scan: &Scan,
    anchor: Option<usize>,
    page_url: Option<&str>,
    rules: &MetaRules,
    tz: FixedOffset,
) -> (Option<Published>, Option<usize>) {
    let metas = meta_dates(scan, rules);
    let regenerated: Vec<NaiveDate> = rules
        .meta_regenerated
        .iter()
        .flat_map(|k| scan.metas_named(k))
        .filter_map(|c| parse_first(c, rules))
        .map(|v| v.local_day(tz))
        .collect();
    let url = page_url.and_then(|u| url_date(u, rules));

    let mut visible = visible_candidates(scan, anchor, rules);
    visible.sort_by_key(|v| (std::cmp::Reverse(v.score), v.line));
    if let Some(best) = visible.first() {
        let mut value = best.value;
        let mut from = "visible_line".to_string();
        if value.time.is_none() {
            if let Some((key, m)) = metas
                .iter()
                .find(|(_, m)| m.time.is_some() && m.local_day(tz) == value.day)
            {
                value = *m;
                from = format!("visible_line+meta:{key}");
            }
        }
        return (Some(value.to_published(tz, &from)), Some(best.line));
    }
    (
        choose_hidden(scan, &metas, &regenerated, url, rules, tz),
        None,
    )
}

/// The date when no visible line shows one: metas, JSON-LD, then the URL.
fn choose_hidden(
    scan: &Scan,
    metas: &[(String, DateValue)],
    regenerated: &[NaiveDate],
    url: Option<UrlDate>,
    rules: &MetaRules,
    tz: FixedOffset,
) -> Option<Published> {
    for (key, m) in metas {
        let day = m.local_day(tz);
        if regenerated.contains(&day) {
            continue;
        }
        if let Some(u) = url {
            let later = match u.day {
                Some(ud) => day > ud + chrono::Duration::days(1),
                None => (day.year(), day.month()) > (u.year, u.month),
            };
            if later {
                continue;
            }
        }
        return Some(m.to_published(tz, &format!("meta:{key}")));
    }
    if let Some(v) = json_ld_date(scan, rules) {
        return Some(v.to_published(tz, "json_ld"));
    }
    if let Some(day) = url.and_then(|u| u.day) {
        let v = DateValue {
            day,
            time: None,
            offset: None,
        };
        return Some(v.to_published(tz, "url"));
    }
    None
}

/// Dates from meta tags, in rule order, with the key they came from.
fn meta_dates(scan: &Scan, rules: &MetaRules) -> Vec<(String, DateValue)> {
    let mut out = Vec::new();
    for key in &rules.meta_published {
        for content in scan.metas_named(key) {
            if let Some(v) = parse_first(content, rules) {
                let shown = scan
                    .metas
                    .iter()
                    .find(|m| &m.key == key)
                    .map(|_| original_case(key))
                    .unwrap_or_else(|| key.clone());
                out.push((shown, v));
            }
        }
    }
    out
}

/// The conventional spelling of well-known meta names for `published_from`.
fn original_case(key: &str) -> String {
    match key {
        "pubdate" => "PubDate".into(),
        "datepublished" => "datePublished".into(),
        other => other.to_string(),
    }
}

fn json_ld_date(scan: &Scan, rules: &MetaRules) -> Option<DateValue> {
    let mut stack: Vec<&serde_json::Value> = scan.json_ld.iter().collect();
    let mut budget = 10_000;
    while let Some(v) = stack.pop() {
        budget -= 1;
        if budget == 0 {
            break;
        }
        match v {
            serde_json::Value::Object(map) => {
                if let Some(serde_json::Value::String(s)) = map.get("datePublished") {
                    if let Some(d) = parse_first(s, rules) {
                        return Some(d);
                    }
                }
                stack.extend(map.values());
            }
            serde_json::Value::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    None
}
