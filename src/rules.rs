//! Domain knowledge as data.
//!
//! Every lexicon and pattern table lives in `config/rules/*` and is embedded in the binary
//! at build time; a user extends (never silently replaces) them with files of the same
//! name in a rules folder given by the config (`rules_dir`). Everything is compiled once,
//! here, so a bad pattern fails at start-up with the file and entry it came from.

use std::path::{Path, PathBuf};

use crate::extract::{clean::CleanRules, content::ContentRules, meta::MetaRules, spam::SpamRules};
use crate::fetch::antibot::WallRules;

/// A rule file that could not be read or compiled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RulesError {
    #[error("cannot read rules file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("rules file {file}: {message}")]
    Invalid { file: String, message: String },
}

/// One rule source: its name (for error messages) and text.
#[derive(Debug, Clone)]
pub struct RuleSource {
    pub name: String,
    pub text: String,
}

/// All compiled rules, shared read-only by every extraction.
#[derive(Debug)]
pub struct Rules {
    pub spam: SpamRules,
    pub clean: CleanRules,
    pub content: ContentRules,
    pub meta: MetaRules,
    /// Anti-bot challenge pages, so a saved challenge is never taken for an article.
    pub walls: WallRules,
}

/// (file name, built-in text) for every rules file.
pub const BUILTIN_FILES: &[(&str, &str)] = &[
    ("spam.toml", include_str!("../config/rules/spam.toml")),
    ("clean.toml", include_str!("../config/rules/clean.toml")),
    ("content.toml", include_str!("../config/rules/content.toml")),
    ("meta.toml", include_str!("../config/rules/meta.toml")),
    ("antibot.toml", include_str!("../config/rules/antibot.toml")),
];

impl Rules {
    /// The rules shipped with gazette.
    pub fn builtin() -> Result<Self, RulesError> {
        Self::load(None)
    }

    /// Built-in rules extended by same-named files in `extra_dir` (missing files are fine).
    pub fn load(extra_dir: Option<&Path>) -> Result<Self, RulesError> {
        let sources = |file: &str| -> Result<Vec<RuleSource>, RulesError> {
            let builtin = BUILTIN_FILES
                .iter()
                .find(|(name, _)| *name == file)
                .map(|(_, text)| *text)
                .unwrap_or_default();
            let mut out = vec![RuleSource {
                name: format!("built-in {file}"),
                text: builtin.to_string(),
            }];
            if let Some(dir) = extra_dir {
                let path = dir.join(file);
                if path.exists() {
                    let text =
                        std::fs::read_to_string(&path).map_err(|source| RulesError::Read {
                            path: path.clone(),
                            source,
                        })?;
                    out.push(RuleSource {
                        name: path.display().to_string(),
                        text,
                    });
                }
            }
            Ok(out)
        };
        Ok(Rules {
            spam: SpamRules::compile(&sources("spam.toml")?)?,
            clean: CleanRules::compile(&sources("clean.toml")?)?,
            content: ContentRules::compile(&sources("content.toml")?)?,
            meta: MetaRules::compile(&sources("meta.toml")?)?,
            walls: WallRules::from_sources(&sources("antibot.toml")?)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_rules_compile() {
        Rules::builtin().expect("every built-in rule compiles");
    }
}
