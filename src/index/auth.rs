//! Which credentials a publish uses: an API token, or a token minted by trusted publishing.
use tokio::sync::Mutex;
use url::Url;

use crate::github::id_token::RunnerOidc;
use crate::github::runner::Runner;
use crate::http::Http;
use crate::index::mint::{self, Audience, MintContext, MintError, MintTarget, Minted, Publisher};
use crate::index::upload::Credentials;
use crate::index::IndexTarget;
use crate::report::Notice;
use crate::secret::Secret;

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
    /// No credentials can be had; the reason says what to give. Only an error once
    /// something is to be uploaded.
    Missing(String),
}

/// Why there are no credentials to upload with.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    #[error("{0}")]
    Missing(String),
    #[error(transparent)]
    Mint(#[from] MintError),
}

/// What the credentials stage found, for the command to tell.
pub struct Authenticated {
    /// When the minted token expires (unix time); `None` for an API token.
    pub minted_expires: Option<Option<u64>>,
    pub notices: Vec<Notice>,
}

impl Auth {
    pub fn resolve(
        http: &Http,
        runner: &Runner,
        mode: TrustedPublishing,
        user: String,
        password: Option<Secret>,
        index: &IndexTarget,
    ) -> anyhow::Result<Auth> {
        match (mode, password) {
            (TrustedPublishing::Always, Some(_)) => anyhow::bail!(
                "--trusted-publishing always was asked for, but an API token was given too \
                 (password input, --password or PYPI_API_TOKEN): remove one of them"
            ),
            (TrustedPublishing::Never, None) => Ok(Auth::Missing(
                "no API token was given and --trusted-publishing is `never`: give a token with \
                 --password, the `password` input or PYPI_API_TOKEN"
                    .to_owned(),
            )),
            (_, Some(password)) => Ok(Auth::Token(Credentials {
                username: user,
                password,
                only_to: None,
            })),
            (_, None) => {
                // Before anything is read or downloaded: a publish that could only end by
                // sending the job's identity in clear text, or the minted token to another
                // host, fails at once.
                let target = MintTarget::new(
                    &index.index_url,
                    &index.repository_url,
                    index.oidc_audience.as_deref(),
                )?;
                Ok(Auth::Trusted(Box::new(TrustedPublisher {
                    http: http.clone(),
                    target,
                    oidc: RunnerOidc::for_job(runner).map_err(|e| format!("{e:#}")),
                    current: Mutex::new(None),
                    publisher: std::sync::Mutex::new(None),
                })))
            }
        }
    }

    /// The credentials of the first upload, obtained now (a minted token) so that a refusal
    /// stops the publish before any file is sent.
    pub async fn authenticate(&self, project: &str) -> Result<Authenticated, CredentialsError> {
        match self {
            Auth::Token(_) => Ok(Authenticated {
                minted_expires: None,
                notices: Vec::new(),
            }),
            Auth::Missing(why) => Err(CredentialsError::Missing(why.clone())),
            Auth::Trusted(tp) => {
                let minted = tp.mint(Some(project)).await?;
                let ready = Authenticated {
                    minted_expires: Some(minted.expires),
                    notices: minted.notices.clone(),
                };
                *tp.current.lock().await = Some(tp.credentials_of(minted));
                Ok(ready)
            }
        }
    }

    /// The current credentials (minted on first use).
    pub async fn credentials(&self, project: &str) -> Result<Credentials, CredentialsError> {
        match self {
            Auth::Token(c) => Ok(c.clone()),
            Auth::Missing(why) => Err(CredentialsError::Missing(why.clone())),
            Auth::Trusted(tp) => {
                let mut current = tp.current.lock().await;
                if let Some(c) = current.as_ref() {
                    return Ok(c.clone());
                }
                let c = tp.credentials_of(tp.mint(Some(project)).await?);
                *current = Some(c.clone());
                Ok(c)
            }
        }
    }

    /// Fresh credentials after the index refused the current ones (a minted token that
    /// expired during a long upload); `None` when they cannot be renewed.
    pub async fn renew(&self, project: &str) -> Option<Result<Credentials, CredentialsError>> {
        let Auth::Trusted(tp) = self else {
            return None;
        };
        let mut current = tp.current.lock().await;
        let fresh = tp
            .mint(Some(project))
            .await
            .map(|minted| tp.credentials_of(minted))
            .map_err(CredentialsError::from);
        if let Ok(c) = &fresh {
            *current = Some(c.clone());
        }
        Some(fresh)
    }
}

impl Auth {
    /// The trusted publisher the upload token was minted through, once one was; and where
    /// to add it to `project` on this index.
    pub fn trusted_publisher(&self, project: &str) -> Option<(Publisher, String)> {
        let Auth::Trusted(tp) = self else {
            return None;
        };
        let publisher = tp
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        Some((
            publisher,
            Publisher::register_at(tp.target.index_url(), project),
        ))
    }
}

impl Auth {
    /// The job's ID-token endpoint, which attestations are signed with too: only trusted
    /// publishing has one (and reads it once, with its mask).
    pub fn job_oidc(&self) -> anyhow::Result<&RunnerOidc> {
        match self {
            Auth::Trusted(tp) => tp.oidc.as_ref().map_err(|why| anyhow::anyhow!("{why}")),
            _ => anyhow::bail!("attestations are signed only with trusted publishing"),
        }
    }
}

/// Whether the index offers trusted publishing, so that an API token there is a secret that
/// need not exist.
pub async fn trusted_publishing_available(http: &Http, index_url: &Url) -> bool {
    matches!(
        mint::audience(http, index_url).await,
        Ok(Audience::Supported(_))
    )
}

pub struct TrustedPublisher {
    http: Http,
    target: MintTarget,
    /// The job's ID-token endpoint, or why it has none (an error only when a token is needed).
    oidc: Result<RunnerOidc, String>,
    current: Mutex<Option<Credentials>>,
    /// The publisher that matched the last mint: one token serves every project that
    /// registered it, and a project that refuses the token is told to add it.
    publisher: std::sync::Mutex<Option<Publisher>>,
}

impl TrustedPublisher {
    /// Mint an upload token; `project` only points a refusal at its settings page.
    pub async fn mint(&self, project: Option<&str>) -> Result<Minted, MintError> {
        let runner = self
            .oidc
            .as_ref()
            .map_err(|why| MintError::Failed(anyhow::anyhow!("{why}")))?;
        let ctx = MintContext {
            target: &self.target,
            project,
        };
        let minted = mint::mint(&self.http, runner, &ctx).await?;
        *self.publisher.lock().unwrap_or_else(|e| e.into_inner()) = Some(minted.publisher.clone());
        Ok(minted)
    }

    /// The minted token, bound to the upload URL it was minted for.
    fn credentials_of(&self, minted: Minted) -> Credentials {
        Credentials {
            username: "__token__".to_owned(),
            password: minted.token,
            only_to: Some(self.target.upload_url().clone()),
        }
    }
}
