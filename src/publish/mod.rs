//! The publish path, one stage a file: [`check`] here, then [`plan`] against the index,
//! [`sign`] the attestations, [`uploader`] for the uploads, [`explain`] what failed, and
//! [`confirm`] on the index; [`publish`] runs them in that order.
mod confirm;
mod explain;
mod plan;
mod sign;
mod uploader;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use anyhow::{anyhow, bail};
use url::Url;

use crate::attest::SigstoreUrls;
use crate::distribution::{self, DistKind, Distribution, Release};
use crate::hashing::Digests;
use crate::http::Http;
use crate::index::{IndexFile, JsonApi};
use crate::report::{FileReport, FileStatus, Report};
use crate::reporting::{self, Level};

use explain::Settled;
use plan::{hash_pending, plan, Step};
pub use uploader::CredentialSource;
use uploader::Uploader;

pub struct PublishOptions {
    pub paths: Vec<PathBuf>,
    pub repository_url: Url,
    /// Web root of the index: JSON API (and trusted-publishing endpoints).
    pub index_url: Url,
    pub skip_existing: bool,
    pub dry_run: bool,
    pub print_hash: bool,
    pub concurrency: usize,
    /// Hash before uploading, so the digests precede the content in the form.
    pub hash_first: bool,
    pub confirm_timeout: Duration,
    /// Sign PEP 740 publish attestations with this Sigstore instance (trusted publishing
    /// only; decided by the caller).
    pub attestations: Option<SigstoreUrls>,
    /// Where `<file>.publish.attestation` files go: beside the report, else beside each file.
    pub attestation_dir: Option<PathBuf>,
}

/// A run that could not start (bad input, nothing to publish): nothing was uploaded.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct NothingUploaded(pub String);

pub async fn publish(
    http: &Http,
    opts: &PublishOptions,
    creds: &impl CredentialSource,
) -> anyhow::Result<Report> {
    let release = check(&opts.paths)?;
    tracing::info!(
        "{} {}: {} file{} to publish to {}",
        release.name,
        release.version,
        release.distributions.len(),
        plural(release.distributions.len()),
        opts.repository_url
    );

    let api = JsonApi {
        http,
        index_url: &opts.index_url,
    };
    let mut plan = plan(&api, &release).await?;

    let mut report = Report {
        name: release.name.clone(),
        version: release.version.clone(),
        repository_url: opts.repository_url.to_string(),
        release_url: String::new(),
        files: Vec::new(),
        source: None,
    };

    if opts.hash_first || opts.attestations.is_some() || (opts.dry_run && opts.print_hash) {
        hash_pending(&mut plan).await?;
    }
    if opts.dry_run {
        for step in &plan {
            if let (true, Some(d)) = (opts.print_hash, &step.digests) {
                print_hash(&step.dist.filename, d);
            }
            let status = if step.already_there.is_some() {
                FileStatus::AlreadyThere
            } else {
                FileStatus::WouldUpload
            };
            report.files.push(file_report(
                step.dist,
                status,
                step.digests.as_ref(),
                step.already_there.as_ref(),
            ));
        }
        tracing::info!("dry run: nothing was uploaded");
        return Ok(report);
    }

    if opts.hash_first || opts.attestations.is_some() {
        hash_pending(&mut plan).await?;
    }
    if let Some(urls) = &opts.attestations {
        tokio::select! {
            r = sign::attest(http, urls, &mut plan, opts) => r?,
            signal = crate::signals::cancelled() => return Err(cancelled_before_upload(signal)),
        }
    }
    let to_upload: Vec<&Step> = plan.iter().filter(|s| s.already_there.is_none()).collect();
    let mut uploader = Uploader {
        http,
        opts,
        api: &api,
        release: &release,
        creds,
        progress: None,
        results: Mutex::new(HashMap::new()),
    };
    let mut cancelled = false;
    if !to_upload.is_empty() {
        tokio::select! {
            c = creds.credentials(&release.name) => { c?; }
            signal = crate::signals::cancelled() => return Err(cancelled_before_upload(signal)),
        }
        let _group = reporting::group(&format!(
            "Uploading {} file{}",
            to_upload.len(),
            plural(to_upload.len())
        ));
        // Wheels first, concurrently; the sdist last. Installers prefer wheels, so a release
        // whose wheels are up before its sdist never sends users to a source build during the
        // upload window, and "Only one sdist per release" can only ever hit the last file.
        let (wheels, sdists): (Vec<&Step>, Vec<&Step>) = to_upload
            .iter()
            .partition(|s| s.dist.kind == DistKind::Wheel);
        uploader.progress =
            crate::reporting::progress::start(to_upload.iter().map(|s| s.dist.size).sum());
        let uploads = async {
            for batch in [wheels, sdists] {
                uploader.batch(batch).await;
            }
        };
        tokio::select! {
            _ = uploads => {}
            signal = crate::signals::cancelled() => {
                cancelled = true;
                reporting::annotate(
                    Level::Error,
                    "Publish cancelled",
                    &format!("{signal} received: stopped uploading; the report below says which files reached the index"),
                );
            }
        }
    }
    crate::reporting::progress::finish(uploader.progress.take());
    let mut results = uploader
        .results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());

    for step in &plan {
        let (status, digests, error) =
            match (&step.already_there, results.remove(&step.dist.filename)) {
                (Some(_), _) => (FileStatus::AlreadyThere, step.digests.clone(), None),
                (None, Some(Ok(d))) => (FileStatus::Uploaded, Some(d), None),
                (None, Some(Err(Settled::AlreadyThere(d)))) => {
                    (FileStatus::AlreadyThere, Some(d), None)
                }
                (None, Some(Err(Settled::Failed(msg)))) => {
                    (FileStatus::Failed, step.digests.clone(), Some(msg))
                }
                (None, None) if cancelled => (
                    FileStatus::NotUploaded,
                    step.digests.clone(),
                    Some("cancelled before its upload finished: it may or may not be on the index; a re-run settles it safely".to_owned()),
                ),
                (None, None) => (FileStatus::NotUploaded, step.digests.clone(), None),
            };
        if let (true, Some(d)) = (opts.print_hash, &digests) {
            print_hash(&step.dist.filename, d);
        }
        let mut fr = file_report(
            step.dist,
            status,
            digests.as_ref(),
            step.already_there.as_ref(),
        );
        fr.error = error;
        if let Some(path) = &step.attestation_file {
            fr.attestation_file = Some(path.display().to_string());
        }
        report.files.push(fr);
    }

    report.release_url = api.release_page(&release.normalized_name, &release.version);
    if !cancelled {
        confirm::confirm(&api, &release, &mut report, opts.confirm_timeout).await;
    }
    Ok(report)
}

