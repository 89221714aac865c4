//! What the index already holds of a project, and whether a version may be released next
//! (`preflight`).
//!
//! The reader speaks Warehouse's project JSON (`GET {index}/pypi/{name}/json`, 404 for a
//! project the index does not know). Indexes without the JSON API (pypiserver, Artifactory)
//! answer 404 there too, so the verdict would be "new project"; once the crate reads the
//! Simple API (PEP 691 / PEP 503, `crate::index`), [`read_project`] should take the versions
//! from there instead: every index serves it, and its file names carry the versions.
use std::collections::BTreeMap;

use anyhow::{anyhow, Context};
use pep440_rs::Version;

use serde::Deserialize;
use url::Url;

use crate::http::{Failure, Http};
use crate::reporting::shown;

/// One version the index lists with at least one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexVersion {
    /// As the index writes it (for messages).
    pub text: String,
    pub version: Version,
    /// Every file of the release is yanked.
    pub yanked: bool,
}

/// The versions of a project on the index, and those it lists that are not PEP 440 versions
/// (old projects have some); these cannot be compared and are left out of every judgement.
#[derive(Clone, Debug, Default)]
pub struct ProjectVersions {
    pub versions: Vec<IndexVersion>,
    pub unparsable: Vec<String>,
}

#[derive(Deserialize)]
struct ProjectJson {
    #[serde(default)]
    releases: BTreeMap<String, Vec<FileJson>>,
}

#[derive(Deserialize)]
struct FileJson {
    #[serde(default)]
    yanked: bool,
}

/// `{index}/pypi/{normalised name}/json`.
pub fn project_json_url(index_url: &Url, normalized_name: &str) -> anyhow::Result<Url> {
    index_url
        .join(&format!("pypi/{normalized_name}/json"))
        .with_context(|| format!("bad index URL {index_url}"))
}

/// The project's versions, or `None` when the index does not know the project (404).
pub async fn read_project(
    http: &Http,
    index_url: &Url,
    normalized_name: &str,
) -> anyhow::Result<Option<ProjectVersions>> {
    let url = project_json_url(index_url, normalized_name)?;
    let what = format!("reading {url}");
    http.retry(&what, |_| read_once(http, url.clone(), &what))
        .await
}

async fn read_once(http: &Http, url: Url, what: &str) -> Result<Option<ProjectVersions>, Failure> {
    let Some(value) = http.get_json_if_any(what, url).await? else {
        return Ok(None);
    };
    let parsed: ProjectJson = serde_json::from_value(value).map_err(|e| {
        Failure::Permanent(anyhow!(
            "{what}: not a project JSON ({{\"releases\": {{VERSION: [FILE, ...]}}}}): {}",
            shown(e)
        ))
    })?;
    Ok(Some(versions_of(parsed.releases)))
}

fn versions_of(releases: BTreeMap<String, Vec<FileJson>>) -> ProjectVersions {
    let mut out = ProjectVersions::default();
    for (text, files) in releases {
        // A release without files holds no file name yet and nothing installs from it.
        if files.is_empty() {
            continue;
        }
        match text.parse::<Version>() {
            Ok(version) => out.versions.push(IndexVersion {
                yanked: files.iter().all(|f| f.yanked),
                text,
                version,
            }),
            Err(_) => out.unparsable.push(text),
        }
    }
    out
}

/// Whether `candidate` may be released next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The index does not know the project: any version is new.
    NewProject,
    /// Newer than every release (or older, and `--allow-older` said so).
    Ok {
        latest: Option<IndexVersion>,
        older: bool,
    },
    /// The index already has this version (PEP 440 equality: `1.2.3` is `1.2.3.0`).
    AlreadyThere { on_index: IndexVersion },
    /// Lower than the highest release, and no `--allow-older`.
    Older { latest: IndexVersion },
}

/// The highest release that counts: not yanked, and a final release (post-releases count)
/// unless the project has no final release at all; pre- and dev releases on the index then
/// never block a version, so `2.0` may follow `2.1rc1` (a release candidate that was dropped)
/// while `2.0rc1` may not follow `2.0`.
pub fn latest(versions: &[IndexVersion]) -> Option<&IndexVersion> {
    let live = || versions.iter().filter(|v| !v.yanked);
    live()
        .filter(|v| !v.version.any_prerelease())
        .max_by(|a, b| a.version.cmp(&b.version))
        .or_else(|| live().max_by(|a, b| a.version.cmp(&b.version)))
}

