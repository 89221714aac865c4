//! Verification of a sigstore DSSE bundle (certificate, Rekor v1 entry, envelope) against a
//! trusted root, step for step as sigstore-python's `Verifier.verify_dsse` does it, with its
//! error messages. The local Warehouse checks PEP 740 attestations with it.
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};
use x509_cert::der::asn1::{OctetString, Utf8StringRef};
use x509_cert::der::oid::db::rfc5280::ID_KP_CODE_SIGNING;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::ext::pkix::{BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages};
use x509_cert::Certificate;

use super::encoding::{b64, b64_decode, canonical_json, pem};
use super::trust::{keyring_verify, TrustRoot};
use super::{checkpoint, dsse, keys, merkle, oids, sct};

/// Standard base64 as pydantic's `Base64Bytes` reads it.
pub(crate) use super::encoding::b64_decode_strict;
pub use super::oids::fulcio as fulcio_oids;

/// Why a bundle was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A `sigstore.errors.VerificationError`, worded as sigstore-python words it.
    Verification(String),
    /// Any other error sigstore-python or pypi-attestations would raise on the way (a
    /// malformed certificate or log entry, a missing extension).
    Other(String),
}

/// The parts of a DSSE bundle that PEP 740 attestations carry.
pub struct DsseBundle<'a> {
    /// DER leaf certificate.
    pub certificate: &'a [u8],
    /// The Rekor `TransparencyLogEntry` (protobuf JSON).
    pub tlog_entry: &'a Value,
    /// The envelope payload (an in-toto statement).
    pub payload: &'a [u8],
    /// The envelope's one signature (DER ECDSA).
    pub signature: &'a [u8],
}

fn verification(message: impl Into<String>) -> Failure {
    Failure::Verification(message.into())
}

/// The value of extension `oid` of `cert` and whether it is critical.
pub fn extension(cert: &Certificate, oid: &ObjectIdentifier) -> Option<(bool, Vec<u8>)> {
    cert.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id == *oid)
        .map(|e| (e.critical, e.extn_value.as_bytes().to_vec()))
}

/// A DER UTF8String's text (Fulcio's `.8` and later extensions).
pub fn der_utf8(value: &[u8]) -> Option<String> {
    Utf8StringRef::from_der(value)
        .ok()
        .map(|s| s.as_str().to_owned())
}

/// A protobuf JSON int64: a string or a number; absent means 0.
fn int(v: Option<&Value>) -> Option<i64> {
    match v {
        None | Some(Value::Null) => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    }
}

fn bytes(v: Option<&Value>) -> Option<Vec<u8>> {
    match v {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::String(s)) => b64_decode(s),
        Some(_) => None,
    }
}

/// A protobuf JSON field by JSON name or proto name.
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

struct Proof {
    log_index: i64,
    root_hash: Vec<u8>,
    tree_size: i64,
    hashes: Vec<Vec<u8>>,
    checkpoint: String,
}

struct TlogEntry {
    log_index: i64,
    log_id: Vec<u8>,
    kind: String,
    version: String,
    integrated_time: i64,
    promise: Option<Vec<u8>>,
    proof: Proof,
    body: Vec<u8>,
}

