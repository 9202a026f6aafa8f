//! The HTTP side of fetching, against a local server on 127.0.0.1:0 (never the
//! internet): charsets, redirects, errors, content types, timeouts, conditional
//! requests, anti-bot walls, size limits, and the `gazette fetch` binary end to end.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use encoding_rs::GBK;
use gazette::decode::{decode, EncodingSource};
use gazette::fetch::{FetchError, FetchOptions, Fetched, Fetcher, Validators};
use url::Url;

const ARTICLE_TEXT: &[&str] = &[
    "4月18日上午，青禾县召开全县春季农业生产工作推进会，总结前一阶段工作，部署下一步春耕备耕任务。",
    "会议指出，今年以来全县各乡镇认真落实粮食安全责任制，完成冬小麦追肥十二万亩，新建高标准农田八千亩，农资储备充足，价格总体平稳。",
    "会议要求，各乡镇要压实责任，抓好种子、化肥、农药等农资供应，加强农技人员下乡服务，确保不误农时；要做好防汛抗旱准备，完善应急预案。",
    "县农业农村局负责同志表示，将组织二十个农技服务小分队，分片包干开展技术指导，帮助农户解决生产中遇到的实际问题。",
];

fn article_html(title: &str, charset: &str) -> String {
    let paragraphs: String = ARTICLE_TEXT
        .iter()
        .map(|p| format!("<p>{p}</p>\n"))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset={charset}\">\
         <title>{title}_青禾县人民政府</title></head>\n<body>\n<div class=\"nav\"><a href=\"/\">首页</a> <a href=\"/news\">新闻</a></div>\n\
         <div class=\"article\"><h1>{title}</h1>\n<div class=\"info\">发布时间：2024-04-18 10:30 来源：县农业农村局</div>\n\
         <div class=\"content\">\n{paragraphs}</div></div>\n<div class=\"footer\">青禾县人民政府办公室 主办</div>\n</body></html>\n"
    )
}

/// A page in GBK whose charset is only in the HTTP header.
fn gbk_without_meta() -> Vec<u8> {
    let text = format!(
        "<html><head><title>春耕通知</title></head><body><p>{}</p></body></html>",
        ARTICLE_TEXT[1]
    );
    let (bytes, _, bad) = GBK.encode(&text);
    assert!(!bad);
    bytes.into_owned()
}

fn html(body: impl Into<Body>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .body(body.into())
        .expect("response")
}

fn with_type(content_type: &str, body: impl Into<Body>) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .body(body.into())
        .expect("response")
}

fn status_page(status: StatusCode, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/html")
        .body(body.into())
        .expect("response")
}

fn redirect(location: &str) -> Response {
    Response::builder()
        .status(StatusCode::FOUND)
        .header(header::LOCATION, location)
        .body(Body::empty())
        .expect("response")
}

const RIVERS_STUB: &str = "<!DOCTYPE html><html><head><meta id=\"abcXYZ\" content=\"q1w2e3r4t5y6\">\
<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=4242;$_ts.cd=\"xyz\";</script>\
<script type=\"text/javascript\" src=\"/rs/abc.js\" r='m'></script></head><body></body></html>";

const JSL_STUB: &str = "<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')+('a')+('n')+('c')+('e')+('_')+('s')+('=')+(1+[]);location.href=location.pathname+location.search</script>";

