//! Scoring: measure every element once, score runs of prose, propagate to ancestors.
//!
//! One iterative pass over the DOM (no recursion: arbitrarily deep pages are fine)
//! measures each element's visible text and link text. Text between block boundaries
//! (a "run": a paragraph, or one `<br>`-separated line) scores by its punctuation and
//! length, damped by its share of link text; the score goes to the element holding the
//! run and, decreasingly, to its ancestors, as readability does.

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::{Html, Node};

use super::dom;
use super::text::Measure;
use super::ContentRules;
use crate::extract::nodes::{NodeMap, NodeSet};

/// What one element holds (visible text only).
#[derive(Debug, Clone, Copy, Default)]
pub struct Stat {
    pub text: Measure,
    pub link_tokens: u32,
    /// Prose score gathered from runs in and below the element, damped by distance.
    pub score: f64,
    /// Undamped sum of the scores of every run in the subtree.
    pub deep_score: f64,
    /// Links in the subtree whose text is long enough to be a headline.
    pub headline_links: u32,
    /// Index range `[first_run, end_run)` of the text runs in the subtree (document order).
    pub first_run: u32,
    pub end_run: u32,
}

impl Stat {
    /// Share of the text that sits inside links.
    pub fn link_density(&self) -> f64 {
        if self.text.tokens == 0 {
            0.0
        } else {
            f64::from(self.link_tokens) / f64::from(self.text.tokens)
        }
    }

    pub fn unlinked_tokens(&self) -> u32 {
        self.text.tokens.saturating_sub(self.link_tokens)
    }
}

/// The measured page.
#[derive(Debug, Default)]
pub struct Analysis {
    /// Every element that is not skipped (hidden, not text, excluded), in arena order.
    pub stats: NodeMap<Stat>,
    /// Links whose text is long enough to be a headline (a sign of list pages).
    pub headline_links: u32,
    pub headline_link_tokens: u32,
    /// Run range of the article's own headline, when the page shows one.
    pub title_runs: Option<(u32, u32)>,
    /// Text nodes without white space: `normalize_space` leaves them as they are.
    pub plain_text: NodeSet,
}

/// Ancestor weights for a run's score: the holder, its parent, grandparent, ...
const PROPAGATION: [f64; 5] = [1.0, 1.0, 0.5, 1.0 / 6.0, 1.0 / 9.0];

struct Open {
    id: NodeId,
    block: bool,
    text: Measure,
    link_tokens: u32,
    deep_score: f64,
    headline_links: u32,
    first_run: u32,
}

#[derive(Default)]
struct Run {
    text: Measure,
    link_tokens: u32,
}

pub fn analyze(doc: &Html, rules: &ContentRules) -> Analysis {
    let mut analysis = Analysis {
        stats: NodeMap::for_tree(&doc.tree),
        plain_text: NodeSet::for_tree(&doc.tree),
        ..Analysis::default()
    };
    let mut runs: Vec<(NodeId, Run)> = Vec::new();
    let mut run = Run::default();
    let mut stack: Vec<Open> = Vec::new();
    let mut skip_until: Option<NodeId> = None;
    // Token counts of the open <a> elements.
    let mut links: Vec<u32> = Vec::new();

    let flush = |run: &mut Run, stack: &mut [Open], runs: &mut Vec<(NodeId, Run)>| {
        if run.text.tokens == 0 {
            return;
        }
        if let Some(owner) = stack.iter_mut().rev().find(|o| o.block) {
            owner.deep_score += run_score(run, rules);
            runs.push((owner.id, std::mem::take(run)));
        } else {
            *run = Run::default();
        }
    };

    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => {
                if skip_until.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        if dom::is_skipped(el, rules) {
                            skip_until = Some(node.id());
                            continue;
                        }
                        let name = el.name();
                        let block = dom::is_block_tag(name);
                        if block || name == "br" {
                            flush(&mut run, &mut stack, &mut runs);
                        }
                        if name == "a" {
                            links.push(0);
                        }
                        stack.push(Open {
                            id: node.id(),
                            block,
                            text: Measure::default(),
                            link_tokens: 0,
                            deep_score: 0.0,
                            headline_links: 0,
                            first_run: runs.len() as u32,
                        });
                    }
                    Node::Text(t) => {
                        let (m, spaced) = Measure::scan(t);
                        if !spaced {
                            analysis.plain_text.insert(node.id());
                        }
                        if m.tokens == 0 && m.punct == 0 {
                            continue;
                        }
                        let in_link = !links.is_empty();
                        if let Some(last) = links.last_mut() {
                            *last += m.tokens;
                        }
                        run.text.add(m);
                        if in_link {
                            run.link_tokens += m.tokens;
                        }
                        if let Some(top) = stack.last_mut() {
                            top.text.add(m);
                            if in_link {
                                top.link_tokens += m.tokens;
                            }
                        }
                    }
                    _ => {}
                }
            }
            Edge::Close(node) => {
                if let Some(id) = skip_until {
                    if id == node.id() {
                        skip_until = None;
                    }
                    continue;
                }
                let Node::Element(el) = node.value() else {
                    continue;
                };
                if stack.last().map(|o| o.id) != Some(node.id()) {
                    continue;
                }
                if dom::is_block_tag(el.name()) {
                    flush(&mut run, &mut stack, &mut runs);
                }
                let mut headline = false;
                if el.name() == "a" {
                    if let Some(tokens) = links.pop() {
                        if tokens >= rules.knobs.headline_link_min_tokens {
                            analysis.headline_links += 1;
                            analysis.headline_link_tokens += tokens;
                            headline = true;
                        }
                    }
                }
                let Some(mut open) = stack.pop() else {
                    continue;
                };
                open.headline_links += u32::from(headline);
                if let Some(parent) = stack.last_mut() {
                    parent.text.add(open.text);
                    parent.link_tokens += open.link_tokens;
                    parent.deep_score += open.deep_score;
                    parent.headline_links += open.headline_links;
                }
                analysis.stats.insert(
                    open.id,
                    Stat {
                        text: open.text,
                        link_tokens: open.link_tokens,
                        score: 0.0,
                        deep_score: open.deep_score,
                        headline_links: open.headline_links,
                        first_run: open.first_run,
                        end_run: runs.len() as u32,
                    },
                );
            }
        }
    }

    for (owner, run) in runs {
        let score = run_score(&run, rules);
        if score <= 0.0 {
            continue;
        }
        let mut current = doc.tree.get(owner);
        for weight in PROPAGATION {
            let Some(node) = current else { break };
            if let Some(stat) = analysis.stats.get_mut(&node.id()) {
                stat.score += score * weight;
            }
            current = node.parent();
        }
    }
    analysis
}

/// The prose score of one run: punctuation and length, damped by its link share.
fn run_score(run: &Run, rules: &ContentRules) -> f64 {
    if run.text.tokens < rules.knobs.min_run_tokens {
        return 0.0;
    }
    let link_share = f64::from(run.link_tokens) / f64::from(run.text.tokens);
    let length_bonus = (f64::from(run.text.tokens) / 30.0).min(3.0);
    (1.0 + f64::from(run.text.punct) + length_bonus) * (1.0 - link_share)
}
