//! Extraction benchmark: prints figures, asserts nothing.
//!
//! ```text
//! cargo bench --bench extract                 # every section
//! cargo bench --bench extract -- stages e2e   # some sections: stages e2e big raw rss
//! GAZETTE_BENCH_DIR=/path/to/pages cargo bench --bench extract
//! ```
//!
//! Sections:
//! - `stages`: time per pipeline stage (decode, parse, spam, meta, clean, content,
//!   assemble, serialise), calling the public stage functions in the order
//!   `Extractor::process_decoded` does.
//! - `e2e`: read file → decode → parse → clean → extract → serialise JSON, on one core and
//!   on all cores: pages/s, MB/s (of raw HTML), latency percentiles, slowest pages.
//! - `big`: synthetic 5 MB pages (UTF-8 and GBK) through `Extractor::process`.
//! - `raw`: the cost of keeping raw pages (gzip + write, read + gunzip).
//! - `rss`: a 10,000-page batch in a child process; prints its peak RSS (VmHWM).
//!
//! Pages come from `$GAZETTE_BENCH_DIR` when set, else `../shared/corpus/gov/pages` and
//! `../shared/eval/aeb/pages` (falling back to `/work/shared/...`). A `<name>.meta.json`
//! beside `<name>.html` gives its `url` and `content_type`.
//! `GAZETTE_BENCH_SECONDS` (default 3) is the minimum time of each throughput run;
//! `GAZETTE_BENCH_BATCH` (default 10000) the size of the RSS batch;
//! `GAZETTE_BENCH_BIG_RUNS` (default 5) how often each 5 MB page is processed (1 under
//! callgrind).

/// The binary's allocator when built with `--features mimalloc`, so that the figures are
/// the ones that binary gives.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gazette::archive::{Archive, ArchiveOptions, LocalArchive, RawPageRecord};
use gazette::extract::{clean, content, meta, spam};
use gazette::{decode, Extractor, Outcome, RawPage};
use url::Url;

/// Set in the child process that measures the RSS of a batch.
const CHILD_ENV: &str = "GAZETTE_BENCH_CHILD";

fn main() {
    let extractor = match Extractor::builtin() {
        Ok(extractor) => extractor,
        Err(e) => {
            eprintln!("the built-in rules do not compile: {e}");
            std::process::exit(1);
        }
    };
    if let Ok(what) = std::env::var(CHILD_ENV) {
        child(&what, &extractor);
        return;
    }
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |section: &str| wanted.is_empty() || wanted.iter().any(|w| w == section);
    let pages = load_corpus(true);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "gazette {} extraction benchmark: {} pages, {:.1} MB, {} cores, min {:.0} s per run, \
         load average {}",
        env!("CARGO_PKG_VERSION"),
        pages.len(),
        pages.iter().map(|p| p.size).sum::<usize>() as f64 / 1e6,
        cores,
        min_time().as_secs_f64(),
        load_average()
    );
    println!(
        "(on a busy machine wall-clock rates understate; the per-CPU-second rates count only \
         the time the bench threads ran)"
    );
    if !pages.is_empty() {
        if run("stages") {
            stages(&pages, &extractor);
        }
        if run("e2e") {
            end_to_end(&pages, &extractor, 1);
            if cores > 1 {
                end_to_end(&pages, &extractor, cores);
            }
        }
    }
    if run("big") {
        big_pages(&extractor);
    }
    if !pages.is_empty() {
        if run("raw") {
            raw_pages(&pages);
        }
        if run("rss") {
            rss_batch(cores);
        }
    }
}

/// One page of the corpus (bytes are read inside the timed loops of `e2e`).
struct PageFile {
    path: PathBuf,
    name: String,
    url: Option<Url>,
    content_type: Option<String>,
    size: usize,
}

impl PageFile {
    fn raw_page(&self, bytes: Vec<u8>) -> RawPage {
        RawPage {
            bytes,
            url: self.url.clone(),
            content_type: self.content_type.clone(),
            ..RawPage::default()
        }
    }
}

