//! Releases and their assets, as GitHub's REST API serves them: the release of a tag, release
//! creation (which tags the default branch when the tag is missing, as GitHub does), assets
//! listed with `Link` pagination, uploads on a separate upload host (`upload_url`, a URI
//! template) with `digest: "sha256:<hex>"`, 422 `already_exists` for a taken tag or asset
//! name, asset deletion.
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::model::{node_id, GitTarget, Release, ReleaseAsset};
use super::rest::{self, authenticate, error, Caller, RepoRef};
use super::state::Shared;
use super::{time, urlenc};
use crate::faults::route;

const DOC_RELEASES: &str = "https://docs.github.com/rest/releases/releases";
const DOC_ASSETS: &str = "https://docs.github.com/rest/releases/assets";

pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn validation_failed(resource: &str, code: &str, field: &str, doc: &str) -> Response {
    json_response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({
            "message": "Validation Failed",
            "errors": [{"resource": resource, "code": code, "field": field}],
            "documentation_url": doc,
            "status": "422",
        }),
    )
}

/// Reads may be anonymous on a public repository; writes need the token with
/// `contents: write`.
pub(crate) fn authorize(
    shared: &Shared,
    headers: &HeaderMap,
    write: bool,
    doc: &str,
) -> Result<(), Box<Response>> {
    let caller = authenticate(shared, headers)?;
    match caller {
        Caller::Anonymous if write => Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "Requires authentication",
            doc,
        ))),
        Caller::Anonymous if shared.config.private => {
            Err(Box::new(error(StatusCode::NOT_FOUND, "Not Found", doc)))
        }
        Caller::Token if write && !shared.state.lock().contents_write => Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
            doc,
        ))),
        _ => Ok(()),
    }
}

fn asset_json(shared: &Shared, a: &ReleaseAsset, tag: &str) -> Value {
    let repo = &shared.config.repository;
    json!({
        "url": format!("{}/repos/{repo}/releases/assets/{}", shared.api_base, a.id),
        "browser_download_url": format!(
            "https://github.com/{repo}/releases/download/{}/{}",
            urlenc::encode_component(tag),
            urlenc::encode_component(&a.name)
        ),
        "id": a.id,
        "node_id": node_id("ReleaseAsset", a.id),
        "name": a.name,
        "label": a.label,
        "state": a.state,
        "content_type": a.content_type,
        "size": a.bytes.len(),
        "digest": a.digest,
        "download_count": 0,
        "created_at": time::rfc3339(a.created_at),
        "updated_at": time::rfc3339(a.created_at),
        "uploader": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
    })
}

fn release_json(shared: &Shared, r: &Release) -> Value {
    let repo = &shared.config.repository;
    let state = shared.state.lock();
    let upload_base = state
        .release_upload_base
        .clone()
        .unwrap_or_else(|| shared.upload_base.clone());
    let assets: Vec<Value> = state
        .release_assets
        .values()
        .filter(|a| a.release_id == r.id)
        .map(|a| asset_json(shared, a, &r.tag_name))
        .collect();
    let url = format!("{}/repos/{repo}/releases/{}", shared.api_base, r.id);
    json!({
        "url": url,
        "html_url": format!("https://github.com/{repo}/releases/tag/{}", urlenc::encode_component(&r.tag_name)),
        "assets_url": format!("{url}/assets"),
        "upload_url": format!("{upload_base}/repos/{repo}/releases/{}/assets{{?name,label}}", r.id),
        "tarball_url": format!("{}/repos/{repo}/tarball/{}", shared.api_base, r.tag_name),
        "zipball_url": format!("{}/repos/{repo}/zipball/{}", shared.api_base, r.tag_name),
        "id": r.id,
        "node_id": node_id("Release", r.id),
        "tag_name": r.tag_name,
        "target_commitish": r.target_commitish,
        "name": r.name,
        "body": r.body,
        "draft": r.draft,
        "prerelease": r.prerelease,
        "created_at": time::rfc3339(r.created_at),
        "published_at": (!r.draft).then(|| time::rfc3339(r.created_at)),
        "author": {"login": "github-actions[bot]", "id": 41898282, "type": "Bot"},
        "assets": assets,
    })
}

