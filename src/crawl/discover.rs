//! Discovery: links, pagination, canonical URLs, sitemaps and feeds, URL normalisation
//! and trap bounds.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::OnceLock;

use regex::Regex;
use scraper::Selector;
use serde::Deserialize;
use url::Url;

use crate::config::TrapLimits;
use crate::extract::parse::parse_document;

/// The built-in crawl lexicon (`config/rules/crawl.toml`).
pub const BUILTIN_CRAWL_RULES: &str = include_str!("../../config/rules/crawl.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCrawlRules {
    #[serde(default)]
    next_page_words: Vec<String>,
    #[serde(default)]
    page_params: Vec<String>,
    #[serde(default)]
    article_urls: Vec<String>,
}

/// Compiled crawl rules: next-page words, page parameters, article URL shapes.
#[derive(Debug)]
pub struct CrawlRules {
    next_page_words: HashSet<String>,
    page_params: HashSet<String>,
    article_urls: Vec<Regex>,
    create_page_html: Regex,
    index_n: Regex,
}

impl CrawlRules {
    /// Compiles the built-in rules extended by `extra` TOML texts (name, text).
    pub fn compile(extra: &[(String, String)]) -> Result<Self, String> {
        let mut sources = vec![(
            "built-in crawl.toml".to_string(),
            BUILTIN_CRAWL_RULES.to_string(),
        )];
        sources.extend(extra.iter().cloned());
        let mut rules = CrawlRules {
            next_page_words: HashSet::new(),
            page_params: HashSet::new(),
            article_urls: Vec::new(),
            create_page_html: Regex::new(
                r#"createPageHTML\(\s*['"]?(\d+)['"]?\s*,\s*['"]?(\d+)['"]?\s*,\s*['"]([\w-]+)['"]\s*,\s*['"](\w+)['"]"#,
            )
            .map_err(|e| e.to_string())?,
            index_n: Regex::new(r"^index(_(\d+))?\.(s?html?)$").map_err(|e| e.to_string())?,
        };
        for (name, text) in sources {
            let raw: RawCrawlRules =
                toml::from_str(&text).map_err(|e| format!("rules file {name}: {e}"))?;
            rules
                .next_page_words
                .extend(raw.next_page_words.iter().map(|w| w.trim().to_lowercase()));
            rules
                .page_params
                .extend(raw.page_params.iter().map(|w| w.to_ascii_lowercase()));
            for p in raw.article_urls {
                rules.article_urls.push(
                    Regex::new(&p)
                        .map_err(|e| format!("rules file {name}: bad regex {p:?}: {e}"))?,
                );
            }
        }
        Ok(rules)
    }

    /// The built-in rules, compiled once per process.
    pub fn builtin() -> &'static CrawlRules {
        static RULES: OnceLock<CrawlRules> = OnceLock::new();
        RULES.get_or_init(|| CrawlRules::compile(&[]).expect("built-in crawl rules compile"))
    }

    /// Does the URL have the shape of an article page?
    pub fn looks_like_article(&self, url: &Url) -> bool {
        let s = url.as_str();
        self.article_urls.iter().any(|r| r.is_match(s))
    }
}

/// Drops fragments and tracking parameters; the `url` crate already lower-cases hosts,
/// drops default ports and resolves dot segments.
#[derive(Debug, Clone)]
pub struct UrlNormalizer {
    exact: HashSet<String>,
    prefixes: Vec<String>,
}

impl UrlNormalizer {
    pub fn new(tracking_params: &[String]) -> Self {
        let mut exact = HashSet::new();
        let mut prefixes = Vec::new();
        for p in tracking_params {
            let p = p.to_ascii_lowercase();
            match p.strip_suffix('*') {
                Some(prefix) => prefixes.push(prefix.to_string()),
                None => {
                    exact.insert(p);
                }
            }
        }
        UrlNormalizer { exact, prefixes }
    }

    fn is_tracking(&self, key: &str) -> bool {
        let k = key.to_ascii_lowercase();
        self.exact.contains(&k) || self.prefixes.iter().any(|p| k.starts_with(p))
    }

