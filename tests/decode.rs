//! Decoding real encodings: fixtures made by an independent encoder (Python's codecs,
//! see tests/fixtures/decode/generate.py), pages encoded here with encoding_rs, and
//! (when present) the shared corpus of real pages.

use std::path::{Path, PathBuf};

use encoding_rs::{Encoding, BIG5, GB18030, GBK, UTF_16LE, UTF_8};
use gazette::decode::{decode, decode_with_override, Decoded, EncodingSource};

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/decode")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// No replacement characters, and no `?` that the source text did not have.
fn assert_clean(d: &Decoded, expected: &[&str]) {
    assert!(!d.lossy, "lossy decoding as {}", d.encoding.name());
    assert!(!d.text.contains('\u{fffd}'), "U+FFFD in the text");
    assert!(!d.text.contains('?'), "a character became '?'");
    for s in expected {
        assert!(d.text.contains(s), "{s:?} missing from:\n{}", d.text);
    }
}

fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = encoding.encode(text);
    assert!(
        !unmappable,
        "{text} is not representable in {}",
        encoding.name()
    );
    bytes.into_owned()
}

fn page(meta_charset: Option<&str>, body: &str) -> String {
    let meta = meta_charset
        .map(|c| format!("<meta http-equiv=\"Content-Type\" content=\"text/html; charset={c}\">"))
        .unwrap_or_default();
    format!(
        "<!DOCTYPE html><html><head>{meta}<title>关于做好防汛工作的通知</title></head>\
         <body><div class=\"content\"><p>{body}</p></div></body></html>"
    )
}

/// Invented text with GBK-only characters, the middle dot and ideographic spaces.
const GBK_TEXT: &str = "朱镕基希望小学校长王堃、副校长李喆出席会议。\u{3000}\u{3000}会上，买买提·艾力同志介绍了防汛准备情况，要求各乡镇做好人员转移预案。";

#[test]
fn gb2312_label_with_gbk_only_characters() {
    let d = decode(&fixture("gb2312-label-gbk-chars.html"), None);
    assert_eq!(d.encoding, GB18030);
    assert_eq!(d.from, EncodingSource::Meta);
    assert!(!d.corrected);
    assert_clean(
        &d,
        &[
            "朱镕基",
            "王堃",
            "李喆",
            "陈·阿依古丽",
            "。\u{3000}\u{3000}希望",
        ],
    );
    assert_eq!(d.info().name, "gb18030");
    assert_eq!(d.info().from, "meta");
}

#[test]
fn python_and_encoding_rs_agree_on_gbk() {
    // The fixture was written by Python's gbk codec; encoding_rs must produce the same
    // bytes for the decoded text (both directions agree).
    let bytes = fixture("gb2312-label-gbk-chars.html");
    let d = decode(&bytes, None);
    assert_eq!(encode(GBK, &d.text), bytes);
}

#[test]
fn gb18030_four_byte_characters() {
    let d = decode(&fixture("gb18030-four-byte.html"), None);
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Meta));
    assert_clean(&d, &["“𠀀”“𠂇”“𪚥”", "校勘记一百二十条"]);
}

#[test]
fn gb18030_four_byte_characters_on_a_gbk_labelled_page() {
    let text = page(Some("gbk"), "生僻字𠀀与𪚥已收录。");
    let d = decode(&encode(GB18030, &text), None);
    assert_eq!(d.encoding, GB18030);
    assert_clean(&d, &["生僻字𠀀与𪚥已收录"]);
}

#[test]
fn big5_traditional_with_hkscs() {
    let d = decode(&fixture("big5-traditional.html"), None);
    assert_eq!((d.encoding, d.from), (BIG5, EncodingSource::Meta));
    assert_clean(&d, &["臺灣省青潭鄉公所", "颱風", "捐款已到位㗎"]);
}

#[test]
fn big5_without_declaration_is_sniffed() {
    let text = "<html><head><title>颱風災情說明</title></head><body>\
        <p>臺北市政府今日舉行記者會，說明颱風過後各區災情與復原進度，並呼籲民眾注意安全。</p>\
        </body></html>";
    let d = decode(&encode(BIG5, text), None);
    assert_eq!((d.encoding, d.from), (BIG5, EncodingSource::Sniffed));
    assert_clean(&d, &["臺北市政府今日舉行記者會"]);
}

