//! `publish`: source -> check -> plan -> credentials -> upload -> confirm -> report.
use std::path::{Path, PathBuf};

use crate::attest::SigstoreUrls;
use crate::cli::{PublishArgs, PublishConfig, SourceChoice};
use crate::distribution::{self, CheckFailure, Release, Skipped};
use crate::github::artifacts::{self, Downloaded};
use crate::github::runner::Runner;
use crate::hashing::Digests;
use crate::index::auth::{self, Auth, CredentialsError, TrustedPublishing};
use crate::index::mint::MintError;
use crate::index::Index;
use crate::publish::{self, Limiter, Plan, PlanError, Step, Uploader, Uploads};
use crate::report::{
    Confirmation, FileStatus, Notice, ProvenanceCheck, ReleaseReport, Report, RunSource,
};
use crate::reporting::{self, outputs, progress, summary, Level};

use super::{plural, Failure};

pub async fn publish(args: PublishArgs, runner: &Runner) -> Result<(), Failure> {
    if !args.verify_metadata {
        reporting::annotate(
            Level::Notice,
            "verify-metadata",
            "verify-metadata: false has no effect: every file's name, version, metadata and \
             hashes are always checked before anything is uploaded",
        );
    }
    let cfg = args.resolve(runner)?;
    let http = &cfg.http;
    // Credentials are settled before anything is read: trusted publishing that could only
    // send the job's identity in clear text fails here.
    let auth = Auth::resolve(
        http,
        runner,
        cfg.trusted_publishing,
        cfg.user.clone(),
        cfg.password.clone(),
        &cfg.index,
    )?;

    // Source: the files, or the artifacts of a workflow run.
    let source = fetch(&cfg, runner).await?;
    if matches!(auth, Auth::Token(_))
        && cfg.trusted_publishing == TrustedPublishing::Auto
        && reporting::in_actions()
        && auth::trusted_publishing_available(http, &cfg.index.index_url).await
    {
        reporting::tell(&Notice::warning(
            "An API token is not needed here",
            format!(
                "{} supports trusted publishing: register this workflow as the project's \
                 trusted publisher, give the job `permissions: id-token: write`, and delete the \
                 long-lived API token secret",
                cfg.index.index_url
            ),
        ));
    }
    let sigstore = attestation_sigstore(&cfg, &auth);

    // Check: every file of every release, before anything is uploaded.
    let releases = check_releases(&source.paths)?;
    for release in &releases {
        tracing::info!(
            "{} {}: {} file{} to publish to {}",
            release.name,
            release.version,
            release.distributions.len(),
            plural(release.distributions.len()),
            cfg.index.repository_url
        );
    }

    // Plan: what the index already holds, release by release; any conflict in any release
    // stops the publish before the first upload.
    let api = Index::new(http, &cfg.index.index_url, cfg.index.simple.as_ref());
    match &cfg.index.simple {
        Some(simple) => tracing::info!("simple index: {} ({})", simple.url, simple.why),
        None => reporting::tell(&Notice::warning(
            "Simple index unknown",
            format!(
                "cannot tell where the simple index of {} is (its layout is none of PyPI's, \
                 Warehouse's, pypiserver's or devpi's): files already on the index cannot be \
                 recognised nor confirmed. Give `simple-url` (--simple-url).",
                cfg.index.repository_url
            ),
        )),
    }
    let mut planned = plan_all(&api, &releases).await?;
    let mut report = Report {
        repository_url: cfg.index.repository_url.to_string(),
        releases: releases
            .iter()
            .map(|r| ReleaseReport {
                name: r.name.clone(),
                version: r.version.clone(),
                release_url: String::new(),
                files: Vec::new(),
            })
            .collect(),
        source: source.run,
    };
    if cfg.hash_first || sigstore.is_some() || (cfg.dry_run && cfg.print_hash) {
        for p in &mut planned {
            publish::hash_pending(&mut p.steps).await?;
        }
    }
    if cfg.dry_run {
        return dry_run(&cfg, &planned, report);
    }

    // Attestations, signed before the first upload: a failure leaves the index untouched.
    if let Some(urls) = &sigstore {
        tokio::select! {
            r = sign(&cfg, &auth, urls, &mut planned, source.from_artifacts) => r?,
            signal = crate::signals::cancelled() => return Err(cancelled_before_upload(signal)),
        }
    }

    // Credentials, then the uploads: one release after another.
    let uploads = upload(&cfg, &api, &auth, &planned).await?;
    let cancelled = uploads.iter().find_map(|u| u.cancelled);
    for (p, (done, rr)) in planned
        .iter()
        .zip(uploads.into_iter().zip(&mut report.releases))
    {
        // A release the cancellation kept from starting is told as cancelled too.
        let done = Uploads { cancelled, ..done };
        let (files, notices) = publish::file_reports(&p.steps, done);
        notices.iter().for_each(reporting::tell);
        for f in &files {
            if let (Some(e), FileStatus::Failed) = (&f.error, f.status) {
                reporting::annotate(Level::Error, &format!("Upload of {} failed", f.filename), e);
            }
            if let (true, Some(sha), Some(blake)) = (cfg.print_hash, &f.sha256, &f.blake2_256) {
                print_hash(
                    &f.filename,
                    &Digests {
                        sha256: sha.clone(),
                        blake2_256: blake.clone(),
                    },
                );
            }
        }
        rr.files = files;
    }

    // Confirm: every file on the index with the sha256 that was sent.
    if cancelled.is_none() {
        for (p, rr) in planned.iter().zip(&mut report.releases) {
            if let Some(n) = publish::confirm(&api, p.release, rr, cfg.confirm_timeout).await {
                reporting::tell(&n);
            }
            for f in rr.files.iter().filter(|f| f.status == FileStatus::Mismatch) {
                if let Some(e) = &f.error {
                    reporting::annotate(
                        Level::Error,
                        &format!("The index holds other bytes as {}", f.filename),
                        e,
                    );
                }
            }
        }
    }

    // Read back: the provenance the index now serves for each file this run signed.
    if cancelled.is_none() {
        read_back(&cfg, &api, &planned, &mut report).await?;
    }

    // Report.
    emit(&report, false, cfg.report_file.as_deref())?;
    tell_index_read(&cfg, &report, &api);
    verdict(&report)
}

