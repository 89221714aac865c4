//! Checks of the uploaded archive itself (blocking I/O): `_is_valid_dist_file` and the sdist
//! and wheel filename/contents checks of `file_upload`, in Warehouse's order.
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use pep440_rs::Version;
use zip::CompressionMethod;

use super::names::{
    canonicalize_name, parse_sdist_filename, parse_wheel_filename, py_repr, valid_platform_tag,
};

const COMPRESSION_RATIO_MIN_SIZE: u64 = 64 * 1024 * 1024;
const COMPRESSION_RATIO_THRESHOLD: u64 = 50;

/// What the upload claims, for checking the archive against it.
pub(crate) struct Expectation<'a> {
    pub filename: &'a str,
    pub filetype: &'a str,
    /// Project name and normalised name as stored (before a rename by this upload).
    pub project_name: &'a str,
    pub project_normalized: &'a str,
    pub meta_name: &'a str,
    pub meta_version: &'a Version,
    pub license_files: &'a [String],
}

/// `os.path.commonprefix`: the longest common character prefix.
fn common_prefix(names: &[String]) -> String {
    let Some(first) = names.first() else {
        return String::new();
    };
    let mut prefix: Vec<char> = first.chars().collect();
    for name in &names[1..] {
        let common = prefix
            .iter()
            .zip(name.chars())
            .take_while(|(a, b)| **a == *b)
            .count();
        prefix.truncate(common);
    }
    prefix.into_iter().collect()
}

/// `os.path.join(top, name)`.
fn join(top: &str, name: &str) -> String {
    if top.is_empty() || top.ends_with('/') {
        format!("{top}{name}")
    } else {
        format!("{top}/{name}")
    }
}

enum Archive {
    Zip(zip::ZipArchive<BufReader<File>>),
    /// Member names of a gzipped tar.
    Tar(Vec<String>),
    None,
}

fn open_zip(path: &Path) -> Option<zip::ZipArchive<BufReader<File>>> {
    let file = File::open(path).ok()?;
    zip::ZipArchive::new(BufReader::new(file)).ok()
}

/// Tar member names the way `tarfile` reports them (directories without the slash).
fn tar_names<R: Read>(reader: R) -> Result<Vec<String>, bool> {
    let mut archive = tar::Archive::new(reader);
    let entries = archive.entries().map_err(|_| true)?;
    let mut names = Vec::new();
    for (i, entry) in entries.enumerate() {
        // A broken first header means "not a tar file"; a later one a broken tar file.
        let entry = entry.map_err(|_| i == 0)?;
        let path = entry.path().map_err(|_| i == 0)?;
        let name = path.to_string_lossy().trim_end_matches('/').to_owned();
        names.push(name);
    }
    if names.is_empty() {
        return Err(true);
    }
    Ok(names)
}

fn is_gzip(path: &Path) -> bool {
    let mut magic = [0u8; 2];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .is_ok()
        && magic == [0x1f, 0x8b]
}

