//! `gazette crawl [--config FILE] [--archive DIR] [--site NAME]... [--max-pages N]`

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use gazette::archive::{ArchiveOptions, LocalArchive};
use gazette::config::Config;
use gazette::crawl::state::SqliteState;
use gazette::crawl::{Crawler, RunOptions, StopSignal};
use tracing::warn;

use crate::exit;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct CrawlArgs {
    /// The configuration file.
    #[arg(long, value_name = "FILE", default_value = "config/gazette.toml")]
    config: PathBuf,
    /// The archive folder (overrides the config's archive_dir).
    #[arg(long, value_name = "DIR")]
    archive: Option<PathBuf>,
    /// Crawl only this site (repeatable); by default every enabled site.
    #[arg(long = "site", value_name = "NAME")]
    sites: Vec<String>,
    /// Fetch at most N pages per site in this pass (a trial run).
    #[arg(long, value_name = "N")]
    max_pages: Option<usize>,
    /// Log format on stderr (the level comes from GAZETTE_LOG, default "info").
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
}

/// Logs to stderr as text or JSON lines; the level comes from `GAZETTE_LOG`.
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("GAZETTE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub fn run(args: CrawlArgs) -> Result<u8> {
    init_logging(args.log_format);
    let mut config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gazette: {e}");
            return Ok(exit::CONFIG);
        }
    };
    if let Some(dir) = &args.archive {
        // The state follows the archive unless the config names its own place.
        config.archive_dir = dir.clone();
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_async(args, config))
}

async fn run_async(args: CrawlArgs, config: Config) -> Result<u8> {
    let state = SqliteState::open(&config.state_path())?;
    let removed = gazette::crawl::remove_stale_temp_files(&config.archive_dir);
    if removed > 0 {
        warn!(removed, "removed temporary files left by a killed run");
    }
    let archive = LocalArchive::with_options(
        &config.archive_dir,
        ArchiveOptions {
            keep_raw: config.keep_raw,
        },
    );
    let (handle, stop) = StopSignal::new();
    tokio::spawn(async move {
        wait_for_signal().await;
        warn!("stopping: finishing in-flight pages (send the signal again to quit now)");
        handle.stop();
        wait_for_signal().await;
        eprintln!("gazette: stopped without finishing in-flight pages");
        std::process::exit(exit::PARTIAL as i32);
    });
    let crawler = Arc::new(Crawler::new(
        Arc::new(config),
        Arc::new(archive),
        Arc::new(state),
        stop,
    )?);
    if std::io::stderr().is_terminal() {
        let progress = crawler.progress();
        let sites = crawler_site_count(&args, &crawler);
        tokio::spawn(async move {
            use std::sync::atomic::Ordering::Relaxed;
            loop {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                eprint!(
                    "\r\x1b[2Ksites {}/{}  pages {}  articles {}  errors {}  queued {}",
                    progress.sites_done.load(Relaxed),
                    sites,
                    progress.pages.load(Relaxed),
                    progress.articles.load(Relaxed),
                    progress.errors.load(Relaxed),
                    progress.queued.load(Relaxed),
                );
            }
        });
    }
    let report = crawler
        .run(&RunOptions {
            sites: args.sites.clone(),
            max_pages: args.max_pages,
        })
        .await?;
    if std::io::stderr().is_terminal() {
        eprint!("\r\x1b[2K");
    }
    eprint!("{}", report.summary_table());
    let site_failed = report.sites.iter().any(|s| s.outcome == "failed");
    Ok(if report.interrupted || site_failed {
        exit::PARTIAL
    } else {
        exit::OK
    })
}

/// How many sites this run crawls (for the progress line).
fn crawler_site_count(args: &CrawlArgs, crawler: &Crawler) -> usize {
    if args.sites.is_empty() {
        crawler.config().sites.iter().filter(|s| s.enabled).count()
    } else {
        args.sites.len()
    }
}

/// Ctrl-C or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
