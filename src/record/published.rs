//! The publish step's `published` output and what the record step reads from it: the project
//! name and version (from the distribution filenames) and the first upload time.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;

use super::timestamp::UtcTime;

/// One file of the publish step's `published` output. Only the fields the `record` and
/// `github-release` steps use are read; the others (`url`, `size`, `packagetype`, ...) are
/// accepted and ignored: an `already-there` file simply has no `upload_time`.
#[derive(Debug, Clone, Deserialize)]
pub struct PublishedFile {
    pub filename: String,
    #[serde(default)]
    pub upload_time: Option<String>,
    /// The sha256 the index holds (`""` when unknown).
    #[serde(default)]
    pub sha256: Option<String>,
    /// `uploaded`, `already-there`, `mismatch`, `failed`, ...
    #[serde(default)]
    pub status: Option<String>,
    /// The file's URL on the index (`""` when the index never listed it).
    #[serde(default)]
    pub url: Option<String>,
}

impl PublishedFile {
    /// On the index by the publish step's word: `uploaded` or `already-there` (an entry
    /// without a status, as a hand-written list has, counts as uploaded). A `mismatch` (the
    /// index holds other bytes under the name), `failed` or `not-uploaded` file is not.
    pub fn on_index(&self) -> bool {
        matches!(
            self.status.as_deref().unwrap_or("uploaded"),
            "uploaded" | "already-there"
        )
    }
}

/// Every file of the release is on the index: a release the publish left with a file that is
/// not (a `mismatch`, `failed`, ...) is no published release to record.
pub fn all_on_index(files: &[PublishedFile]) -> Result<()> {
    let off: Vec<String> = files
        .iter()
        .filter(|f| !f.on_index())
        .map(|f| {
            format!(
                "{} ({})",
                crate::inert::shown(&f.filename),
                crate::inert::shown(f.status.as_deref().unwrap_or_default())
            )
        })
        .collect();
    if off.is_empty() {
        return Ok(());
    }
    bail!(
        "--published reports {} not on the index: {}; only a release whose every file is \
         `uploaded` or `already-there` is recorded as published (see the publish step's error)",
        if off.len() == 1 { "a file" } else { "files" },
        off.join(", ")
    )
}

/// The release page to link when the publish step named none (its `release-url` is empty):
/// PyPI's (or TestPyPI's) page of the release, when the files' URLs are on PyPI's (or
/// TestPyPI's) file host, or when no file carries a URL to tell (a hand-written list). Files
/// on any other index get none: a private index's release has no page on PyPI, and a guessed
/// link would send readers to someone else's project of the same name.
pub fn default_release_page(files: &[PublishedFile], release: &Release) -> Option<String> {
    let mut hosts = files
        .iter()
        .filter_map(|f| f.url.as_deref().filter(|u| !u.is_empty()))
        .map(|u| {
            url::Url::parse(u)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
        });
    let site = match hosts.next() {
        None => "pypi.org",
        Some(first) => {
            let site = match first.as_deref() {
                Some("files.pythonhosted.org") => "pypi.org",
                Some("test-files.pythonhosted.org") => "test.pypi.org",
                _ => return None,
            };
            if !hosts.all(|h| h == first) {
                return None;
            }
            site
        }
    };
    Some(format!(
        "https://{site}/project/{}/{}/",
        release.name, release.version
    ))
}

/// Reads `FILE_OR_JSON`: the JSON array itself when it starts with `[`, else a path to it.
pub fn load(file_or_json: &str) -> Result<Vec<PublishedFile>> {
    let trimmed = file_or_json.trim();
    if trimmed.is_empty() {
        bail!("--published is empty: pass the publish step's `published` output (a JSON array) or a file holding it");
    }
    if trimmed.starts_with('[') {
        return serde_json::from_str(trimmed)
            .context("--published is not the publish step's `published` output (a JSON array of {\"filename\", \"upload_time\", ...} objects)");
    }
    let path = Path::new(trimmed);
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the published list from {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not the publish step's `published` output (a JSON array of {{\"filename\", \"upload_time\", ...}} objects)",
            path.display()
        )
    })
}

/// The files of the release to record. A publish of several projects lists the files of
/// each: `--name` says which release is recorded, and is required then.
pub fn of_release(files: Vec<PublishedFile>, name: Option<&str>) -> Result<Vec<PublishedFile>> {
    let mut projects: Vec<String> = Vec::new();
    let mut named = Vec::with_capacity(files.len());
    for file in files {
        let (project, version) = name_and_version(&file.filename)?;
        let label = format!("{} {}", normalize_name(&project), version);
        if !projects.contains(&label) {
            projects.push(label);
        }
        named.push((normalize_name(&project), file));
    }
    let several: std::collections::HashSet<&str> = named.iter().map(|(p, _)| p.as_str()).collect();
    if several.len() < 2 {
        return Ok(named.into_iter().map(|(_, f)| f).collect());
    }
    let listed = crate::inert::shown(projects.join(", "));
    let Some(name) = name else {
        bail!(
            "--published holds several releases ({listed}): pass --name to say which one to \
             record (one record step per release)"
        );
    };
    let wanted = normalize_name(name);
    let kept: Vec<PublishedFile> = named
        .into_iter()
        .filter(|(p, _)| *p == wanted)
        .map(|(_, f)| f)
        .collect();
    if kept.is_empty() {
        bail!(
            "--name {} is none of the releases in --published ({listed}): fix --name",
            crate::inert::shown(name)
        );
    }
    Ok(kept)
}

