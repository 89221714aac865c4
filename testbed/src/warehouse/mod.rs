//! A local, Warehouse-compatible package index (the software behind PyPI).
//!
//! It speaks Warehouse's public contracts: the legacy upload API (`POST /legacy/`) with
//! Warehouse's checks, order and messages, the JSON API, PEP 503/691 simple pages, file
//! downloads, and trusted publishing (`/_/oidc/audience`, `/_/oidc/mint-token`) for a
//! GitHub-like OIDC issuer. Errors carry Warehouse's message in the HTTP reason phrase and
//! a body rendered as Pyramid renders it. The server runs in-process until the
//! [`Warehouse`] is dropped or shut down.
mod attestations;
mod auth;
mod distfile;
mod form;
mod integrity;
mod json_api;
mod metadata;
mod metadata_rules;
mod names;
mod oidc;
mod pyjson;
mod pyramid;
mod simple;
mod state;
mod timefmt;
mod upload;
mod upload_form;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use jsonwebtoken::DecodingKey;
use parking_lot::Mutex;
use rand::Rng;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::faults::Faults;
use names::canonicalize_name;
use state::{Credential, GitHubIdentity, Index, PendingPublisher};
pub use state::{StoredFile, UploadRecord};

/// How the index treats trusted publishing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OidcMode {
    Enabled,
    /// Turned off by the admins: the audience endpoint answers 403.
    Disabled,
    /// An index without trusted publishing: the endpoints do not exist (404).
    Unsupported,
}

/// The OIDC issuer the index accepts ID tokens from (GitHub's, on PyPI).
#[derive(Clone, Debug)]
pub struct TrustedIssuer {
    /// Must equal the tokens' `iss` claim.
    pub issuer: String,
    /// PEM public key (SPKI or PKCS#1) that verifies the RS256 signatures.
    pub public_key_pem: String,
}

/// A GitHub trusted publisher as registered on PyPI's publishing settings page.
#[derive(Clone, Debug)]
pub struct TrustedPublisher {
    pub project: String,
    pub repository_owner: String,
    pub repository_owner_id: String,
    /// The repository name only, as PyPI asks for it.
    pub repository: String,
    pub workflow_filename: String,
    /// `None` accepts any environment.
    pub environment: Option<String>,
    /// A "pending" publisher, which may create the project on first use.
    pub pending: bool,
}

/// The trusted-publishing audience of the local index: its own, not PyPI's (an ID token for
/// `pypi` is good at PyPI).
pub const LOCAL_AUDIENCE: &str = "local-warehouse";

#[derive(Clone, Debug)]
pub struct WarehouseConfig {
    /// 0 picks a free port.
    pub port: u16,
    /// The OIDC audience: [`LOCAL_AUDIENCE`] by default, as this index runs on 127.0.0.1 and
    /// is not PyPI (a client names it with `--oidc-audience`); `pypi` or `testpypi` only where
    /// the stand-in plays PyPI or TestPyPI themselves.
    pub audience: String,
    pub oidc: OidcMode,
    pub trusted_issuer: Option<TrustedIssuer>,
    /// Per-file upload limit in bytes (100 MiB on PyPI).
    pub max_file_size: u64,
    /// Bench mode: read each upload body fully, answer 200 and store nothing.
    pub sink: bool,
    /// Emulate a far, busy index (benchmarks): nothing by default.
    pub far: FarIndex,
    /// Serve HTTPS instead of HTTP (benchmarks); `None`: plain HTTP.
    pub tls: Option<crate::tls::ServerTls>,
    /// Where files are stored; `None` uses a temporary directory removed on drop.
    pub storage_dir: Option<PathBuf>,
    /// The sigstore trusted root PEP 740 attestations are verified against, as PyPI
    /// verifies them at upload; `None` stores them unverified.
    pub sigstore_trust: Option<crate::sigstore::TrustRoot>,
}

impl Default for WarehouseConfig {
    fn default() -> Self {
        Self {
            port: 0,
            audience: LOCAL_AUDIENCE.to_owned(),
            oidc: OidcMode::Enabled,
            trusted_issuer: None,
            max_file_size: 100 * 1024 * 1024,
            sink: false,
            far: FarIndex::default(),
            tls: None,
            storage_dir: None,
            sigstore_trust: None,
        }
    }
}

