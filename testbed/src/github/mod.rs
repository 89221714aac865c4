//! GitHub stand-in: the runner's ID token endpoint, the OIDC issuer, the Actions REST API for
//! workflow runs and artifacts, and a separate blob host (another port, so another origin)
//! that serves artifact zips behind short-lived signed URLs the way Azure blob storage does.
//!
//! Paths on the API host:
//! - `/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken?api-version=2.0`
//! - `/oidc/.well-known/openid-configuration`, `/oidc/.well-known/jwks`
//! - `/repos/{owner}/{repo}/actions/runs/{id}`, `.../runs/{id}/artifacts`,
//!   `/repos/{owner}/{repo}/actions/artifacts/{id}` and `.../{id}/zip`, and the same under
//!   `/repositories/{repository_id}/...` (GitHub's `Link` headers point there).
//! - Releases: `/repos/{owner}/{repo}/releases` (create), `.../releases/tags/{tag}`,
//!   `.../releases/{id}/assets` (list), `.../releases/assets/{id}` (delete),
//!   uploads go to a third host, the one `upload_url` names.
//! - Tags: `/repos/{owner}/{repo}/git/ref/tags/{tag}` and `.../git/tags/{tag_sha}`
//!   (lightweight and annotated tags, which tests may move).
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use axum::routing::{delete, get, post};
use axum::Router;
use parking_lot::Mutex;
use sha2::Digest as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

mod blob;
mod git;
mod model;
mod oidc;
mod releases;
mod rest;
mod signer;
mod state;
mod time;
mod urlenc;
mod zips;

#[cfg(test)]
mod tests;

pub use model::{
    random_github_token, Artifact, GitHubConfig, GitTarget, JobClaims, ObjectKind, Release,
    ReleaseAsset, WorkflowRun,
};
pub use state::RecordedRequest;
pub use zips::{hostile, zip_of, zip_with_raw_entries, RawEntry, MODE_FILE, MODE_SYMLINK};

use crate::faults::Faults;
use state::{Mutable, Shared};

/// How long a download redirect's signed URL stays valid ("expires after 1 minute").
const BLOB_URL_TTL_SECS: u64 = 60;
/// Artifacts are kept 90 days by default.
const ARTIFACT_RETENTION_SECS: u64 = 90 * 24 * 3600;

