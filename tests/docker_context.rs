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