fn min_time() -> Duration {
    let seconds = std::env::var("GAZETTE_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .unwrap_or(3.0);
    Duration::from_secs_f64(seconds)
}

fn corpus_dirs() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("GAZETTE_BENCH_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    ["corpus/gov/pages", "eval/aeb/pages"]
        .iter()
        .filter_map(|sub| {
            let near = manifest.join("../shared").join(sub);
            let far = Path::new("/work/shared").join(sub);
            [near, far].into_iter().find(|d| d.is_dir())
        })
        .collect()
}

fn load_corpus(verbose: bool) -> Vec<PageFile> {
    let dirs = corpus_dirs();
    if dirs.is_empty() && verbose {
        println!(
            "no page directory found (../shared is absent and GAZETTE_BENCH_DIR is unset): \
             corpus sections skipped"
        );
    }
    let mut pages = Vec::new();
    for dir in dirs {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            println!("cannot read {}: skipped", dir.display());
            continue;
        };
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("html") || e == "htm")
            })
            .collect();
        paths.sort();
        if verbose {
            println!("pages: {} ({} files)", dir.display(), paths.len());
        }
        for path in paths {
            let Ok(size) = std::fs::metadata(&path).map(|m| m.len() as usize) else {
                continue;
            };
            let meta: Option<serde_json::Value> = std::fs::read(path.with_extension("meta.json"))
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            let field = |name: &str| {
                meta.as_ref()
                    .and_then(|m| m.get(name))
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
            };
            pages.push(PageFile {
                name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                url: field("url").and_then(|u| Url::parse(&u).ok()),
                content_type: field("content_type"),
                size,
                path,
            });
        }
    }
    pages
}

// ---------------------------------------------------------------------------------------
// stages

const STAGES: [&str; 10] = [
    "screen",
    "decode",
    "parse",
    "spam",
    "meta",
    "clean",
    "content",
    "assemble",
    "free tree",
    "serialise",
];

/// Runs the cascade stage by stage on one page, adding each stage's time to `acc`.
fn timed_cascade(page: &RawPage, extractor: &Extractor, acc: &mut [Duration; 10]) {
    let rules = extractor.rules();
    let mut clock = Instant::now();
    let mut lap = |acc: &mut [Duration; 10], stage: usize| {
        let now = Instant::now();
        acc[stage] += now - clock;
        clock = now;
    };
    black_box(gazette::extract::check_input(&page.bytes, extractor.options().max_bytes).ok());
    black_box(rules.walls.detect(200, &page.bytes));
    lap(acc, 0);
    let decoded = decode::decode(&page.bytes, page.content_type.as_deref());
    lap(acc, 1);
    let mut doc = gazette::extract::parse::parse_document(&decoded.text);
    lap(acc, 2);
    let base = meta::base_url(&doc, page.address());
    let removed = spam::remove_spam(&mut doc, &decoded.text, base.as_ref(), &rules.spam);
    lap(acc, 3);
    let mut page_meta = meta::read(&doc, base.as_ref(), &rules.meta, extractor.options());
    lap(acc, 4);
    black_box(clean::clean(&mut doc, &rules.clean));
    lap(acc, 5);
    let body = content::extract_body(&doc, base.as_ref(), &rules.content);
    black_box(spam::is_spam_page(&removed, &page_meta, &rules.spam));
    lap(acc, 6);
    if let content::BodyOutcome::Body(mut body) = body {
        meta::complete(&mut page_meta, &mut body, &rules.meta);
        let text = body.text();
        black_box(gazette::extract::hex_sha256(text.as_bytes()));
        black_box(decoded.info());
    }
    lap(acc, 7);
    drop(doc);
    black_box(page_meta);
    lap(acc, 8);
}

