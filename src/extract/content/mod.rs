//! The article body: find the main content block and turn it into paragraphs.
//!
//! 1. [`score::analyze`] measures every element once and scores runs of prose
//!    (punctuation, length, link share), propagating scores to ancestors.
//! 2. The best-scored element is taken, widened to a common ancestor when several
//!    near-best elements share one, and joined by similar siblings.
//! 3. Known CMS containers (`content.toml`) are hints: a valid one that agrees with the
//!    scored choice, or clearly beats it, replaces it.
//! 4. Pages whose best block is short while many headline links surround it are list
//!    pages, not articles.
//! 5. [`blocks::Builder`] turns the chosen elements into paragraphs, headings, list
//!    items, table rows and captions, with images and attachments.

mod blocks;
mod dom;
#[cfg(test)]
mod layout_tests;
mod score;
pub mod text;

use ego_tree::NodeId;
use scraper::{ElementRef, Html, Selector};
use serde::Deserialize;
use url::Url;

use crate::article::{Attachment, Image};
use crate::extract::nodes::class_names;
use crate::extract::NotArticleKind;
use crate::rules::{RuleSource, RulesError};

use score::{Analysis, Stat};

/// Compiled `config/rules/content.toml`.
#[derive(Debug)]
pub struct ContentRules {
    containers: Vec<Container>,
    hidden_classes: Vec<String>,
    /// Class / id substrings of regions never part of the article (comment threads).
    excluded_hints: Vec<String>,
    /// Class / id substrings of image captions and credits.
    caption_hints: Vec<String>,
    attachment_extensions: Vec<String>,
    attachment_labels: Vec<String>,
    /// Elements that may show the article's headline.
    title_selector: dom::ElementSelector,
    /// The hint lists compiled for one pass over an element's class and id.
    hint_matchers: dom::HintMatchers,
    /// All container selectors as one list: elements matching none of them are ruled
    /// out with one test instead of one per container.
    any_container: Option<dom::ElementSelector>,
    /// `<meta>` elements that declare the article's title.
    title_meta_selector: Selector,
    knobs: Knobs,
}

/// A known body container of some CMS.
#[derive(Debug)]
struct Container {
    name: String,
    selector: Selector,
}

/// Tunable thresholds (see the comments in `content.toml`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Knobs {
    container_min_tokens: u32,
    container_max_link_density: f64,
    container_boost: f64,
    container_max_growth: f64,
    container_slack_tokens: u32,
    min_run_tokens: u32,
    sibling_score_share: f64,
    caption_max_chars: usize,
    list_max_body_tokens: u32,
    list_min_headline_links: u32,
    headline_link_min_tokens: u32,
    #[serde(default = "default_data_cell_max_tokens")]
    data_cell_max_tokens: u32,
    #[serde(default = "default_lone_link_min_share")]
    lone_link_min_share: f64,
    title_boost: f64,
    climb_min_growth: f64,
    climb_max_tokens: u32,
    title_follow_runs: u32,
    repeated_item_penalty: f64,
}

fn default_data_cell_max_tokens() -> u32 {
    600
}

