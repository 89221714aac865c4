//! `github-release`: the published files -> checked against `published` -> the tag checked
//! to name the commit they were built from -> the release of the tag (created when missing)
//! -> its assets planned -> attached -> outputs.
use std::path::PathBuf;

use crate::cli::{GithubReleaseArgs, GithubReleaseConfig, SourceChoice};
use crate::github::artifacts;
use crate::github::releases::{self, LocalFile, Releases};
use crate::github::runner::Runner;
use crate::record::published;
use crate::reporting::{self, outputs, shown, summary, Level};

use super::{plural, Failure};

pub async fn github_release(args: GithubReleaseArgs, runner: &Runner) -> Result<(), Failure> {
    let cfg = args.resolve(runner)?;

    // What was published.
    let published_files = published::load(&cfg.published)?;
    let release = published::release(
        &published_files,
        cfg.name.as_deref(),
        cfg.version.as_deref(),
    )?;
    let tag = cfg
        .tag
        .clone()
        .unwrap_or_else(|| format!("v{}", release.version));
    releases::check_tag(&tag)?;
    let release_url = cfg
        .release_url
        .as_ref()
        .map(|u| u.to_string())
        .or_else(|| published::default_release_page(&published_files, &release));

    // The files, from the same sources as the publish, each the very file that was published.
    let (candidates, built, _extraction) = fetch(&cfg, runner, &tag).await?;
    let files = match releases::match_published(&published_files, &candidates) {
        Ok(files) => files,
        Err(refused) => {
            for problem in &refused.0 {
                reporting::annotate(Level::Error, "File refused for the GitHub Release", problem);
            }
            return Err(Failure::Told(format!(
                "{refused}\nnothing was attached to the GitHub Release"
            )));
        }
    };
    for f in &files {
        tracing::info!("  {} (sha256 {}): as published", shown(&f.name), f.sha256);
    }

    // The tag names what was built, or nothing is written.
    let tag_commit = bind_tag(&cfg, &tag, &built).await?;

    // The release of the tag: found, or created (only for a tag that exists: GitHub would
    // otherwise tag the default branch's head, which is not what was built).
    let api = Releases::new(&cfg.http, &cfg.github);
    let gh_release = match api.by_tag(&tag).await? {
        Some(r) => {
            tracing::info!(
                "the release of {} exists ({}); its notes are left as they are",
                shown(&tag),
                shown(r.name.as_deref().unwrap_or("untitled"))
            );
            r
        }
        None => {
            let notes = releases::release_notes(
                &release.name,
                &release.version,
                release_url.as_deref(),
                &files,
            );
            let prerelease = release
                .version
                .parse::<pep440_rs::Version>()
                .is_ok_and(|v| v.any_prerelease());
            let created = api.create(&tag, &tag, &notes, prerelease).await?;
            tracing::info!("created the release of {}", shown(&tag));
            created
        }
    };

    // Plan every asset before attaching any.
    let existing = api.assets(&gh_release).await?;
    let plan = releases::plan_assets(&files, &existing, cfg.clobber);
    if !plan.conflicts.is_empty() {
        for c in &plan.conflicts {
            reporting::annotate(Level::Error, "Asset conflicts with the GitHub Release", c);
        }
        return Err(Failure::Told(format!(
            "{}\nnothing was attached to the GitHub Release",
            plan.conflicts.join("\n")
        )));
    }
    for (f, _) in &plan.keep {
        tracing::info!("{}: already attached with the same sha256", shown(&f.name));
    }
    for asset in &plan.delete {
        tracing::info!(
            "deleting asset {} ({}) to replace it",
            shown(&asset.name),
            if asset.state.as_deref() == Some("uploaded") {
                "a different file, --clobber"
            } else {
                "an upload that never completed"
            }
        );
        api.delete_asset(asset).await?;
    }
    let mut attached: Vec<(String, Option<String>)> = plan
        .keep
        .iter()
        .map(|(f, a)| (f.name.clone(), a.browser_download_url.clone()))
        .collect();
    let mut uploaded: Vec<&LocalFile> = Vec::new();
    for f in &plan.upload {
        let asset = api.upload(&gh_release, f).await.map_err(|e| {
            anyhow::anyhow!(
                "{e:#}\nattached so far: {}; re-run to attach the rest (files already attached \
                 with the same sha256 are kept)",
                names(&attached)
            )
        })?;
        tracing::info!("attached {}", shown(&f.name));
        attached.push((f.name.clone(), asset.browser_download_url));
        uploaded.push(f);
    }

    // Report, in the order of `published`.
    let order = |n: &str| files.iter().position(|f| f.name == n).unwrap_or(usize::MAX);
    attached.sort_by_key(|(n, _)| order(n));
    let urls: Vec<&str> = attached.iter().filter_map(|(_, u)| u.as_deref()).collect();
    let release_page = gh_release.html_url.clone().unwrap_or_default();
    for url in &urls {
        reporting::print_out(&shown(url).to_string());
    }
    let asset_urls = urls.join("\n");
    outputs::write_named_outputs(&[
        ("github-release-url", &release_page),
        ("github-asset-urls", &asset_urls),
    ])?;
    summary::write_step_summary(&format!(
        "## GitHub Release {}\n\n{}: {} file{} attached now, {} already there\n\nTag \
         <code>{}</code> names commit <code>{tag_commit}</code>; {}\n\n",
        summary::md(&tag),
        summary::md(&release_page),
        uploaded.len(),
        plural(uploaded.len()),
        plan.keep.len(),
        summary::md(&tag),
        summary::md(built.to_string())
    ))?;
    tracing::info!(
        "release {}: {} of {} file{} attached now, the rest already there",
        shown(&tag),
        uploaded.len(),
        files.len(),
        plural(files.len())
    );
    Ok(())
}

