//! Evaluation: run the extractor over a labelled dataset, write one prediction per page,
//! and score the predictions exactly like `shared/eval/score.py`.
//!
//! The scorer is a faithful port (same tokens, same normalisation, same date patterns,
//! same averages) so that `gazette eval` and the Python scorer give the same numbers on
//! the same predictions; `tests/eval_agreement.rs` checks this. On top of score.py it
//! reports the spam verdict (pages labelled `"spam": true` must come out as "not an
//! article") and checks committed per-dataset floors (`quality/floors.toml`).
//!
//! Dataset layout (the one of `shared/eval`):
//!
//! ```text
//! <dataset>/pages/<id>.html        raw bytes as served
//! <dataset>/pages/<id>.meta.json   optional {"url", "content_type", "charset"}
//! <dataset>/truth/<id>.json        {"title", "published", "author", "source", "text", "spam"?}
//! ```

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use url::Url;

use crate::{Extractor, NotArticleKind, Outcome, RawPage};

/// The prediction / truth fields score.py compares, in its order.
pub const FIELDS: [&str; 5] = ["title", "published", "author", "source", "text"];

/// The metadata accuracies score.py reports, in its order (`~` = lenient variant).
pub const ACCURACY_KEYS: [&str; 8] = [
    "title", "title~", "date", "time", "author", "author~", "source", "source~",
];

/// Everything that can stop an evaluation run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{path} is not a dataset: it needs truth/<id>.json and pages/<id>.html \
         (the layout of shared/eval, see docs/quality.md)"
    )]
    NotADataset { path: PathBuf },
    #[error("{path}: invalid floors file: {message}")]
    Floors { path: PathBuf, message: String },
}

// ------------------------------------------------------------------ dataset

/// One labelled dataset in the layout of `shared/eval`.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub root: PathBuf,
    /// The folder name (`gov`, `zh-news`, `aeb`): the section in `quality/floors.toml`.
    pub name: String,
}

/// `pages/<id>.meta.json`: what is known about how the page was served.
#[derive(Debug, Default, Deserialize)]
struct PageMeta {
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    content_type: Option<String>,
    /// The transport charset (as an HTTP header would have given it).
    #[serde(default)]
    charset: Option<String>,
}

impl Dataset {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, EvalError> {
        let root = root.into();
        if !root.join("truth").is_dir() || !root.join("pages").is_dir() {
            return Err(EvalError::NotADataset { path: root });
        }
        let name = root
            .canonicalize()
            .unwrap_or_else(|_| root.clone())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "dataset".to_string());
        Ok(Dataset { root, name })
    }

    /// Ids with a truth file, sorted the way score.py sorts them (code point order).
    pub fn truth_ids(&self) -> Result<Vec<String>, EvalError> {
        list_ids(&self.root.join("truth"), ".json")
    }

    /// Ids with a page file.
    pub fn page_ids(&self) -> Result<Vec<String>, EvalError> {
        list_ids(&self.root.join("pages"), ".html")
    }

    /// The truth record of one page (a JSON object).
    pub fn truth(&self, id: &str) -> Result<Value, EvalError> {
        read_json(&self.root.join("truth").join(format!("{id}.json")))
    }

    /// The bytes of one page plus its meta file, as the extractor would receive them.
    pub fn load_page(&self, id: &str) -> Result<RawPage, EvalError> {
        let pages = self.root.join("pages");
        let meta = pages.join(format!("{id}.meta.json"));
        read_raw_page(
            &pages.join(format!("{id}.html")),
            meta.is_file().then_some(meta.as_path()),
        )
    }
}

/// Reads a saved page and its optional meta file into a [`RawPage`]. A `charset` in the
/// meta file is treated as the transport charset when no `content_type` is given.
pub fn read_raw_page(html: &Path, meta: Option<&Path>) -> Result<RawPage, EvalError> {
    let bytes = std::fs::read(html).map_err(|source| EvalError::Read {
        path: html.to_path_buf(),
        source,
    })?;
    let meta: PageMeta = match meta {
        Some(path) => {
            let value = read_json(path)?;
            serde_json::from_value(value).map_err(|source| EvalError::Json {
                path: path.to_path_buf(),
                source,
            })?
        }
        None => PageMeta::default(),
    };
    let content_type = match (meta.content_type, meta.charset) {
        (Some(ct), _) if !ct.trim().is_empty() => Some(ct),
        (_, Some(cs)) if !cs.trim().is_empty() => Some(format!("text/html; charset={}", cs.trim())),
        _ => None,
    };
    Ok(RawPage {
        bytes,
        url: meta.url.as_deref().and_then(|u| Url::parse(u).ok()),
        content_type,
        ..RawPage::default()
    })
}

fn list_ids(dir: &Path, suffix: &str) -> Result<Vec<String>, EvalError> {
    let entries = std::fs::read_dir(dir).map_err(|source| EvalError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| EvalError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(id) = name.strip_suffix(suffix) {
            ids.push(id.to_string());
        }
    }
    ids.sort();
    Ok(ids)
}

fn read_json(path: &Path) -> Result<Value, EvalError> {
    let bytes = std::fs::read(path).map_err(|source| EvalError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| EvalError::Json {
        path: path.to_path_buf(),
        source,
    })
}

/// Finds the shared data folder (pages with truth, score.py): `$GAZETTE_SHARED_DIR`,
/// then `<crate_root>/../shared` (CI clones the repository beside it), then `/work/shared`.
pub fn find_shared_dir(crate_root: &Path) -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("GAZETTE_SHARED_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    candidates.push(crate_root.join("..").join("shared"));
    candidates.push(PathBuf::from("/work/shared"));
    candidates
        .into_iter()
        .find(|dir| dir.join("eval").is_dir() || dir.join("corpus").is_dir())
}

// ------------------------------------------------------------------ running

/// What became of one page.
#[derive(Debug)]
pub enum PageResult {
    Outcome(Outcome),
    /// The extractor refused the input.
    Error(String),
    /// The extractor panicked (always a bug: no input may panic).
    Panic(String),
}

/// One processed page.
#[derive(Debug)]
pub struct PageRun {
    pub id: String,
    pub bytes: usize,
    pub result: PageResult,
}

/// Throughput of a run, written as `timing.json` (the keys score.py shows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Timing {
    pub docs: usize,
    /// Wall-clock seconds of extraction only (pages are read into memory first).
    pub seconds: f64,
    pub docs_per_s: f64,
    /// Megabytes (10^6 bytes) of raw HTML per second.
    #[serde(rename = "MB_per_s")]
    pub mb_per_s: f64,
    pub bytes: usize,
    pub threads: usize,
}

