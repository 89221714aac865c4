//! Reading an sdist: a gzip-compressed tar with one top-level folder holding `PKG-INFO`.
//!
//! The archive is streamed once from start to end: tar has no index, so finding PKG-INFO and
//! the license files means reading past the members before them, and reading to the end is
//! what proves the gzip stream complete (its CRC and length trailer). Only PKG-INFO (bounded)
//! and the member names are kept in memory.

use std::collections::{BTreeSet, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::gha::shown;

use super::wheel::escapes_destination;
use super::MAX_METADATA_BYTES;

/// What the checks need from an sdist.
#[derive(Debug)]
pub(crate) struct SdistContents {
    /// The single top-level folder.
    pub top: String,
    pub pkg_info: Vec<u8>,
    /// Every member path (without a leading `./` or trailing `/`).
    pub names: HashSet<String>,
}

const REBUILD: &str = "rebuild it with `python -m build --sdist` (or your build tool's sdist \
                       command)";

/// Reads and checks the archive of the sdist at `path`.
pub(crate) fn read(path: &Path) -> Result<SdistContents, Vec<String>> {
    let mut file = File::open(path).map_err(|e| vec![format!("cannot be opened: {e}")])?;
    let mut magic = [0u8; 2];
    let is_gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    if !is_gzip {
        return Err(vec![format!(
            "is not gzip-compressed, but a .tar.gz sdist must be a gzip-compressed tar: {REBUILD}"
        )]);
    }
    let file = File::open(path).map_err(|e| vec![format!("cannot be opened: {e}")])?;
    let mut archive = tar::Archive::new(MultiGzDecoder::new(BufReader::new(file)));

    // tar's messages quote header bytes.
    let corrupt = |e: io::Error| {
        vec![format!(
            "is a corrupt or truncated archive ({}): {REBUILD}, and check that it was copied \
             completely",
            shown(e)
        )]
    };
    let mut tops: BTreeSet<String> = BTreeSet::new();
    let mut names = HashSet::new();
    let mut pkg_infos: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    let mut unsafe_members: Vec<String> = Vec::new();
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            continue;
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if escapes_destination(&raw) {
            unsafe_members.push(raw);
            continue;
        }
        let mut member = raw.as_str();
        while let Some(rest) = member.strip_prefix("./") {
            member = rest;
        }
        let member = member.trim_end_matches('/');
        if member.is_empty() || member == "." {
            continue;
        }
        let (top, inner) = match member.split_once('/') {
            Some((top, inner)) => (top, Some(inner)),
            None => (member, None),
        };
        tops.insert(top.to_owned());
        if inner == Some("PKG-INFO") {
            let size = entry.header().size().unwrap_or(u64::MAX);
            let content = if size > MAX_METADATA_BYTES {
                Err(format!(
                    "{} is {size} bytes, more than the {MAX_METADATA_BYTES} bytes a \
                     metadata file may reasonably hold: shorten the long description",
                    shown(member)
                ))
            } else {
                let mut bytes = Vec::new();
                (&mut entry)
                    .take(MAX_METADATA_BYTES)
                    .read_to_end(&mut bytes)
                    .map_err(corrupt)?;
                Ok(bytes)
            };
            pkg_infos.push((top.to_owned(), content));
        }
        names.insert(member.to_owned());
    }
    // The tar ends at its end-of-archive blocks; reading the rest of the gzip stream checks
    // its trailer, which is what catches a file cut short.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(corrupt)?;

    if let Some(first) = unsafe_members.first() {
        return Err(vec![format!(
            "holds {} member(s) with an absolute path or a '..' component (first: {first:?}), \
             which installers refuse to extract: {REBUILD}",
            unsafe_members.len()
        )]);
    }
    let top = match tops.len() {
        0 => return Err(vec![format!("is an empty archive: {REBUILD}")]),
        1 => tops.into_iter().next().unwrap_or_default(),
        n => {
            let listed: Vec<String> = tops.into_iter().take(5).collect();
            return Err(vec![format!(
                "has {n} top-level entries ({}{}), but an sdist holds a single folder \
                 {{name}}-{{version}}/: {REBUILD}",
                shown(listed.join(", ")),
                if n > 5 { ", ..." } else { "" }
            )]);
        }
    };
    match pkg_infos.into_iter().find(|(t, _)| *t == top) {
        Some((_, Ok(pkg_info))) => Ok(SdistContents {
            top,
            pkg_info,
            names,
        }),
        Some((_, Err(why))) => Err(vec![why]),
        None => Err(vec![format!(
            "has no {}/PKG-INFO, which PyPI requires in the top-level folder: {REBUILD}",
            shown(&top)
        )]),
    }
}
