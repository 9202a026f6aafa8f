//! `gazette schedule` and `gazette status`, run as real processes against the local
//! multi-site test server, with schedules of a second or two. Overlap, timing and
//! missed-run behaviour are asserted from the test server's own request log.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A config: global keys, a `[scheduler]` table, and `(name, start URL, schedule)` sites.
fn write_config(
    dir: &Path,
    globals: &str,
    scheduler: &str,
    sites: &[(&str, String, &str)],
) -> PathBuf {
    let mut text = format!(
        "archive_dir = {:?}\ndelay_ms = 0\nmax_tries = 1\ntimeout_secs = 5\n{globals}\n[scheduler]\n{scheduler}\n",
        dir.join("archive").display().to_string()
    );
    for (name, start, schedule) in sites {
        text.push_str(&format!(
            "[[sites]]\nname = {name:?}\nstart_urls = [{start:?}]\nschedule = {schedule:?}\n"
        ));
    }
    let path = dir.join("gazette.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `gazette schedule`, killed if a test fails before stopping it.
struct Service(Option<Child>);

impl Drop for Service {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_service(config: &Path, listen: Option<u16>) -> Service {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gazette"));
    cmd.arg("schedule").arg("--config").arg(config);
    if let Some(port) = listen {
        cmd.arg("--listen").arg(format!("127.0.0.1:{port}"));
    }
    cmd.env("GAZETTE_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map(|child| Service(Some(child)))
        .expect("the gazette binary starts")
}

/// Sends SIGTERM and waits (bounded) for the exit code.
async fn terminate(mut service: Service, within: Duration) -> (i32, Duration) {
    let mut child = service.0.take().unwrap();
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    let sent = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code().unwrap_or(-1), sent.elapsed());
        }
        if sent.elapsed() > within {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gazette schedule did not exit within {within:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn status_json(config: &Path) -> serde_json::Value {
    let out = Command::new(env!("CARGO_BIN_EXE_gazette"))
        .args(["status", "--json", "--config"])
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn site_status<'a>(status: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    status["sites"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap()
}

async fn get(port: u16, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("http://127.0.0.1:{port}{path}"))
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The value of a metric line `name{labels} value`.
fn metric(text: &str, name_and_labels: &str) -> Option<f64> {
    text.lines().find_map(|l| {
        l.strip_prefix(name_and_labels)?
            .strip_prefix(' ')?
            .parse()
            .ok()
    })
}

/// When each pass of a site began: the arrivals of its start URL.
fn pass_starts(site: &SiteServer, start_path: &str) -> Vec<Instant> {
    site.seen()
        .into_iter()
        .filter(|s| s.target == start_path)
        .map(|s| s.at)
        .collect()
}

/// No pass began while a request of the site was still being answered: every request
/// that arrived before a pass start had been answered (arrival + latency) by then.
fn assert_no_overlap(site: &SiteServer, start_path: &str, latency: Duration) {
    let seen = site.seen();
    for start in pass_starts(site, start_path) {
        let busy: Vec<&Seen> = seen
            .iter()
            .filter(|r| r.at < start && r.at + latency > start)
            .collect();
        assert!(
            busy.is_empty(),
            "{}: a pass began while {:?} was in flight",
            site.name,
            busy.iter().map(|r| &r.target).collect::<Vec<_>>()
        );
    }
}

fn gaps(times: &[Instant]) -> Vec<Duration> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sites_run_on_time_without_overlap_a_failing_site_backs_off_and_a_missed_run_runs_once() {
    const LATENCY: Duration = Duration::from_millis(150);
    let alpha = start_site("alpha", LATENCY).await;
    let col_a = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        5,
        "雅安市人民政府",
        4,
        1,
    );
    col_a.install(&alpha);
    let beta = start_site("beta", LATENCY).await;
    let col_b = Column::new(
        "/xwzx/",
        Charset::Gbk,
        Paging::IndexN,
        5,
        "名山区人民政府",
        3,
        100,
    );
    col_b.install(&beta);
    let broken = start_site("broken", Duration::from_millis(5)).await;
    broken.page(
        "/xwzx/",
        Resp::status(500, "<html><body>服务器错误</body></html>"),
    );

    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "",
        "shutdown_grace = \"5s\"",
        &[
            ("alpha", alpha.url("/xwzx/"), "2s"),
            ("beta", beta.url("/xwzx/"), "2s"),
            ("broken", broken.url("/xwzx/"), "1s"),
        ],
    );
    let port = free_port();
    let started = Instant::now();
    let service = start_service(&config, Some(port));

    // Let three slots pass, then stop between passes (so the restart below sees missed
    // slots, not an interrupted pass): a little after both sites' latest pass began.
    tokio::time::sleep(Duration::from_millis(5000)).await;
    let deadline = Instant::now() + Duration::from_secs(4);
    loop {
        let since = |site: &SiteServer| pass_starts(site, "/xwzx/").last().map(|t| t.elapsed());
        let idle = |d: Option<Duration>| {
            d.is_some_and(|d| d >= Duration::from_millis(600) && d <= Duration::from_millis(1500))
        };
        if idle(since(&alpha)) && idle(since(&beta)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "alpha and beta never idle together"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let (code, health) = get(port, "/healthz").await;
    assert_eq!((code, health.as_str()), (200, "ok\n"));
    let (code, metrics) = get(port, "/metrics").await;
    assert_eq!(code, 200);
    let (code, exit_after) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0, "SIGTERM exits 0");
    assert!(
        exit_after < Duration::from_secs(6),
        "stopped in {exit_after:?}"
    );
    let stopped = Instant::now();

    for (site, col) in [(&alpha, &col_a), (&beta, &col_b)] {
        let starts = pass_starts(site, "/xwzx/");
        // Passes at ~0, 2, 4, 6 s: on time, never back to back, never overlapping.
        assert!(
            (3..=4).contains(&starts.len()),
            "{}: {} passes",
            site.name,
            starts.len()
        );
        assert!(
            starts[0] - started < Duration::from_millis(1500),
            "{}: first pass late",
            site.name
        );
        for gap in gaps(&starts) {
            assert!(
                gap >= Duration::from_millis(1500) && gap <= Duration::from_millis(2600),
                "{}: passes {gap:?} apart on a 2s schedule",
                site.name
            );
        }
        assert_no_overlap(site, "/xwzx/", LATENCY);
        // Every article fetched once: later passes only re-read the list.
        for a in &col.articles {
            assert_eq!(site.count(&a.path), 1, "{}: {}", site.name, a.path);
        }
    }
    // The failing site backs off (1 s schedule, waits 1, 2, 4 s) and slowed nobody.
    let broken_starts = pass_starts(&broken, "/xwzx/");
    assert!(
        (2..=4).contains(&broken_starts.len()),
        "broken: {} passes",
        broken_starts.len()
    );
    let broken_gaps = gaps(&broken_starts);
    assert!(
        broken_gaps.windows(2).all(|w| w[1] > w[0]),
        "broken: waits grow {broken_gaps:?}"
    );

    // /metrics and status agree with the archive.
    let files = article_files(&dir.path().join("archive")).len();
    assert_eq!(files, 7);
    let new_total: f64 = ["alpha", "beta", "broken"]
        .iter()
        .filter_map(|s| {
            metric(
                &metrics,
                &format!("gazette_articles_archived_total{{site=\"{s}\",status=\"new\"}}"),
            )
        })
        .sum();
    assert_eq!(new_total as usize, files, "{metrics}");
    assert_eq!(
        metric(&metrics, "gazette_archive_articles{site=\"alpha\"}"),
        Some(4.0)
    );
    assert_eq!(
        metric(&metrics, "gazette_archive_articles{site=\"beta\"}"),
        Some(3.0)
    );
    assert!(metric(
        &metrics,
        "gazette_last_success_timestamp_seconds{site=\"alpha\"}"
    )
    .is_some());
    assert_eq!(
        metric(
            &metrics,
            "gazette_last_success_timestamp_seconds{site=\"broken\"}"
        ),
        None
    );
    assert!(
        metric(
            &metrics,
            "gazette_errors_total{site=\"broken\",kind=\"http_500\"}"
        )
        .unwrap_or(0.0)
            >= 2.0,
        "{metrics}"
    );
    assert!(metric(&metrics, "gazette_pages_fetched_total{site=\"alpha\"}").unwrap_or(0.0) >= 7.0);
    assert!(
        metric(
            &metrics,
            "gazette_pass_duration_seconds_count{site=\"beta\"}"
        )
        .unwrap_or(0.0)
            >= 2.0
    );

    let status = status_json(&config);
    assert_eq!(status["archive"]["articles"], files as u64);
    let a = site_status(&status, "alpha");
    assert_eq!(a["articles"], 4);
    assert_eq!(a["last_pass"]["outcome"], "done");
    assert!(a["next_pass"].is_string());
    assert_eq!(a["flags"], serde_json::json!([]));
    let b = site_status(&status, "broken");
    assert!(b["consecutive_failures"].as_u64().unwrap() >= 2, "{b}");
    assert!(
        b["flags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f == "failing"),
        "{b}"
    );
    assert_eq!(b["last_pass"]["succeeded"], false);
    let why = b["last_pass"]["error"].as_str().unwrap_or_default();
    assert!(why.contains("HTTP 500"), "a failed pass says why: {b}");

    // Down for more than one slot: the restart runs each site once, not once per slot.
    tokio::time::sleep(Duration::from_millis(3000).saturating_sub(stopped.elapsed())).await;
    let before = pass_starts(&alpha, "/xwzx/").len();
    let restarted = Instant::now();
    let service = start_service(&config, None);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let (code, _) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0);
    let after: Vec<Instant> = pass_starts(&alpha, "/xwzx/")[before..].to_vec();
    assert_eq!(after.len(), 1, "one catch-up pass after the restart");
    assert!(
        after[0] - restarted < Duration::from_millis(1200),
        "the missed pass ran at start-up"
    );
    assert_no_overlap(&alpha, "/xwzx/", LATENCY);
    assert!(temp_files(&dir.path().join("archive")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_pass_exits_cleanly_and_the_restart_finishes_the_pass_then_keeps_the_schedule()
{
    let site = start_site("slow", Duration::from_millis(60)).await;
    let col = Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        10,
        "雅安市人民政府",
        30,
        1,
    );
    col.install(&site);
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let config = write_config(
        dir.path(),
        "per_host_concurrency = 1",
        // A 1h schedule would get up to 60 s of start jitter by default.
        "shutdown_grace = \"5s\"\njitter_max = \"100ms\"",
        &[("slow", site.url("/xwzx/"), "1h")],
    );

    // SIGTERM in the middle of the first pass.
    let service = start_service(&config, None);
    let deadline = Instant::now() + Duration::from_secs(10);
    while site
        .targets()
        .iter()
        .filter(|t| t.contains("/t2023"))
        .count()
        < 5
    {
        assert!(Instant::now() < deadline, "the pass did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, took) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0);
    assert!(
        took < Duration::from_secs(3),
        "in-flight pages finish quickly: {took:?}"
    );
    let partial = articles(&archive).len();
    assert!(
        (1..30).contains(&partial),
        "{partial} articles before the stop"
    );
    assert!(temp_files(&archive).is_empty());
    let fetched_before = site.targets().len();

    // The interrupted pass runs again at start-up and finishes.
    let service = start_service(&config, None);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let status = status_json(&config);
        if site_status(&status, "slow")["last_pass"]["outcome"] == "done" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the resumed pass did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (code, _) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0);

    // Every article archived exactly once, none fetched twice.
    let mut titles: Vec<String> = articles(&archive)
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    let mut expected: Vec<String> = col.articles.iter().map(|a| a.title.clone()).collect();
    expected.sort();
    assert_eq!(titles, expected);
    // Nothing recorded before the stop was fetched again; only the page tasks in flight
    // at SIGTERM (the crawl runs per_host_concurrency + 2 = 3 at once) may repeat.
    let refetched: usize = col
        .articles
        .iter()
        .map(|a| site.count(&a.path).saturating_sub(1))
        .sum();
    assert!(refetched <= 3, "{refetched} articles fetched twice");
    let status = status_json(&config);
    let slow = site_status(&status, "slow");
    assert_eq!(slow["articles"], 30);
    assert_eq!(status["archive"]["articles"], 30);
    assert!(slow["last_pass"]["articles_new"].as_u64().unwrap() == 30 - partial as u64);
    let next = chrono::DateTime::parse_from_rfc3339(slow["next_pass"].as_str().unwrap()).unwrap();
    let until_next = next.signed_duration_since(chrono::Utc::now());
    assert!(
        until_next > chrono::TimeDelta::minutes(50),
        "next pass in {until_next}"
    );

    // A restart before the next slot keeps the schedule: nothing runs now.
    let requests = site.targets().len();
    assert!(requests > fetched_before);
    let mut service = start_service(&config, None);
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // SIGHUP with a broken config: reported, the old one kept, the service lives on.
    let hup = |service: &Service| {
        let pid = service.0.as_ref().unwrap().id().to_string();
        assert!(Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success());
    };
    write_config(
        dir.path(),
        "",
        "",
        &[("slow", site.url("/xwzx/"), "every now and then")],
    );
    hup(&service);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        service.0.as_mut().unwrap().try_wait().unwrap().is_none(),
        "a bad reload killed it"
    );

    // SIGHUP with a new site: it runs at once; the old site keeps its schedule.
    let fresh = start_site("fresh", Duration::from_millis(5)).await;
    Column::new(
        "/xwzx/",
        Charset::Utf8,
        Paging::IndexN,
        5,
        "荥经县人民政府",
        2,
        500,
    )
    .install(&fresh);
    write_config(
        dir.path(),
        "per_host_concurrency = 1",
        "shutdown_grace = \"5s\"\njitter_max = \"100ms\"",
        &[
            ("slow", site.url("/xwzx/"), "1h"),
            ("fresh", fresh.url("/xwzx/"), "1h"),
        ],
    );
    hup(&service);
    let deadline = Instant::now() + Duration::from_secs(5);
    while article_files(&archive).len() < 32 {
        assert!(
            Instant::now() < deadline,
            "the site added by SIGHUP did not run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, _) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0);
    assert_eq!(
        site.targets().len(),
        requests,
        "no pass before the next slot"
    );
}

#[test]
fn status_reports_an_empty_archive_and_bad_configs_exit_3() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "",
        "",
        &[("never", "http://127.0.0.1:9/".into(), "@daily")],
    );
    let status = status_json(&config);
    let never = site_status(&status, "never");
    assert_eq!(never["schedule"], "@daily");
    assert!(never["last_pass"].is_null());
    assert_eq!(status["archive"]["articles"], 0);

    let bad = write_config(
        dir.path(),
        "",
        "",
        &[("x", "http://127.0.0.1:9/".into(), "0 25 * * *")],
    );
    for command in ["schedule", "status"] {
        let out = Command::new(env!("CARGO_BIN_EXE_gazette"))
            .args([command, "--config"])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3), "{command}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("hour field has 25"), "{command}: {stderr}");
    }
}

/// The acceptance run of the issue: three sites on 2-second schedules for a minute, new
/// articles appearing meanwhile, SIGTERM in the middle of a pass, a restart; then every
/// article archived exactly once, status and metrics agreeing with the archive, and no
/// overlapping passes in the server's log. About 65 s: `cargo test --test schedule -- --ignored`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "takes a minute; run with --ignored"]
async fn soak_three_sites_for_a_minute() {
    const LATENCY: Duration = Duration::from_millis(50);
    let mut sites = Vec::new();
    for (i, (name, charset)) in [
        ("ya", Charset::Utf8),
        ("ms", Charset::Gbk),
        ("hc", Charset::Big5),
    ]
    .into_iter()
    .enumerate()
    {
        let server = start_site(name, LATENCY).await;
        let column = Column::new(
            "/xwzx/",
            charset,
            Paging::IndexN,
            10,
            "人民政府",
            40,
            1000 * (i as u32 + 1),
        );
        column.install(&server);
        sites.push((name, server, column));
    }
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let config = write_config(
        dir.path(),
        "",
        "shutdown_grace = \"5s\"",
        &sites
            .iter()
            .map(|(n, s, _)| (*n, s.url("/xwzx/"), "2s"))
            .collect::<Vec<_>>(),
    );
    let port = free_port();
    let mut next_id = 5000;
    let service = start_service(&config, Some(port));
    for _ in 0..6 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        for (_, server, column) in sites.iter_mut() {
            column.add_article(next_id);
            next_id += 1;
            column.install(server);
        }
    }
    // SIGTERM while some site has a request on the wire.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let busy = sites.iter().any(|(_, s, _)| {
            s.seen()
                .last()
                .is_some_and(|r| r.at.elapsed() < LATENCY / 2)
        });
        if busy || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (code, took) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0);
    eprintln!("first run stopped in {took:?}");

    let service = start_service(&config, Some(port));
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(5)).await;
        for (_, server, column) in sites.iter_mut() {
            column.add_article(next_id);
            next_id += 1;
            column.install(server);
        }
    }
    // Let the last additions be crawled, then read the endpoint between passes.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (_, metrics) = get(port, "/metrics").await;
    let (code, _) = terminate(service, Duration::from_secs(8)).await;
    assert_eq!(code, 0);

    let files = article_files(&archive);
    let expected: usize = sites.iter().map(|(_, _, c)| c.articles.len()).sum();
    assert_eq!(files.len(), expected, "every article archived exactly once");
    let mut titles: Vec<String> = articles(&archive)
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), expected);
    assert!(temp_files(&archive).is_empty());

    let status = status_json(&config);
    assert_eq!(status["archive"]["articles"], expected as u64);
    let mut from_metrics = 0.0;
    let mut from_status = 0;
    for (name, server, column) in &sites {
        assert_no_overlap(server, "/xwzx/", LATENCY);
        let starts = pass_starts(server, "/xwzx/");
        eprintln!("{name}: {} passes, gaps {:?}", starts.len(), gaps(&starts));
        assert!(starts.len() >= 20, "{name}: {} passes", starts.len());
        let s = site_status(&status, name);
        assert_eq!(s["articles"], column.articles.len() as u64, "{name}");
        from_status += s["articles"].as_u64().unwrap();
        from_metrics += metric(
            &metrics,
            &format!("gazette_archive_articles{{site=\"{name}\"}}"),
        )
        .unwrap();
    }
    assert_eq!(from_status as usize, expected);
    assert_eq!(from_metrics as usize, expected, "{metrics}");
}
