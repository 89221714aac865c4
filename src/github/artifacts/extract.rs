//! The safe extraction of an artifact zip: nothing written outside the folder, no link, no
//! name that collides or holds a control character, and sizes, member count and expansion
//! bounded (per archive and for all the artifacts of a run together).
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use sha2::{Digest, Sha256};

/// All the artifacts of one run together may not expand beyond this.
pub const MAX_EXTRACTED_TOTAL: u64 = 8 << 30;
/// An artifact archive may hold at most this many members: a dist/ folder holds a handful,
/// and every member costs a file and a central-directory record held in memory.
pub const MAX_MEMBERS: usize = 10_000;
/// The most a zip may weigh when GitHub does not say its size (`size_in_bytes` 0 or absent);
/// a zip larger than everything it may expand to could not be extracted anyway.
pub const MAX_ZIP_BYTES: u64 = MAX_EXTRACTED_TOTAL;
/// A single entry may not be larger than this.
const MAX_ENTRY_SIZE: u64 = 2 << 30;
/// Entries larger than [`RATIO_CHECK_FLOOR`] may not expand more than this many times:
/// wheels and sdists are compressed already, so a large, highly compressible entry is a bomb.
const MAX_RATIO: u64 = 200;
const RATIO_CHECK_FLOOR: u64 = 64 << 20;

/// What the artifacts of one run may still expand to, together: each archive is charged
/// its declared sizes before anything of it is written.
#[derive(Debug)]
pub struct Budget {
    pub limit: u64,
    pub used: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            limit: MAX_EXTRACTED_TOTAL,
            used: 0,
        }
    }
}

/// True for characters no member name of a distribution artifact holds, and that would turn
/// a name into several log lines or a terminal escape.
fn is_control_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Extract a zip into `out_dir` (created fresh), refusing anything that could write outside
/// it or exhaust the disk. Returns the regular files written, with their sha256.
pub fn extract(zip_path: &Path, out_dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    extract_within(zip_path, out_dir, &mut Budget::default())
}

/// The names of the central directory's records as stored, counting every record (the zip
/// reader keeps only the last of several with one name). At most [`MAX_MEMBERS`].
fn central_names(file: &mut std::fs::File, start: u64) -> anyhow::Result<Vec<Vec<u8>>> {
    use std::io::{BufReader, Seek, SeekFrom};
    const RECORD: u32 = 0x0201_4b50;
    file.seek(SeekFrom::Start(start))
        .context("cannot read the zip's central directory")?;
    let mut reader = BufReader::new(file);
    let mut names = Vec::new();
    let mut fixed = [0u8; 46];
    loop {
        if reader.read_exact(&mut fixed).is_err()
            || u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]) != RECORD
        {
            return Ok(names);
        }
        if names.len() == MAX_MEMBERS {
            bail!(
                "the archive holds more than {MAX_MEMBERS} members, the limit: upload only the \
                 distributions (the dist/ folder) as the artifact"
            );
        }
        let field = |at: usize| usize::from(u16::from_le_bytes([fixed[at], fixed[at + 1]]));
        let mut name = vec![0u8; field(28)];
        reader
            .read_exact(&mut name)
            .context("the zip's central directory is truncated")?;
        let skip = i64::try_from(field(30) + field(32)).unwrap_or(i64::MAX);
        reader
            .seek_relative(skip)
            .context("the zip's central directory is truncated")?;
        names.push(name);
    }
}

