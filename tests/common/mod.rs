//! A multi-site test server on 127.0.0.1 for crawl tests. Each simulated site listens
//! on its own port (so each is its own host key) and every site records what it saw:
//! the URLs requested, when, and how many requests were in flight at once.
//!
//! Page content is invented: article pages with a title, a 发布时间 line and several
//! paragraphs of made-up Chinese text, list pages with paging, in UTF-8, GBK or Big5.

#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::Router;

/// One canned response.
#[derive(Clone, Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn html(body: Vec<u8>, charset: &str) -> Self {
        Resp {
            status: 200,
            headers: vec![(
                "content-type".into(),
                format!("text/html; charset={charset}"),
            )],
            body,
        }
    }
    pub fn status(status: u16, body: &str) -> Self {
        Resp {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }
    pub fn text(body: &str) -> Self {
        Resp {
            status: 200,
            headers: vec![("content-type".into(), "text/plain".into())],
            body: body.as_bytes().to_vec(),
        }
    }
    pub fn redirect(to: &str) -> Self {
        Resp {
            status: 302,
            headers: vec![("location".into(), to.into())],
            body: Vec::new(),
        }
    }
    pub fn with_header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }
}

/// How a path answers.
pub enum Route {
    /// Always the same response.
    Fixed(Resp),
    /// One response per request in order; the last repeats (500 then 200).
    Sequence(Vec<Resp>, usize),
    /// Never answers.
    Hang,
    /// Computed from the query string (calendar traps).
    Dynamic(Box<dyn Fn(&str) -> Resp + Send + Sync>),
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// Path and query.
    pub target: String,
    pub at: Instant,
    pub user_agent: String,
    pub if_none_match: Option<String>,
}

#[derive(Default)]
struct Log {
    seen: Vec<Seen>,
    in_flight: usize,
    max_in_flight: usize,
}

/// One simulated site.
pub struct SiteServer {
    pub name: String,
    pub addr: SocketAddr,
    routes: Mutex<HashMap<String, Route>>,
    log: Mutex<Log>,
    latency: Duration,
}

impl SiteServer {
    /// `http://127.0.0.1:PORT`
    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base(), path)
    }
    /// Sets (or replaces) a route.
    pub fn route(&self, path: &str, route: Route) {
        self.routes.lock().unwrap().insert(path.to_string(), route);
    }
    pub fn page(&self, path: &str, resp: Resp) {
        self.route(path, Route::Fixed(resp));
    }
    pub fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().seen.clone()
    }
    pub fn targets(&self) -> Vec<String> {
        self.seen().into_iter().map(|s| s.target).collect()
    }
    pub fn count(&self, target: &str) -> usize {
        self.seen().iter().filter(|s| s.target == target).count()
    }
    pub fn max_in_flight(&self) -> usize {
        self.log.lock().unwrap().max_in_flight
    }
    /// The smallest gap between two consecutive request arrivals.
    pub fn min_gap(&self) -> Option<Duration> {
        let seen = self.seen();
        seen.windows(2)
            .map(|w| w[1].at.duration_since(w[0].at))
            .min()
    }
    pub fn clear_log(&self) {
        let mut log = self.log.lock().unwrap();
        log.seen.clear();
        log.max_in_flight = 0;
    }
}

async fn handle(State(site): State<Arc<SiteServer>>, req: Request) -> Response {
    let target = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".into());
    let (user_agent, if_none_match, path, query) = {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        (
            header("user-agent").unwrap_or_default(),
            header("if-none-match"),
            req.uri().path().to_string(),
            req.uri().query().unwrap_or("").to_string(),
        )
    };
    drop(req);
    {
        let mut log = site.log.lock().unwrap();
        log.seen.push(Seen {
            target: target.clone(),
            at: Instant::now(),
            user_agent,
            if_none_match: if_none_match.clone(),
        });
        log.in_flight += 1;
        log.max_in_flight = log.max_in_flight.max(log.in_flight);
    }
    struct Done(Arc<SiteServer>);
    impl Drop for Done {
        fn drop(&mut self) {
            self.0.log.lock().unwrap().in_flight -= 1;
        }
    }
    let _done = Done(site.clone());
    tokio::time::sleep(site.latency).await;
    let resp = {
        let mut routes = site.routes.lock().unwrap();
        let key = if routes.contains_key(&target) {
            &target
        } else {
            &path
        };
        match routes.get_mut(key) {
            Some(route) => pick(route, &query),
            None => Some(Resp::status(
                404,
                "<html><body><h1>404 页面不存在</h1></body></html>",
            )),
        }
    };
    let Some(resp) = resp else {
        // Hang: never answer (the client times out).
        std::future::pending::<()>().await;
        unreachable!()
    };
    if let (Some(inm), Some(etag)) = (
        if_none_match,
        resp.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
            .map(|(_, v)| v.clone()),
    ) {
        if inm == etag {
            return Response::builder().status(304).body(Body::empty()).unwrap();
        }
    }
    let mut builder = Response::builder().status(resp.status);
    for (k, v) in &resp.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    builder.body(Body::from(resp.body)).unwrap()
}

