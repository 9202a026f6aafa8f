//! Finding declared charsets in bytes that are not decoded yet: the HTTP `Content-Type`
//! parameter, `<meta charset>` / `<meta http-equiv>` and the XML declaration, plus a
//! cheap "does this look like HTML" test for servers that send no useful content type.

use encoding_rs::{Encoding, GB18030, GBK, REPLACEMENT, UTF_16BE, UTF_16LE, UTF_8};

/// How far the `<meta>` prescan looks. Browsers stop at 1 KB, but Chinese sites often
/// put a long inline script or a comment block first and declare the charset later.
pub const META_SCAN_LIMIT: usize = 16 * 1024;

/// Labels seen on Chinese sites that are not WHATWG labels, with the label they mean.
const EXTRA_LABELS: &[(&str, &str)] = &[
    ("cp936", "gb18030"),
    ("ms936", "gb18030"),
    ("windows-936", "gb18030"),
    ("euc-cn", "gb18030"),
    ("gb-2312", "gb18030"),
    ("gb2312-80", "gb18030"),
    ("gb18030-2000", "gb18030"),
    ("gb18030-2005", "gb18030"),
    ("gb18030-2022", "gb18030"),
    ("big5hkscs", "big5"),
    ("cp950", "big5"),
    ("ms950", "big5"),
    ("big-5", "big5"),
    ("utf-8n", "utf-8"),
    ("utf8mb4", "utf-8"),
];

/// The encoding a label names, as gazette decodes it: the GB2312/GBK family becomes
/// GB18030 (a strict superset, so characters such as 镕 or 𠀀 on "gb2312" pages survive),
/// and labels that name no usable encoding (`replacement`) count as no label at all.
pub fn resolve_label(label: &[u8]) -> Option<&'static Encoding> {
    let label = trim_label(label);
    if label.is_empty() || label.len() > 40 {
        return None;
    }
    let found = Encoding::for_label_no_replacement(label).or_else(|| {
        let lower = String::from_utf8_lossy(label).to_ascii_lowercase();
        EXTRA_LABELS
            .iter()
            .find(|(name, _)| *name == lower)
            .and_then(|(_, target)| Encoding::for_label(target.as_bytes()))
    })?;
    if found == REPLACEMENT {
        return None;
    }
    Some(superset(found))
}

/// GBK (and GB2312 labels, which encoding_rs maps to GBK) decode as GB18030.
pub fn superset(encoding: &'static Encoding) -> &'static Encoding {
    if encoding == GBK {
        GB18030
    } else {
        encoding
    }
}

/// What a label in a `<meta>` tag means: UTF-16 there can only be a mistake (the bytes
/// being read are ASCII-compatible), and `x-user-defined` means windows-1252.
fn resolve_meta_label(label: &[u8]) -> Option<&'static Encoding> {
    let enc = resolve_label(label)?;
    if enc == UTF_16LE || enc == UTF_16BE {
        Some(UTF_8)
    } else if enc == encoding_rs::X_USER_DEFINED {
        Some(encoding_rs::WINDOWS_1252)
    } else {
        Some(enc)
    }
}

fn trim_label(label: &[u8]) -> &[u8] {
    let is_junk = |b: &u8| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b';' | b',');
    let start = label
        .iter()
        .position(|b| !is_junk(b))
        .unwrap_or(label.len());
    let end = label
        .iter()
        .rposition(|b| !is_junk(b))
        .map_or(start, |e| e + 1);
    &label[start..end.max(start)]
}

/// The charset parameter of a `Content-Type` value (`text/html; charset="gbk"`).
pub fn charset_from_content_type(content_type: &str) -> Option<&'static Encoding> {
    let value = charset_param(content_type.as_bytes())?;
    resolve_label(value)
}

