//! `gazette schedule [--config FILE] [--archive DIR] [--listen 127.0.0.1:PORT]`
//!
//! A long-running service: crawls each site on its schedule (see `gazette::schedule`),
//! passes of different sites concurrently (the crawl's global and per-host limits still
//! hold), never two passes of one site at once. The run history lives in the crawl
//! state, so a restart keeps the schedule. SIGTERM / Ctrl-C: no new passes, running ones
//! finish their in-flight pages within `shutdown_grace`, exit 0. SIGHUP: reload the
//! config (a bad one is reported and the old one kept).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::Args;
use gazette::archive::{ArchiveOptions, LocalArchive};
use gazette::config::{Config, ConfigError, Site};
use gazette::crawl::report::{RunReport, SiteReport};
use gazette::crawl::state::{CrawlState, SqliteState};
use gazette::crawl::{CrawlError, Crawler, RunOptions, StopHandle, StopSignal};
use gazette::metrics::{self, Health, Metrics, PassMetrics, SiteGauges};
use gazette::schedule::store::{parse_time, rfc3339, PassSummary, ScheduleStore};
use gazette::schedule::{RunRecord, SiteSchedule, Timetable};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

use crate::commands::crawl::{init_logging, LogFormat};
use crate::exit;

/// How long one crawler (and its robots.txt cache) is used.
const ROBOTS_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

#[derive(Args)]
pub struct ScheduleArgs {
    /// The configuration file (re-read on SIGHUP).
    #[arg(long, value_name = "FILE", default_value = "config/gazette.toml")]
    config: PathBuf,
    /// The archive folder (overrides the config's archive_dir).
    #[arg(long, value_name = "DIR")]
    archive: Option<PathBuf>,
    /// Serve /healthz and /metrics (Prometheus) on this address, e.g. 127.0.0.1:9750.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Log format on stderr (the level comes from GAZETTE_LOG, default "info").
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// Loads the config with the command line's archive override.
pub fn load_config(path: &Path, archive: Option<&Path>) -> Result<Config, ConfigError> {
    let mut config = Config::load(path)?;
    if let Some(dir) = archive {
        config.archive_dir = dir.to_path_buf();
    }
    Ok(config)
}

/// The schedules of the enabled sites, or the first bad one.
fn site_schedules(config: &Config) -> Result<Vec<(Site, SiteSchedule)>, String> {
    config
        .sites
        .iter()
        .filter(|s| s.enabled)
        .map(|s| {
            SiteSchedule::for_site(
                s.schedule.as_deref(),
                config.default_schedule.as_deref(),
                s.timezone,
            )
            .map(|sched| (s.clone(), sched))
            .map_err(|e| format!("site {:?}: {e}", s.name))
        })
        .collect()
}

pub fn run(args: ScheduleArgs) -> Result<u8> {
    init_logging(args.log_format);
    let config = match load_config(&args.config, args.archive.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gazette: {e}");
            return Ok(exit::CONFIG);
        }
    };
    if let Err(e) = site_schedules(&config) {
        eprintln!("gazette: config: {e}");
        return Ok(exit::CONFIG);
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(serve(args, config))
}

/// What a pass task hands back.
struct PassDone {
    site: String,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
    result: Result<RunReport, CrawlError>,
}

/// The service state owned by the main loop.
struct Service {
    config_path: PathBuf,
    archive_override: Option<PathBuf>,
    config: Arc<Config>,
    sites: HashMap<String, Site>,
    crawler: Arc<Crawler>,
    /// When `crawler` was built: its robots.txt cache is as old as it is.
    crawler_built: std::time::Instant,
    stop: StopSignal,
    state: Arc<SqliteState>,
    store: Arc<ScheduleStore>,
    archive: Arc<LocalArchive>,
    timetable: Timetable,
    metrics: Arc<Metrics>,
    /// The next runs last written to the state, to write only changes.
    persisted_next: HashMap<String, DateTime<Utc>>,
}

async fn serve(args: ScheduleArgs, config: Config) -> Result<u8> {
    let state_path = config.state_path();
    let state = Arc::new(SqliteState::open(&state_path)?);
    let store = Arc::new(ScheduleStore::open(&state_path)?);
    let archive = Arc::new(LocalArchive::with_options(
        &config.archive_dir,
        ArchiveOptions {
            keep_raw: config.keep_raw,
        },
    ));
    let (stop_handle, stop) = StopSignal::new();
    let config = Arc::new(config);
    let crawler = Arc::new(Crawler::new(
        config.clone(),
        archive.clone(),
        state.clone(),
        stop.clone(),
    )?);
    let metrics = Arc::new(Metrics::new(unix_seconds(Utc::now())));
    let (health_tx, health_rx) = watch::channel(Health::Running);
    let (http_stop_tx, http_stop_rx) = watch::channel(false);
    let http = match args.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("cannot listen on {addr}"))?;
            info!(address = %listener.local_addr().unwrap_or(addr), "serving /healthz and /metrics");
            Some(tokio::spawn(metrics::serve(
                listener,
                metrics.clone(),
                health_rx,
                http_stop_rx,
            )))
        }
        None => None,
    };

    let mut service = Service {
        config_path: args.config.clone(),
        archive_override: args.archive.clone(),
        timetable: Timetable::new(config.scheduler.clone(), fastrand::Rng::new()),
        sites: HashMap::new(),
        config,
        crawler,
        crawler_built: std::time::Instant::now(),
        stop,
        state,
        store,
        archive,
        metrics,
        persisted_next: HashMap::new(),
    };
    service.load_sites(Utc::now());
    let code = service.run_loop(stop_handle, &health_tx).await;
    let _ = http_stop_tx.send(true);
    if let Some(http) = http {
        let _ = http.await;
    }
    Ok(code)
}

