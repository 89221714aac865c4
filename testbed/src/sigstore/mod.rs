//! Local sigstore services: a Fulcio (certificate authority for keyless signing) and a
//! Rekor v1 (transparency log), each on its own 127.0.0.1 port, plus the trusted root that
//! makes sigstore verifiers (sigstore-python, and the local Warehouse) accept what they
//! produce.
//!
//! - Fulcio: `POST /api/v2/signingCert` (CSR or public key with proof of possession; the
//!   OIDC token in the body or as `Authorization: Bearer`), `GET /api/v2/trustBundle`.
//!   Leaves carry Fulcio's GitHub extensions and one embedded SCT from a local CT log key.
//! - Rekor: `POST /api/v1/log/entries` (`dsse` 0.0.1), `GET /api/v1/log/entries/{uuid}`,
//!   `GET /api/v1/log/entries?logIndex=N`, `GET /api/v1/log`, `GET /api/v1/log/publicKey`.
//!   The log is an RFC 6962 Merkle tree; every answer carries an inclusion proof against
//!   the current tree, a signed checkpoint and a signed entry timestamp.
//!
//! Keys are generated at start and never persisted.
pub(crate) mod ca;
mod checkpoint;
mod dsse;
pub(crate) mod encoding;
mod fulcio;
mod identity;
pub(crate) mod keys;
mod merkle;
mod oids;
mod python;
mod rekor;
mod sct;
mod trust;
pub mod verify;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use axum::routing::{get, post};
use axum::Router;
use parking_lot::Mutex;
use tokio::task::JoinHandle;

use crate::faults::Faults;
pub use dsse::{pae, IN_TOTO_PAYLOAD_TYPE};
pub use python::{verify_with_sigstore_python, VERIFY_ATTESTATION_PY};
pub use trust::TrustRoot;

/// What the local Fulcio trusts and issues.
#[derive(Clone, Debug)]
pub struct SigstoreConfig {
    /// The only OIDC issuer Fulcio accepts tokens from (the local GitHub's `iss`).
    pub issuer: String,
    /// PEM RSA public key that verifies the issuer's RS256 tokens.
    pub public_key_pem: String,
    /// Audience Fulcio requires (`sigstore`).
    pub audience: String,
    /// Lifetime of issued certificates (Fulcio: 10 minutes).
    pub certificate_lifetime: Duration,
}

impl SigstoreConfig {
    /// Trusts `issuer` with the checked-in test key the GitHub stand-in signs with.
    pub fn for_issuer(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            public_key_pem: crate::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.to_owned(),
            audience: "sigstore".to_owned(),
            certificate_lifetime: Duration::from_secs(600),
        }
    }
}

/// One entry of the transparency log, as tests see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    /// Hex leaf hash (Rekor's entry UUID without the tree id prefix).
    pub uuid: String,
    pub log_index: u64,
    pub integrated_time: i64,
    /// `dsse`.
    pub kind: String,
    /// The canonicalized entry body (JSON text).
    pub body: String,
}

/// State shared by both servers' handlers.
pub(crate) struct Shared {
    pub ca: ca::Authority,
    pub tokens: identity::TokenVerifier,
    pub cert_lifetime: Duration,
    pub log: rekor::Log,
    pub faults: Faults,
    /// DER of every certificate issued.
    pub issued: Mutex<Vec<Vec<u8>>>,
}

/// The running services; both stop when it is dropped.
pub struct Sigstore {
    shared: Arc<Shared>,
    fulcio: SocketAddr,
    rekor: SocketAddr,
    issuer: String,
    tasks: Vec<JoinHandle<()>>,
}

async fn serve(name: &'static str, app: Router) -> anyhow::Result<(SocketAddr, JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1 for the local {name}"))?;
    let addr = listener
        .local_addr()
        .with_context(|| format!("cannot read the local {name}'s address"))?;
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::error!(error = %err, service = name, "a local sigstore service stopped");
        }
    });
    Ok((addr, task))
}

