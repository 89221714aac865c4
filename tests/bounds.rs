//! Where requests go and how much of an answer is read (README "Every index, not only PyPI"
//! and "What the release manager can rely on"): a simple page that redirects to another
//! origin is not followed, a simple page is read up to 64 MiB and no further, no request
//! that carries the GitHub token follows a redirect, and the GitHub token never reaches the
//! index.
mod common;

use std::time::Duration;

use common::{Outcome, Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};
use testbed::github::{zip_of, WorkflowRun};

/// A run of the stack's repository whose artifact `dist` holds a wheel and an sdist of
/// `version`; returns the run id and the files.
fn run_with_dists(stack: &Stack, version: &str) -> (u64, Vec<std::path::PathBuf>) {
    let dir = stack.dists(PROJECT, version);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(p).unwrap())
        })
        .collect();
    let entries: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack.github.add_artifact(run, "dist", zip_of(&entries));
    (run, files)
}

/// A trusted-publishing job that publishes the artifacts of `run`.
fn run_env(stack: &Stack, run: u64) -> Vec<(&'static str, String)> {
    let mut env = stack.oidc_env();
    env.push(("GITHUB_TOKEN", stack.github.config().github_token.clone()));
    env.push(("INPUT_RUN-ID", run.to_string()));
    env
}

#[tokio::test(flavor = "multi_thread")]
async fn a_simple_page_that_redirects_to_another_origin_is_not_followed() {
    // Another index holds another build under the same file names: read, it would be a
    // conflict.
    let other = Stack::start().await;
    let other_token = other.warehouse.add_api_token(None);
    let rebuilt = other.tmp.path().join("rebuilt");
    std::fs::create_dir_all(&rebuilt).unwrap();
    let changed = Project::new(PROJECT, "1.0.0").with_header("Keywords", "rebuilt,elsewhere");
    dists::write_wheel(&changed, &rebuilt, "py3").unwrap();
    dists::write_sdist(&changed, &rebuilt).unwrap();
    let out = other
        .publish(
            &[rebuilt.to_str().unwrap()],
            &[("INPUT_PASSWORD", other_token)],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    let asked_before = other.warehouse.requests().len();

    // This index sends the project's page there (as pypiserver sends unknown names to PyPI).
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let elsewhere = format!("{}{PROJECT}/", other.warehouse.simple_url());
    stack.warehouse.faults().inject(
        route::SIMPLE,
        Fault::Redirect {
            status: 302,
            location: elsewhere.clone(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.faults().fired(route::SIMPLE), 1);
    assert!(
        out.stderr.contains(&format!(
            "the index sends this project to {elsewhere} (another index): not followed"
        )),
        "{}",
        out.debug()
    );
    assert_eq!(
        other.warehouse.requests().len(),
        asked_before,
        "the other index was asked: {:?}",
        other.warehouse.requests()
    );
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_simple_page_is_read_up_to_64_mib_and_no_further() {
    const LIMIT: u64 = 64 << 20;
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let env = [("INPUT_PASSWORD", token)];
    let dist = stack.dists(PROJECT, "1.0.0");
    let page = |bytes| Fault::Chunked {
        bytes,
        pause: Duration::ZERO,
    };

    let stopped = "the simple page is larger than 64 MiB; stopped reading it";

    // One byte more than 64 MiB, chunked (no Content-Length to judge by): the read stops and
    // says so, and the publish goes on without knowing what the index holds, as it tells.
    stack
        .warehouse
        .faults()
        .inject(route::SIMPLE, page(LIMIT + 1), 1);
    let out = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains(stopped)
            && out
                .stderr
                .contains("uploading without knowing which files are already there"),
        "{}",
        out.debug()
    );

    // 64 MiB exactly is read whole (a page without this version's files).
    let dist = stack.dists(PROJECT, "1.1.0");
    stack
        .warehouse
        .faults()
        .inject(route::SIMPLE, page(LIMIT), 1);
    let out = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(!out.stderr.contains(stopped), "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "plan: read {}{PROJECT}/",
            stack.warehouse.simple_url()
        )),
        "{}",
        out.debug()
    );
    assert_eq!(stack.warehouse.faults().fired(route::SIMPLE), 2);
    assert_eq!(stack.warehouse.files(PROJECT, "1.1.0").len(), 2);
}

/// No request to `path` (on any GitHub host) was made.
fn never_asked(stack: &Stack, path: &str) {
    let followed: Vec<_> = stack
        .github
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(path))
        .map(|r| (r.has_authorization(), r.host, r.method, r.path))
        .collect();
    assert!(followed.is_empty(), "a redirect was followed: {followed:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_request_that_carries_the_github_token_follows_a_redirect() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    // The API answers with a redirect to another path of its own host: a client that followed
    // it would send the token again, unseen.
    let moved = "/moved-here";
    let redirect = || Fault::Redirect {
        status: 307,
        location: format!("{}{moved}", stack.github.api_url()),
    };

    // The run's artifacts (publish).
    let (run, files) = run_with_dists(&stack, "1.0.0");
    stack.github.faults().inject(route::RUN, redirect(), 1);
    let out = stack.publish(&[], &run_env(&stack, run)).await;
    never_asked(&stack, moved);
    assert_eq!(out.code, 1, "{}", out.debug());
    assert_eq!(stack.github.faults().fired(route::RUN), 1);
    assert!(stack.warehouse.uploads().is_empty());

    // The tag's release (github-release).
    stack
        .github
        .add_tag("v1.0.0", "0123456789abcdef0123456789abcdef01234567");
    let published: Vec<serde_json::Value> = files
        .iter()
        .map(|p| {
            use sha2::Digest;
            serde_json::json!({
                "filename": p.file_name().unwrap().to_string_lossy(),
                "status": "uploaded",
                "sha256": hex::encode(sha2::Sha256::digest(std::fs::read(p).unwrap())),
            })
        })
        .collect();
    let published = serde_json::Value::Array(published).to_string();
    stack.github.faults().inject(route::RELEASES, redirect(), 1);
    let dir = files[0].parent().unwrap().to_str().unwrap().to_owned();
    let env = [
        ("GITHUB_ACTIONS", "true".to_owned()),
        (
            "GITHUB_REPOSITORY",
            stack.github.config().repository.clone(),
        ),
        ("GITHUB_API_URL", stack.github.api_url()),
        ("GITHUB_TOKEN", stack.github.config().github_token.clone()),
    ];
    let out: Outcome = common::run(
        stack.tmp.path(),
        &["github-release", "--published", &published, &dir],
        &env,
    )
    .await;
    never_asked(&stack, moved);
    assert_eq!(out.code, 1, "{}", out.debug());
    assert_eq!(stack.github.faults().fired(route::RELEASES), 1);
    assert!(stack.github.releases().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_github_token_never_reaches_the_index() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let (run, _) = run_with_dists(&stack, "2.0.0");
    let out = stack.publish(&[], &run_env(&stack, run)).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "2.0.0").len(), 2);

    let token = stack.github.config().github_token.clone();
    let headers = stack.warehouse.request_headers();
    assert!(!headers.is_empty());
    for (path, name, value) in &headers {
        assert!(
            !value.contains(&token),
            "the GitHub token reached the index: {name} of a request to {path}"
        );
    }
    for upload in stack.warehouse.uploads() {
        for (name, value) in &upload.fields {
            assert!(
                !value.contains(&token),
                "the GitHub token reached the index in the form field {name}"
            );
        }
    }
}