/// `_is_valid_dist_file`: `Err(reason)` where Warehouse says "Invalid distribution file. {reason}".
fn valid_dist_file(path: &Path, filename: &str) -> Result<Archive, String> {
    if filename.ends_with(".zip") || filename.ends_with(".whl") {
        let Some(mut zip) = open_zip(path) else {
            return Err("File is not a zipfile".to_owned());
        };
        let compressed = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0).max(1);
        let mut decompressed = 0u64;
        let mut names = Vec::new();
        for i in 0..zip.len() {
            let Ok(entry) = zip.by_index_raw(i) else {
                return Err("None".to_owned());
            };
            decompressed += entry.size();
            if !matches!(
                entry.compression(),
                CompressionMethod::Stored | CompressionMethod::Deflated
            ) {
                return Err("File does not use a supported compression type".to_owned());
            }
            names.push(entry.name().to_owned());
        }
        if decompressed > COMPRESSION_RATIO_MIN_SIZE
            && decompressed / compressed > COMPRESSION_RATIO_THRESHOLD
        {
            return Err(format!(
                "File exceeds compression ratio of {COMPRESSION_RATIO_THRESHOLD}"
            ));
        }
        if filename.ends_with(".zip") {
            let top = common_prefix(&names);
            if top.is_empty() || top == "." || top == "/" {
                return Err("Incorrect number of top-level directories in sdist".to_owned());
            }
            let target = join(&top, "PKG-INFO");
            if zip.by_name(&target).is_err() {
                return Err(format!("PKG-INFO not found at {target}"));
            }
        } else {
            let parts: Vec<&str> = filename.splitn(3, '-').collect();
            if parts.len() < 3 {
                return Err("Unable to parse name and version from wheel filename".to_owned());
            }
            let target = format!("{}-{}.dist-info/WHEEL", parts[0], parts[1]);
            if zip.by_name(&target).is_err() {
                return Err(format!("WHEEL not found at {target}"));
            }
        }
        return Ok(Archive::Zip(zip));
    }
    if filename.ends_with(".tar.gz") {
        let gz = is_gzip(path);
        let names = if gz {
            File::open(path)
                .map_err(|_| true)
                .and_then(|f| tar_names(flate2::read::GzDecoder::new(BufReader::new(f))))
        } else {
            File::open(path)
                .map_err(|_| true)
                .and_then(|f| tar_names(BufReader::new(f)))
        };
        let names = match names {
            Ok(names) if gz => names,
            // A plain tar passes `is_tarfile` but `tarfile.open(mode="r:gz")` then fails.
            Ok(_) | Err(false) => return Err("None".to_owned()),
            Err(true) => return Err("File is not a tarfile".to_owned()),
        };
        let top = common_prefix(&names);
        if top.is_empty() || top == "." || top == "/" {
            return Err("Incorrect number of top-level directories in sdist".to_owned());
        }
        let target = join(&top, "PKG-INFO");
        if !names.contains(&target) {
            return Err(format!("PKG-INFO not found at {target}"));
        }
        return Ok(Archive::Tar(names));
    }
    Ok(Archive::None)
}

fn sdist_checks(exp: &Expectation<'_>, archive: &Archive) -> Result<(), String> {
    let filename = exp.filename;
    let (mut name_from_filename, _) = parse_sdist_filename(filename)
        .map_err(|_| format!("Invalid source distribution filename: {filename}"))?;
    // A post-release version may contain a hyphen ("1.0-1"): split before the last two.
    if exp.meta_version.is_post()
        && name_from_filename != canonicalize_name(exp.meta_name)
        && filename.matches('-').count() >= 2
    {
        if let Some((rest, _)) = filename.rsplit_once('-') {
            if let Some((name, _)) = rest.rsplit_once('-') {
                let version_part = filename
                    .get(name.len() + 1..filename.len().saturating_sub(".tar.gz".len()))
                    .unwrap_or_default();
                if super::names::parse_version(version_part).is_some() {
                    name_from_filename = name.to_owned();
                }
            }
        }
    }
    let expected_prefix = exp.project_normalized.replace('-', "_");
    if canonicalize_name(&name_from_filename) != exp.project_normalized {
        return Err(format!(
            "Start filename for {} with {}.",
            py_repr(exp.project_name),
            py_repr(&expected_prefix)
        ));
    }
    let expected = format!("{expected_prefix}-{}.tar.gz", exp.meta_version);
    if filename != expected {
        return Err(format!(
            "Filename {} is invalid, should be {}.",
            py_repr(filename),
            py_repr(&expected)
        ));
    }
    if let Archive::Tar(names) = archive {
        let top = common_prefix(names);
        for license_file in exp.license_files {
            let target = join(&top, license_file);
            if !names.contains(&target) {
                return Err(format!(
                    "License-File {license_file} does not exist in distribution file {filename} at {target}"
                ));
            }
        }
    }
    Ok(())
}

