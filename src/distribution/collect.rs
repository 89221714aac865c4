//! Gathering the files of a release from the given paths and checking them together.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::inert::shown;

use super::filename::{classify, escaped, parse_wheel, FileClass};
use super::metadata::CoreMetadata;
use super::rules::{self, Identity};
use super::{sdist, wheel};
use super::{CheckFailure, DistKind, Distribution, Problem, Release, Skipped};

/// A file that looks like a distribution by its name.
struct Candidate {
    path: PathBuf,
    filename: String,
    kind: DistKind,
}

/// The outcome of checking one file on its own.
struct Inspected {
    candidate: Candidate,
    identity: Option<Identity>,
    /// Present only when the file passed every check of its own.
    distribution: Option<Distribution>,
}

/// Finds the distributions of one release in `paths` and checks them before any upload.
///
/// Each path is a distribution file or a folder whose files (not subfolders) are read in
/// name order. Files in a folder that are not distributions are returned as [`Skipped`];
/// a named file that is not a distribution, a legacy format PyPI refuses, a missing path, an
/// empty set or any failed check is a [`Problem`]. All problems of all files are reported
/// together, and nothing is returned for upload unless there are none.
pub fn collect(paths: &[PathBuf]) -> Result<(Release, Vec<Skipped>), CheckFailure> {
    let (mut releases, skipped) = gather_releases(paths, false)?;
    match releases.pop() {
        // With `several_projects` false every file is of one release.
        Some(release) if releases.is_empty() => Ok((release, skipped)),
        _ => Err(CheckFailure {
            problems: nothing_to_publish(paths, &skipped),
        }),
    }
}

/// Like [`collect`], for several projects at once (a monorepo, a package and its plugins):
/// one [`Release`] per project, sorted by normalised name, each checked on its own (one
/// version, at most one sdist). Several versions of one project stay a problem: that is a
/// stale file, not a monorepo.
pub fn collect_releases(paths: &[PathBuf]) -> Result<(Vec<Release>, Vec<Skipped>), CheckFailure> {
    gather_releases(paths, true)
}

fn gather_releases(
    paths: &[PathBuf],
    several_projects: bool,
) -> Result<(Vec<Release>, Vec<Skipped>), CheckFailure> {
    let mut problems = Vec::new();
    let mut skipped = Vec::new();
    let mut candidates = gather(paths, &mut skipped, &mut problems);
    if candidates.is_empty() {
        if problems.is_empty() {
            problems = nothing_to_publish(paths, &skipped);
        }
        return Err(CheckFailure { problems });
    }
    candidates.sort_by(|a, b| {
        (a.kind == DistKind::Sdist, &a.filename).cmp(&(b.kind == DistKind::Sdist, &b.filename))
    });

    let mut inspected = Vec::with_capacity(candidates.len());
    for candidate in candidates {
        tracing::debug!(path = %candidate.path.display(), "checking distribution");
        let (identity, distribution, messages) = match candidate.kind {
            DistKind::Wheel => inspect_wheel(&candidate),
            DistKind::Sdist => inspect_sdist(&candidate),
        };
        problems.extend(messages.into_iter().map(|message| Problem {
            path: candidate.path.clone(),
            message,
        }));
        inspected.push(Inspected {
            candidate,
            identity,
            distribution,
        });
    }
    problems.extend(check_together(&inspected, several_projects));
    if !problems.is_empty() {
        return Err(CheckFailure { problems });
    }

    // The checks above leave one version per project (and one project unless
    // `several_projects`), so grouping by project name groups by release.
    let mut releases: Vec<Release> = Vec::new();
    for item in inspected {
        let (Some(identity), Some(distribution)) = (item.identity, item.distribution) else {
            // Unreachable in practice: a file without both has reported a problem.
            continue;
        };
        let normalized_name = identity.name.to_string();
        match releases
            .iter_mut()
            .find(|r| r.normalized_name == normalized_name)
        {
            Some(release) => release.distributions.push(distribution),
            None => releases.push(Release {
                name: distribution.metadata.name.clone(),
                normalized_name,
                version: distribution.metadata.version.clone(),
                distributions: vec![distribution],
            }),
        }
    }
    if releases.is_empty() {
        return Err(CheckFailure {
            problems: nothing_to_publish(paths, &skipped),
        });
    }
    releases.sort_by(|a, b| a.normalized_name.cmp(&b.normalized_name));
    Ok((releases, skipped))
}

fn problem(path: &Path, message: String) -> Problem {
    Problem {
        path: path.to_path_buf(),
        message,
    }
}

