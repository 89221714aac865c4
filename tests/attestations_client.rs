//! The Sigstore client against a small in-test Fulcio and Rekor that do what the real ones
//! do to a request (check the ID token's audience and the CSR's self-signature, issue a
//! certificate with an embedded SCT extension; verify the DSSE signature with the verifier
//! certificate, keep a real Merkle tree and answer inclusion proofs), plus the testbed's
//! GitHub for real ID tokens.
//!
//! What the stand-ins do not do is sign SCTs, SETs and checkpoints with keys of a trust
//! root: the client never checks those (the index does), and the testbed's own Sigstore
//! covers that end to end.
use std::collections::{HashMap, VecDeque};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use pypi_oidc_publish::attest::{Signer, SigstoreUrls};
use pypi_oidc_publish::github::id_token::RunnerOidc;
use pypi_oidc_publish::http::{Http, RetryPolicy};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use testbed::github::{GitHub, GitHubConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::Ia5String;
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode, EncodePem};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::{AsExtension, Extension};
use x509_cert::name::Name;
use x509_cert::request::CertReq;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
const LOG_ID: &str = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";

// ---------------------------------------------------------------------------------------
// A minimal HTTP/1.1 responder: one request per connection, `Connection: close`.

struct Req {
    method: String,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

fn resp(status: u16, body: Value) -> Resp {
    Resp {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string().into_bytes(),
    }
}

type Handler = Arc<dyn Fn(Req) -> Resp + Send + Sync>;

async fn serve(handler: Handler) -> Url {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            let handler = handler.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let head_end = loop {
                    let mut chunk = [0u8; 4096];
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        break i + 4;
                    }
                };
                let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                let mut lines = head.split("\r\n");
                let mut first = lines.next().unwrap_or_default().split(' ');
                let method = first.next().unwrap_or_default().to_owned();
                let path = first.next().unwrap_or_default().to_owned();
                let headers: HashMap<String, String> = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
                    .collect();
                let len: usize = headers
                    .get("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                let mut body = buf[head_end..].to_vec();
                while body.len() < len {
                    let mut chunk = [0u8; 4096];
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                let r = handler(Req {
                    method,
                    path,
                    headers,
                    body,
                });
                let mut out = format!(
                    "HTTP/1.1 {} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                    r.status,
                    r.body.len()
                );
                for (k, v) in &r.headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str("\r\n");
                let _ = sock.write_all(out.as_bytes()).await;
                let _ = sock.write_all(&r.body).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    Url::parse(&format!("http://{addr}")).unwrap()
}

// ---------------------------------------------------------------------------------------
// Fulcio.

/// Stands in for the RFC 6962 SCT list extension; the client only checks it is present.
struct SctList;
impl x509_cert::der::EncodeValue for SctList {
    fn value_len(&self) -> x509_cert::der::Result<x509_cert::der::Length> {
        Ok(x509_cert::der::Length::new(4))
    }
    fn encode_value(&self, w: &mut impl x509_cert::der::Writer) -> x509_cert::der::Result<()> {
        w.write(&[0, 2, 0, 0])
    }
}
impl x509_cert::der::FixedTag for SctList {
    const TAG: x509_cert::der::Tag = x509_cert::der::Tag::OctetString;
}
impl x509_cert::der::oid::AssociatedOid for SctList {
    const OID: x509_cert::der::oid::ObjectIdentifier =
        x509_cert::der::oid::ObjectIdentifier::new_unwrap("1.3.6.1.4.1.11129.2.4.2");
}
impl AsExtension for SctList {
    fn critical(&self, _: &Name, _: &[Extension]) -> bool {
        false
    }
}

#[derive(Default)]
struct FulcioState {
    /// Statuses to answer before behaving (503s for retry tests, 401 for refusals).
    faults: VecDeque<u16>,
    requests: usize,
    issued: Vec<Vec<u8>>,
}

struct Fulcio {
    ca_key: SigningKey,
    ca_name: Name,
    ca_pem: String,
    state: Mutex<FulcioState>,
}

impl Fulcio {
    fn new() -> Arc<Fulcio> {
        let ca_key = SigningKey::random(&mut rand_core::OsRng);
        let ca_name = Name::from_str("O=sigstore.dev,CN=sigstore-intermediate").unwrap();
        let spki = SubjectPublicKeyInfoOwned::from_key(VerifyingKey::from(&ca_key)).unwrap();
        let ca = CertificateBuilder::new(
            Profile::Root,
            SerialNumber::from(1u32),
            Validity::from_now(Duration::from_secs(3600)).unwrap(),
            ca_name.clone(),
            spki,
            &ca_key,
        )
        .unwrap()
        .build::<DerSignature>()
        .unwrap();
        Arc::new(Fulcio {
            ca_pem: ca.to_pem(LineEnding::LF).unwrap(),
            ca_key,
            ca_name,
            state: Mutex::new(FulcioState::default()),
        })
    }

    fn handle(&self, req: Req) -> Resp {
        let mut state = self.state.lock().unwrap();
        state.requests += 1;
        if req.method != "POST" || req.path != "/api/v2/signingCert" {
            return resp(404, json!({"code": 5, "message": "not found"}));
        }
        let token = req
            .headers
            .get("authorization")
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        if let Some(status) = state.faults.pop_front() {
            // A careless server that echoes the token in its error: the client must not
            // repeat it.
            return resp(
                status,
                json!({"code": 16, "message": format!("error processing the identity token {token}")}),
            );
        }
        let claims: Value = token
            .split('.')
            .nth(1)
            .and_then(|p| URL_SAFE_NO_PAD.decode(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        if claims["aud"] != "sigstore" {
            return resp(
                401,
                json!({"code": 16, "message": "the identity token's audience is not sigstore"}),
            );
        }
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let csr_pem = STANDARD
            .decode(body["certificateSigningRequest"].as_str().unwrap())
            .unwrap();
        let (label, der) = x509_cert::der::pem::decode_vec(&csr_pem).unwrap();
        assert_eq!(label, "CERTIFICATE REQUEST");
        let csr = CertReq::from_der(&der).unwrap();
        // Proof of possession: the CSR is signed by the key it asks a certificate for.
        let key =
            VerifyingKey::from_public_key_der(&csr.info.public_key.to_der().unwrap()).unwrap();
        let sig = DerSignature::try_from(csr.signature.raw_bytes()).unwrap();
        if key.verify(&csr.info.to_der().unwrap(), &sig).is_err() {
            return resp(400, json!({"code": 3, "message": "invalid CSR signature"}));
        }
        let san = format!(
            "https://github.com/{}",
            claims["job_workflow_ref"].as_str().unwrap()
        );
        let mut builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: self.ca_name.clone(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::from(state.issued.len() as u32 + 100),
            Validity::from_now(Duration::from_secs(600)).unwrap(),
            Name::default(),
            csr.info.public_key.clone(),
            &self.ca_key,
        )
        .unwrap();
        builder
            .add_extension(&SubjectAltName(vec![
                GeneralName::UniformResourceIdentifier(Ia5String::new(&san).unwrap()),
            ]))
            .unwrap();
        builder.add_extension(&SctList).unwrap();
        let leaf = builder.build::<DerSignature>().unwrap();
        state.issued.push(leaf.to_der().unwrap());
        resp(
            201,
            json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [
                leaf.to_pem(LineEnding::LF).unwrap(),
                self.ca_pem,
            ]}}}),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Rekor.

fn leaf_hash(body: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update([0u8])
        .chain_update(body)
        .finalize()
        .into()
}

fn node(l: &[u8; 32], r: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update([1u8])
        .chain_update(l)
        .chain_update(r)
        .finalize()
        .into()
}

fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = n.next_power_of_two() / 2;
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

fn audit_path(m: usize, leaves: &[[u8; 32]]) -> Vec<[u8; 32]> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = n.next_power_of_two() / 2;
    if m < k {
        let mut p = audit_path(m, &leaves[..k]);
        p.push(mth(&leaves[k..]));
        p
    } else {
        let mut p = audit_path(m - k, &leaves[k..]);
        p.push(mth(&leaves[..k]));
        p
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RekorFault {
    /// Answer 503 without logging.
    Unavailable,
    /// Log the entry, then answer 503 as if the answer were lost on the way.
    LoseAnswer,
    /// Refuse the entry as malformed.
    BadRequest,
}

#[derive(Default)]
struct Rekor {
    bodies: Mutex<Vec<Vec<u8>>>,
    faults: Mutex<VecDeque<RekorFault>>,
    requests: Mutex<Vec<(String, u16)>>,
}

impl Rekor {
    fn handle(&self, req: Req) -> Resp {
        let r = self.route(&req);
        self.requests
            .lock()
            .unwrap()
            .push((format!("{} {}", req.method, req.path), r.status));
        r
    }

    fn route(&self, req: &Req) -> Resp {
        let fault = if req.method == "POST" {
            self.faults.lock().unwrap().pop_front()
        } else {
            None
        };
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/api/v1/log/entries") => {
                if fault == Some(RekorFault::Unavailable) {
                    return resp(503, json!({"code": 503, "message": "unavailable"}));
                }
                if fault == Some(RekorFault::BadRequest) {
                    return resp(
                        400,
                        json!({"code": 400, "message": "verifying signature: invalid signature"}),
                    );
                }
                let body = match self.canonical_body(&req.body) {
                    Ok(b) => b,
                    Err(message) => return resp(400, json!({"code": 400, "message": message})),
                };
                let mut bodies = self.bodies.lock().unwrap();
                if let Some(i) = bodies.iter().position(|b| *b == body) {
                    let uuid = hex::encode(leaf_hash(&bodies[i]));
                    let mut r = resp(
                        409,
                        json!({"code": 409, "message": format!(
                            "An equivalent entry already exists in the transparency log with UUID {uuid}"
                        )}),
                    );
                    r.headers
                        .push(("location".into(), format!("/api/v1/log/entries/{uuid}")));
                    return r;
                }
                bodies.push(body);
                let index = bodies.len() - 1;
                if fault == Some(RekorFault::LoseAnswer) {
                    return resp(503, json!({"code": 503, "message": "gateway timeout"}));
                }
                resp(201, Self::entry(&bodies, index))
            }
            ("GET", path) if path.starts_with("/api/v1/log/entries/") => {
                let uuid = path.rsplit('/').next().unwrap_or_default();
                let bodies = self.bodies.lock().unwrap();
                match bodies
                    .iter()
                    .position(|b| hex::encode(leaf_hash(b)) == uuid)
                {
                    Some(i) => resp(200, Self::entry(&bodies, i)),
                    None => resp(404, json!({"code": 404, "message": "not found"})),
                }
            }
            _ => resp(404, json!({"code": 404, "message": "not found"})),
        }
    }

    /// What Rekor's `dsse` type does with a proposed entry: verify the envelope's signature
    /// over the PAE with the verifier certificate's key, and record hashes and signatures.
    fn canonical_body(&self, request: &[u8]) -> Result<Vec<u8>, String> {
        let request: Value = serde_json::from_slice(request).map_err(|e| e.to_string())?;
        if request["kind"] != "dsse" || request["apiVersion"] != "0.0.1" {
            return Err("unsupported kind".into());
        }
        let content = &request["spec"]["proposedContent"];
        let envelope_json = content["envelope"].as_str().ok_or("no envelope")?;
        let envelope: Value = serde_json::from_str(envelope_json).map_err(|e| e.to_string())?;
        let verifier_b64 = content["verifiers"][0].as_str().ok_or("no verifier")?;
        let pem = STANDARD.decode(verifier_b64).map_err(|e| e.to_string())?;
        let (_, der) = x509_cert::der::pem::decode_vec(&pem).map_err(|e| e.to_string())?;
        let cert = Certificate::from_der(&der).map_err(|e| e.to_string())?;
        let key = VerifyingKey::from_public_key_der(
            &cert
                .tbs_certificate
                .subject_public_key_info
                .to_der()
                .unwrap(),
        )
        .map_err(|e| e.to_string())?;
        let payload = STANDARD
            .decode(envelope["payload"].as_str().ok_or("no payload")?)
            .map_err(|e| e.to_string())?;
        let payload_type = envelope["payloadType"].as_str().ok_or("no payloadType")?;
        let sig_b64 = envelope["signatures"][0]["sig"].as_str().ok_or("no sig")?;
        let sig = DerSignature::try_from(STANDARD.decode(sig_b64).unwrap().as_slice())
            .map_err(|e| e.to_string())?;
        let mut pae = format!(
            "DSSEv1 {} {payload_type} {} ",
            payload_type.len(),
            payload.len()
        )
        .into_bytes();
        pae.extend_from_slice(&payload);
        key.verify(&pae, &sig)
            .map_err(|_| "verifying signature: invalid signature".to_owned())?;
        Ok(serde_json::to_vec(&json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope_json))},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
                "signatures": [{"signature": sig_b64, "verifier": verifier_b64}],
            }
        }))
        .unwrap())
    }

    fn entry(bodies: &[Vec<u8>], index: usize) -> Value {
        let leaves: Vec<[u8; 32]> = bodies.iter().map(|b| leaf_hash(b)).collect();
        let root = mth(&leaves);
        let uuid = format!("24296fb24b8ad77a{}", hex::encode(leaves[index]));
        json!({ uuid: {
            "body": STANDARD.encode(&bodies[index]),
            "integratedTime": 1_733_000_000 + index as u64,
            "logID": LOG_ID,
            "logIndex": 9_000_000 + index as u64,
            "verification": {
                "inclusionProof": {
                    "checkpoint": format!(
                        "rekor.local - 1\n{}\n{}\n\n\u{2014} rekor.local AAAA\n",
                        leaves.len(),
                        STANDARD.encode(root)
                    ),
                    "hashes": audit_path(index, &leaves).iter().map(hex::encode).collect::<Vec<_>>(),
                    "logIndex": index,
                    "rootHash": hex::encode(root),
                    "treeSize": leaves.len(),
                },
                "signedEntryTimestamp": "MEUCIQD4",
            }
        }})
    }
}

