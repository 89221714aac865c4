//! The JSON API (`warehouse/legacy/api/json.py`): `/pypi/{name}/json` and
//! `/pypi/{name}/{version}/json`, with an optional stale view that imitates CDN lag.
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use super::names::{canonicalize_name, canonicalize_version, parse_version};
use super::pyjson;
use super::state::{FileEntry, Project, Release};
use super::timefmt::{isoformat_z, strftime_seconds};
use super::Shared;
use crate::faults::route;

const CORS: &[(&str, &str)] = &[
    ("Access-Control-Allow-Origin", "*"),
    (
        "Access-Control-Allow-Headers",
        "Content-Type, If-Match, If-Modified-Since, If-None-Match, If-Unmodified-Since",
    ),
    ("Access-Control-Allow-Methods", "GET"),
    ("Access-Control-Max-Age", "86400"),
    ("Access-Control-Expose-Headers", "X-PyPI-Last-Serial"),
];

fn cors_headers() -> Vec<(&'static str, String)> {
    CORS.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

fn not_found() -> Response {
    #[derive(Serialize)]
    struct Message {
        message: &'static str,
    }
    pyjson::response(
        StatusCode::NOT_FOUND,
        &Message {
            message: "Not Found",
        },
        &cors_headers(),
    )
}

fn moved(location: String) -> Response {
    let mut headers = cors_headers();
    headers.push(("Location", location));
    let mut resp = StatusCode::MOVED_PERMANENTLY.into_response();
    for (k, v) in headers {
        if let Ok(v) = axum::http::HeaderValue::from_str(&v) {
            resp.headers_mut().insert(k, v);
        }
    }
    resp
}

/// Which uploads a read may see: all, or all but the latest one (stale CDN copy).
#[derive(Clone, Copy)]
pub(crate) struct View {
    /// Uploads with this sequence number or later are hidden.
    pub hide_from: u64,
}

impl View {
    pub fn file(&self, f: &FileEntry) -> bool {
        f.upload_seq < self.hide_from
    }

    pub fn release(&self, r: &Release) -> bool {
        r.upload_seq < self.hide_from
    }
}

/// A map serialised in the given order (Python dicts keep insertion order).
struct Ordered<'a, V: Serialize>(&'a [(String, V)]);

impl<V: Serialize> Serialize for Ordered<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct Digests {
    md5: String,
    sha256: String,
    blake2b_256: String,
}

#[derive(Serialize)]
struct UrlEntry {
    filename: String,
    packagetype: String,
    python_version: String,
    has_sig: bool,
    comment_text: Option<String>,
    md5_digest: String,
    digests: Digests,
    size: u64,
    downloads: i64,
    upload_time: String,
    upload_time_iso_8601: String,
    url: String,
    requires_python: Option<String>,
    yanked: bool,
    yanked_reason: Option<String>,
}

#[derive(Serialize)]
struct Downloads {
    last_day: i64,
    last_week: i64,
    last_month: i64,
}

#[derive(Serialize)]
struct Info<'a> {
    name: &'a str,
    version: &'a str,
    summary: Option<&'a str>,
    description_content_type: Option<&'a str>,
    description: &'a str,
    keywords: Option<&'a str>,
    license: Option<&'a str>,
    license_expression: Option<&'a str>,
    license_files: Option<&'a [String]>,
    classifiers: &'a [String],
    author: Option<&'a str>,
    author_email: Option<&'a str>,
    maintainer: Option<&'a str>,
    maintainer_email: Option<&'a str>,
    requires_python: Option<&'a str>,
    platform: Option<&'a str>,
    downloads: Downloads,
    package_url: String,
    project_url: String,
    project_urls: Option<Ordered<'a, String>>,
    release_url: String,
    requires_dist: Option<&'a [String]>,
    provides_extra: Option<&'a [String]>,
    docs_url: Option<String>,
    bugtrack_url: Option<String>,
    home_page: Option<&'a str>,
    download_url: Option<&'a str>,
    yanked: bool,
    yanked_reason: Option<String>,
    dynamic: Option<&'a [String]>,
}

