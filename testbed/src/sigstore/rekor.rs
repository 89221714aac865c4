//! Rekor v1: a transparency log of `dsse` 0.0.1 entries in a real RFC 6962 tree, with
//! inclusion proofs, signed checkpoints and signed entry timestamps.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use parking_lot::Mutex;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::Certificate;

use super::encoding::{b64, b64_decode, canonical_json, pem, pem_blocks};
use super::keys::{self, KeyPair};
use super::merkle::{self, Hash};
use super::{checkpoint, dsse, Shared};
use crate::faults::route;

/// Hostname in checkpoints (Rekor uses its own).
const HOSTNAME: &str = "rekor.sigstore.testbed";

/// One integrated entry.
#[derive(Clone, Debug)]
pub(crate) struct Stored {
    pub leaf: Hash,
    /// The canonicalized entry body (JSON text).
    pub body: String,
    pub integrated_time: i64,
    pub kind: String,
}

pub(crate) struct Log {
    key: KeyPair,
    tree_id: i64,
    entries: Mutex<Vec<Stored>>,
}

fn now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

/// Rekor's error body: `{"code": <http status>, "message": ...}`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let message = message.into();
    tracing::info!(status = status.as_u16(), %message, "Rekor refused a request");
    (
        status,
        Json(json!({"code": status.as_u16(), "message": message})),
    )
        .into_response()
}

impl Log {
    pub fn new() -> anyhow::Result<Self> {
        let tree_id = i64::from_be_bytes(rand::random::<[u8; 8]>()) & i64::MAX;
        Ok(Self {
            key: KeyPair::generate()?,
            tree_id,
            entries: Mutex::new(Vec::new()),
        })
    }

    pub fn key(&self) -> &KeyPair {
        &self.key
    }

    pub fn entries(&self) -> Vec<Stored> {
        self.entries.lock().clone()
    }

    fn origin(&self) -> String {
        format!("{HOSTNAME} - {}", self.tree_id)
    }

    /// The entry's id as Rekor gives it: 16 hex digits of tree id, then the leaf hash.
    fn entry_id(&self, leaf: &Hash) -> String {
        format!("{:016x}{}", self.tree_id, hex::encode(leaf))
    }

    /// `{entryID: LogEntryAnon}` for entry `index`, proven against the current tree.
    fn entry_json(&self, entries: &[Stored], index: usize) -> anyhow::Result<Value> {
        let entry = &entries[index];
        let leaves: Vec<Hash> = entries.iter().map(|e| e.leaf).collect();
        let size = leaves.len() as u64;
        let root = merkle::root(&leaves);
        let proof: Vec<String> = merkle::inclusion_proof(index, &leaves)
            .iter()
            .map(hex::encode)
            .collect();
        let checkpoint = checkpoint::sign(
            &self.origin(),
            size,
            &root,
            now_nanos(),
            HOSTNAME,
            &self.key,
        );
        let body = b64(entry.body.as_bytes());
        let log_id = hex::encode(self.key.key_id());
        let promise = canonical_json(&json!({
            "body": body,
            "integratedTime": entry.integrated_time,
            "logID": log_id,
            "logIndex": index,
        }))?;
        let set = b64(&self.key.sign(promise.as_bytes()));
        Ok(json!({
            self.entry_id(&entry.leaf): {
                "body": body,
                "integratedTime": entry.integrated_time,
                "logID": log_id,
                "logIndex": index,
                "verification": {
                    "inclusionProof": {
                        "checkpoint": checkpoint,
                        "hashes": proof,
                        "logIndex": index,
                        "rootHash": hex::encode(root),
                        "treeSize": size,
                    },
                    "signedEntryTimestamp": set,
                }
            }
        }))
    }
}

/// A verifier of a proposed `dsse` entry: its key and its canonical PEM (Rekor stores the
/// re-encoded PEM, whatever line layout the client sent).
struct Verifier {
    key: p256::ecdsa::VerifyingKey,
    canonical_pem: String,
}

