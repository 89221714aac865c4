//! The target project's fixture folder: reading its JSON files, finding `packagerelease`
//! records, and writing a file back the way the project's Python tooling does.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::{Map, Value};

use super::published::{normalize_name, same_version, Release};
use super::pyjson;

/// One fixture file as read from disk.
#[derive(Debug)]
pub struct FixtureFile {
    pub path: PathBuf,
    pub text: String,
    pub data: Value,
}

/// Where a record lives: the file's index in the loaded list and the record's index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordRef {
    pub file: usize,
    pub record: usize,
}

/// The file the project's `dump_fixture` writes for a release.
pub fn file_name_for(version: &str) -> String {
    format!(
        "releases__packagerelease_{}.json",
        version.replace('.', "_")
    )
}

/// What Python writes: `json.dumps(records, indent=2) + "\n"`.
pub fn render(data: &Value) -> String {
    let mut text = pyjson::dumps_indent2(data);
    text.push('\n');
    text
}

/// Loads every `*.json` file directly in `dir`, in name order, so that the search for a
/// record is complete and its result does not depend on directory order.
pub fn load_folder(dir: &Path) -> Result<Vec<FixtureFile>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot read the fixtures folder {}: pass --fixtures with the folder that holds releases__packagerelease_*.json",
            dir.display()
        )
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", dir.display()))?;
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "json") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    paths.iter().map(|path| load(path)).collect()
}

/// Reads and parses one fixture file. A file whose data could not be written back exactly
/// is refused here, before anything is changed.
pub fn load(path: &Path) -> Result<FixtureFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {} as UTF-8 text", path.display()))?;
    let data: Value = serde_json::from_str(&text).map_err(|error| {
        anyhow::anyhow!(
            "{}: malformed JSON at line {}, column {}: {error}; fix the file (it was left untouched)",
            path.display(),
            error.line(),
            error.column()
        )
    })?;
    if let Some((line, literal)) = pyjson::first_inexact_integer(&text) {
        bail!(
            "{}: line {line}: the number {literal} cannot be kept exactly (only 64-bit integers are supported), so the file cannot be rewritten faithfully; it was left untouched",
            path.display()
        );
    }
    Ok(FixtureFile {
        path: path.to_owned(),
        text,
        data,
    })
}

/// The `fields` of a record whose model label is `<app>.packagerelease` (Django matches
/// model names case-insensitively).
pub fn release_fields(record: &Value) -> Option<&Map<String, Value>> {
    let model = record.get("model")?.as_str()?;
    let model_name = model.rsplit('.').next()?;
    if !model_name.eq_ignore_ascii_case("packagerelease") {
        return None;
    }
    record.get("fields")?.as_object()
}

/// The package a release record belongs to: the natural key `["name"]` the project dumps,
/// or a bare name.
pub fn package_of(fields: &Map<String, Value>) -> Option<&str> {
    match fields.get("package")? {
        Value::Array(key) => key.first()?.as_str(),
        Value::String(name) => Some(name),
        _ => None,
    }
}

pub fn version_of(fields: &Map<String, Value>) -> Option<&str> {
    fields.get("version")?.as_str()
}

fn records(file: &FixtureFile) -> &[Value] {
    file.data.as_array().map(Vec::as_slice).unwrap_or_default()
}

/// Every `packagerelease` record in the folder, with its fields.
pub fn release_records(
    files: &[FixtureFile],
) -> impl Iterator<Item = (RecordRef, &Map<String, Value>)> {
    files.iter().enumerate().flat_map(|(file_index, file)| {
        records(file)
            .iter()
            .enumerate()
            .filter_map(move |(record_index, record)| {
                let fields = release_fields(record)?;
                let at = RecordRef {
                    file: file_index,
                    record: record_index,
                };
                Some((at, fields))
            })
    })
}

/// Whether a release record belongs to this package.
pub fn is_package(fields: &Map<String, Value>, release: &Release) -> bool {
    package_of(fields).is_some_and(|name| normalize_name(name) == release.name)
}

/// The records of this package and version.
pub fn find(files: &[FixtureFile], release: &Release) -> Vec<RecordRef> {
    release_records(files)
        .filter(|(_, fields)| {
            is_package(fields, release)
                && version_of(fields).is_some_and(|v| same_version(v, &release.version))
        })
        .map(|(at, _)| at)
        .collect()
}

/// Replaces `path` with `contents` through a temporary file in the same folder and a rename,
/// so that a failure leaves either the old file or the new one, never half of each. An
/// existing file keeps its permissions.
pub fn write_atomically(path: &Path, contents: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut temp = tempfile::Builder::new()
        .prefix(".record-")
        .suffix(".json.tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
    temp.write_all(contents.as_bytes())
        .and_then(|()| temp.as_file().sync_all())
        .with_context(|| format!("cannot write a temporary file in {}", dir.display()))?;
    let permissions = match std::fs::metadata(path) {
        Ok(existing) => Some(existing.permissions()),
        Err(_) => new_file_permissions(),
    };
    if let Some(permissions) = permissions {
        std::fs::set_permissions(temp.path(), permissions)
            .with_context(|| format!("cannot set the permissions of {}", temp.path().display()))?;
    }
    temp.persist(path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// A new fixture is readable by everyone like any file in a checkout; the temporary file
/// starts out private to its owner.
#[cfg(unix)]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    use std::os::unix::fs::PermissionsExt;
    Some(std::fs::Permissions::from_mode(0o644))
}

#[cfg(not(unix))]
fn new_file_permissions() -> Option<std::fs::Permissions> {
    None
}