/// Each signed file's provenance, as the index serves it, verified against the trust root and
/// this run's identity. Only Warehouse has the integrity API; a private Sigstore needs its
/// trust root (`--trust-root`) to be read back against.
async fn read_back(
    cfg: &PublishConfig,
    api: &Index<'_>,
    planned: &[Planned<'_>],
    report: &mut Report,
) -> Result<(), Failure> {
    if !planned
        .iter()
        .flat_map(|p| p.steps.iter())
        .any(|s| s.attestation().is_some())
    {
        return Ok(());
    }
    if !api.is_warehouse() {
        tracing::info!(
            "provenance not read back: only Warehouse (PyPI) serves it (its integrity API)"
        );
        return Ok(());
    }
    let public;
    let trust = match (
        &cfg.attestations.trust_root,
        cfg.attestations.names_a_sigstore(),
    ) {
        (Some(trust), _) => trust,
        (None, false) => {
            public = crate::attest::verify::TrustRoot::public_good()?;
            &public
        }
        (None, true) => {
            tracing::info!(
                "provenance not read back: give the private Sigstore's trusted root with \
                 --trust-root (input `trust-root`)"
            );
            return Ok(());
        }
    };
    for (p, rr) in planned.iter().zip(&mut report.releases) {
        let read = publish::read_back(
            &cfg.http,
            &cfg.index.index_url,
            p.release,
            &p.steps,
            rr,
            trust,
        )
        .await;
        let (checked, failed) = (read.checked, &read.failed);
        for (filename, reason) in failed {
            reporting::annotate(
                Level::Error,
                &format!("Provenance of {filename} not verified"),
                reason,
            );
        }
        if checked > 0 && failed.is_empty() {
            tracing::info!(
                "provenance read back from the index and verified for {checked} file{} of {} {}",
                plural(checked),
                p.release.normalized_name,
                p.release.version
            );
        }
        if let Some(publisher) = &read.publisher {
            let change = publish::publisher_change(
                &cfg.http,
                cfg.index.simple.as_ref(),
                &cfg.index.index_url,
                p.release,
                publisher,
            )
            .await;
            if let Some(notice) = change {
                reporting::tell(&notice);
            }
        }
    }
    Ok(())
}

/// One release and what its plan found.
struct Planned<'a> {
    release: &'a Release,
    steps: Vec<Step<'a>>,
    new_release: bool,
}