impl Service {
    /// Puts the enabled sites of the current config into the timetable.
    fn load_sites(&mut self, now: DateTime<Utc>) {
        let schedules = match site_schedules(&self.config) {
            Ok(s) => s,
            Err(e) => {
                error!(error = %e, "bad schedule");
                return;
            }
        };
        self.timetable.set_settings(self.config.scheduler.clone());
        let names: Vec<String> = schedules.iter().map(|(s, _)| s.name.clone()).collect();
        self.sites.clear();
        for (site, schedule) in schedules {
            let record = self.run_record(&site.name);
            self.timetable
                .upsert(&site.name, schedule.clone(), record, now);
            if let Some(entry) = self.timetable.get(&site.name) {
                info!(
                    site = %site.name,
                    schedule = %schedule.schedule,
                    next = %rfc3339(entry.next),
                    reason = ?entry.reason,
                    "scheduled"
                );
            }
            if let Ok(Some(row)) = self.store.row(&site.name) {
                self.metrics
                    .set_last_success(&site.name, row.last_success.map(unix_seconds));
                if let Some(p) = &row.last_pass {
                    self.metrics.set_flags(
                        &site.name,
                        !p.blocked_hosts.is_empty(),
                        p.spam_pages > 0,
                    );
                }
            }
            self.sites.insert(site.name.clone(), site);
        }
        if names.is_empty() {
            warn!("no enabled site in the config: nothing to schedule");
        }
        let keep: Vec<&str> = names.iter().map(String::as_str).collect();
        self.timetable.retain(&keep);
        self.metrics.retain_sites(&keep);
        self.persisted_next
            .retain(|name, _| keep.contains(&name.as_str()));
        for name in &names {
            self.refresh_gauges(name);
        }
    }

