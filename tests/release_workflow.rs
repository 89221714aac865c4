//! `.github/workflows/release.yml` can only run on GitHub, after a tag is pushed; this holds
//! what a reviewer of the `release` environment relies on: nothing a user pulls or installs
//! (the image's version tags, the `vX` tags, the pinned wheels, the GitHub release) moves
//! before that environment approves, and every runner gets a wheel.

use std::path::Path;

use serde_yaml_ng::Value;

fn release_yml() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(".github/workflows/release.yml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn environment(job: &Value) -> Option<&str> {
    job["environment"]
        .as_str()
        .or_else(|| job["environment"]["name"].as_str())
}

fn scripts(job: &Value) -> Vec<&str> {
    job["steps"]
        .as_sequence()
        .map(|steps| steps.iter().filter_map(|s| s["run"].as_str()).collect())
        .unwrap_or_default()
}

/// Writes users see: a version tag on the image, a moved git tag, a release.
fn user_visible_writes(script: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    for line in script.lines() {
        let line = line.trim();
        if (line.starts_with("-t ") || line.contains(" -t ")) && line.contains("${version") {
            found.push("an image version tag (-t ...:${version...})");
        }
        if line.contains("git push") {
            found.push("git push");
        }
        if line.contains("gh release create") || line.contains("gh release upload") {
            found.push("a GitHub release");
        }
        if line.contains("scripts/pin-wheels") {
            found.push("the wheel pins");
        }
    }
    found
}

#[test]
fn nothing_users_pull_moves_before_the_release_environment_approves() {
    let workflow = release_yml();
    let jobs = workflow["jobs"].as_mapping().unwrap();
    let mut seen = Vec::new();
    for (name, job) in jobs {
        let name = name.as_str().unwrap();
        for script in scripts(job) {
            for write in user_visible_writes(script) {
                assert_eq!(
                    environment(job),
                    Some("release"),
                    "job `{name}` makes {write} outside the `release` environment"
                );
                seen.push(write);
            }
        }
    }
    for write in [
        "an image version tag (-t ...:${version...})",
        "git push",
        "a GitHub release",
        "the wheel pins",
    ] {
        assert!(seen.contains(&write), "no job makes {write}: {seen:?}");
    }
}

#[test]
fn every_runner_gets_a_wheel_and_pypi_gets_them_from_the_approved_release() {
    let workflow = release_yml();
    let matrix = workflow["jobs"]["wheels"]["strategy"]["matrix"]["include"]
        .as_sequence()
        .unwrap();
    let mut targets: Vec<&str> = matrix
        .iter()
        .map(|e| e["target"].as_str().unwrap())
        .collect();
    targets.sort_unstable();
    assert_eq!(
        targets,
        [
            "aarch64-apple-darwin",
            "aarch64-pc-windows-msvc",
            "aarch64-unknown-linux-gnu",
            "x86_64-apple-darwin",
            "x86_64-pc-windows-msvc",
            "x86_64-unknown-linux-gnu",
        ]
    );
    let pypi = &workflow["jobs"]["pypi"];
    assert_eq!(environment(pypi), Some("pypi"));
    assert_eq!(pypi["needs"].as_str(), Some("release"));
    assert_eq!(pypi["permissions"]["id-token"].as_str(), Some("write"));
    let uses: Vec<&str> = pypi["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["uses"].as_str())
        .collect();
    assert!(
        uses.contains(&"./"),
        "the PyPI job must publish with this project's own action"
    );
}
