//! How the content stage sees elements: skipped, block-level, hidden, hinted.

use aho_corasick::AhoCorasick;
use scraper::node::Element;
use scraper::{ElementRef, Selector};

use super::ContentRules;
use crate::extract::nodes::{attr, class_names, id_of};

/// A selector list that knows whether it reads anything beyond the element itself. When
/// it does not, an element without attributes matches by its tag name alone, so the
/// thousands of bare `<p>` and `<td>` of a long article are answered once per name.
#[derive(Debug)]
pub struct ElementSelector {
    pub selector: Selector,
    only_the_element: bool,
}

/// Answers for bare elements, by tag name (one per page and selector).
#[derive(Default)]
pub struct BareAnswers(Vec<(String, bool)>);

impl ElementSelector {
    pub fn parse(css: &str) -> Result<Self, String> {
        let selector = Selector::parse(css).map_err(|e| e.to_string())?;
        Ok(ElementSelector {
            selector,
            only_the_element: reads_only_the_element(css),
        })
    }

    #[cfg(test)]
    pub fn reads_only_the_element(&self) -> bool {
        self.only_the_element
    }

    pub fn matches(&self, el: &ElementRef<'_>, bare: &mut BareAnswers) -> bool {
        if !self.only_the_element || el.value().attrs().next().is_some() {
            return self.selector.matches(el);
        }
        let name = el.value().name();
        if let Some((_, answer)) = bare.0.iter().find(|(n, _)| n == name) {
            return *answer;
        }
        let answer = self.selector.matches(el);
        bare.0.push((name.to_string(), answer));
        answer
    }
}

/// Whether a selector list reads nothing but the element's own name and attributes: no
/// combinator (white space, `>`, `+`, `~`), no pseudo-class and no escape outside
/// `[...]` and quotes.
fn reads_only_the_element(css: &str) -> bool {
    css.split(',').all(|alternative| {
        let mut in_brackets = false;
        let mut quote: Option<char> = None;
        alternative.trim().chars().all(|c| {
            match (quote, c) {
                (_, '\\') => return false,
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '[') => in_brackets = true,
                (None, ']') => in_brackets = false,
                (None, c) if !in_brackets && (c.is_whitespace() || "><+~:()".contains(c)) => {
                    return false
                }
                _ => {}
            }
            true
        })
    })
}

/// The class / id hint lists of `content.toml`, each compiled into one automaton.
/// The lists are lower-case and were matched against lower-cased names; matching ASCII
/// case-insensitively is the same and needs no lower-cased copy of the names.
#[derive(Debug)]
pub struct HintMatchers {
    positive: AhoCorasick,
    negative: AhoCorasick,
    excluded: AhoCorasick,
}

impl HintMatchers {
    pub fn compile(
        positive: &[String],
        negative: &[String],
        excluded: &[String],
    ) -> Result<Self, String> {
        let build = |words: &[String]| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(words)
                .map_err(|e| format!("hint list: {e}"))
        };
        Ok(HintMatchers {
            positive: build(positive)?,
            negative: build(negative)?,
            excluded: build(excluded)?,
        })
    }
}

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
    if attr(el, "hidden").is_some() {
        return true;
    }
    if attr(el, "type").is_some_and(|t| t.eq_ignore_ascii_case("hidden")) {
        return true;
    }
    if let Some(style) = attr(el, "style").filter(|s| may_squeeze_to(s, b"nh")) {
        let squeezed = squeeze_lowercase(style);
        if squeezed.contains("display:none") || squeezed.contains("visibility:hidden") {
            return true;
        }
    }
    class_names(el).any(|class| rules.hidden_classes.iter().any(|h| h == class))
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
    let excluded = &rules.hint_matchers.excluded;
    id_of(el).is_some_and(|id| excluded.is_match(id))
        || class_names(el).any(|c| excluded.is_match(c))
}

/// An image caption or credit, by tag (`figcaption`) or by class / id.
pub fn is_caption_like(el: &Element, rules: &ContentRules) -> bool {
    if el.name() == "figcaption" {
        return true;
    }
    // The hints are lower-case: an ASCII-case-insensitive search in the raw names finds
    // what searching a lower-cased copy would, without the copy (nor the interning of
    // every class name that `Element::classes` does).
    let hit = |name: &str| {
        rules.caption_hints.iter().any(|h| {
            h.is_empty()
                || name
                    .as_bytes()
                    .windows(h.len())
                    .any(|w| w.eq_ignore_ascii_case(h.as_bytes()))
        })
    };
    id_of(el).is_some_and(hit) || class_names(el).any(hit)
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
    // In the order `Element::classes` gives (sorted, no repeats), as a hint could span two.
    let mut classes: Vec<&str> = class_names(el).collect();
    classes.sort_unstable();
    classes.dedup();
    let mut names = String::new();
    for class in classes {
        names.push_str(class);
        names.push(' ');
    }
    if let Some(id) = id_of(el) {
        names.push_str(id);
    }
    if names.is_empty() {
        return tag_weight;
    }
    let negative = rules.hint_matchers.negative.is_match(&names);
    let positive = rules.hint_matchers.positive.is_match(&names);
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
    if attr(el, "align").is_some_and(|a| a.trim().eq_ignore_ascii_case("center")) {
        return true;
    }
    attr(el, "style").is_some_and(|s| {
        may_squeeze_to(s, b"c") && squeeze_lowercase(s).contains("text-align:center")
    })
}

