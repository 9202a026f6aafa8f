//! Crawling configured sites into the archive (`gazette crawl`): one pass per site,
//! polite per host, incremental and crash-safe.
//!
//! A pass of a site: its start URLs (and feeds, and robots.txt sitemaps) seed a
//! [`frontier::Frontier`]; a loop takes URLs from it and runs each as a task that checks
//! robots.txt, waits for its host slot ([`crate::fetch::host`]), fetches with retries
//! ([`crate::fetch::retry`]), extracts on the blocking pool and archives articles; the
//! loop then records the result in the [`state::CrawlState`] and queues the links found.
//! The frontier is in the state, so a killed pass resumes; articles are keyed by
//! identity URL in the archive, so nothing is stored twice.

pub mod discover;
pub mod frontier;
pub mod report;
pub mod robots;
pub mod state;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::{watch, OnceCell};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};
use url::Url;

use crate::archive::{identity_url, raw_identity, Archive, PutStatus, RawPageRecord};
use crate::config::{host_port, Config, Site};
use crate::decode;
use crate::extract::{ExtractOptions, Extractor, NotArticleKind, Outcome, RawPage};
use crate::fetch::host::{HostKey, HostPool};
use crate::fetch::retry::RetryDecision;
use crate::fetch::{FetchError, Fetched, Fetcher, Validators};
use crate::rules::Rules;

use discover::{CrawlRules, Links, TrapGuard, UrlNormalizer};
use frontier::{Frontier, FrontierItem};
use report::{BlockedHost, RunReport, SiteReport, UrlEntry};
use robots::Robots;
use state::{CrawlState, Enqueued, NewUrl};

/// A crawl that could not run at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CrawlError {
    #[error(transparent)]
    State(#[from] state::StateError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Rules(#[from] crate::rules::RulesError),
    #[error("crawl rules: {0}")]
    CrawlRules(String),
    #[error("no site named {0:?} in the config (known: {1})")]
    UnknownSite(String, String),
    #[error("cannot write the run report: {0}")]
    Report(#[from] crate::archive::ArchiveError),
}

/// Options of one run (command-line limits).
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Only these sites (all enabled sites when empty).
    pub sites: Vec<String>,
    /// Lowers every site's `max_pages`.
    pub max_pages: Option<usize>,
}

/// Asks a running crawl to stop: no new fetches start, in-flight writes finish.
#[derive(Debug, Clone)]
pub struct StopSignal {
    rx: watch::Receiver<bool>,
}

/// The sending half of a [`StopSignal`].
#[derive(Debug)]
pub struct StopHandle {
    tx: watch::Sender<bool>,
}

impl StopHandle {
    pub fn stop(&self) {
        let _ = self.tx.send(true);
    }
}

impl StopSignal {
    pub fn new() -> (StopHandle, StopSignal) {
        let (tx, rx) = watch::channel(false);
        (StopHandle { tx }, StopSignal { rx })
    }

    /// A signal that never fires.
    pub fn never() -> StopSignal {
        let (tx, rx) = watch::channel(false);
        std::mem::forget(tx);
        StopSignal { rx }
    }

