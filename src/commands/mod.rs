//! The commands, one file each. Each is one function that reads top to bottom, and only this
//! layer decides what the user is told: the machinery below returns what it found (values,
//! notices, typed errors) and the commands tell it through [`crate::reporting`]. Party: none
//! of its own: GitHub is reached through [`crate::github`], the index through
//! [`crate::index`] and [`crate::publish`], Sigstore through [`crate::attest`].
mod download;
mod github_release;
mod mint_token;
mod preflight;
pub mod publish;
mod record;
mod verify;

use crate::cli::{Command, Invocation};
use crate::github::runner::Runner;
use crate::reporting::{self, Level};

/// How a command failed.
#[derive(Debug)]
pub enum Failure {
    /// Told in full already (annotations, summary): only this last line remains.
    Told(String),
    /// Not told yet: an error annotation titled by the command, and the last line.
    Untold(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Untold(e)
    }
}

/// Run the command, then tell how it failed, if it did. Returns whether it succeeded.
pub async fn run(invocation: Invocation, runner: &Runner) -> bool {
    let Invocation { cli, via_action } = invocation;
    let title = match &cli.command {
        Command::Publish(_) => "Publish failed",
        Command::MintToken(_) => "Minting an upload token failed",
        Command::Download(_) => "Downloading the artifacts failed",
        Command::Record(_) => "Recording the release failed",
        Command::Preflight(_) => "Version preflight failed",
        Command::GithubRelease(_) => "The GitHub Release failed",
        Command::Verify(_) => "Provenance verification failed",
    };
    let result = match cli.command {
        Command::Publish(args) => publish::publish(*args, runner).await,
        Command::MintToken(args) => mint_token::mint_token(args, runner, via_action).await,
        Command::Download(args) => download::download(args, runner).await,
        Command::Record(args) => record::record(args),
        Command::Preflight(args) => preflight::preflight(args, runner).await,
        Command::GithubRelease(args) => github_release::github_release(args, runner).await,
        Command::Verify(args) => verify::verify(args, runner).await,
    };
    match result {
        Ok(()) => true,
        Err(Failure::Told(msg)) => {
            reporting::print_err(&format!("error: {msg}"));
            false
        }
        Err(Failure::Untold(e)) => {
            let msg = format!("{e:#}");
            reporting::annotate(Level::Error, title, &msg);
            reporting::print_err(&format!("error: {msg}"));
            false
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
