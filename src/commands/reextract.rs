//! `gazette reextract`: reruns extraction over the raw pages kept in an archive, without
//! the network, and rewrites only the articles whose content changed. This is how an
//! archive is upgraded when the extractor improves.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Result};
use clap::Args;
use gazette::archive::{Archive, ArchiveOptions, LocalArchive, PutStatus, RawPageRecord};
use gazette::{decode, ExtractError, Extractor, Outcome};
use serde::Serialize;

use crate::exit;

#[derive(Args)]
pub struct ReextractArgs {
    /// The archive folder (raw pages are kept by `gazette fetch --archive DIR --keep-raw`).
    #[arg(long, value_name = "DIR", default_value = gazette::DEFAULT_ARCHIVE_DIR)]
    archive: PathBuf,
    /// Extraction threads (default: one per CPU core).
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// A folder of extra extraction rules (files named like config/rules/*.toml) that
    /// extend the built-in ones, as `rules_dir` in gazette.toml.
    #[arg(long = "rules", value_name = "DIR")]
    rules_dir: Option<PathBuf>,
    /// Print the summary as one JSON object instead of a sentence.
    #[arg(long)]
    json: bool,
    /// Print every page that changed, not only failures.
    #[arg(long, short)]
    verbose: bool,
}

/// What one run did; also written to `<archive>/reports/`.
#[derive(Debug, Default, Serialize)]
struct Summary {
    /// Raw pages read.
    pages: usize,
    /// Articles written because extraction now gives a different result.
    changed: usize,
    /// Of `changed`, articles that did not exist before (a page that is now an article).
    new: usize,
    unchanged: usize,
    /// Pages that extraction does not turn into an article; a stored article from an
    /// earlier extraction is kept as it is.
    not_articles: usize,
    /// Raw pages that could not be read or extracted, or articles that could not be stored.
    failed: usize,
    /// Uncompressed bytes extracted.
    bytes: u64,
    jobs: usize,
    seconds: f64,
    pages_per_second: f64,
    mb_per_second: f64,
}

impl Summary {
    fn add(&mut self, other: &Summary) {
        self.pages += other.pages;
        self.changed += other.changed;
        self.new += other.new;
        self.unchanged += other.unchanged;
        self.not_articles += other.not_articles;
        self.failed += other.failed;
        self.bytes += other.bytes;
    }
}

pub fn run(args: ReextractArgs) -> Result<u8> {
    if !args.archive.is_dir() {
        bail!(
            "the archive folder {} does not exist (give --archive DIR)",
            args.archive.display()
        );
    }
    let extractor = crate::commands::extractor(args.rules_dir.as_deref())?;
    let archive = LocalArchive::with_options(&args.archive, ArchiveOptions { keep_raw: true });
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);

    let started = Instant::now();
    // One shared lazy walk of the archive: workers take the next key when free, so a
    // slow page never holds the others back and memory stays flat.
    let keys = Mutex::new(archive.raw_keys());
    let mut summary = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs)
            .map(|_| scope.spawn(|| work(&keys, &archive, &extractor, args.verbose)))
            .collect();
        let mut total = Summary::default();
        for worker in workers {
            match worker.join() {
                Ok(part) => total.add(&part),
                // A panicking page must not lose the counts of the others.
                Err(_) => total.failed += 1,
            }
        }
        total
    });
    let seconds = started.elapsed().as_secs_f64();
    summary.jobs = jobs;
    summary.seconds = seconds;
    if seconds > 0.0 {
        summary.pages_per_second = summary.pages as f64 / seconds;
        summary.mb_per_second = summary.bytes as f64 / 1e6 / seconds;
    }

    let json = serde_json::to_string_pretty(&summary)?;
    let report_name = format!(
        "reextract-{}.json",
        chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
    );
    if let Err(e) = archive.put_report(&report_name, json.as_bytes()) {
        eprintln!("gazette: cannot write the run report: {e}");
    }
    if args.json {
        println!("{}", serde_json::to_string(&summary)?);
    } else if summary.pages == 0 {
        println!(
            "no raw pages in {} (keep them with `gazette fetch --archive DIR --keep-raw`)",
            args.archive.display()
        );
    } else {
        println!(
            "{} pages in {:.2} s ({:.1} pages/s, {:.1} MB/s, {} jobs): {} changed ({} new), \
             {} unchanged, {} not articles, {} failed",
            summary.pages,
            summary.seconds,
            summary.pages_per_second,
            summary.mb_per_second,
            summary.jobs,
            summary.changed,
            summary.new,
            summary.unchanged,
            summary.not_articles,
            summary.failed
        );
    }
    Ok(if summary.failed == 0 {
        exit::OK
    } else {
        exit::PARTIAL
    })
}

/// Extracts a kept page exactly as the run that fetched it did, including an encoding
/// forced by the site's configuration.
fn extract(extractor: &Extractor, record: RawPageRecord) -> Result<Outcome, ExtractError> {
    let forced = record
        .charset_override
        .as_deref()
        .and_then(|label| encoding_rs::Encoding::for_label(label.trim().as_bytes()));
    let page = record.into_page();
    match forced {
        None => extractor.process(&page),
        Some(encoding) => {
            // Refuse what `process` refuses before decoding.
            let limit = extractor.options().max_bytes;
            if page.bytes.is_empty() {
                return Err(ExtractError::EmptyInput);
            }
            if page.bytes.len() > limit {
                return Err(ExtractError::TooLarge {
                    size: page.bytes.len(),
                    limit,
                });
            }
            if let Some(kind) = decode::binary_signature(&page.bytes) {
                return Err(ExtractError::Binary(kind.to_string()));
            }
            let decoded = decode::decode_with_override(
                &page.bytes,
                page.content_type.as_deref(),
                Some(encoding),
            );
            Ok(extractor.process_decoded(&page, &decoded))
        }
    }
}

/// One worker: takes keys from the shared walk until it is exhausted.
fn work(
    keys: &Mutex<gazette::archive::RawKeys<'_>>,
    archive: &LocalArchive,
    extractor: &Extractor,
    verbose: bool,
) -> Summary {
    let mut summary = Summary::default();
    loop {
        let next = keys.lock().unwrap_or_else(|e| e.into_inner()).next();
        let key = match next {
            None => return summary,
            Some(Ok(key)) => key,
            Some(Err(e)) => {
                summary.failed += 1;
                eprintln!("gazette: {e}");
                continue;
            }
        };
        summary.pages += 1;
        let record = match archive.get_raw(&key) {
            Ok(record) => record,
            Err(e) => {
                summary.failed += 1;
                eprintln!("gazette: {e}");
                continue;
            }
        };
        summary.bytes += record.size;
        match extract(extractor, record) {
            Ok(Outcome::Article(article)) => match archive.put(&article) {
                Ok(stored) => match stored.status {
                    PutStatus::Unchanged => summary.unchanged += 1,
                    status => {
                        summary.changed += 1;
                        if status == PutStatus::New {
                            summary.new += 1;
                        }
                        if verbose {
                            println!("{}\t{status:?}", stored.location);
                        }
                    }
                },
                Err(e) => {
                    summary.failed += 1;
                    eprintln!("gazette: {key}: {e}");
                }
            },
            Ok(Outcome::NotArticle(_)) => summary.not_articles += 1,
            Err(e) => {
                summary.failed += 1;
                eprintln!("gazette: {key}: {e}");
            }
        }
    }
}
