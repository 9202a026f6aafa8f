//! Service metrics in the Prometheus text format, and the tiny HTTP endpoint that serves
//! them (`gazette schedule --listen 127.0.0.1:PORT`: `GET /healthz`, `GET /metrics`).
//!
//! Counters count since the service started (Prometheus handles restarts); gauges such
//! as the archive totals are refreshed from the crawl state after every pass. The HTTP
//! side is a deliberately small HTTP/1.1 responder: two paths, `GET` / `HEAD` only, one
//! request per connection, bounded request size and read time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// Upper bounds (seconds) of the pass duration histogram buckets.
const DURATION_BUCKETS: [f64; 10] = [
    1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 10_800.0, 43_200.0,
];

/// What one finished pass adds to the metrics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PassMetrics {
    pub site: String,
    /// `ok`, `failed`, `blocked`, `interrupted`, ...
    pub outcome: String,
    pub succeeded: bool,
    pub duration: Duration,
    pub pages_fetched: u64,
    pub bytes: u64,
    pub articles_new: u64,
    pub articles_updated: u64,
    pub articles_unchanged: u64,
    /// Error kind (`http_404`, `timeout`, `blocked`, ...) → count.
    pub errors: BTreeMap<String, u64>,
    pub blocked: bool,
    pub spam_pages: u64,
    /// Unix time the pass finished.
    pub finished_at: f64,
}

/// Per-site gauges refreshed from the state and the timetable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SiteGauges {
    /// Articles of the site in the archive (from the crawl state).
    pub archive_articles: u64,
    /// Unix time of the next planned pass.
    pub next_run: Option<f64>,
    pub running: bool,
    pub consecutive_failures: u32,
}

#[derive(Debug, Default)]
struct SiteMetrics {
    pages_fetched: u64,
    bytes: u64,
    articles: [u64; 3],
    errors: BTreeMap<String, u64>,
    passes: BTreeMap<String, u64>,
    duration_buckets: [u64; DURATION_BUCKETS.len()],
    duration_sum: f64,
    duration_count: u64,
    last_success: Option<f64>,
    blocked: bool,
    spam_flagged: bool,
    gauges: SiteGauges,
}

/// The metrics of a running service; shared between the scheduler and the endpoint.
#[derive(Debug, Default)]
pub struct Metrics {
    sites: Mutex<BTreeMap<String, SiteMetrics>>,
    /// Unix time the service started.
    started_at: Mutex<f64>,
}

