//! Provenance verification: attestations signed by the binary's own signer against the
//! testbed's Sigstore (Fulcio + Rekor + trusted root), verified by `attest::verify`, and each
//! way one can be wrong seen refused for its reason.
use std::time::Duration;

use pypi_oidc_publish::attest::verify::{verify_attestation, Expected, TrustRoot};
use pypi_oidc_publish::attest::{Signer, SigstoreUrls};
use pypi_oidc_publish::http::{Http, RetryPolicy};
use pypi_oidc_publish::oidc::RunnerOidc;
use serde_json::Value;
use sha2::{Digest, Sha256};
use testbed::github::{GitHub, GitHubConfig};
use testbed::sigstore::{Sigstore, SigstoreConfig};
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
        RunnerOidc::for_job(&pypi_oidc_publish::runner::Runner::from_env()).unwrap()
    };
    let http = Http::new(
        RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            budget: Duration::from_secs(20),
        },
        Duration::from_secs(10),
    )
    .unwrap();
    let urls = SigstoreUrls {
        fulcio: Url::parse(&sigstore.fulcio_url()).unwrap(),
        rekor: Url::parse(&sigstore.rekor_url()).unwrap(),
    };
    let signer = Signer::new(&http, &runner, &urls).await.unwrap();
    Signed {
        github,
        sigstore,
        signer,
        http,
    }
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
