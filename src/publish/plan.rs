//! Plan: compare the local files with what the index already holds, before anything is
//! uploaded.
use std::path::PathBuf;

use crate::distribution::{DistKind, Distribution, Release};
use crate::hashing::{self, Digests};
use crate::index::{Index, IndexFile, ReleaseState};
use crate::inert::shown;
use crate::report::Notice;

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
    /// What was read to plan (the simple page or Warehouse's JSON), for the log.
    pub read_from: Option<String>,
    pub notices: Vec<Notice>,
}

/// PyPI refuses new files for a release older than this (since July 2026).
pub const RELEASE_WINDOW_DAYS: i64 = 14;

/// Why nothing may be uploaded.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Files that clash with what the index holds, each explained.
    #[error("{}", .0.join("\n"))]
    Conflicts(Vec<String>),
    /// The index will refuse every new file of this release (Warehouse's release window).
    #[error("{0}")]
    ReleaseClosed(String),
    #[error("{0:#}")]
    Failed(#[from] anyhow::Error),
}

/// Compare the local files with what the index already holds, before uploading anything:
/// identical files are already there, a different file under a taken name is refused now,
/// while the index is still untouched.
pub async fn plan<'a>(index: &Index<'_>, release: &'a Release) -> Result<Plan<'a>, PlanError> {
    let mut notices = Vec::new();
    let state = match index
        .release(&release.normalized_name, &release.version)
        .await
    {
        Ok(Some(state)) => state,
        Ok(None) => ReleaseState {
            read_from: format!(
                "{} (not found: the project is new on this index)",
                index.first_read(&release.normalized_name, &release.version)
            ),
            ..ReleaseState::default()
        },
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
        // One sdist per release is Warehouse's rule; other indexes take several.
        let index_sdist = state
            .files
            .iter()
            .find(|f| state.warehouse && f.packagetype == "sdist" && f.filename != dist.filename);
        if let Some(existing) = state.file(&dist.filename) {
            let d = hashing::hash_file(&dist.path).await?;
            match existing.digests.sha256.as_deref() {
                Some(sha) if sha.eq_ignore_ascii_case(&d.sha256) => {
                    step.action = Action::AlreadyThere(existing.clone());
                }
                Some(sha) => conflicts.push(conflict_message(&dist.filename, &d, Some(sha), None)),
                // Listed without a hash: the upload's answer (and --skip-existing) decide.
                None => {}
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
    let uploads = steps.iter().any(|s| s.already_there().is_none());
    if let (true, true, Some(closed)) = (
        state.warehouse,
        uploads,
        release_window(release, &state.files, jiff::Timestamp::now()),
    ) {
        return Err(PlanError::ReleaseClosed(closed));
    }
    Ok(Plan {
        steps,
        new_release: state.files.is_empty(),
        read_from: (!state.read_from.is_empty()).then_some(state.read_from),
        notices,
    })
}

/// Why Warehouse will refuse new files for this release: its first file was uploaded more
/// than [`RELEASE_WINDOW_DAYS`] ago. Checked before anything is uploaded, so a release is not
/// left with half of its new files.
pub fn release_window(
    release: &Release,
    files: &[IndexFile],
    now: jiff::Timestamp,
) -> Option<String> {
    let first = files
        .iter()
        .filter_map(|f| f.upload_time_iso_8601.as_deref())
        .filter_map(|t| t.parse::<jiff::Timestamp>().ok())
        .min()?;
    let age = now.duration_since(first);
    let days = age.as_secs() / 86_400;
    (age.as_secs() > RELEASE_WINDOW_DAYS * 86_400).then(|| {
        format!(
            "{} {} was first uploaded {days} days ago ({first}); PyPI refuses new files for a \
             release older than {RELEASE_WINDOW_DAYS} days. Nothing was uploaded: publish \
             these files as a new version.",
            release.name, release.version
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDigests;

    fn listed(time: Option<&str>) -> IndexFile {
        IndexFile {
            filename: "demo_package-1.0.0.tar.gz".to_owned(),
            url: None,
            size: 0,
            packagetype: "sdist".to_owned(),
            python_version: String::new(),
            digests: IndexDigests::default(),
            upload_time_iso_8601: time.map(str::to_owned),
            yanked: false,
        }
    }

    #[test]
    fn the_release_window_counts_from_the_first_upload() {
        let release = Release {
            name: "demo-package".to_owned(),
            normalized_name: "demo-package".to_owned(),
            version: "1.0.0".to_owned(),
            distributions: Vec::new(),
        };
        let now: jiff::Timestamp = "2026-12-04T12:00:00Z".parse().unwrap();
        let recent = listed(Some("2026-11-30T12:00:00.123456Z"));
        let old = listed(Some("2026-11-01T00:00:00Z"));
        assert_eq!(
            release_window(&release, std::slice::from_ref(&recent), now),
            None
        );
        assert_eq!(release_window(&release, &[listed(None)], now), None);
        let closed = release_window(&release, &[recent, old], now).expect("closed");
        assert!(closed.contains("33 days ago"), "{closed}");
        assert!(closed.contains("new version"), "{closed}");
        let edge = listed(Some("2026-11-20T11:59:00Z"));
        assert!(release_window(&release, &[edge], now).is_some());
    }
}
