//! State shared by the API and blob servers, and the request log every request lands in.
use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use parking_lot::Mutex;

use super::model::{
    Artifact, GitHubConfig, GitTarget, JobClaims, Release, ReleaseAsset, TagObject, WorkflowRun,
};
use super::signer::Signer;
use crate::faults::Faults;

/// One request as either host saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `"api"`, `"blob"` or `"uploads"`.
    pub host: &'static str,
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// The `Authorization` header's value, kept so tests can check where a secret went.
    pub authorization: Option<String>,
}

impl RecordedRequest {
    pub fn has_authorization(&self) -> bool {
        self.authorization.is_some()
    }
}

pub(crate) struct Mutable {
    pub claims: JobClaims,
    pub issued: Vec<String>,
    pub runs: BTreeMap<u64, WorkflowRun>,
    pub artifacts: BTreeMap<u64, Artifact>,
    pub next_run_id: u64,
    pub next_artifact_id: u64,
    pub requests: Vec<RecordedRequest>,
    pub blob_url_ttl_secs: u64,
    pub actions_read: bool,
    /// The token's `contents: write`: creating releases and uploading or deleting assets.
    pub contents_write: bool,
    pub releases: BTreeMap<u64, Release>,
    pub release_assets: BTreeMap<u64, ReleaseAsset>,
    pub next_release_id: u64,
    pub next_release_asset_id: u64,
    /// Tag name -> what `refs/tags/{name}` points at: a commit, or an annotated tag object.
    pub tags: BTreeMap<String, GitTarget>,
    /// Annotated tag objects by sha.
    pub tag_objects: BTreeMap<String, TagObject>,
    /// The default branch's head, which a release for a missing tag tags.
    pub default_branch_sha: String,
    /// Another origin to name in `upload_url` (a test of where the token may go).
    pub release_upload_base: Option<String>,
    /// Uploads still to store and then answer 502, as if the answer were lost.
    pub upload_answers_to_lose: usize,
}

pub(crate) struct Shared {
    pub config: GitHubConfig,
    pub api_base: String,
    pub blob_base: String,
    /// Origin of the release upload host (`upload_url`).
    pub upload_base: String,
    /// Path of the ID token endpoint (`ACTIONS_ID_TOKEN_REQUEST_URL` without its query).
    pub id_token_path: String,
    pub id_token_request_token: String,
    pub signer: Signer,
    pub blob_key: [u8; 32],
    pub faults: Faults,
    pub state: Mutex<Mutable>,
}

impl Shared {
    pub fn issuer(&self) -> String {
        format!("{}/oidc", self.api_base)
    }
}

async fn record(host: &'static str, shared: &Shared, req: Request, next: Next) -> Response {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let path = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.uri().path().to_owned(), |pq| pq.as_str().to_owned());
    tracing::debug!(host, method = %req.method(), path = %req.uri().path(), "github stand-in request");
    shared.state.lock().requests.push(RecordedRequest {
        host,
        method: req.method().to_string(),
        path,
        authorization,
    });
    next.run(req).await
}

pub(crate) async fn record_api(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    record("api", &shared, req, next).await
}

pub(crate) async fn record_uploads(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    record("uploads", &shared, req, next).await
}

pub(crate) async fn record_blob(
    State(shared): State<Arc<Shared>>,
    req: Request,
    next: Next,
) -> Response {
    record("blob", &shared, req, next).await
}