    /// The run history of a site: the scheduler's row, else what `gazette crawl` left.
    fn run_record(&self, site: &str) -> RunRecord {
        match self.store.row(site) {
            Ok(Some(row)) => return row.run_record(),
            Ok(None) => {}
            Err(e) => warn!(site, error = %e, "cannot read the schedule state"),
        }
        match self.state.site_run(site) {
            Ok(Some(run)) => RunRecord {
                last_start: parse_time(run.last_start.as_deref()),
                last_finish: if run.running {
                    None
                } else {
                    parse_time(run.last_end.as_deref())
                },
                consecutive_failures: u32::from(run.last_outcome.as_deref() == Some("failed")),
            },
            _ => RunRecord::default(),
        }
    }

    /// SIGHUP: re-reads the config; a bad one is reported and the running one kept.
    fn reload(&mut self) {
        let loaded = load_config(&self.config_path, self.archive_override.as_deref())
            .map_err(|e| e.to_string())
            .and_then(|c| site_schedules(&c).map(|_| c));
        let config = match loaded {
            Ok(c) => c,
            Err(e) => {
                error!(error = %e, "config reload failed; keeping the running config");
                return;
            }
        };
        if config.state_path() != self.config.state_path()
            || config.archive_dir != self.config.archive_dir
        {
            warn!("archive_dir / state changes take effect on restart, not on reload");
        }
        let config = Arc::new(config);
        // Passes already running finish with the crawler they started with.
        match Crawler::new(
            config.clone(),
            self.archive.clone(),
            self.state.clone(),
            self.stop.clone(),
        ) {
            Ok(crawler) => {
                self.crawler = Arc::new(crawler);
                self.crawler_built = std::time::Instant::now();
            }
            Err(e) => {
                error!(error = %e, "config reload failed; keeping the running config");
                return;
            }
        }
        self.config = config;
        self.load_sites(Utc::now());
        info!(sites = self.sites.len(), "config reloaded");
    }

    /// Rebuilds the crawler once a day while no pass runs, so that robots.txt (cached per
    /// crawler) is read again at least every 24 h, as RFC 9309 asks.
    fn refresh_crawler(&mut self, idle: bool) {
        if !idle || self.crawler_built.elapsed() < ROBOTS_MAX_AGE {
            return;
        }
        match Crawler::new(
            self.config.clone(),
            self.archive.clone(),
            self.state.clone(),
            self.stop.clone(),
        ) {
            Ok(crawler) => {
                self.crawler = Arc::new(crawler);
                info!("crawler renewed: robots.txt will be read again");
            }
            Err(e) => warn!(error = %e, "cannot renew the crawler; keeping the old one"),
        }
        // On failure too: try again tomorrow rather than on every wake-up.
        self.crawler_built = std::time::Instant::now();
    }

    fn start_due(&mut self, passes: &mut JoinSet<PassDone>) {
        self.refresh_crawler(passes.is_empty());
        let now = Utc::now();
        for name in self.timetable.take_due(now) {
            let Some(site) = self.sites.get(&name) else {
                continue;
            };
            if let Err(e) = self.store.pass_started(&name, now) {
                warn!(site = %name, error = %e, "cannot record the pass start");
            }
            info!(site = %name, "pass starts");
            let crawler = self.crawler.clone();
            let options = RunOptions {
                sites: vec![site.name.clone()],
                max_pages: None,
            };
            passes.spawn(async move {
                let started = Utc::now();
                let result = crawler.run(&options).await;
                PassDone {
                    site: name,
                    started,
                    finished: Utc::now(),
                    result,
                }
            });
            self.refresh_gauges(&site.name.clone());
        }
    }

