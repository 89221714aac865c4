//! The Actions REST API endpoints the publisher calls: a workflow run, its artifacts, and an
//! artifact's download redirect.
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{json, Value};

use super::model::{node_id, Artifact, WorkflowRun};
use super::state::Shared;
use super::{blob, time, urlenc};
use crate::faults::route;

const DOC_GET_RUN: &str = "https://docs.github.com/rest/actions/workflow-runs#get-a-workflow-run";
const DOC_LIST_ARTIFACTS: &str =
    "https://docs.github.com/rest/actions/artifacts#list-workflow-run-artifacts";
const DOC_GET_ARTIFACT: &str = "https://docs.github.com/rest/actions/artifacts#get-an-artifact";
const DOC_DOWNLOAD: &str = "https://docs.github.com/rest/actions/artifacts#download-an-artifact";

/// A GitHub REST error: `{"message", "documentation_url", "status"}` (status as a string).
pub(crate) fn error(status: StatusCode, message: &str, doc: &str) -> Response {
    let body = json!({
        "message": message,
        "documentation_url": doc,
        "status": status.as_u16().to_string(),
    });
    json_response(status, &body)
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

pub(crate) async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "Not Found",
        "https://docs.github.com/rest",
    )
}

pub(crate) enum Caller {
    Anonymous,
    Token,
}

/// GitHub accepts `Bearer <t>`, `token <t>` and Basic with the token as password; a header
/// that carries anything else is "Bad credentials".
pub(crate) fn authenticate(shared: &Shared, headers: &HeaderMap) -> Result<Caller, Box<Response>> {
    let bad = || {
        Box::new(error(
            StatusCode::UNAUTHORIZED,
            "Bad credentials",
            "https://docs.github.com/rest",
        ))
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(Caller::Anonymous);
    };
    let value = value.to_str().map_err(|_| bad())?.trim();
    let (scheme, cred) = value.split_once(' ').ok_or_else(bad)?;
    let cred = cred.trim();
    let token = &shared.config.github_token;
    let ok = if scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("token") {
        cred == token
    } else if scheme.eq_ignore_ascii_case("basic") {
        base64::engine::general_purpose::STANDARD
            .decode(cred)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .and_then(|pair| pair.split_once(':').map(|(_, p)| p == token))
            .unwrap_or(false)
    } else {
        false
    };
    if ok {
        Ok(Caller::Token)
    } else {
        Err(bad())
    }
}

/// Authentication, then what GitHub answers a caller that may not see the repository.
fn authorize(shared: &Shared, headers: &HeaderMap, doc: &str) -> Result<Caller, Box<Response>> {
    let caller = authenticate(shared, headers)?;
    match caller {
        Caller::Anonymous if shared.config.private => {
            Err(Box::new(error(StatusCode::NOT_FOUND, "Not Found", doc)))
        }
        Caller::Token if !shared.state.lock().actions_read => Err(Box::new(error(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
            doc,
        ))),
        c => Ok(c),
    }
}

/// Which repository a request names: `/repos/{owner}/{repo}` or `/repositories/{id}`.
pub(crate) enum RepoRef {
    Name(String, String),
    Id(String),
}

impl RepoRef {
    pub(crate) fn is_ours(&self, shared: &Shared) -> bool {
        match self {
            RepoRef::Name(owner, repo) => {
                owner.eq_ignore_ascii_case(shared.config.owner())
                    && repo.eq_ignore_ascii_case(shared.config.name())
            }
            RepoRef::Id(id) => id.parse::<u64>().ok() == Some(shared.config.repository_id),
        }
    }
}

fn user_json(login: &str, id: u64) -> Value {
    json!({
        "login": login,
        "id": id,
        "node_id": node_id("User", id),
        "type": "User",
        "site_admin": false,
        "url": format!("https://api.github.com/users/{login}"),
        "html_url": format!("https://github.com/{login}"),
    })
}

fn repo_json(shared: &Shared, full_name: &str, id: u64) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, full_name));
    let ours = id == shared.config.repository_id;
    let owner_id = if ours {
        shared.config.repository_owner_id
    } else {
        // A fork's owner is not configured; any id that is stable per repository will do.
        id.wrapping_mul(7) % 100_000_000
    };
    json!({
        "id": id,
        "node_id": node_id("Repository", id),
        "name": name,
        "full_name": full_name,
        "private": ours && shared.config.private,
        "owner": user_json(owner, owner_id),
        "html_url": format!("https://github.com/{full_name}"),
        "description": null,
        "fork": !ours,
        "url": format!("{}/repos/{full_name}", shared.api_base),
    })
}

