//! The command-line contract. Every flag falls back to the variable GitHub sets for the
//! container action's input of the same name (`INPUT_` + name upper-cased, dashes kept), so
//! the binary run with no flags inside the action behaves as the action's inputs say.
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::gha::{self, Level};
use crate::http::{Http, RetryPolicy};
use crate::publish::{self, CredentialSource, PublishOptions};
use crate::secret::Secret;
use crate::upload::Credentials;

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

struct StaticToken(Credentials);

impl CredentialSource for StaticToken {
    async fn credentials(&self) -> anyhow::Result<Credentials> {
        Ok(Credentials {
            username: self.0.username.clone(),
            password: self.0.password.clone(),
        })
    }
}

struct NoCredentials;

impl CredentialSource for NoCredentials {
    async fn credentials(&self) -> anyhow::Result<Credentials> {
        anyhow::bail!(
            "no credentials: give an API token with --password, the `password` input or \
             PYPI_API_TOKEN"
        )
    }
}

async fn run_publish(args: PublishArgs) -> anyhow::Result<()> {
    let repository_url = parse_url("--repository-url", &args.repository_url)?;
    let index_url = match non_empty(args.index_url) {
        Some(u) => {
            let mut u = parse_url("--index-url", &u)?;
            if !u.path().ends_with('/') {
                u.set_path(&format!("{}/", u.path()));
            }
            u
        }
        None => crate::index::index_url_for(&repository_url),
    };
    let paths = if args.paths.is_empty() {
        vec![args.packages_dir.clone()]
    } else {
        args.paths.clone()
    };
    let password =
        non_empty(args.password).or_else(|| non_empty(std::env::var("PYPI_API_TOKEN").ok()));
    if let Some(p) = &password {
        gha::add_mask(p);
    }
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
    let http = Http::new(RetryPolicy::default())?;
    let report = match password {
        Some(p) => {
            let user = non_empty(Some(args.user)).unwrap_or_else(|| "__token__".to_owned());
            let creds = StaticToken(Credentials {
                username: user,
                password: Secret::new(p),
            });
            publish::publish(&http, &opts, &creds).await?
        }
        None => publish::publish(&http, &opts, &NoCredentials).await?,
    };
    publish::emit(&report, opts.dry_run, args.report.as_deref())?;
    publish::verdict(&report, opts.dry_run)
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbose = match &cli.command {
        Command::Publish(a) => a.verbose,
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
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = format!("{e:#}");
            if e.downcast_ref::<publish::NothingUploaded>().is_none() {
                gha::annotate(Level::Error, "Publish failed", &msg);
            }
            eprintln!("error: {msg}");
            ExitCode::FAILURE
        }
    }
}
