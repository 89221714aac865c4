//! The runner's ID token endpoint and the OIDC issuer (discovery document and JWKS).
use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::state::Shared;
use super::{time, urlenc};
use crate::faults::route;

/// Signs a token for the current claims and records it as handed out.
pub(crate) fn issue(shared: &Shared, audience: Option<&str>) -> anyhow::Result<String> {
    let claims = shared.state.lock().claims.clone();
    let audience = audience
        .map(str::to_owned)
        .unwrap_or_else(|| format!("https://github.com/{}", claims.repository_owner));
    let iat = claims.issued_at.unwrap_or_else(time::now);
    let token = shared
        .signer
        .sign(&claims, &shared.issuer(), &audience, iat)?;
    shared.state.lock().issued.push(token.clone());
    Ok(token)
}

/// `GET {ACTIONS_ID_TOKEN_REQUEST_URL}&audience=AUD` with `Authorization: Bearer <request token>`.
pub(crate) async fn id_token(
    State(shared): State<Arc<Shared>>,
    Path((plan, job)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    if let Some(fault) = shared.faults.intercept(route::ID_TOKEN).await {
        return fault;
    }
    let expected = format!("/_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken");
    if expected != shared.id_token_path {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !bearer_matches(&headers, &shared.id_token_request_token) {
        // The token service answers an unauthenticated request with a bare 401 challenge.
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
        )
            .into_response();
    }
    let query = query.unwrap_or_default();
    let api_version = urlenc::get(&query, "api-version");
    if api_version.as_deref() != Some("2.0") {
        // A client that appends `?audience=` instead of `&audience=` lands here.
        let shown = api_version.unwrap_or_default();
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({
                "$id": "1",
                "innerException": null,
                "message": format!(
                    "The requested REST API version of {shown} is out of range for this server. \
                     The latest REST API version this server supports is 2.0."
                ),
                "typeName": "Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException",
                "typeKey": "VssVersionOutOfRangeException",
                "errorCode": 0,
                "eventId": 3000
            })),
        )
            .into_response();
    }
    let audience = urlenc::get(&query, "audience").filter(|a| !a.is_empty());
    match issue(&shared, audience.as_deref()) {
        Ok(token) => Json(json!({ "value": token })).into_response(),
        Err(e) => {
            tracing::error!("github stand-in could not sign an ID token: {e:#}");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// The runner's toolkit sends `Bearer`; the scheme is case-insensitive (RFC 7235).
fn bearer_matches(headers: &HeaderMap, expected: &str) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    match value.trim().split_once(' ') {
        Some((scheme, token)) => scheme.eq_ignore_ascii_case("bearer") && token.trim() == expected,
        None => false,
    }
}

/// `{issuer}/.well-known/openid-configuration`, shaped like token.actions.githubusercontent.com's.
pub(crate) async fn discovery(State(shared): State<Arc<Shared>>) -> Response {
    let issuer = shared.issuer();
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks"),
        "subject_types_supported": ["public", "pairwise"],
        "response_types_supported": ["id_token"],
        "claims_supported": [
            "sub", "aud", "exp", "iat", "iss", "jti", "nbf", "ref", "sha", "repository",
            "repository_id", "repository_owner", "repository_owner_id", "enterprise",
            "enterprise_id", "run_id", "run_number", "run_attempt", "actor", "actor_id",
            "workflow", "workflow_ref", "workflow_sha", "head_ref", "base_ref", "event_name",
            "ref_type", "ref_protected", "environment", "environment_node_id",
            "job_workflow_ref", "job_workflow_sha", "repository_visibility",
            "runner_environment", "issuer_scope"
        ],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid"]
    }))
    .into_response()
}

/// `{issuer}/.well-known/jwks`.
pub(crate) async fn jwks(State(shared): State<Arc<Shared>>) -> Response {
    Json(shared.signer.jwks()).into_response()
}
