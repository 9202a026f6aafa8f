//! Fetching pages over HTTP: one client, clear errors, conditional requests.
//!
//! Per-host politeness (concurrency, delays, backoff) lives in `fetch::host` so that
//! `gazette fetch` and `gazette crawl` share it.
//!
//! What this module guarantees to its callers:
//! - only HTML comes back as a page: PDFs, images, JSON ... are [`FetchError::NotHtml`],
//!   and a missing or generic content type is settled by looking at the bytes;
//! - anti-bot challenges and firewall refusals are [`FetchError::Blocked`], never a page
//!   (see [`antibot`]);
//! - bodies are read in chunks and cut off at `max_bytes`;
//! - every error names the URL and what went wrong, and says whether a retry can help
//!   ([`FetchError::is_retryable`], [`FetchError::retry_after`]).

pub mod antibot;
pub mod host;
pub mod retry;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::article::HttpInfo;
use crate::extract::RawPage;

pub use antibot::{detect_wall, Wall, WallRules};

/// Network settings, resolved from the config.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub user_agent: String,
    pub connect_timeout: Duration,
    /// Whole-request timeout, body included.
    pub timeout: Duration,
    pub max_redirects: usize,
    /// Bodies over this size are cut off with an error rather than filling memory.
    pub max_bytes: usize,
    /// The anti-bot walls recognised in responses.
    pub walls: Arc<WallRules>,
    /// Fetch HTTPS pages even when the certificate does not verify (expired, missing
    /// intermediate, wrong host: common on small government sites). Off by default.
    pub accept_invalid_certs: bool,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            user_agent: crate::DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: 10,
            max_bytes: 32 * 1024 * 1024,
            walls: Arc::new(antibot::builtin_rules().clone()),
            accept_invalid_certs: false,
        }
    }
}

/// How much of an error response is read to recognise an anti-bot wall.
const ERROR_BODY_LIMIT: usize = 256 * 1024;

/// Why a fetch failed, with what a user needs to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{url}: cannot fetch this address: {message}")]
    InvalidUrl { url: String, message: String },
    #[error("{url}: HTTP {status}{}", reason_suffix(.reason))]
    Status {
        url: String,
        status: u16,
        /// The standard reason phrase (`Not Found`), empty for non-standard codes.
        reason: String,
        /// The server's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    #[error("{url}: not an HTML page (Content-Type: {content_type})")]
    NotHtml { url: String, content_type: String },
    #[error("{url}: timed out after {seconds} s{}", if *.connecting { " while connecting" } else { "" })]
    Timeout {
        url: String,
        seconds: u64,
        /// The connection itself could not be made in time.
        connecting: bool,
    },
    #[error("{url}: cannot connect: {message}")]
    Connect { url: String, message: String },
    #[error("{url}: TLS certificate problem: {message} (accept_invalid_certs = true fetches such sites anyway)")]
    Tls { url: String, message: String },
    /// The server sent something that is not valid HTTP or a body that cannot be
    /// decompressed; retrying will not help.
    #[error("{url}: broken response: {message}")]
    BadResponse { url: String, message: String },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
    #[error("{url}: more than {limit} redirects (a redirect loop?)")]
    TooManyRedirects { url: String, limit: usize },
    #[error("{url}: the response is larger than the {limit}-byte limit (raise max_page_bytes to accept it)")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: blocked by an anti-bot wall: {wall}")]
    Blocked { url: String, wall: Wall },
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" {reason}")
    }
}

impl FetchError {
    /// True when trying again later may succeed: timeouts, connection failures, broken
    /// transfers, 408, 429 and 5xx (except 501 and 505, which will not change).
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Timeout { .. }
            | FetchError::Connect { .. }
            | FetchError::Network { .. } => true,
            FetchError::Status { status, .. } => {
                matches!(status, 408 | 425 | 429)
                    || ((500..600).contains(status) && !matches!(status, 501 | 505))
            }
            _ => false,
        }
    }

    /// The wait the server asked for (`Retry-After`), on status errors.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// The HTTP status, when the server answered with an error status.
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The anti-bot wall, when the fetch was blocked.
    pub fn wall(&self) -> Option<&Wall> {
        match self {
            FetchError::Blocked { wall, .. } => Some(wall),
            _ => None,
        }
    }
}

