//! A tokenizer for the HTML that real pages are made of, feeding html5ever's tree builder.
//!
//! html5ever's own tokenizer reads every tag name, attribute name and unquoted value one
//! character at a time through a queue of buffers, and stops at every line of text: about
//! two thirds of a parse. This one reads the same states as byte runs (`memchr` to the
//! next `<` or `&`, to the closing quote, to the end of a comment) and hands text and
//! attribute values to the tree builder as slices of one shared buffer, without copying.
//! The tree builder is html5ever's, unchanged, so every tree-construction rule (implied
//! tags, foster parenting, the adoption agency, foreign content, quirks) is still its own.
//!
//! The tokenizer follows the HTML standard (and html5ever where they differ) in the states
//! pages use: data with character references, start and end tags with their attribute
//! states, comments, the common DOCTYPE forms, bogus comments, and the raw text, RCDATA and
//! script bodies the tree builder asks for. Anything else (NUL bytes, `<plaintext>`,
//! CDATA, unusual DOCTYPEs, a page ending inside a tag or comment) makes [`parse`] give up
//! and the caller parses the page with html5ever's tokenizer: never a different tree.

use html5ever::data::{C1_REPLACEMENTS, NAMED_ENTITIES};
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{Doctype, Tag, TagKind, Token, TokenSink, TokenSinkResult};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts};
use html5ever::{namespace_url, ns, Attribute, LocalName, QualName};
use memchr::{memchr, memchr2, memmem};
use scraper::Html;

use super::{is_space, raw_text_end, script_body_end};
use crate::extract::nodes::FastSet;

/// From this many attributes on, repeats are found with a set.
const MANY_ATTRIBUTES: usize = 32;

/// Where the fast tokenizer stops and leaves the page to html5ever's.
struct GiveUp;

type Step<T> = Result<T, GiveUp>;

/// Parses `text` into the tree html5ever would build, or `None` when the page holds
/// something this tokenizer does not model.
pub(super) fn parse(text: &str) -> Option<Html> {
    let bytes = text.as_bytes();
    if u32::try_from(bytes.len()).is_err() || memchr(0, bytes).is_some() {
        return None;
    }
    // The arena grows by doubling and copying otherwise; pages have about one text node
    // per tag, and a node per 100 bytes or so (the cap keeps a page of `<<<<` from
    // reserving gigabytes).
    let mut document = Html::new_document();
    let tags = memchr::memchr_iter(b'<', bytes).count();
    let nodes = (tags * 2).min(bytes.len() / 32) + 16;
    document.tree = ego_tree::Tree::with_capacity(scraper::Node::Document, nodes);
    let mut tokenizer = Tokenizer {
        text,
        bytes,
        shared: StrTendril::from_slice(text),
        has_cr: memchr(b'\r', bytes).is_some(),
        builder: TreeBuilder::new(document, TreeBuilderOpts::default()),
        text_run: Run::Empty,
        newline_may_drop: false,
    };
    tokenizer.run().ok()?;
    Some(tokenizer.builder.sink)
}

/// The characters a character reference stands for, and where the text after it starts.
struct CharRef {
    first: char,
    second: Option<char>,
    end: usize,
}

/// Character data gathered for one text token: a range of the page while it is one
/// contiguous piece, a buffer once a character reference or a line break broke it.
enum Run {
    Empty,
    Range(usize, usize),
    Owned(StrTendril),
}

struct Tokenizer<'a> {
    text: &'a str,
    bytes: &'a [u8],
    /// The whole page once, so that text and values are slices of it.
    shared: StrTendril,
    /// Whether any `\r` needs turning into `\n` (most pages: none, and no scan per run).
    has_cr: bool,
    builder: TreeBuilder<ego_tree::NodeId, Html>,
    text_run: Run,
    /// Right after `<pre>`, `<listing>` or `<textarea>` the tree builder drops a leading
    /// line feed from the next token, and html5ever's parse errors count as tokens there:
    /// where this tokenizer would skip such an error, it gives up instead.
    newline_may_drop: bool,
}

