//! `gazette eval DATASET`: run the extractor over a labelled dataset, write predictions
//! (readable by `shared/eval/score.py`), print the scores and optionally check floors.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use clap::Args;
use gazette::eval::{self, Dataset, Floors};

use crate::exit;

#[derive(Args)]
pub struct EvalArgs {
    /// A dataset folder (pages/, truth/), or the name of one under ../shared
    /// (`gov`, `zh-news`, `aeb`).
    #[arg(value_name = "DATASET")]
    dataset: String,
    /// Where to write <id>.json predictions and timing.json
    /// [default: target/eval/<dataset name>].
    #[arg(long, value_name = "DIR")]
    pred_dir: Option<PathBuf>,
    /// A folder of extra extraction rules (files named like config/rules/*.toml) that
    /// extend the built-in ones, as `rules_dir` in gazette.toml.
    #[arg(long = "rules", value_name = "DIR")]
    rules_dir: Option<PathBuf>,
    /// Print the scores as JSON (the keys of `score.py --json`) instead of a table.
    #[arg(long)]
    json: bool,
    /// Worker threads [default: every core].
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
    /// How many of the worst pages to list.
    #[arg(long, default_value_t = 10, value_name = "N")]
    worst: usize,
    /// Body tokens compared as N-token shingles (4 = the scrapinghub benchmark).
    #[arg(long, default_value_t = 1, value_name = "N")]
    ngram: usize,
    /// Check the scores against this floors file (its section named after the dataset)
    /// and exit with status 2 when one is below its floor.
    #[arg(long, value_name = "FILE")]
    floors: Option<PathBuf>,
}

pub fn run(args: EvalArgs) -> Result<u8> {
    let dataset = resolve_dataset(&args.dataset)?;
    let extractor = crate::commands::extractor(args.rules_dir.as_deref())?;
    let jobs = args.jobs.unwrap_or_else(eval::default_jobs).max(1);
    let run = eval::run_dataset(&extractor, &dataset, jobs)?;

    let pred_dir = args
        .pred_dir
        .clone()
        .unwrap_or_else(|| Path::new("target").join("eval").join(&dataset.name));
    run.write_predictions(&pred_dir)?;
    let scores = run.score(args.ngram)?;

    if args.json {
        println!("{}", serde_json::to_string_pretty(&scores.to_json())?);
    } else {
        print!("{}", eval::render_report(&scores, args.worst));
        println!(
            "\n{} pages in {:.2} s on {} threads; predictions in {}",
            run.timing.docs,
            run.timing.seconds,
            run.timing.threads,
            pred_dir.display()
        );
    }
    for (id, message) in run.failures() {
        eprintln!("gazette: {id}: {message}");
    }

    if let Some(path) = &args.floors {
        let floors = Floors::load(path)?;
        let Some(section) = floors.datasets.get(&dataset.name) else {
            bail!(
                "{} has no [{}] section; add one to gate this dataset",
                path.display(),
                dataset.name
            );
        };
        let violations = section.check(&scores);
        if !violations.is_empty() {
            for v in &violations {
                eprintln!("gazette: below floor: {v}");
            }
            return Ok(exit::PARTIAL);
        }
        eprintln!(
            "gazette: {}: every score is at or above its floor",
            dataset.name
        );
    }
    Ok(exit::OK)
}

/// A folder path as given, else a dataset name looked up in the shared data folder.
fn resolve_dataset(arg: &str) -> Result<Dataset> {
    let path = Path::new(arg);
    if path.is_dir() {
        return Ok(Dataset::open(path)?);
    }
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if let Some(shared) = eval::find_shared_dir(&cwd) {
        for candidate in [
            shared.join("corpus").join(arg),
            shared.join("eval").join(arg),
        ] {
            if candidate.is_dir() {
                return Ok(Dataset::open(candidate)?);
            }
        }
    }
    bail!("{arg:?} is neither a dataset folder nor the name of a dataset under ../shared (corpus/<name> or eval/<name>)")
}
