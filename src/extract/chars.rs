//! Character classes for the stages' fast paths, shared so that every stage answers
//! alike: white space and three-byte code points read from the UTF-8 bytes without
//! going through `chars()`, and the punctuation that needs no Unicode table search.

/// The length of the non-ASCII white space `bytes` starts with, where white space is
/// what pages use as such (`char::is_whitespace`, U+200B and U+FEFF): U+0085, U+00A0,
/// U+1680, U+2000–U+200B, U+2028, U+2029, U+202F, U+205F, U+3000 or U+FEFF. Their lead
/// bytes are C2, E1, E2, E3 and EF; any other start gives `None`.
pub(crate) fn wide_space_len(bytes: &[u8]) -> Option<usize> {
    match bytes {
        [0xC2, 0x85 | 0xA0, ..] => Some(2),
        [0xE1, 0x9A, 0x80, ..]
        | [0xE2, 0x80, 0x80..=0x8B | 0xA8 | 0xA9 | 0xAF, ..]
        | [0xE2, 0x81, 0x9F, ..]
        | [0xE3, 0x80, 0x80, ..]
        | [0xEF, 0xBB, 0xBF, ..] => Some(3),
        _ => None,
    }
}

/// The code point of the three-byte sequence `lead b1 b2` (lead E0–EF).
pub(crate) fn three_byte_code(lead: u8, b1: u8, b2: u8) -> u32 {
    (u32::from(lead & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F)
}

/// Non-ASCII characters that are certainly neither letters nor digits: the space and
/// punctuation of Chinese text (U+00A0, general punctuation, CJK brackets and marks,
/// full-width punctuation). Answering for them first spares `char::is_alphanumeric` /
/// `is_alphabetic`, whose table search is slow for characters outside Latin.
pub(crate) fn is_common_non_alphanumeric(cp: u32) -> bool {
    matches!(
        cp,
        0xA0 | 0x2000..=0x206F
            | 0x3000..=0x3004
            | 0x3008..=0x3020
            | 0xFF00..=0xFF0F
            | 0xFF1A..=0xFF20
            | 0xFF3B..=0xFF40
            | 0xFF5B..=0xFF65
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_reads_equal_the_character_ones() {
        for c in (0x80..=0x10FFFF).filter_map(char::from_u32) {
            let mut buf = [0u8; 4];
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let space = c.is_whitespace() || c == '\u{200b}' || c == '\u{feff}';
            assert_eq!(
                wide_space_len(bytes),
                space.then_some(c.len_utf8()),
                "U+{:04X}",
                c as u32
            );
            if let [lead @ 0xE0..=0xEF, b1, b2] = *bytes {
                assert_eq!(three_byte_code(lead, b1, b2), c as u32);
            }
        }
    }
}