pub fn judge(candidate: &Version, project: Option<&ProjectVersions>, allow_older: bool) -> Verdict {
    let Some(project) = project else {
        return Verdict::NewProject;
    };
    if let Some(there) = project.versions.iter().find(|v| v.version == *candidate) {
        return Verdict::AlreadyThere {
            on_index: there.clone(),
        };
    }
    let latest = latest(&project.versions).cloned();
    match latest {
        Some(l) if *candidate < l.version && !allow_older => Verdict::Older { latest: l },
        latest => Verdict::Ok {
            older: latest.as_ref().is_some_and(|l| *candidate < l.version),
            latest,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(list: &[(&str, bool)]) -> ProjectVersions {
        let releases = list
            .iter()
            .map(|(v, yanked)| (v.to_string(), vec![FileJson { yanked: *yanked }]))
            .collect();
        versions_of(releases)
    }

    fn v(s: &str) -> Version {
        s.parse().unwrap()
    }

    fn verdict(candidate: &str, list: &[(&str, bool)], allow_older: bool) -> String {
        match judge(&v(candidate), Some(&project(list)), allow_older) {
            Verdict::NewProject => "new project".into(),
            Verdict::Ok { latest, older } => format!(
                "ok latest={} older={older}",
                latest.map(|l| l.text).unwrap_or_default()
            ),
            Verdict::AlreadyThere { on_index } => format!("there {}", on_index.text),
            Verdict::Older { latest } => format!("older than {}", latest.text),
        }
    }

    #[test]
    fn equality_is_pep_440() {
        assert_eq!(
            verdict("1.2.3.0", &[("1.2.3", false)], false),
            "there 1.2.3"
        );
        assert_eq!(
            verdict("1.0-rc1", &[("1.0rc1", false)], false),
            "there 1.0rc1"
        );
        // A yanked release still holds its version.
        assert_eq!(verdict("1.0", &[("1.0", true)], true), "there 1.0");
    }

    #[test]
    fn lower_than_the_highest_release_needs_allow_older() {
        let list = [("1.0", false), ("2.0", false), ("1.5", false)];
        assert_eq!(verdict("1.9", &list, false), "older than 2.0");
        assert_eq!(verdict("1.9", &list, true), "ok latest=2.0 older=true");
        assert_eq!(verdict("2.0.1", &list, false), "ok latest=2.0 older=false");
        // Ordering is PEP 440's, not the text's.
        assert_eq!(
            verdict("1.10", &[("1.9", false)], false),
            "ok latest=1.9 older=false"
        );
    }

    #[test]
    fn pre_releases_and_yanked_releases_do_not_count_as_the_highest() {
        assert_eq!(
            verdict("2.0", &[("1.0", false), ("2.1rc1", false)], false),
            "ok latest=1.0 older=false"
        );
        assert_eq!(
            verdict("2.0rc1", &[("2.0", false)], false),
            "older than 2.0"
        );
        assert_eq!(
            verdict("1.1", &[("1.0", false), ("3.0", true)], false),
            "ok latest=1.0 older=false"
        );
        // Only pre-releases so far: the highest of them counts.
        assert_eq!(
            verdict("1.0a1", &[("1.0b1", false)], false),
            "older than 1.0b1"
        );
        assert_eq!(
            verdict("1.0.post1", &[("1.0", false)], false),
            "ok latest=1.0 older=false"
        );
    }

    #[test]
    fn unknown_projects_and_empty_or_unparsable_releases() {
        assert_eq!(judge(&v("0.1"), None, false), Verdict::NewProject);
        let p = versions_of(BTreeMap::from([
            ("0.9".to_owned(), vec![]),
            (
                "not a version\n::x".to_owned(),
                vec![FileJson { yanked: false }],
            ),
        ]));
        assert!(p.versions.is_empty());
        assert_eq!(p.unparsable, vec!["not a version\n::x".to_owned()]);
    }
}
