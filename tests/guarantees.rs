//! README guarantees that had no test of their own (tests/README.md maps every guarantee to
//! its tests): exit status 2 for a command-line mistake, `allow-untrusted-run` is loud, and a
//! file the index lists with another sha256 is not "confirmed".
mod common;

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};
use testbed::github::{zip_of, WorkflowRun};

#[tokio::test(flavor = "multi_thread")]
async fn a_command_line_mistake_exits_2_and_other_failures_exit_1() {
    let stack = Stack::start().await;
    let dir = stack.tmp.path();
    for (args, env, names) in [
        (vec!["publish", "--no-such-flag"], vec![], "--no-such-flag"),
        (vec!["publish", "--concurrency", "many"], vec![], "many"),
        (
            vec!["publish", "--trusted-publishing", "sometimes"],
            vec![],
            "sometimes",
        ),
        (vec!["mint-token", "--bogus"], vec![], "--bogus"),
        (vec!["frobnicate"], vec![], "frobnicate"),
        // The action's inputs are the flags' fallbacks: a bad input is the same mistake.
        (
            vec!["publish"],
            vec![("INPUT_CONCURRENCY", "many".to_owned())],
            "many",
        ),
    ] {
        let out = common::run(dir, &args, &env).await;
        assert_eq!(out.code, 2, "{args:?} {env:?}: {}", out.debug());
        assert!(out.stderr.contains(names), "{args:?}: {}", out.debug());
        assert!(stack.warehouse.uploads().is_empty());
    }
    // A run that starts and fails is 1, not 2.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = stack
        .publish(
            &[empty.to_str().unwrap()],
            &[("INPUT_PASSWORD", stack.warehouse.add_api_token(None))],
        )
        .await;
    assert_eq!(out.code, 1, "{}", out.debug());
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_untrusted_run_publishes_a_forks_run_only_loudly() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let build = stack.dists(PROJECT, "1.0.0");
    let contents: Vec<(String, Vec<u8>)> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let fork = stack.github.add_run(WorkflowRun::fork_pull_request(
        stack.github.config(),
        "mallory/octo-repo",
        666,
    ));
    stack.github.add_artifact(fork, "dist", zip_of(&refs));
    let temp = stack.tmp.path().join("runner-temp");
    std::fs::create_dir_all(&temp).unwrap();
    let mut env = stack.oidc_env();
    env.push(("GITHUB_TOKEN", stack.github.config().github_token.clone()));
    env.push(("INPUT_RUN-ID", fork.to_string()));
    env.push(("RUNNER_TEMP", temp.display().to_string()));
    env.push(("INPUT_ALLOW-UNTRUSTED-RUN", "true".to_owned()));
    env.push(("INPUT_ALLOW-RUN-EVENTS", "pull_request".to_owned()));
    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);
    // Loud: a warning annotation (shown on the run's page) that names the fork, before any
    // upload, not just a log line.
    let warning = out
        .stdout
        .lines()
        .position(|l| {
            l.starts_with("::warning title=PUBLISHING FROM AN UNTRUSTED RUN::")
                && l.contains("mallory/octo-repo")
        })
        .unwrap_or_else(|| panic!("no warning annotation:\n{}", out.debug()));
    assert!(
        warning < out.stdout_line("::group::Uploading"),
        "{}",
        out.stdout
    );
    out.assert_no_secret(&stack.secrets());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_the_index_lists_with_another_sha256_is_not_confirmed() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("release");
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project::new(PROJECT, "2.0.0");
    let wheel = dists::write_wheel(&project, &dir, "py3").unwrap();
    let sdist = dists::write_sdist(&project, &dir).unwrap();
    let name = |p: &std::path::Path| p.file_name().unwrap().to_string_lossy().into_owned();
    let (wheel, sdist) = (name(&wheel), name(&sdist));
    let sha_of = |f: &str| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(dir.join(f)).unwrap()))
    };
    // The plan reads "no such release"; from then on the JSON API lists the sdist as it is
    // and the wheel with another sha256 (a stale or wrong CDN answer).
    let base = stack.warehouse.url();
    let entry = |f: &str, sha: String, kind: &str, py: &str| {
        serde_json::json!({
            "filename": f, "url": format!("{base}/packages/xx/{f}"), "size": 1,
            "packagetype": kind, "python_version": py,
            "digests": {"sha256": sha, "blake2b_256": "00".repeat(32), "md5": "00".repeat(16)},
            "upload_time_iso_8601": "2026-01-01T00:00:00.000000Z",
        })
    };
    let listed = serde_json::json!({
        "info": {"name": PROJECT, "version": "2.0.0",
                 "release_url": format!("{base}/project/{PROJECT}/2.0.0/")},
        "urls": [
            entry(&wheel, "ab".repeat(32), "bdist_wheel", "py3"),
            entry(&sdist, sha_of(&sdist), "sdist", "source"),
        ],
    });
    let faults = stack.warehouse.faults();
    faults.inject(
        route::JSON_API,
        Fault::Status {
            status: 404,
            body: r#"{"message": "Not Found"}"#.to_owned(),
        },
        1,
    );
    faults.inject(
        route::JSON_API,
        Fault::Status {
            status: 200,
            body: listed.to_string(),
        },
        1000,
    );
    let out = stack
        .publish(
            &[dir.to_str().unwrap(), "--confirm-timeout", "1"],
            &[("INPUT_PASSWORD", token)],
        )
        .await;
    let published = out.published();
    let field = |f: &str, key: &str| {
        published
            .iter()
            .find(|e| e["filename"] == f)
            .unwrap_or_else(|| panic!("{f} not in {published:?}"))[key]
            .clone()
    };
    assert_eq!(field(&sdist, "confirmed"), true, "{}", out.debug());
    assert_eq!(field(&wheel, "confirmed"), false, "{}", out.debug());
    // The wheel's own hash is reported, never the index's other one.
    assert_eq!(field(&wheel, "sha256"), sha_of(&wheel));
    assert!(!out.report.contains(&"ab".repeat(32)), "{}", out.report);
    assert!(
        out.stderr.contains(&wheel) && out.stderr.contains("did not list"),
        "{}",
        out.debug()
    );
    faults.clear();
}

