//! The archive: one JSON document per article, written atomically, never duplicated.
//!
//! [`Archive`] is the seam for other stores (S3-compatible object storage later);
//! [`LocalArchive`] keeps a folder:
//!
//! ```text
//! <root>/<host>/<yyyy>/<mm>/<id>.json     one article; yyyy/mm from its publication date
//! <root>/<host>/undated/<id>.json         articles without a date
//! <root>/<host>/<yyyy>/<mm>/<id>.raw.html.gz  the fetched bytes, gzip (with keep_raw)
//! <root>/<host>/<yyyy>/<mm>/<id>.raw.json      how they were fetched (url, http, time)
//! <root>/reports/                         run reports of crawls
//! ```
//!
//! Raw pages sit beside their article and move with it; the raw page of a page that is
//! not (yet) an article sits in `<host>/undated/`. They let `gazette reextract` rerun
//! extraction over the whole archive without the network when the extractor improves.
//!
//! `<id>` is the first 20 hex digits of the SHA-256 of the article's identity URL
//! (canonical URL, else final URL, else requested URL), so the same article always maps
//! to the same id even if a better extractor later finds another date.

use std::collections::VecDeque;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::article::{Article, HttpInfo};
use crate::extract::{hex_sha256, Outcome, RawPage};

/// What storing an article did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PutStatus {
    New,
    Updated,
    Unchanged,
}

/// Where an article is (a path for the local folder, an object key elsewhere).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub status: PutStatus,
    pub location: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    #[error("archive {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("archive file {path} is not a valid article record: {message}")]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot archive an article with no URL (give --url for saved files)")]
    NoUrl,
    #[error(
        "no raw page {key} in the archive (it was removed, or the archive keeps no raw pages)"
    )]
    RawMissing { key: String },
}

/// Settings of an archive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveOptions {
    /// Keep the fetched bytes of every page (gzip-compressed) so that `gazette reextract`
    /// can rerun extraction later without the network. Off: [`Archive::put_raw`] stores
    /// nothing.
    pub keep_raw: bool,
}

/// A fetched page as kept in the archive: its bytes and what extraction needs to see the
/// page exactly as it was fetched (addresses, Content-Type, HTTP details, time).
///
/// The metadata is stored as `<id>.raw.json`, the bytes as `<id>.raw.html.gz`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RawPageRecord {
    pub url: Option<String>,
    pub final_url: Option<String>,
    pub content_type: Option<String>,
    pub http: Option<HttpInfo>,
    /// RFC 3339, UTC.
    pub fetched_at: Option<String>,
    /// The encoding label a site's configuration forced on this page (`charset` of a
    /// site in the crawl config), so that re-extraction decodes it the same way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charset_override: Option<String>,
    /// Length and SHA-256 of the uncompressed bytes: a damaged or mismatched body file is
    /// reported, never extracted.
    pub size: u64,
    pub sha256: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl RawPageRecord {
    /// The record of a fetched page (copies the bytes).
    pub fn from_page(page: &RawPage) -> Self {
        RawPageRecord {
            url: page.url.as_ref().map(|u| u.to_string()),
            final_url: page.final_url.as_ref().map(|u| u.to_string()),
            content_type: page.content_type.clone(),
            http: page.http.clone(),
            fetched_at: page.fetched_at.map(|t| t.to_rfc3339()),
            charset_override: None,
            size: page.bytes.len() as u64,
            sha256: hex_sha256(&page.bytes),
            bytes: page.bytes.clone(),
        }
    }

    /// The page to hand to [`crate::Extractor::process`]; unparsable stored addresses or
    /// times (edited by hand) become `None` rather than an error.
    pub fn into_page(self) -> RawPage {
        let parse_url = |u: Option<String>| u.and_then(|u| url::Url::parse(&u).ok());
        RawPage {
            url: parse_url(self.url),
            final_url: parse_url(self.final_url),
            content_type: self.content_type,
            http: self.http,
            fetched_at: self
                .fetched_at
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&chrono::Utc)),
            bytes: self.bytes,
        }
    }
}

