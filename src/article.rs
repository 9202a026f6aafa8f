//! The archive record: one JSON document per article.
//!
//! This is a wire format. Every field is documented in README.md ("Output schema");
//! any change that removes or re-types a field bumps [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

/// Version of the JSON layout of [`Article`]. Bump on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Version of the extractor that produced a record, so archives can be re-extracted
/// selectively when extraction improves.
pub const EXTRACTOR_VERSION: &str = concat!("gazette/", env!("CARGO_PKG_VERSION"));

/// One extracted article, as written to the archive and printed by `gazette fetch`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Article {
    pub schema_version: u32,
    /// The address the user asked for (or `--url` for a saved file).
    pub url: Option<String>,
    /// The address after redirects.
    pub final_url: Option<String>,
    /// `<link rel="canonical">` (or `og:url`) resolved to an absolute URL.
    pub canonical_url: Option<String>,
    pub title: Option<String>,
    /// RFC 3339 with offset (`2019-10-23T09:30:00+08:00`), or a bare date `2019-10-23`
    /// when the page gives no time (then `published_precision` is `"date"`).
    pub published_at: Option<String>,
    /// `"datetime"`, `"date"`, or null when no date was found.
    pub published_precision: Option<String>,
    /// Where the date came from (`visible_line`, `meta:PubDate`, `json_ld`, `url`, ...).
    pub published_from: Option<String>,
    /// 来源: the publishing outlet or office.
    pub source: Option<String>,
    /// 作者 / 记者: the person(s) who wrote it.
    pub author: Option<String>,
    /// 责任编辑 / 编辑.
    pub editor: Option<String>,
    pub site_name: Option<String>,
    /// 政府网站标识码 (e.g. `5118000022`).
    pub site_id_code: Option<String>,
    /// Column / channel (`ColumnName` meta or the breadcrumb's last entry).
    pub column: Option<String>,
    pub keywords: Vec<String>,
    pub description: Option<String>,
    /// BCP 47 language (`zh`, `en`, ...), best effort.
    pub language: Option<String>,
    /// `zh-Hans` or `zh-Hant` for Chinese text.
    pub script: Option<String>,
    /// The article body: paragraphs separated by one blank line.
    pub text: String,
    pub images: Vec<Image>,
    pub attachments: Vec<Attachment>,
    /// Everything removed as injected spam, with the reason.
    pub spam: Vec<SpamRemoval>,
    pub encoding: EncodingInfo,
    /// When the page was fetched (RFC 3339, UTC), or read from a file.
    pub fetched_at: Option<String>,
    pub http: Option<HttpInfo>,
    /// Hex SHA-256 of `text`: the identity of the content, used to skip rewrites.
    pub content_sha256: String,
    pub extractor_version: String,
    /// Other URLs at which the same article was found (crawl de-duplication).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_urls: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Image {
    /// Absolute URL when the page address is known.
    pub src: String,
    pub alt: Option<String>,
    pub caption: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attachment {
    pub url: String,
    pub title: Option<String>,
    /// Lower-case file extension (`pdf`, `docx`, ...).
    pub kind: String,
}

/// One removed piece of injected spam.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SpamRemoval {
    /// The removed text (shortened to 300 characters).
    pub text: String,
    /// Machine-readable reason, e.g. `lexicon_hidden_block`, `after_html_end`,
    /// `document_write`, `marquee`, `foreign_link_cluster`, `script_mismatch`.
    pub reason: String,
    /// Human-readable detail: the matched terms or the structural signal.
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct EncodingInfo {
    /// WHATWG name of the encoding used (`UTF-8`, `gb18030`, `Big5`, ...).
    pub name: String,
    /// `bom`, `http_header`, `meta`, `sniffed`, `default`, or `<origin>_corrected`
    /// when the declared label was wrong and the bytes were re-decoded.
    pub from: String,
    /// True when some bytes could not be decoded (they became U+FFFD and were dropped
    /// from the text fields).
    pub lossy: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct HttpInfo {
    pub status: u16,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}
