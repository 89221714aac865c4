//! Builders of real, pip-installable wheels and sdists for tests, the demo and benchmarks.
//!
//! The archives follow the packaging specifications (binary distribution format, PEP 625
//! sdists, core metadata 2.4) and what PyPI checks on upload: normalised file names, a
//! `.dist-info` folder named after the file, `RECORD` with sha256 entries, and zip entries
//! written without data descriptors. Output is deterministic (fixed timestamps, seeded
//! payloads), so building the same [`Project`] twice gives byte-identical files, which is what
//! a byte-identical re-upload to the index needs.
//!
//! The low-level writers ([`write_wheel_named`], [`write_sdist_named`], [`write_zip`],
//! [`write_tar_gz`]) exist so tests can build deliberately wrong distributions.

use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use flate2::write::GzEncoder;
use flate2::Compression;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

/// Modification time written into sdist tar headers (2023-11-14), fixed for reproducible files.
const SDIST_MTIME: u64 = 1_700_000_000;
/// Chunk size used when streaming pseudo-random payloads to disk.
const PAYLOAD_CHUNK: usize = 1 << 20;

/// A Python project to package: its core metadata and the files it ships.
#[derive(Debug, Clone)]
pub struct Project {
    /// `Name` as written in the metadata (not normalised).
    pub name: String,
    /// `Version` as written in the metadata. File names use it verbatim (only `-` becomes
    /// `_`), so pass a normalised PEP 440 version (`1.0rc1`, not `1.0-RC1`) to get the file
    /// names a real build backend would write.
    pub version: String,
    /// `Metadata-Version` written in METADATA / PKG-INFO.
    pub metadata_version: String,
    /// Further core-metadata headers, written in order after Name and Version. Repeat a key
    /// for multiple-use fields (`Classifier`, `Requires-Dist`, ...).
    pub extra_headers: Vec<(String, String)>,
    /// The long description, written as the metadata body; empty writes no body.
    pub description: String,
    /// Files of the installed package, relative to site-packages (e.g. `demo_pkg/__init__.py`).
    pub modules: Vec<(String, Vec<u8>)>,
    /// Data files of pseudo-random bytes (path, size), streamed to disk when the archive is
    /// written rather than held in memory.
    pub payloads: Vec<(String, u64)>,
}

impl Project {
    /// A project with one importable package, `{import_name}/__init__.py`, that sets
    /// `__version__`, a summary and a markdown description.
    pub fn new(name: impl Into<String>, version: impl Into<String>) -> Self {
        let name = name.into();
        let version = version.into();
        let import_name = import_name(&name);
        let init = format!("__version__ = \"{version}\"\n");
        Project {
            extra_headers: vec![
                ("Summary".to_owned(), format!("Test project {name}")),
                (
                    "Description-Content-Type".to_owned(),
                    "text/markdown".to_owned(),
                ),
            ],
            description: format!("# {name}\n\nA project built by the testbed.\n"),
            modules: vec![(format!("{import_name}/__init__.py"), init.into_bytes())],
            payloads: Vec::new(),
            metadata_version: "2.4".to_owned(),
            name,
            version,
        }
    }

    /// Appends a core-metadata header (repeat the call for multiple-use fields).
    pub fn with_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra_headers.push((key.into(), value.into()));
        self
    }

    /// Adds a data file of `size` pseudo-random (incompressible) bytes at `path`, for large
    /// benchmark distributions. The bytes are seeded from the path and size, so the same
    /// project always produces the same archive.
    pub fn with_payload(mut self, path: &str, size: u64) -> Self {
        self.payloads.push((path.to_owned(), size));
        self
    }

    /// The module name pip users import: the normalised name with `_` (`Demo-Pkg` -> `demo_pkg`).
    pub fn import_name(&self) -> String {
        import_name(&self.name)
    }

    /// The METADATA / PKG-INFO text: `Metadata-Version`, `Name`, `Version`, the extra headers
    /// in order, then the description as the body.
    pub fn metadata_text(&self) -> String {
        let mut text = format!(
            "Metadata-Version: {}\nName: {}\nVersion: {}\n",
            self.metadata_version, self.name, self.version
        );
        for (key, value) in &self.extra_headers {
            text.push_str(key);
            text.push_str(": ");
            text.push_str(value);
            text.push('\n');
        }
        if !self.description.is_empty() {
            text.push('\n');
            text.push_str(&self.description);
        }
        text
    }

    /// `License-File` values, which the builders ship inside the archives.
    fn license_files(&self) -> Vec<&str> {
        self.extra_headers
            .iter()
            .filter(|(key, _)| key.eq_ignore_ascii_case("License-File"))
            .map(|(_, value)| value.as_str())
            .collect()
    }
}

