//! Outside data never steers the step log. Every source the publish job reads (archive member
//! and file names, run metadata, index, GitHub and Sigstore error bodies, mint refusals, the
//! JSON API's URLs, package metadata) carries the same hostile string, and every byte the
//! binary wrote (stdout, stderr, summary, outputs, report) is read back as the runner reads
//! it: the only workflow commands in it are the binary's own.
mod common;

use std::collections::HashSet;

use common::{Outcome, Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};
use testbed::github::{zip_of, WorkflowRun};

/// Everything an attacker would try in one string: line breaks that would start a command
/// (LF, CR, their `%0A` escape), commands that disable masking or set the environment, the
/// runner's older `##[` syntax, an ANSI escape, and markdown/HTML for the summary.
const HOSTILE: &str = "pwn\n::stop-commands::pwned\r::set-env name=NODE_OPTIONS::--require=/tmp/x \
                       %0A::add-path::/tmp ##[add-mask]z ##[stop-commands]pwned \u{1b}[2K\u{1b}[1G `tick` \
                       <script>alert(1)</script> | [click](https://evil.example) \u{85}end";

/// The commands the binary itself emits; anything else in the log came from outside.
const OWN_COMMANDS: &[&str] = &[
    "add-mask", "group", "endgroup", "error", "warning", "notice", "debug",
];

/// The workflow commands the runner would run from one stream, parsed as actions/runner
/// does: it splits lines on LF, CR and CRLF; a line whose start after blanks is `::` is a
/// command (`::name props::data`), and so is a line holding `##[name props]data` anywhere.
fn runner_commands(stream: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in stream.split(['\n', '\r']) {
        if let Some(rest) = line.trim_start().strip_prefix("::") {
            if let Some(end) = rest.find("::") {
                let name = rest[..end].split(' ').next().unwrap_or_default();
                found.push(name.to_lowercase());
            }
        }
        let mut rest = line;
        while let Some(at) = rest.find("##[") {
            rest = &rest[at + 3..];
            if let Some(end) = rest.find(']') {
                found.push(
                    rest[..end]
                        .split(' ')
                        .next()
                        .unwrap_or_default()
                        .to_lowercase(),
                );
            }
        }
    }
    found
}

/// The proof that the hostile data reached the run at all (so a pass means something), then
/// that nothing it holds acted: no foreign command, no raw escape, no markup in the summary,
/// no extra step output, a report that is still JSON.
fn assert_inert(out: &Outcome, expected_outputs: &[&str]) {
    assert!(
        out.everything().contains("pwned"),
        "the hostile string never reached the output, so this proves nothing:\n{}",
        out.debug()
    );
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        for cmd in runner_commands(stream) {
            assert!(
                OWN_COMMANDS.contains(&cmd.as_str()),
                "{name} holds a workflow command `{cmd}` that the binary did not mean:\n{stream}"
            );
        }
        // The binary writes its own commands as `::name::` only: any `##[` command came from
        // outside, even one named like the binary's own.
        assert!(
            !stream.contains("##["),
            "{name} holds a `##[` workflow command the binary did not mean:\n{stream}"
        );
        assert!(!stream.contains('\u{1b}'), "raw ESC in {name}:\n{stream}");
        assert!(!stream.contains('\u{85}'), "raw NEL in {name}:\n{stream}");
        assert!(!stream.contains('\r'), "raw CR in {name}:\n{stream}");
    }
    // The summary is markdown rendered as HTML: no tag, link or code span from outside.
    for bad in ["<script", "](https://evil", "`tick`", "\u{1b}", "\r"] {
        assert!(
            !out.summary.contains(bad),
            "summary holds {bad:?}:\n{}",
            out.summary
        );
    }
    for line in out.summary.lines() {
        assert!(
            !line.trim_start().starts_with("::"),
            "summary line {line:?}"
        );
    }
    let names: HashSet<String> = out.outputs().into_keys().collect();
    for name in &names {
        assert!(
            expected_outputs.contains(&name.as_str()),
            "unexpected step output {name:?}: {}",
            out.github_output
        );
    }
    // A later step may echo an output: it must not hold a command either.
    for (name, value) in out.outputs() {
        assert!(
            runner_commands(&value).is_empty() && !value.contains(['\u{1b}', '\r', '\u{85}']),
            "output {name} = {value:?}"
        );
    }
    if !out.report.is_empty() {
        serde_json::from_str::<serde_json::Value>(&out.report).expect("the report is JSON");
    }
}

