//! Bytes → text, exactly: BOM, HTTP charset, `<meta>`, then sniffing.
//!
//! Declarations are trusted only as far as the bytes agree with them. Chinese sites
//! often mislabel pages (a template says `gb2312` while the CMS writes UTF-8, or the
//! server adds `charset=utf-8` to GBK files), so a declared encoding that produces
//! malformed sequences is checked against UTF-8 and against the statistical guess of
//! `chardetng`; when one of those decodes (nearly) cleanly, it wins and the result is
//! marked `corrected`. A page is decoded at most twice.
//!
//! Labels of the GB2312/GBK family decode as GB18030, their superset: "gb2312" pages
//! routinely contain GBK-only characters (镕, 堃, 喆) and occasionally four-byte ones.

pub mod sniff;

use encoding_rs::{DecoderResult, Encoding, GB18030, UTF_16BE, UTF_16LE, UTF_8};

use crate::article::EncodingInfo;

pub use sniff::{charset_from_content_type, looks_like_html, prescan_meta, resolve_label};

/// Where the encoding decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    Bom,
    HttpHeader,
    Meta,
    Sniffed,
    Default,
    /// Configured per site.
    Override,
}

/// Decoded text with an honest account of how it was decoded.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub from: EncodingSource,
    /// The declared label was contradicted by the bytes and replaced.
    pub corrected: bool,
    /// Some bytes were malformed in the chosen encoding; they were dropped from `text`.
    pub lossy: bool,
}

impl Decoded {
    pub fn info(&self) -> EncodingInfo {
        let from = match self.from {
            EncodingSource::Bom => "bom",
            EncodingSource::HttpHeader => "http_header",
            EncodingSource::Meta => "meta",
            EncodingSource::Sniffed => "sniffed",
            EncodingSource::Default => "default",
            EncodingSource::Override => "override",
        };
        EncodingInfo {
            name: self.encoding.name().to_string(),
            from: if self.corrected {
                format!("{from}_corrected")
            } else {
                from.to_string()
            },
            lossy: self.lossy,
        }
    }
}

/// How much of the page `chardetng` reads; enough for a confident guess on any page,
/// bounded so that multi-megabyte pages stay cheap.
const SNIFF_LIMIT: usize = 256 * 1024;

/// Decodes a page. `content_type` is the HTTP header, if any.
pub fn decode(bytes: &[u8], content_type: Option<&str>) -> Decoded {
    decode_with_override(bytes, content_type, None)
}

/// Decodes a page, with an optional per-site encoding that outranks every declaration
/// (but not a byte order mark, which cannot be wrong by accident). The override is
/// trusted: it is not second-guessed from the bytes.
pub fn decode_with_override(
    bytes: &[u8],
    content_type: Option<&str>,
    override_encoding: Option<&'static Encoding>,
) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return finish(
            decode_counting(encoding, &bytes[bom_len..]),
            encoding,
            EncodingSource::Bom,
            false,
        );
    }
    if let Some(encoding) = override_encoding {
        let encoding = sniff::superset(encoding);
        return finish(
            decode_counting(encoding, bytes),
            encoding,
            EncodingSource::Override,
            false,
        );
    }
    let declared = declared_encoding(bytes, content_type);

    // Validated once: valid UTF-8 is then copied, not validated again by the decoder.
    let valid_utf8 = std::str::from_utf8(bytes).ok();
    let utf8_valid = valid_utf8.is_some();
    let ascii_only = utf8_valid && bytes.is_ascii();
    let as_utf8 = || match valid_utf8 {
        Some(text) => Counted {
            text: text.to_owned(),
            errors: 0,
        },
        None => decode_counting(UTF_8, bytes),
    };

    match declared {
        // UTF-16 without a BOM can only come from the HTTP header; the bytes would look
        // like (valid) UTF-8 with NULs, so the UTF-8 checks below must not run.
        Some((encoding, from)) if encoding == UTF_16LE || encoding == UTF_16BE => {
            finish(decode_counting(encoding, bytes), encoding, from, false)
        }
        Some((encoding, from)) if utf8_valid && encoding == UTF_8 => {
            finish(as_utf8(), encoding, from, false)
        }
        Some((encoding, from)) if ascii_only => {
            finish(decode_counting(encoding, bytes), encoding, from, false)
        }
        // Valid UTF-8 with non-ASCII text is never an accident of GBK or Big5 bytes:
        // their lead/trail byte ranges break UTF-8 within a character or two.
        Some((_, from)) if utf8_valid => finish(as_utf8(), UTF_8, from, true),
        Some((encoding, from)) => decode_declared(bytes, encoding, from),
        None if ascii_only && !bytes.contains(&0x1b) => {
            finish(as_utf8(), UTF_8, EncodingSource::Default, false)
        }
        None if utf8_valid && !bytes.contains(&0x1b) => {
            finish(as_utf8(), UTF_8, EncodingSource::Sniffed, false)
        }
        None => decode_sniffed(bytes),
    }
}

