//! Fulcio's v2 REST API (`POST /api/v2/signingCert`, `GET /api/v2/trustBundle`), answering
//! as Fulcio's gRPC gateway does, errors included.
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use x509_cert::der::{Decode as _, Encode as _};
use x509_cert::request::CertReq;

use super::encoding::{b64_decode, pem, pem_blocks};
use super::{identity, keys, oids, Shared};
use crate::faults::route;

// Fulcio's client-facing messages (`pkg/server/error.go`).
const INVALID_SIGNATURE: &str = "The signature supplied in the request could not be verified";
const INVALID_PUBLIC_KEY: &str = "The public key supplied in the request could not be parsed";
const INVALID_CSR: &str = "The certificate signing request could not be parsed";
const INSECURE_PUBLIC_KEY: &str = "The public key supplied in the request is insecure";
const INVALID_IDENTITY_TOKEN: &str = "There was an error processing the identity token";
const GENERIC_CA_ERROR: &str = "error communicating with CA backend";

/// gRPC status codes the gateway reports in its JSON errors.
const GRPC_INVALID_ARGUMENT: u16 = 3;
const GRPC_INTERNAL: u16 = 13;

/// A gRPC-gateway error: `{"code": <grpc code>, "message": ..., "details": []}`.
fn grpc_error(grpc_code: u16, message: &str, reason: &str) -> Response {
    tracing::info!(message, reason, "Fulcio refused a certificate request");
    let status = if grpc_code == GRPC_INVALID_ARGUMENT {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    (
        status,
        Json(json!({"code": grpc_code, "message": message, "details": []})),
    )
        .into_response()
}

fn bad(message: &str, reason: impl AsRef<str>) -> Response {
    grpc_error(GRPC_INVALID_ARGUMENT, message, reason.as_ref())
}

/// A field by its JSON name or its proto name (the gateway accepts both).
fn field<'a>(v: &'a Value, camel: &str, snake: &str) -> Option<&'a Value> {
    v.get(camel).or_else(|| v.get(snake))
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The P-256 SubjectPublicKeyInfo DER in `content` (PEM, or DER bytes).
fn public_key_from(content: &[u8]) -> Result<Vec<u8>, &'static str> {
    let text = String::from_utf8_lossy(content);
    let der = pem_blocks(&text, "PUBLIC KEY")
        .into_iter()
        .next()
        .unwrap_or_else(|| content.to_vec());
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(&der)
        .map_err(|_| INVALID_PUBLIC_KEY)?;
    let der = spki.to_der().map_err(|_| INVALID_PUBLIC_KEY)?;
    // Only P-256 keys are issued for here (what sigstore clients generate).
    keys::p256_from_spki(&der).ok_or(INSECURE_PUBLIC_KEY)?;
    Ok(der)
}

/// Option 1: a CSR (PEM or DER), self-signed with the key to certify.
fn key_from_csr(encoded: &[u8]) -> Result<Vec<u8>, (&'static str, String)> {
    let text = String::from_utf8_lossy(encoded);
    let der = pem_blocks(&text, "CERTIFICATE REQUEST")
        .into_iter()
        .next()
        .unwrap_or_else(|| encoded.to_vec());
    let csr = CertReq::from_der(&der).map_err(|e| (INVALID_CSR, e.to_string()))?;
    let spki = csr
        .info
        .public_key
        .to_der()
        .map_err(|e| (INVALID_CSR, e.to_string()))?;
    let key =
        keys::p256_from_spki(&spki).ok_or((INSECURE_PUBLIC_KEY, "not a P-256 key".to_owned()))?;
    let info = csr
        .info
        .to_der()
        .map_err(|e| (INVALID_CSR, e.to_string()))?;
    if csr.algorithm.oid != oids::ECDSA_WITH_SHA256
        || !keys::verify(&key, &info, csr.signature.raw_bytes())
    {
        return Err((INVALID_SIGNATURE, "CSR signature".to_owned()));
    }
    Ok(spki)
}

pub(crate) async fn signing_cert(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(resp) = shared.faults.intercept(route::FULCIO).await {
        return resp;
    }
    let request: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return bad("request body must be a JSON object", "not an object"),
        Err(e) => return bad(&format!("invalid request body: {e}"), "JSON"),
    };
    let token = field(&request, "credentials", "credentials")
        .and_then(|c| field(c, "oidcIdentityToken", "oidc_identity_token"))
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .or_else(|| bearer(&headers))
        .unwrap_or_default();
    let claims = match shared.tokens.verify(&token) {
        Ok(claims) => claims,
        Err(reason) => return bad(INVALID_IDENTITY_TOKEN, reason),
    };
    let leaf_identity = match identity::github_workflow(&claims) {
        Ok(id) => id,
        Err(reason) => return bad(INVALID_IDENTITY_TOKEN, reason),
    };

    let csr = field(
        &request,
        "certificateSigningRequest",
        "certificate_signing_request",
    )
    .and_then(Value::as_str)
    .filter(|s| !s.is_empty());
    let spki = if let Some(csr) = csr {
        let Some(bytes) = b64_decode(csr) else {
            return bad(INVALID_CSR, "certificateSigningRequest is not base64");
        };
        match key_from_csr(&bytes) {
            Ok(spki) => spki,
            Err((message, reason)) => return bad(message, reason),
        }
    } else {
        let pkr = field(&request, "publicKeyRequest", "public_key_request");
        let content = pkr
            .and_then(|p| field(p, "publicKey", "public_key"))
            .and_then(|k| k.get("content"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if content.is_empty() {
            return bad(INVALID_PUBLIC_KEY, "public key not provided");
        }
        let spki = match public_key_from(content.as_bytes()) {
            Ok(spki) => spki,
            Err(message) => return bad(message, "public key"),
        };
        let proof = pkr
            .and_then(|p| field(p, "proofOfPossession", "proof_of_possession"))
            .and_then(Value::as_str)
            .and_then(b64_decode)
            .unwrap_or_default();
        let subject = identity::subject(&claims).unwrap_or("");
        let verified = keys::p256_from_spki(&spki)
            .is_some_and(|key| keys::verify(&key, subject.as_bytes(), &proof));
        if !verified {
            return bad(
                INVALID_SIGNATURE,
                "proof of possession over the token subject",
            );
        }
        spki
    };

    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let leaf = match shared
        .ca
        .issue(&spki, &leaf_identity, now_ms, shared.cert_lifetime)
    {
        Ok(der) => der,
        Err(e) => return grpc_error(GRPC_INTERNAL, GENERIC_CA_ERROR, &format!("{e:#}")),
    };
    shared.issued.lock().push(leaf.clone());
    tracing::info!(san = %leaf_identity.san_uri, "Fulcio issued a signing certificate");
    let mut certificates = vec![pem("CERTIFICATE", &leaf)];
    certificates.extend(
        shared
            .ca
            .chain_der()
            .iter()
            .map(|der| pem("CERTIFICATE", der)),
    );
    Json(json!({
        "signedCertificateEmbeddedSct": {"chain": {"certificates": certificates}}
    }))
    .into_response()
}

pub(crate) async fn trust_bundle(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(resp) = shared.faults.intercept(route::FULCIO).await {
        return resp;
    }
    let certificates: Vec<String> = shared
        .ca
        .chain_der()
        .iter()
        .map(|der| pem("CERTIFICATE", der))
        .collect();
    Json(json!({"chains": [{"certificates": certificates}]})).into_response()
}
