//! Helpers shared by the tests that read `../shared` (real pages with truth) and run
//! `shared/eval/score.py`. Each test skips with a printed message when these are absent.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// `CARGO_MANIFEST_DIR/../shared` (CI clones the repository beside it), else `/work/shared`.
pub fn shared_dir() -> Option<PathBuf> {
    gazette::eval::find_shared_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// The datasets the gate covers, as (name, path relative to the shared folder).
pub const DATASETS: [(&str, &str); 3] = [
    ("gov", "corpus/gov"),
    ("zh-news", "corpus/zh-news"),
    ("aeb", "eval/aeb"),
];

pub fn python3() -> Option<&'static str> {
    let ok = Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some("python3")
}

/// `score.py` when both it and python3 are available, printing why not otherwise.
pub fn score_py() -> Option<PathBuf> {
    let Some(shared) = shared_dir() else {
        println!("SKIP: no shared folder (../shared or /work/shared): score.py not available");
        return None;
    };
    let script = shared.join("eval").join("score.py");
    if !script.is_file() {
        println!("SKIP: {} is missing", script.display());
        return None;
    }
    if python3().is_none() {
        println!("SKIP: python3 is not installed");
        return None;
    }
    Some(script)
}

/// Runs `python3 score.py --truth DATASET --pred PREDS --json --ngram N`.
pub fn run_score_py(script: &Path, truth: &Path, pred: &Path, ngram: usize) -> Value {
    let output = Command::new("python3")
        .arg(script)
        .arg("--truth")
        .arg(truth)
        .arg("--pred")
        .arg(pred)
        .arg("--json")
        .arg("--ngram")
        .arg(ngram.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "score.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("score.py prints JSON")
}

/// Runs score.py and prints its table (for humans reading the test log).
pub fn print_score_py_table(script: &Path, truth: &Path, pred: &Path) {
    match Command::new("python3")
        .arg(script)
        .arg("--truth")
        .arg(truth)
        .arg("--pred")
        .arg(pred)
        .output()
    {
        Ok(o) => println!(
            "score.py:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => println!("score.py could not run: {e}"),
    }
}

/// Every difference between score.py's JSON and gazette's [`Scores::to_json`] on the
/// keys score.py has (aggregates within 1e-6, per-page rows within rounding).
pub fn differences(python: &Value, rust: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let close = |a: &Value, b: &Value, tol: f64| match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= tol,
        _ => a == b,
    };
    for key in ["pages_total", "nopred", "fffd", "ngram"] {
        if python[key] != rust[key] {
            diffs.push(format!(
                "{key}: score.py {} vs gazette {}",
                python[key], rust[key]
            ));
        }
    }
    for key in ["n", "P", "R", "F1", "F1_median", "F1_ge_0.9"] {
        let (a, b) = (&python["body"][key], &rust["body"][key]);
        if !close(a, b, 1e-6) {
            diffs.push(format!("body.{key}: score.py {a} vs gazette {b}"));
        }
    }
    for key in gazette::eval::ACCURACY_KEYS {
        for part in ["n", "acc"] {
            let (a, b) = (&python[key][part], &rust[key][part]);
            if !close(a, b, 1e-6) {
                diffs.push(format!("{key}.{part}: score.py {a} vs gazette {b}"));
            }
        }
    }
    let empty = serde_json::Map::new();
    let py_pages = python["pages"].as_object().unwrap_or(&empty);
    let rs_pages = rust["pages"].as_object().unwrap_or(&empty);
    if py_pages.len() != rs_pages.len() {
        diffs.push(format!(
            "page count: score.py {} vs gazette {}",
            py_pages.len(),
            rs_pages.len()
        ));
    }
    for (id, py_row) in py_pages {
        let rs_row = &rust["pages"][id];
        for key in [
            "nopred", "fffd", "p", "r", "f1", "title", "date", "time", "author", "source",
        ] {
            let (a, b) = (&py_row[key], &rs_row[key]);
            // score.py rounds per-page numbers to 4 decimals.
            if !close(a, b, 0.5e-4 + 1e-9) {
                diffs.push(format!("page {id} {key}: score.py {a} vs gazette {b}"));
            }
        }
    }
    diffs
}
