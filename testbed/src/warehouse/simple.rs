//! The simple repository API (PEP 503 HTML and PEP 691 JSON, as `warehouse/api/simple.py`
//! and its templates render them) and file downloads (`/packages/...`).
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::names::canonicalize_name;
use super::pyjson;
use super::pyramid::{acceptable_offers, HttpException};
use super::state::{FileEntry, Project, Release};
use super::timefmt::isoformat_z;
use super::Shared;
use crate::faults::route;

const API_VERSION: &str = "1.3";
const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";

/// Jinja2 autoescaping (MarkupSafe).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `_select_content_type`: no `Accept` means all offers; none acceptable means HTML.
fn select_content_type(headers: &HeaderMap) -> &'static str {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    acceptable_offers(
        accept,
        &[
            "text/html",
            "application/vnd.pypi.simple.v1+html",
            JSON_TYPE,
        ],
    )
    .first()
    .copied()
    .unwrap_or("text/html")
}

fn plain_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=UTF-8")],
        "404 Not Found",
    )
        .into_response()
}

/// Warehouse's catch-all 404.
pub(crate) async fn not_found() -> Response {
    plain_not_found()
}

fn moved(shared: &Shared, headers: &HeaderMap, location: String) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    HttpException {
        status: 301,
        message: "Moved Permanently".to_owned(),
        detail: String::new(),
        location: Some(location),
    }
    .render(accept, &shared.base_url)
}

