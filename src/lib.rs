//! gazette: turns government news websites into a clean, citable archive.
//!
//! The pipeline, one module per stage:
//!
//! ```text
//! fetch ─▶ decode ─▶ extract (spam → metadata → clean → content → metadata completion) ─▶ archive
//!            crawl (discovery, robots, politeness, state) and schedule drive it for many sites
//! ```
//!
//! The library is usable without the CLI: [`Extractor::process`] turns the bytes of one
//! page into an [`Outcome`]; [`fetch::Fetcher`] gets those bytes politely;
//! [`archive::Archive`] stores the result.

pub mod archive;
pub mod article;
pub mod config;
pub mod crawl;
pub mod decode;
pub mod eval;
pub mod extract;
pub mod fetch;
pub mod metrics;
pub mod rules;
pub mod schedule;

pub use article::{Article, SCHEMA_VERSION};
pub use extract::{ExtractError, Extractor, NotArticle, NotArticleKind, Outcome, RawPage};

/// The User-Agent sent when the configuration names none.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "gazette/",
    env!("CARGO_PKG_VERSION"),
    " (+https://github.com/gazette-archive/gazette; government news archiver)"
);

/// The archive folder used when neither the command line nor the config names one.
pub const DEFAULT_ARCHIVE_DIR: &str = "archive";

/// The timezone of Chinese government sites, used for dates that carry none.
pub const DEFAULT_TIMEZONE: &str = "+08:00";
