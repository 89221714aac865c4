//! Checks of [`collect`] and [`Distribution::form_fields`] on real wheels and sdists built by
//! the testbed, including deliberately broken ones.

use std::fs;
use std::io::Write;
use std::path::PathBuf;

use testbed::dists::{
    write_sdist, write_sdist_named, write_tar_gz, write_wheel, write_wheel_named, write_zip,
    Project,
};

use super::*;

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn problems(paths: &[PathBuf]) -> Vec<Problem> {
    match collect(paths) {
        Ok((release, _)) => panic!("expected problems, got a release: {release:#?}"),
        Err(failure) => failure.problems,
    }
}

/// Asserts that some problem of the file named `file` contains `needle`.
fn assert_problem(problems: &[Problem], file: &str, needle: &str) {
    let found = problems
        .iter()
        .any(|p| p.path.file_name().is_some_and(|n| n == file) && p.message.contains(needle));
    assert!(
        found,
        "no problem for {file} containing {needle:?} in {problems:#?}"
    );
}

fn demo() -> Project {
    Project::new("Demo.Pkg", "1.0")
}

#[test]
fn a_folder_of_wheels_and_an_sdist_makes_one_sorted_release() {
    let dir = tempdir();
    let project = demo();
    let sdist = write_sdist(&project, dir.path()).unwrap();
    let py3 = write_wheel(&project, dir.path(), "py3").unwrap();
    let both = write_wheel(&project, dir.path(), "py2.py3").unwrap();
    fs::write(dir.path().join("demo_pkg-1.0.tar.gz.asc"), "sig").unwrap();
    fs::write(
        dir.path().join("demo_pkg-1.0-py3-none-any.whl.metadata"),
        "x",
    )
    .unwrap();
    fs::write(dir.path().join("build.log"), "log").unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    write_wheel(&Project::new("other", "9"), &dir.path().join("sub"), "py3").unwrap();

    let (release, skipped) = collect(&[dir.path().to_path_buf()]).unwrap();
    assert_eq!(release.name, "Demo.Pkg");
    assert_eq!(release.normalized_name, "demo-pkg");
    assert_eq!(release.version, "1.0");
    let names: Vec<&str> = release
        .distributions
        .iter()
        .map(|d| d.filename.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "demo_pkg-1.0-py2.py3-none-any.whl",
            "demo_pkg-1.0-py3-none-any.whl",
            "demo_pkg-1.0.tar.gz"
        ]
    );
    let d = &release.distributions;
    assert_eq!(
        (d[0].kind, d[0].pyversion.as_str()),
        (DistKind::Wheel, "py2.py3")
    );
    assert_eq!(
        (d[1].kind, d[1].pyversion.as_str()),
        (DistKind::Wheel, "py3")
    );
    assert_eq!(
        (d[2].kind, d[2].pyversion.as_str()),
        (DistKind::Sdist, "source")
    );
    assert_eq!(d[0].path, both);
    assert_eq!(d[1].path, py3);
    assert_eq!(d[2].path, sdist);
    assert_eq!(d[2].size, fs::metadata(&sdist).unwrap().len());
    assert_eq!(d[1].metadata.name, "Demo.Pkg");
    assert_eq!(DistKind::Wheel.filetype(), "bdist_wheel");
    assert_eq!(DistKind::Sdist.filetype(), "sdist");

    let skipped: Vec<(String, &str)> = skipped
        .iter()
        .map(|s| {
            let name = s.path.file_name().unwrap().to_string_lossy().into_owned();
            (name, s.reason.as_str())
        })
        .collect();
    assert_eq!(skipped.len(), 4, "{skipped:#?}");
    assert!(skipped.contains(&("build.log".into(), "not a wheel (.whl) or sdist (.tar.gz)")));
    assert!(skipped
        .iter()
        .any(|(n, r)| n == "demo_pkg-1.0.tar.gz.asc" && r.contains("signature")));
    assert!(skipped
        .iter()
        .any(|(n, r)| n.ends_with(".whl.metadata") && r.contains("PEP 658")));
    assert!(skipped
        .iter()
        .any(|(n, r)| n == "sub" && r.contains("a folder; only files directly in")));
}