fn names(attached: &[(String, Option<String>)]) -> String {
    if attached.is_empty() {
        return "none".to_owned();
    }
    attached
        .iter()
        .map(|(n, _)| shown(n).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The commit the files were built from, as far as this job can tell.
enum Built {
    /// The run whose artifacts they are built this commit.
    Run { id: u64, sha: String },
    /// `--expect-sha` names it.
    Expected(String),
    /// This job runs for the tag (`GITHUB_REF`), at this commit (`GITHUB_SHA`).
    ThisJob(String),
    /// Files from a folder, and nothing says which commit they were built from.
    Unknown,
}

impl Built {
    /// For files from a folder: `--expect-sha`, else this job's commit when it runs for the
    /// tag.
    fn for_folder(cfg: &GithubReleaseConfig, tag: &str) -> Built {
        if let Some(sha) = &cfg.expect_sha {
            return Built::Expected(sha.clone());
        }
        match &cfg.job_commit {
            Some((sha, git_ref)) if *git_ref == format!("refs/tags/{tag}") => {
                Built::ThisJob(sha.clone())
            }
            _ => Built::Unknown,
        }
    }

    fn sha(&self) -> Option<&str> {
        match self {
            Built::Run { sha, .. } | Built::Expected(sha) | Built::ThisJob(sha) => Some(sha),
            Built::Unknown => None,
        }
    }
}

impl std::fmt::Display for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Built::Run { id, sha } => write!(f, "run {id} built commit {}", shown(sha)),
            Built::Expected(sha) => write!(f, "expect-sha names commit {}", shown(sha)),
            Built::ThisJob(sha) => write!(f, "this job runs for the tag at commit {}", shown(sha)),
            Built::Unknown => f.write_str("nothing says which commit the files were built from"),
        }
    }
}

/// The commit the tag names, after checking that it is the one the files were built from
/// (a warning when that cannot be told). Nothing has been written yet when it fails.
async fn bind_tag(cfg: &GithubReleaseConfig, tag: &str, built: &Built) -> Result<String, Failure> {
    let Some(commit) = artifacts::tag_commit(&cfg.http, &cfg.github, tag).await? else {
        return Err(anyhow::anyhow!(
            "tag {} does not exist in {}: push the release tag first, or pass --tag (input \
             `tag`) with the tag that was built; nothing was attached",
            shown(tag),
            shown(&cfg.github.repository)
        )
        .into());
    };
    match built.sha() {
        Some(sha) if sha.eq_ignore_ascii_case(&commit) => {
            tracing::info!("tag {} names commit {commit}: {built}", shown(tag));
        }
        Some(_) => {
            let problem = format!(
                "tag {} names commit {commit}, but {built}: these files are not a build of \
                 the tag. Attach the build of the tagged commit, or move the tag to the commit \
                 that was built",
                shown(tag)
            );
            reporting::annotate(Level::Error, "The tag is not what was built", &problem);
            return Err(Failure::Told(format!(
                "{problem}\nnothing was written to the GitHub Release"
            )));
        }
        None => reporting::annotate(
            Level::Warning,
            "Cannot tell which commit was built",
            &format!(
                "tag {} names commit {commit}, but nothing says which commit these files were \
                 built from, so the release may hold a build of another commit: pass \
                 expect-sha (the build's commit, e.g. ${{{{ \
                 github.event.workflow_run.head_sha }}}}), or attach the artifacts of the \
                 build's run (run-id)",
                shown(tag)
            ),
        ),
    }
    Ok(commit)
}

/// The candidate files: every file of the given paths (a folder's own files), or the
/// distributions of the run's artifacts, downloaded and digest-checked as publish does; and
/// the commit they were built from. The temporary folder of the artifacts lives as long as
/// the last value.
async fn fetch(
    cfg: &GithubReleaseConfig,
    runner: &Runner,
    tag: &str,
) -> Result<(Vec<PathBuf>, Built, Option<tempfile::TempDir>), Failure> {
    match &cfg.source {
        SourceChoice::Paths { paths, why } => {
            tracing::info!("{why}");
            Ok((files_of(paths)?, Built::for_folder(cfg, tag), None))
        }
        SourceChoice::Run {
            artifacts: run,
            why,
        } => {
            tracing::info!("{why}");
            let base = runner.temp_dir.clone().unwrap_or_else(std::env::temp_dir);
            let dir = tempfile::Builder::new()
                .prefix("pypi-oidc-publish-artifacts-")
                .tempdir_in(&base)
                .map_err(|e| {
                    anyhow::anyhow!("cannot create a folder in {}: {e}", base.display())
                })?;
            let downloaded = {
                let _g = reporting::group(&format!(
                    "Downloading the artifacts of run {}",
                    run.selection.run_id
                ));
                artifacts::download(&cfg.http, &run.source, &run.selection, dir.path()).await?
            };
            downloaded.notices.iter().for_each(reporting::tell);
            let built = Built::Run {
                id: downloaded.run.id,
                sha: downloaded.run.head_sha.clone(),
            };
            Ok((downloaded.files, built, Some(dir)))
        }
    }
}

fn files_of(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            anyhow::anyhow!(
                "{}: {e}; pass the folder or files that were published",
                shown(p.display())
            )
        })?;
        if meta.is_file() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p)
            .map_err(|e| anyhow::anyhow!("cannot list {}: {e}", shown(p.display())))?;
        for entry in entries.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}
