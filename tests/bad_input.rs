//! Hostile and broken inputs: each must give a clear error or a result, never a panic,
//! a crash or a hang. Inputs that could overflow the stack run in the real binary (a
//! stack overflow aborts the whole process, which a test thread cannot catch).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gazette::{ExtractError, Extractor, Outcome, RawPage};

/// Generous bound for "it finished" (debug builds are slow); not a timing assertion.
const COMPLETION_BOUND: Duration = Duration::from_secs(600);

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `gazette fetch FILE` and waits (bounded) for it to finish.
fn run_on_file(path: &Path) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gazette"))
        .arg("fetch")
        .arg(path)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start gazette");
    // Drain the pipes on threads so a large output cannot block the child.
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut out, &mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut err, &mut s);
        s
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > COMPLETION_BOUND {
            let _ = child.kill();
            panic!("gazette fetch {} did not finish (hang?)", path.display());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = String::from_utf8_lossy(&out_reader.join().unwrap_or_default()).into_owned();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned();
    Run {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// The process ended by itself with an exit code (not killed by a signal such as the
/// SIGABRT of a stack overflow), and said something.
fn assert_orderly(run: &Run, what: &str) {
    assert!(
        run.code.is_some(),
        "{what}: gazette crashed (killed by a signal; stack overflow?)\nstderr: {}",
        tail(&run.stderr)
    );
    assert!(
        !run.stderr.contains("panicked"),
        "{what}: gazette panicked:\n{}",
        tail(&run.stderr)
    );
    assert!(
        run.code == Some(0) && !run.stdout.trim().is_empty() || !run.stderr.trim().is_empty(),
        "{what}: neither a result nor an error message"
    );
    // 0: an article; 2: this input failed (clearly). 1 would be a fatal error before
    // the input was even looked at (bad rules, say), which tests nothing.
    assert!(
        matches!(run.code, Some(0) | Some(2)),
        "{what}: exit code {:?}\nstderr: {}",
        run.code,
        tail(&run.stderr)
    );
}

fn tail(s: &str) -> &str {
    let start = s.len().saturating_sub(2000);
    let start = (start..s.len())
        .find(|&i| s.is_char_boundary(i))
        .unwrap_or(s.len());
    &s[start..]
}

fn temp_file(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new()
        .suffix(".html")
        .tempfile()
        .expect("temp file");
    file.write_all(bytes).expect("write");
    file.flush().expect("flush");
    file
}

/// Runs the library on `bytes` on its own thread; a panic fails the test with a message.
fn process(bytes: Vec<u8>) -> Result<Outcome, ExtractError> {
    let handle = std::thread::Builder::new()
        .name("extract".into())
        .spawn(move || {
            let extractor = Extractor::builtin().expect("built-in rules");
            extractor.process(&RawPage {
                bytes,
                ..RawPage::default()
            })
        })
        .expect("spawn");
    match handle.join() {
        Ok(result) => result,
        Err(_) => panic!("extraction panicked"),
    }
}

#[test]
fn empty_input_is_a_clear_error() {
    assert!(matches!(process(Vec::new()), Err(ExtractError::EmptyInput)));
    let file = temp_file(b"");
    let run = run_on_file(file.path());
    assert_orderly(&run, "empty file");
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("empty"), "{}", run.stderr);
}

#[test]
fn binary_input_is_a_clear_error() {
    let png =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10\0\0\0\x10\x08\x06\0\0\0\x1f\xf3\xffa".to_vec();
    match process(png.clone()) {
        Err(ExtractError::Binary(kind)) => assert!(kind.contains("PNG"), "{kind}"),
        other => panic!("expected a binary-input error, got {other:?}"),
    }
    let file = temp_file(&png);
    let run = run_on_file(file.path());
    assert_orderly(&run, "PNG file");
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("PNG"), "{}", run.stderr);
}