const PUBLISH_OUTPUTS: &[&str] = &[
    "urls",
    "release-url",
    "published",
    "releases",
    "name",
    "version",
    "complete",
];

fn github_env(stack: &Stack, run: u64) -> Vec<(&'static str, String)> {
    let temp = stack.tmp.path().join(format!("runner-temp-{run}"));
    std::fs::create_dir_all(&temp).unwrap();
    let mut env = stack.oidc_env();
    env.push(("GITHUB_TOKEN", stack.github.config().github_token.clone()));
    env.push(("INPUT_RUN-ID", run.to_string()));
    env.push(("RUNNER_TEMP", temp.display().to_string()));
    env
}

fn real_dists_zip(stack: &Stack, version: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let dir = stack.dists(PROJECT, version);
    let files: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    let mut entries: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    entries.extend_from_slice(extra);
    zip_of(&entries)
}

/// The attack of the issue: a build step adds a member whose name breaks the line and stops
/// the runner's command processing, so that the minted token's mask would be ignored.
#[tokio::test(flavor = "multi_thread")]
async fn archive_member_names_cannot_stop_commands() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let member = format!("notes{HOSTILE}.txt");
    let zip = real_dists_zip(&stack, "1.0.0", &[(member.as_str(), b"x")]);
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack.github.add_artifact(run, "dist", zip);
    let out = stack.publish(&[], &github_env(&stack, run)).await;
    assert_inert(&out, PUBLISH_OUTPUTS);
    // A member name with control characters is refused, naming it, before any upload.
    assert!(!out.ok(), "{}", out.debug());
    assert!(stack.warehouse.uploads().is_empty());
}

/// The second attack of the issue: the build run's own name, title and branch.
#[tokio::test(flavor = "multi_thread")]
async fn run_name_title_and_branch_cannot_stop_commands() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let zip = real_dists_zip(&stack, "1.0.1", &[]);
    let run = stack.github.add_run(WorkflowRun {
        name: format!("Build{HOSTILE}"),
        display_title: format!("Release{HOSTILE}"),
        head_branch: format!("main{HOSTILE}"),
        ..WorkflowRun::push_success(stack.github.config())
    });
    stack.github.add_artifact(run, "dist", zip);
    let out = stack.publish(&[], &github_env(&stack, run)).await;
    assert!(out.ok(), "{}", out.debug());
    assert_inert(&out, PUBLISH_OUTPUTS);
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.1").len(), 2);
}

