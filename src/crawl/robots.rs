//! robots.txt per RFC 9309.
//!
//! - The group whose `user-agent` matches our product token (the User-Agent up to the
//!   first `/`, case-insensitive) applies; several matching groups are merged; else the
//!   `*` group; else everything is allowed.
//! - The longest matching `allow`/`disallow` pattern wins; on a tie `allow` wins.
//!   Patterns support `*` and a trailing `$`.
//! - A 4xx robots.txt means no restrictions; 5xx or an unreachable host means full
//!   disallow for the pass (the crawl re-reads it on the next pass).
//! - `Crawl-delay` (not in the RFC, but common on government sites) is read from the
//!   matching group; `Sitemap:` lines are global.

use std::time::Duration;

use url::Url;

/// Why a host's robots rules are what they are.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum RobotsSource {
    /// A robots.txt was read and parsed.
    Parsed,
    /// No robots.txt (4xx): everything is allowed.
    Unavailable(u16),
    /// 5xx or unreachable: nothing is allowed this pass.
    Unreachable(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    pattern: String,
}

/// The rules that apply to us on one host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Robots {
    pub source: RobotsSource,
    rules: Vec<Rule>,
    pub crawl_delay: Option<Duration>,
    pub sitemaps: Vec<String>,
}

/// The token robots.txt groups are matched against: `gazette/0.1 (+...)` → `gazette`.
pub fn product_token(user_agent: &str) -> String {
    user_agent
        .split(['/', ' '])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Robots {
    pub fn allow_all(status: u16) -> Self {
        Robots {
            source: RobotsSource::Unavailable(status),
            rules: Vec::new(),
            crawl_delay: None,
            sitemaps: Vec::new(),
        }
    }

    pub fn disallow_all(reason: impl Into<String>) -> Self {
        Robots {
            source: RobotsSource::Unreachable(reason.into()),
            rules: vec![Rule {
                allow: false,
                pattern: "/".into(),
            }],
            crawl_delay: None,
            sitemaps: Vec::new(),
        }
    }

    /// Parses a robots.txt body for the given User-Agent.
    pub fn parse(text: &str, user_agent: &str) -> Self {
        let token = product_token(user_agent);
        // (agents of the group, its rules, its crawl-delay)
        let mut groups: Vec<(Vec<String>, Vec<Rule>, Option<Duration>)> = Vec::new();
        let mut sitemaps = Vec::new();
        let mut in_agents = false;
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = value.trim();
            match key.as_str() {
                "user-agent" => {
                    if !in_agents || groups.is_empty() {
                        groups.push((Vec::new(), Vec::new(), None));
                    }
                    in_agents = true;
                    if let Some(g) = groups.last_mut() {
                        g.0.push(value.to_ascii_lowercase());
                    }
                }
                "allow" | "disallow" => {
                    in_agents = false;
                    if let Some(g) = groups.last_mut() {
                        if !value.is_empty() {
                            g.1.push(Rule {
                                allow: key == "allow",
                                pattern: value.to_string(),
                            });
                        }
                    }
                }
                "crawl-delay" => {
                    in_agents = false;
                    if let (Some(g), Ok(secs)) = (groups.last_mut(), value.parse::<f64>()) {
                        if secs.is_finite() && secs >= 0.0 {
                            g.2 = Some(Duration::from_secs_f64(secs.min(86_400.0)));
                        }
                    }
                }
                "sitemap" if !value.is_empty() => sitemaps.push(value.to_string()),
                _ => {}
            }
        }
        let matches_us = |agents: &Vec<String>| {
            agents.iter().any(|a| {
                a != "*" && !a.is_empty() && (token == *a || token.starts_with(a.as_str()))
            })
        };
        let mut chosen: Vec<_> = groups.iter().filter(|g| matches_us(&g.0)).collect();
        if chosen.is_empty() {
            chosen = groups
                .iter()
                .filter(|g| g.0.iter().any(|a| a == "*"))
                .collect();
        }
        Robots {
            source: RobotsSource::Parsed,
            rules: chosen.iter().flat_map(|g| g.1.iter().cloned()).collect(),
            crawl_delay: chosen.iter().filter_map(|g| g.2).max(),
            sitemaps,
        }
    }

    /// May `url` be fetched?
    pub fn allowed(&self, url: &Url) -> bool {
        if url.path() == "/robots.txt" {
            return true;
        }
        let mut target = url.path().to_string();
        if let Some(q) = url.query() {
            target.push('?');
            target.push_str(q);
        }
        let mut best: Option<(usize, bool)> = None;
        for rule in &self.rules {
            if pattern_matches(&rule.pattern, &target) {
                let len = rule.pattern.len();
                best = match best {
                    Some((l, a)) if l > len || (l == len && a) => Some((l, a)),
                    _ => Some((len, rule.allow)),
                };
            }
        }
        best.map_or(true, |(_, allow)| allow)
    }
}

