//! Crawl state: what is known about every URL, host and site between passes.
//!
//! [`CrawlState`] is the seam (the scheduler of `gazette schedule` reads and writes the
//! per-site run times through it); [`SqliteState`] keeps it in one SQLite file (bundled
//! library, WAL mode, so `sqlite3 state.sqlite` can inspect it while a crawl runs).
//!
//! Schema (also in docs/state.md):
//!
//! ```sql
//! -- one row per URL the crawl has queued or fetched
//! CREATE TABLE urls (
//!   url            TEXT PRIMARY KEY,   -- normalised URL
//!   site           TEXT NOT NULL,      -- [[sites]] name
//!   host           TEXT NOT NULL,      -- scheme://host[:port]
//!   depth          INTEGER NOT NULL,   -- links from a start URL (pagination adds none)
//!   kind           TEXT NOT NULL,      -- start | list | page | article | feed
//!   status         TEXT NOT NULL,      -- queued | article | list | not_article | failed
//!                                      -- | skipped | blocked
//!   reason         TEXT,               -- why (HTTP 404, robots.txt, trap bound, ...)
//!   pass           INTEGER NOT NULL,   -- the site pass that last queued or fetched it
//!   last_fetch     TEXT,               -- RFC 3339 UTC
//!   http_status    INTEGER,
//!   etag           TEXT,               -- validators for conditional requests
//!   last_modified  TEXT,
//!   content_sha256 TEXT,               -- of the article text
//!   archive_path   TEXT,               -- where the article is in the archive
//!   identity_url   TEXT,               -- the article's canonical / final URL
//!   tries          INTEGER NOT NULL DEFAULT 0
//! );
//! CREATE INDEX urls_frontier ON urls(site, status);
//! -- one row per host (scheme://host[:port])
//! CREATE TABLE hosts (
//!   host TEXT PRIMARY KEY,
//!   robots_status TEXT, robots_fetched_at TEXT, robots_txt TEXT, crawl_delay_ms INTEGER,
//!   blocked_reason TEXT, blocked_at TEXT
//! );
//! -- one row per site: passes and the schedule seam
//! CREATE TABLE sites (
//!   site TEXT PRIMARY KEY,
//!   pass INTEGER NOT NULL,     -- number of the current / last pass
//!   running INTEGER NOT NULL,  -- 1 while a pass runs (or was killed: it is resumed)
//!   last_start TEXT, last_end TEXT, last_outcome TEXT, last_summary TEXT,
//!   next_run TEXT              -- RFC 3339, written by the scheduler
//! );
//! ```
//!
//! The frontier is the `queued` rows: a killed pass leaves them, and the next run of
//! the same site resumes that pass with them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension};

/// The crawl state could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("crawl state {path}: {message}")]
pub struct StateError {
    pub path: String,
    pub message: String,
}

pub type StateResult<T> = Result<T, StateError>;

/// Everything known about one URL.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UrlRecord {
    pub url: String,
    pub site: String,
    pub host: String,
    pub depth: u32,
    pub kind: String,
    pub status: String,
    pub reason: Option<String>,
    pub pass: i64,
    pub last_fetch: Option<String>,
    pub http_status: Option<u16>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub content_sha256: Option<String>,
    pub archive_path: Option<String>,
    pub identity_url: Option<String>,
    pub tries: u32,
}

/// A URL to put on the frontier.
#[derive(Debug, Clone)]
pub struct NewUrl {
    pub url: String,
    pub host: String,
    pub depth: u32,
    pub kind: String,
}

/// What [`CrawlState::enqueue`] did with a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    /// Queued for this pass; `fresh` when never seen before (else seen on an earlier
    /// pass and due again).
    Queued { fresh: bool },
    /// Already queued or fetched in this pass.
    AlreadyThisPass,
    /// An article archived by an earlier pass: not fetched again.
    KnownArticle,
}

/// A pass of one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PassInfo {
    pub pass: i64,
    /// The previous run of this site was killed; this continues it.
    pub resumed: bool,
    /// An earlier pass of this site finished (so this one can stop paging early).
    pub has_history: bool,
}

/// Per-site run times (the scheduler's seam).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteRun {
    pub pass: i64,
    pub running: bool,
    pub last_start: Option<String>,
    pub last_end: Option<String>,
    pub last_outcome: Option<String>,
    pub last_summary: Option<String>,
    pub next_run: Option<String>,
}

/// robots.txt and anti-bot status of a host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostRecord {
    pub host: String,
    pub robots_status: Option<String>,
    pub robots_fetched_at: Option<String>,
    pub robots_txt: Option<String>,
    pub crawl_delay_ms: Option<u64>,
    pub blocked_reason: Option<String>,
    pub blocked_at: Option<String>,
}

