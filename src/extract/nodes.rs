//! Cheap access to a parsed page: per-node tables indexed by the node's slot in the
//! tree's arena, and attribute reads that do not intern the attribute's name.
//!
//! The stages measure every node of a page and look the figures up again many times.
//! `ego_tree` keeps its nodes in a `Vec` (a `NodeId` is the slot plus one) but does not
//! expose the slot; these tables recover it, so a lookup is an array access instead of
//! hashing a `HashMap<NodeId, _>` key, and iterating a table visits the nodes in arena
//! order, which is the order `scraper::Html::select` reports them in.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};

use ego_tree::{NodeId, Tree};
use scraper::node::Element;

/// Hash maps and sets for per-page lookups of short keys (tag names, class tokens):
/// SipHash, the standard hasher, costs more than the lookups it serves; aHash is several
/// times faster and still randomly keyed, so a page cannot pick colliding class names.
pub(crate) type FastMap<K, V> = HashMap<K, V, ahash::RandomState>;
pub(crate) type FastSet<K> = HashSet<K, ahash::RandomState>;

/// The element's class names, as [`Element::classes`] lists them but unsorted and not
/// deduplicated. `classes` interns every name as an atom on first use (a global lock for
/// names that are not predefined); splitting the attribute is much cheaper where the
/// order does not matter.
pub(crate) fn class_names<'a>(el: &'a Element) -> impl Iterator<Item = &'a str> + 'a {
    el.attrs
        .iter()
        .filter(|(qual, _)| &*qual.local == "class")
        .flat_map(|(_, value)| value.split_whitespace())
}

/// The element's id, like [`Element::id`] (which keeps a copy of it on first use).
pub(crate) fn id_of(el: &Element) -> Option<&str> {
    el.attrs
        .iter()
        .find(|(qual, _)| &*qual.local == "id")
        .map(|(_, value)| &**value)
}

/// The value of an attribute without a namespace, like [`Element::attr`]. `attr` interns
/// the name first (a lookup in the atom tables, a lock for names that are not
/// predefined) and then hashes into the attribute map; elements have few attributes, so
/// comparing names is much cheaper.
pub(crate) fn attr<'a>(el: &'a Element, name: &str) -> Option<&'a str> {
    el.attrs
        .iter()
        .find(|(qual, _)| &*qual.local == name && qual.ns.is_empty())
        .map(|(_, value)| &**value)
}

/// The arena slot of a node. `NodeId` hashes its inner `NonZeroUsize` (slot + 1) as one
/// `usize`; a hasher that keeps that value reads the slot back without unsafe code.
/// Should a future `ego_tree` hash differently, the slot becomes `usize::MAX` (never a
/// valid slot: lookups miss instead of misreading) and the tests below fail.
pub(crate) fn slot(id: NodeId) -> usize {
    #[derive(Default)]
    struct KeepUsize(Option<usize>, bool);
    impl Hasher for KeepUsize {
        fn write(&mut self, _bytes: &[u8]) {
            self.1 = true;
        }
        fn write_usize(&mut self, n: usize) {
            if self.0.is_some() {
                self.1 = true;
            }
            self.0 = Some(n);
        }
        fn finish(&self) -> u64 {
            0
        }
    }
    let mut keep = KeepUsize::default();
    id.hash(&mut keep);
    match keep {
        KeepUsize(Some(n), false) if n > 0 => n - 1,
        _ => usize::MAX,
    }
}

/// A map from the nodes of one tree to values, stored by arena slot.
#[derive(Debug, Clone)]
pub(crate) struct NodeMap<T> {
    slots: Vec<Option<(NodeId, T)>>,
}

impl<T> Default for NodeMap<T> {
    fn default() -> Self {
        NodeMap { slots: Vec::new() }
    }
}

impl<T> NodeMap<T> {
    /// An empty map with room for every node of `tree`.
    pub fn for_tree<N>(tree: &Tree<N>) -> Self {
        let mut slots = Vec::new();
        slots.resize_with(tree.nodes().len(), || None);
        NodeMap { slots }
    }

    pub fn get(&self, id: &NodeId) -> Option<&T> {
        match self.slots.get(slot(*id)) {
            Some(Some((stored, value))) if stored == id => Some(value),
            _ => None,
        }
    }