fn pick(route: &mut Route, query: &str) -> Option<Resp> {
    match route {
        Route::Fixed(r) => Some(r.clone()),
        Route::Sequence(list, i) => {
            let r = list[(*i).min(list.len() - 1)].clone();
            *i += 1;
            Some(r)
        }
        Route::Hang => None,
        Route::Dynamic(f) => Some(f(query)),
    }
}

/// The runtime of the test servers: its own threads, so that what the servers measure
/// (arrival times, concurrency) does not depend on how busy the crawler's runtime is.
fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("test-server")
            .enable_all()
            .build()
            .unwrap()
    })
}

/// Starts a site on a fresh port.
pub async fn start_site(name: &str, latency: Duration) -> Arc<SiteServer> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let site = Arc::new(SiteServer {
        name: name.into(),
        addr,
        routes: Mutex::new(HashMap::new()),
        log: Mutex::new(Log::default()),
        latency,
    });
    let app = Router::new().fallback(handle).with_state(site.clone());
    server_runtime().spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let _ = axum::serve(listener, app).tcp_nodelay(true).await;
    });
    site
}

// ── Content ─────────────────────────────────────────────────────────────────────────

const SENTENCES_HANS: &[&str] = &[
    "今年以来，全市上下紧紧围绕年度目标任务，扎实推进各项重点工作，取得了明显成效。",
    "会议强调，要进一步压实工作责任，细化工作措施，确保各项任务按时保质完成。",
    "据了解，该项目总投资约三点二亿元，建成后将有效改善周边群众的出行条件。",
    "活动现场，工作人员通过发放宣传资料、现场讲解等方式，向群众普及相关政策知识。",
    "下一步，我们将继续加大工作力度，不断完善长效机制，推动工作再上新台阶。",
    "与会人员围绕产业发展、乡村振兴、生态保护等议题进行了深入交流和讨论。",
    "截至目前，全区已累计完成植树造林一万二千亩，森林覆盖率稳步提升。",
    "调研组一行先后来到社区服务中心、农业产业园和重点企业，详细了解相关情况。",
    "各乡镇结合实际，制定了切实可行的实施方案，明确了时间表和路线图。",
    "群众纷纷表示，这项惠民举措实实在在，让大家感受到了党和政府的温暖。",
];

const SENTENCES_HANT: &[&str] = &[
    "今年以來，全市上下緊緊圍繞年度目標任務，紮實推進各項重點工作，取得了明顯成效。",
    "會議強調，要進一步壓實工作責任，細化工作措施，確保各項任務按時保質完成。",
    "據了解，該項目總投資約三點二億元，建成後將有效改善周邊群眾的出行條件。",
    "活動現場，工作人員通過發放宣傳資料、現場講解等方式，向群眾普及相關政策知識。",
    "下一步，我們將繼續加大工作力度，不斷完善長效機制，推動工作再上新臺階。",
    "與會人員圍繞產業發展、鄉村振興、生態保護等議題進行了深入交流和討論。",
    "截至目前，全區已累計完成植樹造林一萬二千畝，森林覆蓋率穩步提升。",
    "調研組一行先後來到社區服務中心、農業產業園和重點企業，詳細了解相關情況。",
];

/// Text encodings of the simulated sites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    Utf8,
    Gbk,
    Big5,
}

impl Charset {
    pub fn label(self) -> &'static str {
        match self {
            Charset::Utf8 => "utf-8",
            Charset::Gbk => "gbk",
            Charset::Big5 => "big5",
        }
    }
    pub fn encode(self, text: &str) -> Vec<u8> {
        let enc = match self {
            Charset::Utf8 => return text.as_bytes().to_vec(),
            Charset::Gbk => encoding_rs::GBK,
            Charset::Big5 => encoding_rs::BIG5,
        };
        enc.encode(text).0.into_owned()
    }
    fn traditional(self) -> bool {
        self == Charset::Big5
    }
}

/// An invented article.
#[derive(Clone, Debug)]
pub struct ArticleSpec {
    pub id: u32,
    pub title: String,
    pub date: String,
    /// Path on the site.
    pub path: String,
}

