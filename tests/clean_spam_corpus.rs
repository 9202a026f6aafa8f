//! The spam and clean stages on the shared real-page corpus (read only, never copied).
//!
//! - no spam may be reported on the real government / news pages, and the one parasite
//!   page must be judged a spam page;
//! - cleaning must not delete article text: the truth text's lines must survive `clean`.
//!
//! Skipped (with a message) when the shared corpus is not present.
//! `cargo test --test clean_spam_corpus -- --nocapture` prints the per-page table.

use std::path::{Path, PathBuf};

use gazette::extract::clean::{clean, CleanRules};
use gazette::extract::meta::PageMeta;
use gazette::extract::spam::{is_spam_page, remove_spam, SpamRules};
use gazette::rules::RuleSource;
use scraper::{Html, Node};
use url::Url;

const SPAM_PAGE: &str = "spam-2020s-jiayie-caipiao-parasite";

fn shared_root() -> Option<PathBuf> {
    ["../shared", "/work/shared"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_dir())
}

fn rules() -> (SpamRules, CleanRules) {
    let source = |name: &str, text: &str| RuleSource {
        name: name.to_string(),
        text: text.to_string(),
    };
    let spam = SpamRules::compile(&[source(
        "spam.toml",
        include_str!("../config/rules/spam.toml"),
    )])
    .expect("spam rules compile");
    let clean = CleanRules::compile(&[source(
        "clean.toml",
        include_str!("../config/rules/clean.toml"),
    )])
    .expect("clean rules compile");
    (spam, clean)
}

struct Page {
    id: String,
    html: PathBuf,
    url: Option<Url>,
    charset: Option<String>,
    truth_text: String,
}

fn pages(root: &Path, sets: &[&str]) -> Vec<Page> {
    let mut out = Vec::new();
    for set in sets {
        let dir = root.join(set).join("pages");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names {
            if path.extension().and_then(|e| e.to_str()) != Some("html") {
                continue;
            }
            let id = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .to_string();
            let meta: serde_json::Value =
                std::fs::read_to_string(dir.join(format!("{id}.meta.json")))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
            let truth: serde_json::Value =
                std::fs::read_to_string(root.join(set).join("truth").join(format!("{id}.json")))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
            out.push(Page {
                url: meta["url"].as_str().and_then(|u| Url::parse(u).ok()),
                charset: meta["charset"].as_str().map(str::to_string).or_else(|| {
                    let ct = meta["content_type"].as_str()?.to_ascii_lowercase();
                    let at = ct.find("charset=")? + "charset=".len();
                    Some(
                        ct[at..]
                            .trim_matches(|c: char| c == '"' || c.is_whitespace())
                            .to_string(),
                    )
                }),
                truth_text: truth["text"].as_str().unwrap_or_default().to_string(),
                id,
                html: path,
            });
        }
    }
    out
}

fn decode(bytes: &[u8], charset: Option<&str>) -> String {
    let encoding = charset
        .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
        .unwrap_or(encoding_rs::UTF_8);
    encoding.decode(bytes).0.into_owned().replace('\0', "")
}

/// Visible text with all white space removed (scripts and styles skipped).
fn visible(doc: &Html) -> String {
    let mut out = String::new();
    for node in doc.tree.root().descendants() {
        if let Node::Text(t) = node.value() {
            let hidden = node.ancestors().any(|a| {
                a.value().as_element().is_some_and(|e| {
                    matches!(
                        e.name(),
                        "script" | "style" | "noscript" | "template" | "head"
                    )
                })
            });
            if !hidden {
                out.extend(
                    t.chars()
                        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{3000}'),
                );
            }
        }
    }
    out
}

fn squash(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '\u{3000}')
        .collect()
}

struct Row {
    id: String,
    truth_chars: usize,
    before: usize,
    after: usize,
    lost: Vec<String>,
    /// Visible characters on the page before / after cleaning.
    page_before: usize,
    page_after: usize,
    spam: Vec<String>,
    spam_page: bool,
}