/// A finished run over a dataset: the outcome of every page and the timing.
#[derive(Debug)]
pub struct EvalRun {
    pub dataset: Dataset,
    pub pages: Vec<PageRun>,
    pub timing: Timing,
}

/// The number of worker threads to use when none is given: every core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs the extractor over pages on `jobs` threads sharing one work queue. Panics are
/// caught and reported per page, so one bad page cannot hide the others.
pub fn run_pages(
    extractor: &Extractor,
    pages: Vec<(String, RawPage)>,
    jobs: usize,
) -> (Vec<PageRun>, Timing) {
    let jobs = jobs.clamp(1, pages.len().max(1));
    let total_bytes: usize = pages.iter().map(|(_, p)| p.bytes.len()).sum();
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, PageResult)>> = Mutex::new(Vec::with_capacity(pages.len()));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                let mut local = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some((_, page)) = pages.get(index) else {
                        break;
                    };
                    local.push((index, process_page(extractor, page)));
                }
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(local);
            });
        }
    });
    let seconds = started.elapsed().as_secs_f64();
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(index, _)| *index);
    let runs = pages
        .into_iter()
        .zip(results)
        .map(|((id, page), (_, result))| PageRun {
            id,
            bytes: page.bytes.len(),
            result,
        })
        .collect::<Vec<_>>();
    let docs = runs.len();
    let per_s = |x: f64| if seconds > 0.0 { x / seconds } else { 0.0 };
    let timing = Timing {
        docs,
        seconds,
        docs_per_s: per_s(docs as f64),
        mb_per_s: per_s(total_bytes as f64 / 1e6),
        bytes: total_bytes,
        threads: jobs,
    };
    (runs, timing)
}

fn process_page(extractor: &Extractor, page: &RawPage) -> PageResult {
    match catch_unwind(AssertUnwindSafe(|| extractor.process(page))) {
        Ok(Ok(outcome)) => PageResult::Outcome(outcome),
        Ok(Err(error)) => PageResult::Error(error.to_string()),
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            PageResult::Panic(message)
        }
    }
}

/// Reads every page of a dataset and runs the extractor over them.
pub fn run_dataset(
    extractor: &Extractor,
    dataset: &Dataset,
    jobs: usize,
) -> Result<EvalRun, EvalError> {
    let mut pages = Vec::new();
    for id in dataset.page_ids()? {
        let page = dataset.load_page(&id)?;
        pages.push((id, page));
    }
    let (pages, timing) = run_pages(extractor, pages, jobs);
    Ok(EvalRun {
        dataset: dataset.clone(),
        pages,
        timing,
    })
}

/// The prediction record of one page: the keys of score.py, plus `"spam": true` for a
/// spam page, `"not_article": "<kind>"` for any non-article, `"error"` when it failed.
pub fn prediction(result: &PageResult) -> Value {
    match result {
        PageResult::Outcome(Outcome::Article(article)) => json!({
            "title": article.title,
            "published": article.published_at,
            "author": article.author,
            "source": article.source,
            "text": article.text,
        }),
        PageResult::Outcome(Outcome::NotArticle(not)) => {
            let kind = serde_json::to_value(not.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| format!("{:?}", not.kind));
            let mut record = json!({
                "title": not.title,
                "published": null,
                "author": null,
                "source": null,
                "text": "",
                "not_article": kind,
                "reason": not.reason,
            });
            if not.kind == NotArticleKind::SpamPage {
                record["spam"] = Value::Bool(true);
            }
            record
        }
        PageResult::Error(message) => json!({
            "title": null, "published": null, "author": null, "source": null, "text": "",
            "error": message,
        }),
        PageResult::Panic(message) => json!({
            "title": null, "published": null, "author": null, "source": null, "text": "",
            "error": format!("panic: {message}"),
        }),
    }
}

impl EvalRun {
    /// Predictions by page id.
    pub fn predictions(&self) -> BTreeMap<String, Value> {
        self.pages
            .iter()
            .map(|run| (run.id.clone(), prediction(&run.result)))
            .collect()
    }

