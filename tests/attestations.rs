//! PEP 740 attestations end to end: signed by the binary against a local Fulcio and Rekor,
//! checked at upload by the local Warehouse as PyPI checks them, and verified independently
//! with sigstore-python against the local trust root.
mod common;

use std::path::{Path, PathBuf};

use common::{Stack, PROJECT};
use testbed::faults::{route, Fault};
use testbed::github::JobClaims;
use testbed::sigstore::{verify_with_sigstore_python, Sigstore};

struct Attested {
    stack: Stack,
    sigstore: Sigstore,
    trusted_root: PathBuf,
}

async fn attested_stack() -> Attested {
    let (stack, sigstore) = Stack::with_sigstore().await;
    let trusted_root = stack.tmp.path().join("trusted_root.json");
    std::fs::write(&trusted_root, sigstore.trusted_root_json()).unwrap();
    Attested {
        stack,
        sigstore,
        trusted_root,
    }
}

fn python() -> PathBuf {
    PathBuf::from(std::env::var("SIGSTORE_PYTHON").unwrap_or_else(|_| "python3".to_owned()))
}

impl Attested {
    async fn publish(&self, dist: &Path, report: &Path) -> common::Outcome {
        let args = [
            dist.to_str().unwrap(),
            "--fulcio-url",
            &self.sigstore.fulcio_url(),
            "--rekor-url",
            &self.sigstore.rekor_url(),
            "--report",
            report.to_str().unwrap(),
        ];
        self.stack.publish(&args, &self.stack.oidc_env()).await
    }