#[test]
fn utf8_with_and_without_bom() {
    let text = page(None, GBK_TEXT);
    let d = decode(text.as_bytes(), None);
    assert_eq!((d.encoding, d.from), (UTF_8, EncodingSource::Sniffed));
    assert_clean(&d, &[GBK_TEXT]);

    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(text.as_bytes());
    let d = decode(&with_bom, Some("text/html; charset=gbk"));
    assert_eq!((d.encoding, d.from), (UTF_8, EncodingSource::Bom));
    assert!(
        d.text.starts_with("<!DOCTYPE"),
        "the BOM is not part of the text"
    );
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn utf16_with_bom() {
    let d = decode(&fixture("utf16le-bom.html"), None);
    assert_eq!((d.encoding, d.from), (UTF_16LE, EncodingSource::Bom));
    assert_clean(&d, &["市政府召开常务会议，研究部署春季农业生产工作。"]);

    // Big-endian, made here.
    let text = page(None, GBK_TEXT);
    let mut bytes = vec![0xfe, 0xff];
    for unit in text.encode_utf16() {
        bytes.extend_from_slice(&unit.to_be_bytes());
    }
    let d = decode(&bytes, None);
    assert_eq!(d.from, EncodingSource::Bom);
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn charset_only_in_http_header() {
    let bytes = fixture("gbk-no-meta.html");
    let d = decode(&bytes, Some("text/html; charset=gbk"));
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::HttpHeader));
    assert_clean(&d, &["朱镕基", "王堃", "李喆"]);
}

#[test]
fn no_declaration_at_all_is_sniffed() {
    let d = decode(&fixture("gbk-no-meta.html"), None);
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Sniffed));
    assert_clean(&d, &["朱镕基", "王堃"]);
}

#[test]
fn header_says_utf8_but_bytes_are_gbk() {
    let bytes = encode(GBK, &page(None, GBK_TEXT));
    let d = decode(&bytes, Some("text/html; charset=UTF-8"));
    assert_eq!(d.encoding, GB18030);
    assert_eq!(d.from, EncodingSource::HttpHeader);
    assert!(d.corrected);
    assert_eq!(d.info().from, "http_header_corrected");
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn meta_says_utf8_but_bytes_are_gbk() {
    let bytes = encode(GBK, &page(Some("utf-8"), GBK_TEXT));
    let d = decode(&bytes, None);
    assert_eq!(
        (d.encoding, d.from, d.corrected),
        (GB18030, EncodingSource::Meta, true)
    );
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn meta_says_gb2312_but_bytes_are_utf8() {
    let text = page(Some("gb2312"), GBK_TEXT);
    let d = decode(text.as_bytes(), None);
    assert_eq!(
        (d.encoding, d.from, d.corrected),
        (UTF_8, EncodingSource::Meta, true)
    );
    assert_eq!(d.info().from, "meta_corrected");
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn header_says_gbk_but_bytes_are_utf8() {
    let text = page(None, GBK_TEXT);
    let d = decode(text.as_bytes(), Some("text/html; charset=gb2312"));
    assert_eq!((d.encoding, d.corrected), (UTF_8, true));
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn short_mislabelled_pages_are_corrected_too() {
    // A single short line: few characters to go on.
    let bytes = encode(GBK, "<meta charset=utf-8><p>通知公告</p>");
    let d = decode(&bytes, None);
    assert_eq!(d.encoding, GB18030);
    assert_clean(&d, &["通知公告"]);
    let d = decode("<meta charset=gbk><p>通知公告</p>".as_bytes(), None);
    assert_eq!(d.encoding, UTF_8);
    assert_clean(&d, &["通知公告"]);
}

#[test]
fn late_meta_after_a_long_script() {
    let script = format!("<script>var config = {{{}}};</script>", "a:1,".repeat(2000));
    let text = format!(
        "{script}<html><head><meta charset=\"gb2312\"><title>通知</title></head><body><p>{GBK_TEXT}</p></body></html>"
    );
    assert!(script.len() > 4096);
    let d = decode(&encode(GBK, &text), None);
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Meta));
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn junk_before_html_does_not_hide_the_meta() {
    let text = format!(
        "\r\n<!-- cms build 7 -->\n<?php ?>junk<html><head><meta charset=gbk></head><body><p>{GBK_TEXT}</p></body></html>"
    );
    let d = decode(&encode(GBK, &text), None);
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Meta));
}

#[test]
fn nul_and_control_bytes_are_removed() {
    let mut bytes = encode(GBK, &page(Some("gbk"), GBK_TEXT));
    let at = bytes.len() - 30;
    bytes.splice(at..at, [0u8, 0, 1, 0x1f, 0x08]);
    let d = decode(&bytes, None);
    assert!(!d
        .text
        .chars()
        .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r')));
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn per_site_override() {
    // The site claims UTF-8 everywhere but serves GBK: the override is believed.
    let bytes = encode(GBK, &page(Some("utf-8"), GBK_TEXT));
    let d = decode_with_override(&bytes, Some("text/html; charset=utf-8"), Some(GBK));
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Override));
    assert!(!d.corrected);
    assert_clean(&d, &[GBK_TEXT]);
}

#[test]
fn truly_broken_bytes_are_reported_lossy_without_replacement_characters() {
    let mut bytes = page(Some("utf-8"), GBK_TEXT).into_bytes();
    let at = bytes.windows(4).position(|w| w == b"</p>").unwrap();
    bytes.insert(at, 0xff);
    let d = decode(&bytes, None);
    assert_eq!(d.encoding, UTF_8);
    assert!(d.lossy);
    assert!(!d.text.contains('\u{fffd}'));
    assert!(d.text.contains(GBK_TEXT));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for len in [0usize, 1, 2, 3, 7, 100, 5000] {
        for _ in 0..20 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            for ct in [
                None,
                Some("text/html; charset=utf-8"),
                Some("text/html; charset=gbk"),
            ] {
                let d = decode(&bytes, ct);
                assert!(!d.text.contains('\u{fffd}'));
            }
        }
    }
}