fn default_lone_link_min_share() -> f64 {
    0.9
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    container: Vec<RawContainer>,
    knobs: Option<toml::Table>,
    #[serde(default)]
    hidden_classes: Vec<String>,
    #[serde(default)]
    positive_hints: Vec<String>,
    #[serde(default)]
    negative_hints: Vec<String>,
    #[serde(default)]
    attachment_extensions: Vec<String>,
    #[serde(default)]
    attachment_labels: Vec<String>,
    title_selector: Option<String>,
    #[serde(default)]
    excluded_hints: Vec<String>,
    #[serde(default)]
    caption_hints: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContainer {
    name: String,
    selector: String,
}

impl ContentRules {
    /// Compiles the built-in file and any user extensions (user containers first).
    pub fn compile(sources: &[RuleSource]) -> Result<Self, RulesError> {
        let mut containers = Vec::new();
        let mut container_css = Vec::new();
        let mut knob_table = toml::Table::new();
        let mut rules_lists: [Vec<String>; 7] = Default::default();
        let mut title_selector: Option<dom::ElementSelector> = None;
        for source in sources.iter().rev() {
            let invalid = |message: String| RulesError::Invalid {
                file: source.name.clone(),
                message,
            };
            let raw: RawFile = toml::from_str(&source.text).map_err(|e| invalid(e.to_string()))?;
            for c in raw.container {
                let selector = Selector::parse(&c.selector).map_err(|e| {
                    invalid(format!(
                        "container {:?}: bad selector {:?}: {e}",
                        c.name, c.selector
                    ))
                })?;
                containers.push(Container {
                    name: c.name,
                    selector,
                });
                container_css.push(c.selector);
            }
            if let (None, Some(sel)) = (&title_selector, &raw.title_selector) {
                title_selector = Some(
                    dom::ElementSelector::parse(sel)
                        .map_err(|e| invalid(format!("bad title_selector {sel:?}: {e}")))?,
                );
            }
            if let Some(knobs) = raw.knobs {
                for (k, v) in knobs {
                    knob_table.entry(k).or_insert(v);
                }
            }
            for (list, extra) in rules_lists.iter_mut().zip([
                raw.hidden_classes,
                raw.positive_hints,
                raw.negative_hints,
                raw.attachment_extensions,
                raw.attachment_labels,
                raw.excluded_hints,
                raw.caption_hints,
            ]) {
                list.extend(extra);
            }
        }
        let knobs: Knobs =
            toml::Value::Table(knob_table)
                .try_into()
                .map_err(|e: toml::de::Error| RulesError::Invalid {
                    file: "content.toml".into(),
                    message: format!("[knobs]: {e}"),
                })?;
        let [hidden_classes, positive_hints, negative_hints, attachment_extensions, attachment_labels, excluded_hints, caption_hints] =
            rules_lists;
        let lower = |v: Vec<String>| v.into_iter().map(|s| s.to_ascii_lowercase()).collect();
        let positive_hints: Vec<String> = lower(positive_hints);
        let negative_hints: Vec<String> = lower(negative_hints);
        let excluded_hints: Vec<String> = lower(excluded_hints);
        let hint_matchers =
            dom::HintMatchers::compile(&positive_hints, &negative_hints, &excluded_hints).map_err(
                |message| RulesError::Invalid {
                    file: "content.toml".into(),
                    message,
                },
            )?;
        let any_container = any_of(&container_css);
        Ok(ContentRules {
            containers,
            any_container,
            hidden_classes,
            excluded_hints,
            caption_hints: lower(caption_hints),
            attachment_extensions: lower(attachment_extensions),
            attachment_labels,
            title_selector: title_selector.ok_or_else(|| RulesError::Invalid {
                file: "content.toml".into(),
                message: "title_selector is missing".into(),
            })?,
            hint_matchers,
            title_meta_selector: Selector::parse(TITLE_META_SELECTOR).map_err(|e| {
                RulesError::Invalid {
                    file: "content.toml".into(),
                    message: format!("the built-in title <meta> selector: {e}"),
                }
            })?,
            knobs,
        })
    }
}

/// One selector list matching what any of the container selector lists matches: their
/// CSS texts joined by commas (each parsed on its own already, so the join parses too).
fn any_of(css_texts: &[String]) -> Option<dom::ElementSelector> {
    if css_texts.is_empty() {
        return None;
    }
    dom::ElementSelector::parse(&css_texts.join(", ")).ok()
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
pub fn extract_body(doc: &Html, base: Option<&Url>, rules: &ContentRules) -> BodyOutcome {
    let mut analysis = score::analyze(doc, rules);
    let titles = page_titles(doc, rules);
    analysis.title_runs = find_title_runs(doc, &analysis, &titles, rules);
    let Some(choice) = choose(doc, &analysis, rules) else {
        return BodyOutcome::NotArticle {
            kind: NotArticleKind::Empty,
            reason: "no block of prose found on the page".into(),
        };
    };
    if let Some(reason) = list_page_reason(&choice, &analysis, rules) {
        return BodyOutcome::NotArticle {
            kind: NotArticleKind::ListPage,
            reason,
        };
    }
    tracing::debug!(container = ?choice.container, nodes = choice.nodes.len(), "content chosen");
    let mut builder = blocks::Builder::new(rules, &analysis.stats, &analysis.plain_text, base);
    for id in &choice.nodes {
        if let Some(el) = doc.tree.get(*id).and_then(ElementRef::wrap) {
            builder.add(el);
        }
    }
    let mut built = builder.finish();
    drop_repeated_captions(&mut built);
    drop_lone_headline_links(&mut built, rules);
    trim_link_edges(&mut built);
    drop_title_blocks(&titles, &mut built.blocks);
    let mut attachments = built.attachments;
    for att in trailing_attachments(doc, &analysis, &choice, base, rules) {
        if !attachments.iter().any(|a| a.url == att.url) {
            attachments.push(att);
        }
    }
    if built.blocks.is_empty() {
        return BodyOutcome::NotArticle {
            kind: NotArticleKind::Empty,
            reason: "the main block of the page holds no text".into(),
        };
    }
    BodyOutcome::Body(Body {
        blocks: built.blocks,
        images: built.images,
        attachments,
    })
}

/// The elements taken as the body, in document order.
#[derive(Debug)]
struct Choice {
    nodes: Vec<NodeId>,
    /// Name of the known container that decided, if any.
    container: Option<String>,
}

/// Score of an element as the body: prose score, damped by links, weighted by hints
/// and by closeness to the article's headline.
fn final_score(
    doc: &Html,
    analysis: &Analysis,
    id: NodeId,
    stat: &Stat,
    rules: &ContentRules,
) -> f64 {
    let weight = doc
        .tree
        .get(id)
        .and_then(|n| n.value().as_element().map(|el| dom::hint_weight(el, rules)))
        .unwrap_or(0.0);
    let near_title = analysis.title_runs.is_some_and(|(start, end)| {
        let contains = stat.first_run <= start && end <= stat.end_run;
        let follows =
            stat.first_run >= end && stat.first_run <= end + rules.knobs.title_follow_runs;
        contains || follows
    });
    let title_weight = if near_title {
        rules.knobs.title_boost
    } else {
        1.0
    };
    stat.score * (1.0 - stat.link_density()) * weight * title_weight
}

/// Like [`final_score`] but from the undamped prose of the whole subtree, so that
/// elements at the same depth compare fairly however deep their text sits.
fn deep_value(
    doc: &Html,
    analysis: &Analysis,
    id: NodeId,
    stat: &Stat,
    rules: &ContentRules,
) -> f64 {
    let mut deep = *stat;
    deep.score = stat.deep_score;
    final_score(doc, analysis, id, &deep, rules)
}

/// The run range of the visible headline: the longest heading-like element whose text
/// is (part of) a title the page declares.
fn find_title_runs(
    doc: &Html,
    analysis: &Analysis,
    titles: &[String],
    rules: &ContentRules,
) -> Option<(u32, u32)> {
    if titles.is_empty() {
        return None;
    }
    let mut best: Option<(usize, (u32, u32))> = None;
    let mut bare = dom::BareAnswers::default();
    // A line matches only if it has at most 200 characters and at most 8 more than
    // some title, and a line has at least as many characters as tokens: longer
    // elements (every paragraph of a long article) are passed over before their text
    // is gathered.
    let longest_title = titles.iter().map(|t| t.chars().count()).max().unwrap_or(0);
    let max_tokens = u32::try_from(longest_title.saturating_add(8).min(200)).unwrap_or(200);
    // Measured elements only, in arena order (as `doc.select` would report them), and
    // the selector is tested last, on the few with a short run span.
    for (id, stat) in analysis.stats.iter() {
        if stat.end_run <= stat.first_run
            || stat.end_run - stat.first_run > 3
            || stat.text.tokens > max_tokens
        {
            continue;
        }
        let Some(el) = doc.tree.get(*id).and_then(ElementRef::wrap) else {
            continue;
        };
        if !rules.title_selector.matches(&el, &mut bare) {
            continue;
        }
        let line = text::squeeze(&el.text().collect::<String>());
        let n = line.chars().count();
        if !(6..=200).contains(&n) {
            continue;
        }
        let matches = titles.iter().any(|t| {
            let tn = t.chars().count();
            (t.contains(&line) && n * 5 >= tn * 2) || (line.contains(t.as_str()) && n <= tn + 8)
        });
        if matches && best.map_or(true, |(len, _)| n > len) {
            best = Some((n, (stat.first_run, stat.end_run)));
        }
    }
    best.map(|(_, span)| span)
}

/// True when most of the element's text sits in three or more children that each
/// carry a headline link: a list of posts.
fn is_list_of_posts(doc: &Html, analysis: &Analysis, id: NodeId) -> bool {
    let (Some(node), Some(stat)) = (doc.tree.get(id), analysis.stats.get(&id)) else {
        return false;
    };
    let mut items = 0u32;
    let mut item_tokens = 0u32;
    for child in node.children() {
        if let Some(cs) = analysis.stats.get(&child.id()) {
            if cs.headline_links >= 1 && cs.text.tokens >= 20 {
                items += 1;
                item_tokens += cs.text.tokens;
            }
        }
    }
    items >= 3 && item_tokens * 2 >= stat.text.tokens
}

/// True when the element (or a near ancestor) is one of several similar items that
/// each carry a headline link: a teaser in a list of posts, not the article.
fn in_repeated_list(doc: &Html, analysis: &Analysis, id: NodeId) -> bool {
    let mut current = doc.tree.get(id);
    for _ in 0..4 {
        let Some(node) = current else { return false };
        let Some(el) = node.value().as_element() else {
            return false;
        };
        if matches!(el.name(), "body" | "html") {
            return false;
        }
        if el.name() != "p" {
            if let Some(parent) = node.parent() {
                let class = el.attr("class").unwrap_or("");
                let similar = parent
                    .children()
                    .filter(|s| {
                        s.value().as_element().is_some_and(|e| {
                            e.name() == el.name() && e.attr("class").unwrap_or("") == class
                        })
                    })
                    .filter(|s| {
                        analysis
                            .stats
                            .get(&s.id())
                            .is_some_and(|st| st.headline_links >= 1 && st.text.tokens >= 20)
                    })
                    .take(3)
                    .count();
                if similar >= 3 {
                    return true;
                }
            }
        }
        current = node.parent();
    }
    false
}

/// True when the element is, or directly holds, one of several sibling `<article>`
/// elements with text: a feed of posts (teasers), not one article.
fn is_feed_of_articles(doc: &Html, analysis: &Analysis, id: NodeId) -> bool {
    let Some(node) = doc.tree.get(id) else {
        return false;
    };
    let is_text_article = |n: ego_tree::NodeRef<scraper::Node>| {
        n.value()
            .as_element()
            .is_some_and(|e| e.name() == "article")
            && analysis
                .stats
                .get(&n.id())
                .is_some_and(|s| s.text.tokens >= 20)
    };
    let holds = node.children().filter(|c| is_text_article(*c)).count() >= 3;
    let is_one = is_text_article(node)
        && node
            .parent()
            .is_some_and(|p| p.children().filter(|c| is_text_article(*c)).count() >= 3);
    holds || is_one
}

fn is_ancestor(doc: &Html, ancestor: NodeId, node: NodeId) -> bool {
    let mut current = doc.tree.get(node);
    while let Some(n) = current {
        if n.id() == ancestor {
            return true;
        }
        current = n.parent();
    }
    false
}

fn choose(doc: &Html, analysis: &Analysis, rules: &ContentRules) -> Option<Choice> {
    // Elements without a prose score cannot score above zero: skip their hint weights.
    let mut ranked: Vec<(NodeId, f64)> = analysis
        .stats
        .iter()
        .filter(|(_, stat)| stat.score > 0.0)
        .map(|(id, stat)| (*id, final_score(doc, analysis, *id, stat, rules)))
        .filter(|(_, s)| *s > 0.0)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    // Teasers in a list of posts are not the article (checked for the leaders only).
    for (id, score) in ranked.iter_mut().take(20) {
        if in_repeated_list(doc, analysis, *id)
            || is_list_of_posts(doc, analysis, *id)
            || is_feed_of_articles(doc, analysis, *id)
        {
            *score *= rules.knobs.repeated_item_penalty;
        }
    }
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    if tracing::enabled!(tracing::Level::DEBUG) {
        for (id, score) in ranked.iter().take(8) {
            let stat = analysis.stats.get(id).copied().unwrap_or_default();
            tracing::debug!(
                node = %describe(doc, *id),
                score = format!("{score:.1}"),
                tokens = stat.text.tokens,
                link_density = format!("{:.2}", stat.link_density()),
                "candidate"
            );
        }
    }
    let score_of = |id: NodeId| {
        analysis
            .stats
            .get(&id)
            .map(|s| final_score(doc, analysis, id, s, rules))
            .unwrap_or(0.0)
    };
    let tokens_of = |id: NodeId| analysis.stats.get(&id).map(|s| s.text.tokens).unwrap_or(0);

    let scored = ranked.first().map(|&(top, top_score)| {
        // Several near-best blocks under one ancestor: the article is split in sections.
        let near: Vec<NodeId> = ranked
            .iter()
            .skip(1)
            .take(5)
            .filter(|(_, s)| *s >= top_score * 0.75)
            .map(|(id, _)| *id)
            .filter(|id| !is_ancestor(doc, *id, top) && !is_ancestor(doc, top, *id))
            .collect();
        // A candidate nested in another one (a caption inside its figure) is the same
        // branch, not a second section.
        let near: Vec<NodeId> = near
            .iter()
            .copied()
            .filter(|id| !near.iter().any(|o| o != id && is_ancestor(doc, *o, *id)))
            .collect();
        let mut top = top;
        if near.len() >= 2 {
            let mut current = doc.tree.get(top).and_then(|n| n.parent());
            for _ in 0..4 {
                let Some(ancestor) = current else { break };
                let covered = near
                    .iter()
                    .filter(|id| is_ancestor(doc, ancestor.id(), **id))
                    .count();
                if covered >= 2
                    && ancestor
                        .value()
                        .as_element()
                        .is_some_and(|e| e.name() != "body" && e.name() != "html")
                {
                    top = ancestor.id();
                    break;
                }
                current = ancestor.parent();
            }
        }
        let top = climb_to_split_article(doc, analysis, top, rules);
        tracing::debug!(node = %describe(doc, top), "top after widening");
        (
            top,
            siblings_of(doc, analysis, top, score_of(top).max(top_score), rules),
        )
    });

    // Known containers: valid ones only. Only measured elements (not hidden or skipped)
    // with enough text and few links qualify, so the selectors are tested on those few,
    // in arena order (the order `doc.select` reports them in).
    let mut bare = dom::BareAnswers::default();
    let qualified: Vec<ElementRef> = analysis
        .stats
        .iter()
        .filter(|(_, stat)| {
            stat.text.tokens >= rules.knobs.container_min_tokens
                && stat.link_density() <= rules.knobs.container_max_link_density
        })
        .filter_map(|(id, _)| doc.tree.get(*id).and_then(ElementRef::wrap))
        .filter(|el| {
            rules
                .any_container
                .as_ref()
                .map_or(true, |any| any.matches(el, &mut bare))
        })
        .collect();
    let mut containers: Vec<(NodeId, &str)> = Vec::new();
    for container in &rules.containers {
        for el in qualified.iter().filter(|el| container.selector.matches(el)) {
            if is_feed_of_articles(doc, analysis, el.id()) {
                continue; // an `<article>` teaser in a feed, or the feed itself
            }
            if !containers.iter().any(|(id, _)| *id == el.id()) {
                containers.push((el.id(), container.name.as_str()));
            }
        }
    }

    let Some((top, nodes)) = scored else {
        return containers.first().map(|(id, name)| Choice {
            nodes: vec![*id],
            container: Some(name.to_string()),
        });
    };
    let deep_of = |id: NodeId| {
        analysis
            .stats
            .get(&id)
            .map(|s| s.deep_score * (1.0 - s.link_density()))
            .unwrap_or(0.0)
    };
    let chosen_deep: f64 = nodes.iter().map(|id| deep_of(*id)).sum();
    let chosen_links: u32 = nodes
        .iter()
        .filter_map(|id| analysis.stats.get(id))
        .map(|s| s.link_tokens)
        .sum();
    let chosen_density = f64::from(chosen_links)
        / f64::from(nodes.iter().map(|id| tokens_of(*id)).sum::<u32>().max(1));
    let chosen_tokens: u32 = nodes.iter().map(|id| tokens_of(*id)).sum();
    for (id, name) in &containers {
        let id = *id;
        let tokens = tokens_of(id);
        let inside = nodes.iter().any(|n| is_ancestor(doc, *n, id));
        let around = is_ancestor(doc, id, top);
        if around && !inside {
            // A wider container that adds little text and no links confirms the choice
            // (the page is an article) but does not replace it: what it adds around the
            // scored prose is the headline, kicker, byline, date line and lead-image
            // caption, which are not body text.
            let container_density = analysis.stats.get(&id).map_or(1.0, Stat::link_density);
            let confirms = f64::from(tokens)
                <= rules.knobs.container_max_growth * f64::from(chosen_tokens)
                    + f64::from(rules.knobs.container_slack_tokens)
                && container_density <= chosen_density + 0.1;
            tracing::debug!(node = %describe(doc, id), name, confirms, "container around");
            if confirms {
                return Some(Choice {
                    nodes,
                    container: Some(name.to_string()),
                });
            }
            continue;
        }
        let take = if inside {
            // A tighter container: it must hold most of the chosen text.
            f64::from(tokens) >= 0.6 * f64::from(chosen_tokens)
        } else {
            deep_of(id) * rules.knobs.container_boost >= chosen_deep
        };
        tracing::debug!(node = %describe(doc, id), name, inside, take, "container");
        if take {
            return Some(Choice {
                nodes: vec![id],
                container: Some(name.to_string()),
            });
        }
    }
    Some(Choice {
        nodes,
        container: None,
    })
}

/// Moves from the best block up to an ancestor that holds much more prose of the same
/// density and few links: an article split over several columns or sections.
fn climb_to_split_article(
    doc: &Html,
    analysis: &Analysis,
    top: NodeId,
    rules: &ContentRules,
) -> NodeId {
    let prose = |s: &Stat| s.deep_score * (1.0 - s.link_density());
    let mut current = top;
    for _ in 0..6 {
        let Some(parent) = doc.tree.get(current).and_then(|n| n.parent()) else {
            break;
        };
        let Some(el) = parent.value().as_element() else {
            break;
        };
        if matches!(el.name(), "body" | "html") || dom::hint_weight(el, rules) < 1.0 {
            break;
        }
        let (Some(cur), Some(up)) = (
            analysis.stats.get(&current),
            analysis.stats.get(&parent.id()),
        ) else {
            break;
        };
        // A wrapper adding (almost) nothing: step through it.
        if up.text.tokens <= cur.text.tokens + cur.text.tokens / 30 {
            current = parent.id();
            continue;
        }
        if cur.text.tokens > rules.knobs.climb_max_tokens {
            break;
        }
        // Another branch under the parent must itself hold a good share of prose.
        let strong_branch = parent.children().any(|child| {
            child.id() != current
                && !is_feed_of_articles(doc, analysis, child.id())
                && analysis
                    .stats
                    .get(&child.id())
                    .is_some_and(|cs| prose(cs) >= 0.3 * prose(cur))
        });
        let density = |s: &Stat| prose(s) / f64::from(s.text.tokens.max(1));
        let grows = strong_branch && prose(up) >= rules.knobs.climb_min_growth * prose(cur);
        let same_kind =
            density(up) >= 0.7 * density(cur) && up.link_density() <= cur.link_density() + 0.05;
        if !(grows && same_kind) {
            break;
        }
        current = parent.id();
    }
    current
}

/// `tag#id.class` of a node, for debug logs.
fn describe(doc: &Html, id: NodeId) -> String {
    let Some(el) = doc
        .tree
        .get(id)
        .and_then(|n| n.value().as_element().cloned())
    else {
        return "?".into();
    };
    let mut out = el.name().to_string();
    if let Some(i) = el.id() {
        out.push('#');
        out.push_str(i);
    }
    for c in el.classes() {
        out.push('.');
        out.push_str(c);
    }
    out
}

/// The top element plus siblings that look like more of the same article.
fn siblings_of(
    doc: &Html,
    analysis: &Analysis,
    top: NodeId,
    top_score: f64,
    rules: &ContentRules,
) -> Vec<NodeId> {
    let Some(node) = doc.tree.get(top) else {
        return vec![top];
    };
    let Some(parent) = node.parent() else {
        return vec![top];
    };
    if parent.value().as_element().is_none() {
        return vec![top];
    }
    let threshold = (top_score * rules.knobs.sibling_score_share).max(10.0);
    let top_el = node.value().as_element();
    let paragraph_classes: Vec<&str> = node
        .children()
        .filter(|c| {
            analysis
                .stats
                .get(&c.id())
                .is_some_and(|s| s.text.tokens > 0)
        })
        .filter_map(|c| c.value().as_element())
        .filter(|e| matches!(e.name(), "p" | "div"))
        .flat_map(class_names)
        .collect();
    let top_deep = analysis
        .stats
        .get(&top)
        .map_or(f64::INFINITY, |s| deep_value(doc, analysis, top, s, rules))
        .max(10.0 / rules.knobs.sibling_score_share);
    let mut out = Vec::new();
    for sibling in parent.children() {
        if sibling.id() == top {
            out.push(top);
            continue;
        }
        let Some(el) = sibling.value().as_element() else {
            continue;
        };
        let Some(stat) = analysis.stats.get(&sibling.id()) else {
            continue;
        };
        if stat.text.tokens == 0 || dom::hint_weight(el, rules) < 1.0 {
            continue;
        }
        if is_feed_of_articles(doc, analysis, sibling.id()) {
            continue;
        }
        let score = final_score(doc, analysis, sibling.id(), stat, rules);
        let density = stat.link_density();
        let prose_paragraph = el.name() == "p"
            && ((stat.text.tokens >= 40 && density < 0.25)
                || (density == 0.0 && stat.text.punct >= 2));
        // One paragraph styled like the chosen block's own paragraphs: the article's
        // first paragraphs left outside the block (a "read more" fold).
        let template_paragraph = stat.end_run.saturating_sub(stat.first_run) == 1
            && density < 0.25
            && styled_like(sibling, &paragraph_classes)
            && ElementRef::wrap(sibling).is_some_and(|e| reads_as_sentence(e, rules));
        // A part of the same template (the article split around an embed): its text may
        // sit deeper than the damped score sees, so compare the undamped prose.
        let same_template_part = top_el.is_some_and(|t| same_kind_of_element(t, el))
            && density < 0.25
            && deep_value(doc, analysis, sibling.id(), stat, rules)
                >= top_deep * rules.knobs.sibling_score_share;
        if score >= threshold || prose_paragraph || same_template_part || template_paragraph {
            out.push(sibling.id());
        }
    }
    out
}

/// True when the element's text ends a sentence (before closing quotes or brackets) and
/// it holds no image or caption: a paragraph, not a date line, credit or caption.
fn reads_as_sentence(el: ElementRef<'_>, rules: &ContentRules) -> bool {
    let mut last_text = "";
    for node in el.descendants() {
        match node.value() {
            scraper::Node::Element(e) if e.name() == "img" || dom::is_caption_like(e, rules) => {
                return false;
            }
            scraper::Node::Text(t) if !t.trim().is_empty() => last_text = t,
            _ => {}
        }
    }
    let end = last_text
        .trim_end()
        .trim_end_matches([')', ']', '"', '\'', '’', '”', '»', '）']);
    end.ends_with(['.', '!', '?', '。', '！', '？'])
}

/// True when the element, or its only child element, is a `p` or `div` carrying one of
/// `classes`.
fn styled_like(node: ego_tree::NodeRef<'_, scraper::Node>, classes: &[&str]) -> bool {
    if classes.is_empty() {
        return false;
    }
    let mut elements = node.children().filter(|c| c.value().is_element());
    let only_child = match (elements.next(), elements.next()) {
        (Some(only), None) => Some(only),
        _ => None,
    };
    [Some(node), only_child].into_iter().flatten().any(|n| {
        n.value().as_element().is_some_and(|e| {
            matches!(e.name(), "p" | "div") && class_names(e).any(|c| classes.contains(&c))
        })
    })
}

/// Same tag and at least one class in common: parts of one template (an article body
/// split around an embed renders each part in the same wrapper).
fn same_kind_of_element(a: &scraper::node::Element, b: &scraper::node::Element) -> bool {
    a.name() == b.name() && class_names(a).any(|c| class_names(b).any(|d| d == c))
}

/// Why the page is a list page, when it is one.
fn list_page_reason(choice: &Choice, analysis: &Analysis, rules: &ContentRules) -> Option<String> {
    let body: u32 = choice
        .nodes
        .iter()
        .filter_map(|id| analysis.stats.get(id))
        .map(Stat::unlinked_tokens)
        .sum();
    let knobs = &rules.knobs;
    // A known article container holding some text speaks for an article.
    if choice.container.is_some() && body >= knobs.container_min_tokens {
        return None;
    }
    if body < knobs.list_max_body_tokens
        && analysis.headline_links >= knobs.list_min_headline_links
        && analysis.headline_link_tokens > 4 * body
    {
        return Some(format!(
            "a list page: {} headline links around a best block of only {body} words/characters",
            analysis.headline_links
        ));
    }
    None
}

/// Drops leading and trailing blocks that are mostly links (navigation left in the
/// container), keeping attachment lines, and headings left at the end.
fn trim_link_edges(built: &mut blocks::Built) {
    let is_link_block =
        |i: usize, built: &blocks::Built| built.link_share[i] > 0.5 && !built.has_attachment[i];
    // A heading closing the body introduces nothing: its list or rail was removed.
    let is_orphan_heading = |i: usize, built: &blocks::Built| {
        built.blocks[i].kind == BlockKind::Heading && !built.has_attachment[i]
    };
    let mut end = built.blocks.len();
    while end > 0 && (is_link_block(end - 1, built) || is_orphan_heading(end - 1, built)) {
        end -= 1;
    }
    let mut start = 0;
    while start < end && is_link_block(start, built) {
        start += 1;
    }
    built.blocks.truncate(end);
    built.link_share.truncate(end);
    built.has_attachment.truncate(end);
    built.caption_like.truncate(end);
    built.blocks.drain(..start);
    built.link_share.drain(..start);
    built.has_attachment.drain(..start);
    built.caption_like.drain(..start);
}

/// Drops paragraphs and list items that are nothing but one headline-long link: a
/// "read this too" teaser set inside the story. Attachment links, bare addresses and
/// short links (product buttons, "Buy now") stay.
fn drop_lone_headline_links(built: &mut blocks::Built, rules: &ContentRules) {
    let keep: Vec<bool> = built
        .blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            let lone_link = matches!(block.kind, BlockKind::Paragraph | BlockKind::ListItem)
                && built.link_share[i] >= rules.knobs.lone_link_min_share
                && !built.has_attachment[i]
                && text::Measure::of(&block.text).tokens >= rules.knobs.headline_link_min_tokens
                && !block.text.contains("://")
                && !block.text.contains("www.");
            !lone_link
        })
        .collect();
    if keep.contains(&false) {
        built.retain_blocks(&keep);
    }
}

