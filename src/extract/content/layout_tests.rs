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

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
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

#[test]
fn container_around_the_body_confirms_it_without_adding_the_header() {
    let paragraphs: String = (0..4)
        .map(|i| format!("<p>{}</p>", prose(&format!("harbour{i}"), 2)))
        .collect();
    let html = format!(
        "<html><head><title>Harbour bridge to reopen</title></head><body>\
         <article class='story'><div class='story-head'><span class='kicker'>EXCLUSIVE</span>\
         <h1>Harbour bridge to reopen</h1><p class='byline'>By Jane Roe</p>\
         <p class='dateline'>12 March 2021, 10:02</p>\
         <figure><img src='/b.jpg'><figcaption>Workers on the bridge deck, seen from the \
         east bank, on Monday.</figcaption></figure></div>\
         <div class='story-body'>{paragraphs}</div></article></body></html>"
    );
    let text = text_of(&html);
    assert!(
        text.contains("harbour0 committee") && text.contains("harbour3"),
        "{text}"
    );
    for header in ["EXCLUSIVE", "Jane Roe", "12 March 2021", "bridge deck"] {
        assert!(!text.contains(header), "{header} in {text}");
    }
}

#[test]
fn container_around_a_short_body_still_speaks_for_an_article() {
    // A short story among many headline links: the known container around it says the
    // page is an article even though the container itself is not taken.
    let links: String = (0..30)
        .map(|i| {
            format!(
                "<li><a href='/n/{i}'>Council approves new plan for the {i} district park</a></li>"
            )
        })
        .collect();
    let html = format!(
        "<html><head><title>Short note</title></head><body><ul class='latest'>{links}</ul>\
         <article class='story'><h1>Short note</h1><p class='byline'>By Jane Roe</p>\
         <div class='story-body'><p>{}</p></div></article></body></html>",
        prose("parking", 3)
    );
    let text = text_of(&html);
    assert!(text.contains("parking committee"), "{text}");
    assert!(!text.contains("Jane Roe"), "{text}");
}

#[test]
fn caption_nested_in_its_figure_does_not_widen_the_body() {
    // The caption and its figure both score close to the body; counted as two near-best
    // blocks they used to widen the body to the whole story.
    let caption = "In this March 3, 2020, file photo, made available by the agency, engineer \
                   A. B. Smith, left, and pilot C. D. Jones, right, inspect a rig, near Oslo, \
                   Norway, on a cold, clear, windy, grey, still day, before a test flight.";
    let paragraphs: String = (0..4)
        .map(|i| format!("<p>{}</p>", prose(&format!("orbit{i}"), 1)))
        .collect();
    let html = format!(
        "<html><head><title>Sleeping to Mars</title></head><body><div class='story'>\
         <h1>Sleeping to Mars</h1><div class='image imgTop'><img src='/m.jpg'><p>{caption}</p></div>\
         <div class='wrap'><div class='meta'>The Wire Service published this on Monday at 8 AM \
         Eastern Time</div>\
         <div class='articleBody'>{paragraphs}</div></div></div></body></html>"
    );
    let text = text_of(&html);
    assert!(
        text.contains("orbit0 committee") && text.contains("orbit3"),
        "{text}"
    );
    assert!(!text.contains("file photo"), "{text}");
    assert!(!text.contains("Wire Service"), "{text}");
}

#[test]
fn parts_of_one_template_around_an_embed_are_joined() {
    let part = |topic: &str, n: usize| -> String {
        let paragraphs: String = (0..n)
            .map(|i| format!("<p>{}</p>", prose(&format!("{topic}{i}"), 5)))
            .collect();
        format!(
            "<div class='body-part section'><section class='outer'><div class='inner'>\
             {paragraphs}</div></section></div>"
        )
    };
    let html = format!(
        "<html><head><title>Cells that taste</title></head><body><div class='post'>\
         <h1>Cells that taste</h1>{}<div class='embed'><iframe src='https://v.example.com/1'>\
         </iframe></div>{}<div class='post-footer'>Share this article</div></div></body></html>",
        part("first", 6),
        part("second", 2)
    );
    let text = text_of(&html);
    assert!(text.contains("first0 committee"), "{text}");
    assert!(text.contains("second1 committee"), "{text}");
    assert!(!text.contains("Share this"), "{text}");
}