fn corpus_dirs() -> Vec<PathBuf> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    for root in [
        manifest.join("../shared/corpus"),
        PathBuf::from("/work/shared/corpus"),
    ] {
        if let Ok(entries) = std::fs::read_dir(&root) {
            let mut dirs: Vec<PathBuf> = entries
                .filter_map(|e| e.ok())
                .map(|e| e.path().join("pages"))
                .filter(|p| p.is_dir())
                .collect();
            dirs.sort();
            return dirs;
        }
    }
    Vec::new()
}

/// Every page of the shared corpus decodes cleanly, both with its transport charset
/// (as when fetched) and from the bytes alone (as when read from a file).
#[test]
fn real_corpus_decodes_cleanly() {
    let dirs = corpus_dirs();
    if dirs.is_empty() {
        println!("skipped: no shared corpus (../shared/corpus) on this machine");
        return;
    }
    let mut failures = Vec::new();
    println!(
        "{:<50} {:>8} {:<10} {:<22} {:<5} | {:<10} {:<16} {:<5}",
        "page", "bytes", "encoding", "from (http charset)", "lossy", "file only", "from", "lossy"
    );
    for dir in dirs {
        let mut pages: Vec<PathBuf> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "html"))
            .collect();
        pages.sort();
        for path in pages {
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let charset = std::fs::read_to_string(path.with_extension("meta.json"))
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["charset"].as_str().map(str::to_string));
            let content_type = charset.map(|c| format!("text/html; charset={c}"));
            let fetched = decode(&bytes, content_type.as_deref());
            let file = decode(&bytes, None);
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            println!(
                "{:<50} {:>8} {:<10} {:<22} {:<5} | {:<10} {:<16} {:<5}",
                name,
                bytes.len(),
                fetched.info().name,
                fetched.info().from,
                fetched.lossy,
                file.info().name,
                file.info().from,
                file.lossy
            );
            for (how, d) in [("with charset", &fetched), ("file only", &file)] {
                if d.lossy || d.text.contains('\u{fffd}') {
                    failures.push(format!("{name} ({how}): lossy as {}", d.encoding.name()));
                }
            }
            if fetched.encoding != file.encoding {
                failures.push(format!(
                    "{name}: {} with the HTTP charset but {} from the bytes",
                    fetched.encoding.name(),
                    file.encoding.name()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Tomcat and old Apache setups send `charset=ISO-8859-1` for everything.
#[test]
fn iso_8859_1_header_on_chinese_pages() {
    let bytes = encode(GBK, &page(None, GBK_TEXT));
    let d = decode(&bytes, Some("text/html;charset=ISO-8859-1"));
    assert_eq!((d.encoding, d.corrected), (GB18030, true));
    assert_clean(&d, &[GBK_TEXT]);

    let bytes = encode(GBK, &page(Some("gb2312"), GBK_TEXT));
    let d = decode(&bytes, Some("text/html;charset=ISO-8859-1"));
    assert_eq!((d.encoding, d.from), (GB18030, EncodingSource::Meta));
    assert_clean(&d, &[GBK_TEXT]);

    let d = decode(
        page(None, GBK_TEXT).as_bytes(),
        Some("text/html;charset=ISO-8859-1"),
    );
    assert_eq!((d.encoding, d.corrected), (UTF_8, true));
    assert_clean(&d, &[GBK_TEXT]);
}