    pub fn is_stopped(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once a stop was asked for.
    pub async fn stopped(&self) {
        let mut rx = self.rx.clone();
        while !*rx.borrow_and_update() {
            if rx.changed().await.is_err() {
                // The handle is gone: nobody can ask any more.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Live counters of a run, for a progress display.
#[derive(Debug, Default)]
pub struct Progress {
    pub sites_done: AtomicU64,
    pub pages: AtomicU64,
    pub articles: AtomicU64,
    pub errors: AtomicU64,
    pub queued: AtomicU64,
}

/// The crawler: shared by every site of a run.
pub struct Crawler {
    config: Arc<Config>,
    fetcher: Fetcher,
    raw: reqwest::Client,
    rules: Arc<Rules>,
    archive: Arc<dyn Archive>,
    state: Arc<dyn CrawlState>,
    hosts: Arc<HostPool>,
    robots: RobotsCache,
    normalizer: UrlNormalizer,
    crawl_rules: Arc<CrawlRules>,
    stop: StopSignal,
    progress: Arc<Progress>,
    /// Pages being extracted and archived at once. A thousand sites in flight must not
    /// mean a thousand parsed pages in memory (and as many blocking-pool threads, each
    /// with its own allocator caches): twice the cores keeps them busy through fsyncs.
    extraction_slots: Arc<tokio::sync::Semaphore>,
}

#[derive(Default)]
struct RobotsCache {
    map: Mutex<HashMap<HostKey, Arc<OnceCell<Arc<Robots>>>>>,
}

impl RobotsCache {
    fn cell(&self, key: &HostKey) -> Arc<OnceCell<Arc<Robots>>> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone()
    }

    fn loaded(&self, key: &HostKey) -> Option<Arc<Robots>> {
        self.cell(key).get().cloned()
    }
}

/// What happened to one URL in a task.
#[derive(Debug)]
enum PageOutcome {
    Article {
        status: PutStatus,
        location: String,
        identity: String,
        content_sha256: String,
        spam_removed: usize,
        canonical: Option<String>,
    },
    NotModified,
    List,
    Feed,
    NotArticle {
        kind: NotArticleKind,
        reason: String,
    },
    /// Why (a rule, or robots.txt unreachable).
    RobotsDisallowed(String),
    Blocked(String),
    Failed(String),
    Interrupted,
}

#[derive(Debug)]
struct PageResult {
    item: FrontierItem,
    outcome: PageOutcome,
    http_status: Option<u16>,
    validators: Validators,
    final_url: Option<String>,
    /// Links found (pages, lists, feeds); next pages flagged.
    links: Option<Links>,
    /// Child sitemaps of a sitemap index.
    feeds: Vec<Url>,
    bytes: u64,
    fetched: bool,
}

impl PageResult {
    fn new(item: FrontierItem, outcome: PageOutcome) -> Self {
        PageResult {
            item,
            outcome,
            http_status: None,
            validators: Validators::default(),
            final_url: None,
            links: None,
            feeds: Vec::new(),
            bytes: 0,
            fetched: false,
        }
    }
}

/// The settings of one site during its pass.
struct SiteCtx {
    site: Site,
    extractor: Extractor,
    /// `host[:port]` of the start URLs.
    hosts: Vec<String>,
    /// Column folders of the start URLs (list pages outside them are out of scope).
    columns: Vec<String>,
    max_pages: usize,
}

impl SiteCtx {
    fn looks_like_article(&self, url: &Url, rules: &CrawlRules) -> bool {
        if self.site.article.is_empty() {
            rules.looks_like_article(url)
        } else {
            self.site.article.iter().any(|r| r.is_match(url.as_str()))
        }
    }

    /// Default scope: the start hosts; non-article pages below the start columns.
    fn in_scope(&self, url: &Url, rules: &CrawlRules, kind: &str) -> bool {
        let s = url.as_str();
        if self.site.deny.iter().any(|r| r.is_match(s)) {
            return false;
        }
        if !self.site.allow.is_empty() {
            return self.site.allow.iter().any(|r| r.is_match(s));
        }
        if !self.hosts.contains(&host_port(url)) {
            return false;
        }
        kind == "feed"
            || self.looks_like_article(url, rules)
            || self
                .columns
                .iter()
                .any(|c| url.path().starts_with(c.as_str()))
    }
}

/// The folder of a start URL's path: `/xw/index.html` → `/xw/`, `/xw/` → `/xw/`.
fn column_of(url: &Url) -> String {
    let path = url.path();
    match path.rfind('/') {
        Some(i) => path[..=i].to_string(),
        None => "/".to_string(),
    }
}

/// Removes temporary files that a killed process left in a local archive folder (an
/// atomic write is a temporary file renamed into place; `kill -9` between the two leaves
/// the temporary file). Files of a process that is still running are kept. Returns how
/// many were removed.
pub fn remove_stale_temp_files(root: &std::path::Path) -> usize {
    fn is_running(pid: u32) -> bool {
        if pid == std::process::id() {
            return true;
        }
        let proc = std::path::Path::new("/proc");
        // Without /proc we cannot tell: keep the file.
        !proc.exists() || proc.join(pid.to_string()).exists()
    }
    fn walk(dir: &std::path::Path, removed: &mut usize) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                walk(&path, removed);
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            // `.<name>.tmp-<pid>-<random>` (see `archive::write_atomically`).
            let Some((_, rest)) = name.rsplit_once(".tmp-") else {
                continue;
            };
            if !name.starts_with('.') {
                continue;
            }
            let pid = rest.split('-').next().and_then(|p| p.parse::<u32>().ok());
            if let Some(pid) = pid {
                if !is_running(pid) && std::fs::remove_file(&path).is_ok() {
                    *removed += 1;
                }
            }
        }
    }
    let mut removed = 0;
    walk(root, &mut removed);
    removed
}

/// Runs blocking state work (SQLite) without stalling the async workers that drive the
/// network (a stalled worker delays requests and breaks the host's pacing).
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How many pages may be in extraction at once (see `Crawler::extraction_slots`).
fn extraction_slots() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()) * 2
}