#[test]
fn invalid_and_random_bytes_never_panic() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = |len: usize| -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect()
    };
    let (gbk, _, _) =
        encoding_rs::GBK.encode("<html><body><p>县政府召开常务会议</p></body></html>");
    let mut truncated_gbk = gbk.into_owned();
    truncated_gbk.truncate(truncated_gbk.len() - 20);
    truncated_gbk.push(0xd6);
    let inputs: Vec<Vec<u8>> = vec![
        vec![0xff],
        vec![0xff; 10_000],
        vec![0; 10_000],
        b"<".to_vec(),
        b"<html".to_vec(),
        b"<!--".to_vec(),
        b"<meta charset=".to_vec(),
        b"<html><head><meta charset=\"utf-16\"></head><body>\xff\xfe\xfd</body></html>".to_vec(),
        b"\xef\xbb\xbf".to_vec(),
        b"\xff\xfe".to_vec(),
        b"\xff\xfe<\0h\0".to_vec(),
        b"<p>\xe4\xb8</p>".to_vec(),
        truncated_gbk,
        b"<title>\0\0\0</title><p>\x01\x02\x03</p>".to_vec(),
        "<script>".repeat(1000).into_bytes(),
        "<table><tr><td>".repeat(2000).into_bytes(),
        random(100),
        random(64 * 1024),
    ];
    for (i, bytes) in inputs.into_iter().enumerate() {
        // Ok or Err are both fine; a panic fails inside `process`.
        let _ = process(bytes).map_err(|e| assert!(!e.to_string().is_empty(), "input {i}"));
    }
}

#[test]
fn twenty_megabyte_page_completes() {
    let mut page = String::with_capacity(21 * 1024 * 1024);
    page.push_str("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>超长页面测试</title></head><body><div class=\"content\">");
    let paragraph = "<p>本段为测试用文字，用于检验超长页面的处理：县政府各部门应当按照职责分工，认真落实各项工作任务，确保取得实效。</p>\n";
    while page.len() < 20 * 1024 * 1024 {
        page.push_str(paragraph);
    }
    page.push_str("</div></body></html>");
    let file = temp_file(page.as_bytes());
    let run = run_on_file(file.path());
    assert_orderly(&run, "20 MB page");
}

#[test]
fn deeply_nested_divs_complete() {
    let depth = 100_000;
    let mut page = String::with_capacity(depth * 12 + 1000);
    page.push_str(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>嵌套测试</title></head><body>",
    );
    for _ in 0..depth {
        page.push_str("<div>");
    }
    page.push_str("<p>最深处的一段文字，用于检验深层嵌套页面不会导致栈溢出。县政府召开常务会议，研究部署有关工作。</p>");
    for _ in 0..depth {
        page.push_str("</div>");
    }
    page.push_str("</body></html>");
    let file = temp_file(page.as_bytes());
    let run = run_on_file(file.path());
    assert_orderly(&run, "100 000 nested divs");
}

#[test]
fn deeply_nested_inline_and_unclosed_tags_complete() {
    // Unclosed formatting elements make html5ever reconstruct them again and again.
    let page = format!(
        "<html><body>{}<p>正文</p></body></html>",
        "<b><i><span><font>".repeat(25_000)
    );
    let file = temp_file(page.as_bytes());
    let run = run_on_file(file.path());
    assert_orderly(&run, "100 000 nested inline elements");
}

#[test]
fn deeply_nested_tables_and_spans_complete() {
    // Text collection and block scoring walk these trees; recursion would overflow.
    let depth = 20_000;
    let tables = format!(
        "<html><head><meta charset=\"utf-8\"><title>表格</title></head><body>{}<p>县政府召开常务会议，研究部署有关工作。</p>{}</body></html>",
        "<table><tr><td>".repeat(depth),
        "</td></tr></table>".repeat(depth)
    );
    let spans = format!(
        "<html><head><meta charset=\"utf-8\"><title>嵌套</title></head><body><p>{}县政府召开常务会议，研究部署有关工作。{}</p></body></html>",
        "<span>".repeat(100_000),
        "</span>".repeat(100_000)
    );
    for (what, page) in [
        ("20 000 nested tables", tables),
        ("100 000 nested spans", spans),
    ] {
        let file = temp_file(page.as_bytes());
        let run = run_on_file(file.path());
        assert_orderly(&run, what);
    }
}
