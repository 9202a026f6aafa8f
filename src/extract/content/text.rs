//! Text measures that work for Chinese and English alike, and whitespace normalisation.

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

impl Measure {
    pub fn of(text: &str) -> Measure {
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

    pub fn add(&mut self, other: Measure) {
        self.tokens += other.tokens;
        self.punct += other.punct;
    }
}

/// Collapses whitespace runs and trims, the way a browser renders text.
///
/// A run made only of ideographic spaces (U+3000) inside a line is kept as one U+3000,
/// because Chinese pages use it as a separator (`记者　张雨蝶`) that later stages read;
/// indentation (U+3000, `&nbsp;`) at the start of a paragraph is dropped.
pub fn normalize_space(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
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