/// Plan every release; the conflicts and closed releases of all of them are told together,
/// and any one stops the publish before the first upload.
async fn plan_all<'a>(
    api: &Index<'_>,
    releases: &'a [Release],
) -> Result<Vec<Planned<'a>>, Failure> {
    let mut planned = Vec::with_capacity(releases.len());
    let (mut conflicts, mut closed) = (Vec::new(), Vec::new());
    for release in releases {
        let Plan {
            steps,
            new_release,
            read_from,
            notices,
        } = match publish::plan(api, release).await {
            Ok(plan) => plan,
            Err(PlanError::Conflicts(found)) => {
                for c in &found {
                    reporting::annotate(Level::Error, "File conflicts with the index", c);
                }
                conflicts.extend(found);
                continue;
            }
            Err(PlanError::ReleaseClosed(why)) => {
                reporting::annotate(Level::Error, "The release is closed to new files", &why);
                closed.push(why);
                continue;
            }
            Err(PlanError::Failed(e)) => return Err(e.into()),
        };
        if let Some(read) = &read_from {
            tracing::info!("plan: read {}", reporting::shown(read));
        }
        notices.iter().for_each(reporting::tell);
        let label = match releases {
            [_] => "plan".to_owned(),
            _ => format!("plan of {} {}", release.name, release.version),
        };
        tell_plan(&label, &steps, new_release);
        planned.push(Planned {
            release,
            steps,
            new_release,
        });
    }
    if conflicts.is_empty() && closed.is_empty() {
        return Ok(planned);
    }
    // A closed release's message already says that nothing was uploaded.
    if conflicts.is_empty() {
        return Err(Failure::Told(closed.join("\n")));
    }
    conflicts.extend(closed);
    Err(Failure::Told(format!(
        "{}\nnothing was uploaded",
        conflicts.join("\n")
    )))
}

