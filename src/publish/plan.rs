//! Plan: compare the local files with what the index already holds, before anything is
//! uploaded.
use crate::distribution::{DistKind, Distribution, Release};
use crate::hashing::{self, Digests};
use crate::index::{IndexFile, JsonApi, ReleaseState};
use crate::reporting::{self, Level};

use super::NothingUploaded;

/// Hash every file still to upload that has no digests yet, in parallel.
pub(super) async fn hash_pending(plan: &mut [Step<'_>]) -> anyhow::Result<()> {
    let digests = futures_util::future::join_all(plan.iter().map(|step| async move {
        match (&step.digests, &step.already_there) {
            (None, None) => hashing::hash_file(&step.dist.path).await.map(Some),
            _ => Ok(None),
        }
    }))
    .await;
    for (step, d) in plan.iter_mut().zip(digests) {
        if let Some(d) = d? {
            step.digests = Some(d);
        }
    }
    Ok(())
}

pub(super) struct Step<'a> {
    pub(super) dist: &'a Distribution,
    /// The PEP 740 attestations (a JSON array) sent with the file.
    pub(super) attestation: Option<String>,
    /// Where the attestation was written.
    pub(super) attestation_file: Option<std::path::PathBuf>,
    /// Known before the upload only when the file had to be compared with the index.
    pub(super) digests: Option<Digests>,
    pub(super) already_there: Option<IndexFile>,
}

/// Compare the local files with what the index already holds, before uploading anything:
/// identical files are already there, a different file under a taken name is refused now,
/// while the index is still untouched.
pub(super) async fn plan<'a>(
    api: &JsonApi<'_>,
    release: &'a Release,
) -> anyhow::Result<Vec<Step<'a>>> {
    let state = match api
        .release(&release.normalized_name, &release.version)
        .await
    {
        Ok(Some(state)) => state,
        Ok(None) => ReleaseState::default(),
        Err(e) => {
            reporting::annotate(
                Level::Warning,
                "Could not read the release from the index",
                &format!("{e:#}; uploading without knowing which files are already there"),
            );
            ReleaseState::default()
        }
    };
    let mut steps = Vec::new();
    let mut conflicts = Vec::new();
    for dist in &release.distributions {
        let mut step = Step {
            dist,
            attestation: None,
            attestation_file: None,
            digests: None,
            already_there: None,
        };
        let index_sdist = state
            .files
            .iter()
            .find(|f| f.packagetype == "sdist" && f.filename != dist.filename);
        if let Some(existing) = state.file(&dist.filename) {
            let d = hashing::hash_file(&dist.path).await?;
            match existing.digests.sha256.as_deref() {
                Some(sha) if sha.eq_ignore_ascii_case(&d.sha256) => {
                    step.already_there = Some(existing.clone());
                }
                index_sha => conflicts.push(conflict_message(&dist.filename, &d, index_sha, None)),
            }
            step.digests = Some(d);
        } else if let (DistKind::Sdist, Some(other)) = (dist.kind, index_sdist) {
            conflicts.push(format!(
                "{}: the index already has an sdist for {} {} ({}) and accepts only one sdist \
                 per release; this sdist cannot be added. Publish the release without it, or \
                 publish a new version.",
                dist.filename, release.name, release.version, other.filename
            ));
        }
        steps.push(step);
    }
    if !conflicts.is_empty() {
        for c in &conflicts {
            reporting::annotate(Level::Error, "File conflicts with the index", c);
        }
        return Err(anyhow::Error::new(NothingUploaded(format!(
            "{}\nnothing was uploaded",
            conflicts.join("\n")
        ))));
    }
    let there = steps.iter().filter(|s| s.already_there.is_some()).count();
    tracing::info!(
        "plan: {} to upload, {there} already on the index{}",
        steps.len() - there,
        if state.files.is_empty() {
            " (a new release)"
        } else {
            ""
        }
    );
    for step in &steps {
        let what = if step.already_there.is_some() {
            "already there (same sha256), not sent again"
        } else {
            "upload"
        };
        tracing::info!("  {}: {what}", step.dist.filename);
    }
    Ok(steps)
}

pub(super) fn conflict_message(
    filename: &str,
    local: &Digests,
    index_sha: Option<&str>,
    index_blake: Option<&str>,
) -> String {
    let index = match (index_sha, index_blake) {
        (Some(s), _) => format!("sha256 {s}"),
        (None, Some(b)) => format!("blake2b-256 {b}"),
        (None, None) => "a different hash".to_owned(),
    };
    format!(
        "{filename}: a different file with this name is already on the index (index: {index}; \
         local: sha256 {}, blake2b-256 {}). A file name can never be reused, not even after \
         deletion: publish a new version (or a new build tag for a wheel) instead.",
        local.sha256, local.blake2_256
    )
}