impl Sigstore {
    pub async fn start(config: SigstoreConfig) -> anyhow::Result<Sigstore> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("the system clock is before 1970")?
            .as_secs();
        let shared = Arc::new(Shared {
            ca: ca::Authority::generate(now)?,
            tokens: identity::TokenVerifier::new(
                &config.issuer,
                &config.public_key_pem,
                &config.audience,
            )?,
            cert_lifetime: config.certificate_lifetime,
            log: rekor::Log::new()?,
            faults: Faults::default(),
            issued: Mutex::new(Vec::new()),
        });
        let fulcio_app = Router::new()
            .route("/api/v2/signingCert", post(fulcio::signing_cert))
            .route("/api/v2/trustBundle", get(fulcio::trust_bundle))
            .with_state(shared.clone());
        let rekor_app = Router::new()
            .route(
                "/api/v1/log/entries",
                post(rekor::create_entry).get(rekor::get_entry_by_index),
            )
            .route("/api/v1/log/entries/{id}", get(rekor::get_entry))
            .route("/api/v1/log", get(rekor::log_info))
            .route("/api/v1/log/publicKey", get(rekor::public_key))
            .with_state(shared.clone());
        let (fulcio, fulcio_task) = serve("Fulcio", fulcio_app).await?;
        let (rekor, rekor_task) = serve("Rekor", rekor_app).await?;
        tracing::info!(%fulcio, %rekor, "local sigstore services listening");
        Ok(Sigstore {
            shared,
            fulcio,
            rekor,
            issuer: config.issuer,
            tasks: vec![fulcio_task, rekor_task],
        })
    }

    /// `http://127.0.0.1:PORT` of Fulcio, without a trailing slash.
    pub fn fulcio_url(&self) -> String {
        format!("http://{}", self.fulcio)
    }

    /// `http://127.0.0.1:PORT` of Rekor, without a trailing slash.
    pub fn rekor_url(&self) -> String {
        format!("http://{}", self.rekor)
    }

    fn root_parts(&self) -> (Vec<Vec<u8>>, String, String, String) {
        (
            self.shared.ca.chain_der(),
            self.fulcio_url(),
            self.rekor_url(),
            format!("{}/ct", self.fulcio_url()),
        )
    }

    fn trusted_root_value(&self) -> serde_json::Value {
        let (chain, fulcio, rekor, ct) = self.root_parts();
        trust::trusted_root(&trust::RootParts {
            fulcio_url: &fulcio,
            rekor_url: &rekor,
            ct_url: &ct,
            chain: &chain,
            rekor_key: self.shared.log.key(),
            ct_key: self.shared.ca.ct_log(),
            valid_from: self.shared.ca.valid_from,
        })
    }

    /// The sigstore `TrustedRoot` JSON (media type
    /// `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): the CA chain, the Rekor
    /// key under `tlogs`, the CT log key under `ctlogs`.
    pub fn trusted_root_json(&self) -> String {
        let value = self.trusted_root_value();
        serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
    }

    /// The trusted root, parsed, for the local Warehouse's `sigstore_trust`.
    pub fn trust_root(&self) -> anyhow::Result<TrustRoot> {
        TrustRoot::from_json(&self.trusted_root_json())
    }

    /// Writes `trusted_root.json` and `trust_config.json` (a `ClientTrustConfig` for
    /// sigstore clients' `--trust-config`: the trusted root plus a signing config naming
    /// these Fulcio and Rekor v1 URLs) into `dir`; returns the trust config's path.
    pub fn write_trust_config(&self, dir: &Path) -> anyhow::Result<PathBuf> {
        let (chain, fulcio, rekor, ct) = self.root_parts();
        let parts = trust::RootParts {
            fulcio_url: &fulcio,
            rekor_url: &rekor,
            ct_url: &ct,
            chain: &chain,
            rekor_key: self.shared.log.key(),
            ct_key: self.shared.ca.ct_log(),
            valid_from: self.shared.ca.valid_from,
        };
        let root = trust::trusted_root(&parts);
        let config = trust::client_trust_config(root.clone(), &parts, &self.issuer);
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let root_path = dir.join("trusted_root.json");
        std::fs::write(&root_path, serde_json::to_vec_pretty(&root)?)
            .with_context(|| format!("cannot write {}", root_path.display()))?;
        let path = dir.join("trust_config.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&config)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        Ok(path)
    }

    /// Faults for route keys [`crate::faults::route::FULCIO`] and
    /// [`crate::faults::route::REKOR`].
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Every entry of the transparency log, oldest first.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.shared
            .log
            .entries()
            .into_iter()
            .enumerate()
            .map(|(i, e)| LogEntry {
                uuid: hex::encode(e.leaf),
                log_index: i as u64,
                integrated_time: e.integrated_time,
                kind: e.kind,
                body: e.body,
            })
            .collect()
    }

    /// DER of every certificate Fulcio issued, oldest first.
    pub fn issued_certificates(&self) -> Vec<Vec<u8>> {
        self.shared.issued.lock().clone()
    }
}

impl Drop for Sigstore {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}
