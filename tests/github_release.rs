//! `github-release`: the GitHub Release of the version tag gets exactly the published files,
//! each the very bytes the index holds, once; the GitHub token goes to the API host and the
//! upload host the API names, nowhere else.
mod common;

use std::path::{Path, PathBuf};

use common::{Outcome, Stack, PROJECT};
use sha2::{Digest, Sha256};
use testbed::github::{zip_of, GitHubConfig, ReleaseAsset, WorkflowRun};
use testbed::warehouse::WarehouseConfig;

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn dist_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn name_of(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// The `published` output of a publish of these files (as the publish step writes it).
fn published_of(files: &[PathBuf]) -> String {
    let list: Vec<serde_json::Value> = files
        .iter()
        .map(|p| {
            serde_json::json!({
                "filename": name_of(p),
                "status": "uploaded",
                "sha256": sha256(&std::fs::read(p).unwrap()),
                "url": format!("https://files.example/{}", name_of(p)),
            })
        })
        .collect();
    serde_json::Value::Array(list).to_string()
}

fn env(stack: &Stack) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_ACTIONS", "true".to_owned()),
        (
            "GITHUB_REPOSITORY",
            stack.github.config().repository.clone(),
        ),
        ("GITHUB_API_URL", stack.github.api_url()),
        ("GITHUB_TOKEN", stack.github.config().github_token.clone()),
    ]
}

async fn github_release(stack: &Stack, args: &[&str]) -> Outcome {
    let mut full = vec!["github-release"];
    full.extend_from_slice(args);
    common::run(stack.tmp.path(), &full, &env(stack)).await
}

/// Every request that carried the GitHub token went to the API host or the upload host.
fn token_stayed_home(stack: &Stack) {
    for r in stack.github.requests() {
        if r.has_authorization() {
            assert!(
                r.host == "api" || r.host == "uploads",
                "the token went to {}: {r:?}",
                r.host
            );
        }
    }
}

