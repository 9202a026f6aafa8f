//! The `gazette` command line: parses arguments, loads config, calls the library and
//! maps the result to an exit code. Nothing here knows how extraction works.

mod commands;

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
#[command(name = "gazette", version, about = "Turns government news websites into a clean, citable archive")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fetch pages (URLs or saved files) and print or archive one JSON article each.
    Fetch(commands::fetch::FetchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Fetch(args) => commands::fetch::run(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("gazette: error: {error:#}");
            ExitCode::from(exit::FATAL)
        }
    }
}