/// The declaration to start from: the HTTP charset outranks `<meta>`, except that a
/// single-byte charset in the header (`ISO-8859-1`, the default of Tomcat and of many
/// old server setups) is a weak claim that a differing `<meta>` overrules.
fn declared_encoding(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Option<(&'static Encoding, EncodingSource)> {
    let header = content_type.and_then(charset_from_content_type);
    match header {
        Some(header) if !header.is_single_byte() => Some((header, EncodingSource::HttpHeader)),
        Some(header) => match prescan_meta(bytes) {
            Some(meta) if meta != header => Some((meta, EncodingSource::Meta)),
            _ => Some((header, EncodingSource::HttpHeader)),
        },
        None => prescan_meta(bytes).map(|meta| (meta, EncodingSource::Meta)),
    }
}

/// A declared encoding whose bytes are not valid UTF-8 (or not UTF-8 at all).
fn decode_declared(bytes: &[u8], declared: &'static Encoding, from: EncodingSource) -> Decoded {
    if declared == UTF_8 {
        let utf8 = utf8_stats(bytes);
        // Mostly-valid UTF-8 with a few broken bytes (a truncated page, one bad
        // character) is UTF-8; GBK or Big5 bytes break UTF-8 at nearly every character.
        if utf8.is_mostly_valid() {
            return finish(decode_counting(UTF_8, bytes), UTF_8, from, false);
        }
        let alternative = rival_encoding(bytes);
        let alt = decode_counting(alternative, bytes);
        if alt.errors * 4 < utf8.errors {
            return finish(alt, alternative, from, true);
        }
        return finish(decode_counting(UTF_8, bytes), UTF_8, from, false);
    }

    if declared.is_single_byte() {
        // Any bytes decode "cleanly" in a single-byte encoding, so the absence of errors
        // proves nothing: ask whether the bytes look like a multi-byte encoding instead.
        if utf8_stats(bytes).is_mostly_valid() {
            return finish(decode_counting(UTF_8, bytes), UTF_8, from, true);
        }
        let guess = sniff_legacy(bytes);
        if !guess.is_single_byte() {
            let alt = decode_counting(guess, bytes);
            let non_ascii = bytes.iter().filter(|b| !b.is_ascii()).count();
            if alt.errors * 100 <= non_ascii {
                return finish(alt, guess, from, true);
            }
        }
        return finish(decode_counting(declared, bytes), declared, from, false);
    }

    // A GBK page read as UTF-8 breaks at nearly every character, so the UTF-8 figures
    // cost more than the decoding itself: they are read only when the label failed.
    let first = decode_counting(declared, bytes);
    if first.errors == 0 {
        return finish(first, declared, from, false);
    }
    // The label produced malformed sequences: is the page really UTF-8 (with a broken
    // byte or two), or in another legacy encoding?
    let utf8 = utf8_stats(bytes);
    if utf8.is_mostly_valid() && utf8.errors * 4 < first.errors {
        return finish(decode_counting(UTF_8, bytes), UTF_8, from, true);
    }
    if first.errors >= 2 {
        let guess = rival_encoding(bytes);
        if guess != declared {
            let alt = decode_counting(guess, bytes);
            if alt.errors * 4 < first.errors {
                return finish(alt, guess, from, true);
            }
        }
    }
    finish(first, declared, from, false)
}

/// No declaration and not valid UTF-8: ask chardetng, then try the obvious rival.
fn decode_sniffed(bytes: &[u8]) -> Decoded {
    let utf8 = utf8_stats(bytes);
    if utf8.is_mostly_valid() {
        return finish(
            decode_counting(UTF_8, bytes),
            UTF_8,
            EncodingSource::Sniffed,
            false,
        );
    }
    let guess = sniff_legacy(bytes);
    let first = decode_counting(guess, bytes);
    if first.errors == 0 || guess == GB18030 {
        return finish(first, guess, EncodingSource::Sniffed, false);
    }
    // Chinese government pages are overwhelmingly GB-family when not UTF-8.
    let alt = decode_counting(GB18030, bytes);
    if alt.errors < first.errors {
        finish(alt, GB18030, EncodingSource::Sniffed, false)
    } else {
        finish(first, guess, EncodingSource::Sniffed, false)
    }
}

/// chardetng's guess among legacy encodings (the bytes are known not to be UTF-8).
fn sniff_legacy(bytes: &[u8]) -> &'static Encoding {
    let mut detector = chardetng::EncodingDetector::new();
    let sample = &bytes[..bytes.len().min(SNIFF_LIMIT)];
    detector.feed(sample, sample.len() == bytes.len());
    sniff::superset(detector.guess(None, false))
}