    pub fn get_mut(&mut self, id: &NodeId) -> Option<&mut T> {
        match self.slots.get_mut(slot(*id)) {
            Some(Some((stored, value))) if stored == id => Some(value),
            _ => None,
        }
    }

    /// Sets the value of `id`, returning the previous one.
    pub fn insert(&mut self, id: NodeId, value: T) -> Option<T> {
        let at = slot(id);
        if at == usize::MAX {
            return None;
        }
        if at >= self.slots.len() {
            self.slots.resize_with(at + 1, || None);
        }
        self.slots[at]
            .replace((id, value))
            .map(|(_, previous)| previous)
    }

    /// Entries in arena order.
    pub fn iter(&self) -> impl Iterator<Item = (&NodeId, &T)> + '_ {
        self.slots
            .iter()
            .filter_map(|s| s.as_ref().map(|(id, value)| (id, value)))
    }
}

/// A set of the nodes of one tree.
#[derive(Debug, Clone, Default)]
pub(crate) struct NodeSet {
    members: Vec<bool>,
}

impl NodeSet {
    pub fn for_tree<N>(tree: &Tree<N>) -> Self {
        NodeSet {
            members: vec![false; tree.nodes().len()],
        }
    }

    pub fn contains(&self, id: &NodeId) -> bool {
        self.members.get(slot(*id)).copied().unwrap_or(false)
    }

    pub fn insert(&mut self, id: NodeId) {
        let at = slot(id);
        if at == usize::MAX {
            return;
        }
        if at >= self.members.len() {
            self.members.resize(at + 1, false);
        }
        self.members[at] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attr_reads_like_element_attr() {
        let doc = scraper::Html::parse_document(
            "<div id=x Style='display:none' data-src=a hidden><svg><a xlink:href=y href=z></a></svg></div>",
        );
        for node in doc.tree.nodes() {
            if let Some(el) = node.value().as_element() {
                for name in [
                    "id",
                    "style",
                    "data-src",
                    "hidden",
                    "href",
                    "xlink:href",
                    "class",
                ] {
                    assert_eq!(attr(el, name), el.attr(name), "{name} of {}", el.name());
                }
            }
        }
    }

    #[test]
    fn class_names_and_id_read_like_element() {
        let doc = scraper::Html::parse_document(
            "<div id=' a ' class='b  c b\u{3000}d'><p class=''>x</p><p ID=Q CLASS='Z y'>y</p></div>",
        );
        for node in doc.tree.nodes() {
            if let Some(el) = node.value().as_element() {
                let mut names: Vec<&str> = class_names(el).collect();
                names.sort_unstable();
                names.dedup();
                assert_eq!(names, el.classes().collect::<Vec<_>>());
                assert_eq!(id_of(el), el.id());
            }
        }
    }

    #[test]
    fn slots_are_arena_positions() {
        let mut doc = scraper::Html::parse_document(
            "<html><body><div id=a><p>one</p><p>two<b>three</b></p></div><!-- c --></body></html>",
        );
        // Detached nodes keep their slot.
        let first_p = doc
            .tree
            .nodes()
            .find(|n| n.value().as_element().is_some_and(|e| e.name() == "p"))
            .map(|n| n.id())
            .expect("a paragraph");
        if let Some(mut p) = doc.tree.get_mut(first_p) {
            p.detach();
        }
        let ids: Vec<NodeId> = doc.tree.nodes().map(|n| n.id()).collect();
        assert!(ids.len() > 10);
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(slot(*id), i);
        }
        let mut map = NodeMap::for_tree(&doc.tree);
        let mut set = NodeSet::for_tree(&doc.tree);
        for (i, id) in ids.iter().enumerate().rev().step_by(2) {
            map.insert(*id, i);
            set.insert(*id);
        }
        let listed: Vec<(NodeId, usize)> = map.iter().map(|(id, v)| (*id, *v)).collect();
        let expected: Vec<(NodeId, usize)> = ids
            .iter()
            .enumerate()
            .rev()
            .step_by(2)
            .map(|(i, id)| (*id, i))
            .rev()
            .collect();
        assert_eq!(listed, expected, "iteration follows the arena");
        for (i, id) in ids.iter().enumerate() {
            let member = (ids.len() - 1 - i) % 2 == 0;
            assert_eq!(map.get(id).is_some(), member);
            assert_eq!(set.contains(id), member);
        }
    }
}
