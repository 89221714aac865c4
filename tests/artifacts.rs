//! Publishing the artifacts of the triggering workflow run: the run is vetted before anything
//! is downloaded, the GitHub token never leaves the API host, and hostile archives are refused
//! with nothing written outside the extraction folder.
mod common;

use std::path::Path;

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::github::{hostile, zip_of, zip_with_raw_entries, GitHubConfig, RawEntry, WorkflowRun};

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
    // Masked, whole, before the first request that carries it.
    let mask = out.mask_line("the GitHub token", &token);
    assert!(
        mask < out.stdout_line("::group::Downloading the artifacts"),
        "{}",
        out.stdout
    );
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

/// One hostile artifact (or several, of one run) and what the refusal must say.
struct Hostile {
    label: &'static str,
    zips: Vec<Vec<u8>>,
    /// Words of the refusal itself (not of a "skipping ..." line, which also names entries).
    reason: &'static str,
    /// The entry the refusal names.
    entry: &'static str,
}

/// `n` entries that each claim 64 MiB (below the ratio check) but hold 4 bytes.
fn declaring_64_mib(prefix: &str, n: usize) -> Vec<u8> {
    let entries: Vec<RawEntry> = (0..n)
        .map(|i| RawEntry::file(&format!("{prefix}{i:03}.bin"), b"tiny").declaring_size(64 << 20))
        .collect();
    zip_with_raw_entries(&entries)
}

fn hostile_cases() -> Vec<Hostile> {
    let h = |label, zip, reason, entry| Hostile {
        label,
        zips: vec![zip],
        reason,
        entry,
    };
    // Traversals deep enough to leave the extraction folder, RUNNER_TEMP and the test's own
    // folder: an extractor without defences writes `evil.txt` where this test looks.
    let deep = zip_with_raw_entries(&[
        RawEntry::file("ok.txt", b"harmless\n"),
        RawEntry::file("../../evil.txt", b"escaped\n"),
        RawEntry::file("../../../evil.txt", b"escaped\n"),
    ]);
    vec![
        h(
            "zip-slip",
            hostile::path_traversal(),
            "absolute path or `..`",
            "../evil.txt",
        ),
        h(
            "zip-slip-deep",
            deep,
            "absolute path or `..`",
            "../../evil.txt",
        ),
        h(
            "absolute",
            hostile::absolute_path(),
            "absolute path or `..`",
            "/tmp/x",
        ),
        h(
            "backslash",
            hostile::backslash_traversal(),
            "backslash",
            "..\\\\evil.txt",
        ),
        h(
            "backslash-inside",
            zip_with_raw_entries(&[RawEntry::file("dist\\evil.txt", b"x")]),
            "backslash",
            "dist\\\\evil.txt",
        ),
        h("symlink", hostile::symlink(), "symbolic link", "link"),
        h(
            "duplicate",
            hostile::duplicate_names(),
            "collide",
            "dist.txt",
        ),
        h(
            "case-only",
            zip_with_raw_entries(&[
                RawEntry::file("Dist.txt", b"first\n"),
                RawEntry::file("dist.txt", b"second\n"),
            ]),
            "collide",
            "Dist.txt",
        ),
        h(
            "control-char",
            zip_with_raw_entries(&[RawEntry::file("evil\r\n::error::forged.txt", b"x")]),
            "control character",
            "evil\\r\\n::error::forged.txt",
        ),
        h(
            "bomb",
            hostile::understated_size(8 << 20),
            "beyond its declared size",
            "bomb.bin",
        ),
        h(
            "huge",
            hostile::huge_declared_size(),
            "byte limit",
            "huge.bin",
        ),
        h(
            "many-members",
            zip_with_raw_entries(
                &(0..=10_000)
                    .map(|i| RawEntry::file(&format!("m{i}.txt"), b""))
                    .collect::<Vec<_>>(),
            ),
            "more than 10000 members",
            "",
        ),
        // 129 x 64 MiB declared: over the 8 GiB a run may expand to, though no entry alone
        // trips the per-entry or ratio limits.
        h(
            "expanded-total",
            declaring_64_mib("e", 129),
            "beyond 8589934592 bytes expanded",
            "e128.bin",
        ),
        // The same total split over two artifacts: the limit is for the run, not per zip.
        Hostile {
            label: "expanded-total-across-artifacts",
            zips: vec![declaring_64_mib("a", 65), declaring_64_mib("b", 65)],
            reason: "beyond 8589934592 bytes expanded",
            entry: "b063.bin",
        },
    ]
}

