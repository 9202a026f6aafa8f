//! Dev tool: prove that a change to the extractor changes no output.
//!
//! Runs `Extractor::process` over every `*.html` under the given folders (a
//! `<name>.meta.json` beside a page gives its `url` and `content_type`) and writes each
//! page's whole outcome as pretty JSON to `<out>/<folder name>/<relative path>.json`.
//! Take a snapshot before the change and one after, then `diff -r` them:
//!
//! ```text
//! cargo run --release --example snapshot -- /tmp/before ../shared/corpus/gov/pages \
//!     ../shared/corpus/zh-news/pages ../shared/eval/aeb/pages tests/fixtures
//! # ... change the code ...
//! cargo run --release --example snapshot -- /tmp/after  <same folders>
//! diff -r /tmp/before /tmp/after
//! ```

use std::path::{Path, PathBuf};

use gazette::{Extractor, RawPage};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out, folders)) = args.split_first() else {
        anyhow::bail!("usage: snapshot <out> <folder>...");
    };
    let extractor = Extractor::builtin()?;
    let mut written = 0usize;
    for folder in folders {
        let folder = Path::new(folder);
        let label = folder
            .components()
            .rev()
            .take(2)
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("-");
        let mut pages = Vec::new();
        collect_pages(folder, &mut pages)?;
        pages.sort();
        for page_path in pages {
            let relative = page_path.strip_prefix(folder)?;
            let target = Path::new(out)
                .join(&label)
                .join(relative)
                .with_extension("json");
            std::fs::create_dir_all(target.parent().unwrap_or(Path::new(out)))?;
            let page = raw_page(&page_path)?;
            let json = match extractor.process(&page) {
                Ok(outcome) => serde_json::to_string_pretty(&outcome)?,
                Err(e) => format!("error: {e}"),
            };
            std::fs::write(&target, json)?;
            written += 1;
        }
    }
    eprintln!("{written} outcomes written under {out}");
    Ok(())
}

fn collect_pages(dir: &Path, pages: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_pages(&path, pages)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            pages.push(path);
        }
    }
    Ok(())
}

fn raw_page(path: &Path) -> anyhow::Result<RawPage> {
    let meta: serde_json::Value = std::fs::read(path.with_extension("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    Ok(RawPage {
        bytes: std::fs::read(path)?,
        url: meta["url"].as_str().and_then(|u| url::Url::parse(u).ok()),
        content_type: meta["content_type"].as_str().map(str::to_string),
        ..RawPage::default()
    })
}
