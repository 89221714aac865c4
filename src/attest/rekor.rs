//! Rekor v1: log the signed envelope as a `dsse` entry and turn Rekor's answer into the
//! `TransparencyLogEntry` (protobuf JSON) that a PEP 740 attestation carries.
use anyhow::{anyhow, bail, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use super::merkle;
use super::{endpoint, service_error};
use crate::http::{self, Failure, Http};

/// What the logged entry must say for a verifier to accept it with our attestation.
pub struct Expected<'a> {
    pub payload: &'a [u8],
    pub signature: &'a [u8],
    /// The canonical PEM of the signing certificate.
    pub cert_pem: &'a str,
}

/// The `dsse` v0.0.1 proposed entry for an envelope signed by the holder of `cert_pem`.
pub fn proposed_entry(envelope_json: &str, cert_pem: &str) -> Value {
    json!({
        "kind": "dsse",
        "apiVersion": "0.0.1",
        "spec": {
            "proposedContent": {
                "envelope": envelope_json,
                "verifiers": [STANDARD.encode(cert_pem)],
            }
        }
    })
}

enum Created {
    Entry(Value),
    /// 409: the entry is already in the log (an earlier attempt whose answer was lost).
    Exists(String),
}

/// Log the envelope and return its TransparencyLogEntry.
pub async fn log_entry(
    http: &Http,
    rekor: &Url,
    proposed: &Value,
    expected: &Expected<'_>,
) -> Result<Value> {
    let url = endpoint(rekor, "api/v1/log/entries")?;
    let what = format!("logging the signature in Rekor at {rekor}");
    let created = http
        .retry(&what, |_| {
            let (url, what) = (url.clone(), what.clone());
            async move {
                let request = http
                    .client
                    .post(url)
                    .header(reqwest::header::ACCEPT, "application/json")
                    .json(proposed);
                let answer = http.send_text(&what, request).await?;
                if answer.status == StatusCode::CONFLICT {
                    let location = answer
                        .headers
                        .get(reqwest::header::LOCATION)
                        .and_then(|v| v.to_str().ok())
                        .and_then(uuid_from_location);
                    if let Some(uuid) = location {
                        return Ok(Created::Exists(uuid));
                    }
                }
                rekor_json(&what, &answer).map(Created::Entry)
            }
        })
        .await?;
    let answer = match created {
        Created::Entry(v) => v,
        Created::Exists(uuid) => {
            tracing::info!(
                "Rekor already has this entry ({}); fetching it",
                crate::inert::shown(&uuid)
            );
            fetch_entry(http, rekor, &uuid).await?
        }
    };
    to_transparency_entry(&answer, expected)
        .with_context(|| format!("Rekor at {rekor} answered an entry that cannot be used"))
}

async fn fetch_entry(http: &Http, rekor: &Url, uuid: &str) -> Result<Value> {
    let url = endpoint(rekor, &format!("api/v1/log/entries/{uuid}"))?;
    let what = format!("fetching the existing Rekor entry {uuid} from {rekor}");
    http.retry(&what, |_| {
        let (url, what) = (url.clone(), what.clone());
        async move {
            let request = http
                .client
                .get(url)
                .header(reqwest::header::ACCEPT, "application/json");
            rekor_json(&what, &http.send_text(&what, request).await?)
        }
    })
    .await
}

/// A Rekor answer's JSON: a refusal is final and says what Rekor answered.
fn rekor_json(what: &str, answer: &http::Answer) -> Result<Value, Failure> {
    if !answer.status.is_success() {
        return Err(Failure::Permanent(service_error(
            "Rekor",
            answer.status,
            &answer.text,
            None,
        )));
    }
    answer.json_value(what)
}

/// The entry UUID at the end of a `Location: /api/v1/log/entries/<uuid>` header.
fn uuid_from_location(location: &str) -> Option<String> {
    let last = location.trim_end_matches('/').rsplit('/').next()?;
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_hexdigit())).then(|| last.to_owned())
}