impl Metrics {
    pub fn new(started_at: f64) -> Self {
        Metrics {
            sites: Mutex::default(),
            started_at: Mutex::new(started_at),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, SiteMetrics>) -> T) -> T {
        let mut sites = self.sites.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut sites)
    }

    /// Counts a finished pass.
    pub fn record_pass(&self, pass: &PassMetrics) {
        self.with(|sites| {
            let site = sites.entry(pass.site.clone()).or_default();
            site.pages_fetched += pass.pages_fetched;
            site.bytes += pass.bytes;
            site.articles[0] += pass.articles_new;
            site.articles[1] += pass.articles_updated;
            site.articles[2] += pass.articles_unchanged;
            for (kind, n) in &pass.errors {
                *site.errors.entry(kind.clone()).or_default() += n;
            }
            *site.passes.entry(pass.outcome.clone()).or_default() += 1;
            let seconds = pass.duration.as_secs_f64();
            for (bucket, bound) in site.duration_buckets.iter_mut().zip(DURATION_BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            site.duration_sum += seconds;
            site.duration_count += 1;
            if pass.succeeded {
                site.last_success = Some(pass.finished_at);
            }
            site.blocked = pass.blocked;
            site.spam_flagged = pass.spam_pages > 0;
        })
    }

    /// Sets a site's last success from the state (so it survives restarts).
    pub fn set_last_success(&self, site: &str, at: Option<f64>) {
        self.with(|sites| {
            let s = sites.entry(site.to_string()).or_default();
            if s.last_success.is_none() {
                s.last_success = at;
            }
        })
    }

    /// Sets the flags a site had at its last pass (from the state, at start-up).
    pub fn set_flags(&self, site: &str, blocked: bool, spam_flagged: bool) {
        self.with(|sites| {
            let s = sites.entry(site.to_string()).or_default();
            s.blocked = blocked;
            s.spam_flagged = spam_flagged;
        })
    }

    pub fn set_gauges(&self, site: &str, gauges: SiteGauges) {
        self.with(|sites| sites.entry(site.to_string()).or_default().gauges = gauges)
    }

    /// Forgets sites removed from the config.
    pub fn retain_sites(&self, keep: &[&str]) {
        self.with(|sites| sites.retain(|name, _| keep.contains(&name.as_str())))
    }

    /// The metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let started_at = *self.started_at.lock().unwrap_or_else(|p| p.into_inner());
        self.with(|sites| {
            let mut out = String::new();
            let mut family = |name: &str, kind: &str, help: &str, lines: Vec<String>| {
                let _ = writeln!(out, "# HELP {name} {help}");
                let _ = writeln!(out, "# TYPE {name} {kind}");
                for line in lines {
                    out.push_str(&line);
                    out.push('\n');
                }
            };
            let per_site = |f: &dyn Fn(&str, &SiteMetrics) -> Vec<String>| -> Vec<String> {
                sites.iter().flat_map(|(name, s)| f(&label(name), s)).collect()
            };
            family(
                "gazette_start_time_seconds",
                "gauge",
                "Unix time the service started.",
                vec![format!("gazette_start_time_seconds {}", number(started_at))],
            );
            family(
                "gazette_pages_fetched_total",
                "counter",
                "Pages fetched by crawl passes.",
                per_site(&|l, s| {
                    vec![format!("gazette_pages_fetched_total{{site=\"{l}\"}} {}", s.pages_fetched)]
                }),
            );
            family(
                "gazette_bytes_fetched_total",
                "counter",
                "Bytes of page bodies fetched.",
                per_site(&|l, s| {
                    vec![format!("gazette_bytes_fetched_total{{site=\"{l}\"}} {}", s.bytes)]
                }),
            );
            family(
                "gazette_articles_archived_total",
                "counter",
                "Articles written to the archive (new or updated) or found unchanged.",
                per_site(&|l, s| {
                    ["new", "updated", "unchanged"]
                        .iter()
                        .zip(s.articles)
                        .map(|(status, n)| {
                            format!(
                                "gazette_articles_archived_total{{site=\"{l}\",status=\"{status}\"}} {n}"
                            )
                        })
                        .collect()
                }),
            );
            family(
                "gazette_errors_total",
                "counter",
                "URLs that failed, by kind.",
                per_site(&|l, s| {
                    s.errors
                        .iter()
                        .map(|(kind, n)| {
                            format!(
                                "gazette_errors_total{{site=\"{l}\",kind=\"{}\"}} {n}",
                                label(kind)
                            )
                        })
                        .collect()
                }),
            );
            family(
                "gazette_passes_total",
                "counter",
                "Finished crawl passes, by outcome.",
                per_site(&|l, s| {
                    s.passes
                        .iter()
                        .map(|(outcome, n)| {
                            format!(
                                "gazette_passes_total{{site=\"{l}\",outcome=\"{}\"}} {n}",
                                label(outcome)
                            )
                        })
                        .collect()
                }),
            );
            family(
                "gazette_pass_duration_seconds",
                "histogram",
                "How long crawl passes took.",
                per_site(&|l, s| {
                    let mut lines: Vec<String> = DURATION_BUCKETS
                        .iter()
                        .zip(s.duration_buckets)
                        .map(|(bound, n)| {
                            format!(
                                "gazette_pass_duration_seconds_bucket{{site=\"{l}\",le=\"{}\"}} {n}",
                                number(*bound)
                            )
                        })
                        .collect();
                    lines.push(format!(
                        "gazette_pass_duration_seconds_bucket{{site=\"{l}\",le=\"+Inf\"}} {}",
                        s.duration_count
                    ));
                    lines.push(format!(
                        "gazette_pass_duration_seconds_sum{{site=\"{l}\"}} {}",
                        number(s.duration_sum)
                    ));
                    lines.push(format!(
                        "gazette_pass_duration_seconds_count{{site=\"{l}\"}} {}",
                        s.duration_count
                    ));
                    lines
                }),
            );
            family(
                "gazette_last_success_timestamp_seconds",
                "gauge",
                "Unix time the last successful pass of the site finished.",
                per_site(&|l, s| {
                    s.last_success
                        .map(|t| {
                            format!(
                                "gazette_last_success_timestamp_seconds{{site=\"{l}\"}} {}",
                                number(t)
                            )
                        })
                        .into_iter()
                        .collect()
                }),
            );
            family(
                "gazette_next_run_timestamp_seconds",
                "gauge",
                "Unix time the next pass of the site is planned.",
                per_site(&|l, s| {
                    s.gauges
                        .next_run
                        .map(|t| {
                            format!(
                                "gazette_next_run_timestamp_seconds{{site=\"{l}\"}} {}",
                                number(t)
                            )
                        })
                        .into_iter()
                        .collect()
                }),
            );
            let flag = |name: &'static str, get: fn(&SiteMetrics) -> bool| {
                per_site(&move |l, s| vec![format!("{name}{{site=\"{l}\"}} {}", u8::from(get(s)))])
            };
            family(
                "gazette_site_blocked",
                "gauge",
                "1 when the last pass of the site hit an anti-bot wall.",
                flag("gazette_site_blocked", |s| s.blocked),
            );
            family(
                "gazette_site_spam_flagged",
                "gauge",
                "1 when the last pass of the site found injected spam (the site is probably compromised).",
                flag("gazette_site_spam_flagged", |s| s.spam_flagged),
            );
            family(
                "gazette_site_running",
                "gauge",
                "1 while a pass of the site runs.",
                flag("gazette_site_running", |s| s.gauges.running),
            );
            family(
                "gazette_site_consecutive_failures",
                "gauge",
                "Failed passes in a row (the site is backed off from 2).",
                per_site(&|l, s| {
                    vec![format!(
                        "gazette_site_consecutive_failures{{site=\"{l}\"}} {}",
                        s.gauges.consecutive_failures
                    )]
                }),
            );
            family(
                "gazette_archive_articles",
                "gauge",
                "Articles of the site in the archive.",
                per_site(&|l, s| {
                    vec![format!(
                        "gazette_archive_articles{{site=\"{l}\"}} {}",
                        s.gauges.archive_articles
                    )]
                }),
            );
            out
        })
    }
}