fn cancelled_before_upload(signal: &str) -> anyhow::Error {
    anyhow::Error::new(NothingUploaded(format!(
        "{signal} received before the first upload: nothing was uploaded"
    )))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn print_hash(filename: &str, d: &Digests) {
    reporting::print_err(&format!(
        "{}\n  sha256:      {}\n  blake2b-256: {}",
        reporting::shown(filename),
        d.sha256,
        d.blake2_256
    ));
}

/// Run every distribution check; on failure, nothing may be uploaded.
pub fn check(paths: &[PathBuf]) -> anyhow::Result<Release> {
    let _group = reporting::group("Checking distributions");
    match distribution::collect(paths) {
        Ok((release, skipped)) => {
            for s in &skipped {
                tracing::info!(
                    "skipping {}: {}",
                    reporting::shown(s.path.display()),
                    reporting::shown(&s.reason)
                );
            }
            for d in &release.distributions {
                tracing::info!(
                    "  {} ({})",
                    reporting::shown(&d.filename),
                    reporting::human_size(d.size)
                );
            }
            Ok(release)
        }
        Err(failure) => {
            // In Actions each problem also becomes an annotation on the run; the final error
            // lists them all either way.
            if reporting::in_actions() {
                for p in &failure.problems {
                    reporting::annotate(Level::Error, &p.path.display().to_string(), &p.message);
                }
            }
            let list = failure.to_string();
            Err(anyhow::Error::new(NothingUploaded(format!(
                "{}\nnothing was uploaded: fix the problem{} above and run again",
                list.trim_end(),
                plural(failure.problems.len())
            ))))
        }
    }
}

fn file_report(
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
        confirmed: on_index.is_some(),
        error: None,
        attestation_file: None,
    }
}

/// Render a report to stdout (URLs), the step outputs, the job summary and the report file.
pub fn emit(
    report: &Report,
    dry_run: bool,
    report_path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    for url in report.urls() {
        reporting::print_out(&reporting::shown(url).to_string());
    }
    reporting::outputs::write_github_output(report)?;
    reporting::summary::write_step_summary(&reporting::summary::summary_markdown(report, dry_run))?;
    if let Some(p) = report_path {
        reporting::outputs::write_report_file(p, report)?;
    }
    Ok(())
}

/// The run's verdict: every file on the index, or an error that says which are not.
pub fn verdict(report: &Report, dry_run: bool) -> anyhow::Result<()> {
    if dry_run || report.complete() {
        return Ok(());
    }
    let on: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.status.on_index())
        .map(|f| f.filename.as_str())
        .collect();
    let off: Vec<_> = report
        .files
        .iter()
        .filter(|f| !f.status.on_index())
        .map(|f| f.filename.as_str())
        .collect();
    if on.is_empty() {
        bail!("nothing was published: {} not uploaded", off.join(", "));
    }
    Err(anyhow!(
        "the release is incomplete: on the index: {}; NOT on the index: {}. Fix the cause and \
         re-run: files already on the index are not sent again.",
        on.join(", "),
        off.join(", ")
    ))
}