/// Shortest caption (in characters) that counts as a copy of another.
const REPEAT_MIN_CHARS: usize = 40;

/// Drops captions that repeat an earlier caption: galleries render one caption several
/// times (full and truncated, in the slide and in an overlay), and some sites give every
/// photo the same caption. A later caption is a copy when the text the two share from
/// the start covers most of the shorter one, so "… more" / "less" toggles at the end do
/// not hide the repetition. Running text is never touched: a paragraph may legitimately
/// repeat (interview questions, a quote, a source page's own duplication).
fn drop_repeated_captions(built: &mut blocks::Built) {
    use std::collections::HashMap;
    let mut seen: HashMap<String, Vec<usize>> = HashMap::new();
    let mut keep = vec![true; built.blocks.len()];
    for (i, block) in built.blocks.iter().enumerate() {
        let n = block.text.chars().count();
        if n < REPEAT_MIN_CHARS || !built.caption_like.get(i).copied().unwrap_or(false) {
            continue;
        }
        let key: String = block.text.chars().take(REPEAT_MIN_CHARS).collect();
        let earlier = seen.entry(key).or_default();
        let repeated = earlier.iter().any(|&j| {
            let other = &built.blocks[j].text;
            let shorter = n.min(other.chars().count());
            let common = block
                .text
                .chars()
                .zip(other.chars())
                .take_while(|(a, b)| a == b)
                .count();
            common * 5 >= shorter * 4
        });
        if repeated {
            keep[i] = false;
        } else {
            earlier.push(i);
        }
    }
    if keep.contains(&false) {
        built.retain_blocks(&keep);
    }
}

