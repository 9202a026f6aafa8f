//! The quality gate: extraction scores on the shared datasets must not drop below the
//! committed floors in `quality/floors.toml`. Runs the extractor in-process (in release
//! in CI: `cargo test --release`). Skips a dataset, with a message, when `../shared` or
//! the dataset is absent. Raising a floor is a normal commit; lowering one needs a
//! reason in the commit message (docs/quality.md).

mod eval_support;

use std::path::Path;

use eval_support::shared_dir;
use gazette::eval::{self, Dataset, DatasetFloors, Floors};

fn floors() -> Floors {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("quality")
        .join("floors.toml");
    Floors::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs one dataset and fails listing every score below its floor.
fn gate(name: &str) {
    let floors = floors();
    let section: &DatasetFloors = floors
        .datasets
        .get(name)
        .unwrap_or_else(|| panic!("quality/floors.toml has no [{name}] section"));
    let Some(shared) = shared_dir() else {
        println!("SKIP quality gate {name}: no shared folder (../shared or /work/shared)");
        return;
    };
    let relative = section.path.as_deref().unwrap_or(name);
    let Ok(dataset) = Dataset::open(shared.join(relative)) else {
        println!(
            "SKIP quality gate {name}: {} is not there",
            shared.join(relative).display()
        );
        return;
    };
    let extractor = gazette::Extractor::builtin().expect("built-in rules compile");
    let run = eval::run_dataset(&extractor, &dataset, eval::default_jobs()).unwrap();
    let scores = run.score(1).unwrap();
    println!("{}", eval::render_report(&scores, 10));
    for (metric, floor) in section.floors() {
        println!(
            "  {metric:<15} floor {floor:.3}  measured {}",
            scores
                .metric(metric)
                .map_or("-".into(), |v| format!("{v:.4}"))
        );
    }
    let failures = run.failures();
    assert!(
        failures.is_empty(),
        "{name}: extraction failed on pages: {failures:?}"
    );
    let violations = section.check(&scores);
    assert!(
        violations.is_empty(),
        "quality gate failed for {name}:\n{}",
        violations
            .iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn floors_file_is_valid() {
    let floors = floors();
    for name in ["gov", "zh-news", "aeb"] {
        let section = floors
            .datasets
            .get(name)
            .unwrap_or_else(|| panic!("no [{name}] section"));
        assert!(section.path.is_some(), "[{name}] needs a path");
        assert_eq!(section.fffd_max, Some(0), "[{name}]: fffd_max must stay 0");
        for (metric, floor) in section.floors() {
            assert!(
                (0.0..=1.0).contains(&floor),
                "[{name}] {metric} = {floor} is not a share"
            );
        }
    }
}

#[test]
fn gate_gov() {
    gate("gov");
}

#[test]
fn gate_zh_news() {
    gate("zh-news");
}

#[test]
fn gate_aeb() {
    gate("aeb");
}
