//! Golden-file tests of whole-pipeline output.
//!
//! Each folder under `tests/fixtures/golden/<case>/` holds `page.html` (bytes in the
//! page's own encoding), `input.json` (`url`, `content_type`) and `expected.json` (the
//! outcome minus the volatile `fetched_at` / `extractor_version`). Run with
//! `GAZETTE_BLESS=1` to rewrite the expected files after a deliberate change, then
//! review the diff. All pages are invented for these tests (the Ya'an one reconstructs
//! the project's seed page from its text).

use std::path::{Path, PathBuf};

use gazette::{Extractor, Outcome, RawPage};
use serde_json::Value;

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/golden")
}

fn load_page(case: &Path) -> RawPage {
    let bytes = std::fs::read(case.join("page.html")).expect("page.html");
    let input: Value =
        serde_json::from_slice(&std::fs::read(case.join("input.json")).expect("input.json"))
            .expect("input.json is JSON");
    RawPage {
        bytes,
        url: input["url"].as_str().and_then(|u| url::Url::parse(u).ok()),
        content_type: input["content_type"].as_str().map(str::to_string),
        ..RawPage::default()
    }
}

fn run(case: &Path) -> Outcome {
    let extractor = Extractor::builtin().expect("built-in rules compile");
    extractor
        .process(&load_page(case))
        .expect("page is processable")
}

/// The outcome as JSON, without the fields that change from run to run.
fn stable_json(outcome: &Outcome) -> Value {
    let mut value = serde_json::to_value(outcome).expect("outcome serializes");
    if let Some(obj) = value.as_object_mut() {
        obj.remove("fetched_at");
        obj.remove("extractor_version");
    }
    value
}

