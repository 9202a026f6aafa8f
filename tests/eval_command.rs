//! `gazette eval` on a tiny dataset of invented pages (tests/fixtures/eval/mini: a UTF-8
//! notice, a GBK page whose charset comes only from its meta file, a gambling page
//! labelled spam): predictions, timing.json, the JSON report and the floors exit code.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn mini() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/mini")
}

fn gazette_eval(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gazette"))
        .arg("eval")
        .args(args)
        .output()
        .expect("gazette runs")
}

#[test]
fn eval_writes_predictions_timing_and_json_scores() {
    let pred = tempfile::tempdir().unwrap();
    let dataset = mini();
    let out = gazette_eval(&[
        dataset.to_str().unwrap(),
        "--pred-dir",
        pred.path().to_str().unwrap(),
        "--json",
        "--jobs",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scores: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(scores["dataset"], "mini");
    assert_eq!(scores["pages_total"], 3);
    assert_eq!(scores["body"]["n"], 2);
    assert_eq!(scores["spam"]["n"], 1);
    assert_eq!(scores["time"]["n"], 1);
    assert_eq!(scores["fffd"], 0, "no U+FFFD in the GBK page's fields");
    assert_eq!(scores["timing"]["docs"], 3);

    for id in ["forest-fire-utf8", "village-cleanup-gbk", "casino-parasite"] {
        let text = std::fs::read_to_string(pred.path().join(format!("{id}.json"))).unwrap();
        let record: Value = serde_json::from_str(&text).unwrap();
        for key in ["title", "published", "author", "source", "text"] {
            assert!(record.get(key).is_some(), "{id}: prediction lacks {key}");
        }
    }
    // The GBK page decodes through its transport charset (meta.json), not as mojibake.
    let gbk: Value = serde_json::from_str(
        &std::fs::read_to_string(pred.path().join("village-cleanup-gbk.json")).unwrap(),
    )
    .unwrap();
    assert!(
        gbk["text"].as_str().unwrap_or("").contains("白河镇"),
        "{gbk}"
    );

    let timing: Value =
        serde_json::from_str(&std::fs::read_to_string(pred.path().join("timing.json")).unwrap())
            .unwrap();
    for key in ["docs", "seconds", "docs_per_s", "MB_per_s"] {
        assert!(timing[key].is_number(), "timing.json lacks {key}");
    }
}

#[test]
fn eval_prints_the_table_and_worst_pages() {
    let pred = tempfile::tempdir().unwrap();
    let out = gazette_eval(&[
        mini().to_str().unwrap(),
        "--pred-dir",
        pred.path().to_str().unwrap(),
        "--worst",
        "3",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("| dataset | P | R | F1 | F1 med |"),
        "{table}"
    );
    assert!(table.contains("| mini |"), "{table}");
    assert!(table.contains("worst pages by body F1"), "{table}");
}

#[test]
fn eval_floors_set_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("pred");
    let reachable = dir.path().join("ok.toml");
    std::fs::write(&reachable, "[mini]\nbody_f1_mean = 0.0\nfffd_max = 0\n").unwrap();
    let out = gazette_eval(&[
        mini().to_str().unwrap(),
        "--pred-dir",
        pred.to_str().unwrap(),
        "--floors",
        reachable.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let unreachable = dir.path().join("high.toml");
    std::fs::write(&unreachable, "[mini]\nbody_f1_mean = 1.5\n").unwrap();
    let out = gazette_eval(&[
        mini().to_str().unwrap(),
        "--pred-dir",
        pred.to_str().unwrap(),
        "--floors",
        unreachable.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("body_f1_mean"));
}

#[test]
fn eval_explains_a_folder_that_is_not_a_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let out = gazette_eval(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("truth/"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
