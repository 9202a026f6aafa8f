//! Configuration: raw file structs (all optional, unknown keys rejected) resolved into
//! validated settings with defaults.
//!
//! The file is TOML (`config/gazette.toml` documents every key). [`RawConfig`] mirrors
//! the file exactly, with every field optional so that a config holding nothing but
//! `[[sites]]` with `name` and `start_urls` is valid; [`Config::resolve`] fills defaults,
//! compiles regexes once and checks everything, with errors naming the site and key.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::FixedOffset;
use regex::Regex;
use serde::Deserialize;
use url::Url;

use crate::fetch::host::Politeness;
use crate::fetch::retry::RetryPolicy;
use crate::fetch::FetchOptions;

/// Query parameters dropped from every discovered URL unless the config names others.
pub const DEFAULT_TRACKING_PARAMS: &[&str] = &[
    "from",
    "spm",
    "utm_*",
    "isappinstalled",
    "share_token",
    "wxshare_count",
    "timestamp",
    "_t",
    "scene",
    "clicktime",
    "enterid",
];

/// A configuration that cannot be used, with what to fix.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// TOML syntax errors and unknown keys (toml's message names the key and line).
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    #[error("config: {0}")]
    Invalid(String),
}

/// The file as written. Every key is optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub archive_dir: Option<PathBuf>,
    pub state: Option<PathBuf>,
    pub rules_dir: Option<PathBuf>,
    pub keep_raw: Option<bool>,
    pub user_agent: Option<String>,
    pub connect_timeout_secs: Option<f64>,
    pub timeout_secs: Option<f64>,
    pub max_redirects: Option<usize>,
    pub max_page_bytes: Option<usize>,
    pub concurrency: Option<usize>,
    pub per_host_concurrency: Option<usize>,
    pub delay_ms: Option<u64>,
    pub max_tries: Option<u32>,
    pub backoff_base_ms: Option<u64>,
    pub backoff_max_ms: Option<u64>,
    pub retry_after_cap_secs: Option<u64>,
    pub crawl_delay_cap_secs: Option<u64>,
    pub max_pages: Option<usize>,
    pub max_depth: Option<u32>,
    pub max_url_length: Option<usize>,
    pub max_query_variants: Option<usize>,
    pub max_repeated_segments: Option<usize>,
    pub tracking_params: Option<Vec<String>>,
    pub timezone: Option<String>,
    pub schedule: Option<String>,
    pub sitemaps: Option<bool>,
    pub respect_robots: Option<bool>,
    /// `[scheduler]`: jitter, backoff, stale-site days (see `gazette::schedule`).
    #[serde(default)]
    pub scheduler: crate::schedule::SchedulerConfig,
    #[serde(default)]
    pub sites: Vec<RawSite>,
}

/// One `[[sites]]` table as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSite {
    pub name: Option<String>,
    pub start_urls: Option<Vec<String>>,
    pub allow: Option<Vec<String>>,
    pub deny: Option<Vec<String>>,
    pub article: Option<Vec<String>>,
    pub feeds: Option<Vec<String>>,
    pub max_pages: Option<usize>,
    pub max_depth: Option<u32>,
    pub delay_ms: Option<u64>,
    pub concurrency: Option<usize>,
    pub timezone: Option<String>,
    pub charset: Option<String>,
    pub selectors: Option<RawSelectors>,
    pub schedule: Option<String>,
    pub sitemaps: Option<bool>,
    pub enabled: Option<bool>,
}

/// Per-site CSS selectors that outrank the built-in heuristics.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct RawSelectors {
    pub content: Option<String>,
    pub title: Option<String>,
    pub date: Option<String>,
}