fn run_json(shared: &Shared, run: &WorkflowRun) -> Value {
    let repo = &shared.config.repository;
    let run_url = format!("{}/repos/{repo}/actions/runs/{}", shared.api_base, run.id);
    let check_suite_id = run.id / 2 + 11;
    json!({
        "id": run.id,
        "name": run.name,
        "node_id": node_id("WorkflowRun", run.id),
        "head_branch": run.head_branch,
        "head_sha": run.head_sha,
        "path": run.path,
        "display_title": run.display_title,
        "run_number": run.run_number,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "check_suite_id": check_suite_id,
        "check_suite_node_id": node_id("CheckSuite", check_suite_id),
        "url": run_url,
        "html_url": format!("https://github.com/{repo}/actions/runs/{}", run.id),
        "pull_requests": [],
        "created_at": time::rfc3339(run.created_at),
        "updated_at": time::rfc3339(run.updated_at),
        "actor": user_json(&run.actor_login, run.actor_id),
        "run_attempt": run.run_attempt,
        "referenced_workflows": [],
        "run_started_at": time::rfc3339(run.created_at),
        "triggering_actor": user_json(&run.actor_login, run.actor_id),
        "jobs_url": format!("{run_url}/jobs"),
        "logs_url": format!("{run_url}/logs"),
        "check_suite_url": format!("{}/repos/{repo}/check-suites/{check_suite_id}", shared.api_base),
        "artifacts_url": format!("{run_url}/artifacts"),
        "cancel_url": format!("{run_url}/cancel"),
        "rerun_url": format!("{run_url}/rerun"),
        "previous_attempt_url": (run.run_attempt > 1)
            .then(|| format!("{run_url}/attempts/{}", run.run_attempt - 1)),
        "workflow_url": format!("{}/repos/{repo}/actions/workflows/{}", shared.api_base, run.workflow_id),
        "head_commit": {
            "id": run.head_sha,
            "tree_id": run.head_sha.chars().rev().collect::<String>(),
            "message": run.display_title,
            "timestamp": time::rfc3339(run.created_at),
            "author": {"name": run.actor_login, "email": format!("{}@users.noreply.github.com", run.actor_login)},
            "committer": {"name": "GitHub", "email": "noreply@github.com"},
        },
        "repository": repo_json(shared, repo, shared.config.repository_id),
        "head_repository": repo_json(shared, &run.head_repository_full_name, run.head_repository_id),
    })
}

fn artifact_json(shared: &Shared, a: &Artifact, run: Option<&WorkflowRun>, now: u64) -> Value {
    let url = format!(
        "{}/repos/{}/actions/artifacts/{}",
        shared.api_base, shared.config.repository, a.id
    );
    json!({
        "id": a.id,
        "node_id": node_id("Artifact", a.id),
        "name": a.name,
        "size_in_bytes": a.size_in_bytes,
        "url": url,
        "archive_download_url": format!("{url}/zip"),
        "expired": a.is_expired(now),
        "digest": a.digest,
        "created_at": time::rfc3339(a.created_at),
        "updated_at": time::rfc3339(a.updated_at),
        "expires_at": time::rfc3339(a.expires_at),
        "workflow_run": {
            "id": a.run_id,
            "repository_id": shared.config.repository_id,
            "head_repository_id": run.map(|r| r.head_repository_id),
            "head_branch": run.map(|r| r.head_branch.clone()),
            "head_sha": run.map(|r| r.head_sha.clone()),
        },
    })
}

/// `GET /repos/{o}/{r}/actions/runs/{run_id}` (and `/repositories/{id}/...`).
pub(crate) async fn get_run(
    shared: Arc<Shared>,
    repo: RepoRef,
    run_id: String,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::RUN).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, DOC_GET_RUN) {
        return *resp;
    }
    let state = shared.state.lock();
    let run = run_id
        .parse::<u64>()
        .ok()
        .filter(|_| repo.is_ours(&shared))
        .and_then(|id| state.runs.get(&id));
    match run {
        Some(run) => json_response(StatusCode::OK, &run_json(&shared, run)),
        None => error(StatusCode::NOT_FOUND, "Not Found", DOC_GET_RUN),
    }
}

