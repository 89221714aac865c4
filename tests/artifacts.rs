//! Publishing the artifacts of the triggering workflow run: the run is vetted before anything
//! is downloaded, the GitHub token never leaves the API host, and hostile archives are refused
//! with nothing written outside the extraction folder.
mod common;

use std::path::Path;

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::github::{hostile, zip_of, GitHubConfig, WorkflowRun};

/// A zip holding the given files, as actions/upload-artifact makes them.
fn zip_files(paths: &[std::path::PathBuf]) -> Vec<u8> {
    let contents: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    zip_of(&refs)
}

fn env_for(stack: &Stack, run_id: u64, runner_temp: &Path) -> Vec<(&'static str, String)> {
    let mut env = stack.oidc_env();
    env.push(("GITHUB_TOKEN", stack.github.config().github_token.clone()));
    env.push(("INPUT_RUN-ID", run_id.to_string()));
    env.push(("RUNNER_TEMP", runner_temp.display().to_string()));
    env
}

fn runner_temp(stack: &Stack) -> std::path::PathBuf {
    let p = stack.tmp.path().join("runner-temp");
    std::fs::create_dir_all(&p).unwrap();
    p
}

fn zip_downloads(stack: &Stack) -> usize {
    stack
        .github
        .requests()
        .iter()
        .filter(|r| r.path.contains("/zip") || r.host == "blob")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn publishes_selected_artifacts_across_pages_without_leaking_the_token() {
    let stack = Stack::start_custom(
        GitHubConfig {
            per_page_max: 2,
            ..Default::default()
        },
        Default::default(),
    )
    .await;
    stack.register_publisher(PROJECT);
    let build = stack.tmp.path().join("build");
    std::fs::create_dir_all(&build).unwrap();
    let project = Project::new(PROJECT, "6.0.0");
    let w3 = dists::write_wheel(&project, &build, "py3").unwrap();
    let w2 = dists::write_wheel(&project, &build, "py2").unwrap();
    let sd = dists::write_sdist(&project, &build).unwrap();
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack.github.add_artifact(
        run,
        "coverage-report",
        zip_of(&[("index.html", b"<html></html>")]),
    );
    stack
        .github
        .add_artifact(run, "dist-py3", zip_files(std::slice::from_ref(&w3)));
    stack
        .github
        .add_artifact(run, "logs", zip_of(&[("build.log", b"ok")]));
    stack
        .github
        .add_artifact(run, "dist-py2", zip_files(std::slice::from_ref(&w2)));
    stack
        .github
        .add_artifact(run, "dist-sdist", zip_files(std::slice::from_ref(&sd)));
    let mut env = env_for(&stack, run, &runner_temp(&stack));
    env.push(("INPUT_ARTIFACT-PATTERN", "dist-*".to_owned()));
    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    let files = stack.warehouse.files(PROJECT, "6.0.0");
    assert_eq!(files.len(), 3, "two wheels and the sdist");
    // Three pages were read (5 artifacts, 2 per page).
    let pages = stack
        .github
        .requests()
        .iter()
        .filter(|r| r.path.contains("/artifacts?"))
        .count();
    assert!(pages >= 3, "{pages} pages");
    // Only the three selected artifacts were downloaded, and the blob host never saw a token.
    assert_eq!(
        stack
            .github
            .requests()
            .iter()
            .filter(|r| r.host == "blob")
            .count(),
        3
    );
    assert_eq!(stack.github.blob_auth_violations(), 0);
    let token = stack.github.config().github_token.clone();
    assert!(stack
        .github
        .requests()
        .iter()
        .filter(|r| r.host == "blob")
        .all(|r| !r.has_authorization()));
    assert!(!out.everything_but_masks().contains(&token));
    // The summary names the run, its commit and the artifacts.
    assert!(
        out.summary.contains(&format!("run {run}")),
        "{}",
        out.summary
    );
    assert!(out.summary.contains("dist-py3") && out.summary.contains("dist-sdist"));
    assert!(!out.summary.contains("`logs`"));
}

#[tokio::test(flavor = "multi_thread")]
async fn untrusted_or_failed_runs_are_refused_before_downloading() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let build = stack.dists(PROJECT, "7.0.0");
    let files: Vec<_> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();

    let fork = stack.github.add_run(WorkflowRun::fork_pull_request(
        stack.github.config(),
        "mallory/octo-repo",
        666,
    ));
    stack.github.add_artifact(fork, "dist", zip_files(&files));
    let out = stack
        .publish(&[], &env_for(&stack, fork, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("mallory/octo-repo") && out.stderr.contains("fork"),
        "{}",
        out.stderr
    );

    let failed = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack
        .github
        .set_run(failed, |r| r.conclusion = Some("failure".to_owned()));
    stack.github.add_artifact(failed, "dist", zip_files(&files));
    let out = stack
        .publish(&[], &env_for(&stack, failed, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(out.stderr.contains("`failure`"), "{}", out.stderr);

    let other_sha = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack
        .github
        .add_artifact(other_sha, "dist", zip_files(&files));
    let mut env = env_for(&stack, other_sha, &runner_temp(&stack));
    env.push((
        "INPUT_EXPECT-SHA",
        "0123456789abcdef0123456789abcdef01234567".to_owned(),
    ));
    let out = stack.publish(&[], &env).await;
    assert!(!out.ok());
    assert!(out.stderr.contains("not the expected"), "{}", out.stderr);

    assert_eq!(zip_downloads(&stack), 0, "nothing downloaded");
    assert!(stack.warehouse.uploads().is_empty(), "nothing uploaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn digest_mismatch_and_expired_artifacts_are_refused() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let build = stack.dists(PROJECT, "8.0.0");
    let files: Vec<_> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    let id = stack.github.add_artifact(run, "dist", zip_files(&files));
    stack.github.set_artifact(id, |a| {
        a.digest = Some(format!("sha256:{}", "ab".repeat(32)))
    });
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains(&"ab".repeat(32)) && out.stderr.contains("sha256"),
        "{}",
        out.stderr
    );
    assert!(stack.warehouse.uploads().is_empty());

    stack.github.set_artifact(id, |a| a.expired = true);
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(out.stderr.contains("expired"), "{}", out.stderr);
}

/// Every file below `root`, recursively.
fn all_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_archives_are_refused_and_write_nothing_outside() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("zip-slip", hostile::path_traversal(), "../evil.txt"),
        ("absolute", hostile::absolute_path(), "/tmp/x"),
        ("symlink", hostile::symlink(), "link"),
        ("duplicate", hostile::duplicate_names(), "dist.txt"),
        ("bomb", hostile::understated_size(8 << 20), "bomb.bin"),
        ("huge", hostile::huge_declared_size(), "huge.bin"),
    ];
    for (label, zip, entry) in cases {
        let root = stack.tmp.path().join(format!("case-{label}"));
        let temp = root.join("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        let run = stack
            .github
            .add_run(WorkflowRun::push_success(stack.github.config()));
        stack.github.add_artifact(run, "dist", zip);
        let out = common::run(
            &root,
            &["publish", "--repository-url", &stack.warehouse.upload_url()],
            &env_for(&stack, run, &temp),
        )
        .await;
        assert!(!out.ok(), "{label}: {}", out.debug());
        assert!(
            out.stderr.contains(entry),
            "{label}: the error names {entry:?}:\n{}",
            out.stderr
        );
        // Nothing escaped the extraction folder (which lives under RUNNER_TEMP).
        for f in all_files(&root) {
            assert!(
                f.starts_with(&temp)
                    || f.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("github_output")
                    || f.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("step_summary")
                    || f.file_name()
                        .unwrap()
                        .to_string_lossy()
                        .starts_with("report-"),
                "{label}: {} written outside",
                f.display()
            );
            assert!(!f.ends_with("evil.txt") || f.starts_with(&temp), "{label}");
        }
        assert!(!stack.tmp.path().join("evil.txt").exists() && !root.join("evil.txt").exists());
        assert!(
            stack.warehouse.uploads().is_empty(),
            "{label}: nothing uploaded"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn download_subcommand_checks_without_publishing() {
    let stack = Stack::start().await;
    let build = stack.dists(PROJECT, "9.0.0");
    let files: Vec<_> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack.github.add_artifact(run, "dist", zip_files(&files));
    let dest = stack.tmp.path().join("downloaded");
    let env = env_for(&stack, run, &runner_temp(&stack));
    let out = common::run(
        stack.tmp.path(),
        &["download", "--dest", dest.to_str().unwrap()],
        &env,
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    for f in &files {
        let name = f.file_name().unwrap();
        let got = all_files(&dest)
            .into_iter()
            .find(|p| p.file_name() == Some(name))
            .expect("extracted");
        assert_eq!(std::fs::read(got).unwrap(), std::fs::read(f).unwrap());
    }
    assert!(stack.warehouse.uploads().is_empty());
}

/// The distributions of `name` `version` as the files of a build's `dist/`.
fn dist_files(stack: &Stack, version: &str) -> Vec<std::path::PathBuf> {
    let build = stack.dists(PROJECT, version);
    let mut files: Vec<_> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// `download` of `run` into a fresh folder, with `extra` inputs.
async fn download(stack: &Stack, run: u64, extra: &[(&'static str, &str)]) -> common::Outcome {
    let dest = stack
        .tmp
        .path()
        .join(format!("downloaded-{run}-{}", extra.len()));
    let mut env = env_for(stack, run, &runner_temp(stack));
    env.extend(extra.iter().map(|(k, v)| (*k, (*v).to_owned())));
    common::run(
        stack.tmp.path(),
        &["download", "--dest", dest.to_str().unwrap()],
        &env,
    )
    .await
}

/// The attack of issue 13: a fork's pull request finishes its CI, a `workflow_run` build
/// starts in this repository, checks out the fork's head and uploads `dist`. Its run names
/// the fork as `head_repository`; neither the event allowance nor anything else lets it
/// through.
#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_run_build_of_a_forks_code_is_refused() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let files = dist_files(&stack, "10.0.0");
    let run = stack
        .github
        .add_run(WorkflowRun::workflow_run_after_fork_ci(
            stack.github.config(),
            "mallory/octo-repo",
            666,
        ));
    stack.github.add_artifact(run, "dist", zip_files(&files));
    for allow in ["", "workflow_run"] {
        let mut env = env_for(&stack, run, &runner_temp(&stack));
        env.push(("INPUT_ALLOW-RUN-EVENTS", allow.to_owned()));
        let out = stack.publish(&[], &env).await;
        assert!(!out.ok(), "{}", out.debug());
        assert!(
            out.stderr.contains("mallory/octo-repo")
                && out.stderr.contains("a fork's code must never be published"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(zip_downloads(&stack), 0, "nothing downloaded");
    assert!(stack.warehouse.uploads().is_empty(), "nothing uploaded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_workflow_run_build_of_this_repository_needs_allow_run_events() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let files = dist_files(&stack, "11.0.0");
    let run = stack
        .github
        .add_run(WorkflowRun::of_event(stack.github.config(), "workflow_run"));
    stack.github.add_artifact(run, "dist", zip_files(&files));
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains("`allow-run-events: workflow_run`"),
        "the error says which input to set:\n{}",
        out.stderr
    );
    assert_eq!(zip_downloads(&stack), 0);
    assert!(stack.warehouse.uploads().is_empty());

    let mut env = env_for(&stack, run, &runner_temp(&stack));
    env.push(("INPUT_ALLOW-RUN-EVENTS", "push\nworkflow_run".to_owned()));
    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "11.0.0").len(), 2);
    assert!(
        out.stdout.lines().any(|l| l.starts_with("::warning ")
            && l.contains("`workflow_run`")
            && l.contains("allow-run-events")),
        "a warning annotation says the event was let through:\n{}",
        out.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn only_runs_of_trusted_events_are_accepted_by_default() {
    let stack = Stack::start().await;
    let files = dist_files(&stack, "12.0.0");
    for event in [
        "pull_request_target",
        "issue_comment",
        "repository_dispatch",
    ] {
        let run = stack
            .github
            .add_run(WorkflowRun::of_event(stack.github.config(), event));
        stack.github.add_artifact(run, "dist", zip_files(&files));
        let out = download(&stack, run, &[]).await;
        assert!(!out.ok(), "{event}: {}", out.debug());
        assert!(
            out.stderr
                .contains(&format!("it was triggered by `{event}`")),
            "{event}: {}",
            out.stderr
        );
    }
    assert_eq!(zip_downloads(&stack), 0, "nothing downloaded");
    for event in ["push", "release", "workflow_dispatch", "schedule"] {
        let run = stack
            .github
            .add_run(WorkflowRun::of_event(stack.github.config(), event));
        stack.github.add_artifact(run, "dist", zip_files(&files));
        let out = download(&stack, run, &[]).await;
        assert!(out.ok(), "{event}: {}", out.debug());
        assert!(!out.stdout.contains("::warning"), "{event}: {}", out.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_build_workflow_refuses_runs_of_other_workflows() {
    let stack = Stack::start().await;
    let files = dist_files(&stack, "13.0.0");
    let run = stack.github.add_run(
        WorkflowRun::push_success(stack.github.config()).with_path(".github/workflows/ci.yml"),
    );
    stack.github.add_artifact(run, "dist", zip_files(&files));
    let pin = [("INPUT_BUILD-WORKFLOW", ".github/workflows/build.yml")];
    let out = download(&stack, run, &pin).await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains(".github/workflows/ci.yml")
            && out.stderr.contains(".github/workflows/build.yml"),
        "the error names both workflows:\n{}",
        out.stderr
    );
    assert_eq!(zip_downloads(&stack), 0);

    stack
        .github
        .set_run(run, |r| r.path = ".github/workflows/build.yml".to_owned());
    let out = download(&stack, run, &pin).await;
    assert!(out.ok(), "{}", out.debug());
}

/// In a job started by `workflow_run` the triggering run is what gets published, even when
/// the workspace happens to hold a `dist/` (a checkout, a cache): only a `packages-dir`
/// given explicitly wins over it.
#[tokio::test(flavor = "multi_thread")]
async fn the_triggering_run_wins_over_an_existing_dist_folder() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let stale = stack.tmp.path().join("dist");
    std::fs::create_dir_all(&stale).unwrap();
    for f in dist_files(&stack, "14.0.0") {
        std::fs::copy(&f, stale.join(f.file_name().unwrap())).unwrap();
    }
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack
        .github
        .add_artifact(run, "dist", zip_files(&dist_files(&stack, "14.1.0")));
    let event = stack.tmp.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"workflow_run": {"id": run, "event": "push"}}).to_string(),
    )
    .unwrap();
    let mut env = stack.oidc_env();
    env.push(("GITHUB_TOKEN", stack.github.config().github_token.clone()));
    env.push(("RUNNER_TEMP", runner_temp(&stack).display().to_string()));
    env.push(("GITHUB_EVENT_NAME", "workflow_run".to_owned()));
    env.push(("GITHUB_EVENT_PATH", event.display().to_string()));

    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "publishing the artifacts of run {run}, the run that triggered"
        )),
        "the log says which source and why:\n{}",
        out.stderr
    );
    assert_eq!(stack.warehouse.files(PROJECT, "14.1.0").len(), 2);
    assert!(stack.warehouse.files(PROJECT, "14.0.0").is_empty());

    env.push(("INPUT_PACKAGES-DIR", "dist".to_owned()));
    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains("packages-dir was given"),
        "{}",
        out.stderr
    );
    assert_eq!(stack.warehouse.files(PROJECT, "14.0.0").len(), 2);
}

/// Each bound on the work a hostile artifact can cause is hit by a crafted one, named in the
/// error, and nothing is uploaded.
#[tokio::test(flavor = "multi_thread")]
async fn archive_limits_are_enforced_and_named() {
    use testbed::github::{zip_with_raw_entries, RawEntry};
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let files = dist_files(&stack, "15.0.0");

    let publish_run = |setup: &dyn Fn(u64)| {
        let run = stack
            .github
            .add_run(WorkflowRun::push_success(stack.github.config()));
        setup(run);
        run
    };

    // More members than one artifact may hold.
    let many: Vec<RawEntry> = (0..=10_000)
        .map(|i| RawEntry {
            deflate: false,
            ..RawEntry::file(&format!("f{i}.txt"), b"")
        })
        .collect();
    let run = publish_run(&|run| {
        stack
            .github
            .add_artifact(run, "many-files", zip_with_raw_entries(&many));
    });
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("\"many-files\"") && out.stderr.contains("more than 10000 members"),
        "{}",
        out.stderr
    );

    // Two artifacts that each fit, but not together: 2 x 70 entries declaring 64 MiB each
    // (4.4 GiB per artifact, 8.75 GiB for the run, beyond its 8 GiB).
    let declared: Vec<RawEntry> = (0..70)
        .map(|i| RawEntry::file(&format!("part{i}.bin"), b"x").declaring_size(64 << 20))
        .collect();
    let run = publish_run(&|run| {
        stack
            .github
            .add_artifact(run, "half-a", zip_with_raw_entries(&declared));
        stack
            .github
            .add_artifact(run, "half-b", zip_with_raw_entries(&declared));
    });
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("\"half-b\"")
            && out.stderr.contains(&format!("beyond {} bytes", 8u64 << 30)),
        "{}",
        out.stderr
    );

    // A blob that sends more than the artifact's listed size.
    let run = publish_run(&|run| {
        let id = stack.github.add_artifact(run, "dist", zip_files(&files));
        stack.github.set_artifact(id, |a| a.size_in_bytes -= 1);
    });
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("\"dist\"") && out.stderr.contains("size_in_bytes"),
        "{}",
        out.stderr
    );

    // A member whose name would forge a log line.
    let run = publish_run(&|run| {
        stack
            .github
            .add_artifact(run, "dist", zip_of(&[("demo\n::error::forged.whl", b"x")]));
    });
    let out = stack
        .publish(&[], &env_for(&stack, run, &runner_temp(&stack)))
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("control character") && out.stderr.contains("demo\\n::error"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.lines().any(|l| l.starts_with("::error::forged")),
        "{}",
        out.stdout
    );

    assert!(stack.warehouse.uploads().is_empty(), "nothing uploaded");
}