/// The PEP 503 normalised name: lower-case, runs of `-`, `_`, `.` collapsed to one `-`.
pub fn normalized_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            in_separator = true;
        } else {
            if in_separator && !out.is_empty() {
                out.push('-');
            }
            in_separator = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// The name as it appears in wheel and sdist file names: normalised, with `_` for `-`.
pub fn escaped_name(name: &str) -> String {
    normalized_name(name).replace('-', "_")
}

fn import_name(name: &str) -> String {
    escaped_name(name)
}

/// `{name}-{version}-{python_tag}-none-any.whl` with the name and version escaped as the
/// binary distribution format requires.
pub fn wheel_filename(project: &Project, python_tag: &str) -> String {
    format!(
        "{}-{}-{python_tag}-none-any.whl",
        escaped_name(&project.name),
        project.version.replace('-', "_")
    )
}

/// `{name}-{version}.tar.gz` (PEP 625).
pub fn sdist_filename(project: &Project) -> String {
    format!("{}.tar.gz", sdist_stem(project))
}

fn sdist_stem(project: &Project) -> String {
    format!(
        "{}-{}",
        escaped_name(&project.name),
        project.version.replace('-', "_")
    )
}

/// Writes a pure-Python wheel for `python_tag` (e.g. `py3`, `py2.py3`) into `dir` and returns
/// its path.
pub fn write_wheel(project: &Project, dir: &Path, python_tag: &str) -> Result<PathBuf> {
    let filename = wheel_filename(project, python_tag);
    let dist_info = format!(
        "{}-{}.dist-info",
        escaped_name(&project.name),
        project.version.replace('-', "_")
    );
    write_wheel_named(
        project,
        dir,
        &filename,
        &dist_info,
        &format!("{python_tag}-none-any"),
    )
}

/// Writes a wheel with an explicit file name, `.dist-info` folder and tag triple
/// (`py3-none-any`; compressed sets like `py2.py3` expand to one `Tag:` line each), so tests
/// can build wheels whose names disagree with their content.
pub fn write_wheel_named(
    project: &Project,
    dir: &Path,
    filename: &str,
    dist_info: &str,
    tag: &str,
) -> Result<PathBuf> {
    let path = dir.join(filename);
    let file = File::create(&path).with_context(|| format!("creating wheel {}", path.display()))?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    let deflated = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    let mut record = String::new();

    let mut small = |zip: &mut ZipWriter<BufWriter<File>>, name: &str, data: &[u8]| -> Result<()> {
        zip.start_file(name, deflated)
            .with_context(|| format!("adding {name} to {}", path.display()))?;
        zip.write_all(data)
            .with_context(|| format!("writing {name} to {}", path.display()))?;
        record.push_str(&record_line(name, &sha256_b64(data), data.len() as u64));
        Ok(())
    };

    for (name, data) in &project.modules {
        small(&mut zip, name, data)?;
    }
    for license in project.license_files() {
        let text = format!("License text of {} ({license}).\n", project.name);
        small(
            &mut zip,
            &format!("{dist_info}/licenses/{license}"),
            text.as_bytes(),
        )?;
    }
    small(
        &mut zip,
        &format!("{dist_info}/METADATA"),
        project.metadata_text().as_bytes(),
    )?;
    small(
        &mut zip,
        &format!("{dist_info}/WHEEL"),
        wheel_file_text(tag)?.as_bytes(),
    )?;

    for (name, size) in &project.payloads {
        // Stored, not deflated: the bytes are incompressible and large wheels are for
        // measuring transfer, not compression.
        let stored = deflated
            .compression_method(CompressionMethod::Stored)
            .large_file(*size >= u64::from(u32::MAX));
        zip.start_file(name.as_str(), stored)
            .with_context(|| format!("adding {name} to {}", path.display()))?;
        let mut hasher = Sha256::new();
        let mut reader = Payload::new(name, *size);
        let mut buf = vec![0u8; PAYLOAD_CHUNK];
        loop {
            let n = reader.read(&mut buf)?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            zip.write_all(&buf[..n])
                .with_context(|| format!("writing {name} to {}", path.display()))?;
        }
        record.push_str(&record_line(
            name,
            &URL_SAFE_NO_PAD.encode(hasher.finalize()),
            *size,
        ));
    }

    let record_name = format!("{dist_info}/RECORD");
    record.push_str(&csv_field(&record_name));
    record.push_str(",,\n");
    zip.start_file(record_name.as_str(), deflated)
        .with_context(|| format!("adding RECORD to {}", path.display()))?;
    zip.write_all(record.as_bytes())?;
    let mut out = zip
        .finish()
        .with_context(|| format!("finishing {}", path.display()))?;
    out.flush()
        .with_context(|| format!("flushing {}", path.display()))?;
    Ok(path)
}

/// The `WHEEL` file for a `python-abi-platform` tag triple.
fn wheel_file_text(tag: &str) -> Result<String> {
    let parts: Vec<&str> = tag.split('-').collect();
    let [pythons, abis, platforms] = parts.as_slice() else {
        bail!("tag {tag:?} is not python-abi-platform");
    };
    let mut text = String::from(
        "Wheel-Version: 1.0\nGenerator: testbed (pypi-oidc-publish)\nRoot-Is-Purelib: true\n",
    );
    for python in pythons.split('.') {
        for abi in abis.split('.') {
            for platform in platforms.split('.') {
                text.push_str(&format!("Tag: {python}-{abi}-{platform}\n"));
            }
        }
    }
    Ok(text)
}

fn sha256_b64(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(data))
}