fn parse_verifier(encoded: &Value) -> Result<Verifier, String> {
    let bytes = encoded
        .as_str()
        .and_then(b64_decode)
        .ok_or("verifiers must be base64-encoded PEM")?;
    let text = String::from_utf8_lossy(&bytes);
    if let Some(der) = pem_blocks(&text, "CERTIFICATE").into_iter().next() {
        let cert = Certificate::from_der(&der)
            .map_err(|e| format!("could not parse public key as x509: {e}"))?;
        let spki = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(|e| e.to_string())?;
        let key = keys::p256_from_spki(&spki).ok_or("unsupported certificate key type")?;
        return Ok(Verifier {
            key,
            canonical_pem: pem("CERTIFICATE", &der),
        });
    }
    if let Some(der) = pem_blocks(&text, "PUBLIC KEY").into_iter().next() {
        let key = keys::p256_from_spki(&der).ok_or("unsupported public key type")?;
        return Ok(Verifier {
            key,
            canonical_pem: pem("PUBLIC KEY", &der),
        });
    }
    Err("could not parse public key as x509: no PEM certificate or public key".to_owned())
}

/// Rekor's `dsse` 0.0.1 `Unmarshal` + `Canonicalize`: verifies every signature of the
/// envelope with the given verifiers and returns the canonical body.
fn canonical_dsse(spec: &Value) -> Result<Value, String> {
    let proposed = spec.get("proposedContent").ok_or(
        "either proposedContent or envelopeHash, payloadHash, and signatures must be present",
    )?;
    let envelope_text = proposed
        .get("envelope")
        .and_then(Value::as_str)
        .ok_or("proposedContent.envelope must be a string")?;
    let verifiers = proposed
        .get("verifiers")
        .and_then(Value::as_array)
        .filter(|v| !v.is_empty())
        .ok_or("proposedContent.verifiers must list at least one verifier")?;
    let envelope: Value =
        serde_json::from_str(envelope_text).map_err(|e| format!("envelope is not JSON: {e}"))?;
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or("envelope has no payloadType")?;
    let payload = envelope
        .get("payload")
        .and_then(Value::as_str)
        .and_then(b64_decode)
        .ok_or("envelope payload is not base64")?;
    let signatures: Vec<(String, Vec<u8>)> = envelope
        .get("signatures")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|s| s.get("sig").and_then(Value::as_str))
        .map(|s| (s.to_owned(), b64_decode(s).unwrap_or_default()))
        .collect();
    if signatures.is_empty() {
        return Err("envelope has no signatures".to_owned());
    }
    let pae = dsse::pae(payload_type, &payload);
    let mut by_sig: HashMap<String, String> = HashMap::new();
    for encoded in verifiers {
        let verifier = parse_verifier(encoded)?;
        let accepted: Vec<&String> = signatures
            .iter()
            .filter(|(_, raw)| keys::verify(&verifier.key, &pae, raw))
            .map(|(text, _)| text)
            .collect();
        if accepted.is_empty() {
            return Err("could not verify envelope: no valid signature for a verifier".to_owned());
        }
        for sig in accepted {
            by_sig.insert(sig.clone(), verifier.canonical_pem.clone());
        }
    }
    if signatures.iter().any(|(s, _)| !by_sig.contains_key(s)) {
        return Err("all signatures must have a key that verifies it".to_owned());
    }
    let mut sigs: Vec<(&String, &String)> = by_sig.iter().collect();
    sigs.sort();
    let sigs: Vec<Value> = sigs
        .into_iter()
        .map(|(sig, verifier)| json!({"signature": sig, "verifier": b64(verifier.as_bytes())}))
        .collect();
    Ok(json!({
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "envelopeHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(envelope_text.as_bytes()))},
            "payloadHash": {"algorithm": "sha256", "value": hex::encode(Sha256::digest(&payload))},
            "signatures": sigs,
        }
    }))
}

