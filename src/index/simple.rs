//! The Simple repository API that every index serves (PyPI, devpi, pypiserver, Artifactory,
//! ...): PEP 691 JSON when the index speaks it (content negotiation), PEP 503 HTML
//! otherwise. It lists a project's files across all its versions, each with its URL and
//! sha256.
use std::collections::HashMap;
use std::str::FromStr;
use std::time::Duration;

use anyhow::anyhow;
use reqwest::header::{ACCEPT, CONTENT_TYPE, LOCATION};
use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::{IndexDigests, IndexFile};
use crate::http::{self, web_url, Failure, Http};
use crate::inert::shown;

const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
/// PEP 691's order of preference, with HTML last for the indexes that only speak PEP 503.
const ACCEPT_VALUE: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1";
/// The most of a simple page that is read. A project with thousands of files across its
/// versions has a page of several MB; this is far above that, and still bounded.
pub const SIMPLE_PAGE_LIMIT: usize = 64 * 1024 * 1024;
/// The most file entries a simple page may list. Bytes alone do not bound what a page costs:
/// 64 MiB of minimal anchors (`<a href=x>y</a>`, 15 bytes) would be four million entries of
/// a few hundred bytes each in memory. The largest projects on PyPI list tens of thousands of
/// files across all their versions (nightly builds with a dozen wheels a day), and a real
/// entry takes 300 bytes or more of the page, so a real page hits the byte limit before this.
pub const SIMPLE_PAGE_MAX_FILES: usize = 250_000;
/// Same-origin redirects followed (a page moved to the normalised name, say).
const MAX_REDIRECTS: usize = 3;

/// Where the simple index is for an upload URL whose layout is known, and which layout that
/// was: PyPI and TestPyPI, Warehouse's `/legacy/`, pypiserver (uploads to the root, simple at
/// `/simple/`) and devpi (uploads to `/{user}/{index}/`, simple at `/{user}/{index}/+simple/`).
pub fn simple_url_for(repository_url: &Url) -> Option<(Url, &'static str)> {
    let fixed = |s: &str, why| Url::parse(s).ok().map(|u| (u, why));
    match repository_url.host_str() {
        Some("upload.pypi.org" | "pypi.org") => {
            return fixed("https://pypi.org/simple/", "PyPI's simple index")
        }
        Some("test.pypi.org" | "upload.test.pypi.org") => {
            return fixed("https://test.pypi.org/simple/", "TestPyPI's simple index")
        }
        _ => {}
    }
    let segments: Vec<&str> = repository_url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let (path, why) = match segments.as_slice() {
        [] => (
            "/simple/".to_owned(),
            "pypiserver's layout: uploads to /, simple index at /simple/",
        ),
        ["legacy"] => (
            "/simple/".to_owned(),
            "Warehouse's layout: uploads to /legacy/, simple index at /simple/",
        ),
        [user, index] if !user.starts_with('+') && !index.starts_with('+') => (
            format!("/{user}/{index}/+simple/"),
            "devpi's layout: uploads to /{user}/{index}/, simple index at /{user}/{index}/+simple/",
        ),
        _ => return None,
    };
    repository_url.join(&path).ok().map(|u| (u, why))
}

/// One project's simple page, as read.
pub struct SimplePage {
    /// Every file of the project, of every version.
    pub files: Vec<IndexFile>,
    /// Warehouse answered (its `X-PyPI-Last-Serial` header): it also has the JSON API.
    pub warehouse: bool,
    /// The page and the format it came in, for the log.
    pub described: String,
    /// PEP 700's `versions` (PEP 691 API version 1.1 and later), when the page has it.
    pub versions: Option<Vec<String>>,
    /// What the answer said it is.
    pub format: PageFormat,
}

/// What the answer's `Content-Type` (and body) say the page is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageFormat {
    /// PEP 691 JSON.
    Json,
    /// PEP 503 HTML.
    Html,
    /// Neither: another type, or HTML with no link and no HTML tag in it (a proxy's text, an
    /// empty body). Read as HTML for a publish, which confirms each file anyway; never
    /// trusted by preflight, for which an empty listing would mean "nothing released".
    Unknown { what: String },
}

