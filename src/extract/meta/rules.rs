//! `config/rules/meta.toml`, parsed and compiled once.

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::Regex;
use serde::Deserialize;

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
    pub hint_title: Vec<String>,
    pub hint_title_not: Vec<String>,
    pub hint_source: Vec<String>,
    pub hint_author: Vec<String>,
    pub hint_date: Vec<String>,
    pub hint_breadcrumb: Vec<String>,
    pub breadcrumb_words: Vec<String>,
    pub breadcrumb_separators: Vec<String>,
    pub breadcrumb_not: Vec<String>,
    pub title_separators: Vec<String>,
    pub title_site_words: Vec<String>,
    pub not_title: Vec<String>,
    /// Role words, longest first.
    pub role_prefixes: Vec<String>,
    pub role_suffixes: Vec<String>,
    pub org_suffixes: Vec<String>,
    pub not_name: Vec<String>,
    pub affiliation_starts: Vec<String>,
    pub self_outlets: Vec<String>,
    pub simplified_only: HashSet<char>,
    pub traditional_only: HashSet<char>,
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
        let labels = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(label_pairs.iter().map(|(w, _)| w.as_str()))
            .map_err(|e| invalid(&file, format!("labels: {e}")))?;
        let widgets = AhoCorasickBuilder::new()
            .match_kind(MatchKind::LeftmostLongest)
            .build(l.widget.iter().filter(|w| !w.is_empty()))
            .map_err(|e| invalid(&file, format!("labels.widget: {e}")))?;

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
        let simplified_only = simplified.difference(&traditional).copied().collect();
        let traditional_only = traditional.difference(&simplified).copied().collect();

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
            hint_title: lower(&h.title),
            hint_title_not: lower(&h.title_not),
            hint_source: lower(&h.source),
            hint_author: lower(&h.author),
            hint_date: lower(&h.date),
            hint_breadcrumb: lower(&h.breadcrumb),
            breadcrumb_words: h.breadcrumb_words.clone(),
            breadcrumb_separators: h.breadcrumb_separators.clone(),
            breadcrumb_not: h.breadcrumb_not.clone(),
            title_separators: all.title.separators.clone(),
            title_site_words: all.title.site_words.clone(),
            not_title: all.title.not_title.clone(),
            role_prefixes: longest_first(n.role_prefixes.clone()),
            role_suffixes: longest_first(n.role_suffixes.clone()),
            org_suffixes: longest_first(n.org_suffixes.clone()),
            not_name: n.not_name.clone(),
            affiliation_starts: n.affiliation_starts.clone(),
            self_outlets: n.self_outlets.clone(),
            simplified_only,
            traditional_only,
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