fn stages(pages: &[PageFile], extractor: &Extractor) {
    println!("\n== stages (one core; public stage functions in pipeline order)");
    let inputs: Vec<RawPage> = pages
        .iter()
        .filter_map(|p| std::fs::read(&p.path).ok().map(|b| p.raw_page(b)))
        .collect();
    // Serialisation is timed on the outcome the real pipeline produces.
    let outcomes: Vec<Option<Outcome>> = inputs.iter().map(|p| extractor.process(p).ok()).collect();
    let bytes: usize = inputs.iter().map(|p| p.bytes.len()).sum();
    let mut acc = [Duration::ZERO; 10];
    let mut whole = Duration::ZERO;
    let mut rounds = 0;
    let started = Instant::now();
    let cpu_start = thread_cpu_time();
    while rounds == 0 || started.elapsed() < min_time() {
        for (page, outcome) in inputs.iter().zip(&outcomes) {
            timed_cascade(page, extractor, &mut acc);
            if let Some(outcome) = outcome {
                let t = Instant::now();
                black_box(serde_json::to_vec(outcome).ok());
                acc[9] += t.elapsed();
            }
        }
        let t = Instant::now();
        for page in &inputs {
            black_box(extractor.process(page).ok());
        }
        whole += t.elapsed();
        rounds += 1;
    }
    // The share of the wall time this thread was on a CPU: stage times are scaled by it
    // so that a busy machine does not inflate them.
    let on_cpu = match (cpu_start, thread_cpu_time()) {
        (Some(a), Some(b)) => {
            (b.saturating_sub(a).as_secs_f64() / started.elapsed().as_secs_f64().max(1e-9)).min(1.0)
        }
        _ => 1.0,
    };
    println!(
        "(this thread was on a CPU {:.0}% of the time; figures are scaled to CPU time)",
        on_cpu * 100.0
    );
    for d in acc.iter_mut().chain(std::iter::once(&mut whole)) {
        *d = d.mul_f64(on_cpu);
    }
    let n = (inputs.len() * rounds) as f64;
    let total: Duration = acc.iter().sum();
    println!(
        "{:<10} {:>10} {:>8} {:>10}",
        "stage", "µs/page", "share", "MB/s"
    );
    for (name, d) in STAGES.iter().zip(acc) {
        println!(
            "{:<10} {:>10.1} {:>7.1}% {:>10.1}",
            name,
            d.as_secs_f64() * 1e6 / n,
            100.0 * d.as_secs_f64() / total.as_secs_f64().max(1e-12),
            (bytes * rounds) as f64 / 1e6 / d.as_secs_f64().max(1e-12)
        );
    }
    println!(
        "{:<10} {:>10.1}   (Extractor::process alone: {:.1} µs/page, {} rounds)",
        "sum",
        total.as_secs_f64() * 1e6 / n,
        whole.as_secs_f64() * 1e6 / n,
        rounds
    );
}

// ---------------------------------------------------------------------------------------
// end to end

/// Read, extract and serialise one page; returns the outcome class for the tally.
fn end_to_end_page(page: &PageFile, extractor: &Extractor) -> &'static str {
    let Ok(bytes) = std::fs::read(&page.path) else {
        return "unreadable";
    };
    match extractor.process(&page.raw_page(bytes)) {
        Ok(outcome) => {
            black_box(serde_json::to_vec(&outcome).ok());
            match outcome {
                Outcome::Article(_) => "article",
                Outcome::NotArticle(_) => "not_article",
            }
        }
        Err(_) => "error",
    }
}

