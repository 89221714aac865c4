//! The command-line contract. Every flag falls back to the variable GitHub sets for the
//! container action's input of the same name (`INPUT_` + name upper-cased, dashes kept), so
//! the binary run with no flags inside the action behaves as the action's inputs say.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use url::Url;

use std::io::Write;

use crate::auth::{Auth, TrustedPublishing};
use crate::gha::{self, Level};
use crate::http::{Http, RetryPolicy};
use crate::publish::{self, PublishOptions};
use crate::secret::Secret;

pub const DEFAULT_REPOSITORY_URL: &str = "https://upload.pypi.org/legacy/";

#[derive(Parser, Debug)]
#[command(
    name = "pypi-oidc-publish",
    version,
    about = "Publish Python distributions to PyPI from GitHub Actions, with trusted publishing"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check distributions, upload them, confirm them on the index and report their URLs.
    Publish(PublishArgs),
    /// Exchange the job's GitHub OIDC token for a short-lived upload token and print only it
    /// (masked in the job log), for workflows that hand it to another tool.
    MintToken(MintTokenArgs),
}

#[derive(Args, Debug)]
pub struct MintTokenArgs {
    /// The index's legacy upload URL (decides which index mints the token).
    #[arg(long, env = "INPUT_REPOSITORY-URL", default_value = DEFAULT_REPOSITORY_URL)]
    pub repository_url: String,

    /// Web root of the index [default: derived from --repository-url].
    #[arg(long, env = "INPUT_INDEX-URL")]
    pub index_url: Option<String>,

    /// The project the token is for (only used to point a refusal at its settings page).
    #[arg(long)]
    pub project: Option<String>,

    /// Show debug output.
    #[arg(long, short, env = "INPUT_VERBOSE")]
    pub verbose: bool,
}

#[derive(Args, Debug)]
pub struct PublishArgs {
    /// Distribution files or folders holding them [default: --packages-dir]
    pub paths: Vec<PathBuf>,

    /// The index's legacy upload URL.
    #[arg(long, env = "INPUT_REPOSITORY-URL", default_value = DEFAULT_REPOSITORY_URL)]
    pub repository_url: String,

    /// Folder of distributions, used when no PATHS are given.
    #[arg(long, env = "INPUT_PACKAGES-DIR", default_value = "dist")]
    pub packages_dir: PathBuf,

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

    /// Files uploaded at once.
    #[arg(long, env = "INPUT_CONCURRENCY", default_value_t = 4)]
    pub concurrency: usize,

    /// Use trusted publishing (OIDC): `auto` unless an API token is given.
    #[arg(long, env = "INPUT_TRUSTED-PUBLISHING", value_enum, default_value_t = TrustedPublishing::Auto)]
    pub trusted_publishing: TrustedPublishing,

    /// Seconds to wait for the index's JSON API to list the uploaded files.
    #[arg(long, env = "INPUT_CONFIRM-TIMEOUT", default_value_t = 60)]
    pub confirm_timeout: u64,
}

/// GitHub passes every declared input, unset ones as empty strings; empty means "not given".
fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

fn parse_url(what: &str, s: &str) -> anyhow::Result<Url> {
    let url = Url::parse(s.trim()).with_context(|| format!("{what} {s:?} is not a valid URL"))?;
    if !matches!(url.scheme(), "https" | "http") {
        anyhow::bail!("{what} {s:?} must be an http(s) URL");
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
    gha::add_mask(&p);
    Some(Secret::new(p))
}

async fn run_publish(args: PublishArgs) -> anyhow::Result<()> {
    let password = api_token(args.password);
    let repository_url = parse_url("--repository-url", &args.repository_url)?;
    let index_url = resolve_index_url(&repository_url, args.index_url)?;
    let paths = if args.paths.is_empty() {
        vec![args.packages_dir.clone()]
    } else {
        args.paths.clone()
    };
    let http = Http::new(RetryPolicy::default())?;
    let user = non_empty(Some(args.user)).unwrap_or_else(|| "__token__".to_owned());
    let auth = Auth::resolve(&http, args.trusted_publishing, user, password, &index_url).await?;
    let opts = PublishOptions {
        paths,
        repository_url,
        index_url,
        skip_existing: args.skip_existing,
        dry_run: args.dry_run,
        print_hash: args.print_hash,
        concurrency: args.concurrency,
        confirm_timeout: Duration::from_secs(args.confirm_timeout),
    };
    let report = publish::publish(&http, &opts, &auth).await?;
    publish::emit(&report, opts.dry_run, args.report.as_deref())?;
    publish::verdict(&report, opts.dry_run)
}

async fn run_mint_token(args: MintTokenArgs) -> anyhow::Result<()> {
    let repository_url = parse_url("--repository-url", &args.repository_url)?;
    let index_url = resolve_index_url(&repository_url, args.index_url)?;
    let http = Http::new(RetryPolicy::default())?;
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
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", token.expose()).context("writing the token to stdout")?;
    crate::outputs::write_named_outputs(&[("token", token.expose())])
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = match &cli.command {
        Command::Publish(a) => a.verbose,
        Command::MintToken(a) => {
            gha::commands_on_stderr();
            a.verbose
        }
    };
    crate::logging::init(verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Publish(args) => run_publish(args).await,
            Command::MintToken(args) => run_mint_token(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = format!("{e:#}");
            let annotated = e.downcast_ref::<publish::NothingUploaded>().is_some()
                || e.downcast_ref::<crate::oidc::Explained>().is_some();
            if !annotated {
                gha::annotate(Level::Error, "Publish failed", &msg);
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
