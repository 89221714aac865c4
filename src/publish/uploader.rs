//! Upload: every file still to send, concurrently, renewing a minted token that expired on
//! the way.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use futures_util::StreamExt;

use crate::distribution::Release;
use crate::hashing::Digests;
use crate::http::Http;
use crate::index::JsonApi;
use crate::reporting;
use crate::upload::{self, Credentials, Refusal, UploadRequest};

use super::explain::{explain_failure, Settled};
use super::plan::Step;
use super::PublishOptions;

/// Where upload credentials come from; resolved only when something is to be uploaded.
pub trait CredentialSource: Sync {
    /// The current credentials (obtained on first use).
    fn credentials(
        &self,
        project: &str,
    ) -> impl std::future::Future<Output = anyhow::Result<Credentials>> + Send;
    /// Fresh credentials after the index refused the current ones (a minted token that
    /// expired during a long upload); `None` when they cannot be renewed.
    fn renew(
        &self,
        project: &str,
    ) -> impl std::future::Future<Output = Option<anyhow::Result<Credentials>>> + Send;
}

/// Everything an upload needs that is the same for every file of the run.
pub(super) struct Uploader<'a, C> {
    pub(super) http: &'a Http,
    pub(super) opts: &'a PublishOptions,
    pub(super) api: &'a JsonApi<'a>,
    pub(super) release: &'a Release,
    pub(super) creds: &'a C,
    pub(super) progress: Option<indicatif::ProgressBar>,
    /// Filled as each upload finishes, so a cancellation still knows what got through.
    pub(super) results: Mutex<HashMap<String, Result<Digests, Settled>>>,
}

impl<C: CredentialSource> Uploader<'_, C> {
    pub(super) async fn batch(&self, batch: Vec<&Step<'_>>) {
        futures_util::stream::iter(batch)
            .for_each_concurrent(self.opts.concurrency.max(1), |step| async move {
                let started = Instant::now();
                let name = step.dist.filename.clone();
                let outcome = match self.one(step).await {
                    Ok(d) => {
                        tracing::info!(
                            "uploaded {name} ({}, {:.1}s)",
                            reporting::human_size(step.dist.size),
                            started.elapsed().as_secs_f64()
                        );
                        Ok(d)
                    }
                    Err(e) => Err(explain_failure(
                        self.api,
                        self.release,
                        step.dist,
                        e,
                        self.opts.skip_existing,
                    )
                    .await),
                };
                self.results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(name, outcome);
            })
            .await
    }

    /// Upload one file; when the index refuses renewable credentials (a minted token that
    /// expired during a long publish), renew them and try that file once more.
    async fn one(&self, step: &Step<'_>) -> anyhow::Result<Digests> {
        let project = &self.release.name;
        let attempt = |c: Credentials| async move {
            let req = UploadRequest {
                url: &self.opts.repository_url,
                credentials: &c,
                distribution: step.dist,
                known_digests: step.digests.as_ref(),
                attestations: step.attestation.as_deref(),
                progress: self.progress.as_ref(),
            };
            upload::upload(self.http, &req).await
        };
        let result = attempt(self.creds.credentials(project).await?).await;
        let auth_refused = matches!(
            result
                .as_ref()
                .err()
                .and_then(|e| e.downcast_ref::<Refusal>()),
            Some(Refusal::Auth { .. })
        );
        if !auth_refused {
            return result;
        }
        match self.creds.renew(project).await {
            None => result,
            Some(fresh) => {
                tracing::warn!(
                    "the index refused the upload token for {}; minted a new one and retrying once",
                    step.dist.filename
                );
                attempt(fresh?).await
            }
        }
    }
}