/// [`extract`], charging the archive's expanded size to `budget`, shared by all the
/// artifacts of a run.
pub fn extract_within(
    zip_path: &Path,
    out_dir: &Path,
    budget: &mut Budget,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let file = std::fs::File::open(zip_path)
        .with_context(|| format!("cannot open {}", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file).context("not a valid zip archive")?;
    let mut records = std::fs::File::open(zip_path)
        .with_context(|| format!("cannot open {}", zip_path.display()))?;
    let stored = central_names(&mut records, archive.central_directory_start())?;
    if stored.len() > archive.len() {
        // The zip reader keeps one record per name: a second one would silently win.
        let mut names = std::collections::HashSet::new();
        let twice = stored
            .iter()
            .find(|n| !names.insert(n.as_slice()))
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        bail!("entries {twice:?} and {twice:?} collide: the same path twice in one archive");
    }

    // Vet every entry before writing anything, so a hostile archive leaves nothing behind.
    let mut declared_total: u64 = 0;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut plan = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .with_context(|| format!("entry #{i} is unreadable"))?;
        let raw = entry.name().to_owned();
        if raw.contains(is_control_char) {
            bail!(
                "entry {raw:?} has a control character in its name: refusing it (distribution \
                 files never hold one, and it would forge log lines)"
            );
        }
        let Some(rel) = entry.enclosed_name() else {
            bail!("entry {raw:?} has an absolute path or `..`: refusing to extract it (it would write outside the extraction folder)");
        };
        if raw.contains('\\') || raw.contains('\0') {
            bail!("entry {raw:?} has a backslash or NUL in its name: refusing it");
        }
        if entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            bail!("entry {raw:?} is a symbolic link: artifacts of distributions hold only regular files");
        }
        if entry.is_dir() {
            plan.push((i, rel, true));
            continue;
        }
        let key = rel.to_string_lossy().to_lowercase();
        if let Some(prev) = seen.insert(key, raw.clone()) {
            bail!("entries {prev:?} and {raw:?} collide: the same path twice in one archive");
        }
        let size = entry.size();
        if size > MAX_ENTRY_SIZE {
            bail!("entry {raw:?} declares {size} bytes, more than the {MAX_ENTRY_SIZE}-byte limit");
        }
        if size > RATIO_CHECK_FLOOR && size / entry.compressed_size().max(1) > MAX_RATIO {
            bail!(
                "entry {raw:?} would expand {}-fold to {size} bytes: refusing a likely zip bomb",
                size / entry.compressed_size().max(1)
            );
        }
        declared_total = declared_total.saturating_add(size);
        if budget.used.saturating_add(declared_total) > budget.limit {
            bail!(
                "entry {raw:?} takes the run's artifacts beyond {} bytes expanded, in all \
                 ({} bytes from the artifacts before this one): refusing a likely zip bomb; \
                 select fewer artifacts with artifact-pattern",
                budget.limit,
                budget.used
            );
        }
        plan.push((i, rel, false));
    }
    budget.used = budget.used.saturating_add(declared_total);

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut written = Vec::new();
    for (i, rel, is_dir) in plan {
        let target = out_dir.join(&rel);
        if is_dir {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("entry {} is unreadable", rel.display()))?;
        let declared = entry.size();
        // create_new: never follow or overwrite anything that is already there.
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        let mut hasher = Sha256::new();
        let mut limited = (&mut entry).take(declared + 1);
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = limited
                .read(&mut buf)
                .with_context(|| format!("entry {} is corrupt", rel.display()))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > declared {
                drop(out);
                let _ = std::fs::remove_file(&target);
                bail!("entry {} expands beyond its declared size of {declared} bytes: refusing a likely zip bomb", rel.display());
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        written.push((target, hex::encode(hasher.finalize())));
    }
    Ok(written)
}

/// `extract` on its own: each hostile shape is refused with an error naming the member, and
/// nothing is written anywhere: not in the extraction folder, not in its parent, not at an
/// absolute path.
#[cfg(test)]
mod extract_tests {
    use super::*;
    use testbed::github::{zip_with_raw_entries, RawEntry};

