//! Provenance verification: attestations signed by the binary's own signer against the
//! testbed's Sigstore (Fulcio + Rekor + trusted root), verified by `attest::verify`, and each
//! way one can be wrong seen refused for its reason.
mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Stack, PROJECT};

use pypi_oidc_publish::attest::verify::{verify_attestation, Expected, TrustRoot};
use pypi_oidc_publish::attest::{Signer, SigstoreUrls};
use pypi_oidc_publish::github::id_token::RunnerOidc;
use pypi_oidc_publish::http::{Http, RetryPolicy};
use serde_json::Value;
use sha2::{Digest, Sha256};
use testbed::github::JobClaims;
use testbed::github::{GitHub, GitHubConfig};
use testbed::sigstore::{verify_with_sigstore_python, Sigstore, SigstoreConfig};
use url::Url;

/// The testbed's GitHub and Sigstore, and a signer holding a certificate for this
/// repository's `publish.yml` at `refs/heads/main`.
struct Signed {
    github: GitHub,
    sigstore: Sigstore,
    signer: Signer,
    http: Http,
}

static ENV_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

async fn signed() -> Signed {
    let github = GitHub::start(GitHubConfig::default()).await.unwrap();
    let sigstore = Sigstore::start(SigstoreConfig::for_issuer(github.issuer()))
        .await
        .unwrap();
    let http = test_http();
    let signer = signer(&http, &github, &sigstore).await;
    Signed {
        github,
        sigstore,
        signer,
        http,
    }
}

fn test_http() -> Http {
    Http::new(
        RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            budget: Duration::from_secs(20),
        },
        Duration::from_secs(10),
    )
    .unwrap()
}