/// A frontier entry to resume.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedUrl {
    pub url: String,
    pub depth: u32,
    pub kind: String,
}

/// The crawl state store.
pub trait CrawlState: Send + Sync {
    /// Starts (or resumes, after a kill) a pass of `site`.
    fn begin_pass(&self, site: &str) -> StateResult<PassInfo>;
    /// Ends a pass; `outcome` is a word (`done`, `max_pages`, `failed`); the summary JSON
    /// is kept for `gazette status`.
    fn end_pass(&self, site: &str, outcome: &str, summary_json: &str) -> StateResult<()>;
    fn site_run(&self, site: &str) -> StateResult<Option<SiteRun>>;
    /// Records when the scheduler will next run the site (RFC 3339).
    fn set_next_run(&self, site: &str, next_run: Option<&str>) -> StateResult<()>;
    /// Puts URLs on the frontier of `site`'s pass `pass`, in one transaction.
    fn enqueue(&self, site: &str, pass: i64, urls: &[NewUrl]) -> StateResult<Vec<Enqueued>>;
    /// The frontier of the pass (queued, not yet fetched).
    fn queued(&self, site: &str, pass: i64) -> StateResult<Vec<QueuedUrl>>;
    fn get(&self, url: &str) -> StateResult<Option<UrlRecord>>;
    /// Writes a URL's record (insert or replace).
    fn record(&self, record: &UrlRecord) -> StateResult<()>;
    fn host(&self, host: &str) -> StateResult<Option<HostRecord>>;
    fn put_host(&self, record: &HostRecord) -> StateResult<()>;
}