impl Tokenizer<'_> {
    fn run(&mut self) -> Step<()> {
        let bytes = self.bytes;
        let mut pos = if self.text.starts_with('\u{FEFF}') {
            3
        } else {
            0
        };
        let mut run_start = pos;
        while let Some(at) = memchr2(b'<', b'&', &bytes[pos..]).map(|i| pos + i) {
            if bytes[at] == b'&' {
                let at_token_start = matches!(self.text_run, Run::Empty) && run_start == at;
                match self.char_ref(at, false, at_token_start)? {
                    Some(char_ref) => {
                        self.push_text(run_start, at);
                        self.append_owned(|run| {
                            run.push_char(char_ref.first);
                            if let Some(second) = char_ref.second {
                                run.push_char(second);
                            }
                        });
                        pos = char_ref.end;
                        run_start = char_ref.end;
                    }
                    None => pos = at + 1,
                }
                continue;
            }
            let next = bytes.get(at + 1).copied();
            let after = match next {
                Some(b) if b.is_ascii_alphabetic() => {
                    self.push_text(run_start, at);
                    self.tag(at + 1, TagKind::StartTag)?
                }
                Some(b'/') => match bytes.get(at + 2) {
                    Some(b) if b.is_ascii_alphabetic() => {
                        self.push_text(run_start, at);
                        self.tag(at + 2, TagKind::EndTag)?
                    }
                    // `</>` is dropped with a parse error.
                    Some(b'>') => {
                        if self.newline_may_drop
                            && matches!(self.text_run, Run::Empty)
                            && run_start == at
                        {
                            return Err(GiveUp);
                        }
                        self.push_text(run_start, at);
                        at + 3
                    }
                    Some(_) => {
                        self.push_text(run_start, at);
                        self.bogus_comment(at + 2)?
                    }
                    None => {
                        pos = at + 1;
                        continue;
                    }
                },
                Some(b'!') => {
                    self.push_text(run_start, at);
                    self.markup_declaration(at)?
                }
                Some(b'?') => {
                    self.push_text(run_start, at);
                    self.bogus_comment(at + 1)?
                }
                // A `<` that starts nothing is text.
                _ => {
                    pos = at + 1;
                    continue;
                }
            };
            pos = after;
            run_start = after;
        }
        self.push_text(run_start, bytes.len());
        self.flush_text()?;
        self.emit(Token::EOFToken)?;
        self.builder.end();
        Ok(())
    }

    /// Hands a token to the tree builder; `Ok(Some(kind))` when it asks for raw text next.
    fn emit(&mut self, token: Token) -> Step<Option<RawKind>> {
        self.newline_may_drop = false;
        match self.builder.process_token(token, 1) {
            TokenSinkResult::Continue | TokenSinkResult::Script(_) => Ok(None),
            TokenSinkResult::RawData(kind) => Ok(Some(kind)),
            TokenSinkResult::Plaintext => Err(GiveUp),
        }
    }

    // --- Text ---------------------------------------------------------------------------

    /// Adds `text[start..end]` to the pending text token.
    fn push_text(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        if self.has_cr && memchr(b'\r', &self.bytes[start..end]).is_some() {
            let piece = self.normalized(start, end);
            self.append_owned(|run| run.push_tendril(&piece));
            return;
        }
        match &mut self.text_run {
            Run::Empty => self.text_run = Run::Range(start, end),
            Run::Range(_, run_end) if *run_end == start => *run_end = end,
            _ => {
                let text = self.text;
                self.append_owned(|run| run.push_slice(&text[start..end]));
            }
        }
    }

    /// Appends to the pending text once it is a buffer of its own.
    fn append_owned(&mut self, append: impl FnOnce(&mut StrTendril)) {
        let mut owned = match std::mem::replace(&mut self.text_run, Run::Empty) {
            Run::Owned(owned) => owned,
            Run::Range(start, end) => StrTendril::from_slice(&self.text[start..end]),
            Run::Empty => StrTendril::new(),
        };
        append(&mut owned);
        self.text_run = Run::Owned(owned);
    }

    fn flush_text(&mut self) -> Step<()> {
        let tendril = match std::mem::replace(&mut self.text_run, Run::Empty) {
            Run::Empty => return Ok(()),
            Run::Range(start, end) => self.slice(start, end),
            Run::Owned(owned) => owned,
        };
        if tendril.is_empty() {
            return Ok(());
        }
        self.emit(Token::CharacterTokens(tendril)).map(|_| ())
    }

    /// `text[start..end]` without copying (ranges always end at ASCII bytes).
    fn slice(&self, start: usize, end: usize) -> StrTendril {
        // `parse` refused pages longer than u32::MAX bytes.
        self.shared.subtendril(start as u32, (end - start) as u32)
    }

    /// `text[start..end]` with line breaks as the tokenizer's input stream has them:
    /// `\r\n` and a lone `\r` read as `\n`.
    fn normalized(&self, start: usize, end: usize) -> StrTendril {
        let part = &self.bytes[start..end];
        if !self.has_cr || memchr(b'\r', part).is_none() {
            return self.slice(start, end);
        }
        let mut out = StrTendril::with_capacity((end - start) as u32);
        let mut from = start;
        while let Some(cr) = memchr(b'\r', &self.bytes[from..end]).map(|i| from + i) {
            out.push_slice(&self.text[from..cr]);
            out.push_char('\n');
            // Pieces never end between `\r` and `\n` (they end at markup).
            from = if cr + 1 < end && self.bytes[cr + 1] == b'\n' {
                cr + 2
            } else {
                cr + 1
            };
        }
        if from < end {
            out.push_slice(&self.text[from..end]);
        }
        out
    }

    /// `text[start..end]` (an attribute value, or RCDATA text that starts a token) with
    /// character references resolved and line breaks normalised.
    fn resolved(&mut self, start: usize, end: usize, in_attribute: bool) -> Step<StrTendril> {
        let Some(first) = memchr(b'&', &self.bytes[start..end]).map(|i| start + i) else {
            return Ok(self.normalized(start, end));
        };
        let mut out = self.normalized(start, first);
        let mut from = first;
        let mut pos = first;
        while let Some(amp) = memchr(b'&', &self.bytes[pos..end]).map(|i| pos + i) {
            let at_token_start = !in_attribute && amp == start;
            let Some(char_ref) = self.char_ref(amp, in_attribute, at_token_start)? else {
                pos = amp + 1;
                continue;
            };
            out.push_tendril(&self.normalized(from, amp));
            out.push_char(char_ref.first);
            if let Some(second) = char_ref.second {
                out.push_char(second);
            }
            from = char_ref.end;
            pos = char_ref.end;
        }
        out.push_tendril(&self.normalized(from, end));
        Ok(out)
    }

    // --- Character references -------------------------------------------------------------

    /// The character reference at `amp` (a `&`): its characters and where the text goes
    /// on, or `None` when the `&` is just text.
    fn char_ref(
        &self,
        amp: usize,
        in_attribute: bool,
        at_token_start: bool,
    ) -> Step<Option<CharRef>> {
        let bytes = self.bytes;
        let Some(&first) = bytes.get(amp + 1) else {
            return Ok(None);
        };
        if !(first.is_ascii_alphanumeric() || first == b'#') {
            return Ok(None);
        }
        // Errors around references would be tokens that keep a line feed after `<pre>`.
        if self.newline_may_drop && at_token_start {
            return Err(GiveUp);
        }
        if first == b'#' {
            return numeric_ref(bytes, amp);
        }
        // Named: the longest entity name among the prefixes of the run of name characters
        // (the table holds every prefix of every name, with (0, 0) for non-names).
        let start = amp + 1;
        let mut best: Option<(usize, (u32, u32))> = None;
        let mut end = start;
        while let Some(&b) = bytes.get(end) {
            if !(b.is_ascii_alphanumeric() || b == b';') {
                break;
            }
            end += 1;
            match NAMED_ENTITIES.get(&self.text[start..end]) {
                Some(&found) => {
                    if found.0 != 0 {
                        best = Some((end, found));
                    }
                    if b == b';' {
                        break;
                    }
                }
                None => break,
            }
        }
        let Some((match_end, (c1, c2))) = best else {
            return Ok(None);
        };
        if bytes[match_end - 1] != b';' && in_attribute {
            // For historical reasons `&amp=` and `&ampx` stay text in attribute values.
            if let Some(&next) = bytes.get(match_end) {
                if next == b'=' || next.is_ascii_alphanumeric() {
                    return Ok(None);
                }
            }
        }
        let (Some(first), second) = (char::from_u32(c1), char::from_u32(c2)) else {
            return Err(GiveUp);
        };
        Ok(Some(CharRef {
            first,
            second: second.filter(|&c| c != '\0'),
            end: match_end,
        }))
    }

    // --- Tags ------------------------------------------------------------------------------

    /// Reads a tag whose name starts at `name_start`, hands it to the tree builder and
    /// reads the raw text that follows when the tree builder asks for it. Returns where
    /// the data state goes on.
    fn tag(&mut self, name_start: usize, kind: TagKind) -> Step<usize> {
        let bytes = self.bytes;
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .position(|&b| is_space(b) || b == b'/' || b == b'>')
                .ok_or(GiveUp)?;
        let name = self.name(name_start, name_end);
        let mut attrs: Vec<Attribute> = Vec::new();
        let mut many_names: Option<FastSet<LocalName>> = None;
        let mut self_closing = false;
        let mut i = name_end;
        let end = loop {
            // Before an attribute name.
            while bytes.get(i).is_some_and(|&b| is_space(b)) {
                i += 1;
            }
            match bytes.get(i) {
                None => return Err(GiveUp),
                Some(b'>') => break i + 1,
                Some(b'/') => {
                    i += 1;
                    match bytes.get(i) {
                        Some(b'>') => {
                            self_closing = true;
                            break i + 1;
                        }
                        Some(_) => continue,
                        None => return Err(GiveUp),
                    }
                }
                Some(_) => {}
            }
            // The attribute name: its first character is taken whatever it is (even `=`).
            let attr_start = i;
            i += 1;
            while bytes
                .get(i)
                .is_some_and(|&b| !(is_space(b) || matches!(b, b'/' | b'>' | b'=')))
            {
                i += 1;
            }
            let attr_name = self.name(attr_start, i);
            while bytes.get(i).is_some_and(|&b| is_space(b)) {
                i += 1;
            }
            let value = if bytes.get(i) == Some(&b'=') {
                i += 1;
                while bytes.get(i).is_some_and(|&b| is_space(b)) {
                    i += 1;
                }
                match bytes.get(i) {
                    None => return Err(GiveUp),
                    Some(&quote @ (b'"' | b'\'')) => {
                        let close = i + 1 + memchr(quote, &bytes[i + 1..]).ok_or(GiveUp)?;
                        let value = self.resolved(i + 1, close, true)?;
                        i = close + 1;
                        value
                    }
                    Some(b'>') => StrTendril::new(),
                    Some(_) => {
                        let value_end = i + bytes[i..]
                            .iter()
                            .position(|&b| is_space(b) || b == b'>')
                            .ok_or(GiveUp)?;
                        let value = self.resolved(i, value_end, true)?;
                        i = value_end;
                        value
                    }
                }
            } else {
                StrTendril::new()
            };
            // A repeated attribute is dropped (the first one counts). Tags with hundreds
            // of attributes are looked up in a set, not compared pairwise.
            let repeated = if attrs.len() < MANY_ATTRIBUTES {
                attrs.iter().any(|a| a.name.local == attr_name)
            } else {
                let names = many_names
                    .get_or_insert_with(|| attrs.iter().map(|a| a.name.local.clone()).collect());
                !names.insert(attr_name.clone())
            };
            if !repeated {
                attrs.push(Attribute {
                    name: QualName::new(None, ns!(), attr_name),
                    value,
                });
            }
        };
        self.flush_text()?;
        let is_start = kind == TagKind::StartTag;
        let drops_newline = is_start && matches!(&*name, "pre" | "listing" | "textarea");
        let raw = self.emit(Token::TagToken(Tag {
            kind,
            name: name.clone(),
            self_closing,
            attrs,
        }))?;
        self.newline_may_drop = drops_newline;
        let Some(raw) = raw else {
            return Ok(end);
        };
        // The tree builder asked for raw text: its body runs to the matching end tag, or to
        // the end of the page.
        let body_end = match raw {
            RawKind::ScriptData => script_body_end(bytes, end),
            RawKind::Rcdata | RawKind::Rawtext => raw_text_end(bytes, end, name.as_bytes()),
            RawKind::ScriptDataEscaped(_) => return Err(GiveUp),
        }
        .unwrap_or(bytes.len());
        if body_end > end {
            let body = if raw == RawKind::Rcdata {
                self.resolved(end, body_end, false)?
            } else {
                self.normalized(end, body_end)
            };
            self.text_run = Run::Owned(body);
        }
        Ok(body_end)
    }

    /// A tag or attribute name: ASCII letters lower-cased, the rest as written.
    fn name(&self, start: usize, end: usize) -> LocalName {
        let raw = &self.text[start..end];
        if raw.bytes().any(|b| b.is_ascii_uppercase()) {
            LocalName::from(raw.to_ascii_lowercase().as_str())
        } else {
            LocalName::from(raw)
        }
    }

    // --- Comments and declarations ---------------------------------------------------------

    /// `<!` at `lt`: a comment, a DOCTYPE or a bogus comment.
    fn markup_declaration(&mut self, lt: usize) -> Step<usize> {
        let rest = &self.bytes[lt + 2..];
        if rest.starts_with(b"--") {
            return self.comment(lt + 4);
        }
        if rest.len() >= 7 && rest[..7].eq_ignore_ascii_case(b"doctype") {
            return self.doctype(lt + 9);
        }
        if rest.starts_with(b"[CDATA[") {
            return Err(GiveUp);
        }
        self.bogus_comment(lt + 2)
    }

    /// A comment whose text starts at `start` (just after `<!--`).
    fn comment(&mut self, start: usize) -> Step<usize> {
        let body = &self.bytes[start..];
        let (text_end, end) = if body.starts_with(b">") {
            (start, start + 1)
        } else if body.starts_with(b"->") {
            (start, start + 2)
        } else {
            // The first `-->`, or a `--!>` before it.
            let close = memmem::find(body, b"-->");
            let within = close.map_or(body, |c| &body[..c]);
            match memmem::find(within, b"--!>") {
                Some(bang) => (start + bang, start + bang + 4),
                None => {
                    let close = close.ok_or(GiveUp)?;
                    (start + close, start + close + 3)
                }
            }
        };
        let text = self.normalized(start, text_end);
        self.flush_text()?;
        self.emit(Token::CommentToken(text))?;
        Ok(end)
    }

    /// A bogus comment (`<?…>`, `<!…>`, `</ …>`) whose text starts at `start`.
    fn bogus_comment(&mut self, start: usize) -> Step<usize> {
        let close = start + memchr(b'>', &self.bytes[start..]).ok_or(GiveUp)?;
        let text = self.normalized(start, close);
        self.flush_text()?;
        self.emit(Token::CommentToken(text))?;
        Ok(close + 1)
    }

    /// The common DOCTYPE forms, from just after `<!DOCTYPE`: a name, then optionally
    /// `PUBLIC "id" ["id"]` or `SYSTEM "id"`. Anything else is left to html5ever.
    fn doctype(&mut self, from: usize) -> Step<usize> {
        let bytes = self.bytes;
        let skip_space = |mut i: usize| {
            while bytes.get(i).is_some_and(|&b| is_space(b)) {
                i += 1;
            }
            i
        };
        let mut i = skip_space(from);
        if i == from || matches!(bytes.get(i), None | Some(b'>')) {
            return Err(GiveUp);
        }
        let name_start = i;
        while bytes.get(i).is_some_and(|&b| !is_space(b) && b != b'>') {
            i += 1;
        }
        let name = self.text[name_start..i].to_ascii_lowercase();
        let mut doctype = Doctype {
            name: Some(StrTendril::from_slice(&name)),
            public_id: None,
            system_id: None,
            force_quirks: false,
        };
        // A quoted identifier at `at` (after white space): its text and the index after it.
        let quoted = |at: usize| -> Step<(StrTendril, usize)> {
            let &quote = bytes.get(at).ok_or(GiveUp)?;
            if quote != b'"' && quote != b'\'' {
                return Err(GiveUp);
            }
            let close = at + 1 + memchr(quote, &bytes[at + 1..]).ok_or(GiveUp)?;
            let id = &bytes[at + 1..close];
            if memchr2(b'>', b'\r', id).is_some() {
                return Err(GiveUp);
            }
            Ok((StrTendril::from_slice(&self.text[at + 1..close]), close + 1))
        };
        let keyword_at = skip_space(i);
        let keyword = bytes.get(keyword_at..keyword_at + 6);
        let after_keyword = keyword_at + 6;
        let end = if bytes.get(keyword_at) == Some(&b'>') {
            keyword_at + 1
        } else if keyword.is_some_and(|k| k.eq_ignore_ascii_case(b"public")) {
            // White space after the keyword and between the identifiers is expected,
            // but without it the token is the same (html5ever reports a parse error).
            let (public, after_public) = quoted(skip_space(after_keyword))?;
            doctype.public_id = Some(public);
            let at = skip_space(after_public);
            match bytes.get(at) {
                Some(b'>') => at + 1,
                Some(b'"' | b'\'') => {
                    let (system, after_system) = quoted(at)?;
                    doctype.system_id = Some(system);
                    let at = skip_space(after_system);
                    if bytes.get(at) != Some(&b'>') {
                        return Err(GiveUp);
                    }
                    at + 1
                }
                _ => return Err(GiveUp),
            }
        } else if keyword.is_some_and(|k| k.eq_ignore_ascii_case(b"system")) {
            let (system, after_system) = quoted(skip_space(after_keyword))?;
            doctype.system_id = Some(system);
            let at = skip_space(after_system);
            if bytes.get(at) != Some(&b'>') {
                return Err(GiveUp);
            }
            at + 1
        } else {
            return Err(GiveUp);
        };
        self.flush_text()?;
        self.emit(Token::DoctypeToken(doctype))?;
        Ok(end)
    }
}

