//! Text measures that work for Chinese and English alike, and whitespace normalisation.

use crate::extract::chars::{is_common_non_alphanumeric, three_byte_code, wide_space_len};

/// True for characters the scorer counts one token each (CJK ideographs, kana, hangul).
pub fn is_cjk(c: char) -> bool {
    let cp = c as u32;
    (0x4E00..=0x9FFF).contains(&cp)
        || (0x3400..=0x4DBF).contains(&cp)
        || (0x20000..=0x3134F).contains(&cp)
        || (0xF900..=0xFAFF).contains(&cp)
        || (0x2F800..=0x2FA1F).contains(&cp)
        || (0x3040..=0x30FF).contains(&cp)
        || (0x31F0..=0x31FF).contains(&cp)
        || (0xAC00..=0xD7AF).contains(&cp)
        || (0x1100..=0x11FF).contains(&cp)
        || (0x3130..=0x318F).contains(&cp)
        || cp == 0x3005
        || cp == 0x3007
}

/// Sentence punctuation, full-width and Latin: the strongest sign of prose.
pub fn is_prose_punct(c: char) -> bool {
    matches!(
        c,
        '，' | '。' | '、' | '；' | '：' | '！' | '？' | ',' | '.' | ';' | '!' | '?'
    )
}

/// Size of a piece of text: tokens (each CJK char, each word) and punctuation marks.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Measure {
    pub tokens: u32,
    pub punct: u32,
}

/// Non-ASCII letters of the alphabets the corpora use (Latin with diacritics,
/// Cyrillic): certainly alphanumeric, answered without the table search.
fn is_common_letter(cp: u32) -> bool {
    matches!(
        cp,
        0xC0..=0xD6 | 0xD8..=0xF6 | 0xF8..=0x24F | 0x400..=0x481 | 0x48A..=0x4FF
    )
}

/// True when `bytes[i]` starts an ideograph U+4E00 (E4 B8 80) to U+9FFF (E9 BF BF),
/// three bytes long.
#[inline(always)]
fn is_ideograph_lead(bytes: &[u8], i: usize) -> bool {
    match bytes.get(i) {
        Some(0xE5..=0xE9) => true,
        Some(0xE4) => bytes.get(i + 1).is_some_and(|&b1| b1 >= 0xB8),
        _ => false,
    }
}

impl Measure {
    /// Reads bytes rather than characters: ASCII and the ideographs U+4E00–U+9FFF (the
    /// bulk of Chinese text, three bytes led by E4–E9) are counted without decoding;
    /// everything else takes the general path.
    #[inline]
    pub fn of(text: &str) -> Measure {
        Measure::scan(text).0
    }

    /// The measure, and whether the text holds a white-space character (one that
    /// `normalize_space` would change or drop): found on the paths the measure takes
    /// anyway, so text without any can skip normalisation later.
    #[inline]
    pub fn scan(text: &str) -> (Measure, bool) {
        let bytes = text.as_bytes();
        let mut m = Measure::default();
        let mut spaced = false;
        let mut in_word = false;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b < 0x80 {
                if b.is_ascii_alphanumeric() {
                    if !in_word {
                        m.tokens += 1;
                        in_word = true;
                    }
                } else {
                    in_word = false;
                    if matches!(b, b',' | b'.' | b';' | b'!' | b'?') {
                        m.punct += 1;
                    } else if matches!(b, b'\t'..=b'\r' | b' ') {
                        // Runs of ASCII white space (the indentation of markup)
                        // are stepped over in a loop of their own.
                        spaced = true;
                        i += 1;
                        while let Some(b'\t'..=b'\r' | b' ') = bytes.get(i) {
                            i += 1;
                        }
                        continue;
                    }
                }
                i += 1;
                continue;
            }
            if is_ideograph_lead(bytes, i) {
                // A run of ideographs, counted in a loop of its own: one token each.
                let mut run = 1;
                i += 3;
                while is_ideograph_lead(bytes, i) {
                    run += 1;
                    i += 3;
                }
                m.tokens += run;
                in_word = false;
                continue;
            }
            if let [0xE3 | 0xEF, b1, b2, ..] = bytes[i..] {
                // CJK and full-width punctuation (U+3000–U+303F, U+FF00–U+FFEF),
                // between the ideographs of every sentence.
                let cp = three_byte_code(b, b1, b2);
                if is_common_non_alphanumeric(cp) {
                    in_word = false;
                    if matches!(
                        cp,
                        0x3001 | 0x3002 | 0xFF0C | 0xFF1B | 0xFF1A | 0xFF01 | 0xFF1F
                    ) {
                        m.punct += 1;
                    } else if cp == 0x3000 {
                        spaced = true;
                    }
                    i += 3;
                    continue;
                }
            }
            let Some(c) = text[i..].chars().next() else {
                break;
            };
            i += c.len_utf8();
            if is_cjk(c) {
                m.tokens += 1;
                in_word = false;
            } else if is_common_letter(c as u32)
                || (!is_common_non_alphanumeric(c as u32) && c.is_alphanumeric())
            {
                if !in_word {
                    m.tokens += 1;
                    in_word = true;
                }
            } else {
                in_word = false;
                if is_prose_punct(c) {
                    m.punct += 1;
                } else if is_space(c) {
                    spaced = true;
                }
            }
        }
        (m, spaced)
    }

    pub fn add(&mut self, other: Measure) {
        self.tokens += other.tokens;
        self.punct += other.punct;
    }
}

