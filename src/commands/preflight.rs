//! `preflight`: before anything is built, is this version new on the index? It must not be
//! there yet, and must be higher than the highest release unless `--allow-older` (a backport).
use pep440_rs::Version;

use crate::cli::{PreflightArgs, PreflightSubject};
use crate::distribution;
use crate::github::runner::Runner;
use crate::index::versions::{self, Verdict};
use crate::report::Notice;
use crate::reporting::{self, outputs, shown, summary, Level};

use super::{plural, Failure};

pub async fn preflight(args: PreflightArgs, runner: &Runner) -> Result<(), Failure> {
    let cfg = args.resolve(runner)?;

    // What is about to be released: as given, or as the distributions say.
    let (name, version_text) = match cfg.subject {
        PreflightSubject::Given { name, version } => (name, version),
        PreflightSubject::Files { paths, why } => {
            tracing::info!("{why}");
            let release = super::publish::check(&paths)?;
            (release.name, release.version)
        }
    };
    let version: Version = version_text.parse().map_err(|_| {
        anyhow::anyhow!(
            "{} is not a PEP 440 version (e.g. 1.2.3, 1.2.3rc1, 1.2.3.post1): fix --version",
            shown(&version_text)
        )
    })?;
    let Some(normalized) = distribution::normalized_name(&name) else {
        return Err(anyhow::anyhow!(
            "{} is not a project name (letters, digits, and `.`, `_`, `-` inside): fix --name",
            shown(&name)
        )
        .into());
    };
    let simple = versions::simple_index(cfg.index.simple.as_ref(), &cfg.index.repository_url)?;
    tracing::debug!("simple index {} ({})", simple.url, simple.why);
    let index = &simple.url;

    // What the index holds: its simple page, as a publish reads it.
    let project = versions::read_project(&cfg.http, simple, &normalized).await?;
    if let Some(p) = &project {
        tracing::info!(
            "read {}: {} version{} of {normalized}",
            p.read_from,
            p.versions.len(),
            plural(p.versions.len())
        );
        for text in &p.unparsable {
            tracing::debug!("ignoring {}: no PEP 440 version in it", shown(text));
        }
    }
    let verdict = versions::judge(&version, project.as_ref(), cfg.allow_older);
    let latest = match &verdict {
        Verdict::Ok { latest, .. } => latest.as_ref().map(|l| l.version.to_string()),
        Verdict::Older { latest } => Some(latest.version.to_string()),
        Verdict::AlreadyThere { .. } => project
            .as_ref()
            .and_then(|p| versions::latest(&p.versions))
            .map(|l| l.version.to_string()),
        Verdict::NewProject => None,
    }
    .unwrap_or_default();
    outputs::write_named_outputs(&[
        ("name", &name),
        ("version", &version_text),
        ("latest", &latest),
    ])?;

    // The verdict.
    let (ok, line) = match verdict {
        Verdict::NewProject => (
            true,
            format!(
                "{normalized} is not on {index} yet (its page there answers 404): {version} \
                 will be its first release"
            ),
        ),
        Verdict::Ok {
            latest: None,
            older: _,
        } => (
            true,
            format!("{normalized} {version} is new on {index} (no release there to compare with)"),
        ),
        Verdict::Ok {
            latest: Some(l),
            older: false,
        } => (
            true,
            format!(
                "{normalized} {version} is new on {index} and higher than its highest release, {}",
                l.version
            ),
        ),
        Verdict::Ok {
            latest: Some(l),
            older: true,
        } => {
            reporting::tell(&Notice::warning(
                "Releasing an older version",
                format!(
                    "{normalized} {version} is lower than {}, the highest release on {index}; \
                     allowed by allow-older (a backport)",
                    l.version
                ),
            ));
            (true, format!("{normalized} {version} is new on {index}"))
        }
        Verdict::AlreadyThere { on_index } => (
            false,
            format!(
                "{normalized} {version} is already on {index} (listed as {}; PEP 440 compares \
                 versions such as 1.2.3 and 1.2.3.0 as one): a version is released once, so \
                 bump the version before building",
                shown(&on_index.text)
            ),
        ),
        Verdict::Older { latest } => (
            false,
            format!(
                "{normalized} {version} is lower than {}, the highest release on {index}: bump \
                 the version, or pass --allow-older (input `allow-older: true`) to release a \
                 backport",
                latest.version
            ),
        ),
    };
    summary::write_step_summary(&format!(
        "## Version preflight\n\n{} {}\n\n",
        if ok { "✅" } else { "❌" },
        summary::md(&line)
    ))?;
    if ok {
        tracing::info!("{line}");
        Ok(())
    } else {
        reporting::annotate(Level::Error, "Version preflight failed", &line);
        Err(Failure::Told(line))
    }
}