fn run(sets: &[&str]) -> Option<Vec<Row>> {
    let Some(root) = shared_root() else {
        eprintln!("shared corpus not found (../shared): skipping");
        return None;
    };
    let (spam_rules, clean_rules) = rules();
    let mut rows = Vec::new();
    for page in pages(&root, sets) {
        let bytes = std::fs::read(&page.html).expect("read page");
        let text = decode(&bytes, page.charset.as_deref());
        let mut doc = Html::parse_document(&text);
        let started = std::time::Instant::now();
        let report = remove_spam(&mut doc, &text, page.url.as_ref(), &spam_rules);
        let spam_page = is_spam_page(&report, &PageMeta::default(), &spam_rules);
        let before = visible(&doc);
        let cleaned = clean(&mut doc, &clean_rules);
        let elapsed = started.elapsed();
        if elapsed.as_millis() > 200 {
            println!(
                "slow: {} took {elapsed:?} in spam + clean ({} bytes)",
                page.id,
                bytes.len()
            );
        }
        if std::env::var("CLEAN_TRACE").is_ok_and(|v| page.id.contains(&v)) {
            for (rule, text) in &cleaned.samples {
                println!("  {} removed by {rule}: {text}", page.id);
            }
        }
        let after = visible(&doc);
        if let Ok(dir) = std::env::var("CLEAN_DUMP") {
            // Leftover text not in the truth, one text node a line, for tuning rules.
            let truth = squash(&page.truth_text);
            let mut dump = String::new();
            for node in doc.tree.root().descendants() {
                if let Node::Text(t) = node.value() {
                    let line = squash(t);
                    let in_script = node.ancestors().any(|a| {
                        a.value()
                            .as_element()
                            .is_some_and(|e| matches!(e.name(), "head" | "script" | "style"))
                    });
                    if !line.is_empty() && !in_script && !truth.contains(&line) {
                        let parent = node.parent().and_then(|p| {
                            p.value().as_element().map(|e| {
                                format!(
                                    "{}.{}#{}",
                                    e.name(),
                                    e.classes().collect::<Vec<_>>().join("."),
                                    e.id().unwrap_or("")
                                )
                            })
                        });
                        dump.push_str(&format!("{}\t{line}\n", parent.unwrap_or_default()));
                    }
                }
            }
            let _ = std::fs::create_dir_all(&dir);
            let _ = std::fs::write(Path::new(&dir).join(format!("{}.txt", page.id)), dump);
        }
        let mut row = Row {
            id: page.id.clone(),
            truth_chars: 0,
            before: 0,
            after: 0,
            lost: Vec::new(),
            page_before: before.chars().count(),
            page_after: after.chars().count(),
            spam: report
                .removals
                .iter()
                .map(|r| format!("{} [{}] {}", r.reason, r.detail, r.text))
                .collect(),
            spam_page,
        };
        for line in page.truth_text.lines() {
            let line = squash(line);
            if line.is_empty() {
                continue;
            }
            let n = line.chars().count();
            row.truth_chars += n;
            if before.contains(&line) {
                row.before += n;
                if after.contains(&line) {
                    row.after += n;
                } else {
                    row.lost.push(line.chars().take(60).collect());
                }
            }
        }
        rows.push(row);
    }
    Some(rows)
}