fn record_line(name: &str, hash_b64: &str, size: u64) -> String {
    format!("{},sha256={hash_b64},{size}\n", csv_field(name))
}

/// RECORD is CSV: quote a path that holds a comma, quote or line break.
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// Writes `{name}-{version}.tar.gz` into `dir`: `PKG-INFO`, a setuptools `pyproject.toml`,
/// the modules, license files and payloads under one top-level `{name}-{version}/` folder.
///
/// Building it needs setuptools, which pip fetches from an index unless the build runs
/// with `--no-build-isolation`; tests mostly install the wheel instead.
pub fn write_sdist(project: &Project, dir: &Path) -> Result<PathBuf> {
    write_sdist_named(project, dir, &sdist_filename(project), &sdist_stem(project))
}

/// Writes an sdist with an explicit file name and top-level folder, so tests can build
/// sdists whose names disagree with their content.
pub fn write_sdist_named(
    project: &Project,
    dir: &Path,
    filename: &str,
    top: &str,
) -> Result<PathBuf> {
    let path = dir.join(filename);
    let file = File::create(&path).with_context(|| format!("creating sdist {}", path.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default()));
    tar.mode(tar::HeaderMode::Deterministic);

    let add = |tar: &mut tar::Builder<_>, name: &str, size: u64, data: &mut dyn Read| {
        let mut header = tar::Header::new_gnu();
        header.set_size(size);
        header.set_mode(0o644);
        header.set_mtime(SDIST_MTIME);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, format!("{top}/{name}"), data)
            .with_context(|| format!("adding {name} to {}", path.display()))
    };

    let pkg_info = project.metadata_text();
    add(
        &mut tar,
        "PKG-INFO",
        pkg_info.len() as u64,
        &mut pkg_info.as_bytes(),
    )?;
    let pyproject = pyproject_toml(project);
    add(
        &mut tar,
        "pyproject.toml",
        pyproject.len() as u64,
        &mut pyproject.as_bytes(),
    )?;
    for license in project.license_files() {
        let text = format!("License text of {} ({license}).\n", project.name);
        add(&mut tar, license, text.len() as u64, &mut text.as_bytes())?;
    }
    for (name, data) in &project.modules {
        add(&mut tar, name, data.len() as u64, &mut data.as_slice())?;
    }
    for (name, size) in &project.payloads {
        add(&mut tar, name, *size, &mut Payload::new(name, *size))?;
    }
    let gz = tar
        .into_inner()
        .with_context(|| format!("finishing {}", path.display()))?;
    let mut out = gz
        .finish()
        .with_context(|| format!("finishing gzip stream of {}", path.display()))?;
    out.flush()
        .with_context(|| format!("flushing {}", path.display()))?;
    Ok(path)
}

fn pyproject_toml(project: &Project) -> String {
    format!(
        "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
         [project]\nname = \"{}\"\nversion = \"{}\"\n\n\
         [tool.setuptools]\npackages = [\"{}\"]\n",
        project.name,
        project.version,
        project.import_name()
    )
}

/// Writes a zip holding exactly `entries` (deflated, fixed timestamps), for building broken or
/// unusual wheels by hand.
pub fn write_zip(path: &Path, entries: &[(&str, &[u8])]) -> Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut zip = ZipWriter::new(BufWriter::new(file));
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .last_modified_time(DateTime::default())
        .unix_permissions(0o644);
    for (name, data) in entries {
        zip.start_file(*name, options)
            .with_context(|| format!("adding {name} to {}", path.display()))?;
        zip.write_all(data)?;
    }
    zip.finish()
        .with_context(|| format!("finishing {}", path.display()))?
        .flush()?;
    Ok(())
}