/// The identity URL under which to keep the raw page of `page`: the article's identity
/// when extraction gave one, else the final URL, else the requested URL.
pub fn raw_identity(outcome: Option<&Outcome>, page: &RawPage) -> Option<String> {
    if let Some(Outcome::Article(article)) = outcome {
        if let Some(identity) = identity_url(article) {
            return Some(identity.to_string());
        }
    }
    page.address().map(|u| u.to_string())
}

/// Iterator over the keys of the stored raw pages.
pub type RawKeys<'a> = Box<dyn Iterator<Item = Result<String, ArchiveError>> + Send + 'a>;

/// A store of articles keyed by their identity.
pub trait Archive: Send + Sync {
    /// Stores `article`, replacing an earlier version only when its content changed.
    fn put(&self, article: &Article) -> Result<Stored, ArchiveError>;
    /// The stored version of the article with this identity URL, if any.
    fn get(&self, identity_url: &str) -> Result<Option<Article>, ArchiveError>;
    /// Stores a named run report (JSON).
    fn put_report(&self, name: &str, json: &[u8]) -> Result<String, ArchiveError>;

    /// Keeps the raw page under the identity URL of what was extracted from it (see
    /// [`raw_identity`]); unchanged bytes are not rewritten. Returns where it is, or `None`
    /// when this archive keeps no raw pages.
    fn put_raw(
        &self,
        _identity_url: &str,
        _raw: &RawPageRecord,
    ) -> Result<Option<String>, ArchiveError> {
        Ok(None)
    }

    /// The keys of every stored raw page, for [`Archive::get_raw`], read lazily.
    fn raw_keys(&self) -> RawKeys<'_> {
        Box::new(std::iter::empty())
    }

    /// One stored raw page, bytes included, checked against its recorded SHA-256.
    fn get_raw(&self, key: &str) -> Result<RawPageRecord, ArchiveError> {
        Err(ArchiveError::RawMissing {
            key: key.to_string(),
        })
    }
}

/// The URL that identifies an article: canonical, else final, else requested.
pub fn identity_url(article: &Article) -> Option<&str> {
    article
        .canonical_url
        .as_deref()
        .or(article.final_url.as_deref())
        .or(article.url.as_deref())
}

/// The stable id of an article from its identity URL.
pub fn article_id(identity_url: &str) -> String {
    hex_sha256(identity_url.as_bytes())[..20].to_string()
}

/// Suffix of the file with the fetch metadata of a raw page (the key of a raw page).
const RAW_META_SUFFIX: &str = ".raw.json";
/// Suffix of the file with the gzip-compressed bytes of a raw page.
const RAW_BODY_SUFFIX: &str = ".raw.html.gz";
/// gzip level for raw pages. Measured on the government corpus (benches/extract.rs,
/// `raw`): level 1 compresses at ~70 MB/s to 26% of the size, level 6 at ~19 MB/s (slower
/// than extraction itself) to 20%; the disk saved is not worth a crawl bottleneck.
const RAW_GZIP_LEVEL: u32 = 1;

/// The archive as a local folder.
#[derive(Debug, Clone)]
pub struct LocalArchive {
    root: PathBuf,
    options: ArchiveOptions,
}