/// The `<meta>` elements whose content is the page's title.
const TITLE_META_SELECTOR: &str =
    "meta[name=ArticleTitle], meta[property='og:title'], meta[name=title], meta[name=Title]";

/// Titles the page declares (`<title>`, ArticleTitle, og:title), whitespace removed.
/// One pass over the arena (the order `Html::select` reports elements in): the first
/// attached `<title>`, then the attached title `<meta>`s.
fn page_titles(doc: &Html, rules: &ContentRules) -> Vec<String> {
    let mut title: Option<String> = None;
    let mut metas = Vec::new();
    for node in doc.tree.nodes() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        if node.parent().is_none() {
            continue; // detached
        }
        match el.value().name() {
            "title" if title.is_none() => {
                title = Some(text::squeeze(&el.text().collect::<String>()));
            }
            "meta" if rules.title_meta_selector.matches(&el) => {
                if let Some(c) = el.value().attr("content") {
                    metas.push(text::squeeze(c));
                }
            }
            _ => {}
        }
    }
    let mut titles: Vec<String> = title.into_iter().chain(metas).collect();
    titles.retain(|t| t.chars().count() >= 4);
    titles
}

/// Removes the article's own headline repeated at the top of the body (possibly split
/// over a few lines, possibly with a footnote marker).
fn drop_title_blocks(titles: &[String], blocks: &mut Vec<Block>) {
    if titles.is_empty() {
        return;
    }
    let mut drop = 0;
    for block in blocks.iter().take(3) {
        if !matches!(block.kind, BlockKind::Heading | BlockKind::Paragraph) {
            break;
        }
        let line = text::squeeze(&block.text);
        let n = line.chars().count();
        if n < 4 {
            break;
        }
        let matches = titles.iter().any(|t| {
            t.contains(&line) || (line.starts_with(t.as_str()) && n <= t.chars().count() + 6)
        });
        if !matches {
            break;
        }
        drop += 1;
    }
    blocks.drain(..drop);
}

