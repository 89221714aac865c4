//! `download`: fetch and check the artifacts of a workflow run, without publishing them.
use crate::cli::DownloadArgs;
use crate::github::artifacts;
use crate::github::runner::Runner;
use crate::reporting;

use super::publish::check;
use super::Failure;

pub async fn download(args: DownloadArgs, runner: &Runner) -> Result<(), Failure> {
    let cfg = args.resolve(runner)?;
    let run_id = cfg.run.selection.run_id;
    let downloaded =
        artifacts::download(&cfg.http, &cfg.run.source, &cfg.run.selection, &cfg.dest).await?;
    for n in &downloaded.notices {
        reporting::tell(n);
    }
    let release = check(&downloaded.files)?;
    for d in &release.distributions {
        reporting::print_out(&reporting::shown(d.path.display()).to_string());
    }
    tracing::info!(
        "{} {}: {} file(s) from run {} checked and ready in {}",
        release.name,
        release.version,
        release.distributions.len(),
        run_id,
        reporting::shown(cfg.dest.display())
    );
    Ok(())
}