    /// Every file and folder below `root`.
    fn everything_below(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut todo = vec![root.to_owned()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(path.clone());
                }
                out.push(path);
            }
        }
        out.sort();
        out
    }

    struct Case {
        tmp: tempfile::TempDir,
        zip: PathBuf,
        out: PathBuf,
    }

    /// The zip sits in the temp root; the extraction folder is `<root>/parent/out`, so an
    /// escape one or two levels up lands somewhere this test looks.
    fn case(entries: &[RawEntry]) -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("artifact.zip");
        std::fs::write(&zip, zip_with_raw_entries(entries)).unwrap();
        let parent = tmp.path().join("parent");
        std::fs::create_dir(&parent).unwrap();
        let out = parent.join("out");
        Case { tmp, zip, out }
    }

    /// Extract, expect a refusal mentioning `needle`, and check nothing at all was written.
    fn refused(entries: &[RawEntry], needle: &str) {
        let c = case(entries);
        let err = match extract(&c.zip, &c.out) {
            Ok(files) => panic!("{needle}: extracted {files:?}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(needle), "the error names {needle:?}: {err}");
        let left = everything_below(c.tmp.path());
        assert_eq!(
            left,
            vec![c.zip.clone(), c.tmp.path().join("parent")],
            "{needle}: something was written"
        );
    }

    fn ok() -> RawEntry {
        RawEntry::file("demo-1.0-py3-none-any.whl", b"wheel bytes")
    }

    #[test]
    fn a_good_archive_extracts_with_hashes() {
        let c = case(&[ok(), RawEntry::file("sub/demo-1.0.tar.gz", b"sdist")]);
        let files = extract(&c.zip, &c.out).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, c.out.join("demo-1.0-py3-none-any.whl"));
        assert_eq!(files[0].1, hex::encode(Sha256::digest(b"wheel bytes")));
        assert_eq!(
            std::fs::read(c.out.join("sub/demo-1.0.tar.gz")).unwrap(),
            b"sdist"
        );
    }

    #[test]
    fn traversal_is_refused() {
        refused(&[ok(), RawEntry::file("../evil.txt", b"x")], "../evil.txt");
        refused(
            &[ok(), RawEntry::file("../../evil.txt", b"x")],
            "../../evil.txt",
        );
        refused(
            &[ok(), RawEntry::file("a/../../evil.txt", b"x")],
            "a/../../evil.txt",
        );
    }

    #[test]
    fn absolute_paths_are_refused() {
        let c = case(&[]);
        // An absolute path into this test's own folder, so an escape would be seen.
        let target = c.tmp.path().join("parent").join("abs.txt");
        let name = target.display().to_string();
        refused(&[ok(), RawEntry::file(&name, b"x")], &name);
        assert!(!target.exists());
        refused(&[ok(), RawEntry::file("/tmp/x", b"x")], "/tmp/x");
    }

    #[test]
    fn symlinks_are_refused() {
        refused(
            &[ok(), RawEntry::symlink("link", "..")],
            "is a symbolic link",
        );
        // A link to a folder outside, then a file written through it.
        refused(
            &[
                RawEntry::symlink("link", "../.."),
                RawEntry::file("link/evil.txt", b"x"),
            ],
            "\"link\" is a symbolic link",
        );
    }

    #[test]
    fn backslashes_and_control_characters_are_refused() {
        refused(&[ok(), RawEntry::file("..\\evil.txt", b"x")], "backslash");
        refused(&[ok(), RawEntry::file("dist\\a.whl", b"x")], "backslash");
        for name in [
            "a\nb.whl",
            "a\rb.whl",
            "a\u{1b}[31mb.whl",
            "a\u{85}b.whl",
            "a\u{2028}b.whl",
        ] {
            refused(&[ok(), RawEntry::file(name, b"x")], "control character");
        }
        refused(
            &[ok(), RawEntry::file("a\0b.whl", b"x")],
            "control character",
        );
    }

    #[test]
    fn names_that_collide_are_refused() {
        refused(
            &[
                RawEntry::file("Demo.whl", b"1"),
                RawEntry::file("demo.whl", b"2"),
            ],
            "collide",
        );
        refused(
            &[RawEntry::file("d.whl", b"1"), RawEntry::file("d.whl", b"2")],
            "collide",
        );
    }

    #[test]
    fn sizes_that_lie_are_refused() {
        let c = case(&[
            ok(),
            RawEntry::file("bomb.bin", &[0u8; 1 << 20]).declaring_size(1024),
        ]);
        let err = format!("{:#}", extract(&c.zip, &c.out).unwrap_err());
        assert!(
            err.contains("bomb.bin") && err.contains("declared size"),
            "{err}"
        );
        assert!(
            !c.out.join("bomb.bin").exists(),
            "the partial file is removed"
        );
        refused(
            &[
                ok(),
                RawEntry::file("huge.bin", b"tiny").declaring_size(0xFFFF_FFFE),
            ],
            "huge.bin",
        );
    }

    #[test]
    fn member_count_is_bounded() {
        let many: Vec<RawEntry> = (0..=MAX_MEMBERS)
            .map(|i| RawEntry {
                deflate: false,
                ..RawEntry::file(&format!("f{i}"), b"")
            })
            .collect();
        refused(&many, &format!("more than {MAX_MEMBERS} members"));
        let c = case(&many[..MAX_MEMBERS]);
        assert_eq!(extract(&c.zip, &c.out).unwrap().len(), MAX_MEMBERS);
    }

    #[test]
    fn the_expanded_total_is_shared_by_all_archives_of_a_run() {
        let mut budget = Budget {
            limit: 100,
            used: 0,
        };
        let first = case(&[RawEntry::file("a.whl", &[1u8; 60])]);
        extract_within(&first.zip, &first.out, &mut budget).unwrap();
        assert_eq!(budget.used, 60);
        // 60 more would fit one archive alone, not the run.
        let second = case(&[RawEntry::file("b.whl", &[2u8; 60])]);
        let err = format!(
            "{:#}",
            extract_within(&second.zip, &second.out, &mut budget).unwrap_err()
        );
        assert!(err.contains("b.whl") && err.contains("100 bytes"), "{err}");
        assert!(
            !second.out.exists(),
            "nothing of the second archive was written"
        );
        assert_eq!(budget.used, 60);
    }
}