/// Resolved, validated settings for a run.
#[derive(Debug, Clone)]
pub struct Config {
    pub archive_dir: PathBuf,
    /// The SQLite crawl state; `None` = `<archive_dir>/.gazette/state.sqlite`.
    pub state: Option<PathBuf>,
    pub rules_dir: Option<PathBuf>,
    /// Keep every fetched page (gzip) in the archive for `gazette reextract`.
    pub keep_raw: bool,
    pub fetch: FetchOptions,
    pub politeness: Politeness,
    pub retry: RetryPolicy,
    pub crawl_delay_cap: Duration,
    pub limits: TrapLimits,
    pub tracking_params: Vec<String>,
    pub respect_robots: bool,
    pub default_schedule: Option<String>,
    pub scheduler: crate::schedule::SchedulerSettings,
    pub sites: Vec<Site>,
}

/// Bounds that keep a crawl out of infinite URL spaces.
#[derive(Debug, Clone)]
pub struct TrapLimits {
    pub max_url_length: usize,
    /// How many distinct query strings one path may be fetched with.
    pub max_query_variants: usize,
    /// How often one path segment may repeat in a URL (`/a/b/a/b/a/`).
    pub max_repeated_segments: usize,
}

/// One site, resolved.
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub start_urls: Vec<Url>,
    /// Empty = default scope (the start URLs' hosts).
    pub allow: Vec<Regex>,
    pub deny: Vec<Regex>,
    /// Empty = detect articles by URL shape and content.
    pub article: Vec<Regex>,
    /// Extra sitemap / RSS / Atom URLs.
    pub feeds: Vec<Url>,
    pub max_pages: usize,
    pub max_depth: u32,
    pub delay: Duration,
    pub concurrency: usize,
    pub timezone: FixedOffset,
    pub charset: Option<&'static encoding_rs::Encoding>,
    pub selectors: RawSelectors,
    pub schedule: Option<String>,
    pub sitemaps: bool,
    pub enabled: bool,
}

impl Site {
    /// The hosts (`host[:port]`) of the start URLs: the default scope.
    pub fn start_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = self.start_urls.iter().map(host_port).collect();
        hosts.sort();
        hosts.dedup();
        hosts
    }
}

/// `host[:port]` of a URL, lower case, default ports omitted.
pub fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

impl RawConfig {
    /// Parses TOML text; `origin` names the file in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: origin.to_string(),
            message: e.to_string().trim_end().to_string(),
        })
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }
}

fn parse_timezone(text: &str, what: &str) -> Result<FixedOffset, ConfigError> {
    let bad = || {
        ConfigError::Invalid(format!(
            "{what}: timezone {text:?} is not an offset like \"+08:00\""
        ))
    };
    let t = text.trim();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = rest.split_once(':').unwrap_or((rest, "0"));
    let h: i32 = h.parse().map_err(|_| bad())?;
    let m: i32 = m.parse().map_err(|_| bad())?;
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(bad)
}

/// Seconds (fractions allowed) as a duration; negative and NaN become zero.
fn secs_f64(secs: f64) -> Duration {
    if secs.is_finite() && secs > 0.0 {
        Duration::from_secs_f64(secs.min(86_400.0))
    } else {
        Duration::ZERO
    }
}

fn compile_all(patterns: &[String], what: &str) -> Result<Vec<Regex>, ConfigError> {
    patterns
        .iter()
        .map(|p| {
            Regex::new(p).map_err(|e| ConfigError::Invalid(format!("{what}: bad regex {p:?}: {e}")))
        })
        .collect()
}

fn parse_urls(urls: &[String], what: &str) -> Result<Vec<Url>, ConfigError> {
    urls.iter()
        .map(|u| {
            let url = Url::parse(u.trim())
                .map_err(|e| ConfigError::Invalid(format!("{what}: {u:?} is not a URL: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError::Invalid(format!(
                    "{what}: {u:?} is not an http(s) URL"
                )));
            }
            Ok(url)
        })
        .collect()
}