/// A numeric character reference at `amp` (`&#…`), as html5ever resolves it.
fn numeric_ref(bytes: &[u8], amp: usize) -> Step<Option<CharRef>> {
    let mut i = amp + 2;
    let base = match bytes.get(i) {
        Some(b'x' | b'X') => {
            i += 1;
            16
        }
        Some(_) => 10,
        None => return Ok(None),
    };
    let digits_start = i;
    let mut value: u32 = 0;
    let mut too_big = false;
    while let Some(digit) = bytes.get(i).and_then(|&b| (b as char).to_digit(base)) {
        value = value.wrapping_mul(base);
        if value > 0x10FFFF {
            too_big = true;
        }
        value = value.wrapping_add(digit);
        i += 1;
    }
    if i == digits_start {
        // `&#` or `&#x` without digits is text.
        return Ok(None);
    }
    if bytes.get(i) == Some(&b';') {
        i += 1;
    }
    let c = match value {
        _ if too_big || value > 0x10FFFF => '\u{FFFD}',
        0 | 0xD800..=0xDFFF => '\u{FFFD}',
        0x80..=0x9F => C1_REPLACEMENTS[(value - 0x80) as usize]
            .or_else(|| char::from_u32(value))
            .ok_or(GiveUp)?,
        _ => char::from_u32(value).ok_or(GiveUp)?,
    };
    Ok(Some(CharRef {
        first: c,
        second: None,
        end: i,
    }))
}