impl LocalArchive {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self::with_options(root, ArchiveOptions::default())
    }

    pub fn with_options(root: impl Into<PathBuf>, options: ArchiveOptions) -> Self {
        LocalArchive {
            root: root.into(),
            options,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn options(&self) -> &ArchiveOptions {
        &self.options
    }

    /// Moves the raw files of `id` next to its article at `target_dir`, from the article's
    /// old folder or from `undated/` (where raw pages without an article wait).
    fn move_raw_beside(
        &self,
        host_dir: &Path,
        old_dir: Option<&Path>,
        id: &str,
        target_dir: &Path,
    ) {
        let undated = host_dir.join("undated");
        for dir in old_dir
            .into_iter()
            .chain(std::iter::once(undated.as_path()))
        {
            if dir == target_dir || !dir.join(format!("{id}{RAW_META_SUFFIX}")).exists() {
                continue;
            }
            if fs::create_dir_all(target_dir).is_err() {
                return;
            }
            // The body first: a metadata file is only ever visible next to its body.
            for suffix in [RAW_BODY_SUFFIX, RAW_META_SUFFIX] {
                let name = format!("{id}{suffix}");
                let _ = fs::rename(dir.join(&name), target_dir.join(&name));
            }
            return;
        }
    }

    fn host_dir(&self, identity_url: &str) -> PathBuf {
        let host = url::Url::parse(identity_url)
            .ok()
            .and_then(|u| u.host_str().map(|h| h.to_ascii_lowercase()))
            .unwrap_or_else(|| "unknown-host".to_string());
        self.root.join(sanitize(&host))
    }

    fn bucket(article: &Article) -> PathBuf {
        match article.published_at.as_deref() {
            Some(d) if d.len() >= 7 && d.as_bytes()[4] == b'-' => {
                PathBuf::from(&d[..4]).join(&d[5..7])
            }
            _ => PathBuf::from("undated"),
        }
    }

    /// Finds the file of an id anywhere under its host folder (the date bucket may differ
    /// from an earlier extraction).
    fn find(&self, host_dir: &Path, file_name: &str) -> Result<Option<PathBuf>, ArchiveError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ArchiveError::Io { path, source }
        };
        if !host_dir.exists() {
            return Ok(None);
        }
        let undated = host_dir.join("undated").join(file_name);
        if undated.exists() {
            return Ok(Some(undated));
        }
        for year in fs::read_dir(host_dir).map_err(io(host_dir))? {
            let year = year.map_err(io(host_dir))?.path();
            // undated/ was checked above; walking its files would cost a stat per file.
            if !year.is_dir() || year.file_name().is_some_and(|n| n == "undated") {
                continue;
            }
            for month in fs::read_dir(&year).map_err(io(&year))? {
                let candidate = month.map_err(io(&year))?.path().join(file_name);
                if candidate.exists() {
                    return Ok(Some(candidate));
                }
            }
        }
        Ok(None)
    }

    fn read(path: &Path) -> Result<Article, ArchiveError> {
        let bytes = fs::read(path).map_err(|source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Corrupt {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    }
}

/// True when two records say the same thing (fetch time and HTTP details aside).
fn same_content(a: &Article, b: &Article) -> bool {
    let strip = |x: &Article| Article {
        fetched_at: None,
        http: None,
        other_urls: Vec::new(),
        extractor_version: String::new(),
        ..x.clone()
    };
    strip(a) == strip(b)
}

impl Archive for LocalArchive {
    fn put(&self, article: &Article) -> Result<Stored, ArchiveError> {
        let identity = identity_url(article).ok_or(ArchiveError::NoUrl)?;
        let file_name = format!("{}.json", article_id(identity));
        let host_dir = self.host_dir(identity);
        let target = host_dir.join(Self::bucket(article)).join(&file_name);
        let existing = self.find(&host_dir, &file_name)?;

        let mut record = article.clone();
        let status = match &existing {
            Some(path) => match Self::read(path) {
                Ok(old) => {
                    // Keep every URL the article was ever seen at.
                    for u in old.other_urls.iter().chain(old.url.iter()) {
                        if Some(u.as_str()) != record.url.as_deref()
                            && !record.other_urls.contains(u)
                        {
                            record.other_urls.push(u.clone());
                        }
                    }
                    if same_content(&old, &record) && old.other_urls == record.other_urls {
                        return Ok(Stored {
                            status: PutStatus::Unchanged,
                            location: path.display().to_string(),
                        });
                    }
                    PutStatus::Updated
                }
                // A corrupt file (from outside tampering) is replaced, never trusted.
                Err(_) => PutStatus::Updated,
            },
            None => PutStatus::New,
        };
        let json = serde_json::to_vec_pretty(&record).expect("articles always serialise");
        write_atomically(&target, &json)?;
        let target_dir = target.parent().unwrap_or(&host_dir);
        let old_dir = existing.as_deref().and_then(Path::parent);
        self.move_raw_beside(&host_dir, old_dir, &article_id(identity), target_dir);
        if let Some(old) = existing.filter(|old| *old != target) {
            let _ = fs::remove_file(old);
        }
        Ok(Stored {
            status,
            location: target.display().to_string(),
        })
    }

    fn get(&self, identity_url: &str) -> Result<Option<Article>, ArchiveError> {
        let file_name = format!("{}.json", article_id(identity_url));
        match self.find(&self.host_dir(identity_url), &file_name)? {
            Some(path) => Self::read(&path).map(Some),
            None => Ok(None),
        }
    }

    fn put_report(&self, name: &str, json: &[u8]) -> Result<String, ArchiveError> {
        let path = self.root.join("reports").join(sanitize(name));
        write_atomically(&path, json)?;
        Ok(path.display().to_string())
    }

    fn put_raw(
        &self,
        identity_url: &str,
        raw: &RawPageRecord,
    ) -> Result<Option<String>, ArchiveError> {
        if !self.options.keep_raw {
            return Ok(None);
        }
        let id = article_id(identity_url);
        let host_dir = self.host_dir(identity_url);
        let meta_name = format!("{id}{RAW_META_SUFFIX}");
        // Beside the article when there is one, else where an earlier raw page is, else
        // in undated/ until an article appears.
        let dir = match self.find(&host_dir, &format!("{id}.json"))? {
            Some(article) => article.parent().unwrap_or(&host_dir).to_path_buf(),
            None => match self.find(&host_dir, &meta_name)? {
                Some(meta) => meta.parent().unwrap_or(&host_dir).to_path_buf(),
                None => host_dir.join("undated"),
            },
        };
        let meta_path = dir.join(&meta_name);
        let body_path = dir.join(format!("{id}{RAW_BODY_SUFFIX}"));

        let mut record = raw.clone();
        record.bytes = Vec::new();
        record.size = raw.bytes.len() as u64;
        record.sha256 = hex_sha256(&raw.bytes);
        if let Ok(old) = fs::read(&meta_path) {
            if let Ok(old) = serde_json::from_slice::<RawPageRecord>(&old) {
                if old == record && body_path.exists() {
                    return Ok(Some(meta_path.display().to_string()));
                }
            }
        }
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ArchiveError::Io { path, source }
        };
        let mut gz = GzEncoder::new(
            Vec::with_capacity(raw.bytes.len() / 4 + 64),
            flate2::Compression::new(RAW_GZIP_LEVEL),
        );
        gz.write_all(&raw.bytes).map_err(io(&body_path))?;
        let compressed = gz.finish().map_err(io(&body_path))?;
        // Body first, metadata last: a listed raw page always has its body.
        write_atomically(&body_path, &compressed)?;
        let json = serde_json::to_vec_pretty(&record).expect("raw records always serialise");
        write_atomically(&meta_path, &json)?;
        Ok(Some(meta_path.display().to_string()))
    }

    fn raw_keys(&self) -> RawKeys<'_> {
        Box::new(RawWalk {
            dirs: vec![self.root.clone()],
            files: VecDeque::new(),
            root: self.root.clone(),
        })
    }

    fn get_raw(&self, key: &str) -> Result<RawPageRecord, ArchiveError> {
        let meta_path = PathBuf::from(key);
        let Some(stem) = key.strip_suffix(RAW_META_SUFFIX) else {
            return Err(ArchiveError::RawMissing {
                key: key.to_string(),
            });
        };
        let body_path = PathBuf::from(format!("{stem}{RAW_BODY_SUFFIX}"));
        let read = |path: &Path| {
            fs::read(path).map_err(|source| match source.kind() {
                std::io::ErrorKind::NotFound => ArchiveError::RawMissing {
                    key: path.display().to_string(),
                },
                _ => ArchiveError::Io {
                    path: path.to_path_buf(),
                    source,
                },
            })
        };
        let corrupt = |path: &Path, message: String| ArchiveError::Corrupt {
            path: path.to_path_buf(),
            message,
        };
        let mut record: RawPageRecord = serde_json::from_slice(&read(&meta_path)?)
            .map_err(|e| corrupt(&meta_path, e.to_string()))?;
        let compressed = read(&body_path)?;
        let mut bytes = Vec::with_capacity(usize::try_from(record.size).unwrap_or(0).min(64 << 20));
        // Never inflate past the recorded size: a damaged file cannot fill memory.
        GzDecoder::new(compressed.as_slice())
            .take(record.size.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt(&body_path, format!("not valid gzip: {e}")))?;
        if bytes.len() as u64 != record.size || hex_sha256(&bytes) != record.sha256 {
            return Err(corrupt(
                &body_path,
                "the bytes do not match the size and SHA-256 recorded in the .raw.json file".into(),
            ));
        }
        record.bytes = bytes;
        Ok(record)
    }
}

