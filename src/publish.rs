//! The publish path: check, plan, upload, confirm, report.
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use futures_util::StreamExt;
use url::Url;

use crate::attest::{Signer, SigstoreUrls};
use crate::distribution::{self, DistKind, Distribution, Release};
use crate::gha::{self, Level};
use crate::hashing::{self, Digests};
use crate::http::Http;
use crate::index::{IndexFile, JsonApi, ReleaseState};
use crate::oidc::RunnerOidc;
use crate::outputs::{self, FileReport, FileStatus, Report};
use crate::upload::{self, Credentials, Refusal, UploadRequest};

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
            r = attest(http, urls, &mut plan, opts) => r?,
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
        let _group = gha::group(&format!(
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
        uploader.progress = crate::progress::start(to_upload.iter().map(|s| s.dist.size).sum());
        let uploads = async {
            for batch in [wheels, sdists] {
                uploader.batch(batch).await;
            }
        };
        tokio::select! {
            _ = uploads => {}
            signal = crate::signals::cancelled() => {
                cancelled = true;
                gha::annotate(
                    Level::Error,
                    "Publish cancelled",
                    &format!("{signal} received: stopped uploading; the report below says which files reached the index"),
                );
            }
        }
    }
    crate::progress::finish(uploader.progress.take());
    let mut results = uploader
        .results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner());

    for step in &plan {
        let (status, digests, error) =
            match (&step.already_there, results.remove(&step.dist.filename)) {
                (Some(_), _) => (FileStatus::AlreadyThere, step.digests.clone(), None),
                (None, Some(Ok(d))) => (FileStatus::Uploaded, Some(d), None),
                (None, Some(Err(Explained::AlreadyThere(d)))) => {
                    (FileStatus::AlreadyThere, Some(d), None)
                }
                (None, Some(Err(Explained::Failed(msg)))) => {
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
        confirm(&api, &release, &mut report, opts.confirm_timeout).await;
    }
    Ok(report)
}

/// Everything an upload needs that is the same for every file of the run.
struct Uploader<'a, C> {
    http: &'a Http,
    opts: &'a PublishOptions,
    api: &'a JsonApi<'a>,
    release: &'a Release,
    creds: &'a C,
    progress: Option<indicatif::ProgressBar>,
    /// Filled as each upload finishes, so a cancellation still knows what got through.
    results: Mutex<HashMap<String, Result<Digests, Explained>>>,
}