fn finish(mut resp: Response, content_type: &str, serial: u64) -> Response {
    let headers = resp.headers_mut();
    let ct = if content_type == "text/html" {
        "text/html; charset=UTF-8".to_owned()
    } else {
        content_type.to_owned()
    };
    for (name, value) in [
        ("Content-Type", ct),
        ("X-PyPI-Last-Serial", serial.to_string()),
        ("Vary", "Accept".to_owned()),
        ("Cache-Control", "max-age=600, public".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    resp
}

pub(crate) async fn index_redirect(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
) -> Response {
    moved(&shared, &headers, "/simple/".to_owned())
}

pub(crate) async fn detail_redirect(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    moved(&shared, &headers, format!("/simple/{name}/"))
}

#[derive(Serialize)]
struct Meta {
    #[serde(rename = "api-version")]
    api_version: &'static str,
    #[serde(rename = "_last-serial")]
    last_serial: u64,
}

#[derive(Serialize)]
struct IndexProject {
    name: String,
    #[serde(rename = "_last-serial")]
    last_serial: u64,
}

#[derive(Serialize)]
struct IndexJson {
    meta: Meta,
    projects: Vec<IndexProject>,
}

pub(crate) async fn index(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Some(resp) = shared.faults.intercept(route::SIMPLE).await {
        return resp;
    }
    let content_type = select_content_type(&headers);
    let index = shared.index.lock();
    let serial = index.current_serial();
    let mut projects: Vec<&Project> = index.projects.iter().collect();
    projects.sort_by(|a, b| a.normalized.cmp(&b.normalized));
    let resp = if content_type == JSON_TYPE {
        let data = IndexJson {
            meta: Meta {
                api_version: API_VERSION,
                last_serial: serial,
            },
            projects: projects
                .iter()
                .map(|p| IndexProject {
                    name: p.name.clone(),
                    last_serial: p.last_serial,
                })
                .collect(),
        };
        pyjson::response(StatusCode::OK, &data, &[])
    } else {
        let mut page = format!(
            "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta \
             name=\"pypi:repository-version\" content=\"{API_VERSION}\">\n    <title>Simple \
             index</title>\n  </head>\n  <body>\n    "
        );
        for p in &projects {
            page.push_str(&format!(
                "<a href=\"/simple/{}/\">{}</a>\n    ",
                escape(&canonicalize_name(&p.name)),
                escape(&p.name)
            ));
        }
        page.push_str("</body>\n</html>\n");
        (StatusCode::OK, page).into_response()
    };
    finish(resp, content_type, serial)
}

#[derive(Serialize)]
struct Hashes {
    sha256: String,
}

#[derive(Serialize)]
#[serde(untagged)]
enum CoreMetadata {
    Present(Hashes),
    Absent(bool),
}

#[derive(Serialize)]
struct DetailFile {
    filename: String,
    url: String,
    hashes: Hashes,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    size: u64,
    #[serde(rename = "upload-time")]
    upload_time: String,
    yanked: bool,
    #[serde(rename = "data-dist-info-metadata")]
    data_dist_info_metadata: CoreMetadata,
    #[serde(rename = "core-metadata")]
    core_metadata: CoreMetadata,
    provenance: Option<String>,
}

#[derive(Serialize)]
struct DetailJson {
    meta: Meta,
    name: String,
    versions: Vec<String>,
    #[serde(rename = "alternate-locations")]
    alternate_locations: Vec<String>,
    files: Vec<DetailFile>,
}

fn core_metadata(f: &FileEntry) -> CoreMetadata {
    match &f.metadata_sha256 {
        Some(sha256) => CoreMetadata::Present(Hashes {
            sha256: sha256.clone(),
        }),
        None => CoreMetadata::Absent(false),
    }
}

fn detail_html(base: &str, project: &Project, files: &[(&Release, &FileEntry)]) -> String {
    let name = escape(&project.normalized);
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n  <head>\n    <meta name=\"pypi:repository-version\" \
         content=\"{API_VERSION}\">\n    \n    \n    <title>Links for {name}</title>\n  </head>\n  \
         <body>\n    <h1>Links for {name}</h1>\n    "
    );
    for (release, f) in files {
        let mut attrs = String::new();
        if let Some(rp) = release
            .meta
            .requires_python
            .as_deref()
            .filter(|r| !r.is_empty())
        {
            attrs.push_str(&format!("data-requires-python=\"{}\" ", escape(rp)));
        }
        if let Some(sha) = &f.metadata_sha256 {
            attrs.push_str(&format!(
                "data-dist-info-metadata=\"sha256={sha}\" data-core-metadata=\"sha256={sha}\""
            ));
        }
        page.push_str(&format!(
            "<a href=\"{}#sha256={}\" {attrs}>{}</a><br />\n    ",
            escape(&format!("{base}/packages/{}", f.path)),
            f.sha256,
            escape(&f.filename)
        ));
    }
    page.push_str(&format!(
        "</body>\n</html>\n<!--SERIAL {}-->\n",
        project.last_serial
    ));
    page
}

pub(crate) async fn detail(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(resp) = shared.faults.intercept(route::SIMPLE).await {
        return resp;
    }
    let index = shared.index.lock();
    let Some(project) = index.project(&name) else {
        return plain_not_found();
    };
    if project.normalized != name {
        let location = format!("/simple/{}/", project.normalized);
        drop(index);
        return moved(&shared, &headers, location);
    }
    let content_type = select_content_type(&headers);
    let mut files: Vec<(&Release, &FileEntry)> = project
        .releases
        .iter()
        .flat_map(|r| r.files.iter().map(move |f| (r, f)))
        .collect();
    files.sort_by(|a, b| (&a.0.version, &a.1.filename).cmp(&(&b.0.version, &b.1.filename)));
    let base = &shared.base_url;
    let resp = if content_type == JSON_TYPE {
        let mut versions: Vec<&Release> = project
            .releases
            .iter()
            .filter(|r| !r.files.is_empty())
            .collect();
        versions.sort_by(|a, b| a.version.cmp(&b.version));
        let data = DetailJson {
            meta: Meta {
                api_version: API_VERSION,
                last_serial: project.last_serial,
            },
            name: project.normalized.clone(),
            versions: versions.iter().map(|r| r.version_str.clone()).collect(),
            alternate_locations: Vec::new(),
            files: files
                .iter()
                .map(|(r, f)| DetailFile {
                    filename: f.filename.clone(),
                    url: format!("{base}/packages/{}", f.path),
                    hashes: Hashes {
                        sha256: f.sha256.clone(),
                    },
                    requires_python: r.meta.requires_python.clone().filter(|s| !s.is_empty()),
                    size: f.size,
                    upload_time: isoformat_z(f.upload_time),
                    yanked: false,
                    data_dist_info_metadata: core_metadata(f),
                    core_metadata: core_metadata(f),
                    provenance: None,
                })
                .collect(),
        };
        pyjson::response(StatusCode::OK, &data, &[])
    } else {
        (StatusCode::OK, detail_html(base, project, &files)).into_response()
    };
    finish(resp, content_type, project.last_serial)
}

/// `GET /packages/{path}`: a stored file, or a wheel's `.metadata` (PEP 658).
pub(crate) async fn file(State(shared): State<Arc<Shared>>, Path(path): Path<String>) -> Response {
    if let Some(resp) = shared.faults.intercept(route::FILES).await {
        return resp;
    }
    let disk_path = {
        let index = shared.index.lock();
        if let Some(f) = index.find_file_by_path(&path) {
            Some(f.disk_path.clone())
        } else {
            path.strip_suffix(".metadata")
                .and_then(|base| index.find_file_by_path(base))
                .filter(|f| f.metadata_sha256.is_some())
                .map(|f| {
                    let mut p = f.disk_path.clone().into_os_string();
                    p.push(".metadata");
                    std::path::PathBuf::from(p)
                })
        }
    };
    let Some(disk_path) = disk_path else {
        return plain_not_found();
    };
    let file = match tokio::fs::File::open(&disk_path).await {
        Ok(file) => file,
        Err(err) => {
            tracing::error!(error = %err, path = %disk_path.display(), "a stored file cannot be read");
            return plain_not_found();
        }
    };
    let len = file.metadata().await.map(|m| m.len()).ok();
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let mut resp = (StatusCode::OK, body).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(len) = len {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    }
    resp
}