// ---------------------------------------------------------------------------------------
// Harness.

struct Env {
    github: GitHub,
    fulcio: Arc<Fulcio>,
    rekor: Arc<Rekor>,
    urls: SigstoreUrls,
    runner: RunnerOidc,
    http: Http,
}

/// The ID-token variables are process-wide; tests set and read them one at a time.
static ENV_LOCK: Mutex<()> = Mutex::new(());

async fn env() -> Env {
    let github = GitHub::start(GitHubConfig::default()).await.unwrap();
    let fulcio = Fulcio::new();
    let rekor = Arc::new(Rekor::default());
    let f = fulcio.clone();
    let fulcio_url = serve(Arc::new(move |req| f.handle(req))).await;
    let r = rekor.clone();
    // A path prefix, as behind a reverse proxy: the client must keep it.
    let rekor_base = serve(Arc::new(move |mut req: Req| {
        req.path = req
            .path
            .strip_prefix("/rekor")
            .unwrap_or("/unprefixed")
            .to_owned();
        r.handle(req)
    }))
    .await;
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
    let http = Http::new(
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            budget: Duration::from_secs(20),
        },
        Duration::from_secs(10),
    )
    .unwrap();
    Env {
        github,
        fulcio,
        rekor,
        urls: SigstoreUrls {
            fulcio: fulcio_url,
            rekor: rekor_base.join("rekor").unwrap(),
        },
        runner,
        http,
    }
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Check an attestation the way a verifier does, short of the trust root: the statement
/// names the file, the signature verifies over the PAE with the certificate's key, and the
/// log entry records that signature and certificate with a valid inclusion proof.
fn check_attestation(att: &Value, fulcio: &Fulcio, filename: &str, digest: &str) {
    let keys: Vec<&String> = att.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["version", "verification_material", "envelope"]);
    assert_eq!(att["version"], 1);
    let cert_der = STANDARD
        .decode(
            att["verification_material"]["certificate"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert!(
        fulcio.state.lock().unwrap().issued.contains(&cert_der),
        "the certificate is the one Fulcio issued"
    );
    let cert = Certificate::from_der(&cert_der).unwrap();
    let key = VerifyingKey::from_public_key_der(
        &cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap(),
    )
    .unwrap();

    let statement = STANDARD
        .decode(att["envelope"]["statement"].as_str().unwrap())
        .unwrap();
    let parsed: Value = serde_json::from_slice(&statement).unwrap();
    assert_eq!(parsed["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        parsed["predicateType"],
        "https://docs.pypi.org/attestations/publish/v1"
    );
    assert_eq!(
        parsed["subject"],
        json!([{"name": filename, "digest": {"sha256": digest}}])
    );
    let signature = STANDARD
        .decode(att["envelope"]["signature"].as_str().unwrap())
        .unwrap();
    let mut pae = format!(
        "DSSEv1 {} {PAYLOAD_TYPE} {} ",
        PAYLOAD_TYPE.len(),
        statement.len()
    )
    .into_bytes();
    pae.extend_from_slice(&statement);
    key.verify(&pae, &DerSignature::try_from(signature.as_slice()).unwrap())
        .unwrap();

    let entries = att["verification_material"]["transparency_entries"]
        .as_array()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let tle = &entries[0];
    assert_eq!(
        tle["kindVersion"],
        json!({"kind": "dsse", "version": "0.0.1"})
    );
    assert_eq!(
        STANDARD
            .decode(tle["logId"]["keyId"].as_str().unwrap())
            .unwrap(),
        hex::decode(LOG_ID).unwrap()
    );
    let body = STANDARD
        .decode(tle["canonicalizedBody"].as_str().unwrap())
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        body["spec"]["signatures"][0]["signature"],
        STANDARD.encode(&signature)
    );
    let verifier = STANDARD
        .decode(body["spec"]["signatures"][0]["verifier"].as_str().unwrap())
        .unwrap();
    let (_, verifier_der) = x509_cert::der::pem::decode_vec(&verifier).unwrap();
    assert_eq!(verifier_der, cert_der);
    for k in ["logIndex", "integratedTime"] {
        assert!(
            tle[k].as_str().unwrap().parse::<u64>().is_ok(),
            "{k}: {tle}"
        );
    }
    let proof = &tle["inclusionProof"];
    let size: usize = proof["treeSize"].as_str().unwrap().parse().unwrap();
    let index: usize = proof["logIndex"].as_str().unwrap().parse().unwrap();
    assert!(index < size);
    assert!(proof["checkpoint"]["envelope"]
        .as_str()
        .unwrap()
        .contains(proof["rootHash"].as_str().unwrap()));
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test(flavor = "multi_thread")]
async fn one_certificate_signs_every_file_and_each_is_logged() {
    let env = env().await;
    let signer = Signer::new(&env.http, &env.runner, &env.urls)
        .await
        .unwrap();
    let files = [
        ("demo_package-1.0.0-py3-none-any.whl", sha256_hex(b"wheel")),
        ("demo_package-1.0.0.tar.gz", sha256_hex(b"sdist")),
        (
            "demo_package-1.0.0-cp312-cp312-manylinux_2_17_x86_64.whl",
            sha256_hex(b"w2"),
        ),
    ];
    let mut indexes = Vec::new();
    for (name, digest) in &files {
        let att = signer.attest(&env.http, name, digest).await.unwrap();
        check_attestation(&att, &env.fulcio, name, digest);
        indexes.push(att["verification_material"]["transparency_entries"][0]["logIndex"].clone());
    }
    assert_eq!(
        indexes,
        [json!("9000000"), json!("9000001"), json!("9000002")]
    );
    let in_use = signer.certificate_der().await;
    let fulcio = env.fulcio.state.lock().unwrap();
    assert_eq!(fulcio.requests, 1, "one certificate per run");
    assert_eq!(fulcio.issued, [in_use]);
    assert_eq!(env.rekor.bodies.lock().unwrap().len(), 3);
    // The one ID token went to Fulcio with audience `sigstore` (Fulcio refuses others).
    assert_eq!(env.github.issued_tokens().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_attestations_share_the_certificate() {
    let env = env().await;
    let signer = Signer::new(&env.http, &env.runner, &env.urls)
        .await
        .unwrap();
    let names: Vec<String> = (0..6).map(|i| format!("pkg-{i}.0.tar.gz")).collect();
    let digests: Vec<String> = names.iter().map(|n| sha256_hex(n.as_bytes())).collect();
    let results = futures_util::future::join_all(
        names
            .iter()
            .zip(&digests)
            .map(|(n, d)| signer.attest(&env.http, n, d)),
    )
    .await;
    for (name, att) in names.iter().zip(results) {
        check_attestation(
            &att.unwrap(),
            &env.fulcio,
            name,
            &sha256_hex(name.as_bytes()),
        );
    }
    assert_eq!(env.fulcio.state.lock().unwrap().issued.len(), 1);
    assert_eq!(env.rekor.bodies.lock().unwrap().len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_failures_are_retried_and_a_lost_rekor_answer_is_recovered() {
    let env = env().await;
    env.fulcio.state.lock().unwrap().faults.push_back(503);
    let signer = Signer::new(&env.http, &env.runner, &env.urls)
        .await
        .unwrap();
    assert_eq!(env.fulcio.state.lock().unwrap().requests, 2);

    env.rekor
        .faults
        .lock()
        .unwrap()
        .extend([RekorFault::Unavailable, RekorFault::LoseAnswer]);
    let digest = sha256_hex(b"wheel");
    let att = signer
        .attest(&env.http, "demo-1.0-py3-none-any.whl", &digest)
        .await
        .unwrap();
    check_attestation(&att, &env.fulcio, "demo-1.0-py3-none-any.whl", &digest);
    // 503, logged-but-lost 503, then 409 pointing at the entry, which is fetched.
    let requests = env.rekor.requests.lock().unwrap().clone();
    let statuses: Vec<u16> = requests.iter().map(|(_, s)| *s).collect();
    assert_eq!(
        statuses,
        [503, 503, 409, 200],
        "{:?}",
        requests.iter().map(|(r, _)| r).collect::<Vec<_>>()
    );
    assert!(requests[3].0.starts_with("GET /api/v1/log/entries/"));
    assert_eq!(env.rekor.bodies.lock().unwrap().len(), 1, "logged once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fulcio_refusal_names_the_service_and_never_the_token() {
    let env = env().await;
    env.fulcio.state.lock().unwrap().faults.push_back(401);
    let err = match Signer::new(&env.http, &env.runner, &env.urls).await {
        Ok(_) => panic!("Fulcio refused, yet a signer was made"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("Fulcio answered HTTP 401"), "{err}");
    assert!(err.contains("error processing the identity token"), "{err}");
    assert!(err.contains("signing certificate"), "{err}");
    let tokens = env.github.issued_tokens();
    assert!(!tokens.is_empty());
    for t in tokens {
        assert!(!err.contains(&t), "the ID token leaked: {err}");
    }
    // A refusal is final: no second attempt.
    assert_eq!(env.fulcio.state.lock().unwrap().requests, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rekor_refusal_is_final_and_says_which_file() {
    let env = env().await;
    let signer = Signer::new(&env.http, &env.runner, &env.urls)
        .await
        .unwrap();
    env.rekor
        .faults
        .lock()
        .unwrap()
        .push_back(RekorFault::BadRequest);
    let err = signer
        .attest(&env.http, "demo-1.0.tar.gz", &sha256_hex(b"x"))
        .await
        .unwrap_err();
    let err = format!("{err:#}");
    assert!(err.contains("demo-1.0.tar.gz"), "{err}");
    assert!(err.contains("Rekor answered HTTP 400"), "{err}");
    assert!(err.contains("invalid signature"), "{err}");
    assert_eq!(env.rekor.requests.lock().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_before_any_request() {
    let env = env().await;
    let signer = Signer::new(&env.http, &env.runner, &env.urls)
        .await
        .unwrap();
    let err = signer
        .attest(&env.http, "demo-1.0.tar.gz", "not-a-digest")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SHA-256"), "{err}");
    assert!(env.rekor.requests.lock().unwrap().is_empty());
}
