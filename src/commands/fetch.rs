//! `gazette fetch <URL|FILE>...`

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::Args;
use futures::stream::{self, StreamExt};
use gazette::archive::{raw_identity, Archive, ArchiveOptions, LocalArchive, RawPageRecord};
use gazette::fetch::host::{HostKey, HostPool, Politeness};
use gazette::fetch::{FetchOptions, Fetcher};
use gazette::{Outcome, RawPage};
use url::Url;

use crate::exit;

#[derive(Args)]
pub struct FetchArgs {
    /// URLs (http/https), saved HTML files, or `-` for standard input.
    #[arg(required = true, value_name = "URL|FILE")]
    inputs: Vec<String>,
    /// The original address of a saved page (for relative links and URL dates).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// Write articles into this archive folder instead of printing them.
    #[arg(long, value_name = "DIR")]
    archive: Option<PathBuf>,
    /// With --archive: also keep every fetched page, gzip-compressed, so that
    /// `gazette reextract` can rerun extraction later without the network.
    #[arg(long, requires = "archive")]
    keep_raw: bool,
    /// The User-Agent to send.
    #[arg(long, value_name = "UA")]
    user_agent: Option<String>,
    /// Fetch HTTPS pages whose certificate does not verify (expired or incomplete
    /// chains are common on small government sites).
    #[arg(long)]
    accept_invalid_certs: bool,
    /// Whole-request timeout in seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
    /// How many inputs are processed at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Minimum seconds between the starts of two requests to one host (at most two run
    /// at once per host), so a list of URLs from one site does not hammer it.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    delay: f64,
    /// A folder of extra extraction rules (files named like config/rules/*.toml) that
    /// extend the built-in ones, as `rules_dir` in gazette.toml.
    #[arg(long = "rules", value_name = "DIR")]
    rules_dir: Option<PathBuf>,
    /// Print pretty JSON even when not on a terminal.
    #[arg(long)]
    pretty: bool,
}

pub fn run(args: FetchArgs) -> Result<u8> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run_async(args))
}

async fn run_async(args: FetchArgs) -> Result<u8> {
    let given_url = match &args.url {
        Some(u) => Some(Url::parse(u).with_context(|| format!("--url {u:?} is not a valid URL"))?),
        None => None,
    };
    if given_url.is_some() && args.inputs.iter().filter(|i| !is_url(i)).count() > 1 {
        bail!("--url names the address of one saved page; give a single FILE with it");
    }
    let mut options = FetchOptions {
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        ..FetchOptions::default()
    };
    if let Some(ua) = &args.user_agent {
        options.user_agent = ua.clone();
    }
    options.accept_invalid_certs = args.accept_invalid_certs;
    let fetcher = Fetcher::new(options)?;
    if !(args.delay.is_finite() && args.delay >= 0.0) {
        bail!("--delay {} is not a number of seconds", args.delay);
    }
    let hosts = Arc::new(HostPool::new(Politeness {
        global_concurrency: args.concurrency.max(1),
        delay: std::time::Duration::from_secs_f64(args.delay),
        ..Politeness::default()
    }));
    let extractor = crate::commands::extractor(args.rules_dir.as_deref())?;
    let archive = args.archive.as_ref().map(|dir| {
        let options = ArchiveOptions {
            keep_raw: args.keep_raw,
        };
        Arc::new(LocalArchive::with_options(dir, options))
    });
    let keep_raw = args.keep_raw;
    let pretty = args.pretty || (args.inputs.len() == 1 && std::io::stdout().is_terminal());

    type Extracted = (Option<RawPage>, Result<Outcome>);
    let results: Vec<(String, Extracted)> = stream::iter(args.inputs.iter().cloned())
        .map(|input| {
            let fetcher = fetcher.clone();
            let extractor = extractor.clone();
            let given_url = given_url.clone();
            let hosts = hosts.clone();
            async move {
                let page = match load(&fetcher, &hosts, &input, given_url).await {
                    Ok(page) => page,
                    Err(e) => return (input, (None, Err(e))),
                };
                // The page comes back from the blocking pool only when it is to be kept.
                let extracted = tokio::task::spawn_blocking(move || {
                    let outcome = extractor.process(&page).map_err(anyhow::Error::from);
                    (keep_raw.then_some(page), outcome)
                })
                .await
                .unwrap_or_else(|e| (None, Err(anyhow::anyhow!("extraction task failed: {e}"))));
                (input, extracted)
            }
        })
        .buffered(args.concurrency.max(1))
        .collect()
        .await;

    let mut failures = 0;
    let mut stdout = std::io::stdout().lock();
    for (input, (raw, result)) in results {
        let raw_target = raw.as_ref().and_then(|page| {
            let identity = raw_identity(result.as_ref().ok(), page);
            if identity.is_none() {
                eprintln!("gazette: {input}: raw page not kept: it has no URL (give --url)");
            }
            Some((identity?, page))
        });
        match result {
            Ok(Outcome::Article(article)) => match &archive {
                Some(archive) => match archive.put(&article) {
                    Ok(stored) => writeln!(
                        stdout,
                        "{}\t{:?}\t{}",
                        stored.location, stored.status, input
                    )?,
                    Err(e) => {
                        failures += 1;
                        eprintln!("gazette: {input}: {e}");
                    }
                },
                None => {
                    let json = if pretty {
                        serde_json::to_string_pretty(&article)?
                    } else {
                        serde_json::to_string(&article)?
                    };
                    writeln!(stdout, "{json}")?;
                }
            },
            Ok(Outcome::NotArticle(not)) => {
                failures += 1;
                eprintln!(
                    "gazette: {input}: not an article ({}): {}",
                    serde_json::to_string(&not.kind)?.trim_matches('"'),
                    not.reason
                );
                for s in &not.spam {
                    eprintln!("  spam removed ({}): {}", s.reason, s.text);
                }
            }
            Err(e) => {
                failures += 1;
                // Fetch errors already start with the URL; don't say it twice.
                let message = format!("{e:#}");
                if message.starts_with(input.trim_end_matches('/')) {
                    eprintln!("gazette: {message}");
                } else {
                    eprintln!("gazette: {input}: {message}");
                }
            }
        }
        if let (Some(archive), Some((identity, page))) = (&archive, raw_target) {
            if let Err(e) = archive.put_raw(&identity, &RawPageRecord::from_page(page)) {
                failures += 1;
                eprintln!("gazette: {input}: cannot keep the raw page: {e}");
            }
        }
    }
    Ok(if failures == 0 {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

fn is_url(input: &str) -> bool {
    input.starts_with("http://") || input.starts_with("https://")
}

/// Reads one input: a URL over the network, `-` from stdin, anything else as a file.
async fn load(
    fetcher: &Fetcher,
    hosts: &HostPool,
    input: &str,
    given_url: Option<Url>,
) -> Result<RawPage> {
    if is_url(input) {
        let url = Url::parse(input).with_context(|| format!("{input:?} is not a valid URL"))?;
        let key = HostKey::from_url(&url)
            .with_context(|| format!("{input:?} names no host to fetch from"))?;
        let permit = hosts.acquire(&key).await;
        permit.sending();
        return Ok(fetcher.fetch_page(&url).await?);
    }
    let bytes = if input == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        buf
    } else {
        tokio::fs::read(input)
            .await
            .with_context(|| format!("cannot read file {input}"))?
    };
    Ok(RawPage {
        bytes,
        url: given_url,
        fetched_at: Some(chrono::Utc::now()),
        ..RawPage::default()
    })
}
