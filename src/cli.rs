//! The command-line contract. Every flag falls back to the variable GitHub sets for the
//! container action's input of the same name (`INPUT_` + name upper-cased, dashes kept), so
//! the binary run with no flags inside the action behaves as the action's inputs say.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::artifacts;
use crate::attest::SigstoreUrls;
use crate::auth::{Auth, TrustedPublishing};
use crate::http::{Http, RetryPolicy};
use crate::publish::{self, PublishOptions};
use crate::reporting::{self, Level};
use crate::secret::Secret;

pub const DEFAULT_REPOSITORY_URL: &str = "https://upload.pypi.org/legacy/";
/// The folder published when nothing else is named.
pub const DEFAULT_PACKAGES_DIR: &str = "dist";

#[derive(Parser)]
#[command(
    name = "pypi-oidc-publish",
    version,
    about = "Publish Python distributions to PyPI from GitHub Actions, with trusted publishing"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Check distributions, upload them, confirm them on the index and report their URLs.
    Publish(PublishArgs),
    /// Exchange the job's GitHub OIDC token for a short-lived upload token and print only it
    /// (masked in the job log), for workflows that hand it to another tool.
    MintToken(MintTokenArgs),
    /// Download and check the artifacts of a workflow run, without publishing them.
    Download(DownloadArgs),
    /// Record the published URLs and upload time into the release fixtures.
    Record(RecordCliArgs),
}

#[derive(Args)]
pub struct RecordCliArgs {
    /// The publish step's `published` output: its JSON, or a file holding it.
    #[arg(long, env = "INPUT_PUBLISHED")]
    pub published: String,

    /// Folder of the release fixtures (`releases__packagerelease_<version>.json`).
    #[arg(long, env = "INPUT_FIXTURES")]
    pub fixtures: PathBuf,

    /// The release page [default: https://pypi.org/project/{name}/{version}/].
    #[arg(long, env = "INPUT_RELEASE-URL")]
    pub release_url: Option<String>,

    /// Project name [default: from the first published filename].
    #[arg(long, env = "INPUT_NAME")]
    pub name: Option<String>,

    /// Release version [default: from the first published filename].
    #[arg(long = "version", env = "INPUT_VERSION")]
    pub release_version: Option<String>,

    /// Also set `github_url` to this.
    #[arg(long, env = "INPUT_GITHUB-URL")]
    pub github_url: Option<String>,

    /// The release time (ISO 8601) when the published files carry no upload time.
    #[arg(long, env = "INPUT_RELEASE-ON")]
    pub release_on: Option<String>,

    /// Commit recorded in a record created with --create.
    #[arg(long, env = "INPUT_REVISION")]
    pub revision: Option<String>,

    /// Create the record when the fixtures have none for this release.
    #[arg(long, env = "INPUT_CREATE")]
    pub create: bool,

    /// Print the change; write nothing.
    #[arg(long, env = "INPUT_DRY-RUN")]
    pub dry_run: bool,

    /// Show debug output.
    #[arg(long, short, env = "INPUT_VERBOSE")]
    pub verbose: bool,
}

#[derive(Args)]
pub struct DownloadArgs {
    /// A new or empty folder to extract the artifacts into.
    #[arg(long, env = "INPUT_DEST")]
    pub dest: PathBuf,

    #[command(flatten)]
    pub artifacts: ArtifactArgs,

    /// Seconds a request may stall without a byte before it is retried (and a small API
    /// request may take in all).
    #[arg(long, env = "INPUT_TIMEOUT", default_value_t = 60)]
    pub timeout: u64,

    /// Show debug output.
    #[arg(long, short, env = "INPUT_VERBOSE")]
    pub verbose: bool,
}

#[derive(Args)]
pub struct MintTokenArgs {
    /// The index's legacy upload URL (decides which index mints the token).
    #[arg(long, env = "INPUT_REPOSITORY-URL", default_value = DEFAULT_REPOSITORY_URL)]
    pub repository_url: String,

