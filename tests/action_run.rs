//! The binary run exactly as the container action runs it: entrypoint `action`, every input
//! only as an `INPUT_*` variable with action.yml's defaults filled in as the runner does, the
//! workspace as the working directory. Then the `record` job, fed the publish job's outputs.
mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};

/// `INPUT_<NAME>` for every input of action.yml with its default, as the runner sets them;
/// `${{ ... }}` defaults are what the runner would evaluate them to.
fn runner_inputs(overrides: &[(&str, &str)], github_token: &str) -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).unwrap();
    let action: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut env = BTreeMap::new();
    for (name, spec) in action["inputs"].as_mapping().unwrap() {
        let name = name.as_str().unwrap();
        let default = match &spec["default"] {
            serde_yaml_ng::Value::String(s) => s.clone(),
            serde_yaml_ng::Value::Bool(b) => b.to_string(),
            serde_yaml_ng::Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let default = if default.contains("github.token") {
            github_token.to_owned()
        } else {
            default
        };
        env.insert(format!("INPUT_{}", name.to_uppercase()), default);
    }
    for (k, v) in overrides {
        env.insert(format!("INPUT_{}", k.to_uppercase()), (*v).to_owned());
    }
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn publish_then_record_as_the_workflow_does() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    // The workspace: dist/ at its root, as a build step leaves it.
    let workspace = stack.tmp.path().join("workspace");
    let dist = workspace.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let project = Project::new(PROJECT, "0.1.33");
    dists::write_wheel(&project, &dist, "py3").unwrap();
    dists::write_sdist(&project, &dist).unwrap();

    let token = stack.github.config().github_token.clone();
    let upload_url = stack.warehouse.upload_url();
    let mut env: Vec<(&str, String)> = stack.oidc_env();
    env.push(("GITHUB_WORKSPACE", workspace.display().to_string()));
    let inputs = runner_inputs(
        &[
            ("repository-url", &upload_url),
            ("oidc-audience", stack.warehouse.audience()),
        ],
        &token,
    );
    let input_env: Vec<(String, String)> = inputs.into_iter().collect();
    let mut all: Vec<(&str, String)> = env.clone();
    all.extend(input_env.iter().map(|(k, v)| (k.as_str(), v.clone())));
    let out = common::run(&workspace, &["action"], &all).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "0.1.33").len(), 2);
    assert_eq!(out.output("complete"), "true");
    let published = out.output("published");
    let release_url = out.output("release-url");
    assert!(!out.everything_but_masks().contains(&token));

    // The record job: a checkout with the release fixtures, the publish job's outputs.
    let repo = stack.tmp.path().join("checkout");
    let fixtures = repo.join("apps/core/fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    let fixture = fixtures.join("releases__packagerelease_0_1_33.json");
    let original = "[\n  {\n    \"model\": \"core.packagerelease\",\n    \"fields\": {\n      \"package\": [\n        \"demo-package\"\n      ],\n      \"version\": \"0.1.33\",\n      \"pypi_url\": \"\",\n      \"github_url\": \"\",\n      \"release_on\": null\n    }\n  }\n]\n";
    std::fs::write(&fixture, original).unwrap();
    let record_inputs = runner_inputs(
        &[
            ("command", "record"),
            ("published", &published),
            ("release-url", &release_url),
            ("fixtures", "apps/core/fixtures"),
        ],
        &token,
    );
    let record_env: Vec<(&str, String)> = record_inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    let out = common::run(&repo, &["action"], &record_env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(out.output("changed"), "true");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    assert_eq!(written[0]["fields"]["pypi_url"], release_url.as_str());
    let release_on = written[0]["fields"]["release_on"].as_str().unwrap();
    assert!(
        release_on.ends_with('Z') && release_on.starts_with("20"),
        "{release_on}"
    );

    // The same outputs again: nothing changes, and the job says so.
    let out = common::run(&repo, &["action"], &record_env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(out.output("changed"), "false");
}
