//! Dev tool: run the whole pipeline over a dataset (`<dir>/pages/<id>.html` plus
//! `<id>.meta.json`) and write predictions `<out>/<id>.json` for `shared/eval/score.py`.
//!
//! `cargo run --release --example score_corpus -- <dataset> <out> [--predecode] [--strip-meta]`
//!
//! `--predecode` decodes with the charset named in meta.json (for measuring the content
//! stage before the decode stage is finished); `--strip-meta` drops 来源/发布时间-style
//! paragraphs the way `meta::complete` will (an approximation while that stage is a stub).

use std::path::Path;
use std::time::Instant;

use gazette::decode::{Decoded, EncodingSource};
use gazette::{Extractor, Outcome, RawPage};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let positional: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [dataset, out] = positional[..] else {
        anyhow::bail!("usage: score_corpus <dataset> <out> [--predecode] [--strip-meta]");
    };
    let predecode = args.iter().any(|a| a == "--predecode");
    let strip_meta = args.iter().any(|a| a == "--strip-meta");
    let only: Option<&String> = args
        .iter()
        .find_map(|a| a.strip_prefix("--only=").map(|_| a));
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let extractor = Extractor::builtin()?;
    std::fs::create_dir_all(out)?;
    let pages = Path::new(dataset).join("pages");
    let mut ids: Vec<String> = std::fs::read_dir(&pages)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".html").map(str::to_string)
        })
        .collect();
    ids.sort();
    let meta_line = regex::Regex::new(
        r"^[\[【（(]?\s*(来源|來源|发布时间|發布時間|发布日期|时间|日期|责任编辑|編輯|编辑|作者|浏览次数|点击数|字号|打印)\s*[：:]",
    )?;
    let started = Instant::now();
    let mut bytes_total = 0usize;
    for id in &ids {
        if let Some(o) = only {
            if !id.contains(o.trim_start_matches("--only=")) {
                continue;
            }
        }
        let bytes = std::fs::read(pages.join(format!("{id}.html")))?;
        bytes_total += bytes.len();
        let meta: serde_json::Value = std::fs::read(pages.join(format!("{id}.meta.json")))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        let url = meta["url"].as_str().and_then(|u| url::Url::parse(u).ok());
        let charset = meta["charset"].as_str().map(str::to_string);
        let page = RawPage {
            bytes,
            url,
            content_type: charset.as_ref().map(|c| format!("text/html; charset={c}")),
            ..RawPage::default()
        };
        if args.iter().any(|a| a == "--raw") {
            // Content stage alone (after spam and clean), blocks with their kinds.
            let text = String::from_utf8_lossy(&page.bytes).into_owned();
            let rules = extractor.rules();
            let mut doc = scraper::Html::parse_document(&text);
            let _ = gazette::extract::spam::remove_spam(&mut doc, &text, None, &rules.spam);
            gazette::extract::clean::clean(&mut doc, &rules.clean);
            match gazette::extract::content::extract_body(&doc, page.url.as_ref(), &rules.content) {
                gazette::extract::content::BodyOutcome::Body(b) => {
                    for block in &b.blocks {
                        println!("{:?}\t{}", block.kind, block.text);
                    }
                    println!("images {:?}\nattachments {:?}", b.images, b.attachments);
                }
                gazette::extract::content::BodyOutcome::NotArticle { kind, reason } => {
                    println!("{kind:?} {reason}")
                }
            }
            continue;
        }
        let outcome = if predecode {
            let enc = charset
                .as_deref()
                .and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes()))
                .unwrap_or(encoding_rs::UTF_8);
            let enc = if enc == encoding_rs::GBK {
                encoding_rs::GB18030
            } else {
                enc
            };
            let (text, _, lossy) = enc.decode(&page.bytes);
            let decoded = Decoded {
                text: text.into_owned(),
                encoding: enc,
                from: EncodingSource::HttpHeader,
                corrected: false,
                lossy,
            };
            Ok(extractor.process_decoded(&page, &decoded))
        } else {
            extractor.process(&page)
        };
        let pred = match outcome {
            Ok(Outcome::Article(a)) => {
                let mut text = a.text.clone();
                if strip_meta {
                    text = text
                        .split("\n\n")
                        .filter(|p| !meta_line.is_match(p.trim()))
                        .collect::<Vec<_>>()
                        .join("\n\n");
                }
                serde_json::json!({"title": a.title, "published": a.published_at,
                    "author": a.author, "source": a.source, "text": text})
            }
            Ok(Outcome::NotArticle(n)) => {
                eprintln!("{id}: not an article: {:?} {}", n.kind, n.reason);
                serde_json::json!({"not_article": format!("{:?}", n.kind)})
            }
            Err(e) => {
                eprintln!("{id}: error: {e}");
                serde_json::json!({})
            }
        };
        std::fs::write(
            Path::new(out).join(format!("{id}.json")),
            serde_json::to_string_pretty(&pred)?,
        )?;
    }
    let secs = started.elapsed().as_secs_f64();
    let timing = serde_json::json!({"docs": ids.len(), "seconds": secs,
        "docs_per_s": ids.len() as f64 / secs, "MB_per_s": bytes_total as f64 / 1e6 / secs});
    std::fs::write(Path::new(out).join("timing.json"), timing.to_string())?;
    Ok(())
}
