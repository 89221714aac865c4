//! The command-line contract. Every flag falls back to the variable GitHub sets for the
//! container action's input of the same name (`INPUT_` + name upper-cased, dashes kept), so
//! the binary run with no flags inside the action behaves as the action's inputs say.
//!
//! A flag several commands take is declared once, in a group each of them flattens
//! ([`Verbosity`], [`Timeout`], [`IndexArgs`], [`SimpleUrl`], [`OidcAudience`], [`SourceArgs`],
//! [`ArtifactArgs`]), so its name, input and default cannot drift between commands; a command
//! that uses the flag for something narrower words its help with `mut_arg`.
//!
//! The arguments are resolved once, with the runner's environment, into the typed
//! configurations the commands run on ([`PublishConfig`], ...): a value that is wrong is an
//! error here, naming the flag and the input, before anything is downloaded or uploaded.
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::attest::SigstoreUrls;
use crate::github::artifacts;
use crate::github::rest::Source;
use crate::github::runner::Runner;
use crate::http::{Http, RetryPolicy};
use crate::index::auth::TrustedPublishing;
use crate::index::IndexTarget;
use crate::publish::Concurrency;
use crate::reporting;
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

// Parsed once and matched once: the size of the publish arguments costs nothing.
#[derive(Subcommand)]
pub enum Command {
    /// Check distributions, upload them, confirm them on the index and report their URLs.
    Publish(Box<PublishArgs>),
    /// Exchange the job's GitHub OIDC token for a short-lived upload token and print only it
    /// (masked in the job log), for workflows that hand it to another tool.
    MintToken(MintTokenArgs),
    /// Download and check the artifacts of a workflow run, without publishing them.
    Download(DownloadArgs),
    /// Record the published URLs and upload time into the release fixtures.
    Record(RecordCliArgs),
    /// Before building: check that a version is new on the index (not there yet, and higher
    /// than its highest release unless --allow-older). No token, no upload.
    Preflight(PreflightArgs),
    /// After publishing: create the GitHub Release of the version tag if it is missing and
    /// attach exactly the published files, each checked against its sha256 in --published.
    GithubRelease(GithubReleaseArgs),
    /// Check a release on the index for anyone: each file's sha256 and its PEP 740
    /// provenance, signed by the expected repository and workflow. Exit 1 when any file is
    /// unsigned, invalid or signed by another identity.
    Verify(VerifyArgs),
}

// ---------------------------------------------------------------------------------------
// The flags several commands share, each declared once
// ---------------------------------------------------------------------------------------

/// `--verbose`, which every command takes.
#[derive(Args)]
pub struct Verbosity {
    /// Show debug output.
    #[arg(long, short, env = "INPUT_VERBOSE")]
    pub verbose: bool,
}

/// `--timeout`, which every command that goes over the network takes.
#[derive(Args)]
pub struct Timeout {
    /// Seconds a request may stall without a byte before it is retried (and a small API
    /// request may take in all).
    #[arg(long, env = "INPUT_TIMEOUT", default_value_t = 60)]
    pub timeout: u64,
}

/// The index a command speaks to: its upload URL and its web root.
#[derive(Args)]
pub struct IndexArgs {
    /// The index's legacy upload URL.
    #[arg(long, env = "INPUT_REPOSITORY-URL", default_value = DEFAULT_REPOSITORY_URL)]
    pub repository_url: String,

    /// Web root of the index, for its JSON API [default: derived from --repository-url:
    /// upload.pypi.org -> https://pypi.org, otherwise the same origin].
    #[arg(long, env = "INPUT_INDEX-URL")]
    pub index_url: Option<String>,
}

/// The index's simple index, for the commands that read which files and versions it holds.
#[derive(Args)]
pub struct SimpleUrl {
    /// The index's simple index (PEP 503/691), read to plan and confirm [default: derived
    /// from --repository-url for PyPI, TestPyPI, Warehouse's /legacy/, pypiserver's / and
    /// devpi's /{user}/{index}/ layouts]. Needed for any other layout.
    #[arg(long, env = "INPUT_SIMPLE-URL")]
    pub simple_url: Option<String>,
}

/// The trusted-publishing audience, for the commands that mint a token.
#[derive(Args)]
pub struct OidcAudience {
    /// The trusted-publishing audience of an index other than PyPI and TestPyPI, which must
    /// equal what its `/_/oidc/audience` serves (PyPI's and TestPyPI's are known).
    #[arg(long, env = "INPUT_OIDC-AUDIENCE")]
    pub oidc_audience: Option<String>,
}

