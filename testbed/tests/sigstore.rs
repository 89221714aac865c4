//! The local Fulcio and Rekor against real clients of theirs: a hand-built keyless signer
//! (P-256 key, Fulcio certificate, DSSE envelope, Rekor entry, PEP 740 attestation), the
//! local Warehouse's upload checks, and sigstore-python / pypi-attestations as the
//! reference verifier.
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use p256::pkcs8::EncodePublicKey as _;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use x509_cert::der::asn1::{BitString, Utf8StringRef};
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode as _, Encode as _, EncodePem as _};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, Version as ReqVersion};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::Certificate;

use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};
use testbed::github::{GitHub, GitHubConfig, JobClaims};
use testbed::sigstore::{pae, verify_with_sigstore_python, Sigstore, SigstoreConfig};
use testbed::{TrustedIssuer, TrustedPublisher, Warehouse, WarehouseConfig};

const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const PUBLISH_V1: &str = "https://docs.pypi.org/attestations/publish/v1";
const PREFIX: &str = "Invalid attestations supplied during upload: ";

struct Env {
    github: GitHub,
    sigstore: Sigstore,
    warehouse: Warehouse,
    claims: JobClaims,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

async fn setup() -> Env {
    let github = GitHub::start(GitHubConfig::default()).await.unwrap();
    let sigstore = Sigstore::start(SigstoreConfig::for_issuer(github.issuer()))
        .await
        .unwrap();
    let warehouse = Warehouse::start(WarehouseConfig {
        trusted_issuer: Some(TrustedIssuer {
            issuer: github.issuer(),
            public_key_pem: testbed::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.to_owned(),
        }),
        sigstore_trust: Some(sigstore.trust_root().unwrap()),
        ..WarehouseConfig::default()
    })
    .await
    .unwrap();
    let config = github.config().clone();
    warehouse.add_trusted_publisher(TrustedPublisher {
        project: "demo-pkg".into(),
        repository_owner: config.owner().into(),
        repository_owner_id: config.repository_owner_id.to_string(),
        repository: config.name().into(),
        workflow_filename: "publish.yml".into(),
        environment: None,
        pending: false,
    });
    let claims = JobClaims::for_repo(&config);
    Env {
        github,
        sigstore,
        warehouse,
        claims,
        dir: tempfile::tempdir().unwrap(),
        http: reqwest::Client::new(),
    }
}

fn random_key() -> SigningKey {
    loop {
        let bytes: [u8; 32] = rand::random();
        if let Ok(key) = SigningKey::from_bytes(&bytes.into()) {
            return key;
        }
    }
}

fn spki_pem(key: &SigningKey) -> String {
    key.verifying_key()
        .to_public_key_pem(p256::pkcs8::LineEnding::LF)
        .unwrap()
}

fn csr_pem(key: &SigningKey) -> String {
    let spki = key.verifying_key().to_public_key_der().unwrap();
    let info = CertReqInfo {
        version: ReqVersion::V1,
        subject: Name::default(),
        public_key: SubjectPublicKeyInfoOwned::from_der(spki.as_bytes()).unwrap(),
        attributes: Default::default(),
    };
    let sig: DerSignature = key.sign(&info.to_der().unwrap());
    CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned {
            oid: ECDSA_SHA256,
            parameters: None,
        },
        signature: BitString::from_bytes(sig.as_bytes()).unwrap(),
    }
    .to_pem(x509_cert::der::pem::LineEnding::LF)
    .unwrap()
}

enum Shape {
    Csr,
    PublicKey,
}