fn uploads(stack: &Stack) -> Vec<String> {
    stack
        .github
        .requests()
        .into_iter()
        .filter(|r| r.host == "uploads")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn writes(stack: &Stack) -> Vec<String> {
    stack
        .github
        .requests()
        .into_iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {} {}", r.host, r.method, r.path))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_published_files_are_attached_to_a_new_release_once() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.2.0");
    let published = stack
        .publish(&[dist.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(published.ok(), "{}", published.debug());
    stack
        .github
        .add_tag("v1.2.0", "0123456789abcdef0123456789abcdef01234567");

    let args = [
        "--published",
        &published.output("published"),
        "--release-url",
        &published.output("release-url"),
        "--packages-dir",
        dist.to_str().unwrap(),
    ];
    let out = github_release(&stack, &args).await;
    assert!(out.ok(), "{}", out.debug());

    let releases = stack.github.releases();
    assert_eq!(releases.len(), 1, "{releases:?}");
    let release = &releases[0];
    assert_eq!(release.tag_name, "v1.2.0");
    assert!(!release.prerelease && !release.draft);
    assert_eq!(release.make_latest.as_deref(), Some("legacy"));
    let body = release.body.clone().unwrap_or_default();
    assert!(
        body.contains(&published.output("release-url")),
        "the notes must link the release on the index: {body}"
    );
    let assets = stack.github.release_assets(release.id);
    let files = dist_files(&dist);
    assert_eq!(assets.len(), files.len(), "{assets:?}");
    for f in &files {
        let a = assets.iter().find(|a| a.name == name_of(f)).unwrap();
        assert_eq!(a.bytes, std::fs::read(f).unwrap(), "{}", a.name);
    }
    assert_eq!(
        out.output("github-release-url"),
        "https://github.com/octo-org/octo-repo/releases/tag/v1.2.0"
    );
    let urls = out.output("github-asset-urls");
    assert_eq!(urls.lines().count(), 2, "{urls}");
    for f in &files {
        assert!(urls.contains(&name_of(f)), "{urls}");
    }
    assert_eq!(uploads(&stack).len(), 2, "{:?}", uploads(&stack));
    for u in uploads(&stack) {
        assert!(
            u.starts_with(&format!(
                "POST /repos/octo-org/octo-repo/releases/{}/assets?name=",
                release.id
            )),
            "{u}"
        );
    }
    token_stayed_home(&stack);
    out.assert_no_secret(&stack.secrets());

    // Again: nothing is sent twice, nothing changes, the outputs are the same.
    let again = github_release(&stack, &args).await;
    assert!(again.ok(), "{}", again.debug());
    assert_eq!(uploads(&stack).len(), 2, "a re-run uploaded again");
    assert_eq!(stack.github.releases().len(), 1);
    assert_eq!(stack.github.release_assets(release.id).len(), 2);
    assert!(
        again
            .stderr
            .contains("already attached with the same sha256"),
        "{}",
        again.debug()
    );
    assert_eq!(again.output("github-asset-urls"), urls);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_the_published_one_is_refused_and_nothing_is_attached() {
    let stack = Stack::start().await;
    stack
        .github
        .add_tag("v1.0.0", "0123456789abcdef0123456789abcdef01234567");
    let dist = stack.dists(PROJECT, "1.0.0");
    let files = dist_files(&dist);
    let published = published_of(&files);
    // The sdist was rebuilt after the publish: same name, other bytes.
    let sdist = files
        .iter()
        .find(|f| name_of(f).ends_with(".tar.gz"))
        .unwrap();
    let mut bytes = std::fs::read(sdist).unwrap();
    bytes.push(0);
    std::fs::write(sdist, &bytes).unwrap();

    let out = github_release(&stack, &["--published", &published, dist.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(out.stderr.contains(&name_of(sdist)), "{}", out.debug());
    assert!(
        out.stderr.contains("not the file that was published"),
        "{}",
        out.debug()
    );
    assert!(
        out.stderr.contains("nothing was attached"),
        "{}",
        out.debug()
    );
    assert!(stack.github.releases().is_empty());
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));

    // A published file that is missing altogether is named too.
    let wheel_only = dist_files(&dist)
        .into_iter()
        .filter(|f| name_of(f).ends_with(".whl"))
        .collect::<Vec<_>>();
    let out = github_release(
        &stack,
        &["--published", &published, wheel_only[0].to_str().unwrap()],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "{}: published, but not among the files given",
            name_of(sdist)
        )),
        "{}",
        out.debug()
    );
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_different_asset_under_a_published_name_needs_clobber() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let files = dist_files(&dist);
    let published = published_of(&files);
    let sdist_name = name_of(
        files
            .iter()
            .find(|f| name_of(f).ends_with(".tar.gz"))
            .unwrap(),
    );
    let release = stack
        .github
        .add_release("v1.0.0", Some("v1.0.0"), Some("hand-written notes"));
    stack.github.add_release_asset(ReleaseAsset::new(
        release,
        &sdist_name,
        b"another build".to_vec(),
    ));

    let args = [
        "--published",
        &published,
        "--packages-dir",
        dist.to_str().unwrap(),
    ];
    let out = github_release(&stack, &args).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "{sdist_name}: the release already has a different asset"
        )),
        "{}",
        out.debug()
    );
    assert!(out.stderr.contains("--clobber"), "{}", out.debug());
    // Not even the wheel, which had no conflict, was attached.
    assert!(uploads(&stack).is_empty(), "{:?}", uploads(&stack));
    assert_eq!(stack.github.release_assets(release).len(), 1);

    let mut with_clobber = args.to_vec();
    with_clobber.push("--clobber");
    let out = github_release(&stack, &with_clobber).await;
    assert!(out.ok(), "{}", out.debug());
    let assets = stack.github.release_assets(release);
    assert_eq!(assets.len(), 2, "{assets:?}");
    for f in &files {
        let a = assets.iter().find(|a| a.name == name_of(f)).unwrap();
        assert_eq!(a.bytes, std::fs::read(f).unwrap());
    }
    assert!(
        writes(&stack)
            .iter()
            .any(|w| w.starts_with("api DELETE /repos/octo-org/octo-repo/releases/assets/")),
        "{:?}",
        writes(&stack)
    );
    // An existing release keeps its notes.
    assert_eq!(
        stack.github.releases()[0].body.as_deref(),
        Some("hand-written notes")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_on_later_pages_count_and_a_lost_answer_does_not_upload_twice() {
    let stack = Stack::start_custom(
        GitHubConfig {
            per_page_max: 2,
            ..GitHubConfig::default()
        },
        WarehouseConfig::default(),
    )
    .await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let files = dist_files(&dist);
    let published = published_of(&files);
    let wheel = files.iter().find(|f| name_of(f).ends_with(".whl")).unwrap();
    let release = stack.github.add_release("v1.0.0", None, None);
    for other in ["notes.txt", "SHA256SUMS", "logo.png"] {
        stack.github.add_release_asset(ReleaseAsset::new(
            release,
            other,
            other.as_bytes().to_vec(),
        ));
    }
    // The wheel is already attached, on the second page of the asset list.
    stack.github.add_release_asset(ReleaseAsset::new(
        release,
        &name_of(wheel),
        std::fs::read(wheel).unwrap(),
    ));
    // The sdist's upload is stored, but its answer is lost: the retry meets `already_exists`.
    stack.github.lose_upload_answers(1);

    let out = github_release(&stack, &["--published", &published, dist.to_str().unwrap()]).await;
    assert!(out.ok(), "{}", out.debug());
    let assets = stack.github.release_assets(release);
    assert_eq!(assets.len(), 5, "{assets:?}");
    assert!(
        stack
            .github
            .requests()
            .iter()
            .any(|r| r.path.contains("/assets?") && r.path.contains("page=2")),
        "the second page of assets was never read"
    );
    let ups = uploads(&stack);
    assert_eq!(
        ups.len(),
        2,
        "the sdist once and its retry, the wheel never: {ups:?}"
    );
    assert!(ups.iter().all(|u| !u.contains(".whl")), "{ups:?}");
    assert_eq!(out.output("github-asset-urls").lines().count(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_goes_to_no_upload_host_but_githubs() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let published = published_of(&dist_files(&dist));
    stack.github.add_release("v1.0.0", None, None);
    // Same server, other origin: had the token been sent, the upload host would show it.
    let elsewhere = stack.github.upload_url().replace("127.0.0.1", "localhost");
    stack.github.set_release_upload_base(Some(elsewhere));

    let out = github_release(&stack, &["--published", &published, dist.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr
            .contains("refusing to send the GitHub token to http://localhost"),
        "{}",
        out.debug()
    );
    assert!(uploads(&stack).is_empty(), "{:?}", uploads(&stack));
    token_stayed_home(&stack);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_tag_is_not_created_on_the_default_branch() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let published = published_of(&dist_files(&dist));

    let out = github_release(&stack, &["--published", &published, dist.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("tag v1.0.0 does not exist"),
        "{}",
        out.debug()
    );
    assert!(stack.github.tags().is_empty());
    assert!(stack.github.releases().is_empty());

    // Another tag name is taken as given.
    stack
        .github
        .add_tag("release-1.0.0", "0123456789abcdef0123456789abcdef01234567");
    let out = github_release(
        &stack,
        &[
            "--published",
            &published,
            "--tag",
            "release-1.0.0",
            dist.to_str().unwrap(),
        ],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.github.releases()[0].tag_name, "release-1.0.0");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_come_from_the_run_artifacts_digest_checked() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "1.0.0");
    let files = dist_files(&dist);
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (name_of(f), std::fs::read(f).unwrap()))
        .collect();
    let entries: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let build = WorkflowRun::push_success(stack.github.config());
    stack.github.add_tag("v1.0.0", &build.head_sha);
    let run = stack.github.add_run(build);
    let artifact = stack.github.add_artifact(run, "dist", zip_of(&entries));
    let published = published_of(&files);

    // An artifact whose zip is not what GitHub recorded is refused before anything is attached.
    stack.github.set_artifact(artifact, |a| {
        a.digest = Some(format!("sha256:{}", "0".repeat(64)))
    });
    let run_id = run.to_string();
    let args = [
        "--published",
        published.as_str(),
        "--run-id",
        run_id.as_str(),
    ];
    let out = github_release(&stack, &args).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let refusal = format!(
        "artifact \"dist\" (id {artifact}): the downloaded zip's sha256 is {}, but GitHub \
         recorded {}",
        sha256(&zip_of(&entries)),
        "0".repeat(64)
    );
    assert!(out.stderr.contains(&refusal), "{}", out.debug());
    assert!(stack.github.releases().is_empty());
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));

    stack.github.set_artifact(artifact, |a| {
        a.digest = Some(format!("sha256:{}", sha256(&a.zip_bytes)))
    });
    let out = github_release(&stack, &args).await;
    assert!(out.ok(), "{}", out.debug());
    let release = stack.github.releases()[0].id;
    assert_eq!(stack.github.release_assets(release).len(), 2);
    assert!(stack.github.blob_auth_violations() == 0);
    token_stayed_home(&stack);
}

const OTHER_COMMIT: &str = "89abcdef0123456789abcdef0123456789abcdef";

/// A successful build run of `version`'s distributions (tagged by the caller); returns the
/// run id, its commit and the `published` output of its files.
fn build_run(stack: &Stack, version: &str) -> (u64, String, String) {
    let dist = stack.dists(PROJECT, version);
    let files = dist_files(&dist);
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| (name_of(f), std::fs::read(f).unwrap()))
        .collect();
    let entries: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let build = WorkflowRun::push_success(stack.github.config());
    let sha = build.head_sha.clone();
    let run = stack.github.add_run(build);
    stack.github.add_artifact(run, "dist", zip_of(&entries));
    (run, sha, published_of(&files))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_on_another_commit_than_the_build_is_refused_and_nothing_is_written() {
    let stack = Stack::start().await;
    let (run, built, published) = build_run(&stack, "1.0.0");
    stack.github.add_tag("v1.0.0", OTHER_COMMIT);
    let run_id = run.to_string();
    let args = ["--published", published.as_str(), "--run-id", &run_id];

    let out = github_release(&stack, &args).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "tag v1.0.0 names commit {OTHER_COMMIT}, but run {run} built commit {built}"
        )),
        "{}",
        out.debug()
    );
    assert!(
        out.stderr
            .contains("nothing was written to the GitHub Release"),
        "{}",
        out.debug()
    );
    assert!(stack.github.releases().is_empty());
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));

    // The release exists already and the tag was moved after the build: no asset either.
    let release = stack.github.add_release("v1.0.0", None, None);
    let out = github_release(&stack, &args).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(out.stderr.contains(OTHER_COMMIT), "{}", out.debug());
    assert!(stack.github.release_assets(release).is_empty());
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));

    // Moved back to the commit that was built: attached.
    stack.github.move_tag("v1.0.0", &built);
    let out = github_release(&stack, &args).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.github.release_assets(release).len(), 2);
    token_stayed_home(&stack);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_annotated_tag_of_the_built_commit_passes_and_the_summary_names_the_commit() {
    let stack = Stack::start().await;
    let (run, built, published) = build_run(&stack, "1.0.0");
    let tag_object = stack.github.add_annotated_tag("v1.0.0", &built);
    let run_id = run.to_string();
    let args = ["--published", published.as_str(), "--run-id", &run_id];

    let out = github_release(&stack, &args).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.github.releases().len(), 1);
    assert!(
        stack
            .github
            .requests()
            .iter()
            .any(|r| r.path.ends_with(&format!("/git/tags/{tag_object}"))),
        "the annotated tag was never dereferenced"
    );
    assert!(
        out.summary.contains(&format!(
            "Tag <code>v1.0.0</code> names commit <code>{built}</code>; run {run} built commit {built}"
        )),
        "{}",
        out.summary
    );

    // A tag of a tag of the commit passes too; a chain deeper than the bound does not.
    stack.github.wrap_tag("v1.0.0").unwrap();
    let out = github_release(&stack, &args).await;
    assert!(out.ok(), "{}", out.debug());
    for _ in 0..4 {
        stack.github.wrap_tag("v1.0.0").unwrap();
    }
    let out = github_release(&stack, &args).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("a tag of a tag more than 4 deep"),
        "{}",
        out.debug()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn files_from_a_folder_are_bound_by_expect_sha_or_the_jobs_own_tag() {
    let stack = Stack::start().await;
    let built = "0123456789abcdef0123456789abcdef01234567";
    stack.github.add_tag("v1.0.0", built);
    let dist = stack.dists(PROJECT, "1.0.0");
    let published = published_of(&dist_files(&dist));
    let folder = dist.to_str().unwrap();

    // expect-sha names another commit than the tag's: refused, nothing written.
    let out = github_release(
        &stack,
        &[
            "--published",
            &published,
            "--expect-sha",
            OTHER_COMMIT,
            folder,
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "tag v1.0.0 names commit {built}, but expect-sha names commit {OTHER_COMMIT}"
        )),
        "{}",
        out.debug()
    );
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));

    // A job that runs for the tag compares with its own GITHUB_SHA.
    let job = |sha: &str| {
        let mut e = env(&stack);
        e.push(("GITHUB_REF", "refs/tags/v1.0.0".to_owned()));
        e.push(("GITHUB_SHA", sha.to_owned()));
        e
    };
    let args = ["github-release", "--published", &published, folder];
    let out = common::run(stack.tmp.path(), &args, &job(OTHER_COMMIT)).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains(&format!(
            "but this job runs for the tag at commit {OTHER_COMMIT}"
        )),
        "{}",
        out.debug()
    );
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));

    let out = common::run(stack.tmp.path(), &args, &job(built)).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        !out.stderr.contains("Cannot tell which commit was built"),
        "{}",
        out.debug()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn files_from_a_folder_with_nothing_to_compare_are_attached_with_a_warning() {
    let stack = Stack::start().await;
    stack
        .github
        .add_tag("v1.0.0", "0123456789abcdef0123456789abcdef01234567");
    let dist = stack.dists(PROJECT, "1.0.0");
    let published = published_of(&dist_files(&dist));

    // A job for another ref (a branch) says nothing about the tag's build.
    let mut e = env(&stack);
    e.push(("GITHUB_REF", "refs/heads/main".to_owned()));
    e.push(("GITHUB_SHA", OTHER_COMMIT.to_owned()));
    let out = common::run(
        stack.tmp.path(),
        &[
            "github-release",
            "--published",
            &published,
            dist.to_str().unwrap(),
        ],
        &e,
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stdout
            .contains("::warning title=Cannot tell which commit was built::tag v1.0.0 names commit 0123456789abcdef0123456789abcdef01234567, but nothing says"),
        "{}",
        out.debug()
    );
    assert!(out.stdout.contains("pass expect-sha"), "{}", out.debug());
    assert_eq!(stack.github.releases().len(), 1);
}