pub fn article_title(id: u32, traditional: bool) -> String {
    let topics_hans = [
        "全市召开重点项目建设推进会",
        "我区开展春季植树活动",
        "市政府常务会议研究部署近期工作",
        "县领导调研乡村振兴工作",
        "全市安全生产工作会议召开",
    ];
    let topics_hant = [
        "全市召開重點項目建設推進會",
        "我區開展春季植樹活動",
        "市政府常務會議研究部署近期工作",
        "縣領導調研鄉村振興工作",
        "全市安全生產工作會議召開",
    ];
    let t = if traditional {
        topics_hant
    } else {
        topics_hans
    };
    format!("{}（第{}期）", t[id as usize % t.len()], id)
}

/// Article page HTML (before encoding). `spam` adds an injected gambling block.
pub fn article_html(a: &ArticleSpec, charset: Charset, site_title: &str, spam: bool) -> String {
    let pool = if charset.traditional() {
        SENTENCES_HANT
    } else {
        SENTENCES_HANS
    };
    let mut paras = String::new();
    for p in 0..5u32 {
        let mut text = String::new();
        for s in 0..3u32 {
            text.push_str(pool[((a.id * 7 + p * 3 + s) as usize) % pool.len()]);
        }
        // Make every article's text unique.
        text.push_str(&format!("（編號{}-{}）", a.id, p));
        paras.push_str(&format!("<p style=\"text-indent:2em\">{text}</p>\n"));
    }
    let spam_block = if spam {
        "<div style=\"display:none\"><a href=\"http://spam.example/\">澳门葡京赌场 在线百家乐 注册送彩金</a></div><p>安徽快3计划在线 北京赛车pk10开奖直播 时时彩平台</p>"
    } else {
        ""
    };
    let label = if charset.traditional() {
        "發佈時間"
    } else {
        "发布时间"
    };
    let source = if charset.traditional() {
        "來源"
    } else {
        "来源"
    };
    format!(
        r#"<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={cs}">
<title>{title}_{site}</title>
<meta name="ArticleTitle" content="{title}">
<meta name="PubDate" content="{date} 09:30">
<meta name="ContentSource" content="{site}">
</head><body>
<div class="top"><a href="/">首页</a> | <a href="/xwzx/">新闻中心</a> | <a href="/zwgk/">政务公开</a> | <a href="/bsfw/">办事服务</a></div>
<div class="position">当前位置：<a href="/">首页</a> &gt; <a href="/xwzx/">新闻中心</a></div>
<div class="article">
<h1 class="title">{title}</h1>
<div class="info">{label}：{date} 09:30　{source}：{site}　【字体：大 中 小】 打印</div>
<div class="TRS_Editor">
{paras}{spam_block}
</div>
</div>
<div class="footer"><p>主办：{site}办公室　承办：信息中心</p><p>网站标识码：5118000000　蜀ICP备00000000号</p></div>
</body></html>"#,
        cs = charset.label(),
        title = a.title,
        site = site_title,
        date = a.date,
    )
}

/// How a list is paged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// `<a href="index_1.html">下一页</a>` links.
    IndexN,
    /// TRS `createPageHTML(total, current, "index", "html")` only, no `<a>` links.
    CreatePageHtml,
}

/// A news column: articles listed newest first, `per_page` per list page.
pub struct Column {
    pub dir: String,
    pub charset: Charset,
    pub paging: Paging,
    pub per_page: usize,
    pub site_title: String,
    pub articles: Vec<ArticleSpec>,
    /// Extra HTML on the first list page (links to test pages).
    pub extra_html: String,
}

impl Column {
    pub fn new(
        dir: &str,
        charset: Charset,
        paging: Paging,
        per_page: usize,
        site_title: &str,
        n: u32,
        first_id: u32,
    ) -> Self {
        let mut c = Column {
            dir: dir.into(),
            charset,
            paging,
            per_page,
            site_title: site_title.into(),
            articles: Vec::new(),
            extra_html: String::new(),
        };
        for id in first_id..first_id + n {
            c.add_article(id);
        }
        c
    }

    /// Adds an article at the top of the list (newest).
    pub fn add_article(&mut self, id: u32) -> ArticleSpec {
        let day = 1 + id % 28;
        let month = 1 + (id / 28) % 12;
        let date = format!("2023-{month:02}-{day:02}");
        let a = ArticleSpec {
            id,
            title: article_title(id, self.charset.traditional()),
            path: format!(
                "{}2023{month:02}/t2023{month:02}{day:02}_{}.html",
                self.dir,
                100000 + id
            ),
            date,
        };
        self.articles.insert(0, a.clone());
        a
    }