/// Rekor's `{uuid: LogEntry}` answer as a `dev.sigstore.rekor.v1.TransparencyLogEntry` in
/// protobuf JSON (camelCase, int64 as strings, bytes as base64), after checking that the
/// logged body is our signature by our certificate and that the inclusion proof holds.
pub fn to_transparency_entry(answer: &Value, expected: &Expected<'_>) -> Result<Value> {
    let entries = answer
        .as_object()
        .ok_or_else(|| anyhow!("the answer is not a JSON object"))?;
    if entries.len() != 1 {
        bail!(
            "the answer holds {} entries instead of exactly one",
            entries.len()
        );
    }
    let Some((_uuid, entry)) = entries.iter().next() else {
        bail!("the answer holds no entry");
    };
    let body_b64 = str_field(entry, "body")?;
    let body = STANDARD
        .decode(body_b64)
        .map_err(|e| anyhow!("`body` is not base64: {e}"))?;
    check_body(&body, expected)?;

    let verification = entry
        .get("verification")
        .ok_or_else(|| anyhow!("the entry has no `verification`"))?;
    let set = str_field(verification, "signedEntryTimestamp")?;
    let proof = verification.get("inclusionProof").ok_or_else(|| {
        anyhow!("the entry has no inclusion proof (`verification.inclusionProof`)")
    })?;
    let proof_index = int_field(proof, "logIndex")?;
    let tree_size = int_field(proof, "treeSize")?;
    let root_hash = hex_hash(str_field(proof, "rootHash")?, "rootHash")?;
    let hashes = proof
        .get("hashes")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("the inclusion proof has no `hashes` list"))?
        .iter()
        .map(|h| {
            h.as_str()
                .ok_or_else(|| anyhow!("an inclusion-proof hash is not a string"))
                .and_then(|h| hex_hash(h, "hashes[]"))
        })
        .collect::<Result<Vec<_>>>()?;
    let checkpoint = str_field(proof, "checkpoint")?;
    let computed = merkle::root_from_inclusion_proof(
        proof_index,
        tree_size,
        &merkle::leaf_hash(&body),
        &hashes,
    );
    if computed != Some(root_hash) {
        bail!(
            "the inclusion proof does not lead from the entry (index {proof_index} of \
             {tree_size}) to the root hash it names"
        );
    }

    let log_id =
        hex::decode(str_field(entry, "logID")?).map_err(|e| anyhow!("`logID` is not hex: {e}"))?;
    Ok(json!({
        "logIndex": int_field(entry, "logIndex")?.to_string(),
        "logId": {"keyId": STANDARD.encode(log_id)},
        "kindVersion": {"kind": "dsse", "version": "0.0.1"},
        "integratedTime": int_field(entry, "integratedTime")?.to_string(),
        "inclusionPromise": {"signedEntryTimestamp": set},
        "inclusionProof": {
            "logIndex": proof_index.to_string(),
            "rootHash": STANDARD.encode(root_hash),
            "treeSize": tree_size.to_string(),
            "hashes": hashes.iter().map(|h| STANDARD.encode(h)).collect::<Vec<_>>(),
            "checkpoint": {"envelope": checkpoint},
        },
        "canonicalizedBody": body_b64,
    }))
}

/// The checks a sigstore verifier makes of a `dsse` body against the bundle: same kind and
/// version, the payload's SHA-256, and our signature with our certificate as verifier.
fn check_body(body: &[u8], expected: &Expected<'_>) -> Result<()> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| anyhow!("`body` is not JSON: {e}"))?;
    let (kind, version) = (
        body.get("kind").and_then(Value::as_str),
        body.get("apiVersion").and_then(Value::as_str),
    );
    if (kind, version) != (Some("dsse"), Some("0.0.1")) {
        bail!("the logged entry is {kind:?} {version:?}, not dsse 0.0.1");
    }
    let payload_hash = hex::encode(Sha256::digest(expected.payload));
    let logged_hash = body.pointer("/spec/payloadHash");
    if logged_hash
        .and_then(|h| h.get("algorithm"))
        .and_then(Value::as_str)
        != Some("sha256")
        || logged_hash
            .and_then(|h| h.get("value"))
            .and_then(Value::as_str)
            != Some(payload_hash.as_str())
    {
        bail!("the logged payload hash is not the SHA-256 of our statement");
    }
    let ours = json!({
        "signature": STANDARD.encode(expected.signature),
        "verifier": STANDARD.encode(expected.cert_pem),
    });
    let signatures = body
        .pointer("/spec/signatures")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("the logged entry has no signatures"))?;
    if signatures.len() != 1 || !same_signature(&signatures[0], &ours) {
        bail!(
            "the logged entry's signature or verifier certificate is not ours (verifiers \
             compare them byte for byte)"
        );
    }
    Ok(())
}