/// False when [`squeeze_lowercase`] of an ASCII `style` cannot hold a `:` followed by
/// one of the lower-case letters `next` (a value the caller looks for), found with
/// `memchr` over the colons instead of building the squeezed copy; true for any
/// non-ASCII style (Unicode white space and case are left to the full check).
fn may_squeeze_to(style: &str, next: &[u8]) -> bool {
    let bytes = style.as_bytes();
    if !bytes.is_ascii() {
        return true;
    }
    memchr::memchr_iter(b':', bytes).any(|colon| {
        bytes[colon + 1..]
            .iter()
            .find(|b| !b.is_ascii_whitespace() && **b != b'\x0b')
            .is_some_and(|b| next.contains(&b.to_ascii_lowercase()))
    })
}

/// A style with all white space removed, lower-cased (to find a declaration whatever
/// its spacing). ASCII, nearly all of any style, is copied byte by byte.
fn squeeze_lowercase(style: &str) -> String {
    let mut out = String::with_capacity(style.len());
    for c in style.chars() {
        if c.is_ascii() {
            if !c.is_ascii_whitespace() && c != '\u{b}' {
                out.push(c.to_ascii_lowercase());
            }
        } else if !c.is_whitespace() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

#[cfg(test)]
mod tests {

    #[test]
    fn selectors_that_read_only_the_element() {
        for css in [
            "#zoom, .TRS_Editor",
            "ucapcontent",
            "[itemprop='articleBody']",
            "[title=\"a b\"], [class*=title]",
        ] {
            assert!(reads_only_the_element(css), "{css}");
        }
        for css in [
            "div p",
            ".a > .b",
            "p:first-child",
            "h1 + p",
            ".a ~ .b",
            "[a] .b",
            "p:not(.x)",
            "#a\\ b",
        ] {
            assert!(!reads_only_the_element(css), "{css}");
        }
    }

    #[test]
    fn bare_elements_are_answered_like_the_selector() {
        let html = scraper::Html::parse_document(
            "<div><p>a</p><p class=x>b</p><article>c</article><p>d</p><h1>e</h1></div>",
        );
        let selector = ElementSelector::parse("article, .x, h1").unwrap();
        let mut bare = BareAnswers::default();
        for node in html.tree.nodes() {
            if let Some(el) = ElementRef::wrap(node) {
                assert_eq!(
                    selector.matches(&el, &mut bare),
                    selector.selector.matches(&el)
                );
            }
        }
    }

    use super::*;

    /// The shortcut never rules out a style whose squeezed form holds the value.
    #[test]
    fn colon_shortcut_keeps_every_match() {
        const PIECES: &[&str] = &[
            "display",
            "DISPLAY",
            "visibility",
            "text-align",
            "TEXT-ALIGN",
            ":",
            ":",
            "none",
            "NONE",
            "hidden",
            "Hidden",
            "center",
            "CENTER",
            " ",
            "\t",
            "\u{b}",
            "\u{c}",
            "\n",
            ";",
            "\u{3000}",
            "x",
            "n",
            "c",
        ];
        let mut rng = fastrand::Rng::with_seed(9);
        let mut kept = 0;
        for _ in 0..20_000 {
            let style: String = (0..rng.usize(0..8))
                .map(|_| PIECES[rng.usize(..PIECES.len())])
                .collect();
            let squeezed = squeeze_lowercase(&style);
            if squeezed.contains("display:none") || squeezed.contains("visibility:hidden") {
                assert!(may_squeeze_to(&style, b"nh"), "{style:?}");
                kept += 1;
            }
            if squeezed.contains("text-align:center") {
                assert!(may_squeeze_to(&style, b"c"), "{style:?}");
                kept += 1;
            }
        }
        assert!(kept > 10, "{kept}");
        assert!(!may_squeeze_to("color: red; margin:0", b"nh"));
        assert!(may_squeeze_to("display :\u{b} NONE", b"nh"));
    }

    #[test]
    fn squeezing_matches_the_definition() {
        for style in [
            "DISPLAY : None",
            "display:\u{3000}none",
            "vİsibility: hidden",
            "\u{b}text-align:\u{c}CENTER\r\n",
            "x:\u{212a}\u{a0}y",
            "",
        ] {
            let reference: String = style
                .chars()
                .filter(|c| !c.is_whitespace())
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(squeeze_lowercase(style), reference, "{style:?}");
        }
    }
}
