//! Trusted publishing: `GET /_/oidc/audience` and `POST /_/oidc/mint-token`
//! (`warehouse/oidc/views.py`, `services.py` and the GitHub publisher model).
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use jsonwebtoken::{Algorithm, Validation};
use serde::Serialize;
use serde_json::{Map, Value};

use super::names::py_repr;
use super::state::{Credential, GitHubIdentity, Index};
use super::timefmt::unix_now;
use super::{new_token, pyjson, simple, OidcMode, Shared};
use crate::faults::route;

/// PyJWT leeway Warehouse verifies with.
const LEEWAY: i64 = 30;
const TOKEN_LIFETIME: i64 = 900;

type Claims = Map<String, Value>;

#[derive(Serialize)]
struct ErrorItem {
    code: &'static str,
    description: String,
}

#[derive(Serialize)]
struct Failure {
    message: &'static str,
    errors: Vec<ErrorItem>,
}

fn invalid(code: &'static str, description: impl Into<String>) -> Response {
    let description = description.into();
    tracing::info!(code, %description, "token request refused");
    pyjson::response(
        StatusCode::UNPROCESSABLE_ENTITY,
        &Failure {
            message: "Token request failed",
            errors: vec![ErrorItem { code, description }],
        },
        &[],
    )
}

pub(crate) async fn audience(State(shared): State<Arc<Shared>>) -> Response {
    if let Some(resp) = shared.faults.intercept(route::OIDC_AUDIENCE).await {
        return resp;
    }
    #[derive(Serialize)]
    struct Audience<'a> {
        audience: &'a str,
    }
    #[derive(Serialize)]
    struct Message {
        message: &'static str,
    }
    match shared.config.oidc {
        OidcMode::Unsupported => simple::not_found().await,
        OidcMode::Disabled => pyjson::response(
            StatusCode::FORBIDDEN,
            &Message {
                message: "Trusted publishing functionality not enabled",
            },
            &[],
        ),
        OidcMode::Enabled => pyjson::response(
            StatusCode::OK,
            &Audience {
                audience: &shared.config.audience,
            },
            &[],
        ),
    }
}

/// `TokenPayload.model_validate_json`: `Err` is a pydantic-style validation report.
fn token_from_payload(body: &[u8]) -> Result<String, String> {
    const HEAD: &str = "1 validation error for TokenPayload";
    const MORE: &str = "    For further information visit https://errors.pydantic.dev/2.11/v";
    let text = String::from_utf8_lossy(body);
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        format!(
            "{HEAD}\n  Invalid JSON: {e} [type=json_invalid, input_value={}, input_type=str]\n{MORE}/json_invalid",
            py_repr(&text)
        )
    })?;
    let Value::Object(map) = &value else {
        return Err(format!(
            "{HEAD}\n  Input should be an object [type=model_type, input_value={value}, \
             input_type={}]\n{MORE}/model_type",
            json_type(&value)
        ));
    };
    match map.get("token") {
        None => Err(format!(
            "{HEAD}\ntoken\n  Field required [type=missing, input_value={value}, \
             input_type=dict]\n{MORE}/missing"
        )),
        Some(Value::String(token)) => Ok(token.clone()),
        Some(other) => Err(format!(
            "{HEAD}\ntoken\n  Input should be a valid string [type=string_type, \
             input_value={other}, input_type={}]\n{MORE}/string_type",
            json_type(other)
        )),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// `jwt.decode(token, options={"verify_signature": False})`: the claims of a structurally
/// valid JWT, or `None`.
fn unverified_claims(token: &str) -> Option<Claims> {
    let decode = |part: &str| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part.trim_end_matches('='))
            .ok()
    };
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, payload) = signing_input.split_once('.')?;
    decode(signature)?;
    let header: Value = serde_json::from_slice(&decode(header)?).ok()?;
    if !header.is_object() {
        return None;
    }
    match serde_json::from_slice(&decode(payload)?).ok()? {
        Value::Object(claims) => Some(claims),
        _ => None,
    }
}

