//! The archive: one JSON document per article, written atomically, never duplicated.
//!
//! [`Archive`] is the seam for other stores (S3-compatible object storage later);
//! [`LocalArchive`] keeps a folder:
//!
//! ```text
//! <root>/<host>/<yyyy>/<mm>/<id>.json     one article; yyyy/mm from its publication date
//! <root>/<host>/undated/<id>.json         articles without a date
//! <root>/reports/                         run reports of crawls
//! ```
//!
//! `<id>` is the first 20 hex digits of the SHA-256 of the article's identity URL
//! (canonical URL, else final URL, else requested URL), so the same article always maps
//! to the same id even if a better extractor later finds another date.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::article::Article;
use crate::extract::hex_sha256;

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
}

/// A store of articles keyed by their identity.
pub trait Archive: Send + Sync {
    /// Stores `article`, replacing an earlier version only when its content changed.
    fn put(&self, article: &Article) -> Result<Stored, ArchiveError>;
    /// The stored version of the article with this identity URL, if any.
    fn get(&self, identity_url: &str) -> Result<Option<Article>, ArchiveError>;
    /// Stores a named run report (JSON).
    fn put_report(&self, name: &str, json: &[u8]) -> Result<String, ArchiveError>;
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

/// The archive as a local folder.
#[derive(Debug, Clone)]
pub struct LocalArchive {
    root: PathBuf,
}

impl LocalArchive {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalArchive { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
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
            if !year.is_dir() {
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
            archive.get("http://www.yaan.gov.cn/a/t20191023_1.html").unwrap().unwrap().text,
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