/// Where distributions come from: files, a folder, or a workflow run's artifacts. Publish
/// and `github-release` choose alike, so a release attaches what the publish took.
#[derive(Args)]
pub struct SourceArgs {
    /// Distribution files or folders holding them [default: --packages-dir]
    pub paths: Vec<PathBuf>,

    /// Folder of distributions, used when no PATHS are given. Given explicitly, it wins over
    /// the triggering run of a `workflow_run` job [default: dist].
    #[arg(long, env = "INPUT_PACKAGES-DIR")]
    pub packages_dir: Option<PathBuf>,

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

    /// Refuse a run that built any other ref than these patterns (repeatable; the input takes
    /// one per line or comma-separated): `refs/tags/<glob>` (the tag must exist and name the
    /// commit the run built) or `refs/heads/<glob>` (no tag of that name may exist); `*`
    /// stays within one `/`-separated part, `**` crosses them. [default: any ref]
    #[arg(long = "build-refs", env = "INPUT_BUILD-REFS", value_delimiter = ',')]
    pub build_refs: Vec<String>,
}

// ---------------------------------------------------------------------------------------
// The commands' own flags
// ---------------------------------------------------------------------------------------

#[derive(Args)]
#[command(
    mut_arg("repository_url", |a| a.help(
        "The index's legacy upload URL (decides which index is asked)")),
    mut_arg("index_url", |a| a.help(
        "Web root of the index (not read by preflight: the simple index is) [default: derived \
         from --repository-url]")),
    mut_arg("simple_url", |a| a.help(
        "The index's simple index (PEP 503/691), whose project page says which versions are \
         there [default: derived from --repository-url for PyPI, TestPyPI, Warehouse's \
         /legacy/, pypiserver's / and devpi's /{user}/{index}/ layouts]. Needed for any other \
         layout")),
)]
pub struct PreflightArgs {
    /// Distribution files or folders holding them, to take the name and version from
    /// [default: --packages-dir, unless --name and --version are given]
    pub paths: Vec<PathBuf>,

    /// Folder of distributions, used when no PATHS, --name or --version are given [default:
    /// dist].
    #[arg(long, env = "INPUT_PACKAGES-DIR")]
    pub packages_dir: Option<PathBuf>,

    /// Project name (with --version, instead of reading distributions).
    #[arg(long, env = "INPUT_NAME")]
    pub name: Option<String>,

    /// Version to release (with --name, instead of reading distributions).
    #[arg(long = "version", env = "INPUT_VERSION")]
    pub release_version: Option<String>,

    /// Accept a version lower than the highest release on the index (a backport).
    #[arg(long, env = "INPUT_ALLOW-OLDER")]
    pub allow_older: bool,

    #[command(flatten)]
    pub index: IndexArgs,

    #[command(flatten)]
    pub simple: SimpleUrl,

    #[command(flatten)]
    pub timeout: Timeout,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Args)]
#[command(mut_arg("paths", |a| a.help(
    "Distribution files or folders holding them [default: as publish: the run's artifacts or \
     --packages-dir]")))]
pub struct GithubReleaseArgs {
    /// The publish step's `published` output: its JSON, or a file holding it.
    #[arg(long, env = "INPUT_PUBLISHED")]
    pub published: String,

    /// The release's tag, which must exist [default: v{version}].
    #[arg(long, env = "INPUT_TAG")]
    pub tag: Option<String>,

    /// The release page on the index, linked from the release notes [default:
    /// https://pypi.org/project/{name}/{version}/ when the published files are on PyPI, else
    /// none].
    #[arg(long, env = "INPUT_RELEASE-URL")]
    pub release_url: Option<String>,

    /// Project name [default: from the first published filename].
    #[arg(long, env = "INPUT_NAME")]
    pub name: Option<String>,

    /// Release version [default: from the first published filename].
    #[arg(long = "version", env = "INPUT_VERSION")]
    pub release_version: Option<String>,

    /// Replace an asset of the same name whose sha256 differs (otherwise an error).
    #[arg(long, env = "INPUT_CLOBBER")]
    pub clobber: bool,

    #[command(flatten)]
    pub source: SourceArgs,