/// A far index that works before it answers, as PyPI seen from a CI runner: every answer
/// leaves one round trip after the request arrived, and an upload's answer additionally
/// waits for the index to hash and store the file (Warehouse answers an upload only once the
/// file is stored). The wait is spent after the body has been read, so the client cannot
/// overlap it with sending that file: only with other requests.
#[derive(Clone, Debug, Default)]
pub struct FarIndex {
    /// Added before every answer.
    pub latency: Duration,
    /// Added before the answer to every upload (file upload requests only).
    pub upload_time: Duration,
    /// The index's own processing rate for an upload's bytes; `None`: no per-byte time.
    pub upload_bytes_per_sec: Option<u64>,
}

impl FarIndex {
    /// The index's work on an upload of `size` bytes, after reading it.
    pub fn upload_work(&self, size: u64) -> Duration {
        let per_byte = match self.upload_bytes_per_sec {
            Some(rate) if rate > 0 => Duration::from_secs_f64(size as f64 / rate as f64),
            _ => Duration::ZERO,
        };
        self.upload_time + per_byte
    }
}

/// State shared by the handlers.
pub(crate) struct Shared {
    pub config: WarehouseConfig,
    pub base_url: String,
    pub storage: PathBuf,
    pub faults: Faults,
    pub index: Mutex<Index>,
    pub uploads: Mutex<Vec<UploadRecord>>,
    pub requests: Mutex<Vec<(String, String, u16)>>,
    /// Every header of every request: (path, name, value).
    pub headers: Mutex<Vec<(String, String, String)>>,
    pub stale_json: AtomicUsize,
    /// Upload requests being handled right now.
    pub uploads_in_flight: Arc<AtomicUsize>,
    pub issuer_key: Option<DecodingKey>,
    /// PEP 740 provenance of stored files, by filename (the integrity API serves it).
    pub provenance: Mutex<HashMap<String, serde_json::Value>>,
}

impl Shared {
    /// Warehouse's `request.help_url(_anchor=...)` on the index this stands in for.
    pub fn help_url(&self, anchor: &str) -> String {
        let host = if self.config.audience == "testpypi" {
            "https://test.pypi.org"
        } else {
            "https://pypi.org"
        };
        format!("{host}/help/#{anchor}")
    }

    /// Takes one stale JSON read if any are armed.
    pub fn take_stale_read(&self) -> bool {
        self.stale_json
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }

    pub fn record_upload(&self, record: UploadRecord) {
        self.uploads.lock().push(record);
    }

    /// An upload request arrives: counted in flight until the returned guard drops.
    pub fn upload_arrives(&self, version: axum::http::Version) -> Arrival {
        let counter = self.uploads_in_flight.clone();
        let in_flight = counter.fetch_add(1, Ordering::SeqCst) + 1;
        Arrival {
            started: std::time::Instant::now(),
            in_flight,
            version,
            counter,
        }
    }
}

/// One upload request being handled: when it arrived and how many were in flight then.
pub(crate) struct Arrival {
    pub started: std::time::Instant,
    pub in_flight: usize,
    /// The HTTP version the request came in (HTTP/2 when the client took `h2` from ALPN).
    pub version: axum::http::Version,
    counter: Arc<AtomicUsize>,
}

