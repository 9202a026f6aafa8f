//! Recognising anti-bot walls: JavaScript challenges (瑞数, 加速乐, WZWS, Cloudflare ...)
//! and firewall refusal pages, which must be reported as "blocked", never archived as
//! pages. The patterns are data (`config/rules/antibot.toml`).

use std::sync::{Arc, OnceLock};

use serde::Deserialize;

use crate::rules::{RuleSource, RulesError};

/// The built-in wall table.
pub const BUILTIN_ANTIBOT: &str = include_str!("../../config/rules/antibot.toml");

/// A recognised wall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wall {
    /// Short machine name: `rivers`, `jiasule`, `wzws`, `cloudflare`, `access_denied` ...
    pub kind: String,
    /// What it is, for people.
    pub detail: String,
}

impl std::fmt::Display for Wall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.detail, self.kind)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WallFile {
    #[serde(default)]
    wall: Vec<WallRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct WallRule {
    kind: String,
    detail: String,
    #[serde(default)]
    statuses: Vec<u16>,
    max_bytes: usize,
    #[serde(default)]
    all: Vec<String>,
    #[serde(default)]
    any: Vec<String>,
}

impl WallRule {
    fn needs_text(&self) -> bool {
        self.all.iter().chain(&self.any).any(|m| !m.is_ascii())
    }

    fn matches(&self, status: u16, body: &[u8], text: &dyn Fn() -> Arc<str>) -> bool {
        if !self.statuses.is_empty() && !self.statuses.contains(&status) {
            return false;
        }
        if body.len() > self.max_bytes {
            return false;
        }
        let contains = |marker: &String| {
            if marker.is_ascii() {
                contains_bytes(body, marker.as_bytes())
            } else {
                text().contains(marker.as_str())
            }
        };
        self.all.iter().all(contains) && (self.any.is_empty() || self.any.iter().any(contains))
    }
}

/// The compiled wall table.
#[derive(Debug, Clone, Default)]
pub struct WallRules {
    rules: Vec<WallRule>,
    /// The largest `max_bytes` of a rule that needs decoded text (bounds decoding work).
    text_limit: usize,
}

impl WallRules {
    /// The built-in table.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::from_sources(&[RuleSource {
            name: "built-in antibot.toml".into(),
            text: BUILTIN_ANTIBOT.into(),
        }])
    }

    /// Built-in and user tables, in order (user walls are added after the built-in ones).
    pub fn from_sources(sources: &[RuleSource]) -> Result<Self, RulesError> {
        let mut rules = Vec::new();
        for source in sources {
            let file: WallFile = toml::from_str(&source.text).map_err(|e| RulesError::Invalid {
                file: source.name.clone(),
                message: e.to_string(),
            })?;
            for rule in file.wall {
                if rule.all.is_empty() && rule.any.is_empty() {
                    return Err(RulesError::Invalid {
                        file: source.name.clone(),
                        message: format!(
                            "wall {:?} has neither `all` nor `any` strings: it would match every short page",
                            rule.kind
                        ),
                    });
                }
                if rule.all.iter().chain(&rule.any).any(|m| m.is_empty()) {
                    return Err(RulesError::Invalid {
                        file: source.name.clone(),
                        message: format!("wall {:?} has an empty string", rule.kind),
                    });
                }
                rules.push(rule);
            }
        }
        let text_limit = rules
            .iter()
            .filter(|r| r.needs_text())
            .map(|r| r.max_bytes)
            .max()
            .unwrap_or(0);
        Ok(WallRules { rules, text_limit })
    }

    /// The wall this response is, if it is one.
    pub fn detect(&self, status: u16, body: &[u8]) -> Option<Wall> {
        let decoded: OnceLock<Arc<str>> = OnceLock::new();
        let text = || {
            decoded
                .get_or_init(|| {
                    if body.len() > self.text_limit {
                        return Arc::from("");
                    }
                    Arc::from(crate::decode::decode(body, None).text)
                })
                .clone()
        };
        self.rules
            .iter()
            .find(|rule| rule.matches(status, body, &text))
            .map(|rule| Wall {
                kind: rule.kind.clone(),
                detail: rule.detail.clone(),
            })
    }
}

/// The built-in table, compiled once.
pub fn builtin_rules() -> &'static WallRules {
    static RULES: OnceLock<WallRules> = OnceLock::new();
    RULES.get_or_init(|| {
        WallRules::builtin().unwrap_or_else(|e| {
            // Covered by a unit test; never silently ignore a broken table in release.
            tracing::error!("built-in antibot.toml is invalid: {e}");
            WallRules::default()
        })
    })
}

/// Recognises a wall with the built-in table.
pub fn detect_wall(status: u16, body: &[u8]) -> Option<Wall> {
    builtin_rules().detect(status, body)
}

fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    crate::decode::sniff::find(hay, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(status: u16, body: &[u8]) -> Option<String> {
        detect_wall(status, body).map(|w| w.kind)
    }

    #[test]
    fn builtin_table_compiles() {
        let rules = WallRules::builtin().expect("antibot.toml");
        assert!(rules.rules.len() >= 8);
        assert!(rules.text_limit > 0);
    }

    #[test]
    fn rivers_412_stub() {
        let stub = br#"<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<meta id="Xq7mPzQ" content="aBcDeF0123456789.zYx">
<script type="text/javascript" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=12345;$_ts.cd="qqqq";</script>
<script type="text/javascript" charset="utf-8" src="/abc/def.js" r='m'></script></head><body></body></html>"#;
        assert_eq!(kind(412, stub).as_deref(), Some("rivers"));
        assert_eq!(kind(202, stub).as_deref(), Some("rivers"));
        assert_eq!(kind(200, stub).as_deref(), Some("rivers"));
    }

    #[test]
    fn rivers_marker_in_long_real_page_is_not_a_wall() {
        let mut page = b"<html><head><script>$_ts=window['$_ts'];</script></head><body>".to_vec();
        for _ in 0..400 {
            page.extend_from_slice("<p>本市今年以来持续推进老旧小区改造工作。</p>".as_bytes());
        }
        page.extend_from_slice(b"</body></html>");
        assert_eq!(kind(200, &page), None);
    }

    #[test]
    fn jiasule_521() {
        let stub = b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')+('a')+('n')+('c')+('e')+('_')+('s')+('=')+(-~[]+'');location.href=location.pathname+location.search</script>";
        assert_eq!(kind(521, stub).as_deref(), Some("jiasule"));
        let second = b"<script>var go=function(){};go({\"tn\":\"__jsl_clearance_s\",\"vt\":\"3600\"})</script>";
        assert_eq!(kind(521, second).as_deref(), Some("jiasule"));
        assert_eq!(kind(200, second).as_deref(), Some("jiasule"));
    }

    #[test]
    fn wzws() {
        let stub = b"<html><head><script>var wzwschallenge=\"RANDOMSTR\";var wzwschallengex=\"ABC\";var template=5;var encoderchars=\"ABC\";</script></head><body></body></html>";
        assert_eq!(kind(200, stub).as_deref(), Some("wzws"));
        assert_eq!(
            kind(200, b"<a href=\"/?wzws_cid=deadbeef\">x</a>").as_deref(),
            Some("wzws")
        );
    }

    #[test]
    fn cloudflare() {
        let stub = b"<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={cvId:'3'};</script></body></html>";
        assert_eq!(kind(503, stub).as_deref(), Some("cloudflare"));
        assert_eq!(kind(403, stub).as_deref(), Some("cloudflare"));
        assert_eq!(kind(200, stub).as_deref(), Some("cloudflare"));
    }

    #[test]
    fn generic_refusal_in_utf8_and_gbk() {
        let page = "<html><head><title>安全提示</title></head><body><h1>您的访问被拒绝</h1><p>请稍后再试，或联系网站管理员。</p></body></html>";
        assert_eq!(kind(403, page.as_bytes()).as_deref(), Some("access_denied"));
        let (gbk, _, _) = encoding_rs::GB18030.encode(page);
        assert_eq!(kind(200, &gbk).as_deref(), Some("access_denied"));
        let check = "<html><body><div>访问异常，请完成安全验证后继续访问</div></body></html>";
        assert_eq!(
            kind(200, check.as_bytes()).as_deref(),
            Some("access_denied")
        );
    }

    #[test]
    fn f5_rejection() {
        let page = b"<html><head><title>Request Rejected</title></head><body>The requested URL was rejected. Please consult with your administrator.<br><br>Your support ID is: 1234567890</body></html>";
        assert_eq!(kind(200, page).as_deref(), Some("f5_asm"));
    }

    #[test]
    fn long_article_mentioning_refusal_is_not_a_wall() {
        let mut page = "<html><body><h1>关于开展网络安全验证工作的通知</h1>".to_string();
        for _ in 0..300 {
            page.push_str("<p>各单位要做好访问控制和安全验证工作，防止访问异常。</p>");
        }
        page.push_str("</body></html>");
        assert_eq!(kind(200, page.as_bytes()), None);
    }

    #[test]
    fn ordinary_pages_and_errors_are_not_walls() {
        assert_eq!(kind(200, b"<html><body><p>hello</p></body></html>"), None);
        assert_eq!(kind(404, b"<html><body>404 Not Found</body></html>"), None);
        assert_eq!(kind(412, b""), None);
        assert_eq!(kind(521, b""), None);
    }

    #[test]
    fn user_tables_are_validated() {
        let bad = RuleSource {
            name: "mine.toml".into(),
            text: "[[wall]]\nkind='x'\ndetail='y'\nmax_bytes=10\n".into(),
        };
        let err = WallRules::from_sources(&[bad]).unwrap_err().to_string();
        assert!(
            err.contains("mine.toml") && err.contains("neither"),
            "{err}"
        );
        let extra = RuleSource {
            name: "mine.toml".into(),
            text: "[[wall]]\nkind='mywaf'\ndetail='my firewall'\nmax_bytes=1000\nany=['blocked-by-mywaf']\n".into(),
        };
        let rules = WallRules::from_sources(&[extra]).unwrap();
        assert_eq!(
            rules
                .detect(200, b"<p>blocked-by-mywaf</p>")
                .map(|w| w.kind)
                .as_deref(),
            Some("mywaf")
        );
    }
}
