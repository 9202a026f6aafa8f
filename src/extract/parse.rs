//! Parsing a page into a tree: gazette's own tokenizer ([`tokenize`]) feeding html5ever's
//! tree builder, and html5ever's tokenizer for the pages it gives up on.
//!
//! The functions below find where raw text ends (a `<style>` or `<title>` body, a
//! script with its `<!--` … `<script>` escapes) exactly as the HTML tokenizer does.

use memchr::memchr;
use scraper::Html;

mod tokenize;

/// Parses `text` as a whole HTML document, like [`Html::parse_document`]: the same tree
/// (`Html::errors` aside: parse errors are not listed when the own tokenizer ran).
pub fn parse_document(text: &str) -> Html {
    tokenize::parse(text).unwrap_or_else(|| Html::parse_document(text))
}

/// The tokenizer's white space (`\r` counts: it reads as `\n`).
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ')
}

/// Whether an end tag named `name` starts at `lt`: `</name` then white space, `/` or `>`.
fn is_end_tag(bytes: &[u8], lt: usize, name: &[u8]) -> bool {
    let rest = &bytes[lt..];
    rest.len() > name.len() + 2
        && rest.starts_with(b"</")
        && rest[2..2 + name.len()].eq_ignore_ascii_case(name)
        && {
            let b = rest[2 + name.len()];
            is_space(b) || b == b'/' || b == b'>'
        }
}

/// Where the body of a raw-text element named `name` that starts at `from` ends.
fn raw_text_end(bytes: &[u8], from: usize, name: &[u8]) -> Option<usize> {
    let mut i = from;
    loop {
        let lt = i + memchr(b'<', &bytes[i..])?;
        if is_end_tag(bytes, lt, name) {
            return Some(lt);
        }
        i = lt + 1;
    }
}

