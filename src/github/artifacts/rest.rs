//! The run and its artifacts as GitHub's REST API tells them: the run, a tag's commit, the
//! artifact list, through one client ([`Api`]) that sends the GitHub token to the API's own
//! origin only and never follows a redirect with it.
use anyhow::{anyhow, bail, Context};
use reqwest::header::{ACCEPT, AUTHORIZATION, LINK};
use reqwest::StatusCode;
use serde::Deserialize;
use url::Url;

use super::{Artifact, Run};
use crate::github::rest::{github_message, next_link, Source};
use crate::http::{Failure, Http};

#[derive(Deserialize)]
struct ArtifactPage {
    #[serde(default)]
    artifacts: Vec<Artifact>,
}

pub(super) struct Api<'a> {
    pub(super) http: &'a Http,
    /// Never follows redirects: the artifact download's redirect must be followed by hand,
    /// without the GitHub token.
    pub(super) no_redirect: reqwest::Client,
    pub(super) source: &'a Source,
}

impl<'a> Api<'a> {
    pub(super) fn new(http: &'a Http, source: &'a Source) -> anyhow::Result<Self> {
        Ok(Api {
            http,
            no_redirect: http.no_redirect.clone(),
            source,
        })
    }

    /// The GitHub token goes only to the API's own origin.
    pub(super) fn is_api(&self, url: &Url) -> bool {
        url.origin() == self.source.api_url.origin()
    }

    pub(super) fn endpoint(&self, path: &str) -> anyhow::Result<Url> {
        let base = self.source.api_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/repos/{}/{path}", self.source.repository))
            .with_context(|| format!("bad GitHub API URL {base}"))
    }

    async fn get_json(
        &self,
        url: Url,
        what: &str,
    ) -> anyhow::Result<(serde_json::Value, Option<String>)> {
        self.get_json_as(url, what, false)
            .await?
            .ok_or_else(|| anyhow!("{what}: GitHub answered HTTP 404"))
    }

    /// The document, or None when GitHub answers 404 (something that does not exist).
    async fn get_json_if_any(
        &self,
        url: Url,
        what: &str,
    ) -> anyhow::Result<Option<serde_json::Value>> {
        Ok(self.get_json_as(url, what, true).await?.map(|(v, _)| v))
    }

    async fn get_json_as(
        &self,
        url: Url,
        what: &str,
        missing_ok: bool,
    ) -> anyhow::Result<Option<(serde_json::Value, Option<String>)>> {
        if !self.is_api(&url) {
            bail!(
                "{what}: refusing to send the GitHub token to {}, which is not the API host",
                url.origin().ascii_serialization()
            );
        }
        self.http
            .retry(what, |_| {
                let url = url.clone();
                async move {
                    let request = self
                        .no_redirect
                        .get(url)
                        .header(
                            AUTHORIZATION,
                            format!("Bearer {}", self.source.token.expose()),
                        )
                        .header(ACCEPT, "application/vnd.github+json")
                        .header("X-GitHub-Api-Version", "2022-11-28");
                    let answer = self.http.send_text(what, request).await?;
                    if missing_ok && answer.status == StatusCode::NOT_FOUND {
                        return Ok(None);
                    }
                    if !answer.status.is_success() {
                        return Err(Failure::Permanent(github_error(
                            what,
                            answer.status,
                            &answer.text,
                        )));
                    }
                    let link = answer
                        .headers
                        .get(LINK)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned);
                    Ok(Some((answer.json_value(what)?, link)))
                }
            })
            .await
    }
}

pub(super) fn github_error(what: &str, status: StatusCode, body: &str) -> anyhow::Error {
    let message = github_message(body);
    let hint = match status.as_u16() {
        401 => " Check the GitHub token (github-token input or GITHUB_TOKEN).",
        403 => " The token needs `actions: read` (runs, artifacts) or `contents: read` (tags) on this repository.",
        404 => " Check the run id and that the token can see this repository (`actions: read`).",
        _ => "",
    };
    anyhow!("{what}: GitHub answered HTTP {status}: {message}.{hint}")
}