/// `POST /api/v2/signingCert`; returns (status, JSON body).
async fn request_cert(
    sigstore: &Sigstore,
    key: &SigningKey,
    token: &str,
    shape: Shape,
) -> (u16, Value) {
    let body = match shape {
        Shape::Csr => json!({"certificateSigningRequest": B64.encode(csr_pem(key))}),
        Shape::PublicKey => {
            let sub = token_claim(token, "sub");
            let proof: DerSignature = key.sign(sub.as_bytes());
            json!({
                "credentials": {"oidcIdentityToken": token},
                "publicKeyRequest": {
                    "publicKey": {"algorithm": "ECDSA", "content": spki_pem(key)},
                    "proofOfPossession": B64.encode(proof.as_bytes()),
                }
            })
        }
    };
    let mut req = reqwest::Client::new()
        .post(format!("{}/api/v2/signingCert", sigstore.fulcio_url()))
        .json(&body);
    if matches!(shape, Shape::Csr) {
        req = req.bearer_auth(token);
    }
    let resp = req.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

fn token_claim(token: &str, name: &str) -> String {
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims[name].as_str().unwrap().to_owned()
}

fn pem_to_der(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body).unwrap()
}

/// A signing key and the Fulcio certificate for it.
struct Signer {
    key: SigningKey,
    cert_der: Vec<u8>,
}

async fn signer_for(env: &Env, claims: &JobClaims) -> Signer {
    let key = random_key();
    let token = env.github.mint_id_token(claims, "sigstore").unwrap();
    let (status, body) = request_cert(&env.sigstore, &key, &token, Shape::Csr).await;
    assert_eq!(status, 200, "{body}");
    let leaf = body["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
        .as_str()
        .unwrap();
    Signer {
        key,
        cert_der: pem_to_der(leaf),
    }
}

fn statement(name: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": digest}}],
        "predicateType": PUBLISH_V1,
        "predicate": null,
    }))
    .unwrap()
}

/// Rekor's `{uuid: entry}` answer as a protobuf-JSON `TransparencyLogEntry`.
fn transparency_entry(answer: &Value) -> Value {
    let (_, e) = answer.as_object().unwrap().iter().next().unwrap();
    let hex64 = |h: &Value| B64.encode(hex::decode(h.as_str().unwrap()).unwrap());
    let proof = &e["verification"]["inclusionProof"];
    let body = B64.decode(e["body"].as_str().unwrap()).unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    json!({
        "logIndex": e["logIndex"].to_string(),
        "logId": {"keyId": hex64(&e["logID"])},
        "kindVersion": {"kind": body["kind"], "version": body["apiVersion"]},
        "integratedTime": e["integratedTime"].to_string(),
        "inclusionPromise": {"signedEntryTimestamp": e["verification"]["signedEntryTimestamp"]},
        "inclusionProof": {
            "logIndex": proof["logIndex"].to_string(),
            "rootHash": hex64(&proof["rootHash"]),
            "treeSize": proof["treeSize"].to_string(),
            "hashes": proof["hashes"].as_array().unwrap().iter().map(hex64).collect::<Vec<_>>(),
            "checkpoint": {"envelope": proof["checkpoint"]},
        },
        "canonicalizedBody": e["body"],
    })
}

