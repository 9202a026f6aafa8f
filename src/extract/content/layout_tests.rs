//! Regression tests for page layouts of (mostly English) news and blog sites: which
//! block is the article and what around it is not. All pages are invented.

use super::*;
use crate::rules::Rules;

fn body_of(html: &str) -> BodyOutcome {
    let rules = Rules::builtin().expect("rules");
    let doc = Html::parse_document(html);
    let base = Url::parse("https://news.example.com/2021/03/story.html").ok();
    extract_body(&doc, base.as_ref(), &rules.content)
}

fn text_of(html: &str) -> String {
    match body_of(html) {
        BodyOutcome::Body(b) => b.text(),
        BodyOutcome::NotArticle { kind, reason } => panic!("not an article: {kind:?} {reason}"),
    }
}

/// A paragraph of about `sentences * 14` words, recognisable by `topic`.
fn prose(topic: &str, sentences: usize) -> String {
    (0..sentences)
        .map(|i| {
            format!(
                "The {topic} committee met again on day {i}, and its members said that the \
                 plan, though costly, was still the best option."
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn feed_of_article_teasers_is_not_the_article() {
    let teasers: String = (0..6)
        .map(|i| {
            format!(
                "<article class='post-card'><p>{}…</p></article>",
                prose(&format!("teaser{i}"), 4)
            )
        })
        .collect();
    let html = format!(
        "<html><head><title>Why slow walks help - Trail Notes</title></head><body><div id='primary'>\
         <article class='entry'><h1>Why slow walks help</h1><p>{}</p></article>\
         <section class='more-posts'><h3>You may also like</h3>{teasers}</section>\
         </div></body></html>",
        prose("walking", 5)
    );
    let text = text_of(&html);
    assert!(text.contains("walking committee"), "{text}");
    assert!(!text.contains("teaser"), "{text}");
}
