//! The article body: find the main content block and turn it into paragraphs.

use scraper::Html;
use url::Url;

use crate::article::{Attachment, Image};
use crate::extract::NotArticleKind;
use crate::rules::{RuleSource, RulesError};

/// Compiled `config/rules/content.toml`.
#[derive(Debug, Default)]
pub struct ContentRules {}

impl ContentRules {
    pub fn compile(_sources: &[RuleSource]) -> Result<Self, RulesError> {
        Ok(ContentRules {})
    }
}

/// What a body block is, so later stages can treat headings or captions differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind {
    Paragraph,
    Heading,
    ListItem,
    TableRow,
    Caption,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub kind: BlockKind,
    pub text: String,
}

/// The extracted body.
#[derive(Debug, Clone, Default)]
pub struct Body {
    pub blocks: Vec<Block>,
    pub images: Vec<Image>,
    pub attachments: Vec<Attachment>,
}

impl Body {
    /// Paragraphs separated by one blank line.
    pub fn text(&self) -> String {
        let parts: Vec<&str> = self
            .blocks
            .iter()
            .map(|b| b.text.as_str())
            .filter(|t| !t.is_empty())
            .collect();
        parts.join("\n\n")
    }
}

pub enum BodyOutcome {
    Body(Body),
    NotArticle {
        kind: NotArticleKind,
        reason: String,
    },
}

/// Finds the article body in a cleaned document.
pub fn extract_body(_doc: &Html, _base: Option<&Url>, _rules: &ContentRules) -> BodyOutcome {
    BodyOutcome::Body(Body::default())
}
