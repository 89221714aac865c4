//! The record step's readers: the `published` JSON and a `releases__packagerelease_*.json`
//! fixture, through the public `record::run`, plus the Python-compatible JSON writer.
//!
//! Input: one flag byte (bit 0 `--create`, bit 1 `--dry-run`), then the published JSON and
//! the fixture text separated by a 0xFF byte (never part of UTF-8 text).
//!
//! Invariants: nothing panics; files are written only inside the fixtures folder; a record
//! written once is already there the second time (the run is idempotent); JSON rendered the
//! way Python writes it reads back as the same value.
#![no_main]

use std::fs;

use libfuzzer_sys::fuzz_target;
use pypi_oidc_publish::record::{self, pyjson, RecordArgs, RecordOutcome};
use pypi_oidc_publish_fuzz::scratch;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (published, fixture) = match rest.iter().position(|&b| b == 0xff) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, &[][..]),
    };
    let published = String::from_utf8_lossy(published).into_owned();
    // Anything else is read as a path, and a fuzzed path may be /dev/zero.
    if !published.trim_start().starts_with('[') {
        return;
    }

    if let Ok(text) = std::str::from_utf8(fixture) {
        if let Ok(value) = serde_json::from_str::<Value>(text) {
            if pyjson::first_inexact_integer(text).is_none() {
                let rendered = pyjson::dumps_indent2(&value);
                assert!(rendered.is_ascii(), "json.dumps writes ASCII: {rendered:?}");
                let back: Value = serde_json::from_str(&rendered).expect("rendered JSON parses");
                assert_eq!(back, value, "rendered JSON reads back as the same value");
            }
        }
    }

    let dir = scratch().join("fixtures");
    if dir.exists() {
        fs::remove_dir_all(&dir).expect("cannot clear the fixtures folder");
    }
    fs::create_dir(&dir).expect("cannot create the fixtures folder");
    fs::write(dir.join("releases__packagerelease_1_0.json"), fixture)
        .expect("cannot write the fixture");
    let args = RecordArgs {
        published,
        fixtures: dir.clone(),
        create: flags & 1 != 0,
        dry_run: flags & 2 != 0,
        ..RecordArgs::default()
    };
    let first = record::run(&args);

    for entry in fs::read_dir(scratch())
        .expect("the scratch folder")
        .flatten()
    {
        assert!(entry.path() == dir, "{:?} written outside", entry.path());
    }
    for entry in fs::read_dir(&dir).expect("the fixtures folder").flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        assert!(
            name.ends_with(".json") && entry.file_type().is_ok_and(|t| t.is_file()),
            "unexpected {name:?} in the fixtures folder"
        );
    }

    if let Ok(RecordOutcome::Changed(change)) = &first {
        if change.written {
            assert!(change.file.starts_with(&dir));
            let again = record::run(&args);
            assert!(
                matches!(again, Ok(RecordOutcome::Unchanged { .. })),
                "recording twice changes the record again: {again:?}"
            );
        }
    }
});