/// Validators from an earlier fetch, for `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators an earlier response carried.
    pub fn from_http(http: &HttpInfo) -> Self {
        Validators {
            etag: http.etag.clone(),
            last_modified: http.last_modified.clone(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified.is_none()
    }
}

/// The result of a (conditional) fetch.
#[derive(Debug, Clone)]
pub enum Fetched {
    /// A new or changed HTML page.
    Page(RawPage),
    /// 304: the page has not changed since the validators were issued.
    NotModified { final_url: Url, http: HttpInfo },
}

/// The HTTP client shared by every request of a run.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            header::HeaderValue::from_static("text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"),
        );
        headers.insert(
            header::ACCEPT_LANGUAGE,
            header::HeaderValue::from_static("zh-CN,zh;q=0.9,en;q=0.5"),
        );
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .default_headers(headers)
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
            .danger_accept_invalid_certs(options.accept_invalid_certs)
            .build()
            .map_err(|e| FetchError::Client(error_chain(&e)))?;
        Ok(Fetcher { client, options })
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Fetches one HTML page; HTTP errors, walls and non-HTML content are errors.
    pub async fn fetch_page(&self, url: &Url) -> Result<RawPage, FetchError> {
        match self.fetch(url, None).await? {
            Fetched::Page(page) => Ok(page),
            // Only possible when a server answers 304 to an unconditional request.
            Fetched::NotModified { http, .. } => Err(FetchError::Status {
                url: url.to_string(),
                status: http.status,
                reason: "Not Modified (to a request without validators)".into(),
                retry_after: None,
            }),
        }
    }

    /// Fetches one page, conditionally when `validators` are given.
    pub async fn fetch(
        &self,
        url: &Url,
        validators: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::InvalidUrl {
                url: url.to_string(),
                message: format!("the scheme {:?} is not http or https", url.scheme()),
            });
        }
        let mut request = self.client.get(url.clone());
        if let Some(v) = validators {
            if let Some(etag) = &v.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &v.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, date);
            }
        }
        let response = request.send().await.map_err(|e| self.classify(url, &e))?;

        let status = response.status();
        let final_url = response.url().clone();
        let headers = response.headers();
        let header_text = |name: header::HeaderName| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let mut http = HttpInfo {
            status: status.as_u16(),
            content_type: header_text(header::CONTENT_TYPE),
            etag: header_text(header::ETAG),
            last_modified: header_text(header::LAST_MODIFIED),
        };
        let retry_after =
            header_text(header::RETRY_AFTER).and_then(|v| retry::parse_retry_after(&v, Utc::now()));
        let content_length = response.content_length();

        if status == reqwest::StatusCode::NOT_MODIFIED {
            if let Some(v) = validators {
                http.etag = http.etag.or_else(|| v.etag.clone());
                http.last_modified = http.last_modified.or_else(|| v.last_modified.clone());
            }
            return Ok(Fetched::NotModified { final_url, http });
        }

        if !status.is_success() {
            // Error statuses carry the challenge pages (412 瑞数, 521 加速乐, 503 ...).
            let body = self
                .read_body(url, response, ERROR_BODY_LIMIT, false)
                .await
                .unwrap_or_default();
            if let Some(wall) = self.options.walls.detect(status.as_u16(), &body) {
                return Err(FetchError::Blocked {
                    url: url.to_string(),
                    wall,
                });
            }
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
                reason: status.canonical_reason().unwrap_or("").to_string(),
                retry_after,
            });
        }

        let kind = classify_content_type(http.content_type.as_deref());
        if let ContentKind::Other(essence) = &kind {
            return Err(FetchError::NotHtml {
                url: url.to_string(),
                content_type: essence.clone(),
            });
        }
        if content_length.is_some_and(|n| n > self.options.max_bytes as u64) {
            return Err(FetchError::TooLarge {
                url: url.to_string(),
                limit: self.options.max_bytes,
            });
        }
        let bytes = self
            .read_body(url, response, self.options.max_bytes, true)
            .await?;

        if let Some(wall) = self.options.walls.detect(status.as_u16(), &bytes) {
            return Err(FetchError::Blocked {
                url: url.to_string(),
                wall,
            });
        }
        if let ContentKind::Generic(declared) = &kind {
            if !crate::decode::looks_like_html(&bytes) {
                let what = match crate::decode::binary_signature(&bytes) {
                    Some(signature) => signature.to_string(),
                    None => "content that does not look like HTML".to_string(),
                };
                return Err(FetchError::NotHtml {
                    url: url.to_string(),
                    content_type: format!("{declared}, {what}"),
                });
            }
        }

        Ok(Fetched::Page(RawPage {
            bytes,
            url: Some(url.clone()),
            final_url: Some(final_url),
            content_type: http.content_type.clone(),
            http: Some(http),
            fetched_at: Some(Utc::now()),
        }))
    }

    /// Reads the body in chunks up to `limit` bytes. Over the limit it is an error when
    /// `strict`, otherwise the prefix read so far is returned.
    async fn read_body(
        &self,
        url: &Url,
        mut response: reqwest::Response,
        limit: usize,
        strict: bool,
    ) -> Result<Vec<u8>, FetchError> {
        let expected = response.content_length().unwrap_or(0) as usize;
        let mut body = Vec::with_capacity(expected.min(limit));
        while let Some(chunk) = response.chunk().await.map_err(|e| self.classify(url, &e))? {
            if body.len() + chunk.len() > limit {
                if strict {
                    return Err(FetchError::TooLarge {
                        url: url.to_string(),
                        limit,
                    });
                }
                let room = limit - body.len();
                body.extend_from_slice(&chunk[..room]);
                break;
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Turns a reqwest error into the error a user (and the retry logic) can act on.
    fn classify(&self, url: &Url, error: &reqwest::Error) -> FetchError {
        let url = url.to_string();
        if error.is_timeout() {
            let connecting = error.is_connect();
            let limit = if connecting {
                self.options.connect_timeout
            } else {
                self.options.timeout
            };
            return FetchError::Timeout {
                url,
                seconds: limit.as_secs_f64().ceil() as u64,
                connecting,
            };
        }
        if error.is_redirect() {
            return FetchError::TooManyRedirects {
                url,
                limit: self.options.max_redirects,
            };
        }
        if error.is_builder() {
            return FetchError::InvalidUrl {
                url,
                message: error_chain(error),
            };
        }
        let message = error_chain(error);
        if message.contains("certificate") {
            return FetchError::Tls { url, message };
        }
        if error.is_decode() {
            return FetchError::BadResponse { url, message };
        }
        if error.is_connect() {
            return FetchError::Connect { url, message };
        }
        FetchError::Network { url, message }
    }
}

/// What went wrong, from the innermost causes (`Connection refused`, certificate
/// problems ...) rather than reqwest's generic wrapper with the URL repeated.
fn error_chain(error: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    if error.is_body() {
        parts.push("the transfer broke off while reading the page".into());
    } else if error.is_decode() {
        parts.push("cannot decompress the response".into());
    }
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(error);
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    if parts.is_empty() {
        error.to_string()
    } else {
        parts.join(": ")
    }
}

/// What a `Content-Type` says about the body.
#[derive(Debug, Clone, PartialEq, Eq)]
enum ContentKind {
    Html,
    /// Missing or non-committal: the bytes decide.
    Generic(String),
    /// Definitely not HTML (the type, without parameters).
    Other(String),
}

fn classify_content_type(content_type: Option<&str>) -> ContentKind {
    let essence = content_type
        .and_then(|ct| ct.split(';').next())
        .map(|t| t.trim().to_ascii_lowercase())
        .unwrap_or_default();
    match essence.as_str() {
        "text/html" | "application/xhtml+xml" | "text/x-server-parsed-html" | "text/shtml" => {
            ContentKind::Html
        }
        "" => ContentKind::Generic("no Content-Type".into()),
        "application/octet-stream"
        | "text/plain"
        | "application/unknown"
        | "unknown/unknown"
        | "application/x-unknown-content-type"
        | "*/*"
        | "text/xml"
        | "application/xml"
        | "application/x-httpd-php"
        | "text/x-html" => ContentKind::Generic(essence),
        _ => ContentKind::Other(essence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        assert_eq!(
            classify_content_type(Some("text/html; charset=gbk")),
            ContentKind::Html
        );
        assert_eq!(classify_content_type(Some("TEXT/HTML")), ContentKind::Html);
        assert_eq!(
            classify_content_type(None),
            ContentKind::Generic("no Content-Type".into())
        );
        assert_eq!(
            classify_content_type(Some("application/octet-stream")),
            ContentKind::Generic("application/octet-stream".into())
        );
        for other in [
            "application/pdf",
            "image/png",
            "application/json",
            "video/mp4",
        ] {
            assert_eq!(
                classify_content_type(Some(other)),
                ContentKind::Other(other.into())
            );
        }
    }

    #[test]
    fn retryable_errors() {
        let status = |status: u16| FetchError::Status {
            url: "u".into(),
            status,
            reason: String::new(),
            retry_after: None,
        };
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(status(s).is_retryable(), "{s}");
        }
        for s in [400, 403, 404, 410, 501] {
            assert!(!status(s).is_retryable(), "{s}");
        }
        let timeout = FetchError::Timeout {
            url: "u".into(),
            seconds: 1,
            connecting: false,
        };
        assert!(timeout.is_retryable());
        let not_html = FetchError::NotHtml {
            url: "u".into(),
            content_type: "application/pdf".into(),
        };
        assert!(!not_html.is_retryable());
        let tls = FetchError::Tls {
            url: "u".into(),
            message: "invalid peer certificate: UnknownIssuer".into(),
        };
        assert!(!tls.is_retryable());
        assert!(tls.to_string().contains("accept_invalid_certs"));
    }

    #[test]
    fn messages_name_the_problem() {
        let e = FetchError::Status {
            url: "http://x/a".into(),
            status: 404,
            reason: "Not Found".into(),
            retry_after: None,
        };
        assert_eq!(e.to_string(), "http://x/a: HTTP 404 Not Found");
        let e = FetchError::Status {
            url: "http://x/a".into(),
            status: 521,
            reason: String::new(),
            retry_after: None,
        };
        assert_eq!(e.to_string(), "http://x/a: HTTP 521");
    }
}