#[cfg(test)]
mod tests {
    use scraper::Html;

    use super::super::tests::assert_same_tree;

    /// Parses with this tokenizer and with html5ever's: the same tree whenever this one
    /// answers. Says whether it answered.
    fn check(input: &str) -> bool {
        let Some(fast) = super::parse(input) else {
            return false;
        };
        assert_same_tree(&Html::parse_document(input), &fast, input);
        true
    }

    fn check_all(cases: &[&str]) {
        for case in cases {
            assert!(check(case), "gave up on {case:?}");
        }
    }

    #[test]
    fn character_references_resolve_as_in_html5ever() {
        let refs = [
            "&amp;",
            "&lt;&gt;",
            "&nbsp;",
            "&nbsp",
            "&NBSP;",
            "&copy2",
            "&notit;",
            "&notin;",
            "&not;",
            "&amp=x",
            "&ampx",
            "&amp;x",
            "&#39;",
            "&#x4e2d;",
            "&#X4E2D",
            "&#128;",
            "&#129;",
            "&#0;",
            "&#xD800;",
            "&#1114112;",
            "&#99999999999;",
            "&#",
            "&#x;",
            "&#;",
            "&foo;",
            "&;",
            "&ampamp;",
            "& amp;",
            "&&amp;",
            "&#10;",
            "&#13;",
            "&#xFFFE;",
            "&acE;",
            "&NotEqualTilde;",
            "&lt",
            "&LT",
            "&frac12x",
            "&中;",
            "&1;",
        ];
        for r in refs {
            check_all(&[
                &format!("<p>a{r}b</p>"),
                &format!("<p title=\"a{r}b\" alt='{r}' data-x={r}>x</p>"),
                &format!("<title>{r} t</title><textarea>a{r}</textarea>"),
                &format!("<p>{r}"),
                &format!("<style>{r}</style><script>{r}</script>"),
            ]);
        }
    }

