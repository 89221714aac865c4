//! Reading a wheel: the zip checks PyPI makes and its one `.dist-info/METADATA`.
//!
//! Only the central directory and the METADATA member are read; the rest of the archive is
//! walked record by record (see [`super::zip_framing`]) without decompressing anything.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use zip::{CompressionMethod, ZipArchive};

use crate::inert::shown;

use super::filename::WheelName;
use super::zip_framing;
use super::MAX_METADATA_BYTES;

/// PyPI treats a zip that inflates more than 50 times beyond its size, once past 64 MiB, as a
/// decompression bomb (`COMPRESSION_RATIO_THRESHOLD` / `_MIN_SIZE` in Warehouse).
const BOMB_RATIO: u64 = 50;
const BOMB_MIN_BYTES: u64 = 64 * 1024 * 1024;

/// What the checks need from a wheel.
#[derive(Debug)]
pub(crate) struct WheelContents {
    /// The `.dist-info` folder, e.g. `demo-1.0.dist-info`.
    pub dist_info: String,
    pub metadata: Vec<u8>,
    /// Every member name, for the License-File check.
    pub names: HashSet<String>,
}

const REBUILD: &str = "rebuild the wheel with a standard build tool (and do not modify it \
                       after building)";

/// Reads and checks the archive of the wheel at `path`. `name` is the parsed file name when
/// it is valid; without it the `.dist-info` folder cannot be matched to the file name, and
/// only its presence is checked. Returns the contents when METADATA could be read, and the
/// problems found either way.
pub(crate) fn read(
    path: &Path,
    size: u64,
    name: Option<&WheelName>,
) -> (Option<WheelContents>, Vec<String>) {
    let mut problems = Vec::new();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) => return (None, vec![format!("cannot be opened: {e}")]),
    };
    let mut archive = match ZipArchive::new(BufReader::new(file)) {
        Ok(archive) => archive,
        Err(e) => {
            return (
                None,
                vec![format!(
                    "is not a readable zip archive ({}); it may be truncated or corrupt: \
                     {REBUILD}, and check that it was copied completely",
                    shown(e)
                )],
            )
        }
    };

    let mut central: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut names = HashSet::new();
    let mut inflated: u64 = 0;
    for i in 0..archive.len() {
        let entry = match archive.by_index_raw(i) {
            Ok(entry) => entry,
            Err(e) => {
                return (
                    None,
                    vec![format!(
                        "is a corrupt zip archive (entry {i}: {}): {REBUILD}, and check that \
                         it was copied completely",
                        shown(e)
                    )],
                )
            }
        };
        let method = entry.compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            problems.push(format!(
                "entry {:?} uses {method} compression, PyPI accepts only stored or deflated \
                 entries: {REBUILD}",
                entry.name()
            ));
        }
        if entry.encrypted() {
            problems.push(format!("entry {:?} is encrypted: {REBUILD}", entry.name()));
        }
        if escapes_destination(entry.name()) {
            problems.push(format!(
                "entry {:?} has an absolute path or a '..' component, which installers refuse \
                 to extract: {REBUILD}",
                entry.name()
            ));
        }
        inflated = inflated.saturating_add(entry.size());
        central.insert(entry.name_raw().to_vec(), entry.compressed_size());
        names.insert(entry.name().to_owned());
    }
    if inflated > BOMB_MIN_BYTES && inflated / size.max(1) > BOMB_RATIO {
        problems.push(format!(
            "inflates to {inflated} bytes, more than {BOMB_RATIO} times its size, which PyPI \
             refuses as a decompression bomb: ship less compressible content or split the \
             package"
        ));
    }
    if let Err(why) = zip_framing::check(path, &central) {
        problems.push(format!(
            "has a ZIP structure PyPI refuses: {why}; {REBUILD}"
        ));
    }

    let dist_infos: BTreeSet<&str> = names
        .iter()
        .filter_map(|n| n.split_once('/').map(|(top, _)| top))
        .filter(|top| top.ends_with(".dist-info"))
        .collect();
    let dist_info = match dist_infos.len() {
        0 => {
            problems.push(format!(
                "holds no .dist-info folder, so it is not a wheel: {REBUILD}"
            ));
            return (None, problems);
        }
        1 => dist_infos
            .iter()
            .next()
            .copied()
            .unwrap_or_default()
            .to_owned(),
        n => {
            let list: Vec<&str> = dist_infos.into_iter().collect();
            problems.push(format!(
                "holds {n} .dist-info folders ({}), a wheel has exactly one: {REBUILD}",
                shown(list.join(", "))
            ));
            return (None, problems);
        }
    };
    if let Some(name) = name {
        let expected = name.dist_info();
        if dist_info != expected {
            problems.push(format!(
                "holds {}/ but PyPI reads the metadata from {}/ (named after the file \
                 name): rebuild the wheel instead of renaming it, with a build backend that \
                 names both the same way",
                shown(&dist_info),
                shown(&expected)
            ));
        }
    }
    for required in ["WHEEL", "RECORD"] {
        if !names.contains(&format!("{dist_info}/{required}")) {
            problems.push(format!(
                "has no {}/{required}, which PyPI requires: {REBUILD}",
                shown(&dist_info)
            ));
        }
    }

    let member = format!("{dist_info}/METADATA");
    let metadata = match read_member(&mut archive, &member) {
        Ok(bytes) => bytes,
        Err(why) => {
            problems.push(why);
            return (None, problems);
        }
    };
    (
        Some(WheelContents {
            dist_info,
            metadata,
            names,
        }),
        problems,
    )
}

/// Whether an archive member would land outside the folder it is extracted into.
pub(crate) fn escapes_destination(member: &str) -> bool {
    member.starts_with('/') || member.split(['/', '\\']).any(|part| part == "..")
}

fn read_member(archive: &mut ZipArchive<BufReader<File>>, name: &str) -> Result<Vec<u8>, String> {
    let member = shown(name);
    let entry = match archive.by_name(name) {
        Ok(entry) => entry,
        Err(zip::result::ZipError::FileNotFound) => {
            return Err(format!("has no {member}: {REBUILD}"))
        }
        Err(e) => return Err(format!("cannot read {member} ({}): {REBUILD}", shown(e))),
    };
    if entry.size() > MAX_METADATA_BYTES {
        return Err(format!(
            "{member} is {} bytes, more than the {MAX_METADATA_BYTES} bytes a metadata file may \
             reasonably hold: shorten the long description",
            entry.size()
        ));
    }
    let mut bytes = Vec::new();
    entry
        .take(MAX_METADATA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            format!(
                "{member} cannot be decompressed ({}); the wheel is corrupt: {REBUILD}",
                shown(e)
            )
        })?;
    Ok(bytes)
}
