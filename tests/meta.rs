//! Metadata stage: date parsing, label lines, bylines, title clean-up, and whole-page
//! fixtures (invented text) under tests/fixtures/meta/.

use gazette::extract::content::{Block, BlockKind, Body};
use gazette::extract::meta::{self, date, people, title, MetaRules, Precision};
use gazette::extract::ExtractOptions;
use gazette::rules::Rules;

fn rules() -> MetaRules {
    Rules::builtin().expect("built-in rules").meta
}

fn tz8() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(8 * 3600).unwrap()
}

fn parse(text: &str) -> Option<String> {
    let r = rules();
    date::parse_first(text, &r).map(|v| v.to_published(tz8(), "t").value)
}

#[test]
fn editor_in_brackets_stops_at_the_bracket() {
    let r = rules();
    let info = people::read_line("（编辑：小何）返回首页，查看更多", &r);
    assert_eq!(info.editor.as_deref(), Some("小何"));
}