    #[command(flatten)]
    pub timeout: Timeout,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Args)]
pub struct RecordCliArgs {
    /// The publish step's `published` output: its JSON, or a file holding it.
    #[arg(long, env = "INPUT_PUBLISHED")]
    pub published: String,

    /// Folder of the release fixtures (`releases__packagerelease_<version>.json`).
    #[arg(long, env = "INPUT_FIXTURES")]
    pub fixtures: PathBuf,

    /// The release page [default: https://pypi.org/project/{name}/{version}/ when the
    /// published files are on PyPI, else empty].
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

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Args)]
pub struct DownloadArgs {
    /// A new or empty folder to extract the artifacts into.
    #[arg(long, env = "INPUT_DEST")]
    pub dest: PathBuf,

    #[command(flatten)]
    pub artifacts: ArtifactArgs,

    #[command(flatten)]
    pub timeout: Timeout,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Args)]
#[command(
    mut_arg("repository_url", |a| a.help(
        "The index's legacy upload URL (decides which index mints the token)")),
    mut_arg("index_url", |a| a.help(
        "Web root of the index [default: derived from --repository-url]")),
)]
pub struct MintTokenArgs {
    #[command(flatten)]
    pub index: IndexArgs,

    #[command(flatten)]
    pub audience: OidcAudience,

    /// The project the token is for (only used to point a refusal at its settings page).
    #[arg(long, env = "INPUT_PROJECT")]
    pub project: Option<String>,

    #[command(flatten)]
    pub timeout: Timeout,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

#[derive(Args)]
pub struct PublishArgs {
    #[command(flatten)]
    pub index: IndexArgs,

    #[command(flatten)]
    pub simple: SimpleUrl,

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

    /// Print the sha256 and blake2b-256 of every file.
    #[arg(long, env = "INPUT_PRINT-HASH")]
    pub print_hash: bool,

    /// Also write the `published` JSON to this file.
    #[arg(long, env = "INPUT_REPORT")]
    pub report: Option<PathBuf>,

    /// Hash every file before uploading it and send its digests ahead of its content, for an
    /// index that reads the upload form as a stream (Warehouse, devpi and pypiserver read the
    /// whole form and take the faster default: digests computed while the file streams).
    #[arg(long, env = "INPUT_HASH-FIRST")]
    pub hash_first: bool,

    /// Files uploaded at once: `auto` sizes it to the files (many small ones at a time, few
    /// huge ones, within a memory budget); a number fixes it. An index that answers 429
    /// lowers it for the rest of the publish.
    #[arg(long, env = "INPUT_CONCURRENCY", default_value_t = Concurrency::Auto)]
    pub concurrency: Concurrency,

    /// Use trusted publishing (OIDC): `auto` unless an API token is given.
    #[arg(long, env = "INPUT_TRUSTED-PUBLISHING", value_enum, default_value_t = TrustedPublishing::Auto)]
    pub trusted_publishing: TrustedPublishing,

    #[command(flatten)]
    pub audience: OidcAudience,

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

    /// The Sigstore trusted root the provenance is read back against after the upload
    /// [default: Sigstore's public-good root with the public Sigstore; none (not read back)
    /// with --fulcio-url/--rekor-url].
    #[arg(long, env = "INPUT_TRUST-ROOT")]
    pub trust_root: Option<PathBuf>,

    #[command(flatten)]
    pub timeout: Timeout,

    #[command(flatten)]
    pub verbosity: Verbosity,

