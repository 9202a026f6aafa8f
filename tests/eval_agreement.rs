//! The Rust scorer (`gazette eval`) must give the same numbers as `shared/eval/score.py`
//! on the same predictions: on synthetic truth / prediction pairs chosen to exercise the
//! tokenizer, the normalisations and the date patterns, and on the extractor's own
//! predictions for the real datasets. Skips with a message without python3 or ../shared.

mod eval_support;

use std::path::Path;

use eval_support::*;
use gazette::eval::{self, Dataset};
use serde_json::{json, Value};

/// (id, truth, prediction): `None` = no prediction file; a string = raw file bytes.
fn synthetic_cases() -> Vec<(&'static str, Value, Option<Value>)> {
    let t = |title: &str, published: &str, author: &str, source: &str, text: &str| json!({"title": title, "published": published, "author": author, "source": source, "text": text});
    vec![
        (
            "cjk-latin",
            t(
                "市政府召开第12次常务会议",
                "2021-01-29T13:18",
                "王建宏 张文攀",
                "新华网",
                "会议指出，２０２１年要抓好GDP增长。\n第二段：Hello World 2024!",
            ),
            Some(
                json!({"title": " 市政府召开 第12次常务会议\n", "published": "发布时间：2021年1月29日 13:18",
                        "author": "王建宏、张文攀", "source": "来源：新华网",
                        "text": "会议指出，2021年要抓好gdp增长。第二段 hello world"}),
            ),
        ),
        (
            "nfkc-compat",
            t(
                "ＡＢＣ新闻　发布",
                "2020/3/1",
                "John O'Neil",
                "Ｘｉｎｈｕａ",
                "ﬁnance ① ㍿ ｶﾀｶﾅ Ⅻ x² café naïve Straße ΟΔΟΣ",
            ),
            Some(
                json!({"title": "abc新闻发布", "published": "２０２０年３月１日",
                        "author": "JOHN ONEIL", "source": "xinhua",
                        "text": "finance 1 株式会社 カタカナ xii x2 cafe\u{301} naïve STRASSE οδος extra words"}),
            ),
        ),
        (
            "hangul-kana",
            t(
                "한국어 기사",
                "2019.10.23 09:30",
                "",
                "연합뉴스",
                "서울시는 23일 발표했다. ひらがな と カタカナ。",
            ),
            Some(
                json!({"title": "한국어기사", "published": "2019-10-23 9:30", "author": null,
                        "source": "연합뉴스 ", "text": "서울시는 23일 발표했다"}),
            ),
        ),
        (
            "date-variants",
            t(
                "Title",
                "2018-07-05T08:05",
                "A. B. Smith",
                "Reuters",
                "word one two three",
            ),
            Some(
                json!({"title": "title", "published": "第12期 2018 - 07 - 05 8：05",
                        "author": "a b smith", "source": "Reuters staff", "text": "word one two"}),
            ),
        ),
        (
            "date-wrong-day",
            t("标题", "2018-07-05", "记者 李四", "人民日报", "一二三四五"),
            Some(
                json!({"title": "标题 ", "published": "2018-07-06 10:00", "author": "李四",
                        "source": "人民日报社", "text": "一二三四五六七八"}),
            ),
        ),
        (
            "date-time-missing",
            t("Zeit", "2017年12月9日 14:03", "", "", "Die Straße ist naß."),
            Some(
                json!({"title": "ZEIT", "published": "2017年12月09日", "text": "die strasse ist nass"}),
            ),
        ),
        (
            "date-none",
            t("x", "2001-02-03", "", "", "text here"),
            Some(json!({"title": "y", "published": "Feb 3, 2001", "text": "text"})),
        ),
        (
            "mojibake",
            t("中文", "", "", "", "中文内容"),
            Some(json!({"title": "ä¸\u{AD}æ–‡", "text": "Ã©Ã©Ã© ä¸\u{AD}æ–‡ 中文内容"})),
        ),
        (
            "fffd",
            t("标题", "", "", "", "正文内容"),
            Some(json!({"title": "标题", "source": "来\u{FFFD}源", "text": "正文内容"})),
        ),
        (
            "missing",
            t("标题", "2020-01-01", "张三", "新华社", "正文"),
            None,
        ),
        (
            "whitespace-only",
            t("t", "", "", "", "some text"),
            Some(json!({"title": "t", "text": " \u{3000}\u{1C}\n"})),
        ),
        (
            "invalid-json",
            t("t", "", "", "", "some text"),
            Some(json!("{not json")),
        ),
        (
            "not-an-object",
            t("t", "", "", "", "some text"),
            Some(json!(["a list"])),
        ),
        (
            "non-string-fields",
            t("42", "2020-01-01", "", "", "numbers 42"),
            Some(json!({"title": 42, "published": 20200101, "text": "numbers 42"})),
        ),
        (
            "spam",
            json!({"title": null, "published": null, "author": null, "source": null, "text": "", "spam": true}),
            Some(json!({"title": null, "text": "", "spam": true, "not_article": "spam_page"})),
        ),
        (
            "empty-truth-text",
            json!({"title": "Only a title", "published": null, "author": null, "source": null, "text": "。，！"}),
            Some(json!({"title": "only a title", "text": "anything"})),
        ),
        (
            "repeats",
            t("r", "", "", "", "the the the cat sat on the mat 的 的 的"),
            Some(json!({"title": "r", "text": "the cat the cat sat sat 的"})),
        ),
        (
            "marks-and-scripts",
            t(
                "Ελληνικά",
                "",
                "Łukasz Żółć",
                "",
                "नमस्ते दुनिया مرحبا ١٢٣ Привет мир",
            ),
            Some(
                json!({"title": "ελληνικα", "author": "łukasz żółć", "text": "नमस्ते مرحبا 123 привет"}),
            ),
        ),
    ]
}