    fn identity(&self) -> String {
        let claims = JobClaims::for_repo(self.stack.github.config());
        format!("https://github.com/{}", claims.job_workflow_ref)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_file_is_attested_and_sigstore_python_verifies_it() {
    let a = attested_stack().await;
    let dist = a.stack.dists(PROJECT, "1.0.0");
    let reports = a.stack.tmp.path().join("reports");
    std::fs::create_dir_all(&reports).unwrap();
    let out = a.publish(&dist, &reports.join("report.json")).await;
    assert!(out.ok(), "{}", out.debug());

    // The index verified and stored an attestation for every file.
    let stored = a.stack.warehouse.files(PROJECT, "1.0.0");
    assert_eq!(stored.len(), 2);
    assert!(
        stored.iter().all(|f| f.attestations.is_some()),
        "{stored:?}"
    );
    assert_eq!(a.sigstore.entries().len(), 2, "one Rekor entry per file");
    // Nor in the report the test named, nor in the attestation files beside it.
    assert!(
        out.attestations.contains("\"version\""),
        "{}",
        out.attestations
    );
    out.assert_no_secret(&a.stack.secrets());
    assert!(
        out.summary
            .contains("PEP 740 publish attestations signed and uploaded for 2 files"),
        "{}",
        out.summary
    );

    for entry in out.published() {
        let filename = entry["filename"].as_str().unwrap();
        let file = reports.join(format!("{filename}.publish.attestation"));
        assert_eq!(entry["attestation_file"], file.display().to_string());
        let written: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        assert_eq!(written["version"], 1, "a PEP 740 attestation object");
        assert!(
            entry.get("attestation").is_none(),
            "kept out of the outputs (size limits)"
        );

        // Independent proof: sigstore-python against the local trust root, with the GitHub
        // publisher policy for this repository and workflow.
        let local = dist.join(filename);
        verify_with_sigstore_python(
            &python(),
            &a.trusted_root,
            &file,
            &local,
            &a.identity(),
            &a.stack.github.issuer(),
        )
        .unwrap_or_else(|e| panic!("{filename}: {e:#}"));
    }

    // Negative: a tampered file, a wrong workflow identity, another file's attestation.
    let wheel = stored
        .iter()
        .find(|f| f.filename.ends_with(".whl"))
        .unwrap()
        .filename
        .clone();
    let sdist = stored
        .iter()
        .find(|f| f.filename.ends_with(".tar.gz"))
        .unwrap()
        .filename
        .clone();
    let wheel_att = reports.join(format!("{wheel}.publish.attestation"));
    let tampered = a.stack.tmp.path().join("tampered");
    std::fs::create_dir_all(&tampered).unwrap();
    let mut bytes = std::fs::read(dist.join(&wheel)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(tampered.join(&wheel), bytes).unwrap();
    let err = verify_with_sigstore_python(
        &python(),
        &a.trusted_root,
        &wheel_att,
        &tampered.join(&wheel),
        &a.identity(),
        &a.stack.github.issuer(),
    );
    assert!(err.is_err(), "a tampered file must not verify");
    let other_identity = a.identity().replace("publish.yml", "evil.yml");
    let err = verify_with_sigstore_python(
        &python(),
        &a.trusted_root,
        &wheel_att,
        &dist.join(&wheel),
        &other_identity,
        &a.stack.github.issuer(),
    );
    assert!(err.is_err(), "another workflow's identity must not verify");
    let err = verify_with_sigstore_python(
        &python(),
        &a.trusted_root,
        &wheel_att,
        &dist.join(&sdist),
        &a.identity(),
        &a.stack.github.issuer(),
    );
    assert!(
        err.is_err(),
        "the wheel's attestation must not verify the sdist"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signing_failure_uploads_nothing_and_names_the_service() {
    let a = attested_stack().await;
    a.sigstore.faults().inject(
        route::FULCIO,
        Fault::Status {
            status: 401,
            body: r#"{"code":16,"message":"There was an error processing the identity token"}"#
                .into(),
        },
        1,
    );
    let dist = a.stack.dists(PROJECT, "2.0.0");
    let out = a.publish(&dist, &a.stack.tmp.path().join("r.json")).await;
    assert!(!out.ok());
    assert!(
        out.stderr.contains("Fulcio") && out.stderr.contains("identity token"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("nothing was uploaded"),
        "{}",
        out.stderr
    );
    assert!(a.stack.warehouse.uploads().is_empty());
    assert!(!out
        .everything_but_masks()
        .contains(&a.stack.github.issued_tokens()[0]));
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_sigstore_failures_are_retried() {
    let a = attested_stack().await;
    a.sigstore.faults().inject(
        route::FULCIO,
        Fault::Status {
            status: 503,
            body: "{}".into(),
        },
        1,
    );
    a.sigstore
        .faults()
        .inject(route::REKOR, Fault::HtmlPage { status: 502 }, 2);
    let dist = a.stack.dists(PROJECT, "3.0.0");
    let out = a.publish(&dist, &a.stack.tmp.path().join("r3.json")).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(a
        .stack
        .warehouse
        .files(PROJECT, "3.0.0")
        .iter()
        .all(|f| f.attestations.is_some()));
}

#[tokio::test(flavor = "multi_thread")]
async fn api_tokens_and_other_indexes_publish_without_attestations_and_say_so() {
    let a = attested_stack().await;
    let token = a.stack.warehouse.add_api_token(None);
    let dist = a.stack.dists(PROJECT, "4.0.0");
    let out = a
        .stack
        .publish(
            &[dist.to_str().unwrap()],
            &[("INPUT_PASSWORD", token), ("GITHUB_ACTIONS", "true".into())],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stdout.contains("only accepted with trusted publishing"),
        "{}",
        out.stdout
    );
    assert!(a.sigstore.entries().is_empty());

    // Trusted publishing to a local index with no Sigstore named: skipped with a notice.
    let dist = a.stack.dists(PROJECT, "4.1.0");
    let out = a
        .stack
        .publish(&[dist.to_str().unwrap()], &a.stack.oidc_env())
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stdout.contains("neither PyPI nor TestPyPI"),
        "{}",
        out.stdout
    );
    assert!(a.sigstore.entries().is_empty());
}
