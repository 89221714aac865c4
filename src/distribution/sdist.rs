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

use crate::inert::shown;

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

/// Bounds on the work one sdist may cause while it is read. Every member is streamed, so
/// memory is spent only on names, PKG-INFO and the headers that describe a member.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Bytes the gzip stream may inflate to, in all.
    pub inflated: u64,
    /// Members (files, folders, links), extension headers not counted.
    pub members: usize,
    /// Bytes of all member names together (they are kept, for the License-File check).
    pub name_bytes: u64,
    /// Size of a GNU long-name or long-link header's data (a name).
    pub long_name: u64,
    /// Size of a PAX extended header's data.
    pub pax: u64,
}

/// Far beyond any sdist on PyPI (whose uploads are limited to a few hundred MB, compressed),
/// and well below what would take a runner down.
pub(crate) const LIMITS: Limits = Limits {
    inflated: 8 << 30,
    members: 100_000,
    name_bytes: 64 << 20,
    long_name: 64 << 10,
    pax: 1 << 20,
};

/// A reader that fails once more than `left` bytes came through, and remembers that it did,
/// so the error can be told apart from a corrupt stream.
struct Bounded<R> {
    inner: R,
    left: u64,
    exceeded: std::rc::Rc<std::cell::Cell<bool>>,
}

