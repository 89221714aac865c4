//! The ZIP structure checks PyPI applies to wheels (`warehouse/utils/zipfiles.py`).
//!
//! PyPI refuses a zip that reads differently through its central directory (what pip uses)
//! and through its local file headers (what streaming readers use): duplicate or missing
//! entries, sizes that disagree, data descriptors, per-entry comments, unknown records and
//! trailing bytes. Walking the records costs a seek per entry, not a read of the data.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

const SIG_LOCAL: u32 = 0x0403_4b50;
const SIG_CENTRAL: u32 = 0x0201_4b50;
const SIG_EOCD: u32 = 0x0605_4b50;
const SIG_EOCD64: u32 = 0x0606_4b50;
const SIG_EOCD64_LOCATOR: u32 = 0x0706_4b50;
const FLAG_DATA_DESCRIPTOR: u16 = 0x0008;
const EXTRA_ZIP64: u16 = 0x0001;

struct Walker {
    reader: BufReader<File>,
    pos: u64,
    len: u64,
}

impl Walker {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut buf = [0u8; N];
        self.reader
            .read_exact(&mut buf)
            .map_err(|_| format!("the archive ends inside a record at offset {}", self.pos))?;
        self.pos += N as u64;
        Ok(buf)
    }

    fn vec(&mut self, n: usize) -> Result<Vec<u8>, String> {
        let mut buf = vec![0u8; n];
        self.reader
            .read_exact(&mut buf)
            .map_err(|_| format!("the archive ends inside a record at offset {}", self.pos))?;
        self.pos += n as u64;
        Ok(buf)
    }

    fn skip(&mut self, n: u64) -> Result<(), String> {
        if self.len - self.pos < n {
            return Err(format!(
                "an entry at offset {} claims more data than the file holds (truncated?)",
                self.pos
            ));
        }
        let step = i64::try_from(n).map_err(|_| "an entry size is out of range".to_owned())?;
        self.reader
            .seek_relative(step)
            .map_err(|e| format!("cannot seek in the archive: {e}"))?;
        self.pos += n;
        Ok(())
    }
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}

fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

fn display_name(name: &[u8]) -> String {
    String::from_utf8_lossy(name).into_owned()
}

fn check_name(name: &[u8]) -> Result<(), String> {
    if name.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Err(format!(
            "entry name {:?} holds a control character",
            display_name(name)
        ));
    }
    if std::str::from_utf8(name).is_err() {
        return Err(format!("entry name {:?} is not UTF-8", display_name(name)));
    }
    Ok(())
}

/// The compressed size of a local entry, taking a ZIP64 extra field into account the way
/// PyPI does.
fn local_compressed_size(
    header_size: u32,
    method: u16,
    extra: &[u8],
    name: &[u8],
) -> Result<u64, String> {
    let mut rest = extra;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(format!(
                "entry {:?} has a malformed extra field",
                display_name(name)
            ));
        }
        let id = u16_at(rest, 0);
        let size = usize::from(u16_at(rest, 2));
        let Some(data) = rest.get(4..4 + size) else {
            return Err(format!(
                "entry {:?} has a malformed extra field",
                display_name(name)
            ));
        };
        if id == EXTRA_ZIP64 {
            return match size {
                0 if header_size != u32::MAX => Ok(u64::from(header_size)),
                // Only the uncompressed size: valid for stored data, where both are equal.
                8 if method == 0 => Ok(u64_at(data, 0)),
                16 | 24 | 28 => Ok(u64_at(data, 8)),
                _ => Err(format!(
                    "entry {:?} has a malformed ZIP64 extra field",
                    display_name(name)
                )),
            };
        }
        rest = &rest[4 + size..];
    }
    Ok(u64::from(header_size))
}

