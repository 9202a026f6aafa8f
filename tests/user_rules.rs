//! `--rules DIR` on the one-off commands: a user's rule files extend the built-in ones,
//! and a missing folder is a clear error, not a silent run with the built-in rules.

use std::process::Command;

const PAGE: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>县政府召开专题会议</title></head>
<body><div class="article"><h1>县政府召开专题会议</h1>
<p>十一月二十日上午，县政府召开专题会议，研究部署今冬明春农田水利建设工作，要求各乡镇抓紧落实。</p>
<p>会议指出，要统筹资金和人力，确保各项工程在春耕前完工，切实提高灌溉保障能力和防灾减灾水平。</p>
<div class="weixin-qr">扫码关注本站公众号</div>
</div></body></html>"#;

fn fetch(args: &[&str], page: &std::path::Path) -> (Option<i32>, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_gazette"))
        .arg("fetch")
        .args(args)
        .arg(page)
        .output()
        .expect("the gazette binary runs");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn user_clean_rules_extend_the_built_in_ones() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("page.html");
    std::fs::write(&page, PAGE).expect("write page");

    let (code, stdout, _) = fetch(&[], &page);
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("扫码关注本站公众号"),
        "built-in rules keep the widget"
    );

    let rules = dir.path().join("rules");
    std::fs::create_dir(&rules).expect("rules dir");
    std::fs::write(
        rules.join("clean.toml"),
        "[[attrs]]\nname = \"qr_widget\"\npattern = '^weixin-qr$'\n",
    )
    .expect("write rules");
    let (code, stdout, stderr) = fetch(&["--rules", rules.to_str().expect("utf-8")], &page);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stdout.contains("扫码关注本站公众号"), "{stdout}");
    assert!(stdout.contains("农田水利建设"), "{stdout}");
}

#[test]
fn missing_rules_folder_is_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("page.html");
    std::fs::write(&page, PAGE).expect("write page");
    let (code, stdout, stderr) = fetch(&["--rules", "/nonexistent/gazette-rules"], &page);
    assert_ne!(code, Some(0));
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("the rules folder /nonexistent/gazette-rules does not exist"),
        "{stderr}"
    );
}