fn write_synthetic(root: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let truth_root = root.join("dataset");
    let pred = root.join("pred");
    std::fs::create_dir_all(truth_root.join("truth")).unwrap();
    std::fs::create_dir_all(truth_root.join("pages")).unwrap();
    std::fs::create_dir_all(&pred).unwrap();
    for (id, truth, prediction) in synthetic_cases() {
        std::fs::write(
            truth_root.join("truth").join(format!("{id}.json")),
            serde_json::to_string(&truth).unwrap(),
        )
        .unwrap();
        let path = pred.join(format!("{id}.json"));
        match prediction {
            None => {}
            Some(Value::String(raw)) => std::fs::write(path, raw).unwrap(),
            Some(value) => std::fs::write(path, serde_json::to_string(&value).unwrap()).unwrap(),
        }
    }
    // Bytes that are not UTF-8: score.py treats them as no prediction.
    std::fs::write(
        truth_root.join("truth").join("bad-utf8.json"),
        r#"{"title": "t", "published": null, "author": null, "source": null, "text": "x y"}"#,
    )
    .unwrap();
    std::fs::write(pred.join("bad-utf8.json"), b"{\"text\": \"\xff\xfe\"}").unwrap();
    (truth_root, pred)
}

#[test]
fn scorer_agrees_with_score_py_on_synthetic_pairs() {
    let Some(script) = score_py() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (truth_root, pred) = write_synthetic(dir.path());
    let dataset = Dataset::open(&truth_root).unwrap();
    for ngram in [1, 4] {
        let python = run_score_py(&script, &truth_root, &pred, ngram);
        let rust = eval::score_dir(&dataset, &pred, ngram).unwrap().to_json();
        let diffs = differences(&python, &rust);
        assert!(
            diffs.is_empty(),
            "ngram {ngram}: gazette's scorer disagrees with score.py:\n{}",
            diffs.join("\n")
        );
        println!(
            "synthetic ngram={ngram}: {} pages agree (body F1 {}, title {}, date {}, time {}, author {}, source {})",
            python["pages_total"],
            python["body"]["F1"],
            python["title"]["acc"],
            python["date"]["acc"],
            python["time"]["acc"],
            python["author"]["acc"],
            python["source"]["acc"]
        );
    }
}

#[test]
fn scorer_agrees_with_score_py_on_extractor_predictions() {
    let Some(script) = score_py() else { return };
    let Some(shared) = shared_dir() else { return };
    let extractor = gazette::Extractor::builtin().expect("built-in rules compile");
    for (name, relative) in DATASETS {
        let root = shared.join(relative);
        let Ok(dataset) = Dataset::open(&root) else {
            println!("SKIP {name}: {} is not there", root.display());
            continue;
        };
        let run = eval::run_dataset(&extractor, &dataset, eval::default_jobs()).unwrap();
        let pred = tempfile::tempdir().unwrap();
        run.write_predictions(pred.path()).unwrap();
        let python = run_score_py(&script, &root, pred.path(), 1);
        let from_disk = eval::score_dir(&dataset, pred.path(), 1).unwrap().to_json();
        let in_memory = run.score(1).unwrap().to_json();
        for (label, rust) in [("from disk", &from_disk), ("in memory", &in_memory)] {
            let diffs = differences(&python, rust);
            assert!(
                diffs.is_empty(),
                "{name} ({label}): gazette's scorer disagrees with score.py:\n{}",
                diffs.join("\n")
            );
        }
        println!(
            "{name}: {} pages agree with score.py (body F1 {})",
            python["pages_total"], python["body"]["F1"]
        );
    }
}
