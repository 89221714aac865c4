//! Upload: every file still to send, wheels first and concurrently, the sdist last,
//! renewing a minted token that expired on the way, and stopping cleanly when cancelled.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::StreamExt;
use url::Url;

use crate::distribution::{DistKind, Release};
use crate::hashing::Digests;
use crate::http::Http;
use crate::index::auth::{Auth, CredentialsError};
use crate::index::mint::MintError;
use crate::index::upload::{self, BodySlots, Refusal, UploadError, UploadRequest};
use crate::index::Index;
use crate::reporting;

use super::concurrency::Limiter;
use super::explain::{explain_failure, Settled};
use super::plan::Step;

/// Everything an upload needs that is the same for every file of the run.
pub struct Uploader<'a> {
    pub http: &'a Http,
    pub repository_url: &'a Url,
    pub api: &'a Index<'a>,
    pub release: &'a Release,
    pub auth: &'a Auth,
    /// The publish's one limit on uploads in flight, shared by every release, so an index's
    /// 429 is heeded to the last file of the last release.
    pub limiter: &'a Limiter,
    pub skip_existing: bool,
    /// The index has no file of this release yet: the first upload creates the project or
    /// the release, so it goes alone.
    pub new_release: bool,
    /// Advanced by every byte sent (terminal only).
    pub progress: Option<&'a indicatif::ProgressBar>,
}

/// What became of the uploads.
#[derive(Default)]
pub struct Uploads {
    /// Each file's outcome, by file name. A file with none was never finished.
    pub results: HashMap<String, Result<Digests, Settled>>,
    /// The signal that stopped the uploads, if one did.
    pub cancelled: Option<&'static str>,
}

impl Uploader<'_> {
    /// Upload `steps`: wheels first, concurrently; the sdist last. Installers prefer wheels,
    /// so a release whose wheels are up before its sdist never sends users to a source build
    /// during the upload window, and "Only one sdist per release" can only ever hit the last
    /// file. For a new release the first file goes alone: concurrent first uploads would race
    /// to create the project and the release on the index (devpi and Warehouse both create
    /// them on the first upload).
    pub async fn upload_all(&self, steps: &[&Step<'_>]) -> Uploads {
        let (mut wheels, sdists): (Vec<&Step>, Vec<&Step>) =
            steps.iter().partition(|s| s.dist.kind == DistKind::Wheel);
        let first = if self.new_release && !wheels.is_empty() && steps.len() > 1 {
            vec![wheels.remove(0)]
        } else {
            Vec::new()
        };
        // Filled as each upload finishes, so a cancellation still knows what got through.
        let results = Mutex::new(HashMap::new());
        let uploads = async {
            for batch in [first, wheels, sdists] {
                if !batch.is_empty() {
                    self.batch(batch, &results, self.limiter).await;
                }
            }
        };
        let cancelled = tokio::select! {
            _ = uploads => None,
            signal = crate::signals::cancelled() => Some(signal),
        };
        Uploads {
            results: results.into_inner().unwrap_or_else(|e| e.into_inner()),
            cancelled,
        }
    }

    async fn batch(
        &self,
        batch: Vec<&Step<'_>>,
        results: &Mutex<HashMap<String, Result<Digests, Settled>>>,
        limiter: &Limiter,
    ) {
        futures_util::stream::iter(batch)
            .for_each_concurrent(None, |step| async move {
                let place = limiter.acquire().await;
                let http = limiter.watching(self.http, &place);
                let started = Instant::now();
                let name = step.dist.filename.clone();
                let outcome = match self.one(&http, step, limiter.bodies()).await {
                    Ok(d) => {
                        tracing::info!(
                            "uploaded {name} ({}, {:.1}s)",
                            reporting::human_size(step.dist.size),
                            started.elapsed().as_secs_f64()
                        );
                        Ok(d)
                    }
                    Err(e) => {
                        let settled = explain_failure(
                            self.api,
                            self.auth,
                            self.release,
                            step.dist,
                            e,
                            self.skip_existing,
                        )
                        .await;
                        if let Settled::AlreadyThere(_, None) = settled {
                            tracing::info!("{name} is already on the index with the same sha256");
                        }
                        Err(settled)
                    }
                };
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name, outcome);
            })
            .await
    }

    /// Upload one file; when the index refuses renewable credentials (a minted token that
    /// expired during a long publish), renew them and try that file once more.
    async fn one(
        &self,
        http: &Http,
        step: &Step<'_>,
        bodies: &BodySlots,
    ) -> Result<Digests, UploadError> {
        let project = &self.release.name;
        let attempt = |c: upload::Credentials| async move {
            let req = UploadRequest {
                url: self.repository_url,
                credentials: &c,
                distribution: step.dist,
                known_digests: step.digests.as_ref(),
                attestations: step.attestation().map(|a| a.field.as_str()),
                progress: self.progress,
                body_slots: Some(bodies),
            };
            upload::upload(http, &req).await
        };
        let credentials = self
            .auth
            .credentials(project)
            .await
            .map_err(credentials_failure)?;
        let result = attempt(credentials).await;
        if !matches!(result, Err(UploadError::Refused(Refusal::Auth { .. }))) {
            return result;
        }
        match self.auth.renew(project).await {
            None => result,
            Some(fresh) => {
                tracing::warn!(
                    "the index refused the upload token for {}; minted a new one and retrying once",
                    step.dist.filename
                );
                attempt(fresh.map_err(credentials_failure)?).await
            }
        }
    }
}

/// Credentials that could not be had fail the file with the whole story: a refusal's
/// explanation included, since it is not told anywhere else on this path.
fn credentials_failure(e: CredentialsError) -> UploadError {
    UploadError::Failed(match e {
        CredentialsError::Mint(MintError::Refused { explanation, .. }) => {
            anyhow::anyhow!("minting a new upload token failed: {explanation}")
        }
        other => anyhow::Error::new(other),
    })
}
