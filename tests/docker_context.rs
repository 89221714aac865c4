//! The image cannot be built here (no Docker engine), so this checks what a build needs from
//! the repository: every target the manifest declares must reach the build context
//! (`.dockerignore`), be stubbed in the dependency layer, and be copied for the real build.
//! Cargo refuses a manifest whose declared target file is missing.
use std::path::Path;

fn read(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

/// The target files the root manifest declares: `[[bin]] path`s and `[[bench]]` names.
fn declared_targets(manifest: &str) -> Vec<String> {
    let mut targets = Vec::new();
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_owned();
            continue;
        }
        let value = |key: &str| {
            line.strip_prefix(key)
                .and_then(|rest| rest.trim_start().strip_prefix('='))
                .map(|v| v.trim().trim_matches('"').to_owned())
        };
        match section.as_str() {
            "[[bin]]" => targets.extend(value("path")),
            "[[bench]]" => targets.extend(value("name").map(|n| format!("benches/{n}.rs"))),
            "[[test]]" | "[[example]]" => {
                panic!("add the {section} target to this check and to the Dockerfile")
            }
            _ => {}
        }
    }
    targets
}

#[test]
fn every_declared_target_reaches_the_image_build() {
    let manifest = read("Cargo.toml");
    let ignore = read(".dockerignore");
    let dockerfile = read("Dockerfile");
    let targets = declared_targets(&manifest);
    assert!(targets.iter().any(|t| t == "src/main.rs"), "{targets:?}");
    assert!(
        targets.iter().any(|t| t.starts_with("benches/")),
        "{targets:?}"
    );
    for target in &targets {
        let dir = target.split('/').next().unwrap();
        assert!(
            ignore.lines().any(|l| l.trim() == format!("!{dir}/")),
            ".dockerignore keeps {dir}/ out of the build context, but {target} is a declared target"
        );
        assert!(
            dockerfile.contains(&format!("> {target}")),
            "the Dockerfile's dependency layer does not stub {target}"
        );
        assert!(
            dockerfile.contains(&format!("COPY {dir}/ {dir}/")),
            "the Dockerfile does not copy {dir}/ for the real build"
        );
    }
}

#[test]
fn target_scan_reads_bins_and_benches() {
    let m = "[package]\nname = \"x\"\n[[bin]]\nname = \"x\"\npath = \"src/main.rs\"\n[[bench]]\nname = \"speed\"\nharness = false\n";
    assert_eq!(declared_targets(m), vec!["src/main.rs", "benches/speed.rs"]);
}

/// The images named by `FROM` lines, with `FROM scratch` (an empty image, nothing to pin)
/// and references to earlier stages left out.
fn unpinned_bases(dockerfile: &str) -> Vec<String> {
    let mut stages = Vec::new();
    let mut unpinned = Vec::new();
    for line in dockerfile.lines().map(str::trim) {
        let Some(rest) = line
            .strip_prefix("FROM ")
            .or_else(|| line.strip_prefix("from "))
        else {
            continue;
        };
        let words: Vec<&str> = rest
            .split_whitespace()
            .filter(|w| !w.starts_with("--"))
            .collect();
        let Some(image) = words.first().copied() else {
            unpinned.push(line.to_owned());
            continue;
        };
        let is_stage = stages
            .iter()
            .any(|s: &String| s.eq_ignore_ascii_case(image));
        if let Some(i) = words.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
            if let Some(name) = words.get(i + 1) {
                stages.push(name.to_ascii_lowercase());
            }
        }
        let pinned = image
            .split_once("@sha256:")
            .is_some_and(|(_, d)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()));
        if image != "scratch" && !is_stage && !pinned {
            unpinned.push(line.to_owned());
        }
    }
    unpinned
}

#[test]
fn every_base_image_is_pinned_by_digest() {
    let unpinned = unpinned_bases(&read("Dockerfile"));
    assert!(
        unpinned.is_empty(),
        "the Dockerfile builds from images not pinned by digest (`image:tag@sha256:<64 hex>`, \
         see README \"Bumping the base image\"): {unpinned:?}"
    );
}

#[test]
fn digest_check_tells_pinned_from_unpinned() {
    let digest = "0".repeat(64);
    let pinned = format!("FROM rust:1-alpine@sha256:{digest} AS build\nFROM scratch\n");
    assert!(unpinned_bases(&pinned).is_empty());
    assert_eq!(
        unpinned_bases("FROM rust:1-alpine AS build\nFROM scratch AS out\n"),
        vec!["FROM rust:1-alpine AS build"]
    );
    assert_eq!(
        unpinned_bases("FROM --platform=$BUILDPLATFORM alpine:3 AS a\n"),
        vec!["FROM --platform=$BUILDPLATFORM alpine:3 AS a"]
    );
    assert_eq!(
        unpinned_bases("FROM alpine@sha256:abc\n"),
        vec!["FROM alpine@sha256:abc"],
        "a digest must be whole"
    );
    // A later stage built on an earlier one names no registry image.
    let staged = format!("FROM rust@sha256:{digest} AS build\nFROM build\n");
    assert!(unpinned_bases(&staged).is_empty());
}
