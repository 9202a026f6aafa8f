//! The `gazette` command line: parses arguments, loads config, calls the library and
//! maps the result to an exit code. Nothing here knows how extraction works.

mod commands;

/// mimalloc instead of the system allocator, when built with `--features mimalloc`:
/// faster batch extraction, less predictable memory (see Cargo.toml).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit codes: 0 everything succeeded, 1 a fatal error, 2 some inputs failed,
/// 3 the configuration is invalid.
pub mod exit {
    pub const OK: u8 = 0;
    pub const FATAL: u8 = 1;
    pub const PARTIAL: u8 = 2;
    pub const CONFIG: u8 = 3;
}

#[derive(Parser)]
#[command(
    name = "gazette",
    version,
    about = "Turns government news websites into a clean, citable archive"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch pages (URLs or saved files) and print or archive one JSON article each.
    Fetch(commands::fetch::FetchArgs),
    /// Crawl the configured sites once (one pass) into the archive.
    Crawl(commands::crawl::CrawlArgs),
    /// Rerun extraction over the raw pages kept in an archive (no network) and rewrite
    /// the articles that changed.
    Reextract(commands::reextract::ReextractArgs),
    /// Run the extractor over a labelled dataset and score it like shared/eval/score.py.
    Eval(commands::eval::EvalArgs),
    /// Run as a service: crawl each site on its schedule until SIGTERM (SIGHUP reloads
    /// the config).
    Schedule(commands::schedule::ScheduleArgs),
    /// Show per site the last and next pass, archive totals and what needs attention.
    Status(commands::status::StatusArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Crawl(args) => commands::crawl::run(args),
        Command::Fetch(args) => commands::fetch::run(args),
        Command::Reextract(args) => commands::reextract::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Schedule(args) => commands::schedule::run(args),
        Command::Status(args) => commands::status::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("gazette: error: {error:#}");
            ExitCode::from(exit::FATAL)
        }
    }
}
