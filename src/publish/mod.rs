//! The publish machinery, one stage a file: [`plan`] against the index, [`sign`] the
//! attestations, [`uploader`] for the uploads (at a [`concurrency`] the index allows),
//! [`explain`] what failed, and [`confirm`] on the index. Party: none of its own: it reaches
//! the index through [`crate::index`] and Sigstore through [`crate::attest`].
//!
//! The story that runs the stages in order, and tells the user, is
//! [`crate::commands::publish`]; nothing here writes to the step log but progress lines.
mod concurrency;
mod confirm;
mod explain;
mod plan;
mod previous;
mod readback;
mod sign;
mod uploader;

use crate::distribution::Distribution;
use crate::hashing::Digests;
use crate::index::IndexFile;
use crate::report::{Confirmation, FileReport, FileStatus, Notice};

pub use concurrency::{Concurrency, Limiter, BODIES_AT_ONCE};
pub use confirm::confirm;
pub use explain::Settled;
pub use plan::{hash_pending, plan, Plan, PlanError, Step};
pub use previous::publisher_change;
pub use readback::read_back;
pub use sign::sign;
pub use uploader::{Uploader, Uploads};

/// Each file's line of the report once the uploads are over, and what to tell besides.
pub fn file_reports(steps: &[Step<'_>], uploads: Uploads) -> (Vec<FileReport>, Vec<Notice>) {
    let cancelled = uploads.cancelled.is_some();
    let mut results = uploads.results;
    let mut notices = Vec::new();
    let files = steps
        .iter()
        .map(|step| {
            let (status, digests, error) =
                match (step.already_there(), results.remove(&step.dist.filename)) {
                    // The plan read it on the index with this sha256: confirmed already.
                    (Some(_), _) => (
                        FileStatus::AlreadyThere(Confirmation::Confirmed),
                        step.digests.clone(),
                        None,
                    ),
                    (None, Some(Ok(d))) => (
                        FileStatus::Uploaded(Confirmation::Unconfirmed),
                        Some(d),
                        None,
                    ),
                    (None, Some(Err(Settled::AlreadyThere(d, note)))) => {
                        notices.extend(note);
                        (
                            FileStatus::AlreadyThere(Confirmation::Unconfirmed),
                            Some(d),
                            None,
                        )
                    }
                    (None, Some(Err(Settled::Failed(msg)))) => {
                        (FileStatus::Failed, step.digests.clone(), Some(msg))
                    }
                    (None, None) if cancelled => (
                        FileStatus::NotUploaded,
                        step.digests.clone(),
                        Some(
                            "cancelled before its upload finished: it may or may not be on the \
                         index; a re-run settles it safely"
                                .to_owned(),
                        ),
                    ),
                    (None, None) => (FileStatus::NotUploaded, step.digests.clone(), None),
                };
            let mut fr = file_report(step.dist, status, digests.as_ref(), step.already_there());
            fr.error = error;
            fr.attestation_file = step.attestation().map(|a| a.file.display().to_string());
            fr
        })
        .collect();
    (files, notices)
}

/// A file's line of the report, before or without an upload; `status` says whether the index
/// listed it (`on_index`, the plan's reading, gives its URL and upload time).
pub fn file_report(
    dist: &Distribution,
    status: FileStatus,
    digests: Option<&Digests>,
    on_index: Option<&IndexFile>,
) -> FileReport {
    FileReport {
        filename: dist.filename.clone(),
        status,
        url: on_index.and_then(|f| f.url.clone()),
        sha256: digests.map(|d| d.sha256.clone()),
        blake2_256: digests.map(|d| d.blake2_256.clone()),
        size: dist.size,
        packagetype: dist.kind.filetype().to_owned(),
        python_version: dist.pyversion.clone(),
        upload_time: on_index.and_then(|f| f.upload_time_iso_8601.clone()),
        error: None,
        attestation_file: None,
        provenance: None,
    }
}
