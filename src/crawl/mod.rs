//! Crawling configured sites into the archive (see issue: gazette crawl).