impl Crawler {
    pub fn new(
        config: Arc<Config>,
        archive: Arc<dyn Archive>,
        state: Arc<dyn CrawlState>,
        stop: StopSignal,
    ) -> Result<Self, CrawlError> {
        let fetcher = Fetcher::new(config.fetch.clone())?;
        let rules = Arc::new(Rules::load(config.rules_dir.as_deref())?);
        let mut extra = Vec::new();
        if let Some(dir) = &config.rules_dir {
            let path = dir.join("crawl.toml");
            if let Ok(text) = std::fs::read_to_string(&path) {
                extra.push((path.display().to_string(), text));
            }
        }
        let crawl_rules = Arc::new(CrawlRules::compile(&extra).map_err(CrawlError::CrawlRules)?);
        Ok(Crawler {
            hosts: Arc::new(HostPool::new(config.politeness.clone())),
            normalizer: UrlNormalizer::new(&config.tracking_params),
            raw: raw_client(&config.fetch)?,
            fetcher,
            rules,
            archive,
            state,
            robots: RobotsCache::default(),
            crawl_rules,
            stop,
            config,
            progress: Arc::default(),
            extraction_slots: Arc::new(tokio::sync::Semaphore::new(extraction_slots())),
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Live counters (pages, articles, errors) of the running pass.
    pub fn progress(&self) -> Arc<Progress> {
        self.progress.clone()
    }

    /// Runs one pass over the selected sites (concurrently) and writes the run report.
    pub async fn run(self: &Arc<Self>, options: &RunOptions) -> Result<RunReport, CrawlError> {
        let known: Vec<&str> = self.config.sites.iter().map(|s| s.name.as_str()).collect();
        for wanted in &options.sites {
            if !known.contains(&wanted.as_str()) {
                return Err(CrawlError::UnknownSite(wanted.clone(), known.join(", ")));
            }
        }
        let sites: Vec<Site> = self
            .config
            .sites
            .iter()
            .filter(|s| {
                if options.sites.is_empty() {
                    s.enabled
                } else {
                    options.sites.contains(&s.name)
                }
            })
            .cloned()
            .collect();
        let started = Instant::now();
        let mut report = RunReport {
            started_at: now_rfc3339(),
            ..RunReport::default()
        };
        let mut tasks = JoinSet::new();
        for (index, site) in sites.into_iter().enumerate() {
            let this = self.clone();
            let max_pages = options.max_pages;
            tasks.spawn(async move {
                let name = site.name.clone();
                let result = this.crawl_site(site, max_pages).await;
                (index, name, result)
            });
        }
        let mut site_reports = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((index, _, Ok(r))) => site_reports.push((index, r)),
                Ok((index, name, Err(e))) => {
                    warn!(site = %name, error = %e, "site pass failed");
                    site_reports.push((
                        index,
                        SiteReport {
                            site: name,
                            outcome: "failed".into(),
                            error: Some(e.to_string()),
                            ..SiteReport::default()
                        },
                    ))
                }
                Err(e) => warn!(error = %e, "a site task panicked"),
            }
        }
        site_reports.sort_by_key(|(i, _)| *i);
        report.sites = site_reports.into_iter().map(|(_, r)| r).collect();
        for s in &report.sites {
            report.totals.add(&s.counts);
        }
        report.interrupted = self.stop.is_stopped();
        report.finished_at = now_rfc3339();
        report.duration_secs = started.elapsed().as_secs_f64();
        let json = serde_json::to_vec_pretty(&report).unwrap_or_default();
        let name = report.file_name();
        let archive = self.archive.clone();
        let written = tokio::task::spawn_blocking(move || archive.put_report(&name, &json))
            .await
            .map_err(|e| {
                CrawlError::Report(crate::archive::ArchiveError::Io {
                    path: "reports".into(),
                    source: std::io::Error::other(e.to_string()),
                })
            })??;
        info!(report = %written, "run report written");
        Ok(report)
    }

    async fn crawl_site(
        self: &Arc<Self>,
        site: Site,
        max_pages: Option<usize>,
    ) -> Result<SiteReport, CrawlError> {
        let pass = self.state.begin_pass(&site.name)?;
        info!(site = %site.name, pass = pass.pass, resumed = pass.resumed, "pass starts");
        let extractor = Extractor::new(
            self.rules.clone(),
            ExtractOptions {
                timezone: site.timezone,
                max_bytes: self.config.fetch.max_bytes,
            },
        );
        for url in &site.start_urls {
            if let Some(key) = HostKey::from_url(url) {
                self.hosts.configure(&key, site.concurrency, site.delay);
            }
        }
        let ctx = Arc::new(SiteCtx {
            hosts: site.start_hosts(),
            columns: site.start_urls.iter().map(column_of).collect(),
            max_pages: max_pages.map_or(site.max_pages, |m| m.min(site.max_pages)),
            extractor,
            site,
        });
        let site = &ctx.site;
        let mut report = SiteReport {
            site: site.name.clone(),
            pass: pass.pass,
            resumed: pass.resumed,
            ..SiteReport::default()
        };
        let mut frontier = Frontier::new();
        let mut traps = TrapGuard::default();
        let mut seen: HashSet<String> = HashSet::new();

        // A killed pass's frontier, or the leftovers of a pass cut short by max_pages.
        for q in self.state.queued(&site.name, pass.pass)? {
            seen.insert(q.url.clone());
            frontier.push(FrontierItem {
                url: q.url,
                depth: q.depth,
                kind: q.kind,
            });
        }
        // Seeds: start URLs, configured feeds, robots.txt sitemaps.
        let mut seeds: Vec<(Url, &str)> = Vec::new();
        for url in &site.start_urls {
            if let Some(u) = self.normalizer.normalize(url.clone()) {
                seeds.push((u, "start"));
            }
        }
        for url in &site.feeds {
            if let Some(u) = self.normalizer.normalize(url.clone()) {
                seeds.push((u, "feed"));
            }
        }
        let mut start_keys: Vec<HostKey> = site
            .start_urls
            .iter()
            .filter_map(HostKey::from_url)
            .collect();
        start_keys.sort();
        start_keys.dedup();
        for key in &start_keys {
            let robots = self.robots_for(key).await;
            report
                .robots
                .push((key.to_string(), robots_status(&robots)));
            if site.sitemaps {
                for s in &robots.sitemaps {
                    if let Some(u) = Url::parse(&key.origin())
                        .and_then(|origin| origin.join(s.trim()))
                        .ok()
                        .and_then(|u| self.normalizer.normalize(u))
                    {
                        if ctx.hosts.contains(&host_port(&u)) {
                            seeds.push((u, "feed"));
                        }
                    }
                }
            }
        }
        let new: Vec<NewUrl> = seeds
            .iter()
            .filter(|(u, _)| !seen.contains(u.as_str()))
            .map(|(u, kind)| NewUrl {
                url: u.to_string(),
                host: HostKey::from_url(u)
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                depth: 0,
                kind: kind.to_string(),
            })
            .collect();
        let results = self.state.enqueue(&site.name, pass.pass, &new)?;
        for (n, r) in new.into_iter().zip(results) {
            seen.insert(n.url.clone());
            if let Enqueued::Queued { .. } = r {
                frontier.push(FrontierItem {
                    url: n.url,
                    depth: n.depth,
                    kind: n.kind,
                });
            }
        }

        let max_in_flight = site.concurrency * ctx.hosts.len().max(1) + 2;
        let mut in_flight: JoinSet<PageResult> = JoinSet::new();
        let mut started = 0usize;
        loop {
            while !self.stop.is_stopped()
                && in_flight.len() < max_in_flight
                && started < ctx.max_pages
            {
                let Some(item) = frontier.pop() else { break };
                // robots.txt already known: decide without a task.
                if let Some(key) = Url::parse(&item.url)
                    .ok()
                    .as_ref()
                    .and_then(HostKey::from_url)
                {
                    if let Some(robots) = self.robots.loaded(&key) {
                        if let Ok(u) = Url::parse(&item.url) {
                            if !robots.allowed(&u) {
                                let r = PageResult::new(
                                    item,
                                    PageOutcome::RobotsDisallowed(robots_refusal(&robots)),
                                );
                                blocking(|| {
                                    self.handle_result(
                                        &ctx,
                                        &pass,
                                        r,
                                        &mut report,
                                        &mut frontier,
                                        &mut traps,
                                        &mut seen,
                                    )
                                })?;
                                continue;
                            }
                        }
                    }
                }
                started += 1;
                let this = self.clone();
                let ctx = ctx.clone();
                in_flight.spawn(async move { this.process(ctx, item).await });
            }
            if in_flight.is_empty() {
                break;
            }
            let joined = tokio::select! {
                j = in_flight.join_next() => j,
                _ = self.stop.stopped(), if !self.stop.is_stopped() => continue,
            };
            match joined {
                Some(Ok(result)) => blocking(|| {
                    self.handle_result(
                        &ctx,
                        &pass,
                        result,
                        &mut report,
                        &mut frontier,
                        &mut traps,
                        &mut seen,
                    )
                })?,
                Some(Err(e)) => warn!(site = %site.name, error = %e, "a page task failed"),
                None => break,
            }
        }

        report.counts.left_queued += frontier.len() as u64;
        self.progress.sites_done.fetch_add(1, Ordering::Relaxed);
        report.outcome = if self.stop.is_stopped() {
            "interrupted".into()
        } else if !frontier.is_empty() {
            "max_pages".into()
        } else {
            "done".into()
        };
        if report.outcome != "interrupted" {
            let summary = serde_json::to_string(&report.counts).unwrap_or_default();
            self.state.end_pass(&site.name, &report.outcome, &summary)?;
        }
        info!(
            site = %site.name,
            outcome = %report.outcome,
            pages = report.counts.pages_fetched,
            new = report.counts.articles_new,
            "pass ends"
        );
        Ok(report)
    }

    /// Records one result and queues the links it found.
    #[allow(clippy::too_many_arguments)]
    fn handle_result(
        &self,
        ctx: &SiteCtx,
        pass: &state::PassInfo,
        r: PageResult,
        report: &mut SiteReport,
        frontier: &mut Frontier,
        traps: &mut TrapGuard,
        seen: &mut HashSet<String>,
    ) -> Result<(), CrawlError> {
        let site = &ctx.site;
        let c = &mut report.counts;
        if r.fetched {
            c.pages_fetched += 1;
            c.bytes += r.bytes;
            self.progress.pages.fetch_add(1, Ordering::Relaxed);
        }
        match &r.outcome {
            PageOutcome::Article { .. } => {
                self.progress.articles.fetch_add(1, Ordering::Relaxed);
            }
            PageOutcome::Failed(_) | PageOutcome::Blocked(_) => {
                self.progress.errors.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
        self.progress
            .queued
            .store(frontier.len() as u64, Ordering::Relaxed);
        let url = r.item.url.clone();
        let previous = self.state.get(&url)?;
        let mut record = previous.clone().unwrap_or_default();
        record.url = url.clone();
        record.site = site.name.clone();
        record.host = Url::parse(&url)
            .ok()
            .as_ref()
            .and_then(HostKey::from_url)
            .map(|k| k.to_string())
            .unwrap_or_default();
        record.depth = r.item.depth;
        record.kind = r.item.kind.clone();
        record.pass = pass.pass;
        if r.fetched {
            record.last_fetch = Some(now_rfc3339());
            record.http_status = r.http_status;
            record.tries += 1;
        }
        let mut entry = UrlEntry {
            url: url.clone(),
            result: String::new(),
            reason: None,
            http_status: r.http_status,
            archive_path: None,
        };
        let mut aliases: Vec<String> = Vec::new();
        match &r.outcome {
            PageOutcome::Article {
                status,
                location,
                identity,
                content_sha256,
                spam_removed,
                canonical,
            } => {
                match status {
                    PutStatus::New => c.articles_new += 1,
                    PutStatus::Updated => c.articles_updated += 1,
                    PutStatus::Unchanged => c.articles_unchanged += 1,
                }
                if *spam_removed > 0 {
                    c.spam_removed += 1;
                    entry.reason = Some(format!("{spam_removed} injected spam block(s) removed"));
                }
                entry.result = format!(
                    "article_{}",
                    match status {
                        PutStatus::New => "new",
                        PutStatus::Updated => "updated",
                        PutStatus::Unchanged => "unchanged",
                    }
                );
                entry.archive_path = Some(location.clone());
                record.status = "article".into();
                record.reason = None;
                record.etag = r.validators.etag.clone();
                record.last_modified = r.validators.last_modified.clone();
                record.content_sha256 = Some(content_sha256.clone());
                record.archive_path = Some(location.clone());
                record.identity_url = Some(identity.clone());
                aliases.extend(r.final_url.iter().cloned());
                aliases.extend(canonical.iter().cloned());
                aliases.push(identity.clone());
            }
            PageOutcome::NotModified => {
                c.not_modified += 1;
                entry.result = "not_modified".into();
                entry.archive_path = record.archive_path.clone();
                if record.status.is_empty() || record.status == "queued" {
                    record.status = "list".into();
                }
            }
            PageOutcome::List => {
                c.list_pages += 1;
                entry.result = "list".into();
                record.status = "list".into();
                record.reason = None;
                record.etag = r.validators.etag.clone();
                record.last_modified = r.validators.last_modified.clone();
            }
            PageOutcome::Feed => {
                c.feeds += 1;
                entry.result = "feed".into();
                record.status = "list".into();
                record.reason = None;
            }
            PageOutcome::NotArticle { kind, reason } => {
                let kind_name = serde_json::to_value(kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                if *kind == NotArticleKind::SpamPage {
                    c.spam_pages += 1;
                    entry.result = "spam_page".into();
                } else {
                    c.not_articles += 1;
                    entry.result = "not_article".into();
                }
                entry.reason = Some(format!("{kind_name}: {reason}"));
                record.status = "not_article".into();
                record.reason = entry.reason.clone();
                record.etag = r.validators.etag.clone();
                record.last_modified = r.validators.last_modified.clone();
            }
            PageOutcome::RobotsDisallowed(reason) => {
                c.robots_disallowed += 1;
                entry.result = "robots_disallowed".into();
                entry.reason = Some(reason.clone());
                record.status = "skipped".into();
                record.reason = entry.reason.clone();
            }
            PageOutcome::Blocked(reason) => {
                c.blocked += 1;
                entry.result = "blocked".into();
                entry.reason = Some(reason.clone());
                record.status = "blocked".into();
                record.reason = Some(reason.clone());
                let host = record.host.clone();
                if !report.blocked_hosts.iter().any(|b| b.host == host) {
                    report.blocked_hosts.push(BlockedHost {
                        host: host.clone(),
                        reason: reason.clone(),
                    });
                    let mut h = self.state.host(&host)?.unwrap_or_default();
                    h.host = host;
                    h.blocked_reason = Some(reason.clone());
                    h.blocked_at = Some(now_rfc3339());
                    self.state.put_host(&h)?;
                }
            }
            PageOutcome::Failed(reason) => {
                c.failed += 1;
                entry.result = "failed".into();
                entry.reason = Some(reason.clone());
                record.status = "failed".into();
                record.reason = Some(reason.clone());
            }
            PageOutcome::Interrupted => {
                // Stays queued: the next run resumes it.
                entry.result = "interrupted".into();
                c.left_queued += 1;
                report.urls.push(entry);
                return Ok(());
            }
        }
        self.state.record(&record)?;
        // Other addresses of the same article are not fetched again.
        for alias in aliases {
            if alias != url && seen.insert(alias.clone()) {
                let mut a = record.clone();
                a.url = alias;
                a.kind = "alias".into();
                if self
                    .state
                    .get(&a.url)?
                    .map_or(true, |old| old.status != "article")
                {
                    self.state.record(&a)?;
                }
            }
        }
        report.urls.push(entry);

        // Links.
        let mut feeds_found: Vec<NewUrl> = r
            .feeds
            .iter()
            .filter(|u| ctx.in_scope(u, &self.crawl_rules, "feed"))
            .map(|u| NewUrl {
                url: u.to_string(),
                host: HostKey::from_url(u)
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                depth: r.item.depth,
                kind: "feed".into(),
            })
            .collect();
        let Some(links) = r.links else {
            if !feeds_found.is_empty() {
                self.enqueue(ctx, pass, &mut feeds_found, frontier, seen)?;
            }
            return Ok(());
        };
        let from_feed = r.item.kind == "feed";
        let mut others = feeds_found;
        let mut nexts = Vec::new();
        for link in &links.links {
            let is_next = links.next_pages.contains(link);
            let kind = if is_next {
                "list"
            } else if ctx.looks_like_article(link, &self.crawl_rules) {
                "article"
            } else {
                "page"
            };
            if seen.contains(link.as_str()) {
                continue;
            }
            if !ctx.in_scope(link, &self.crawl_rules, kind) {
                // Counted once per pass (scope does not change within a pass).
                seen.insert(link.to_string());
                report.counts.out_of_scope += 1;
                continue;
            }
            let depth = if is_next || from_feed {
                r.item.depth
            } else {
                r.item.depth + 1
            };
            if depth > site.max_depth {
                report.counts.depth_limited += 1;
                continue;
            }
            if let Err(reason) = traps.check(link, &self.config.limits) {
                seen.insert(link.to_string());
                report.counts.traps_skipped += 1;
                report.urls.push(UrlEntry {
                    url: link.to_string(),
                    result: "trap".into(),
                    reason: Some(reason.clone()),
                    http_status: None,
                    archive_path: None,
                });
                continue;
            }
            let new = NewUrl {
                url: link.to_string(),
                host: HostKey::from_url(link)
                    .map(|k| k.to_string())
                    .unwrap_or_default(),
                depth,
                kind: kind.to_string(),
            };
            if is_next {
                nexts.push(new);
            } else {
                others.push(new);
            }
        }
        let results = self.enqueue(ctx, pass, &mut others, frontier, seen)?;
        let fresh = results
            .iter()
            .filter(|r| matches!(r, Enqueued::Queued { fresh: true }))
            .count();
        let known = results
            .iter()
            .filter(|r| matches!(r, Enqueued::KnownArticle))
            .count();
        report.counts.known_articles += known as u64;
        if pass.has_history && known > 0 && fresh == 0 && !nexts.is_empty() {
            // Incremental stop: this list page shows only articles we already have.
            report.counts.incremental_stops += 1;
            debug!(url = %url, "paging stops: only known articles");
            for n in &nexts {
                seen.insert(n.url.clone());
            }
        } else {
            self.enqueue(ctx, pass, &mut nexts, frontier, seen)?;
        }
        Ok(())
    }

    fn enqueue(
        &self,
        ctx: &SiteCtx,
        pass: &state::PassInfo,
        urls: &mut Vec<NewUrl>,
        frontier: &mut Frontier,
        seen: &mut HashSet<String>,
    ) -> Result<Vec<Enqueued>, CrawlError> {
        urls.retain(|u| seen.insert(u.url.clone()));
        if urls.is_empty() {
            return Ok(Vec::new());
        }
        let results = self.state.enqueue(&ctx.site.name, pass.pass, urls)?;
        for (u, r) in urls.iter().zip(&results) {
            if let Enqueued::Queued { .. } = r {
                frontier.push(FrontierItem {
                    url: u.url.clone(),
                    depth: u.depth,
                    kind: u.kind.clone(),
                });
            }
        }
        Ok(results)
    }

    /// robots.txt of a host, fetched once per run.
    async fn robots_for(&self, key: &HostKey) -> Arc<Robots> {
        let cell = self.robots.cell(key);
        cell.get_or_init(|| async {
            let robots = if !self.config.respect_robots {
                Robots::allow_all(0)
            } else {
                self.fetch_robots(key).await
            };
            if let Some(delay) = robots.crawl_delay {
                let capped = delay.min(self.config.crawl_delay_cap);
                if capped < delay {
                    info!(host = %key, requested = ?delay, used = ?capped, "robots.txt Crawl-delay capped");
                } else {
                    info!(host = %key, delay = ?capped, "robots.txt Crawl-delay honoured");
                }
                self.hosts.raise_delay(key, capped);
            }
            Arc::new(robots)
        })
        .await
        .clone()
    }

    async fn fetch_robots(&self, key: &HostKey) -> Robots {
        let Ok(url) = Url::parse(&format!("{}robots.txt", key.origin())) else {
            return Robots::allow_all(0);
        };
        let result = {
            let permit = self.hosts.acquire(key).await;
            permit.sending();
            tokio::select! {
                r = fetch_raw(&self.raw, &url, 512 * 1024) => Some(r),
                _ = self.stop.stopped() => None,
            }
        };
        let (robots, text) = match result {
            None => (Robots::disallow_all("interrupted"), None),
            Some(Ok(r)) if (200..300).contains(&r.status) => {
                let text = String::from_utf8_lossy(&r.body).into_owned();
                (
                    Robots::parse(&text, &self.config.fetch.user_agent),
                    Some(text),
                )
            }
            Some(Ok(r)) if (400..500).contains(&r.status) => (Robots::allow_all(r.status), None),
            Some(Ok(r)) => {
                warn!(host = %key, status = r.status, "robots.txt unavailable: the host is skipped this pass");
                (Robots::disallow_all(format!("HTTP {}", r.status)), None)
            }
            Some(Err(e)) => {
                warn!(host = %key, error = %e, "robots.txt unreachable: the host is skipped this pass");
                (Robots::disallow_all(e), None)
            }
        };
        let mut record = self
            .state
            .host(&key.to_string())
            .ok()
            .flatten()
            .unwrap_or_default();
        record.host = key.to_string();
        record.robots_status = Some(robots_status(&robots));
        record.robots_fetched_at = Some(now_rfc3339());
        record.robots_txt = text;
        record.crawl_delay_ms = robots.crawl_delay.map(|d| d.as_millis() as u64);
        if let Err(e) = self.state.put_host(&record) {
            warn!(error = %e, "cannot record robots.txt in the state");
        }
        robots
    }

    /// Fetches, extracts and archives one URL.
    async fn process(self: Arc<Self>, ctx: Arc<SiteCtx>, item: FrontierItem) -> PageResult {
        let Ok(url) = Url::parse(&item.url) else {
            return PageResult::new(item, PageOutcome::Failed("not a valid URL".into()));
        };
        let Some(key) = HostKey::from_url(&url) else {
            return PageResult::new(item, PageOutcome::Failed("URL without a host".into()));
        };
        if let Some(reason) = self.hosts.blocked(&key) {
            return PageResult::new(
                item,
                PageOutcome::Blocked(format!("host paused for this pass: {reason}")),
            );
        }
        let robots = self.robots_for(&key).await;
        if !robots.allowed(&url) {
            return PageResult::new(item, PageOutcome::RobotsDisallowed(robots_refusal(&robots)));
        }
        let previous = blocking(|| self.state.get(&item.url).ok().flatten());
        let validators = previous
            .as_ref()
            // (A page queued again for this pass has status `queued`: its validators
            // are still those of its last fetch.)
            .filter(|p| {
                p.last_fetch.is_some() && !matches!(p.status.as_str(), "failed" | "blocked")
            })
            .map(|p| Validators {
                etag: p.etag.clone(),
                last_modified: p.last_modified.clone(),
            })
            .filter(|v| !v.is_empty());

        let policy = &self.config.retry;
        let mut tries = 0u32;
        let fetched = loop {
            tries += 1;
            let attempt = async {
                let permit = self.hosts.acquire(&key).await;
                if let Some(reason) = self.hosts.blocked(&key) {
                    return Ok(Got::HostBlocked(reason));
                }
                permit.sending();
                if item.kind == "feed" {
                    return match fetch_raw(&self.raw, &url, self.config.fetch.max_bytes).await {
                        Ok(r) if (200..300).contains(&r.status) => Ok(Got::Feed(r)),
                        Ok(r) => Err(FetchError::Status {
                            url: item.url.clone(),
                            status: r.status,
                            reason: String::new(),
                            retry_after: None,
                        }),
                        Err(message) => Err(FetchError::Network {
                            url: item.url.clone(),
                            message,
                        }),
                    };
                }
                match self.fetcher.fetch(&url, validators.as_ref()).await? {
                    Fetched::Page(page) => Ok(Got::Page(page)),
                    Fetched::NotModified { .. } => Ok(Got::NotModified),
                }
            };
            let result = tokio::select! {
                r = attempt => r,
                _ = self.stop.stopped() => return PageResult::new(item, PageOutcome::Interrupted),
            };
            match result {
                Ok(f) => break f,
                Err(e) => {
                    if let Some(reason) = e.wall().map(|w| w.to_string()) {
                        warn!(host = %key, reason = %reason, "anti-bot wall: host paused for this pass");
                        self.hosts.block(&key, &reason);
                        let mut r = PageResult::new(item, PageOutcome::Blocked(reason));
                        r.fetched = true;
                        return r;
                    }
                    let retry_after = e.retry_after();
                    match policy.decide(tries, e.is_retryable(), retry_after, fastrand::f64()) {
                        RetryDecision::Retry(wait) => {
                            debug!(url = %url, error = %e, ?wait, tries, "retrying");
                            if retry_after.is_some() {
                                self.hosts
                                    .pause_until(&key, tokio::time::Instant::now() + wait);
                            }
                            tokio::select! {
                                _ = tokio::time::sleep(wait) => {}
                                _ = self.stop.stopped() => return PageResult::new(item, PageOutcome::Interrupted),
                            }
                        }
                        RetryDecision::GiveUp => {
                            let status = e.status();
                            let reason = if tries > 1 {
                                format!("{e} (gave up after {tries} tries)")
                            } else {
                                e.to_string()
                            };
                            let mut r = PageResult::new(item, PageOutcome::Failed(reason));
                            r.http_status = status;
                            r.fetched = status.is_some();
                            return r;
                        }
                    }
                }
            }
        };
        let page = match fetched {
            Got::HostBlocked(reason) => {
                return PageResult::new(
                    item,
                    PageOutcome::Blocked(format!("host paused for this pass: {reason}")),
                )
            }
            Got::Feed(feed) => {
                let body = discover::maybe_gunzip(&feed.body, self.config.fetch.max_bytes);
                let text = String::from_utf8_lossy(&body);
                let links = discover::parse_feed(&text, &feed.final_url, &self.normalizer);
                let mut r = PageResult::new(item, PageOutcome::Feed);
                r.fetched = true;
                r.http_status = Some(feed.status);
                r.bytes = feed.body.len() as u64;
                r.feeds = links.sitemaps;
                r.links = Some(Links {
                    links: links.pages,
                    next_pages: Vec::new(),
                    canonical: None,
                });
                return r;
            }
            Got::NotModified => {
                let mut r = PageResult::new(item, PageOutcome::NotModified);
                r.fetched = true;
                r.http_status = Some(304);
                if let Some(v) = validators {
                    r.validators = v;
                }
                return r;
            }
            Got::Page(page) => page,
        };
        let http_status = page.http.as_ref().map(|h| h.status);
        let validators = Validators {
            etag: page.http.as_ref().and_then(|h| h.etag.clone()),
            last_modified: page.http.as_ref().and_then(|h| h.last_modified.clone()),
        };
        let final_url = page
            .final_url
            .clone()
            .and_then(|u| self.normalizer.normalize(u))
            .map(|u| u.to_string());
        let bytes = page.bytes.len() as u64;

        // Extraction and archiving on the blocking pool (CPU and fsync).
        let this = self.clone();
        let ctx2 = ctx.clone();
        let looks_like_article = ctx.looks_like_article(&url, &self.crawl_rules);
        // The semaphore is never closed; without a permit the page is extracted anyway.
        let slot = self.extraction_slots.clone().acquire_owned().await.ok();
        let work = tokio::task::spawn_blocking(move || {
            let done = this.extract_and_store(&ctx2, page, looks_like_article);
            drop(slot);
            done
        });
        let (outcome, links) = match work.await {
            Ok(x) => x,
            Err(e) => (
                PageOutcome::Failed(format!("extraction task failed: {e}")),
                None,
            ),
        };
        if let PageOutcome::Blocked(reason) = &outcome {
            self.hosts.block(&key, reason);
        }
        let mut r = PageResult::new(item, outcome);
        r.fetched = true;
        r.http_status = http_status;
        r.validators = validators;
        r.final_url = final_url;
        r.links = links;
        r.bytes = bytes;
        r
    }

    /// Decodes once, extracts the article (or not), finds the links, archives.
    fn extract_and_store(
        &self,
        ctx: &SiteCtx,
        mut page: RawPage,
        looks_like_article: bool,
    ) -> (PageOutcome, Option<Links>) {
        // Identities (article and raw page) use the crawl's normalised URLs, so a later
        // `reextract` maps every page to the same article.
        page.url = page
            .url
            .take()
            .map(|u| self.normalizer.normalize(u.clone()).unwrap_or(u));
        page.final_url = page
            .final_url
            .take()
            .map(|u| self.normalizer.normalize(u.clone()).unwrap_or(u));
        if page.bytes.is_empty() {
            return (
                PageOutcome::NotArticle {
                    kind: NotArticleKind::Empty,
                    reason: "the server sent an empty body".into(),
                },
                None,
            );
        }
        if let Some(kind) = decode::binary_signature(&page.bytes) {
            return (
                PageOutcome::NotArticle {
                    kind: NotArticleKind::Empty,
                    reason: format!("not HTML: {kind}"),
                },
                None,
            );
        }
        let decoded = decode::decode_with_override(
            &page.bytes,
            page.content_type.as_deref(),
            ctx.site.charset,
        );
        let address = page
            .final_url
            .clone()
            .or_else(|| page.url.clone())
            .unwrap_or_else(|| Url::parse("http://invalid/").expect("static URL"));
        let links =
            discover::discover_links(&decoded.text, &address, &self.normalizer, &self.crawl_rules);
        let outcome = ctx.extractor.process_decoded(&page, &decoded);
        if let Some(key) = raw_identity(Some(&outcome), &page) {
            let mut record = RawPageRecord::from_page(&page);
            record.charset_override = ctx.site.charset.map(|e| e.name().to_string());
            if let Err(e) = self.archive.put_raw(&key, &record) {
                warn!(url = %key, error = %e, "cannot keep the raw page");
            }
        }
        let result = match outcome {
            Outcome::Article(article) => {
                let identity = identity_url(&article).unwrap_or_default().to_string();
                let spam_removed = article.spam.len();
                let content_sha256 = article.content_sha256.clone();
                let canonical = article.canonical_url.clone();
                match self.archive.put(&article) {
                    Ok(stored) => PageOutcome::Article {
                        status: stored.status,
                        location: stored.location,
                        identity,
                        content_sha256,
                        spam_removed,
                        canonical,
                    },
                    Err(e) => PageOutcome::Failed(format!("cannot archive: {e}")),
                }
            }
            Outcome::NotArticle(not) => match not.kind {
                NotArticleKind::ListPage => PageOutcome::List,
                NotArticleKind::Challenge => {
                    PageOutcome::Blocked(format!("anti-bot wall: {}", not.reason))
                }
                kind => {
                    let _ = looks_like_article;
                    PageOutcome::NotArticle {
                        kind,
                        reason: not.reason,
                    }
                }
            },
        };
        (result, Some(links))
    }
}

/// Why robots.txt refuses a URL, for the report.
fn robots_refusal(robots: &Robots) -> String {
    match &robots.source {
        robots::RobotsSource::Unreachable(e) => {
            format!("robots.txt unreachable ({e}): the host is not crawled this pass")
        }
        _ => "robots.txt disallows it for our User-Agent".into(),
    }
}

fn robots_status(robots: &Robots) -> String {
    match &robots.source {
        robots::RobotsSource::Parsed => "parsed".into(),
        robots::RobotsSource::Unavailable(0) => "not checked (respect_robots = false)".into(),
        robots::RobotsSource::Unavailable(s) => format!("none (HTTP {s}): all allowed"),
        robots::RobotsSource::Unreachable(e) => {
            format!("unreachable ({e}): all disallowed this pass")
        }
    }
}

// ── Raw fetches (robots.txt, sitemaps, feeds) ─────────────────────────────────────
// `Fetcher` returns HTML pages only; these documents are text or XML, so they go through
// a plain client with the same User-Agent, timeouts and redirect limit.

/// What one fetch attempt got.
enum Got {
    /// The host was found blocked once this request's turn came.
    HostBlocked(String),
    Page(RawPage),
    NotModified,
    Feed(RawResponse),
}

/// A raw response: status, final URL and the body (bounded).
struct RawResponse {
    status: u16,
    final_url: Url,
    body: Vec<u8>,
}

fn raw_client(options: &crate::fetch::FetchOptions) -> Result<reqwest::Client, FetchError> {
    reqwest::Client::builder()
        .user_agent(options.user_agent.clone())
        .connect_timeout(options.connect_timeout)
        .timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
        .build()
        .map_err(|e| FetchError::Client(e.to_string()))
}

async fn fetch_raw(
    client: &reqwest::Client,
    url: &Url,
    limit: usize,
) -> Result<RawResponse, String> {
    let mut response = client.get(url.clone()).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("{url}: timed out")
        } else {
            format!("{url}: {e}")
        }
    })?;
    let status = response.status().as_u16();
    let final_url = response.url().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| format!("{url}: {e}"))? {
        if body.len() + chunk.len() > limit {
            return Err(format!("{url}: larger than {limit} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        final_url,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_temp_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("host/2023/10");
        std::fs::create_dir_all(&sub).unwrap();
        let dead = sub.join(".abc.json.tmp-999999999-42");
        let alive = sub.join(format!(".def.json.tmp-{}-7", std::process::id()));
        let article = sub.join("abc.json");
        for p in [&dead, &alive, &article] {
            std::fs::write(p, b"{}").unwrap();
        }
        assert_eq!(remove_stale_temp_files(dir.path()), 1);
        assert!(!dead.exists() && alive.exists() && article.exists());
    }

    #[test]
    fn columns_of_start_urls() {
        let u = |s: &str| Url::parse(s).unwrap();
        assert_eq!(column_of(&u("http://a.gov.cn/xw/index.html")), "/xw/");
        assert_eq!(column_of(&u("http://a.gov.cn/xw/")), "/xw/");
        assert_eq!(column_of(&u("http://a.gov.cn")), "/");
    }
}
