//! How the content stage sees elements: skipped, block-level, hidden, hinted.

use scraper::node::Element;

use super::ContentRules;

/// Elements whose text is never article text.
pub fn is_skipped_tag(name: &str) -> bool {
    matches!(
        name,
        "script"
            | "style"
            | "noscript"
            | "template"
            | "iframe"
            | "frame"
            | "frameset"
            | "object"
            | "embed"
            | "select"
            | "option"
            | "button"
            | "input"
            | "textarea"
            | "svg"
            | "canvas"
            | "video"
            | "audio"
            | "head"
            | "title"
            | "meta"
            | "link"
            | "map"
            | "nav"
            | "aside"
            | "dialog"
            | "math"
    )
}

/// Elements that start a new line of text (everything else is inline).
pub fn is_block_tag(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "blockquote"
            | "body"
            | "caption"
            | "center"
            | "dd"
            | "details"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hgroup"
            | "hr"
            | "html"
            | "li"
            | "main"
            | "ol"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "tbody"
            | "thead"
            | "tfoot"
            | "tr"
            | "td"
            | "th"
            | "ul"
            | "legend"
            | "ucapcontent"
            | "ucaptitle"
    )
}

/// True when the element is hidden by markup the page itself ships (inline style,
/// `hidden`, hiding classes): such text is not shown to readers.
pub fn is_hidden(el: &Element, rules: &ContentRules) -> bool {
    if el.attr("hidden").is_some() {
        return true;
    }
    if el
        .attr("type")
        .is_some_and(|t| t.eq_ignore_ascii_case("hidden"))
    {
        return true;
    }
    if let Some(style) = el.attr("style") {
        let squeezed: String = style
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        if squeezed.contains("display:none") || squeezed.contains("visibility:hidden") {
            return true;
        }
    }
    el.classes()
        .any(|class| rules.hidden_classes.iter().any(|h| h == class))
}

/// Skipped entirely: not text, or hidden.
pub fn is_skipped(el: &Element, rules: &ContentRules) -> bool {
    is_skipped_tag(el.name()) || is_hidden(el, rules) || is_excluded(el, rules)
}

/// Regions that are never the article (comment threads), by class or id.
fn is_excluded(el: &Element, rules: &ContentRules) -> bool {
    if rules.excluded_hints.is_empty() || matches!(el.name(), "html" | "body" | "article" | "main")
    {
        return false;
    }
    let id_hit = el.id().is_some_and(|id| {
        let id = id.to_ascii_lowercase();
        rules.excluded_hints.iter().any(|h| id.contains(h.as_str()))
    });
    id_hit
        || el.classes().any(|c| {
            let c = c.to_ascii_lowercase();
            rules.excluded_hints.iter().any(|h| c.contains(h.as_str()))
        })
}

/// An image caption or credit, by tag (`figcaption`) or by class / id.
pub fn is_caption_like(el: &Element, rules: &ContentRules) -> bool {
    if el.name() == "figcaption" {
        return true;
    }
    let hit = |name: &str| {
        let name = name.to_ascii_lowercase();
        rules
            .caption_hints
            .iter()
            .any(|h| name.contains(h.as_str()))
    };
    el.id().is_some_and(hit) || el.classes().any(hit)
}

/// A multiplier from the element's tag, class and id: below 1 for furniture.
pub fn hint_weight(el: &Element, rules: &ContentRules) -> f64 {
    let tag_weight = match el.name() {
        "footer" | "header" => 0.4,
        "html" => 0.0,
        "body" => 0.7,
        "article" | "main" => 1.2,
        _ => 1.0,
    };
    let mut names = String::new();
    for class in el.classes() {
        names.push_str(&class.to_ascii_lowercase());
        names.push(' ');
    }
    if let Some(id) = el.id() {
        names.push_str(&id.to_ascii_lowercase());
    }
    if names.is_empty() {
        return tag_weight;
    }
    let negative = rules
        .negative_hints
        .iter()
        .any(|h| names.contains(h.as_str()));
    let positive = rules
        .positive_hints
        .iter()
        .any(|h| names.contains(h.as_str()));
    tag_weight
        * match (positive, negative) {
            (true, false) => 1.25,
            (false, true) => 0.4,
            _ => 1.0,
        }
}

/// True when the element centres its content (`align=center`, `text-align:center`, `<center>`).
pub fn is_centered(el: &Element) -> bool {
    if el.name() == "center" {
        return true;
    }
    if el
        .attr("align")
        .is_some_and(|a| a.trim().eq_ignore_ascii_case("center"))
    {
        return true;
    }
    el.attr("style").is_some_and(|s| {
        let squeezed: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
            .collect();
        squeezed.contains("text-align:center")
    })
}