/// PyJWT's `int(value)` on a numeric claim.
fn int_claim(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f.trunc() as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `OIDCPublisherService.verify_jwt_signature`: RS256 signature by the trusted issuer, and
/// PyJWT's checks with `require=[iss, iat, exp, aud]`, strict audience and 30 s leeway.
fn verify(shared: &Shared, token: &str, issuer: &str) -> Option<Claims> {
    let key = shared.issuer_key.as_ref()?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(token, key, &validation)
        .ok()?
        .claims;
    let present = |name: &str| claims.get(name).filter(|v| !v.is_null());
    let now = unix_now();
    let iat = int_claim(present("iat")?)?;
    let exp = int_claim(present("exp")?)?;
    if iat > now + LEEWAY || exp <= now - LEEWAY {
        return None;
    }
    if let Some(nbf) = present("nbf") {
        if int_claim(nbf)? > now + LEEWAY {
            return None;
        }
    }
    if present("iss")?.as_str() != Some(issuer) {
        return None;
    }
    if present("aud")?.as_str() != Some(shared.config.audience.as_str()) {
        return None;
    }
    Some(claims)
}

enum Refusal {
    Publisher(String),
    Reused,
}

const REQUIRED_CLAIMS: &[&str] = &[
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "job_workflow_ref",
    "jti",
    "event_name",
    "ref",
    "sha",
];

fn claim_str<'a>(claims: &'a Claims, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// `_extract_workflow_filename`: the `NAME.yml`/`NAME.yaml` just before an `@`.
fn workflow_filename(job_workflow_ref: &str) -> Option<String> {
    for segment in job_workflow_ref.split('/') {
        let best = [".yml@", ".yaml@"]
            .iter()
            .filter_map(|ext| segment.rfind(ext).map(|i| (i, ext.len() - 1)))
            .filter(|(i, _)| *i > 0)
            .max_by_key(|(i, len)| i + len);
        if let Some((i, len)) = best {
            return Some(segment[..i + len].to_owned());
        }
    }
    None
}

/// The publisher (index into `candidates`) the claims select: same repository, owner id
/// and workflow; an environment-specific publisher before an any-environment one.
fn lookup<'a>(
    claims: &Claims,
    candidates: impl Iterator<Item = &'a GitHubIdentity>,
) -> Result<usize, Refusal> {
    for name in REQUIRED_CLAIMS {
        if claims.get(*name).is_none_or(Value::is_null) {
            return Err(Refusal::Publisher(format!(
                "Missing claim {}",
                py_repr(name)
            )));
        }
    }
    let not_found =
        || Refusal::Publisher("Publisher with matching claims was not found".to_owned());
    let repository = claim_str(claims, "repository").ok_or_else(not_found)?;
    let (owner, repo) = repository.split_once('/').ok_or_else(not_found)?;
    let owner_id = claim_str(claims, "repository_owner_id").ok_or_else(not_found)?;
    let workflow = claim_str(claims, "job_workflow_ref")
        .and_then(workflow_filename)
        .ok_or_else(|| {
            Refusal::Publisher(
                "Could not job extract workflow filename from OIDC claims".to_owned(),
            )
        })?;
    let environment = claim_str(claims, "environment")
        .unwrap_or_default()
        .to_lowercase();
    let matching: Vec<(usize, &GitHubIdentity)> = candidates
        .enumerate()
        .filter(|(_, p)| {
            p.repository_owner.eq_ignore_ascii_case(owner)
                && p.repository_name.eq_ignore_ascii_case(repo)
                && p.repository_owner_id == owner_id
                && p.workflow_filename == workflow
        })
        .collect();
    let specific = (!environment.is_empty())
        .then(|| matching.iter().find(|(_, p)| p.environment == environment))
        .flatten();
    specific
        .or_else(|| matching.iter().find(|(_, p)| p.environment.is_empty()))
        .map(|(i, _)| *i)
        .ok_or_else(not_found)
}

