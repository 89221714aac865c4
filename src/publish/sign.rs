//! Sign: a PEP 740 publish attestation for every file to upload, before any upload.
use std::path::Path;

use anyhow::Context;
use futures_util::StreamExt;

use crate::attest::{Signer, SigstoreUrls};
use crate::github::id_token::RunnerOidc;
use crate::http::Http;

use super::plan::{Action, Attestation, Step};

/// Sign every file still to upload, of every release, with one signing certificate, and
/// write each attestation to `<file>.publish.attestation` in `dir` (else beside the file).
/// Returns how many were signed.
pub async fn sign<'a, 's: 'a>(
    http: &Http,
    oidc: &RunnerOidc,
    urls: &SigstoreUrls,
    steps: impl IntoIterator<Item = &'a mut Step<'s>>,
    concurrency: usize,
    dir: Option<&Path>,
) -> anyhow::Result<usize> {
    let mut steps: Vec<&mut Step<'s>> = steps
        .into_iter()
        .filter(|s| matches!(s.action, Action::Upload(_)))
        .collect();
    let pending: Vec<usize> = (0..steps.len()).collect();
    if pending.is_empty() {
        return Ok(0);
    }
    let signer = Signer::new(http, oidc, urls).await?;
    // Bounded like the uploads: a release of a hundred wheels must not hit Rekor with a
    // hundred requests at once. `buffered` keeps the files' order.
    let signed: Vec<_> = futures_util::stream::iter(pending.iter().map(|&i| {
        let step = &steps[i];
        let sha = step
            .digests
            .as_ref()
            .map(|d| d.sha256.clone())
            .unwrap_or_default();
        let signer = &signer;
        async move { signer.attest(http, &step.dist.filename, &sha).await }
    }))
    .buffered(concurrency.max(1))
    .collect()
    .await;
    for (&i, att) in pending.iter().zip(signed) {
        let att = att?;
        let dist = steps[i].dist;
        let dir = dir.or_else(|| dist.path.parent()).unwrap_or(Path::new(""));
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = dir.join(crate::attest::attestation_file_name(&dist.filename));
        std::fs::write(&file, serde_json::to_vec_pretty(&att)?)
            .with_context(|| format!("cannot write {}", file.display()))?;
        steps[i].action = Action::Upload(Some(Attestation {
            field: crate::attest::upload_field(&att),
            file,
        }));
    }
    Ok(pending.len())
}