/// Artifact names come from the build too, and reach the log, the summary and the report.
#[tokio::test(flavor = "multi_thread")]
async fn artifact_names_stay_data() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let zip = real_dists_zip(&stack, "1.0.2", &[]);
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack
        .github
        .add_artifact(run, &format!("dist{HOSTILE}"), zip);
    let out = stack.publish(&[], &github_env(&stack, run)).await;
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// GitHub's error body (its `message`) is quoted in the error.
#[tokio::test(flavor = "multi_thread")]
async fn github_error_bodies_stay_data() {
    let stack = Stack::start().await;
    let run = stack
        .github
        .add_run(WorkflowRun::push_success(stack.github.config()));
    stack.github.faults().inject(
        route::RUN,
        Fault::Status {
            status: 404,
            body: serde_json::json!({ "message": HOSTILE, "documentation_url": HOSTILE })
                .to_string(),
        },
        1,
    );
    let out = stack.publish(&[], &github_env(&stack, run)).await;
    assert!(!out.ok());
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// File names on disk (a `dist/` folder filled by a build step).
#[tokio::test(flavor = "multi_thread")]
async fn file_names_on_disk_stay_data() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.3");
    std::fs::write(
        dist.join(format!("notes{}.txt", HOSTILE.replace('/', "_"))),
        b"x",
    )
    .unwrap();
    let out = stack
        .publish(
            &[
                dist.to_str().unwrap(),
                "--password",
                &stack.warehouse.add_api_token(None),
            ],
            &[("GITHUB_ACTIONS", "true".to_owned())],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// What the index says when it refuses an upload: its body (and reason phrase) is quoted in
/// the log, the annotation, the summary's "What went wrong" and the report.
#[tokio::test(flavor = "multi_thread")]
async fn index_error_bodies_stay_data() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.4");
    stack.warehouse.faults().inject(
        route::UPLOAD,
        Fault::Status {
            status: 400,
            body: HOSTILE.to_owned(),
        },
        2,
    );
    let out = stack
        .publish(
            &[
                dist.to_str().unwrap(),
                "--password",
                &stack.warehouse.add_api_token(None),
            ],
            &[("GITHUB_ACTIONS", "true".to_owned())],
        )
        .await;
    assert!(!out.ok());
    assert!(out.summary.contains("pwned"), "{}", out.summary);
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// The reason phrase, where Warehouse puts its refusal: no line break fits in one, but the
/// runner's escapes, a command and markup do.
#[tokio::test(flavor = "multi_thread")]
async fn index_reason_phrases_stay_data() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.9");
    let reason = "Bad pwned %0A::stop-commands::x ##[add-mask]z `tick` <script>alert(1)</script> | [click](https://evil.example)";
    stack.warehouse.faults().inject(
        route::UPLOAD,
        Fault::Reason {
            status: 400,
            reason: reason.to_owned(),
        },
        2,
    );
    let out = stack
        .publish(
            &[
                dist.to_str().unwrap(),
                "--password",
                &stack.warehouse.add_api_token(None),
            ],
            &[("GITHUB_ACTIONS", "true".to_owned())],
        )
        .await;
    assert!(!out.ok());
    assert!(out.summary.contains("pwned"), "{}", out.summary);
    // `%0A` in an annotation's data stays text: the runner reads `%250A`.
    assert!(
        out.stdout.contains("%250A::stop-commands"),
        "{}",
        out.stdout
    );
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// A mint refusal's message and error descriptions, shown with the claims and the publisher
/// settings.
#[tokio::test(flavor = "multi_thread")]
async fn mint_error_descriptions_stay_data() {
    let stack = Stack::start().await;
    stack.register_publisher(PROJECT);
    let dist = stack.dists(PROJECT, "1.0.5");
    stack.warehouse.faults().inject(
        route::OIDC_MINT,
        Fault::Status {
            status: 422,
            body: serde_json::json!({
                "message": HOSTILE,
                "errors": [{ "code": format!("invalid-publisher{HOSTILE}"), "description": HOSTILE }]
            })
            .to_string(),
        },
        5,
    );
    let out = stack
        .publish(&[dist.to_str().unwrap()], &stack.oidc_env())
        .await;
    assert!(!out.ok());
    assert!(out.summary.contains("pwned"), "{}", out.summary);
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// The JSON API's file and release URLs end up on stdout, in `urls`, the summary's links and
/// the report: they are kept only as parsed http(s) URLs.
#[tokio::test(flavor = "multi_thread")]
async fn json_api_urls_stay_data() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.6");
    let token = stack.warehouse.add_api_token(None);
    let args = [dist.to_str().unwrap(), "--password", &token];
    let env = [("GITHUB_ACTIONS", "true".to_owned())];
    let first = stack.publish(&args, &env).await;
    assert!(first.ok(), "{}", first.debug());
    // The index now lists the same files (same sha256) under hostile URLs.
    let urls: Vec<serde_json::Value> = first
        .published()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let url = if i == 0 {
                format!(
                    "https://files.example/{}{HOSTILE}",
                    f["filename"].as_str().unwrap()
                )
            } else {
                format!("javascript:alert(1)//{HOSTILE}")
            };
            serde_json::json!({
                "filename": f["filename"], "url": url, "size": f["size"],
                "packagetype": f["packagetype"], "python_version": f["python_version"],
                "digests": { "sha256": f["sha256"], "blake2b_256": f["blake2_256"] },
                "upload_time_iso_8601": "2026-12-01T00:00:00.000000Z"
            })
        })
        .collect();
    let body = serde_json::json!({
        "info": { "name": PROJECT, "version": "1.0.6", "release_url": format!("javascript:x{HOSTILE}") },
        "urls": urls,
    });
    stack.warehouse.faults().inject(
        route::JSON_API,
        Fault::Status {
            status: 200,
            body: body.to_string(),
        },
        100,
    );
    let out = stack.publish(&args, &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_inert(&out, PUBLISH_OUTPUTS);
    assert!(out.stdout.contains("pwned"), "{}", out.stdout);
    for url in out.output("urls").lines() {
        let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"));
        assert_eq!(parsed.scheme(), "https", "{url}");
    }
    assert!(!out.everything().contains("javascript:"), "{}", out.debug());
    // The index's `javascript:` release page is dropped, and no page is guessed in its place:
    // `release-url` names only a page the index itself named.
    assert_eq!(out.output("release-url"), "", "{}", out.github_output);
}

/// A simple page (PEP 503 HTML, as pypiserver serves it) whose links carry hostile text:
/// they reach stdout, `urls`, `published` and the summary only as parsed http(s) URLs.
#[tokio::test(flavor = "multi_thread")]
async fn simple_api_urls_stay_data() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.10");
    let token = stack.warehouse.add_api_token(None);
    let args = [dist.to_str().unwrap(), "--password", &token];
    let env = [("GITHUB_ACTIONS", "true".to_owned())];
    let first = stack.publish(&args, &env).await;
    assert!(first.ok(), "{}", first.debug());
    // Well-formed HTML whose values are hostile: the line breaks as character references too.
    let hostile_attr = HOSTILE
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\n', "&#10;")
        .replace('\r', "&#13;")
        // Only the `#sha256=` fragment may begin one.
        .replace('#', "%23");
    let links: String = first
        .published()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = f["filename"].as_str().unwrap();
            let sha = f["sha256"].as_str().unwrap();
            let href = if i == 0 {
                format!("https://files.example/{name}?{hostile_attr}#sha256={sha}")
            } else {
                format!("../../packages/{name}?{hostile_attr}#sha256={sha}")
            };
            format!("<a href=\"{href}\">{name}</a><br/>\n")
        })
        .collect();
    let page = format!(
        "<!DOCTYPE html><html><body><h1>Links for demo-package</h1>\n{links}\
         <a href=\"javascript:alert(1)#sha256=00\">demo_package-1.0.10-py2-none-any.whl</a>\
         </body></html>"
    );
    stack.warehouse.faults().inject(
        route::SIMPLE,
        Fault::Status {
            status: 200,
            body: page,
        },
        100,
    );
    let out = stack.publish(&args, &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_inert(&out, PUBLISH_OUTPUTS);
    let urls = out.output("urls");
    assert_eq!(urls.lines().count(), 2, "{urls}");
    for url in urls.lines() {
        let parsed = url::Url::parse(url).unwrap_or_else(|e| panic!("{url:?}: {e}"));
        assert!(matches!(parsed.scheme(), "https" | "http"), "{url}");
    }
    assert!(!out.everything().contains("javascript:"), "{}", out.debug());
}

