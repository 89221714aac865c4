//! Trusted publishing: exchange the job's GitHub OIDC ID token for a short-lived upload token
//! at the index's `/_/oidc/audience` and `/_/oidc/mint-token` endpoints.
//!
//! Two things make this more robust than a single request: every mint attempt asks GitHub for
//! a fresh ID token (Warehouse refuses a reused `jti`, so retrying with the same JWT can never
//! succeed), and a refusal is explained with the claims that were sent and the publisher
//! settings that would match them.
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use base64::Engine;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use url::Url;

use crate::gha::{self, Level};
use crate::http::{self, Failure, Http};
use crate::secret::Secret;

/// The claims shown when the index refuses a token, in the order a reader compares them with
/// the publisher settings.
const SHOWN_CLAIMS: &[&str] = &[
    "sub",
    "repository",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "job_workflow_ref",
    "ref",
    "environment",
    "event_name",
];

/// A refusal whose explanation has been written to the log, the summary and an annotation.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Explained(pub String);

/// What the runner gives a job that may request ID tokens.
#[derive(Clone)]
pub struct RunnerOidc {
    request_url: String,
    request_token: Secret,
}

impl RunnerOidc {
    /// Read `ACTIONS_ID_TOKEN_REQUEST_URL`/`_TOKEN`, or say exactly why they are missing.
    pub fn from_env() -> anyhow::Result<Self> {
        let url = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
            .ok()
            .filter(|v| !v.is_empty());
        let token = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .ok()
            .filter(|v| !v.is_empty());
        if let (Some(request_url), Some(token)) = (url, token) {
            gha::add_mask(&token);
            return Ok(RunnerOidc {
                request_url,
                request_token: Secret::new(token),
            });
        }
        Err(anyhow!(missing_id_token_reason()))
    }

    /// Ask GitHub for a fresh ID token for `audience`.
    pub async fn id_token(&self, http: &Http, audience: &str) -> anyhow::Result<Secret> {
        let mut url = Url::parse(&self.request_url)
            .context("ACTIONS_ID_TOKEN_REQUEST_URL is not a valid URL")?;
        url.query_pairs_mut().append_pair("audience", audience);
        let what = "requesting the GitHub OIDC ID token";
        http.retry(what, |_| {
            let url = url.clone();
            async move {
                let request = http
                    .client
                    .get(url)
                    .header(
                        reqwest::header::AUTHORIZATION,
                        format!("bearer {}", self.request_token.expose()),
                    )
                    .header(reqwest::header::ACCEPT, "application/json");
                let reply = http.send_text(what, request).await?;
                let (status, body) = (reply.status, reply.text);
                if !status.is_success() {
                    return Err(Failure::Permanent(anyhow!(
                        "{what}: GitHub answered HTTP {status}{}. The job needs \
                         `permissions: id-token: write`.",
                        http::snippet(&body)
                    )));
                }
                #[derive(Deserialize)]
                struct Answer {
                    value: String,
                }
                let answer: Answer = serde_json::from_str(&body).map_err(|_| {
                    Failure::transient(format!("{what}: GitHub's answer was not the expected JSON"))
                })?;
                gha::add_mask(&answer.value);
                Ok(Secret::new(answer.value))
            }
        })
        .await
    }
}

/// Why a job has no ID token: not in Actions, a fork's pull request, or a missing permission.
fn missing_id_token_reason() -> String {
    if !gha::in_actions() {
        return "trusted publishing needs a GitHub Actions job (GITHUB_ACTIONS is not `true`, \
                so this is not one): outside Actions, give an API token with --password or \
                PYPI_API_TOKEN"
            .to_owned();
    }
    let event = std::env::var("GITHUB_EVENT_NAME").unwrap_or_default();
    if event == "pull_request" {
        if let Some(fork) = fork_of_pull_request() {
            return format!(
                "this job runs for a pull request from the fork {fork}, and GitHub never gives \
                 a fork's pull request an OIDC ID token: publish from a workflow that runs in \
                 this repository (e.g. `workflow_run` or a release), not on pull requests"
            );
        }
    }
    "the job has no OIDC ID token (ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN \
     are not set): add `permissions: id-token: write` to the publishing job (and keep \
     `contents: read`, `actions: read`)"
        .to_owned()
}

/// The fork a pull_request event came from, read from `GITHUB_EVENT_PATH`.
fn fork_of_pull_request() -> Option<String> {
    let path = std::env::var_os("GITHUB_EVENT_PATH")?;
    let event: Value = serde_json::from_slice(&std::fs::read(Path::new(&path)).ok()?).ok()?;
    let head = event
        .pointer("/pull_request/head/repo/full_name")?
        .as_str()?;
    let base = event
        .pointer("/pull_request/base/repo/full_name")
        .or_else(|| event.pointer("/repository/full_name"))?
        .as_str()?;
    (!head.eq_ignore_ascii_case(base)).then(|| head.to_owned())
}

