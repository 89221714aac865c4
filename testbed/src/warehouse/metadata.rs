//! Core metadata from the upload form, validated as Warehouse does: `packaging.metadata`
//! (`Metadata.from_raw`) first, then Warehouse's own rules (`warehouse/forklift/metadata.py`).
use std::collections::HashMap;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{Requirement, VersionOrUrl};

use super::metadata_rules::{
    check_content_type, check_import_names, check_license_files, email_error, is_line_break,
    is_valid_url, normalize_specifiers, parse_address, parse_project_urls, python_title,
    valid_license_expression,
};
use super::names::{canonicalize_name, is_valid_project_name, parse_version, py_repr};
use super::state::ReleaseMeta;

/// Metadata versions `packaging` knows, oldest first (2.0 was never a real version).
const VALID_METADATA_VERSIONS: &[&str] = &[
    "1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5", "2.6",
];
/// The ones Warehouse accepts.
const SUPPORTED_METADATA_VERSIONS: &[&str] =
    &["1.0", "1.1", "1.2", "2.1", "2.2", "2.3", "2.4", "2.5"];

const DYNAMIC_FIELDS: &[&str] = &[
    "platform",
    "supported-platform",
    "summary",
    "description",
    "description-content-type",
    "keywords",
    "home-page",
    "download-url",
    "author",
    "author-email",
    "maintainer",
    "maintainer-email",
    "license",
    "license-expression",
    "license-file",
    "classifier",
    "requires-dist",
    "requires-python",
    "requires-external",
    "project-url",
    "provides-extra",
    "provides-dist",
    "obsoletes-dist",
    "requires",
    "provides",
    "obsoletes",
    "import-name",
    "import-namespace",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Str,
    List,
    Keywords,
    Urls,
}

struct Spec {
    /// Form field name (what clients send).
    form: &'static str,
    /// `RawMetadata` key.
    raw: &'static str,
    /// Core metadata (email header) name, lower case.
    email: &'static str,
    kind: Kind,
    added: &'static str,
}

const fn spec(
    form: &'static str,
    raw: &'static str,
    email: &'static str,
    kind: Kind,
    added: &'static str,
) -> Spec {
    Spec {
        form,
        raw,
        email,
        kind,
        added,
    }
}

const SPECS: &[Spec] = &[
    spec(
        "metadata_version",
        "metadata_version",
        "metadata-version",
        Kind::Str,
        "1.0",
    ),
    spec("name", "name", "name", Kind::Str, "1.0"),
    spec("version", "version", "version", Kind::Str, "1.0"),
    spec("platform", "platforms", "platform", Kind::List, "1.0"),
    spec(
        "supported_platform",
        "supported_platforms",
        "supported-platform",
        Kind::List,
        "1.1",
    ),
    spec("summary", "summary", "summary", Kind::Str, "1.0"),
    spec(
        "description",
        "description",
        "description",
        Kind::Str,
        "1.0",
    ),
    spec(
        "description_content_type",
        "description_content_type",
        "description-content-type",
        Kind::Str,
        "2.1",
    ),
    spec("keywords", "keywords", "keywords", Kind::Keywords, "1.0"),
    spec("home_page", "home_page", "home-page", Kind::Str, "1.0"),
    spec(
        "download_url",
        "download_url",
        "download-url",
        Kind::Str,
        "1.1",
    ),
    spec("author", "author", "author", Kind::Str, "1.0"),
    spec(
        "author_email",
        "author_email",
        "author-email",
        Kind::Str,
        "1.0",
    ),
    spec("maintainer", "maintainer", "maintainer", Kind::Str, "1.2"),
    spec(
        "maintainer_email",
        "maintainer_email",
        "maintainer-email",
        Kind::Str,
        "1.2",
    ),
    spec("license", "license", "license", Kind::Str, "1.0"),
    spec(
        "license_expression",
        "license_expression",
        "license-expression",
        Kind::Str,
        "2.4",
    ),
    spec(
        "license_file",
        "license_files",
        "license-file",
        Kind::List,
        "2.4",
    ),
    spec(
        "classifiers",
        "classifiers",
        "classifier",
        Kind::List,
        "1.1",
    ),
    spec(
        "requires_dist",
        "requires_dist",
        "requires-dist",
        Kind::List,
        "1.2",
    ),
    spec(
        "requires_python",
        "requires_python",
        "requires-python",
        Kind::Str,
        "1.2",
    ),
    spec(
        "requires_external",
        "requires_external",
        "requires-external",
        Kind::List,
        "1.2",
    ),
    spec(
        "project_urls",
        "project_urls",
        "project-url",
        Kind::Urls,
        "1.2",
    ),
    spec(
        "provides_extra",
        "provides_extra",
        "provides-extra",
        Kind::List,
        "2.1",
    ),
    spec(
        "provides_dist",
        "provides_dist",
        "provides-dist",
        Kind::List,
        "1.2",
    ),
    spec(
        "obsoletes_dist",
        "obsoletes_dist",
        "obsoletes-dist",
        Kind::List,
        "1.2",
    ),
    spec(
        "import_name",
        "import_names",
        "import-name",
        Kind::List,
        "2.5",
    ),
    spec(
        "import_namespace",
        "import_namespaces",
        "import-namespace",
        Kind::List,
        "2.5",
    ),
    spec("dynamic", "dynamic", "dynamic", Kind::List, "2.2"),
    spec("requires", "requires", "requires", Kind::List, "1.1"),
    spec("provides", "provides", "provides", Kind::List, "1.1"),
    spec("obsoletes", "obsoletes", "obsoletes", Kind::List, "1.1"),
];

