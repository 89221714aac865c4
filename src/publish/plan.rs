//! Plan: compare the local files with what the index already holds, before anything is
//! uploaded.
use std::path::PathBuf;

use crate::distribution::{DistKind, Distribution, Release};
use crate::hashing::{self, Digests};
use crate::index::{IndexFile, JsonApi, ReleaseState};
use crate::report::Notice;
use crate::reporting::shown;

/// One file of the release and what the publish will do with it.
pub struct Step<'a> {
    pub dist: &'a Distribution,
    /// Known before the upload when the file had to be compared with the index, or was
    /// hashed ahead (`--hash-first`, attestations, a dry run's `--print-hash`).
    pub digests: Option<Digests>,
    pub action: Action,
}

pub enum Action {
    /// The index has this exact file (same sha256): it is not sent again.
    AlreadyThere(IndexFile),
    /// To be uploaded, with its signed attestation once there is one.
    Upload(Option<Attestation>),
}

/// A PEP 740 attestation signed for one file.
pub struct Attestation {
    /// The `attestations` form field (a JSON array).
    pub field: String,
    /// Where it was written.
    pub file: PathBuf,
}

impl Step<'_> {
    pub fn already_there(&self) -> Option<&IndexFile> {
        match &self.action {
            Action::AlreadyThere(f) => Some(f),
            Action::Upload(_) => None,
        }
    }

    pub fn attestation(&self) -> Option<&Attestation> {
        match &self.action {
            Action::Upload(a) => a.as_ref(),
            Action::AlreadyThere(_) => None,
        }
    }
}

/// What the plan found.
pub struct Plan<'a> {
    pub steps: Vec<Step<'a>>,
    /// The index knew nothing of the release.
    pub new_release: bool,
    pub notices: Vec<Notice>,
}

/// Why nothing may be uploaded.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Files that clash with what the index holds, each explained.
    #[error("{}", .0.join("\n"))]
    Conflicts(Vec<String>),
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

/// Compare the local files with what the index already holds, before uploading anything:
/// identical files are already there, a different file under a taken name is refused now,
/// while the index is still untouched.
pub async fn plan<'a>(api: &JsonApi<'_>, release: &'a Release) -> Result<Plan<'a>, PlanError> {
    let mut notices = Vec::new();
    let state = match api
        .release(&release.normalized_name, &release.version)
        .await
    {
        Ok(Some(state)) => state,
        Ok(None) => ReleaseState::default(),
        Err(e) => {
            notices.push(Notice::warning(
                "Could not read the release from the index",
                format!("{e:#}; uploading without knowing which files are already there"),
            ));
            ReleaseState::default()
        }
    };
    let mut steps = Vec::new();
    let mut conflicts = Vec::new();
    for dist in &release.distributions {
        let mut step = Step {
            dist,
            digests: None,
            action: Action::Upload(None),
        };
        let index_sdist = state
            .files
            .iter()
            .find(|f| f.packagetype == "sdist" && f.filename != dist.filename);
        if let Some(existing) = state.file(&dist.filename) {
            let d = hashing::hash_file(&dist.path).await?;
            match existing.digests.sha256.as_deref() {
                Some(sha) if sha.eq_ignore_ascii_case(&d.sha256) => {
                    step.action = Action::AlreadyThere(existing.clone());
                }
                index_sha => conflicts.push(conflict_message(&dist.filename, &d, index_sha, None)),
            }
            step.digests = Some(d);
        } else if let (DistKind::Sdist, Some(other)) = (dist.kind, index_sdist) {
            conflicts.push(format!(
                "{}: the index already has an sdist for {} {} ({}) and accepts only one sdist \
                 per release; this sdist cannot be added. Publish the release without it, or \
                 publish a new version.",
                dist.filename,
                release.name,
                release.version,
                shown(&other.filename)
            ));
        }
        steps.push(step);
    }
    if !conflicts.is_empty() {
        return Err(PlanError::Conflicts(conflicts));
    }
    Ok(Plan {
        steps,
        new_release: state.files.is_empty(),
        notices,
    })
}

/// Hash every file still to upload that has no digests yet, in parallel.
pub async fn hash_pending(steps: &mut [Step<'_>]) -> anyhow::Result<()> {
    let digests = futures_util::future::join_all(steps.iter().map(|step| async move {
        match (&step.digests, &step.action) {
            (None, Action::Upload(_)) => hashing::hash_file(&step.dist.path).await.map(Some),
            _ => Ok(None),
        }
    }))
    .await;
    for (step, d) in steps.iter_mut().zip(digests) {
        if let Some(d) = d? {
            step.digests = Some(d);
        }
    }
    Ok(())
}

pub fn conflict_message(
    filename: &str,
    local: &Digests,
    index_sha: Option<&str>,
    index_blake: Option<&str>,
) -> String {
    let index = match (index_sha, index_blake) {
        (Some(s), _) => format!("sha256 {}", shown(s)),
        (None, Some(b)) => format!("blake2b-256 {}", shown(b)),
        (None, None) => "a different hash".to_owned(),
    };
    format!(
        "{filename}: a different file with this name is already on the index (index: {index}; \
         local: sha256 {}, blake2b-256 {}). A file name can never be reused, not even after \
         deletion: publish a new version (or a new build tag for a wheel) instead.",
        local.sha256, local.blake2_256
    )
}