#[derive(Serialize)]
struct JsonData<'a> {
    info: Info<'a>,
    urls: Vec<UrlEntry>,
    vulnerabilities: Vec<serde_json::Value>,
    last_serial: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    releases: Option<Ordered<'a, Vec<UrlEntry>>>,
}

fn url_entry(base: &str, release: &Release, f: &FileEntry) -> UrlEntry {
    UrlEntry {
        filename: f.filename.clone(),
        packagetype: f.packagetype.clone(),
        python_version: f.python_version.clone(),
        has_sig: false,
        comment_text: f.comment_text.clone(),
        md5_digest: f.md5.clone(),
        digests: Digests {
            md5: f.md5.clone(),
            sha256: f.sha256.clone(),
            blake2b_256: f.blake2_256.clone(),
        },
        size: f.size,
        downloads: -1,
        upload_time: strftime_seconds(f.upload_time),
        upload_time_iso_8601: isoformat_z(f.upload_time),
        url: format!("{base}/packages/{}", f.path),
        requires_python: release.meta.requires_python.clone(),
        yanked: false,
        yanked_reason: None,
    }
}

fn release_files(base: &str, release: &Release, view: View) -> Vec<UrlEntry> {
    let mut files: Vec<&FileEntry> = release.files.iter().filter(|f| view.file(f)).collect();
    files.sort_by(|a, b| a.filename.cmp(&b.filename));
    files
        .into_iter()
        .map(|f| url_entry(base, release, f))
        .collect()
}

fn set_url(urls: &mut Vec<(String, String)>, key: &str, value: &str) {
    match urls.iter_mut().find(|(k, _)| k == key) {
        Some(entry) => entry.1 = value.to_owned(),
        None => urls.push((key.to_owned(), value.to_owned())),
    }
}

fn url_of<'a>(urls: &'a [(String, String)], key: &str) -> Option<&'a str> {
    urls.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// `Release.urls`: Homepage, Download, then the Project-URLs without duplicates of those.
fn release_urls(release: &Release) -> Vec<(String, String)> {
    let meta = &release.meta;
    let mut urls: Vec<(String, String)> = Vec::new();
    if let Some(home) = meta.home_page.as_deref().filter(|h| !h.is_empty()) {
        set_url(&mut urls, "Homepage", home);
    }
    if let Some(dl) = meta.download_url.as_deref().filter(|d| !d.is_empty()) {
        set_url(&mut urls, "Download", dl);
    }
    for (name, url) in &meta.project_urls {
        let comp: String = name
            .to_lowercase()
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect();
        if comp == "homepage" && url_of(&urls, "Homepage") == Some(url.as_str()) {
            continue;
        }
        if comp == "downloadurl" && url_of(&urls, "Download") == Some(url.as_str()) {
            continue;
        }
        set_url(&mut urls, name, url);
    }
    urls
}

fn non_empty(list: &[String]) -> Option<&[String]> {
    (!list.is_empty()).then_some(list)
}