#[test]
fn golden_outputs_match() {
    let bless = std::env::var("GAZETTE_BLESS").is_ok_and(|v| v == "1");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir())
        .expect("golden fixtures folder")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("page.html").exists())
        .collect();
    cases.sort();
    assert!(!cases.is_empty(), "no golden cases found");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case.file_name().unwrap_or_default().to_string_lossy();
        let actual = stable_json(&run(case));
        let expected_path = case.join("expected.json");
        if bless {
            let text = serde_json::to_string_pretty(&actual).expect("json") + "\n";
            std::fs::write(&expected_path, text).expect("write expected.json");
            continue;
        }
        let Ok(expected_text) = std::fs::read_to_string(&expected_path) else {
            failures.push(format!(
                "{name}: no expected.json (run with GAZETTE_BLESS=1)"
            ));
            continue;
        };
        let expected: Value = serde_json::from_str(&expected_text).expect("expected.json");
        if expected != actual {
            let fields: Vec<String> = match (expected.as_object(), actual.as_object()) {
                (Some(e), Some(a)) => e
                    .keys()
                    .chain(a.keys())
                    .filter(|k| e.get(*k) != a.get(*k))
                    .cloned()
                    .collect(),
                _ => vec!["<whole value>".into()],
            };
            failures.push(format!(
                "{name}: differs in {fields:?}\n  actual: {}",
                serde_json::to_string(&actual).unwrap_or_default()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (GAZETTE_BLESS=1 rewrites after review):\n{}",
        failures.join("\n")
    );
}

fn article(case: &str) -> gazette::Article {
    match run(&cases_dir().join(case)) {
        Outcome::Article(a) => *a,
        Outcome::NotArticle(n) => panic!("{case}: expected an article, got {n:?}"),
    }
}

#[test]
fn list_page_is_not_an_article() {
    match run(&cases_dir().join("list-page")) {
        Outcome::NotArticle(n) => assert_eq!(n.kind, gazette::NotArticleKind::ListPage),
        Outcome::Article(a) => panic!("a list page became an article: {:?}", a.text),
    }
}

#[test]
fn table_layout_page_keeps_only_the_article() {
    let a = article("table-layout-old");
    assert!(a.text.starts_with("今年上半年，我镇"), "{}", a.text);
    assert!(
        a.text.ends_with("确保全面完成全年各项目标任务。"),
        "{}",
        a.text
    );
    assert_eq!(
        a.text.matches("\n\n").count(),
        4,
        "one paragraph per <br> line"
    );
    for noise in ["最新动态", "县政府召开常务会议", "版权所有", "政务公开"] {
        assert!(!a.text.contains(noise), "noise {noise:?} in {}", a.text);
    }
}

#[test]
fn images_attachments_and_structure() {
    let a = article("utf8-images-attachments");
    assert!(
        a.text.starts_with("各县（区）农业农村局，各有关单位："),
        "{}",
        a.text
    );
    assert!(a.text.contains("龙头企业实行动态管理，每两年监测一次；"));
    assert!(a.text.contains("序号 | 企业名称 | 所在县区"), "{}", a.text);
    assert!(
        a.text.contains("2024年度龙头企业授牌仪式"),
        "caption kept as text"
    );
    assert!(!a.text.contains("分享到"));
    let srcs: Vec<&str> = a.images.iter().map(|i| i.src.as_str()).collect();
    assert_eq!(
        srcs,
        [
            "https://nyj.jiangchuan.gov.cn/uploads/2024/03/award.png",
            "https://nyj.jiangchuan.gov.cn/tzgg/202403/images/chart.jpg"
        ]
    );
    assert_eq!(
        a.images[0].caption.as_deref(),
        Some("2024年度龙头企业授牌仪式")
    );
    let kinds: Vec<&str> = a.attachments.iter().map(|x| x.kind.as_str()).collect();
    assert_eq!(kinds, ["xlsx", "pdf"]);
    assert_eq!(
        a.attachments[0].url,
        "https://nyj.jiangchuan.gov.cn/uploads/2024/03/P020240318_list.xlsx"
    );
    assert_eq!(
        a.attachments[0].title.as_deref(),
        Some("1. 2024年度市级农业龙头企业名单.xlsx")
    );
}

#[test]
fn trs_gbk_article() {
    let a = article("trs-gbk-article");
    assert!(a.text.starts_with("10月9日上午，青石县召开"), "{}", a.text);
    assert!(
        a.text.contains("\n\n一、压实防火责任\n\n"),
        "in-body headings kept"
    );
    assert!(a.text.ends_with("（县应急管理局 陈晓东）"), "{}", a.text);
    assert!(a.text.contains("会议现场（宋晓林 摄）"));
    assert_eq!(a.images.len(), 1);
    assert_eq!(
        a.images[0].src,
        "http://www.qingshi.gov.cn/xwzx/images/2023-10/W020231009_hy.jpg"
    );
    assert_eq!(
        a.images[0].caption.as_deref(),
        Some("会议现场（宋晓林 摄）")
    );
    for noise in ["相关新闻", "分享到", "责任编辑", "主办单位", "您当前的位置"]
    {
        assert!(!a.text.contains(noise), "noise {noise:?} in {}", a.text);
    }
}

/// The project's seed page, rebuilt: a Ya'an government TRS page in traditional script,
/// GBK bytes labelled gb2312, with a gambling line injected after `</html>`.
///
/// Owners: decode (gb2312 label → GBK/GB18030 decoding, no '?'), spam (the line after
/// `</html>`), clean (nav/footer), content (body span, headings), meta (title, date,
/// source/author from the byline, removal of the byline and 來源 lines).
#[test]
fn seed_page_yaan() {
    let a = article("yaan-seed-gb2312");
    let mut problems: Vec<String> = Vec::new();
    let mut check = |ok: bool, owner: &str, what: &str| {
        if !ok {
            problems.push(format!("[{owner}] {what}"));
        }
    };
    let fields = [&a.title, &a.source, &a.author]
        .into_iter()
        .flatten()
        .chain(std::iter::once(&a.text));
    let all: String = fields.cloned().collect::<Vec<_>>().join("\n");
    check(!all.contains('?'), "decode", "no '?' from a wrong charset");
    check(!all.contains('\u{fffd}'), "decode", "no U+FFFD");
    check(
        a.title.as_deref()
            == Some("創新扶貧機制 筑造脫貧坦途——我市扶貧工作形成全維度、多層次、主體化格局"),
        "meta",
        &format!("title, got {:?}", a.title),
    );
    check(
        a.published_at
            .as_deref()
            .is_some_and(|d| d.starts_with("2019-10-23")),
        "meta",
        &format!("date 2019-10-23, got {:?}", a.published_at),
    );
    check(
        a.source.as_deref() == Some("雅安日報/北緯網"),
        "meta",
        &format!("source from the byline, got {:?}", a.source),
    );
    check(
        a.author.as_deref() == Some("張雨蝶"),
        "meta",
        &format!("author from the byline, got {:?}", a.author),
    );
    check(
        a.text
            .starts_with("16日下午,雨過天晴后的名山區解放鄉格外清新。"),
        "content",
        "body starts at 16日下午",
    );
    check(
        a.text.ends_with("還根據特殊情況給予特殊幫扶。"),
        "content+meta",
        &format!(
            "body ends at 特殊幫扶。 (byline removed by meta), ends with {:?}",
            a.text
                .chars()
                .rev()
                .take(30)
                .collect::<String>()
                .chars()
                .rev()
                .collect::<String>()
        ),
    );
    for heading in [
        "高位部署·資源整合",
        "充分發揮政策牽引效應",
        "政府服務·社會協同",
        "構建扶貧主體互動機制",
        "戰略銜接·風險防控",
        "促進扶貧產業加速發展",
    ] {
        check(
            a.text.contains(&format!("\n\n{heading}\n\n")),
            "content+decode",
            &format!("heading {heading} as its own paragraph"),
        );
    }
    for noise in [
        "默認搜索",
        "政務信息",
        "政策文件",
        "辦事服務",
        "視頻",
        "來源",
        "收藏",
        "打印",
        "主辦",
        "承辦",
        "政府網站標識碼",
        "川公網安備",
        "蜀ICP備",
        "設計開發",
        "政務公開導引",
        "便民服務窗口",
        "當前位置",
    ] {
        check(
            !a.text.contains(noise),
            "clean/content",
            &format!("noise {noise:?} in body"),
        );
    }
    check(
        !all.contains("快3") && !all.contains("计划在线"),
        "spam",
        "the gambling line after </html>",
    );
    check(
        a.spam.iter().any(|s| s.text.contains("安徽快3计划在线")),
        "spam",
        "the gambling line is reported in `spam`",
    );
    check(
        a.text.lines().all(|l| l == l.trim()),
        "content",
        "no untrimmed lines",
    );
    assert!(
        problems.is_empty(),
        "seed page problems:\n{}",
        problems.join("\n")
    );
}