#[test]
fn lead_paragraphs_styled_like_the_body_are_joined() {
    // The first paragraphs sit before a "read more" fold, outside the block holding the
    // rest; they carry the same class as the paragraphs inside it.
    let folded: String = (0..6)
        .map(|i| {
            format!(
                "<div class='story__paragraph'>{}</div>",
                prose(&format!("rest{i}"), 5)
            )
        })
        .collect();
    let html = format!(
        "<html><head><title>A visit to the doctor</title></head><body><section id='body-text'>\
         <div class='l-container'>\
         <div class='story__paragraph lead'>(Newswire) The mayor paid an unplanned visit to the \
         clinic on Saturday.</div>\
         <div class='story__paragraph'>Nobody was told why.</div>\
         <div class='story__paragraph'>Updated 5:02 PM</div>\
         <ul class='cn-list'><li><a href='/a'>Senate passes the budget after a long night of votes</a></li>\
         <li><a href='/b'>Storm closes schools across the northern half of the state</a></li>\
         <li><a href='/c'>Local team wins the cup in a dramatic final at home</a></li></ul>\
         <div class='story__read-all'>{folded}</div></div></section></body></html>"
    );
    let text = text_of(&html);
    assert!(text.contains("(Newswire) The mayor"), "{text}");
    assert!(text.contains("Nobody was told why."), "{text}");
    assert!(text.contains("rest5 committee"), "{text}");
    assert!(!text.contains("Updated 5:02"), "{text}");
    assert!(!text.contains("Senate passes"), "{text}");
}

#[test]
fn gallery_caption_copies_are_kept_once() {
    let caption = "Ministers shake hands before the talks in the capital on Wednesday, Nov. 20, \
                   after a long night of negotiations.";
    let short = "Ministers shake hands before the talks in the capital on Wednesday, Nov. 20, \
                 after a long";
    let html = format!(
        "<html><head><title>Talks resume</title></head><body><div class='article-body'>\
         <div class='gallery'><ul><li><img src='/g1.jpg'><div class='caption'>\
         <div class='caption-full'>{caption} <a href='#'>less</a></div>\
         <div class='caption-truncated'>{short} ... <a href='#'>more</a></div></div></li></ul>\
         <div class='caption'><div class='caption-full'>{caption} <a href='#'>less</a></div></div>\
         </div><p>{}</p><p>{}</p></div></body></html>",
        prose("treaty", 4),
        prose("border", 4)
    );
    let text = text_of(&html);
    assert_eq!(count(&text, "Ministers shake hands"), 1, "{text}");
    assert!(
        text.contains("treaty committee") && text.contains("border committee"),
        "{text}"
    );
}

#[test]
fn repeated_paragraphs_that_are_not_captions_stay() {
    let repeated = "What inspired you to start cooking for other people, and what do you cook?";
    let html = format!(
        "<html><head><title>Three cooks</title></head><body><div class='article-body'>\
         <p>{repeated}</p><p>{}</p><p>{repeated}</p><p>{}</p></div></body></html>",
        prose("soup", 4),
        prose("bread", 4)
    );
    assert_eq!(count(&text_of(&html), "What inspired you"), 2);
}

#[test]
fn lone_headline_links_and_closing_headings_are_dropped() {
    let html = format!(
        "<html><head><title>Sales slow down</title></head><body><div class='article-body'>\
         <p>{}</p><p><strong><a href='/x'>RETAILER REPORTS RECORD QUARTER AS SHOPPERS RETURN</a>\
         </strong></p><p>{}</p>\
         <p>Full figures: <a href='/files/q3.pdf'>third quarter results report 2021 (PDF)</a></p>\
         <p><a href='https://example.com/data'>https://example.com/data</a></p>\
         <p>{}</p><h3>More from Markets</h3></div></body></html>",
        prose("sales", 3),
        prose("stores", 3),
        prose("prices", 3)
    );
    let text = text_of(&html);
    assert!(!text.contains("RECORD QUARTER"), "{text}");
    assert!(!text.contains("More from Markets"), "{text}");
    assert!(text.contains("third quarter results"), "{text}");
    assert!(text.contains("https://example.com/data"), "{text}");
    assert!(text.contains("prices committee"), "{text}");
}