    /// The normal form of an http(s) URL, or `None` for other schemes.
    pub fn normalize(&self, mut url: Url) -> Option<Url> {
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
            return None;
        }
        url.set_fragment(None);
        if let Some(query) = url.query() {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.is_empty())
                .filter(|pair| {
                    let key = pair.split('=').next().unwrap_or("");
                    !self.is_tracking(key)
                })
                .collect();
            if kept.is_empty() {
                url.set_query(None);
            } else {
                let q = kept.join("&");
                url.set_query(Some(&q));
            }
        }
        if url.path().is_empty() {
            url.set_path("/");
        }
        Some(url)
    }
}

/// What a page links to.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// Every distinct normalised link, in page order (pagination included).
    pub links: Vec<Url>,
    /// Links to other pages of the same list (next-page links, `index_N.html` in the
    /// same folder, `?page=N` on the same path): paging, which a re-crawl stops early.
    pub next_pages: Vec<Url>,
    /// `<link rel="canonical">`, normalised.
    pub canonical: Option<Url>,
}

fn selector(css: &str) -> Selector {
    Selector::parse(css).expect("static selector")
}

/// Finds the links of an HTML page; `page_url` is where it was fetched from (after
/// redirects).
pub fn discover_links(
    html: &str,
    page_url: &Url,
    norm: &UrlNormalizer,
    rules: &CrawlRules,
) -> Links {
    static SELECTORS: OnceLock<(Selector, Selector, Selector)> = OnceLock::new();
    let (base_sel, a_sel, canon_sel) = SELECTORS.get_or_init(|| {
        (
            selector("base[href]"),
            selector("a[href], area[href], frame[src], iframe[src]"),
            selector("link[rel=canonical][href]"),
        )
    });
    let doc = parse_document(html);
    let base = doc
        .select(base_sel)
        .next()
        .and_then(|b| b.value().attr("href"))
        .and_then(|h| page_url.join(h.trim()).ok())
        .unwrap_or_else(|| page_url.clone());

    let mut out = Links::default();
    let mut seen = HashSet::new();
    let mut add = |url: Url, next: bool, out: &mut Links| {
        if next && !out.next_pages.contains(&url) {
            out.next_pages.push(url.clone());
        }
        if seen.insert(url.clone()) {
            out.links.push(url);
        }
    };
    for a in doc.select(a_sel) {
        let href = a
            .value()
            .attr("href")
            .or_else(|| a.value().attr("src"))
            .unwrap_or("");
        let href = href.trim();
        if href.is_empty() || href.starts_with('#') {
            continue;
        }
        let lower = href.get(..11).unwrap_or(href).to_ascii_lowercase();
        if lower.starts_with("javascript:")
            || lower.starts_with("mailto:")
            || lower.starts_with("tel:")
        {
            continue;
        }
        let Some(url) = base.join(href).ok().and_then(|u| norm.normalize(u)) else {
            continue;
        };
        let text: String = a.text().collect::<String>();
        let text = text.trim().to_lowercase();
        let class = a.value().attr("class").unwrap_or("").to_ascii_lowercase();
        let is_next = (!text.is_empty() && rules.next_page_words.contains(&text))
            || class
                .split_whitespace()
                .any(|c| c == "next" || c == "next-page")
            || is_same_list_index(page_url, &url, rules)
            || is_same_list_page_param(page_url, &url, rules);
        add(url, is_next, &mut out);
    }
    for url in create_page_html_next(html, page_url, rules) {
        if let Some(url) = norm.normalize(url) {
            add(url, true, &mut out);
        }
    }
    out.canonical = doc
        .select(canon_sel)
        .next()
        .and_then(|l| l.value().attr("href"))
        .and_then(|h| base.join(h.trim()).ok())
        .and_then(|u| norm.normalize(u));
    out
}