    /// Writes `<id>.json` for every page and `timing.json` into `dir`, the layout
    /// score.py reads with `--pred`.
    pub fn write_predictions(&self, dir: &Path) -> Result<(), EvalError> {
        let write_err = |path: &Path, source| EvalError::Write {
            path: path.to_path_buf(),
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
        for (id, record) in self.predictions() {
            let path = dir.join(format!("{id}.json"));
            let text = serde_json::to_string_pretty(&record).unwrap_or_default();
            std::fs::write(&path, text).map_err(|e| write_err(&path, e))?;
        }
        let path = dir.join("timing.json");
        let text = serde_json::to_string_pretty(&self.timing).unwrap_or_default();
        std::fs::write(&path, text).map_err(|e| write_err(&path, e))?;
        Ok(())
    }

    /// Scores the run in memory (the same records [`Self::write_predictions`] writes).
    pub fn score(&self, ngram: usize) -> Result<Scores, EvalError> {
        let predictions = self.predictions();
        let mut scores = score_with(&self.dataset, ngram, |id| predictions.get(id).cloned())?;
        scores.timing = serde_json::to_value(&self.timing).ok();
        Ok(scores)
    }

    /// Pages whose extraction panicked or was refused, with the message.
    pub fn failures(&self) -> Vec<(&str, String)> {
        self.pages
            .iter()
            .filter_map(|run| match &run.result {
                PageResult::Error(m) => Some((run.id.as_str(), m.clone())),
                PageResult::Panic(m) => Some((run.id.as_str(), format!("panic: {m}"))),
                PageResult::Outcome(_) => None,
            })
            .collect()
    }
}

// ------------------------------------------------------------------ text, as score.py sees it

/// Python's `str.isalnum()` for one character: letters (L*) and characters with a
/// numeric value (Nd, Nl, No). Rust's `is_alphanumeric` also counts the marks and the
/// few symbols (circled / squared letters) that carry Other_Alphabetic; Python doesn't.
pub fn py_isalnum(c: char) -> bool {
    if c.is_ascii() {
        return c.is_ascii_alphanumeric();
    }
    c.is_alphanumeric()
        && !is_combining_mark(c)
        && !matches!(
            c as u32,
            0x24B6..=0x24E9 | 0x1F130..=0x1F149 | 0x1F150..=0x1F169 | 0x1F170..=0x1F189
        )
}

/// Python's `str.isspace()` (and `\s` in `re`): White_Space plus the four ASCII
/// separators U+001C..U+001F.
pub fn py_isspace(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{1C}'..='\u{1F}')
}

/// score.py's `tokenize`: NFKC, then every CJK ideograph / kana / hangul is a token,
/// every run of other letters and digits (with following combining marks) is one
/// lower-cased token, everything else is dropped.
pub fn tokenize(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut Vec<String>| {
        if !run.is_empty() {
            out.push(run.to_lowercase());
            run.clear();
        }
    };
    for ch in text.nfkc() {
        if crate::extract::content::text::is_cjk(ch) {
            flush(&mut run, &mut out);
            out.push(ch.to_string());
        } else if py_isalnum(ch) || (!run.is_empty() && is_combining_mark(ch)) {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// The bag (multiset) of tokens, or of `ngram`-token shingles joined by a space.
fn bag(text: &str, ngram: usize) -> HashMap<String, usize> {
    let tokens = tokenize(text);
    let mut counts = HashMap::new();
    if ngram > 1 {
        let windows = tokens.len().saturating_sub(ngram).saturating_add(1).max(1);
        for i in 0..windows {
            let end = (i + ngram).min(tokens.len());
            let shingle = tokens.get(i..end).unwrap_or_default().join(" ");
            if !shingle.is_empty() {
                *counts.entry(shingle).or_insert(0) += 1;
            }
        }
    } else {
        for token in tokens {
            *counts.entry(token).or_insert(0) += 1;
        }
    }
    counts
}

/// Bag-of-tokens precision, recall and F1 of a prediction against the truth.
pub fn prf(truth: &str, prediction: &str, ngram: usize) -> (f64, f64, f64) {
    let t = bag(truth, ngram);
    let p = bag(prediction, ngram);
    let nt: usize = t.values().sum();
    let np: usize = p.values().sum();
    if nt == 0 && np == 0 {
        return (1.0, 1.0, 1.0);
    }
    if nt == 0 || np == 0 {
        return (0.0, 0.0, 0.0);
    }
    let tp: usize = t
        .iter()
        .map(|(token, &n)| n.min(p.get(token).copied().unwrap_or(0)))
        .sum();
    let precision = tp as f64 / np as f64;
    let recall = tp as f64 / nt as f64;
    let f1 = if tp > 0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

fn nfkc(s: &str) -> String {
    s.nfkc().collect()
}

/// Python's `str.casefold()`: lower case plus the full case folds where they differ
/// (ß → ss, final sigma, Cherokee, iota subscript, ...). Applied after NFKC, so
/// compatibility characters never reach it.
pub fn casefold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let cp = c as u32;
        if let Ok(i) = SPECIAL_FOLDS.binary_search_by_key(&c, |(from, _)| *from) {
            out.push_str(SPECIAL_FOLDS[i].1);
        } else if (0x13A0..=0x13F5).contains(&cp) {
            out.push(c); // Cherokee folds to its capital letters
        } else if (0xAB70..=0xABBF).contains(&cp) {
            out.push(char::from_u32(cp - 0xAB70 + 0x13A0).unwrap_or(c));
        } else if (0x13F8..=0x13FD).contains(&cp) {
            out.push(char::from_u32(cp - 8).unwrap_or(c));
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Characters whose full case fold differs from their lower case (Unicode CaseFolding
/// status F and the Greek / Cyrillic specials), NFKC-stable ones only, sorted.
const SPECIAL_FOLDS: &[(char, &str)] = &[
    ('\u{df}', "ss"),
    ('\u{1f0}', "j\u{30c}"),
    ('\u{345}', "\u{3b9}"),
    ('\u{390}', "\u{3b9}\u{308}\u{301}"),
    ('\u{3b0}', "\u{3c5}\u{308}\u{301}"),
    ('\u{3c2}', "\u{3c3}"),
    ('\u{1c80}', "\u{432}"),
    ('\u{1c81}', "\u{434}"),
    ('\u{1c82}', "\u{43e}"),
    ('\u{1c83}', "\u{441}"),
    ('\u{1c84}', "\u{442}"),
    ('\u{1c85}', "\u{442}"),
    ('\u{1c86}', "\u{44a}"),
    ('\u{1c87}', "\u{463}"),
    ('\u{1c88}', "\u{a64b}"),
    ('\u{1e96}', "h\u{331}"),
    ('\u{1e97}', "t\u{308}"),
    ('\u{1e98}', "w\u{30a}"),
    ('\u{1e99}', "y\u{30a}"),
    ('\u{1e9e}', "ss"),
    ('\u{1f50}', "\u{3c5}\u{313}"),
    ('\u{1f52}', "\u{3c5}\u{313}\u{300}"),
    ('\u{1f54}', "\u{3c5}\u{313}\u{301}"),
    ('\u{1f56}', "\u{3c5}\u{313}\u{342}"),
    ('\u{1f80}', "\u{1f00}\u{3b9}"),
    ('\u{1f81}', "\u{1f01}\u{3b9}"),
    ('\u{1f82}', "\u{1f02}\u{3b9}"),
    ('\u{1f83}', "\u{1f03}\u{3b9}"),
    ('\u{1f84}', "\u{1f04}\u{3b9}"),
    ('\u{1f85}', "\u{1f05}\u{3b9}"),
    ('\u{1f86}', "\u{1f06}\u{3b9}"),
    ('\u{1f87}', "\u{1f07}\u{3b9}"),
    ('\u{1f88}', "\u{1f00}\u{3b9}"),
    ('\u{1f89}', "\u{1f01}\u{3b9}"),
    ('\u{1f8a}', "\u{1f02}\u{3b9}"),
    ('\u{1f8b}', "\u{1f03}\u{3b9}"),
    ('\u{1f8c}', "\u{1f04}\u{3b9}"),
    ('\u{1f8d}', "\u{1f05}\u{3b9}"),
    ('\u{1f8e}', "\u{1f06}\u{3b9}"),
    ('\u{1f8f}', "\u{1f07}\u{3b9}"),
    ('\u{1f90}', "\u{1f20}\u{3b9}"),
    ('\u{1f91}', "\u{1f21}\u{3b9}"),
    ('\u{1f92}', "\u{1f22}\u{3b9}"),
    ('\u{1f93}', "\u{1f23}\u{3b9}"),
    ('\u{1f94}', "\u{1f24}\u{3b9}"),
    ('\u{1f95}', "\u{1f25}\u{3b9}"),
    ('\u{1f96}', "\u{1f26}\u{3b9}"),
    ('\u{1f97}', "\u{1f27}\u{3b9}"),
    ('\u{1f98}', "\u{1f20}\u{3b9}"),
    ('\u{1f99}', "\u{1f21}\u{3b9}"),
    ('\u{1f9a}', "\u{1f22}\u{3b9}"),
    ('\u{1f9b}', "\u{1f23}\u{3b9}"),
    ('\u{1f9c}', "\u{1f24}\u{3b9}"),
    ('\u{1f9d}', "\u{1f25}\u{3b9}"),
    ('\u{1f9e}', "\u{1f26}\u{3b9}"),
    ('\u{1f9f}', "\u{1f27}\u{3b9}"),
    ('\u{1fa0}', "\u{1f60}\u{3b9}"),
    ('\u{1fa1}', "\u{1f61}\u{3b9}"),
    ('\u{1fa2}', "\u{1f62}\u{3b9}"),
    ('\u{1fa3}', "\u{1f63}\u{3b9}"),
    ('\u{1fa4}', "\u{1f64}\u{3b9}"),
    ('\u{1fa5}', "\u{1f65}\u{3b9}"),
    ('\u{1fa6}', "\u{1f66}\u{3b9}"),
    ('\u{1fa7}', "\u{1f67}\u{3b9}"),
    ('\u{1fa8}', "\u{1f60}\u{3b9}"),
    ('\u{1fa9}', "\u{1f61}\u{3b9}"),
    ('\u{1faa}', "\u{1f62}\u{3b9}"),
    ('\u{1fab}', "\u{1f63}\u{3b9}"),
    ('\u{1fac}', "\u{1f64}\u{3b9}"),
    ('\u{1fad}', "\u{1f65}\u{3b9}"),
    ('\u{1fae}', "\u{1f66}\u{3b9}"),
    ('\u{1faf}', "\u{1f67}\u{3b9}"),
    ('\u{1fb2}', "\u{1f70}\u{3b9}"),
    ('\u{1fb3}', "\u{3b1}\u{3b9}"),
    ('\u{1fb4}', "\u{3ac}\u{3b9}"),
    ('\u{1fb6}', "\u{3b1}\u{342}"),
    ('\u{1fb7}', "\u{3b1}\u{342}\u{3b9}"),
    ('\u{1fbc}', "\u{3b1}\u{3b9}"),
    ('\u{1fc2}', "\u{1f74}\u{3b9}"),
    ('\u{1fc3}', "\u{3b7}\u{3b9}"),
    ('\u{1fc4}', "\u{3ae}\u{3b9}"),
    ('\u{1fc6}', "\u{3b7}\u{342}"),
    ('\u{1fc7}', "\u{3b7}\u{342}\u{3b9}"),
    ('\u{1fcc}', "\u{3b7}\u{3b9}"),
    ('\u{1fd2}', "\u{3b9}\u{308}\u{300}"),
    ('\u{1fd6}', "\u{3b9}\u{342}"),
    ('\u{1fd7}', "\u{3b9}\u{308}\u{342}"),
    ('\u{1fe2}', "\u{3c5}\u{308}\u{300}"),
    ('\u{1fe4}', "\u{3c1}\u{313}"),
    ('\u{1fe6}', "\u{3c5}\u{342}"),
    ('\u{1fe7}', "\u{3c5}\u{308}\u{342}"),
    ('\u{1ff2}', "\u{1f7c}\u{3b9}"),
    ('\u{1ff3}', "\u{3c9}\u{3b9}"),
    ('\u{1ff4}', "\u{3ce}\u{3b9}"),
    ('\u{1ff6}', "\u{3c9}\u{342}"),
    ('\u{1ff7}', "\u{3c9}\u{342}\u{3b9}"),
    ('\u{1ffc}', "\u{3c9}\u{3b9}"),
];

/// score.py's `norm_ws`: NFKC, all whitespace removed, case-folded (titles, 来源).
pub fn norm_ws(s: &str) -> String {
    let compact: String = s.nfkc().filter(|c| !py_isspace(*c)).collect();
    casefold(&compact)
}

/// score.py's `norm_alnum`: NFKC, letters and digits only, case-folded (authors).
pub fn norm_alnum(s: &str) -> String {
    let kept: String = s.nfkc().filter(|c| py_isalnum(*c)).collect();
    casefold(&kept)
}

struct Patterns {
    dates: [Regex; 2],
    mojibake: Regex,
    decimal: Regex,
}

/// The scorer's patterns, compiled once per process. `\s` is widened to Python's.
fn patterns() -> &'static Patterns {
    static PATTERNS: OnceLock<Patterns> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        let compile = |p: &str| Regex::new(&p.replace(r"\s", r"[\s\x1C-\x1F]")).expect("valid scorer pattern");
        Patterns {
            dates: [
                compile(r"(\d{4})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d{1,2})(?:\D{1,3}?(\d{1,2})\s*[:：]\s*(\d{2}))?"),
                compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?(?:\D{0,3}?(\d{1,2})\s*[:：时]\s*(\d{2}))?"),
            ],
            mojibake: compile(
                r"[\x{c2}-\x{ef}][\x{80}-\x{bf}\x{2018}-\x{203a}\x{20ac}\x{152}\x{153}\x{160}\x{161}\x{178}\x{17d}\x{17e}\x{192}\x{2c6}\x{2dc}]",
            ),
            decimal: compile(r"^\d$"),
        }
    })
}

/// The value of a Unicode decimal digit (Python's `int()` accepts any script's digits).
/// Decimal digits are always encoded as contiguous runs 0..9.
fn digit_value(c: char) -> u64 {
    if let Some(d) = c.to_digit(10) {
        return u64::from(d);
    }
    let is_decimal = |c: char| {
        let mut buf = [0u8; 4];
        patterns().decimal.is_match(c.encode_utf8(&mut buf))
    };
    let mut distance = 0u32;
    while let Some(prev) = (c as u32)
        .checked_sub(distance + 1)
        .and_then(char::from_u32)
    {
        if !is_decimal(prev) || distance > 64 {
            break;
        }
        distance += 1;
    }
    u64::from(distance % 10)
}

fn py_int(digits: &str) -> u64 {
    digits.chars().fold(0u64, |acc, c| {
        acc.saturating_mul(10).saturating_add(digit_value(c))
    })
}

/// A calendar day and an optional hour:minute.
pub type ParsedDate = ((u64, u64, u64), Option<(u64, u64)>);

/// score.py's `parse_date`: the earliest `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYY.MM.DD` or
/// `YYYY年MM月DD日` in the text, with a following `HH:MM` when there is one.
pub fn parse_date(s: &str) -> Option<ParsedDate> {
    if s.is_empty() {
        return None;
    }
    let s = nfkc(s);
    let mut best: Option<regex::Captures> = None;
    for rx in &patterns().dates {
        if let Some(caps) = rx.captures(&s) {
            let start = caps.get(0).map_or(usize::MAX, |m| m.start());
            let best_start = best
                .as_ref()
                .and_then(|b| b.get(0))
                .map_or(usize::MAX, |m| m.start());
            if best.is_none() || start < best_start {
                best = Some(caps);
            }
        }
    }
    let caps = best?;
    let group = |i: usize| caps.get(i).map(|m| py_int(m.as_str()));
    let day = (group(1)?, group(2)?, group(3)?);
    let time = match (group(4), group(5)) {
        (Some(h), Some(m)) => Some((h, m)),
        _ => None,
    };
    Some((day, time))
}

/// score.py's `has_mojibake`: U+FFFD, or three or more latin-1 / cp1252 readings of
/// UTF-8 lead + continuation bytes (`Ã©`, `ä¸`).
pub fn has_mojibake(s: &str) -> bool {
    s.contains('\u{FFFD}') || patterns().mojibake.find_iter(s).take(3).count() >= 3
}

// ------------------------------------------------------------------ scoring

/// Right / total for one metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Accuracy {
    pub n: usize,
    pub correct: usize,
}

impl Accuracy {
    fn push(&mut self, ok: bool) {
        self.n += 1;
        self.correct += usize::from(ok);
    }

    /// The share right, or None when no page has this label.
    pub fn acc(&self) -> Option<f64> {
        (self.n > 0).then(|| self.correct as f64 / self.n as f64)
    }
}

/// Body-text scores over the pages whose truth has text.
#[derive(Debug, Clone, PartialEq)]
pub struct BodyScores {
    pub n: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub f1_median: f64,
    /// Share of pages with F1 ≥ 0.9.
    pub f1_ge_09: f64,
}

/// The scores of one page (absent fields: the truth has no label for them).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageScore {
    pub nopred: bool,
    pub fffd: bool,
    /// (precision, recall, F1) when the truth has body text.
    pub body: Option<(f64, f64, f64)>,
    pub title: Option<bool>,
    pub date: Option<bool>,
    pub time: Option<bool>,
    pub author: Option<bool>,
    pub source: Option<bool>,
    /// For pages labelled spam: did the prediction say "not an article"?
    pub spam_verdict: Option<bool>,
    /// The non-article kind or error the prediction reported, if any.
    pub note: Option<String>,
}

/// Everything score.py reports for one predictions folder, plus the spam verdicts.
#[derive(Debug, Clone)]
pub struct Scores {
    pub dataset: String,
    pub pages_total: usize,
    pub nopred: usize,
    pub fffd: usize,
    pub ngram: usize,
    pub body: Option<BodyScores>,
    /// Keyed by [`ACCURACY_KEYS`].
    pub accuracy: BTreeMap<&'static str, Accuracy>,
    /// Pages labelled `"spam": true` reported as not an article.
    pub spam: Accuracy,
    /// Pages with truth text that the prediction called "not an article".
    pub rejected: usize,
    pub timing: Option<Value>,
    pub pages: BTreeMap<String, PageScore>,
}

impl Scores {
    pub fn acc(&self, key: &str) -> Option<f64> {
        self.accuracy.get(key).and_then(Accuracy::acc)
    }

    /// A named gate metric (the keys of `quality/floors.toml`).
    pub fn metric(&self, name: &str) -> Option<f64> {
        match name {
            "body_f1_mean" => self.body.as_ref().map(|b| b.f1),
            "body_f1_median" => self.body.as_ref().map(|b| b.f1_median),
            "body_f1_ge_0_9" => self.body.as_ref().map(|b| b.f1_ge_09),
            "body_precision" => self.body.as_ref().map(|b| b.precision),
            "body_recall" => self.body.as_ref().map(|b| b.recall),
            "title" => self.acc("title"),
            "date" => self.acc("date"),
            "datetime" => self.acc("time"),
            "author" => self.acc("author"),
            "source" => self.acc("source"),
            "spam" => self.spam.acc(),
            "fffd" => Some(self.fffd as f64),
            _ => None,
        }
    }

    /// The JSON score.py prints with `--json` (same keys), plus `dataset`, `spam` and
    /// `rejected`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("dataset".into(), json!(self.dataset));
        out.insert("pages_total".into(), json!(self.pages_total));
        out.insert("nopred".into(), json!(self.nopred));
        out.insert("fffd".into(), json!(self.fffd));
        out.insert("ngram".into(), json!(self.ngram));
        if let Some(b) = &self.body {
            out.insert(
                "body".into(),
                json!({"n": b.n, "P": b.precision, "R": b.recall, "F1": b.f1,
                       "F1_median": b.f1_median, "F1_ge_0.9": b.f1_ge_09}),
            );
        }
        for key in ACCURACY_KEYS {
            let a = self.accuracy.get(key).copied().unwrap_or_default();
            out.insert(key.into(), json!({"n": a.n, "acc": a.acc()}));
        }
        out.insert(
            "spam".into(),
            json!({"n": self.spam.n, "correct": self.spam.correct, "acc": self.spam.acc()}),
        );
        out.insert("rejected".into(), json!(self.rejected));
        if let Some(t) = &self.timing {
            out.insert("timing".into(), t.clone());
        }
        let mut pages = Map::new();
        for (id, row) in &self.pages {
            let mut r = Map::new();
            if row.nopred {
                r.insert("nopred".into(), json!(true));
            }
            if row.fffd {
                r.insert("fffd".into(), json!(true));
            }
            if let Some((p, rc, f)) = row.body {
                r.insert("p".into(), json!(round4(p)));
                r.insert("r".into(), json!(round4(rc)));
                r.insert("f1".into(), json!(round4(f)));
            }
            for (key, value) in [
                ("title", row.title),
                ("date", row.date),
                ("time", row.time),
                ("author", row.author),
                ("source", row.source),
                ("spam_verdict", row.spam_verdict),
            ] {
                if let Some(v) = value {
                    r.insert(key.into(), json!(v));
                }
            }
            if let Some(note) = &row.note {
                r.insert("note".into(), json!(note));
            }
            pages.insert(id.clone(), Value::Object(r));
        }
        out.insert("pages".into(), Value::Object(pages));
        Value::Object(out)
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// Python's `statistics.mean` (to within rounding: compensated summation).
fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut compensation, mut n) = (0.0f64, 0.0f64, 0usize);
    for v in values {
        let t = sum + v;
        if sum.abs() >= v.abs() {
            compensation += (sum - t) + v;
        } else {
            compensation += (v - t) + sum;
        }
        sum = t;
        n += 1;
    }
    if n == 0 {
        0.0
    } else {
        (sum + compensation) / n as f64
    }
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// A truth or prediction field, as score.py reads it: a string, else null.
fn str_field<'a>(record: &'a Value, key: &str) -> Option<&'a str> {
    record.get(key).and_then(Value::as_str)
}

