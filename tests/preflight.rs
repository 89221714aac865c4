//! `preflight`: in the build workflow, before anything is built, a version already on the
//! index or lower than its highest release stops the build; a new version or project passes.
mod common;

use common::{Outcome, Stack, PROJECT};
use testbed::faults::{route, Fault};

async fn token_stack() -> (Stack, Vec<(&'static str, String)>) {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    (stack, vec![("INPUT_PASSWORD", token)])
}

async fn release(stack: &Stack, env: &[(&str, String)], version: &str) {
    let dist = stack.dists(PROJECT, version);
    let out = stack.publish(&[dist.to_str().unwrap()], env).await;
    assert!(out.ok(), "{}", out.debug());
}

async fn preflight(stack: &Stack, args: &[&str]) -> Outcome {
    let mut full = vec!["preflight", "--repository-url"];
    let upload = stack.warehouse.upload_url();
    full.push(&upload);
    full.extend_from_slice(args);
    // No token of any kind: preflight needs none.
    common::run(
        stack.tmp.path(),
        &full,
        &[("GITHUB_ACTIONS", "true".to_owned())],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_project_the_index_does_not_know_passes() {
    let stack = Stack::start().await;
    let out = preflight(
        &stack,
        &["--name", "Brand.New_Project", "--version", "0.1.0"],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(out.output("name"), "Brand.New_Project");
    assert_eq!(out.output("version"), "0.1.0");
    assert_eq!(out.output("latest"), "");
    assert!(
        out.stderr.contains("brand-new-project is not on"),
        "{}",
        out.debug()
    );
    // The index was asked by the normalised name, and nothing was uploaded.
    let asked: Vec<_> = stack
        .warehouse
        .requests()
        .into_iter()
        .map(|(m, p, _)| format!("{m} {p}"))
        .collect();
    assert_eq!(asked, ["GET /simple/brand-new-project/"], "{asked:?}");
    assert!(stack.warehouse.uploads().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_version_already_on_the_index_is_refused_under_pep_440_equality() {
    let (stack, env) = token_stack().await;
    release(&stack, &env, "1.2.3").await;

    let out = preflight(&stack, &["--name", "Demo_Package", "--version", "1.2.3.0"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("demo-package 1.2.3.0 is already on"),
        "{}",
        out.debug()
    );
    assert!(
        out.stdout
            .contains("::error title=Version preflight failed::"),
        "{}",
        out.debug()
    );
    assert_eq!(out.output("latest"), "1.2.3");

    // The same from the distributions of a build.
    let dist = stack.dists(PROJECT, "1.2.3");
    let out = preflight(&stack, &[dist.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(out.stderr.contains("is already on"), "{}", out.debug());
    assert_eq!(out.output("version"), "1.2.3");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lower_version_needs_allow_older_and_pre_releases_do_not_count() {
    let (stack, env) = token_stack().await;
    for v in ["1.0.0", "2.0.0", "3.0.0rc1"] {
        release(&stack, &env, v).await;
    }

    let out = preflight(&stack, &["--name", PROJECT, "--version", "1.5.0"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("1.5.0 is lower than 2.0.0"),
        "{}",
        out.debug()
    );
    assert!(out.stderr.contains("--allow-older"), "{}", out.debug());
    assert_eq!(out.output("latest"), "2.0.0");

    let out = preflight(
        &stack,
        &["--name", PROJECT, "--version", "1.5.0", "--allow-older"],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stdout
            .contains("::warning title=Releasing an older version::"),
        "{}",
        out.debug()
    );

    // 3.0.0rc1 on the index does not block 2.1.0 (nor does it count as the latest).
    let dist = stack.dists(PROJECT, "2.1.0");
    let out = preflight(&stack, &["--packages-dir", dist.to_str().unwrap()]).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(out.output("name"), PROJECT);
    assert_eq!(out.output("version"), "2.1.0");
    assert_eq!(out.output("latest"), "2.0.0");

    // 2.0.0rc1 comes before 2.0.0: lower, not the same version, and nothing sent.
    let sent = stack.warehouse.uploads().len();
    let out = preflight(&stack, &["--name", PROJECT, "--version", "2.0.0rc1"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "{PROJECT} 2.0.0rc1 is lower than 2.0.0, the highest release"
        )),
        "{}",
        out.debug()
    );
    assert!(!out.stderr.contains("already on"), "{}", out.debug());
    assert_eq!(out.output("latest"), "2.0.0");
    assert_eq!(stack.warehouse.uploads().len(), sent);
    assert!(stack.warehouse.files(PROJECT, "2.0.0rc1").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn half_a_subject_or_a_bad_version_is_a_clear_error() {
    let stack = Stack::start().await;
    let out = preflight(&stack, &["--name", PROJECT]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("give both --name and --version"),
        "{}",
        out.debug()
    );
    let out = preflight(&stack, &["--name", PROJECT, "--version", "one"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("not a PEP 440 version"),
        "{}",
        out.debug()
    );
    let out = preflight(&stack, &["--name", "../admin", "--version", "1.0"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(out.stderr.contains("not a project name"), "{}", out.debug());
    assert!(stack.warehouse.requests().is_empty());
}

/// The version is on the index's simple page; the JSON API (which pypiserver and devpi lack,
/// and whose `releases` key Warehouse deprecates) says nothing, or nothing usable.
#[tokio::test(flavor = "multi_thread")]
async fn a_version_on_the_simple_index_is_refused_whatever_the_json_api_says() {
    let (stack, env) = token_stack().await;
    release(&stack, &env, "1.0.0").await;
    for (what, fault) in [
        (
            "no JSON API (404)",
            Fault::Status {
                status: 404,
                body: "Not Found".into(),
            },
        ),
        (
            "a JSON answer without `releases`",
            Fault::Status {
                status: 200,
                body: r#"{"info": {"name": "demo-package"}}"#.into(),
            },
        ),
    ] {
        stack.warehouse.faults().clear();
        stack.warehouse.faults().inject(route::JSON_API, fault, 10);
        let out = preflight(&stack, &["--name", PROJECT, "--version", "1.0"]).await;
        assert_eq!(out.code, 1, "{what}: {}", out.debug());
        assert!(
            out.stderr.contains("demo-package 1.0 is already on"),
            "{what}: {}",
            out.debug()
        );
        assert_eq!(out.output("latest"), "1.0.0", "{what}");
    }
}

/// An answer of the simple page that says nothing readable is an error naming the page and
/// what was wrong: never "a new project".
#[tokio::test(flavor = "multi_thread")]
async fn a_simple_page_it_cannot_read_is_an_error_never_a_pass() {
    let stack = Stack::start().await;
    let page = format!("{}demo-package/", stack.warehouse.simple_url());
    let json = "application/vnd.pypi.simple.v1+json";
    let cases = [
        (
            "garbage",
            Fault::Status {
                status: 200,
                body: "garbage".into(),
            },
            1,
            "not a simple page",
        ),
        (
            "a PEP 691 page without `files`",
            Fault::Body {
                status: 200,
                content_type: json.into(),
                body: r#"{"meta": {"api-version": "1.1"}, "name": "demo-package"}"#.into(),
            },
            1,
            "not a PEP 691 project page",
        ),
        (
            "a JSON answer that is no simple page",
            Fault::Status {
                status: 200,
                body: r#"{"releases": {}}"#.into(),
            },
            1,
            "application/json",
        ),
        (
            "a redirect to another origin",
            Fault::Redirect {
                status: 302,
                location: "http://127.0.0.2:9/simple/demo-package/".into(),
            },
            1,
            "http://127.0.0.2:9/simple/demo-package/",
        ),
        (
            "5xx on every attempt",
            Fault::Status {
                status: 503,
                body: "busy".into(),
            },
            5,
            "after 5 attempts",
        ),
    ];
    for (what, fault, times, says) in cases {
        stack.warehouse.faults().clear();
        stack.warehouse.faults().inject(route::SIMPLE, fault, times);
        let out = preflight(&stack, &["--name", PROJECT, "--version", "1.0.0"]).await;
        assert_eq!(out.code, 1, "{what}: {}", out.debug());
        assert!(out.stderr.contains(&page), "{what}: {}", out.debug());
        assert!(out.stderr.contains(says), "{what}: {}", out.debug());
        assert!(!out.stderr.contains("will be its first release"), "{what}");
        assert!(out.outputs().is_empty(), "{what}: {}", out.debug());
    }
    // Without a fault the same page answers 404: a new project.
    stack.warehouse.faults().clear();
    let out = preflight(&stack, &["--name", PROJECT, "--version", "1.0.0"]).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains("will be its first release"),
        "{}",
        out.debug()
    );
}