/// GitHub's `per_page`: default 30, capped at the configured maximum (100).
pub(crate) fn per_page(query: &str, max: usize) -> usize {
    match urlenc::get(query, "per_page").and_then(|v| v.parse::<usize>().ok()) {
        Some(0) | None => 30.min(max.max(1)),
        Some(n) => n.min(max.max(1)),
    }
}

pub(crate) fn page(query: &str) -> usize {
    urlenc::get(query, "page")
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|p| *p > 0)
        .unwrap_or(1)
}

/// The request's own query with `page` set to `n`, other parameters kept in order.
fn with_page(query: &str, n: usize) -> String {
    let mut replaced = false;
    let mut parts: Vec<String> = urlenc::raw_pairs(query)
        .into_iter()
        .map(|(k, v)| {
            if urlenc::decode(k) == "page" {
                replaced = true;
                format!("{k}={n}")
            } else {
                format!("{k}={v}")
            }
        })
        .collect();
    if !replaced {
        parts.push(format!("page={n}"));
    }
    parts.join("&")
}

/// `Link` as GitHub writes it: absolute `/repositories/{id}/...` URLs, in the order prev,
/// next, last, first; absent when everything fits on one page.
pub(crate) fn link_header(base: &str, query: &str, page: usize, last: usize) -> Option<String> {
    let mut rels = Vec::new();
    if page > 1 {
        rels.push((page - 1, "prev"));
    }
    if page < last {
        rels.push((page + 1, "next"));
        rels.push((last, "last"));
    }
    if page > 1 {
        rels.push((1, "first"));
    }
    if rels.is_empty() {
        return None;
    }
    let links: Vec<String> = rels
        .into_iter()
        .map(|(n, rel)| format!("<{base}?{}>; rel=\"{rel}\"", with_page(query, n)))
        .collect();
    Some(links.join(", "))
}

/// `GET /repos/{o}/{r}/actions/runs/{run_id}/artifacts?per_page=N&page=P&name=NAME`.
pub(crate) async fn list_artifacts(
    shared: Arc<Shared>,
    repo: RepoRef,
    run_id: String,
    query: Option<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::ARTIFACTS).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, DOC_LIST_ARTIFACTS) {
        return *resp;
    }
    let query = query.unwrap_or_default();
    let state = shared.state.lock();
    let Some(run) = run_id
        .parse::<u64>()
        .ok()
        .filter(|_| repo.is_ours(&shared))
        .and_then(|id| state.runs.get(&id))
    else {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_LIST_ARTIFACTS);
    };
    let name = urlenc::get(&query, "name");
    let matching: Vec<&Artifact> = state
        .artifacts
        .values()
        .filter(|a| a.run_id == run.id && name.as_ref().is_none_or(|n| &a.name == n))
        .collect();
    let per_page = per_page(&query, shared.config.per_page_max);
    let page = page(&query);
    let last = matching.len().div_ceil(per_page).max(1);
    let now = time::now();
    let items: Vec<Value> = matching
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .map(|a| artifact_json(&shared, a, Some(run), now))
        .collect();
    let body = json!({ "total_count": matching.len(), "artifacts": items });
    let mut resp = json_response(StatusCode::OK, &body);
    let base = format!(
        "{}/repositories/{}/actions/runs/{}/artifacts",
        shared.api_base, shared.config.repository_id, run.id
    );
    if let Some(link) = link_header(&base, &query, page, last) {
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

fn find_artifact<'a>(
    shared: &Shared,
    state: &'a super::state::Mutable,
    repo: &RepoRef,
    id: &str,
) -> Option<&'a Artifact> {
    id.parse::<u64>()
        .ok()
        .filter(|_| repo.is_ours(shared))
        .and_then(|id| state.artifacts.get(&id))
}

/// `GET /repos/{o}/{r}/actions/artifacts/{id}`.
pub(crate) async fn get_artifact(
    shared: Arc<Shared>,
    repo: RepoRef,
    id: String,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::ARTIFACTS).await {
        return fault;
    }
    if let Err(resp) = authorize(&shared, &headers, DOC_GET_ARTIFACT) {
        return *resp;
    }
    let state = shared.state.lock();
    match find_artifact(&shared, &state, &repo, &id) {
        Some(a) => {
            let run = state.runs.get(&a.run_id);
            json_response(StatusCode::OK, &artifact_json(&shared, a, run, time::now()))
        }
        None => error(StatusCode::NOT_FOUND, "Not Found", DOC_GET_ARTIFACT),
    }
}