#[test]
fn corpus_no_false_spam_and_clean_keeps_article_text() {
    let Some(rows) = run(&["corpus/gov", "corpus/zh-news"]) else {
        return;
    };
    println!(
        "{:<40} {:>6} {:>6} {:>6} {:>7} {:>7} {:>7}  spam",
        "page", "truth", "found", "kept", "recall", "page", "cleaned"
    );
    let mut failures = Vec::new();
    let (mut found_total, mut kept_total) = (0usize, 0usize);
    for row in &rows {
        let recall = if row.before == 0 {
            1.0
        } else {
            row.after as f64 / row.before as f64
        };
        found_total += row.before;
        kept_total += row.after;
        println!(
            "{:<40} {:>6} {:>6} {:>6} {:>6.1}% {:>7} {:>7}  {}{}",
            row.id,
            row.truth_chars,
            row.before,
            row.after,
            recall * 100.0,
            row.page_before,
            row.page_after,
            row.spam.len(),
            if row.spam_page { " SPAM PAGE" } else { "" }
        );
        for lost in &row.lost {
            println!("      lost: {lost}");
        }
        for s in &row.spam {
            println!("      spam: {}", s.chars().take(200).collect::<String>());
        }
        if row.id == SPAM_PAGE {
            if !row.spam_page {
                failures.push(format!("{}: not judged a spam page", row.id));
            }
            continue;
        }
        if !row.spam.is_empty() || row.spam_page {
            failures.push(format!(
                "{}: spam reported on a real page: {:?}",
                row.id, row.spam
            ));
        }
        if recall < 0.97 {
            failures.push(format!(
                "{}: clean kept only {:.1}% of the truth text",
                row.id,
                recall * 100.0
            ));
        }
    }
    println!(
        "total: {kept_total} of {found_total} truth characters survive clean ({:.2}%)",
        100.0 * kept_total as f64 / found_total.max(1) as f64
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The mostly English benchmark: no spam may be reported, and clean keeps the body.
#[test]
fn benchmark_pages_no_false_spam_and_clean_keeps_body_text() {
    let Some(rows) = run(&["eval/aeb"]) else {
        return;
    };
    let mut failures = Vec::new();
    let (mut found_total, mut kept_total) = (0usize, 0usize);
    for row in &rows {
        found_total += row.before;
        kept_total += row.after;
        let recall = if row.before == 0 {
            1.0
        } else {
            row.after as f64 / row.before as f64
        };
        if recall < 0.97 || !row.spam.is_empty() || row.spam_page {
            println!(
                "{:<20} found {:>6} kept {:>6} ({:.1}%) spam {}{}",
                &row.id[..16.min(row.id.len())],
                row.before,
                row.after,
                recall * 100.0,
                row.spam.len(),
                if row.spam_page { " SPAM PAGE" } else { "" }
            );
            for lost in row.lost.iter().take(5) {
                println!("      lost: {lost}");
            }
            for s in &row.spam {
                println!("      spam: {}", s.chars().take(200).collect::<String>());
            }
        }
        if !row.spam.is_empty() || row.spam_page {
            failures.push(format!("{}: spam reported: {:?}", row.id, row.spam));
        }
    }
    let share = kept_total as f64 / found_total.max(1) as f64;
    println!(
        "total: {kept_total} of {found_total} truth characters survive clean ({:.2}%)",
        share * 100.0
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        share >= 0.97,
        "clean keeps only {:.2}% of the benchmark body text",
        share * 100.0
    );
}

/// The whole pipeline on the invented fixtures: spam reported on the article, the
/// parasite page refused as a spam page.
#[test]
fn extractor_reports_spam_and_refuses_spam_pages() {
    use gazette::{Extractor, NotArticleKind, Outcome, RawPage};
    let extractor = Extractor::builtin().expect("built-in rules compile");
    let page = |bytes: &[u8], url: &str, content_type: &str| RawPage {
        bytes: bytes.to_vec(),
        url: Url::parse(url).ok(),
        content_type: Some(content_type.to_string()),
        ..RawPage::default()
    };
    let county = page(
        include_bytes!("fixtures/spam/county-article.gbk.html"),
        "http://www.qinghe.gov.cn/zwgk/zwdt/2.html",
        "text/html",
    );
    match extractor.process(&county).expect("extraction runs") {
        Outcome::Article(article) => {
            let reasons: Vec<&str> = article.spam.iter().map(|s| s.reason.as_str()).collect();
            for reason in [
                "after_html_end",
                "document_write",
                "marquee",
                "lexicon_hidden_block",
            ] {
                assert!(
                    reasons.contains(&reason),
                    "{reason} missing from {reasons:?}"
                );
            }
            for gone in ["快3", "北京赛车", "百家乐", "葡京", "ICP备", "当前位置"] {
                assert!(
                    !article.text.contains(gone),
                    "{gone} in the article text:\n{}",
                    article.text
                );
            }
        }
        other => panic!("the county page is an article: {other:?}"),
    }
    let parasite = page(
        include_bytes!("fixtures/spam/parasite-page.html"),
        "http://www.lvling-tea.example/",
        "text/html",
    );
    match extractor.process(&parasite).expect("extraction runs") {
        Outcome::NotArticle(not) => assert_eq!(not.kind, NotArticleKind::SpamPage, "{not:?}"),
        other => panic!("the parasite page is spam: {other:?}"),
    }
    let news = page(
        include_bytes!("fixtures/spam/lottery-policy-news.html"),
        "http://mzt.dongjiang.gov.cn/flcp/1.html",
        "text/html; charset=utf-8",
    );
    match extractor.process(&news).expect("extraction runs") {
        Outcome::Article(article) => {
            assert!(article.spam.is_empty(), "{:#?}", article.spam);
            assert!(
                article.text.contains("严厉打击利用互联网非法销售彩票"),
                "{}",
                article.text
            );
        }
        other => panic!("the lottery policy news is an article: {other:?}"),
    }
}

/// The whole pipeline on the real corpus: spam reported only on the parasite page.
#[test]
fn extractor_on_corpus_reports_no_false_spam() {
    use gazette::{Extractor, NotArticleKind, Outcome, RawPage};
    let Some(root) = shared_root() else {
        eprintln!("shared corpus not found (../shared): skipping");
        return;
    };
    let extractor = Extractor::builtin().expect("built-in rules compile");
    let mut failures = Vec::new();
    for page in pages(&root, &["corpus/gov", "corpus/zh-news"]) {
        let bytes = std::fs::read(&page.html).expect("read page");
        let raw = RawPage {
            bytes,
            url: page.url.clone(),
            ..RawPage::default()
        };
        let (spam, spam_page, what) = match extractor.process(&raw) {
            Ok(Outcome::Article(a)) => (a.spam.clone(), false, "article".to_string()),
            Ok(Outcome::NotArticle(n)) => (
                n.spam.clone(),
                n.kind == NotArticleKind::SpamPage,
                format!("not article: {:?}", n.kind),
            ),
            Err(e) => (Vec::new(), false, format!("error: {e}")),
        };
        println!("{:<40} {what:<28} spam {}", page.id, spam.len());
        for s in &spam {
            println!("      {} [{}] {}", s.reason, s.detail, s.text);
        }
        let expected_spam_page = page.id == SPAM_PAGE;
        if spam_page != expected_spam_page || (!expected_spam_page && !spam.is_empty()) {
            failures.push(format!("{}: {what}, {} spam removals", page.id, spam.len()));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The seed's shape (a traditional-script county page served as gb2312, a search menu,
/// 來源 / 收藏 打印 widgets, a 主辦 / ICP footer and a simplified 快3 line after `</html>`)
/// through the whole pipeline.
#[test]
fn extractor_on_a_seed_shaped_page() {
    use gazette::{Extractor, Outcome, RawPage};
    let extractor = Extractor::builtin().expect("built-in rules compile");
    let raw = RawPage {
        bytes: include_bytes!("fixtures/spam/seedlike-traditional.gbk.html").to_vec(),
        url: Url::parse("http://www.qingfeng.gov.cn/xxgk/2020/0512/1.html").ok(),
        ..RawPage::default()
    };
    let Outcome::Article(article) = extractor.process(&raw).expect("extraction runs") else {
        panic!("the page is an article");
    };
    println!("{}", article.text);
    let reasons: Vec<&str> = article.spam.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(reasons, ["after_html_end"], "{:#?}", article.spam);
    assert_eq!(article.spam[0].text, "安徽快3计划在线");
    for gone in [
        "默認搜索",
        "收藏",
        "主辦",
        "ICP",
        "設計開發",
        "便民服務窗口",
        "安徽快3",
    ] {
        assert!(
            !article.text.contains(gone),
            "{gone} in the article text:\n{}",
            article.text
        );
    }
    for kept in ["初夏時節", "科學規劃·產業集聚", "提升產品附加值"] {
        assert!(
            article.text.contains(kept),
            "{kept} missing:\n{}",
            article.text
        );
    }
}