fn app() -> Router {
    Router::new()
        .route("/article", get(|| async { html(article_html("全县春季农业生产工作推进会召开", "utf-8")) }))
        .route("/article2", get(|| async { html(article_html("农技服务小分队下乡指导春耕", "utf-8")) }))
        .route(
            "/gbk-header",
            get(|| async { with_type("text/html; charset=gbk", gbk_without_meta()) }),
        )
        .route("/r/start", get(|| async { redirect("next") }))
        .route("/r/next", get(|| async { redirect("../final?from=r") }))
        .route("/final", get(|| async { html(article_html("终点", "utf-8")) }))
        .route("/loop", get(|| async { redirect("/loop") }))
        .route("/missing", get(|| async { status_page(StatusCode::NOT_FOUND, "<h1>404 Not Found</h1>") }))
        .route("/doc.pdf", get(|| async { with_type("application/pdf", b"%PDF-1.4\n%fake\n".to_vec()) }))
        .route("/img", get(|| async { with_type("image/png", b"\x89PNG\r\n\x1a\nfake".to_vec()) }))
        .route("/json", get(|| async { with_type("application/json; charset=utf-8", "{\"a\":1}") }))
        .route(
            "/octet-html",
            get(|| async { with_type("application/octet-stream", article_html("八进制", "utf-8")) }),
        )
        .route(
            "/octet-pdf",
            get(|| async { with_type("application/octet-stream", b"%PDF-1.7 binary".to_vec()) }),
        )
        .route(
            "/no-type",
            get(|| async { Response::new(Body::from(article_html("无类型", "utf-8"))) }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(5)).await;
                html("<p>too late</p>")
            }),
        )
        .route(
            "/slow-body",
            get(|| async {
                let chunks = futures::stream::unfold(0u32, |n| async move {
                    if n > 0 {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                    }
                    (n < 2).then(|| (Ok::<_, std::io::Error>(format!("<p>part {n}</p>")), n + 1))
                });
                html(Body::from_stream(chunks))
            }),
        )
        .route(
            "/gzip",
            get(|| async { gzipped(article_html("压缩传输", "utf-8").as_bytes()) }),
        )
        .route(
            "/gzip-bomb",
            get(|| async { gzipped(&vec![b' '; 8 * 1024 * 1024]) }),
        )
        .route("/etag", get(etag_page))
        .route("/rivers", get(|| async { status_page(StatusCode::PRECONDITION_FAILED, RIVERS_STUB) }))
        .route(
            "/jsl",
            get(|| async { status_page(StatusCode::from_u16(521).expect("status"), JSL_STUB) }),
        )
        .route(
            "/waf",
            get(|| async {
                let (bytes, _, _) = GBK.encode(
                    "<html><head><title>提示</title></head><body><h2>您的访问被拒绝</h2><p>请稍后再试。</p></body></html>",
                );
                with_type("text/html", bytes.into_owned())
            }),
        )
        .route(
            "/big",
            get(|| async { html(format!("<html><body>{}</body></html>", "<p>大</p>".repeat(200_000))) }),
        )
        .route(
            "/big-chunked",
            get(|| async {
                let chunks = futures::stream::iter(
                    (0..64).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 64 * 1024])),
                );
                html(Body::from_stream(chunks))
            }),
        )
        .route(
            "/busy",
            get(|| async {
                let mut r = status_page(StatusCode::SERVICE_UNAVAILABLE, "<p>busy</p>");
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("7"));
                r
            }),
        )
        .route("/ua", get(|headers: HeaderMap| async move {
            let ua = headers
                .get(header::USER_AGENT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            html(format!("<html><body><p>UA={ua}</p></body></html>"))
        }))
}

/// A gzip-encoded HTML response.
fn gzipped(bytes: &[u8]) -> Response {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes).expect("gzip");
    let body = encoder.finish().expect("gzip");
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CONTENT_ENCODING, "gzip")
        .body(Body::from(body))
        .expect("response")
}

/// 304 when the client sends the current validators, the page otherwise.
async fn etag_page(request: Request) -> Response {
    let headers = request.headers();
    let etag_matches = headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v == "\"v1\"");
    let date_matches = headers
        .get(header::IF_MODIFIED_SINCE)
        .is_some_and(|v| v == "Wed, 17 Apr 2024 08:00:00 GMT");
    if etag_matches || date_matches {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut r = html(article_html("条件请求", "utf-8"));
    r.headers_mut()
        .insert(header::ETAG, HeaderValue::from_static("\"v1\""));
    r.headers_mut().insert(
        header::LAST_MODIFIED,
        HeaderValue::from_static("Wed, 17 Apr 2024 08:00:00 GMT"),
    );
    r
}

async fn serve() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app()).await;
    });
    addr
}

fn fetcher() -> Fetcher {
    fetcher_with(|_| {})
}

fn fetcher_with(adjust: impl FnOnce(&mut FetchOptions)) -> Fetcher {
    let mut options = FetchOptions {
        timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(1),
        ..FetchOptions::default()
    };
    adjust(&mut options);
    Fetcher::new(options).expect("client")
}

fn url(addr: SocketAddr, path: &str) -> Url {
    Url::parse(&format!("http://{addr}{path}")).expect("url")
}

