//! Artifact zips for tests: well-formed ones, and hostile ones that a careful extractor must
//! refuse. The writer is hand-rolled because library writers refuse to produce the hostile
//! shapes (duplicate names, sizes that lie).
use std::io::Write as _;

use flate2::write::DeflateEncoder;
use flate2::Compression;

/// Unix mode of a regular file in a zip's external attributes.
pub const MODE_FILE: u32 = 0o100_644;
/// Unix mode of a symbolic link; the entry's data is the link target.
pub const MODE_SYMLINK: u32 = 0o120_777;

/// One zip entry, written exactly as described, however unwise.
#[derive(Clone, Debug)]
pub struct RawEntry {
    /// Stored byte for byte: `../x`, `/abs`, `a\b` and duplicates are all allowed.
    pub name: String,
    /// Uncompressed content (a symlink's target for [`MODE_SYMLINK`]).
    pub data: Vec<u8>,
    /// Deflate (method 8) or store (method 0).
    pub deflate: bool,
    /// Unix mode (file type and permissions), written with "made by Unix".
    pub unix_mode: u32,
    /// Uncompressed size written in both headers instead of the real one.
    pub declared_size: Option<u32>,
}

impl RawEntry {
    /// A deflated regular file.
    pub fn file(name: &str, data: &[u8]) -> Self {
        Self {
            name: name.to_owned(),
            data: data.to_vec(),
            deflate: true,
            unix_mode: MODE_FILE,
            declared_size: None,
        }
    }

    /// A symbolic link `name` -> `target`.
    pub fn symlink(name: &str, target: &str) -> Self {
        Self {
            deflate: false,
            unix_mode: MODE_SYMLINK,
            ..Self::file(name, target.as_bytes())
        }
    }

    /// Claim `size` as the uncompressed size, whatever the data really inflates to.
    pub fn declaring_size(mut self, size: u32) -> Self {
        self.declared_size = Some(size);
        self
    }
}

/// A well-formed zip of regular files (deflated), like an upload-artifact v4 archive.
pub fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let entries: Vec<RawEntry> = files
        .iter()
        .map(|(name, data)| RawEntry::file(name, data))
        .collect();
    zip_with_raw_entries(&entries)
}

fn deflate(data: &[u8]) -> Vec<u8> {
    let mut enc = DeflateEncoder::new(Vec::new(), Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(data);
    enc.finish().unwrap_or_default()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(data);
    crc.sum()
}

fn u16le(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn u32le(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Sizes beyond 4 GiB would need zip64; these archives are small, so saturate instead.
fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A zip with exactly these entries (local headers, central directory, end record).
pub fn zip_with_raw_entries(entries: &[RawEntry]) -> Vec<u8> {
    const DOS_DATE_1980_01_01: u16 = (1 << 5) | 1;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for e in entries {
        let offset = u32_of(out.len());
        let body = if e.deflate {
            deflate(&e.data)
        } else {
            e.data.clone()
        };
        let method: u16 = if e.deflate { 8 } else { 0 };
        let flags: u16 = if e.name.is_ascii() { 0 } else { 1 << 11 };
        let crc = crc32(&e.data);
        let size = e.declared_size.unwrap_or(u32_of(e.data.len()));
        let name = e.name.as_bytes();

        u32le(&mut out, 0x0403_4b50);
        u16le(&mut out, 20);
        u16le(&mut out, flags);
        u16le(&mut out, method);
        u16le(&mut out, 0);
        u16le(&mut out, DOS_DATE_1980_01_01);
        u32le(&mut out, crc);
        u32le(&mut out, u32_of(body.len()));
        u32le(&mut out, size);
        u16le(&mut out, u16::try_from(name.len()).unwrap_or(u16::MAX));
        u16le(&mut out, 0);
        out.extend_from_slice(name);
        out.extend_from_slice(&body);

        u32le(&mut central, 0x0201_4b50);
        u16le(&mut central, (3 << 8) | 20); // made by Unix, so readers honour the mode
        u16le(&mut central, 20);
        u16le(&mut central, flags);
        u16le(&mut central, method);
        u16le(&mut central, 0);
        u16le(&mut central, DOS_DATE_1980_01_01);
        u32le(&mut central, crc);
        u32le(&mut central, u32_of(body.len()));
        u32le(&mut central, size);
        u16le(&mut central, u16::try_from(name.len()).unwrap_or(u16::MAX));
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u16le(&mut central, 0);
        u32le(&mut central, e.unix_mode << 16);
        u32le(&mut central, offset);
        central.extend_from_slice(name);
    }
    let cd_offset = u32_of(out.len());
    let count = u16::try_from(entries.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&central);
    u32le(&mut out, 0x0605_4b50);
    u16le(&mut out, 0);
    u16le(&mut out, 0);
    u16le(&mut out, count);
    u16le(&mut out, count);
    u32le(&mut out, u32_of(central.len()));
    u32le(&mut out, cd_offset);
    u16le(&mut out, 0);
    out
}

/// Ready-made hostile artifact zips. Each also holds one harmless file, so an extractor
/// that skips the bad entry instead of refusing the archive is visible too.
pub mod hostile {
    use super::{zip_with_raw_entries, RawEntry};

    const OK: (&str, &[u8]) = ("ok.txt", b"harmless\n");

    fn with_ok(bad: RawEntry) -> Vec<u8> {
        zip_with_raw_entries(&[RawEntry::file(OK.0, OK.1), bad])
    }

    /// An entry named `../evil.txt`.
    pub fn path_traversal() -> Vec<u8> {
        with_ok(RawEntry::file("../evil.txt", b"escaped\n"))
    }

    /// An entry named `..\evil.txt` (a traversal on Windows-minded extractors).
    pub fn backslash_traversal() -> Vec<u8> {
        with_ok(RawEntry::file("..\\evil.txt", b"escaped\n"))
    }

    /// An entry with an absolute path, `/tmp/x`.
    pub fn absolute_path() -> Vec<u8> {
        with_ok(RawEntry::file("/tmp/x", b"absolute\n"))
    }

    /// A symlink entry `link` -> `/etc/passwd` (mode 0o120777).
    pub fn symlink() -> Vec<u8> {
        with_ok(RawEntry::symlink("link", "/etc/passwd"))
    }

    /// Two entries named `dist.txt` with different contents.
    pub fn duplicate_names() -> Vec<u8> {
        zip_with_raw_entries(&[
            RawEntry::file("dist.txt", b"first\n"),
            RawEntry::file(OK.0, OK.1),
            RawEntry::file("dist.txt", b"second\n"),
        ])
    }

    /// An entry that declares 1 KiB but inflates to `actual` zero bytes.
    pub fn understated_size(actual: usize) -> Vec<u8> {
        with_ok(RawEntry::file("bomb.bin", &vec![0u8; actual]).declaring_size(1024))
    }

    /// An entry that declares almost 4 GiB (the largest size without zip64).
    pub fn huge_declared_size() -> Vec<u8> {
        with_ok(RawEntry::file("huge.bin", b"tiny").declaring_size(0xFFFF_FFFE))
    }
}