/// The refusal: the `error:` line the binary ends with (never a "skipping" notice).
fn error_line(out: &common::Outcome) -> String {
    out.stderr
        .lines()
        .rfind(|l| l.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line:\n{}", out.debug()))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_archives_are_refused_and_write_nothing_outside() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    for case in hostile_cases() {
        let label = case.label;
        let root = stack.tmp.path().join(format!("case-{label}"));
        let temp = root.join("runner-temp");
        std::fs::create_dir_all(&temp).unwrap();
        let run = stack
            .github
            .add_run(WorkflowRun::push_success(stack.github.config()));
        for (i, zip) in case.zips.iter().enumerate() {
            stack
                .github
                .add_artifact(run, &format!("dist-{i}"), zip.clone());
        }
        let env = env_for(&stack, run, &temp);
        // `publish` extracts below RUNNER_TEMP; `download` into a folder it keeps.
        let dest = root.join("dest");
        let publish = common::run(
            &root,
            &["publish", "--repository-url", &stack.warehouse.upload_url()],
            &env,
        )
        .await;
        let download =
            common::run(&root, &["download", "--dest", dest.to_str().unwrap()], &env).await;
        for (command, out) in [("publish", &publish), ("download", &download)] {
            assert_eq!(out.code, 1, "{label} {command}: {}", out.debug());
            let error = error_line(out);
            assert!(
                error.contains(case.reason) && error.contains(case.entry),
                "{label} {command}: the refusal says {:?} about {:?}:\n{}",
                case.reason,
                case.entry,
                out.debug()
            );
            assert!(
                !out.stderr.contains("nothing to publish"),
                "{label} {command}: refused as hostile, not as empty:\n{}",
                out.debug()
            );
        }
        // The extraction folder under RUNNER_TEMP is gone, and nothing took its place.
        let left: Vec<_> = std::fs::read_dir(&temp)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(left.is_empty(), "{label}: left in RUNNER_TEMP: {left:?}");
        // Names and declared sizes are vetted before anything is written: `download` wrote no
        // member. Only a size that lies shows while inflating; the liar is then removed.
        let written: Vec<_> = all_files(&dest)
            .into_iter()
            .filter(|f| !f.file_name().unwrap().to_string_lossy().ends_with(".zip"))
            .collect();
        if case.zips.len() > 1 {
            // The earlier artifacts were within the limit; the one that crossed it wrote nothing.
            let last = format!("dist-{}", case.zips.len() - 1);
            assert!(
                written.iter().all(|f| !f.starts_with(dest.join(&last))),
                "{label}: {written:?}"
            );
        } else if label == "bomb" {
            assert!(
                written.iter().all(|f| !f.ends_with("bomb.bin")),
                "{label}: {written:?}"
            );
        } else {
            assert!(written.is_empty(), "{label}: download wrote {written:?}");
        }
        // Nothing anywhere in the test's folder but the runner files of the two runs.
        for f in all_files(&root) {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                f.starts_with(&dest)
                    || ["github_output", "step_summary", "report-"]
                        .iter()
                        .any(|p| name.starts_with(p)),
                "{label}: {} written outside",
                f.display()
            );
        }
        for dir in [
            stack.tmp.path(),
            root.as_path(),
            temp.as_path(),
            dest.as_path(),
        ] {
            assert!(
                !dir.join("evil.txt").exists(),
                "{label}: evil.txt in {}",
                dir.display()
            );
        }
        assert!(
            !all_files(stack.tmp.path())
                .iter()
                .any(|f| f.ends_with("evil.txt")),
            "{label}: evil.txt landed"
        );
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

/// `build-refs`: a run whose ref is not allowed is refused before anything is downloaded. The
/// run names its ref only as `head_branch`, a bare name: a tag pattern admits it only when
/// that tag exists and names the commit the run built.
#[tokio::test(flavor = "multi_thread")]
async fn build_refs_admit_only_a_run_of_an_allowed_tag_at_the_commit_it_built() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let files = dist_files(&stack, "15.0.0");
    let tags = [("INPUT_BUILD-REFS", "refs/tags/v*")];
    let add_run = |head_branch: &str| {
        let mut build = WorkflowRun::push_success(stack.github.config());
        build.head_branch = head_branch.to_owned();
        let sha = build.head_sha.clone();
        let run = stack.github.add_run(build);
        stack.github.add_artifact(run, "dist", zip_files(&files));
        (run, sha)
    };
    let refused = |out: &common::Outcome, why: &str| {
        assert!(!out.ok(), "{}", out.debug());
        assert!(
            out.stderr.contains(why)
                && out.stderr.contains("allows only refs/tags/v*")
                && out.stderr.contains("Nothing was downloaded"),
            "{why}: {}",
            out.debug()
        );
    };

    // A branch build.
    let (main, _) = add_run("main");
    refused(
        &download(&stack, main, &tags).await,
        "it built main (a branch or a tag of that name), which no pattern matches",
    );
    // A branch named like a tag: no such tag exists.
    let (branch, _) = add_run("v15.0.0");
    refused(
        &download(&stack, branch, &tags).await,
        "no tag of that name exists",
    );
    // The tag exists, on another commit (moved after the build, or a branch of that name).
    let (tagged, built) = add_run("v15.0.0");
    stack
        .github
        .add_annotated_tag("v15.0.0", "89abcdef0123456789abcdef0123456789abcdef");
    refused(
        &download(&stack, tagged, &tags).await,
        &format!(
            "it built commit {built} for v15.0.0, but the tag v15.0.0 names commit \
             89abcdef0123456789abcdef0123456789abcdef now"
        ),
    );
    assert_eq!(zip_downloads(&stack), 0, "nothing downloaded");

    // The tag names the commit the run built: published, and the summary names the ref.
    stack.github.move_tag("v15.0.0", &built);
    let mut env = env_for(&stack, tagged, &runner_temp(&stack));
    env.push((
        "INPUT_BUILD-REFS",
        "refs/heads/main\nrefs/tags/v*".to_owned(),
    ));
    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "15.0.0").len(), 2);
    assert!(
        out.summary.contains(&format!(
            "of <code>refs/tags/v15.0.0</code>, which build-refs allows), commit <code>{built}</code>"
        )),
        "{}",
        out.summary
    );

    // Moved after the build (and after that publish): a re-run is refused.
    stack
        .github
        .move_tag("v15.0.0", "0123456789abcdef0123456789abcdef01234567");
    refused(
        &download(&stack, tagged, &tags).await,
        "the tag v15.0.0 names commit 0123456789abcdef0123456789abcdef01234567 now",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn build_refs_admit_a_branch_only_when_no_tag_has_its_name() {
    let stack = Stack::start().await;
    let files = dist_files(&stack, "16.0.0");
    let mut build = WorkflowRun::push_success(stack.github.config());
    build.head_branch = "main".to_owned();
    let run = stack.github.add_run(build);
    stack.github.add_artifact(run, "dist", zip_files(&files));
    let main = [("INPUT_BUILD-REFS", "refs/heads/main")];

    let out = download(&stack, run, &main).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr
            .contains("built refs/heads/main, which build-refs allows"),
        "{}",
        out.debug()
    );
    // Unset: today's behaviour, no tag is even asked for.
    let out = download(&stack, run, &[]).await;
    assert!(out.ok(), "{}", out.debug());

    // A tag named `main` makes the name ambiguous.
    stack
        .github
        .add_tag("main", "0123456789abcdef0123456789abcdef01234567");
    let out = download(&stack, run, &main).await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains(
            "a tag of that name exists, so the run cannot be shown to have built the branch"
        ),
        "{}",
        out.debug()
    );
    assert!(
        stack
            .github
            .requests()
            .iter()
            .filter(|r| r.path.contains("/git/ref/tags/"))
            .count()
            == 2,
        "the tag is asked for only when build-refs is given"
    );

    // A pattern that names neither a tag nor a branch is refused before any request.
    let before = stack.github.requests().len();
    let out = download(&stack, run, &[("INPUT_BUILD-REFS", "v*")]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr
            .contains("pattern \"v*\" names neither a tag nor a branch"),
        "{}",
        out.debug()
    );
    assert_eq!(stack.github.requests().len(), before);
}