/// Scores the predictions in a folder exactly as `score.py --truth DATASET --pred DIR`
/// (a missing or unreadable `<id>.json` counts as no prediction).
pub fn score_dir(dataset: &Dataset, pred_dir: &Path, ngram: usize) -> Result<Scores, EvalError> {
    let mut scores = score_with(dataset, ngram, |id| {
        let bytes = std::fs::read(pred_dir.join(format!("{id}.json"))).ok()?;
        serde_json::from_slice(&bytes).ok()
    })?;
    scores.timing = std::fs::read(pred_dir.join("timing.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    Ok(scores)
}

/// Scores predictions given by id (None = no prediction), the core of score.py.
pub fn score_with(
    dataset: &Dataset,
    ngram: usize,
    mut prediction_for: impl FnMut(&str) -> Option<Value>,
) -> Result<Scores, EvalError> {
    let ngram = ngram.max(1);
    let ids = dataset.truth_ids()?;
    let mut accuracy: BTreeMap<&'static str, Accuracy> = ACCURACY_KEYS
        .iter()
        .map(|k| (*k, Accuracy::default()))
        .collect();
    let mut body = Vec::new();
    let mut pages = BTreeMap::new();
    let (mut nopred, mut fffd, mut rejected) = (0, 0, 0);
    let mut spam = Accuracy::default();
    for id in &ids {
        let truth = dataset.truth(id)?;
        let raw = prediction_for(id)
            .filter(Value::is_object)
            .unwrap_or(Value::Null);
        let pred: BTreeMap<&str, Option<&str>> =
            FIELDS.iter().map(|k| (*k, str_field(&raw, k))).collect();
        let field = |k: &str| pred.get(k).copied().flatten();
        let mut row = PageScore::default();
        let not_article = raw.get("spam") == Some(&Value::Bool(true))
            || raw.get("not_article").is_some_and(Value::is_string);
        row.note = str_field(&raw, "not_article")
            .map(|k| format!("not_article: {k}"))
            .or_else(|| str_field(&raw, "error").map(|e| format!("error: {e}")));

        if field("text").unwrap_or("").chars().all(py_isspace) {
            nopred += 1;
            row.nopred = true;
        }
        if pred
            .values()
            .flatten()
            .any(|v| !v.is_empty() && has_mojibake(v))
        {
            fffd += 1;
            row.fffd = true;
        }
        let truth_text = str_field(&truth, "text").unwrap_or("");
        if !tokenize(truth_text).is_empty() {
            let scored = prf(truth_text, field("text").unwrap_or(""), ngram);
            body.push(scored);
            row.body = Some(scored);
            if not_article {
                rejected += 1;
            }
        }
        if let Some(t) = str_field(&truth, "title").filter(|s| !s.is_empty()) {
            let (a, b) = (norm_ws(t), norm_ws(field("title").unwrap_or("")));
            let ok = a == b;
            accuracy.entry("title").or_default().push(ok);
            accuracy
                .entry("title~")
                .or_default()
                .push(!b.is_empty() && (b.contains(&a) || a.contains(&b)));
            row.title = Some(ok);
        }
        if let Some(t) = str_field(&truth, "published").filter(|s| !s.is_empty()) {
            let td = parse_date(t);
            let pd = field("published").and_then(parse_date);
            let ok = matches!((&td, &pd), (Some(t), Some(p)) if t.0 == p.0);
            accuracy.entry("date").or_default().push(ok);
            row.date = Some(ok);
            if let Some((_, Some(truth_time))) = td {
                let okt = ok && pd.is_some_and(|p| p.1 == Some(truth_time));
                accuracy.entry("time").or_default().push(okt);
                row.time = Some(okt);
            }
        }
        for (key, lenient, normalize) in [
            ("author", "author~", norm_alnum as fn(&str) -> String),
            ("source", "source~", norm_ws as fn(&str) -> String),
        ] {
            if let Some(t) = str_field(&truth, key).filter(|s| !s.is_empty()) {
                let (a, b) = (normalize(t), normalize(field(key).unwrap_or("")));
                let ok = !a.is_empty() && a == b;
                accuracy.entry(key).or_default().push(ok);
                accuracy
                    .entry(lenient)
                    .or_default()
                    .push(!a.is_empty() && !b.is_empty() && (b.contains(&a) || a.contains(&b)));
                if key == "author" {
                    row.author = Some(ok);
                } else {
                    row.source = Some(ok);
                }
            }
        }
        if truth.get("spam") == Some(&Value::Bool(true)) {
            spam.push(not_article);
            row.spam_verdict = Some(not_article);
        }
        pages.insert(id.clone(), row);
    }
    let body = (!body.is_empty()).then(|| {
        let f1s: Vec<f64> = body.iter().map(|b| b.2).collect();
        BodyScores {
            n: body.len(),
            precision: mean(body.iter().map(|b| b.0)),
            recall: mean(body.iter().map(|b| b.1)),
            f1: mean(f1s.iter().copied()),
            f1_median: median(&f1s),
            f1_ge_09: f1s.iter().filter(|f| **f >= 0.9).count() as f64 / f1s.len() as f64,
        }
    });
    Ok(Scores {
        dataset: dataset.name.clone(),
        pages_total: ids.len(),
        nopred,
        fffd,
        ngram,
        body,
        accuracy,
        spam,
        rejected,
        timing: None,
        pages,
    })
}

// ------------------------------------------------------------------ report

fn fmt3(v: Option<f64>) -> String {
    v.map_or_else(|| "  -  ".to_string(), |v| format!("{v:.3}"))
}

/// The header line and table of score.py (with a spam verdict and rejected column),
/// followed by the `worst` pages by body F1.
pub fn render_report(scores: &Scores, worst: usize) -> String {
    let mut out = String::new();
    let n = |k: &str| scores.accuracy.get(k).map_or(0, |a| a.n);
    let _ = writeln!(
        out,
        "{}: pages={} body_n={} title={} date={} time={} author={} source={} spam={}{}",
        scores.dataset,
        scores.pages_total,
        scores.body.as_ref().map_or(0, |b| b.n),
        n("title"),
        n("date"),
        n("time"),
        n("author"),
        n("source"),
        scores.spam.n,
        if scores.ngram != 1 {
            format!(" ngram={}", scores.ngram)
        } else {
            String::new()
        },
    );
    let header =
        "| dataset | P | R | F1 | F1 med | F1>=.9 | title | date | time | author | source \
                  | source~ | nopred | fffd | spam | rejected | docs/s | MB/s |";
    let _ = writeln!(out, "{header}");
    let _ = writeln!(out, "|{}", "---|".repeat(header.matches('|').count() - 1));
    let b = scores.body.as_ref();
    let timing = |key: &str| {
        scores
            .timing
            .as_ref()
            .and_then(|t| t.get(key))
            .and_then(Value::as_f64)
            .filter(|v| *v > 0.0)
    };
    let cells = [
        scores.dataset.clone(),
        fmt3(b.map(|b| b.precision)),
        fmt3(b.map(|b| b.recall)),
        fmt3(b.map(|b| b.f1)),
        fmt3(b.map(|b| b.f1_median)),
        fmt3(b.map(|b| b.f1_ge_09)),
        fmt3(scores.acc("title")),
        fmt3(scores.acc("date")),
        fmt3(scores.acc("time")),
        fmt3(scores.acc("author")),
        fmt3(scores.acc("source")),
        fmt3(scores.acc("source~")),
        scores.nopred.to_string(),
        scores.fffd.to_string(),
        if scores.spam.n == 0 {
            "-".to_string()
        } else {
            format!("{}/{}", scores.spam.correct, scores.spam.n)
        },
        scores.rejected.to_string(),
        timing("docs_per_s").map_or("-".into(), |v| format!("{v:.1}")),
        timing("MB_per_s").map_or("-".into(), |v| format!("{v:.2}")),
    ];
    let _ = writeln!(out, "| {} |", cells.join(" | "));
    if worst > 0 {
        let _ = writeln!(out, "\nworst pages by body F1:");
        let _ = writeln!(
            out,
            "| id | P | R | F1 | title | date | time | author | source | note |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|---|---|---|");
        for (id, row) in worst_pages(scores, worst) {
            let mark = |v: Option<bool>| match v {
                Some(true) => "ok",
                Some(false) => "WRONG",
                None => "-",
            };
            let (p, r, f) = row
                .body
                .map_or(("-".into(), "-".into(), "-".into()), |(p, r, f)| {
                    (format!("{p:.3}"), format!("{r:.3}"), format!("{f:.3}"))
                });
            let mut note = row.note.clone().unwrap_or_default();
            if let (None, Some(hint)) = (&row.note, row.body.and_then(body_hint)) {
                note.push_str(hint);
            }
            if row.fffd {
                note.push_str(" U+FFFD/mojibake");
            }
            if let Some(false) = row.spam_verdict {
                note.push_str(" spam page reported as article");
            }
            let _ = writeln!(
                out,
                "| {id} | {p} | {r} | {f} | {} | {} | {} | {} | {} | {} |",
                mark(row.title),
                mark(row.date),
                mark(row.time),
                mark(row.author),
                mark(row.source),
                note.trim()
            );
        }
    }
    out
}

/// A first guess at what went wrong with a poorly scored body.
fn body_hint((precision, recall, f1): (f64, f64, f64)) -> Option<&'static str> {
    if f1 >= 0.9 {
        None
    } else if precision + 0.1 < recall {
        Some("extra text (low precision)")
    } else if recall + 0.1 < precision {
        Some("text missing (low recall)")
    } else {
        Some("wrong block")
    }
}

/// Pages ordered worst first: by body F1 (pages without body truth last), then by the
/// number of wrong metadata fields.
pub fn worst_pages(scores: &Scores, limit: usize) -> Vec<(&String, &PageScore)> {
    let wrong = |row: &PageScore| {
        [
            row.title,
            row.date,
            row.time,
            row.author,
            row.source,
            row.spam_verdict,
        ]
        .iter()
        .filter(|v| **v == Some(false))
        .count()
    };
    let mut rows: Vec<_> = scores.pages.iter().collect();
    rows.sort_by(|a, b| {
        let fa = a.1.body.map_or(2.0, |x| x.2);
        let fb = b.1.body.map_or(2.0, |x| x.2);
        fa.total_cmp(&fb)
            .then_with(|| wrong(b.1).cmp(&wrong(a.1)))
            .then_with(|| a.0.cmp(b.0))
    });
    rows.truncate(limit);
    rows
}

// ------------------------------------------------------------------ floors

/// The floors of one dataset (`[name]` in `quality/floors.toml`). A metric without a
/// floor is not gated.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetFloors {
    /// Where the dataset lives, relative to the shared folder (`corpus/gov`).
    pub path: Option<String>,
    pub body_f1_mean: Option<f64>,
    pub body_f1_median: Option<f64>,
    pub title: Option<f64>,
    pub date: Option<f64>,
    pub datetime: Option<f64>,
    pub author: Option<f64>,
    pub source: Option<f64>,
    /// The share of spam-labelled pages that must come out as "not an article".
    pub spam: Option<f64>,
    /// At most this many predictions with U+FFFD or mojibake.
    pub fffd_max: Option<usize>,
}

