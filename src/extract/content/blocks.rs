//! Turning the chosen body elements into blocks, images and attachments.

use ego_tree::iter::Edge;
use ego_tree::NodeId;
use scraper::node::Element;
use scraper::{ElementRef, Node};
use url::Url;

use super::score::Stat;
use super::text::{normalize_space, Measure};
use super::{dom, Block, BlockKind, ContentRules};
use crate::article::{Attachment, Image};
use crate::extract::nodes::{NodeMap, NodeSet};

/// Blocks built from one or more subtrees, plus what is needed to trim them.
#[derive(Debug, Default)]
pub struct Built {
    pub blocks: Vec<Block>,
    /// Per block: share of its tokens inside links, and whether it links an attachment.
    pub link_share: Vec<f64>,
    pub has_attachment: Vec<bool>,
    /// Per block: an image caption or credit (by tag or class), not running text.
    pub caption_like: Vec<bool>,
    pub images: Vec<Image>,
    pub attachments: Vec<Attachment>,
}

impl Built {
    /// Keeps the blocks whose entry in `keep` is true (with their per-block facts).
    pub fn retain_blocks(&mut self, keep: &[bool]) {
        fn retain<T>(items: &mut Vec<T>, keep: &[bool]) {
            let mut index = 0;
            items.retain(|_| {
                index += 1;
                keep.get(index - 1).copied().unwrap_or(true)
            });
        }
        retain(&mut self.blocks, keep);
        retain(&mut self.link_share, keep);
        retain(&mut self.has_attachment, keep);
        retain(&mut self.caption_like, keep);
    }
}

pub struct Builder<'r> {
    rules: &'r ContentRules,
    /// The elements the scorer measured: every other element is skipped (hidden,
    /// excluded, not text), as `dom::is_skipped` decided once for the whole page.
    measured: &'r NodeMap<Stat>,
    /// Text nodes without white space (found by the scorer's measuring).
    plain_text: &'r NodeSet,
    base: Option<&'r Url>,
    out: Built,
    buf: String,
    /// `buf` holds no white space, so normalising it would change nothing.
    buf_plain: bool,
    buf_link_tokens: u32,
    buf_attachment: bool,
    /// Kind-giving elements currently open (headings, list items, captions).
    kinds: Vec<(NodeId, BlockKind)>,
    /// Open block elements, innermost last.
    block_stack: Vec<NodeId>,
    /// Open block elements that are captions or credits by class (see `caption_hints`).
    open_captions: Vec<NodeId>,
    link_depth: u32,
    /// The attachment whose link text is being collected.
    open_attachment: Option<(NodeId, usize, String)>,
    /// An image waiting for a caption: (image index, block it sits in).
    pending_caption: Option<(usize, Option<NodeId>)>,
    /// Open data tables: cells of the current row, and the current cell text.
    table: Option<DataTable>,
}

struct DataTable {
    id: NodeId,
    cells: Vec<String>,
    in_cell: bool,
}

impl<'r> Builder<'r> {
    pub fn new(
        rules: &'r ContentRules,
        measured: &'r NodeMap<Stat>,
        plain_text: &'r NodeSet,
        base: Option<&'r Url>,
    ) -> Self {
        Builder {
            rules,
            measured,
            plain_text,
            base,
            out: Built::default(),
            buf: String::new(),
            buf_plain: true,
            buf_link_tokens: 0,
            buf_attachment: false,
            kinds: Vec::new(),
            block_stack: Vec::new(),
            open_captions: Vec::new(),
            link_depth: 0,
            open_attachment: None,
            pending_caption: None,
            table: None,
        }
    }

    pub fn finish(mut self) -> Built {
        self.flush(None);
        self.out
    }

