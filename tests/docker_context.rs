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

/// The paths `.dockerignore` lets into the context: it ignores everything (`*`) and then
/// lets named paths back in (`!path`).
fn context_paths(ignore: &str) -> Vec<String> {
    let lines: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(
        lines.first(),
        Some(&"*"),
        ".dockerignore must start from `*`"
    );
    lines[1..]
        .iter()
        .map(|l| {
            l.strip_prefix('!')
                .unwrap_or_else(|| panic!("a .dockerignore line this check does not read: {l}"))
                .trim_end_matches('/')
                .to_owned()
        })
        .collect()
}

#[test]
fn every_file_the_build_copies_is_in_the_build_context() {
    let allowed = context_paths(&read(".dockerignore"));
    let copies: Vec<String> = instructions(&read("Dockerfile"))
        .into_iter()
        .filter(|i| i.to_ascii_uppercase().starts_with("COPY ") && !i.contains("--from"))
        .collect();
    assert!(copies.len() >= 3, "{copies:?}");
    for copy in &copies {
        let args: Vec<&str> = copy.split_whitespace().skip(1).collect();
        for source in &args[..args.len() - 1] {
            let source = source.trim_end_matches('/');
            assert!(
                allowed
                    .iter()
                    .any(|a| source == a || source.starts_with(&format!("{a}/"))),
                "the Dockerfile copies {source}, which .dockerignore keeps out of the context: \
                 add `!{source}` there"
            );
        }
    }
}

#[test]
fn target_scan_reads_bins_and_benches() {
    let m = "[package]\nname = \"x\"\n[[bin]]\nname = \"x\"\npath = \"src/main.rs\"\n[[bench]]\nname = \"speed\"\nharness = false\n";
    assert_eq!(declared_targets(m), vec!["src/main.rs", "benches/speed.rs"]);
}

/// `image@sha256:<64 hex>`.
fn pinned(image: &str) -> bool {
    image
        .split_once("@sha256:")
        .is_some_and(|(_, d)| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The Dockerfile's instructions as BuildKit reads them: continuation lines (`\`) joined,
/// comment lines inside them dropped.
fn instructions(dockerfile: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines().map(str::trim) {
        if line.starts_with('#') || (current.is_empty() && line.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(line);
                out.push(std::mem::take(&mut current));
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// An earlier stage, by name or index.
fn is_stage(stages: &[String], reference: &str) -> bool {
    reference.parse::<usize>().is_ok() || stages.iter().any(|s| s.eq_ignore_ascii_case(reference))
}

/// Every image the build pulls that is not pinned by digest: the `# syntax=` frontend, `FROM`
/// in any case and spacing, `COPY`/`ADD --from=` and `RUN --mount=...,from=`. Left out:
/// `scratch` (an empty image), earlier stages by name or index.
fn unpinned_bases(dockerfile: &str) -> Vec<String> {
    let mut unpinned = Vec::new();
    // Parser directives stand at the very top, before any other line.
    for line in dockerfile.lines().map(str::trim) {
        let Some((key, value)) = line.strip_prefix('#').and_then(|d| d.split_once('=')) else {
            break;
        };
        if key.trim().eq_ignore_ascii_case("syntax") && !pinned(value.trim()) {
            unpinned.push(line.to_owned());
        }
    }
    let mut stages: Vec<String> = Vec::new();
    for line in instructions(dockerfile) {
        let mut words = line.split_whitespace();
        let instruction = words.next().unwrap_or_default().to_ascii_uppercase();
        let words: Vec<&str> = words.collect();
        let flag = |prefix: &str| -> Vec<String> {
            words
                .iter()
                .filter_map(|w| {
                    let head = w.get(..prefix.len())?;
                    head.eq_ignore_ascii_case(prefix)
                        .then(|| w[prefix.len()..].to_owned())
                })
                .collect()
        };
        let refs: Vec<String> = match instruction.as_str() {
            "FROM" => {
                let named: Vec<&str> = words
                    .iter()
                    .copied()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let image = named.first().copied().unwrap_or_default();
                let earlier = is_stage(&stages, image);
                if let Some(i) = named.iter().position(|w| w.eq_ignore_ascii_case("AS")) {
                    if let Some(name) = named.get(i + 1) {
                        stages.push(name.to_ascii_lowercase());
                    }
                }
                if image.is_empty() || (image != "scratch" && !earlier && !pinned(image)) {
                    unpinned.push(line.clone());
                }
                continue;
            }
            "COPY" | "ADD" => flag("--from="),
            "RUN" => flag("--mount=")
                .iter()
                .flat_map(|m| {
                    m.split(',')
                        .filter_map(|opt| opt.strip_prefix("from="))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect(),
            _ => continue,
        };
        for image in refs {
            if !is_stage(&stages, &image) && !pinned(&image) {
                unpinned.push(line.clone());
            }
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

#[test]
fn digest_check_reads_every_way_an_image_is_pulled() {
    let digest = "0".repeat(64);
    let base = format!("FROM rust:1-alpine@sha256:{digest} AS build\n");
    let cases = [
        "From alpine:3\n".to_owned(),
        "FROM\talpine:3\n".to_owned(),
        "FROM \\\n  alpine:3\n".to_owned(),
        format!("{base}COPY --from=nginx:latest /etc/nginx /n\n"),
        format!("{base}copy --FROM=nginx:latest /etc/nginx /n\n"),
        format!("{base}ADD --from=nginx /etc/nginx /n\n"),
        format!("{base}RUN --mount=type=cache,target=/c,from=busybox:1 true\n"),
        format!("{base}RUN --mount=type=bind,from=busybox,source=/bin,target=/b \\\n  true\n"),
        format!("# syntax=docker/dockerfile:1\n{base}"),
        format!("#syntax = docker/dockerfile:1\n{base}"),
    ];
    for case in &cases {
        assert_eq!(unpinned_bases(case).len(), 1, "not caught:\n{case}");
    }
    // The same, pinned or naming a stage, pass.
    let fine = [
        format!("# syntax=docker/dockerfile:1@sha256:{digest}\n{base}"),
        format!("{base}From\tbuild AS test\nCOPY --from=build /a /a\nCOPY --from=0 /a /a\n"),
        format!("{base}FROM scratch\nCOPY --from=nginx@sha256:{digest} /a /a\n"),
        format!("{base}RUN --mount=type=cache,target=/c,from=build true\n"),
        format!("{base}RUN --mount=type=bind,from=busybox@sha256:{digest},target=/b true\n"),
    ];
    for case in &fine {
        assert!(
            unpinned_bases(case).is_empty(),
            "{:?}:\n{case}",
            unpinned_bases(case)
        );
    }
    // A comment naming a syntax below the first instruction is no directive.
    assert!(unpinned_bases(&format!("{base}# syntax=docker/dockerfile:1\n")).is_empty());
}