/// A score under its floor.
#[derive(Debug, Clone, PartialEq)]
pub struct FloorViolation {
    pub dataset: String,
    pub metric: String,
    pub floor: f64,
    /// None when the metric could not be measured at all (no labelled pages).
    pub measured: Option<f64>,
}

impl std::fmt::Display for FloorViolation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.measured {
            Some(v) if self.metric == "fffd" => write!(
                f,
                "{}: {} pages with U+FFFD / mojibake, at most {} allowed",
                self.dataset, v, self.floor
            ),
            Some(v) => write!(
                f,
                "{}: {} = {:.4} is below its floor {:.4}",
                self.dataset, self.metric, v, self.floor
            ),
            None => write!(
                f,
                "{}: {} has a floor {:.4} but no page measures it",
                self.dataset, self.metric, self.floor
            ),
        }
    }
}

impl DatasetFloors {
    /// The named floors that are set, in report order.
    pub fn floors(&self) -> Vec<(&'static str, f64)> {
        [
            ("body_f1_mean", self.body_f1_mean),
            ("body_f1_median", self.body_f1_median),
            ("title", self.title),
            ("date", self.date),
            ("datetime", self.datetime),
            ("author", self.author),
            ("source", self.source),
            ("spam", self.spam),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect()
    }

    /// Every metric below its floor (empty = the gate passes).
    pub fn check(&self, scores: &Scores) -> Vec<FloorViolation> {
        let mut violations = Vec::new();
        for (metric, floor) in self.floors() {
            let measured = scores.metric(metric);
            // A tiny tolerance: floors are written with 3-4 decimals.
            if !matches!(measured, Some(v) if v + 1e-9 >= floor) {
                violations.push(FloorViolation {
                    dataset: scores.dataset.clone(),
                    metric: metric.to_string(),
                    floor,
                    measured,
                });
            }
        }
        if let Some(max) = self.fffd_max {
            if scores.fffd > max {
                violations.push(FloorViolation {
                    dataset: scores.dataset.clone(),
                    metric: "fffd".into(),
                    floor: max as f64,
                    measured: Some(scores.fffd as f64),
                });
            }
        }
        violations
    }
}

/// `quality/floors.toml`: floors by dataset name.
#[derive(Debug, Clone, Default)]
pub struct Floors {
    pub datasets: BTreeMap<String, DatasetFloors>,
}

impl Floors {
    pub fn parse(text: &str, path: &Path) -> Result<Self, EvalError> {
        let datasets: BTreeMap<String, DatasetFloors> =
            toml::from_str(text).map_err(|e| EvalError::Floors {
                path: path.to_path_buf(),
                message: e.to_string(),
            })?;
        Ok(Floors { datasets })
    }

