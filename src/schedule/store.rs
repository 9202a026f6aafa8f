//! The scheduler's part of the crawl state file, and the read-only queries of
//! `gazette status`.
//!
//! The crawl keeps its `urls`, `hosts` and `sites` tables (see `crawl::state`); the
//! scheduler adds one table in the same SQLite file, so one file holds everything and a
//! restart keeps the schedule:
//!
//! ```sql
//! CREATE TABLE schedule (
//!   site                 TEXT PRIMARY KEY,  -- [[sites]] name
//!   last_start           TEXT,              -- RFC 3339 UTC (milliseconds) of the last pass
//!   last_finish          TEXT,              -- NULL or older than last_start: interrupted
//!   last_outcome         TEXT,              -- done | max_pages | failed | blocked | ...
//!   consecutive_failures INTEGER NOT NULL DEFAULT 0,  -- backoff input, 0 after a success
//!   last_success         TEXT,              -- when the last successful pass finished
//!   last_new_article     TEXT,              -- when a pass last archived a new article
//!   last_pass            TEXT               -- JSON PassSummary of the last pass
//! );
//! ```
//!
//! The next planned run goes into the crawl's `sites.next_run` column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};

use super::RunRecord;
use crate::crawl::state::{SiteRun, StateError};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS schedule (
  site TEXT PRIMARY KEY, last_start TEXT, last_finish TEXT, last_outcome TEXT,
  consecutive_failures INTEGER NOT NULL DEFAULT 0, last_success TEXT,
  last_new_article TEXT, last_pass TEXT
);
";

/// What one pass did, as `gazette status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PassSummary {
    /// `done`, `max_pages`, `interrupted`, `failed`, `blocked`, `robots_forbidden`.
    pub outcome: String,
    pub succeeded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub duration_secs: f64,
    pub pages_fetched: u64,
    pub bytes: u64,
    pub articles_new: u64,
    pub articles_updated: u64,
    pub articles_unchanged: u64,
    /// URLs that failed, all kinds together.
    pub errors: u64,
    /// Error kind → count.
    #[serde(default)]
    pub errors_by_kind: BTreeMap<String, u64>,
    /// `host: reason` of every host that showed an anti-bot wall.
    #[serde(default)]
    pub blocked_hosts: Vec<String>,
    pub spam_pages: u64,
    /// robots.txt disallowed a start URL.
    pub robots_forbidden: bool,
}

/// The scheduler's row of a site.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScheduleRow {
    pub site: String,
    pub last_start: Option<DateTime<Utc>>,
    pub last_finish: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    pub consecutive_failures: u32,
    pub last_success: Option<DateTime<Utc>>,
    pub last_new_article: Option<DateTime<Utc>>,
    pub last_pass: Option<PassSummary>,
}

impl ScheduleRow {
    pub fn run_record(&self) -> RunRecord {
        RunRecord {
            last_start: self.last_start,
            last_finish: self.last_finish,
            consecutive_failures: self.consecutive_failures,
        }
    }
}

/// What the state knows of a site's articles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArticleStats {
    /// Distinct articles archived from the site.
    pub articles: u64,
    /// When an article of the site was last fetched (≈ archived).
    pub last_article_fetch: Option<DateTime<Utc>>,
    /// URLs currently recorded as failed.
    pub failed_urls: u64,
}