/// Finds `charset=VALUE` in a parameter list, case-insensitively, returning VALUE.
fn charset_param(text: &[u8]) -> Option<&[u8]> {
    let mut from = 0;
    while let Some(pos) = find_ci(&text[from..], b"charset") {
        let mut i = from + pos + b"charset".len();
        while i < text.len() && text[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < text.len() && text[i] == b'=' {
            i += 1;
            while i < text.len() && text[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < text.len() && (text[i] == b'"' || text[i] == b'\'') {
                let quote = text[i];
                let start = i + 1;
                let end = text[start..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(text.len(), |p| start + p);
                return Some(&text[start..end]);
            }
            let start = i;
            let end = text[start..]
                .iter()
                .position(|&b| b == b';' || b == b',' || b.is_ascii_whitespace() || b == b'"')
                .map_or(text.len(), |p| start + p);
            return Some(&text[start..end]);
        }
        from = i;
    }
    None
}

/// Looks for a charset declaration in the first [`META_SCAN_LIMIT`] bytes: an XML
/// declaration at the very start, or the first `<meta>` that declares one. Comments and
/// script bodies are skipped, so `document.write('<meta ...>')` does not count, but junk
/// or scripts before `<html>` do not stop the scan.
pub fn prescan_meta(bytes: &[u8]) -> Option<&'static Encoding> {
    // Leading blank lines (JSP templates emit thousands) do not count against the limit.
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let bytes = &bytes[start..];
    let hay = &bytes[..bytes.len().min(META_SCAN_LIMIT)];
    if let Some(enc) = xml_declaration(hay) {
        return Some(enc);
    }
    let mut i = 0;
    while let Some(off) = hay[i..].iter().position(|&b| b == b'<') {
        let pos = i + off;
        let rest = &hay[pos..];
        if rest.starts_with(b"<!--") {
            match find(&hay[pos + 4..], b"-->") {
                Some(end) => i = pos + 4 + end + 3,
                None => return None,
            }
            continue;
        }
        if tag_named(rest, b"script") {
            match find_ci(&hay[pos + 7..], b"</script") {
                Some(end) => i = pos + 7 + end + 8,
                None => return None,
            }
            continue;
        }
        if tag_named(rest, b"meta") {
            let (attrs, end) = parse_attributes(&hay[pos + 5..]);
            if let Some(enc) = attrs.charset() {
                return Some(enc);
            }
            i = pos + 5 + end;
            continue;
        }
        i = pos + 1;
    }
    None
}

/// `<?xml version="1.0" encoding="gb2312"?>` at the start of an XHTML page.
fn xml_declaration(bytes: &[u8]) -> Option<&'static Encoding> {
    let start = bytes.iter().position(|b| !b.is_ascii_whitespace())?;
    let rest = &bytes[start..];
    if !rest.starts_with(b"<?xml") {
        return None;
    }
    let end = find(rest, b"?>")?;
    let decl = &rest[..end];
    let pos = find_ci(decl, b"encoding")?;
    let after = &decl[pos + b"encoding".len()..];
    let eq = after.iter().position(|&b| b == b'=')?;
    let value = trim_label(&after[eq + 1..]);
    let value_end = value
        .iter()
        .position(|&b| b.is_ascii_whitespace() || b == b'"' || b == b'\'')
        .unwrap_or(value.len());
    resolve_meta_label(&value[..value_end])
}

/// `<name` followed by whitespace, `/` or `>` (case-insensitive).
fn tag_named(rest: &[u8], name: &[u8]) -> bool {
    rest.len() > name.len() + 1
        && rest[1..=name.len()].eq_ignore_ascii_case(name)
        && matches!(
            rest[name.len() + 1],
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' | b'/' | b'>'
        )
}

/// The attributes of one `<meta>` tag that matter for the charset.
#[derive(Default)]
struct MetaAttributes<'a> {
    charset: Option<&'a [u8]>,
    http_equiv: Option<&'a [u8]>,
    content: Option<&'a [u8]>,
}

impl MetaAttributes<'_> {
    fn charset(&self) -> Option<&'static Encoding> {
        if let Some(label) = self.charset {
            if let Some(enc) = resolve_meta_label(label) {
                return Some(enc);
            }
        }
        let content = self.content?;
        // `http-equiv="Content-Type"` is required by the standard, but pages with the
        // attribute missing (or misspelt) and a `text/html; charset=` content exist.
        let equiv_ok = match self.http_equiv {
            Some(equiv) => trim_label(equiv).eq_ignore_ascii_case(b"content-type"),
            None => find_ci(content, b"text/html").is_some(),
        };
        if !equiv_ok {
            return None;
        }
        resolve_meta_label(charset_param(content)?)
    }
}