    /// Web root of the index [default: derived from --repository-url].
    #[arg(long, env = "INPUT_INDEX-URL")]
    pub index_url: Option<String>,

    /// The project the token is for (only used to point a refusal at its settings page).
    #[arg(long, env = "INPUT_PROJECT")]
    pub project: Option<String>,

    /// Seconds a request may stall without a byte before it is retried (and a small API
    /// request may take in all).
    #[arg(long, env = "INPUT_TIMEOUT", default_value_t = 60)]
    pub timeout: u64,

    /// Show debug output.
    #[arg(long, short, env = "INPUT_VERBOSE")]
    pub verbose: bool,
}

#[derive(Args)]
pub struct PublishArgs {
    /// Distribution files or folders holding them [default: --packages-dir]
    pub paths: Vec<PathBuf>,

    /// The index's legacy upload URL.
    #[arg(long, env = "INPUT_REPOSITORY-URL", default_value = DEFAULT_REPOSITORY_URL)]
    pub repository_url: String,

    /// Folder of distributions, used when no PATHS are given. Given explicitly, it wins over
    /// the triggering run of a `workflow_run` job [default: dist].
    #[arg(long, env = "INPUT_PACKAGES-DIR")]
    pub packages_dir: Option<PathBuf>,

    /// API token (or password). Also read from PYPI_API_TOKEN. Prefer trusted publishing.
    #[arg(long, env = "INPUT_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,

    /// User name for the password; API tokens use `__token__`.
    #[arg(long, env = "INPUT_USER", default_value = "__token__")]
    pub user: String,

    /// Count files already on the index as published even when the index cannot show they
    /// are identical (indexes without a JSON API). A different file under a taken name is
    /// still an error.
    #[arg(long, env = "INPUT_SKIP-EXISTING")]
    pub skip_existing: bool,

    /// Do every check and print what would be uploaded; upload nothing.
    #[arg(long, env = "INPUT_DRY-RUN")]
    pub dry_run: bool,

    /// Show debug output.
    #[arg(long, short, env = "INPUT_VERBOSE")]
    pub verbose: bool,

    /// Print the sha256 and blake2b-256 of every file.
    #[arg(long, env = "INPUT_PRINT-HASH")]
    pub print_hash: bool,

    /// Also write the `published` JSON to this file.
    #[arg(long, env = "INPUT_REPORT")]
    pub report: Option<PathBuf>,

    /// Web root of the index, for its JSON API [default: derived from --repository-url:
    /// upload.pypi.org -> https://pypi.org, otherwise the same origin].
    #[arg(long, env = "INPUT_INDEX-URL")]
    pub index_url: Option<String>,

    /// Hash every file before uploading it and send its digests ahead of its content, for an
    /// index that reads the upload form as a stream (Warehouse, devpi and pypiserver read the
    /// whole form and take the faster default: digests computed while the file streams).
    #[arg(long, env = "INPUT_HASH-FIRST")]
    pub hash_first: bool,

    /// Files uploaded at once.
    #[arg(long, env = "INPUT_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,

    /// Use trusted publishing (OIDC): `auto` unless an API token is given.
    #[arg(long, env = "INPUT_TRUSTED-PUBLISHING", value_enum, default_value_t = TrustedPublishing::Auto)]
    pub trusted_publishing: TrustedPublishing,

    /// Seconds to wait for the index's JSON API to list the uploaded files.
    #[arg(long, env = "INPUT_CONFIRM-TIMEOUT", default_value_t = 60)]
    pub confirm_timeout: u64,

    /// Accepted for compatibility with pypa/gh-action-pypi-publish: every file is always
    /// checked before anything is uploaded; `false` only prints a notice saying so.
    #[arg(long, env = "INPUT_VERIFY-METADATA", value_name = "BOOL", default_value_t = true,
          action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub verify_metadata: bool,