/// `POST /api/v1/log/entries`.
pub(crate) async fn create_entry(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Some(resp) = shared.faults.intercept(route::REKOR).await {
        return resp;
    }
    let proposed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("parsing request body: {e}"),
            )
        }
    };
    let kind = proposed.get("kind").and_then(Value::as_str).unwrap_or("");
    let version = proposed
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    if kind != "dsse" || version != "0.0.1" {
        return error(
            StatusCode::BAD_REQUEST,
            format!("error processing entry: this log accepts dsse 0.0.1 entries, not {kind:?} {version:?}"),
        );
    }
    let canonical = match proposed
        .get("spec")
        .ok_or_else(|| "entry has no spec".to_owned())
        .and_then(canonical_dsse)
        .and_then(|v| canonical_json(&v).map_err(|e| e.to_string()))
    {
        Ok(text) => text,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("error processing entry: {e}"),
            )
        }
    };
    let log = &shared.log;
    let leaf = merkle::leaf_hash(canonical.as_bytes());
    let mut entries = log.entries.lock();
    if entries.iter().any(|e| e.leaf == leaf) {
        let id = log.entry_id(&leaf);
        let mut resp = error(
            StatusCode::CONFLICT,
            format!("An equivalent entry already exists in the transparency log with UUID {id}"),
        );
        if let Ok(location) = format!("/api/v1/log/entries/{id}").parse() {
            resp.headers_mut().insert(header::LOCATION, location);
        }
        return resp;
    }
    let integrated_time = (now_nanos() / 1_000_000_000) as i64;
    entries.push(Stored {
        leaf,
        body: canonical,
        integrated_time,
        kind: kind.to_owned(),
    });
    let index = entries.len() - 1;
    let id = log.entry_id(&leaf);
    match log.entry_json(&entries, index) {
        Ok(v) => {
            tracing::info!(index, uuid = %id, "Rekor integrated an entry");
            let mut resp = (StatusCode::CREATED, Json(v)).into_response();
            for (name, value) in [
                (header::LOCATION, format!("/api/v1/log/entries/{id}")),
                (header::ETAG, id.clone()),
            ] {
                if let Ok(value) = value.parse() {
                    resp.headers_mut().insert(name, value);
                }
            }
            resp
        }
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

fn entry_response(log: &Log, pick: impl Fn(&[Stored]) -> Option<usize>) -> Response {
    let entries = log.entries.lock();
    let Some(index) = pick(&entries) else {
        return error(StatusCode::NOT_FOUND, "entry not found");
    };
    match log.entry_json(&entries, index) {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, format!("{e:#}")),
    }
}

/// `GET /api/v1/log/entries/{entryUUID}` (the 80-digit id or the 64-digit leaf hash).
pub(crate) async fn get_entry(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Response {
    if let Some(resp) = shared.faults.intercept(route::REKOR).await {
        return resp;
    }
    let id = id.to_ascii_lowercase();
    let leaf_hex = id
        .get(id.len().saturating_sub(64)..)
        .unwrap_or("")
        .to_owned();
    entry_response(&shared.log, |entries| {
        entries.iter().position(|e| hex::encode(e.leaf) == leaf_hex)
    })
}

/// `GET /api/v1/log/entries?logIndex=N`.
pub(crate) async fn get_entry_by_index(
    State(shared): State<Arc<Shared>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(resp) = shared.faults.intercept(route::REKOR).await {
        return resp;
    }
    let Some(index) = query.get("logIndex").and_then(|i| i.parse::<usize>().ok()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "logIndex must be a non-negative integer",
        );
    };
    entry_response(&shared.log, |entries| {
        (index < entries.len()).then_some(index)
    })
}

/// `GET /api/v1/log`: the current tree head.
pub(crate) async fn log_info(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(resp) = shared.faults.intercept(route::REKOR).await {
        return resp;
    }
    let log = &shared.log;
    let leaves: Vec<Hash> = log.entries.lock().iter().map(|e| e.leaf).collect();
    let root = merkle::root(&leaves);
    let size = leaves.len() as u64;
    Json(json!({
        "rootHash": hex::encode(root),
        "signedTreeHead": checkpoint::sign(&log.origin(), size, &root, now_nanos(), HOSTNAME, &log.key),
        "treeID": log.tree_id.to_string(),
        "treeSize": size,
    }))
    .into_response()
}

/// `GET /api/v1/log/publicKey`.
pub(crate) async fn public_key(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(resp) = shared.faults.intercept(route::REKOR).await {
        return resp;
    }
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        shared.log.key.public_pem(),
    )
        .into_response()
}