/// What one read of a project's page found.
enum PageRead {
    Page(SimplePage),
    NotFound,
    /// A redirect to another origin, not followed (`None`: no usable `Location`).
    Elsewhere(Option<Url>),
}

impl SimplePage {
    /// The files of one version (PEP 440 equality: `1.0` is `1.0.0`, as Warehouse sees it).
    pub fn files_of(&self, version: &str) -> Vec<IndexFile> {
        self.files
            .iter()
            .filter(|f| file_version(&f.filename).is_some_and(|v| same_version(&v, version)))
            .cloned()
            .collect()
    }
}

pub struct SimpleApi<'a> {
    pub http: &'a Http,
    /// The simple index's root, ending in `/`.
    pub url: &'a Url,
}

impl SimpleApi<'_> {
    pub fn page_url(&self, normalized_name: &str) -> anyhow::Result<Url> {
        self.url
            .join(&format!("{normalized_name}/"))
            .map_err(|e| anyhow!("bad simple index URL {}: {e}", self.url))
    }

    /// The project's page, or `None` when this index does not have the project: 404, or a
    /// redirect to another index (pypiserver sends unknown names to PyPI; that page lists
    /// another index's files and is never read).
    pub async fn project(
        &self,
        normalized_name: &str,
        retry: bool,
    ) -> anyhow::Result<Option<SimplePage>> {
        let url = self.page_url(normalized_name)?;
        let what = format!("reading {url}");
        if retry {
            self.http
                .retry(&what, |_| self.read(url.clone(), &what))
                .await
        } else {
            self.read(url, &what).await.map_err(super::once)
        }
    }

    async fn read(&self, first: Url, what: &str) -> Result<Option<SimplePage>, Failure> {
        match self.read_page(first, what).await? {
            PageRead::Page(page) => Ok(Some(page)),
            PageRead::NotFound => Ok(None),
            PageRead::Elsewhere(other) => {
                tracing::info!(
                    "{what}: the index sends this project to {} (another index): not \
                     followed; the project counts as not on this index",
                    shown(other.map(String::from).unwrap_or_default())
                );
                Ok(None)
            }
        }
    }

    /// The project's page for a verdict that must not pass on what it could not read
    /// (preflight), with retries: `None` only when the page itself answers 404. A redirect to
    /// another origin, or an answer that is no simple page, is an error naming the page.
    pub async fn listing(&self, normalized_name: &str) -> anyhow::Result<Option<SimplePage>> {
        let url = self.page_url(normalized_name)?;
        let what = format!("reading {url}");
        self.http
            .retry(&what, |_| self.read_listing(url.clone(), &what))
            .await
    }

    async fn read_listing(&self, url: Url, what: &str) -> Result<Option<SimplePage>, Failure> {
        match self.read_page(url, what).await? {
            PageRead::NotFound => Ok(None),
            PageRead::Page(SimplePage {
                format: PageFormat::Unknown { what: answer },
                ..
            }) => Err(Failure::Permanent(anyhow!(
                "{what}: not a simple page: the answer is {answer}, neither PEP 691 JSON \
                 ({JSON_TYPE}) nor a PEP 503 HTML page; check --simple-url (input `simple-url`)"
            ))),
            PageRead::Page(page) => Ok(Some(page)),
            PageRead::Elsewhere(other) => Err(Failure::Permanent(anyhow!(
                "{what}: the index sends this project to {} (another origin); not followed, as \
                 that page tells nothing about this index. pypiserver does this for a project \
                 it does not hold unless started with --disable-fallback; otherwise give \
                 --simple-url (input `simple-url`) naming the index that holds the project",
                match other {
                    Some(url) => shown(url).to_string(),
                    None => "no usable Location".to_owned(),
                }
            ))),
        }
    }

    async fn read_page(&self, first: Url, what: &str) -> Result<PageRead, Failure> {
        let mut url = first;
        for _ in 0..=MAX_REDIRECTS {
            let resp = self
                .http
                .no_redirect
                .get(url.clone())
                .header(ACCEPT, ACCEPT_VALUE)
                // A page of several MB over a slow link: the stall timeout still applies to
                // every read, this bounds the whole.
                .timeout(
                    self.http
                        .timeout
                        .max(Duration::from_secs(60))
                        .saturating_mul(5),
                )
                .send()
                .await
                .map_err(|e| http::transport_failure(what, e))?;
            let resp = http::transient_status(what, resp).await?;
            let status = resp.status();
            if status.is_redirection() {
                let location = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|l| url.join(l).ok());
                match location {
                    Some(next) if next.origin() == url.origin() => {
                        url = next;
                        continue;
                    }
                    other => return Ok(PageRead::Elsewhere(other)),
                }
            }
            if status == StatusCode::NOT_FOUND {
                return Ok(PageRead::NotFound);
            }
            if !status.is_success() {
                let body = http::error_text(resp).await;
                return Err(Failure::Permanent(anyhow!(
                    "{what}: HTTP {status}{}",
                    http::snippet(&body)
                )));
            }
            let warehouse = resp.headers().contains_key("x-pypi-last-serial");
            let content_type = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|ct| ct.trim().to_ascii_lowercase());
            let json = content_type
                .as_deref()
                .is_some_and(|ct| ct.starts_with(JSON_TYPE));
            let (bytes, cut) = http::read_limited(resp, SIMPLE_PAGE_LIMIT)
                .await
                .map_err(|e| http::transport_failure(what, e))?;
            if cut {
                return Err(Failure::Permanent(anyhow!(
                    "{what}: the simple page is larger than {} MiB; stopped reading it. Give \
                     --simple-url (input `simple-url`) pointing at a smaller index view, or \
                     --skip-existing",
                    SIMPLE_PAGE_LIMIT >> 20
                )));
            }
            let text = String::from_utf8_lossy(&bytes);
            let (files, versions, label) = if json {
                let (files, versions) = parse_json(&text, &url)
                    .map_err(|e| Failure::Permanent(anyhow!("{what}: {e}")))?;
                (files, versions, "PEP 691 JSON")
            } else {
                let files = parse_html(&text, &url)
                    .map_err(|e| Failure::Permanent(anyhow!("{what}: {e}")))?;
                (files, None, "PEP 503 HTML")
            };
            let format = if json {
                PageFormat::Json
            } else {
                html_format(content_type.as_deref(), !files.is_empty(), &text)
            };
            return Ok(PageRead::Page(SimplePage {
                files,
                warehouse,
                described: format!("{url} ({label})"),
                versions,
                format,
            }));
        }
        Err(Failure::Permanent(anyhow!(
            "{what}: more than {MAX_REDIRECTS} redirects"
        )))
    }
}