/// The scheduler's table, next to the crawl's, in the state file.
pub struct ScheduleStore {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for ScheduleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduleStore")
            .field("path", &self.path)
            .finish()
    }
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads an RFC 3339 time as written by either table; `None` for anything else.
pub fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text?.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl ScheduleStore {
    /// Opens the state file for writing (the service), creating the table.
    pub fn open(path: &Path) -> Result<Self, StateError> {
        let conn = crate::crawl::state::open_database(path, SCHEMA)?;
        Ok(ScheduleStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    /// Opens the state file read-only (`gazette status`, while the service may run).
    pub fn open_read_only(path: &Path) -> Result<Self, StateError> {
        let err = |e: &dyn std::fmt::Display| StateError {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| err(&e))?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(|e| err(&e))?;
        Ok(ScheduleStore {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StateError> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&conn).map_err(|e| StateError {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })
    }

    fn has_table(&self, table: &str) -> Result<bool, StateError> {
        self.with(|c| {
            c.query_row(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                [table],
                |_| Ok(()),
            )
            .optional()
            .map(|r| r.is_some())
        })
    }

    /// The scheduler's row of a site (none before its first scheduled pass).
    pub fn row(&self, site: &str) -> Result<Option<ScheduleRow>, StateError> {
        if !self.has_table("schedule")? {
            return Ok(None);
        }
        self.with(|c| {
            c.query_row(
                "SELECT site, last_start, last_finish, last_outcome, consecutive_failures,
                        last_success, last_new_article, last_pass
                 FROM schedule WHERE site = ?1",
                [site],
                |r| {
                    let text = |i: usize| r.get::<_, Option<String>>(i);
                    Ok(ScheduleRow {
                        site: r.get(0)?,
                        last_start: parse_time(text(1)?.as_deref()),
                        last_finish: parse_time(text(2)?.as_deref()),
                        last_outcome: text(3)?,
                        consecutive_failures: r.get(4)?,
                        last_success: parse_time(text(5)?.as_deref()),
                        last_new_article: parse_time(text(6)?.as_deref()),
                        last_pass: text(7)?.and_then(|j| serde_json::from_str(&j).ok()),
                    })
                },
            )
            .optional()
        })
    }

    /// Records the start of a pass (a crash before [`Self::pass_finished`] leaves it
    /// looking interrupted, so the next start-up runs it again).
    pub fn pass_started(&self, site: &str, at: DateTime<Utc>) -> Result<(), StateError> {
        self.with(|c| {
            c.execute(
                "INSERT INTO schedule (site, last_start) VALUES (?1, ?2)
                 ON CONFLICT(site) DO UPDATE SET last_start = excluded.last_start",
                params![site, rfc3339(at)],
            )
            .map(drop)
        })
    }

    /// Records a finished pass.
    pub fn pass_finished(
        &self,
        site: &str,
        record: &RunRecord,
        summary: &PassSummary,
    ) -> Result<(), StateError> {
        let json = serde_json::to_string(summary).unwrap_or_default();
        let finish = record.last_finish.map(rfc3339);
        let success = finish.clone().filter(|_| summary.succeeded);
        let new_article = finish.clone().filter(|_| summary.articles_new > 0);
        self.with(|c| {
            c.execute(
                "INSERT INTO schedule (site, last_start, last_finish, last_outcome,
                                       consecutive_failures, last_success, last_new_article,
                                       last_pass)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT(site) DO UPDATE SET
                   last_start = excluded.last_start,
                   last_finish = excluded.last_finish,
                   last_outcome = excluded.last_outcome,
                   consecutive_failures = excluded.consecutive_failures,
                   last_success = COALESCE(excluded.last_success, schedule.last_success),
                   last_new_article = COALESCE(excluded.last_new_article, schedule.last_new_article),
                   last_pass = excluded.last_pass",
                params![
                    site,
                    record.last_start.map(rfc3339),
                    finish,
                    summary.outcome,
                    record.consecutive_failures,
                    success,
                    new_article,
                    json
                ],
            )
            .map(drop)
        })
    }

    /// The crawl's own row of the site (`sites` table), if the site was ever crawled.
    pub fn crawl_row(&self, site: &str) -> Result<Option<SiteRun>, StateError> {
        if !self.has_table("sites")? {
            return Ok(None);
        }
        self.with(|c| crate::crawl::state::read_site_run(c, site))
    }

    /// Counts of the site's articles and failures in the crawl's `urls` table.
    pub fn article_stats(&self, site: &str) -> Result<ArticleStats, StateError> {
        if !self.has_table("urls")? {
            return Ok(ArticleStats::default());
        }
        self.with(|c| {
            let (articles, last): (u64, Option<String>) = c.query_row(
                "SELECT COUNT(DISTINCT COALESCE(identity_url, url)), MAX(last_fetch)
                 FROM urls WHERE site = ?1 AND status = 'article'",
                [site],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let failed_urls: u64 = c.query_row(
                "SELECT COUNT(*) FROM urls WHERE site = ?1 AND status = 'failed'",
                [site],
                |r| r.get(0),
            )?;
            Ok(ArticleStats {
                articles,
                last_article_fetch: parse_time(last.as_deref()),
                failed_urls,
            })
        })
    }

    /// Hosts of the site that the crawl recorded as blocked by an anti-bot wall.
    pub fn blocked_hosts(&self, site: &str) -> Result<Vec<String>, StateError> {
        if !self.has_table("hosts")? || !self.has_table("urls")? {
            return Ok(Vec::new());
        }
        self.with(|c| {
            let mut stmt = c.prepare(
                "SELECT host, blocked_reason FROM hosts
                 WHERE blocked_reason IS NOT NULL
                   AND host IN (SELECT DISTINCT host FROM urls WHERE site = ?1)
                 ORDER BY host",
            )?;
            let rows = stmt.query_map([site], |r| {
                Ok(format!(
                    "{}: {}",
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?
                ))
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crawl::state::{CrawlState, SqliteState};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn rows_round_trip_beside_the_crawl_tables() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        let crawl = SqliteState::open(&path).unwrap();
        let store = ScheduleStore::open(&path).unwrap();
        assert_eq!(store.row("a").unwrap(), None);

        store
            .pass_started("a", t("2026-11-29T02:00:00.250Z"))
            .unwrap();
        let row = store.row("a").unwrap().unwrap();
        assert_eq!(row.last_start, Some(t("2026-11-29T02:00:00.250Z")));
        assert_eq!(row.last_finish, None, "started, not finished: interrupted");

        let record = RunRecord {
            last_start: Some(t("2026-11-29T02:00:00.250Z")),
            last_finish: Some(t("2026-11-29T02:00:09Z")),
            consecutive_failures: 0,
        };
        let summary = PassSummary {
            outcome: "done".into(),
            succeeded: true,
            articles_new: 3,
            ..PassSummary::default()
        };
        store.pass_finished("a", &record, &summary).unwrap();
        let failed = RunRecord {
            last_start: Some(t("2026-11-29T03:00:00Z")),
            last_finish: Some(t("2026-11-29T03:00:01Z")),
            consecutive_failures: 1,
        };
        let failure = PassSummary {
            outcome: "failed".into(),
            ..PassSummary::default()
        };
        store.pass_finished("a", &failed, &failure).unwrap();

        crawl
            .set_next_run("a", Some("2026-11-29T04:00:00Z"))
            .unwrap();
        let reader = ScheduleStore::open_read_only(&path).unwrap();
        let row = reader.row("a").unwrap().unwrap();
        assert_eq!(row.run_record(), failed);
        assert_eq!(
            row.last_success,
            Some(t("2026-11-29T02:00:09Z")),
            "kept from the success"
        );
        assert_eq!(row.last_new_article, Some(t("2026-11-29T02:00:09Z")));
        assert_eq!(row.last_pass.unwrap().outcome, "failed");
        assert_eq!(
            reader.crawl_row("a").unwrap().unwrap().next_run.as_deref(),
            Some("2026-11-29T04:00:00Z")
        );
        assert_eq!(reader.article_stats("a").unwrap(), ArticleStats::default());
    }

    #[test]
    fn a_state_file_without_scheduler_tables_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.sqlite");
        drop(Connection::open(&path).unwrap());
        let reader = ScheduleStore::open_read_only(&path).unwrap();
        assert_eq!(reader.row("a").unwrap(), None);
        assert_eq!(reader.crawl_row("a").unwrap(), None);
        assert!(reader.blocked_hosts("a").unwrap().is_empty());
    }
}