impl TlogEntry {
    /// `TransparencyLogEntry` as `sigstore_models` reads it, plus sigstore-python's rule that
    /// an inclusion proof with a checkpoint is present.
    fn parse(v: &Value) -> Option<TlogEntry> {
        let kv = field(v, "kindVersion", "kind_version")?;
        let proof = field(v, "inclusionProof", "inclusion_proof")?;
        let checkpoint = proof
            .get("checkpoint")
            .and_then(|c| c.get("envelope"))
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())?
            .to_owned();
        let hashes = match proof.get("hashes") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|h| bytes(Some(h)))
                .collect::<Option<Vec<_>>>()?,
            Some(_) => return None,
        };
        let promise = match field(v, "inclusionPromise", "inclusion_promise") {
            None | Some(Value::Null) => None,
            Some(p) => Some(bytes(field(
                p,
                "signedEntryTimestamp",
                "signed_entry_timestamp",
            ))?),
        };
        Some(TlogEntry {
            log_index: int(field(v, "logIndex", "log_index"))?,
            log_id: bytes(field(v, "logId", "log_id").and_then(|l| field(l, "keyId", "key_id")))?,
            kind: kv.get("kind")?.as_str()?.to_owned(),
            version: kv.get("version")?.as_str()?.to_owned(),
            integrated_time: int(field(v, "integratedTime", "integrated_time"))?,
            promise,
            proof: Proof {
                log_index: int(field(proof, "logIndex", "log_index"))?,
                root_hash: bytes(field(proof, "rootHash", "root_hash"))?,
                tree_size: int(field(proof, "treeSize", "tree_size"))?,
                hashes,
                checkpoint,
            },
            body: bytes(field(v, "canonicalizedBody", "canonicalized_body"))?,
        })
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn valid_at(cert: &Certificate, t: u64) -> bool {
    let v = &cert.tbs_certificate.validity;
    v.not_before.to_unix_duration().as_secs() <= t && t <= v.not_after.to_unix_duration().as_secs()
}

fn spki_der(cert: &Certificate) -> Option<Vec<u8>> {
    cert.tbs_certificate.subject_public_key_info.to_der().ok()
}

fn signed_by(cert: &Certificate, issuer: &Certificate) -> bool {
    let Some(key) = spki_der(issuer).and_then(|d| keys::p256_from_spki(&d)) else {
        return false;
    };
    let Ok(tbs) = cert.tbs_certificate.to_der() else {
        return false;
    };
    cert.signature_algorithm.oid == oids::ECDSA_WITH_SHA256
        && keys::verify(&key, &tbs, cert.signature.raw_bytes())
}

fn is_ca(cert: &Certificate) -> bool {
    let ca = matches!(cert.tbs_certificate.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca);
    let signs = matches!(cert.tbs_certificate.get::<KeyUsage>(),
        Ok(Some((_, ku))) if ku.0.contains(KeyUsages::KeyCertSign));
    ca && signs
}

/// The trusted CA that issued `leaf` and was valid with it at `t`.
fn verify_chain<'r>(
    root: &'r TrustRoot,
    leaf: &Certificate,
    t: u64,
) -> Result<&'r Certificate, String> {
    if !valid_at(leaf, t) {
        return Err("cert is not valid at validation time".to_owned());
    }
    if matches!(leaf.tbs_certificate.get::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca) {
        return Err("leaf certificate is a CA".to_owned());
    }
    root.fulcio_certs(now())
        .into_iter()
        .find(|ca| {
            ca.tbs_certificate.subject == leaf.tbs_certificate.issuer
                && signed_by(leaf, ca)
                && is_ca(ca)
                && valid_at(ca, t)
        })
        .ok_or_else(|| "candidates exhausted: no trusted issuer signed this certificate".to_owned())
}

fn verify_sct(root: &TrustRoot, leaf: &Certificate, issuer: &Certificate) -> Result<(), String> {
    let (_, value) = extension(leaf, &oids::CT_PRECERT_SCTS)
        .ok_or("Certificate does not contain a signed certificate timestamp extension")?;
    let list = OctetString::from_der(&value).map_err(|e| format!("malformed SCT list: {e}"))?;
    let scts = sct::parse_list(list.as_bytes())?;
    if scts.len() != 1 {
        return Err(format!(
            "Expected one certificate timestamp, found {}",
            scts.len()
        ));
    }
    let sct = &scts[0];
    if !is_ca(issuer) {
        return Err("SCT verify: Invalid issuer pubkey basicConstraint (not a CA)".to_owned());
    }
    let issuer_key_hash = keys::key_id(&spki_der(issuer).ok_or("unreadable issuer key")?);
    let mut precert = leaf.tbs_certificate.clone();
    if let Some(exts) = precert.extensions.as_mut() {
        exts.retain(|e| e.extn_id != oids::CT_PRECERT_SCTS);
    }
    let tbs = precert.to_der().map_err(|e| e.to_string())?;
    if !sct::is_sha256(sct) {
        return Err("Found unexpected hash algorithm in SCT: only SHA256 is supported".to_owned());
    }
    let data = sct::signed_data(sct.timestamp_ms, &issuer_key_hash, &tbs, &sct.extensions);
    keyring_verify(&root.ct_keys(now()), &sct.log_id, &data, &sct.signature)
        .map_err(|e| format!("SCT verify failed: {e}"))
}

