//! `gazette crawl` against a local multi-site server: politeness measured by the
//! server, robots.txt, paging, retries, traps, anti-bot walls, spam, re-crawls and a
//! killed-and-resumed real process.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use gazette::archive::LocalArchive;
use gazette::config::{Config, RawConfig};
use gazette::crawl::report::RunReport;
use gazette::crawl::state::SqliteState;
use gazette::crawl::{Crawler, RunOptions, StopSignal};

const LATENCY: Duration = Duration::from_millis(20);

/// Politeness from the server's own measurements. Arrival times carry scheduling jitter
/// (a loaded 2-core machine runs crawls, servers, extractions and other builds at once):
/// a request that is scheduled late shrinks the gap after the one before it. So the
/// smallest gap may undershoot the delay by 30%, and the median must reach 95% of it.
/// (The pacer itself is checked exactly, with paused time, in `fetch::host`.)
fn assert_gap_at_least(site: &SiteServer, delay: Duration) {
    let seen = site.seen();
    let mut gaps: Vec<Duration> = seen.windows(2).map(|w| w[1].at - w[0].at).collect();
    gaps.sort();
    let t0 = seen[0].at;
    let timeline: Vec<String> = seen
        .iter()
        .map(|x| {
            format!(
                "{:>7.1} ms {}",
                (x.at - t0).as_secs_f64() * 1000.0,
                x.target
            )
        })
        .collect();
    let (min, median) = (gaps[0], gaps[gaps.len() / 2]);
    assert!(
        min >= delay.mul_f64(0.7) && median >= delay.mul_f64(0.95),
        "{}: gaps min {min:?} median {median:?}, delay {delay:?}\n{}",
        site.name,
        timeline.join("\n")
    );
}

/// A config with global keys `globals` and one `[[sites]]` per (name, start URL, extra keys).
fn config_text(archive: &Path, globals: &str, sites: &[(&str, String, &str)]) -> String {
    let mut t = format!(
        "archive_dir = {:?}\n{globals}\n",
        archive.display().to_string()
    );
    for (name, start, extra) in sites {
        t.push_str(&format!(
            "[[sites]]\nname = {name:?}\nstart_urls = [{start:?}]\n{extra}\n"
        ));
    }
    t
}

async fn crawl(toml: &str) -> RunReport {
    let config = Config::resolve(RawConfig::parse(toml, "test config").unwrap()).unwrap();
    let state = SqliteState::open(&config.state_path()).unwrap();
    let archive = LocalArchive::new(&config.archive_dir);
    let crawler = Arc::new(
        Crawler::new(
            Arc::new(config),
            Arc::new(archive),
            Arc::new(state),
            StopSignal::never(),
        )
        .unwrap(),
    );
    crawler.run(&RunOptions::default()).await.unwrap()
}

fn titles(archive: &Path) -> Vec<String> {
    let mut t: Vec<String> = articles(archive)
        .iter()
        .map(|a| a["title"].as_str().unwrap_or("").to_string())
        .collect();
    t.sort();
    t
}

fn expected_titles(columns: &[&Column]) -> Vec<String> {
    let mut t: Vec<String> = columns
        .iter()
        .flat_map(|c| c.articles.iter().map(|a| a.title.clone()))
        .collect();
    t.sort();
    t
}