    #[test]
    fn tags_and_attributes_as_in_html5ever() {
        let many: String = (0..200)
            .map(|i| format!(" a{i}={i} a{}=x", i % 70))
            .collect();
        let many_attributes = format!("<p{many} A5=y>x</p>");
        check_all(&[
            "<P CLASS=X Id='Y'>a</P>",
            "<a href=x/>b</a>",
            "<a =b>c</a>",
            "<a \"x\"=1 'y' <z>d</a>",
            "<a b='1'c=2 d=\"3\"/e>f</a>",
            "<a b = \"1\" / >g</a>",
            "<a b=>h</a><a b= >i</a><a b >j</a>",
            "<a b=c\"d'e<f=g`h>k</a>",
            "<a b=1 b=2 B=3 c>dup</a>",
            &many_attributes,
            "<div/><br/><img src=x /><p/>",
            "</p class=x><p>end tag with attributes</p/>",
            "<中 文=\"值\">unicode names</中>",
            "< p>not a tag < 3 <3 <",
            "a</",
            "<p>\u{FEFF}not a BOM</p>",
            "\u{FEFF}<p>a BOM</p>",
            "<table><tr><td>a<td>b</table><p>x<table>y</table>",
            "<b><i>mis</b>nested</i><a><div>adoption</a></div>",
            "<svg viewbox='0 0 1 1'><path d='M0'/><style>s</style></svg>",
            "<math><mi>x</mi></math><select><option>a<option>b</select>",
            "<frameset><frame></frameset><noframes>x</noframes>",
            "<body><script>var a = '<p>' + \"</scr\" + \"ipt>\";</script>",
            "<script><!-- document.write('<script>x</script>'); --></script><p>after</p>",
            "<noscript><p>x</p></noscript><iframe><b>y</b></iframe><xmp><i>z</i></xmp>",
            "<template><td>x</td></template><head><base href=/><link rel=x>",
            "<p>a<style>unclosed &amp; <p>",
            "<title>unclosed &amp; <p>",
            "<script>unclosed <!-- <script> </script> x",
            "<script><!-- unclosed <script> </script",
        ]);
    }