fn verify_log_entry(root: &TrustRoot, entry: &TlogEntry) -> Result<(), String> {
    let p = &entry.proof;
    let (index, size) = (
        u64::try_from(p.log_index).map_err(|_| "negative inclusion proof index")?,
        u64::try_from(p.tree_size).map_err(|_| "negative tree size")?,
    );
    let to_hash = |b: &[u8]| -> Result<merkle::Hash, String> {
        b.try_into()
            .map_err(|_| "inclusion proof hashes must be 32 bytes".to_owned())
    };
    let hashes = p
        .hashes
        .iter()
        .map(|h| to_hash(h))
        .collect::<Result<Vec<_>, _>>()?;
    let root_hash = to_hash(&p.root_hash)?;
    merkle::verify_inclusion(
        index,
        size,
        &merkle::leaf_hash(&entry.body),
        &hashes,
        &root_hash,
    )?;

    let keys = root.rekor_keys(now());
    let cp = checkpoint::parse(&p.checkpoint)?;
    let signature = cp
        .signatures
        .iter()
        .find(|(hint, _)| entry.log_id.len() >= 4 && hint[..] == entry.log_id[..4])
        .ok_or_else(|| {
            format!(
                "checkpoint: Signature not found for log ID {}",
                hex::encode(&entry.log_id)
            )
        })?;
    keyring_verify(&keys, &entry.log_id, cp.note.as_bytes(), &signature.1)
        .map_err(|e| format!("checkpoint: invalid signature: {e}"))?;
    if cp.root != p.root_hash {
        return Err(format!(
            "('Inclusion proof contains invalid root hash signature: ', 'expected {} got {}')",
            hex::encode(&cp.root),
            hex::encode(&p.root_hash)
        ));
    }

    if let Some(promise) = entry
        .promise
        .as_ref()
        .filter(|_| entry.integrated_time != 0)
    {
        let payload = canonical_json(&json!({
            "body": b64(&entry.body),
            "integratedTime": entry.integrated_time,
            "logID": hex::encode(&entry.log_id),
            "logIndex": entry.log_index,
        }))
        .map_err(|e| e.to_string())?;
        keyring_verify(&keys, &entry.log_id, payload.as_bytes(), promise)
            .map_err(|e| format!("SET: invalid inclusion promise: {e}"))?;
    }
    Ok(())
}

/// sigstore-python's `_validate_dsse_v001_entry_body`.
fn check_dsse_body(bundle: &DsseBundle<'_>, body: &[u8]) -> Result<(), Failure> {
    let parsed: Value = serde_json::from_slice(body)
        .map_err(|e| verification(format!("invalid DSSE log entry: {e}")))?;
    let spec = parsed
        .get("spec")
        .filter(|_| {
            parsed.get("kind").and_then(Value::as_str) == Some("dsse")
                && parsed.get("apiVersion").and_then(Value::as_str) == Some("0.0.1")
        })
        .ok_or_else(|| verification("invalid DSSE log entry: not a dsse 0.0.1 entry"))?;
    let payload_hash = spec.get("payloadHash");
    if payload_hash
        .and_then(|h| h.get("algorithm"))
        .and_then(Value::as_str)
        != Some("sha256")
    {
        return Err(verification(
            "expected SHA256 payload hash in DSSE log entry",
        ));
    }
    let expected = hex::encode(Sha256::digest(bundle.payload));
    if payload_hash
        .and_then(|h| h.get("value"))
        .and_then(Value::as_str)
        != Some(expected.as_str())
    {
        return Err(verification("log entry payload hash does not match bundle"));
    }
    let expected_sigs = json!([{
        "signature": b64(bundle.signature),
        "verifier": b64(pem("CERTIFICATE", bundle.certificate).as_bytes()),
    }]);
    if spec.get("signatures") != Some(&expected_sigs) {
        return Err(verification("log entry signatures do not match bundle"));
    }
    Ok(())
}