fn gather(
    paths: &[PathBuf],
    skipped: &mut Vec<Skipped>,
    problems: &mut Vec<Problem>,
) -> Vec<Candidate> {
    let mut candidates = Vec::new();
    let mut seen_files: HashSet<PathBuf> = HashSet::new();
    let mut seen_names: HashMap<String, PathBuf> = HashMap::new();
    let mut add = |path: PathBuf, filename: String, kind: DistKind, problems: &mut Vec<Problem>| {
        // The same file named twice (say, by folder and by name) is one file.
        let real = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if !seen_files.insert(real) {
            return;
        }
        if let Some(other) = seen_names.get(&filename) {
            problems.push(problem(
                &path,
                format!(
                    "has the same file name as {}, and PyPI stores one file per name: keep only \
                     one of them",
                    shown(other.display())
                ),
            ));
            return;
        }
        seen_names.insert(filename.clone(), path.clone());
        candidates.push(Candidate {
            path,
            filename,
            kind,
        });
    };

    for path in paths {
        let metadata = match fs::metadata(path) {
            Ok(metadata) => metadata,
            Err(e) => {
                problems.push(problem(path, unreadable(&e)));
                continue;
            }
        };
        if !metadata.is_dir() {
            let Some(filename) = file_name(path, problems) else {
                continue;
            };
            match classify(&filename) {
                FileClass::Wheel => add(path.clone(), filename, DistKind::Wheel, problems),
                FileClass::Sdist => add(path.clone(), filename, DistKind::Sdist, problems),
                FileClass::Legacy(what) => problems.push(problem(path, legacy(what, None))),
                FileClass::Other(why) => problems.push(problem(
                    path,
                    format!(
                        "is not a Python distribution ({why}): name wheels (.whl) and sdists \
                         (.tar.gz), or a folder holding them"
                    ),
                )),
            }
            continue;
        }
        let mut entries: Vec<PathBuf> = match fs::read_dir(path) {
            Ok(read) => read.filter_map(|e| e.ok().map(|e| e.path())).collect(),
            Err(e) => {
                problems.push(problem(
                    path,
                    format!("is a folder that cannot be listed ({e}): check its permissions"),
                ));
                continue;
            }
        };
        entries.sort();
        for entry in entries {
            let class = entry
                .file_name()
                .map(|n| classify(&n.to_string_lossy()))
                .unwrap_or(FileClass::Other("no file name"));
            match fs::metadata(&entry) {
                Ok(m) if m.is_dir() => skipped.push(Skipped {
                    path: entry,
                    reason: format!(
                        "a folder; only files directly in {} are published",
                        shown(path.display())
                    ),
                }),
                Ok(_) => match class {
                    FileClass::Wheel | FileClass::Sdist => {
                        let kind = if class == FileClass::Wheel {
                            DistKind::Wheel
                        } else {
                            DistKind::Sdist
                        };
                        if let Some(filename) = file_name(&entry, problems) {
                            add(entry, filename, kind, problems);
                        }
                    }
                    FileClass::Legacy(what) => {
                        problems.push(problem(&entry, legacy(what, Some(path))));
                    }
                    FileClass::Other(why) => skipped.push(Skipped {
                        path: entry,
                        reason: why.to_owned(),
                    }),
                },
                Err(e) => match class {
                    FileClass::Other(_) => skipped.push(Skipped {
                        path: entry,
                        reason: format!("cannot be read ({e})"),
                    }),
                    _ => problems.push(problem(&entry, unreadable(&e))),
                },
            }
        }
    }
    candidates
}

fn file_name(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    match path.file_name().map(|n| n.to_str()) {
        Some(Some(name)) => Some(name.to_owned()),
        _ => {
            problems.push(problem(
                path,
                "has a file name that is not valid UTF-8, which cannot be uploaded: rename it \
                 (rebuilding gives the standard name)"
                    .to_owned(),
            ));
            None
        }
    }
}

fn unreadable(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::NotFound {
        let cwd = std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or_else(|_| "the working directory".to_owned());
        format!(
            "does not exist: check the path (a relative path is read from {cwd}) and that the \
             build step put its output there"
        )
    } else {
        format!("cannot be read ({e}): check that it exists and is readable")
    }
}

fn legacy(what: &str, folder: Option<&Path>) -> String {
    let remove = match folder {
        Some(folder) => format!(", or remove it from {}", shown(folder.display())),
        None => String::new(),
    };
    format!(
        "is {what}, a format PyPI no longer accepts (only wheels and .tar.gz sdists, PEP 527 and \
         PEP 625): build a wheel and a .tar.gz sdist instead (python -m build){remove}"
    )
}