/// A blob host (or a proxy before it) that sends the zip chunked, with no Content-Length, and
/// more of it than the artifact is listed at: the download is cut off as soon as it passes
/// `size_in_bytes`, and the file on disk never grows past that.
#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_download_past_the_listed_size_is_cut_off_at_the_size() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    use testbed::faults::{route, Fault};
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let files = dist_files(&stack, "16.0.0");
    let zip = zip_files(&files);
    let listed = zip.len() as u64;
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack.github.add_artifact(run, "dist", zip);
    stack.github.faults().inject(
        route::BLOB,
        Fault::Chunked {
            bytes: 1 << 20,
            // The body arrives over time, as a download does: the growth can be watched.
            pause: std::time::Duration::from_millis(2),
        },
        1,
    );
    let temp = runner_temp(&stack);

    // Watch every file under RUNNER_TEMP while the download runs; keep the largest size seen.
    let largest = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (largest, done, temp) = (largest.clone(), done.clone(), temp.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                for f in all_files(&temp) {
                    let size = std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0);
                    largest.fetch_max(size, Ordering::SeqCst);
                }
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        })
    };
    let out = stack.publish(&[], &env_for(&stack, run, &temp)).await;
    done.store(true, Ordering::SeqCst);
    watcher.join().unwrap();

    assert_eq!(out.code, 1, "{}", out.debug());
    assert_eq!(stack.github.faults().fired(route::BLOB), 1);
    let largest = largest.load(Ordering::SeqCst);
    assert!(
        largest <= listed,
        "a file of {largest} bytes was written, beyond the {listed} listed"
    );
    let refusal = format!("beyond the {listed} bytes the artifact is listed at");
    assert!(
        out.stderr.contains("\"dist\"") && out.stderr.contains(&refusal),
        "{}",
        out.debug()
    );
    assert!(all_files(&temp).is_empty(), "{:?}", all_files(&temp));
    assert!(stack.warehouse.uploads().is_empty(), "nothing uploaded");
}