/// The rival to try against a declared label that the bytes contradict. Single-byte
/// encodings decode any bytes without error, so they would always "win" a comparison
/// of error counts; on Chinese sites the realistic rival is then GB18030.
fn rival_encoding(bytes: &[u8]) -> &'static Encoding {
    let guess = sniff_legacy(bytes);
    if guess.is_single_byte() {
        GB18030
    } else {
        guess
    }
}

/// Text decoded without replacement characters, with the number of malformed
/// sequences that were dropped.
struct Counted {
    text: String,
    errors: usize,
}

fn finish(
    counted: Counted,
    encoding: &'static Encoding,
    from: EncodingSource,
    corrected: bool,
) -> Decoded {
    let mut text = counted.text;
    strip_control_characters(&mut text);
    Decoded {
        text,
        encoding,
        from,
        corrected,
        lossy: counted.errors > 0,
    }
}

/// Decodes `bytes` (without BOM handling), dropping malformed sequences and counting them.
fn decode_counting(encoding: &'static Encoding, bytes: &[u8]) -> Counted {
    if encoding == UTF_8 {
        return decode_utf8_counting(bytes);
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut text = String::with_capacity(capacity);
    let mut errors = 0;
    let mut rest = bytes;
    loop {
        let (result, read) = decoder.decode_to_string_without_replacement(rest, &mut text, true);
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => break,
            DecoderResult::Malformed(_, _) => errors += 1,
            DecoderResult::OutputFull => {
                let more = decoder
                    .max_utf8_buffer_length_without_replacement(rest.len())
                    .unwrap_or(rest.len().saturating_mul(3))
                    .max(16);
                text.reserve(more);
            }
        }
    }
    Counted { text, errors }
}

/// UTF-8 is decoded with the standard library: a copy when valid, otherwise the valid
/// runs joined with the broken bytes left out.
fn decode_utf8_counting(bytes: &[u8]) -> Counted {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Counted {
            text: text.to_owned(),
            errors: 0,
        };
    }
    let mut text = String::with_capacity(bytes.len());
    let mut errors = 0;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            errors += 1;
        }
    }
    Counted { text, errors }
}

/// How well the bytes read as UTF-8, without decoding them.
#[derive(Debug, Clone, Copy)]
struct Utf8Stats {
    errors: usize,
    /// Multi-byte characters in the valid runs.
    multibyte: usize,
}

impl Utf8Stats {
    /// A UTF-8 page with a few damaged bytes, as opposed to a page in another encoding
    /// (where nearly every non-ASCII character is an error).
    /// GBK text read as UTF-8 yields roughly one error per character and only a few
    /// accidental multi-byte characters, so the two cases are far apart.
    fn is_mostly_valid(&self) -> bool {
        self.multibyte > 0 && self.errors * 4 <= self.multibyte
    }
}

fn utf8_stats(bytes: &[u8]) -> Utf8Stats {
    let mut stats = Utf8Stats {
        errors: 0,
        multibyte: 0,
    };
    for chunk in bytes.utf8_chunks() {
        stats.multibyte += chunk
            .valid()
            .as_bytes()
            .iter()
            .filter(|&&b| b >= 0xc0)
            .count();
        if !chunk.invalid().is_empty() {
            stats.errors += 1;
        }
    }
    stats
}

/// Removes NUL and other C0 controls (real pages contain NUL bytes, which break
/// storage and JSON consumers) and U+FFFD left in the source by an earlier botched
/// conversion (it stands for nothing). Tab, LF and CR stay; form feed and vertical tab
/// become spaces so that words they separate stay apart.
fn strip_control_characters(text: &mut String) {
    if !has_control_or_replacement(text.as_bytes()) {
        return;
    }
    *text = text
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' => Some(c),
            '\x0b' | '\x0c' => Some(' '),
            '\u{fffd}' => None,
            c if (c as u32) < 0x20 => None,
            c => Some(c),
        })
        .collect();
}

/// A C0 control that [`strip_control_characters`] removes or replaces.
fn is_stripped_control(b: u8) -> bool {
    b < 0x20 && b != b'\t' && b != b'\n' && b != b'\r'
}

