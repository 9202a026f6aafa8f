//! One module per subcommand.

pub mod crawl;
pub mod eval;
pub mod fetch;
pub mod reextract;
pub mod schedule;
pub mod status;