/// Package metadata quoted by a check that refuses it.
#[tokio::test(flavor = "multi_thread")]
async fn metadata_fields_stay_data() {
    let stack = Stack::start().await;
    let dir = stack.tmp.path().join("meta");
    std::fs::create_dir_all(&dir).unwrap();
    let hostile_one_line = HOSTILE.replace(['\n', '\r', '\u{85}'], " ");
    let project = Project::new(PROJECT, "1.0.7")
        .with_header(
            "Requires-Dist",
            format!("bad requirement \u{1b}[31m{hostile_one_line}"),
        )
        .with_header("Summary", "\r::stop-commands::pwned\u{1b}[2K");
    dists::write_wheel(&project, &dir, "py3").unwrap();
    let out = stack
        .publish(
            &[
                dir.to_str().unwrap(),
                "--password",
                &stack.warehouse.add_api_token(None),
            ],
            &[("GITHUB_ACTIONS", "true".to_owned())],
        )
        .await;
    assert!(!out.ok());
    assert!(stack.warehouse.uploads().is_empty());
    assert_inert(&out, PUBLISH_OUTPUTS);
}

/// Sigstore's error bodies, quoted when signing the attestations fails.
#[tokio::test(flavor = "multi_thread")]
async fn sigstore_errors_stay_data() {
    let (stack, sigstore) = Stack::with_sigstore().await;
    sigstore.faults().inject(
        route::FULCIO,
        Fault::Status {
            status: 400,
            body: serde_json::json!({ "code": 3, "message": HOSTILE }).to_string(),
        },
        1,
    );
    let dist = stack.dists(PROJECT, "1.0.8");
    let fulcio = sigstore.fulcio_url();
    let rekor = sigstore.rekor_url();
    let args = [
        dist.to_str().unwrap(),
        "--fulcio-url",
        &fulcio,
        "--rekor-url",
        &rekor,
    ];
    let out = stack.publish(&args, &stack.oidc_env()).await;
    assert!(!out.ok());
    assert!(stack.warehouse.uploads().is_empty());
    assert_inert(&out, PUBLISH_OUTPUTS);
}