#[test]
fn named_files_and_folders_combine_and_one_file_counts_once() {
    let dir = tempdir();
    let wheel = write_wheel(&demo(), dir.path(), "py3").unwrap();
    let other = tempdir();
    let sdist = write_sdist(&demo(), other.path()).unwrap();
    let (release, skipped) =
        collect(&[dir.path().to_path_buf(), wheel.clone(), sdist.clone()]).unwrap();
    assert!(skipped.is_empty());
    let paths: Vec<&PathBuf> = release.distributions.iter().map(|d| &d.path).collect();
    assert_eq!(paths, [&wheel, &sdist]);
}

#[test]
fn two_files_with_one_name_are_refused() {
    let a = tempdir();
    let b = tempdir();
    write_wheel(&demo(), a.path(), "py3").unwrap();
    write_wheel(&demo(), b.path(), "py3").unwrap();
    let found = problems(&[a.path().to_path_buf(), b.path().to_path_buf()]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(found[0].path.starts_with(b.path()));
    assert!(found[0].message.contains("has the same file name as"));
}

#[test]
fn a_named_file_that_is_not_a_distribution_is_an_error() {
    let dir = tempdir();
    let notes = dir.path().join("notes.txt");
    fs::write(&notes, "hi").unwrap();
    let found = problems(std::slice::from_ref(&notes));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, notes);
    assert!(found[0].message.contains("is not a Python distribution"));
    assert!(found[0]
        .message
        .contains("name wheels (.whl) and sdists (.tar.gz)"));
}

#[test]
fn legacy_formats_are_refused_even_inside_a_folder() {
    let dir = tempdir();
    write_wheel(&demo(), dir.path(), "py3").unwrap();
    for name in [
        "demo_pkg-1.0.zip",
        "demo_pkg-1.0.tar.bz2",
        "demo_pkg-1.0-py3.11.egg",
        "demo_pkg-1.0.win32.exe",
    ] {
        fs::write(dir.path().join(name), "legacy").unwrap();
    }
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 4, "{found:#?}");
    for (file, what) in [
        ("demo_pkg-1.0.zip", "is a .zip sdist"),
        ("demo_pkg-1.0.tar.bz2", "is a .tar.bz2 sdist"),
        ("demo_pkg-1.0-py3.11.egg", "is an egg"),
        ("demo_pkg-1.0.win32.exe", "is a Windows installer"),
    ] {
        assert_problem(&found, file, what);
        assert_problem(&found, file, "a format PyPI no longer accepts");
        assert_problem(&found, file, "or remove it from");
    }
    let named = dir.path().join("demo_pkg-1.0.zip");
    let found = problems(&[named]);
    assert!(!found[0].message.contains("remove it from"));
}

#[test]
fn nothing_to_publish_says_where_it_looked() {
    let dir = tempdir();
    fs::write(dir.path().join("README.txt"), "x").unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, dir.path());
    assert!(found[0].message.starts_with("nothing to publish"));
    assert!(found[0].message.contains("(1 other entries were skipped)"));
    let found = problems(&[]);
    assert!(found[0].message.contains("no paths were given"));
}

#[test]
fn a_missing_path_is_named() {
    let dir = tempdir();
    let missing = dir.path().join("dist");
    let found = problems(std::slice::from_ref(&missing));
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].path, missing);
    assert!(found[0]
        .message
        .starts_with("does not exist: check the path"));
}

#[test]
fn wheel_file_name_grammar_problems_are_all_reported() {
    let dir = tempdir();
    let good = write_wheel(&demo(), dir.path(), "py3").unwrap();
    let bytes = fs::read(&good).unwrap();
    fs::remove_file(&good).unwrap();
    fs::write(dir.path().join("demo_pkg-1.0.whl"), &bytes).unwrap();
    fs::write(dir.path().join("demo_pkg-1.0-abc-py3-none-any.whl"), &bytes).unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(&found, "demo_pkg-1.0.whl", "is not a valid wheel file name");
    assert_problem(
        &found,
        "demo_pkg-1.0-abc-py3-none-any.whl",
        "the build tag \"abc\" must start with a digit",
    );
}

#[test]
fn wheel_names_must_hold_the_normalised_project_name() {
    let dir = tempdir();
    write_wheel_named(
        &Project::new("Demo.Pkg", "1.0"),
        dir.path(),
        "Demo.Pkg-1.0-py3-none-any.whl",
        "Demo.Pkg-1.0.dist-info",
        "py3-none-any",
    )
    .unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_problem(
        &found,
        "Demo.Pkg-1.0-py3-none-any.whl",
        "PyPI requires the normalised project name \"demo_pkg\" in wheel file names",
    );
}