#[derive(Deserialize)]
struct ProjectJson {
    files: Bounded<FileJson>,
    /// PEP 700; a page of API version 1.0 has none.
    #[serde(default)]
    versions: Option<Bounded<String>>,
}

/// A PEP 691 array read up to [`SIMPLE_PAGE_MAX_FILES`] entries; the rest is only counted as
/// there (skipped without being kept), so a page of tiny entries cannot size an allocation.
struct Bounded<T> {
    items: Vec<T>,
    over: bool,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Bounded<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<T> {
            type Value = Bounded<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Bounded<T>, A::Error> {
                let mut items = Vec::new();
                while items.len() < SIMPLE_PAGE_MAX_FILES {
                    match seq.next_element()? {
                        Some(item) => items.push(item),
                        None => return Ok(Bounded { items, over: false }),
                    }
                }
                let over = seq.next_element::<serde::de::IgnoredAny>()?.is_some();
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Bounded { items, over })
            }
        }
        d.deserialize_seq(Visitor(std::marker::PhantomData))
    }
}

/// The error of a page that lists more files than [`SIMPLE_PAGE_MAX_FILES`].
fn too_many_files() -> anyhow::Error {
    anyhow!(
        "the simple page lists more than {SIMPLE_PAGE_MAX_FILES} files; stopped reading it. \
         Give --simple-url (input `simple-url`) pointing at a smaller index view, or \
         --skip-existing"
    )
}

#[derive(Deserialize)]
struct FileJson {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: HashMap<String, String>,
    #[serde(default, rename = "upload-time")]
    upload_time: Option<String>,
    #[serde(default)]
    size: Option<u64>,
    /// `true`, or the reason as a string (PEP 691); anything else is not a yank.
    #[serde(default)]
    yanked: Option<serde_json::Value>,
}