    pub fn load(path: &Path) -> Result<Self, EvalError> {
        let text = std::fs::read_to_string(path).map_err(|source| EvalError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenize_matches_score_py_selftest() {
        assert_eq!(
            tokenize("Hello, World 2024! 中文ab"),
            ["hello", "world", "2024", "中", "文", "ab"]
        );
        assert_eq!(tokenize("２０２２年"), ["2022", "年"]);
        // Hangul and kana are one token per character; marks join a running word.
        assert_eq!(tokenize("한국 カナ"), ["한", "국", "カ", "ナ"]);
        assert_eq!(tokenize("cafe\u{301} \u{301}x"), ["café", "x"]);
        // Roman numerals (Nl) and superscripts (No → NFKC digits) are alphanumeric.
        assert_eq!(tokenize("Ⅻ x²"), ["xii", "x2"]);
        // Negative circled letters are symbols to Python, not letters.
        assert_eq!(tokenize("a\u{1F150}b"), ["a", "b"]);
    }

    #[test]
    fn python_character_classes() {
        assert!(py_isalnum('é') && py_isalnum('٣') && py_isalnum('½') && py_isalnum('Ⅻ'));
        assert!(!py_isalnum('\u{301}') && !py_isalnum('\u{93E}') && !py_isalnum('Ⓐ'));
        assert!(py_isspace('\u{1C}') && py_isspace('\u{3000}') && !py_isspace('\u{200B}'));
    }

    #[test]
    fn prf_matches_score_py() {
        assert_eq!(prf("a b c", "a b c", 1).2, 1.0);
        let (p, r, _) = prf("a b c d", "a b x", 1);
        assert!((p - 2.0 / 3.0).abs() < 1e-9 && (r - 0.5).abs() < 1e-9);
        assert_eq!(prf("a", "", 1).2, 0.0);
        assert_eq!(prf("a b", "a b", 4).2, 1.0);
    }

    #[test]
    fn dates_parse_like_score_py() {
        assert_eq!(
            parse_date("2022-02-13T07:00:00+08:00"),
            Some(((2022, 2, 13), Some((7, 0))))
        );
        assert_eq!(
            parse_date("发布时间：2021年1月29日 13:18"),
            Some(((2021, 1, 29), Some((13, 18))))
        );
        assert_eq!(parse_date("2005/5/7").map(|d| d.0), Some((2005, 5, 7)));
        assert_eq!(parse_date("n/a"), None);
        assert_eq!(
            parse_date("２０２０年３月１日 ９时０５"),
            Some(((2020, 3, 1), Some((9, 5))))
        );
        // Digits of other scripts count, as in Python's re and int().
        assert_eq!(parse_date("٢٠٢٠-٠٣-٠١").map(|d| d.0), Some((2020, 3, 1)));
    }

    #[test]
    fn normalisations_match_score_py() {
        assert_eq!(norm_alnum("王建宏 张文攀"), norm_alnum("王建宏、张文攀"));
        assert_eq!(norm_ws(" Straße\u{3000}X"), "strassex");
        assert_eq!(casefold("ΣΑΣ"), "σασ");
        assert!(has_mojibake(
            "\u{e4}\u{b8}\u{ad}\u{e6}\u{2013}\u{2021} \u{c3}\u{a9}\u{c3}\u{a9}"
        ));
        assert!(!has_mojibake("café 中文"));
    }

    #[test]
    fn floors_parse_and_check() {
        let floors = Floors::parse(
            "[demo]\npath = \"x\"\nbody_f1_mean = 0.9\ntitle = 0.5\nfffd_max = 0\n",
            Path::new("floors.toml"),
        )
        .expect("valid floors");
        let demo = &floors.datasets["demo"];
        let scores = Scores {
            dataset: "demo".into(),
            pages_total: 1,
            nopred: 0,
            fffd: 1,
            ngram: 1,
            body: Some(BodyScores {
                n: 1,
                precision: 1.0,
                recall: 0.8,
                f1: 0.85,
                f1_median: 0.85,
                f1_ge_09: 0.0,
            }),
            accuracy: BTreeMap::new(),
            spam: Accuracy::default(),
            rejected: 0,
            timing: None,
            pages: BTreeMap::new(),
        };
        let metrics: Vec<_> = demo.check(&scores).into_iter().map(|v| v.metric).collect();
        assert_eq!(metrics, ["body_f1_mean", "title", "fffd"]);
        assert!(Floors::parse("[x]\nunknown = 1\n", Path::new("f")).is_err());
    }
}