/// `GET /repos/{o}/{r}/actions/artifacts/{id}/zip`: a 302 to a short-lived signed blob URL.
pub(crate) async fn download_artifact(
    shared: Arc<Shared>,
    repo: RepoRef,
    id: String,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::ARTIFACT_ZIP).await {
        return fault;
    }
    match authorize(&shared, &headers, DOC_DOWNLOAD) {
        Err(resp) => return *resp,
        Ok(Caller::Anonymous) => {
            // Public repositories list artifacts to anyone, but never hand out their bytes.
            return error(
                StatusCode::UNAUTHORIZED,
                "You must have the actions scope to download artifacts.",
                DOC_DOWNLOAD,
            );
        }
        Ok(Caller::Token) => {}
    }
    let state = shared.state.lock();
    let Some(a) = find_artifact(&shared, &state, &repo, &id) else {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_DOWNLOAD);
    };
    let now = time::now();
    if a.is_expired(now) {
        return error(StatusCode::GONE, "Artifact has expired", DOC_DOWNLOAD);
    }
    let location = blob::signed_url(&shared, a, now, state.blob_url_ttl_secs);
    match HeaderValue::from_str(&location) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

// Axum handlers: thin adapters from the two path shapes to the functions above.

pub(crate) async fn run_by_name(
    State(s): State<Arc<Shared>>,
    Path((o, r, run)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    get_run(s, RepoRef::Name(o, r), run, headers).await
}

pub(crate) async fn run_by_id(
    State(s): State<Arc<Shared>>,
    Path((repo_id, run)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    get_run(s, RepoRef::Id(repo_id), run, headers).await
}

pub(crate) async fn artifacts_by_name(
    State(s): State<Arc<Shared>>,
    Path((o, r, run)): Path<(String, String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    list_artifacts(s, RepoRef::Name(o, r), run, q, headers).await
}

pub(crate) async fn artifacts_by_id(
    State(s): State<Arc<Shared>>,
    Path((repo_id, run)): Path<(String, String)>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    list_artifacts(s, RepoRef::Id(repo_id), run, q, headers).await
}

pub(crate) async fn artifact_by_name(
    State(s): State<Arc<Shared>>,
    Path((o, r, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    get_artifact(s, RepoRef::Name(o, r), id, headers).await
}

pub(crate) async fn artifact_by_id(
    State(s): State<Arc<Shared>>,
    Path((repo_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    get_artifact(s, RepoRef::Id(repo_id), id, headers).await
}

pub(crate) async fn zip_by_name(
    State(s): State<Arc<Shared>>,
    Path((o, r, id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    download_artifact(s, RepoRef::Name(o, r), id, headers).await
}

pub(crate) async fn zip_by_id(
    State(s): State<Arc<Shared>>,
    Path((repo_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    download_artifact(s, RepoRef::Id(repo_id), id, headers).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_matches_githubs_shape() {
        let base = "http://h/repositories/1/actions/runs/2/artifacts";
        assert_eq!(link_header(base, "per_page=2", 1, 1), None);
        assert_eq!(
            link_header(base, "per_page=2", 1, 3).as_deref(),
            Some(
                "<http://h/repositories/1/actions/runs/2/artifacts?per_page=2&page=2>; rel=\"next\", \
                 <http://h/repositories/1/actions/runs/2/artifacts?per_page=2&page=3>; rel=\"last\""
            )
        );
        assert_eq!(
            link_header(base, "page=2&per_page=2&name=a%20b", 2, 3).as_deref(),
            Some(
                "<http://h/repositories/1/actions/runs/2/artifacts?page=1&per_page=2&name=a%20b>; rel=\"prev\", \
                 <http://h/repositories/1/actions/runs/2/artifacts?page=3&per_page=2&name=a%20b>; rel=\"next\", \
                 <http://h/repositories/1/actions/runs/2/artifacts?page=3&per_page=2&name=a%20b>; rel=\"last\", \
                 <http://h/repositories/1/actions/runs/2/artifacts?page=1&per_page=2&name=a%20b>; rel=\"first\""
            )
        );
    }

    #[test]
    fn per_page_defaults_and_caps() {
        assert_eq!(per_page("", 100), 30);
        assert_eq!(per_page("per_page=0", 100), 30);
        assert_eq!(per_page("per_page=abc", 100), 30);
        assert_eq!(per_page("per_page=7", 100), 7);
        assert_eq!(per_page("per_page=1000", 100), 100);
        assert_eq!(page("page=0"), 1);
        assert_eq!(page("page=4"), 4);
    }
}