/// A PEP 691 project page, URLs resolved against the page; and PEP 700's `versions`.
fn parse_json(text: &str, page: &Url) -> anyhow::Result<(Vec<IndexFile>, Option<Vec<String>>)> {
    let parsed: ProjectJson =
        serde_json::from_str(text).map_err(|e| anyhow!("not a PEP 691 project page ({e})"))?;
    if parsed.files.over || parsed.versions.as_ref().is_some_and(|v| v.over) {
        return Err(too_many_files());
    }
    let files = parsed
        .files
        .items
        .into_iter()
        .map(|f| IndexFile {
            packagetype: packagetype(&f.filename).to_owned(),
            url: page.join(&f.url).ok().and_then(|u| web_url(u.as_str())),
            size: f.size.unwrap_or_default(),
            python_version: String::new(),
            digests: IndexDigests {
                sha256: f.hashes.get("sha256").cloned(),
                blake2b_256: None,
            },
            upload_time_iso_8601: f.upload_time,
            yanked: matches!(
                f.yanked,
                Some(serde_json::Value::Bool(true) | serde_json::Value::String(_))
            ),
            filename: f.filename,
        })
        .collect();
    Ok((files, parsed.versions.map(|v| v.items)))
}

/// Whether a page read as HTML is one: labelled HTML (or not labelled at all), with a link or
/// at least an HTML tag (a project without files has a page without links).
fn html_format(content_type: Option<&str>, has_links: bool, text: &str) -> PageFormat {
    let labelled = match content_type {
        None => true,
        Some(ct) => {
            ct.starts_with("text/html") || ct.starts_with("application/vnd.pypi.simple.v1+html")
        }
    };
    let page_like = has_links || {
        let lower = text.to_ascii_lowercase();
        ["<html", "<body", "<!doctype html"]
            .iter()
            .any(|tag| lower.contains(tag))
    };
    match (labelled, page_like) {
        (true, true) => PageFormat::Html,
        (true, false) => PageFormat::Unknown {
            what: format!(
                "{} with no link and no HTML tag in it",
                shown(content_type.unwrap_or("a body without Content-Type"))
            ),
        },
        (false, _) => PageFormat::Unknown {
            what: shown(content_type.unwrap_or_default()).to_string(),
        },
    }
}

/// A PEP 503 project page: one `<a href="URL#sha256=HEX">FILENAME</a>` per file. A tolerant
/// reader of just that, not an HTML parser: anchors without an href or text are passed over.
fn parse_html(text: &str, page: &Url) -> anyhow::Result<Vec<IndexFile>> {
    let lower = text.to_ascii_lowercase();
    let mut files = Vec::new();
    let mut at = 0;
    while let Some(start) = lower[at..].find("<a").map(|i| i + at) {
        at = start + 2;
        // `<abbr>` and the like are not anchors.
        if !lower[at..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let Some(tag_end) = lower[at..].find('>').map(|i| i + at) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</a").map(|i| i + tag_end) else {
            break;
        };
        let tag = &text[at..tag_end];
        let href = attribute(tag, "href");
        // PEP 592: the attribute yanks the file whatever its value (the reason, maybe empty).
        let yanked = find_attribute(tag, "data-yanked").is_some();
        let name = unescape(text[tag_end + 1..close].trim());
        at = close;
        let (Some(href), false) = (href, name.is_empty()) else {
            continue;
        };
        let Ok(resolved) = page.join(&href) else {
            continue;
        };
        if files.len() == SIMPLE_PAGE_MAX_FILES {
            return Err(too_many_files());
        }
        let sha256 = resolved.fragment().and_then(|f| {
            f.strip_prefix("sha256=")
                .map(|h| h.to_owned())
                .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        });
        files.push(IndexFile {
            packagetype: packagetype(&name).to_owned(),
            url: web_url(resolved.as_str()),
            size: 0,
            python_version: String::new(),
            digests: IndexDigests {
                sha256,
                blake2b_256: None,
            },
            upload_time_iso_8601: None,
            yanked,
            filename: name,
        });
    }
    Ok(files)
}