/// A lazy, sorted walk of the archive folder yielding `*.raw.json` paths.
struct RawWalk {
    root: PathBuf,
    dirs: Vec<PathBuf>,
    files: VecDeque<PathBuf>,
}

impl Iterator for RawWalk {
    type Item = Result<String, ArchiveError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(file) = self.files.pop_front() {
                return Some(Ok(file.display().to_string()));
            }
            let dir = self.dirs.pop()?;
            let entries = match fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(source)
                    if dir == self.root && source.kind() == std::io::ErrorKind::NotFound =>
                {
                    return None
                }
                Err(source) => return Some(Err(ArchiveError::Io { path: dir, source })),
            };
            let mut paths: Vec<PathBuf> =
                entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            let mut subdirs = Vec::new();
            for path in paths {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                if name.starts_with('.') || (dir == self.root && name == "reports") {
                    continue;
                }
                if path.is_dir() {
                    subdirs.push(path);
                } else if name.ends_with(RAW_META_SUFFIX) {
                    self.files.push_back(path);
                }
            }
            // Reversed so that the stack pops them in sorted order.
            self.dirs.extend(subdirs.into_iter().rev());
        }
    }
}

/// Writes `bytes` to `path` so that readers see the old file or the new one, never a part:
/// a temporary file in the same folder, fsync, rename, fsync of the folder.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ArchiveError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| ArchiveError::Io { path: p, source }
    };
    fs::create_dir_all(dir).map_err(io(dir))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(
        ".{file_name}.tmp-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let result = (|| {
        let mut file = File::create(&tmp).map_err(io(&tmp))?;
        file.write_all(bytes).map_err(io(&tmp))?;
        file.sync_all().map_err(io(&tmp))?;
        fs::rename(&tmp, path).map_err(io(path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Keeps a path component to safe characters.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(url: &str, date: Option<&str>, text: &str) -> Article {
        Article {
            url: Some(url.into()),
            published_at: date.map(str::to_string),
            text: text.into(),
            content_sha256: hex_sha256(text.as_bytes()),
            ..Article::default()
        }
    }

    #[test]
    fn stores_under_host_and_month_then_skips_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let archive = LocalArchive::new(dir.path());
        let a = article(
            "http://www.yaan.gov.cn/a/t20191023_1.html",
            Some("2019-10-23"),
            "正文",
        );
        let first = archive.put(&a).unwrap();
        assert_eq!(first.status, PutStatus::New);
        assert!(first.location.contains("www.yaan.gov.cn/2019/10/"));
        let mut again = a.clone();
        again.fetched_at = Some("2026-01-01T00:00:00Z".into());
        assert_eq!(archive.put(&again).unwrap().status, PutStatus::Unchanged);
        let changed = article(
            "http://www.yaan.gov.cn/a/t20191023_1.html",
            Some("2019-10-23"),
            "正文更新",
        );
        assert_eq!(archive.put(&changed).unwrap().status, PutStatus::Updated);
        assert_eq!(
            archive
                .get("http://www.yaan.gov.cn/a/t20191023_1.html")
                .unwrap()
                .unwrap()
                .text,
            "正文更新"
        );
    }

    #[test]
    fn a_new_date_moves_the_file_without_duplicating_it() {
        let dir = tempfile::tempdir().unwrap();
        let archive = LocalArchive::new(dir.path());
        let url = "http://example.gov.cn/x.html";
        archive.put(&article(url, None, "a")).unwrap();
        let moved = archive.put(&article(url, Some("2020-01-02"), "a")).unwrap();
        assert_eq!(moved.status, PutStatus::Updated);
        let files: Vec<_> = walk(dir.path());
        assert_eq!(files.len(), 1, "{files:?}");
    }

    #[test]
    fn no_temporary_files_are_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b.json");
        write_atomically(&path, b"{}").unwrap();
        assert_eq!(walk(dir.path()), vec![path]);
    }

    fn raw(url: &str, html: &str) -> RawPageRecord {
        RawPageRecord::from_page(&RawPage {
            bytes: html.as_bytes().to_vec(),
            url: url::Url::parse(url).ok(),
            content_type: Some("text/html; charset=utf-8".into()),
            fetched_at: Some(chrono::Utc::now()),
            ..RawPage::default()
        })
    }

    fn keeping_raw(dir: &Path) -> LocalArchive {
        LocalArchive::with_options(dir, ArchiveOptions { keep_raw: true })
    }

    #[test]
    fn raw_pages_are_only_kept_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let url = "http://example.gov.cn/a.html";
        let stored = LocalArchive::new(dir.path())
            .put_raw(url, &raw(url, "<p>正文</p>"))
            .unwrap();
        assert_eq!(stored, None);
        assert!(walk(dir.path()).is_empty());
    }

    #[test]
    fn raw_pages_round_trip_compressed_beside_the_article() {
        let dir = tempfile::tempdir().unwrap();
        let archive = keeping_raw(dir.path());
        let url = "http://www.example.gov.cn/a/t20200102_1.html";
        let html =
            "<html><body><p>县政府召开常务会议，研究部署春耕生产。</p></body></html>".repeat(50);
        archive
            .put(&article(url, Some("2020-01-02"), "正文"))
            .unwrap();
        let record = raw(url, &html);
        let location = archive.put_raw(url, &record).unwrap().unwrap();
        assert!(
            location.contains("www.example.gov.cn/2020/01/"),
            "{location}"
        );
        let gz = PathBuf::from(location.replace(RAW_META_SUFFIX, RAW_BODY_SUFFIX));
        assert!(fs::metadata(&gz).unwrap().len() < html.len() as u64 / 4);

        let keys: Vec<String> = archive.raw_keys().collect::<Result<_, _>>().unwrap();
        assert_eq!(keys, vec![location.clone()]);
        let back = archive.get_raw(&keys[0]).unwrap();
        assert_eq!(back, record);
        let page = back.into_page();
        assert_eq!(page.url.as_ref().map(|u| u.as_str()), Some(url));
        assert_eq!(page.bytes, html.as_bytes());
    }

    #[test]
    fn raw_pages_without_article_wait_in_undated_and_follow_the_article() {
        let dir = tempfile::tempdir().unwrap();
        let archive = keeping_raw(dir.path());
        let url = "http://example.gov.cn/b.html";
        let first = archive.put_raw(url, &raw(url, "列表")).unwrap().unwrap();
        assert!(first.contains("/undated/"), "{first}");
        archive
            .put(&article(url, Some("2021-03-04"), "正文"))
            .unwrap();
        let keys: Vec<String> = archive.raw_keys().collect::<Result<_, _>>().unwrap();
        assert_eq!(keys.len(), 1);
        assert!(keys[0].contains("/2021/03/"), "{keys:?}");
        archive
            .put(&article(url, Some("2022-05-06"), "正文"))
            .unwrap();
        let files = walk(dir.path());
        assert_eq!(files.len(), 3, "{files:?}");
        assert!(
            files
                .iter()
                .all(|f| f.to_string_lossy().contains("/2022/05/")),
            "{files:?}"
        );
        assert_eq!(
            archive
                .get_raw(&archive.raw_keys().next().unwrap().unwrap())
                .unwrap()
                .bytes,
            "列表".as_bytes()
        );
    }

    #[test]
    fn a_damaged_raw_body_is_reported_not_returned() {
        let dir = tempfile::tempdir().unwrap();
        let archive = keeping_raw(dir.path());
        let url = "http://example.gov.cn/c.html";
        let key = archive.put_raw(url, &raw(url, "原文")).unwrap().unwrap();
        let body = key.replace(RAW_META_SUFFIX, RAW_BODY_SUFFIX);
        fs::write(&body, b"not gzip at all").unwrap();
        assert!(matches!(
            archive.get_raw(&key),
            Err(ArchiveError::Corrupt { .. })
        ));
        fs::remove_file(&body).unwrap();
        assert!(matches!(
            archive.get_raw(&key),
            Err(ArchiveError::RawMissing { .. })
        ));
    }

    #[test]
    fn raw_keys_of_a_missing_archive_is_empty() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            keeping_raw(&dir.path().join("absent")).raw_keys().count(),
            0
        );
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
}