/// `GET /repos/{o}/{r}/releases/tags/{tag}`: the published release of the tag (drafts have no
/// tag yet, so they are not found this way).
pub(crate) async fn by_tag(
    State(shared): State<Arc<Shared>>,
    Path((o, r, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::RELEASES).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, false, DOC_RELEASES) {
        return *resp;
    }
    if !RepoRef::Name(o, r).is_ours(&shared) {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_RELEASES);
    }
    let found = shared
        .state
        .lock()
        .releases
        .values()
        .find(|rel| rel.tag_name == tag && !rel.draft)
        .cloned();
    match found {
        Some(rel) => json_response(StatusCode::OK, &release_json(&shared, &rel)),
        None => error(StatusCode::NOT_FOUND, "Not Found", DOC_RELEASES),
    }
}

/// `POST /repos/{o}/{r}/releases`.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Path((o, r)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::RELEASES).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, true, DOC_RELEASES) {
        return *resp;
    }
    if !RepoRef::Name(o, r).is_ours(&shared) {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_RELEASES);
    }
    let Ok(input) = serde_json::from_slice::<Value>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "Problems parsing JSON",
            DOC_RELEASES,
        );
    };
    let Some(tag) = input
        .get("tag_name")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return validation_failed("Release", "missing_field", "tag_name", DOC_RELEASES);
    };
    let text = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_owned);
    let flag = |k: &str| input.get(k).and_then(Value::as_bool).unwrap_or(false);
    let release = {
        let mut state = shared.state.lock();
        if state
            .releases
            .values()
            .any(|rel| rel.tag_name == tag && !rel.draft)
        {
            drop(state);
            return validation_failed("Release", "already_exists", "tag_name", DOC_RELEASES);
        }
        let target = text("target_commitish").unwrap_or_else(|| "main".to_owned());
        // GitHub creates a missing tag from `target_commitish` (the default branch).
        if !state.tags.contains_key(&tag) {
            let head = GitTarget::commit(&state.default_branch_sha);
            state.tags.insert(tag.clone(), head);
        }
        let id = state.next_release_id;
        state.next_release_id += 1;
        let release = Release {
            id,
            tag_name: tag,
            target_commitish: target,
            name: text("name"),
            body: text("body"),
            draft: flag("draft"),
            prerelease: flag("prerelease"),
            make_latest: text("make_latest"),
            created_at: time::now(),
        };
        state.releases.insert(id, release.clone());
        release
    };
    let mut resp = json_response(StatusCode::CREATED, &release_json(&shared, &release));
    let location = format!(
        "{}/repos/{}/releases/{}",
        shared.api_base, shared.config.repository, release.id
    );
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