/// A label value escaped for the text format.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// A float without a trailing `.0` for whole numbers, as Prometheus writes them.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// What `/healthz` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Running,
    /// SIGTERM received, passes are finishing: 503 so load balancers look elsewhere.
    ShuttingDown,
}

/// Serves `/healthz` and `/metrics` until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    metrics: std::sync::Arc<Metrics>,
    health: watch::Receiver<Health>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let metrics = metrics.clone();
                let health = *health.borrow();
                tokio::spawn(async move {
                    let _ = respond(stream, &metrics, health).await;
                });
            }
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    return;
                }
            }
        }
    }
}

const MAX_REQUEST_BYTES: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(5);

async fn respond(mut stream: TcpStream, metrics: &Metrics, health: Health) -> std::io::Result<()> {
    let mut request = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    let read_head = async {
        while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < MAX_REQUEST_BYTES {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        Ok::<_, std::io::Error>(())
    };
    if tokio::time::timeout(READ_TIMEOUT, read_head).await.is_err() {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&request);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let method = words.next().unwrap_or("");
    let path = words.next().unwrap_or("").split('?').next().unwrap_or("");
    let (status, content_type, body) = match (method, path) {
        ("GET" | "HEAD", "/healthz") => match health {
            Health::Running => ("200 OK", "text/plain; charset=utf-8", "ok\n".to_string()),
            Health::ShuttingDown => (
                "503 Service Unavailable",
                "text/plain; charset=utf-8",
                "shutting down\n".to_string(),
            ),
        },
        ("GET" | "HEAD", "/metrics") => (
            "200 OK",
            "text/plain; version=0.0.4; charset=utf-8",
            metrics.render(),
        ),
        ("GET" | "HEAD", _) => (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "not found: try /healthz or /metrics\n".to_string(),
        ),
        _ => (
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            "only GET and HEAD\n".to_string(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status.starts_with("405") {
        response.push_str("Allow: GET, HEAD\r\n");
    }
    response.push_str("\r\n");
    if method != "HEAD" {
        response.push_str(&body);
    }
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass(site: &str, new: u64, seconds: u64, ok: bool) -> PassMetrics {
        PassMetrics {
            site: site.into(),
            outcome: if ok { "ok" } else { "failed" }.into(),
            succeeded: ok,
            duration: Duration::from_secs(seconds),
            pages_fetched: 10,
            bytes: 1000,
            articles_new: new,
            errors: [("http_404".to_string(), 2)].into_iter().collect(),
            spam_pages: u64::from(!ok),
            finished_at: 1_764_000_000.0,
            ..PassMetrics::default()
        }
    }

    #[test]
    fn renders_counters_histograms_and_flags() {
        let metrics = Metrics::new(1_700_000_000.0);
        metrics.record_pass(&pass("yaan", 3, 4, true));
        metrics.record_pass(&pass("yaan", 2, 20, true));
        metrics.record_pass(&pass("we\"ird", 0, 1, false));
        metrics.set_gauges(
            "yaan",
            SiteGauges {
                archive_articles: 5,
                next_run: Some(1_764_000_100.0),
                ..SiteGauges::default()
            },
        );
        let text = metrics.render();
        for line in [
            "gazette_pages_fetched_total{site=\"yaan\"} 20",
            "gazette_articles_archived_total{site=\"yaan\",status=\"new\"} 5",
            "gazette_errors_total{site=\"yaan\",kind=\"http_404\"} 4",
            "gazette_passes_total{site=\"yaan\",outcome=\"ok\"} 2",
            "gazette_pass_duration_seconds_bucket{site=\"yaan\",le=\"5\"} 1",
            "gazette_pass_duration_seconds_bucket{site=\"yaan\",le=\"60\"} 2",
            "gazette_pass_duration_seconds_bucket{site=\"yaan\",le=\"+Inf\"} 2",
            "gazette_pass_duration_seconds_sum{site=\"yaan\"} 24",
            "gazette_last_success_timestamp_seconds{site=\"yaan\"} 1764000000",
            "gazette_next_run_timestamp_seconds{site=\"yaan\"} 1764000100",
            "gazette_archive_articles{site=\"yaan\"} 5",
            "gazette_site_spam_flagged{site=\"we\\\"ird\"} 1",
            "gazette_site_blocked{site=\"yaan\"} 0",
            "# TYPE gazette_pass_duration_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
        assert!(!text.contains("gazette_last_success_timestamp_seconds{site=\"we"));
    }

    #[tokio::test]
    async fn serves_healthz_and_metrics_over_http() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let metrics = std::sync::Arc::new(Metrics::new(0.0));
        metrics.record_pass(&pass("a", 1, 1, true));
        let (_health_tx, health) = watch::channel(Health::Running);
        let (stop_tx, stop) = watch::channel(false);
        let server = tokio::spawn(serve(listener, metrics, health, stop));
        let get = |request: &'static str| async move {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            stream.write_all(request.as_bytes()).await.unwrap();
            let mut response = String::new();
            stream.read_to_string(&mut response).await.unwrap();
            response
        };
        let health = get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await;
        assert!(health.starts_with("HTTP/1.1 200 OK\r\n") && health.ends_with("\r\n\r\nok\n"));
        let metrics = get("GET /metrics?x=1 HTTP/1.1\r\n\r\n").await;
        assert!(metrics.contains("text/plain; version=0.0.4"));
        assert!(metrics.contains("gazette_pages_fetched_total{site=\"a\"} 10"));
        assert!(get("GET /nope HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 404"));
        assert!(get("POST /metrics HTTP/1.1\r\n\r\n")
            .await
            .starts_with("HTTP/1.1 405"));
        stop_tx.send(true).unwrap();
        server.await.unwrap();
    }
}