/// The characters `normalize_space` treats as white space.
fn is_space(c: char) -> bool {
    c.is_whitespace() || c == '\u{feff}' || c == '\u{200b}'
}

/// Collapses whitespace runs and trims, the way a browser renders text.
///
/// A run made only of ideographic spaces (U+3000) inside a line is kept as one U+3000,
/// because Chinese pages use it as a separator (`记者　张雨蝶`) that later stages read;
/// indentation (U+3000, `&nbsp;`) at the start of a paragraph is dropped.
pub fn normalize_space(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut pending: Option<char> = None;
    let mut i = 0;
    while i < bytes.len() {
        // A run of non-space characters, stepped over without decoding (the ideographs
        // U+4E00–U+9FFF, led by E4–E9, three bytes at a time; UTF-8 continuation bytes
        // never equal a lead byte) and copied whole.
        let from = i;
        while let Some(&b) = bytes.get(i) {
            match b {
                0xE4..=0xE9 => {
                    // Ideographs come in runs: stepped over in a loop of their own.
                    i += 3;
                    while let Some(0xE4..=0xE9) = bytes.get(i) {
                        i += 3;
                    }
                }
                b'\t'..=b'\r' | b' ' => break,
                0xC2 | 0xE1 | 0xE2 | 0xE3 | 0xEF => {
                    if wide_space_len(&bytes[i..]).is_some() {
                        break;
                    }
                    i += if b == 0xC2 { 2 } else { 3 };
                }
                _ => i += 1,
            }
        }
        if i > from {
            if let Some(space) = pending.take() {
                if !out.is_empty() {
                    out.push(space);
                }
            }
            out.push_str(&raw[from..i]);
        }
        // Then one white-space character: the run above stops at nothing else.
        let Some(c) = raw.get(i..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        pending = Some(match pending {
            None if c == '\u{3000}' => '\u{3000}',
            Some('\u{3000}') if c == '\u{3000}' => '\u{3000}',
            _ => ' ',
        });
        i += c.len_utf8();
    }
    out
}

/// Text with all whitespace removed, for comparing headings with the page title.
pub fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_chinese_and_english() {
        let m = Measure::of("今天，天气好。 Hello world, 2024!");
        assert_eq!(m.tokens, 5 + 3);
        assert_eq!(m.punct, 4);
    }

    /// The character-by-character definitions the faster code must agree with.
    fn reference_measure(text: &str) -> Measure {
        let mut m = Measure::default();
        let mut in_word = false;
        for c in text.chars() {
            if is_cjk(c) {
                m.tokens += 1;
                in_word = false;
            } else if c.is_alphanumeric() {
                if !in_word {
                    m.tokens += 1;
                    in_word = true;
                }
            } else {
                in_word = false;
                if is_prose_punct(c) {
                    m.punct += 1;
                }
            }
        }
        m
    }

    fn reference_normalize_space(raw: &str) -> String {
        let mut out = String::new();
        let mut pending: Option<char> = None;
        for c in raw.chars() {
            if c.is_whitespace() || c == '\u{feff}' || c == '\u{200b}' {
                pending = Some(match pending {
                    None if c == '\u{3000}' => '\u{3000}',
                    Some('\u{3000}') if c == '\u{3000}' => '\u{3000}',
                    _ => ' ',
                });
                continue;
            }
            if let Some(space) = pending.take() {
                if !out.is_empty() {
                    out.push(space);
                }
            }
            out.push(c);
        }
        out
    }

    #[test]
    fn fast_paths_agree_with_the_definitions() {
        let pieces = [
            "县政府",
            "，",
            "。",
            "、",
            "：",
            "！",
            "？",
            "；",
            ".",
            ",",
            "!",
            "?",
            ";",
            " ",
            "\t",
            "\n",
            "\u{a0}",
            "\u{3000}",
            "\u{2002}",
            "\u{200b}",
            "\u{feff}",
            "\u{3005}",
            "\u{3007}",
            "\u{3021}",
            "《",
            "》",
            "“",
            "”",
            "（",
            "）",
            "ａ",
            "１",
            "é",
            "ß",
            "Ж",
            "٣",
            "abc",
            "42",
            "x1",
            "_",
            "-",
            "ｶ",
            "가",
            "😀",
            "\u{4dff}",
            "\u{4e00}",
            "\u{9fff}",
            "\u{a000}",
            "\u{3400}",
            "\u{85}",
            "\u{1680}",
            "\u{2028}",
            "\u{202f}",
            "\u{205f}",
            "\u{b}",
            "\u{1c}",
            "\u{e000}",
            "䷀",
            "\u{180e}",
            "\u{2029}",
            "\u{200a}",
            "\u{200c}",
            "\u{2060}",
            "\u{3006}",
            "\u{3021}",
            "\u{3030}",
            "\u{feff}x",
            "\u{fffd}",
            "\u{ff5e}",
            "\u{ffe5}",
            "\u{2f800}",
            "\u{c2}",
        ];
        let mut state = 7u32;
        for _ in 0..20000 {
            let mut text = String::new();
            for _ in 0..(state % 40) {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                text.push_str(pieces[(state >> 16) as usize % pieces.len()]);
            }
            assert_eq!(Measure::of(&text), reference_measure(&text), "{text:?}");
            let spaced = text.chars().any(is_space);
            assert_eq!(
                Measure::scan(&text),
                (reference_measure(&text), spaced),
                "{text:?}"
            );
            if !spaced {
                assert_eq!(normalize_space(&text), text, "{text:?}");
            }
            // The block builder relies on this for table rows: normalised cells
            // joined by " | " need no second normalisation.
            let cell = normalize_space(&text);
            assert_eq!(normalize_space(&cell), cell, "{text:?}");
            if !cell.is_empty() {
                let row = [cell.as_str(), "x", cell.as_str()].join(" | ");
                assert_eq!(normalize_space(&row), row, "{text:?}");
            }
            assert_eq!(
                normalize_space(&text),
                reference_normalize_space(&text),
                "{text:?}"
            );
        }
    }

    #[test]
    fn shortcut_characters_are_not_alphanumeric() {
        for cp in 0..=0x10FFFFu32 {
            if let Some(c) = char::from_u32(cp) {
                if is_common_non_alphanumeric(cp) {
                    assert!(!c.is_alphanumeric(), "U+{cp:04X}");
                }
                if is_common_letter(cp) {
                    assert!(c.is_alphanumeric() && !is_cjk(c), "U+{cp:04X}");
                }
            }
        }
    }

    #[test]
    fn normalizes_space() {
        assert_eq!(
            normalize_space("\u{3000}\u{3000}正文 \n  内容\u{a0}"),
            "正文 内容"
        );
        assert_eq!(normalize_space("记者\u{3000}张雨蝶"), "记者\u{3000}张雨蝶");
        assert_eq!(normalize_space("记者 \u{2002}李秋晨"), "记者 李秋晨");
        assert_eq!(normalize_space(" \t "), "");
    }
}