fn entry<'a>(report: &'a RunReport, url: &str) -> Option<&'a gazette::crawl::report::UrlEntry> {
    report
        .sites
        .iter()
        .flat_map(|s| s.urls.iter())
        .find(|e| e.url == url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawls_utf8_gbk_and_big5_sites_politely_archiving_each_article_once() {
    let a = start_site("utf8", LATENCY).await;
    let col_a = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        5,
        "雅安市人民政府",
        12,
        1,
    );
    col_a.install(&a);
    let b = start_site("gbk", LATENCY).await;
    let col_b = Column::new(
        "/xwzx/",
        Charset::Gbk,
        Paging::CreatePageHtml,
        4,
        "名山区人民政府",
        10,
        100,
    );
    col_b.install(&b);
    let c = start_site("big5", LATENCY).await;
    let col_c = Column::new(
        "/xwzx/",
        Charset::Big5,
        Paging::IndexN,
        5,
        "新竹縣政府",
        8,
        200,
    );
    col_c.install(&c);

    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 80\nper_host_concurrency = 2\n",
        &[
            ("utf8", a.url("/xwzx/"), ""),
            ("gbk", b.url("/xwzx/"), ""),
            ("big5", c.url("/xwzx/"), ""),
        ],
    );
    let report = crawl(&toml).await;
    eprint!("{}", report.summary_table());

    assert_eq!(
        titles(dir.path()),
        expected_titles(&[&col_a, &col_b, &col_c])
    );
    assert_eq!(report.totals.articles_new, 30);
    for (site, col) in [(&a, &col_a), (&b, &col_b), (&c, &col_c)] {
        assert!(
            site.max_in_flight() <= 2,
            "{}: {} in flight",
            site.name,
            site.max_in_flight()
        );
        assert_gap_at_least(site, Duration::from_millis(80));
        // Every list page was reached (createPageHTML has no <a> links).
        for p in col.list_paths().iter().skip(2) {
            assert_eq!(site.count(p), 1, "{}: {p}", site.name);
        }
        for art in &col.articles {
            assert_eq!(site.count(&art.path), 1, "{}: {}", site.name, art.path);
        }
    }
    // The report is in the archive and accounts for every article.
    let reports = walk(&dir.path().join("reports"));
    assert_eq!(reports.len(), 1);
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&reports[0]).unwrap()).unwrap();
    assert_eq!(json["totals"]["articles_new"], 30);
    assert!(temp_files(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn robots_txt_disallow_and_crawl_delay_are_obeyed() {
    let s = start_site("robots", Duration::from_millis(5)).await;
    let mut col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        4,
        1,
    );
    col.extra_html =
        "<a href=\"private/t20230101_999.html\">内部</a><a href=\"/admin/index.html\">后台</a>"
            .into();
    col.install(&s);
    s.page(
        "/robots.txt",
        Resp::text("User-agent: *\nDisallow: /\n\nUser-agent: gazette\nDisallow: /xwzx/private/\nCrawl-delay: 0.1\n\nSitemap: /sitemap_index.xml\n"),
    );
    // A sitemap index pointing at a gzipped sitemap that lists an article no list links.
    let hidden = ArticleSpec {
        id: 321,
        title: article_title(321, false),
        date: "2023-03-21".into(),
        path: "/xwzx/202303/t20230321_321.html".into(),
    };
    s.page(
        &hidden.path,
        Resp::html(
            article_html(&hidden, Charset::Utf8, "雅安市人民政府", false).into_bytes(),
            "utf-8",
        ),
    );
    s.page(
        "/sitemap_index.xml",
        Resp::text(&format!(
            "<?xml version=\"1.0\"?><sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"><sitemap><loc>{}</loc></sitemap></sitemapindex>",
            s.url("/sitemap1.xml.gz")
        )),
    );
    let urlset = format!(
        "<?xml version=\"1.0\"?><urlset><url><loc>{}</loc></url></urlset>",
        s.url(&hidden.path)
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, urlset.as_bytes()).unwrap();
    s.page(
        "/sitemap1.xml.gz",
        Resp {
            status: 200,
            headers: vec![("content-type".into(), "application/x-gzip".into())],
            body: gz.finish().unwrap(),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 10",
        &[("robots", s.url("/xwzx/"), "")],
    );
    let report = crawl(&toml).await;
    eprint!("{}", report.summary_table());

    let targets = s.targets();
    assert!(
        targets.iter().all(|t| !t.starts_with("/xwzx/private/")),
        "{targets:?}"
    );
    // The four listed articles and the one only the sitemap knows.
    assert_eq!(articles(dir.path()).len(), 5);
    assert_eq!(s.count(&hidden.path), 1);
    assert!(report.totals.robots_disallowed >= 1);
    let e = entry(&report, &s.url("/xwzx/private/t20230101_999.html")).unwrap();
    assert_eq!(e.result, "robots_disallowed");
    assert_gap_at_least(&s, Duration::from_millis(100));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_redirects_failures_and_duplicate_urls() {
    let s = start_site("errors", Duration::from_millis(5)).await;
    let mut col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        3,
        1,
    );
    let art = |id: u32, path: &str| ArticleSpec {
        id,
        title: article_title(id, false),
        date: "2023-05-06".into(),
        path: path.into(),
    };
    let page = |a: &ArticleSpec| {
        Resp::html(
            article_html(a, Charset::Utf8, "雅安市人民政府", false).into_bytes(),
            "utf-8",
        )
    };
    let flaky = art(501, "/xwzx/202305/t20230506_501.html");
    let busy = art(502, "/xwzx/202305/t20230506_502.html");
    let moved = art(503, "/xwzx/202305/t20230506_503.html");
    col.extra_html = format!(
        "<a href=\"{}\">a</a><a href=\"{}\">b</a><a href=\"202305/t20230506_504.html\">gone</a>\
         <a href=\"old.html\">old</a><a href=\"{}?from=timeline\">dup</a><a href=\"{}#top\">dup2</a>\
         <a href=\"202305/t20230506_505.html\">slow</a>",
        flaky.path, busy.path, moved.path, moved.path
    );
    col.install(&s);
    s.route(
        "/xwzx/202305/t20230506_501.html",
        Route::Sequence(vec![Resp::status(500, "oops"), page(&flaky)], 0),
    );
    s.route(
        "/xwzx/202305/t20230506_502.html",
        Route::Sequence(
            vec![
                Resp::status(503, "busy").with_header("retry-after", "1"),
                page(&busy),
            ],
            0,
        ),
    );
    s.page("/xwzx/old.html", Resp::redirect("/xwzx/older.html"));
    s.page("/xwzx/older.html", Resp::redirect(&moved.path));
    s.page(&moved.path, page(&moved));
    s.route("/xwzx/202305/t20230506_505.html", Route::Hang);

    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 10\ntimeout_secs = 1\nmax_tries = 2\nbackoff_base_ms = 50\nretry_after_cap_secs = 5",
        &[("errors", s.url("/xwzx/"), "")],
    );
    let started = std::time::Instant::now();
    let report = crawl(&toml).await;
    eprint!("{}", report.summary_table());
    assert!(started.elapsed() < Duration::from_secs(20));

    // 500 then 200: retried and archived.
    assert_eq!(s.count(&flaky.path), 2);
    assert_eq!(
        entry(&report, &s.url(&flaky.path)).unwrap().result,
        "article_new"
    );
    // 503 with Retry-After: 1 s honoured.
    let busy_times: Vec<_> = s
        .seen()
        .into_iter()
        .filter(|x| x.target == busy.path)
        .map(|x| x.at)
        .collect();
    assert_eq!(busy_times.len(), 2);
    assert!(busy_times[1] - busy_times[0] >= Duration::from_millis(990));
    // 404: failed, not retried.
    let gone = entry(&report, &s.url("/xwzx/202305/t20230506_504.html")).unwrap();
    assert_eq!(
        (gone.result.as_str(), gone.http_status),
        ("failed", Some(404))
    );
    assert_eq!(s.count("/xwzx/202305/t20230506_504.html"), 1);
    // Never answers: timed out after the bounded tries.
    let slow = entry(&report, &s.url("/xwzx/202305/t20230506_505.html")).unwrap();
    assert_eq!(slow.result, "failed");
    assert_eq!(s.count("/xwzx/202305/t20230506_505.html"), 2);
    // Redirect chain and duplicate URLs: one article with its other address recorded.
    // (The direct link and the redirect chain may both be in flight at once.)
    assert!(s.count(&moved.path) <= 2, "{:?}", s.targets());
    assert!(s.targets().iter().all(|t| !t.contains("from=")));
    let all = articles(dir.path());
    let moved_records: Vec<_> = all
        .iter()
        .filter(|a| a["title"] == moved.title.as_str())
        .collect();
    assert_eq!(moved_records.len(), 1);
    let mut addresses: Vec<String> = moved_records[0]["other_urls"]
        .as_array()
        .map(|v| v.iter().map(|u| u.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    addresses.push(moved_records[0]["url"].as_str().unwrap().to_string());
    assert!(
        addresses.contains(&s.url("/xwzx/old.html")),
        "{addresses:?}"
    );
    assert!(addresses.contains(&s.url(&moved.path)), "{addresses:?}");
    assert_eq!(all.len(), 3 + 3, "{:#?}", report.sites[0].urls);
    assert!(temp_files(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calendar_traps_are_bounded_and_injected_spam_is_dropped() {
    let s = start_site("traps", Duration::from_millis(2)).await;
    let mut col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        2,
        1,
    );
    let spammed = ArticleSpec {
        id: 77,
        title: article_title(77, false),
        date: "2023-07-07".into(),
        path: "/xwzx/202307/t20230707_77.html".into(),
    };
    col.extra_html =
        "<a href=\"cal.html?month=2023-10\">日历</a><a href=\"a/a/a/index.html\">loop</a>\
        <a href=\"202307/t20230707_77.html\">spam</a>"
            .into();
    col.install(&s);
    s.page(
        &spammed.path,
        Resp::html(
            article_html(&spammed, Charset::Utf8, "雅安市人民政府", true).into_bytes(),
            "utf-8",
        ),
    );
    s.route(
        "/xwzx/cal.html",
        Route::Dynamic(Box::new(|query: &str| {
            let n: i32 = query.rsplit('-').next().and_then(|m| m.parse().ok()).unwrap_or(1);
            Resp::html(
                format!(
                    "<html><body><table><tr><td><a href=\"cal.html?month=2023-{:02}\">上月</a></td>\
                     <td><a href=\"cal.html?month=2023-{:02}\">下月</a></td></tr></table></body></html>",
                    n - 1,
                    n + 1
                )
                .into_bytes(),
                "utf-8",
            )
        })),
    );
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 5\nmax_query_variants = 4\nmax_depth = 50",
        &[("traps", s.url("/xwzx/"), "")],
    );
    let report = crawl(&toml).await;
    eprint!("{}", report.summary_table());
    let cal = s
        .targets()
        .iter()
        .filter(|t| t.starts_with("/xwzx/cal.html"))
        .count();
    assert!(cal <= 4, "calendar fetched {cal} times");
    assert!(report.totals.traps_skipped >= 1);
    assert_eq!(s.count("/xwzx/a/a/a/index.html"), 0);
    let all = articles(dir.path());
    let spam_article = all
        .iter()
        .find(|a| a["title"] == spammed.title.as_str())
        .expect("spammed article archived");
    let text = spam_article["text"].as_str().unwrap();
    assert!(!text.contains("百家乐") && !text.contains("快3"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_bot_walls_pause_the_host_and_are_reported() {
    let s = start_site("walled", Duration::from_millis(2)).await;
    let col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        8,
        1,
    );
    col.install(&s);
    let wall = Resp {
        status: 412,
        headers: vec![("content-type".into(), "text/html".into())],
        body: b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\"><script>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=12345;$_ts.cd=\"qEsGqWAlqqGm\";</script><script src=\"/abc/def.js\" r='m'></script></head><body></body></html>".to_vec(),
    };
    for a in &col.articles {
        s.page(&a.path, wall.clone());
    }
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 5",
        &[("walled", s.url("/xwzx/"), "")],
    );
    let report = crawl(&toml).await;
    eprint!("{}", report.summary_table());
    let article_requests = s.targets().iter().filter(|t| t.contains("/t2023")).count();
    assert!(
        article_requests <= 2,
        "the wall was hit {article_requests} times"
    );
    assert_eq!(
        report.sites[0].blocked_hosts.len(),
        1,
        "{:?}",
        report.sites[0].blocked_hosts
    );
    assert_eq!(report.totals.blocked, 8);
    assert!(articles(dir.path()).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_pass_fetches_only_list_pages_and_new_articles() {
    let s = start_site("recrawl", Duration::from_millis(2)).await;
    let mut col = Column::new(
        "/xwzx/",
        Charset::Gbk,
        Paging::IndexN,
        5,
        "雅安市人民政府",
        14,
        1,
    );
    col.install(&s);
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 5",
        &[("recrawl", s.url("/xwzx/"), "")],
    );
    let first = crawl(&toml).await;
    assert_eq!(first.totals.articles_new, 14);

    let new1 = col.add_article(900);
    let new2 = col.add_article(901);
    col.install(&s);
    s.clear_log();
    let second = crawl(&toml).await;
    eprint!("{}", second.summary_table());
    assert_eq!(second.totals.articles_new, 2);
    let lists = col.list_paths();
    for t in s.targets() {
        assert!(
            t == "/robots.txt" || lists.contains(&t) || t == new1.path || t == new2.path,
            "second pass fetched {t}"
        );
    }
    // Page 1 showed new articles, page 2 only known ones: paging stopped there.
    assert_eq!(s.count("/xwzx/index_2.html"), 0, "{:?}", s.targets());
    assert!(second.totals.incremental_stops >= 1);
    assert_eq!(articles(dir.path()).len(), 16);

    // Nothing changed: the start page answers 304 (a conditional request), nothing else
    // is fetched and nothing is parsed.
    s.clear_log();
    let third = crawl(&toml).await;
    assert_eq!(third.totals.not_modified, 1, "{:?}", s.targets());
    assert_eq!(third.totals.articles_new + third.totals.articles_updated, 0);
    assert!(
        s.seen()
            .iter()
            .filter(|x| x.target == "/xwzx/")
            .all(|x| x.if_none_match.is_some()),
        "the start page was fetched without validators"
    );
    assert_eq!(
        s.targets(),
        vec!["/robots.txt".to_string(), "/xwzx/".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_pages_bounds_a_pass_and_the_next_pass_continues() {
    let s = start_site("bounded", Duration::from_millis(2)).await;
    let col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        8,
        1,
    );
    col.install(&s);
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 2\nmax_pages = 4",
        &[("bounded", s.url("/xwzx/"), "")],
    );
    let first = crawl(&toml).await;
    assert_eq!(first.sites[0].outcome, "max_pages");
    assert_eq!(first.totals.pages_fetched, 4);
    assert!(first.totals.left_queued > 0);
    let mut passes = 1;
    while articles(dir.path()).len() < 8 {
        let next = crawl(&toml).await;
        assert!(next.totals.pages_fetched <= 4);
        passes += 1;
        assert!(passes < 10, "the leftovers are never crawled");
    }
    for a in &col.articles {
        assert_eq!(s.count(&a.path), 1, "{}", a.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_crawl_resumes_without_loss_or_duplicates() {
    let s = start_site("kill", LATENCY).await;
    let col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        60,
        1,
    );
    col.install(&s);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let config = dir.path().join("gazette.toml");
    std::fs::write(
        &config,
        format!(
            "delay_ms = 15\n[[sites]]\nname = \"kill\"\nstart_urls = [{:?}]\n",
            s.url("/xwzx/")
        ),
    )
    .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
            .arg("crawl")
            .arg("--config")
            .arg(&config)
            .arg("--archive")
            .arg(&archive)
            .env("GAZETTE_LOG", "warn")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = run();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while article_files(&archive).len() < 15 {
        assert!(
            std::time::Instant::now() < deadline,
            "the crawl archived nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let before = article_files(&archive).len();
    assert!(before < 60, "killed too late to test resuming");

    let mut child = run();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(titles(&archive), expected_titles(&[&col]));
    assert!(
        temp_files(&archive).is_empty(),
        "{:?}",
        temp_files(&archive)
    );
    // Resumed, not restarted: the articles archived before the kill were not refetched
    // (beyond those in flight when it died).
    let refetched = col.articles.iter().filter(|a| s.count(&a.path) > 1).count();
    assert!(refetched <= 4, "{refetched} articles fetched twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_quickly_and_the_next_run_finishes() {
    let s = start_site("term", LATENCY).await;
    let col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        40,
        1,
    );
    col.install(&s);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let config = dir.path().join("gazette.toml");
    std::fs::write(
        &config,
        format!(
            "delay_ms = 15\n[[sites]]\nname = \"term\"\nstart_urls = [{:?}]\n",
            s.url("/xwzx/")
        ),
    )
    .unwrap();
    let run = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
            .args(["crawl", "--log-format", "json", "--config"])
            .arg(&config)
            .arg("--archive")
            .arg(&archive)
            .env("GAZETTE_LOG", "warn")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut child = run();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while article_files(&archive).len() < 5 {
        assert!(
            std::time::Instant::now() < deadline,
            "the crawl archived nothing"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = std::time::Instant::now();
    std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "took {:?}",
        sent.elapsed()
    );
    assert_eq!(status.code(), Some(2));
    assert!(temp_files(&archive).is_empty());
    let mut child = run();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());
    assert_eq!(titles(&archive), expected_titles(&[&col]));
}

/// The measurement of the "done when": five sites of 300 articles each, 50 ms
/// latency, crawled by the real binary under `/usr/bin/time -v`. Prints pages/s, CPU time
/// per 1000 pages and peak RSS. Run with
/// `cargo test --release --test crawl -- --ignored --nocapture measure`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_a_large_local_crawl() {
    let mut sites = Vec::new();
    let mut columns = Vec::new();
    for (i, charset) in [
        Charset::Utf8,
        Charset::Gbk,
        Charset::Big5,
        Charset::Utf8,
        Charset::Gbk,
    ]
    .into_iter()
    .enumerate()
    {
        let s = start_site(&format!("site{i}"), Duration::from_millis(50)).await;
        let paging = if i % 2 == 0 {
            Paging::IndexN
        } else {
            Paging::CreatePageHtml
        };
        let col = Column::new(
            "/xwzx/",
            charset,
            paging,
            20,
            "雅安市人民政府",
            300,
            1000 * i as u32,
        );
        col.install(&s);
        sites.push(s);
        columns.push(col);
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let config = dir.path().join("gazette.toml");
    let mut text = String::from("delay_ms = 10\nper_host_concurrency = 2\n");
    for s in &sites {
        text.push_str(&format!(
            "[[sites]]\nname = {:?}\nstart_urls = [{:?}]\n",
            s.name,
            s.url("/xwzx/")
        ));
    }
    std::fs::write(&config, text).unwrap();
    let run = |config: std::path::PathBuf, archive: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("/usr/bin/time")
                .arg("-v")
                .arg(env!("CARGO_BIN_EXE_gazette"))
                .arg("crawl")
                .arg("--config")
                .arg(&config)
                .arg("--archive")
                .arg(&archive)
                .env("GAZETTE_LOG", "warn")
                .output()
                .unwrap()
        })
    };
    let started = std::time::Instant::now();
    let out = run(config.clone(), archive.clone()).await.unwrap();
    let wall = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let field = |name: &str| {
        stderr
            .lines()
            .find(|l| l.trim().starts_with(name))
            .and_then(|l| l.rsplit(':').next())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let cpu = field("User time (seconds)") + field("System time (seconds)");
    let rss_kb = field("Maximum resident set size (kbytes)");
    let pages: usize = sites.iter().map(|s| s.seen().len()).sum();
    let archived = articles(&dir.path().join("archive")).len();
    eprintln!(
        "{}",
        stderr
            .lines()
            .filter(|l| !l.starts_with('\t'))
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "pages requested {pages}, articles {archived}, wall {:.1} s, {:.1} pages/s, CPU {:.2} s = {:.2} s per 1000 pages, peak RSS {:.1} MB",
        wall.as_secs_f64(),
        pages as f64 / wall.as_secs_f64(),
        cpu,
        cpu * 1000.0 / pages as f64,
        rss_kb / 1024.0
    );
    assert_eq!(archived, 1500);
    for s in &sites {
        assert!(s.max_in_flight() <= 2);
    }

    // A second pass after five new articles per site.
    for (s, col) in sites.iter().zip(columns.iter_mut()) {
        for k in 0..5 {
            col.add_article(900_000 + k + s.addr.port() as u32 * 10);
        }
        col.install(s);
        s.clear_log();
    }
    let started = std::time::Instant::now();
    let out = run(config.clone(), archive.clone()).await.unwrap();
    let wall = started.elapsed();
    let pages: usize = sites.iter().map(|s| s.seen().len()).sum();
    let archived = articles(&dir.path().join("archive")).len();
    eprintln!(
        "second pass: pages requested {pages}, articles {archived}, wall {:.1} s\n{}",
        wall.as_secs_f64(),
        String::from_utf8_lossy(&out.stderr)
            .lines()
            .filter(|l| !l.starts_with('\t'))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(archived, 1525);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_per_site_charset_outranks_a_wrong_declaration() {
    let s = start_site("mislabelled", Duration::from_millis(2)).await;
    let col = Column::new(
        "/xwzx/",
        Charset::Gbk,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        3,
        1,
    );
    col.install(&s);
    // The server claims UTF-8 for GBK bytes.
    for a in &col.articles {
        let html = article_html(a, Charset::Gbk, "雅安市人民政府", false);
        s.page(&a.path, Resp::html(Charset::Gbk.encode(&html), "utf-8"));
    }
    let dir = tempfile::tempdir().unwrap();
    let toml = config_text(
        dir.path(),
        "delay_ms = 2",
        &[("mislabelled", s.url("/xwzx/"), "charset = \"gbk\"")],
    );
    crawl(&toml).await;
    let all = articles(dir.path());
    assert_eq!(titles(dir.path()), expected_titles(&[&col]));
    assert!(
        all.iter().all(|a| a["encoding"]["from"] == "override"),
        "{all:?}"
    );
}
