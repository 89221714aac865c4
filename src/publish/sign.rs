//! Sign: a PEP 740 publish attestation for every file to upload, before any upload.
use std::path::PathBuf;

use anyhow::Context;
use futures_util::StreamExt;

use crate::attest::{Signer, SigstoreUrls};
use crate::http::Http;
use crate::oidc::RunnerOidc;
use crate::reporting::{self, Level};

use super::plan::Step;
use super::{NothingUploaded, PublishOptions};

/// Sign a PEP 740 attestation for every file to upload, after the checks and before any
/// upload: a signing failure stops the publish with nothing uploaded.
pub(super) async fn attest(
    http: &Http,
    urls: &SigstoreUrls,
    plan: &mut [Step<'_>],
    opts: &PublishOptions,
) -> anyhow::Result<()> {
    let pending: Vec<usize> = (0..plan.len())
        .filter(|&i| plan[i].already_there.is_none())
        .collect();
    if pending.is_empty() {
        return Ok(());
    }
    let _group = reporting::group("Signing PEP 740 attestations");
    let fail = |e: anyhow::Error| {
        reporting::annotate(
            Level::Error,
            "Signing the attestations failed",
            &format!("{e:#}"),
        );
        anyhow::Error::new(NothingUploaded(format!(
            "{e:#}\nnothing was uploaded: the attestations could not be signed (set \
             `attestations: false` to publish without them)"
        )))
    };
    let runner = RunnerOidc::from_env().map_err(fail)?;
    let signer = Signer::new(http, &runner, urls).await.map_err(fail)?;
    // Bounded like the uploads: a release of a hundred wheels must not hit Rekor with a
    // hundred requests at once. `buffered` keeps the files' order.
    let signed: Vec<_> = futures_util::stream::iter(pending.iter().map(|&i| {
        let step = &plan[i];
        let sha = step
            .digests
            .as_ref()
            .map(|d| d.sha256.clone())
            .unwrap_or_default();
        let signer = &signer;
        async move { signer.attest(http, &step.dist.filename, &sha).await }
    }))
    .buffered(opts.concurrency.max(1))
    .collect()
    .await;
    for (&i, att) in pending.iter().zip(signed) {
        let att = att.map_err(fail)?;
        let dist = plan[i].dist;
        let dir = opts
            .attestation_dir
            .clone()
            .or_else(|| dist.path.parent().map(PathBuf::from))
            .unwrap_or_default();
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(&dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let file = dir.join(crate::attest::attestation_file_name(&dist.filename));
        std::fs::write(&file, serde_json::to_vec_pretty(&att)?)
            .with_context(|| format!("cannot write {}", file.display()))?;
        tracing::info!("signed {} -> {}", dist.filename, file.display());
        plan[i].attestation = Some(crate::attest::upload_field(&att));
        plan[i].attestation_file = Some(file);
    }
    Ok(())
}