/// Where the body of a `<script>` that starts at `from` ends, following the tokenizer's
/// script-data states: inside `<!--`, a `<script>` starts a "double escape" in which
/// `</script>` does not end the script.
fn script_body_end(bytes: &[u8], from: usize) -> Option<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Data,
        Escaped,
        EscapedDash,
        EscapedDashDash,
        Double,
        DoubleDash,
        DoubleDashDash,
    }
    use State::*;
    let script = b"script";
    // The letters after `<` or `</` at `at`, and whether a delimiter follows them.
    let word = |at: usize| -> (&[u8], bool) {
        let len = bytes[at..]
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(bytes.len() - at);
        let delimited = bytes
            .get(at + len)
            .is_some_and(|&b| is_space(b) || b == b'/' || b == b'>');
        (&bytes[at..at + len], delimited)
    };
    let mut state = Data;
    let mut i = from;
    loop {
        if state == Data {
            let lt = i + memchr(b'<', &bytes[i..])?;
            if is_end_tag(bytes, lt, script) {
                return Some(lt);
            }
            if bytes[lt + 1..].starts_with(b"!--") {
                state = EscapedDashDash;
                i = lt + 4;
            } else {
                i = lt + 1;
            }
            continue;
        }
        let &b = bytes.get(i)?;
        if b == b'<' {
            let escaped = matches!(state, Escaped | EscapedDash | EscapedDashDash);
            if escaped {
                if is_end_tag(bytes, i, script) {
                    return Some(i);
                }
                let (name, delimited) = word(i + 1);
                if delimited && name.eq_ignore_ascii_case(script) {
                    state = Double;
                    i += 1 + name.len() + 1;
                } else {
                    state = Escaped;
                    i += 1;
                }
            } else if bytes.get(i + 1) == Some(&b'/') {
                let (name, delimited) = word(i + 2);
                if delimited && name.eq_ignore_ascii_case(script) {
                    state = Escaped;
                    i += 2 + name.len() + 1;
                } else {
                    state = Double;
                    i += 1;
                }
            } else {
                state = Double;
                i += 1;
            }
            continue;
        }
        state = match (state, b) {
            (Escaped, b'-') => EscapedDash,
            (EscapedDash, b'-') | (EscapedDashDash, b'-') => EscapedDashDash,
            (EscapedDashDash, b'>') => Data,
            (Escaped | EscapedDash | EscapedDashDash, _) => Escaped,
            (Double, b'-') => DoubleDash,
            (DoubleDash, b'-') | (DoubleDashDash, b'-') => DoubleDashDash,
            (DoubleDashDash, b'>') => Data,
            (Double | DoubleDash | DoubleDashDash, _) => Double,
            (Data, _) => Data,
        };
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Node;

    /// Panics unless the two trees have the same nodes in the same arena order, linked
    /// the same way, and the same quirks mode.
    pub(super) fn assert_same_tree(a: &Html, b: &Html, input: &str) {
        assert_eq!(
            a.quirks_mode, b.quirks_mode,
            "quirks mode differs for {input:?}"
        );
        let describe = |node: ego_tree::NodeRef<'_, Node>| -> String {
            let link = |n: Option<ego_tree::NodeRef<'_, Node>>| n.map(|n| format!("{:?}", n.id()));
            let value = match node.value() {
                Node::Element(el) => {
                    let mut attrs: Vec<String> =
                        el.attrs().map(|(k, v)| format!("{k}={v:?}")).collect();
                    attrs.sort();
                    format!("<{}:{} {}>", el.name.ns, el.name(), attrs.join(" "))
                }
                Node::Text(t) => format!("text {:?}", &*t.text),
                other => format!("{other:?}"),
            };
            format!(
                "{value} parent {:?} next {:?}",
                link(node.parent()),
                link(node.next_sibling())
            )
        };
        let left: Vec<String> = a.tree.nodes().map(describe).collect();
        let right: Vec<String> = b.tree.nodes().map(describe).collect();
        assert_eq!(left, right, "trees differ for {input:?}");
    }

    /// Parses both ways, compares, and says whether the own tokenizer answered.
    fn check(input: &str) -> bool {
        let plain = Html::parse_document(input);
        let parsed = parse_document(input);
        assert_same_tree(&plain, &parsed, input);
        tokenize::parse(input).is_some()
    }

    #[test]
    fn script_and_style_bodies() {
        let page = "<!DOCTYPE html><html><head><title>a <script>x</script></title>\
            <style type=\"text/css\">p { color: red }\r\n.a>b{}</style>\
            <script src='x.js'></script><script>var a = '<p>' + \"</scr\" + \"ipt>\";\r\n</script>\
            </head><body><p>正文</p><script>document.write('<div>')</script>\
            <noscript><script>no</script></noscript><textarea><style>t</style></textarea>\
            <STYLE>b{}</STYLE ></body></html>";
        assert!(check(page));
    }

    #[test]
    fn script_escapes_follow_the_tokenizer() {
        for body in [
            "<!-- document.write('<script>x</script>'); -->",
            "<!-- <script> </script> still inside --> after",
            "<!-- <script> --> out",
            "<!--<script>a</script>--",
            "<!-- -- > </script",
            "<!--- <SCRIPT/> </Script > -->",
            "<!--> <script>",
            "<!- <script>",
            "a --> <!-- b",
            "<!-- </scripts> <scripty> -->",
            "<!-- <script\t> --!> </script ",
            "<!-- <-- <!-- <script <script> -->",
            "</script\u{3000}",
        ] {
            for tail in [
                "</script>",
                "</script >x</script>",
                "</SCRIPT/>-->y</script>z",
            ] {
                check(&format!("<p>a<script>{body}{tail}<p>b</p></body>"));
            }
        }
    }

    #[test]
    fn tags_quotes_comments_and_foreign_content() {
        let cases = [
            "<p title='<script>x</script>'>a</p><script>1</script>",
            "<p title=\"a>b\" data-x=<script>x</script>",
            "<script a=\">\" b='/>' c=d/ e>1</script>",
            "<script a = \"x\"/>1</script>",
            "<script a=\"x\"/b>1</script>",
            "<script\"a\">1</script>",
            "<scripts>1</scripts><script-x>2</script-x><style>3</style>",
            "<!-- <script>1</script> --><script>2</script>",
            "<!--><script>1</script>",
            "<!---><style>1</style>",
            "<!-- a --!> <script>1</script>",
            "<! bogus <script> > <script>1</script>",
            "<? pi <style> ?><style>1</style>",
            "</ x <script> ><script>1</script>",
            "</><script>1</script>",
            "<svg><style>.a{}</style><script>1</script></svg><style>2</style>",
            "<svg><![CDATA[<style>]]></svg><style>x</style>",
            "<svg/><style>1</style>",
            "<math><mi><script>1</script></mi></math><script>2</script>",
            "<svg><p>out</svg><style>1</style>",
            "<svg><foreignObject><style>1</style></foreignObject></svg>",
            "<frameset><script>1</script></frameset><noframes><style>x</style></noframes>",
            "<table><script>1</script><tr><style>2</style><td>x</td></tr></table>",
            "<select><script>1</script><style>2</style><noscript><script>3</script></select>",
            "<template><script>1</script><style>2</style></template>",
            "<title><script>1</script></title><style>2</style>",
            "<xmp><script>1</script></xmp><iframe><style>2</style></iframe>",
            "<plaintext><script>1</script>",
            "<script>unclosed",
            "<style>unclosed</sty",
            "<script>1</script><script>",
            "<script></script><style></style>",
            "<script>\r\n\r</script><style>\r</style>",
            "<script>a\u{FDD0}0\u{FDD0}</script>",
            "<p>\u{FDD0}0\u{FDD0}</p><script>1</script>",
            "<script>a\0b</script>",
            "<html><head><style>a</style></head><body></body></html><style>late</style>",
            "</html><script>after</script>",
            "<body><script>x</script></body></html>\n<script>tail</script>",
        ];
        for case in cases {
            check(case);
        }
        assert!(check(
            "<p title='a>b' data-x=\"<b>\">a</p><script>1</script>"
        ));
        assert!(check("<svg><style>.a{}</style></svg>"));
        assert!(!check("<svg><![CDATA[<style>]]></svg><style>x</style>"));
    }

    /// The real pages of `../shared`, when present: every one parses to the same tree.
    #[test]
    fn corpus_pages_parse_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
        let dirs = ["corpus/gov/pages", "corpus/zh-news/pages", "eval/aeb/pages"];
        if !root.exists() {
            eprintln!("skipped: {} is absent", root.display());
            return;
        }
        let (mut pages, mut tokenized) = (0, 0);
        for dir in dirs {
            let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.extension().is_none_or(|e| e != "html" && e != "htm") {
                    continue;
                }
                let Ok(bytes) = std::fs::read(&path) else {
                    continue;
                };
                let decoded = crate::decode::decode(&bytes, None);
                pages += 1;
                if let Some(doc) = tokenize::parse(&decoded.text) {
                    let plain = Html::parse_document(&decoded.text);
                    assert_same_tree(&plain, &doc, &path.display().to_string());
                    tokenized += 1;
                } else {
                    eprintln!("left to html5ever's tokenizer: {}", path.display());
                }
            }
        }
        eprintln!("{tokenized} of {pages} pages tokenized by gazette");
        assert!(
            pages == 0 || tokenized * 20 >= pages * 19,
            "{tokenized} of {pages}"
        );
    }
}