#[tokio::test(flavor = "multi_thread")]
async fn license_expressions_are_checked_against_the_spdx_list() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    for (n, expression) in ["Not-A-License-1.0", "MIT/Apache-2.0", "MIT OR"]
        .into_iter()
        .enumerate()
    {
        let dir = stack.tmp.path().join(format!("license-{n}"));
        std::fs::create_dir_all(&dir).unwrap();
        let project = Project::new(PROJECT, "3.0.0").with_header("License-Expression", expression);
        let wheel = dists::write_wheel(&project, &dir, "py3").unwrap();
        let out = stack
            .publish(
                &[dir.to_str().unwrap()],
                &[("INPUT_PASSWORD", token.clone())],
            )
            .await;
        assert_eq!(out.code, 1, "{expression}: {}", out.debug());
        let wheel = wheel.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            out.stderr.contains(&wheel)
                && out
                    .stderr
                    .contains(&format!("License-Expression {expression:?}"))
                && out.stderr.contains("SPDX"),
            "{expression}: {}",
            out.debug()
        );
        assert!(stack.warehouse.uploads().is_empty(), "{expression}");
    }
}

/// PyPI refuses new files for a release created more than 14 days ago. The publish says so
/// before any upload (naming the release's age and what to do), while an identical re-run of
/// the old release still passes: nothing of it is sent again.
#[tokio::test(flavor = "multi_thread")]
async fn a_release_past_its_window_is_refused_before_any_upload() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let first = stack.dists(PROJECT, "3.0.0");
    let args = |dir: &std::path::Path| {
        vec![
            dir.to_str().unwrap().to_owned(),
            "--password".to_owned(),
            token.clone(),
        ]
    };
    let run = |dir: std::path::PathBuf| {
        let a = args(&dir);
        let stack = &stack;
        async move {
            let refs: Vec<&str> = a.iter().map(String::as_str).collect();
            stack.publish(&refs, &[]).await
        }
    };
    let out = run(first.clone()).await;
    assert!(out.ok(), "{}", out.debug());
    stack.warehouse.backdate_release(PROJECT, "3.0.0", 20);

    let again = run(first).await;
    assert!(
        again.ok(),
        "an identical re-run sends nothing: {}",
        again.debug()
    );

    let late = stack.tmp.path().join("late-wheel");
    std::fs::create_dir_all(&late).unwrap();
    testbed::dists::write_wheel(
        &testbed::dists::Project::new(PROJECT, "3.0.0"),
        &late,
        "py2",
    )
    .unwrap();
    let uploads = stack.warehouse.uploads().len();
    let out = run(late).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("20 days ago") && out.stderr.contains("new version"),
        "{}",
        out.stderr
    );
    assert_eq!(stack.warehouse.uploads().len(), uploads, "nothing was sent");
}

/// PyPI's window is 14 days to the minute: a release 13 days 23 hours old still takes a new
/// file, one 14 days and a minute old is refused before anything is sent.
#[tokio::test(flavor = "multi_thread")]
async fn the_release_window_closes_at_fourteen_days_not_before_not_after() {
    use std::time::Duration;
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let env = [("INPUT_PASSWORD", token)];
    let hour = Duration::from_secs(3600);
    for (version, age, open) in [
        ("3.1.0", 13 * 24 * hour + 23 * hour, true),
        ("3.2.0", 14 * 24 * hour + Duration::from_secs(60), false),
    ] {
        let first = stack.dists(PROJECT, version);
        let out = stack.publish(&[first.to_str().unwrap()], &env).await;
        assert!(out.ok(), "{}", out.debug());
        stack.warehouse.backdate_release_by(PROJECT, version, age);

        let late = stack.tmp.path().join(format!("late-{version}"));
        std::fs::create_dir_all(&late).unwrap();
        let wheel = testbed::dists::write_wheel(
            &testbed::dists::Project::new(PROJECT, version),
            &late,
            "py2",
        )
        .unwrap();
        let name = wheel.file_name().unwrap().to_str().unwrap().to_owned();
        let sent_before = stack.warehouse.uploads().len();
        let out = stack.publish(&[late.to_str().unwrap()], &env).await;
        let on_index = |f: &str| {
            stack
                .warehouse
                .files(PROJECT, version)
                .iter()
                .any(|s| s.filename == f)
        };
        if open {
            assert!(out.ok(), "{version} {age:?} old is open: {}", out.debug());
            assert!(on_index(&name), "{}", out.debug());
        } else {
            assert_eq!(
                out.code,
                1,
                "{version} {age:?} old is closed: {}",
                out.debug()
            );
            assert_eq!(
                stack.warehouse.uploads().len(),
                sent_before,
                "refused before any upload: {}",
                out.debug()
            );
            assert!(!on_index(&name));
            assert!(
                out.stderr.contains("first uploaded 14 days ago")
                    && out.stderr.contains("older than 14 days"),
                "{}",
                out.debug()
            );
        }
    }
}