    fn finish_pass(&mut self, done: PassDone) {
        let site_config = self.sites.get(&done.site).cloned();
        let report = match &done.result {
            Ok(run) => run
                .sites
                .iter()
                .find(|s| s.site == done.site)
                .cloned()
                .unwrap_or_else(|| SiteReport {
                    site: done.site.clone(),
                    outcome: "failed".into(),
                    error: Some("the crawl returned no report for the site".into()),
                    ..SiteReport::default()
                }),
            Err(e) => SiteReport {
                site: done.site.clone(),
                outcome: "failed".into(),
                error: Some(e.to_string()),
                ..SiteReport::default()
            },
        };
        let summary = summarize(&report, site_config.as_ref(), done.started, done.finished);
        if report.outcome == "interrupted" {
            // Left unfinished in the state: the next start-up resumes it.
            info!(site = %done.site, pages = summary.pages_fetched, "pass interrupted; it resumes on the next start");
            self.timetable
                .finish(&done.site, done.started, done.finished, true);
            return;
        }
        let Some(entry) =
            self.timetable
                .finish(&done.site, done.started, done.finished, summary.succeeded)
        else {
            return; // removed from the config while it ran
        };
        let (record, next) = (entry.record.clone(), entry.next);
        if let Err(e) = self.store.pass_finished(&done.site, &record, &summary) {
            warn!(site = %done.site, error = %e, "cannot record the pass");
        }
        self.metrics
            .record_pass(&pass_metrics(&done.site, &summary, done.finished));
        let level_ok = summary.succeeded;
        if level_ok {
            info!(
                site = %done.site,
                outcome = %summary.outcome,
                pages = summary.pages_fetched,
                new = summary.articles_new,
                updated = summary.articles_updated,
                errors = summary.errors,
                seconds = format!("{:.1}", summary.duration_secs),
                next = %rfc3339(next),
                "pass ends"
            );
        } else {
            warn!(
                site = %done.site,
                outcome = %summary.outcome,
                error = summary.error.as_deref().unwrap_or(""),
                failures_in_a_row = record.consecutive_failures,
                next = %rfc3339(next),
                "pass failed"
            );
        }
        self.refresh_gauges(&done.site);
    }

    /// Writes changed next-run times to the state.
    fn persist_next_runs(&mut self) {
        let changed: Vec<(String, DateTime<Utc>)> = self
            .timetable
            .entries()
            .filter(|(_, e)| !e.running)
            .filter(|(name, e)| self.persisted_next.get(*name) != Some(&e.next))
            .map(|(name, e)| (name.clone(), e.next))
            .collect();
        for (name, next) in changed {
            match self.state.set_next_run(&name, Some(&rfc3339(next))) {
                Ok(()) => {
                    self.persisted_next.insert(name.clone(), next);
                    self.refresh_gauges(&name);
                }
                Err(e) => warn!(site = %name, error = %e, "cannot record the next run"),
            }
        }
    }

    fn refresh_gauges(&self, site: &str) {
        let Some(entry) = self.timetable.get(site) else {
            return;
        };
        let archive_articles = self
            .store
            .article_stats(site)
            .map(|s| s.articles)
            .unwrap_or(0);
        self.metrics.set_gauges(
            site,
            SiteGauges {
                archive_articles,
                next_run: (!entry.running).then(|| unix_seconds(entry.next)),
                running: entry.running,
                consecutive_failures: entry.record.consecutive_failures,
            },
        );
    }