impl Config {
    /// Loads and resolves a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::resolve(RawConfig::load(path)?)
    }

    /// Fills defaults and validates.
    pub fn resolve(raw: RawConfig) -> Result<Self, ConfigError> {
        let defaults = FetchOptions::default();
        let fetch = FetchOptions {
            user_agent: raw
                .user_agent
                .clone()
                .unwrap_or_else(|| crate::DEFAULT_USER_AGENT.to_string()),
            connect_timeout: raw
                .connect_timeout_secs
                .map(secs_f64)
                .unwrap_or(defaults.connect_timeout),
            timeout: raw.timeout_secs.map(secs_f64).unwrap_or(defaults.timeout),
            max_redirects: raw.max_redirects.unwrap_or(defaults.max_redirects),
            max_bytes: raw.max_page_bytes.unwrap_or(defaults.max_bytes),
            ..defaults
        };
        if fetch.user_agent.trim().is_empty() {
            return Err(ConfigError::Invalid("user_agent must not be empty".into()));
        }
        let politeness = Politeness {
            global_concurrency: raw.concurrency.unwrap_or(16).max(1),
            per_host_concurrency: raw.per_host_concurrency.unwrap_or(2).max(1),
            delay: Duration::from_millis(raw.delay_ms.unwrap_or(1000)),
        };
        let retry = RetryPolicy {
            max_tries: raw.max_tries.unwrap_or(4).max(1),
            base: Duration::from_millis(raw.backoff_base_ms.unwrap_or(500)),
            max_backoff: Duration::from_millis(raw.backoff_max_ms.unwrap_or(30_000)),
            retry_after_cap: Duration::from_secs(raw.retry_after_cap_secs.unwrap_or(120)),
        };
        let timezone = match &raw.timezone {
            Some(t) => parse_timezone(t, "timezone")?,
            None => parse_timezone(crate::DEFAULT_TIMEZONE, "timezone")?,
        };
        let max_pages = raw.max_pages.unwrap_or(5000);
        let max_depth = raw.max_depth.unwrap_or(5);
        let sitemaps = raw.sitemaps.unwrap_or(true);

        let mut sites = Vec::new();
        for (i, s) in raw.sites.iter().enumerate() {
            let name = s
                .name
                .clone()
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| ConfigError::Invalid(format!("sites[{i}]: `name` is required")))?;
            if sites.iter().any(|x: &Site| x.name == name) {
                return Err(ConfigError::Invalid(format!(
                    "sites: two sites are named {name:?}; names must be unique"
                )));
            }
            let what = |key: &str| format!("site {name:?} `{key}`");
            let start = s.start_urls.clone().unwrap_or_default();
            if start.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "site {name:?}: `start_urls` must list at least one column or home page"
                )));
            }
            let charset = match &s.charset {
                Some(label) => Some(
                    encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
                        ConfigError::Invalid(format!(
                            "{}: unknown encoding {label:?} (try \"gbk\", \"gb18030\", \"big5\", \"utf-8\")",
                            what("charset")
                        ))
                    })?,
                ),
                None => None,
            };
            let selectors = s.selectors.clone().unwrap_or_default();
            for (key, sel) in [
                ("selectors.content", &selectors.content),
                ("selectors.title", &selectors.title),
                ("selectors.date", &selectors.date),
            ] {
                if let Some(sel) = sel {
                    scraper::Selector::parse(sel).map_err(|e| {
                        ConfigError::Invalid(format!(
                            "{}: bad CSS selector {sel:?}: {e}",
                            what(key)
                        ))
                    })?;
                }
            }
            sites.push(Site {
                start_urls: parse_urls(&start, &what("start_urls"))?,
                allow: compile_all(&s.allow.clone().unwrap_or_default(), &what("allow"))?,
                deny: compile_all(&s.deny.clone().unwrap_or_default(), &what("deny"))?,
                article: compile_all(&s.article.clone().unwrap_or_default(), &what("article"))?,
                feeds: parse_urls(&s.feeds.clone().unwrap_or_default(), &what("feeds"))?,
                max_pages: s.max_pages.unwrap_or(max_pages).max(1),
                max_depth: s.max_depth.unwrap_or(max_depth),
                delay: s
                    .delay_ms
                    .map(Duration::from_millis)
                    .unwrap_or(politeness.delay),
                concurrency: s
                    .concurrency
                    .unwrap_or(politeness.per_host_concurrency)
                    .max(1),
                timezone: match &s.timezone {
                    Some(t) => parse_timezone(t, &what("timezone"))?,
                    None => timezone,
                },
                charset,
                selectors,
                schedule: {
                    let text = s.schedule.clone().or_else(|| raw.schedule.clone());
                    // A bad schedule is a config error now, not a surprise at run time.
                    if let Some(t) = &text {
                        crate::schedule::Schedule::parse(t).map_err(|e| {
                            ConfigError::Invalid(format!("{}: {e}", what("schedule")))
                        })?;
                    }
                    text
                },
                sitemaps: s.sitemaps.unwrap_or(sitemaps),
                enabled: s.enabled.unwrap_or(true),
                name,
            });
        }

        Ok(Config {
            archive_dir: raw
                .archive_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(crate::DEFAULT_ARCHIVE_DIR)),
            state: raw.state.clone(),
            rules_dir: raw.rules_dir.clone(),
            keep_raw: raw.keep_raw.unwrap_or(false),
            fetch,
            politeness,
            retry,
            crawl_delay_cap: Duration::from_secs(raw.crawl_delay_cap_secs.unwrap_or(30)),
            limits: TrapLimits {
                max_url_length: raw.max_url_length.unwrap_or(512),
                max_query_variants: raw.max_query_variants.unwrap_or(30),
                max_repeated_segments: raw.max_repeated_segments.unwrap_or(2),
            },
            tracking_params: raw.tracking_params.clone().unwrap_or_else(|| {
                DEFAULT_TRACKING_PARAMS
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            }),
            respect_robots: raw.respect_robots.unwrap_or(true),
            default_schedule: raw.schedule.clone(),
            scheduler: raw
                .scheduler
                .resolve()
                .map_err(|e| ConfigError::Invalid(e.to_string()))?,
            sites,
        })
    }

    /// Where the crawl state lives.
    pub fn state_path(&self) -> PathBuf {
        self.state
            .clone()
            .unwrap_or_else(|| self.archive_dir.join(".gazette").join("state.sqlite"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_gets_defaults() {
        let raw = RawConfig::parse(
            "[[sites]]\nname = \"yaan\"\nstart_urls = [\"https://www.yaan.gov.cn/\"]\n",
            "test",
        )
        .unwrap();
        let config = Config::resolve(raw).unwrap();
        let site = &config.sites[0];
        assert_eq!(site.concurrency, 2);
        assert_eq!(site.start_hosts(), vec!["www.yaan.gov.cn".to_string()]);
        assert_eq!(config.politeness.per_host_concurrency, 2);
        assert!(config.state_path().ends_with(".gazette/state.sqlite"));
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = RawConfig::parse(
            "delay_msec = 3\n[[sites]]\nname = \"a\"\nstart_urls = [\"http://a.gov.cn/\"]\n",
            "test",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("delay_msec"), "{err}");
        let err = RawConfig::parse(
            "[[sites]]\nname = \"a\"\nstart_url = [\"http://a.gov.cn/\"]\n",
            "test",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("start_url"), "{err}");
    }

    #[test]
    fn bad_values_name_the_site_and_key() {
        let raw = RawConfig::parse(
            "[[sites]]\nname = \"a\"\nstart_urls = [\"http://a.gov.cn/\"]\ndeny = [\"(\"]\n",
            "test",
        )
        .unwrap();
        let err = Config::resolve(raw).unwrap_err().to_string();
        assert!(err.contains("\"a\"") && err.contains("deny"), "{err}");
    }

    #[test]
    fn the_shipped_config_parses() {
        let text = include_str!("../config/gazette.toml");
        let config = Config::resolve(RawConfig::parse(text, "config/gazette.toml").unwrap())
            .expect("shipped config resolves");
        assert!(config.sites.iter().any(|s| s.name.contains("yaan")));
    }
}