/// Wheel checks; returns the METADATA bytes (served as PEP 658 `.metadata`).
fn wheel_checks(exp: &Expectation<'_>, archive: &mut Archive) -> Result<Vec<u8>, String> {
    let filename = exp.filename;
    let wheel = parse_wheel_filename(filename)?;
    for tag in &wheel.tags {
        if !valid_platform_tag(&tag.platform) {
            return Err(format!(
                "Binary wheel '{filename}' has an unsupported platform tag '{}'.",
                tag.platform
            ));
        }
    }
    let canonical = canonicalize_name(exp.meta_name);
    if canonical != wheel.name {
        return Err(format!(
            "Start filename for {} with {}.",
            py_repr(exp.project_name),
            py_repr(&canonical.replace('-', "_"))
        ));
    }
    let name_from_filename = filename.split('-').next().unwrap_or_default();
    let normalized = exp.project_normalized.replace('-', "_");
    if name_from_filename != normalized {
        return Err(format!(
            "Filename {} should contain the normalized project name {}, not {}.",
            py_repr(filename),
            py_repr(&normalized),
            py_repr(name_from_filename)
        ));
    }
    if *exp.meta_version != wheel.version {
        return Err(format!(
            "Version in filename should be {} not {}.",
            py_repr(&exp.meta_version.to_string()),
            py_repr(&wheel.version.to_string())
        ));
    }
    let parts: Vec<&str> = filename.splitn(3, '-').collect();
    let dist_info = format!("{}-{}.dist-info", parts[0], parts.get(1).unwrap_or(&""));
    let Archive::Zip(zip) = archive else {
        return Err("Invalid distribution file. None".to_owned());
    };
    for license_file in exp.license_files {
        let target = format!("{dist_info}/licenses/{license_file}");
        if zip.by_name(&target).is_err() {
            return Err(format!(
                "License-File {license_file} does not exist in distribution file {filename} at {target}"
            ));
        }
    }
    if zip.by_name(&format!("{dist_info}/RECORD")).is_err() {
        return Err(format!(
            "Wheel '{filename}' does not contain the required RECORD file: {dist_info}/RECORD"
        ));
    }
    let metadata_name = format!("{dist_info}/METADATA");
    let mut metadata = Vec::new();
    match zip.by_name(&metadata_name) {
        Ok(mut entry) => {
            entry
                .read_to_end(&mut metadata)
                .map_err(|_| format!("Wheel '{filename}' does not contain the required METADATA file: {metadata_name}"))?;
        }
        Err(_) => {
            return Err(format!(
                "Wheel '{filename}' does not contain the required METADATA file: {metadata_name}"
            ))
        }
    }
    Ok(metadata)
}

/// Everything `file_upload` checks from "Invalid distribution file" on. `Ok` carries the
/// wheel METADATA (`None` for an sdist); `Err` is the full 400 message.
pub(crate) fn check(path: &Path, exp: &Expectation<'_>) -> Result<Option<Vec<u8>>, String> {
    let mut archive = valid_dist_file(path, exp.filename)
        .map_err(|reason| format!("Invalid distribution file. {reason}"))?;
    if exp.filetype == "sdist" {
        sdist_checks(exp, &archive)?;
    }
    if exp.filename.ends_with(".whl") {
        return wheel_checks(exp, &mut archive).map(Some);
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_is_per_character() {
        let names = vec!["pkg-1.0/PKG-INFO".to_owned(), "pkg-1.0/setup.py".to_owned()];
        assert_eq!(common_prefix(&names), "pkg-1.0/");
        assert_eq!(join("pkg-1.0", "PKG-INFO"), "pkg-1.0/PKG-INFO");
        assert_eq!(join("pkg-1.0/", "PKG-INFO"), "pkg-1.0/PKG-INFO");
    }
}