fn nothing_to_publish(paths: &[PathBuf], skipped: &[Skipped]) -> Vec<Problem> {
    if paths.is_empty() {
        return vec![problem(
            Path::new("."),
            "nothing to publish: no paths were given; name the folder that holds the built \
             distributions"
                .to_owned(),
        )];
    }
    paths
        .iter()
        .map(|path| {
            let here = skipped.iter().filter(|s| s.path.starts_with(path)).count();
            let others = if here == 0 {
                String::new()
            } else {
                format!(" ({here} other entries were skipped)")
            };
            problem(
                path,
                format!(
                    "nothing to publish: no wheel (.whl) or sdist (.tar.gz) was found here\
                     {others}; build the distributions first (python -m build) or point at the \
                     folder that holds them"
                ),
            )
        })
        .collect()
}

type Checked = (Option<Identity>, Option<Distribution>, Vec<String>);

fn size_of(path: &Path) -> Result<u64, String> {
    fs::metadata(path)
        .map(|m| m.len())
        .map_err(|e| format!("cannot be read ({e})"))
}

fn parse_metadata(bytes: &[u8], member: &str, problems: &mut Vec<String>) -> Option<CoreMetadata> {
    match CoreMetadata::parse(bytes) {
        Ok(metadata) => Some(metadata),
        Err(e) => {
            problems.push(format!("{member} {e}"));
            None
        }
    }
}

fn inspect_wheel(candidate: &Candidate) -> Checked {
    let mut problems = Vec::new();
    let size = match size_of(&candidate.path) {
        Ok(size) => size,
        Err(why) => return (None, None, vec![why]),
    };
    let name = match parse_wheel(&candidate.filename) {
        Ok(name) => Some(name),
        Err(messages) => {
            problems.extend(messages);
            None
        }
    };
    let (contents, messages) = wheel::read(&candidate.path, size, name.as_ref());
    problems.extend(messages);
    let Some(contents) = contents else {
        return (None, None, problems);
    };
    // Only ever shown: the folder name comes from the archive.
    let member = format!("{}/METADATA", shown(&contents.dist_info));
    let Some(metadata) = parse_metadata(&contents.metadata, &member, &mut problems) else {
        return (None, None, problems);
    };
    let (identity, messages) = rules::check(&metadata, &member);
    problems.extend(messages);

    if let (Some(identity), Some(name)) = (&identity, &name) {
        let expected = escaped(&identity.name);
        if name.name != expected {
            let same_project = PackageName::from_str(&name.name).is_ok_and(|n| n == identity.name);
            problems.push(if same_project {
                format!(
                    "the file name starts with {:?}, but PyPI requires the normalised project \
                     name {expected:?} in wheel file names: rebuild with an up-to-date build \
                     backend (renaming is not enough, the .dist-info folder must match)",
                    name.name
                )
            } else {
                format!(
                    "the file name is for project {:?} but {member} says Name {:?}: the file \
                     was renamed or mixed up; rebuild it",
                    name.name, metadata.name
                )
            });
        }
        if Version::from_str(&name.version).is_ok_and(|v| v != identity.version) {
            problems.push(format!(
                "the file name says version {} but {member} says Version {}: the file was \
                 renamed or mixed up; rebuild it",
                shown(&name.version),
                shown(&metadata.version)
            ));
        }
    }
    if metadata.metadata_version_parts() >= Some((2, 4)) {
        for license in metadata.get_all("License-File") {
            let expected = format!("{}/licenses/{license}", contents.dist_info);
            if !contents.names.contains(&expected) {
                problems.push(format!(
                    "{member} lists License-File {license:?} but the wheel has no {}, which \
                     PyPI refuses: rebuild with a backend that ships the license files",
                    shown(&expected)
                ));
            }
        }
    }

    let distribution = match (&name, problems.is_empty()) {
        (Some(name), true) => Some(Distribution {
            path: candidate.path.clone(),
            filename: candidate.filename.clone(),
            kind: DistKind::Wheel,
            size,
            metadata,
            pyversion: name.python.clone(),
        }),
        _ => None,
    };
    (identity, distribution, problems)
}

