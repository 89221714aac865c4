//! The job's OIDC ID token, from the runner's token service: what trusted publishing
//! exchanges at the index ([`crate::index::mint`]) and Sigstore's Fulcio certifies. The
//! request token goes to the runner's own address only, never after a redirect; each ID
//! token is masked as soon as it exists.
use anyhow::{anyhow, Context};
use serde::Deserialize;
use url::Url;

use crate::github::runner::{IdTokenRequest, Runner};
use crate::http::{self, redirect_target, Failure, Http};
use crate::inert::shown;
use crate::reporting;
use crate::secret::Secret;

/// What the runner gives a job that may request ID tokens.
#[derive(Clone)]
pub struct RunnerOidc {
    request_url: String,
    request_token: Secret,
}

impl RunnerOidc {
    /// The job's ID-token endpoint, or exactly why it has none.
    pub fn for_job(runner: &Runner) -> anyhow::Result<Self> {
        match &runner.id_token_request {
            Some(IdTokenRequest { url, token }) => {
                reporting::add_mask(token.expose());
                Ok(RunnerOidc {
                    request_url: url.clone(),
                    request_token: token.clone(),
                })
            }
            None => Err(anyhow!(missing_id_token_reason(runner))),
        }
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
                // Never redirected: the request token would go along to wherever the answer
                // points (reqwest keeps it on a same-host redirect, even one to plain http).
                let request = http
                    .no_redirect
                    .get(url.clone())
                    .header(
                        reqwest::header::AUTHORIZATION,
                        format!("bearer {}", self.request_token.expose()),
                    )
                    .header(reqwest::header::ACCEPT, "application/json");
                let reply = http.send_text(what, request).await?;
                if reply.status.is_redirection() {
                    return Err(Failure::Permanent(anyhow!(
                        "{what}: GitHub's token service answered HTTP {} with a redirect to {}; \
                         the request token is never sent after a redirect. \
                         ACTIONS_ID_TOKEN_REQUEST_URL must be the runner's own address: \
                         do not override it",
                        reply.status,
                        redirect_target(&url, &reply)
                    )));
                }
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
                reporting::add_mask(&answer.value);
                Ok(Secret::new(answer.value))
            }
        })
        .await
    }
}

/// Why a job has no ID token: not in Actions, a fork's pull request, or a missing permission.
fn missing_id_token_reason(runner: &Runner) -> String {
    if !runner.in_actions {
        return "trusted publishing needs a GitHub Actions job (GITHUB_ACTIONS is not `true`, \
                so this is not one): outside Actions, give an API token with --password or \
                PYPI_API_TOKEN"
            .to_owned();
    }
    if let Some(fork) = runner.pull_request_fork() {
        return format!(
            "this job runs for a pull request from the fork {}, and GitHub never gives a \
             fork's pull request an OIDC ID token: publish from a workflow that runs in this \
             repository (e.g. `workflow_run` or a release), not on pull requests",
            shown(fork)
        );
    }
    "the job has no OIDC ID token (ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN \
     are not set): add `permissions: id-token: write` to the publishing job (and keep \
     `contents: read`, `actions: read`)"
        .to_owned()
}
