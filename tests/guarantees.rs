//! README guarantees that had no test of their own (tests/README.md maps every guarantee to
//! its tests): exit status 2 for a command-line mistake, `allow-untrusted-run` is loud, and a
//! file the index lists with another sha256 is a `mismatch` that fails the publish.
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
async fn a_file_the_index_lists_with_another_sha256_is_a_mismatch_and_fails_the_publish() {
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
    // and the wheel with another sha256: the index holds other bytes under that name.
    let base = stack.warehouse.url();
    let other = "ab".repeat(32);
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
            entry(&wheel, other.clone(), "bdist_wheel", "py3"),
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
            &[
                ("INPUT_PASSWORD", token),
                ("GITHUB_ACTIONS", "true".to_owned()),
            ],
        )
        .await;
    faults.clear();
    // The verdict: not published, whatever the upload's HTTP 200 said.
    assert_eq!(out.code, 1, "{}", out.debug());
    assert_eq!(out.output("complete"), "false", "{}", out.debug());
    let urls = out.output("urls");
    assert!(!urls.contains(&wheel), "{urls}");
    assert!(urls.contains(&sdist), "{urls}");
    assert!(!out.stdout.contains(&format!("/{wheel}")), "{}", out.stdout);
    let report: Vec<serde_json::Value> = serde_json::from_str(&out.report).unwrap();
    for (what, entries) in [("published", out.published()), ("report", report)] {
        let field = |f: &str, key: &str| {
            entries
                .iter()
                .find(|e| e["filename"] == f)
                .unwrap_or_else(|| panic!("{f} not in the {what}: {entries:?}"))[key]
                .clone()
        };
        assert_eq!(field(&wheel, "status"), "mismatch", "{what}");
        assert_eq!(field(&wheel, "confirmed"), false, "{what}");
        assert_eq!(field(&wheel, "url"), "", "{what}");
        // The wheel's own hash is reported as its sha256, never the index's other one.
        assert_eq!(field(&wheel, "sha256"), sha_of(&wheel), "{what}");
        assert_eq!(field(&sdist, "status"), "uploaded", "{what}");
        assert_eq!(field(&sdist, "confirmed"), true, "{what}");
    }
    // An error annotation naming the file and both digests, and what to check.
    let annotation = out
        .stdout
        .lines()
        .find(|l| l.starts_with("::error ") && l.contains(&wheel))
        .unwrap_or_else(|| panic!("no error annotation names {wheel}:\n{}", out.debug()));
    // The file was sent by this run (not found on the index by the plan): the words say so.
    let both = format!(
        "lists it with sha256 {other}, but this run sent sha256 {}: the index holds other bytes",
        sha_of(&wheel)
    );
    for needle in [both.as_str(), "re-run"] {
        assert!(annotation.contains(needle), "{needle}: {annotation}");
    }
    assert!(
        out.summary
            .contains(&format!("<code>{wheel}</code> | MISMATCH |")),
        "{}",
        out.summary
    );
    assert!(
        !out.stdout.contains("Not yet visible"),
        "a mismatch is not lag:\n{}",
        out.debug()
    );
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

/// A release on an index that is not PyPI (here the testbed's, files on its own host) with
/// no release page: the GitHub Release's notes and the recorded fixture say there is none,
/// and never link a guessed PyPI page, which would be someone else's project of that name.
#[tokio::test(flavor = "multi_thread")]
async fn a_private_indexs_release_gets_no_guessed_pypi_link() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("private");
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project::new("arthexis", "0.1.33");
    dists::write_wheel(&project, &dir, "py3").unwrap();
    dists::write_sdist(&project, &dir).unwrap();
    let out = stack
        .publish(&[dir.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());
    // The publish step's `release-url` as such an index leaves it: empty, so not passed on.
    let published = out.output("published");
    stack
        .github
        .add_tag("v0.1.33", "0123456789abcdef0123456789abcdef01234567");
    let env = [
        ("GITHUB_ACTIONS", "true".to_owned()),
        (
            "GITHUB_REPOSITORY",
            stack.github.config().repository.clone(),
        ),
        ("GITHUB_API_URL", stack.github.api_url()),
        ("GITHUB_TOKEN", stack.github.config().github_token.clone()),
    ];
    let args = [
        "github-release",
        "--published",
        &published,
        "--packages-dir",
        dir.to_str().unwrap(),
    ];
    let release = common::run(stack.tmp.path(), &args, &env).await;
    assert!(release.ok(), "{}", release.debug());
    let notes = stack.github.releases()[0].body.clone().unwrap_or_default();
    assert!(!notes.contains("pypi.org"), "{notes}");
    assert!(notes.contains("has no release page"), "{notes}");

    let fixtures = stack.tmp.path().join("fixtures");
    std::fs::create_dir_all(&fixtures).unwrap();
    let record = serde_json::json!([{"model": "core.packagerelease", "fields": {
        "package": ["arthexis"], "version": "0.1.33", "pypi_url": "", "github_url": "",
        "release_on": null}}]);
    let fixture = fixtures.join("releases__packagerelease_0_1_33.json");
    std::fs::write(
        &fixture,
        serde_json::to_string_pretty(&record).unwrap() + "\n",
    )
    .unwrap();
    let args = [
        "record",
        "--published",
        &published,
        "--fixtures",
        fixtures.to_str().unwrap(),
    ];
    let recorded = common::run(stack.tmp.path(), &args, &[]).await;
    assert!(recorded.ok(), "{}", recorded.debug());
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&fixture).unwrap()).unwrap();
    assert_eq!(written[0]["fields"]["pypi_url"], "", "{written}");
    assert!(written[0]["fields"]["release_on"].is_string(), "{written}");
    assert!(
        recorded.stderr.contains("No release page"),
        "{}",
        recorded.debug()
    );
    // The log is plain text: a structured event's fields carry no escape codes (which the
    // writer would show as `\u{1b}[3m` text).
    let log = recorded.everything();
    assert!(log.contains("recorded the release file="), "{log}");
    assert!(!log.contains("\\u{1b}"), "{log}");
}

/// A simple page is bounded by its entries as well as its bytes: a page of more files than
/// any real project has (here 4 MiB of tiny anchors, far under the byte limit) is not read
/// past the bound, and the log names the page. (As with an oversized page, the plan then
/// goes on without knowing which files are there: the index refuses a duplicate anyway.)
#[tokio::test(flavor = "multi_thread")]
async fn a_simple_page_of_too_many_entries_is_refused_naming_it() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.0.0");
    let faults = stack.warehouse.faults();
    faults.inject(
        route::SIMPLE,
        Fault::Status {
            status: 200,
            body: "<a href=x>y</a>".repeat(250_001),
        },
        1,
    );
    let out = stack
        .publish(&[dist.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    faults.clear();
    let page = format!("{}/simple/demo-package/", stack.warehouse.url());
    assert!(
        out.stderr.contains(&format!(
            "reading {page}: the simple page lists more than 250000 files; stopped reading it"
        )),
        "{}",
        out.debug()
    );
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
