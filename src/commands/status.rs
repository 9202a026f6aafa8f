//! `gazette status [--config FILE] [--archive DIR] [--json]`
//!
//! What an operator must see, per site: the last pass (when, outcome, new / updated
//! articles, errors), the next pass, the articles archived, and flags: blocked by an
//! anti-bot wall, spam found (the site is probably compromised), no new article for
//! `stale_after_days`, robots.txt forbids the crawl, failing / backing off. Reads the
//! crawl state read-only (safe while `gazette schedule` runs) and counts the archive.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Result;
use chrono::{DateTime, Utc};
use clap::Args;
use gazette::config::Config;
use gazette::schedule::store::{parse_time, rfc3339, ScheduleStore};
use gazette::schedule::SiteSchedule;
use serde::Serialize;

use crate::commands::schedule::load_config;
use crate::exit;

#[derive(Args)]
pub struct StatusArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE", default_value = "config/gazette.toml")]
    config: PathBuf,
    /// The archive folder (overrides the config's archive_dir).
    #[arg(long, value_name = "DIR")]
    archive: Option<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// The whole status, as `--json` prints it.
#[derive(Debug, Serialize)]
pub struct Status {
    pub generated_at: String,
    pub state: String,
    pub archive: ArchiveTotals,
    pub sites: Vec<SiteStatus>,
}

/// Counts of the archive folder itself.
#[derive(Debug, Default, Serialize)]
pub struct ArchiveTotals {
    pub dir: String,
    /// Article files (`<id>.json`).
    pub articles: u64,
    pub bytes: u64,
    /// Articles per host folder.
    pub by_host: BTreeMap<String, u64>,
    /// Run reports in `reports/`.
    pub reports: u64,
}

#[derive(Debug, Serialize)]
pub struct SiteStatus {
    pub name: String,
    pub enabled: bool,
    pub schedule: String,
    pub running: bool,
    pub last_pass: Option<LastPass>,
    pub next_pass: Option<String>,
    pub consecutive_failures: u32,
    pub last_success: Option<String>,
    /// When a pass last archived a new article.
    pub last_new_article: Option<String>,
    /// Distinct articles of the site in the crawl state.
    pub articles: u64,
    /// URLs recorded as failed (retried on the next pass).
    pub failed_urls: u64,
    /// `blocked`, `spam`, `stale`, `robots_forbidden`, `failing`.
    pub flags: Vec<String>,
    /// Why, for each flag, in words.
    pub notes: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct LastPass {
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub outcome: Option<String>,
    pub succeeded: Option<bool>,
    pub pages_fetched: u64,
    pub articles_new: u64,
    pub articles_updated: u64,
    pub errors: u64,
    pub errors_by_kind: BTreeMap<String, u64>,
    pub error: Option<String>,
}

pub fn run(args: StatusArgs) -> Result<u8> {
    let config = match load_config(&args.config, args.archive.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gazette: {e}");
            return Ok(exit::CONFIG);
        }
    };
    let status = collect(&config, Utc::now())?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&status)?);
    } else {
        print!("{}", table(&status));
    }
    Ok(exit::OK)
}

/// Reads the state and the archive.
pub fn collect(config: &Config, now: DateTime<Utc>) -> Result<Status> {
    let state_path = config.state_path();
    let store = if state_path.exists() {
        Some(ScheduleStore::open_read_only(&state_path)?)
    } else {
        None
    };
    let stale_days = i64::from(config.scheduler.stale_after_days);
    let mut sites = Vec::new();
    for site in &config.sites {
        let schedule = SiteSchedule::for_site(
            site.schedule.as_deref(),
            config.default_schedule.as_deref(),
            site.timezone,
        )
        .map(|s| s.schedule.to_string())
        .unwrap_or_else(|e| format!("invalid: {e}"));
        let mut status = SiteStatus {
            name: site.name.clone(),
            enabled: site.enabled,
            schedule,
            running: false,
            last_pass: None,
            next_pass: None,
            consecutive_failures: 0,
            last_success: None,
            last_new_article: None,
            articles: 0,
            failed_urls: 0,
            flags: Vec::new(),
            notes: Vec::new(),
        };
        if let Some(store) = &store {
            fill_site(&mut status, store, &site.name, now, stale_days)?;
        }
        sites.push(status);
    }
    Ok(Status {
        generated_at: rfc3339(now),
        state: state_path.display().to_string(),
        archive: archive_totals(&config.archive_dir),
        sites,
    })
}