/// The state in a SQLite file.
pub struct SqliteState {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteState")
            .field("path", &self.path)
            .finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS urls (
  url TEXT PRIMARY KEY, site TEXT NOT NULL, host TEXT NOT NULL, depth INTEGER NOT NULL,
  kind TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, pass INTEGER NOT NULL,
  last_fetch TEXT, http_status INTEGER, etag TEXT, last_modified TEXT,
  content_sha256 TEXT, archive_path TEXT, identity_url TEXT, tries INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS urls_frontier ON urls(site, status);
CREATE TABLE IF NOT EXISTS hosts (
  host TEXT PRIMARY KEY, robots_status TEXT, robots_fetched_at TEXT, robots_txt TEXT,
  crawl_delay_ms INTEGER, blocked_reason TEXT, blocked_at TEXT
);
CREATE TABLE IF NOT EXISTS sites (
  site TEXT PRIMARY KEY, pass INTEGER NOT NULL, running INTEGER NOT NULL,
  last_start TEXT, last_end TEXT, last_outcome TEXT, last_summary TEXT, next_run TEXT
);
";

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Opens (creating folders and file as needed) an SQLite database in WAL mode with a busy
/// timeout, and creates `schema`'s tables. Shared by the crawl state and the scheduler,
/// which keep their tables in the same file.
pub(crate) fn open_database(path: &Path, schema: &str) -> StateResult<Connection> {
    let err = |e: &dyn std::fmt::Display| StateError {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
    }
    let conn = Connection::open(path).map_err(|e| err(&e))?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(|e| err(&e))?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(|e| err(&e))?;
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| err(&e))?;
    conn.execute_batch(schema).map_err(|e| err(&e))?;
    Ok(conn)
}

/// Reads a site's row of the `sites` table; shared with the scheduler's read-only view.
pub(crate) fn read_site_run(conn: &Connection, site: &str) -> rusqlite::Result<Option<SiteRun>> {
    conn.query_row(
        "SELECT pass, running, last_start, last_end, last_outcome, last_summary, next_run FROM sites WHERE site = ?1",
        [site],
        |r| {
            Ok(SiteRun {
                pass: r.get(0)?,
                running: r.get(1)?,
                last_start: r.get(2)?,
                last_end: r.get(3)?,
                last_outcome: r.get(4)?,
                last_summary: r.get(5)?,
                next_run: r.get(6)?,
            })
        },
    )
    .optional()
}

impl SqliteState {
    /// Opens (creating folders, file and tables as needed) the state at `path`.
    pub fn open(path: &Path) -> StateResult<Self> {
        let conn = open_database(path, SCHEMA)?;
        Ok(SqliteState {
            path: path.to_path_buf(),
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> StateResult<T> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut conn).map_err(|e| StateError {
            path: self.path.display().to_string(),
            message: e.to_string(),
        })
    }
}

fn row_to_record(row: &rusqlite::Row<'_>) -> rusqlite::Result<UrlRecord> {
    Ok(UrlRecord {
        url: row.get(0)?,
        site: row.get(1)?,
        host: row.get(2)?,
        depth: row.get(3)?,
        kind: row.get(4)?,
        status: row.get(5)?,
        reason: row.get(6)?,
        pass: row.get(7)?,
        last_fetch: row.get(8)?,
        http_status: row.get(9)?,
        etag: row.get(10)?,
        last_modified: row.get(11)?,
        content_sha256: row.get(12)?,
        archive_path: row.get(13)?,
        identity_url: row.get(14)?,
        tries: row.get(15)?,
    })
}

impl CrawlState for SqliteState {
    fn begin_pass(&self, site: &str) -> StateResult<PassInfo> {
        self.with(|conn| {
            // IMMEDIATE: take the write lock up front. A deferred read-then-write
            // transaction fails at once with "database is locked" (no busy wait) when
            // another connection (the scheduler, a second process) wrote in between.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let row: Option<(i64, bool)> = tx
                .query_row(
                    "SELECT pass, running FROM sites WHERE site = ?1",
                    [site],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let info = match row {
                Some((pass, true)) => PassInfo {
                    pass,
                    resumed: true,
                    has_history: pass > 1,
                },
                Some((pass, false)) => {
                    tx.execute(
                        "UPDATE sites SET pass = ?2, running = 1, last_start = ?3 WHERE site = ?1",
                        params![site, pass + 1, now()],
                    )?;
                    // Leftovers of a pass cut short by max_pages stay on the frontier.
                    tx.execute(
                        "UPDATE urls SET pass = ?2 WHERE site = ?1 AND status = 'queued'",
                        params![site, pass + 1],
                    )?;
                    PassInfo {
                        pass: pass + 1,
                        resumed: false,
                        has_history: true,
                    }
                }
                None => {
                    tx.execute(
                        "INSERT INTO sites (site, pass, running, last_start) VALUES (?1, 1, 1, ?2)",
                        params![site, now()],
                    )?;
                    PassInfo {
                        pass: 1,
                        resumed: false,
                        has_history: false,
                    }
                }
            };
            tx.commit()?;
            Ok(info)
        })
    }

    fn end_pass(&self, site: &str, outcome: &str, summary_json: &str) -> StateResult<()> {
        self.with(|conn| {
            conn.execute(
                "UPDATE sites SET running = 0, last_end = ?2, last_outcome = ?3, last_summary = ?4 WHERE site = ?1",
                params![site, now(), outcome, summary_json],
            )?;
            Ok(())
        })
    }

    fn site_run(&self, site: &str) -> StateResult<Option<SiteRun>> {
        self.with(|conn| read_site_run(conn, site))
    }

    fn set_next_run(&self, site: &str, next_run: Option<&str>) -> StateResult<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO sites (site, pass, running, next_run) VALUES (?1, 0, 0, ?2)
                 ON CONFLICT(site) DO UPDATE SET next_run = excluded.next_run",
                params![site, next_run],
            )?;
            Ok(())
        })
    }

    fn enqueue(&self, site: &str, pass: i64, urls: &[NewUrl]) -> StateResult<Vec<Enqueued>> {
        self.with(|conn| {
            // IMMEDIATE: take the write lock up front. A deferred read-then-write
            // transaction fails at once with "database is locked" (no busy wait) when
            // another connection (the scheduler, a second process) wrote in between.
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut out = Vec::with_capacity(urls.len());
            {
                let mut select = tx.prepare_cached("SELECT pass, status FROM urls WHERE url = ?1")?;
                let mut insert = tx.prepare_cached(
                    "INSERT INTO urls (url, site, host, depth, kind, status, pass) VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6)",
                )?;
                let mut requeue = tx.prepare_cached(
                    "UPDATE urls SET status = 'queued', pass = ?2, depth = ?3, kind = ?4, reason = NULL WHERE url = ?1",
                )?;
                for u in urls {
                    let existing: Option<(i64, String)> = select
                        .query_row([&u.url], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()?;
                    out.push(match existing {
                        None => {
                            insert.execute(params![u.url, site, u.host, u.depth, u.kind, pass])?;
                            Enqueued::Queued { fresh: true }
                        }
                        Some((p, _)) if p >= pass => Enqueued::AlreadyThisPass,
                        Some((_, status)) if status == "article" => Enqueued::KnownArticle,
                        Some(_) => {
                            requeue.execute(params![u.url, pass, u.depth, u.kind])?;
                            Enqueued::Queued { fresh: false }
                        }
                    });
                }
            }
            tx.commit()?;
            Ok(out)
        })
    }

    fn queued(&self, site: &str, pass: i64) -> StateResult<Vec<QueuedUrl>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT url, depth, kind FROM urls WHERE site = ?1 AND status = 'queued' AND pass = ?2 ORDER BY rowid",
            )?;
            let rows = stmt.query_map(params![site, pass], |r| {
                Ok(QueuedUrl {
                    url: r.get(0)?,
                    depth: r.get(1)?,
                    kind: r.get(2)?,
                })
            })?;
            rows.collect()
        })
    }

    fn get(&self, url: &str) -> StateResult<Option<UrlRecord>> {
        self.with(|conn| {
            conn.prepare_cached(
                "SELECT url, site, host, depth, kind, status, reason, pass, last_fetch, http_status, etag, last_modified, content_sha256, archive_path, identity_url, tries FROM urls WHERE url = ?1",
            )?
            .query_row([url], row_to_record)
            .optional()
        })
    }

    fn record(&self, r: &UrlRecord) -> StateResult<()> {
        self.with(|conn| {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO urls (url, site, host, depth, kind, status, reason, pass, last_fetch, http_status, etag, last_modified, content_sha256, archive_path, identity_url, tries)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            )?
            .execute(params![
                r.url,
                r.site,
                r.host,
                r.depth,
                r.kind,
                r.status,
                r.reason,
                r.pass,
                r.last_fetch,
                r.http_status,
                r.etag,
                r.last_modified,
                r.content_sha256,
                r.archive_path,
                r.identity_url,
                r.tries
            ])?;
            Ok(())
        })
    }

    fn host(&self, host: &str) -> StateResult<Option<HostRecord>> {
        self.with(|conn| {
            conn.query_row(
                "SELECT host, robots_status, robots_fetched_at, robots_txt, crawl_delay_ms, blocked_reason, blocked_at FROM hosts WHERE host = ?1",
                [host],
                |r| {
                    Ok(HostRecord {
                        host: r.get(0)?,
                        robots_status: r.get(1)?,
                        robots_fetched_at: r.get(2)?,
                        robots_txt: r.get(3)?,
                        crawl_delay_ms: r.get(4)?,
                        blocked_reason: r.get(5)?,
                        blocked_at: r.get(6)?,
                    })
                },
            )
            .optional()
        })
    }

    fn put_host(&self, h: &HostRecord) -> StateResult<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO hosts (host, robots_status, robots_fetched_at, robots_txt, crawl_delay_ms, blocked_reason, blocked_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    h.host,
                    h.robots_status,
                    h.robots_fetched_at,
                    h.robots_txt,
                    h.crawl_delay_ms,
                    h.blocked_reason,
                    h.blocked_at
                ],
            )?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(url: &str) -> NewUrl {
        NewUrl {
            url: url.into(),
            host: "http://a.gov.cn".into(),
            depth: 1,
            kind: "page".into(),
        }
    }

    #[test]
    fn passes_resume_and_known_articles_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/state.sqlite");
        let state = SqliteState::open(&path).unwrap();
        let p1 = state.begin_pass("a").unwrap();
        assert_eq!(
            p1,
            PassInfo {
                pass: 1,
                resumed: false,
                has_history: false
            }
        );
        let r = state
            .enqueue(
                "a",
                1,
                &[new("http://a.gov.cn/1"), new("http://a.gov.cn/2")],
            )
            .unwrap();
        assert_eq!(r, vec![Enqueued::Queued { fresh: true }; 2]);
        assert_eq!(
            state.enqueue("a", 1, &[new("http://a.gov.cn/1")]).unwrap(),
            vec![Enqueued::AlreadyThisPass]
        );
        let mut rec = state.get("http://a.gov.cn/1").unwrap().unwrap();
        rec.status = "article".into();
        state.record(&rec).unwrap();
        drop(state);

        // Killed: the pass resumes with its frontier.
        let state = SqliteState::open(&path).unwrap();
        let again = state.begin_pass("a").unwrap();
        assert!(again.resumed);
        let q = state.queued("a", 1).unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].url, "http://a.gov.cn/2");
        state.end_pass("a", "done", "{}").unwrap();

        let p2 = state.begin_pass("a").unwrap();
        assert_eq!(p2.pass, 2);
        assert!(p2.has_history);
        assert_eq!(
            state.queued("a", 2).unwrap().len(),
            1,
            "leftovers carry over"
        );
        assert_eq!(
            state.enqueue("a", 2, &[new("http://a.gov.cn/1")]).unwrap(),
            vec![Enqueued::KnownArticle]
        );
        state
            .set_next_run("a", Some("2030-01-01T00:00:00Z"))
            .unwrap();
        assert_eq!(
            state.site_run("a").unwrap().unwrap().next_run.as_deref(),
            Some("2030-01-01T00:00:00Z")
        );
    }
}