/// A signer holding a certificate for the job `github` describes now (its claims).
async fn signer(http: &Http, github: &GitHub, sigstore: &Sigstore) -> Signer {
    let runner = {
        let _guard = ENV_LOCK.lock().unwrap();
        std::env::set_var(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            github.id_token_request_url(),
        );
        std::env::set_var(
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            github.id_token_request_token(),
        );
        RunnerOidc::for_job(&pypi_oidc_publish::github::runner::Runner::from_env()).unwrap()
    };
    let urls = SigstoreUrls {
        fulcio: Url::parse(&sigstore.fulcio_url()).unwrap(),
        rekor: Url::parse(&sigstore.rekor_url()).unwrap(),
    };
    Signer::new(http, &runner, &urls).await.unwrap()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

const WHEEL: &str = "demo_pkg-1.0.0-py3-none-any.whl";
const SDIST: &str = "demo_pkg-1.0.0.tar.gz";

impl Signed {
    fn trust(&self) -> TrustRoot {
        TrustRoot::from_json(&self.sigstore.trusted_root_json(), "the testbed's root").unwrap()
    }

    async fn attest(&self, filename: &str, sha256: &str) -> Value {
        self.signer
            .attest(&self.http, filename, sha256)
            .await
            .unwrap()
    }

    fn expected(&self) -> Expected {
        Expected {
            issuer: self.github.issuer(),
            repository: self.github.config().repository.clone(),
            workflow: Some("publish.yml".to_owned()),
            git_ref: Some("main".to_owned()),
            commit: None,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_good_attestation_verifies_and_names_its_publisher() {
    let s = signed().await;
    let sha = sha256_hex(b"wheel bytes");
    let attestation = s.attest(WHEEL, &sha).await;
    let verified = verify_attestation(&s.trust(), &attestation, WHEEL, &sha).unwrap();
    let id = &verified.identity;
    assert_eq!(id.repository, s.github.config().repository);
    assert_eq!(id.workflow, "publish.yml");
    assert_eq!(id.git_ref, "refs/heads/main");
    assert_eq!(id.issuer, s.github.issuer());
    assert_eq!(id.commit.len(), 40, "{id:?}");
    assert_eq!(
        verified.predicate_type,
        "https://docs.pypi.org/attestations/publish/v1"
    );
    assert_eq!(s.expected().mismatch(id), None);
    let mut with_commit = s.expected();
    with_commit.commit = Some(id.commit.clone());
    assert_eq!(with_commit.mismatch(id), None);
    with_commit.commit = Some("0".repeat(40));
    assert!(with_commit.mismatch(id).unwrap().contains("commit"));
    // The same workflow of another repository is another publisher.
    let mut other = s.expected();
    other.repository = "someone/else".to_owned();
    let why = other.mismatch(id).unwrap();
    assert!(
        why.starts_with("signed by another identity: repository "),
        "{why}"
    );
    let mut other = s.expected();
    other.workflow = Some("release.yml".to_owned());
    assert!(other.mismatch(id).unwrap().contains("workflow publish.yml"));
}

#[tokio::test(flavor = "multi_thread")]
async fn each_way_an_attestation_can_be_wrong_is_refused_for_its_reason() {
    let s = signed().await;
    let trust = s.trust();
    let wheel_sha = sha256_hex(b"wheel bytes");
    let sdist_sha = sha256_hex(b"sdist bytes");
    let wheel = s.attest(WHEEL, &wheel_sha).await;
    let sdist = s.attest(SDIST, &sdist_sha).await;
    verify_attestation(&trust, &wheel, WHEEL, &wheel_sha).unwrap();
    verify_attestation(&trust, &sdist, SDIST, &sdist_sha).unwrap();
    #[track_caller]
    fn refused_by(trust: &TrustRoot, attestation: &Value, filename: &str, sha: &str) -> String {
        match verify_attestation(trust, attestation, filename, sha) {
            Ok(v) => panic!("verified: {v:?}"),
            Err(why) => why,
        }
    }

    // The file's content changed: its sha256 is in no subject.
    let why = refused_by(&trust, &wheel, WHEEL, &sha256_hex(b"tampered"));
    assert!(why.contains("does not match any subject"), "{why}");

    // Another file's attestation served for this one.
    let why = refused_by(&trust, &sdist, WHEEL, &wheel_sha);
    assert!(why.contains("does not match any subject"), "{why}");

    // The right content under another name: signed for the sdist's name.
    let renamed = s.attest(SDIST, &wheel_sha).await;
    let why = refused_by(&trust, &renamed, WHEEL, &wheel_sha);
    assert_eq!(
        why,
        format!("the attestation is for {SDIST}, not for this file")
    );

    // A statement changed after signing.
    let mut forged = wheel.clone();
    let statement = forged["envelope"]["statement"].as_str().unwrap().to_owned();
    let sdist_statement = sdist["envelope"]["statement"].as_str().unwrap();
    assert_ne!(statement, sdist_statement);
    forged["envelope"]["statement"] = sdist_statement.into();
    let why = refused_by(&trust, &forged, SDIST, &sdist_sha);
    assert!(why.starts_with("Sigstore verification failed: "), "{why}");

    // The Rekor entry's inclusion proof is another entry's.
    let mut proof_swapped = wheel.clone();
    let entry = "/verification_material/transparency_entries/0/inclusionProof";
    *proof_swapped.pointer_mut(entry).unwrap() = sdist.pointer(entry).unwrap().clone();
    let why = refused_by(&trust, &proof_swapped, WHEEL, &wheel_sha);
    assert!(why.starts_with("Sigstore verification failed: "), "{why}");

    // The log entry of another signature.
    let mut entry_swapped = wheel.clone();
    entry_swapped["verification_material"]["transparency_entries"] =
        sdist["verification_material"]["transparency_entries"].clone();
    let why = refused_by(&trust, &entry_swapped, WHEEL, &wheel_sha);
    assert!(why.starts_with("Sigstore verification failed: "), "{why}");

    // Not an attestation object at all.
    let why = refused_by(
        &trust,
        &serde_json::json!({"version": 2}),
        WHEEL,
        &wheel_sha,
    );
    assert_eq!(why, "not a version 1 attestation object");
}

#[tokio::test(flavor = "multi_thread")]
async fn another_sigstore_is_not_trusted() {
    let s = signed().await;
    let sha = sha256_hex(b"wheel bytes");
    let attestation = s.attest(WHEEL, &sha).await;
    let elsewhere = Sigstore::start(SigstoreConfig::for_issuer(s.github.issuer()))
        .await
        .unwrap();
    let other = TrustRoot::from_json(&elsewhere.trusted_root_json(), "another root").unwrap();
    let why = verify_attestation(&other, &attestation, WHEEL, &sha).unwrap_err();
    assert!(why.starts_with("Sigstore verification failed: "), "{why}");
    let public = TrustRoot::public_good().unwrap();
    let why = verify_attestation(&public, &attestation, WHEEL, &sha).unwrap_err();
    assert!(why.starts_with("Sigstore verification failed: "), "{why}");
}

// ---------------------------------------------------------------------------------------
// `verify NAME==VERSION` against the local Warehouse's simple API, files and integrity API,
// with sigstore-python's verdict on the same attestation and file beside each of ours.

struct Published {
    stack: Stack,
    trusted_root: PathBuf,
    dist: PathBuf,
    wheel: String,
    sdist: String,
}

async fn published() -> Published {
    let (published, sigstore) = published_keeping_sigstore().await;
    // The Sigstore must outlive the publish only: verifying needs no service but the index.
    drop(sigstore);
    published
}

/// A release published and signed through the testbed's Sigstore, which stays up to sign
/// more.
async fn published_keeping_sigstore() -> (Published, Sigstore) {
    let (stack, sigstore) = Stack::with_sigstore().await;
    let trusted_root = stack.tmp.path().join("trusted_root.json");
    std::fs::write(&trusted_root, sigstore.trusted_root_json()).unwrap();
    let dist = stack.dists(PROJECT, "1.0.0");
    let args = [
        dist.to_str().unwrap(),
        "--fulcio-url",
        &sigstore.fulcio_url(),
        "--rekor-url",
        &sigstore.rekor_url(),
    ];
    let out = stack.publish(&args, &stack.oidc_env()).await;
    assert!(out.ok(), "{}", out.debug());
    let files = stack.warehouse.files(PROJECT, "1.0.0");
    let name = |suffix: &str| {
        files
            .iter()
            .find(|f| f.filename.ends_with(suffix))
            .unwrap()
            .filename
            .clone()
    };
    let published = Published {
        wheel: name(".whl"),
        sdist: name(".tar.gz"),
        stack,
        trusted_root,
        dist,
    };
    (published, sigstore)
}

fn python() -> PathBuf {
    PathBuf::from(std::env::var("SIGSTORE_PYTHON").unwrap_or_else(|_| "python3".to_owned()))
}

impl Published {
    async fn verify(&self, extra: &[&str]) -> common::Outcome {
        let upload = self.stack.warehouse.upload_url();
        let issuer = self.stack.github.issuer();
        let repository = self.stack.github.config().repository.clone();
        let mut args = vec![
            "verify",
            "demo-package==1.0.0",
            "--repository-url",
            &upload,
            "--trust-root",
            self.trusted_root.to_str().unwrap(),
            "--oidc-issuer",
            &issuer,
            "--repository",
            &repository,
            "--report",
            "verify.json",
        ];
        args.extend_from_slice(extra);
        common::run(self.stack.tmp.path(), &args, &[]).await
    }

    /// The attestation the index serves for `filename`, written to a file for
    /// sigstore-python.
    fn served_attestation(&self, filename: &str) -> PathBuf {
        let provenance = self.stack.warehouse.provenance(filename).unwrap();
        let attestation = &provenance["attestation_bundles"][0]["attestations"][0];
        let path = self.stack.tmp.path().join(format!("{filename}.served"));
        std::fs::write(&path, attestation.to_string()).unwrap();
        path
    }

    /// sigstore-python's verdict on what the index serves for `filename`, checked against
    /// `local` with the publisher identity of `workflow`.
    fn python_accepts(&self, filename: &str, local: &Path, workflow: &str) -> bool {
        let claims = JobClaims::for_repo(self.stack.github.config());
        let identity = format!("https://github.com/{}", claims.job_workflow_ref)
            .replace("publish.yml", workflow);
        self.python_accepts_identity(filename, local, &identity)
    }

    /// sigstore-python's verdict with the certificate identity (its SAN) given in full.
    fn python_accepts_identity(&self, filename: &str, local: &Path, identity: &str) -> bool {
        verify_with_sigstore_python(
            &python(),
            &self.trusted_root,
            &self.served_attestation(filename),
            local,
            identity,
            &self.stack.github.issuer(),
        )
        .is_ok()
    }

    fn row<'a>(&self, out: &'a common::Outcome, filename: &str) -> &'a str {
        out.stdout
            .lines()
            .find(|l| l.contains(&format!(" {filename}: ")))
            .unwrap_or_else(|| panic!("no row for {filename}: {}", out.debug()))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_passes_a_good_release_and_names_its_publisher() {
    let p = published().await;
    let out = p
        .verify(&["--workflow", "publish.yml", "--ref", "main"])
        .await;
    assert!(out.ok(), "{}", out.debug());
    for filename in [&p.wheel, &p.sdist] {
        let row = p.row(&out, filename);
        assert!(row.starts_with("✅ verified "), "{row}");
        assert!(row.contains("publish.yml@refs/heads/main"), "{row}");
        assert!(p.python_accepts(filename, &p.dist.join(filename), "publish.yml"));
    }
    let report: Value = serde_json::from_str(&out.report).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["files"][0]["verdict"], "verified");
    assert_eq!(
        report["files"][0]["identity"]["repository"],
        p.stack.github.config().repository.as_str()
    );
    assert!(out.summary.contains("| ✅ verified |"), "{}", out.summary);
    // The integrity API was asked in its own media type.
    assert!(p
        .stack
        .warehouse
        .requests()
        .iter()
        .any(
            |(_, path, status)| path.starts_with("/integrity/demo-package/1.0.0/")
                && *status == 200
        ));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_another_publisher_identity_as_sigstore_python_does() {
    let p = published().await;
    let out = p.verify(&["--workflow", "release.yml"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ another identity")
            && row.contains("workflow publish.yml (expected release.yml)"),
        "{row}"
    );
    assert!(!p.python_accepts(&p.wheel, &p.dist.join(&p.wheel), "release.yml"));
    assert!(
        out.stderr
            .contains("2 of 2 files of demo-package==1.0.0 not verified"),
        "{}",
        out.stderr
    );
    let report: Value = serde_json::from_str(&out.report).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["files"][0]["verdict"], "another-identity");

    let upload = p.stack.warehouse.upload_url();
    let out = common::run(
        p.stack.tmp.path(),
        &[
            "verify",
            "demo-package==1.0.0",
            "--repository-url",
            &upload,
            "--trust-root",
            p.trusted_root.to_str().unwrap(),
            "--oidc-issuer",
            &p.stack.github.issuer(),
            "--repository",
            "someone/else",
        ],
        &[],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(p
        .row(&out, &p.sdist)
        .contains("repository octo-org/octo-repo (expected someone/else)"));
}

/// The index serves, for the wheel, an attestation of its very name and content but signed
/// with the certificate of another job (`claims`): another repository, or another workflow of
/// this one, as after a takeover. Returns that job's certificate identity (its SAN).
async fn serve_signed_by(p: &Published, sigstore: &Sigstore, claims: JobClaims) -> String {
    let identity = format!("https://github.com/{}", claims.job_workflow_ref);
    p.stack.github.set_claims(claims.clone());
    let http = test_http();
    let signer = signer(&http, &p.stack.github, sigstore).await;
    let stored = p
        .stack
        .warehouse
        .files(PROJECT, "1.0.0")
        .into_iter()
        .find(|f| f.filename == p.wheel)
        .unwrap();
    let attestation = signer
        .attest(&http, &p.wheel, &stored.sha256)
        .await
        .unwrap();
    let mut provenance = p.stack.warehouse.provenance(&p.wheel).unwrap();
    provenance["attestation_bundles"][0]["attestations"] = serde_json::json!([attestation]);
    provenance["attestation_bundles"][0]["publisher"]["repository"] = claims.repository.into();
    p.stack
        .warehouse
        .serve_provenance(&p.wheel, Some(provenance));
    identity
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_a_certificate_of_another_repository_or_workflow_as_sigstore_python_does() {
    let (p, sigstore) = published_keeping_sigstore().await;
    let ours = JobClaims::for_repo(p.stack.github.config());
    let our_identity = format!("https://github.com/{}", ours.job_workflow_ref);
    let wheel = p.dist.join(&p.wheel);

    // Another repository's `publish.yml`, at the same ref.
    let elsewhere = GitHubConfig {
        repository: "someone/else".to_owned(),
        ..GitHubConfig::default()
    };
    let theirs = serve_signed_by(&p, &sigstore, JobClaims::for_repo(&elsewhere)).await;
    let out = p.verify(&["--workflow", "publish.yml"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ another identity")
            && row.contains("repository someone/else (expected octo-org/octo-repo)"),
        "{row}"
    );
    assert!(p.row(&out, &p.sdist).starts_with("✅ verified"));
    // sigstore-python refuses it for this repository and accepts it for the other: the
    // attestation is sound, only its signer is not the expected one.
    assert!(!p.python_accepts_identity(&p.wheel, &wheel, &our_identity));
    assert!(p.python_accepts_identity(&p.wheel, &wheel, &theirs));

    // This repository's other workflow.
    let mut release_yml = ours.clone();
    release_yml.job_workflow_ref = ours.job_workflow_ref.replace("publish.yml", "release.yml");
    release_yml.workflow_ref = release_yml.job_workflow_ref.clone();
    let theirs = serve_signed_by(&p, &sigstore, release_yml).await;
    let out = p.verify(&["--workflow", "publish.yml"]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ another identity")
            && row.contains("workflow release.yml (expected publish.yml)"),
        "{row}"
    );
    assert!(!p.python_accepts_identity(&p.wheel, &wheel, &our_identity));
    assert!(p.python_accepts_identity(&p.wheel, &wheel, &theirs));
    // Without --workflow, any workflow of the repository is its publisher.
    let out = p.verify(&[]).await;
    assert!(out.ok(), "{}", out.debug());
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_fails_each_bad_file_for_its_reason_as_sigstore_python_does() {
    let p = published().await;
    let wheel_provenance = p.stack.warehouse.provenance(&p.wheel).unwrap();
    let sdist_provenance = p.stack.warehouse.provenance(&p.sdist).unwrap();

    // The index serves the sdist's attestation for the wheel.
    p.stack
        .warehouse
        .serve_provenance(&p.wheel, Some(sdist_provenance.clone()));
    let out = p.verify(&[]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ invalid") && row.contains("does not match any subject"),
        "{row}"
    );
    assert!(p.row(&out, &p.sdist).starts_with("✅ verified"));
    assert!(!p.python_accepts(&p.wheel, &p.dist.join(&p.wheel), "publish.yml"));

    // The wheel's Rekor entry with the sdist entry's inclusion proof.
    let mut swapped = wheel_provenance.clone();
    let proof = "/attestation_bundles/0/attestations/0/verification_material/\
                 transparency_entries/0/inclusionProof";
    *swapped.pointer_mut(proof).unwrap() = sdist_provenance.pointer(proof).unwrap().clone();
    p.stack.warehouse.serve_provenance(&p.wheel, Some(swapped));
    let out = p.verify(&[]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ invalid")
            && row.contains("Sigstore verification failed: invalid inclusion proof"),
        "{row}"
    );
    assert!(!p.python_accepts(&p.wheel, &p.dist.join(&p.wheel), "publish.yml"));

    // No provenance at all.
    p.stack.warehouse.serve_provenance(&p.wheel, None);
    let out = p.verify(&[]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(p.row(&out, &p.wheel).starts_with("❌ unsigned"));

    // The file the index serves is not the one it lists (and signed).
    p.stack
        .warehouse
        .serve_provenance(&p.wheel, Some(wheel_provenance));
    let stored = p
        .stack
        .warehouse
        .files(PROJECT, "1.0.0")
        .into_iter()
        .find(|f| f.filename == p.wheel)
        .unwrap();
    let mut bytes = std::fs::read(&stored.path).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&stored.path, &bytes).unwrap();
    let out = p.verify(&[]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ invalid")
            && row.contains(&format!("the index lists {}", stored.sha256)),
        "{row}"
    );
    assert!(!p.python_accepts(&p.wheel, &stored.path, "publish.yml"));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_checks_local_files_instead_of_downloading_them() {
    let p = published().await;
    let downloads = |p: &Published| {
        p.stack
            .warehouse
            .requests()
            .iter()
            .filter(|(_, path, _)| path.starts_with("/packages/"))
            .count()
    };

    // The folder the release was built into: both files verified, none downloaded.
    let out = p.verify(&[p.dist.to_str().unwrap()]).await;
    assert!(out.ok(), "{}", out.debug());
    assert!(p.row(&out, &p.wheel).starts_with("✅ verified"));
    assert!(p.row(&out, &p.sdist).starts_with("✅ verified"));
    assert_eq!(downloads(&p), 0, "local files are not downloaded");

    // A local copy of the wheel changed after the download: refused, as sigstore-python
    // refuses it; only the files given are checked.
    let elsewhere = p.stack.tmp.path().join("downloaded");
    std::fs::create_dir(&elsewhere).unwrap();
    let local = elsewhere.join(&p.wheel);
    let mut bytes = std::fs::read(p.dist.join(&p.wheel)).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&local, &bytes).unwrap();
    let out = p.verify(&[local.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    let row = p.row(&out, &p.wheel);
    assert!(
        row.starts_with("❌ invalid") && row.contains("its content has sha256"),
        "{row}"
    );
    assert!(!out.stdout.contains(&p.sdist), "{}", out.stdout);
    assert!(!p.python_accepts(&p.wheel, &local, "publish.yml"));

    // A file the index does not list for this release.
    let stray = elsewhere.join("demo_package-1.0.0-py2-none-any.whl");
    std::fs::write(&stray, b"not on the index").unwrap();
    let out = p.verify(&[stray.to_str().unwrap()]).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(p
        .row(&out, "demo_package-1.0.0-py2-none-any.whl")
        .contains("the index lists no file of that name for demo-package==1.0.0"));
    assert_eq!(downloads(&p), 0);
}

// ---------------------------------------------------------------------------------------
// Read back after a publish: the provenance the index serves for each signed file, verified
// against the trust root and this run's own certificate identity.

async fn publish_with_trust_root(
    stack: &Stack,
    sigstore: &Sigstore,
    trusted_root: &Path,
    dist: &Path,
) -> common::Outcome {
    let args = [
        dist.to_str().unwrap(),
        "--fulcio-url",
        &sigstore.fulcio_url(),
        "--rekor-url",
        &sigstore.rekor_url(),
        "--trust-root",
        trusted_root.to_str().unwrap(),
    ];
    stack.publish(&args, &stack.oidc_env()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_reads_back_and_verifies_the_provenance_of_every_file() {
    let (stack, sigstore) = Stack::with_sigstore().await;
    let trusted_root = stack.tmp.path().join("trusted_root.json");
    std::fs::write(&trusted_root, sigstore.trusted_root_json()).unwrap();
    let dist = stack.dists(PROJECT, "1.0.0");
    let out = publish_with_trust_root(&stack, &sigstore, &trusted_root, &dist).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(out.output("complete"), "true");
    let published = out.published();
    assert_eq!(published.len(), 2);
    for entry in &published {
        assert_eq!(entry["provenance"], "verified", "{entry}");
    }
    assert!(out.summary.contains("| Provenance |"), "{}", out.summary);
    assert_eq!(
        out.summary.matches("| ✅ verified |").count(),
        2,
        "{}",
        out.summary
    );
    assert!(
        out.stderr
            .contains("provenance read back from the index and verified for 2 files"),
        "{}",
        out.stderr
    );
    let integrity_reads = stack
        .warehouse
        .requests()
        .iter()
        .filter(|(_, path, _)| path.starts_with("/integrity/"))
        .count();
    assert_eq!(integrity_reads, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_whose_index_serves_another_files_provenance_is_incomplete() {
    let (stack, sigstore) = Stack::with_sigstore().await;
    let trusted_root = stack.tmp.path().join("trusted_root.json");
    std::fs::write(&trusted_root, sigstore.trusted_root_json()).unwrap();
    let first = stack.dists(PROJECT, "1.0.0");
    let out = publish_with_trust_root(&stack, &sigstore, &trusted_root, &first).await;
    assert!(out.ok(), "{}", out.debug());
    let old_wheel = stack
        .warehouse
        .files(PROJECT, "1.0.0")
        .into_iter()
        .find(|f| f.filename.ends_with(".whl"))
        .unwrap()
        .filename;

    // The index will serve the 1.0.0 wheel's provenance for the 2.0.0 wheel (the first
    // provenance stored for a file name is the one served).
    let second = stack.dists(PROJECT, "2.0.0");
    let new_wheel = std::fs::read_dir(&second)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".whl"))
        .unwrap();
    stack
        .warehouse
        .serve_provenance(&new_wheel, stack.warehouse.provenance(&old_wheel));
    let out = publish_with_trust_root(&stack, &sigstore, &trusted_root, &second).await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert_eq!(out.output("complete"), "false");
    let entry = out
        .published()
        .into_iter()
        .find(|e| e["filename"] == new_wheel.as_str())
        .unwrap();
    assert_eq!(entry["provenance"], "invalid", "{entry}");
    assert!(
        entry["error"]
            .as_str()
            .unwrap()
            .contains("does not match any subject"),
        "{entry}"
    );
    assert!(
        out.stderr
            .contains(&format!("provenance NOT verified: {new_wheel}")),
        "{}",
        out.stderr
    );
    assert!(out.summary.contains("| ❌ invalid |"), "{}", out.summary);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_publish_warns_when_the_previous_release_names_another_publisher() {
    let (stack, sigstore) = Stack::with_sigstore().await;
    let trusted_root = stack.tmp.path().join("trusted_root.json");
    std::fs::write(&trusted_root, sigstore.trusted_root_json()).unwrap();
    for version in ["1.0.0", "2.0.0"] {
        let dist = stack.dists(PROJECT, version);
        let out = publish_with_trust_root(&stack, &sigstore, &trusted_root, &dist).await;
        assert!(out.ok(), "{}", out.debug());
        assert!(
            !out.everything().contains("Provenance changed"),
            "the same publisher released {version} and the release before: {}",
            out.debug()
        );
    }
    // The index now says 2.0.0 came from another workflow (as after a moved workflow or a
    // takeover), named with a line break and a workflow command after it: outside data. Its
    // wheel (listed first) has no provenance at all: the sdist's names the publisher.
    for file in stack.warehouse.files(PROJECT, "2.0.0") {
        if file.filename.ends_with(".whl") {
            stack.warehouse.serve_provenance(&file.filename, None);
            continue;
        }
        let mut provenance = stack.warehouse.provenance(&file.filename).unwrap();
        provenance["attestation_bundles"][0]["publisher"]["workflow"] =
            "takeover.yml\n::error::forged".into();
        stack
            .warehouse
            .serve_provenance(&file.filename, Some(provenance));
    }
    let dist = stack.dists(PROJECT, "3.0.0");
    let out = publish_with_trust_root(&stack, &sigstore, &trusted_root, &dist).await;
    assert!(out.ok(), "a warning, not a failure: {}", out.debug());
    assert_eq!(out.output("complete"), "true");
    let warning = out
        .stdout
        .lines()
        .find(|l| l.starts_with("::warning title=Provenance changed::"))
        .unwrap_or_else(|| panic!("{}", out.debug()));
    assert!(
        warning.contains(
            "demo-package 3.0.0 was published by GitHub octo-org/octo-repo, workflow publish.yml"
        ) && warning
            .contains("but demo-package 2.0.0 by GitHub octo-org/octo-repo, workflow takeover.yml\\n::error::forged"),
        "{warning}"
    );
    assert!(
        !out.everything()
            .lines()
            .any(|l| l.starts_with("::error::forged")),
        "{}",
        out.debug()
    );
}