fn fill_site(
    status: &mut SiteStatus,
    store: &ScheduleStore,
    site: &str,
    now: DateTime<Utc>,
    stale_days: i64,
) -> Result<()> {
    let ours = store.row(site)?;
    let crawl = store.crawl_row(site)?;
    let stats = store.article_stats(site)?;
    status.articles = stats.articles;
    status.failed_urls = stats.failed_urls;
    status.running = crawl.as_ref().is_some_and(|c| c.running);
    status.next_pass = crawl.as_ref().and_then(|c| c.next_run.clone());

    let mut blocked_hosts = Vec::new();
    let mut spam_pages = 0;
    let mut robots_forbidden = false;
    match (&ours, &crawl) {
        (Some(row), _) if row.last_pass.is_some() => {
            let p = row.last_pass.clone().unwrap_or_default();
            status.consecutive_failures = row.consecutive_failures;
            status.last_success = row.last_success.map(rfc3339);
            status.last_pass = Some(LastPass {
                started_at: Some(p.started_at.clone()),
                finished_at: Some(p.finished_at.clone()),
                outcome: Some(p.outcome.clone()),
                succeeded: Some(p.succeeded),
                pages_fetched: p.pages_fetched,
                articles_new: p.articles_new,
                articles_updated: p.articles_updated,
                errors: p.errors,
                errors_by_kind: p.errors_by_kind.clone(),
                error: p.error.clone(),
            });
            blocked_hosts = p.blocked_hosts.clone();
            spam_pages = p.spam_pages;
            robots_forbidden = p.robots_forbidden;
        }
        // Passes run by plain `gazette crawl` (cron / timer): the crawl's own summary.
        (_, Some(c)) if c.last_end.is_some() => {
            let counts: serde_json::Value = c
                .last_summary
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            let n = |key: &str| counts.get(key).and_then(|v| v.as_u64()).unwrap_or(0);
            status.last_pass = Some(LastPass {
                started_at: c.last_start.clone(),
                finished_at: c.last_end.clone(),
                outcome: c.last_outcome.clone(),
                succeeded: None,
                pages_fetched: n("pages_fetched"),
                articles_new: n("articles_new"),
                articles_updated: n("articles_updated"),
                errors: n("failed") + n("blocked"),
                ..LastPass::default()
            });
            spam_pages = n("spam_pages") + n("spam_removed");
            robots_forbidden = n("pages_fetched") == 0 && n("robots_disallowed") > 0;
            if n("blocked") > 0 {
                blocked_hosts = store.blocked_hosts(site)?;
                if blocked_hosts.is_empty() {
                    blocked_hosts.push(format!("{} page(s) behind an anti-bot wall", n("blocked")));
                }
            }
        }
        _ => {}
    }
    if status.running {
        if let Some(c) = &crawl {
            if let Some(start) = &c.last_start {
                status
                    .notes
                    .push(format!("a pass is running (or was killed) since {start}"));
            }
        }
    }

    if !blocked_hosts.is_empty() {
        status.flags.push("blocked".into());
        status.notes.push(format!(
            "blocked by an anti-bot wall: {}",
            blocked_hosts.join("; ")
        ));
    }
    if spam_pages > 0 {
        status.flags.push("spam".into());
        status.notes.push(format!(
            "{spam_pages} page(s) with injected spam in the last pass: the site is probably compromised"
        ));
    }
    if robots_forbidden {
        status.flags.push("robots_forbidden".into());
        status
            .notes
            .push("robots.txt forbids crawling the start URLs".into());
    }
    let last_new = ours
        .as_ref()
        .and_then(|r| r.last_new_article)
        .into_iter()
        .chain(stats.last_article_fetch)
        .max();
    status.last_new_article = last_new.map(rfc3339);
    let has_finished_pass = status.last_pass.is_some();
    match last_new {
        Some(t) if (now - t).num_days() >= stale_days => {
            status.flags.push("stale".into());
            status.notes.push(format!(
                "no new article for {} days (since {}): the site may have changed its layout or address",
                (now - t).num_days(),
                rfc3339(t)
            ));
        }
        // A finished pass that archived nothing at all is as suspicious as a stale site.
        None if has_finished_pass => {
            status.flags.push("stale".into());
            status.notes.push(
                "no article archived yet: check the start URLs and the article patterns".into(),
            );
        }
        _ => {}
    }
    if status.consecutive_failures >= 1 {
        status.flags.push("failing".into());
        status.notes.push(format!(
            "{} failed pass(es) in a row{}",
            status.consecutive_failures,
            if status.consecutive_failures >= 2 {
                ": backing off"
            } else {
                ""
            }
        ));
    }
    Ok(())
}