/// One attribute's value from the inside of a tag (`a href="x" data-y='z'`).
fn attribute(tag: &str, name: &str) -> Option<String> {
    find_attribute(tag, name).flatten().map(unescape)
}

/// One attribute of a tag: `Some(None)` when it is there without a value (`data-yanked`).
fn find_attribute<'t>(tag: &'t str, name: &str) -> Option<Option<&'t str>> {
    let mut rest = tag;
    loop {
        rest = rest.trim_start();
        if rest.is_empty() {
            return None;
        }
        let key_end = rest
            .find(|c: char| c == '=' || c.is_ascii_whitespace() || c == '/')
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, remaining) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let inner = &after[1..];
                    let end = inner.find(q).unwrap_or(inner.len());
                    (&inner[..end], inner.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = remaining;
            Some(value)
        } else {
            if key.is_empty() {
                // A stray `/` or similar: step over it.
                rest = rest.get(1..).unwrap_or("");
            }
            None
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(value);
        }
    }
}

/// The character references a PEP 503 page uses (`&amp;`, `&#39;`, `&#x2B;`, ...).
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let decoded = rest.find(';').filter(|&end| end <= 10).and_then(|end| {
            let entity = &rest[1..end];
            let ch = match entity {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => entity.strip_prefix('#').and_then(|n| {
                    let code = match n.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => n.parse().ok(),
                    };
                    code.and_then(char::from_u32)
                }),
            };
            ch.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

const SDIST_EXTENSIONS: [&str; 6] = [".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar"];

fn packagetype(filename: &str) -> &'static str {
    if filename.ends_with(".whl") {
        "bdist_wheel"
    } else if SDIST_EXTENSIONS.iter().any(|e| filename.ends_with(e)) {
        "sdist"
    } else {
        ""
    }
}

/// The version in a wheel's or sdist's file name (`{name}-{version}-...whl`,
/// `{name}-{version}.tar.gz`).
fn file_version(filename: &str) -> Option<String> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        return stem.split('-').nth(1).map(str::to_owned);
    }
    let stem = SDIST_EXTENSIONS
        .iter()
        .find_map(|e| filename.strip_suffix(e))?;
    stem.rsplit_once('-').map(|(_, v)| v.to_owned())
}