#[derive(Clone, Debug)]
enum Value {
    Str(String),
    List(Vec<String>),
    Urls(Vec<(String, String)>),
}

/// Validated metadata of an upload.
#[derive(Clone, Debug)]
pub(crate) struct Meta {
    pub name: String,
    pub version: Version,
    pub release: ReleaseMeta,
    pub license_files: Vec<String>,
}

/// Collected `InvalidMetadata` errors: (field, message), in the order they arose.
#[derive(Default)]
struct Errors(Vec<(String, String)>);

impl Errors {
    fn push(&mut self, field: &str, message: String) {
        self.0.push((field.to_owned(), message));
    }

    /// The one error `file_upload` reports: the first of the most important field.
    fn into_message(self) -> Option<String> {
        let order = ["metadata-version", "name", "version"];
        let field = order
            .iter()
            .find(|f| self.0.iter().any(|(field, _)| field == *f))
            .map(|f| (*f).to_owned())
            .or_else(|| self.0.iter().map(|(f, _)| f.clone()).min())?;
        let (_, msg) = self.0.into_iter().find(|(f, _)| *f == field)?;
        let dot = if msg.ends_with('.') { "" } else { "." };
        Some(format!(
            "{msg}{dot} See https://packaging.python.org/specifications/core-metadata for more \
             information."
        ))
    }
}

fn age(version: &str) -> usize {
    VALID_METADATA_VERSIONS
        .iter()
        .position(|v| *v == version)
        .unwrap_or(0)
}