/// Checks the record structure of the zip at `path`; `central` maps each entry name (raw
/// bytes) to its compressed size as read from the central directory.
pub(crate) fn check(path: &Path, central: &HashMap<Vec<u8>, u64>) -> Result<(), String> {
    let file = File::open(path).map_err(|e| format!("cannot reopen the file: {e}"))?;
    let len = file
        .metadata()
        .map_err(|e| format!("cannot read the file size: {e}"))?
        .len();
    let mut w = Walker {
        reader: BufReader::new(file),
        pos: 0,
        len,
    };
    let mut local_names: HashSet<Vec<u8>> = HashSet::new();
    let mut cd_names: HashSet<Vec<u8>> = HashSet::new();
    let mut cd_records: u64 = 0;
    let mut in_central = false;
    let mut after_eocd64 = false;

    loop {
        let at = w.pos;
        let sig = u32::from_le_bytes(w.bytes::<4>()?);
        if after_eocd64 && sig != SIG_EOCD64_LOCATOR && sig != SIG_EOCD {
            return Err(format!(
                "unexpected record after the ZIP64 end record at offset {at}"
            ));
        }
        match sig {
            SIG_LOCAL if !in_central => {
                let h = w.bytes::<26>()?;
                let (flags, method) = (u16_at(&h, 2), u16_at(&h, 4));
                let name = w.vec(usize::from(u16_at(&h, 22)))?;
                let extra = w.vec(usize::from(u16_at(&h, 24)))?;
                check_name(&name)?;
                if flags & FLAG_DATA_DESCRIPTOR != 0 {
                    return Err(format!(
                        "entry {:?} uses a data descriptor (sizes written after the data)",
                        display_name(&name)
                    ));
                }
                let size = local_compressed_size(u32_at(&h, 14), method, &extra, &name)?;
                match central.get(&name) {
                    None => {
                        return Err(format!(
                            "entry {:?} is not listed in the central directory",
                            display_name(&name)
                        ))
                    }
                    Some(&cd_size) if cd_size != size => {
                        return Err(format!(
                            "entry {:?} has a different size in its local header than in the \
                             central directory",
                            display_name(&name)
                        ))
                    }
                    Some(_) => {}
                }
                if !local_names.insert(name.clone()) {
                    return Err(format!("entry {:?} appears twice", display_name(&name)));
                }
                w.skip(size)?;
            }
            SIG_CENTRAL => {
                in_central = true;
                let h = w.bytes::<42>()?;
                let name = w.vec(usize::from(u16_at(&h, 24)))?;
                w.skip(u64::from(u16_at(&h, 26)))?;
                if u16_at(&h, 28) != 0 {
                    return Err(format!(
                        "entry {:?} has a comment in the central directory",
                        display_name(&name)
                    ));
                }
                check_name(&name)?;
                if !local_names.contains(&name) {
                    return Err(format!(
                        "central directory entry {:?} has no local file header",
                        display_name(&name)
                    ));
                }
                if !cd_names.insert(name.clone()) {
                    return Err(format!(
                        "entry {:?} appears twice in the central directory",
                        display_name(&name)
                    ));
                }
                cd_records += 1;
            }
            SIG_EOCD64 => {
                let size = u64::from_le_bytes(w.bytes::<8>()?);
                w.skip(size)?;
                after_eocd64 = true;
            }
            SIG_EOCD64_LOCATOR if after_eocd64 => {
                w.skip(16)?;
            }
            SIG_EOCD => {
                let h = w.bytes::<18>()?;
                let (on_disk, total) = (u16_at(&h, 4), u16_at(&h, 6));
                if on_disk != total {
                    return Err("the end record counts entries inconsistently".to_owned());
                }
                if total != u16::MAX && u64::from(total) != cd_records {
                    return Err(format!(
                        "the end record counts {total} entries but the central directory holds \
                         {cd_records}"
                    ));
                }
                w.skip(u64::from(u16_at(&h, 16)))?;
                break;
            }
            _ => {
                return Err(format!(
                    "unexpected data at offset {at} (not a ZIP record; was something prepended \
                     or inserted?)"
                ))
            }
        }
    }
    if w.pos != w.len {
        return Err(format!(
            "{} bytes of trailing data follow the end of the archive",
            w.len - w.pos
        ));
    }
    if cd_names != local_names {
        return Err("local file headers and central directory list different entries".to_owned());
    }
    Ok(())
}