/// `Verifier.verify_dsse(bundle, policy)`: establishes the signing time from the log entry,
/// checks the chain to the trusted root at that time, the SCT, key usages, `policy`, the
/// log entry (inclusion proof, checkpoint, signed entry timestamp), the DSSE signature and
/// that the log entry records this very envelope.
pub fn verify_dsse(
    root: &TrustRoot,
    bundle: &DsseBundle<'_>,
    policy: &dyn Fn(&Certificate) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let leaf = Certificate::from_der(bundle.certificate)
        .map_err(|_| Failure::Other("invalid X.509 certificate".to_owned()))?;
    let entry = TlogEntry::parse(bundle.tlog_entry)
        .ok_or_else(|| Failure::Other("invalid transparency log entry".to_owned()))?;
    if entry.version != "0.0.1" && entry.version != "0.0.2" {
        return Err(Failure::Other(format!(
            "Expected log entry version 0.0.1 - 0.0.2, got {}",
            entry.version
        )));
    }

    // (0) The only source of time here is the log's integrated time, and only with an
    // inclusion promise binding it.
    if entry.integrated_time == 0 || entry.promise.is_none() {
        return Err(verification("not enough sources of verified time"));
    }
    if !(matches!(entry.kind.as_str(), "dsse" | "hashedrekord") && entry.version == "0.0.1") {
        return Err(verification(
            "Integrated time only supported for dsse/hashedrekord 0.0.1 types",
        ));
    }
    let t = u64::try_from(entry.integrated_time).unwrap_or(0);

    // (1) Chain, (2) SCT.
    let issuer = verify_chain(root, &leaf, t).map_err(|e| {
        verification(format!(
            "failed to build timestamp certificate chain: validation failed: {e}"
        ))
    })?;
    verify_sct(root, &leaf, issuer)
        .map_err(|e| verification(format!("failed to verify SCT on signing certificate: {e}")))?;

    // (3) Sigstore's X.509 profile, then the caller's identity policy.
    match leaf.tbs_certificate.get::<KeyUsage>() {
        Ok(Some((_, ku))) if ku.0.contains(KeyUsages::DigitalSignature) => {}
        Ok(Some(_)) => return Err(verification("Key usage is not of type `digital signature`")),
        _ => {
            return Err(Failure::Other(
                "No <class 'cryptography.x509.extensions.KeyUsage'> extension was found".to_owned(),
            ))
        }
    }
    match leaf.tbs_certificate.get::<ExtendedKeyUsage>() {
        Ok(Some((_, eku))) if eku.0.contains(&ID_KP_CODE_SIGNING) => {}
        Ok(Some(_)) => {
            return Err(verification(
                "Extended usage does not contain `code signing`",
            ))
        }
        _ => {
            return Err(Failure::Other(
                "No <class 'cryptography.x509.extensions.ExtendedKeyUsage'> extension was found"
                    .to_owned(),
            ))
        }
    }
    policy(&leaf)?;

    // (4, 5) The log entry.
    verify_log_entry(root, &entry).map_err(|e| verification(format!("invalid log entry: {e}")))?;

    // (7) The envelope's signature.
    let key = spki_der(&leaf)
        .and_then(|d| keys::p256_from_spki(&d))
        .ok_or_else(|| Failure::Other("unsupported signing key type".to_owned()))?;
    let pae = dsse::pae(dsse::IN_TOTO_PAYLOAD_TYPE, bundle.payload);
    if !keys::verify(&key, &pae, bundle.signature) {
        return Err(verification("DSSE: invalid signature"));
    }

    // (8) The log entry records this envelope.
    if entry.kind == "dsse" && entry.version == "0.0.1" {
        check_dsse_body(bundle, &entry.body)
    } else {
        Err(verification(format!(
            "Unsupported DSSE log entry type: {}/{}",
            entry.kind, entry.version
        )))
    }
}