/// The release gets the files the index holds, and only those: a file the publish reports
/// `failed` refuses the whole attach (nothing written), and a wheel in the folder that was
/// never published is not attached beside the published ones.
#[tokio::test(flavor = "multi_thread")]
async fn neither_a_failed_file_nor_an_unpublished_one_is_attached() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.4.0");
    let published = stack
        .publish(&[dist.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(published.ok(), "{}", published.debug());
    stack
        .github
        .add_tag("v1.4.0", "0123456789abcdef0123456789abcdef01234567");
    let entries = published.published();
    let sdist = entries
        .iter()
        .find(|e| e["packagetype"] == "sdist")
        .unwrap()["filename"]
        .as_str()
        .unwrap()
        .to_owned();

    // The sdist failed in that publish (its sha256 still reported): refused, nothing written.
    let with_failed: Vec<serde_json::Value> = entries
        .iter()
        .cloned()
        .map(|mut e| {
            if e["filename"] == sdist.as_str() {
                e["status"] = "failed".into();
            }
            e
        })
        .collect();
    let with_failed = serde_json::Value::Array(with_failed).to_string();
    let dir = dist.to_str().unwrap();
    let out = github_release(&stack, &["--published", &with_failed, dir]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let refusal = format!("{sdist}: the publish step reports it `failed`, not on the index");
    assert!(out.stderr.contains(&refusal), "{}", out.debug());
    assert!(writes(&stack).is_empty(), "{:?}", writes(&stack));
    assert!(stack.github.releases().is_empty());

    // Another wheel of the version lies in the folder, never published: left out.
    let project = testbed::dists::Project::new(PROJECT, "1.4.0");
    let extra = testbed::dists::write_wheel(&project, &dist, "py2").unwrap();
    let out = github_release(
        &stack,
        &["--published", &published.output("published"), dir],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    let releases = stack.github.releases();
    assert_eq!(releases.len(), 1, "{releases:?}");
    let mut attached: Vec<String> = stack
        .github
        .release_assets(releases[0].id)
        .into_iter()
        .map(|a| a.name)
        .collect();
    attached.sort();
    let mut on_index: Vec<String> = entries
        .iter()
        .map(|e| e["filename"].as_str().unwrap().to_owned())
        .collect();
    on_index.sort();
    assert_eq!(attached, on_index, "{} was attached", name_of(&extra));
    assert_eq!(uploads(&stack).len(), 2, "{:?}", uploads(&stack));
}
