//! The rules PyPI applies to core metadata on upload, checked before anything is sent.
//!
//! They follow Warehouse (`warehouse/forklift/metadata.py`, which layers its own rules on
//! `packaging.metadata`): a failed rule there refuses the upload, and refusing one file of a
//! release after others were stored leaves a half-published release. Rules that need data
//! this tool does not carry (the trove classifier list, the SPDX licence list, e-mail
//! deliverability) are left to PyPI.

use std::collections::HashSet;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, VersionOrUrl};

use crate::inert::shown;

use super::metadata::{known_field, CoreMetadata, FIELDS, NEWEST_KNOWN_MINOR};

/// Metadata versions Warehouse accepts (`SUPPORTED_METADATA_VERSIONS`); 2.0 is not one.
const ACCEPTED_VERSIONS: &[(u32, u32)] = &[
    (1, 0),
    (1, 1),
    (1, 2),
    (2, 1),
    (2, 2),
    (2, 3),
    (2, 4),
    (2, 5),
];

/// Fields a `Dynamic` entry may name (Warehouse's `DYNAMIC_FIELDS`).
const DYNAMIC_FIELDS: &[&str] = &[
    "Platform",
    "Supported-Platform",
    "Summary",
    "Description",
    "Description-Content-Type",
    "Keywords",
    "Home-Page",
    "Download-Url",
    "Author",
    "Author-Email",
    "Maintainer",
    "Maintainer-Email",
    "License",
    "License-Expression",
    "License-File",
    "Classifier",
    "Requires-Dist",
    "Requires-Python",
    "Requires-External",
    "Project-Url",
    "Provides-Extra",
    "Provides-Dist",
    "Obsoletes-Dist",
    "Requires",
    "Provides",
    "Obsoletes",
    "Import-Name",
    "Import-Namespace",
];

const SUMMARY_MAX_CHARS: usize = 512;
const PROJECT_URL_LABEL_MAX_CHARS: usize = 32;

/// The validated identity of a distribution's metadata.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: PackageName,
    pub version: Version,
}

/// Checks `metadata` (read from the archive member `member`) and returns every problem,
/// each saying what to fix, plus the project identity when Name and Version are usable.
pub fn check(metadata: &CoreMetadata, member: &str) -> (Option<Identity>, Vec<String>) {
    let mut problems = Vec::new();
    let declared = check_metadata_version(metadata, member, &mut problems);
    check_repeats(metadata, member, &mut problems);
    if let Some(declared) = declared {
        check_field_ages(metadata, member, declared, &mut problems);
    }
    let name = check_name(metadata, member, &mut problems);
    let version = check_version(metadata, member, &mut problems);
    check_description(metadata, member, &mut problems);
    check_requirements(metadata, member, &mut problems);
    check_single_values(metadata, member, &mut problems);
    check_lists(metadata, member, &mut problems);
    check_project_urls(metadata, member, &mut problems);
    check_license_files(metadata, member, &mut problems);
    let identity = match (name, version) {
        (Some(name), Some(version)) => Some(Identity { name, version }),
        _ => None,
    };
    (identity, problems)
}

fn check_metadata_version(
    metadata: &CoreMetadata,
    member: &str,
    problems: &mut Vec<String>,
) -> Option<(u32, u32)> {
    let value = metadata.metadata_version.as_str();
    if value.is_empty() {
        problems.push(format!(
            "{member} has no Metadata-Version header: rebuild the distribution with a current \
             build backend"
        ));
        return None;
    }
    let Some(parts) = metadata.metadata_version_parts() else {
        problems.push(format!(
            "{member}: Metadata-Version {value:?} is not a metadata version (expected e.g. \
             \"2.4\"): rebuild the distribution with a current build backend"
        ));
        return None;
    };
    match parts {
        _ if ACCEPTED_VERSIONS.contains(&parts) => Some(parts),
        (major, _) if major >= 3 => {
            problems.push(format!(
                "{member}: Metadata-Version {value} is a new major version of the core metadata \
                 format that this version of pypi-oidc-publish does not understand: upgrade \
                 pypi-oidc-publish (once PyPI accepts it), or build with a backend that writes \
                 Metadata-Version 2.x"
            ));
            None
        }
        (2, 0) => {
            problems.push(format!(
                "{member}: Metadata-Version 2.0 was never a published standard and PyPI refuses \
                 it: rebuild with a current build backend (setuptools, hatchling, flit-core, \
                 poetry-core, maturin ...)"
            ));
            None
        }
        (2, minor) if minor > NEWEST_KNOWN_MINOR => {
            // The core metadata spec asks consumers to accept a newer minor version (it only
            // adds fields); PyPI decides, and this tool sends the fields it knows.
            tracing::warn!(
                member,
                metadata_version = value,
                "newer core metadata minor version than this tool knows; fields it does not know \
                 are not sent to the index"
            );
            Some(parts)
        }
        _ => {
            problems.push(format!(
                "{member}: Metadata-Version {value} is not a version PyPI accepts (1.0, 1.1, \
                 1.2, 2.1 to 2.{NEWEST_KNOWN_MINOR}): rebuild with a current build backend"
            ));
            None
        }
    }
}

