//! Language and Chinese script of the article text.
//!
//! Language: `zh` when Han characters make up at least a fifth of the letters, `en` when
//! ASCII letters dominate, else unknown. Script: `zh-Hant` when characters used only in
//! Traditional Chinese outnumber those used only in Simplified Chinese (tables in
//! `[script]` of meta.toml), else `zh-Hans`.

use super::dom::is_han;
use super::rules::{MetaRules, ScriptChars};
use crate::extract::chars::is_common_non_alphanumeric;

pub fn detect(text: &str, rules: &MetaRules) -> (Option<String>, Option<String>) {
    let (mut han, mut latin, mut other, mut simp, mut trad) =
        (0usize, 0usize, 0usize, 0usize, 0usize);
    for c in text.chars() {
        if is_han(c) {
            han += 1;
            match rules.script_chars.of(c) {
                ScriptChars::SIMPLIFIED => simp += 1,
                ScriptChars::TRADITIONAL => trad += 1,
                _ => {}
            }
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        } else if c.is_ascii() || is_common_non_alphanumeric(c as u32) {
            // not a letter; answered before `is_alphabetic`'s table search
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    let letters = han + latin / 4 + other;
    if han >= 2 && han * 5 >= letters {
        let script = if trad > simp { "zh-Hant" } else { "zh-Hans" };
        return (Some("zh".into()), Some(script.into()));
    }
    if latin > 20 && latin > other * 4 {
        return (Some("en".into()), None);
    }
    (None, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `detect` skips before the `is_alphabetic` search is never a letter.
    #[test]
    fn cjk_punctuation_is_never_a_letter() {
        for cp in 0..=0xFFFFu32 {
            if let Some(c) = char::from_u32(cp) {
                if is_common_non_alphanumeric(cp) || (c.is_ascii() && !c.is_ascii_alphabetic()) {
                    assert!(!c.is_alphabetic(), "U+{cp:04X}");
                }
            }
        }
    }
}
