//! Several projects in one publish (a monorepo): one release per project, each checked,
//! planned, uploaded and confirmed, with one token minted through one trusted publisher.
mod common;

use common::Stack;
use serde_json::{json, Value};

const MAIN: &str = "demo-core";
const PLUGIN: &str = "demo-plugin";

fn releases(out: &common::Outcome) -> Vec<Value> {
    serde_json::from_str(&out.output("releases")).expect("releases is a JSON array")
}

#[tokio::test(flavor = "multi_thread")]
async fn two_projects_behind_one_publisher_are_two_releases() {
    let stack = Stack::start().await;
    stack.register_publisher(MAIN);
    stack.register_publisher(PLUGIN);
    let core = stack.dists(MAIN, "1.0.0");
    let plugin = stack.dists(PLUGIN, "0.3.0");
    let out = stack
        .publish(
            &[core.to_str().unwrap(), plugin.to_str().unwrap()],
            &stack.oidc_env(),
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(MAIN, "1.0.0").len(), 2);
    assert_eq!(stack.warehouse.files(PLUGIN, "0.3.0").len(), 2);
    // One publisher, one token for both projects.
    assert_eq!(stack.warehouse.minted_tokens().len(), 1, "{}", out.debug());

    let releases = releases(&out);
    let brief: Vec<_> = releases
        .iter()
        .map(|r| {
            (
                r["name"].clone(),
                r["version"].clone(),
                r["complete"].clone(),
            )
        })
        .collect();
    assert_eq!(
        brief,
        vec![
            (json!(MAIN), json!("1.0.0"), json!(true)),
            (json!(PLUGIN), json!("0.3.0"), json!(true)),
        ]
    );
    for r in &releases {
        let url = r["release-url"].as_str().unwrap();
        let name = r["name"].as_str().unwrap();
        assert!(url.contains(&format!("/project/{name}/")), "{url}");
    }
    // Several releases: the one-release outputs are empty rather than one project's.
    for name in ["name", "version", "release-url"] {
        assert_eq!(out.output(name), "", "output {name}");
    }
    assert_eq!(out.output("complete"), "true");
    assert_eq!(out.output("urls").lines().count(), 4);
    let published = out.published();
    let by_release: Vec<_> = published
        .iter()
        .map(|f| {
            let file = f["filename"].as_str().unwrap();
            let name = f["name"].as_str().unwrap();
            assert!(
                file.starts_with(&name.replace('-', "_")),
                "{file} listed under {name}"
            );
            (name.to_owned(), f["version"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(by_release.len(), 4);
    assert_eq!(
        by_release
            .iter()
            .filter(|(n, v)| n == PLUGIN && v == "0.3.0")
            .count(),
        2
    );
    // One table per release.
    for title in [
        "## Published 2 releases",
        "### Published demo-core 1.0.0",
        "### Published demo-plugin 0.3.0",
    ] {
        assert!(
            out.summary.contains(title),
            "{title:?} in:\n{}",
            out.summary
        );
    }
    assert_eq!(
        out.summary
            .matches("| File | Status | Size | SHA-256 |")
            .count(),
        2,
        "{}",
        out.summary
    );
    out.assert_no_secret(&stack.secrets());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_without_the_publisher_fails_alone_and_is_named() {
    let stack = Stack::start().await;
    stack.register_publisher(MAIN);
    // The plugin exists on the index, but never registered this workflow.
    stack.warehouse.create_project(PLUGIN);
    let core = stack.dists(MAIN, "1.0.0");
    let plugin = stack.dists(PLUGIN, "0.3.0");
    let out = stack
        .publish(
            &[core.to_str().unwrap(), plugin.to_str().unwrap()],
            &stack.oidc_env(),
        )
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(MAIN, "1.0.0").len(), 2);
    assert!(stack.warehouse.files(PLUGIN, "0.3.0").is_empty());

    let complete: Vec<_> = releases(&out)
        .iter()
        .map(|r| (r["name"].clone(), r["complete"].clone()))
        .collect();
    assert_eq!(
        complete,
        vec![(json!(MAIN), json!(true)), (json!(PLUGIN), json!(false))]
    );
    assert_eq!(out.output("complete"), "false");
    let failed: Vec<_> = out
        .published()
        .into_iter()
        .filter(|f| f["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 2, "{failed:#?}");
    for f in &failed {
        assert_eq!(f["name"], PLUGIN);
        let error = f["error"].as_str().unwrap();
        for expected in [
            "this workflow is not a trusted publisher of demo-plugin",
            "/manage/project/demo-plugin/settings/publishing/",
            "Workflow name publish.yml",
            &format!("Repository name {}", stack.github.config().name()),
        ] {
            assert!(
                error.contains(expected),
                "{expected:?} missing from {error}"
            );
        }
    }
    // The verdict and the summary go release by release.
    assert!(
        out.stderr.contains("demo-core 1.0.0: complete")
            && out.stderr.contains("demo-plugin 0.3.0: nothing published"),
        "{}",
        out.debug()
    );
    assert!(
        out.summary.contains("### Published demo-core 1.0.0")
            && out
                .summary
                .contains("### Publish of demo-plugin 0.3.0 incomplete: 0 of 2 files on the index"),
        "{}",
        out.summary
    );
    out.assert_no_secret(&stack.secrets());
}

#[tokio::test(flavor = "multi_thread")]
async fn several_versions_of_one_project_are_refused_before_any_upload() {
    let stack = Stack::start().await;
    stack.register_publisher(MAIN);
    let one = stack.dists(MAIN, "1.0.0");
    let two = stack.dists(MAIN, "1.1.0");
    let out = stack
        .publish(
            &[one.to_str().unwrap(), two.to_str().unwrap()],
            &stack.oidc_env(),
        )
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(stack.warehouse.uploads().is_empty(), "nothing uploaded");
    assert!(
        out.stderr
            .contains("several versions of one project in one publish are refused"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("nothing was uploaded"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conflict_in_one_project_stops_the_whole_publish_before_any_upload() {
    use sha2::Digest;
    use testbed::dists::{self, Project};
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let env = [("INPUT_PASSWORD", token)];
    // The plugin's 0.3.0 wheel is on the index already; the publish brings a rebuild of it
    // (other bytes under the same name) beside a core that is not there at all.
    let first = stack.dists(PLUGIN, "0.3.0");
    let out = stack.publish(&[first.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    let sent_before = stack.warehouse.uploads().len();
    let on_index: Vec<_> = stack.warehouse.files(PLUGIN, "0.3.0");

    let core = stack.dists(MAIN, "1.0.0");
    let rebuilt = stack.tmp.path().join("plugin-rebuilt");
    std::fs::create_dir_all(&rebuilt).unwrap();
    let changed = Project::new(PLUGIN, "0.3.0").with_header("Keywords", "rebuilt,differently");
    let wheel = dists::write_wheel(&changed, &rebuilt, "py3").unwrap();
    let out = stack
        .publish(&[core.to_str().unwrap(), rebuilt.to_str().unwrap()], &env)
        .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    // Not one request to upload: the core, which had no conflict, waits for the fix too.
    assert_eq!(
        stack.warehouse.uploads().len(),
        sent_before,
        "{}",
        out.debug()
    );
    assert!(stack.warehouse.files(MAIN, "1.0.0").is_empty());
    assert_eq!(stack.warehouse.files(PLUGIN, "0.3.0"), on_index);
    let name = wheel.file_name().unwrap().to_str().unwrap();
    let sent = hex::encode(sha2::Sha256::digest(std::fs::read(&wheel).unwrap()));
    let listed = &on_index
        .iter()
        .find(|f| f.filename == name)
        .expect("the plugin wheel is on the index")
        .sha256;
    for needed in [name, sent.as_str(), listed.as_str(), "nothing was uploaded"] {
        assert!(out.stderr.contains(needed), "{needed}: {}", out.debug());
    }
    // Not one request to upload: the core, which had no conflict, waits for the fix too.
    assert_eq!(
        stack.warehouse.uploads().len(),
        sent_before,
        "{}",
        out.debug()
    );
    assert!(stack.warehouse.files(MAIN, "1.0.0").is_empty());
    assert_eq!(stack.warehouse.files(PLUGIN, "0.3.0"), on_index);
}