pub async fn fetch_run(http: &Http, source: &Source, run_id: u64) -> anyhow::Result<Run> {
    let api = Api::new(http, source)?;
    let url = api.endpoint(&format!("actions/runs/{run_id}"))?;
    let (json, _) = api
        .get_json(url, &format!("reading workflow run {run_id}"))
        .await?;
    serde_json::from_value(json)
        .with_context(|| format!("workflow run {run_id}: unexpected answer"))
}

/// Tags of tags are followed this deep before giving up: a release tag names a commit, or
/// a tag object that does.
const MAX_TAG_DEPTH: usize = 4;

#[derive(Deserialize)]
struct GitRef {
    #[serde(rename = "ref")]
    name: String,
    object: GitObject,
}

#[derive(Deserialize)]
struct GitTag {
    object: GitObject,
}

#[derive(Deserialize)]
struct GitObject {
    #[serde(rename = "type")]
    kind: String,
    sha: String,
}

/// The commit the tag names, through annotated tags (`GET git/ref/tags/{tag}`, then
/// `GET git/tags/{sha}` while it names a tag object); None when there is no such tag.
/// `tag` must pass [`crate::github::releases::check_tag`], so it can go into a path as it is.
pub async fn tag_commit(http: &Http, source: &Source, tag: &str) -> anyhow::Result<Option<String>> {
    use crate::inert::shown;
    crate::github::releases::check_tag(tag)?;
    let api = Api::new(http, source)?;
    let what = format!("reading tag {}", shown(tag));
    let Some(json) = api
        .get_json_if_any(api.endpoint(&format!("git/ref/tags/{tag}"))?, &what)
        .await?
    else {
        return Ok(None);
    };
    let reference: GitRef = serde_json::from_value(json)
        .map_err(|e| anyhow!("{what}: unexpected answer from GitHub: {}", shown(e)))?;
    if reference.name != format!("refs/tags/{tag}") {
        bail!(
            "{what}: GitHub answered with the ref {}, not refs/tags/{}",
            shown(&reference.name),
            shown(tag)
        );
    }
    let mut object = reference.object;
    for _ in 0..=MAX_TAG_DEPTH {
        let sha = object.sha.trim().to_ascii_lowercase();
        if !matches!(sha.len(), 40 | 64) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "{what}: GitHub names the object {}, which is not a git object id",
                shown(&object.sha)
            );
        }
        match object.kind.as_str() {
            "commit" => return Ok(Some(sha)),
            "tag" => {
                let what = format!("{what}: reading its tag object {sha}");
                let json = api
                    .get_json_if_any(api.endpoint(&format!("git/tags/{sha}"))?, &what)
                    .await?
                    .ok_or_else(|| anyhow!("{what}: GitHub does not show that tag object"))?;
                let tag_object: GitTag = serde_json::from_value(json)
                    .map_err(|e| anyhow!("{what}: unexpected answer from GitHub: {}", shown(e)))?;
                object = tag_object.object;
            }
            other => bail!(
                "tag {} names a {}, not a commit: a release tag must name the commit that was \
                 built",
                shown(tag),
                shown(other)
            ),
        }
    }
    bail!(
        "tag {} is a tag of a tag more than {MAX_TAG_DEPTH} deep before it names a commit: tag \
         the commit that was built",
        shown(tag)
    )
}

pub(super) async fn list_artifacts(api: &Api<'_>, run_id: u64) -> anyhow::Result<Vec<Artifact>> {
    let mut url = api.endpoint(&format!("actions/runs/{run_id}/artifacts?per_page=100"))?;
    let mut all = Vec::new();
    for page in 1.. {
        let (json, link) = api
            .get_json(
                url.clone(),
                &format!("listing the artifacts of run {run_id} (page {page})"),
            )
            .await?;
        let parsed: ArtifactPage =
            serde_json::from_value(json).context("artifact list: unexpected answer")?;
        all.extend(parsed.artifacts);
        let Some(next) = link.as_deref().and_then(next_link) else {
            break;
        };
        url = Url::parse(&next).context("artifact list: bad `Link` header")?;
        if page > 1000 {
            bail!("artifact list of run {run_id}: more than 1000 pages, giving up");
        }
    }
    Ok(all)
}
