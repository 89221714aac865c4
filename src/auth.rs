//! Which credentials a publish uses: an API token, or a token minted by trusted publishing.
use anyhow::bail;
use tokio::sync::Mutex;
use url::Url;

use crate::http::Http;
use crate::oidc::{self, Audience, MintContext, RunnerOidc};
use crate::publish::CredentialSource;
use crate::reporting::{self, Level};
use crate::secret::Secret;
use crate::upload::Credentials;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TrustedPublishing {
    /// Trusted publishing unless an API token is given.
    Auto,
    /// Trusted publishing only; an API token is an error.
    Always,
    /// An API token only.
    Never,
}

pub enum Auth {
    Token(Credentials),
    Trusted(Box<TrustedPublisher>),
    Missing(String),
}

impl Auth {
    pub async fn resolve(
        http: &Http,
        mode: TrustedPublishing,
        user: String,
        password: Option<Secret>,
        index_url: &Url,
    ) -> anyhow::Result<Auth> {
        match (mode, password) {
            (TrustedPublishing::Always, Some(_)) => bail!(
                "--trusted-publishing always was asked for, but an API token was given too \
                 (password input, --password or PYPI_API_TOKEN): remove one of them"
            ),
            (TrustedPublishing::Never, None) => Ok(Auth::Missing(
                "no API token was given and --trusted-publishing is `never`: give a token with \
                 --password, the `password` input or PYPI_API_TOKEN"
                    .to_owned(),
            )),
            (_, Some(password)) => {
                if mode == TrustedPublishing::Auto && reporting::in_actions() {
                    suggest_trusted_publishing(http, index_url).await;
                }
                Ok(Auth::Token(Credentials {
                    username: user,
                    password,
                }))
            }
            (_, None) => {
                // Before anything is read or downloaded: a publish that could only end by
                // sending the job's identity in clear text fails at once.
                oidc::check_transport(index_url)?;
                Ok(Auth::Trusted(Box::new(TrustedPublisher {
                    http: http.clone(),
                    index_url: index_url.clone(),
                    current: Mutex::new(None),
                })))
            }
        }
    }
}

/// An API token used where no secret is needed at all: say so, once, without failing.
async fn suggest_trusted_publishing(http: &Http, index_url: &Url) {
    if let Ok(Audience::Supported(_)) = oidc::audience(http, index_url).await {
        reporting::annotate(
            Level::Warning,
            "An API token is not needed here",
            &format!(
                "{index_url} supports trusted publishing: register this workflow as the \
                 project's trusted publisher, give the job `permissions: id-token: write`, and \
                 delete the long-lived API token secret"
            ),
        );
    }
}

pub struct TrustedPublisher {
    http: Http,
    index_url: Url,
    current: Mutex<Option<Credentials>>,
}

impl TrustedPublisher {
    async fn mint(&self, project: &str) -> anyhow::Result<Credentials> {
        let runner = RunnerOidc::from_env()?;
        let ctx = MintContext {
            index_url: &self.index_url,
            project: Some(project),
        };
        let minted = oidc::mint(&self.http, &runner, &ctx).await?;
        tracing::info!(
            "minted a short-lived upload token through trusted publishing{}",
            minted
                .expires
                .map(|e| format!(" (expires at unix time {e})"))
                .unwrap_or_default()
        );
        Ok(Credentials {
            username: "__token__".to_owned(),
            password: minted.token,
        })
    }

    pub async fn mint_token(&self, project: Option<&str>) -> anyhow::Result<Secret> {
        let runner = RunnerOidc::from_env()?;
        let ctx = MintContext {
            index_url: &self.index_url,
            project,
        };
        Ok(oidc::mint(&self.http, &runner, &ctx).await?.token)
    }
}

impl CredentialSource for Auth {
    async fn credentials(&self, project: &str) -> anyhow::Result<Credentials> {
        match self {
            Auth::Token(c) => Ok(c.clone()),
            Auth::Missing(why) => bail!("{why}"),
            Auth::Trusted(tp) => {
                let mut current = tp.current.lock().await;
                if let Some(c) = current.as_ref() {
                    return Ok(c.clone());
                }
                let c = tp.mint(project).await?;
                *current = Some(c.clone());
                Ok(c)
            }
        }
    }

    async fn renew(&self, project: &str) -> Option<anyhow::Result<Credentials>> {
        let Auth::Trusted(tp) = self else {
            return None;
        };
        let mut current = tp.current.lock().await;
        let fresh = tp.mint(project).await;
        if let Ok(c) = &fresh {
            *current = Some(c.clone());
        }
        Some(fresh)
    }
}