/// Mint (or take) the credentials, then upload every release's files, one release after
/// another: each release keeps the uploader's order (a new release's first file alone, its
/// sdist last) and its failures are explained against its own files on the index. A
/// cancellation stops the releases still to come. One outcome per release.
async fn upload(
    cfg: &PublishConfig,
    api: &Index<'_>,
    auth: &Auth,
    planned: &[Planned<'_>],
) -> Result<Vec<Uploads>, Failure> {
    let sizes: Vec<u64> = planned
        .iter()
        .flat_map(|p| p.steps.iter())
        .filter(|s| s.already_there().is_none())
        .map(|s| s.dist.size)
        .collect();
    let (count, bytes) = (sizes.len(), sizes.iter().sum());
    let mut uploads: Vec<Uploads> = planned.iter().map(|_| Uploads::default()).collect();
    if count == 0 {
        return Ok(uploads);
    }
    // One minted token serves every project that registered this workflow as its trusted
    // publisher; the first project to upload only names where a refusal is fixed.
    let first = planned
        .iter()
        .find(|p| p.steps.iter().any(|s| s.already_there().is_none()))
        .map_or("", |p| p.release.name.as_str());
    tokio::select! {
        a = auth.authenticate(first) => tell_authenticated(a)?,
        signal = crate::signals::cancelled() => return Err(cancelled_before_upload(signal)),
    }
    let _group = reporting::group(&format!("Uploading {count} file{}", plural(count)));
    let bar = progress::start(bytes);
    // One limit for the whole publish: a 429 met by one release slows the releases after it.
    let limiter = Limiter::sized(cfg.concurrency, &sizes);
    tracing::debug!(
        "uploading up to {} files at once, sending up to {} of them at a time",
        limiter.limit(),
        crate::publish::BODIES_AT_ONCE
    );
    for (p, done) in planned.iter().zip(&mut uploads) {
        let steps: Vec<&Step> = p
            .steps
            .iter()
            .filter(|s| s.already_there().is_none())
            .collect();
        if steps.is_empty() {
            continue;
        }
        let uploader = Uploader {
            http: &cfg.http,
            repository_url: &cfg.index.repository_url,
            api,
            release: p.release,
            auth,
            limiter: &limiter,
            skip_existing: cfg.skip_existing,
            new_release: p.new_release,
            progress: bar.as_ref(),
        };
        *done = uploader.upload_all(&steps).await;
        if let Some(signal) = done.cancelled {
            reporting::annotate(
                Level::Error,
                "Publish cancelled",
                &format!(
                    "{signal} received: stopped uploading; the report below says which files \
                     reached the index"
                ),
            );
            break;
        }
    }
    progress::finish(bar);
    Ok(uploads)
}

/// A dry run ends after the plan: what would be uploaded, reported as a publish would.
fn dry_run(
    cfg: &PublishConfig,
    planned: &[Planned<'_>],
    mut report: Report,
) -> Result<(), Failure> {
    for (p, rr) in planned.iter().zip(&mut report.releases) {
        for step in &p.steps {
            if let (true, Some(d)) = (cfg.print_hash, &step.digests) {
                print_hash(&step.dist.filename, d);
            }
            let status = match step.already_there() {
                Some(_) => FileStatus::AlreadyThere(Confirmation::Confirmed),
                None => FileStatus::WouldUpload,
            };
            rr.files.push(publish::file_report(
                step.dist,
                status,
                step.digests.as_ref(),
                step.already_there(),
            ));
        }
    }
    tracing::info!("dry run: nothing was uploaded");
    emit(&report, true, cfg.report_file.as_deref())
}

/// The files to publish, and the run they came from.
struct Fetched {
    paths: Vec<PathBuf>,
    run: Option<RunSource>,
    from_artifacts: bool,
    /// The extracted artifacts live here until the publish is over.
    _extraction: Option<tempfile::TempDir>,
}

async fn fetch(cfg: &PublishConfig, runner: &Runner) -> Result<Fetched, Failure> {
    let (artifacts, why) = match &cfg.source {
        SourceChoice::Paths { paths, why } => {
            tracing::info!("{why}");
            return Ok(Fetched {
                paths: paths.clone(),
                run: None,
                from_artifacts: false,
                _extraction: None,
            });
        }
        SourceChoice::Run { artifacts, why } => (artifacts, why),
    };
    tracing::info!("{why}");
    let run_id = artifacts.selection.run_id;
    let dir = extraction_dir(runner)?;
    let downloaded = {
        let _g = reporting::group(&format!("Downloading the artifacts of run {run_id}"));
        tokio::select! {
            d = artifacts::download(&cfg.http, &artifacts.source, &artifacts.selection, dir.path()) => d?,
            signal = crate::signals::cancelled() => return Err(anyhow::anyhow!(
                "{signal} received while downloading the artifacts: nothing was uploaded"
            ).into()),
        }
    };
    downloaded.notices.iter().for_each(reporting::tell);
    for f in &downloaded.other_files {
        tracing::info!(
            "skipping {}: not a distribution",
            reporting::shown(f.display())
        );
    }
    Ok(Fetched {
        run: Some(run_source(&downloaded)),
        paths: downloaded.files,
        from_artifacts: true,
        _extraction: Some(dir),
    })
}

/// A fresh folder under the runner's temp dir (or the system's) for extracted artifacts.
fn extraction_dir(runner: &Runner) -> anyhow::Result<tempfile::TempDir> {
    use anyhow::Context;
    let base = runner.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
    tempfile::Builder::new()
        .prefix("pypi-oidc-publish-artifacts-")
        .tempdir_in(&base)
        .with_context(|| format!("cannot create a folder in {}", base.display()))
}

/// The run whose artifacts are published, as the report names it.
fn run_source(d: &Downloaded) -> RunSource {
    RunSource {
        run_id: d.run.id,
        run_url: d.run.html_url.clone(),
        event: d.run.event.clone(),
        head_sha: d.run.head_sha.clone(),
        head_branch: d.run.head_branch.clone(),
        build_ref: d.build_ref.clone(),
        artifacts: d.artifacts.iter().map(|a| a.name.clone()).collect(),
    }
}

/// Run every distribution check of a one-release command; on failure, nothing may be
/// uploaded.
pub(super) fn check(paths: &[PathBuf]) -> Result<Release, Failure> {
    let _group = reporting::group("Checking distributions");
    let (release, skipped) = distribution::collect(paths).map_err(check_failure)?;
    tell_checked(&skipped, std::slice::from_ref(&release));
    Ok(release)
}

/// Run every distribution check of every release (one per project); on failure, nothing may
/// be uploaded.
fn check_releases(paths: &[PathBuf]) -> Result<Vec<Release>, Failure> {
    let _group = reporting::group("Checking distributions");
    let (releases, skipped) = distribution::collect_releases(paths).map_err(check_failure)?;
    tell_checked(&skipped, &releases);
    Ok(releases)
}

fn tell_checked(skipped: &[Skipped], releases: &[Release]) {
    for s in skipped {
        tracing::info!(
            "skipping {}: {}",
            reporting::shown(s.path.display()),
            reporting::shown(&s.reason)
        );
    }
    for d in releases.iter().flat_map(|r| &r.distributions) {
        tracing::info!(
            "  {} ({})",
            reporting::shown(&d.filename),
            reporting::human_size(d.size)
        );
    }
}

fn check_failure(failure: CheckFailure) -> Failure {
    // In Actions each problem also becomes an annotation on the run; the final error lists
    // them all either way.
    if reporting::in_actions() {
        for p in &failure.problems {
            reporting::annotate(Level::Error, &p.path.display().to_string(), &p.message);
        }
    }
    let list = failure.to_string();
    Failure::Told(format!(
        "{}\nnothing was uploaded: fix the problem{} above and run again",
        list.trim_end(),
        plural(failure.problems.len())
    ))
}

fn tell_plan(label: &str, steps: &[Step<'_>], new_release: bool) {
    let there = steps.iter().filter(|s| s.already_there().is_some()).count();
    tracing::info!(
        "{label}: {} to upload, {there} already on the index{}",
        steps.len() - there,
        if new_release { " (a new release)" } else { "" }
    );
    for step in steps {
        let what = match step.already_there() {
            Some(_) => "already there (same sha256), not sent again",
            None => "upload",
        };
        tracing::info!("  {}: {what}", step.dist.filename);
    }
}

/// Which index view was read, and why there is no release page when there is none: only
/// Warehouse and devpi have one, and an empty `release-url` must not look like a failure.
fn tell_index_read(cfg: &PublishConfig, report: &Report, api: &Index<'_>) {
    let simple = cfg
        .index
        .simple
        .as_ref()
        .map(|s| {
            format!(
                "simple index <code>{}</code> ({})",
                summary::md(&s.url),
                summary::md(&s.why)
            )
        })
        .unwrap_or_else(|| "no simple index (give `simple-url`)".to_owned());
    let read = if api.is_warehouse() {
        format!("{simple}, and Warehouse's JSON API")
    } else {
        simple
    };
    let pages = report.releases.iter().all(|r| !r.release_url.is_empty());
    let why = if pages {
        String::new()
    } else if api.is_warehouse() {
        " The index did not name a release page.".to_owned()
    } else {
        " No release page: this index has none (only Warehouse and devpi do), so \
         `release-url` is empty; the file links above are the downloads."
            .to_owned()
    };
    if !pages {
        tracing::info!(
            "no release page: `release-url` is empty (only Warehouse and devpi have one)"
        );
    }
    let _ = summary::write_step_summary(&format!("Read: {read}.{why}\n\n"));
}

/// Whether (and with which Sigstore) to sign attestations: PyPI checks them only for trusted
/// publishing, and only PyPI and TestPyPI show them, unless a Sigstore is named explicitly.
fn attestation_sigstore(cfg: &PublishConfig, auth: &Auth) -> Option<SigstoreUrls> {
    if !cfg.attestations.wanted || cfg.dry_run {
        return None;
    }
    if !matches!(auth, Auth::Trusted(_)) {
        reporting::tell(&Notice::info(
            "No attestations",
            "PEP 740 attestations are only accepted with trusted publishing; publishing without them",
        ));
        return None;
    }
    let index_url = &cfg.index.index_url;
    let pypi = matches!(index_url.host_str(), Some("pypi.org" | "test.pypi.org"));
    if !pypi && !cfg.attestations.names_a_sigstore() {
        reporting::tell(&Notice::info(
            "No attestations",
            format!(
                "{index_url} is neither PyPI nor TestPyPI, which are the indexes that check PEP \
                 740 attestations; publishing without them (name a Sigstore with --fulcio-url \
                 and --rekor-url to sign anyway)"
            ),
        ));
        return None;
    }
    Some(cfg.attestations.sigstore())
}

/// Sign the attestations of every release; a failure is told here and stops the publish.
async fn sign(
    cfg: &PublishConfig,
    auth: &Auth,
    urls: &SigstoreUrls,
    planned: &mut [Planned<'_>],
    from_artifacts: bool,
) -> Result<(), Failure> {
    let steps = || planned.iter().flat_map(|p| p.steps.iter());
    if steps().all(|s| s.already_there().is_some()) {
        return Ok(());
    }
    let _group = reporting::group("Signing PEP 740 attestations");
    let dir = attestation_dir(cfg.report_file.as_deref(), from_artifacts);
    let signed = match auth.job_oidc() {
        Ok(oidc) => {
            publish::sign(
                &cfg.http,
                oidc,
                urls,
                planned.iter_mut().flat_map(|p| p.steps.iter_mut()),
                cfg.concurrency.fixed_or(4),
                dir.as_deref(),
            )
            .await
        }
        Err(e) => Err(e),
    };
    if let Err(e) = signed {
        reporting::annotate(
            Level::Error,
            "Signing the attestations failed",
            &format!("{e:#}"),
        );
        return Err(Failure::Told(format!(
            "{e:#}\nnothing was uploaded: the attestations could not be signed (set \
             `attestations: false` to publish without them)"
        )));
    }
    for step in planned.iter().flat_map(|p| p.steps.iter()) {
        if let Some(a) = step.attestation() {
            tracing::info!("signed {} -> {}", step.dist.filename, a.file.display());
        }
    }
    Ok(())
}

/// Where `<file>.publish.attestation` files go: beside the report; for artifacts (extracted
/// into a temporary folder that is removed at the end) an `attestations` folder in the working
/// directory, the workspace in the action; otherwise beside each distribution.
fn attestation_dir(report: Option<&Path>, from_artifacts: bool) -> Option<PathBuf> {
    if let Some(parent) = report.and_then(|r| r.parent()) {
        return Some(if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_owned()
        });
    }
    from_artifacts.then(|| PathBuf::from("attestations"))
}

fn tell_authenticated(
    result: Result<auth::Authenticated, CredentialsError>,
) -> Result<(), Failure> {
    let ready = match result {
        Ok(ready) => ready,
        Err(CredentialsError::Missing(why)) => return Err(anyhow::anyhow!(why).into()),
        Err(CredentialsError::Mint(e)) => return Err(mint_failure(e)),
    };
    ready.notices.iter().for_each(reporting::tell);
    if let Some(expires) = ready.minted_expires {
        tracing::info!(
            "minted a short-lived upload token through trusted publishing{}",
            expires
                .map(|e| format!(" (expires at unix time {e})"))
                .unwrap_or_default()
        );
    }
    Ok(())
}

/// A mint refusal is told in full, once: the log, an annotation and the job summary.
pub(super) fn mint_failure(e: MintError) -> Failure {
    let headline = e.to_string();
    match e {
        MintError::Refused { explanation, .. } => {
            tracing::error!("{explanation}");
            reporting::annotate(Level::Error, "Trusted publishing failed", &explanation);
            let _ = summary::write_step_summary(&format!(
                "## Trusted publishing failed\n\n<pre>\n{}\n</pre>\n\n",
                summary::html(&explanation)
            ));
            Failure::Told(headline)
        }
        MintError::Failed(e) => Failure::Untold(e),
    }
}

fn cancelled_before_upload(signal: &str) -> Failure {
    Failure::Told(format!(
        "{signal} received before the first upload: nothing was uploaded"
    ))
}

fn print_hash(filename: &str, d: &Digests) {
    reporting::print_err(&format!(
        "{}\n  sha256:      {}\n  blake2b-256: {}",
        reporting::shown(filename),
        d.sha256,
        d.blake2_256
    ));
}

/// Render a report to stdout (URLs), the step outputs, the job summary and the report file.
fn emit(report: &Report, dry_run: bool, report_file: Option<&Path>) -> Result<(), Failure> {
    for url in report.urls() {
        reporting::print_out(&reporting::shown(url).to_string());
    }
    outputs::write_github_output(report)?;
    summary::write_step_summary(&summary::summary_markdown(report, dry_run))?;
    if let Some(p) = report_file {
        outputs::write_report_file(p, report)?;
    }
    Ok(())
}

/// The run's verdict: every file on the index, or an error that says which are not, release
/// by release. A file the index lists with other bytes (`mismatch`) is told apart: re-running
/// cannot fix it.
fn verdict(report: &Report) -> Result<(), Failure> {
    if report.complete() {
        return Ok(());
    }
    let names = |r: &ReleaseReport, which: fn(FileStatus) -> bool| -> Vec<String> {
        r.files
            .iter()
            .filter(|f| which(f.status))
            .map(|f| f.filename.clone())
            .collect()
    };
    let is_on = |s: FileStatus| s.on_index();
    let is_off = |s: FileStatus| !s.on_index() && s != FileStatus::Mismatch;
    let is_other = |s: FileStatus| s == FileStatus::Mismatch;
    let mismatched: Vec<String> = report
        .releases
        .iter()
        .flat_map(|r| names(r, is_other))
        .collect();
    let unproven: Vec<String> = report
        .files()
        .filter(|f| f.provenance == Some(ProvenanceCheck::Invalid))
        .map(|f| f.filename.clone())
        .collect();
    let advice = if mismatched.is_empty() && !unproven.is_empty() {
        format!(
            "The index serves provenance for {} that does not prove this run published them \
             (see the errors above): find out why before anyone installs the release.",
            unproven.join(", ")
        )
    } else if mismatched.is_empty() {
        "Fix the cause and re-run: files already on the index are not sent again.".to_owned()
    } else {
        format!(
            "The index holds other bytes under the name of {} (see the error above): do not \
             re-run before you know why.",
            mismatched.join(", ")
        )
    };
    // What is on the index, what is not, and what the index holds other bytes as.
    let state = |r: &ReleaseReport| -> String {
        let (on, off, other) = (names(r, is_on), names(r, is_off), names(r, is_other));
        let mut parts = Vec::new();
        if !on.is_empty() {
            parts.push(format!("on the index: {}", on.join(", ")));
        }
        if !off.is_empty() {
            parts.push(format!("NOT on the index: {}", off.join(", ")));
        }
        if !other.is_empty() {
            parts.push(format!(
                "OTHER BYTES on the index (mismatch): {}",
                other.join(", ")
            ));
        }
        let unproven: Vec<&str> = r
            .files
            .iter()
            .filter(|f| f.provenance == Some(ProvenanceCheck::Invalid))
            .map(|f| f.filename.as_str())
            .collect();
        if !unproven.is_empty() {
            parts.push(format!("provenance NOT verified: {}", unproven.join(", ")));
        }
        parts.join("; ")
    };
    if let Some(r) = report.single() {
        if names(r, is_on).is_empty() && mismatched.is_empty() {
            return Err(anyhow::anyhow!(
                "nothing was published: {} not uploaded",
                names(r, is_off).join(", ")
            )
            .into());
        }
        return Err(anyhow::anyhow!("the release is incomplete: {}. {advice}", state(r)).into());
    }
    let lines: Vec<String> = report
        .releases
        .iter()
        .map(|r| {
            let state = if r.complete() {
                "complete".to_owned()
            } else if names(r, is_on).is_empty() && names(r, is_other).is_empty() {
                format!(
                    "nothing published: {} not uploaded",
                    names(r, is_off).join(", ")
                )
            } else {
                format!("incomplete: {}", state(r))
            };
            format!("  {} {}: {state}", r.name, r.version)
        })
        .collect();
    Err(anyhow::anyhow!("the publish is incomplete:\n{}\n{advice}", lines.join("\n")).into())
}