impl<C: CredentialSource> Uploader<'_, C> {
    async fn batch(&self, batch: Vec<&Step<'_>>) {
        futures_util::stream::iter(batch)
            .for_each_concurrent(self.opts.concurrency.max(1), |step| async move {
                let started = Instant::now();
                let name = step.dist.filename.clone();
                let outcome = match self.one(step).await {
                    Ok(d) => {
                        tracing::info!(
                            "uploaded {name} ({}, {:.1}s)",
                            outputs::human_size(step.dist.size),
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

/// Hash every file still to upload that has no digests yet, in parallel.
async fn hash_pending(plan: &mut [Step<'_>]) -> anyhow::Result<()> {
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

/// Sign a PEP 740 attestation for every file to upload, after the checks and before any
/// upload: a signing failure stops the publish with nothing uploaded.
async fn attest(
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
    let _group = gha::group("Signing PEP 740 attestations");
    let fail = |e: anyhow::Error| {
        gha::annotate(
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
    gha::print_err(&format!(
        "{}\n  sha256:      {}\n  blake2b-256: {}",
        gha::shown(filename),
        d.sha256,
        d.blake2_256
    ));
}

/// Run every distribution check; on failure, nothing may be uploaded.
pub fn check(paths: &[PathBuf]) -> anyhow::Result<Release> {
    let _group = gha::group("Checking distributions");
    match distribution::collect(paths) {
        Ok((release, skipped)) => {
            for s in &skipped {
                tracing::info!(
                    "skipping {}: {}",
                    gha::shown(s.path.display()),
                    gha::shown(&s.reason)
                );
            }
            for d in &release.distributions {
                tracing::info!(
                    "  {} ({})",
                    gha::shown(&d.filename),
                    outputs::human_size(d.size)
                );
            }
            Ok(release)
        }
        Err(failure) => {
            // In Actions each problem also becomes an annotation on the run; the final error
            // lists them all either way.
            if gha::in_actions() {
                for p in &failure.problems {
                    gha::annotate(Level::Error, &p.path.display().to_string(), &p.message);
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

struct Step<'a> {
    dist: &'a Distribution,
    /// The PEP 740 attestations (a JSON array) sent with the file.
    attestation: Option<String>,
    /// Where the attestation was written.
    attestation_file: Option<PathBuf>,
    /// Known before the upload only when the file had to be compared with the index.
    digests: Option<Digests>,
    already_there: Option<IndexFile>,
}

/// Compare the local files with what the index already holds, before uploading anything:
/// identical files are already there, a different file under a taken name is refused now,
/// while the index is still untouched.
async fn plan<'a>(api: &JsonApi<'_>, release: &'a Release) -> anyhow::Result<Vec<Step<'a>>> {
    let state = match api
        .release(&release.normalized_name, &release.version)
        .await
    {
        Ok(Some(state)) => state,
        Ok(None) => ReleaseState::default(),
        Err(e) => {
            gha::annotate(
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
            gha::annotate(Level::Error, "File conflicts with the index", c);
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

fn conflict_message(
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

enum Explained {
    AlreadyThere(Digests),
    Failed(String),
}

/// Turn an upload error into what the release manager needs to know and do.
async fn explain_failure(
    api: &JsonApi<'_>,
    release: &Release,
    dist: &Distribution,
    err: anyhow::Error,
    skip_existing: bool,
) -> Explained {
    let name = &dist.filename;
    let Some(refusal) = err.downcast_ref::<Refusal>() else {
        let msg = format!("{err:#}");
        gha::annotate(Level::Error, &format!("Upload of {name} failed"), &msg);
        return Explained::Failed(msg);
    };
    // Whether the index holds exactly this file decides between "already there" and a
    // conflict; the upload refusal alone cannot tell.
    let local = hashing::hash_file(&dist.path).await.ok();
    let on_index = match api
        .release(&release.normalized_name, &release.version)
        .await
    {
        Ok(Some(state)) => state.file(name).cloned().or_else(|| {
            (dist.kind == DistKind::Sdist)
                .then(|| {
                    state
                        .files
                        .iter()
                        .find(|f| f.packagetype == "sdist")
                        .cloned()
                })
                .flatten()
        }),
        _ => None,
    };
    let same = |f: &IndexFile| match (&local, f.digests.sha256.as_deref()) {
        (Some(l), Some(s)) => l.sha256.eq_ignore_ascii_case(s),
        _ => false,
    };
    // The refusal itself may name the index's blake2b-256 (Warehouse's "File already exists").
    let index_blake = match refusal {
        Refusal::FileExists {
            index_blake2_256, ..
        } => index_blake2_256.as_deref(),
        _ => None,
    };
    let blake_same =
        matches!((&local, index_blake), (Some(l), Some(b)) if l.blake2_256.eq_ignore_ascii_case(b));
    // Different for sure: the JSON API or the refusal shows another hash.
    let known_different = on_index
        .as_ref()
        .is_some_and(|f| f.digests.sha256.is_some() && !same(f))
        || (index_blake.is_some() && !blake_same);
    let msg = match refusal {
        Refusal::FileExists { .. } | Refusal::Conflict { .. } | Refusal::SdistExists { .. }
            if on_index.as_ref().is_some_and(same) || blake_same =>
        {
            if let Some(d) = local {
                tracing::info!("{name} is already on the index with the same sha256");
                return Explained::AlreadyThere(d);
            }
            refusal.to_string()
        }
        // An index without a JSON API (pypiserver answers 409) cannot show the file is the
        // same: --skip-existing takes the user's word for it, never against a known hash.
        Refusal::FileExists { .. } | Refusal::Conflict { .. }
            if skip_existing && !known_different && local.is_some() =>
        {
            gha::annotate(
                Level::Warning,
                "Skipped an existing file",
                &format!(
                    "{name}: the index already has a file of this name and cannot show whether it \
                     is the same one; --skip-existing counts it as published (\"{}\")",
                    refusal.message()
                ),
            );
            if let Some(d) = local {
                return Explained::AlreadyThere(d);
            }
            refusal.to_string()
        }
        Refusal::FileExists {
            index_blake2_256, ..
        } => match &local {
            Some(l) => conflict_message(
                name,
                l,
                on_index.as_ref().and_then(|f| f.digests.sha256.as_deref()),
                index_blake2_256.as_deref(),
            ),
            None => refusal.to_string(),
        },
        Refusal::SdistExists { message } => format!(
            "{name}: the index refused it: \"{message}\" The release already has a different \
             sdist{}; an sdist cannot be replaced: publish a new version.",
            on_index
                .map(|f| format!(" ({})", f.filename))
                .unwrap_or_default()
        ),
        Refusal::Conflict { message } => format!(
            "{name}: the index says the file already exists (\"{message}\") and its JSON API \
             could not show that it is the same file; use --skip-existing if you know it is"
        ),
        Refusal::Auth { message } => format!(
            "{name}: the index refused the credentials (\"{message}\"). Check that the API \
             token is current and belongs to an account that may upload to {}, or use trusted \
             publishing.",
            release.name
        ),
        Refusal::Forbidden { message } => format!(
            "{name}: the credentials may not upload to {} (\"{message}\"). Use a token scoped \
             to this project, or register this workflow as its trusted publisher.",
            release.name
        ),
        Refusal::Other { status, message } => {
            format!("{name}: the index refused the upload with HTTP {status}: {message}")
        }
    };
    gha::annotate(Level::Error, &format!("Upload of {name} failed"), &msg);
    Explained::Failed(msg)
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
        url: on_index.map(|f| f.url.clone()).unwrap_or_default(),
        sha256: digests.map(|d| d.sha256.clone()).unwrap_or_default(),
        blake2_256: digests.map(|d| d.blake2_256.clone()).unwrap_or_default(),
        size: dist.size,
        packagetype: dist.kind.filetype().to_owned(),
        python_version: dist.pyversion.clone(),
        upload_time: on_index.and_then(|f| f.upload_time_iso_8601.clone()),
        confirmed: on_index.is_some(),
        error: None,
        attestation_file: None,
    }
}

/// Wait, bounded, until the JSON API lists every file that is on the index with the sha256
/// that was sent, and take each file's URL from it. The JSON API is cached and may lag.
async fn confirm(api: &JsonApi<'_>, release: &Release, report: &mut Report, timeout: Duration) {
    let pending = |r: &Report| {
        r.files
            .iter()
            .filter(|f| f.status.on_index() && !f.confirmed)
            .count()
    };
    if report.files.iter().all(|f| !f.status.on_index()) {
        return;
    }
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        if let Ok(Some(state)) = api
            .release_once(&release.normalized_name, &release.version)
            .await
        {
            if let Some(url) = &state.release_url {
                report.release_url = url.clone();
            }
            for f in report.files.iter_mut().filter(|f| f.status.on_index()) {
                if let Some(remote) = state.file(&f.filename) {
                    let same = remote
                        .digests
                        .sha256
                        .as_deref()
                        .is_some_and(|s| s.eq_ignore_ascii_case(&f.sha256));
                    if same {
                        f.url = remote.url.clone();
                        f.upload_time = remote.upload_time_iso_8601.clone();
                        f.confirmed = true;
                    }
                }
            }
        }
        if pending(report) == 0 || started.elapsed() >= timeout {
            break;
        }
        let wait = delay.min(timeout.saturating_sub(started.elapsed()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            signal = crate::signals::cancelled() => {
                tracing::warn!("{signal} received: stopped waiting for the JSON API");
                break;
            }
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    let missing: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.status.on_index() && !f.confirmed)
        .map(|f| f.filename.as_str())
        .collect();
    if !missing.is_empty() {
        gha::annotate(
            Level::Warning,
            "Not yet visible on the index",
            &format!(
                "the index accepted {} (HTTP 200) but its JSON API did not list {} with the same \
                 sha256 within {}s; the JSON API is cached and can lag behind uploads. Check {} later.",
                missing.join(", "),
                if missing.len() == 1 { "it" } else { "them" },
                timeout.as_secs(),
                report.release_url
            ),
        );
    }
}

/// Render a report to stdout (URLs), the step outputs, the job summary and the report file.
pub fn emit(
    report: &Report,
    dry_run: bool,
    report_path: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    for url in report.urls() {
        gha::print_out(&gha::shown(url).to_string());
    }
    outputs::write_github_output(report)?;
    outputs::write_step_summary(&outputs::summary_markdown(report, dry_run))?;
    if let Some(p) = report_path {
        outputs::write_report_file(p, report)?;
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