fn same_signature(logged: &Value, ours: &Value) -> bool {
    ["signature", "verifier"]
        .iter()
        .all(|k| logged.get(*k).is_some() && logged.get(*k) == ours.get(*k))
}

fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    v.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("`{key}` is missing or not a string"))
}

/// An integer Rekor may write as a JSON number or (protobuf style) a string.
fn int_field(v: &Value, key: &str) -> Result<u64> {
    match v.get(key) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    }
    .ok_or_else(|| anyhow!("`{key}` is missing or not a non-negative integer"))
}

fn hex_hash(s: &str, what: &str) -> Result<merkle::Hash> {
    let bytes = hex::decode(s).map_err(|e| anyhow!("`{what}` is not hex: {e}"))?;
    bytes
        .try_into()
        .map_err(|_| anyhow!("`{what}` is not a SHA-256 hash"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG_ID: &str = "c0d23d6ad406973f9559f3ba2d1ca01f84147d8ffc5b8445c224f98b9591801d";
    const CERT_PEM: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    fn sha(parts: &[&[u8]]) -> [u8; 32] {
        let mut h = Sha256::new();
        for p in parts {
            h.update(p);
        }
        h.finalize().into()
    }

    /// The canonical body Rekor writes for a dsse entry.
    fn body(payload: &[u8], signature: &[u8], cert_pem: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "0.0.1",
            "kind": "dsse",
            "spec": {
                "envelopeHash": {"algorithm": "sha256", "value": hex::encode(sha(&[b"envelope"]))},
                "payloadHash": {"algorithm": "sha256", "value": hex::encode(sha(&[payload]))},
                "signatures": [{
                    "signature": STANDARD.encode(signature),
                    "verifier": STANDARD.encode(cert_pem),
                }],
            }
        }))
        .unwrap()
    }

    /// A Rekor v1 answer for `body` logged as the third leaf of a three-leaf tree.
    fn answer(body: &[u8]) -> (Value, [u8; 32], [u8; 32]) {
        let l0 = sha(&[&[0], b"first"]);
        let l1 = sha(&[&[0], b"second"]);
        let l2 = sha(&[&[0], body]);
        let left = sha(&[&[1], &l0, &l1]);
        let root = sha(&[&[1], &left, &l2]);
        let uuid = format!("24296fb24b8ad77a{}", hex::encode(l2));
        let checkpoint = format!(
            "rekor.sigstore.dev - 1193050959916656506\n3\n{}\n\n\u{2014} rekor.sigstore.dev wNI9ajBFAiEA\n",
            STANDARD.encode(root)
        );
        let answer = json!({ uuid: {
            "body": STANDARD.encode(body),
            "integratedTime": 1_733_000_000u64,
            "logID": LOG_ID,
            "logIndex": 151_234_567u64,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": [hex::encode(left)],
                    "logIndex": 2,
                    "rootHash": hex::encode(root),
                    "treeSize": 3,
                },
                "signedEntryTimestamp": "MEUCIQDx",
            }
        }});
        (answer, root, left)
    }

    #[test]
    fn proposed_entry_is_a_dsse_entry_with_the_certificate_as_verifier() {
        let entry = proposed_entry("{\"payload\":\"e30=\"}", CERT_PEM);
        assert_eq!(entry["kind"], "dsse");
        assert_eq!(entry["apiVersion"], "0.0.1");
        let content = &entry["spec"]["proposedContent"];
        assert_eq!(content["envelope"], "{\"payload\":\"e30=\"}");
        assert_eq!(
            STANDARD
                .decode(content["verifiers"][0].as_str().unwrap())
                .unwrap(),
            CERT_PEM.as_bytes()
        );
    }

    #[test]
    fn answer_converts_to_a_transparency_log_entry() {
        let (payload, signature) = (b"{\"_type\":\"x\"}".as_slice(), b"sig".as_slice());
        let body = body(payload, signature, CERT_PEM);
        let (answer, root, left) = answer(&body);
        let expected = Expected {
            payload,
            signature,
            cert_pem: CERT_PEM,
        };
        let tle = to_transparency_entry(&answer, &expected).unwrap();
        let log_id = STANDARD.encode(hex::decode(LOG_ID).unwrap());
        let checkpoint = answer
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap()
            .pointer("/verification/inclusionProof/checkpoint")
            .unwrap()
            .clone();
        assert_eq!(
            tle,
            json!({
                "logIndex": "151234567",
                "logId": {"keyId": log_id},
                "kindVersion": {"kind": "dsse", "version": "0.0.1"},
                "integratedTime": "1733000000",
                "inclusionPromise": {"signedEntryTimestamp": "MEUCIQDx"},
                "inclusionProof": {
                    "logIndex": "2",
                    "rootHash": STANDARD.encode(root),
                    "treeSize": "3",
                    "hashes": [STANDARD.encode(left)],
                    "checkpoint": {"envelope": checkpoint},
                },
                "canonicalizedBody": STANDARD.encode(&body),
            })
        );
        // Protobuf JSON key order, as sigstore-python writes it.
        let keys: Vec<&str> = tle
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "logIndex",
                "logId",
                "kindVersion",
                "integratedTime",
                "inclusionPromise",
                "inclusionProof",
                "canonicalizedBody"
            ]
        );
    }

    #[test]
    fn integers_may_come_as_strings() {
        let (payload, signature) = (b"p".as_slice(), b"s".as_slice());
        let body = body(payload, signature, CERT_PEM);
        let (mut answer, _, _) = answer(&body);
        let entry = answer.as_object_mut().unwrap().values_mut().next().unwrap();
        entry["logIndex"] = json!("151234567");
        entry["verification"]["inclusionProof"]["treeSize"] = json!("3");
        let expected = Expected {
            payload,
            signature,
            cert_pem: CERT_PEM,
        };
        let tle = to_transparency_entry(&answer, &expected).unwrap();
        assert_eq!(tle["logIndex"], "151234567");
        assert_eq!(tle["inclusionProof"]["treeSize"], "3");
    }

    #[test]
    fn an_entry_for_someone_else_or_with_a_broken_proof_is_refused() {
        let (payload, signature) = (b"p".as_slice(), b"s".as_slice());
        let expected = Expected {
            payload,
            signature,
            cert_pem: CERT_PEM,
        };
        let reject = |answer: &Value, needle: &str| {
            let err = to_transparency_entry(answer, &expected).unwrap_err();
            assert!(err.to_string().contains(needle), "{err} (wanted {needle})");
        };
        let (a, _, _) = answer(&body(payload, b"other signature", CERT_PEM));
        reject(&a, "not ours");
        let (a, _, _) = answer(&body(
            payload,
            signature,
            "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
        ));
        reject(&a, "not ours");
        let (a, _, _) = answer(&body(b"another statement", signature, CERT_PEM));
        reject(&a, "payload hash");

        let good = body(payload, signature, CERT_PEM);
        let (mut a, _, _) = answer(&good);
        let entry = a.as_object_mut().unwrap().values_mut().next().unwrap();
        entry["verification"]["inclusionProof"]["logIndex"] = json!(1);
        reject(&a, "inclusion proof does not lead");
        let (mut a, _, _) = answer(&good);
        let entry = a.as_object_mut().unwrap().values_mut().next().unwrap();
        entry["verification"]
            .as_object_mut()
            .unwrap()
            .remove("inclusionProof");
        reject(&a, "no inclusion proof");
        let (mut a, _, _) = answer(&good);
        let entry = a.as_object_mut().unwrap().values_mut().next().unwrap();
        entry["verification"]
            .as_object_mut()
            .unwrap()
            .remove("signedEntryTimestamp");
        reject(&a, "signedEntryTimestamp");
        let (a, _, _) = answer(&good);
        let mut two = a.as_object().unwrap().clone();
        let first = two.values().next().unwrap().clone();
        two.insert("another".into(), first);
        reject(&Value::Object(two), "exactly one");
    }

    #[test]
    fn conflict_location_gives_the_uuid() {
        assert_eq!(
            uuid_from_location("/api/v1/log/entries/24296fb2abc0").as_deref(),
            Some("24296fb2abc0")
        );
        assert_eq!(
            uuid_from_location("https://rekor.sigstore.dev/api/v1/log/entries/ab12/").as_deref(),
            Some("ab12")
        );
        assert_eq!(uuid_from_location("/api/v1/log/entries/../x"), None);
    }
}