    async fn run_loop(&mut self, stop_handle: StopHandle, health: &watch::Sender<Health>) -> u8 {
        let mut signals = match Signals::new() {
            Ok(s) => s,
            Err(e) => {
                error!(error = %e, "cannot install signal handlers");
                return exit::FATAL;
            }
        };
        let mut passes: JoinSet<PassDone> = JoinSet::new();
        loop {
            self.start_due(&mut passes);
            self.persist_next_runs();
            let sleep_for = self
                .timetable
                .next_wakeup()
                .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                // Nothing idle: wake up anyway now and then (a pass end wakes us first).
                .unwrap_or(Duration::from_secs(3600))
                .min(Duration::from_secs(3600));
            tokio::select! {
                Some(joined) = passes.join_next(), if !passes.is_empty() => match joined {
                    Ok(done) => self.finish_pass(done),
                    Err(e) => error!(error = %e, "a pass task panicked"),
                },
                _ = tokio::time::sleep(sleep_for) => {}
                signal = signals.next() => match signal {
                    Signal::Reload => self.reload(),
                    Signal::Stop => break,
                },
            }
        }

        // Shutting down: no new passes; running ones finish their in-flight pages.
        let _ = health.send(Health::ShuttingDown);
        let grace = self.config.scheduler.shutdown_grace;
        info!(
            running = passes.len(),
            grace_secs = grace.as_secs_f64(),
            "stopping: running passes finish their in-flight pages"
        );
        stop_handle.stop();
        let deadline = tokio::time::Instant::now() + grace;
        while !passes.is_empty() {
            tokio::select! {
                Some(joined) = passes.join_next() => match joined {
                    Ok(done) => self.finish_pass(done),
                    Err(e) => error!(error = %e, "a pass task panicked"),
                },
                _ = tokio::time::sleep_until(deadline) => {
                    warn!(running = passes.len(), "passes did not finish within shutdown_grace; abandoning them (they resume on the next start)");
                    passes.abort_all();
                    break;
                }
                signal = signals.next() => if signal == Signal::Stop {
                    warn!("second stop signal: abandoning running passes (they resume on the next start)");
                    passes.abort_all();
                    break;
                },
            }
        }
        self.persist_next_runs();
        info!("stopped");
        exit::OK
    }
}

/// A pass's report reduced to what status and metrics show.
fn summarize(
    report: &SiteReport,
    site: Option<&Site>,
    started: DateTime<Utc>,
    finished: DateTime<Utc>,
) -> PassSummary {
    let c = &report.counts;
    let mut errors_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    for entry in &report.urls {
        let kind = match entry.result.as_str() {
            "failed" => match entry.http_status {
                Some(status) => format!("http_{status}"),
                None => {
                    let reason = entry.reason.as_deref().unwrap_or("").to_ascii_lowercase();
                    if reason.contains("timed out") || reason.contains("timeout") {
                        "timeout".to_string()
                    } else {
                        "network".to_string()
                    }
                }
            },
            "blocked" => "blocked".to_string(),
            _ => continue,
        };
        *errors_by_kind.entry(kind).or_default() += 1;
    }
    if report.outcome == "failed" {
        *errors_by_kind.entry("pass_failed".into()).or_default() += 1;
    }
    let start_urls: Vec<String> = site
        .map(|s| s.start_urls.iter().map(|u| u.to_string()).collect())
        .unwrap_or_default();
    // An unreachable robots.txt (or one answering 5xx) disallows the host for the pass:
    // that is a network failure, not the site forbidding the crawl.
    let robots_unreachable = report
        .robots
        .iter()
        .any(|(_, status)| status.starts_with("unreachable"));
    if robots_unreachable {
        *errors_by_kind
            .entry("robots_unreachable".into())
            .or_default() += 1;
    }
    let robots_forbidden = !robots_unreachable
        && report
            .urls
            .iter()
            .any(|e| e.result == "robots_disallowed" && start_urls.contains(&e.url));
    // A pass that got nothing useful but errors failed, whatever the crawl calls it.
    let useful = c.list_pages
        + c.feeds
        + c.articles_new
        + c.articles_updated
        + c.articles_unchanged
        + c.not_modified;
    let (outcome, succeeded) = if report.outcome == "failed" {
        ("failed".to_string(), false)
    } else if useful == 0 && robots_unreachable {
        ("unreachable".to_string(), false)
    } else if useful == 0 && c.blocked > 0 {
        ("blocked".to_string(), false)
    } else if useful == 0 && robots_forbidden {
        ("robots_forbidden".to_string(), false)
    } else if useful == 0 && c.failed > 0 {
        ("failed".to_string(), false)
    } else {
        (report.outcome.clone(), true)
    };
    let error = report
        .error
        .clone()
        .or_else(|| (!succeeded).then(|| failure_reason(report, &outcome, robots_unreachable)));
    PassSummary {
        outcome,
        succeeded,
        error,
        started_at: rfc3339(started),
        finished_at: rfc3339(finished),
        duration_secs: (finished - started).num_milliseconds().max(0) as f64 / 1000.0,
        pages_fetched: c.pages_fetched,
        bytes: c.bytes,
        articles_new: c.articles_new,
        articles_updated: c.articles_updated,
        articles_unchanged: c.articles_unchanged,
        errors: c.failed
            + c.blocked
            + u64::from(report.outcome == "failed")
            + u64::from(robots_unreachable),
        errors_by_kind,
        blocked_hosts: report
            .blocked_hosts
            .iter()
            .map(|b| format!("{}: {}", b.host, b.reason))
            .collect(),
        spam_pages: c.spam_pages + c.spam_removed,
        robots_forbidden,
    }
}