/// Attachments listed in an 附件 block right after the body.
fn trailing_attachments(
    doc: &Html,
    analysis: &Analysis,
    choice: &Choice,
    base: Option<&Url>,
    rules: &ContentRules,
) -> Vec<Attachment> {
    let Some(last) = choice.nodes.last().and_then(|id| doc.tree.get(*id)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut following: Vec<_> = last
        .next_siblings()
        .filter(|n| n.value().is_element())
        .take(3)
        .collect();
    if following.is_empty() {
        if let Some(parent) = last.parent() {
            following = parent
                .next_siblings()
                .filter(|n| n.value().is_element())
                .take(2)
                .collect();
        }
    }
    for (i, node) in following.into_iter().enumerate() {
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let head: String = el.text().collect::<String>();
        let head = text::squeeze(&head);
        let labelled = rules
            .attachment_labels
            .iter()
            .any(|l| head.starts_with(l.as_str()));
        if !labelled && i > 0 {
            continue;
        }
        let mut builder = blocks::Builder::new(rules, &analysis.stats, &analysis.plain_text, base);
        builder.add(el);
        let built = builder.finish();
        if labelled
            || built.attachments.len() == built.blocks.iter().filter(|b| !b.text.is_empty()).count()
        {
            out.extend(built.attachments);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rules;

    fn body_of(html: &str) -> BodyOutcome {
        let rules = Rules::builtin().expect("rules");
        let doc = Html::parse_document(html);
        let base = Url::parse("http://www.example.gov.cn/a/b/t1.html").ok();
        extract_body(&doc, base.as_ref(), &rules.content)
    }

    fn text_of(html: &str) -> String {
        match body_of(html) {
            BodyOutcome::Body(b) => b.text(),
            BodyOutcome::NotArticle { kind, reason } => panic!("not an article: {kind:?} {reason}"),
        }
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        // 20 000 levels overflow any recursive walk on a 2 MiB test thread; the content
        // stage itself handles 100 000 in ~0.1 s (html5ever's parse is what gets slow).
        let mut html = String::from("<html><body>");
        for _ in 0..20_000 {
            html.push_str("<div>");
        }
        html.push_str("<p>这是一段很长的正文，用来测试深层嵌套的页面，不能让程序崩溃。</p>");
        let rules = Rules::builtin().expect("rules");
        let doc = Html::parse_document(&html);
        let _ = extract_body(&doc, None, &rules.content);
    }

    #[test]
    fn br_lines_become_paragraphs_and_title_is_dropped() {
        let html = "<html><head><title>春季植树活动启动_某某县人民政府</title></head><body>\
            <div class='nav'><a href='/'>首页</a> <a href='/x'>新闻中心</a></div>\
            <div class='TRS_Editor'><p>春季植树活动启动</p>\
            \u{3000}\u{3000}第一段正文，内容较长，说明活动的时间、地点和参加人员。<br>\
            \u{3000}\u{3000}第二段正文，继续介绍活动的具体情况，以及后续安排。<br><br>\
            <h3>一、工作要求</h3><p>各单位要高度重视，认真组织，确保活动取得实效。</p></div></body></html>";
        let body = match body_of(html) {
            BodyOutcome::Body(b) => b,
            _ => panic!("expected a body"),
        };
        let texts: Vec<&str> = body.blocks.iter().map(|b| b.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "第一段正文，内容较长，说明活动的时间、地点和参加人员。",
                "第二段正文，继续介绍活动的具体情况，以及后续安排。",
                "一、工作要求",
                "各单位要高度重视，认真组织，确保活动取得实效。"
            ]
        );
        assert_eq!(body.blocks[2].kind, BlockKind::Heading);
    }

    #[test]
    fn data_table_rows_and_attachments() {
        let text = text_of(
            "<html><body><div id='zoom'><p>下表列出了本季度的主要指标，请各单位对照执行，并按时上报。</p>\
             <table><tr><td>指标</td><td>数值</td></tr><tr><td><p>产量</p></td><td>12</td></tr></table>\
             <p>附件：<a href='files/plan.PDF'>实施方案</a></p></div></body></html>",
        );
        assert!(text.contains("指标 | 数值\n\n产量 | 12"), "{text}");
        match body_of("<html><body><div id='zoom'><p>正文内容，说明情况，请查阅附件，谢谢大家。</p><p><a href='a.docx'>附件一</a></p></div></body></html>") {
            BodyOutcome::Body(b) => {
                assert_eq!(b.attachments.len(), 1);
                assert_eq!(b.attachments[0].kind, "docx");
                assert_eq!(b.attachments[0].url, "http://www.example.gov.cn/a/b/a.docx");
                assert_eq!(b.attachments[0].title.as_deref(), Some("附件一"));
            }
            _ => panic!("expected body"),
        }
    }

    #[test]
    fn hidden_copies_are_ignored() {
        let text = text_of(
            "<html><body><div class='ng-hide'><div id='zoom'><p>隐藏的副本，不应出现在正文里，绝对不能。</p></div></div>\
             <div class='main'><p>真正的正文在这里，内容完整，句子通顺，标点齐全。</p><p>第二段也在这里，同样是正文的一部分。</p></div></body></html>",
        );
        assert!(!text.contains("隐藏"), "{text}");
        assert!(text.contains("第二段"), "{text}");
    }

    #[test]
    fn image_caption_after_image() {
        match body_of(
            "<html><body><div class='TRS_Editor'><p align='center'><img src='/img/a.jpg' alt='现场'></p>\
             <p align='center'>图为活动现场。（张三摄）</p><p>正文第一段，内容较长，说明活动的时间、地点和参加人员。</p></div></body></html>",
        ) {
            BodyOutcome::Body(b) => {
                assert_eq!(b.images.len(), 1);
                assert_eq!(b.images[0].src, "http://www.example.gov.cn/img/a.jpg");
                assert_eq!(b.images[0].caption.as_deref(), Some("图为活动现场。（张三摄）"));
                assert_eq!(b.blocks[0].kind, BlockKind::Caption);
            }
            _ => panic!("expected body"),
        }
    }
}

#[cfg(test)]
mod any_of_tests {
    use super::*;

    /// The built-in selector lists read only the element, so the bare-element shortcut
    /// applies to them.
    #[test]
    fn builtin_selectors_answer_bare_elements_by_name() {
        let rules = crate::rules::Rules::builtin().unwrap();
        let content = &rules.content;
        assert!(content.title_selector.reads_only_the_element());
        assert!(content
            .any_container
            .as_ref()
            .unwrap()
            .reads_only_the_element());
    }

    /// The joined list says what testing each container selector says, on elements of
    /// every kind the built-in selectors name.
    #[test]
    fn any_container_equals_each_container() {
        let rules = crate::rules::Rules::builtin().unwrap();
        let content = &rules.content;
        let any = &content
            .any_container
            .as_ref()
            .expect("a combined selector")
            .selector;
        let html = r#"<html><body>
            <div class="TRS_Editor">a</div><div class="trs_editor">b</div>
            <ucapcontent>c</ucapcontent><div id="UCAP-CONTENT">d</div><div id="zoom">e</div>
            <div id="ZOOM">f</div><div class="x bt_content y">g</div><p class="view">h</p>
            <div itemprop="articleBody">i</div><div itemprop="articlebody">j</div>
            <section class="content">k</section><div id="Content">l</div><article>m</article>
            <div class="article-content">n</div><span class="zw">o</span><div>p</div>
            <div class="news_content extra" id="zw">q</div><div class="contents">r</div>
        </body></html>"#;
        let doc = Html::parse_document(html);
        let mut matched = 0;
        for node in doc.tree.nodes() {
            let Some(el) = ElementRef::wrap(node) else {
                continue;
            };
            let each = content.containers.iter().any(|c| c.selector.matches(&el));
            assert_eq!(any.matches(&el), each, "{:?}", el.value());
            matched += usize::from(each);
        }
        assert!(matched >= 12, "{matched}");
    }
}