#[test]
fn a_renamed_wheel_disagrees_with_its_metadata() {
    let dir = tempdir();
    let wheel = write_wheel(&demo(), dir.path(), "py3").unwrap();
    fs::rename(&wheel, dir.path().join("demo_pkg-1.1-py3-none-any.whl")).unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    let file = "demo_pkg-1.1-py3-none-any.whl";
    assert_problem(
        &found,
        file,
        "holds demo_pkg-1.0.dist-info/ but PyPI reads the metadata from demo_pkg-1.1.dist-info/",
    );
    assert_problem(
        &found,
        file,
        "the file name says version 1.1 but demo_pkg-1.0.dist-info/METADATA says Version 1.0",
    );

    let dir = tempdir();
    write_wheel_named(
        &demo(),
        dir.path(),
        "other-1.0-py3-none-any.whl",
        "other-1.0.dist-info",
        "py3-none-any",
    )
    .unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(
        &found,
        "other-1.0-py3-none-any.whl",
        "the file name is for project \"other\" but other-1.0.dist-info/METADATA says Name \
         \"Demo.Pkg\"",
    );
}

#[test]
fn platform_tags_pypi_refuses_stop_the_release() {
    let dir = tempdir();
    write_wheel_named(
        &demo(),
        dir.path(),
        "demo_pkg-1.0-cp311-cp311-linux_x86_64.whl",
        "demo_pkg-1.0.dist-info",
        "cp311-cp311-linux_x86_64",
    )
    .unwrap();
    write_wheel_named(
        &demo(),
        dir.path(),
        "demo_pkg-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "demo_pkg-1.0.dist-info",
        "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    )
    .unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_problem(
        &found,
        "demo_pkg-1.0-cp311-cp311-linux_x86_64.whl",
        "the platform tag \"linux_x86_64\" is not one PyPI accepts",
    );
}

#[test]
fn corrupt_and_truncated_wheels_are_named() {
    let dir = tempdir();
    let good = write_wheel(
        &demo().with_payload("demo_pkg/data.bin", 200_000),
        dir.path(),
        "py3",
    )
    .unwrap();
    let bytes = fs::read(&good).unwrap();
    fs::remove_file(&good).unwrap();

    fs::write(
        dir.path().join("a-1.0-py3-none-any.whl"),
        b"not a zip at all",
    )
    .unwrap();
    fs::write(
        dir.path().join("b-1.0-py3-none-any.whl"),
        &bytes[..bytes.len() / 2],
    )
    .unwrap();
    let mut trailing = bytes.clone();
    trailing.extend_from_slice(b"extra bytes");
    fs::write(dir.path().join("c-1.0-py3-none-any.whl"), &trailing).unwrap();
    let mut descriptor = bytes.clone();
    descriptor[6] |= 0x08;
    fs::write(dir.path().join("d-1.0-py3-none-any.whl"), &descriptor).unwrap();

    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(
        &found,
        "a-1.0-py3-none-any.whl",
        "is not a readable zip archive",
    );
    assert_problem(
        &found,
        "b-1.0-py3-none-any.whl",
        "may be truncated or corrupt",
    );
    assert_problem(
        &found,
        "c-1.0-py3-none-any.whl",
        "11 bytes of trailing data follow the end of the archive",
    );
    assert_problem(
        &found,
        "d-1.0-py3-none-any.whl",
        "entry \"demo_pkg/__init__.py\" uses a data descriptor",
    );
}

#[test]
fn a_wheel_holds_exactly_one_dist_info_with_metadata_wheel_and_record() {
    let metadata = demo().metadata_text();
    let m = metadata.as_bytes();
    let wheel = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n".as_slice();
    let dir = tempdir();
    let at = |name: &str| dir.path().join(format!("{name}-1.0-py3-none-any.whl"));
    write_zip(&at("a"), &[("a/__init__.py", b"")]).unwrap();
    write_zip(
        &at("b"),
        &[
            ("b-1.0.dist-info/METADATA", m),
            ("c-1.0.dist-info/METADATA", m),
        ],
    )
    .unwrap();
    write_zip(
        &at("c"),
        &[
            ("c-1.0.dist-info/WHEEL", wheel),
            ("c-1.0.dist-info/RECORD", b""),
        ],
    )
    .unwrap();
    write_zip(
        &at("d"),
        &[
            ("d-1.0.dist-info/METADATA", m),
            ("d-1.0.dist-info/WHEEL", wheel),
        ],
    )
    .unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(
        &found,
        "a-1.0-py3-none-any.whl",
        "holds no .dist-info folder",
    );
    assert_problem(
        &found,
        "b-1.0-py3-none-any.whl",
        "holds 2 .dist-info folders (b-1.0.dist-info, c-1.0.dist-info)",
    );
    assert_problem(
        &found,
        "c-1.0-py3-none-any.whl",
        "has no c-1.0.dist-info/METADATA",
    );
    assert_problem(
        &found,
        "d-1.0-py3-none-any.whl",
        "has no d-1.0.dist-info/RECORD, which PyPI requires",
    );
}

/// Asserts that no problem message carries a raw control character.
fn assert_inert(problems: &[Problem]) {
    for p in problems {
        assert!(
            !p.message
                .contains(|c: char| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')),
            "{:?}",
            p.message
        );
    }
}

/// Found by `fuzz/fuzz_targets/wheel.rs`: folder names from the archive went into messages
/// as written.
#[test]
fn archive_folder_names_in_messages_keep_control_characters_escaped() {
    let metadata = demo().metadata_text();
    let dir = tempdir();
    let two = dir.path().join("demo_pkg-1.0-py3-none-any.whl");
    write_zip(
        &two,
        &[
            ("demo_pkg-1.0.dist-info/METADATA", metadata.as_bytes()),
            ("demo-c\0X\n::error::x.dist-info/WHEEL", b""),
        ],
    )
    .unwrap();
    let found = problems(std::slice::from_ref(&two));
    assert_problem(
        &found,
        "demo_pkg-1.0-py3-none-any.whl",
        "(demo-c\\u{0}X\\n::error::x.dist-info, demo_pkg-1.0.dist-info), a wheel",
    );
    assert_inert(&found);

    let one = dir.path().join("demo_pkg-2.0-py3-none-any.whl");
    let metadata = Project::new("Demo.Pkg", "2.0").metadata_text();
    write_zip(&one, &[("x\r\n.dist-info/METADATA", metadata.as_bytes())]).unwrap();
    let found = problems(std::slice::from_ref(&one));
    assert_problem(
        &found,
        "demo_pkg-2.0-py3-none-any.whl",
        "holds x\\r\\n.dist-info/ but PyPI reads",
    );
    assert_inert(&found);
}

/// Found by `fuzz/fuzz_targets/sdist.rs`: tar's message about a bad header field quotes the
/// field and the member name.
#[test]
fn tar_header_errors_keep_control_characters_escaped() {
    let mut header = [0u8; 512];
    let name = b"demo_pkg-1.0/\nPKG";
    header[..name.len()].copy_from_slice(name);
    // The checksum field, which tar parses as octal.
    header[148..156].copy_from_slice(b"\n::x::\n ");
    let mut tar = header.to_vec();
    tar.extend_from_slice(&[0u8; 1024]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).unwrap();
    let dir = tempdir();
    let sdist = dir.path().join("demo_pkg-1.0.tar.gz");
    fs::write(&sdist, gz.finish().unwrap()).unwrap();
    let found = problems(std::slice::from_ref(&sdist));
    assert_problem(
        &found,
        "demo_pkg-1.0.tar.gz",
        "is a corrupt or truncated archive",
    );
    assert_inert(&found);
}

#[test]
fn zip64_wheels_pass_the_structure_check() {
    use zip::write::SimpleFileOptions;
    let dir = tempdir();
    let path = dir.path().join("demo_pkg-1.0-py3-none-any.whl");
    let mut zip = zip::ZipWriter::new(fs::File::create(&path).unwrap());
    let options = SimpleFileOptions::default().large_file(true);
    let metadata = demo().metadata_text();
    for (name, data) in [
        ("demo_pkg/__init__.py", "__version__ = '1.0'\n"),
        ("demo_pkg-1.0.dist-info/METADATA", metadata.as_str()),
        ("demo_pkg-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\n"),
        ("demo_pkg-1.0.dist-info/RECORD", ""),
    ] {
        zip.start_file(name, options).unwrap();
        zip.write_all(data.as_bytes()).unwrap();
    }
    zip.finish().unwrap();
    let (release, _) = collect(&[path]).unwrap();
    assert_eq!(release.distributions.len(), 1);
}

#[test]
fn sdist_names_follow_pep_625_as_pypi_enforces() {
    let dir = tempdir();
    let project = Project::new("Foo.Bar", "1.0");
    write_sdist_named(&project, dir.path(), "Foo.Bar-1.0.tar.gz", "Foo.Bar-1.0").unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_problem(
        &found,
        "Foo.Bar-1.0.tar.gz",
        "PyPI requires the sdist file name \"foo_bar-1.0.tar.gz\" (PEP 625",
    );

    let dir = tempdir();
    let project = Project::new("foo", "1.0.0-RC1");
    write_sdist_named(
        &project,
        dir.path(),
        "foo-1.0.0-RC1.tar.gz",
        "foo-1.0.0-RC1",
    )
    .unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_problem(&found, "foo-1.0.0-RC1.tar.gz", "\"foo-1.0.0rc1.tar.gz\"");
}

#[test]
fn sdist_archives_are_checked() {
    let dir = tempdir();
    let project = demo();
    let pkg_info = project.metadata_text();
    let good = write_sdist(&project, dir.path()).unwrap();
    let bytes = fs::read(&good).unwrap();
    fs::remove_file(&good).unwrap();
    let at = |name: &str| dir.path().join(format!("{name}-1.0.tar.gz"));

    fs::write(at("plain"), b"a plain tar is not gzip").unwrap();
    fs::write(at("cut"), &bytes[..bytes.len() - 40]).unwrap();
    write_tar_gz(
        &at("two"),
        &[
            ("two-1.0/PKG-INFO", pkg_info.as_bytes()),
            ("stray.txt", b"x"),
        ],
    )
    .unwrap();
    write_tar_gz(&at("none"), &[("none-1.0/setup.py", b"")]).unwrap();
    write_tar_gz(&at("empty"), &[]).unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(&found, "plain-1.0.tar.gz", "is not gzip-compressed");
    assert_problem(
        &found,
        "cut-1.0.tar.gz",
        "is a corrupt or truncated archive",
    );
    assert_problem(
        &found,
        "two-1.0.tar.gz",
        "has 2 top-level entries (stray.txt, two-1.0), but an sdist holds a single folder",
    );
    assert_problem(&found, "none-1.0.tar.gz", "has no none-1.0/PKG-INFO");
    assert_problem(&found, "empty-1.0.tar.gz", "is an empty archive");
}

#[test]
fn an_sdist_whose_content_is_another_release_is_refused() {
    let dir = tempdir();
    let project = Project::new("demo", "2.0");
    write_sdist_named(&project, dir.path(), "demo-1.0.tar.gz", "demo-1.0").unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(
        &found,
        "demo-1.0.tar.gz",
        "requires the sdist file name \"demo-2.0.tar.gz\"",
    );
    assert_problem(
        &found,
        "demo-1.0.tar.gz",
        "its top-level folder demo-1.0/ does not name demo 2.0 as demo-1.0/PKG-INFO does",
    );
}

#[test]
fn metadata_problems_name_the_member_they_come_from() {
    let dir = tempdir();
    let mut future = Project::new("future", "1.0");
    future.metadata_version = "3.0".into();
    write_wheel(&future, dir.path(), "py3").unwrap();
    write_wheel(&Project::new("local", "1.0+abc"), dir.path(), "py3").unwrap();
    let mut none = Project::new("none", "1.0");
    none.metadata_version = String::new();
    write_sdist(&none, dir.path()).unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_problem(
        &found,
        "future-1.0-py3-none-any.whl",
        "future-1.0.dist-info/METADATA: Metadata-Version 3.0 is a new major version",
    );
    assert_problem(
        &found,
        "future-1.0-py3-none-any.whl",
        "upgrade pypi-oidc-publish",
    );
    assert_problem(
        &found,
        "local-1.0+abc-py3-none-any.whl",
        "local version label ('+...'), which PyPI refuses",
    );
    assert_problem(
        &found,
        "none-1.0.tar.gz",
        "none-1.0/PKG-INFO has no Metadata-Version header",
    );
}

#[test]
fn one_run_is_one_project_one_version_and_one_sdist() {
    let dir = tempdir();
    write_wheel(&demo(), dir.path(), "py3").unwrap();
    write_wheel(&Project::new("other", "1.0"), dir.path(), "py3").unwrap();
    write_sdist(&Project::new("Demo.Pkg", "2.0"), dir.path()).unwrap();
    write_sdist(&demo(), dir.path()).unwrap();
    write_sdist(&Project::new("Demo.Pkg", "1.0.0"), dir.path()).unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert_problem(
        &found,
        "other-1.0-py3-none-any.whl",
        "is other 1.0 but demo_pkg-1.0-py3-none-any.whl is demo-pkg 1.0: one run publishes one \
         release, so this is another project",
    );
    assert_problem(&found, "demo_pkg-2.0.tar.gz", "this is another version");
    assert_problem(
        &found,
        "demo_pkg-1.0.tar.gz",
        "is a second sdist besides demo_pkg-1.0.0.tar.gz",
    );
    assert_problem(
        &found,
        "demo_pkg-2.0.tar.gz",
        "is a second sdist besides demo_pkg-1.0.0.tar.gz",
    );
}

#[test]
fn several_projects_make_one_release_each() {
    let dir = tempdir();
    let plugin = Project::new("demo-plugin", "0.3");
    write_wheel(&plugin, dir.path(), "py3").unwrap();
    write_sdist(&plugin, dir.path()).unwrap();
    write_wheel(&demo(), dir.path(), "py3").unwrap();
    write_sdist(&demo(), dir.path()).unwrap();
    let (releases, _) = collect_releases(&[dir.path().to_path_buf()]).unwrap();
    let found: Vec<_> = releases
        .iter()
        .map(|r| {
            let files: Vec<_> = r
                .distributions
                .iter()
                .map(|d| d.filename.as_str())
                .collect();
            (r.name.as_str(), r.version.as_str(), files)
        })
        .collect();
    assert_eq!(
        found,
        vec![
            (
                "Demo.Pkg",
                "1.0",
                vec!["demo_pkg-1.0-py3-none-any.whl", "demo_pkg-1.0.tar.gz"]
            ),
            (
                "demo-plugin",
                "0.3",
                vec!["demo_plugin-0.3-py3-none-any.whl", "demo_plugin-0.3.tar.gz"]
            ),
        ]
    );
    // The one-release reading still refuses the second project.
    assert_problem(
        &problems(&[dir.path().to_path_buf()]),
        "demo_plugin-0.3-py3-none-any.whl",
        "this is another project",
    );
}

#[test]
fn several_projects_still_one_version_and_one_sdist_each() {
    let dir = tempdir();
    write_wheel(&demo(), dir.path(), "py3").unwrap();
    write_wheel(&Project::new("other", "1.0"), dir.path(), "py3").unwrap();
    write_sdist(&Project::new("other", "1.0"), dir.path()).unwrap();
    write_sdist(&Project::new("Demo.Pkg", "2.0"), dir.path()).unwrap();
    write_sdist(&demo(), dir.path()).unwrap();
    let found = match collect_releases(&[dir.path().to_path_buf()]) {
        Ok((releases, _)) => panic!("expected problems, got {releases:#?}"),
        Err(failure) => failure.problems,
    };
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_problem(
        &found,
        "demo_pkg-2.0.tar.gz",
        "is demo-pkg 2.0 but demo_pkg-1.0-py3-none-any.whl is demo-pkg 1.0: several versions \
         of one project in one publish are refused",
    );
    assert_problem(
        &found,
        "demo_pkg-2.0.tar.gz",
        "is a second sdist besides demo_pkg-1.0.tar.gz",
    );
}

#[test]
fn license_files_must_ship_in_the_archives() {
    let dir = tempdir();
    let project = demo().with_header("License-File", "LICENSE");
    let text = project.metadata_text();
    let record = b"".as_slice();
    write_zip(
        &dir.path().join("demo_pkg-1.0-py3-none-any.whl"),
        &[
            ("demo_pkg-1.0.dist-info/METADATA", text.as_bytes()),
            ("demo_pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
            ("demo_pkg-1.0.dist-info/RECORD", record),
            ("demo_pkg-1.0.dist-info/LICENSE", b"not in licenses/"),
        ],
    )
    .unwrap();
    write_tar_gz(
        &dir.path().join("demo_pkg-1.0.tar.gz"),
        &[("demo_pkg-1.0/PKG-INFO", text.as_bytes())],
    )
    .unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_problem(
        &found,
        "demo_pkg-1.0-py3-none-any.whl",
        "lists License-File \"LICENSE\" but the wheel has no \
         demo_pkg-1.0.dist-info/licenses/LICENSE",
    );
    assert_problem(
        &found,
        "demo_pkg-1.0.tar.gz",
        "lists License-File \"LICENSE\" but the sdist has no demo_pkg-1.0/LICENSE",
    );
    // Both are shipped by the builders, which is what a real backend does.
    let ok = tempdir();
    write_wheel(&project, ok.path(), "py3").unwrap();
    write_sdist(&project, ok.path()).unwrap();
    assert!(collect(&[ok.path().to_path_buf()]).is_ok());
}

fn release_of(project: &Project) -> (tempfile::TempDir, Release) {
    let dir = tempdir();
    write_wheel(project, dir.path(), "py3").unwrap();
    write_sdist(project, dir.path()).unwrap();
    let (release, _) = collect(&[dir.path().to_path_buf()]).unwrap();
    (dir, release)
}

fn owned(fields: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
}

#[test]
fn form_fields_carry_metadata_2_4_and_repeated_fields() {
    let mut project = Project::new("Demo.Pkg", "1.0");
    project.extra_headers = vec![
        ("Summary".into(), "A demo".into()),
        ("Keywords".into(), "alpha,beta , gamma,".into()),
        ("Author-email".into(), "Ada <ada@example.org>".into()),
        ("License-Expression".into(), "MIT OR Apache-2.0".into()),
        ("License-File".into(), "LICENSE-MIT".into()),
        ("License-File".into(), "LICENSE-APACHE".into()),
        (
            "Classifier".into(),
            "Programming Language :: Python :: 3".into(),
        ),
        ("Classifier".into(), "Typing :: Typed".into()),
        ("Requires-Dist".into(), "requests>=2".into()),
        ("Requires-Dist".into(), "rich; extra == \"cli\"".into()),
        ("Requires-Python".into(), ">=3.9".into()),
        (
            "Project-URL".into(),
            "Source, https://example.org/src".into(),
        ),
        (
            "Project-URL".into(),
            "Issues, https://example.org/issues".into(),
        ),
        ("Provides-Extra".into(), "cli".into()),
        ("Dynamic".into(), "Classifier".into()),
        ("Description-Content-Type".into(), "text/markdown".into()),
        ("X-Unknown".into(), "dropped".into()),
    ];
    project.description = "# Demo\n\n    indented code\n".into();
    let (_dir, release) = release_of(&project);
    let wheel = &release.distributions[0];
    assert_eq!(
        wheel.form_fields(),
        owned(&[
            ("metadata_version", "2.4"),
            ("name", "Demo.Pkg"),
            ("version", "1.0"),
            ("filetype", "bdist_wheel"),
            ("pyversion", "py3"),
            ("summary", "A demo"),
            ("description", "# Demo\n\n    indented code\n"),
            ("description_content_type", "text/markdown"),
            ("keywords", "alpha, beta, gamma"),
            ("author_email", "Ada <ada@example.org>"),
            ("license_expression", "MIT OR Apache-2.0"),
            ("requires_python", ">=3.9"),
            ("classifiers", "Programming Language :: Python :: 3"),
            ("classifiers", "Typing :: Typed"),
            ("requires_dist", "requests>=2"),
            ("requires_dist", "rich; extra == \"cli\""),
            ("project_urls", "Source, https://example.org/src"),
            ("project_urls", "Issues, https://example.org/issues"),
            ("provides_extra", "cli"),
            ("dynamic", "Classifier"),
            ("license_file", "LICENSE-MIT"),
            ("license_file", "LICENSE-APACHE"),
        ])
    );
    let sdist = &release.distributions[1];
    let fields = sdist.form_fields();
    assert_eq!(fields[3], ("filetype", "sdist".to_owned()));
    assert_eq!(fields[4], ("pyversion", "source".to_owned()));
    assert_eq!(fields[5..], wheel.form_fields()[5..]);
}

#[test]
fn form_fields_carry_metadata_2_5_import_names_and_legacy_fields() {
    let mut project = Project::new("demo", "1.0");
    project.metadata_version = "2.5".into();
    project.extra_headers = vec![
        ("Import-Name".into(), "demo".into()),
        ("Import-Name".into(), "demo._impl; private".into()),
        ("Import-Namespace".into(), "demo_ns".into()),
        ("Platform".into(), "Linux".into()),
        ("Supported-Platform".into(), "RedHat 8".into()),
        ("Requires".into(), "os".into()),
        ("Provides".into(), "demo".into()),
        ("Obsoletes".into(), "olddemo".into()),
        ("Provides-Dist".into(), "demo".into()),
        ("Obsoletes-Dist".into(), "olddemo".into()),
        ("Requires-External".into(), "libpng (>=1.5)".into()),
        ("Maintainer".into(), "Bob".into()),
        ("Maintainer-email".into(), "bob@example.org".into()),
        ("Author".into(), "Ada".into()),
        ("Home-page".into(), "https://example.org".into()),
        ("Download-URL".into(), "https://example.org/dl".into()),
    ];
    project.description = String::new();
    let (_dir, release) = release_of(&project);
    let fields = release.distributions[0].form_fields();
    assert_eq!(
        fields[5..],
        owned(&[
            ("home_page", "https://example.org"),
            ("download_url", "https://example.org/dl"),
            ("author", "Ada"),
            ("maintainer", "Bob"),
            ("maintainer_email", "bob@example.org"),
            ("platform", "Linux"),
            ("supported_platform", "RedHat 8"),
            ("requires", "os"),
            ("provides", "demo"),
            ("obsoletes", "olddemo"),
            ("provides_dist", "demo"),
            ("obsoletes_dist", "olddemo"),
            ("requires_external", "libpng (>=1.5)"),
            ("import_name", "demo"),
            ("import_name", "demo._impl; private"),
            ("import_namespace", "demo_ns"),
        ])
    );
}

#[test]
fn form_fields_leave_out_empty_placeholder_and_pre_2_4_license_files() {
    let mut project = Project::new("old", "0.1");
    project.metadata_version = "2.1".into();
    project.extra_headers = vec![
        ("Summary".into(), "".into()),
        ("Platform".into(), "UNKNOWN".into()),
        ("License-File".into(), "LICENSE".into()),
        ("License".into(), "BSD".into()),
        (
            "Description".into(),
            "Old style\n        |  kept indent\n        |".into(),
        ),
    ];
    project.description = String::new();
    let (_dir, release) = release_of(&project);
    assert_eq!(
        release.distributions[0].form_fields()[5..],
        owned(&[
            ("description", "Old style\n  kept indent"),
            ("license", "BSD"),
        ])
    );
}

#[test]
fn check_failure_lists_every_problem_of_every_file_one_per_line() {
    let dir = tempdir();
    fs::write(dir.path().join("a-1.0-py3-none-any.whl"), b"junk").unwrap();
    fs::write(dir.path().join("b-1.0.tar.gz"), b"junk").unwrap();
    fs::write(dir.path().join("c-1.0.zip"), b"junk").unwrap();
    let failure = collect(&[dir.path().to_path_buf()]).unwrap_err();
    assert_eq!(failure.problems.len(), 3, "{failure}");
    let text = failure.to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    for (line, problem) in lines.iter().zip(&failure.problems) {
        assert_eq!(
            *line,
            format!("{}: {}", problem.path.display(), problem.message)
        );
    }
    let as_error: &dyn std::error::Error = &failure;
    assert!(as_error.to_string().contains("c-1.0.zip: is a .zip sdist"));
}

#[test]
fn builders_output_is_what_collect_accepts_for_many_names() {
    for (name, version) in [
        ("a", "0"),
        ("Zope.Interface", "5.4.0.post1"),
        ("my__pkg", "1!2.0.dev3"),
        ("x-y-z", "10.0a1"),
    ] {
        let (_dir, release) = release_of(&Project::new(name, version));
        assert_eq!(release.name, name);
        assert_eq!(release.distributions.len(), 2);
    }
}

#[test]
fn members_that_would_escape_the_install_folder_are_refused() {
    let dir = tempdir();
    let project = demo();
    let text = project.metadata_text();
    write_zip(
        &dir.path().join("demo_pkg-1.0-py3-none-any.whl"),
        &[
            ("../evil.py", b"".as_slice()),
            ("demo_pkg-1.0.dist-info/METADATA", text.as_bytes()),
            ("demo_pkg-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n"),
            ("demo_pkg-1.0.dist-info/RECORD", b""),
        ],
    )
    .unwrap();
    let sdist = dir.path().join("demo_pkg-1.0.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        fs::File::create(&sdist).unwrap(),
        flate2::Compression::default(),
    );
    let mut tar = tar::Builder::new(gz);
    for (name, data) in [
        ("demo_pkg-1.0/PKG-INFO".as_bytes(), text.as_bytes()),
        (b"/etc/evil".as_slice(), b"x".as_slice()),
    ] {
        let mut header = tar::Header::new_old();
        header.as_old_mut().name[..name.len()].copy_from_slice(name);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append(&header, data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap();
    let found = problems(&[dir.path().to_path_buf()]);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_problem(
        &found,
        "demo_pkg-1.0-py3-none-any.whl",
        "entry \"../evil.py\" has an absolute path or a '..' component",
    );
    assert_problem(
        &found,
        "demo_pkg-1.0.tar.gz",
        "holds 1 member(s) with an absolute path or a '..' component (first: \"/etc/evil\")",
    );
}
