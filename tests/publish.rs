//! The core publish path against the local Warehouse stand-in, with an API token: real
//! wheels and sdists, the real binary, and pip installing the result.
mod common;

use common::{pip_install_and_import, Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::WarehouseConfig;

fn sha256_hex(path: &std::path::Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[tokio::test(flavor = "multi_thread")]
async fn publishes_wheel_and_sdist_and_pip_installs_them() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.2.0");
    // Inside the action the binary gets its inputs only as INPUT_* variables.
    let out = stack
        .publish(
            &[],
            &[
                // In Actions, where masks are printed (outside, nothing is masked at all).
                ("GITHUB_ACTIONS", "true".to_owned()),
                ("INPUT_PASSWORD", token.clone()),
                ("INPUT_PACKAGES-DIR", dist.display().to_string()),
            ],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());

    let stored = stack.warehouse.files(PROJECT, "1.2.0");
    assert_eq!(stored.len(), 2, "both files stored");
    let published = out.published();
    assert_eq!(published.len(), 2);
    let urls: Vec<String> = out.output("urls").lines().map(str::to_owned).collect();
    assert_eq!(urls.len(), 2);
    for entry in &published {
        let filename = entry["filename"].as_str().unwrap();
        let local = dist.join(filename);
        assert_eq!(entry["sha256"], sha256_hex(&local), "{filename}");
        assert_eq!(entry["status"], "uploaded");
        assert_eq!(entry["confirmed"], true);
        assert_eq!(entry["size"], std::fs::metadata(&local).unwrap().len());
        let url = entry["url"].as_str().unwrap();
        assert!(urls.iter().any(|u| u == url), "{url} in urls output");
        assert!(url.starts_with(&stack.warehouse.url()), "{url}");
        assert!(stored.iter().any(|f| f.filename == filename));
        // The URL serves exactly the file that was published.
        let body = reqwest::get(url).await.unwrap().bytes().await.unwrap();
        assert_eq!(body.as_ref(), std::fs::read(&local).unwrap().as_slice());
    }
    let kinds: Vec<_> = published
        .iter()
        .map(|e| e["packagetype"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"bdist_wheel") && kinds.contains(&"sdist"));
    assert_eq!(
        out.output("release-url"),
        format!("{}/project/{PROJECT}/1.2.0/", stack.warehouse.url())
    );
    assert_eq!(out.output("complete"), "true");
    assert_eq!(out.output("version"), "1.2.0");

    // The report file is the same JSON as the `published` output.
    let report: serde_json::Value = serde_json::from_str(&out.report).unwrap();
    assert_eq!(report, serde_json::Value::Array(published.clone()));
    // The summary is a readable table with every file, its hash and its link.
    for entry in &published {
        assert!(out.summary.contains(entry["filename"].as_str().unwrap()));
        assert!(out.summary.contains(entry["sha256"].as_str().unwrap()));
        assert!(out.summary.contains(entry["url"].as_str().unwrap()));
    }
    assert!(
        out.summary.contains("Published demo-package 1.2.0"),
        "{}",
        out.summary
    );
    // stdout carries the URLs, one per line.
    for u in &urls {
        assert!(out.stdout.contains(u.as_str()));
    }
    // The token was masked, whole, before the uploads that use it, and appears nowhere else.
    let mask = out.mask_line("the API token", &token);
    assert!(
        mask < out.stdout_line("::group::Uploading"),
        "{}",
        out.stdout
    );
    assert!(!out.everything_but_masks().contains(&token), "token leaked");

    let version = pip_install_and_import(
        &stack.warehouse.simple_url(),
        "demo-package==1.2.0",
        "demo_package",
        stack.tmp.path(),
    );
    assert_eq!(version, "1.2.0");
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_fields_reach_the_index() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("meta");
    std::fs::create_dir_all(&dir).unwrap();
    let project = Project::new("meta-pkg", "0.3.0")
        .with_header("Classifier", "Programming Language :: Python :: 3")
        .with_header("Classifier", "License :: OSI Approved :: MIT License")
        .with_header("Requires-Dist", "requests>=2")
        .with_header("Requires-Dist", "rich; extra == \"cli\"")
        .with_header("Provides-Extra", "cli")
        .with_header("Project-URL", "Source, https://example.org/src")
        .with_header("Requires-Python", ">=3.9")
        .with_header("License-Expression", "MIT")
        .with_header("License-File", "LICENSE")
        .with_header("Keywords", "demo,publish");
    let wheel = dists::write_wheel(&project, &dir, "py3").unwrap();
    let out = stack
        .publish(&[wheel.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());
    let upload = stack
        .warehouse
        .uploads()
        .into_iter()
        .find(|u| u.status == 200)
        .expect("one accepted upload");
    let values = |key: &str| -> Vec<String> {
        upload
            .fields
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(values("classifiers").len(), 2);
    assert_eq!(
        values("requires_dist"),
        vec!["requests>=2", "rich; extra == \"cli\""]
    );
    assert_eq!(values("provides_extra"), vec!["cli"]);
    assert_eq!(
        values("project_urls"),
        vec!["Source, https://example.org/src"]
    );
    assert_eq!(values("requires_python"), vec![">=3.9"]);
    assert_eq!(values("license_expression"), vec!["MIT"]);
    assert_eq!(values("license_file"), vec!["LICENSE"]);
    // Warehouse splits keywords on commas and strips them.
    let keywords = values("keywords");
    assert_eq!(keywords.len(), 1);
    assert_eq!(
        keywords[0].split(',').map(str::trim).collect::<Vec<_>>(),
        vec!["demo", "publish"]
    );
    assert_eq!(
        values("metadata_version"),
        vec![project.metadata_version.clone()]
    );
    assert_eq!(values("filetype"), vec!["bdist_wheel"]);
    assert_eq!(values("pyversion"), vec!["py3"]);
    assert_eq!(values("sha256_digest"), vec![sha256_hex(&wheel)]);
    assert_eq!(values("blake2_256_digest").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_before_any_upload() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("bad");
    std::fs::create_dir_all(&dir).unwrap();
    // A good wheel, plus a wheel whose metadata names another project.
    dists::write_wheel(&Project::new(PROJECT, "2.0.0"), &dir, "py3").unwrap();
    let liar = Project::new("other-project", "2.0.0");
    dists::write_wheel_named(
        &liar,
        &dir,
        "demo_package-2.0.0-py2-none-any.whl",
        "other_project-2.0.0.dist-info",
        "py2-none-any",
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a distribution").unwrap();
    let out = stack
        .publish(
            &[dir.to_str().unwrap()],
            &[("INPUT_PASSWORD", token.clone())],
        )
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains("demo_package-2.0.0-py2-none-any.whl"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("nothing was uploaded"),
        "{}",
        out.stderr
    );
    assert!(
        stack.warehouse.uploads().is_empty(),
        "nothing may reach the index"
    );
    assert!(!out.everything().contains(&token));

    // Two versions in one run.
    let two = stack.tmp.path().join("two");
    std::fs::create_dir_all(&two).unwrap();
    dists::write_wheel(&Project::new(PROJECT, "2.0.0"), &two, "py3").unwrap();
    dists::write_sdist(&Project::new(PROJECT, "2.0.1"), &two).unwrap();
    let out = stack
        .publish(
            &[two.to_str().unwrap()],
            &[("INPUT_PASSWORD", token.clone())],
        )
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("2.0.1") && out.stderr.contains("2.0.0"),
        "{}",
        out.stderr
    );
    assert!(stack.warehouse.uploads().is_empty());

    // Nothing to publish at all.
    let empty = stack.tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = stack
        .publish(&[empty.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr.to_lowercase().contains("nothing to publish"),
        "{}",
        out.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rerun_is_idempotent_and_conflicts_name_both_hashes() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "3.0.0");
    let env = [("INPUT_PASSWORD", token.clone())];
    let first = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(first.ok(), "{}", first.debug());
    let uploads_after_first = stack.warehouse.uploads().len();

    // The same files again: already there, nothing sent, same URLs.
    let second = stack.publish(&[dist.to_str().unwrap()], &env).await;
    assert!(second.ok(), "{}", second.debug());
    assert_eq!(
        stack.warehouse.uploads().len(),
        uploads_after_first,
        "nothing re-sent"
    );
    assert_eq!(second.output("urls"), first.output("urls"));
    assert!(second
        .published()
        .iter()
        .all(|e| e["status"] == "already-there"));

    // A different wheel under the taken name: refused before anything is uploaded, with both
    // hashes, even with --skip-existing.
    let other = stack.tmp.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    let changed = Project::new(PROJECT, "3.0.0").with_header("Keywords", "rebuilt,differently");
    let wheel = dists::write_wheel(&changed, &other, "py3").unwrap();
    let index_sha = stack
        .warehouse
        .files(PROJECT, "3.0.0")
        .into_iter()
        .find(|f| f.filename.ends_with(".whl"))
        .unwrap()
        .sha256;
    let out = stack
        .publish(&[wheel.to_str().unwrap(), "--skip-existing"], &env)
        .await;
    assert!(!out.ok(), "{}", out.debug());
    assert!(out.stderr.contains(&sha256_hex(&wheel)), "{}", out.stderr);
    assert!(out.stderr.contains(&index_sha), "{}", out.stderr);
    assert!(out.stderr.contains("new version"), "{}", out.stderr);
    assert_eq!(stack.warehouse.uploads().len(), uploads_after_first);
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_uploads_nothing() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "4.0.0");
    let out = stack
        .publish(&[dist.to_str().unwrap(), "--dry-run", "--print-hash"], &[])
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(stack.warehouse.uploads().is_empty());
    let published = out.published();
    assert!(
        published.iter().all(|e| e["status"] == "would-upload"),
        "{published:?}"
    );
    for entry in &published {
        let name = entry["filename"].as_str().unwrap();
        assert!(
            out.stderr.contains(&sha256_hex(&dist.join(name))),
            "{}",
            out.stderr
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_are_explained() {
    let stack = Stack::start().await;
    let dist = stack.dists(PROJECT, "5.0.0");
    let out = stack
        .publish(
            &[dist.to_str().unwrap()],
            &[("PYPI_API_TOKEN", "pypi-not-a-real-token".to_owned())],
        )
        .await;
    assert!(!out.ok());
    assert!(
        out.stderr
            .contains("Invalid or non-existent authentication information"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("NOT on the index") || out.stderr.contains("nothing was published"),
        "{}",
        out.stderr
    );
    assert!(!out.everything().contains("pypi-not-a-real-token"));
    assert_eq!(out.output("complete"), "false");
    let published = out.published();
    assert!(
        published.iter().all(|e| e["status"] == "failed"),
        "{published:?}"
    );
}

/// Where the digests stand relative to the file in one upload's form: every digest field
/// after the `content` part (`false`) or before it (`true`).
fn digests_first(upload: &testbed::warehouse::UploadRecord) -> bool {
    let content_at = upload.content_at.expect("the upload had a content part");
    let positions: Vec<usize> = upload
        .fields
        .iter()
        .enumerate()
        .filter(|(_, (k, _))| k == "sha256_digest" || k == "blake2_256_digest")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(positions.len(), 2, "{upload:?}");
    let before = positions.iter().filter(|&&i| i < content_at).count();
    assert!(
        before == 0 || before == 2,
        "digests split around the content: {upload:?}"
    );
    before == 2
}

#[tokio::test(flavor = "multi_thread")]
async fn hash_first_sends_the_same_digests() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    for (version, hash_first) in [("6.0.0", true), ("6.0.1", false)] {
        let dist = stack.dists(PROJECT, version);
        let mut args = vec![dist.to_str().unwrap()];
        if hash_first {
            args.push("--hash-first");
        }
        let before = stack.warehouse.uploads().len();
        let out = stack
            .publish(&args, &[("INPUT_PASSWORD", token.clone())])
            .await;
        assert!(out.ok(), "{}", out.debug());
        let uploads = stack.warehouse.uploads().split_off(before);
        assert_eq!(uploads.len(), 2, "{uploads:?}");
        for upload in &uploads {
            let filename = upload.filename.clone().unwrap();
            let sent: Vec<_> = upload
                .fields
                .iter()
                .filter(|(k, _)| k == "sha256_digest")
                .collect();
            assert_eq!(sent.len(), 1);
            assert_eq!(sent[0].1, sha256_hex(&dist.join(&filename)));
            // The point of --hash-first: an index that reads the form as it streams has the
            // digests before the file; by default they follow it (one read of the file).
            assert_eq!(digests_first(upload), hash_first, "{filename}: {upload:?}");
        }
        assert_eq!(stack.warehouse.files(PROJECT, version).len(), 2);
    }
}

/// Over HTTPS: the runner trusts an index's certificate only through its roots (here
/// `SSL_CERT_FILE`), and the files go up over HTTP/1.1, a connection each, even though the
/// index offers HTTP/2 (README, Performance: multiplexed on one h2 connection they measured
/// slower in every benchmark).
#[tokio::test(flavor = "multi_thread")]
async fn over_https_files_go_up_over_http1_even_where_h2_is_offered() {
    let tls = testbed::tls::ServerTls::self_signed(true).unwrap();
    let stack = Stack::start_with(WarehouseConfig {
        tls: Some(tls.clone()),
        ..WarehouseConfig::default()
    })
    .await;
    assert!(stack.warehouse.upload_url().starts_with("https://"));
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.0.0");
    let dist_arg = dist.display().to_string();
    let args = ["--password", token.as_str(), dist_arg.as_str()];

    // The system's roots only: the index's CA is not among them.
    let untrusted = stack.publish(&args, &[]).await;
    assert_eq!(untrusted.code, 1, "{}", untrusted.debug());
    assert!(
        untrusted
            .stderr
            .contains("the server's TLS certificate was refused")
            && untrusted.stderr.contains("UnknownIssuer")
            && untrusted
                .stderr
                .contains("point SSL_CERT_FILE at a bundle that holds it"),
        "the error says what to fix: {}",
        untrusted.debug()
    );
    // Not retried: no answer could change.
    assert!(
        !untrusted.stderr.contains("attempt 1 of"),
        "{}",
        untrusted.debug()
    );
    assert!(stack.warehouse.uploads().is_empty());

    let ca = stack.tmp.path().join("index-ca.pem");
    std::fs::write(&ca, tls.ca_pem()).unwrap();
    let out = stack
        .publish(&args, &[("SSL_CERT_FILE", ca.display().to_string())])
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);
    let uploads = stack.warehouse.uploads();
    assert_eq!(uploads.len(), 2, "{uploads:?}");
    for upload in &uploads {
        assert_eq!(upload.status, 200);
        assert_eq!(
            upload.version,
            reqwest::Version::HTTP_11,
            "{:?} went up over {:?}",
            upload.filename,
            upload.version
        );
    }
}