/// The earliest upload time among the files (the release's first file), if any file has one.
pub fn first_upload(files: &[PublishedFile]) -> Result<Option<UtcTime>> {
    let mut earliest: Option<UtcTime> = None;
    for file in files {
        let Some(text) = file.upload_time.as_deref().filter(|t| !t.trim().is_empty()) else {
            continue;
        };
        let time = UtcTime::parse(text).with_context(|| {
            format!(
                "bad upload_time for {} in --published",
                crate::inert::shown(&file.filename)
            )
        })?;
        earliest = Some(earliest.map_or(time, |known| known.min(time)));
    }
    Ok(earliest)
}

/// PEP 503 normalisation, as the distribution checks do it; a string that is no valid
/// project name is only lower-cased (it can never equal a valid one).
pub fn normalize_name(name: &str) -> String {
    crate::distribution::normalized_name(name).unwrap_or_else(|| name.to_lowercase())
}

/// The project name (as written in the filename) and version of a distribution filename
/// (see [`crate::distribution::name_and_version`]).
pub fn name_and_version(filename: &str) -> Result<(String, String)> {
    crate::distribution::name_and_version(filename).ok_or_else(|| {
        anyhow::anyhow!(
            "cannot read a project name and version from {}: it is neither a wheel \
             ({{name}}-{{version}}(-{{build}})?-{{python}}-{{abi}}-{{platform}}.whl) nor a \
             {{name}}-{{version}}.tar.gz sdist; pass --name and --version",
            crate::inert::shown(filename)
        )
    })
}