/// `verify_claims` of a GitHub publisher.
fn verify_claims(identity: &GitHubIdentity, claims: &Claims, index: &Index) -> Result<(), Refusal> {
    let failed = |name: &str| {
        Refusal::Publisher(format!("Check failed for required claim {}", py_repr(name)))
    };
    let repository = format!("{}/{}", identity.repository_owner, identity.repository_name);
    let sub_ok = claim_str(claims, "sub").is_some_and(|sub| {
        let parts: Vec<&str> = sub.split(':').collect();
        parts.len() >= 2
            && !parts[0].is_empty()
            && !parts[1].is_empty()
            && format!("{}:{}", parts[0], parts[1]).to_lowercase()
                == format!("repo:{repository}").to_lowercase()
    });
    if !sub_ok {
        return Err(failed("sub"));
    }
    if !claim_str(claims, "repository")
        .is_some_and(|r| !r.is_empty() && r.eq_ignore_ascii_case(&repository))
    {
        return Err(failed("repository"));
    }
    if claim_str(claims, "repository_owner").is_some_and(|o| o != identity.repository_owner) {
        return Err(failed("repository_owner"));
    }
    if claim_str(claims, "repository_owner_id").is_some_and(|o| o != identity.repository_owner_id) {
        return Err(failed("repository_owner_id"));
    }
    let job_workflow_ref = claim_str(claims, "job_workflow_ref").unwrap_or_default();
    if job_workflow_ref.is_empty() {
        return Err(Refusal::Publisher(
            "The job_workflow_ref claim is empty".to_owned(),
        ));
    }
    let truth = format!(
        "{repository}/.github/workflows/{}",
        identity.workflow_filename
    );
    let mut expected: Vec<String> = ["ref", "sha"]
        .iter()
        .filter_map(|c| claim_str(claims, c).filter(|v| !v.is_empty()))
        .map(|r| format!("{truth}@{r}"))
        .collect();
    if expected.is_empty() {
        return Err(Refusal::Publisher(
            "The ref and sha claims are empty".to_owned(),
        ));
    }
    expected.sort();
    expected.dedup();
    if !expected.iter().any(|e| e == job_workflow_ref) {
        let shown: Vec<String> = expected.iter().map(|e| py_repr(e)).collect();
        return Err(Refusal::Publisher(format!(
            "The job_workflow_ref claim does not match, expecting one of [{}], got {}",
            shown.join(", "),
            py_repr(job_workflow_ref)
        )));
    }
    if let Some(jti) = claim_str(claims, "jti") {
        if index.used_jti.contains_key(jti) {
            return Err(Refusal::Reused);
        }
    }
    if claim_str(claims, "event_name") == Some("pull_request_target") {
        return Err(Refusal::Publisher(
            "Publishing from a workflow invoked via 'pull_request_target' is not supported."
                .to_owned(),
        ));
    }
    if !identity.environment.is_empty() {
        let env = claim_str(claims, "environment").unwrap_or_default();
        if env.is_empty() || env.to_lowercase() != identity.environment {
            return Err(Refusal::Publisher(
                "Check failed for optional claim 'environment'".to_owned(),
            ));
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct Minted {
    success: bool,
    token: String,
    expires: i64,
}

pub(crate) async fn mint_token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    if let Some(resp) = shared.faults.intercept(route::OIDC_MINT).await {
        return resp;
    }
    if shared.config.oidc == OidcMode::Unsupported {
        return simple::not_found().await;
    }
    let token = match token_from_payload(&body) {
        Ok(token) => token,
        Err(description) => return invalid("invalid-payload", description),
    };
    let Some(unverified) = unverified_claims(&token) else {
        return invalid("invalid-payload", "malformed JWT");
    };
    let Some(unverified_issuer) = unverified.get("iss") else {
        return invalid("invalid-payload", "malformed JWT");
    };
    let issuer = shared
        .config
        .trusted_issuer
        .as_ref()
        .map(|i| i.issuer.as_str());
    if unverified_issuer.as_str().is_none() || unverified_issuer.as_str() != issuer {
        return invalid("invalid-payload", "unknown trusted publishing issuer");
    }
    let issuer = issuer.unwrap_or_default();
    if shared.config.oidc == OidcMode::Disabled {
        return invalid(
            "not-enabled",
            "github trusted publishing functionality not enabled",
        );
    }
    let Some(claims) = verify(&shared, &token, issuer) else {
        return invalid("invalid-token", "malformed or invalid token");
    };

    let mut index = shared.index.lock();
    // A pending publisher first: it creates the project and becomes a normal publisher.
    if let Ok(i) = lookup(&claims, index.pending.iter().map(|p| &p.identity)) {
        match verify_claims(&index.pending[i].identity, &claims, &index) {
            Ok(()) => {
                let pending = index.pending.remove(i);
                if index.project(&pending.project_name).is_some() {
                    return invalid(
                        "invalid-pending-publisher",
                        "valid token, but project already exists",
                    );
                }
                let project_id = index.ensure_project(&pending.project_name);
                index.add_publisher(pending.identity, project_id);
            }
            // Warehouse lets this escape as a server error; answer like the normal path.
            Err(Refusal::Reused) => {
                return invalid("invalid-reuse-token", "invalid token: already used")
            }
            Err(Refusal::Publisher(_)) => {}
        }
    }
    let found = lookup(&claims, index.publishers.iter().map(|p| &p.identity))
        .and_then(|i| verify_claims(&index.publishers[i].identity, &claims, &index).map(|()| i));
    let i = match found {
        Ok(i) => i,
        Err(Refusal::Reused) => {
            return invalid("invalid-reuse-token", "invalid token: already used")
        }
        Err(Refusal::Publisher(e)) => {
            return invalid(
                "invalid-publisher",
                format!("valid token, but no corresponding publisher ({e})"),
            )
        }
    };
    let publisher = index.publishers[i].clone();
    let not_before = unix_now();
    let expires_at = not_before + TOKEN_LIFETIME;
    let token = new_token();
    index.tokens.insert(
        token.clone(),
        Credential::Oidc {
            publisher_id: publisher.id,
            project_ids: publisher.project_ids.clone(),
            not_before,
            expires_at,
        },
    );
    if let (Some(jti), Some(exp)) = (
        claim_str(&claims, "jti"),
        claims.get("exp").and_then(int_claim),
    ) {
        index.used_jti.insert(jti.to_owned(), exp);
    }
    drop(index);
    pyjson::response(
        StatusCode::OK,
        &Minted {
            success: true,
            token,
            expires: expires_at,
        },
        &[],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_from_ref() {
        assert_eq!(
            workflow_filename("o/r/.github/workflows/publish.yml@refs/heads/main").as_deref(),
            Some("publish.yml")
        );
        assert_eq!(
            workflow_filename("o/r/.github/workflows/re@lease.yaml@refs/tags/v1").as_deref(),
            Some("re@lease.yaml")
        );
        assert_eq!(workflow_filename("o/r/.github/workflows/x.txt@main"), None);
    }

    #[test]
    fn payload_errors() {
        assert_eq!(token_from_payload(br#"{"token": "abc"}"#).unwrap(), "abc");
        assert!(token_from_payload(b"nope")
            .unwrap_err()
            .contains("json_invalid"));
        assert!(token_from_payload(b"{}")
            .unwrap_err()
            .contains("Field required"));
        assert!(token_from_payload(br#"{"token": 1}"#)
            .unwrap_err()
            .contains("valid string"));
    }

    #[test]
    fn structural_jwt_decoding() {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let token = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64(r#"{"iss":"x"}"#),
            b64("sig")
        );
        assert_eq!(unverified_claims(&token).unwrap()["iss"], "x");
        assert!(unverified_claims("a.b").is_none());
        let list = format!(
            "{}.{}.{}",
            b64(r#"{"alg":"RS256"}"#),
            b64("[1]"),
            b64("sig")
        );
        assert!(unverified_claims(&list).is_none());
    }
}