/// Writes a gzip-compressed tar holding exactly `entries` (paths used verbatim), for
/// building broken or unusual sdists by hand.
pub fn write_tar_gz(path: &Path, entries: &[(&str, &[u8])]) -> Result<()> {
    let file = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(BufWriter::new(file), Compression::default()));
    for (name, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(SDIST_MTIME);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, name, *data)
            .with_context(|| format!("adding {name} to {}", path.display()))?;
    }
    tar.into_inner()?.finish()?.flush()?;
    Ok(())
}

/// A reader of `size` pseudo-random bytes seeded from the file's path and size.
struct Payload {
    rng: StdRng,
    remaining: u64,
}

impl Payload {
    fn new(path: &str, size: u64) -> Self {
        let seed = Sha256::new()
            .chain_update(path.as_bytes())
            .chain_update(size.to_le_bytes())
            .finalize();
        let mut seed_bytes = [0u8; 32];
        seed_bytes.copy_from_slice(&seed);
        Payload {
            rng: StdRng::from_seed(seed_bytes),
            remaining: size,
        }
    }
}

impl Read for Payload {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        self.rng.fill_bytes(&mut buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::process::Command;

    fn zip_entries(path: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut archive = zip::ZipArchive::new(File::open(path).unwrap()).unwrap();
        let mut out = BTreeMap::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.insert(entry.name().to_owned(), data);
        }
        out
    }

