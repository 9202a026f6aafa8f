//! Dev tool for the metadata stage: runs gazette over a dataset (`<dir>/pages/<id>.html`
//! with `<id>.meta.json`) and writes `<out>/<id>.json` = {title, published, author,
//! source, text} for `shared/eval/score.py`.
//!
//! `cargo run --release --example meta_corpus -- /work/shared/corpus/gov /tmp/meta-preds-gov`
//!
//! When the page does not become an article (the body stage may still be unfinished),
//! the metadata is read directly with `meta::read` so the metadata columns stay
//! measurable; `text` is then empty.

use std::path::Path;

use gazette::extract::meta;
use gazette::{Extractor, Outcome, RawPage};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dataset, out] = &args[..] else {
        anyhow::bail!("usage: meta_corpus <dataset> <out>");
    };
    let extractor = Extractor::builtin()?;
    std::fs::create_dir_all(out)?;
    let pages = Path::new(dataset).join("pages");
    let mut ids: Vec<String> = std::fs::read_dir(&pages)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_suffix(".html")
                .map(str::to_string)
        })
        .collect();
    ids.sort();
    let debug = std::env::var("META_DEBUG").ok();
    for id in ids {
        let bytes = std::fs::read(pages.join(format!("{id}.html")))?;
        if debug.as_deref() == Some(id.as_str()) {
            let ct = format!("text/html; charset={}", "utf-8");
            let _ = ct;
            let info: serde_json::Value =
                std::fs::read_to_string(pages.join(format!("{id}.meta.json")))
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok())
                    .unwrap_or_default();
            let ct = info
                .get("charset")
                .and_then(|c| c.as_str())
                .map(|c| format!("text/html; charset={c}"));
            let decoded = gazette::decode::decode(&bytes, ct.as_deref());
            let doc = scraper::Html::parse_document(&decoded.text);
            let scan = meta::dom::scan(&doc, &extractor.rules().meta);
            for (i, l) in scan.lines.iter().enumerate() {
                println!(
                    "{i:5} h{} l{:3} {}",
                    l.heading,
                    l.link_chars,
                    l.text.chars().take(160).collect::<String>()
                );
            }
            for m in &scan.marks {
                println!(
                    "MARK {:?} {}-{} {:?} {:?}",
                    m.kind,
                    m.line,
                    m.end_line,
                    m.text.chars().take(80).collect::<String>(),
                    m.attr
                );
            }
        }
        let info: serde_json::Value =
            std::fs::read_to_string(pages.join(format!("{id}.meta.json")))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or_default();
        let url = info
            .get("url")
            .and_then(|u| u.as_str())
            .and_then(|u| url::Url::parse(u).ok());
        let content_type = info
            .get("charset")
            .and_then(|c| c.as_str())
            .map(|c| format!("text/html; charset={c}"));
        let page = RawPage {
            bytes,
            url,
            content_type,
            ..Default::default()
        };
        let pred = match extractor.process(&page) {
            Ok(Outcome::Article(a)) => serde_json::json!({
                "title": a.title, "published": a.published_at, "author": a.author,
                "source": a.source, "text": a.text, "editor": a.editor, "from": a.published_from,
                "column": a.column, "site_name": a.site_name, "site_id_code": a.site_id_code,
                "script": a.script, "canonical": a.canonical_url,
            }),
            other => {
                let decoded = gazette::decode::decode(&page.bytes, page.content_type.as_deref());
                let doc = scraper::Html::parse_document(&decoded.text);
                let base = meta::base_url(&doc, page.address());
                let m = meta::read(
                    &doc,
                    base.as_ref(),
                    &extractor.rules().meta,
                    extractor.options(),
                );
                let why = match other {
                    Ok(Outcome::NotArticle(n)) => format!("{:?}: {}", n.kind, n.reason),
                    Err(e) => e.to_string(),
                    _ => String::new(),
                };
                serde_json::json!({
                    "title": m.title, "published": m.published.as_ref().map(|p| p.value.clone()),
                    "author": m.author, "source": m.source, "text": "", "editor": m.editor,
                    "from": m.published.as_ref().map(|p| p.from.clone()), "not_article": why,
                    "column": m.column, "site_name": m.site_name, "site_id_code": m.site_id_code,
                })
            }
        };
        std::fs::write(
            Path::new(out).join(format!("{id}.json")),
            serde_json::to_string_pretty(&pred)?,
        )?;
    }
    Ok(())
}