/// Parses attributes up to the closing `>`; returns them and the offset after the tag.
fn parse_attributes(bytes: &[u8]) -> (MetaAttributes<'_>, usize) {
    let mut attrs = MetaAttributes::default();
    let mut i = 0;
    let n = bytes.len();
    loop {
        while i < n && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= n {
            return (attrs, n);
        }
        if bytes[i] == b'>' {
            return (attrs, i + 1);
        }
        let name_start = i;
        while i < n && !matches!(bytes[i], b'=' | b'>' | b'/') && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = &bytes[name_start..i];
        while i < n && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value: &[u8] = b"";
        if i < n && bytes[i] == b'=' {
            i += 1;
            while i < n && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < n && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let start = i + 1;
                let end = bytes[start..]
                    .iter()
                    .position(|&b| b == quote)
                    .map_or(n, |p| start + p);
                value = &bytes[start..end];
                i = (end + 1).min(n);
            } else {
                let start = i;
                while i < n && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                value = &bytes[start..i];
            }
        }
        if name.is_empty() {
            // A stray `=`: step over it so the loop always advances.
            i += 1;
            continue;
        }
        if name.eq_ignore_ascii_case(b"charset") && attrs.charset.is_none() {
            attrs.charset = Some(value);
        } else if name.eq_ignore_ascii_case(b"http-equiv") && attrs.http_equiv.is_none() {
            attrs.http_equiv = Some(value);
        } else if name.eq_ignore_ascii_case(b"content") && attrs.content.is_none() {
            attrs.content = Some(value);
        }
    }
}

/// True when the first bytes look like HTML (a tag near the start), for responses
/// whose content type is missing or generic (`application/octet-stream`, `text/plain`).
pub fn looks_like_html(bytes: &[u8]) -> bool {
    if super::binary_signature(bytes).is_some() {
        return false;
    }
    // UTF-16 (with a BOM): look at the ASCII of the code units.
    let utf16: Vec<u8>;
    let bytes = if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        utf16 = bytes[2..bytes.len().min(4096)]
            .iter()
            .copied()
            .filter(|&b| b != 0)
            .collect();
        &utf16[..]
    } else {
        bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
    };
    // JSP and PHP templates often emit many blank lines before the doctype.
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let head = &bytes[start..bytes.len().min(start + 1024)];
    const MARKERS: &[&[u8]] = &[
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<meta",
        b"<title",
        b"<script",
        b"<!--",
        b"<div",
        b"<p>",
        b"<table",
        b"<link",
        b"<style",
        b"<?xml",
        b"<a ",
        b"<br",
        b"<h1",
    ];
    MARKERS.iter().any(|m| find_ci(head, m).is_some())
}

/// Position of `needle` in `hay`.
pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    memchr::memmem::find(hay, needle)
}