    #[test]
    fn comments_doctypes_and_line_breaks_as_in_html5ever() {
        let doctypes = [
            "<!DOCTYPE html>",
            "<!doctype HTML>",
            "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\" \
             \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">",
            "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\">",
            "<!DOCTYPE html PUBLIC '-//W3C//DTD HTML 4.0 Transitional//EN'>",
            "<!DOCTYPE html SYSTEM 'about:legacy-compat'>",
            "<!DOCTYPE html\r\n  PUBLIC \"\" \"\">",
            "<!DOCTYPE HTML PUBLIC\"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/strict.dtd\">",
            "<!DOCTYPE html SYSTEM\"about:legacy-compat\" >",
            "",
        ];
        for doctype in doctypes {
            check_all(&[&format!("{doctype}<p><table><tr><td>quirks?</table>")]);
        }
        check_all(&[
            "<!-- a --><!--><!---><!----><!-----><!-- b --!><!-- c --!-- d -->",
            "<!-- a <!-- b --><!--a<!--->x<!-- <!-->y",
            "<! bogus > <? pi ?> </ x > <!-x>",
            "<p>a\r\nb\rc\n\rd</p><p title='a\r\nb'>\r</p><!--\r\n-->",
            "<title>a\r\nb</title><textarea>\r\nx</textarea><pre>\r\ny</pre>",
            "<pre>\nx</pre><pre>\n\ny</pre><listing>\nz</listing><pre>a\nb</pre>",
            "<pre><!---->\nx</pre><pre><b>\ny</b></pre><textarea>\n&amp;</textarea>",
            "<pre>a&#10x</pre><pre>a</>\nb</pre>",
        ]);
    }

