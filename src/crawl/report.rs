//! The run report: per site counts and every URL with what happened to it and why.
//! Written as JSON into the archive's reports folder and summarised on stderr.

use serde::Serialize;

/// Counts of one site's pass (or of the whole run).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// HTTP requests that returned a response (304 included; robots.txt excluded).
    pub pages_fetched: u64,
    pub articles_new: u64,
    pub articles_updated: u64,
    pub articles_unchanged: u64,
    pub not_modified: u64,
    pub list_pages: u64,
    pub feeds: u64,
    /// Pages that are not articles (other than list pages): error pages, empty pages.
    pub not_articles: u64,
    pub spam_pages: u64,
    /// Articles with injected spam removed.
    pub spam_removed: u64,
    pub robots_disallowed: u64,
    pub blocked: u64,
    pub failed: u64,
    pub traps_skipped: u64,
    pub out_of_scope: u64,
    pub depth_limited: u64,
    /// Links to articles archived by earlier passes (not fetched again).
    pub known_articles: u64,
    /// List pages whose paging stopped because they showed only known articles.
    pub incremental_stops: u64,
    /// URLs left on the frontier (max_pages reached or interrupted).
    pub left_queued: u64,
    pub bytes: u64,
}

impl Counts {
    pub fn add(&mut self, o: &Counts) {
        self.pages_fetched += o.pages_fetched;
        self.articles_new += o.articles_new;
        self.articles_updated += o.articles_updated;
        self.articles_unchanged += o.articles_unchanged;
        self.not_modified += o.not_modified;
        self.list_pages += o.list_pages;
        self.feeds += o.feeds;
        self.not_articles += o.not_articles;
        self.spam_pages += o.spam_pages;
        self.spam_removed += o.spam_removed;
        self.robots_disallowed += o.robots_disallowed;
        self.blocked += o.blocked;
        self.failed += o.failed;
        self.traps_skipped += o.traps_skipped;
        self.out_of_scope += o.out_of_scope;
        self.depth_limited += o.depth_limited;
        self.known_articles += o.known_articles;
        self.incremental_stops += o.incremental_stops;
        self.left_queued += o.left_queued;
        self.bytes += o.bytes;
    }
}

/// What happened to one URL.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UrlEntry {
    pub url: String,
    /// `article_new`, `article_updated`, `article_unchanged`, `not_modified`, `list`,
    /// `feed`, `not_article`, `spam_page`, `robots_disallowed`, `blocked`, `failed`,
    /// `trap`, `interrupted`.
    pub result: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_path: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BlockedHost {
    pub host: String,
    pub reason: String,
}

/// One site's pass.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SiteReport {
    pub site: String,
    pub pass: i64,
    pub resumed: bool,
    /// `done`, `max_pages`, `interrupted` or `failed`.
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub counts: Counts,
    pub blocked_hosts: Vec<BlockedHost>,
    /// robots.txt status per host.
    pub robots: Vec<(String, String)>,
    pub urls: Vec<UrlEntry>,
}

/// A whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub started_at: String,
    pub finished_at: String,
    pub duration_secs: f64,
    pub interrupted: bool,
    pub totals: Counts,
    pub sites: Vec<SiteReport>,
}

impl RunReport {
    /// The file name in the reports folder. A run of one site (every pass of `schedule`)
    /// carries the site's name, so passes of two sites starting in the same millisecond
    /// do not overwrite each other's report.
    pub fn file_name(&self) -> String {
        let safe = |text: &str| -> String {
            text.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .take(60)
                .collect()
        };
        match self.sites.as_slice() {
            [only] => format!("crawl-{}-{}.json", safe(&self.started_at), safe(&only.site)),
            _ => format!("crawl-{}.json", safe(&self.started_at)),
        }
    }

    /// A plain table for stderr.
    pub fn summary_table(&self) -> String {
        let mut out = String::new();
        out.push_str(&format!(
            "{:<20} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}  {}\n",
            "site",
            "pages",
            "new",
            "upd",
            "same",
            "304",
            "robots",
            "blockd",
            "spam",
            "failed",
            "queued",
            "outcome"
        ));
        let row = |name: &str, c: &Counts, outcome: &str| {
            format!(
                "{:<20} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6}  {}\n",
                truncate(name, 20),
                c.pages_fetched,
                c.articles_new,
                c.articles_updated,
                c.articles_unchanged,
                c.not_modified,
                c.robots_disallowed,
                c.blocked,
                c.spam_pages + c.spam_removed,
                c.failed,
                c.left_queued,
                outcome
            )
        };
        for s in &self.sites {
            out.push_str(&row(&s.site, &s.counts, &s.outcome));
        }
        out.push_str(&row(
            "total",
            &self.totals,
            &format!("{:.1} s", self.duration_secs),
        ));
        for s in &self.sites {
            for b in &s.blocked_hosts {
                out.push_str(&format!(
                    "{}: host {} blocked: {}\n",
                    s.site, b.host, b.reason
                ));
            }
            for (host, status) in &s.robots {
                if status.starts_with("unreachable") {
                    out.push_str(&format!("{}: robots.txt of {host}: {status}\n", s.site));
                }
            }
            if let Some(e) = &s.error {
                out.push_str(&format!("{}: {}\n", s.site, e));
            }
        }
        out
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_names_carry_the_site_of_a_one_site_run() {
        let mut report = RunReport {
            started_at: "2026-11-29T05:12:25.747Z".into(),
            ..RunReport::default()
        };
        assert_eq!(report.file_name(), "crawl-2026-11-29T05-12-25-747Z.json");
        report.sites.push(SiteReport {
            site: "ya'an gov".into(),
            ..SiteReport::default()
        });
        assert_eq!(
            report.file_name(),
            "crawl-2026-11-29T05-12-25-747Z-ya-an-gov.json"
        );
        report.sites.push(SiteReport::default());
        assert_eq!(report.file_name(), "crawl-2026-11-29T05-12-25-747Z.json");
    }
}