/// Position of `needle` (ASCII, lower case) in `hay`, ignoring ASCII case.
pub(crate) fn find_ci(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    let first = needle[0].to_ascii_lowercase();
    (0..=hay.len() - needle.len()).find(|&i| {
        hay[i].to_ascii_lowercase() == first
            && hay[i..i + needle.len()].eq_ignore_ascii_case(needle)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::BIG5;

    #[test]
    fn labels_resolve_to_supersets() {
        for label in [
            "gb2312",
            "GBK",
            "x-gbk",
            "gb_2312-80",
            "cp936",
            " GB2312 ",
            "\"gbk\"",
        ] {
            assert_eq!(resolve_label(label.as_bytes()), Some(GB18030), "{label}");
        }
        assert_eq!(resolve_label(b"big5"), Some(BIG5));
        assert_eq!(resolve_label(b"big5hkscs"), Some(BIG5));
        assert_eq!(resolve_label(b"utf8"), Some(UTF_8));
        assert_eq!(resolve_label(b"UTF8MB4"), Some(UTF_8));
        assert_eq!(
            resolve_label(b"iso-2022-kr"),
            None,
            "replacement is no label"
        );
        assert_eq!(resolve_label(b"no-such-charset"), None);
        assert_eq!(resolve_label(b""), None);
    }

    #[test]
    fn content_type_charset() {
        assert_eq!(
            charset_from_content_type("text/html; charset=gbk"),
            Some(GB18030)
        );
        assert_eq!(
            charset_from_content_type("text/html;Charset=\"UTF-8\""),
            Some(UTF_8)
        );
        assert_eq!(
            charset_from_content_type("text/html; charset = big5 ; x=y"),
            Some(BIG5)
        );
        assert_eq!(charset_from_content_type("text/html"), None);
        assert_eq!(charset_from_content_type("text/html; charset="), None);
    }

    #[test]
    fn meta_forms() {
        assert_eq!(prescan_meta(b"<meta charset=gbk>"), Some(GB18030));
        assert_eq!(prescan_meta(b"<META CHARSET='Big5'/>"), Some(BIG5));
        assert_eq!(
            prescan_meta(
                b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\">"
            ),
            Some(GB18030)
        );
        assert_eq!(
            prescan_meta(
                b"<meta content=\"text/html; charset=utf-8\" http-equiv=\"content-type\">"
            ),
            Some(UTF_8)
        );
        // http-equiv missing but the content is a Content-Type value.
        assert_eq!(
            prescan_meta(b"<meta content=\"text/html;charset=gbk\">"),
            Some(GB18030)
        );
        // A description mentioning charset is not a declaration.
        assert_eq!(
            prescan_meta(b"<meta name=\"description\" content=\"about charset=gbk\">"),
            None
        );
        assert_eq!(prescan_meta(b"<meta charset=\"utf-16\">"), Some(UTF_8));
    }

    #[test]
    fn meta_after_junk_script_and_comments() {
        let mut page = Vec::new();
        page.extend_from_slice(
            b"\xef\xbb\xbf junk <script>var s = '<meta charset=big5>';</script>",
        );
        page.extend_from_slice(b"<!-- <meta charset=big5> -->");
        page.extend_from_slice("<html><head>".as_bytes());
        page.extend(std::iter::repeat(b' ').take(6000));
        page.extend_from_slice(b"<meta charset=\"gbk\"></head>");
        assert_eq!(prescan_meta(&page), Some(GB18030));
    }

    #[test]
    fn leading_blank_lines_do_not_count() {
        let mut page = b"\r\n".repeat(META_SCAN_LIMIT);
        page.extend_from_slice(b"<html><head><meta charset=\"gbk\">");
        assert_eq!(prescan_meta(&page), Some(GB18030));
    }

    #[test]
    fn meta_beyond_limit_is_ignored() {
        let mut page = b"<html><head>".to_vec();
        page.extend(std::iter::repeat(b' ').take(META_SCAN_LIMIT));
        page.extend_from_slice(b"<meta charset=\"gbk\">");
        assert_eq!(prescan_meta(&page), None);
    }

    #[test]
    fn unterminated_tags_do_not_loop() {
        for input in [
            &b"<meta"[..],
            b"<meta charset",
            b"<meta =",
            b"<!--",
            b"<script",
            b"<<<<",
            b"<meta a='",
        ] {
            assert_eq!(prescan_meta(input), None);
        }
    }

    #[test]
    fn xml_declaration_counts() {
        assert_eq!(
            prescan_meta(b"<?xml version=\"1.0\" encoding=\"gb2312\"?><html>"),
            Some(GB18030)
        );
    }

    #[test]
    fn html_sniffing() {
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        assert!(looks_like_html(b"\xef\xbb\xbf<HTML>"));
        assert!(looks_like_html(b"<script>location='x'</script>"));
        assert!(!looks_like_html(b"%PDF-1.4 <html>"));
        assert!(!looks_like_html(b"{\"a\": 1}"));
        assert!(!looks_like_html(b"plain words"));
        let mut blank_lines = b"\r\n".repeat(2000);
        blank_lines.extend_from_slice(b"<!DOCTYPE html><html>");
        assert!(looks_like_html(&blank_lines));
        let mut utf16 = b"\xff\xfe".to_vec();
        for unit in "<html><body>".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert!(looks_like_html(&utf16));
    }
}