    /// Sign a PEP 740 publish attestation for every file (trusted publishing to PyPI or
    /// TestPyPI, or any index when --fulcio-url/--rekor-url are given).
    #[arg(long, env = "INPUT_ATTESTATIONS", value_name = "BOOL", default_value_t = true,
          action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub attestations: bool,

    /// Fulcio of the Sigstore instance that signs attestations [default: the public one].
    #[arg(long, env = "INPUT_FULCIO-URL")]
    pub fulcio_url: Option<String>,

    /// Rekor (v1) of the Sigstore instance that logs attestations [default: the public one].
    #[arg(long, env = "INPUT_REKOR-URL")]
    pub rekor_url: Option<String>,

    /// Seconds a request may stall without a byte before it is retried (and a small API
    /// request may take in all).
    #[arg(long, env = "INPUT_TIMEOUT", default_value_t = 60)]
    pub timeout: u64,

    #[command(flatten)]
    pub artifacts: ArtifactArgs,
}

/// Where to take distributions from a workflow run's artifacts.
#[derive(Args)]
pub struct ArtifactArgs {
    /// Publish the artifacts of this workflow run [default: in a job started by
    /// `workflow_run`, the triggering run, unless PATHS or --packages-dir are given].
    #[arg(long, env = "INPUT_RUN-ID")]
    pub run_id: Option<String>,

    /// Only artifacts whose name matches this glob (repeatable; the input takes one per line
    /// or comma-separated) [default: every artifact].
    #[arg(
        long = "artifact-pattern",
        env = "INPUT_ARTIFACT-PATTERN",
        value_delimiter = ','
    )]
    pub artifact_patterns: Vec<String>,

    /// Token for the GitHub API (`actions: read`) [default: GITHUB_TOKEN].
    #[arg(long, env = "INPUT_GITHUB-TOKEN", hide_env_values = true)]
    pub github_token: Option<String>,

    /// Refuse a run that did not build this commit.
    #[arg(long, env = "INPUT_EXPECT-SHA")]
    pub expect_sha: Option<String>,

    /// Publish even from a run whose code came from another repository (a fork). Dangerous:
    /// its artifacts hold code nobody in this repository reviewed.
    #[arg(long, env = "INPUT_ALLOW-UNTRUSTED-RUN")]
    pub allow_untrusted_run: bool,

    /// Also publish from runs of these events (repeatable; the input takes one per line or
    /// comma-separated), with a warning. Runs of push, release, workflow_dispatch and schedule
    /// are always accepted; any other event (workflow_run, pull_request_target, issue_comment,
    /// ...) only when named here.
    #[arg(
        long = "allow-run-events",
        env = "INPUT_ALLOW-RUN-EVENTS",
        value_delimiter = ','
    )]
    pub allow_run_events: Vec<String>,

    /// Refuse a run of any other workflow file than this one, e.g.
    /// `.github/workflows/build.yml` (a bare file name means one in .github/workflows/).
    #[arg(long, env = "INPUT_BUILD-WORKFLOW")]
    pub build_workflow: Option<String>,
}