#[tokio::test]
async fn charset_only_in_http_header() {
    let addr = serve().await;
    let page = fetcher()
        .fetch_page(&url(addr, "/gbk-header"))
        .await
        .expect("page");
    assert_eq!(page.content_type.as_deref(), Some("text/html; charset=gbk"));
    let http = page.http.as_ref().expect("http info");
    assert_eq!(http.status, 200);
    let d = decode(&page.bytes, page.content_type.as_deref());
    assert_eq!(d.from, EncodingSource::HttpHeader);
    assert_eq!(d.encoding.name(), "gb18030");
    assert!(d.text.contains(ARTICLE_TEXT[1]), "{}", d.text);
    assert!(!d.lossy);
}

#[tokio::test]
async fn redirect_chain_reports_final_url() {
    let addr = serve().await;
    let start = url(addr, "/r/start");
    let page = fetcher().fetch_page(&start).await.expect("page");
    assert_eq!(page.url.as_ref(), Some(&start));
    assert_eq!(page.final_url, Some(url(addr, "/final?from=r")));
    assert_eq!(page.address(), Some(&url(addr, "/final?from=r")));
}

#[tokio::test]
async fn too_many_redirects() {
    let addr = serve().await;
    let err = fetcher_with(|o| o.max_redirects = 3)
        .fetch_page(&url(addr, "/loop"))
        .await
        .expect_err("loop");
    assert!(
        matches!(err, FetchError::TooManyRedirects { limit: 3, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("more than 3 redirects"), "{err}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn not_found_names_the_status() {
    let addr = serve().await;
    let err = fetcher()
        .fetch_page(&url(addr, "/missing"))
        .await
        .expect_err("404");
    assert_eq!(err.status(), Some(404));
    assert!(
        err.to_string().ends_with("/missing: HTTP 404 Not Found"),
        "{err}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn non_html_is_refused_naming_the_type() {
    let addr = serve().await;
    let f = fetcher();
    for (path, expected) in [
        ("/doc.pdf", "application/pdf"),
        ("/img", "image/png"),
        ("/json", "application/json"),
    ] {
        let err = f.fetch_page(&url(addr, path)).await.expect_err(path);
        assert!(matches!(err, FetchError::NotHtml { .. }), "{path}: {err:?}");
        assert!(err.to_string().contains(expected), "{err}");
        assert!(err.to_string().contains("not an HTML page"), "{err}");
    }
}

#[tokio::test]
async fn generic_content_types_are_sniffed() {
    let addr = serve().await;
    let f = fetcher();
    let page = f
        .fetch_page(&url(addr, "/octet-html"))
        .await
        .expect("html as octet-stream");
    assert!(page.bytes.starts_with(b"<!DOCTYPE html>"));
    let page = f
        .fetch_page(&url(addr, "/no-type"))
        .await
        .expect("html without type");
    assert_eq!(page.content_type, None);
    let err = f
        .fetch_page(&url(addr, "/octet-pdf"))
        .await
        .expect_err("pdf as octet-stream");
    assert!(err.to_string().contains("PDF document"), "{err}");
}

#[tokio::test]
async fn slow_server_times_out() {
    let addr = serve().await;
    let f = fetcher();
    for path in ["/slow", "/slow-body"] {
        let started = std::time::Instant::now();
        let err = f.fetch_page(&url(addr, path)).await.expect_err(path);
        assert!(
            matches!(err, FetchError::Timeout { seconds: 1, .. }),
            "{path}: {err:?}"
        );
        assert!(err.to_string().contains("timed out after 1 s"), "{err}");
        assert!(err.is_retryable());
        assert!(
            started.elapsed() < Duration::from_secs(4),
            "the timeout was not enforced"
        );
    }
}

#[tokio::test]
async fn conditional_request_returns_not_modified() {
    let addr = serve().await;
    let f = fetcher();
    let target = url(addr, "/etag");
    let first = match f.fetch(&target, None).await.expect("first fetch") {
        Fetched::Page(page) => page,
        other => panic!("expected a page, got {other:?}"),
    };
    let http = first.http.expect("http info");
    assert_eq!(http.etag.as_deref(), Some("\"v1\""));
    assert_eq!(
        http.last_modified.as_deref(),
        Some("Wed, 17 Apr 2024 08:00:00 GMT")
    );

    let validators = Validators::from_http(&http);
    match f
        .fetch(&target, Some(&validators))
        .await
        .expect("second fetch")
    {
        Fetched::NotModified { final_url, http } => {
            assert_eq!(final_url, target);
            assert_eq!(http.status, 304);
            assert_eq!(
                http.etag.as_deref(),
                Some("\"v1\""),
                "validators carried over"
            );
        }
        other => panic!("expected NotModified, got {other:?}"),
    }
    // Only the date.
    let by_date = Validators {
        etag: None,
        last_modified: http.last_modified.clone(),
    };
    assert!(matches!(
        f.fetch(&target, Some(&by_date)).await,
        Ok(Fetched::NotModified { .. })
    ));
    // Stale validators get the page.
    let stale = Validators {
        etag: Some("\"v0\"".into()),
        last_modified: None,
    };
    assert!(matches!(
        f.fetch(&target, Some(&stale)).await,
        Ok(Fetched::Page(_))
    ));
}

#[tokio::test]
async fn anti_bot_walls_are_blocked_not_pages() {
    let addr = serve().await;
    let f = fetcher();
    for (path, kind) in [
        ("/rivers", "rivers"),
        ("/jsl", "jiasule"),
        ("/waf", "access_denied"),
    ] {
        let err = f.fetch_page(&url(addr, path)).await.expect_err(path);
        let wall = err.wall().unwrap_or_else(|| panic!("{path}: {err:?}"));
        assert_eq!(wall.kind, kind);
        assert!(
            err.to_string().contains("blocked by an anti-bot wall"),
            "{err}"
        );
        assert!(!err.is_retryable());
    }
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let addr = serve().await;
    let f = fetcher_with(|o| o.max_bytes = 1024 * 1024);
    for path in ["/big", "/big-chunked"] {
        let err = f.fetch_page(&url(addr, path)).await.expect_err(path);
        assert!(
            matches!(
                err,
                FetchError::TooLarge {
                    limit: 1_048_576,
                    ..
                }
            ),
            "{path}: {err:?}"
        );
        assert!(err.to_string().contains("1048576-byte limit"), "{err}");
    }
    // Under the limit, the same page is fine.
    let page = fetcher()
        .fetch_page(&url(addr, "/big"))
        .await
        .expect("big page");
    assert!(page.bytes.len() > 1024 * 1024);
}

#[tokio::test]
async fn gzip_is_decompressed_and_the_limit_counts_decompressed_bytes() {
    let addr = serve().await;
    let f = fetcher_with(|o| o.max_bytes = 1024 * 1024);
    let page = f.fetch_page(&url(addr, "/gzip")).await.expect("gzip page");
    assert!(String::from_utf8(page.bytes)
        .expect("utf-8")
        .contains("压缩传输"));
    // 8 MB of spaces compress to a few KB: the limit must apply after decompression.
    let err = f
        .fetch_page(&url(addr, "/gzip-bomb"))
        .await
        .expect_err("bomb");
    assert!(matches!(err, FetchError::TooLarge { .. }), "{err:?}");
}

#[tokio::test]
async fn overload_is_retryable_with_retry_after() {
    let addr = serve().await;
    let err = fetcher()
        .fetch_page(&url(addr, "/busy"))
        .await
        .expect_err("503");
    assert_eq!(err.status(), Some(503));
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(
        err.to_string().contains("HTTP 503 Service Unavailable"),
        "{err}"
    );
}

#[tokio::test]
async fn configured_user_agent_is_sent() {
    let addr = serve().await;
    let f = fetcher_with(|o| o.user_agent = "gazette-test/1.0 (+mailto:ops@example.org)".into());
    let page = f.fetch_page(&url(addr, "/ua")).await.expect("page");
    let text = String::from_utf8(page.bytes).expect("utf-8");
    assert!(
        text.contains("UA=gazette-test/1.0 (+mailto:ops@example.org)"),
        "{text}"
    );
}

#[tokio::test]
async fn refused_connection_is_a_retryable_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let err = fetcher()
        .fetch_page(&url(addr, "/"))
        .await
        .expect_err("refused");
    assert!(matches!(err, FetchError::Connect { .. }), "{err:?}");
    assert!(err.is_retryable());
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[tokio::test]
async fn unsupported_scheme_is_refused() {
    let err = fetcher()
        .fetch_page(&Url::parse("ftp://127.0.0.1/x").expect("url"))
        .await
        .expect_err("ftp");
    assert!(matches!(err, FetchError::InvalidUrl { .. }), "{err:?}");
}

// ---- the binary, end to end ----

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

async fn run_gazette(args: Vec<String>) -> Run {
    tokio::task::spawn_blocking(move || {
        let output = Command::new(env!("CARGO_BIN_EXE_gazette"))
            .args(&args)
            .env("NO_COLOR", "1")
            .output()
            .expect("run gazette");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_prints_json_for_an_html_page() {
    let addr = serve().await;
    let run = run_gazette(vec!["fetch".into(), url(addr, "/article").to_string()]).await;
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    let article: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).expect("one JSON article on stdout");
    assert_eq!(article["url"], url(addr, "/article").as_str());
    assert!(
        article["text"]
            .as_str()
            .unwrap_or("")
            .contains("高标准农田八千亩"),
        "{}",
        run.stdout
    );
    assert_eq!(article["http"]["status"], 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_reports_404_and_pdf_clearly() {
    let addr = serve().await;
    let run = run_gazette(vec!["fetch".into(), url(addr, "/missing").to_string()]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    assert!(run.stderr.contains("HTTP 404 Not Found"), "{}", run.stderr);

    let run = run_gazette(vec!["fetch".into(), url(addr, "/doc.pdf").to_string()]).await;
    assert_ne!(run.code, Some(0));
    assert!(run.stderr.contains("not an HTML page"), "{}", run.stderr);
    assert!(run.stderr.contains("application/pdf"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_keeps_going_when_one_input_fails() {
    let addr = serve().await;
    let run = run_gazette(vec![
        "fetch".into(),
        url(addr, "/article").to_string(),
        url(addr, "/missing").to_string(),
        url(addr, "/article2").to_string(),
    ])
    .await;
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    let lines: Vec<&str> = run
        .stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    for line in lines {
        let article: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        assert!(article["url"].as_str().unwrap_or("").contains("/article"));
    }
    assert!(run.stderr.contains("/missing"), "{}", run.stderr);
    assert!(run.stderr.contains("404"), "{}", run.stderr);
}

/// No page of the shared corpora (real articles, list pages, a spam page, English
/// news) is mistaken for an anti-bot wall when served with 200.
#[test]
fn real_pages_are_not_walls() {
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = [
        manifest.join("../shared"),
        std::path::PathBuf::from("/work/shared"),
    ]
    .into_iter()
    .find(|p| p.join("corpus").is_dir());
    let Some(shared) = shared else {
        println!("skipped: no shared corpus (../shared/corpus) on this machine");
        return;
    };
    let mut page_dirs: Vec<std::path::PathBuf> = std::fs::read_dir(shared.join("corpus"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("pages"))
        .collect();
    page_dirs.push(shared.join("eval/aeb/pages"));
    let mut checked = 0;
    for dir in page_dirs {
        for page in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = page.path();
            if path.extension().is_some_and(|x| x == "html") {
                let bytes = std::fs::read(&path).expect("read page");
                let wall = gazette::fetch::detect_wall(200, &bytes);
                assert!(wall.is_none(), "{}: {wall:?}", path.display());
                checked += 1;
            }
        }
    }
    println!("{checked} shared pages checked");
}

/// `gazette fetch` with several URLs of one host keeps the per-host delay between the
/// starts of its requests (a one-off fetch of a list must not hammer a small site).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_spaces_requests_to_one_host() {
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let recorded = arrivals.clone();
    let app = Router::new().route(
        "/a/:n",
        get(move || {
            let recorded = recorded.clone();
            async move {
                recorded.lock().expect("lock").push(Instant::now());
                html(article_html("全县春季农业生产工作推进会召开", "utf-8"))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });

    let mut args = vec!["fetch".to_string(), "--delay".into(), "0.3".into()];
    args.extend((1..=4).map(|n| url(addr, &format!("/a/{n}")).to_string()));
    let run = run_gazette(args).await;
    assert_eq!(run.code, Some(0), "stderr: {}", run.stderr);
    assert_eq!(run.stdout.lines().count(), 4, "{}", run.stdout);

    let mut times = arrivals.lock().expect("lock").clone();
    times.sort();
    assert_eq!(times.len(), 4);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(250), "requests {gap:?} apart");
    }
}