impl Drop for Arrival {
    fn drop(&mut self) {
        self.counter.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(crate) fn new_token() -> String {
    let bytes: [u8; 32] = rand::rng().random();
    format!(
        "pypi-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

async fn record_request(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    shared
        .headers
        .lock()
        .extend(req.headers().iter().map(|(name, value)| {
            (
                path.clone(),
                name.to_string(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        }));
    let resp = next.run(req).await;
    let latency = shared.config.far.latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    shared
        .requests
        .lock()
        .push((method, path, resp.status().as_u16()));
    resp
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/legacy/", post(upload::legacy).get(upload::upload_page))
        .route("/legacy", post(upload::missing_trailing_slash))
        .route("/pypi/{name}/json", get(json_api::project))
        .route("/pypi/{name}/json/", get(json_api::project))
        .route("/pypi/{name}/{version}/json", get(json_api::release))
        .route("/pypi/{name}/{version}/json/", get(json_api::release))
        .route("/simple", get(simple::index_redirect))
        .route("/simple/", get(simple::index))
        .route("/simple/{name}", get(simple::detail_redirect))
        .route("/simple/{name}/", get(simple::detail))
        .route("/packages/{*path}", get(simple::file))
        .route("/_/oidc/audience", get(oidc::audience))
        .route("/_/oidc/mint-token", post(oidc::mint_token))
        .route("/_/oidc/github/mint-token", post(oidc::mint_token))
        .route(
            "/integrity/{project}/{version}/{filename}/provenance",
            get(attestations::provenance),
        )
        .fallback(simple::not_found)
        .layer(DefaultBodyLimit::disable())
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            record_request,
        ))
        .with_state(shared)
}

/// A running index. Dropping it stops the server and removes its temporary storage.
pub struct Warehouse {
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    // Declared last: dropped after the server task is stopped.
    _tempdir: Option<tempfile::TempDir>,
}

impl Warehouse {
    pub async fn start(config: WarehouseConfig) -> anyhow::Result<Warehouse> {
        let (tempdir, storage) = match &config.storage_dir {
            Some(dir) => (None, dir.clone()),
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("warehouse-")
                    .tempdir()
                    .context("cannot create a temporary storage directory for the index")?;
                let path = dir.path().to_owned();
                (Some(dir), path)
            }
        };
        for sub in ["tmp", "packages"] {
            let dir = storage.join(sub);
            tokio::fs::create_dir_all(&dir)
                .await
                .with_context(|| format!("cannot create storage directory {}", dir.display()))?;
        }
        let issuer_key = match &config.trusted_issuer {
            Some(issuer) => Some(
                DecodingKey::from_rsa_pem(issuer.public_key_pem.as_bytes()).context(
                    "the trusted issuer's public_key_pem is not an RSA public key in PEM form",
                )?,
            ),
            None => None,
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", config.port))?;
        let addr = listener
            .local_addr()
            .context("cannot read the index's listening address")?;
        let scheme = if config.tls.is_some() {
            "https"
        } else {
            "http"
        };
        let shared = Arc::new(Shared {
            base_url: format!("{scheme}://127.0.0.1:{}", addr.port()),
            config,
            storage,
            faults: Faults::default(),
            index: Mutex::new(Index::default()),
            uploads: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            headers: Mutex::new(Vec::new()),
            stale_json: AtomicUsize::new(0),
            uploads_in_flight: Arc::new(AtomicUsize::new(0)),
            issuer_key,
            provenance: Mutex::new(HashMap::new()),
        });
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let tls = shared.config.tls.clone();
        let task = tokio::spawn(async move {
            if let Some(tls) = tls {
                return crate::tls::serve(listener, app, tls, rx).await;
            }
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(err) = served {
                tracing::error!(error = %err, "the local Warehouse stopped serving");
            }
        });
        tracing::info!(url = %shared.base_url, "local Warehouse listening");
        Ok(Warehouse {
            shared,
            shutdown: Some(tx),
            task: Some(task),
            _tempdir: tempdir,
        })
    }

    /// `http://127.0.0.1:PORT` (`https` when served over TLS), without a trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The audience `/_/oidc/audience` serves.
    pub fn audience(&self) -> &str {
        &self.shared.config.audience
    }

    pub fn upload_url(&self) -> String {
        format!("{}/legacy/", self.url())
    }

    pub fn simple_url(&self) -> String {
        format!("{}/simple/", self.url())
    }

    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// A new API token. `Some(project)` scopes it to that project (creating the project, as
    /// PyPI only scopes tokens to existing projects); `None` is a user-wide token that may
    /// create projects.
    pub fn add_api_token(&self, project: Option<&str>) -> String {
        let token = new_token();
        let mut index = self.shared.index.lock();
        let scope = project.map(|name| {
            let id = index.ensure_project(name);
            vec![(canonicalize_name(name), id)]
        });
        index
            .tokens
            .insert(token.clone(), Credential::User { scope });
        token
    }

    pub fn add_trusted_publisher(&self, p: TrustedPublisher) {
        let identity = GitHubIdentity {
            repository_owner: p.repository_owner,
            repository_owner_id: p.repository_owner_id,
            repository_name: p.repository,
            workflow_filename: p.workflow_filename,
            environment: p.environment.unwrap_or_default().to_lowercase(),
        };
        let mut index = self.shared.index.lock();
        if p.pending {
            index.pending.push(PendingPublisher {
                project_name: p.project,
                identity,
            });
        } else {
            let project_id = index.ensure_project(&p.project);
            index.add_publisher(identity, project_id);
        }
    }

    /// Creates an empty project (no releases), as an owner would before adding a publisher.
    pub fn create_project(&self, name: &str) {
        self.shared.index.lock().ensure_project(name);
    }

    /// The files of a release (any spelling of the name; the version matched canonically).
    pub fn files(&self, project: &str, version: &str) -> Vec<StoredFile> {
        let index = self.shared.index.lock();
        let Some(project) = index.project(project) else {
            return Vec::new();
        };
        let Some(version) = names::parse_version(version) else {
            return Vec::new();
        };
        let Some(release) = project.release_by_canonical(&names::canonicalize_version(&version))
        else {
            return Vec::new();
        };
        release
            .files
            .iter()
            .map(|f| StoredFile {
                filename: f.filename.clone(),
                sha256: f.sha256.clone(),
                blake2_256: f.blake2_256.clone(),
                md5: f.md5.clone(),
                size: f.size,
                packagetype: f.packagetype.clone(),
                python_version: f.python_version.clone(),
                path: f.disk_path.clone(),
                attestations: f.attestations.clone(),
            })
            .collect()
    }

    /// Every request made to the upload endpoint so far.
    pub fn uploads(&self) -> Vec<UploadRecord> {
        self.shared.uploads.lock().clone()
    }

    /// Move a release and its files `days` into the past, as if it had been created then
    /// (the release window counts from its creation).
    pub fn backdate_release(&self, project: &str, version: &str, days: u64) {
        self.backdate_release_by(project, version, Duration::from_secs(days * 86_400));
    }

    /// [`Warehouse::backdate_release`] by any span (a window's edge is minutes wide).
    pub fn backdate_release_by(&self, project: &str, version: &str, by: Duration) {
        let mut index = self.shared.index.lock();
        let Some(version) = names::parse_version(version) else {
            return;
        };
        let canonical = names::canonicalize_version(&version);
        let normalized = names::canonicalize_name(project);
        if let Some(release) = index
            .projects
            .iter_mut()
            .find(|p| p.normalized == normalized)
            .and_then(|p| {
                p.releases
                    .iter_mut()
                    .find(|r| r.canonical_version == canonical)
            })
        {
            release.created -= by;
            for f in &mut release.files {
                f.upload_time -= by;
            }
        }
    }

    /// Every header of every request so far: (path, name, value).
    pub fn request_headers(&self) -> Vec<(String, String, String)> {
        self.shared.headers.lock().clone()
    }

    /// Every request so far: (method, path, status).
    pub fn requests(&self) -> Vec<(String, String, u16)> {
        self.shared.requests.lock().clone()
    }

    /// The next `n` JSON API reads answer as before the latest upload (CDN lag).
    pub fn set_stale_json(&self, n: usize) {
        self.shared.stale_json.store(n, Ordering::SeqCst);
    }

    /// Makes every token minted so far from an OIDC ID token expired.
    pub fn expire_minted_tokens(&self) {
        let now = timefmt::unix_now();
        let mut index = self.shared.index.lock();
        for credential in index.tokens.values_mut() {
            if let Credential::Oidc {
                not_before,
                expires_at,
                ..
            } = credential
            {
                *not_before = now - 901;
                *expires_at = now - 1;
            }
        }
    }

    /// Every upload token minted through trusted publishing (tests grep outputs for them).
    pub fn minted_tokens(&self) -> Vec<String> {
        let index = self.shared.index.lock();
        index
            .tokens
            .iter()
            .filter(|(_, c)| matches!(c, Credential::Oidc { .. }))
            .map(|(t, _)| t.clone())
            .collect()
    }

    /// Stops the server, letting requests in flight finish for up to five seconds.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Warehouse {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_far_index_works_on_an_upload_for_its_fixed_time_plus_its_size_at_its_rate() {
        let far = FarIndex {
            latency: Duration::from_millis(40),
            upload_time: Duration::from_millis(250),
            upload_bytes_per_sec: Some(40 << 20),
        };
        assert_eq!(far.upload_work(4 << 20), Duration::from_millis(350));
        assert_eq!(far.upload_work(0), Duration::from_millis(250));
        assert_eq!(FarIndex::default().upload_work(1 << 30), Duration::ZERO);
    }
}