impl ArtifactArgs {
    fn source(&self) -> anyhow::Result<artifacts::Source> {
        let token = non_empty(self.github_token.clone())
            .or_else(|| non_empty(std::env::var("GITHUB_TOKEN").ok()))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "downloading artifacts needs a GitHub token: pass `github-token: ${{{{ \
                     github.token }}}}` (the job needs `permissions: actions: read`), \
                     --github-token, or GITHUB_TOKEN"
                )
            })?;
        reporting::add_mask(&token);
        let repository = non_empty(std::env::var("GITHUB_REPOSITORY").ok()).ok_or_else(|| {
            anyhow::anyhow!("GITHUB_REPOSITORY is not set: it names the repository (owner/repo) whose run to read")
        })?;
        let api = non_empty(std::env::var("GITHUB_API_URL").ok())
            .unwrap_or_else(|| "https://api.github.com".to_owned());
        // Set by the runner in every job; without it the run's own `repository.id` is used.
        let repository_id = non_empty(std::env::var("GITHUB_REPOSITORY_ID").ok())
            .and_then(|id| id.trim().parse().ok());
        Ok(artifacts::Source {
            api_url: parse_url("GITHUB_API_URL", &api)?,
            repository,
            repository_id,
            token: Secret::new(token),
        })
    }

    fn run_id(&self) -> anyhow::Result<Option<u64>> {
        match non_empty(self.run_id.clone()) {
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .with_context(|| format!("run id {v:?} is not a number")),
            None => Ok(None),
        }
    }

    fn selection(&self, run_id: u64) -> artifacts::Selection {
        artifacts::Selection {
            run_id,
            patterns: self
                .artifact_patterns
                .iter()
                .flat_map(|p| p.lines())
                .map(|p| p.trim().to_owned())
                .filter(|p| !p.is_empty())
                .collect(),
            expect_sha: non_empty(self.expect_sha.clone()),
            allow_untrusted_run: self.allow_untrusted_run,
            allow_run_events: self
                .allow_run_events
                .iter()
                .flat_map(|e| e.split([',', '\n']))
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty())
                .collect(),
            build_workflow: non_empty(self.build_workflow.clone()),
        }
    }
}

/// GitHub passes every declared input, unset ones as empty strings; empty means "not given".
fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn parse_url(what: &str, s: &str) -> anyhow::Result<Url> {
    let url =
        Url::parse(s.trim()).map_err(|e| anyhow::anyhow!("{what} is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") {
        anyhow::bail!("{what} must be an http(s) URL");
    }
    // A password in a URL would be printed with it in logs and summaries.
    if !url.username().is_empty() || url.password().is_some() {
        anyhow::bail!(
            "{what} carries credentials (user:password@): give the URL without them and the \
             token with --password or the `password` input"
        );
    }
    Ok(url)
}

/// The index's web root: `--index-url` or derived from the upload URL.
fn resolve_index_url(repository_url: &Url, index_url: Option<String>) -> anyhow::Result<Url> {
    match non_empty(index_url) {
        Some(u) => {
            let mut u = parse_url("--index-url", &u)?;
            if !u.path().ends_with('/') {
                u.set_path(&format!("{}/", u.path()));
            }
            Ok(u)
        }
        None => Ok(crate::index::index_url_for(repository_url)),
    }
}

/// The API token, from the flag/input or `PYPI_API_TOKEN`, masked before anything can print it.
fn api_token(password: Option<String>) -> Option<Secret> {
    let p = non_empty(password).or_else(|| non_empty(std::env::var("PYPI_API_TOKEN").ok()))?;
    reporting::add_mask(&p);
    Some(Secret::new(p))
}

async fn run_publish(args: PublishArgs) -> anyhow::Result<()> {
    if !args.verify_metadata {
        reporting::annotate(
            Level::Notice,
            "verify-metadata",
            "verify-metadata: false has no effect: every file's name, version, metadata and \
             hashes are always checked before anything is uploaded",
        );
    }
    let password = api_token(args.password.clone());
    let repository_url = parse_url("--repository-url", &args.repository_url)?;
    let index_url = resolve_index_url(&repository_url, args.index_url.clone())?;
    let http = Http::new(RetryPolicy::default(), Duration::from_secs(args.timeout))?;
    let run_id = choose_source(&args)?;
    let mut source_info = None;
    // Kept alive until the publish is over: the extracted files live in it.
    let mut _extraction = None;
    let paths = if let Some(run_id) = run_id {
        let source = args.artifacts.source()?;
        let dir = extraction_dir()?;
        let downloaded = {
            let _g = reporting::group(&format!("Downloading the artifacts of run {run_id}"));
            let selection = args.artifacts.selection(run_id);
            tokio::select! {
                d = artifacts::download(&http, &source, &selection, dir.path()) => d?,
                signal = crate::signals::cancelled() => anyhow::bail!(
                    "{signal} received while downloading the artifacts: nothing was uploaded"
                ),
            }
        };
        for f in &downloaded.other_files {
            tracing::info!(
                "skipping {}: not a distribution",
                reporting::shown(f.display())
            );
        }
        source_info = Some(run_source(&downloaded));
        _extraction = Some(dir);
        downloaded.files
    } else if args.paths.is_empty() {
        vec![args
            .packages_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_PACKAGES_DIR))]
    } else {
        args.paths.clone()
    };
    let user = non_empty(Some(args.user.clone())).unwrap_or_else(|| "__token__".to_owned());
    let auth = Auth::resolve(&http, args.trusted_publishing, user, password, &index_url).await?;
    let attestations = attestation_urls(&args, &auth, &index_url)?;
    let opts = PublishOptions {
        paths,
        repository_url,
        index_url,
        skip_existing: args.skip_existing,
        dry_run: args.dry_run,
        print_hash: args.print_hash,
        concurrency: args.concurrency,
        hash_first: args.hash_first,
        confirm_timeout: Duration::from_secs(args.confirm_timeout),
        attestations,
        attestation_dir: attestation_dir(args.report.as_deref(), _extraction.is_some()),
    };
    let mut report = publish::publish(&http, &opts, &auth).await?;
    report.source = source_info;
    publish::emit(&report, opts.dry_run, args.report.as_deref())?;
    publish::verdict(&report, opts.dry_run)
}