    #[command(flatten)]
    pub source: SourceArgs,
}

/// The arguments as given: `pypi-oidc-publish action` (the container's entrypoint) runs the
/// subcommand named by the `command` input, every flag coming from `INPUT_*` variables.
pub struct Invocation {
    pub cli: Cli,
    /// Started as the container action: stdout is the job log.
    pub via_action: bool,
}

/// Parse the process's arguments. A mistake (or `--help`, `--version`) is clap's error, for
/// the caller to print through the one writer: clap's message echoes the argument.
pub fn parse() -> Result<Invocation, clap::Error> {
    drop_empty_inputs();
    let mut args: Vec<OsString> = std::env::args_os().collect();
    // Further arguments (e.g. `action --help`) go to the chosen subcommand.
    let via_action = args.len() >= 2 && args[1] == "action";
    if via_action {
        let command = std::env::var("INPUT_COMMAND").unwrap_or_else(|_| "publish".to_owned());
        args[1] = command.trim().into();
    }
    Ok(Invocation {
        cli: Cli::try_parse_from(args)?,
        via_action,
    })
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

impl Command {
    pub fn verbose(&self) -> bool {
        match self {
            Command::Publish(a) => a.verbosity.verbose,
            Command::MintToken(a) => a.verbosity.verbose,
            Command::Download(a) => a.verbosity.verbose,
            Command::Record(a) => a.verbosity.verbose,
            Command::Preflight(a) => a.verbosity.verbose,
            Command::GithubRelease(a) => a.verbosity.verbose,
            Command::Verify(a) => a.verbosity.verbose,
        }
    }
}

/// A workflow run's artifacts to take.
pub struct RunArtifacts {
    pub source: Source,
    pub selection: artifacts::Selection,
}

/// Where the distributions of a publish come from, and why that source was chosen.
pub enum SourceChoice {
    Run {
        artifacts: Box<RunArtifacts>,
        why: String,
    },
    Paths {
        paths: Vec<PathBuf>,
        why: String,
    },
}

/// Whether to sign PEP 740 attestations, as asked; the publish decides against the
/// credentials and the index.
pub struct AttestationRequest {
    pub wanted: bool,
    pub fulcio: Option<Url>,
    pub rekor: Option<Url>,
    /// What the provenance is read back against (`--trust-root`, read at start).
    pub trust_root: Option<crate::attest::verify::TrustRoot>,
}

impl AttestationRequest {
    /// The Sigstore to sign with, the public one unless one was named.
    pub fn sigstore(&self) -> SigstoreUrls {
        let defaults = SigstoreUrls::default();
        SigstoreUrls {
            fulcio: self.fulcio.clone().unwrap_or(defaults.fulcio),
            rekor: self.rekor.clone().unwrap_or(defaults.rekor),
        }
    }

    pub fn names_a_sigstore(&self) -> bool {
        self.fulcio.is_some() || self.rekor.is_some()
    }
}

pub struct PublishConfig {
    pub source: SourceChoice,
    pub index: IndexTarget,
    pub trusted_publishing: TrustedPublishing,
    pub user: String,
    pub password: Option<Secret>,
    pub skip_existing: bool,
    pub dry_run: bool,
    pub print_hash: bool,
    pub hash_first: bool,
    pub concurrency: Concurrency,
    pub confirm_timeout: Duration,
    pub verify_metadata: bool,
    pub attestations: AttestationRequest,
    pub report_file: Option<PathBuf>,
    pub http: Http,
}

pub struct MintTokenConfig {
    pub index: IndexTarget,
    pub project: Option<String>,
    pub http: Http,
}

/// What `preflight` checks: a name and version given, or those of the distributions.
pub enum PreflightSubject {
    Given { name: String, version: String },
    Files { paths: Vec<PathBuf>, why: String },
}

pub struct PreflightConfig {
    pub subject: PreflightSubject,
    pub index: IndexTarget,
    pub allow_older: bool,
    pub http: Http,
}

pub struct GithubReleaseConfig {
    pub source: SourceChoice,
    /// `--expect-sha`: the commit the files were built from, for files from a folder (files
    /// of a run are the run's `head_sha`, which publish checked against it).
    pub expect_sha: Option<String>,
    /// `GITHUB_SHA` and `GITHUB_REF` of this job.
    pub job_commit: Option<(String, String)>,
    /// The repository, the API and the token (`contents: write`).
    pub github: Source,
    pub published: String,
    pub tag: Option<String>,
    pub release_url: Option<Url>,
    pub name: Option<String>,
    pub version: Option<String>,
    pub clobber: bool,
    pub http: Http,
}

pub struct DownloadConfig {
    pub run: RunArtifacts,
    pub dest: PathBuf,
    pub http: Http,
}

impl PublishArgs {
    pub fn resolve(self, runner: &Runner) -> anyhow::Result<PublishConfig> {
        let password = api_token(self.password.clone(), runner);
        let index = self
            .audience
            .apply(self.simple.apply(self.index.target()?)?);
        let http = self.timeout.http(runner)?;
        // A `workflow_run` job publishes its triggering run even when a `dist/` folder
        // happens to exist: only files named explicitly (PATHS, --packages-dir) win over it.
        let source = self.source.choose(runner, ("publishing", "publish"))?;
        let attestations = AttestationRequest {
            wanted: self.attestations,
            fulcio: sigstore_url("--fulcio-url", "Fulcio", self.fulcio_url.clone())?,
            rekor: sigstore_url("--rekor-url", "Rekor", self.rekor_url.clone())?,
            trust_root: self
                .trust_root
                .as_deref()
                .map(crate::attest::verify::TrustRoot::from_file)
                .transpose()?,
        };
        Ok(PublishConfig {
            source,
            index,
            trusted_publishing: self.trusted_publishing,
            user: non_empty(Some(self.user)).unwrap_or_else(|| "__token__".to_owned()),
            password,
            skip_existing: self.skip_existing,
            dry_run: self.dry_run,
            print_hash: self.print_hash,
            hash_first: self.hash_first,
            concurrency: self.concurrency,
            confirm_timeout: Duration::from_secs(self.confirm_timeout),
            verify_metadata: self.verify_metadata,
            attestations,
            report_file: self.report,
            http,
        })
    }
}

impl SourceArgs {
    /// The run whose artifacts to take, or the files; `(doing, to_do)` are the gerund and the
    /// infinitive of the command's verb, for the messages.
    fn choose(
        &self,
        runner: &Runner,
        (doing, to_do): (&str, &str),
    ) -> anyhow::Result<SourceChoice> {
        let run = |id: u64, why: String| -> anyhow::Result<SourceChoice> {
            Ok(SourceChoice::Run {
                artifacts: Box::new(self.artifacts.resolve(id, runner)?),
                why,
            })
        };
        if let Some(id) = self.artifacts.run_id()? {
            return run(
                id,
                format!("{doing} the artifacts of run {id}: run-id was given"),
            );
        }
        if !self.paths.is_empty() {
            return Ok(SourceChoice::Paths {
                paths: self.paths.clone(),
                why: format!("{doing} the files given as arguments"),
            });
        }
        if let Some(dir) = &self.packages_dir {
            return Ok(SourceChoice::Paths {
                paths: vec![dir.clone()],
                why: format!(
                    "{doing} {}: packages-dir was given",
                    reporting::shown(dir.display())
                ),
            });
        }
        if let Some(id) = runner.triggering_run_id() {
            return run(
                id,
                format!(
                    "{doing} the artifacts of run {id}, the run that triggered this \
                     `workflow_run` job (give packages-dir or run-id to {to_do} something else)"
                ),
            );
        }
        Ok(SourceChoice::Paths {
            paths: vec![PathBuf::from(DEFAULT_PACKAGES_DIR)],
            why: format!(
                "{doing} {DEFAULT_PACKAGES_DIR}/ (the default): no run-id, packages-dir or \
                 paths were given and this job was not started by `workflow_run`"
            ),
        })
    }
}

impl MintTokenArgs {
    pub fn resolve(self, runner: &Runner) -> anyhow::Result<MintTokenConfig> {
        Ok(MintTokenConfig {
            index: self.audience.apply(self.index.target()?),
            project: non_empty(self.project),
            http: self.timeout.http(runner)?,
        })
    }
}

impl PreflightArgs {
    pub fn resolve(self, runner: &Runner) -> anyhow::Result<PreflightConfig> {
        let subject = match (non_empty(self.name), non_empty(self.release_version)) {
            (Some(name), Some(version)) => PreflightSubject::Given {
                name: name.trim().to_owned(),
                version: version.trim().to_owned(),
            },
            (None, None) if !self.paths.is_empty() => PreflightSubject::Files {
                paths: self.paths,
                why: "checking the files given as arguments".to_owned(),
            },
            (None, None) => {
                let dir = self
                    .packages_dir
                    .unwrap_or_else(|| PathBuf::from(DEFAULT_PACKAGES_DIR));
                PreflightSubject::Files {
                    why: format!(
                        "checking the distributions in {}",
                        reporting::shown(dir.display())
                    ),
                    paths: vec![dir],
                }
            }
            (Some(_), None) | (None, Some(_)) => anyhow::bail!(
                "give both --name and --version (the `name` and `version` inputs), or neither \
                 to read them from the distributions"
            ),
        };
        Ok(PreflightConfig {
            subject,
            index: self.simple.apply(self.index.target()?)?,
            allow_older: self.allow_older,
            http: self.timeout.http(runner)?,
        })
    }
}

impl GithubReleaseArgs {
    pub fn resolve(self, runner: &Runner) -> anyhow::Result<GithubReleaseConfig> {
        let source = self.source.choose(runner, ("attaching", "attach"))?;
        let artifacts = &self.source.artifacts;
        let github = github_source(
            artifacts.github_token.clone(),
            runner,
            "a GitHub Release needs a GitHub token: pass `github-token: ${{ github.token }}` \
             (the job needs `permissions: contents: write`), --github-token, or GITHUB_TOKEN",
        )?;
        Ok(GithubReleaseConfig {
            source,
            expect_sha: non_empty(artifacts.expect_sha.clone()).map(|s| s.trim().to_owned()),
            job_commit: runner.sha.clone().zip(runner.git_ref.clone()),
            github,
            published: self.published,
            tag: non_empty(self.tag).map(|t| t.trim().to_owned()),
            release_url: optional_url("--release-url", self.release_url)?,
            name: non_empty(self.name),
            version: non_empty(self.release_version),
            clobber: self.clobber,
            http: self.timeout.http(runner)?,
        })
    }
}

impl DownloadArgs {
    pub fn resolve(self, runner: &Runner) -> anyhow::Result<DownloadConfig> {
        let run_id = match self.artifacts.run_id()? {
            Some(id) => id,
            None => runner.triggering_run_id().ok_or_else(|| {
                anyhow::anyhow!(
                    "no run id: pass --run-id (or run in a job started by `workflow_run`)"
                )
            })?,
        };
        Ok(DownloadConfig {
            run: self.artifacts.resolve(run_id, runner)?,
            dest: self.dest,
            http: self.timeout.http(runner)?,
        })
    }
}

impl RecordCliArgs {
    pub fn resolve(self) -> crate::record::RecordArgs {
        crate::record::RecordArgs {
            published: self.published,
            fixtures: self.fixtures,
            release_url: non_empty(self.release_url),
            name: non_empty(self.name),
            version: non_empty(self.release_version),
            github_url: non_empty(self.github_url),
            release_on: non_empty(self.release_on),
            revision: non_empty(self.revision),
            create: self.create,
            dry_run: self.dry_run,
        }
    }
}

impl ArtifactArgs {
    fn resolve(&self, run_id: u64, runner: &Runner) -> anyhow::Result<RunArtifacts> {
        Ok(RunArtifacts {
            source: self.source(runner)?,
            selection: self.selection(run_id)?,
        })
    }

    fn source(&self, runner: &Runner) -> anyhow::Result<Source> {
        github_source(
            self.github_token.clone(),
            runner,
            "downloading artifacts needs a GitHub token: pass `github-token: ${{ \
             github.token }}` (the job needs `permissions: actions: read`), --github-token, or \
             GITHUB_TOKEN",
        )
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

    fn selection(&self, run_id: u64) -> anyhow::Result<artifacts::Selection> {
        Ok(artifacts::Selection {
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
            build_refs: artifacts::BuildRefs::parse(&self.build_refs)?,
        })
    }
}

/// The repository, the API and the token (masked at once) the GitHub REST calls use;
/// `missing` says what to do when there is no token.
fn github_source(flag: Option<String>, runner: &Runner, missing: &str) -> anyhow::Result<Source> {
    let token = non_empty(flag)
        .map(Secret::new)
        .or_else(|| runner.github_token.clone())
        .ok_or_else(|| anyhow::anyhow!("{missing}"))?;
    reporting::add_mask(token.expose());
    let repository = runner.repository.clone().ok_or_else(|| {
        anyhow::anyhow!(
            "GITHUB_REPOSITORY is not set: it names the repository (owner/repo) whose run \
             to read"
        )
    })?;
    let api = runner
        .api_url
        .as_deref()
        .unwrap_or("https://api.github.com");
    Ok(Source {
        api_url: parse_url("GITHUB_API_URL", api)?,
        repository,
        // Set by the runner in every job; without it the run's own `repository.id` is used.
        repository_id: runner.repository_id,
        token,
    })
}

/// GitHub passes every declared input, unset ones as empty strings; empty means "not given".
fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl Timeout {
    /// The one HTTP client of the command, with this timeout.
    fn http(&self, runner: &Runner) -> anyhow::Result<Http> {
        let policy = match runner.retry_base_ms {
            Some(ms) => RetryPolicy::with_base_delay(Duration::from_millis(ms)),
            None => RetryPolicy::default(),
        };
        Http::new(policy, Duration::from_secs(self.timeout))
    }
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

fn optional_url(what: &str, s: Option<String>) -> anyhow::Result<Option<Url>> {
    non_empty(s).map(|u| parse_url(what, &u)).transpose()
}

/// A Sigstore service named with `flag`, held to the transport rule of trusted publishing.
fn sigstore_url(flag: &str, service: &str, s: Option<String>) -> anyhow::Result<Option<Url>> {
    let url = optional_url(flag, s)?;
    if let Some(u) = &url {
        crate::index::mint::check_sigstore_transport(u, service, flag)?;
    }
    Ok(url)
}

impl IndexArgs {
    /// The upload URL and the index's web root: `--index-url` or derived from the upload URL.
    fn target(&self) -> anyhow::Result<IndexTarget> {
        let repository_url = parse_url("--repository-url", &self.repository_url)?;
        let index_url = match non_empty(self.index_url.clone()) {
            Some(u) => {
                let mut u = parse_url("--index-url", &u)?;
                if !u.path().ends_with('/') {
                    u.set_path(&format!("{}/", u.path()));
                }
                u
            }
            None => crate::index::index_url_for(&repository_url),
        };
        let simple = crate::index::simple_url_for(&repository_url).map(|(url, why)| {
            crate::index::SimpleIndex {
                url,
                why: why.to_owned(),
            }
        });
        Ok(IndexTarget {
            repository_url,
            index_url,
            simple,
            oidc_audience: None,
        })
    }
}

impl SimpleUrl {
    /// The index, with `--simple-url` as its simple index when given.
    fn apply(&self, mut index: IndexTarget) -> anyhow::Result<IndexTarget> {
        if let Some(u) = non_empty(self.simple_url.clone()) {
            let mut url = parse_url("--simple-url", &u)?;
            if !url.path().ends_with('/') {
                url.set_path(&format!("{}/", url.path()));
            }
            index.simple = Some(crate::index::SimpleIndex {
                url,
                why: "given with --simple-url".to_owned(),
            });
        }
        Ok(index)
    }
}

impl OidcAudience {
    /// The index, with the audience named for it (an index other than PyPI and TestPyPI).
    fn apply(&self, mut index: IndexTarget) -> IndexTarget {
        index.oidc_audience = non_empty(self.oidc_audience.clone());
        index
    }
}

/// The API token, from the flag/input or `PYPI_API_TOKEN`, masked before anything can print it.
fn api_token(password: Option<String>, runner: &Runner) -> Option<Secret> {
    let token = non_empty(password)
        .map(Secret::new)
        .or_else(|| runner.pypi_api_token.clone())?;
    reporting::add_mask(token.expose());
    Some(token)
}

#[derive(Args)]
#[command(
    mut_arg("repository_url", |a| a.help(
        "The index's legacy upload URL (decides which index is asked)")),
    mut_arg("index_url", |a| a.help(
        "Web root of the index, which serves the integrity API [default: derived from \
         --repository-url]")),
    mut_arg("simple_url", |a| a.help(
        "The index's simple index (PEP 503/691), which lists the release's files [default: \
         derived from --repository-url]")),
)]
pub struct VerifyArgs {
    /// The release to check, as NAME==VERSION.
    #[arg(env = "INPUT_RELEASE")]
    pub release: String,

    /// Local files of the release (or folders holding them) to check instead of downloading
    /// every file the index lists: each must be listed, with its sha256 [default: download].
    pub paths: Vec<PathBuf>,

    /// The GitHub repository (OWNER/REPO) the files must have been published from.
    #[arg(long, env = "INPUT_REPOSITORY")]
    pub repository: String,

    /// The workflow file (e.g. release.yml) that must have published them [default: any].
    #[arg(long, env = "INPUT_WORKFLOW")]
    pub workflow: Option<String>,

    /// The git ref (refs/tags/v1.2.3, or v1.2.3 for a tag or branch) the workflow must have
    /// run at [default: any].
    #[arg(long = "ref", env = "INPUT_REF")]
    pub git_ref: Option<String>,

    /// The commit the workflow must have run at [default: any].
    #[arg(long, env = "INPUT_COMMIT")]
    pub commit: Option<String>,

    /// A Sigstore trusted root (trusted_root.json) to verify against [default: Sigstore's
    /// public-good root, which PyPI uses, as built in].
    #[arg(long, env = "INPUT_TRUST-ROOT")]
    pub trust_root: Option<PathBuf>,

    /// The OIDC issuer the signing certificates must name (another only with another
    /// Sigstore's trust root).
    #[arg(long, env = "INPUT_OIDC-ISSUER", default_value = crate::attest::verify::GITHUB_ISSUER)]
    pub oidc_issuer: String,

    /// Also write the verdicts as JSON to this file.
    #[arg(long, env = "INPUT_REPORT")]
    pub report: Option<PathBuf>,

    #[command(flatten)]
    pub index: IndexArgs,

    #[command(flatten)]
    pub simple: SimpleUrl,

    #[command(flatten)]
    pub timeout: Timeout,

    #[command(flatten)]
    pub verbosity: Verbosity,
}

pub struct VerifyConfig {
    /// The project name, PEP 503-normalised.
    pub normalized: String,
    pub version: String,
    /// Local files to check, named as on the index; empty: download every listed file.
    pub local: Vec<PathBuf>,
    pub index: IndexTarget,
    pub expected: crate::attest::verify::Expected,
    pub trust: crate::attest::verify::TrustRoot,
    pub report: Option<PathBuf>,
    pub http: Http,
}

/// The files `paths` name: each file as given, and the distributions (by name) directly in
/// each folder. A missing path, or a folder without distributions, is an error to fix.
fn local_files(paths: &[PathBuf]) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        let shown_path = reporting::shown(path.display());
        let meta = std::fs::metadata(path)
            .map_err(|e| anyhow::anyhow!("cannot read {shown_path}: {e}: fix the file argument"))?;
        if !meta.is_dir() {
            out.push(path.clone());
            continue;
        }
        let before = out.len();
        let entries = std::fs::read_dir(path)
            .map_err(|e| anyhow::anyhow!("cannot list {shown_path}: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| anyhow::anyhow!("cannot list {shown_path}: {e}"))?;
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            let name = entry.file_name();
            let is_dist = name
                .to_str()
                .is_some_and(|n| crate::distribution::name_and_version(n).is_some());
            if is_file && is_dist {
                out.push(entry.path());
            }
        }
        out[before..].sort();
        if out.len() == before {
            anyhow::bail!("{shown_path} holds no distribution file (wheel or sdist)");
        }
    }
    Ok(out)
}

impl VerifyArgs {
    pub fn resolve(self, runner: &Runner) -> anyhow::Result<VerifyConfig> {
        let (name, version) = self
            .release
            .trim()
            .split_once("==")
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} is not NAME==VERSION (e.g. example-package==1.2.3): fix the release \
                     argument",
                    reporting::shown(&self.release)
                )
            })?;
        let normalized = crate::distribution::normalized_name(&name).ok_or_else(|| {
            anyhow::anyhow!(
                "{} is not a project name: fix the release argument",
                reporting::shown(&name)
            )
        })?;
        if version.parse::<pep440_rs::Version>().is_err() {
            anyhow::bail!(
                "{} is not a PEP 440 version: fix the release argument",
                reporting::shown(&version)
            );
        }
        let repository = self.repository.trim().to_owned();
        let parts: Vec<&str> = repository.split('/').collect();
        if parts.len() != 2 || parts.iter().any(|p| p.is_empty()) {
            anyhow::bail!(
                "--repository {} is not OWNER/REPO: fix --repository",
                reporting::shown(&repository)
            );
        }
        let trust = match &self.trust_root {
            Some(path) => crate::attest::verify::TrustRoot::from_file(path)?,
            None => crate::attest::verify::TrustRoot::public_good()?,
        };
        let trim = |v: Option<String>| non_empty(v).map(|s| s.trim().to_owned());
        Ok(VerifyConfig {
            normalized,
            version,
            local: local_files(&self.paths)?,
            index: self.simple.apply(self.index.target()?)?,
            expected: crate::attest::verify::Expected {
                issuer: self.oidc_issuer.trim().to_owned(),
                repository,
                workflow: trim(self.workflow),
                git_ref: trim(self.git_ref),
                commit: trim(self.commit),
            },
            trust,
            report: self.report.filter(|p| !p.as_os_str().is_empty()),
            http: self.timeout.http(runner)?,
        })
    }
}
