//! What the index already holds of a project, and whether a version may be released next
//! (`preflight`).
//!
//! The versions come from the project's page on the index's simple index, read as a publish
//! reads it (`crate::index::simple`), on every index: PEP 700's `versions` when the PEP 691
//! page has them, and the versions in the file names (PEP 691 JSON or PEP 503 HTML) in any
//! case, each file yanked or not (PEP 592). Warehouse's JSON API is not read: its simple page
//! carries the same, and indexes without that API (pypiserver, devpi) would answer 404 there
//! for a project they hold. Only a 404 of the simple page itself makes a new project; any
//! answer that is not a readable page is an error.
use std::collections::BTreeMap;

use anyhow::anyhow;
use pep440_rs::Version;

use crate::distribution;
use crate::http::Http;
use crate::index::simple::SimplePage;
use crate::index::{SimpleApi, SimpleIndex};

/// One version the index lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexVersion {
    /// As the index writes it (for messages).
    pub text: String,
    pub version: Version,
    /// No file of it installs: every file is yanked, or the index lists the version without
    /// a file (its files were deleted; their names stay taken). It still holds its version.
    pub yanked: bool,
}

/// The versions of a project on the index, and the texts it lists that carry no PEP 440
/// version (old projects have some); these cannot be compared and are left out of every
/// judgement.
#[derive(Clone, Debug, Default)]
pub struct ProjectVersions {
    pub versions: Vec<IndexVersion>,
    pub unparsable: Vec<String>,
    /// The page read and its format, for the log.
    pub read_from: String,
}

/// The project's versions as its simple page lists them, or `None` when that page answers
/// 404 (the index does not know the project).
pub async fn read_project(
    http: &Http,
    simple: &SimpleIndex,
    normalized_name: &str,
) -> anyhow::Result<Option<ProjectVersions>> {
    let api = SimpleApi {
        http,
        url: &simple.url,
    };
    let Some(page) = api.listing(normalized_name).await? else {
        return Ok(None);
    };
    Ok(Some(versions_on(&page)))
}

/// The versions a project's simple page lists.
pub fn versions_on(page: &SimplePage) -> ProjectVersions {
    let files = page.files.iter().map(|f| (f.filename.as_str(), f.yanked));
    let mut project = versions_of(page.versions.as_deref(), files);
    project.read_from = page.described.clone();
    project
}

/// The versions of PEP 700's list (when given) and of the file names, with whether any file
/// of each is live (not yanked). A version written two ways (`1.0`, `1.0.0`) is one.
fn versions_of<'a>(
    listed: Option<&[String]>,
    files: impl Iterator<Item = (&'a str, bool)>,
) -> ProjectVersions {
    let mut out = ProjectVersions::default();
    // (version as written, a live file of it)
    let mut seen: Vec<(String, bool)> = listed
        .unwrap_or_default()
        .iter()
        .map(|text| (text.clone(), false))
        .collect();
    for (filename, yanked) in files {
        match distribution::name_and_version(filename) {
            Some((_, text)) => seen.push((text, !yanked)),
            None => out.unparsable.push(filename.to_owned()),
        }
    }
    // Keyed by PEP 440 order, in which `1.0` and `1.0.0` are one; the first writing is kept.
    let mut found: BTreeMap<Version, (String, bool)> = BTreeMap::new();
    for (text, live) in seen {
        match text.parse::<Version>() {
            Ok(version) => found.entry(version).or_insert_with(|| (text, false)).1 |= live,
            Err(_) => out.unparsable.push(text),
        }
    }
    out.versions = found
        .into_iter()
        .map(|(version, (text, live))| IndexVersion {
            text,
            version,
            yanked: !live,
        })
        .collect();
    out
}

/// The simple index preflight reads, or an error saying how to name it.
pub fn simple_index<'a>(
    simple: Option<&'a SimpleIndex>,
    repository_url: &url::Url,
) -> anyhow::Result<&'a SimpleIndex> {
    simple.ok_or_else(|| {
        anyhow!(
            "the simple index of {repository_url} is not known (its layout is none of PyPI's, \
             Warehouse's, pypiserver's or devpi's): give --simple-url (input `simple-url`)"
        )
    })
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

    /// A project whose page lists one wheel per version, yanked or not.
    fn project(list: &[(&str, bool)]) -> ProjectVersions {
        let names: Vec<(String, bool)> = list
            .iter()
            .map(|(v, yanked)| (format!("demo_package-{v}-py3-none-any.whl"), *yanked))
            .collect();
        versions_of(None, names.iter().map(|(n, y)| (n.as_str(), *y)))
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
    fn unknown_projects_and_unparsable_names() {
        assert_eq!(judge(&v("0.1"), None, false), Verdict::NewProject);
        let p = versions_of(
            None,
            [
                ("demo_package-not a version\n::x.tar.gz", false),
                ("demo_package-1.0-py2.7.egg", false),
            ]
            .into_iter(),
        );
        assert!(p.versions.is_empty());
        assert_eq!(
            p.unparsable,
            [
                "demo_package-1.0-py2.7.egg".to_owned(),
                "not a version\n::x".to_owned()
            ]
        );
    }

    #[test]
    fn versions_come_from_pep_700_and_from_the_file_names() {
        let listed = ["1.0".to_owned(), "2.0".to_owned(), "3.0".to_owned()];
        let p = versions_of(
            Some(&listed),
            [
                ("demo_package-1.0.0-py3-none-any.whl", false),
                ("demo_package-2.0.tar.gz", true),
                ("demo_package-2.0-py3-none-any.whl", false),
                // Not in `versions`: the file says it is there all the same.
                ("demo_package-4.0.tar.gz", true),
            ]
            .into_iter(),
        );
        let seen: Vec<(&str, bool)> = p
            .versions
            .iter()
            .map(|v| (v.text.as_str(), v.yanked))
            .collect();
        // 3.0 has no file left: it holds its version, and is not the highest release.
        assert_eq!(
            seen,
            [("1.0", false), ("2.0", false), ("3.0", true), ("4.0", true)]
        );
        assert_eq!(
            judge(&v("3.0.0"), Some(&p), false),
            Verdict::AlreadyThere {
                on_index: p.versions[2].clone()
            }
        );
        assert!(matches!(
            judge(&v("2.1"), Some(&p), false),
            Verdict::Ok { latest: Some(l), older: false } if l.text == "2.0"
        ));
    }
}