/// The run whose artifacts to publish, if any, saying in the log which source was chosen
/// and why. A `workflow_run` job publishes its triggering run even when a `dist/` folder
/// happens to exist: only files named explicitly (PATHS, --packages-dir) win over it.
fn choose_source(args: &PublishArgs) -> anyhow::Result<Option<u64>> {
    if let Some(id) = args.artifacts.run_id()? {
        tracing::info!("publishing the artifacts of run {id}: run-id was given");
        return Ok(Some(id));
    }
    if !args.paths.is_empty() {
        tracing::info!("publishing the files given as arguments");
        return Ok(None);
    }
    if let Some(dir) = &args.packages_dir {
        tracing::info!(
            "publishing {}: packages-dir was given",
            reporting::shown(dir.display())
        );
        return Ok(None);
    }
    if let Some(id) = artifacts::triggering_run_id() {
        tracing::info!(
            "publishing the artifacts of run {id}, the run that triggered this `workflow_run` \
             job (give packages-dir or run-id to publish something else)"
        );
        return Ok(Some(id));
    }
    tracing::info!(
        "publishing {DEFAULT_PACKAGES_DIR}/ (the default): no run-id, packages-dir or paths \
         were given and this job was not started by `workflow_run`"
    );
    Ok(None)
}

/// The run whose artifacts are published, as the report names it.
fn run_source(d: &artifacts::Downloaded) -> crate::report::RunSource {
    crate::report::RunSource {
        run_id: d.run.id,
        run_url: d.run.html_url.clone(),
        event: d.run.event.clone(),
        head_sha: d.run.head_sha.clone(),
        head_branch: d.run.head_branch.clone(),
        artifacts: d.artifacts.iter().map(|a| a.name.clone()).collect(),
    }
}

/// Where `<file>.publish.attestation` files go: beside the report; for artifacts (extracted
/// into a temporary folder that is removed at the end) an `attestations` folder in the working
/// directory, the workspace in the action; otherwise beside each distribution.
fn attestation_dir(report: Option<&std::path::Path>, from_artifacts: bool) -> Option<PathBuf> {
    if let Some(parent) = report.and_then(|r| r.parent()) {
        return Some(if parent.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            parent.to_owned()
        });
    }
    from_artifacts.then(|| PathBuf::from("attestations"))
}

