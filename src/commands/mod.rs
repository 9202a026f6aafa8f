//! One module per subcommand.

pub mod crawl;
pub mod eval;
pub mod fetch;
pub mod reextract;
pub mod schedule;
pub mod status;

use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use gazette::extract::ExtractOptions;
use gazette::rules::Rules;
use gazette::Extractor;

/// The extractor a command runs: the built-in rules, extended by the files in `rules_dir`
/// (`--rules DIR`, the same as `rules_dir` in gazette.toml) when one is given.
pub fn extractor(rules_dir: Option<&Path>) -> Result<Extractor> {
    if let Some(dir) = rules_dir {
        if !dir.is_dir() {
            bail!("the rules folder {} does not exist", dir.display());
        }
    }
    let rules = Rules::load(rules_dir).with_context(|| match rules_dir {
        Some(dir) => format!("the rules in {} do not compile", dir.display()),
        None => "the built-in rules do not compile".to_string(),
    })?;
    Ok(Extractor::new(Arc::new(rules), ExtractOptions::default()))
}