/// `POST /api/v1/log/entries` of a `dsse` entry; returns (status, JSON body).
async fn log_dsse(
    sigstore: &Sigstore,
    signer: &Signer,
    payload: &[u8],
    sig: &[u8],
) -> (u16, Value) {
    let envelope = json!({
        "payload": B64.encode(payload),
        "payloadType": "application/vnd.in-toto+json",
        "signatures": [{"sig": B64.encode(sig)}],
    })
    .to_string();
    let cert_pem = x509_cert::der::pem::encode_string(
        "CERTIFICATE",
        x509_cert::der::pem::LineEnding::LF,
        &signer.cert_der,
    )
    .unwrap();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/log/entries", sigstore.rekor_url()))
        .json(&json!({
            "kind": "dsse",
            "apiVersion": "0.0.1",
            "spec": {"proposedContent": {
                "envelope": envelope,
                "verifiers": [B64.encode(cert_pem)],
            }},
        }))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// A PEP 740 attestation of `filename` with digest `sha256`.
async fn attest(sigstore: &Sigstore, signer: &Signer, filename: &str, sha256: &str) -> Value {
    let payload = statement(filename, sha256);
    let sig: DerSignature = signer
        .key
        .sign(&pae("application/vnd.in-toto+json", &payload));
    let (status, answer) = log_dsse(sigstore, signer, &payload, sig.as_bytes()).await;
    assert_eq!(status, 201, "{answer}");
    json!({
        "version": 1,
        "verification_material": {
            "certificate": B64.encode(&signer.cert_der),
            "transparency_entries": [transparency_entry(&answer)],
        },
        "envelope": {"statement": B64.encode(&payload), "signature": B64.encode(sig.as_bytes())},
    })
}

fn wheel(env: &Env, version: &str) -> (PathBuf, Vec<u8>) {
    let path =
        dists::write_wheel(&Project::new("demo-pkg", version), env.dir.path(), "py3").unwrap();
    let bytes = std::fs::read(&path).unwrap();
    (path, bytes)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A trusted publishing upload token for `claims` (its job_workflow_ref decides).
async fn upload_token(env: &Env) -> String {
    let jwt = env
        .github
        .mint_id_token(&env.claims, env.warehouse.audience())
        .unwrap();
    let resp = env
        .http
        .post(format!("{}/_/oidc/mint-token", env.warehouse.url()))
        .json(&json!({"token": jwt}))
        .send()
        .await
        .unwrap();
    let body: Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Uploads a wheel with `attestations`; returns (status, Warehouse's message).
async fn upload(
    env: &Env,
    token: &str,
    filename: &str,
    version: &str,
    bytes: &[u8],
    attestations: Option<&str>,
) -> (u16, String) {
    let mut form = reqwest::multipart::Form::new()
        .text(":action", "file_upload")
        .text("protocol_version", "1")
        .text("metadata_version", "2.4")
        .text("name", "demo-pkg")
        .text("version", version.to_owned())
        .text("filetype", "bdist_wheel")
        .text("pyversion", "py3")
        .text("sha256_digest", sha256_hex(bytes));
    if let Some(a) = attestations {
        form = form.text("attestations", a.to_owned());
    }
    form = form.part(
        "content",
        reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(filename.to_owned()),
    );
    let resp = env
        .http
        .post(env.warehouse.upload_url())
        .basic_auth("__token__", Some(token))
        .header("Accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    let code = body["code"].as_str().unwrap_or("").to_owned();
    let message = code
        .split_once(' ')
        .map_or(code.clone(), |(_, m)| m.to_owned());
    (status, message)
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("SIGSTORE_PYTHON") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python")
}

fn ext_utf8(cert: &Certificate, oid: &str) -> String {
    let oid = ObjectIdentifier::new(oid).unwrap();
    let ext = cert
        .tbs_certificate
        .extensions
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.extn_id == oid)
        .unwrap_or_else(|| panic!("no extension {oid}"));
    Utf8StringRef::from_der(ext.extn_value.as_bytes())
        .unwrap()
        .as_str()
        .to_owned()
}

#[tokio::test]
async fn fulcio_certifies_github_identities_in_both_request_shapes() {
    let env = setup().await;
    let repo = &env.github.config().repository;
    for shape in [Shape::Csr, Shape::PublicKey] {
        let key = random_key();
        let token = env.github.mint_id_token(&env.claims, "sigstore").unwrap();
        let (status, body) = request_cert(&env.sigstore, &key, &token, shape).await;
        assert_eq!(status, 200, "{body}");
        let chain = body["signedCertificateEmbeddedSct"]["chain"]["certificates"]
            .as_array()
            .unwrap();
        assert_eq!(chain.len(), 3, "leaf, intermediate, root");
        let leaf = Certificate::from_der(&pem_to_der(chain[0].as_str().unwrap())).unwrap();
        let tbs = &leaf.tbs_certificate;
        assert_eq!(
            tbs.subject_public_key_info.to_der().unwrap(),
            key.verifying_key().to_public_key_der().unwrap().as_bytes()
        );
        let v = &tbs.validity;
        assert_eq!(
            v.not_after.to_unix_duration() - v.not_before.to_unix_duration(),
            std::time::Duration::from_secs(600)
        );
        assert_eq!(
            ext_utf8(&leaf, "1.3.6.1.4.1.57264.1.8"),
            env.github.issuer()
        );
        assert_eq!(
            ext_utf8(&leaf, "1.3.6.1.4.1.57264.1.12"),
            format!("https://github.com/{repo}")
        );
        assert_eq!(
            ext_utf8(&leaf, "1.3.6.1.4.1.57264.1.18"),
            format!("https://github.com/{}", env.claims.workflow_ref)
        );
        assert_eq!(ext_utf8(&leaf, "1.3.6.1.4.1.57264.1.13"), env.claims.sha);
        assert_eq!(ext_utf8(&leaf, "1.3.6.1.4.1.57264.1.14"), env.claims.ref_);
        let issuer = Certificate::from_der(&pem_to_der(chain[1].as_str().unwrap())).unwrap();
        assert_eq!(tbs.issuer, issuer.tbs_certificate.subject);
    }
    assert_eq!(env.sigstore.issued_certificates().len(), 2);
}

#[tokio::test]
async fn fulcio_refuses_bad_tokens_and_proofs() {
    let env = setup().await;
    let key = random_key();
    let invalid_token = json!({
        "code": 3, "message": "There was an error processing the identity token", "details": []
    });
    // A token for PyPI, not for sigstore.
    let pypi = env.github.mint_id_token(&env.claims, "pypi").unwrap();
    let (status, body) = request_cert(&env.sigstore, &key, &pypi, Shape::Csr).await;
    assert_eq!((status, body), (400, invalid_token.clone()));
    // An expired token.
    let mut old = env.claims.clone();
    old.issued_at = Some(1_600_000_000);
    let expired = env.github.mint_id_token(&old, "sigstore").unwrap();
    let (status, body) = request_cert(&env.sigstore, &key, &expired, Shape::PublicKey).await;
    assert_eq!((status, body), (400, invalid_token));
    // A proof of possession by another key.
    let token = env.github.mint_id_token(&env.claims, "sigstore").unwrap();
    let other = random_key();
    let proof: DerSignature = other.sign(token_claim(&token, "sub").as_bytes());
    let resp = env
        .http
        .post(format!("{}/api/v2/signingCert", env.sigstore.fulcio_url()))
        .json(&json!({
            "credentials": {"oidcIdentityToken": token},
            "publicKeyRequest": {
                "publicKey": {"content": spki_pem(&key)},
                "proofOfPossession": B64.encode(proof.as_bytes()),
            }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        "The signature supplied in the request could not be verified"
    );
    // Faults on the "fulcio" route.
    env.sigstore.faults().inject(
        route::FULCIO,
        Fault::Status {
            status: 503,
            body: "{}".into(),
        },
        1,
    );
    let (status, _) = request_cert(&env.sigstore, &key, &token, Shape::Csr).await;
    assert_eq!(status, 503);
    assert!(env.sigstore.issued_certificates().is_empty());
}

#[tokio::test]
async fn rekor_logs_dsse_entries_in_a_merkle_tree() {
    let env = setup().await;
    let signer = signer_for(&env, &env.claims).await;
    let mut answers = Vec::new();
    for i in 0..3 {
        let payload = statement(
            &format!("demo_pkg-1.{i}-py3-none-any.whl"),
            &"ab".repeat(32),
        );
        let sig: DerSignature = signer
            .key
            .sign(&pae("application/vnd.in-toto+json", &payload));
        let (status, answer) = log_dsse(&env.sigstore, &signer, &payload, sig.as_bytes()).await;
        assert_eq!(status, 201, "{answer}");
        let (uuid, entry) = answer.as_object().unwrap().iter().next().unwrap();
        assert_eq!(uuid.len(), 80);
        assert_eq!(entry["logIndex"], i);
        assert_eq!(entry["verification"]["inclusionProof"]["treeSize"], i + 1);
        let body: Value =
            serde_json::from_slice(&B64.decode(entry["body"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(body["kind"], "dsse");
        assert_eq!(
            body["spec"]["payloadHash"]["value"],
            hex::encode(Sha256::digest(&payload))
        );
        let cert_pem = x509_cert::der::pem::encode_string(
            "CERTIFICATE",
            x509_cert::der::pem::LineEnding::LF,
            &signer.cert_der,
        )
        .unwrap();
        assert_eq!(
            body["spec"]["signatures"],
            json!([{"signature": B64.encode(sig.as_bytes()), "verifier": B64.encode(cert_pem)}])
        );
        answers.push((uuid.clone(), payload, sig));
    }
    assert_eq!(env.sigstore.entries().len(), 3);

    // The same entry again is a conflict.
    let (_, payload, sig) = &answers[0];
    let (status, body) = log_dsse(&env.sigstore, &signer, payload, sig.as_bytes()).await;
    assert_eq!(status, 409, "{body}");
    // A signature the verifier did not make is refused.
    let other: DerSignature = random_key().sign(&pae("application/vnd.in-toto+json", payload));
    let (status, body) = log_dsse(&env.sigstore, &signer, payload, other.as_bytes()).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(env.sigstore.entries().len(), 3);
    // Faults on the "rekor" route.
    env.sigstore
        .faults()
        .inject(route::REKOR, Fault::HtmlPage { status: 502 }, 1);
    let fresh = statement("demo_pkg-9.0-py3-none-any.whl", &"cd".repeat(32));
    let sig: DerSignature = signer
        .key
        .sign(&pae("application/vnd.in-toto+json", &fresh));
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/log/entries", env.sigstore.rekor_url()))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(env.sigstore.faults().fired(route::REKOR), 1);
    let (status, body) = log_dsse(&env.sigstore, &signer, &fresh, sig.as_bytes()).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(env.sigstore.entries().len(), 4);

    // The first entry, fetched now, is proven against the grown tree.
    let resp = env
        .http
        .get(format!(
            "{}/api/v1/log/entries/{}",
            env.sigstore.rekor_url(),
            answers[0].0
        ))
        .send()
        .await
        .unwrap();
    let fetched: Value = resp.json().await.unwrap();
    let proof = &fetched[&answers[0].0]["verification"]["inclusionProof"];
    assert_eq!(proof["treeSize"], 4);
    assert_eq!(proof["hashes"].as_array().unwrap().len(), 2);
    let info: Value = env
        .http
        .get(format!("{}/api/v1/log", env.sigstore.rekor_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["treeSize"], 4);
    assert_eq!(info["rootHash"], proof["rootHash"]);
}

#[tokio::test]
async fn sigstore_python_verifies_what_the_local_services_produce() {
    let env = setup().await;
    let signer = signer_for(&env, &env.claims).await;
    let root = env.dir.path().join("trusted_root.json");
    std::fs::write(&root, env.sigstore.trusted_root_json()).unwrap();
    let identity = format!("https://github.com/{}", env.claims.job_workflow_ref);
    let issuer = env.github.issuer();

    // Two files, so the second entry is proven in a tree of two.
    let mut attestations = Vec::new();
    for version in ["1.0", "2.0"] {
        let (path, bytes) = wheel(&env, version);
        let filename = path.file_name().unwrap().to_str().unwrap().to_owned();
        let attestation = attest(&env.sigstore, &signer, &filename, &sha256_hex(&bytes)).await;
        let att_path = env
            .dir
            .path()
            .join(format!("{filename}.publish.attestation"));
        std::fs::write(&att_path, attestation.to_string()).unwrap();
        verify_with_sigstore_python(&python(), &root, &att_path, &path, &identity, &issuer)
            .unwrap_or_else(|e| panic!("{e:#}"));
        attestations.push((path, att_path));
    }

    // A tampered file, another identity, an attestation of another file.
    let (path, att_path) = &attestations[0];
    let tampered = env.dir.path().join("tampered");
    std::fs::create_dir(&tampered).unwrap();
    let tampered = tampered.join(path.file_name().unwrap());
    std::fs::write(&tampered, b"not the attested bytes").unwrap();
    let err =
        verify_with_sigstore_python(&python(), &root, att_path, &tampered, &identity, &issuer)
            .unwrap_err();
    assert!(
        format!("{err:#}").contains("subject does not match distribution digest"),
        "{err:#}"
    );
    let err = verify_with_sigstore_python(
        &python(),
        &root,
        att_path,
        path,
        "https://github.com/octo-org/octo-repo/.github/workflows/other.yml@refs/heads/main",
        &issuer,
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("SANs do not match"), "{err:#}");
    let err = verify_with_sigstore_python(
        &python(),
        &root,
        &attestations[1].1,
        path,
        &identity,
        &issuer,
    )
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("subject does not match distribution name"),
        "{err:#}"
    );
    // Signed by a job whose top-level workflow is not the publishing one (a reusable
    // workflow called from release.yml): the SAN matches, PyPI's publisher policy does not.
    let mut called = env.claims.clone();
    called.workflow_ref = called.workflow_ref.replace("publish.yml", "release.yml");
    let reusable = signer_for(&env, &called).await;
    let bytes = std::fs::read(path).unwrap();
    let filename = path.file_name().unwrap().to_str().unwrap();
    let attestation = attest(&env.sigstore, &reusable, filename, &sha256_hex(&bytes)).await;
    let reusable_path = env.dir.path().join("reusable.attestation");
    std::fs::write(&reusable_path, attestation.to_string()).unwrap();
    let err =
        verify_with_sigstore_python(&python(), &root, &reusable_path, path, &identity, &issuer)
            .unwrap_err();
    assert!(
        format!("{err:#}").contains("does not match expected Trusted Publisher"),
        "{err:#}"
    );

    // Another sigstore instance's root does not vouch for these.
    let stranger = Sigstore::start(SigstoreConfig::for_issuer(env.github.issuer()))
        .await
        .unwrap();
    let other_root = env.dir.path().join("other_root.json");
    std::fs::write(&other_root, stranger.trusted_root_json()).unwrap();
    let err =
        verify_with_sigstore_python(&python(), &other_root, att_path, path, &identity, &issuer)
            .unwrap_err();
    assert!(format!("{err:#}").contains("certificate chain"), "{err:#}");
}

#[tokio::test]
async fn warehouse_accepts_a_verified_attestation_and_serves_its_provenance() {
    let env = setup().await;
    let signer = signer_for(&env, &env.claims).await;
    let (path, bytes) = wheel(&env, "1.0");
    let filename = path.file_name().unwrap().to_str().unwrap().to_owned();
    let attestation = attest(&env.sigstore, &signer, &filename, &sha256_hex(&bytes)).await;
    let field = json!([attestation]).to_string();
    let token = upload_token(&env).await;
    let (status, message) = upload(&env, &token, &filename, "1.0", &bytes, Some(&field)).await;
    assert_eq!(status, 200, "{message}");
    let files = env.warehouse.files("demo-pkg", "1.0");
    assert_eq!(files[0].attestations.as_deref(), Some(field.as_str()));

    let url = format!(
        "{}/integrity/demo-pkg/1.0/{filename}/provenance",
        env.warehouse.url()
    );
    let resp = env.http.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"],
        "application/vnd.pypi.integrity.v1+json"
    );
    let provenance: Value = resp.json().await.unwrap();
    let config = env.github.config();
    assert_eq!(provenance["version"], 1);
    let bundle = &provenance["attestation_bundles"][0];
    assert_eq!(
        bundle["publisher"],
        json!({"kind": "GitHub", "repository": config.repository, "workflow": "publish.yml",
               "environment": null})
    );
    assert_eq!(bundle["attestations"][0], attestation);
    let missing = env
        .http
        .get(url.replace("1.0/demo", "2.0/demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn warehouse_refuses_attestations_pypi_would_refuse() {
    let env = setup().await;
    let signer = signer_for(&env, &env.claims).await;
    let token = upload_token(&env).await;
    let (path, bytes) = wheel(&env, "1.0");
    let filename = path.file_name().unwrap().to_str().unwrap().to_owned();
    let digest = sha256_hex(&bytes);
    let refused = |reason: &str| format!("{PREFIX}{reason}");
    let verify_failed = |reason: &str| {
        refused(&format!(
            "Could not verify the uploaded artifact using the included attestation: \
             Verification failed: {reason}"
        ))
    };

    // The attested bytes are not the uploaded ones.
    let other = attest(
        &env.sigstore,
        &signer,
        &filename,
        &sha256_hex(b"other bytes"),
    )
    .await;
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([other]).to_string()),
    )
    .await;
    assert_eq!(
        (status, message),
        (
            400,
            verify_failed("subject does not match distribution digest")
        )
    );

    // An attestation of another file.
    let sdist = "demo_pkg-1.0.tar.gz";
    let other = attest(&env.sigstore, &signer, sdist, &digest).await;
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([other]).to_string()),
    )
    .await;
    assert_eq!(
        (status, message),
        (
            400,
            verify_failed(&format!(
                "subject does not match distribution name: {sdist} != {filename}"
            ))
        )
    );

    // Signed by another workflow of the repository than the trusted publisher's.
    let mut elsewhere = env.claims.clone();
    elsewhere.workflow_ref = elsewhere.workflow_ref.replace("publish.yml", "release.yml");
    let stranger = signer_for(&env, &elsewhere).await;
    let other = attest(&env.sigstore, &stranger, &filename, &digest).await;
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([other]).to_string()),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        message.starts_with(&verify_failed(
            "Certificate's Build Config URI (<Extension(oid="
        )),
        "{message}"
    );
    assert!(
        message.ends_with(&format!(
            "does not match expected Trusted Publisher (publish.yml @ {})",
            env.github.config().repository
        )),
        "{message}"
    );
    assert!(message.contains("release.yml@refs/heads/main"), "{message}");

    // Two attestations of the same type; an empty set; malformed JSON.
    let good = attest(&env.sigstore, &signer, &filename, &digest).await;
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([good, good]).to_string()),
    )
    .await;
    assert_eq!(
        (status, message),
        (
            400,
            refused(&format!(
                "Multiple attestations for the same file with the same predicate type \
                 ({PUBLISH_V1}) are not supported"
            ))
        )
    );
    let (status, message) = upload(&env, &token, &filename, "1.0", &bytes, Some("[]")).await;
    assert_eq!(
        (status, message),
        (
            400,
            refused("Malformed attestations: an empty attestation set is not permitted")
        )
    );
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some("[{\"version\": 1}]"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        message.starts_with(&refused(
            "Malformed attestations: 2 validation errors for list[Attestation]"
        )),
        "{message}"
    );

    // Certified by a Fulcio this index does not trust.
    let foreign = Sigstore::start(SigstoreConfig::for_issuer(env.github.issuer()))
        .await
        .unwrap();
    let key = random_key();
    let sigstore_token = env.github.mint_id_token(&env.claims, "sigstore").unwrap();
    let (status, body) = request_cert(&foreign, &key, &sigstore_token, Shape::Csr).await;
    assert_eq!(status, 200, "{body}");
    let foreign_signer = Signer {
        key,
        cert_der: pem_to_der(
            body["signedCertificateEmbeddedSct"]["chain"]["certificates"][0]
                .as_str()
                .unwrap(),
        ),
    };
    let other = attest(&foreign, &foreign_signer, &filename, &digest).await;
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([other]).to_string()),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        message.starts_with(&verify_failed(
            "failed to build timestamp certificate chain"
        )),
        "{message}"
    );

    // An API token instead of trusted publishing.
    let api_token = env.warehouse.add_api_token(Some("demo-pkg"));
    let (status, message) = upload(
        &env,
        &api_token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([good]).to_string()),
    )
    .await;
    assert_eq!(
        (status, message),
        (
            400,
            refused("Attestations are only supported when using Trusted Publishing")
        )
    );

    // Nothing was stored; the good attestation then goes through.
    assert!(env.warehouse.files("demo-pkg", "1.0").is_empty());
    let (status, message) = upload(
        &env,
        &token,
        &filename,
        "1.0",
        &bytes,
        Some(&json!([good]).to_string()),
    )
    .await;
    assert_eq!(status, 200, "{message}");
}