/// Whether (and with which Sigstore) to sign attestations: PyPI checks them only for trusted
/// publishing, and only PyPI and TestPyPI show them, unless a Sigstore is named explicitly.
fn attestation_urls(
    args: &PublishArgs,
    auth: &Auth,
    index_url: &Url,
) -> anyhow::Result<Option<SigstoreUrls>> {
    if !args.attestations || args.dry_run {
        return Ok(None);
    }
    if !matches!(auth, Auth::Trusted(_)) {
        reporting::annotate(
            Level::Notice,
            "No attestations",
            "PEP 740 attestations are only accepted with trusted publishing; publishing without them",
        );
        return Ok(None);
    }
    let fulcio = non_empty(args.fulcio_url.clone());
    let rekor = non_empty(args.rekor_url.clone());
    let pypi = matches!(index_url.host_str(), Some("pypi.org" | "test.pypi.org"));
    if !pypi && fulcio.is_none() && rekor.is_none() {
        reporting::annotate(
            Level::Notice,
            "No attestations",
            &format!(
                "{index_url} is neither PyPI nor TestPyPI, which are the indexes that check PEP 740 \
                 attestations; publishing without them (name a Sigstore with --fulcio-url and \
                 --rekor-url to sign anyway)"
            ),
        );
        return Ok(None);
    }
    let defaults = SigstoreUrls::default();
    Ok(Some(SigstoreUrls {
        fulcio: match fulcio {
            Some(u) => parse_url("--fulcio-url", &u)?,
            None => defaults.fulcio,
        },
        rekor: match rekor {
            Some(u) => parse_url("--rekor-url", &u)?,
            None => defaults.rekor,
        },
    }))
}

async fn run_mint_token(args: MintTokenArgs, via_action: bool) -> anyhow::Result<()> {
    let repository_url = parse_url("--repository-url", &args.repository_url)?;
    let index_url = resolve_index_url(&repository_url, args.index_url)?;
    let http = Http::new(RetryPolicy::default(), Duration::from_secs(args.timeout))?;
    let Auth::Trusted(tp) = Auth::resolve(
        &http,
        TrustedPublishing::Always,
        String::new(),
        None,
        &index_url,
    )
    .await?
    else {
        anyhow::bail!("internal: trusted publishing was not selected");
    };
    let token = tp.mint_token(non_empty(args.project).as_deref()).await?;
    // The mask is already registered (oidc::mint masks before returning); only then may the
    // token reach stdout and the step output.
    if !via_action {
        reporting::print_out(token.expose());
    }
    crate::reporting::outputs::write_named_outputs(&[("token", token.expose())])
}

/// A fresh folder under the runner's temp dir (or the system's) for extracted artifacts.
fn extraction_dir() -> anyhow::Result<tempfile::TempDir> {
    // Inside a container action RUNNER_TEMP names the host's folder, which is not mounted
    // (actions/runner#1984): use it only where it exists.
    let base = non_empty(std::env::var("RUNNER_TEMP").ok())
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(std::env::temp_dir);
    tempfile::Builder::new()
        .prefix("pypi-oidc-publish-artifacts-")
        .tempdir_in(&base)
        .with_context(|| format!("cannot create a folder in {}", base.display()))
}

async fn run_download(args: DownloadArgs) -> anyhow::Result<()> {
    let http = Http::new(RetryPolicy::default(), Duration::from_secs(args.timeout))?;
    let run_id = match args.artifacts.run_id()? {
        Some(id) => id,
        None => artifacts::triggering_run_id().ok_or_else(|| {
            anyhow::anyhow!("no run id: pass --run-id (or run in a job started by `workflow_run`)")
        })?,
    };
    let source = args.artifacts.source()?;
    let downloaded = artifacts::download(
        &http,
        &source,
        &args.artifacts.selection(run_id),
        &args.dest,
    )
    .await?;
    let release = publish::check(&downloaded.files)?;
    for d in &release.distributions {
        reporting::print_out(&reporting::shown(d.path.display()).to_string());
    }
    tracing::info!(
        "{} {}: {} file(s) from run {} checked and ready in {}",
        release.name,
        release.version,
        release.distributions.len(),
        run_id,
        args.dest.display()
    );
    Ok(())
}