fn check_repeats(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    for field in FIELDS.iter().filter(|f| !f.multiple) {
        let count = metadata.get_all(field.header).len();
        if count > 1 {
            problems.push(format!(
                "{member}: {} appears {count} times but may appear only once: fix the project's \
                 metadata and rebuild",
                field.header
            ));
        }
    }
    let mut unknown: Vec<&str> = Vec::new();
    for (key, _) in metadata.headers() {
        if known_field(key).is_none() && !unknown.iter().any(|u| u.eq_ignore_ascii_case(key)) {
            unknown.push(key);
        }
    }
    if !unknown.is_empty() {
        // PyPI ignores fields it does not know, so these are lost but harmless.
        tracing::warn!(member, fields = ?unknown, "metadata has headers that are not core metadata fields; they are not sent");
    }
}

fn check_field_ages(
    metadata: &CoreMetadata,
    member: &str,
    declared: (u32, u32),
    problems: &mut Vec<String>,
) {
    for field in FIELDS {
        if field.added <= declared || metadata.get(field.header).is_none() {
            continue;
        }
        if field.form == "license_file" && declared < (2, 4) {
            // setuptools wrote License-File under older metadata versions, where the field
            // meant something else; like twine, leave it out of the upload instead of
            // refusing the file (see form_fields).
            continue;
        }
        problems.push(format!(
            "{member}: {} needs Metadata-Version {}.{} or later, but the file declares {}: \
             rebuild with an up-to-date build backend",
            field.header, field.added.0, field.added.1, metadata.metadata_version
        ));
    }
}

fn check_name(
    metadata: &CoreMetadata,
    member: &str,
    problems: &mut Vec<String>,
) -> Option<PackageName> {
    let value = metadata.name.as_str();
    if value.is_empty() {
        problems.push(format!(
            "{member} has no Name header: set the project name in pyproject.toml and rebuild"
        ));
        return None;
    }
    match PackageName::from_str(value) {
        Ok(name) => Some(name),
        Err(_) => {
            problems.push(format!(
                "{member}: Name {value:?} is not a valid project name: use only ASCII letters, \
                 digits, '.', '_' and '-', starting and ending with a letter or digit"
            ));
            None
        }
    }
}

fn check_version(
    metadata: &CoreMetadata,
    member: &str,
    problems: &mut Vec<String>,
) -> Option<Version> {
    let value = metadata.version.as_str();
    if value.is_empty() {
        problems.push(format!(
            "{member} has no Version header: set the project version and rebuild"
        ));
        return None;
    }
    let version = match Version::from_str(value) {
        Ok(version) => version,
        Err(e) => {
            problems.push(format!(
                "{member}: Version {value:?} is not a valid PEP 440 version ({}): use a version \
                 such as 1.2.3, 1.2.3rc1 or 1.2.3.post1",
                shown(e)
            ));
            return None;
        }
    };
    if version.is_local() {
        let public = version.clone().without_local();
        problems.push(format!(
            "{member}: Version {value:?} has a local version label ('+...'), which PyPI refuses: \
             release {public} instead (with setuptools-scm, build from a tagged commit or set \
             local_scheme = \"no-local-version\")"
        ));
        return None;
    }
    Some(version)
}

