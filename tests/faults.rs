//! Faults PyPI and GitHub show in practice, injected on demand: each is survived with every
//! file published once, or reported exactly.
mod common;

use std::time::{Duration, Instant};

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};
use testbed::warehouse::WarehouseConfig;

async fn token_stack() -> (Stack, Vec<(&'static str, String)>) {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    (stack, vec![("INPUT_PASSWORD", token)])
}

/// Both files of `version` are on the index, and each was accepted by exactly one upload
/// request, the one that stored it: no retry re-sent a file the index had already taken
/// (Warehouse answers an identical re-upload 200 too, so the file list alone cannot tell).
fn stored_once(stack: &Stack, version: &str) {
    let files = stack.warehouse.files(PROJECT, version);
    assert_eq!(files.len(), 2, "{files:?}");
    let uploads = stack.warehouse.uploads();
    for f in &files {
        let accepted: Vec<_> = uploads
            .iter()
            .filter(|u| u.filename.as_deref() == Some(f.filename.as_str()) && u.status == 200)
            // A dropped connection is injected behind a 200 status line; the index never
            // saw that request.
            .filter(|u| u.message != "injected fault")
            .collect();
        assert_eq!(accepted.len(), 1, "{}: {accepted:?}", f.filename);
        assert!(accepted[0].stored, "{}: {accepted:?}", f.filename);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_5xx_and_dropped_connections_are_retried() {
    let (stack, env) = token_stack().await;
    stack.warehouse.faults().inject(
        route::UPLOAD,
        Fault::Status {
            status: 503,
            body: "Service Unavailable".into(),
        },
        2,
    );
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, Fault::HtmlPage { status: 502 }, 1);
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, Fault::DropConnection, 1);
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.faults().fired(route::UPLOAD), 4);
    stored_once(&stack, "1.0.0");
    assert!(
        out.stderr.contains("retrying"),
        "each retry is logged:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("503"),
        "with its reason:\n{}",
        out.stderr
    );
    assert!(out.published().iter().all(|e| e["status"] == "uploaded"));
    // The retry lines name the reason, never the token.
    out.assert_no_secret(&[env[0].1.clone()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_are_retried() {
    let (stack, env) = token_stack().await;
    // A 429 whose body says nothing: the status alone must be enough to retry.
    stack.warehouse.faults().inject(
        route::UPLOAD,
        Fault::Status {
            status: 429,
            body: String::new(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "1.1.0");
    let out = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    stored_once(&stack, "1.1.0");
    assert!(out.stderr.contains("429"), "{}", out.stderr);
    out.assert_no_secret(&[env[0].1.clone()]);
}

#[tokio::test(flavor = "multi_thread")]
async fn stale_json_api_is_waited_for() {
    let (stack, env) = token_stack().await;
    stack.warehouse.set_stale_json(3);
    let dist = stack.dists(PROJECT, "2.0.0");
    let out = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.published()
            .iter()
            .all(|e| e["confirmed"] == true && e["url"].as_str().is_some_and(|u| !u.is_empty())),
        "{}",
        out.github_output
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn never_confirmed_files_are_a_warning_with_evidence() {
    let (stack, env) = token_stack().await;
    stack.warehouse.set_stale_json(1000);
    let dist = stack.dists(PROJECT, "2.1.0");
    let out = stack
        .publish(&[dist.to_str().unwrap(), "--confirm-timeout", "1"], &env)
        .await;
    assert!(
        out.ok(),
        "accepted uploads are published even if the JSON API lags: {}",
        out.debug()
    );
    assert!(
        out.stderr.contains("did not list") && out.stderr.contains("HTTP 200"),
        "{}",
        out.stderr
    );
    let published = out.published();
    assert!(published.iter().all(|e| e["status"] == "uploaded"));
    // The stale view hides the latest upload, so at least that file stays unconfirmed.
    let unconfirmed: Vec<_> = published
        .iter()
        .filter(|e| e["confirmed"] == false)
        .collect();
    assert!(!unconfirmed.is_empty(), "{published:?}");
    for e in unconfirmed {
        assert!(
            out.stderr.contains(e["filename"].as_str().unwrap()),
            "{}",
            out.stderr
        );
    }
    // The wait backs off (250 ms, then doubling): within the one second given, the release's
    // JSON is read a handful of times (the plan's read, then about four), never in a busy loop
    // that would hammer a lagging CDN.
    let reads = stack
        .warehouse
        .requests()
        .iter()
        .filter(|(method, path, _)| method == "GET" && path.contains("/2.1.0/json"))
        .count();
    assert!(
        (2..=8).contains(&reads),
        "{reads} reads of the release's JSON: {:?}",
        stack.warehouse.requests()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_server_is_cut_off_by_the_timeout() {
    let (stack, env) = token_stack().await;
    stack
        .warehouse
        .faults()
        .inject(route::JSON_API, Fault::Hang, 1);
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, Fault::Hang, 1);
    let dist = stack.dists(PROJECT, "3.0.0");
    let started = Instant::now();
    let out = stack
        .publish(&[dist.to_str().unwrap(), "--timeout", "2"], &env)
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(started.elapsed() < Duration::from_secs(60), "bounded");
    stored_once(&stack, "3.0.0");
    // The first file (alone: a new release) met the hung upload, was cut off and sent again.
    let wheel = "demo_package-3.0.0-py3-none-any.whl";
    assert!(
        out.stderr.contains(&format!(
            "upload of {wheel}: attempt 1 of 5 failed (sending {wheel}: error sending request: \
             operation timed out); retrying"
        )),
        "{}",
        out.stderr
    );

    // A server that never answers at all: the job fails in bounded time and says so.
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, Fault::Hang, 100);
    let dist = stack.dists(PROJECT, "3.1.0");
    let out = stack
        .publish(&[dist.to_str().unwrap(), "--timeout", "1"], &env)
        .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    for file in [
        "demo_package-3.1.0-py3-none-any.whl",
        "demo_package-3.1.0.tar.gz",
    ] {
        let given_up = format!("upload of {file} failed after 5 attempts over ");
        let last =
            format!("last error: sending {file}: error sending request: operation timed out");
        assert!(
            out.stderr
                .lines()
                .any(|l| l.contains(&given_up) && l.contains(&last)),
            "{}",
            out.stderr
        );
    }
    assert_eq!(out.output("complete"), "false");
    assert!(stack.warehouse.files(PROJECT, "3.1.0").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_permanently_refused_file_is_reported_with_the_others_published() {
    let stack = Stack::start_with(WarehouseConfig {
        max_file_size: 64 * 1024,
        ..Default::default()
    })
    .await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("mixed");
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project::new(PROJECT, "4.0.0");
    dists::write_wheel(&project, &dir, "py3").unwrap();
    dists::write_sdist(&project, &dir).unwrap();
    let big = Project::new(PROJECT, "4.0.0").with_payload("demo_package/blob.bin", 256 * 1024);
    let big_wheel = dists::write_wheel(&big, &dir, "py2").unwrap();
    let big_name = big_wheel
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let out = stack
        .publish(
            &[dir.to_str().unwrap()],
            &[("INPUT_PASSWORD", token.clone())],
        )
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "4.0.0").len(), 2);
    let published = out.published();
    let status = |name: &str| {
        published.iter().find(|e| e["filename"] == name).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(status(&big_name), "failed");
    assert_eq!(
        published
            .iter()
            .filter(|e| e["status"] == "uploaded")
            .count(),
        2
    );
    assert!(
        out.stderr.contains("File too large"),
        "the index's own words:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(&big_name) && out.stderr.contains("NOT on the index"),
        "{}",
        out.stderr
    );
    assert_eq!(out.output("complete"), "false");
    assert!(
        out.summary.contains("incomplete") && out.summary.contains("File too large"),
        "{}",
        out.summary
    );
    let report: serde_json::Value = serde_json::from_str(&out.report).unwrap();
    assert_eq!(report, serde_json::Value::Array(published));
    assert!(!out.everything().contains(&token));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_minted_token_is_renewed_once() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    stack.warehouse.faults().inject(
        route::UPLOAD,
        Fault::Status {
            status: 403,
            body: "Invalid API Token: token is expired".into(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "5.0.0");
    let out = stack
        .publish(
            &[dist.to_str().unwrap(), "--concurrency", "1"],
            &stack.oidc_env(),
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(
        stack.warehouse.minted_tokens().len(),
        2,
        "minted again after the refusal"
    );
    stored_once(&stack, "5.0.0");
    assert!(out.stderr.contains("minted a new one"), "{}", out.stderr);
    // Both minted tokens, and the ID token of each mint, were masked and never printed.
    for token in stack.warehouse.minted_tokens() {
        out.mask_line("a minted token", &token);
    }
    out.assert_no_secret(&stack.secrets());
}

/// A minted token that really expires mid-publish: the index's own check of the token's
/// expiry refuses the next upload (no injected answer), and the client mints again once.
#[tokio::test(flavor = "multi_thread")]
async fn a_minted_token_that_really_expires_is_minted_again_once() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    // The wheel goes up at once; the sdist's request waits 2 s before the index looks at
    // it, long enough for the test to let every token minted so far run out.
    let faults = stack.warehouse.faults();
    faults.inject(route::UPLOAD, Fault::Delay(Duration::from_millis(0)), 1);
    faults.inject(route::UPLOAD, Fault::Delay(Duration::from_secs(2)), 1);
    let dist = stack.dists(PROJECT, "5.1.0");
    let args = [dist.to_str().unwrap(), "--concurrency", "1"];
    let env = stack.oidc_env();
    let publish = stack.publish(&args, &env);
    let expire = async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while stack.warehouse.files(PROJECT, "5.1.0").is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(stack.warehouse.minted_tokens().len(), 1);
        stack.warehouse.expire_minted_tokens();
    };
    let (out, ()) = tokio::join!(publish, expire);
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(
        stack.warehouse.minted_tokens().len(),
        2,
        "minted once more, and only once"
    );
    let refused: Vec<_> = stack
        .warehouse
        .uploads()
        .into_iter()
        .filter(|u| u.status == 403)
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].message.contains("token is expired"),
        "the index's own refusal: {refused:?}"
    );
    stored_once(&stack, "5.1.0");
    assert!(out.stderr.contains("minted a new one"), "{}", out.stderr);
    for token in stack.warehouse.minted_tokens() {
        out.mask_line("a minted token", &token);
    }
    out.assert_no_secret(&stack.secrets());
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_artifact_downloads_are_retried() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let build = stack.dists(PROJECT, "6.0.0");
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&build)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let run = stack
        .github
        .add_run(testbed::github::WorkflowRun::push_success(
            stack.github.config(),
        ));
    stack
        .github
        .add_artifact(run, "dist", testbed::github::zip_of(&refs));
    stack.github.faults().inject(
        route::ARTIFACTS,
        Fault::Status {
            status: 502,
            body: "{}".into(),
        },
        1,
    );
    stack
        .github
        .faults()
        .inject(route::BLOB, Fault::DropConnection, 1);
    stack.github.faults().inject(
        route::ARTIFACT_ZIP,
        Fault::Status {
            status: 500,
            body: "{}".into(),
        },
        1,
    );
    let mut env = stack.oidc_env();
    env.push(("GITHUB_TOKEN", stack.github.config().github_token.clone()));
    env.push(("INPUT_RUN-ID", run.to_string()));
    env.push(("RUNNER_TEMP", stack.tmp.path().display().to_string()));
    let out = stack.publish(&[], &env).await;
    assert!(out.ok(), "{}", out.debug());
    stored_once(&stack, "6.0.0");
    assert_eq!(stack.github.faults().fired(route::BLOB), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn cancellation_reports_what_reached_the_index() {
    let (stack, env) = token_stack().await;
    let dist = stack.dists(PROJECT, "7.0.0");
    // The wheel goes up at once; the sdist (sent last) is held by a slow index.
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, Fault::Delay(Duration::from_millis(0)), 1);
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, Fault::Hang, 1);
    let report = stack.tmp.path().join("cancel-report.json");
    let output = stack.tmp.path().join("cancel-output");
    let out = publish_then_cancel(
        &stack,
        &["--concurrency", "1"],
        &env,
        &report,
        &output,
        &dist,
        || !stack.warehouse.files(PROJECT, "7.0.0").is_empty(),
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    // A cancelled publish is a failed step, not a crash by the signal, nor a success.
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let published: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    let wheel = published
        .iter()
        .find(|e| e["packagetype"] == "bdist_wheel")
        .unwrap();
    let sdist = published
        .iter()
        .find(|e| e["packagetype"] == "sdist")
        .unwrap();
    assert_eq!(wheel["status"], "uploaded");
    assert_eq!(sdist["status"], "not-uploaded");
    assert!(sdist["error"].as_str().unwrap().contains("cancelled"));
    let outputs = common::parse_github_output(&std::fs::read_to_string(&output).unwrap());
    assert_eq!(outputs["complete"], "false");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&outputs["published"]).unwrap(),
        serde_json::Value::Array(published.clone())
    );
    // The summary lists what is on the index and what is not.
    let summary = std::fs::read_to_string(summary_of(&output)).unwrap_or_default();
    let line_of = |name: &str| {
        summary
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} missing from the summary:\n{summary}"))
            .to_owned()
    };
    assert!(summary.contains("incomplete"), "{summary}");
    assert!(
        line_of(wheel["filename"].as_str().unwrap()).contains("uploaded"),
        "{summary}"
    );
    assert!(
        line_of(sdist["filename"].as_str().unwrap()).contains("not uploaded"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn skip_existing_trusts_an_index_without_a_json_api_only_when_asked() {
    // An index like pypiserver: no JSON API, 409 for a file it already has.
    let (stack, env) = token_stack().await;
    let no_json = || Fault::Status {
        status: 404,
        body: r#"{"message": "Not Found"}"#.into(),
    };
    let conflict = || Fault::Status {
        status: 409,
        body: "Conflict: file exists".into(),
    };
    let dist = stack.dists(PROJECT, "8.0.0");
    let wheel_only: Vec<_> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    let wheel = wheel_only[0].to_str().unwrap();

    stack
        .warehouse
        .faults()
        .inject(route::JSON_API, no_json(), 100);
    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, conflict(), 1);
    let out = stack
        .publish(&[wheel, "--confirm-timeout", "0"], &env)
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(out.stderr.contains("--skip-existing"), "{}", out.stderr);

    stack
        .warehouse
        .faults()
        .inject(route::UPLOAD, conflict(), 1);
    let out = stack
        .publish(&[wheel, "--skip-existing", "--confirm-timeout", "0"], &env)
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(out.published()[0]["status"], "already-there");
    assert!(
        out.stderr
            .contains("--skip-existing counts it as published"),
        "{}",
        out.stderr
    );
    stack.warehouse.faults().clear();
}

#[tokio::test(flavor = "multi_thread")]
async fn cancellation_while_confirming_still_reports() {
    let (stack, env) = token_stack().await;
    stack.warehouse.set_stale_json(10_000);
    let dist = stack.dists(PROJECT, "9.0.0");
    let report = stack.tmp.path().join("confirm-cancel.json");
    let output = stack.tmp.path().join("confirm-cancel-output");
    let out = publish_then_cancel(
        &stack,
        &["--confirm-timeout", "600"],
        &env,
        &report,
        &output,
        &dist,
        || stack.warehouse.files(PROJECT, "9.0.0").len() == 2,
    )
    .await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    // Every file was accepted before the signal (the index answered 200), so the publish is
    // complete as far as the index said; only the confirmation was cut short.
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let published: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(
        published.iter().all(|e| e["status"] == "uploaded"),
        "{published:?}"
    );
    // Uploaded but never confirmed: on the index by its answer, and said so.
    let summary = std::fs::read_to_string(summary_of(&output)).unwrap_or_default();
    assert!(
        summary.contains("Published demo-package 9.0.0"),
        "{summary}"
    );
    for e in &published {
        let name = e["filename"].as_str().unwrap();
        assert!(
            summary
                .lines()
                .any(|l| l.contains(name) && l.contains("| uploaded |")),
            "{name}: {summary}"
        );
    }
}

/// Where [`publish_then_cancel`] has the job summary written, beside `output`.
fn summary_of(output: &std::path::Path) -> std::path::PathBuf {
    output.with_extension("summary.md")
}

/// Start a publish, wait until `ready` (bounded), send SIGTERM as a cancelled job's runner
/// does, and wait (bounded) for the process to stop.
async fn publish_then_cancel(
    stack: &Stack,
    args: &[&str],
    env: &[(&str, String)],
    report: &std::path::Path,
    output: &std::path::Path,
    dist: &std::path::Path,
    ready: impl Fn() -> bool,
) -> std::process::Output {
    let child = tokio::process::Command::new(common::BIN)
        .args(["publish", "--repository-url", &stack.warehouse.upload_url()])
        .args(args)
        .arg("--report")
        .arg(report)
        .arg(dist)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GITHUB_OUTPUT", output)
        .env("GITHUB_STEP_SUMMARY", summary_of(output))
        .envs(env.iter().map(|(k, v)| (*k, v.clone())))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ready() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("stops promptly after SIGTERM")
        .unwrap();
    // Whatever a cancelled run wrote, on any stream or file, holds no secret of the run: none
    // the testbed issued or minted, none the job was given.
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let written = common::Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        github_output: read(output),
        summary: read(&summary_of(output)),
        report: read(report),
        attestations: String::new(),
    };
    let mut secrets = stack.secrets();
    secrets.extend(
        env.iter()
            .filter(|(name, _)| name.contains("PASSWORD") || name.contains("TOKEN"))
            .map(|(_, value)| value.clone()),
    );
    written.assert_no_secret(&secrets);
    out
}