fn inspect_sdist(candidate: &Candidate) -> Checked {
    let mut problems = Vec::new();
    let size = match size_of(&candidate.path) {
        Ok(size) => size,
        Err(why) => return (None, None, vec![why]),
    };
    let contents = match sdist::read(&candidate.path) {
        Ok(contents) => contents,
        Err(messages) => return (None, None, messages),
    };
    // Only ever shown: the folder name comes from the archive.
    let member = format!("{}/PKG-INFO", shown(&contents.top));
    let Some(metadata) = parse_metadata(&contents.pkg_info, &member, &mut problems) else {
        return (None, None, problems);
    };
    let (identity, messages) = rules::check(&metadata, &member);
    problems.extend(messages);

    if let Some(identity) = &identity {
        // PyPI (warehouse/forklift/legacy.py) refuses any sdist whose file name is not
        // exactly `{normalised name with _}-{normalised version}.tar.gz` (PEP 625), so older
        // names such as `Foo-Bar-1.0.tar.gz` or `foo.bar-1.0.tar.gz` are refused here too,
        // even when they would parse and normalise to the same project.
        let expected = format!("{}-{}.tar.gz", escaped(&identity.name), identity.version);
        if candidate.filename != expected {
            problems.push(format!(
                "PyPI requires the sdist file name {expected:?} (PEP 625: the normalised name \
                 and version of {member}): rebuild with an up-to-date build backend (setuptools \
                 69.3 or later, hatchling, flit-core, poetry-core, maturin ...); renaming works \
                 only if the name and version inside are right"
            ));
        }
        if !names_release(&contents.top, identity) {
            problems.push(format!(
                "its top-level folder {}/ does not name {} {} as {member} does: the archive \
                 holds another release or was repacked; rebuild it",
                shown(&contents.top),
                shown(&metadata.name),
                shown(&metadata.version)
            ));
        }
    }
    if metadata.metadata_version_parts() >= Some((2, 4)) {
        for license in metadata.get_all("License-File") {
            let expected = format!("{}/{license}", contents.top);
            if !contents.names.contains(&expected) {
                problems.push(format!(
                    "{member} lists License-File {license:?} but the sdist has no {}, which \
                     PyPI refuses: include the license files in the sdist",
                    shown(&expected)
                ));
            }
        }
    }

    let distribution = problems.is_empty().then(|| Distribution {
        path: candidate.path.clone(),
        filename: candidate.filename.clone(),
        kind: DistKind::Sdist,
        size,
        metadata,
        pyversion: "source".to_owned(),
    });
    (identity, distribution, problems)
}

/// Whether a `{name}-{version}` folder name denotes the release, for any split at a `-`
/// (legacy names and versions may hold dashes).
fn names_release(folder: &str, identity: &Identity) -> bool {
    folder.match_indices('-').any(|(i, _)| {
        let (name, version) = (&folder[..i], &folder[i + 1..]);
        PackageName::from_str(name).is_ok_and(|n| n == identity.name)
            && Version::from_str(version).is_ok_and(|v| v == identity.version)
    })
}

/// Checks across files: one version per project and at most one sdist per project; and one
/// project, unless `several_projects`.
fn check_together(inspected: &[Inspected], several_projects: bool) -> Vec<Problem> {
    let mut problems = Vec::new();
    // The first file of each project (of the run, unless `several_projects`).
    let mut firsts: Vec<(&Candidate, &Identity)> = Vec::new();
    for item in inspected {
        let Some(identity) = &item.identity else {
            continue;
        };
        let reference = if several_projects {
            firsts.iter().find(|(_, i)| i.name == identity.name)
        } else {
            firsts.first()
        };
        let Some(&(first, first_identity)) = reference else {
            firsts.push((&item.candidate, identity));
            continue;
        };
        let same_name = identity.name == first_identity.name;
        let same_version = identity.version == first_identity.version;
        if same_name && same_version {
            continue;
        }
        let why = if several_projects {
            "several versions of one project in one publish are refused (a file left over \
             from another build, most likely); remove the files of the other version from the \
             packages folder or publish it in a separate run"
                .to_owned()
        } else {
            let what = if same_name { "version" } else { "project" };
            format!(
                "one run publishes one release, so this is another {what}; remove the files of \
                 other releases from the packages folder or publish them in separate runs"
            )
        };
        problems.push(problem(
            &item.candidate.path,
            format!(
                "is {} {} but {} is {} {}: {why}",
                identity.name,
                identity.version,
                shown(&first.filename),
                first_identity.name,
                first_identity.version
            ),
        ));
    }
    // One sdist per project: a file whose identity is unknown has reported its problem, and
    // without `several_projects` every sdist counts.
    let mut first_sdists: Vec<(Option<&PackageName>, &Candidate)> = Vec::new();
    for item in inspected
        .iter()
        .filter(|i| i.candidate.kind == DistKind::Sdist)
    {
        let project = match (several_projects, &item.identity) {
            (false, _) => None,
            (true, Some(identity)) => Some(&identity.name),
            (true, None) => continue,
        };
        match first_sdists.iter().find(|(p, _)| *p == project) {
            Some((_, first)) => problems.push(problem(
                &item.candidate.path,
                format!(
                    "is a second sdist besides {}, and PyPI accepts only one sdist per release: \
                     keep one",
                    shown(&first.filename)
                ),
            )),
            None => first_sdists.push((project, &item.candidate)),
        }
    }
    problems
}