/// What `/_/oidc/audience` says.
#[derive(Debug, PartialEq, Eq)]
pub enum Audience {
    Supported(String),
    Disabled,
    Unsupported,
}

pub async fn audience(http: &Http, index_url: &Url) -> anyhow::Result<Audience> {
    let url = index_url.join("_/oidc/audience").context("bad index URL")?;
    let what = format!("asking {url} for the trusted-publishing audience");
    http.retry(&what, |_| {
        let url = url.clone();
        let what = what.clone();
        async move {
            let reply = http.send_text(&what, http.client.get(url)).await?;
            match reply.status {
                StatusCode::FORBIDDEN => return Ok(Audience::Disabled),
                StatusCode::NOT_FOUND => return Ok(Audience::Unsupported),
                s if !s.is_success() => {
                    return Err(Failure::Permanent(anyhow!("{what}: HTTP {s}")));
                }
                _ => {}
            }
            let body = reply.text;
            #[derive(Deserialize)]
            struct Answer {
                audience: String,
            }
            serde_json::from_str::<Answer>(&body)
                .map(|a| Audience::Supported(a.audience))
                .map_err(|_| {
                    Failure::transient(format!("{what}: not JSON{}", http::snippet(&body)))
                })
        }
    })
    .await
}

/// A minted upload token.
pub struct Minted {
    pub token: Secret,
    pub expires: Option<u64>,
}

/// Where a refusal's explanation points: the index and the project's name.
pub struct MintContext<'a> {
    pub index_url: &'a Url,
    pub project: Option<&'a str>,
}

/// Discover the audience, then mint, asking for a fresh ID token on every attempt.
pub async fn mint(
    http: &Http,
    runner: &RunnerOidc,
    ctx: &MintContext<'_>,
) -> anyhow::Result<Minted> {
    let audience = match audience(http, ctx.index_url).await? {
        Audience::Supported(a) => a,
        Audience::Disabled => bail!(
            "trusted publishing is disabled on this index ({} answered 403 to /_/oidc/audience): \
             use an API token, or ask the index's administrators",
            ctx.index_url
        ),
        Audience::Unsupported => bail!(
            "this index does not support trusted publishing ({} answered 404 to \
             /_/oidc/audience): use an API token (--password, the `password` input or \
             PYPI_API_TOKEN)",
            ctx.index_url
        ),
    };
    let url = ctx
        .index_url
        .join("_/oidc/mint-token")
        .context("bad index URL")?;
    let what = format!("exchanging the ID token at {url}");
    let mut warned = false;
    http.retry(&what, |_| {
        let url = url.clone();
        let what = what.clone();
        let audience = audience.clone();
        let first = !warned;
        warned = true;
        async move {
            let jwt = runner.id_token(http, &audience).await.map_err(Failure::Permanent)?;
            let claims = decode_claims(jwt.expose());
            if first {
                warn_on_claims(&claims);
            }
            let request = http
                .client
                .post(url)
                .json(&serde_json::json!({ "token": jwt.expose() }));
            let reply = http.send_text(&what, request).await?;
            let status = reply.status;
            let json = reply.json_value(&what)?;
            if status.is_success() {
                let token = json.get("token").and_then(Value::as_str).filter(|t| !t.is_empty());
                let Some(token) = token else {
                    return Err(Failure::Permanent(anyhow!("{what}: the answer has no token")));
                };
                gha::add_mask(token);
                return Ok(Minted {
                    token: Secret::new(token),
                    expires: json.get("expires").and_then(Value::as_u64),
                });
            }
            let explanation = explain_refusal(status, &json, &claims, ctx);
            tracing::error!("{explanation}");
            gha::annotate(Level::Error, "Trusted publishing failed", &explanation);
            let _ = crate::outputs::write_step_summary(&format!(
                "## Trusted publishing failed\n\n<pre>\n{}\n</pre>\n\n",
                crate::outputs::html(&explanation)
            ));
            Err(Failure::Permanent(anyhow::Error::new(Explained(format!(
                "the index refused to mint an upload token (HTTP {status}); see the explanation above"
            )))))
        }
    })
    .await
}

/// The JWT's claims, decoded without verification (only to explain a refusal; the index does
/// the verifying). Never returns the token itself.
pub fn decode_claims(jwt: &str) -> serde_json::Map<String, Value> {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .unwrap_or_default();
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    }
}