/// Counts the article files of an archive folder (raw pages, reports and temporary
/// files aside).
pub fn archive_totals(root: &Path) -> ArchiveTotals {
    let mut totals = ArchiveTotals {
        dir: root.display().to_string(),
        ..ArchiveTotals::default()
    };
    let Ok(entries) = std::fs::read_dir(root) else {
        return totals;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if !path.is_dir() || name.starts_with('.') {
            continue;
        }
        if name == "reports" {
            totals.reports = std::fs::read_dir(&path)
                .map(|d| d.flatten().filter(|e| !is_hidden(&e.path())).count() as u64)
                .unwrap_or(0);
            continue;
        }
        let (count, bytes) = count_articles(&path);
        if count > 0 {
            totals.by_host.insert(name, count);
        }
        totals.articles += count;
        totals.bytes += bytes;
    }
    totals
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

fn count_articles(dir: &Path) -> (u64, u64) {
    let mut stack = vec![dir.to_path_buf()];
    let (mut count, mut bytes) = (0, 0);
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if is_hidden(&path) {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".json") && !name.ends_with(".raw.json") {
                count += 1;
                bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    (count, bytes)
}

fn short_time(text: Option<&str>) -> String {
    match parse_time(text) {
        Some(t) => t.format("%Y-%m-%d %H:%M:%SZ").to_string(),
        None => "-".into(),
    }
}

fn table(status: &Status) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<20} {:<12} {:<21} {:<16} {:>5} {:>5} {:>6} {:<21} {:>8}  {}\n",
        "site",
        "schedule",
        "last pass",
        "outcome",
        "new",
        "upd",
        "errors",
        "next pass",
        "articles",
        "flags"
    ));
    for s in &status.sites {
        let last = s.last_pass.as_ref();
        let outcome = if s.running {
            "running".to_string()
        } else if !s.enabled {
            "disabled".to_string()
        } else {
            last.and_then(|p| p.outcome.clone())
                .unwrap_or_else(|| "never run".into())
        };
        out.push_str(&format!(
            "{:<20} {:<12} {:<21} {:<16} {:>5} {:>5} {:>6} {:<21} {:>8}  {}\n",
            truncate(&s.name, 20),
            truncate(&s.schedule, 12),
            short_time(last.and_then(|p| p.finished_at.as_deref().or(p.started_at.as_deref()))),
            truncate(&outcome, 16),
            last.map_or(0, |p| p.articles_new),
            last.map_or(0, |p| p.articles_updated),
            last.map_or(0, |p| p.errors),
            short_time(s.next_pass.as_deref()),
            s.articles,
            s.flags.join(",")
        ));
    }
    for s in &status.sites {
        for note in &s.notes {
            out.push_str(&format!("{}: {note}\n", s.name));
        }
    }
    out.push_str(&format!(
        "archive {}: {} articles ({:.1} MB) in {} host folder(s), {} run report(s)\n",
        status.archive.dir,
        status.archive.articles,
        status.archive.bytes as f64 / 1_048_576.0,
        status.archive.by_host.len(),
        status.archive.reports
    ));
    out
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(std::iter::once('…')).collect()
    }
}