/// The number of a TRS list page: `index.html` = 0, `index_3.html` = 3.
fn index_number(url: &Url, rules: &CrawlRules) -> Option<(String, u32, String)> {
    let path = url.path();
    let (dir, file) = path.rsplit_once('/')?;
    let caps = rules
        .index_n
        .captures(if file.is_empty() { "index.html" } else { file })?;
    let n = caps.get(2).map_or(Some(0), |m| m.as_str().parse().ok())?;
    Some((dir.to_string(), n, caps[3].to_string()))
}

/// Another `index_N.html` in the same folder as this `index_M.html` (or `index.html`).
fn is_same_list_index(page: &Url, link: &Url, rules: &CrawlRules) -> bool {
    match (index_number(page, rules), index_number(link, rules)) {
        (Some((d1, n1, _)), Some((d2, n2, _))) => {
            d1 == d2 && n1 != n2 && page.host_str() == link.host_str() && link.query().is_none()
        }
        _ => false,
    }
}

/// `?page=N` on the same path.
fn is_same_list_page_param(page: &Url, link: &Url, rules: &CrawlRules) -> bool {
    if page.path() != link.path() || page.host_str() != link.host_str() {
        return false;
    }
    let page_no = |u: &Url| {
        u.query_pairs()
            .find(|(k, _)| rules.page_params.contains(&k.to_ascii_lowercase()))
            .and_then(|(_, v)| v.parse::<u32>().ok())
    };
    match (page_no(page), page_no(link)) {
        (a, Some(b)) => a != Some(b),
        _ => false,
    }
}

/// The next page of a TRS list paged by `createPageHTML(total, current, "index", "html")`,
/// which writes its links with JavaScript (page 0 is `index.html`, page i `index_i.html`).
pub fn create_page_html_next(html: &str, page_url: &Url, rules: &CrawlRules) -> Vec<Url> {
    let Some(caps) = rules.create_page_html.captures(html) else {
        return Vec::new();
    };
    let total: u32 = caps[1].parse().unwrap_or(0);
    let current: u32 = caps[2].parse().unwrap_or(0);
    let (name, ext) = (&caps[3], &caps[4]);
    if current + 1 >= total {
        return Vec::new();
    }
    page_url
        .join(&format!("{name}_{}.{ext}", current + 1))
        .into_iter()
        .collect()
}

/// What a sitemap or feed document lists.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedLinks {
    /// Child sitemaps (of a sitemap index).
    pub sitemaps: Vec<Url>,
    /// Pages (sitemap `<loc>`, RSS `<link>`, Atom `<link href>`).
    pub pages: Vec<Url>,
}

/// Decompresses gzip bodies (`.xml.gz` sitemaps), bounded to `limit` bytes.
pub fn maybe_gunzip(bytes: &[u8], limit: usize) -> Vec<u8> {
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return bytes.to_vec();
    }
    let mut out = Vec::new();
    let mut decoder = flate2::read::GzDecoder::new(bytes).take(limit as u64);
    match decoder.read_to_end(&mut out) {
        Ok(_) => out,
        Err(_) => Vec::new(),
    }
}

/// True when the body is a sitemap or a feed rather than HTML.
pub fn is_feed(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(1024)]).to_ascii_lowercase();
    head.contains("<urlset")
        || head.contains("<sitemapindex")
        || head.contains("<rss")
        || head.contains("<feed")
}

