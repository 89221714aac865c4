//! The artifacts of the triggering workflow run: read the run, refuse an untrusted one,
//! list and pick its artifacts, download them (the GitHub token goes to the API host only),
//! verify their digests, and extract them safely.
//!
//! Split by concern: `rest` reads the run and its artifacts over GitHub's REST API, `trust`
//! gives the run's verdict, `download` fetches and verifies the zips, `extract` unpacks them
//! safely. This module names what the rest of the crate uses of them.
mod download;
mod extract;
mod rest;
mod trust;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use download::download;
pub use extract::{extract, extract_within, Budget, MAX_EXTRACTED_TOTAL, MAX_MEMBERS};
pub use rest::{fetch_run, tag_commit};
pub use trust::{vet_run, BuildRefs, Concession, TRUSTED_EVENTS};

pub struct Selection {
    pub run_id: u64,
    pub patterns: Vec<String>,
    pub expect_sha: Option<String>,
    /// Publish from a run whose code came from another repository (a fork) anyway (loudly).
    pub allow_untrusted_run: bool,
    /// Events beyond [`TRUSTED_EVENTS`] whose runs may be published (with a warning).
    pub allow_run_events: Vec<String>,
    /// The workflow file the run must come from, e.g. `.github/workflows/build.yml`.
    pub build_workflow: Option<String>,
    /// The refs the run may have built; empty: any.
    pub build_refs: BuildRefs,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Run {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    pub event: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The workflow file, e.g. `.github/workflows/build.yml` (a `@ref` suffix for some).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
    #[serde(default)]
    pub repository: Option<RepoRef>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RepoRef {
    pub full_name: String,
    #[serde(default)]
    pub id: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub archive_download_url: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

/// What was downloaded: the run, the artifacts used, and the extracted distribution files.
pub struct Downloaded {
    pub run: Run,
    pub artifacts: Vec<Artifact>,
    pub files: Vec<PathBuf>,
    pub other_files: Vec<PathBuf>,
    pub dir: PathBuf,
    /// What was let through only by an override (`allow-untrusted-run`, `allow-run-events`),
    /// to be told as warnings.
    pub notices: Vec<crate::report::Notice>,
    /// The ref the run built, as `build-refs` checked it (`refs/tags/v1.0`); None when
    /// build-refs was not given.
    pub build_ref: Option<String>,
}