/// Matches a robots pattern (`*` wildcard, `$` end anchor) against a path from its start.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p, true),
        None => (pattern, false),
    };
    // Percent-encoding differences are common; compare decoded forms of both.
    let pattern = decode_percent(pattern);
    let path = decode_percent(path);
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0usize;
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            if !path.starts_with(part) {
                return false;
            }
            pos = part.len();
            continue;
        }
        if i == parts.len() - 1 && anchored {
            return path.len() >= pos + part.len() && path.ends_with(part);
        }
        match path[pos..].find(part) {
            Some(found) => pos += found + part.len(),
            None => return false,
        }
    }
    !anchored || pos == path.len()
}

fn decode_percent(s: &str) -> String {
    if !s.contains('%') {
        return s.to_string();
    }
    let bytes: Vec<u8> = percent_decode(s.as_bytes());
    String::from_utf8(bytes).unwrap_or_else(|_| s.to_string())
}

fn percent_decode(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        if input[i] == b'%' && i + 2 < input.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(input[i + 1]), hex(input[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(input[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(path: &str) -> Url {
        Url::parse(&format!("http://a.gov.cn{path}")).unwrap()
    }

    #[test]
    fn our_group_wins_over_star() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /\n\nUser-agent: Gazette\nDisallow: /private/\nCrawl-delay: 2\n\nSitemap: http://a.gov.cn/sitemap.xml\n",
            "gazette/0.1 (+x)",
        );
        assert!(r.allowed(&url("/news/t1.html")));
        assert!(!r.allowed(&url("/private/x.html")));
        assert_eq!(r.crawl_delay, Some(Duration::from_secs(2)));
        assert_eq!(r.sitemaps, vec!["http://a.gov.cn/sitemap.xml"]);
        let other = Robots::parse("User-agent: *\nDisallow: /\n", "otherbot/1");
        assert!(!other.allowed(&url("/news/")));
        assert!(other.allowed(&url("/robots.txt")));
    }

    #[test]
    fn longest_match_wins_and_allow_wins_ties() {
        let r = Robots::parse(
            "User-agent: *\nDisallow: /a/\nAllow: /a/b/\nDisallow: /*.php$\nAllow: /x\nDisallow: /x\n",
            "gazette",
        );
        assert!(!r.allowed(&url("/a/c.html")));
        assert!(r.allowed(&url("/a/b/c.html")));
        assert!(!r.allowed(&url("/s/q.php")));
        assert!(r.allowed(&url("/s/q.php5")));
        assert!(r.allowed(&url("/x")));
    }

    #[test]
    fn grouped_agents_and_empty_disallow() {
        let r = Robots::parse(
            "User-agent: a\nUser-agent: gazette\nDisallow:\n\nUser-agent: *\nDisallow: /\n",
            "gazette/1",
        );
        assert!(r.allowed(&url("/anything")));
    }

    #[test]
    fn unreachable_disallows_everything() {
        assert!(!Robots::disallow_all("503").allowed(&url("/")));
        assert!(Robots::allow_all(404).allowed(&url("/x")));
    }
}
