//! The in-memory frontier of one site's pass (its durable copy is the `queued` rows of
//! the crawl state).
//!
//! Start URLs, feeds and next pages of lists come first (they find the rest), then
//! article-shaped URLs, then other pages; within a class, in discovery order.

use std::collections::VecDeque;

/// A URL waiting to be fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrontierItem {
    pub url: String,
    pub depth: u32,
    /// `start`, `feed`, `list`, `article` or `page`.
    pub kind: String,
}

impl FrontierItem {
    fn class(&self) -> usize {
        match self.kind.as_str() {
            "start" | "feed" | "list" => 0,
            "article" => 1,
            _ => 2,
        }
    }
}

#[derive(Debug, Default)]
pub struct Frontier {
    queues: [VecDeque<FrontierItem>; 3],
}

impl Frontier {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, item: FrontierItem) {
        let class = item.class();
        self.queues[class].push_back(item);
    }

    pub fn pop(&mut self) -> Option<FrontierItem> {
        self.queues.iter_mut().find_map(|q| q.pop_front())
    }

    pub fn len(&self) -> usize {
        self.queues.iter().map(VecDeque::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_before_articles_before_pages() {
        let mut f = Frontier::new();
        for (url, kind) in [
            ("p", "page"),
            ("a", "article"),
            ("l", "list"),
            ("s", "start"),
        ] {
            f.push(FrontierItem {
                url: url.into(),
                depth: 0,
                kind: kind.into(),
            });
        }
        let order: Vec<String> = std::iter::from_fn(|| f.pop()).map(|i| i.url).collect();
        assert_eq!(order, vec!["l", "s", "a", "p"]);
    }
}