/// GitHub passes every declared input, unset ones as empty strings, and clap would read an
/// empty `INPUT_*` as a present-but-empty value. Empty means "not given": drop them before
/// parsing. Runs first thing in `main`, before any thread exists.
fn drop_empty_inputs() {
    let empty: Vec<_> = std::env::vars_os()
        .filter(|(k, v)| {
            k.to_string_lossy().starts_with("INPUT_") && v.to_string_lossy().trim().is_empty()
        })
        .map(|(k, _)| k)
        .collect();
    for k in empty {
        std::env::remove_var(k);
    }
}

fn run_record(args: RecordCliArgs) -> anyhow::Result<()> {
    let outcome = crate::record::run(&crate::record::RecordArgs {
        published: args.published,
        fixtures: args.fixtures,
        release_url: non_empty(args.release_url),
        name: non_empty(args.name),
        version: non_empty(args.release_version),
        github_url: non_empty(args.github_url),
        release_on: non_empty(args.release_on),
        revision: non_empty(args.revision),
        create: args.create,
        dry_run: args.dry_run,
    })?;
    let changed = matches!(outcome, crate::record::RecordOutcome::Changed(_));
    reporting::print_err(&outcome.to_string());
    crate::reporting::outputs::write_named_outputs(&[
        ("changed", if changed { "true" } else { "false" }),
        ("fixture", &outcome.file().display().to_string()),
    ])
}

/// The arguments to parse: `pypi-oidc-publish action` (the container's entrypoint) runs the
/// subcommand named by the `command` input, every flag coming from `INPUT_*` variables.
fn argv() -> (Vec<std::ffi::OsString>, bool) {
    let mut args: Vec<_> = std::env::args_os().collect();
    // Further arguments (e.g. `action --help`) go to the chosen subcommand.
    let via_action = args.len() >= 2 && args[1] == "action";
    if via_action {
        let command = std::env::var("INPUT_COMMAND").unwrap_or_else(|_| "publish".to_owned());
        args[1] = command.trim().into();
    }
    (args, via_action)
}

pub fn main() -> ExitCode {
    drop_empty_inputs();
    let (args, via_action) = argv();
    let cli = Cli::parse_from(args);
    let verbose = match &cli.command {
        Command::Publish(a) => a.verbose,
        Command::MintToken(a) => {
            // On the command line, stdout is the token alone (for `$(...)`), so the mask goes
            // to stderr. In the container action stdout is the job log and the runner reads
            // the two streams apart: there the mask stays on stdout, ahead of everything, and
            // the token travels only as the `token` output.
            if !via_action {
                reporting::commands_on_stderr();
            }
            a.verbose
        }
        Command::Download(a) => a.verbose,
        Command::Record(a) => a.verbose,
    };
    crate::reporting::log_format::init(verbose);
    let failure_title = match &cli.command {
        Command::Publish(_) => "Publish failed",
        Command::MintToken(_) => "Minting an upload token failed",
        Command::Download(_) => "Downloading the artifacts failed",
        Command::Record(_) => "Recording the release failed",
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            reporting::print_err(&format!("error: cannot start the async runtime: {e}"));
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        crate::signals::install();
        match cli.command {
            Command::Publish(args) => run_publish(args).await,
            Command::MintToken(args) => run_mint_token(args, via_action).await,
            Command::Download(args) => run_download(args).await,
            Command::Record(args) => run_record(args),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = format!("{e:#}");
            let annotated = e.downcast_ref::<publish::NothingUploaded>().is_some()
                || e.downcast_ref::<crate::oidc::Explained>().is_some();
            if !annotated {
                reporting::annotate(Level::Error, failure_title, &msg);
            }
            reporting::print_err(&format!("error: {msg}"));
            ExitCode::FAILURE
        }
    }
}