    #[test]
    fn gives_up_on_what_it_does_not_model() {
        for case in [
            "<p>a\0b</p>",
            "<plaintext>x",
            "<svg><![CDATA[x]]></svg>",
            "<!DOCTYPE>",
            "<!DOCTYPEhtml>",
            "<!DOCTYPE html PUBLIC>",
            "<!DOCTYPE html bogus>",
            "<p title='unclosed",
            "<!-- unclosed",
            "<p",
            "<pre>&#10x</pre>",
            "<pre>&#10;x</pre>",
            "<pre></>\nx</pre>",
        ] {
            assert!(!check(case), "answered {case:?}");
        }
    }

    /// Random strings of the characters markup is made of, one at a time: the states'
    /// corners (a quote or `=` where a name starts, `&#` at the end, `--!` in comments).
    #[test]
    fn random_characters_parse_as_in_html5ever() {
        let alphabet: Vec<char> = "<>/!?-=&#;'\"` \t\n\r\x0caAbBxX09pPsSiI正\u{a0}"
            .chars()
            .collect();
        let words = [
            "script", "style", "title", "textarea", "pre", "doctype", "amp", "nbsp",
        ];
        let mut rng = fastrand::Rng::with_seed(23);
        let mut answered = 0;
        for _ in 0..20_000 {
            let mut input = String::new();
            for _ in 0..rng.usize(1..24) {
                if rng.u8(..8) == 0 {
                    input.push_str(words[rng.usize(..words.len())]);
                } else {
                    input.push(alphabet[rng.usize(..alphabet.len())]);
                }
            }
            if check(&input) {
                answered += 1;
            }
        }
        assert!(answered > 10_000, "answered {answered} of 20000");
    }