/// Why a pass that the crawl itself did not call failed is a failure, in words a user can
/// act on (the log line and `status` show it).
fn failure_reason(report: &SiteReport, outcome: &str, robots_unreachable: bool) -> String {
    let first_failed = report
        .urls
        .iter()
        .find(|e| e.result == "failed" || e.result == "blocked");
    let example = first_failed
        .map(|e| {
            let why = match (e.http_status, e.reason.as_deref()) {
                (_, Some(reason)) if !reason.is_empty() => reason.to_string(),
                (Some(status), _) => format!("{}: HTTP {status}", e.url),
                _ => format!("{}: {}", e.url, e.result),
            };
            format!("; first: {why}")
        })
        .unwrap_or_default();
    if robots_unreachable {
        let hosts: Vec<String> = report
            .robots
            .iter()
            .filter(|(_, status)| status.starts_with("unreachable"))
            .map(|(host, status)| format!("{host}: {status}"))
            .collect();
        return format!("robots.txt could not be read ({})", hosts.join(", "));
    }
    match outcome {
        "blocked" => match report.blocked_hosts.first() {
            Some(b) => format!(
                "the site blocks the crawler ({}: {}){example}",
                b.host, b.reason
            ),
            None => format!("every request was blocked{example}"),
        },
        "robots_forbidden" => "robots.txt forbids crawling the start URLs".to_string(),
        _ => {
            let failed = report.counts.failed + report.counts.blocked;
            let requests = if failed == 1 { "request" } else { "requests" };
            format!("nothing could be fetched: {failed} {requests} failed{example}")
        }
    }
}

fn pass_metrics(site: &str, s: &PassSummary, finished: DateTime<Utc>) -> PassMetrics {
    PassMetrics {
        site: site.to_string(),
        outcome: s.outcome.clone(),
        succeeded: s.succeeded,
        duration: Duration::from_secs_f64(s.duration_secs.max(0.0)),
        pages_fetched: s.pages_fetched,
        bytes: s.bytes,
        articles_new: s.articles_new,
        articles_updated: s.articles_updated,
        articles_unchanged: s.articles_unchanged,
        errors: s.errors_by_kind.clone(),
        blocked: !s.blocked_hosts.is_empty(),
        spam_pages: s.spam_pages,
        finished_at: unix_seconds(finished),
    }
}

fn unix_seconds(t: DateTime<Utc>) -> f64 {
    t.timestamp_millis() as f64 / 1000.0
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Reload,
    Stop,
}