    fn tar_entries(path: &Path) -> BTreeMap<String, Vec<u8>> {
        let gz = flate2::read::GzDecoder::new(File::open(path).unwrap());
        let mut archive = tar::Archive::new(gz);
        let mut out = BTreeMap::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.insert(name, data);
        }
        out
    }

    #[test]
    fn names_are_normalised_and_escaped() {
        assert_eq!(normalized_name("Demo.Pkg__x"), "demo-pkg-x");
        assert_eq!(escaped_name("Demo.Pkg__x"), "demo_pkg_x");
        let project = Project::new("Demo.Pkg", "1.0");
        assert_eq!(
            wheel_filename(&project, "py2.py3"),
            "demo_pkg-1.0-py2.py3-none-any.whl"
        );
        assert_eq!(sdist_filename(&project), "demo_pkg-1.0.tar.gz");
        assert_eq!(project.modules[0].0, "demo_pkg/__init__.py");
    }

    #[test]
    fn metadata_text_has_headers_in_order_and_body() {
        let project = Project::new("demo", "0.1")
            .with_header("Classifier", "A :: B")
            .with_header("Classifier", "C :: D");
        let text = project.metadata_text();
        assert!(text.starts_with("Metadata-Version: 2.4\nName: demo\nVersion: 0.1\n"));
        let a = text.find("Classifier: A :: B").unwrap();
        let c = text.find("Classifier: C :: D").unwrap();
        assert!(a < c);
        assert!(text.ends_with("\n\n# demo\n\nA project built by the testbed.\n"));
    }

    #[test]
    fn wheel_has_dist_info_and_a_record_matching_every_file() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new("Demo-Pkg", "1.2.3")
            .with_header("License-File", "LICENSE")
            .with_payload("demo_pkg/data.bin", 3 * PAYLOAD_CHUNK as u64 + 5);
        let path = write_wheel(&project, dir.path(), "py3").unwrap();
        assert_eq!(path.file_name().unwrap(), "demo_pkg-1.2.3-py3-none-any.whl");
        let entries = zip_entries(&path);
        let metadata = &entries["demo_pkg-1.2.3.dist-info/METADATA"];
        assert_eq!(
            std::str::from_utf8(metadata).unwrap(),
            project.metadata_text()
        );
        assert!(
            std::str::from_utf8(&entries["demo_pkg-1.2.3.dist-info/WHEEL"])
                .unwrap()
                .contains("Tag: py3-none-any\n")
        );
        assert!(entries.contains_key("demo_pkg-1.2.3.dist-info/licenses/LICENSE"));
        assert_eq!(entries["demo_pkg/data.bin"].len(), 3 * PAYLOAD_CHUNK + 5);

        let record = std::str::from_utf8(&entries["demo_pkg-1.2.3.dist-info/RECORD"]).unwrap();
        let mut listed = 0;
        for line in record.lines() {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 3, "{line}");
            if fields[0].ends_with("/RECORD") {
                assert_eq!(fields[1..], ["", ""]);
                continue;
            }
            let data = &entries[fields[0]];
            assert_eq!(fields[1], format!("sha256={}", sha256_b64(data)));
            assert_eq!(fields[2], data.len().to_string());
            listed += 1;
        }
        assert_eq!(listed, entries.len() - 1, "every file but RECORD is listed");
    }

    #[test]
    fn payload_entries_are_stored_and_files_are_reproducible() {
        let dir1 = tempfile::tempdir().unwrap();
        let dir2 = tempfile::tempdir().unwrap();
        let project = Project::new("big", "1.0").with_payload("big/blob.bin", 100_000);
        let a = write_wheel(&project, dir1.path(), "py3").unwrap();
        let b = write_wheel(&project, dir2.path(), "py3").unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
        let mut archive = zip::ZipArchive::new(File::open(&a).unwrap()).unwrap();
        let blob = archive.by_name("big/blob.bin").unwrap();
        assert_eq!(blob.compression(), CompressionMethod::Stored);
        drop(blob);
        let init = archive.by_name("big/__init__.py").unwrap();
        assert_eq!(init.compression(), CompressionMethod::Deflated);

        let s1 = write_sdist(&project, dir1.path()).unwrap();
        let s2 = write_sdist(&project, dir2.path()).unwrap();
        assert_eq!(std::fs::read(&s1).unwrap(), std::fs::read(&s2).unwrap());
    }

    #[test]
    fn sdist_has_one_top_folder_with_pkg_info_and_sources() {
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new("Demo.Pkg", "2.0rc1").with_header("License-File", "COPYING");
        let path = write_sdist(&project, dir.path()).unwrap();
        assert_eq!(path.file_name().unwrap(), "demo_pkg-2.0rc1.tar.gz");
        let entries = tar_entries(&path);
        assert_eq!(
            std::str::from_utf8(&entries["demo_pkg-2.0rc1/PKG-INFO"]).unwrap(),
            project.metadata_text()
        );
        assert!(entries.contains_key("demo_pkg-2.0rc1/pyproject.toml"));
        assert!(entries.contains_key("demo_pkg-2.0rc1/COPYING"));
        assert!(entries.contains_key("demo_pkg-2.0rc1/demo_pkg/__init__.py"));
        assert!(entries.keys().all(|k| k.starts_with("demo_pkg-2.0rc1/")));
    }

    #[test]
    fn wheel_file_lists_every_tag_of_a_compressed_set() {
        let text = wheel_file_text("py2.py3-none-any").unwrap();
        assert!(text.contains("Tag: py2-none-any\nTag: py3-none-any\n"));
        assert!(wheel_file_text("py3-none").is_err());
    }

    /// python3 with pip: the test suite's prerequisite (`scripts/test` provides it). A test
    /// that cannot run it fails loudly rather than passing without checking anything.
    fn python3() -> &'static str {
        match Command::new("python3")
            .args(["-m", "pip", "--version"])
            .output()
        {
            Ok(out) if out.status.success() => "python3",
            Ok(out) => panic!(
                "python3 -m pip does not work ({}): run the tests through scripts/test, which \
                 puts .venv/bin (python3 with pip) first on PATH",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!(
                "python3 is not on PATH ({e}): run the tests through scripts/test, which puts \
                 .venv/bin first on PATH"
            ),
        }
    }

    #[test]
    fn pip_installs_the_wheel_and_python_imports_its_version() {
        let python = python3();
        let dir = tempfile::tempdir().unwrap();
        let project = Project::new("Testbed.Demo-Pkg", "3.1.4")
            .with_header("Requires-Python", ">=3.8")
            .with_header("License-Expression", "MIT")
            .with_header("License-File", "LICENSE")
            .with_payload("testbed_demo_pkg/data.bin", 4096);
        let wheel = write_wheel(&project, dir.path(), "py3").unwrap();
        let target = dir.path().join("site");
        let out = Command::new(python)
            .args(["-m", "pip", "install", "--no-index", "--no-deps", "--quiet"])
            .args(["--disable-pip-version-check", "--target"])
            .arg(&target)
            .arg(&wheel)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "pip install failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new(python)
            .env("PYTHONPATH", &target)
            .args([
                "-c",
                "import importlib.metadata as m, testbed_demo_pkg as p; \
                 print(p.__version__, m.version('testbed.demo-pkg'))",
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "import failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "3.1.4 3.1.4");
        let data = std::fs::read(target.join("testbed_demo_pkg/data.bin")).unwrap();
        assert_eq!(data.len(), 4096);
    }
}