fn render(
    base: &str,
    project: &Project,
    release: &Release,
    view: View,
    all_releases: bool,
) -> Response {
    let meta = &release.meta;
    let urls = release_urls(release);
    let mut visible: Vec<&Release> = project
        .releases
        .iter()
        .filter(|r| view.release(r))
        .collect();
    visible.sort_by(|a, b| b.version.cmp(&a.version));
    let releases: Option<Vec<(String, Vec<UrlEntry>)>> = all_releases.then(|| {
        visible
            .iter()
            .map(|r| (r.version_str.clone(), release_files(base, r, view)))
            .collect()
    });
    let last_serial = visible
        .iter()
        .flat_map(|r| {
            r.files
                .iter()
                .filter(|f| view.file(f))
                .map(|f| f.serial)
                .chain([r.serial_created])
        })
        .chain([project.created_serial])
        .max()
        .unwrap_or(project.last_serial);
    let data = JsonData {
        info: Info {
            name: &project.name,
            version: &release.version_str,
            summary: meta.summary.as_deref(),
            description_content_type: meta.description_content_type.as_deref(),
            description: &meta.description,
            keywords: meta.keywords.as_deref(),
            license: meta.license.as_deref(),
            license_expression: meta.license_expression.as_deref(),
            license_files: meta.license_files.as_deref(),
            classifiers: &meta.classifiers,
            author: meta.author.as_deref(),
            author_email: meta.author_email.as_deref(),
            maintainer: meta.maintainer.as_deref(),
            maintainer_email: meta.maintainer_email.as_deref(),
            requires_python: meta.requires_python.as_deref(),
            platform: meta.platform.as_deref(),
            downloads: Downloads {
                last_day: -1,
                last_week: -1,
                last_month: -1,
            },
            package_url: format!("{base}/project/{}/", project.name),
            project_url: format!("{base}/project/{}/", project.name),
            project_urls: (!urls.is_empty()).then_some(Ordered(&urls)),
            release_url: format!("{base}/project/{}/{}/", project.name, release.version_str),
            requires_dist: non_empty(&meta.requires_dist),
            provides_extra: non_empty(&meta.provides_extra),
            docs_url: None,
            bugtrack_url: None,
            home_page: meta.home_page.as_deref(),
            download_url: meta.download_url.as_deref(),
            yanked: false,
            yanked_reason: None,
            dynamic: non_empty(&meta.dynamic),
        },
        urls: release_files(base, release, view),
        vulnerabilities: Vec::new(),
        last_serial,
        releases: releases.as_deref().map(Ordered),
    };
    let mut headers = cors_headers();
    headers.push(("X-PyPI-Last-Serial", last_serial.to_string()));
    headers.push(("Cache-Control", "max-age=900, public".to_owned()));
    pyjson::response(StatusCode::OK, &data, &headers)
}

fn view(shared: &Shared, uploads_done: u64) -> View {
    if shared.take_stale_read() {
        View {
            hide_from: uploads_done,
        }
    } else {
        View {
            hide_from: u64::MAX,
        }
    }
}

/// `/pypi/{name}/json`: the latest release (final releases before pre-releases).
pub(crate) async fn project(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    uri: Uri,
) -> Response {
    if let Some(resp) = shared.faults.intercept(route::JSON_API).await {
        return resp;
    }
    let index = shared.index.lock();
    let view = view(&shared, index.uploads_done);
    let Some(project) = index.project(&name) else {
        return not_found();
    };
    let latest = project
        .releases
        .iter()
        .filter(|r| view.release(r))
        .max_by(|a, b| {
            (!a.version.any_prerelease(), &a.version)
                .cmp(&(!b.version.any_prerelease(), &b.version))
        });
    let Some(release) = latest else {
        return not_found();
    };
    if project.normalized != name {
        let slash = if uri.path().ends_with('/') { "/" } else { "" };
        return moved(format!(
            "{}/pypi/{}/json{slash}",
            shared.base_url, project.normalized
        ));
    }
    render(&shared.base_url, project, release, view, true)
}

/// `/pypi/{name}/{version}/json`: one release, matched on its canonical version.
pub(crate) async fn release(
    State(shared): State<Arc<Shared>>,
    Path((name, version)): Path<(String, String)>,
    uri: Uri,
) -> Response {
    if let Some(resp) = shared.faults.intercept(route::JSON_API).await {
        return resp;
    }
    let index = shared.index.lock();
    let view = view(&shared, index.uploads_done);
    let Some(project) = index.project(&name) else {
        return not_found();
    };
    let canonical = match parse_version(&version) {
        Some(v) => canonicalize_version(&v),
        None => version.clone(),
    };
    let Some(release) = project
        .releases
        .iter()
        .find(|r| r.canonical_version == canonical && view.release(r))
    else {
        return not_found();
    };
    if project.normalized != name {
        let slash = if uri.path().ends_with('/') { "/" } else { "" };
        return moved(format!(
            "{}/pypi/{}/{version}/json{slash}",
            shared.base_url, project.normalized
        ));
    }
    debug_assert_eq!(canonicalize_name(&name), project.normalized);
    render(&shared.base_url, project, release, view, false)
}