impl<R: Read> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let room = usize::try_from(self.left.saturating_add(1)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            self.exceeded.set(true);
            return Err(io::Error::other("decompressed size limit exceeded"));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Reads and checks the archive of the sdist at `path`.
pub(crate) fn read(path: &Path) -> Result<SdistContents, Vec<String>> {
    read_limited(path, &LIMITS)
}

/// [`read`] within `limits`.
pub(crate) fn read_limited(path: &Path, limits: &Limits) -> Result<SdistContents, Vec<String>> {
    let mut file = File::open(path).map_err(|e| vec![format!("cannot be opened: {e}")])?;
    let mut magic = [0u8; 2];
    let is_gzip = file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    if !is_gzip {
        return Err(vec![format!(
            "is not gzip-compressed, but a .tar.gz sdist must be a gzip-compressed tar: {REBUILD}"
        )]);
    }
    let file = File::open(path).map_err(|e| vec![format!("cannot be opened: {e}")])?;
    let exceeded = std::rc::Rc::new(std::cell::Cell::new(false));
    let inflating = Bounded {
        inner: MultiGzDecoder::new(BufReader::new(file)),
        left: limits.inflated,
        exceeded: exceeded.clone(),
    };
    let mut archive = tar::Archive::new(inflating);

    // tar's messages quote header bytes.
    let corrupt = |e: io::Error| {
        if exceeded.get() {
            return vec![format!(
                "decompresses to more than {} bytes, the limit: refusing a likely \
                 decompression bomb; {REBUILD} without the bulk data",
                limits.inflated
            )];
        }
        vec![format!(
            "is a corrupt or truncated archive ({}): {REBUILD}, and check that it was copied \
             completely",
            shown(e)
        )]
    };
    let refuse = |why: String| vec![format!("{why}: {REBUILD}")];
    let mut tops: BTreeSet<String> = BTreeSet::new();
    let mut names = HashSet::new();
    let mut pkg_infos: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    let mut unsafe_members: Vec<String> = Vec::new();
    let mut members = 0usize;
    let mut name_bytes = 0u64;
    // Raw entries: the tar reader would read a long-name or PAX header's data into memory
    // whatever its size. Their meaning for the next member is applied here instead, after
    // their size was checked.
    let mut long_name: Option<Vec<u8>> = None;
    let mut pax_path: Option<Vec<u8>> = None;
    let mut pax_size: Option<u64> = None;
    for entry in archive.entries().map_err(corrupt)?.raw(true) {
        let mut entry = entry.map_err(corrupt)?;
        let kind = entry.header().entry_type();
        let size = entry.size();
        if kind.is_gnu_longname() || kind.is_gnu_longlink() {
            if size > limits.long_name {
                return Err(refuse(format!(
                    "holds a GNU long-name header of {size} bytes, more than the {} bytes a \
                     member name may take",
                    limits.long_name
                )));
            }
            if kind.is_gnu_longname() {
                if long_name.is_some() {
                    return Err(refuse("holds two GNU long names for one member".to_owned()));
                }
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(corrupt)?;
                while bytes.last() == Some(&0) {
                    bytes.pop();
                }
                long_name = Some(bytes);
            }
            continue;
        }
        if kind.is_pax_global_extensions() || kind.is_pax_local_extensions() {
            if size > limits.pax {
                return Err(refuse(format!(
                    "holds a PAX extended header of {size} bytes, more than the {}-byte limit",
                    limits.pax
                )));
            }
            if kind.is_pax_local_extensions() {
                if pax_path.is_some() || pax_size.is_some() {
                    return Err(refuse("holds two PAX headers for one member".to_owned()));
                }
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).map_err(corrupt)?;
                for ext in tar::PaxExtensions::new(&bytes) {
                    let ext = ext.map_err(corrupt)?;
                    match ext.key_bytes() {
                        b"path" => pax_path = Some(ext.value_bytes().to_vec()),
                        b"size" => {
                            let value = ext.value().ok().and_then(|v| v.parse().ok());
                            pax_size = Some(value.unwrap_or(u64::MAX));
                        }
                        _ => {}
                    }
                }
            }
            continue;
        }
        if kind.is_gnu_sparse() {
            return Err(refuse(format!(
                "holds the sparse file member {:?}, which sdists never need",
                String::from_utf8_lossy(&entry.path_bytes())
            )));
        }
        // Readers that honour a PAX size and readers that do not would see different
        // members: refuse the archive rather than pick one.
        if let Some(declared) = pax_size.take().filter(|&d| d != size) {
            return Err(refuse(format!(
                "holds a member whose PAX size ({declared}) disagrees with its header ({size})"
            )));
        }
        let path_bytes = match (long_name.take(), pax_path.take()) {
            (Some(_), Some(_)) => {
                return Err(refuse(
                    "holds a member named both by a GNU long name and a PAX path".to_owned(),
                ))
            }
            (Some(name), None) | (None, Some(name)) => name,
            (None, None) => entry.path_bytes().into_owned(),
        };
        members += 1;
        if members > limits.members {
            return Err(refuse(format!(
                "holds more than {} members, the limit",
                limits.members
            )));
        }
        name_bytes = name_bytes.saturating_add(path_bytes.len() as u64);
        if name_bytes > limits.name_bytes {
            return Err(refuse(format!(
                "holds member names of more than {} bytes in all, the limit",
                limits.name_bytes
            )));
        }
        let raw = String::from_utf8_lossy(&path_bytes).into_owned();
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
    if long_name.is_some() || pax_path.is_some() || pax_size.is_some() {
        return Err(refuse(
            "ends with a header that describes a member that never comes".to_owned(),
        ));
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

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    const PKG_INFO: &[u8] = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n";

    fn regular(name: &str, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // The name field holds at most 100 bytes; longer names go through append_data.
        if name.len() <= 100 {
            h.set_path(name).unwrap();
        }
        h.set_cksum();
        h
    }

    /// Writes an sdist built by `build` into a temp folder; returns both.
    fn sdist(
        build: impl FnOnce(&mut tar::Builder<GzEncoder<Vec<u8>>>),
    ) -> (tempfile::TempDir, std::path::PathBuf) {
        let mut tar = tar::Builder::new(GzEncoder::new(Vec::new(), Compression::fast()));
        build(&mut tar);
        let bytes = tar.into_inner().unwrap().finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-1.0.tar.gz");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&bytes)
            .unwrap();
        (dir, path)
    }

    fn add(tar: &mut tar::Builder<GzEncoder<Vec<u8>>>, name: &str, data: &[u8]) {
        let mut h = regular(name, data.len() as u64);
        tar.append_data(&mut h, name, data).unwrap();
    }

    /// A header of `kind` whose data is `data`, however large.
    fn extension(tar: &mut tar::Builder<GzEncoder<Vec<u8>>>, kind: tar::EntryType, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_path("././@LongLink").unwrap();
        h.set_size(data.len() as u64);
        h.set_entry_type(kind);
        h.set_cksum();
        tar.append(&h, data).unwrap();
    }

    fn problem(path: &Path, limits: &Limits) -> String {
        match read_limited(path, limits) {
            Ok(c) => panic!("read: {c:?}"),
            Err(problems) => problems.join("\n"),
        }
    }

    #[test]
    fn long_names_and_pax_paths_name_their_member() {
        let long = format!("demo-1.0/{}/file.txt", "d".repeat(150));
        let pax_named = format!("demo-1.0/{}.txt", "p".repeat(120));
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            // GNU header + long path: the builder writes a GNU long-name member first.
            add(tar, &long, b"x");
            tar.append_pax_extensions([("path", pax_named.as_bytes())])
                .unwrap();
            add(tar, "demo-1.0/short.txt", b"y");
        });
        let contents = read(&path).unwrap();
        assert_eq!(contents.top, "demo-1.0");
        assert_eq!(contents.pkg_info, PKG_INFO);
        assert!(contents.names.contains(&long), "{:?}", contents.names);
        assert!(contents.names.contains(&pax_named), "{:?}", contents.names);
        assert!(!contents.names.contains("demo-1.0/short.txt"));
    }

    #[test]
    fn a_pax_path_that_escapes_is_seen() {
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            tar.append_pax_extensions([("path", b"../../evil.txt".as_slice())])
                .unwrap();
            add(tar, "demo-1.0/harmless.txt", b"y");
        });
        assert!(problem(&path, &LIMITS).contains("../../evil.txt"));
    }

    #[test]
    fn oversized_long_name_and_pax_headers_are_refused() {
        let limits = Limits {
            long_name: 1000,
            pax: 2000,
            ..LIMITS
        };
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            extension(tar, tar::EntryType::GNULongName, &[b'a'; 1001]);
            add(tar, "demo-1.0/x", b"x");
        });
        let p = problem(&path, &limits);
        assert!(p.contains("GNU long-name header of 1001 bytes"), "{p}");
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            extension(tar, tar::EntryType::GNULongLink, &[b'a'; 1001]);
            add(tar, "demo-1.0/x", b"x");
        });
        assert!(problem(&path, &limits).contains("1001 bytes"));
        let record = format!("2016 comment={}\n", "c".repeat(2016 - 14));
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            extension(tar, tar::EntryType::XHeader, record.as_bytes());
            add(tar, "demo-1.0/x", b"x");
        });
        let p = problem(&path, &limits);
        assert!(p.contains("PAX extended header of 2016 bytes"), "{p}");
        let (_dir, path) = sdist(|tar| {
            extension(tar, tar::EntryType::XGlobalHeader, record.as_bytes());
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
        });
        assert!(problem(&path, &limits).contains("PAX extended header"));
        // Within the limits the same shapes are fine.
        assert!(read_limited(&path, &LIMITS).is_ok());
    }

    #[test]
    fn a_pax_size_that_disagrees_with_the_header_is_refused() {
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            tar.append_pax_extensions([("size", b"512".as_slice())])
                .unwrap();
            add(tar, "demo-1.0/x", b"x");
        });
        assert!(problem(&path, &LIMITS).contains("PAX size (512) disagrees"));
    }

    #[test]
    fn member_count_and_name_bytes_are_bounded() {
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            for i in 0..5 {
                add(tar, &format!("demo-1.0/f{i}"), b"");
            }
        });
        let limits = Limits {
            members: 5,
            ..LIMITS
        };
        assert!(problem(&path, &limits).contains("more than 5 members"));
        assert!(read_limited(
            &path,
            &Limits {
                members: 6,
                ..LIMITS
            }
        )
        .is_ok());
        let limits = Limits {
            name_bytes: 40,
            ..LIMITS
        };
        assert!(problem(&path, &limits).contains("more than 40 bytes in all"));
    }

    #[test]
    fn decompressed_bytes_are_bounded() {
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            add(tar, "demo-1.0/zeros.bin", &vec![0u8; 1 << 20]);
        });
        let limits = Limits {
            inflated: 512 << 10,
            ..LIMITS
        };
        let p = problem(&path, &limits);
        assert!(
            p.contains(&format!("decompresses to more than {} bytes", 512 << 10)),
            "{p}"
        );
        assert!(read_limited(&path, &LIMITS).is_ok());
    }

    /// A PAX record of exactly `len` bytes (`"LEN comment=ccc\n"`).
    fn pax_record(len: usize) -> String {
        let head = format!("{len} comment=");
        format!("{head}{}\n", "c".repeat(len - head.len() - 1))
    }

    /// The reader as publish runs it (`read`, the shipped limits): a PAX header of 1 MiB is
    /// read, one byte more is refused.
    #[test]
    fn the_shipped_pax_limit_is_one_mib() {
        for (len, ok) in [(1 << 20, true), ((1 << 20) + 1, false)] {
            let record = pax_record(len);
            assert_eq!(record.len(), len);
            let (_dir, path) = sdist(|tar| {
                add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
                extension(tar, tar::EntryType::XHeader, record.as_bytes());
                add(tar, "demo-1.0/x", b"x");
            });
            match read(&path) {
                Ok(_) => assert!(ok, "a PAX header of {len} bytes was read"),
                Err(p) => {
                    let p = p.join("\n");
                    assert!(!ok, "a PAX header of {len} bytes was refused: {p}");
                    let want = format!("PAX extended header of {len} bytes, more than the 1048576");
                    assert!(p.contains(&want), "{p}");
                }
            }
        }
    }

    /// The reader as publish runs it: one member more than 100 000 is refused (the edge
    /// itself is `member_count_and_name_bytes_are_bounded`'s).
    #[test]
    fn the_shipped_member_limit_is_a_hundred_thousand() {
        let (_dir, path) = sdist(|tar| {
            add(tar, "demo-1.0/PKG-INFO", PKG_INFO);
            for i in 1..=100_000 {
                add(tar, &format!("demo-1.0/f{i}"), b"");
            }
        });
        let p = match read(&path) {
            Ok(c) => panic!("{} members were read", c.names.len()),
            Err(p) => p.join("\n"),
        };
        assert!(
            p.contains("holds more than 100000 members, the limit"),
            "{p}"
        );
    }
}