fn end_to_end(pages: &[PageFile], extractor: &Extractor, threads: usize) {
    println!(
        "\n== end to end on {threads} thread{} (read, decode, parse, spam, meta, clean, content, serialise)",
        if threads == 1 { "" } else { "s" }
    );
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let latencies = Mutex::new(Vec::<(Duration, usize)>::new());
    let cpu = Mutex::new(Duration::ZERO);
    let tally = Mutex::new(std::collections::BTreeMap::<&'static str, usize>::new());
    let started = Instant::now();
    // Pages are handed out one by one; the run stops at the first round boundary after
    // min_time, so every page weighs the same in the figures.
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut local = Vec::new();
                let cpu_start = thread_cpu_time();
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let round = i / pages.len();
                    if round > 0 && i % pages.len() == 0 && started.elapsed() >= min_time() {
                        stop.store(true, Ordering::Relaxed);
                        break;
                    }
                    let page = &pages[i % pages.len()];
                    let t = Instant::now();
                    let class = end_to_end_page(page, extractor);
                    local.push((t.elapsed(), i % pages.len()));
                    if round == 0 {
                        *tally.lock().unwrap().entry(class).or_default() += 1;
                    }
                }
                if let (Some(start), Some(end)) = (cpu_start, thread_cpu_time()) {
                    *cpu.lock().unwrap() += end.saturating_sub(start);
                }
                latencies.lock().unwrap().extend(local);
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies = latencies.into_inner().unwrap();
    let processed = latencies.len();
    let rounds = processed as f64 / pages.len() as f64;
    let bytes: usize = latencies.iter().map(|(_, i)| pages[*i].size).sum();
    let bytes = bytes as f64;
    println!(
        "{} pages ({:.1} rounds) in {:.2} s: {:.1} pages/s, {:.1} MB/s",
        processed,
        rounds,
        elapsed,
        processed as f64 / elapsed,
        bytes / 1e6 / elapsed
    );
    let cpu = cpu.into_inner().unwrap().as_secs_f64();
    if cpu > 0.0 {
        println!(
            "CPU time {:.2} s: {:.1} pages per CPU-second, {:.1} MB per CPU-second",
            cpu,
            processed as f64 / cpu,
            bytes / 1e6 / cpu
        );
    }
    latencies.sort();
    let pct = |q: f64| {
        let i = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(i).map_or(0.0, |(d, _)| d.as_secs_f64() * 1e3)
    };
    println!(
        "latency ms: p50 {:.2}, p90 {:.2}, p99 {:.2}, max {:.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
    println!("outcomes (first round): {:?}", tally.into_inner().unwrap());
    if threads == 1 {
        let mut worst: Vec<(Duration, usize)> = latencies.iter().rev().copied().collect();
        worst.dedup_by_key(|(_, i)| *i);
        let mut seen = std::collections::HashSet::new();
        let worst: Vec<_> = worst
            .into_iter()
            .filter(|(_, i)| seen.insert(*i))
            .take(5)
            .collect();
        println!("slowest pages:");
        for (d, i) in worst {
            let p = &pages[i];
            println!(
                "  {:>8.2} ms {:>8.1} KB  {}",
                d.as_secs_f64() * 1e3,
                p.size as f64 / 1e3,
                p.name
            );
        }
    }
}

/// Time the calling thread has spent on a CPU (Linux `schedstat`, nanoseconds).
fn thread_cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".into())
}

// ---------------------------------------------------------------------------------------
// synthetic 5 MB pages

/// An invented county-government article page of about `target` bytes: navigation,
/// an info line, a long body of paragraphs and tables, related links and a footer.
fn synthetic_page(target: usize, charset: &str) -> String {
    const SENTENCES: [&str; 6] = [
        "县人民政府召开第{n}次常务会议，研究部署春季农业生产和防汛准备工作。",
        "会议要求各乡镇切实做好农资供应、水利设施检修和技术服务，确保不误农时。",
        "截至{n}月底，全县已完成高标准农田建设{n}万亩，新建灌溉渠道{n}公里。",
        "县农业农村局负责同志介绍了病虫害监测预警情况，并对下一步工作提出具体意见。",
        "各部门要加强协调配合，压实工作责任，及时向社会公开工作进展情况。",
        "本次会议还审议通过了《关于进一步加强农村公路养护管理的实施方案》。",
    ];
    let mut html = String::with_capacity(target + 4096);
    html.push_str(&format!(
        "<!DOCTYPE html><html><head><meta charset=\"{charset}\"><title>县政府召开常务会议 部署春季农业生产工作</title>\
         <meta name=\"PubDate\" content=\"2024-03-05 09:30\"><meta name=\"ContentSource\" content=\"县政府办公室\"></head><body>\
         <div class=\"header\"><ul class=\"nav\">"
    ));
    for i in 0..120 {
        html.push_str(&format!(
            "<li><a href=\"/col{i}/index.html\">栏目{i}</a></li>"
        ));
    }
    html.push_str("</ul></div><div class=\"main\"><h1>县政府召开常务会议 部署春季农业生产工作</h1>\
                   <div class=\"info\">发布时间：2024-03-05 09:30 来源：县政府办公室 浏览次数：<span>128</span></div>\
                   <div class=\"TRS_Editor\">");
    let mut n = 0usize;
    while html.len() < target.saturating_sub(8192) {
        n += 1;
        if n % 40 == 0 {
            html.push_str("<table><tr><th>乡镇</th><th>面积（万亩）</th><th>进度</th></tr>");
            for r in 0..10 {
                html.push_str(&format!(
                    "<tr><td>第{r}镇</td><td>{}.{}</td><td>{}%</td></tr>",
                    n % 97,
                    r,
                    (n + r) % 100
                ));
            }
            html.push_str("</table>");
        }
        html.push_str("<p>");
        for k in 0..4 {
            html.push_str(
                &SENTENCES[(n + k) % SENTENCES.len()].replace("{n}", &(n % 1000).to_string()),
            );
        }
        html.push_str("</p>");
    }
    html.push_str("</div><div class=\"related\"><h3>相关链接</h3><ul>");
    for i in 0..30 {
        html.push_str(&format!(
            "<li><a href=\"/a/{i}.html\">相关新闻标题第{i}条</a></li>"
        ));
    }
    html.push_str(
        "</ul></div></div><div class=\"footer\">主办：县人民政府办公室 政府网站标识码：0000000000 \
                   <a href=\"#\">网站地图</a></div></body></html>",
    );
    html
}