#[tokio::test]
async fn trust_config_names_the_local_services() {
    let env = setup().await;
    let path = env
        .sigstore
        .write_trust_config(&env.dir.path().join("sigstore"))
        .unwrap();
    let config: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(
        config["signingConfig"]["caUrls"][0]["url"],
        env.sigstore.fulcio_url()
    );
    assert_eq!(
        config["signingConfig"]["rekorTlogUrls"][0]["url"],
        env.sigstore.rekor_url()
    );
    assert_eq!(
        config["trustedRoot"]["mediaType"],
        "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
    );
    let root: Value = serde_json::from_str(&env.sigstore.trusted_root_json()).unwrap();
    assert_eq!(
        root["certificateAuthorities"][0]["certChain"]["certificates"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // The Rekor log id is the SHA-256 of its key's DER SubjectPublicKeyInfo.
    let tlog = &root["tlogs"][0];
    let spki = B64
        .decode(tlog["publicKey"]["rawBytes"].as_str().unwrap())
        .unwrap();
    assert_eq!(tlog["logId"]["keyId"], B64.encode(Sha256::digest(&spki)));
}

/// sigstore-python and pypi-attestations as the signing client: `Attestation.sign` with a
/// `SigningContext` built from the local trust config (CSR to Fulcio with the token as a
/// bearer, SCT check, Rekor v1 `dsse` entry), then the local Warehouse's upload checks.
const SIGN_PY: &str = r#"
import sys
from pathlib import Path
from pypi_attestations import Attestation, Distribution
from sigstore.models import ClientTrustConfig
from sigstore.oidc import IdentityToken
from sigstore.sign import SigningContext

config, token, dist, out = sys.argv[1:]
context = SigningContext.from_trust_config(ClientTrustConfig.from_json(Path(config).read_text()))
with context.signer(IdentityToken(token), cache=True) as signer:
    attestation = Attestation.sign(signer, Distribution.from_file(Path(dist)))
Path(out).write_text(attestation.model_dump_json())
"#;

#[tokio::test]
async fn sigstore_python_signs_against_the_local_services() {
    let env = setup().await;
    let config = env
        .sigstore
        .write_trust_config(&env.dir.path().join("sigstore"))
        .unwrap();
    let (path, bytes) = wheel(&env, "1.0");
    let out = env.dir.path().join("attestation.json");
    let token = env.github.mint_id_token(&env.claims, "sigstore").unwrap();
    // Asynchronously: the services run on this test's runtime.
    let output = tokio::process::Command::new(python())
        .arg("-c")
        .arg(SIGN_PY)
        .arg(&config)
        .arg(&token)
        .arg(&path)
        .arg(&out)
        .output()
        .await
        .unwrap();
    assert!(
        output.status.success(),
        "sigstore-python could not sign: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(env.sigstore.issued_certificates().len(), 1);
    assert_eq!(env.sigstore.entries().len(), 1);
    assert_eq!(env.sigstore.entries()[0].kind, "dsse");

    let root = config.with_file_name("trusted_root.json");
    let identity = format!("https://github.com/{}", env.claims.job_workflow_ref);
    verify_with_sigstore_python(
        &python(),
        &root,
        &out,
        &path,
        &identity,
        &env.github.issuer(),
    )
    .unwrap_or_else(|e| panic!("{e:#}"));

    let attestation = std::fs::read_to_string(&out).unwrap();
    let filename = path.file_name().unwrap().to_str().unwrap();
    let upload_token = upload_token(&env).await;
    let field = format!("[{attestation}]");
    let (status, message) =
        upload(&env, &upload_token, filename, "1.0", &bytes, Some(&field)).await;
    assert_eq!(status, 200, "{message}");
}