    pub fn pages(&self) -> usize {
        self.articles.len().div_ceil(self.per_page).max(1)
    }

    fn list_html(&self, page: usize) -> String {
        let total = self.pages();
        let mut items = String::new();
        for a in self
            .articles
            .iter()
            .skip(page * self.per_page)
            .take(self.per_page)
        {
            let rel = a.path.strip_prefix(&self.dir).unwrap_or(&a.path);
            items.push_str(&format!(
                "<li><a href=\"./{rel}\" target=\"_blank\" title=\"{t}\">{t}</a><span class=\"date\">{d}</span></li>\n",
                t = a.title,
                d = a.date
            ));
        }
        let paging = match self.paging {
            Paging::IndexN => {
                let mut p = String::from("<div class=\"page\">");
                if page > 0 {
                    let prev = if page == 1 { "index.html".to_string() } else { format!("index_{}.html", page - 1) };
                    p.push_str(&format!("<a href=\"index.html\">首页</a> <a href=\"{prev}\">上一页</a> "));
                }
                if page + 1 < total {
                    p.push_str(&format!("<a href=\"index_{}.html\">下一页</a> <a href=\"index_{}.html\">尾页</a>", page + 1, total - 1));
                }
                p.push_str("</div>");
                p
            }
            Paging::CreatePageHtml => format!(
                "<div class=\"page\"><script type=\"text/javascript\">var currentPage = {page};var countPage = {total};createPageHTML({total}, {page}, \"index\", \"html\");</script></div>"
            ),
        };
        format!(
            r#"<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset={cs}">
<title>新闻中心_{site}</title><meta name="ColumnName" content="新闻中心"></head><body>
<div class="top"><a href="/">首页</a> | <a href="/xwzx/">新闻中心</a> | <a href="/zwgk/">政务公开</a></div>
<div class="list"><ul>
{items}</ul></div>
{extra}
{paging}
<div class="footer"><p>主办：{site}办公室</p></div>
</body></html>"#,
            cs = self.charset.label(),
            site = self.site_title,
            extra = if page == 0 {
                self.extra_html.as_str()
            } else {
                ""
            },
        )
    }

    /// Installs (or refreshes) the column's pages on a site.
    pub fn install(&self, site: &SiteServer) {
        for page in 0..self.pages() {
            let html = self.list_html(page);
            let etag = format!("\"l{:x}\"", fxhash(html.as_bytes()));
            let resp = Resp::html(self.charset.encode(&html), self.charset.label())
                .with_header("etag", &etag);
            if page == 0 {
                site.page(&self.dir, resp.clone());
                site.page(&format!("{}index.html", self.dir), resp);
            } else {
                site.page(&format!("{}index_{page}.html", self.dir), resp);
            }
        }
        for a in &self.articles {
            let html = article_html(a, self.charset, &self.site_title, false);
            site.page(
                &a.path,
                Resp::html(self.charset.encode(&html), self.charset.label())
                    .with_header("etag", &format!("\"a{}\"", a.id)),
            );
        }
    }

    pub fn list_paths(&self) -> Vec<String> {
        let mut v = vec![self.dir.clone(), format!("{}index.html", self.dir)];
        for p in 1..self.pages() {
            v.push(format!("{}index_{p}.html", self.dir));
        }
        v
    }
}

/// A small stable hash for ETags.
pub fn fxhash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}

// ── Archive inspection ──────────────────────────────────────────────────────────────

/// Every file under `dir`, recursively.
pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// The article JSON files of the archive (reports, state and raw pages excluded).
pub fn article_files(archive: &std::path::Path) -> Vec<std::path::PathBuf> {
    walk(archive)
        .into_iter()
        .filter(|p| {
            let s = p.to_string_lossy();
            s.ends_with(".json")
                && !s.ends_with(".raw.json")
                && !s.contains("/reports/")
                && !s.contains("/.gazette/")
        })
        .collect()
}

/// Parses every article file; panics on a corrupt one.
pub fn articles(archive: &std::path::Path) -> Vec<serde_json::Value> {
    article_files(archive)
        .iter()
        .map(|p| {
            let bytes = std::fs::read(p).unwrap();
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        })
        .collect()
}

/// Temporary files left in the archive (there must be none).
pub fn temp_files(archive: &std::path::Path) -> Vec<std::path::PathBuf> {
    walk(archive)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".tmp-"))
        })
        .collect()
}