fn same_version(a: &str, b: &str) -> bool {
    match (
        pep440_rs::Version::from_str(a),
        pep440_rs::Version::from_str(b),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    const SHA: &str = "2c060eef9b3a823e06c8aeb747eab87344b2b1f16075f879eaa18828072c08c2";

    #[test]
    fn simple_urls_from_known_layouts() {
        let s = |r: &str| simple_url_for(&url(r)).map(|(u, _)| u.to_string());
        assert_eq!(
            s("https://upload.pypi.org/legacy/").unwrap(),
            "https://pypi.org/simple/"
        );
        assert_eq!(
            s("https://test.pypi.org/legacy/").unwrap(),
            "https://test.pypi.org/simple/"
        );
        assert_eq!(
            s("http://127.0.0.1:8080/legacy/").unwrap(),
            "http://127.0.0.1:8080/simple/"
        );
        assert_eq!(
            s("http://127.0.0.1:8080/").unwrap(),
            "http://127.0.0.1:8080/simple/"
        );
        assert_eq!(
            s("http://127.0.0.1:3141/bob/dev/").unwrap(),
            "http://127.0.0.1:3141/bob/dev/+simple/"
        );
        assert_eq!(
            s("http://127.0.0.1:3141/bob/dev").unwrap(),
            "http://127.0.0.1:3141/bob/dev/+simple/"
        );
        assert_eq!(s("https://x.example/artifactory/api/pypi/repo"), None);
    }

    #[test]
    fn pep_691_urls_are_resolved_against_the_page() {
        let page = url("http://h/bob/dev/+simple/demo-package/");
        let text = format!(
            r#"{{"meta":{{"api-version":"1.0"}},"name":"demo-package","files":[
            {{"filename":"demo_package-1.0.0-py3-none-any.whl","url":"../../+f/2c0/x/demo_package-1.0.0-py3-none-any.whl","hashes":{{"sha256":"{SHA}"}},"upload-time":"2026-01-02T03:04:05Z"}},
            {{"filename":"demo_package-0.9.tar.gz","url":"https://files.example/demo_package-0.9.tar.gz","hashes":{{}}}}]}}"#
        );
        let (files, versions) = parse_json(&text, &page).unwrap();
        assert_eq!(versions, None, "API version 1.0 has no `versions`");
        assert_eq!(
            files[0].url.as_deref(),
            Some("http://h/bob/dev/+f/2c0/x/demo_package-1.0.0-py3-none-any.whl")
        );
        assert_eq!(files[0].digests.sha256.as_deref(), Some(SHA));
        assert_eq!(
            files[0].upload_time_iso_8601.as_deref(),
            Some("2026-01-02T03:04:05Z")
        );
        assert_eq!(files[0].packagetype, "bdist_wheel");
        assert_eq!(files[1].digests.sha256, None);
        assert_eq!(files[1].packagetype, "sdist");
    }

    #[test]
    fn pep_503_links_relative_urls_and_hashes() {
        let page = url("http://h:1/simple/demo-package/");
        let text = format!(
            "<!DOCTYPE html><html><body><h1>Links</h1>\n\
             <a href=\"/packages/demo_package-1.0.0-py3-none-any.whl#sha256={SHA}\">demo_package-1.0.0-py3-none-any.whl</a><br>\n\
             bob/dev <A data-requires-python=\"&gt;=3.8\" HREF='../../+f/a/demo_package-1.0.0.tar.gz#md5=00'>demo_package-1.0.0.tar.gz</A><br>\n\
             <abbr>x</abbr><a name=x>no href</a>\
             <a href=\"x&amp;y-2.0.zip#sha256=nothex\">x&amp;y-2.0.zip</a>"
        );
        let files = parse_html(&text, &page).unwrap();
        assert_eq!(
            files.len(),
            3,
            "{:?}",
            files.iter().map(|f| &f.filename).collect::<Vec<_>>()
        );
        assert_eq!(files[0].filename, "demo_package-1.0.0-py3-none-any.whl");
        assert_eq!(
            files[0].url.as_deref(),
            Some("http://h:1/packages/demo_package-1.0.0-py3-none-any.whl")
        );
        assert_eq!(files[0].digests.sha256.as_deref(), Some(SHA));
        assert_eq!(
            files[1].url.as_deref(),
            Some("http://h:1/+f/a/demo_package-1.0.0.tar.gz")
        );
        assert_eq!(
            files[1].digests.sha256, None,
            "only a sha256 fragment is a sha256"
        );
        assert_eq!(files[2].filename, "x&y-2.0.zip");
        assert_eq!(files[2].digests.sha256, None);
    }

    #[test]
    fn yanked_files_and_pep_700_versions() {
        let page = url("http://h/simple/demo-package/");
        let json = r#"{"meta":{"api-version":"1.1"},"name":"demo-package","versions":["1.0","2.0"],"files":[
            {"filename":"demo_package-1.0.tar.gz","url":"a","hashes":{},"yanked":true},
            {"filename":"demo_package-2.0.tar.gz","url":"b","hashes":{},"yanked":"broken"},
            {"filename":"demo_package-2.0-py3-none-any.whl","url":"c","hashes":{},"yanked":false},
            {"filename":"demo_package-2.0-py2-none-any.whl","url":"d","hashes":{}}]}"#;
        let (files, versions) = parse_json(json, &page).unwrap();
        let yanked: Vec<bool> = files.iter().map(|f| f.yanked).collect();
        assert_eq!(yanked, [true, true, false, false]);
        assert_eq!(versions.unwrap(), ["1.0", "2.0"]);

        let html = "<html><body>\
            <a href=\"a\" data-yanked>demo_package-1.0.tar.gz</a>\
            <a data-yanked=\"\" href=\"b\">demo_package-2.0.tar.gz</a>\
            <a href=\"c\" data-yanked=\"no good\">demo_package-3.0.tar.gz</a>\
            <a href=\"d\" data-requires-python=\"&gt;=3\">demo_package-4.0.tar.gz</a></body></html>";
        let yanked: Vec<bool> = parse_html(html, &page)
            .unwrap()
            .iter()
            .map(|f| f.yanked)
            .collect();
        assert_eq!(yanked, [true, true, true, false]);
    }

    #[test]
    fn what_is_read_as_an_html_page() {
        let html = Some("text/html; charset=utf-8");
        assert_eq!(html_format(html, true, ""), PageFormat::Html);
        // A project without files: a page without links.
        assert_eq!(
            html_format(html, false, "<!DOCTYPE html><title>x</title>"),
            PageFormat::Html
        );
        assert_eq!(html_format(None, false, "<HTML></HTML>"), PageFormat::Html);
        assert!(matches!(
            html_format(html, false, "garbage"),
            PageFormat::Unknown { .. }
        ));
        assert!(matches!(
            html_format(None, false, ""),
            PageFormat::Unknown { .. }
        ));
        assert!(matches!(
            html_format(Some("text/plain"), true, "<html>"),
            PageFormat::Unknown { .. }
        ));
        assert!(matches!(
            html_format(Some("application/json"), false, "{}"),
            PageFormat::Unknown { .. }
        ));
    }

    #[test]
    fn files_of_one_version() {
        let page = SimplePage {
            files: [
                "demo_package-1.0.0-py3-none-any.whl",
                "demo_package-1.0-py2.py3-none-any.whl",
                "demo_package-1.0.0.tar.gz",
                "demo-package-1.0.1.tar.gz",
                "demo_package-1.0.0rc1.tar.gz",
                "README.txt",
            ]
            .iter()
            .map(|n| IndexFile {
                filename: (*n).to_owned(),
                url: None,
                size: 0,
                packagetype: String::new(),
                python_version: String::new(),
                digests: IndexDigests::default(),
                upload_time_iso_8601: None,
                yanked: false,
            })
            .collect(),
            warehouse: false,
            described: String::new(),
            versions: None,
            format: PageFormat::Html,
        };
        let names: Vec<_> = page
            .files_of("1.0.0")
            .into_iter()
            .map(|f| f.filename)
            .collect();
        assert_eq!(
            names,
            [
                "demo_package-1.0.0-py3-none-any.whl",
                "demo_package-1.0-py2.py3-none-any.whl",
                "demo_package-1.0.0.tar.gz"
            ]
        );
    }

    #[test]
    fn a_page_is_bounded_by_entries_as_well_as_bytes() {
        let page = url("https://index.example/simple/demo/");
        let html = |n: usize| "<a href=x>y</a>".repeat(n);
        let json = |n: usize| {
            let entry = r#"{"filename":"y","url":"x"}"#;
            format!(r#"{{"files":[{}]}}"#, vec![entry; n].join(","))
        };
        assert_eq!(
            parse_html(&html(SIMPLE_PAGE_MAX_FILES), &page)
                .unwrap()
                .len(),
            SIMPLE_PAGE_MAX_FILES
        );
        assert_eq!(
            parse_json(&json(SIMPLE_PAGE_MAX_FILES), &page)
                .unwrap()
                .0
                .len(),
            SIMPLE_PAGE_MAX_FILES
        );
        // PEP 700's `versions` are bounded the same way.
        let versions = |n: usize| {
            format!(
                r#"{{"files":[],"versions":[{}]}}"#,
                vec![r#""1""#; n].join(",")
            )
        };
        assert_eq!(
            parse_json(&versions(SIMPLE_PAGE_MAX_FILES), &page)
                .unwrap()
                .1
                .map(|v| v.len()),
            Some(SIMPLE_PAGE_MAX_FILES)
        );
        // Far under the byte limit (4 MiB and 7 MiB), one entry too many.
        for error in [
            parse_html(&html(SIMPLE_PAGE_MAX_FILES + 1), &page).unwrap_err(),
            parse_json(&json(SIMPLE_PAGE_MAX_FILES + 1), &page).unwrap_err(),
            parse_json(&versions(SIMPLE_PAGE_MAX_FILES + 1), &page).unwrap_err(),
        ] {
            let error = error.to_string();
            assert!(
                error.contains(&format!("more than {SIMPLE_PAGE_MAX_FILES} files")),
                "{error}"
            );
            assert!(error.contains("--simple-url"), "{error}");
        }
    }
}