fn big_pages(extractor: &Extractor) {
    println!("\n== synthetic 5 MB pages (Extractor::process, best and median of $GAZETTE_BENCH_BIG_RUNS, default 5)");
    let utf8 = synthetic_page(5_000_000, "utf-8");
    // GBK takes two bytes where UTF-8 takes three: 7.5 MB of UTF-8 text is 5 MB of GBK.
    let gbk_text = synthetic_page(7_500_000, "gbk");
    let gbk = encoding_rs::GBK.encode(&gbk_text).0.into_owned();
    let url = Url::parse("http://www.example.gov.cn/art/2024/3/5/art_1_1.html").ok();
    for (label, bytes) in [("UTF-8", utf8.into_bytes()), ("GBK", gbk)] {
        let page = RawPage {
            bytes,
            url: url.clone(),
            ..RawPage::default()
        };
        let mut times = Vec::new();
        let mut cpu_best = Duration::MAX;
        let mut text_chars = 0;
        for _ in 0..big_runs() {
            let cpu = thread_cpu_time();
            let t = Instant::now();
            let outcome = extractor.process(&page);
            times.push(t.elapsed());
            if let (Some(start), Some(end)) = (cpu, thread_cpu_time()) {
                cpu_best = cpu_best.min(end.saturating_sub(start));
            }
            if let Ok(Outcome::Article(a)) = &outcome {
                text_chars = a.text.chars().count();
            }
        }
        times.sort();
        let mut acc = [Duration::ZERO; 10];
        timed_cascade(&page, extractor, &mut acc);
        let breakdown: Vec<String> = STAGES[..7]
            .iter()
            .zip(acc)
            .map(|(s, d)| format!("{s} {:.1}", d.as_secs_f64() * 1e3))
            .collect();
        println!(
            "{label:<5} {:.2} MB: best {:.1} ms, median {:.1} ms, best CPU {:.1} ms ({} chars of text); \
             ms by stage: {}",
            page.bytes.len() as f64 / 1e6,
            times[0].as_secs_f64() * 1e3,
            times[times.len() / 2].as_secs_f64() * 1e3,
            cpu_best.as_secs_f64() * 1e3,
            text_chars,
            breakdown.join(", ")
        );
    }
}

// ---------------------------------------------------------------------------------------
// raw page keeping