fn check_description(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    if metadata.body().is_some() && metadata.get("Description").is_some() {
        problems.push(format!(
            "{member} has both a Description header and a message body, and the index cannot \
             tell which is the description: keep only one (rebuild with a current backend)"
        ));
    }
    if let Some(summary) = metadata.get("Summary") {
        let chars = summary.chars().count();
        if chars > SUMMARY_MAX_CHARS {
            problems.push(format!(
                "{member}: Summary is {chars} characters long, PyPI allows at most \
                 {SUMMARY_MAX_CHARS}: shorten the project description in pyproject.toml"
            ));
        }
    }
    if let Some(value) = metadata.get("Description-Content-Type") {
        if let Err(why) = check_content_type(value) {
            problems.push(format!(
                "{member}: Description-Content-Type {value:?} {why}: use text/markdown, \
                 text/x-rst or text/plain (charset=UTF-8, markdown variant GFM or CommonMark)"
            ));
        }
    }
}

/// `packaging`'s rule: a known type, charset exactly `UTF-8`, markdown variant GFM or
/// CommonMark.
fn check_content_type(value: &str) -> Result<(), &'static str> {
    let mut parts = value.split(';');
    let media = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    if !matches!(
        media.as_str(),
        "text/plain" | "text/x-rst" | "text/markdown"
    ) {
        return Err("is not a type PyPI renders");
    }
    for param in parts {
        let Some((key, val)) = param.split_once('=') else {
            continue;
        };
        let val = val.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "charset" if val != "UTF-8" => return Err("names a charset other than UTF-8"),
            "variant" if media == "text/markdown" && !matches!(val, "GFM" | "CommonMark") => {
                return Err("names an unknown markdown variant")
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_requirements(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    for header in ["Requires-Dist", "Provides-Dist", "Obsoletes-Dist"] {
        for value in metadata.get_all(header) {
            match super::requirement::parse(value) {
                Ok(req) => {
                    if matches!(req.version_or_url, Some(VersionOrUrl::Url(_))) {
                        problems.push(format!(
                            "{member}: {header} {value:?} is a direct URL reference, which PyPI \
                             refuses: depend on a released version instead (name>=x.y)"
                        ));
                    }
                }
                Err(reason) => {
                    // The parser\'s messages quote the input.
                    let reason = shown(&reason);
                    problems.push(format!(
                        "{member}: {header} {value:?} is not a valid PEP 508 requirement \
                         ({reason}): fix the dependency in pyproject.toml"
                    ));
                }
            }
        }
    }
}

fn check_single_values(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    if let Some(value) = metadata.get("Requires-Python") {
        if let Err(e) = VersionSpecifiers::from_str(value) {
            problems.push(format!(
                "{member}: Requires-Python {value:?} is not a valid version specifier ({}): \
                 use e.g. \">=3.9\" in pyproject.toml",
                shown(e)
            ));
        }
    }
    for header in ["Home-page", "Download-URL"] {
        if let Some(value) = metadata.get(header) {
            if !is_web_url(value) {
                problems.push(format!(
                    "{member}: {header} {value:?} is not an http(s) URL, which PyPI requires: \
                     fix it or remove it"
                ));
            }
        }
    }
    if let Some(expression) = metadata.get("License-Expression") {
        if let Err(why) = super::license::check_expression(expression) {
            problems.push(format!(
                "{member}: License-Expression {expression:?} is not a valid SPDX license \
                 expression ({why}), which PyPI refuses: use identifiers from \
                 https://spdx.org/licenses/ joined with AND, OR, WITH (license in pyproject.toml)"
            ));
        }
    }
    if metadata.get("License").is_some() && metadata.get("License-Expression").is_some() {
        problems.push(format!(
            "{member} has both License and License-Expression, which PyPI refuses: keep only \
             License-Expression (remove the legacy license text from the project metadata)"
        ));
    }
}

fn check_lists(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    for value in metadata.get_all("Provides-Extra") {
        if ExtraName::from_str(value).is_err() {
            problems.push(format!(
                "{member}: Provides-Extra {value:?} is not a valid extra name: use ASCII \
                 letters, digits, '-', '_' and '.'"
            ));
        }
    }
    for value in metadata.get_all("Dynamic") {
        if !DYNAMIC_FIELDS.iter().any(|f| f.eq_ignore_ascii_case(value)) {
            problems.push(format!(
                "{member}: Dynamic {value:?} is not a field that may be dynamic (Name, Version \
                 and Metadata-Version never are): fix the build backend configuration"
            ));
        }
    }
    for value in metadata.get_all("Classifier") {
        if value.starts_with("Private ::") {
            problems.push(format!(
                "{member}: Classifier {value:?} tells PyPI to refuse this upload: remove it if \
                 the project is meant to be published"
            ));
        }
    }
    for header in ["Import-Name", "Import-Namespace"] {
        for value in metadata.get_all(header) {
            if let Err(why) = check_import_name(value) {
                problems.push(format!(
                    "{member}: {header} {value:?} {why}: write a dotted module path, optionally \
                     followed by \"; private\""
                ));
            }
        }
    }
}

/// PEP 794: `name(.name)*` of Python identifiers, optionally `; private`.
fn check_import_name(value: &str) -> Result<(), &'static str> {
    if value.is_empty() {
        // An empty Import-Name declares that the project has no import names.
        return Ok(());
    }
    let (path, option) = match value.split_once(';') {
        Some((path, option)) => (path.trim_end(), Some(option.trim())),
        None => (value, None),
    };
    if option.is_some_and(|o| o != "private") {
        return Err("has an option other than \"private\"");
    }
    let identifier = |s: &str| {
        let mut chars = s.chars();
        chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
            && chars.all(|c| c == '_' || c.is_alphanumeric())
    };
    if path.split('.').all(identifier) {
        Ok(())
    } else {
        Err("is not a dotted path of Python identifiers")
    }
}

fn check_project_urls(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    let mut labels = HashSet::new();
    for value in metadata.get_all("Project-URL") {
        let (label, url) = match value.split_once(',') {
            Some((label, url)) => (label.trim(), url.trim()),
            None => (value.trim(), ""),
        };
        let why = if label.is_empty() {
            Some("has no label".to_owned())
        } else if label.chars().count() > PROJECT_URL_LABEL_MAX_CHARS {
            Some(format!(
                "has a label longer than {PROJECT_URL_LABEL_MAX_CHARS} characters"
            ))
        } else if url.is_empty() {
            Some("has no URL".to_owned())
        } else if !is_web_url(url) {
            Some("does not hold an http(s) URL".to_owned())
        } else if !labels.insert(label.to_owned()) {
            Some("repeats a label used by another Project-URL".to_owned())
        } else {
            None
        };
        if let Some(why) = why {
            problems.push(format!(
                "{member}: Project-URL {value:?} {why}: write \"Label, https://...\" with a \
                 unique label of at most {PROJECT_URL_LABEL_MAX_CHARS} characters \
                 ([project.urls] in pyproject.toml)"
            ));
        }
    }
}

fn check_license_files(metadata: &CoreMetadata, member: &str, problems: &mut Vec<String>) {
    if metadata
        .metadata_version_parts()
        .is_some_and(|v| v < (2, 4))
    {
        return;
    }
    for path in metadata.get_all("License-File") {
        let why = if path.contains("..") {
            Some("goes up a folder ('..')")
        } else if path.contains('*') {
            Some("is a glob pattern, not a file")
        } else if path.starts_with('/') || path.contains(':') {
            Some("is absolute")
        } else if path.contains('\\') {
            Some("uses '\\' instead of '/'")
        } else {
            None
        };
        if let Some(why) = why {
            problems.push(format!(
                "{member}: License-File {path:?} {why}: list license files as relative paths \
                 with '/' (license-files in pyproject.toml)"
            ));
        }
    }
}

fn is_web_url(value: &str) -> bool {
    url::Url::parse(value)
        .map(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(text: &str) -> Vec<String> {
        let metadata = CoreMetadata::parse(text.as_bytes()).unwrap();
        check(&metadata, "M").1
    }

    fn assert_one(text: &str, needle: &str) {
        let problems = problems_of(text);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        assert!(problems[0].contains(needle), "{problems:#?}");
    }

    const HEAD: &str = "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\n";

    #[test]
    fn valid_metadata_has_no_problems_and_an_identity() {
        let text = format!(
            "{HEAD}Summary: s\nRequires-Dist: requests>=2; extra == \"web\"\n\
             Provides-Extra: web\nRequires-Python: >=3.9\nLicense-Expression: MIT\n\
             License-File: LICENSE\nProject-URL: Source, https://example.org/x\n\
             Dynamic: Classifier\nDescription-Content-Type: text/markdown; charset=UTF-8; variant=GFM\n\
             Home-page: https://example.org\n"
        );
        let metadata = CoreMetadata::parse(text.as_bytes()).unwrap();
        let (identity, problems) = check(&metadata, "M");
        assert!(problems.is_empty(), "{problems:#?}");
        let identity = identity.unwrap();
        assert_eq!(identity.name.to_string(), "demo");
        assert_eq!(identity.version.to_string(), "1.0");
    }

    #[test]
    fn metadata_version_rules() {
        assert_one("Name: demo\nVersion: 1.0\n", "has no Metadata-Version");
        assert_one(
            "Metadata-Version: 3.0\nName: demo\nVersion: 1.0\n",
            "upgrade pypi-oidc-publish",
        );
        assert_one(
            "Metadata-Version: 2.0\nName: demo\nVersion: 1.0\n",
            "Metadata-Version 2.0 was never a published standard",
        );
        assert_one(
            "Metadata-Version: 1.3\nName: demo\nVersion: 1.0\n",
            "is not a version PyPI accepts",
        );
        assert_one(
            "Metadata-Version: two\nName: demo\nVersion: 1.0\n",
            "is not a metadata version",
        );
        assert!(problems_of("Metadata-Version: 2.9\nName: demo\nVersion: 1.0\n").is_empty());
        assert!(
            problems_of("Metadata-Version: 2.5\nName: d\nVersion: 1\nImport-Name: d\n").is_empty()
        );
    }

    /// Parser messages quote the value: they must not carry its control characters (a
    /// newline would start a workflow command in the job log).
    #[test]
    fn parser_messages_keep_control_characters_escaped() {
        let problems = problems_of(
            "Metadata-Version: 2.4\nName: demo\nVersion: 1.0\u{1b}x\n\
             Requires-Dist: a (>=1\u{85}::error::x)\nRequires-Python: >=3\u{2028}x\n",
        );
        assert_eq!(problems.len(), 3, "{problems:#?}");
        for problem in &problems {
            assert!(
                !problem.contains(|c: char| c.is_control() || c == '\u{2028}'),
                "{problem:?}"
            );
        }
    }

    /// Found by `fuzz/fuzz_targets/metadata.rs`: pep508_rs 0.9 panics on these (a release
    /// build aborts), so they must be refused before it parses them.
    #[test]
    fn requirements_that_crash_pep508_rs_are_refused_without_a_panic() {
        for (requirement, word) in [
            ("pytesataV-;tersion", "pytesataV-"),
            ("foo- >=1", "foo-"),
            ("  foo_", "foo_"),
            ("foo.[x]", "foo."),
            ("foo [bar-]", "bar-"),
            ("foo[a, b.] >=1", "b."),
            ("foo[bar_", "bar_"),
        ] {
            assert_one(
                &format!("{HEAD}Requires-Dist: {requirement}\n"),
                &format!("{word:?} must end with a letter or digit"),
            );
        }
        assert!(problems_of(&format!(
            "{HEAD}Requires-Dist: foo-bar.baz_qux[a-b,c.d] (>=1.0-1); extra == \"x-y\"\n"
        ))
        .is_empty());
        // Found by fuzzing: pep508_rs panics slicing `an\u{feff}E` (the and/or token)
        // inside the character.
        assert_one(
            &format!("{HEAD}Requires-Dist: pytest;(extra == \"extra\" an3CENS\u{feff}E\n"),
            "holds the non-ASCII character '\\u{feff}'",
        );
    }

    #[test]
    fn name_and_version_rules() {
        assert_one(
            "Metadata-Version: 2.4\nName: my project\nVersion: 1.0\n",
            "is not a valid project name",
        );
        assert_one(
            "Metadata-Version: 2.4\nVersion: 1.0\n",
            "has no Name header",
        );
        assert_one(
            "Metadata-Version: 2.4\nName: demo\nVersion: one\n",
            "is not a valid PEP 440 version",
        );
        assert_one(
            "Metadata-Version: 2.4\nName: demo\nVersion: 1.0+g1234\n",
            "local version label ('+...'), which PyPI refuses: release 1.0 instead",
        );
        assert_one(
            "Metadata-Version: 2.4\nName: demo\n",
            "has no Version header",
        );
    }

    #[test]
    fn fields_newer_than_the_declared_version_are_refused_except_license_file() {
        assert_one(
            "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nLicense-Expression: MIT\n",
            "License-Expression needs Metadata-Version 2.4 or later, but the file declares 2.1",
        );
        assert_one(
            &format!("{HEAD}Import-Name: demo\n"),
            "Import-Name needs Metadata-Version 2.5",
        );
        assert!(problems_of(
            "Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nLicense-File: LICENSE\n"
        )
        .is_empty());
    }

    #[test]
    fn repeated_single_fields_and_two_descriptions_are_refused() {
        assert_one(
            &format!("{HEAD}Summary: a\nSummary: b\n"),
            "Summary appears 2 times but may appear only once",
        );
        assert_one(
            &format!("{HEAD}Description: header\n\nbody\n"),
            "both a Description header and a message body",
        );
    }

    #[test]
    fn dependency_rules() {
        assert_one(
            &format!("{HEAD}Requires-Dist: requests >>= 2\n"),
            "is not a valid PEP 508 requirement",
        );
        assert_one(
            &format!("{HEAD}Requires-Dist: foo @ https://example.org/foo.whl\n"),
            "is a direct URL reference, which PyPI refuses",
        );
        assert_one(
            &format!("{HEAD}Requires-Python: >=3.x\n"),
            "Requires-Python \">=3.x\" is not a valid version specifier",
        );
        assert_one(
            &format!("{HEAD}Provides-Extra: no way\n"),
            "is not a valid extra name",
        );
    }

    #[test]
    fn other_pypi_rules() {
        assert_one(
            &format!("{HEAD}Summary: {}\n", "x".repeat(513)),
            "Summary is 513 characters long",
        );
        assert_one(
            &format!("{HEAD}Description-Content-Type: text/html\n"),
            "is not a type PyPI renders",
        );
        assert_one(
            &format!("{HEAD}Description-Content-Type: text/markdown; charset=utf-8\n"),
            "names a charset other than UTF-8",
        );
        assert_one(&format!("{HEAD}Dynamic: Version\n"), "may be dynamic");
        assert_one(
            &format!("{HEAD}License: MIT\nLicense-Expression: MIT\n"),
            "both License and License-Expression",
        );
        assert_one(
            &format!("{HEAD}Classifier: Private :: Do Not Upload\n"),
            "tells PyPI to refuse this upload",
        );
        assert_one(
            &format!("{HEAD}Home-page: example.org\n"),
            "is not an http(s) URL",
        );
        assert_one(
            &format!("{HEAD}Project-URL: https://example.org\n"),
            "has no URL",
        );
        assert_one(
            &format!("{HEAD}Project-URL: Docs, example.org\n"),
            "does not hold an http(s) URL",
        );
        assert_one(
            &format!("{HEAD}Project-URL: A, https://a.org\nProject-URL: A, https://b.org\n"),
            "repeats a label",
        );
        assert_one(
            &format!("{HEAD}License-File: ../LICENSE\n"),
            "License-File \"../LICENSE\" goes up a folder",
        );
        assert_one(
            "Metadata-Version: 2.5\nName: d\nVersion: 1\nImport-Name: 1abc\n",
            "is not a dotted path of Python identifiers",
        );
        assert_one(
            "Metadata-Version: 2.5\nName: d\nVersion: 1\nImport-Namespace: d.x; public\n",
            "has an option other than \"private\"",
        );
    }

    #[test]
    fn all_problems_are_reported_together() {
        let problems = problems_of(
            "Metadata-Version: 2.4\nName: bad name\nVersion: 1.0+local\nRequires-Python: ~\n",
        );
        assert_eq!(problems.len(), 3, "{problems:#?}");
    }
}
