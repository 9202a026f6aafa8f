//! Site-level fields.
//!
//! - site_name: `SiteName` meta → `og:site_name` → `application-name` → a 主办 / 主办单位
//!   line in the footer.
//! - site_id_code: `SiteIDCode` meta → 政府网站标识码 / 网站标识码 followed by the code in
//!   the page text (last occurrence, the footer).
//! - column: `ColumnName` meta → the last entry of the breadcrumb (`当前位置：首页 > 要闻 >
//!   正文` → 要闻) that is not the headline or a word like 正文.
//! - keywords: the `Keywords` meta split on `, ，; ；、` and spaces.
//! - description: the `Description` / `og:description` meta.
//! - canonical_url: `<link rel=canonical>` → `og:url`, made absolute against the base;
//!   a value pointing at the site root (a template default) is ignored.

use url::Url;

use super::dom::{collapse_ws, MarkKind, Scan};
use super::people::trim_punct;
use super::rules::MetaRules;
use super::title::key;

pub fn site_name(scan: &Scan, rules: &MetaRules) -> Option<String> {
    if let Some((_, v)) = scan.meta(&rules.meta_site_name) {
        return Some(collapse_ws(v));
    }
    for line in scan.lines.iter().rev().take(60) {
        if let Some(c) = rules.host_line.captures(&line.text) {
            let value = c.get(1).map_or("", |m| m.as_str());
            let value = trim_punct(value).to_string();
            if (2..=40).contains(&value.chars().count()) {
                return Some(value);
            }
        }
    }
    None
}

pub fn site_id(scan: &Scan, rules: &MetaRules) -> Option<String> {
    if let Some((_, v)) = scan.meta(&rules.meta_site_id) {
        let v = v.trim();
        if v.chars().all(|c| c.is_ascii_alphanumeric()) && v.len() >= 6 {
            return Some(v.to_string());
        }
    }
    scan.lines.iter().rev().find_map(|l| {
        if !rules.site_id_line.is_match(&l.text) {
            return None;
        }
        rules
            .site_id_line
            .captures(&l.text)
            .and_then(|c| c.get(1))
            .map(|m| m.as_str().to_string())
    })
}

pub fn column(scan: &Scan, title: Option<&str>, rules: &MetaRules) -> Option<String> {
    if let Some((_, v)) = scan.meta(&rules.meta_column) {
        return Some(collapse_ws(v));
    }
    let title_key = title.map(key);
    let mut texts: Vec<&str> = scan
        .marks
        .iter()
        .filter(|m| m.kind == MarkKind::Breadcrumb)
        .map(|m| m.text.as_str())
        .collect();
    // The first bytes of the words: a line starting with none of them is passed over
    // without comparing words (an empty word starts every line).
    let mut first_bytes = [false; 256];
    for w in &rules.breadcrumb_words {
        match w.as_bytes().first() {
            Some(&b) => first_bytes[usize::from(b)] = true,
            None => first_bytes = [true; 256],
        }
    }
    let any_line = rules.breadcrumb_words.iter().any(|w| w.is_empty());
    texts.extend(
        scan.lines
            .iter()
            .filter(|l| {
                let may_start = l
                    .text
                    .as_bytes()
                    .first()
                    .map_or(any_line, |&b| first_bytes[usize::from(b)]);
                may_start
                    && rules
                        .breadcrumb_words
                        .iter()
                        .any(|w| l.text.starts_with(w.as_str()))
            })
            .map(|l| l.text.as_str()),
    );
    for text in texts {
        if text.chars().count() > 200
            || !rules
                .breadcrumb_separators
                .iter()
                .any(|s| text.contains(s.as_str()))
        {
            continue;
        }
        // `… > 2007年第23号 字号：默认 大 超大 | 打印`: page furniture after the trail.
        let text = match rules.widgets.find(text) {
            Some(m) => &text[..m.start()],
            None => text,
        };
        let text = text.split(['|', '｜', '丨']).next().unwrap_or("");
        let mut parts: Vec<String> = vec![text.to_string()];
        for sep in &rules.breadcrumb_separators {
            parts = parts
                .iter()
                .flat_map(|p| {
                    p.split(sep.as_str())
                        .map(str::to_string)
                        .collect::<Vec<_>>()
                })
                .collect();
        }
        let entries: Vec<String> = parts
            .iter()
            .map(|p| {
                let mut p = p.trim();
                for w in &rules.breadcrumb_words {
                    if let Some(r) = p.strip_prefix(w.as_str()) {
                        p = r;
                    }
                }
                trim_punct(p).to_string()
            })
            .filter(|p| !p.is_empty())
            .filter(|p| !rules.breadcrumb_not.iter().any(|w| w == p))
            .filter(|p| title_key.as_ref().map_or(true, |t| &key(p) != t))
            .collect();
        if entries.len() >= 2 {
            if let Some(last) = entries.last() {
                if last.chars().count() <= 30 {
                    return Some(last.clone());
                }
            }
        }
    }
    None
}

pub fn keywords(scan: &Scan, rules: &MetaRules) -> Vec<String> {
    let Some((_, v)) = scan.meta(&rules.meta_keywords) else {
        return Vec::new();
    };
    let mut out: Vec<String> = Vec::new();
    for k in v.split(|c: char| matches!(c, ',' | '，' | ';' | '；' | '、') || c.is_whitespace())
    {
        let k = k.trim();
        if !k.is_empty() && !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out
}

pub fn description(scan: &Scan, rules: &MetaRules) -> Option<String> {
    scan.meta(&rules.meta_description)
        .map(|(_, v)| collapse_ws(v))
}

pub fn canonical(scan: &Scan, base: Option<&Url>) -> Option<String> {
    let candidates = [
        scan.canonical.clone(),
        scan.metas_named("og:url").next().map(str::to_string),
    ];
    for c in candidates.into_iter().flatten() {
        let c = c.trim();
        if c.is_empty() {
            continue;
        }
        let parsed = match Url::parse(c) {
            Ok(u) => Some(u),
            Err(_) => {
                // `www.sohu.com/a/1_2`: a host without a scheme.
                let host_like = c
                    .split('/')
                    .next()
                    .is_some_and(|h| h.contains('.') && !h.starts_with('.'));
                if host_like && !c.starts_with('/') {
                    let scheme = base.map_or("https", |b| b.scheme());
                    Url::parse(&format!("{scheme}://{c}")).ok()
                } else {
                    base.and_then(|b| b.join(c).ok())
                }
            }
        };
        if let Some(u) = parsed {
            if !matches!(u.scheme(), "http" | "https") {
                continue;
            }
            if u.path() == "/" && u.query().is_none() {
                continue;
            }
            return Some(u.to_string());
        }
    }
    None
}