/// Reads a sitemap, sitemap index, RSS or Atom document.
pub fn parse_feed(xml: &str, base: &Url, norm: &UrlNormalizer) -> FeedLinks {
    static RES: OnceLock<(Regex, Regex, Regex)> = OnceLock::new();
    let (loc, rss_link, atom_link) = RES.get_or_init(|| {
        (
            Regex::new(r"(?s)<loc>\s*(?:<!\[CDATA\[)?\s*([^<\]\s]+)").expect("static regex"),
            Regex::new(r"(?s)<link>\s*(?:<!\[CDATA\[)?\s*([^<\]\s]+)").expect("static regex"),
            Regex::new(r#"<link\b[^>]*?href\s*=\s*["']([^"']+)["']"#).expect("static regex"),
        )
    });
    let resolve = |s: &str| {
        let s = s.replace("&amp;", "&");
        base.join(s.trim()).ok().and_then(|u| norm.normalize(u))
    };
    let mut out = FeedLinks::default();
    let lower_head = xml[..xml.len().min(2048)].to_ascii_lowercase();
    if lower_head.contains("<sitemapindex") {
        out.sitemaps = loc
            .captures_iter(xml)
            .filter_map(|c| resolve(&c[1]))
            .collect();
    } else if lower_head.contains("<urlset") {
        out.pages = loc
            .captures_iter(xml)
            .filter_map(|c| resolve(&c[1]))
            .collect();
    } else if lower_head.contains("<feed") {
        // Atom: the entries' links (the feed's own link to the site comes first; keep it,
        // it is in scope and harmless).
        out.pages = atom_link
            .captures_iter(xml)
            .filter_map(|c| resolve(&c[1]))
            .collect();
    } else {
        out.pages = rss_link
            .captures_iter(xml)
            .filter_map(|c| resolve(&c[1]))
            .collect();
    }
    out.pages.dedup();
    out
}

/// Bounds a site's URL space: long URLs, repeated path segments, endless query variants.
#[derive(Debug, Default)]
pub struct TrapGuard {
    query_variants: HashMap<String, HashSet<String>>,
}

impl TrapGuard {
    /// `Err(reason)` when the URL looks like a trap; counts query variants as it goes.
    pub fn check(&mut self, url: &Url, limits: &TrapLimits) -> Result<(), String> {
        if url.as_str().len() > limits.max_url_length {
            return Err(format!(
                "URL longer than {} characters (max_url_length)",
                limits.max_url_length
            ));
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for seg in url.path().split('/').filter(|s| !s.is_empty()) {
            let c = counts.entry(seg).or_default();
            *c += 1;
            if *c > limits.max_repeated_segments {
                return Err(format!(
                    "path segment {seg:?} repeats more than {} times (max_repeated_segments)",
                    limits.max_repeated_segments
                ));
            }
        }
        if let Some(q) = url.query() {
            let key = format!("{}{}", url.host_str().unwrap_or(""), url.path());
            let variants = self.query_variants.entry(key).or_default();
            if !variants.contains(q) {
                if variants.len() >= limits.max_query_variants {
                    return Err(format!(
                        "more than {} query variants of {} (max_query_variants; a calendar or filter trap?)",
                        limits.max_query_variants,
                        url.path()
                    ));
                }
                variants.insert(q.to_string());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm() -> UrlNormalizer {
        let params: Vec<String> = crate::config::DEFAULT_TRACKING_PARAMS
            .iter()
            .map(|s| s.to_string())
            .collect();
        UrlNormalizer::new(&params)
    }

    #[test]
    fn normalises_and_drops_tracking() {
        let n = norm();
        let u = n
            .normalize(
                Url::parse(
                    "HTTP://WWW.Yaan.GOV.cn:80/a/../b/t1.html?from=timeline&id=3&utm_source=x#top",
                )
                .unwrap(),
            )
            .unwrap();
        assert_eq!(u.as_str(), "http://www.yaan.gov.cn/b/t1.html?id=3");
        let u = n
            .normalize(Url::parse("https://a.gov.cn/x?spm=1").unwrap())
            .unwrap();
        assert_eq!(u.as_str(), "https://a.gov.cn/x");
        assert!(n.normalize(Url::parse("mailto:a@b.cn").unwrap()).is_none());
    }

    #[test]
    fn finds_links_base_and_pagination() {
        let page = Url::parse("http://a.gov.cn/xw/index.html").unwrap();
        let html = r#"<html><head><base href="http://a.gov.cn/xw/"><link rel="canonical" href="/xw/"></head><body>
            <a href="202310/t20231023_1.html">一</a><a href="javascript:void(0)">x</a>
            <a href="index_1.html">2</a><a href="list.html?page=2">下一页</a>
            <script>createPageHTML(5, 0, "index", "html");</script></body></html>"#;
        let links = discover_links(html, &page, &norm(), CrawlRules::builtin());
        let all: Vec<&str> = links.links.iter().map(|u| u.as_str()).collect();
        assert!(all.contains(&"http://a.gov.cn/xw/202310/t20231023_1.html"));
        assert_eq!(links.canonical.unwrap().as_str(), "http://a.gov.cn/xw/");
        let next: Vec<&str> = links.next_pages.iter().map(|u| u.as_str()).collect();
        assert!(
            next.contains(&"http://a.gov.cn/xw/index_1.html"),
            "{next:?}"
        );
        assert!(
            next.contains(&"http://a.gov.cn/xw/list.html?page=2"),
            "{next:?}"
        );
    }

    #[test]
    fn create_page_html_gives_the_next_page_only() {
        let rules = CrawlRules::builtin();
        let page = Url::parse("http://a.gov.cn/xw/index_2.html").unwrap();
        let next = create_page_html_next("createPageHTML(4, 2, \"index\", \"html\")", &page, rules);
        assert_eq!(next[0].as_str(), "http://a.gov.cn/xw/index_3.html");
        assert!(
            create_page_html_next("createPageHTML(4, 3, \"index\", \"html\")", &page, rules)
                .is_empty()
        );
    }

    #[test]
    fn article_shapes() {
        let rules = CrawlRules::builtin();
        for u in [
            "http://www.yaan.gov.cn/xinwen/show/t20191023_1234567.html",
            "http://a.gov.cn/2023/10/23/abc.html",
            "http://a.gov.cn/news/202310/t20231023_5.shtml",
            "http://www.gov.cn/yaowen/2023-10/23/content_6911111.htm",
            "http://a.gov.cn/art/2023/10/23/art_1229_5.html",
        ] {
            assert!(rules.looks_like_article(&Url::parse(u).unwrap()), "{u}");
        }
        for u in ["http://a.gov.cn/xw/index_2.html", "http://a.gov.cn/xw/"] {
            assert!(!rules.looks_like_article(&Url::parse(u).unwrap()), "{u}");
        }
    }

    #[test]
    fn feeds_and_sitemaps() {
        let base = Url::parse("http://a.gov.cn/robots.txt").unwrap();
        let idx = parse_feed("<?xml?><sitemapindex><sitemap><loc>http://a.gov.cn/s1.xml.gz</loc></sitemap></sitemapindex>", &base, &norm());
        assert_eq!(idx.sitemaps.len(), 1);
        let set = parse_feed(
            "<urlset><url><loc>http://a.gov.cn/a.html?x=1&amp;y=2</loc></url></urlset>",
            &base,
            &norm(),
        );
        assert_eq!(set.pages[0].as_str(), "http://a.gov.cn/a.html?x=1&y=2");
        let rss = parse_feed("<rss><channel><item><link><![CDATA[http://a.gov.cn/b.html]]></link></item></channel></rss>", &base, &norm());
        assert_eq!(rss.pages[0].as_str(), "http://a.gov.cn/b.html");
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"<urlset></urlset>").unwrap();
        assert_eq!(
            maybe_gunzip(&gz.finish().unwrap(), 1 << 20),
            b"<urlset></urlset>"
        );
    }

    #[test]
    fn traps_are_bounded() {
        let limits = TrapLimits {
            max_url_length: 100,
            max_query_variants: 3,
            max_repeated_segments: 2,
        };
        let mut guard = TrapGuard::default();
        assert!(guard
            .check(&Url::parse("http://a.gov.cn/a/b/a/b/a/").unwrap(), &limits)
            .is_err());
        for m in 1..=3 {
            let u = Url::parse(&format!("http://a.gov.cn/cal?m={m}")).unwrap();
            assert!(guard.check(&u, &limits).is_ok());
        }
        assert!(guard
            .check(&Url::parse("http://a.gov.cn/cal?m=4").unwrap(), &limits)
            .is_err());
        assert!(guard
            .check(&Url::parse("http://a.gov.cn/cal?m=1").unwrap(), &limits)
            .is_ok());
    }
}