/// Whether two version strings name the same release: equal text, or equal under PEP 440
/// (so `1.0` and `1.0.0`, or `1.0rc1` and `1.0-rc1`, match as they do on the index).
pub fn same_version(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (
        a.parse::<pep440_rs::Version>(),
        b.parse::<pep440_rs::Version>(),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The project (normalised name) and version this run records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    pub name: String,
    pub version: String,
}

/// Settles the release from `--name`/`--version` and the filenames; every file must belong
/// to it, since recording a release from another project's files would be silently wrong.
pub fn release(
    files: &[PublishedFile],
    name: Option<&str>,
    version: Option<&str>,
) -> Result<Release> {
    // The index accepts only wheel and sdist filenames, so every file must parse.
    let parsed: Vec<(String, String)> = files
        .iter()
        .map(|file| name_and_version(&file.filename))
        .collect::<Result<_>>()?;
    let first = parsed.first();
    let name = match (name, first) {
        (Some(name), _) => normalize_name(name),
        (None, Some((name, _))) => normalize_name(name),
        (None, None) => {
            bail!("--published lists no files, so the project name is unknown: pass --name")
        }
    };
    let version = match (version, first) {
        (Some(version), _) => version.to_owned(),
        (None, Some((_, version))) => version.clone(),
        (None, None) => {
            bail!("--published lists no files, so the version is unknown: pass --version")
        }
    };
    for (file, (file_name, file_version)) in files.iter().zip(&parsed) {
        if normalize_name(file_name) != name || !same_version(file_version, &version) {
            bail!(
                "{} is not a file of {} {}; --published must list only this release's files (or \
                 fix --name/--version)",
                crate::inert::shown(&file.filename),
                crate::inert::shown(&name),
                crate::inert::shown(&version)
            );
        }
    }
    Ok(Release { name, version })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(filename: &str, upload_time: Option<&str>) -> PublishedFile {
        PublishedFile {
            filename: filename.to_owned(),
            upload_time: upload_time.map(str::to_owned),
            sha256: None,
            status: None,
            url: None,
        }
    }

    #[test]
    fn normalizes_like_pep_503() {
        assert_eq!(normalize_name("Friendly-Bard"), "friendly-bard");
        assert_eq!(normalize_name("FRIENDLY._-bard"), "friendly-bard");
        assert_eq!(normalize_name("my_pkg"), "my-pkg");
    }

    #[test]
    fn reads_wheel_and_sdist_filenames() {
        assert_eq!(
            name_and_version("arthexis-0.1.33-py3-none-any.whl").unwrap(),
            ("arthexis".into(), "0.1.33".into())
        );
        assert_eq!(
            name_and_version("my_pkg-1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl").unwrap(),
            ("my_pkg".into(), "1.0".into())
        );
        assert_eq!(
            name_and_version("my-legacy-pkg-2.0.tar.gz").unwrap(),
            ("my-legacy-pkg".into(), "2.0".into())
        );
        assert!(name_and_version("arthexis-0.1.33.egg").is_err());
        assert!(name_and_version("arthexis-0.1.33-any.whl").is_err());
    }

    #[test]
    fn settles_the_release_and_rejects_strangers() {
        let files = [
            file("arthexis-0.1.33-py3-none-any.whl", None),
            file("arthexis-0.1.33.tar.gz", None),
        ];
        let release = release(&files, None, None).unwrap();
        assert_eq!(release.name, "arthexis");
        assert_eq!(release.version, "0.1.33");
        let error = super::release(&files, None, Some("0.1.34")).unwrap_err();
        assert!(error
            .to_string()
            .contains("arthexis-0.1.33-py3-none-any.whl"));
        assert!(super::release(&[], None, None).is_err());
        assert_eq!(
            super::release(&[], Some("Arthexis"), Some("1.0"))
                .unwrap()
                .name,
            "arthexis"
        );
    }

    #[test]
    fn several_releases_need_name_to_pick_one() {
        let files = || {
            vec![
                file("demo_core-1.0-py3-none-any.whl", None),
                file("demo_core-1.0.tar.gz", None),
                file("demo_plugin-0.3.tar.gz", None),
            ]
        };
        let kept = of_release(files(), Some("Demo.Plugin")).unwrap();
        let names: Vec<_> = kept.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["demo_plugin-0.3.tar.gz"]);
        assert_eq!(of_release(files(), Some("demo-core")).unwrap().len(), 2);
        let missing = of_release(files(), None).unwrap_err().to_string();
        assert!(
            missing.contains("several releases (demo-core 1.0, demo-plugin 0.3): pass --name"),
            "{missing}"
        );
        let wrong = of_release(files(), Some("other")).unwrap_err().to_string();
        assert!(
            wrong.contains("--name other is none of the releases"),
            "{wrong}"
        );
        // One release: every file, whatever --name says (release() judges it).
        assert_eq!(
            of_release(files()[..2].to_vec(), Some("x")).unwrap().len(),
            2
        );
    }

    #[test]
    fn first_upload_is_the_earliest_present() {
        let files = [
            file("a-1-py3-none-any.whl", Some("2025-11-13T04:11:51.000000Z")),
            file("a-1.tar.gz", Some("2025-11-13T04:11:50.064123Z")),
            file("a-1-py2-none-any.whl", None),
        ];
        let first = first_upload(&files).unwrap().unwrap();
        assert_eq!(first.to_django(), "2025-11-13T04:11:50.064Z");
        assert_eq!(first_upload(&files[2..]).unwrap(), None);
    }

    #[test]
    fn versions_compare_under_pep_440() {
        assert!(same_version("1.0", "1.0.0"));
        assert!(same_version("1.0rc1", "1.0-rc1"));
        assert!(!same_version("0.1.33", "0.1.34"));
        assert!(same_version("not a version", "not a version"));
    }

    #[test]
    fn only_uploaded_and_already_there_files_are_on_the_index() {
        let with = |status: Option<&str>| PublishedFile {
            status: status.map(str::to_owned),
            ..file("demo-1.0.tar.gz", None)
        };
        for status in [None, Some("uploaded"), Some("already-there")] {
            assert!(with(status).on_index(), "{status:?}");
            assert!(all_on_index(&[with(status)]).is_ok());
        }
        for status in ["mismatch", "failed", "not-uploaded", "would-upload"] {
            assert!(!with(Some(status)).on_index(), "{status}");
            let error = all_on_index(&[with(None), with(Some(status))])
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("demo-1.0.tar.gz") && error.contains(status),
                "{error}"
            );
        }
    }

    #[test]
    fn a_pypi_page_is_guessed_only_for_files_on_pypi() {
        let release = Release {
            name: "demo".to_owned(),
            version: "1.0".to_owned(),
        };
        let at = |url: Option<&str>| PublishedFile {
            url: url.map(str::to_owned),
            ..file("demo-1.0.tar.gz", None)
        };
        let page = |urls: &[Option<&str>]| {
            let files: Vec<_> = urls.iter().map(|u| at(*u)).collect();
            default_release_page(&files, &release)
        };
        let pypi = Some("https://pypi.org/project/demo/1.0/".to_owned());
        assert_eq!(page(&[None, Some("")]), pypi);
        assert_eq!(
            page(&[Some(
                "https://files.pythonhosted.org/packages/ab/demo-1.0.tar.gz"
            )]),
            pypi
        );
        assert_eq!(
            page(&[Some(
                "https://test-files.pythonhosted.org/packages/ab/demo-1.0.tar.gz"
            )]),
            Some("https://test.pypi.org/project/demo/1.0/".to_owned())
        );
        for private in [
            "https://pypi.internal.example/packages/demo-1.0.tar.gz",
            "http://127.0.0.1:8080/packages/demo-1.0.tar.gz",
            "not a url",
        ] {
            assert_eq!(page(&[Some(private)]), None, "{private}");
        }
        assert_eq!(
            page(&[
                Some("https://files.pythonhosted.org/packages/ab/demo-1.0.tar.gz"),
                Some("https://pypi.internal.example/packages/demo-1.0-py3-none-any.whl"),
            ]),
            None
        );
    }
}