#[test]
fn the_runner_emulation_sees_what_the_runner_sees() {
    // If this parser missed commands, every test above would pass for nothing.
    assert_eq!(runner_commands("a\n::stop-commands::x"), ["stop-commands"]);
    assert_eq!(runner_commands("a\r  ::set-env name=A::b"), ["set-env"]);
    assert_eq!(runner_commands("text ##[add-mask]v"), ["add-mask"]);
    assert!(runner_commands("\\::x::y and ##\\[add-mask]v").is_empty());
}

/// The `published` output for the files of `dir`, with their real sha256 (read back from a
/// dry publish, so the test needs no hashing of its own).
async fn published_for(stack: &Stack, dir: &std::path::Path) -> String {
    let out = stack
        .publish(
            &[
                dir.to_str().unwrap(),
                "--dry-run",
                "--print-hash",
                "--password",
                &stack.warehouse.add_api_token(None),
            ],
            &[],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    let mut files: Vec<serde_json::Value> = serde_json::from_str(&out.report).unwrap();
    for f in &mut files {
        f["status"] = "uploaded".into();
    }
    serde_json::Value::Array(files).to_string()
}

/// A GitHub Release's name, notes and page URL, and GitHub's error messages, as
/// `github-release` reads them.
#[tokio::test(flavor = "multi_thread")]
async fn github_release_answers_stay_data() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.5");
    let published = published_for(&stack, &dist).await;
    let id = stack.github.add_release("v1.0.5", None, None);
    let repo = stack.github.config().repository.clone();
    let hostile_release = serde_json::json!({
        "id": id,
        "tag_name": "v1.0.5",
        "name": HOSTILE,
        "body": HOSTILE,
        "draft": false,
        "prerelease": false,
        "html_url": format!("https://github.com/{repo}/releases/tag/v1.0.5{HOSTILE}"),
        "upload_url": format!("{}/repos/{repo}/releases/{id}/assets{{?name,label}}", stack.github.upload_url()),
        "assets": [],
    });
    stack.github.faults().inject(
        route::RELEASES,
        Fault::Status {
            status: 200,
            body: hostile_release.to_string(),
        },
        1,
    );
    let env = [
        ("GITHUB_ACTIONS", "true".to_owned()),
        ("GITHUB_REPOSITORY", repo.clone()),
        ("GITHUB_API_URL", stack.github.api_url()),
        ("GITHUB_TOKEN", stack.github.config().github_token.clone()),
    ];
    let args = [
        "github-release",
        "--published",
        published.as_str(),
        dist.to_str().unwrap(),
    ];
    let out = common::run(stack.tmp.path(), &args, &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_inert(&out, &["github-release-url", "github-asset-urls"]);

    // GitHub refuses an upload with a hostile message.
    for a in stack.github.release_assets(id) {
        assert!(a.name.ends_with(".whl") || a.name.ends_with(".tar.gz"));
    }
    let dist = stack.dists(PROJECT, "1.0.6");
    let published = published_for(&stack, &dist).await;
    stack.github.add_release("v1.0.6", None, None);
    stack.github.faults().inject(
        route::RELEASE_UPLOAD,
        Fault::Status {
            status: 422,
            body: serde_json::json!({ "message": HOSTILE, "errors": [{"code": HOSTILE}] })
                .to_string(),
        },
        1,
    );
    let args = [
        "github-release",
        "--published",
        published.as_str(),
        dist.to_str().unwrap(),
    ];
    let out = common::run(stack.tmp.path(), &args, &env).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert_inert(&out, &[]);
}

/// Versions and file names the index lists (`preflight` reads the project's simple page).
#[tokio::test(flavor = "multi_thread")]
async fn index_versions_stay_data() {
    let stack = Stack::start().await;
    let file = |name: &str| serde_json::json!({"filename": name, "url": name, "hashes": {}});
    let body = serde_json::json!({
        "meta": {"api-version": "1.1"},
        "name": HOSTILE,
        "versions": [HOSTILE, "1.0"],
        "files": [file(HOSTILE), file(&format!("demo_package-{HOSTILE}.tar.gz")), file("demo_package-1.0.tar.gz")],
    });
    stack.warehouse.faults().inject(
        route::SIMPLE,
        Fault::Body {
            status: 200,
            content_type: "application/vnd.pypi.simple.v1+json".into(),
            body: body.to_string(),
        },
        1,
    );
    let upload = stack.warehouse.upload_url();
    let args = [
        "preflight",
        "--verbose",
        "--repository-url",
        upload.as_str(),
        "--name",
        PROJECT,
        "--version",
        "1.0.0",
    ];
    let out = common::run(
        stack.tmp.path(),
        &args,
        &[("GITHUB_ACTIONS", "true".to_owned())],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(out.stderr.contains("is already on"), "{}", out.debug());
    assert_inert(&out, &["name", "version", "latest"]);
}

/// clap's own errors echo the argument (an invalid value, an unknown subcommand): they reach
/// stderr through the one writer like everything else, and a mistake still exits 2.
#[tokio::test(flavor = "multi_thread")]
async fn command_line_mistakes_stay_data() {
    let stack = Stack::start().await;
    let dir = stack.tmp.path();
    let env = [("GITHUB_ACTIONS", "true".to_owned())];
    for args in [
        vec!["publish", "--concurrency", HOSTILE],
        vec!["publish", "--trusted-publishing", HOSTILE],
        vec!["publish", "--timeout", HOSTILE],
        vec![HOSTILE],
    ] {
        let out = common::run(dir, &args, &env).await;
        assert_eq!(out.code, 2, "{args:?}: {}", out.debug());
        assert_inert(&out, &[]);
    }
    // An action input is the flag's fallback: the same mistake, the same writer.
    let mut input_env = env.to_vec();
    input_env.push(("INPUT_CONCURRENCY", HOSTILE.to_owned()));
    let out = common::run(dir, &["publish"], &input_env).await;
    assert_eq!(out.code, 2, "{}", out.debug());
    assert_inert(&out, &[]);
    // Help and the version are no mistake: printed whole, exit 0.
    let help = common::run(dir, &["publish", "--help"], &env).await;
    assert_eq!(help.code, 0, "{}", help.debug());
    assert!(
        help.stdout.contains("Usage: pypi-oidc-publish publish")
            && help.stdout.contains("--concurrency"),
        "{}",
        help.debug()
    );
    let version = common::run(dir, &["--version"], &env).await;
    assert_eq!(version.code, 0, "{}", version.debug());
    assert_eq!(
        version.stdout.trim(),
        format!("pypi-oidc-publish {}", env!("CARGO_PKG_VERSION")),
        "{}",
        version.debug()
    );
    assert!(stack.warehouse.uploads().is_empty());
}
