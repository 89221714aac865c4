//! The artifact blob host: Azure-blob-like SAS URLs, and Azure's answers to requests it
//! refuses (a GitHub `Authorization` header, a bad or expired signature).
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use md5::Digest as _;
use sha2::Sha256;

use super::model::{random_uuid, Artifact};
use super::state::Shared;
use super::{time, urlenc};
use crate::faults::{route, DroppedMidBody};

const SERVICE_VERSION: &str = "2024-05-04";

fn content_disposition(name: &str) -> String {
    format!("attachment; filename=\"{name}.zip\"")
}

/// What the signature covers: permissions, validity window, blob path and response headers.
fn string_to_sign(sp: &str, st: &str, se: &str, path: &str, rscd: &str) -> String {
    format!("{sp}\n{st}\n{se}\n{path}\n{rscd}\n{SERVICE_VERSION}\nb")
}

fn sign(key: &[u8; 32], message: &str) -> Option<Vec<u8>> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
    mac.update(message.as_bytes());
    Some(mac.finalize().into_bytes().to_vec())
}

fn verify(key: &[u8; 32], message: &str, sig: &[u8]) -> bool {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(message.as_bytes());
            mac.verify_slice(sig).is_ok()
        }
        Err(_) => false,
    }
}

/// A read-only SAS URL for `artifact`'s zip, valid from `now` for `ttl` seconds.
pub(crate) fn signed_url(shared: &Shared, artifact: &Artifact, now: u64, ttl: u64) -> String {
    let st = time::rfc3339(now);
    let se = time::rfc3339(now + ttl);
    let rscd = content_disposition(&artifact.name);
    let sig = sign(
        &shared.blob_key,
        &string_to_sign("r", &st, &se, &artifact.blob_path, &rscd),
    )
    .map(|s| base64::engine::general_purpose::STANDARD.encode(s))
    .unwrap_or_default();
    format!(
        "{}{}?rscd={}&se={}&sig={}&sp=r&sr=b&st={}&sv={SERVICE_VERSION}",
        shared.blob_base,
        artifact.blob_path,
        urlenc::form_encode(&rscd),
        urlenc::encode_component(&se),
        urlenc::encode_component(&sig),
        urlenc::encode_component(&st),
    )
}

/// Azure Storage's XML error (with the byte-order mark Azure puts in front of it).
fn azure_error(status: StatusCode, code: &str, message: &str, detail: Option<String>) -> Response {
    let now = time::now();
    let stamp = time::rfc3339(now).replace('Z', ".0000000Z");
    let request_id = random_uuid();
    let detail = detail
        .map(|d| format!("<AuthenticationErrorDetail>{d}</AuthenticationErrorDetail>"))
        .unwrap_or_default();
    let body = format!(
        "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>{message}\n\
         RequestId:{request_id}\nTime:{stamp}</Message>{detail}</Error>"
    );
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/xml"),
    );
    for (name, value) in [
        ("x-ms-error-code", code.to_owned()),
        ("x-ms-request-id", request_id),
        ("x-ms-version", SERVICE_VERSION.to_owned()),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}

fn auth_failed(detail: String) -> Response {
    azure_error(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header \
         is formed correctly including the signature.",
        Some(detail),
    )
}

/// The artifact's zip, announced in full but cut off after half of its bytes.
fn truncated_zip(shared: &Shared, path: &str) -> Option<Response> {
    let bytes = shared
        .state
        .lock()
        .artifacts
        .values()
        .find(|a| a.blob_path == path)?
        .zip_bytes
        .clone();
    let total = bytes.len();
    let first = bytes::Bytes::from(bytes).slice(..total / 2);
    let head = futures_util::stream::iter([Ok::<_, std::io::Error>(first)]);
    let tail = futures_util::stream::once(async {
        // Give hyper time to flush the headers and the first half before the reset.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected drop mid-body",
        ))
    });
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(head, tail));
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/zip"),
    );
    h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(total));
    Some(resp)
}

/// Every request to the blob host.
pub(crate) async fn serve(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::BLOB).await {
        // A dropped connection breaks the real zip off half-way instead, after its headers
        // and first half reached the client.
        if fault.extensions().get::<DroppedMidBody>().is_some() {
            if let Some(resp) = truncated_zip(&shared, uri.path()) {
                return resp;
            }
        }
        return fault;
    }
    // Azure refuses a SAS request that also carries an Authorization header: a client that
    // forwards the GitHub token across the redirect fails here (and leaked it).
    if headers.contains_key(header::AUTHORIZATION) {
        return azure_error(
            StatusCode::BAD_REQUEST,
            "InvalidAuthenticationInfo",
            "Authentication information is not given in the correct format. Check the value of \
             Authorization header.",
            None,
        );
    }
    let query = query.unwrap_or_default();
    let path = uri.path();
    let param = |k: &str| urlenc::get(&query, k).unwrap_or_default();
    let sig = param("sig");
    if sig.is_empty() {
        // An anonymous request to a private container looks like a missing resource.
        return azure_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "The specified resource does not exist.",
            None,
        );
    }
    let (sp, st, se, rscd) = (param("sp"), param("st"), param("se"), param("rscd"));
    let sig_bytes = base64::engine::general_purpose::STANDARD
        .decode(&sig)
        .unwrap_or_default();
    if !verify(
        &shared.blob_key,
        &string_to_sign(&sp, &st, &se, path, &rscd),
        &sig_bytes,
    ) {
        return auth_failed(
            "Signature did not match. String to sign used was r (the signed fields of this URL)."
                .to_owned(),
        );
    }
    let now = time::now();
    let (Some(start), Some(expiry)) = (time::parse_rfc3339(&st), time::parse_rfc3339(&se)) else {
        return auth_failed("Signature fields not well formed.".to_owned());
    };
    if now < start || now >= expiry {
        return auth_failed(format!(
            "Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
            time::rfc1123(start),
            time::rfc1123(expiry),
            time::rfc1123(now)
        ));
    }
    let state = shared.state.lock();
    let Some(artifact) = state.artifacts.values().find(|a| a.blob_path == path) else {
        return azure_error(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
            None,
        );
    };
    let bytes = artifact.zip_bytes.clone();
    let last_modified = time::rfc1123(artifact.updated_at);
    drop(state);
    let digest = md5::Md5::digest(&bytes);
    let md5 = base64::engine::general_purpose::STANDARD.encode(digest);
    let etag: String = digest.iter().take(8).map(|b| format!("{b:02X}")).collect();
    let etag = format!("\"0x{etag}\"");
    let mut resp = (StatusCode::OK, bytes).into_response();
    let h = resp.headers_mut();
    for (name, value) in [
        ("content-type", "application/zip".to_owned()),
        ("content-md5", md5),
        ("content-disposition", rscd),
        ("etag", etag),
        ("last-modified", last_modified),
        ("x-ms-blob-type", "BlockBlob".to_owned()),
        ("x-ms-version", SERVICE_VERSION.to_owned()),
        ("x-ms-request-id", random_uuid()),
    ] {
        if let Ok(v) = header::HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
    resp
}