async fn list_assets(
    shared: Arc<Shared>,
    repo: RepoRef,
    release_id: String,
    query: Option<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::RELEASES).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, false, DOC_ASSETS) {
        return *resp;
    }
    let query = query.unwrap_or_default();
    let state = shared.state.lock();
    let Some(release) = release_id
        .parse::<u64>()
        .ok()
        .filter(|_| repo.is_ours(&shared))
        .and_then(|id| state.releases.get(&id))
        .cloned()
    else {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_ASSETS);
    };
    let assets: Vec<ReleaseAsset> = state
        .release_assets
        .values()
        .filter(|a| a.release_id == release.id)
        .cloned()
        .collect();
    drop(state);
    let per_page = rest::per_page(&query, shared.config.per_page_max);
    let page = rest::page(&query);
    let last = assets.len().div_ceil(per_page).max(1);
    let items: Vec<Value> = assets
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|a| asset_json(&shared, a, &release.tag_name))
        .collect();
    let mut resp = json_response(StatusCode::OK, &Value::Array(items));
    let base = format!(
        "{}/repositories/{}/releases/{}/assets",
        shared.api_base, shared.config.repository_id, release.id
    );
    if let Some(link) = rest::link_header(&base, &query, page, last) {
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

pub(crate) async fn assets_by_name(
    State(s): State<Arc<Shared>>,
    Path((o, r, id)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    list_assets(s, RepoRef::Name(o, r), id, q, headers).await
}

pub(crate) async fn assets_by_id(
    State(s): State<Arc<Shared>>,
    Path((rid, id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    list_assets(s, RepoRef::Id(rid), id, q, headers).await
}

/// `DELETE /repos/{o}/{r}/releases/assets/{asset_id}` -> 204.
pub(crate) async fn delete_asset(
    State(shared): State<Arc<Shared>>,
    Path((o, r, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::RELEASES).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, true, DOC_ASSETS) {
        return *resp;
    }
    let removed = id
        .parse::<u64>()
        .ok()
        .filter(|_| RepoRef::Name(o, r).is_ours(&shared))
        .and_then(|id| shared.state.lock().release_assets.remove(&id));
    match removed {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(StatusCode::NOT_FOUND, "Not Found", DOC_ASSETS),
    }
}

/// GitHub renames an uploaded asset whose name holds other characters than these.
fn asset_name(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '+') {
                c
            } else {
                '.'
            }
        })
        .collect()
}

/// `POST {upload host}/repos/{o}/{r}/releases/{id}/assets?name=NAME&label=LABEL` with the raw
/// bytes -> 201 asset; 422 `already_exists` when the release has an asset of that name.
pub(crate) async fn upload(
    State(shared): State<Arc<Shared>>,
    Path((o, r, id)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::RELEASE_UPLOAD).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, true, DOC_ASSETS) {
        return *resp;
    }
    let query = query.unwrap_or_default();
    let Some(name) = urlenc::get(&query, "name").filter(|n| !n.is_empty()) else {
        return validation_failed("ReleaseAsset", "missing_field", "name", DOC_ASSETS);
    };
    let Some(content_type) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
    else {
        return validation_failed("ReleaseAsset", "missing_field", "content_type", DOC_ASSETS);
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared != Some(body.len()) {
        return error(StatusCode::BAD_REQUEST, "Bad Content-Length", DOC_ASSETS);
    }
    let name = asset_name(&name);
    let (asset, tag, lose_answer) = {
        let mut state = shared.state.lock();
        let Some(release) = id
            .parse::<u64>()
            .ok()
            .filter(|_| RepoRef::Name(o, r).is_ours(&shared))
            .and_then(|id| state.releases.get(&id))
            .cloned()
        else {
            return error(StatusCode::NOT_FOUND, "Not Found", DOC_ASSETS);
        };
        if state
            .release_assets
            .values()
            .any(|a| a.release_id == release.id && a.name == name)
        {
            drop(state);
            return validation_failed("ReleaseAsset", "already_exists", "name", DOC_ASSETS);
        }
        let mut asset = ReleaseAsset::new(release.id, &name, body.to_vec());
        asset.label = urlenc::get(&query, "label");
        asset.content_type = content_type;
        asset.id = state.next_release_asset_id;
        state.next_release_asset_id += 1;
        state.release_assets.insert(asset.id, asset.clone());
        let lose = state.upload_answers_to_lose > 0;
        if lose {
            state.upload_answers_to_lose -= 1;
        }
        (asset, release.tag_name, lose)
    };
    if lose_answer {
        // Stored, but the answer never arrives (a proxy gave up waiting).
        return error(StatusCode::BAD_GATEWAY, "Server Error", DOC_ASSETS);
    }
    json_response(StatusCode::CREATED, &asset_json(&shared, &asset, &tag))
}
