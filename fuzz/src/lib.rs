//! What the fuzz targets share: a scratch folder for the APIs that read files, and the
//! invariant that messages built from hostile input stay inert.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One scratch folder per process, reused for every input: writing one file costs far less
/// than creating a folder per input. It lives in `TMPDIR`, which `scripts/fuzz` points at a
/// folder it removes afterwards (libFuzzer exits without running destructors).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("fuzz-")
            .tempdir()
            .expect("cannot create a scratch folder in TMPDIR");
        dir.keep()
    })
}

/// Writes `bytes` to `name` in the scratch folder and returns its path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(name);
    std::fs::write(&path, bytes).expect("cannot write the scratch file");
    path
}

/// A message shown to the user (log line, annotation, error) built from hostile input must
/// not carry a character that could end the line and start a workflow command: the crate's
/// rule is that outside values are interpolated through `inert::shown` (`reporting::shown`
/// in the command layer) or `{:?}`.
pub fn assert_inert(message: &str) {
    let bad = message
        .chars()
        .find(|&c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'));
    assert!(
        bad.is_none(),
        "message carries the raw character {bad:?}: {message:?}"
    );
}