    /// Random mixtures of the pieces pages are made of (and of the constructs the
    /// tokenizer gives up on: CDATA, foreign content, script escapes).
    #[test]
    fn random_mixtures_parse_as_in_html5ever() {
        let pieces = [
            "<p>",
            "</p>",
            "<div class=a>",
            "</div>",
            "<a href='x?a=1&b=2'>",
            "</a>",
            "<br/>",
            "<table>",
            "<tr>",
            "<td>",
            "</table>",
            "<pre>",
            "</pre>",
            "<textarea>",
            "</textarea>",
            "<title>",
            "</title>",
            "<script>",
            "</script>",
            "<style>",
            "</style>",
            "<svg>",
            "</svg>",
            "<select>",
            "<option>",
            "<b>",
            "</b>",
            "<i>",
            "<!-- c -->",
            "<!DOCTYPE html>",
            "&amp;",
            "&nbsp",
            "&#20013;",
            "&copy=",
            "&",
            "<",
            ">",
            "\"",
            "'",
            "=",
            " ",
            "\n",
            "\r\n",
            "\r",
            "/",
            "a",
            "正文",
            "<P ID=x>",
            "<img src=x alt=\"a>b\">",
            "</ x>",
            "<? x ?>",
            "<!x>",
            "<frameset>",
            "<body>",
            "<html>",
            "<head>",
            "<meta charset=utf-8>",
            "<li>",
            "<ul>",
            "<h1>",
            "<form>",
            "<!--",
            "-->",
            "<noscript>",
            "</noscript>",
            "<script type=x>",
            "<SCRIPT>",
            "</SCRIPT>",
            "<!-- <script>",
            "<math>",
            "<?",
            "<!",
            "</",
            "--!>",
            "<![CDATA[",
            "]]>",
            "<template>",
        ];
        let mut rng = fastrand::Rng::with_seed(11);
        let mut answered = 0;
        for _ in 0..4_000 {
            let mut input = String::new();
            for _ in 0..rng.usize(1..40) {
                input.push_str(pieces[rng.usize(0..pieces.len())]);
            }
            if check(&input) {
                answered += 1;
            }
        }
        assert!(answered > 2_000, "answered {answered} of 4000");
    }
}