fn claim<'a>(claims: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a str> {
    claims
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn warn_on_claims(claims: &serde_json::Map<String, Value>) {
    if let (Some(w), Some(j)) = (
        claim(claims, "workflow_ref"),
        claim(claims, "job_workflow_ref"),
    ) {
        if w != j {
            gha::annotate(
                Level::Warning,
                "Reusable workflow",
                &format!(
                    "this job runs in the reusable workflow {}, called from {}. PyPI does not \
                     accept a reusable workflow as the trusted publisher's workflow: run the \
                     publish step in the calling workflow's own job",
                    gha::shown(j),
                    gha::shown(w)
                ),
            );
        }
    }
}

/// The workflow file name from `OWNER/REPO/.github/workflows/FILE@REF`.
fn workflow_file(job_workflow_ref: &str) -> Option<&str> {
    let path = job_workflow_ref.split('@').next()?;
    path.rsplit('/').next().filter(|f| !f.is_empty())
}

fn explain_refusal(
    status: StatusCode,
    body: &Value,
    claims: &serde_json::Map<String, Value>,
    ctx: &MintContext<'_>,
) -> String {
    let mut out = format!("The index refused to mint an upload token (HTTP {status}).\n");
    if let Some(msg) = body.get("message").and_then(Value::as_str) {
        out.push_str(&format!("Message: {}\n", gha::shown(msg)));
    }
    let errors = body
        .get("errors")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let codes: Vec<&str> = errors
        .iter()
        .filter_map(|e| e.get("code").and_then(Value::as_str))
        .collect();
    for e in &errors {
        let code = e.get("code").and_then(Value::as_str).unwrap_or("?");
        let desc = e.get("description").and_then(Value::as_str).unwrap_or("");
        out.push_str(&format!("  [{}] {}\n", gha::shown(code), gha::shown(desc)));
    }
    out.push_str("\nClaims of the ID token that was sent:\n");
    for key in SHOWN_CLAIMS {
        let v = match claims.get(*key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => "(not set)".to_owned(),
            Some(other) => other.to_string(),
        };
        out.push_str(&format!("  {key:<20} {}\n", gha::shown(v)));
    }
    if claim(claims, "event_name") == Some("pull_request_target") {
        out.push_str(
            "\nPyPI refuses tokens from `pull_request_target` workflows: publish from a \
             workflow triggered by `workflow_run`, `release` or `push`.\n",
        );
    }
    let repository = claim(claims, "repository").unwrap_or("OWNER/REPO");
    let (owner, repo) = repository.split_once('/').unwrap_or(("OWNER", "REPO"));
    let owner = claim(claims, "repository_owner").unwrap_or(owner);
    let workflow = claim(claims, "job_workflow_ref")
        .and_then(workflow_file)
        .unwrap_or("publish.yml");
    let environment =
        claim(claims, "environment").unwrap_or("(leave empty: this job has no environment)");
    let (owner, repo, workflow, environment) = (
        gha::shown(owner),
        gha::shown(repo),
        gha::shown(workflow),
        gha::shown(environment),
    );
    let index = ctx.index_url.as_str().trim_end_matches('/');
    out.push_str(&format!(
        "\nA trusted publisher that matches this job (GitHub tab):\n  \
         Owner:             {owner}\n  \
         Repository name:   {repo}\n  \
         Workflow name:     {workflow}\n  \
         Environment name:  {environment}\n"
    ));
    match ctx.project {
        Some(p) => out.push_str(&format!(
            "Register it at {index}/manage/project/{p}/settings/publishing/ \
             (a project that does not exist yet needs a pending publisher: \
             {index}/manage/account/publishing/).\n"
        )),
        None => out.push_str(&format!(
            "Register it in the project's settings under Publishing on {index}.\n"
        )),
    }
    if codes.contains(&"invalid-reuse-token") {
        out.push_str("The ID token had been used before; every attempt requests a new one, so this points at a clock or replay problem on the runner.\n");
    }
    if codes.contains(&"invalid-token") {
        out.push_str(
            "The token itself was refused (signature, expiry or audience): check that \
             --repository-url points at the index you meant and that the runner's clock is right.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_file_from_ref() {
        assert_eq!(
            workflow_file("octo/repo/.github/workflows/publish.yml@refs/heads/main"),
            Some("publish.yml")
        );
    }

    #[test]
    fn decodes_claims_without_verifying() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"repository":"octo/repo","environment":"pypi"}"#);
        let claims = decode_claims(&format!("e30.{payload}.sig"));
        assert_eq!(claim(&claims, "repository"), Some("octo/repo"));
        assert!(decode_claims("garbage").is_empty());
    }
}
