//! An artifact zip downloaded from GitHub, vetted and extracted by `artifacts::extract`:
//! nothing lands outside the extraction folder, what is reported written is a regular file
//! inside it with the reported sha256, and refusals never panic.
#![no_main]

use std::fs;
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use pypi_oidc_publish::github::artifacts::extract;
use pypi_oidc_publish_fuzz::{scratch, scratch_file};

/// Every path under `dir`, without following symbolic links.
fn walk(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        out.push(path.clone());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            walk(&path, out);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let zip = scratch_file("artifact.zip", data);
    let out = scratch().join("out");
    if out.exists() {
        fs::remove_dir_all(&out).expect("cannot clear the extraction folder");
    }
    let result = extract(&zip, &out);

    let mut everything = Vec::new();
    walk(scratch(), &mut everything);
    for path in &everything {
        assert!(
            *path == zip || path.starts_with(&out),
            "{path:?} was written outside the extraction folder"
        );
        let meta = fs::symlink_metadata(path).expect("a path just listed");
        assert!(
            !meta.file_type().is_symlink(),
            "{path:?} is a symbolic link"
        );
    }
    if let Ok(written) = result {
        for (path, sha256) in written {
            assert!(
                path.starts_with(&out),
                "{path:?} is reported outside {out:?}"
            );
            let meta = fs::symlink_metadata(&path).expect("a reported file exists");
            assert!(meta.is_file(), "{path:?} is not a regular file");
            assert_eq!(sha256.len(), 64);
        }
    }
});