fn raw_pages(pages: &[PageFile]) {
    println!("\n== keeping raw pages (LocalArchive::put_raw: gzip, atomic writes with fsync)");
    let Ok(dir) = tempfile::tempdir() else {
        println!("no temporary folder: skipped");
        return;
    };
    let archive = LocalArchive::with_options(dir.path(), ArchiveOptions { keep_raw: true });
    let records: Vec<(String, RawPageRecord)> = pages
        .iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p.path).ok()?;
            let page = p.raw_page(bytes);
            let identity = page
                .url
                .as_ref()
                .map(|u| u.to_string())
                .unwrap_or_else(|| format!("http://bench.invalid/{}", p.name));
            Some((identity, RawPageRecord::from_page(&page)))
        })
        .collect();
    let bytes: usize = records.iter().map(|(_, r)| r.bytes.len()).sum();
    for level in [1, 6] {
        let t = Instant::now();
        let mut out = 0;
        for (_, record) in &records {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            std::io::Write::write_all(&mut gz, &record.bytes).expect("in memory");
            out += gz.finish().expect("in memory").len();
        }
        let secs = t.elapsed().as_secs_f64();
        println!(
            "gzip level {level} alone: {:.1} MB/s, {:.0} pages/s, {:.1}% of the size",
            bytes as f64 / 1e6 / secs,
            records.len() as f64 / secs,
            100.0 * out as f64 / bytes.max(1) as f64
        );
    }
    let t = Instant::now();
    for (identity, record) in &records {
        archive.put_raw(identity, record).expect("raw page stored");
    }
    let put = t.elapsed().as_secs_f64();
    let compressed: u64 = walk_size(dir.path(), ".raw.html.gz");
    let t = Instant::now();
    let keys: Vec<String> = archive.raw_keys().filter_map(Result::ok).collect();
    for key in &keys {
        black_box(archive.get_raw(key).expect("raw page read"));
    }
    let get = t.elapsed().as_secs_f64();
    let n = records.len() as f64;
    println!(
        "put_raw: {:.0} pages/s, {:.1} MB/s; compressed to {:.1}% of {:.1} MB",
        n / put,
        bytes as f64 / 1e6 / put,
        100.0 * compressed as f64 / bytes.max(1) as f64,
        bytes as f64 / 1e6
    );
    println!(
        "raw_keys + get_raw: {:.0} pages/s, {:.1} MB/s ({} keys)",
        keys.len() as f64 / get,
        bytes as f64 / 1e6 / get,
        keys.len()
    );
}

fn walk_size(dir: &Path, suffix: &str) -> u64 {
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                total += walk_size(&path, suffix);
            } else if path.to_string_lossy().ends_with(suffix) {
                total += entry.metadata().map_or(0, |m| m.len());
            }
        }
    }
    total
}

// ---------------------------------------------------------------------------------------
// peak RSS of a batch

/// Peak resident set size of this process in KB (VmHWM), Linux only.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn big_runs() -> usize {
    std::env::var("GAZETTE_BENCH_BIG_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map_or(5, |n: usize| n.max(1))
}

fn batch_size() -> usize {
    std::env::var("GAZETTE_BENCH_BATCH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000)
}

/// Runs the batch in a fresh process so that the peak is the batch's, not the bench's.
fn rss_batch(cores: usize) {
    println!(
        "\n== peak RSS of a {}-page batch (child process)",
        batch_size()
    );
    let Ok(exe) = std::env::current_exe() else {
        println!("cannot find the bench executable: skipped");
        return;
    };
    for jobs in [1, cores] {
        let status = Command::new(&exe)
            .env(CHILD_ENV, format!("rss:{jobs}"))
            .status();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            println!("the batch child failed: {status:?}");
        }
        if cores == 1 {
            break;
        }
    }
}

fn child(what: &str, extractor: &Extractor) {
    let Some(jobs) = what
        .strip_prefix("rss:")
        .and_then(|j| j.parse::<usize>().ok())
    else {
        eprintln!("unknown child task {what:?}");
        std::process::exit(2);
    };
    let pages = load_corpus(false);
    if pages.is_empty() {
        return;
    }
    let baseline = peak_rss_kb().unwrap_or(0);
    let batch = batch_size();
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= batch {
                    break;
                }
                black_box(end_to_end_page(&pages[i % pages.len()], extractor));
            });
        }
    });
    let elapsed = started.elapsed().as_secs_f64();
    match peak_rss_kb() {
        Some(peak) => println!(
            "{batch} pages on {jobs} thread(s) in {elapsed:.1} s ({:.0} pages/s): peak RSS {:.1} MB \
             (after loading rules and page list: {:.1} MB)",
            batch as f64 / elapsed,
            peak as f64 / 1024.0,
            baseline as f64 / 1024.0
        ),
        None => println!("peak RSS unavailable (no /proc/self/status)"),
    }
}