/// SIGTERM / SIGINT (Ctrl-C) stop, SIGHUP reloads.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hup: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> std::io::Result<Self> {
        Ok(Signals {})
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Stop,
            _ = self.int.recv() => Signal::Stop,
            _ = self.hup.recv() => Signal::Reload,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Signal {
        let _ = tokio::signal::ctrl_c().await;
        Signal::Stop
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gazette::crawl::report::{BlockedHost, Counts, UrlEntry};

    fn report(outcome: &str, counts: Counts) -> SiteReport {
        SiteReport {
            site: "a".into(),
            outcome: outcome.into(),
            counts,
            ..SiteReport::default()
        }
    }

    fn entry(url: &str, result: &str, http_status: Option<u16>, reason: &str) -> UrlEntry {
        UrlEntry {
            url: url.into(),
            result: result.into(),
            reason: Some(reason.into()),
            http_status,
            archive_path: None,
        }
    }

    fn summary(r: &SiteReport) -> PassSummary {
        let t = Utc::now();
        summarize(r, None, t, t)
    }

    #[test]
    fn a_pass_with_useful_pages_succeeds_even_with_some_errors() {
        let mut r = report(
            "done",
            Counts {
                list_pages: 2,
                articles_new: 3,
                failed: 2,
                ..Counts::default()
            },
        );
        r.urls = vec![
            entry("http://a/1", "failed", Some(404), "HTTP 404"),
            entry("http://a/2", "failed", None, "timed out after 30 s"),
        ];
        let s = summary(&r);
        assert!(s.succeeded);
        assert_eq!(s.outcome, "done");
        assert_eq!(s.errors, 2);
        assert_eq!(s.errors_by_kind.get("http_404"), Some(&1));
        assert_eq!(s.errors_by_kind.get("timeout"), Some(&1));
    }

    #[test]
    fn nothing_but_errors_walls_or_an_unreachable_robots_txt_is_a_failure() {
        let failed = report(
            "done",
            Counts {
                failed: 1,
                ..Counts::default()
            },
        );
        assert_eq!(
            (
                summary(&failed).outcome.as_str(),
                summary(&failed).succeeded
            ),
            ("failed", false)
        );

        let mut blocked = report(
            "done",
            Counts {
                blocked: 1,
                ..Counts::default()
            },
        );
        blocked.blocked_hosts = vec![BlockedHost {
            host: "http://a".into(),
            reason: "瑞数 412".into(),
        }];
        let s = summary(&blocked);
        assert_eq!((s.outcome.as_str(), s.succeeded), ("blocked", false));
        assert_eq!(s.blocked_hosts, vec!["http://a: 瑞数 412".to_string()]);

        let mut unreachable = report("done", Counts::default());
        unreachable.robots = vec![(
            "http://a".into(),
            "unreachable (connection refused): all disallowed this pass".into(),
        )];
        unreachable.urls = vec![entry("http://a/", "robots_disallowed", None, "")];
        let s = summary(&unreachable);
        assert_eq!((s.outcome.as_str(), s.succeeded), ("unreachable", false));
        assert!(!s.robots_forbidden);

        let crashed = SiteReport {
            error: Some("crawl state: disk full".into()),
            ..report("failed", Counts::default())
        };
        let s = summary(&crashed);
        assert!(!s.succeeded);
        assert_eq!(s.errors_by_kind.get("pass_failed"), Some(&1));
    }

    #[test]
    fn robots_forbidding_a_start_url_is_flagged() {
        let config = gazette::config::Config::resolve(
            gazette::config::RawConfig::parse(
                "[[sites]]\nname = \"a\"\nstart_urls = [\"http://a.gov.cn/xwzx/\"]\n",
                "test",
            )
            .unwrap(),
        )
        .unwrap();
        let mut r = report(
            "done",
            Counts {
                robots_disallowed: 1,
                ..Counts::default()
            },
        );
        r.robots = vec![("http://a.gov.cn".into(), "parsed".into())];
        r.urls = vec![entry(
            "http://a.gov.cn/xwzx/",
            "robots_disallowed",
            None,
            "",
        )];
        let t = Utc::now();
        let s = summarize(&r, config.sites.first(), t, t);
        assert!(s.robots_forbidden);
        assert_eq!(
            (s.outcome.as_str(), s.succeeded),
            ("robots_forbidden", false)
        );
    }
}