/// Parses and validates the metadata fields of an upload form; `Err` is the full message
/// of Warehouse's 400 answer.
pub(crate) fn parse(fields: &[(String, String)]) -> Result<Meta, String> {
    // parse_form_metadata: group values per known key, and reject shapes that don't fit.
    let mut raw: HashMap<&'static str, Value> = HashMap::new();
    let mut errors = Errors::default();
    let mut seen: Vec<&str> = Vec::new();
    for (key, _) in fields {
        if seen.contains(&key.as_str()) {
            continue;
        }
        seen.push(key);
        let Some(spec) = SPECS.iter().find(|s| s.form == key) else {
            continue;
        };
        let values: Vec<String> = fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect();
        if values.len() == 1 && values[0].is_empty() {
            continue;
        }
        let value = match spec.kind {
            Kind::Str if values.len() == 1 => Some(Value::Str(values[0].clone())),
            Kind::List => Some(Value::List(values)),
            Kind::Keywords if values.len() == 1 => Some(Value::List(
                values[0].split(',').map(|k| k.trim().to_owned()).collect(),
            )),
            Kind::Urls => parse_project_urls(&values).map(Value::Urls),
            _ => None,
        };
        match value {
            Some(v) => {
                raw.insert(spec.raw, v);
            }
            None => errors.push(key, format!("{} has invalid data", py_repr(key))),
        }
    }
    if let Some(msg) = errors.into_message() {
        return Err(msg);
    }

    let string = |key: &str| match raw.get(key) {
        Some(Value::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let list = |key: &str| match raw.get(key) {
        Some(Value::List(l)) => l.clone(),
        _ => Vec::new(),
    };

    // Metadata.from_raw
    let mut errors = Errors::default();
    let metadata_version = string("metadata_version");
    let mv_valid = metadata_version
        .as_deref()
        .filter(|v| VALID_METADATA_VERSIONS.contains(v));
    if mv_valid.is_none() {
        let shown = metadata_version
            .as_deref()
            .map(py_repr)
            .unwrap_or_else(|| "None".to_owned());
        errors.push(
            "metadata-version",
            format!("{shown} is not a valid metadata version"),
        );
    }
    let mut version = None;
    for spec in SPECS.iter().filter(|s| s.raw != "metadata_version") {
        let present = raw.contains_key(spec.raw);
        if !present && spec.raw != "name" && spec.raw != "version" {
            continue;
        }
        if let Some(mv) = mv_valid {
            if present && age(spec.added) > age(mv) {
                errors.push(
                    spec.email,
                    format!(
                        "{} introduced in metadata version {}, not {mv}",
                        spec.email, spec.added
                    ),
                );
                continue;
            }
        }
        let field = format!("'{}'", spec.email);
        match spec.raw {
            "name" => match string("name").filter(|n| !n.is_empty()) {
                None => errors.push("name", format!("{field} is a required field")),
                Some(n) if !is_valid_project_name(&n) => {
                    errors.push("name", format!("{} is invalid for {field}", py_repr(&n)))
                }
                Some(_) => {}
            },
            "version" => match string("version").filter(|v| !v.is_empty()) {
                None => errors.push("version", format!("{field} is a required field")),
                Some(v) => match parse_version(&v) {
                    Some(parsed) => version = Some(parsed),
                    None => {
                        errors.push("version", format!("{} is invalid for {field}", py_repr(&v)))
                    }
                },
            },
            "summary" if string("summary").is_some_and(|s| s.chars().any(is_line_break)) => {
                errors.push(spec.email, format!("{field} must be a single line"));
            }
            "description_content_type" => {
                if let Some(Err(msg)) = string(spec.raw).map(|v| check_content_type(&v)) {
                    errors.push(spec.email, msg);
                }
            }
            "dynamic" => {
                for d in list("dynamic").iter().map(|d| d.to_ascii_lowercase()) {
                    if ["name", "version", "metadata-version"].contains(&d.as_str()) {
                        errors.push(
                            spec.email,
                            format!("{} is not allowed as a dynamic field", py_repr(&d)),
                        );
                        break;
                    }
                    if !SPECS.iter().any(|s| s.email == d) {
                        errors.push(
                            spec.email,
                            format!("{} is not a valid dynamic field", py_repr(&d)),
                        );
                        break;
                    }
                }
            }
            "provides_extra" => {
                if let Some(bad) = list(spec.raw)
                    .into_iter()
                    .find(|e| !is_valid_project_name(e))
                {
                    errors.push(
                        spec.email,
                        format!("{} is invalid for {field}", py_repr(&bad)),
                    );
                }
            }
            "requires_python" => {
                if let Some(v) = string(spec.raw) {
                    if VersionSpecifiers::from_str(&v).is_err() {
                        errors.push(
                            spec.email,
                            format!("{} is invalid for {field}", py_repr(&v)),
                        );
                    }
                }
            }
            "requires_dist" => {
                if let Some(bad) = list(spec.raw)
                    .into_iter()
                    .find(|r| Requirement::<pep508_rs::VerbatimUrl>::from_str(r).is_err())
                {
                    errors.push(
                        spec.email,
                        format!("{} is invalid for {field}", py_repr(&bad)),
                    );
                }
            }
            "license_expression" => {
                if let Some(v) = string(spec.raw) {
                    if !valid_license_expression(&v) {
                        errors.push(
                            spec.email,
                            format!("{} is invalid for {field}", py_repr(&v)),
                        );
                    }
                }
            }
            "license_files" => {
                if let Err(msg) = check_license_files(&list(spec.raw)) {
                    errors.push(spec.email, msg);
                }
            }
            "import_names" | "import_namespaces" => {
                if let Err(msg) = check_import_names(spec.email, &list(spec.raw)) {
                    errors.push(spec.email, msg);
                }
            }
            _ => {}
        }
    }
    if let Some(msg) = errors.into_message() {
        return Err(msg);
    }
    let (Some(mv), Some(version), Some(name)) = (mv_valid, version, string("name")) else {
        return Err("Metadata-Version, Name and Version are required.".to_owned());
    };

    // Warehouse's _validate_metadata
    let mut errors = Errors::default();
    if !SUPPORTED_METADATA_VERSIONS.contains(&mv) {
        errors.push(
            "metadata-version",
            format!("{} is not a valid metadata version", py_repr(mv)),
        );
    }
    if version.is_local() {
        errors.push(
            "version",
            format!("The use of local versions in '{version}' is not allowed."),
        );
    }
    if string("summary").is_some_and(|s| s.chars().count() > 512) {
        errors.push(
            "summary",
            "'summary' field must be 512 characters or less.".to_owned(),
        );
    }
    for (key, email) in [
        ("author_email", "author-email"),
        ("maintainer_email", "maintainer-email"),
    ] {
        if let Some(value) = string(key) {
            let address = parse_address(&value);
            if !address.is_empty() {
                if let Some(why) = email_error(&address) {
                    errors.push(
                        email,
                        format!("{} is not a valid email address: {why}", py_repr(&address)),
                    );
                }
            }
        }
    }
    for (key, email) in [("home_page", "home-page"), ("download_url", "download-url")] {
        if let Some(url) = string(key) {
            if !is_valid_url(&url) {
                errors.push(email, format!("{} is not a valid url.", py_repr(&url)));
            }
        }
    }
    let project_urls = match raw.get("project_urls") {
        Some(Value::Urls(urls)) => urls.clone(),
        _ => Vec::new(),
    };
    for (label, url) in &project_urls {
        if label.is_empty() {
            errors.push("project-url", "Must have a label".to_owned());
        } else if label.chars().count() > 32 {
            errors.push(
                "project-url",
                format!("{} must be 32 characters or less.", py_repr(label)),
            );
        } else if url.is_empty() {
            errors.push("project-url", "Must have a URL".to_owned());
        } else if !is_valid_url(url) {
            errors.push(
                "project-url",
                format!("{} is not a valid url", py_repr(url)),
            );
        }
    }
    for (key, email) in [
        ("provides_dist", "provides-dist"),
        ("obsoletes_dist", "obsoletes-dist"),
    ] {
        for req in list(key) {
            match Requirement::<pep508_rs::VerbatimUrl>::from_str(&req) {
                Err(err) => errors.push(email, format!("{} is invalid: {err}", py_repr(&req))),
                Ok(parsed) => {
                    if matches!(parsed.version_or_url, Some(VersionOrUrl::Url(_))) {
                        errors.push(
                            email,
                            format!("Can't have direct dependency: {}", py_repr(&req)),
                        );
                    }
                }
            }
        }
    }
    for req in list("requires_dist") {
        if let Ok(parsed) = Requirement::<pep508_rs::VerbatimUrl>::from_str(&req) {
            if matches!(parsed.version_or_url, Some(VersionOrUrl::Url(_))) {
                errors.push(
                    "requires-dist",
                    format!("Can't have direct dependency: {}", req.trim()),
                );
            }
        }
    }
    for d in list("dynamic").iter().map(|d| d.to_ascii_lowercase()) {
        if !DYNAMIC_FIELDS.contains(&d.as_str()) {
            errors.push(
                "dynamic",
                format!(
                    "Dynamic field {} is not a valid dynamic field.",
                    py_repr(&d)
                ),
            );
        }
    }
    if string("license").is_some() && string("license_expression").is_some() {
        errors.push(
            "license",
            "License is deprecated when License-Expression is present. Only License-Expression \
             should be present."
                .to_owned(),
        );
    }
    if let Some(msg) = errors.into_message() {
        return Err(msg);
    }

    let keywords = list("keywords");
    let license_files = list("license_files");
    let release = ReleaseMeta {
        summary: string("summary"),
        description: string("description").unwrap_or_default(),
        description_content_type: string("description_content_type"),
        keywords: (!keywords.is_empty()).then(|| keywords.join(", ")),
        license: string("license"),
        license_expression: string("license_expression"),
        license_files: (!license_files.is_empty()).then(|| license_files.clone()),
        classifiers: list("classifiers"),
        author: string("author"),
        author_email: string("author_email"),
        maintainer: string("maintainer"),
        maintainer_email: string("maintainer_email"),
        requires_python: string("requires_python").map(|s| normalize_specifiers(&s)),
        platform: list("platforms").into_iter().next(),
        home_page: string("home_page"),
        download_url: string("download_url"),
        project_urls,
        requires_dist: list("requires_dist")
            .iter()
            .map(|r| r.trim().to_owned())
            .collect(),
        provides_extra: list("provides_extra")
            .iter()
            .map(|e| canonicalize_name(e))
            .collect(),
        dynamic: list("dynamic")
            .iter()
            .map(|d| python_title(&d.to_ascii_lowercase()))
            .collect(),
    };
    Ok(Meta {
        name,
        version,
        release,
        license_files,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SEE: &str =
        " See https://packaging.python.org/specifications/core-metadata for more information.";

    #[test]
    fn required_and_versions() {
        let base = [("name", "pkg"), ("version", "1.0")];
        let mut fields = f(&base);
        assert_eq!(
            parse(&fields).unwrap_err(),
            format!("None is not a valid metadata version.{SEE}")
        );
        fields.push(("metadata_version".into(), "2.0".into()));
        assert_eq!(
            parse(&fields).unwrap_err(),
            format!("'2.0' is not a valid metadata version.{SEE}")
        );
        let fields = f(&[
            ("metadata_version", "2.1"),
            ("name", "pkg"),
            ("version", "1.0+local"),
        ]);
        assert_eq!(
            parse(&fields).unwrap_err(),
            format!("The use of local versions in '1.0+local' is not allowed.{SEE}")
        );
        let fields = f(&[
            ("metadata_version", "2.1"),
            ("name", "pkg"),
            ("version", "one"),
        ]);
        assert_eq!(
            parse(&fields).unwrap_err(),
            format!("'one' is invalid for 'version'.{SEE}")
        );
    }

    #[test]
    fn field_ages_and_shapes() {
        let fields = f(&[
            ("metadata_version", "2.1"),
            ("name", "pkg"),
            ("version", "1.0"),
            ("license_expression", "MIT"),
        ]);
        assert_eq!(
            parse(&fields).unwrap_err(),
            format!("license-expression introduced in metadata version 2.4, not 2.1.{SEE}")
        );
        let fields = f(&[
            ("metadata_version", "2.4"),
            ("name", "pkg"),
            ("version", "1.0"),
            ("summary", "a"),
            ("summary", "b"),
        ]);
        assert_eq!(
            parse(&fields).unwrap_err(),
            format!("'summary' has invalid data.{SEE}")
        );
    }

    #[test]
    fn keeps_multi_use_fields() {
        let fields = f(&[
            ("metadata_version", "2.4"),
            ("name", "pkg"),
            ("version", "1.0.0-rc1"),
            ("classifiers", "Programming Language :: Python"),
            ("classifiers", "License :: OSI Approved"),
            ("requires_dist", "requests>=2"),
            ("requires_dist", "rich; extra == 'cli'"),
            ("project_urls", "Homepage, https://example.org"),
            ("project_urls", "Source, https://example.org/src"),
            ("keywords", "a,b , c"),
            ("requires_python", ">= 3.9, <4"),
            ("dynamic", "requires-dist"),
        ]);
        let meta = parse(&fields).unwrap();
        assert_eq!(meta.version.to_string(), "1.0.0rc1");
        assert_eq!(meta.release.classifiers.len(), 2);
        assert_eq!(meta.release.requires_dist.len(), 2);
        assert_eq!(meta.release.project_urls.len(), 2);
        assert_eq!(meta.release.keywords.as_deref(), Some("a, b, c"));
        assert_eq!(meta.release.requires_python.as_deref(), Some("<4,>=3.9"));
        assert_eq!(meta.release.dynamic, vec!["Requires-Dist"]);
    }
}