/// The running stand-in; both servers stop when it is dropped.
pub struct GitHub {
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl GitHub {
    /// Starts both servers on free ports of 127.0.0.1.
    pub async fn start(config: GitHubConfig) -> anyhow::Result<GitHub> {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self::start_on(config, any, any).await
    }

    /// Starts the API server on `api` and the blob server on `blob` (the demo picks ports).
    pub async fn start_on(
        config: GitHubConfig,
        api: SocketAddr,
        blob: SocketAddr,
    ) -> anyhow::Result<GitHub> {
        let api_listener = TcpListener::bind(api)
            .await
            .with_context(|| format!("binding the GitHub API stand-in to {api}"))?;
        let blob_listener = TcpListener::bind(blob)
            .await
            .with_context(|| format!("binding the GitHub blob stand-in to {blob}"))?;
        // Uploads have a host of their own, as on github.com (uploads.github.com).
        let upload_addr = SocketAddr::new(api.ip(), 0);
        let upload_listener = TcpListener::bind(upload_addr)
            .await
            .with_context(|| format!("binding the GitHub upload stand-in to {upload_addr}"))?;
        let api_base = format!("http://{}", api_listener.local_addr()?);
        let upload_base = format!("http://{}", upload_listener.local_addr()?);
        let blob_base = format!("http://{}", blob_listener.local_addr()?);
        let plan = model::random_uuid();
        let job = model::random_uuid();
        let claims = JobClaims::for_repo(&config);
        let shared = Arc::new(Shared {
            id_token_path: format!(
                "/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken"
            ),
            // The runner's request token is a JWT; the `eyJ` prefix keeps secret scanners and
            // masking tests honest without this stand-in having to mint a second kind of JWT.
            id_token_request_token: format!("eyJ{}", model::random_hex(48)),
            signer: signer::Signer::new()?,
            blob_key: rand::random(),
            faults: Faults::default(),
            state: Mutex::new(Mutable {
                claims,
                issued: Vec::new(),
                runs: Default::default(),
                artifacts: Default::default(),
                // Realistic magnitudes: ids above 2^32 catch clients that squeeze them into i32.
                next_run_id: 14_200_000_001,
                next_artifact_id: 4_300_000_001,
                requests: Vec::new(),
                blob_url_ttl_secs: BLOB_URL_TTL_SECS,
                actions_read: true,
                contents_write: true,
                releases: Default::default(),
                release_assets: Default::default(),
                next_release_id: 231_000_001,
                next_release_asset_id: 2_810_000_001,
                tags: Default::default(),
                tag_objects: Default::default(),
                default_branch_sha: model::random_hex(20),
                release_upload_base: None,
                upload_answers_to_lose: 0,
            }),
            config,
            api_base,
            blob_base,
            upload_base,
        });

        let api_router = Router::new()
            .route(
                "/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken",
                get(oidc::id_token),
            )
            .route(
                "/oidc/.well-known/openid-configuration",
                get(oidc::discovery),
            )
            .route("/oidc/.well-known/jwks", get(oidc::jwks))
            .route("/repos/{o}/{r}/actions/runs/{run}", get(rest::run_by_name))
            .route(
                "/repos/{o}/{r}/actions/runs/{run}/artifacts",
                get(rest::artifacts_by_name),
            )
            .route(
                "/repos/{o}/{r}/actions/artifacts/{id}",
                get(rest::artifact_by_name),
            )
            .route(
                "/repos/{o}/{r}/actions/artifacts/{id}/zip",
                get(rest::zip_by_name),
            )
            .route(
                "/repositories/{rid}/actions/runs/{run}",
                get(rest::run_by_id),
            )
            .route(
                "/repositories/{rid}/actions/runs/{run}/artifacts",
                get(rest::artifacts_by_id),
            )
            .route(
                "/repositories/{rid}/actions/artifacts/{id}",
                get(rest::artifact_by_id),
            )
            .route(
                "/repositories/{rid}/actions/artifacts/{id}/zip",
                get(rest::zip_by_id),
            )
            .route("/repos/{o}/{r}/releases", post(releases::create))
            .route("/repos/{o}/{r}/releases/tags/{*tag}", get(releases::by_tag))
            .route(
                "/repos/{o}/{r}/releases/{id}/assets",
                get(releases::assets_by_name),
            )
            .route(
                "/repositories/{rid}/releases/{id}/assets",
                get(releases::assets_by_id),
            )
            .route(
                "/repos/{o}/{r}/releases/assets/{id}",
                delete(releases::delete_asset),
            )
            .route("/repos/{o}/{r}/git/ref/{*reference}", get(git::get_ref))
            .route("/repos/{o}/{r}/git/tags/{sha}", get(git::get_tag))
            .fallback(rest::not_found)
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                state::record_api,
            ))
            .with_state(shared.clone());
        let blob_router = Router::new()
            .fallback(get(blob::serve))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                state::record_blob,
            ))
            .with_state(shared.clone());

        let upload_router = Router::new()
            .route(
                "/repos/{o}/{r}/releases/{id}/assets",
                post(releases::upload),
            )
            .fallback(rest::not_found)
            .layer(axum::extract::DefaultBodyLimit::max(256 << 20))
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                state::record_uploads,
            ))
            .with_state(shared.clone());

        let tasks = vec![
            spawn_server("api", api_listener, api_router),
            spawn_server("blob", blob_listener, blob_router),
            spawn_server("uploads", upload_listener, upload_router),
        ];
        tracing::info!(
            api = %shared.api_base,
            blob = %shared.blob_base,
            "GitHub stand-in listening"
        );
        Ok(GitHub { shared, tasks })
    }

    /// `GITHUB_API_URL`.
    pub fn api_url(&self) -> String {
        self.shared.api_base.clone()
    }

    /// Origin of the blob host the download redirects point to.
    pub fn blob_url(&self) -> String {
        self.shared.blob_base.clone()
    }

    /// The OIDC issuer (`iss` of every token); serves the discovery document and the JWKS.
    pub fn issuer(&self) -> String {
        self.shared.issuer()
    }

    /// `{issuer}/.well-known/jwks`.
    pub fn jwks_url(&self) -> String {
        format!("{}/.well-known/jwks", self.shared.issuer())
    }

    /// The `kid` of the signing key (in every token header and in the JWKS).
    pub fn signing_kid(&self) -> String {
        self.shared.signer.kid().to_owned()
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_URL`: it already has a query string.
    pub fn id_token_request_url(&self) -> String {
        format!(
            "{}{}?api-version=2.0",
            self.shared.api_base, self.shared.id_token_path
        )
    }

    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub fn id_token_request_token(&self) -> String {
        self.shared.id_token_request_token.clone()
    }

    pub fn config(&self) -> &GitHubConfig {
        &self.shared.config
    }

    /// The job context the next ID tokens describe.
    pub fn set_claims(&self, claims: JobClaims) {
        self.shared.state.lock().claims = claims;
    }

    pub fn claims(&self) -> JobClaims {
        self.shared.state.lock().claims.clone()
    }

    /// Signs a token for `claims` directly (no HTTP), e.g. for index-side tests; it is recorded
    /// in [`Self::issued_tokens`] like any other.
    pub fn mint_id_token(&self, claims: &JobClaims, audience: &str) -> anyhow::Result<String> {
        let iat = claims.issued_at.unwrap_or_else(time::now);
        let token = self
            .shared
            .signer
            .sign(claims, &self.shared.issuer(), audience, iat)?;
        self.shared.state.lock().issued.push(token.clone());
        Ok(token)
    }

    /// Every JWT handed out so far (tests grep outputs for them).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.shared.state.lock().issued.clone()
    }

    /// Adds a run of the configured repository; returns its id.
    pub fn add_run(&self, mut run: WorkflowRun) -> u64 {
        let mut state = self.shared.state.lock();
        let id = state.next_run_id;
        state.next_run_id += 1;
        run.id = id;
        state.runs.insert(id, run);
        id
    }

    /// Changes a run in place (e.g. its conclusion).
    pub fn set_run(&self, id: u64, f: impl FnOnce(&mut WorkflowRun)) {
        if let Some(run) = self.shared.state.lock().runs.get_mut(&id) {
            f(run);
        }
    }

    /// Adds an artifact to run `run_id`; its digest is `sha256:<hex of zip_bytes>`.
    pub fn add_artifact(&self, run_id: u64, name: &str, zip_bytes: Vec<u8>) -> u64 {
        let now = time::now();
        let digest = format!("sha256:{:x}", sha2::Sha256::digest(&zip_bytes));
        let mut state = self.shared.state.lock();
        let id = state.next_artifact_id;
        state.next_artifact_id += 1;
        let blob_path = format!(
            "/actions-results/{}/workflow-job-run-{}/artifacts/{}.zip",
            model::random_uuid(),
            model::random_uuid(),
            model::random_hex(32)
        );
        state.artifacts.insert(
            id,
            Artifact {
                id,
                run_id,
                name: name.to_owned(),
                size_in_bytes: zip_bytes.len() as u64,
                expired: false,
                digest: Some(digest),
                created_at: now.saturating_sub(300),
                updated_at: now.saturating_sub(300),
                expires_at: now + ARTIFACT_RETENTION_SECS,
                zip_bytes,
                blob_path,
            },
        );
        id
    }

    /// Changes an artifact in place: corrupt its digest, mark it expired, swap its bytes...
    pub fn set_artifact(&self, id: u64, f: impl FnOnce(&mut Artifact)) {
        if let Some(a) = self.shared.state.lock().artifacts.get_mut(&id) {
            f(a);
        }
    }

    pub fn artifact(&self, id: u64) -> Option<Artifact> {
        self.shared.state.lock().artifacts.get(&id).cloned()
    }

    /// Lifetime of the signed blob URLs handed out from now on (default 60 s; 0 makes every
    /// new URL already expired).
    pub fn set_blob_url_ttl(&self, ttl: std::time::Duration) {
        self.shared.state.lock().blob_url_ttl_secs = ttl.as_secs();
    }

    /// Whether the token has `actions: read`; without it the Actions endpoints answer 403
    /// "Resource not accessible by integration".
    pub fn set_actions_read(&self, granted: bool) {
        self.shared.state.lock().actions_read = granted;
    }

    /// Route keys: `route::{ID_TOKEN, RUN, ARTIFACTS, ARTIFACT_ZIP, BLOB}`.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every request to either host, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.state.lock().requests.clone()
    }

    /// Origin of the release upload host (what `upload_url` names).
    pub fn upload_url(&self) -> String {
        self.shared.upload_base.clone()
    }

    /// Whether the token has `contents: write` (default true); without it release writes
    /// answer 403 "Resource not accessible by integration".
    pub fn set_contents_write(&self, granted: bool) {
        self.shared.state.lock().contents_write = granted;
    }

    /// Tags `commit` as `tag` (a lightweight tag: the ref names the commit).
    pub fn add_tag(&self, tag: &str, commit: &str) {
        self.shared
            .state
            .lock()
            .tags
            .insert(tag.to_owned(), GitTarget::commit(commit));
    }

    /// Tags `commit` as `tag` with an annotated tag (the ref names a tag object, which names
    /// the commit); returns the tag object's sha.
    pub fn add_annotated_tag(&self, tag: &str, commit: &str) -> String {
        let mut state = self.shared.state.lock();
        let sha = state.new_tag_object(tag, GitTarget::commit(commit));
        state.tags.insert(
            tag.to_owned(),
            GitTarget {
                kind: ObjectKind::Tag,
                sha: sha.clone(),
            },
        );
        sha
    }

    /// Makes `tag` (which must exist) a tag of what it names now: one more tag object on the
    /// way to its commit. Returns the new tag object's sha, None for a missing tag.
    pub fn wrap_tag(&self, tag: &str) -> Option<String> {
        let mut state = self.shared.state.lock();
        let inner = state.tags.get(tag)?.clone();
        let sha = state.new_tag_object(tag, inner);
        state.tags.insert(
            tag.to_owned(),
            GitTarget {
                kind: ObjectKind::Tag,
                sha: sha.clone(),
            },
        );
        Some(sha)
    }

    /// Moves `tag` to `commit` (a forced push of the tag); an annotated tag stays annotated.
    pub fn move_tag(&self, tag: &str, commit: &str) {
        self.shared.state.lock().move_tag(tag, commit);
    }

    /// The commit `tag` names, through any tag objects.
    pub fn tag_commit(&self, tag: &str) -> Option<String> {
        self.shared.state.lock().peeled(tag)
    }

    pub fn tags(&self) -> Vec<String> {
        self.shared.state.lock().tags.keys().cloned().collect()
    }

    /// Adds a published release of `tag` (which must exist, or is tagged at the default
    /// branch, as GitHub does); returns its id.
    pub fn add_release(&self, tag: &str, name: Option<&str>, body: Option<&str>) -> u64 {
        let mut state = self.shared.state.lock();
        if !state.tags.contains_key(tag) {
            let head = GitTarget::commit(&state.default_branch_sha);
            state.tags.insert(tag.to_owned(), head);
        }
        let id = state.next_release_id;
        state.next_release_id += 1;
        state.releases.insert(
            id,
            Release {
                id,
                tag_name: tag.to_owned(),
                target_commitish: "main".to_owned(),
                name: name.map(str::to_owned),
                body: body.map(str::to_owned),
                draft: false,
                prerelease: false,
                make_latest: None,
                created_at: time::now(),
            },
        );
        id
    }

    /// Adds an asset as given (its `id` is assigned); returns the id.
    pub fn add_release_asset(&self, mut asset: ReleaseAsset) -> u64 {
        let mut state = self.shared.state.lock();
        asset.id = state.next_release_asset_id;
        state.next_release_asset_id += 1;
        let id = asset.id;
        state.release_assets.insert(id, asset);
        id
    }

    pub fn releases(&self) -> Vec<Release> {
        self.shared
            .state
            .lock()
            .releases
            .values()
            .cloned()
            .collect()
    }

    /// The assets of a release, in upload order.
    pub fn release_assets(&self, release_id: u64) -> Vec<ReleaseAsset> {
        self.shared
            .state
            .lock()
            .release_assets
            .values()
            .filter(|a| a.release_id == release_id)
            .cloned()
            .collect()
    }

    /// Name another origin in every release's `upload_url` (None: the upload host).
    pub fn set_release_upload_base(&self, base: Option<String>) {
        self.shared.state.lock().release_upload_base = base;
    }

    /// The next `n` uploads are stored, then answered 502 as if the answer were lost.
    pub fn lose_upload_answers(&self, n: usize) {
        self.shared.state.lock().upload_answers_to_lose = n;
    }

    /// Requests to the blob host that carried `Authorization` (each was refused with 400).
    pub fn blob_auth_violations(&self) -> usize {
        self.shared
            .state
            .lock()
            .requests
            .iter()
            .filter(|r| r.host == "blob" && r.has_authorization())
            .count()
    }
}

impl Drop for GitHub {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn spawn_server(name: &'static str, listener: TcpListener, router: Router) -> JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!("GitHub stand-in {name} server stopped: {e}");
        }
    })
}
