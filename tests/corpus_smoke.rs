//! Every real page in ../shared (corpus/gov pages and list pages, corpus/zh-news,
//! eval/aeb) goes through the extractor without a panic, without an error, and without
//! U+FFFD in any output field; then score.py's table is printed for a human to read.
//! Skips with a message when ../shared is absent.

mod eval_support;

use std::path::{Path, PathBuf};

use eval_support::*;
use gazette::eval::{self, PageResult};
use gazette::RawPage;
use serde_json::Value;

/// All `*.html` files of a folder with their optional `.meta.json`, as (id, page).
fn pages_in(dir: &Path) -> Vec<(String, RawPage)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "html"))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|html| {
            let id = html
                .file_stem()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let meta = html.with_extension("meta.json");
            let page = eval::read_raw_page(&html, meta.is_file().then_some(meta.as_path()))
                .unwrap_or_else(|e| panic!("{e}"));
            (id, page)
        })
        .collect()
}

/// Paths (JSON pointer style) of string fields that contain U+FFFD.
fn replacement_chars(value: &Value, path: String, found: &mut Vec<String>) {
    match value {
        Value::String(s) if s.contains('\u{FFFD}') => found.push(path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                replacement_chars(item, format!("{path}/{i}"), found);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                replacement_chars(v, format!("{path}/{k}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_shared_page_extracts_cleanly() {
    let Some(shared) = shared_dir() else {
        println!("SKIP corpus smoke: no shared folder (../shared or /work/shared)");
        return;
    };
    let extractor = gazette::Extractor::builtin().expect("built-in rules compile");
    let script = score_py();
    let mut problems = Vec::new();
    let folders = [
        ("gov", "corpus/gov/pages", Some("corpus/gov")),
        ("gov-list", "corpus/gov/list", None),
        ("zh-news", "corpus/zh-news/pages", Some("corpus/zh-news")),
        ("aeb", "eval/aeb/pages", Some("eval/aeb")),
    ];
    for (name, pages_dir, dataset) in folders {
        let pages = pages_in(&shared.join(pages_dir));
        if pages.is_empty() {
            println!(
                "SKIP {name}: no pages in {}",
                shared.join(pages_dir).display()
            );
            continue;
        }
        let (runs, timing) = eval::run_pages(&extractor, pages, eval::default_jobs());
        println!(
            "{name}: {} pages in {:.2} s ({:.1} docs/s, {:.2} MB/s)",
            timing.docs, timing.seconds, timing.docs_per_s, timing.mb_per_s
        );
        for run in &runs {
            match &run.result {
                PageResult::Panic(m) => problems.push(format!("{name}/{}: PANIC {m}", run.id)),
                PageResult::Error(m) => problems.push(format!("{name}/{}: error {m}", run.id)),
                PageResult::Outcome(outcome) => {
                    let value = serde_json::to_value(outcome).unwrap_or(Value::Null);
                    let mut found = Vec::new();
                    replacement_chars(&value, String::new(), &mut found);
                    if !found.is_empty() {
                        problems.push(format!("{name}/{}: U+FFFD in {}", run.id, found.join(", ")));
                    }
                }
            }
        }
        if let (Some(script), Some(dataset)) = (&script, dataset) {
            let pred = tempfile::tempdir().unwrap();
            let ds = eval::Dataset::open(shared.join(dataset)).unwrap();
            let run = eval::EvalRun {
                dataset: ds,
                pages: runs,
                timing,
            };
            run.write_predictions(pred.path()).unwrap();
            print_score_py_table(script, &shared.join(dataset), pred.path());
        }
    }
    assert!(
        problems.is_empty(),
        "problems on real pages:\n{}",
        problems.join("\n")
    );
}