    /// Adds the visible content of `root` (iteratively, in document order).
    pub fn add(&mut self, root: ElementRef<'_>) {
        let mut skip_until: Option<NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skip_until.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Element(el) => {
                            if self.measured.get(&node.id()).is_none() {
                                skip_until = Some(node.id());
                                continue;
                            }
                            self.open(node.id(), el, ElementRef::wrap(node));
                        }
                        Node::Text(t) => {
                            if !self.plain_text.contains(&node.id()) {
                                self.buf_plain = false;
                            }
                            self.text(t);
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
                    if let Node::Element(el) = node.value() {
                        self.close(node.id(), el, ElementRef::wrap(node));
                    }
                }
            }
        }
        self.flush(None);
        self.block_stack.clear();
        self.open_captions.clear();
        self.kinds.clear();
        self.table = None;
        self.link_depth = 0;
    }

    fn text(&mut self, text: &str) {
        if self.link_depth > 0 {
            self.buf_link_tokens += Measure::of(text).tokens;
        }
        if let Some((_, _, title)) = self.open_attachment.as_mut() {
            title.push_str(text);
        }
        self.buf.push_str(text);
    }

    fn in_data_table(&self) -> bool {
        self.table.is_some()
    }

    fn open(&mut self, id: NodeId, el: &Element, er: Option<ElementRef<'_>>) {
        let name = el.name();
        if self.in_data_table() {
            match name {
                "td" | "th" => {
                    self.clear_buf();
                    if let Some(t) = self.table.as_mut() {
                        t.in_cell = true;
                    }
                }
                "tr" => {
                    if let Some(t) = self.table.as_mut() {
                        t.cells.clear();
                    }
                }
                "caption" => {
                    self.flush(None);
                    self.kinds.push((id, BlockKind::Caption));
                }
                "img" => self.image(el),
                "a" => self.link(id, el),
                _ if dom::is_block_tag(name) || name == "br" => {
                    self.buf.push(' ');
                    self.buf_plain = false;
                }
                _ => {}
            }
            return;
        }
        match name {
            "br" | "hr" => self.flush(None),
            "img" => self.image(el),
            "a" => self.link(id, el),
            "table" if er.is_some_and(|t| is_data_table(t, self.measured, self.rules)) => {
                self.flush(None);
                self.table = Some(DataTable {
                    id,
                    cells: Vec::new(),
                    in_cell: false,
                });
            }
            _ if dom::is_block_tag(name) => {
                self.flush(None);
                self.block_stack.push(id);
                if dom::is_caption_like(el, self.rules) {
                    self.open_captions.push(id);
                }
                let kind = match name {
                    "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => Some(BlockKind::Heading),
                    "li" => Some(BlockKind::ListItem),
                    "figcaption" | "caption" => Some(BlockKind::Caption),
                    _ => None,
                };
                if let Some(kind) = kind {
                    self.kinds.push((id, kind));
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, id: NodeId, el: &Element, er: Option<ElementRef<'_>>) {
        let name = el.name();
        if name == "a" {
            self.link_depth = self.link_depth.saturating_sub(1);
            if let Some((link_id, index, title)) = self.open_attachment.take() {
                if link_id == id {
                    let title = normalize_space(&title);
                    if !title.is_empty() {
                        if let Some(att) = self.out.attachments.get_mut(index) {
                            att.title = Some(title);
                        }
                    }
                } else {
                    self.open_attachment = Some((link_id, index, title));
                }
            }
            return;
        }
        if let Some(table) = self.table.as_mut() {
            match name {
                "td" | "th" if table.in_cell => {
                    let cell = normalized(&self.buf, self.buf_plain);
                    self.buf.clear();
                    self.buf_plain = true;
                    table.in_cell = false;
                    if !cell.is_empty() {
                        table.cells.push(cell);
                    }
                }
                "tr" => {
                    let row = table.cells.join(" | ");
                    table.cells.clear();
                    self.buf = row;
                    // Normalised cells joined by " | " are normalised already
                    // (`normalize_space` is idempotent; see its tests).
                    self.buf_plain = true;
                    self.flush(Some(BlockKind::TableRow));
                }
                "caption" => {
                    self.flush(None);
                    self.kinds.retain(|(k, _)| *k != id);
                }
                "table" if table.id == id => {
                    self.clear_buf();
                    self.table = None;
                }
                _ => {}
            }
            return;
        }
        if dom::is_block_tag(name) {
            let centered = er.is_some_and(|e| dom::is_centered(e.value()));
            self.flush_with(None, centered);
            if self.block_stack.last() == Some(&id) {
                self.block_stack.pop();
            }
            if self.open_captions.last() == Some(&id) {
                self.open_captions.pop();
            }
            self.kinds.retain(|(k, _)| *k != id);
        }
    }

    fn image(&mut self, el: &Element) {
        let tiny = |attr: &str| {
            el.attr(attr)
                .and_then(|v| v.trim().trim_end_matches("px").parse::<u32>().ok())
                .is_some_and(|v| v <= 2)
        };
        if tiny("width") || tiny("height") {
            return;
        }
        let src = ["src", "data-src", "data-original", "original"]
            .iter()
            .filter_map(|a| el.attr(a))
            .map(str::trim)
            .find(|s| !s.is_empty() && !s.starts_with("data:"));
        let Some(src) = src else { return };
        let src = self.resolve(src);
        if self.out.images.iter().any(|i| i.src == src) {
            return;
        }
        let alt = el
            .attr("alt")
            .map(normalize_space)
            .filter(|a| !a.is_empty());
        self.out.images.push(Image {
            src,
            alt,
            caption: None,
        });
        let block = self.block_stack.last().copied();
        self.pending_caption = Some((self.out.images.len() - 1, block));
    }

    fn link(&mut self, id: NodeId, el: &Element) {
        self.link_depth += 1;
        let Some(href) = el.attr("href").map(str::trim) else {
            return;
        };
        let Some(kind) = attachment_kind(href, self.rules) else {
            return;
        };
        let url = self.resolve(href);
        if let Some(index) = self.out.attachments.iter().position(|a| a.url == url) {
            self.open_attachment = Some((id, index, String::new()));
        } else {
            let title = el
                .attr("title")
                .map(normalize_space)
                .filter(|t| !t.is_empty());
            self.out.attachments.push(Attachment { url, title, kind });
            self.open_attachment = Some((id, self.out.attachments.len() - 1, String::new()));
        }
        self.buf_attachment = true;
    }

    fn resolve(&self, href: &str) -> String {
        match self.base {
            Some(base) => base
                .join(href)
                .map(|u| u.to_string())
                .unwrap_or_else(|_| href.to_string()),
            None => href.to_string(),
        }
    }

    fn clear_buf(&mut self) {
        self.buf.clear();
        self.buf_plain = true;
    }

    fn flush(&mut self, kind: Option<BlockKind>) {
        self.flush_with(kind, false);
    }

    /// Ends the current paragraph. `centered` says the closing element centres it.
    fn flush_with(&mut self, kind: Option<BlockKind>, centered: bool) {
        let text = normalized(&self.buf, self.buf_plain);
        self.clear_buf();
        let link_tokens = std::mem::take(&mut self.buf_link_tokens);
        let has_attachment = std::mem::take(&mut self.buf_attachment);
        if text.is_empty() {
            return;
        }
        let mut kind = kind
            .or_else(|| self.kinds.last().map(|(_, k)| *k))
            .unwrap_or(BlockKind::Paragraph);
        if let Some((index, image_block)) = self.pending_caption.take() {
            let same_block =
                image_block.is_some() && image_block == self.block_stack.last().copied();
            let short = text.chars().count() <= self.rules.knobs.caption_max_chars;
            let is_caption = kind == BlockKind::Caption
                || (kind == BlockKind::Paragraph && short && (centered || same_block));
            if is_caption {
                kind = BlockKind::Caption;
                if let Some(image) = self.out.images.get_mut(index) {
                    image.caption = Some(text.clone());
                }
            }
        }
        // Most blocks hold no link: their share is 0 without measuring the text.
        let tokens = if link_tokens == 0 {
            0
        } else {
            Measure::of(&text).tokens
        };
        let share = if tokens == 0 {
            0.0
        } else {
            (f64::from(link_tokens) / f64::from(tokens)).min(1.0)
        };
        let caption_like = kind == BlockKind::Caption || !self.open_captions.is_empty();
        self.out.blocks.push(Block { kind, text });
        self.out.link_share.push(share);
        self.out.has_attachment.push(has_attachment);
        self.out.caption_like.push(caption_like);
    }
}

/// `normalize_space(buf)`, a plain copy when `plain` says the text holds no white space.
fn normalized(buf: &str, plain: bool) -> String {
    if plain {
        buf.to_string()
    } else {
        normalize_space(buf)
    }
}

/// The lower-case extension when `href` points to an attachment file.
pub fn attachment_kind(href: &str, rules: &ContentRules) -> Option<String> {
    let path = href.split(['?', '#']).next().unwrap_or(href);
    let last = path.rsplit('/').next().unwrap_or(path);
    let (_, ext) = last.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    rules.attachment_extensions.contains(&ext).then_some(ext)
}

/// A table of data (rows become text lines) rather than a layout table: no nested
/// tables, some row with two or more cells, and no cell holding a whole article.
fn is_data_table(table: ElementRef<'_>, measured: &NodeMap<Stat>, rules: &ContentRules) -> bool {
    let mut multi_cell_row = false;
    let mut skip_until: Option<NodeId> = None;
    let mut cells_in_row = 0usize;
    let mut cell_tokens = 0u32;
    let mut depth_cell = false;
    for edge in table.traverse() {
        match edge {
            Edge::Open(node) => {
                if skip_until.is_some() {
                    continue;
                }
                match node.value() {
                    Node::Element(el) => {
                        if measured.get(&node.id()).is_none() {
                            skip_until = Some(node.id());
                            continue;
                        }
                        match el.name() {
                            "table" if node.id() != table.id() => return false,
                            "tr" => cells_in_row = 0,
                            "td" | "th" => {
                                cells_in_row += 1;
                                cell_tokens = 0;
                                depth_cell = true;
                                if cells_in_row >= 2 {
                                    multi_cell_row = true;
                                }
                            }
                            _ => {}
                        }
                    }
                    Node::Text(t) if depth_cell => {
                        cell_tokens += Measure::of(t).tokens;
                        if cell_tokens > rules.knobs.data_cell_max_tokens {
                            return false;
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
                if let Node::Element(el) = node.value() {
                    if matches!(el.name(), "td" | "th") {
                        depth_cell = false;
                    }
                }
            }
        }
    }
    multi_cell_row
}