/// Whether the text holds a stripped control or U+FFFD (`EF BF BD`): one pass over the
/// bytes in blocks whose test has no branch per byte (the compiler vectorises it), as
/// this runs on every page and almost never finds anything.
fn has_control_or_replacement(bytes: &[u8]) -> bool {
    const BLOCK: usize = 256;
    let n = bytes.len();
    if n < 3 {
        return bytes.iter().any(|&b| is_stripped_control(b));
    }
    // Byte i, i+1 and i+2 side by side, for every i that can start a replacement char.
    let (first, second, third) = (&bytes[..n - 2], &bytes[1..n - 1], &bytes[2..]);
    let mut start = 0;
    while start < first.len() {
        let end = (start + BLOCK).min(first.len());
        let found = first[start..end]
            .iter()
            .zip(&second[start..end])
            .zip(&third[start..end])
            .fold(false, |found, ((&a, &b), &c)| {
                found | is_stripped_control(a) | ((a == 0xef) & (b == 0xbf) & (c == 0xbd))
            });
        if found {
            return true;
        }
        start = end;
    }
    bytes[n - 2..].iter().any(|&b| is_stripped_control(b))
}

/// Names the file type when the bytes are clearly not text (PDF, image, archive ...).
pub fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"%PDF", "PDF document"),
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"PK\x03\x04", "ZIP archive (or docx/xlsx)"),
        (b"\xd0\xcf\x11\xe0", "MS Office document"),
        (b"\x1f\x8b", "gzip data"),
        (b"Rar!", "RAR archive"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use encoding_rs::{BIG5, GBK};

    fn gbk(text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = GB18030.encode(text);
        assert!(!unmappable);
        bytes.into_owned()
    }

    fn page(charset_meta: Option<&str>, body: &str) -> String {
        let meta = charset_meta
            .map(|c| {
                format!("<meta http-equiv=\"Content-Type\" content=\"text/html; charset={c}\">")
            })
            .unwrap_or_default();
        format!("<!DOCTYPE html><html><head>{meta}<title>通知</title></head><body><p>{body}</p></body></html>")
    }

    const BODY: &str = "各区人民政府，市政府各委、办、局：现将《关于进一步做好城市公共交通服务工作的通知》印发给你们，请结合实际认真贯彻执行。";

    #[test]
    fn utf8_without_declaration_is_sniffed() {
        let d = decode(page(None, BODY).as_bytes(), None);
        assert_eq!(d.encoding, UTF_8);
        assert_eq!(d.from, EncodingSource::Sniffed);
        assert!(d.text.contains(BODY));
        assert!(!d.lossy && !d.corrected);
    }

    #[test]
    fn ascii_without_declaration_is_default() {
        let d = decode(b"<html><body>hello</body></html>", None);
        assert_eq!((d.encoding, d.from), (UTF_8, EncodingSource::Default));
    }

    #[test]
    fn gbk_meta_decodes_as_gb18030() {
        let bytes = gbk(&page(Some("gb2312"), BODY));
        let d = decode(&bytes, None);
        assert_eq!(d.encoding, GB18030);
        assert_eq!(d.from, EncodingSource::Meta);
        assert!(d.text.contains(BODY), "{}", d.text);
        assert!(!d.lossy && !d.corrected);
        assert_eq!(d.info().name, "gb18030");
    }

    #[test]
    fn header_outranks_meta() {
        let bytes = gbk(&page(Some("big5"), BODY));
        let d = decode(&bytes, Some("text/html; charset=GBK"));
        assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::HttpHeader));
        assert!(d.text.contains(BODY));
    }

    #[test]
    fn utf8_labelled_gb2312_is_corrected() {
        let d = decode(page(Some("gb2312"), BODY).as_bytes(), None);
        assert_eq!(d.encoding, UTF_8);
        assert_eq!(d.from, EncodingSource::Meta);
        assert!(d.corrected);
        assert_eq!(d.info().from, "meta_corrected");
        assert!(d.text.contains(BODY));
    }

    #[test]
    fn gbk_labelled_utf8_is_corrected() {
        let bytes = gbk(&page(None, BODY));
        let d = decode(&bytes, Some("text/html; charset=utf-8"));
        assert_eq!(d.encoding, GB18030);
        assert!(d.corrected && !d.lossy);
        assert_eq!(d.info().from, "http_header_corrected");
        assert!(d.text.contains(BODY));
    }

    #[test]
    fn utf8_with_one_broken_byte_stays_utf8() {
        let mut bytes = page(Some("utf-8"), BODY).into_bytes();
        let cut = bytes
            .windows(4)
            .position(|w| w == b"</p>")
            .expect("paragraph end");
        bytes.insert(cut, 0xff);
        let d = decode(&bytes, None);
        assert_eq!(d.encoding, UTF_8);
        assert!(d.lossy && !d.corrected);
        assert!(!d.text.contains('\u{fffd}'));
        assert!(d.text.contains(BODY));
    }

    #[test]
    fn big5_is_sniffed() {
        let text = page(
            None,
            "臺北市政府今日舉行記者會，說明颱風過後各區災情與復原進度，並呼籲民眾注意安全。",
        );
        let (bytes, _, bad) = BIG5.encode(&text);
        assert!(!bad);
        let d = decode(&bytes, None);
        assert_eq!((d.encoding, d.from), (BIG5, EncodingSource::Sniffed));
        assert!(d.text.contains("臺北市政府"));
    }

    #[test]
    fn gbk_is_sniffed() {
        let bytes = gbk(&page(None, BODY));
        let d = decode(&bytes, None);
        assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Sniffed));
        assert!(d.text.contains(BODY));
    }

    #[test]
    fn bom_wins_and_is_removed() {
        let mut bytes = b"\xef\xbb\xbf".to_vec();
        bytes.extend_from_slice(page(Some("gbk"), BODY).as_bytes());
        let d = decode(&bytes, Some("text/html; charset=gbk"));
        assert_eq!((d.encoding, d.from), (UTF_8, EncodingSource::Bom));
        assert!(d.text.starts_with("<!DOCTYPE"));
    }

    #[test]
    fn latin1_header_is_a_weak_claim() {
        let bytes = gbk(&page(Some("gbk"), BODY));
        let d = decode(&bytes, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(
            (d.encoding, d.from, d.corrected),
            (GB18030, EncodingSource::Meta, false)
        );
        assert!(d.text.contains(BODY));

        let bytes = gbk(&page(None, BODY));
        let d = decode(&bytes, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(
            (d.encoding, d.from, d.corrected),
            (GB18030, EncodingSource::HttpHeader, true)
        );
        assert!(d.text.contains(BODY));

        let d = decode(
            page(None, BODY).as_bytes(),
            Some("text/html; charset=ISO-8859-1"),
        );
        assert_eq!((d.encoding, d.corrected), (UTF_8, true));
        assert!(d.text.contains(BODY));

        // A real Latin-1 page stays Latin-1.
        let (latin, _, _) = encoding_rs::WINDOWS_1252
            .encode("<html><body><p>Le conseil municipal s'est réuni à la mairie. Décision adoptée à l'unanimité, élus présents.</p></body></html>");
        let d = decode(&latin, Some("text/html; charset=ISO-8859-1"));
        assert_eq!(
            (d.encoding, d.corrected),
            (encoding_rs::WINDOWS_1252, false)
        );
        assert!(d.text.contains("réuni à la mairie"));
    }

    #[test]
    fn override_outranks_declarations() {
        let bytes = gbk(&page(Some("utf-8"), BODY));
        let d = decode_with_override(&bytes, Some("text/html; charset=utf-8"), Some(GBK));
        assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Override));
        assert!(d.text.contains(BODY));
        assert_eq!(d.info().from, "override");
    }

    #[test]
    fn control_characters_are_removed() {
        let d = decode(b"<p>a\0b\x01c\td\x0ce\r\n</p>", None);
        assert_eq!(d.text, "<p>abc\td e\r\n</p>");
        let d = decode("<p>x\u{fffd}y</p>".as_bytes(), None);
        assert_eq!(d.text, "<p>xy</p>");
    }

    #[test]
    fn control_and_replacement_detection_matches_the_character_test() {
        let samples = [
            "",
            "a",
            "\0",
            "ab\u{b}",
            "plain text, 中文，标点。\t\r\n",
            "\u{fffd}",
            "x\u{fffd}",
            "\u{fffc}\u{fffe}\u{ffef}",
        ];
        let reference = |t: &str| {
            t.chars()
                .any(|c| c == '\u{fffd}' || ((c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r')))
        };
        for sample in samples {
            for pad in [0, 1, 2, 255, 256, 257, 600] {
                for at_end in [false, true] {
                    let filler = "中".repeat(pad);
                    let text = if at_end {
                        format!("{filler}{sample}")
                    } else {
                        format!("{sample}{filler}")
                    };
                    assert_eq!(
                        has_control_or_replacement(text.as_bytes()),
                        reference(&text),
                        "{text:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn empty_input() {
        let d = decode(b"", None);
        assert_eq!(d.text, "");
        assert!(!d.lossy);
    }
}
