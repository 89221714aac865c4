//! The index's read side: where it lives, and what its JSON API says about a release.
use anyhow::{anyhow, Context};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::{self, Failure, Http};

/// The index's web root for an upload URL: PyPI and TestPyPI serve their JSON API and the
/// trusted-publishing endpoints from a different host than uploads; any other index serves
/// them from the upload URL's origin.
pub fn index_url_for(upload_url: &Url) -> Url {
    let host = upload_url.host_str().unwrap_or_default();
    let origin = match host {
        "upload.pypi.org" => "https://pypi.org/".to_owned(),
        "test.pypi.org" | "upload.test.pypi.org" => "https://test.pypi.org/".to_owned(),
        _ => format!("{}/", upload_url.origin().ascii_serialization()),
    };
    Url::parse(&origin).unwrap_or_else(|_| upload_url.clone())
}

/// One file of a release as the JSON API lists it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IndexFile {
    pub filename: String,
    /// Only an absolute http(s) URL is kept (see [`web_url`]).
    #[serde(deserialize_with = "web_url_field")]
    pub url: Option<String>,
    #[serde(default)]
    pub size: u64,
    #[serde(default)]
    pub packagetype: String,
    #[serde(default)]
    pub python_version: String,
    #[serde(default)]
    pub digests: IndexDigests,
    #[serde(default)]
    pub upload_time_iso_8601: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IndexDigests {
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub blake2b_256: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct ReleaseJson {
    info: ReleaseInfoJson,
    #[serde(default)]
    urls: Vec<IndexFile>,
}

#[derive(Clone, Debug, Deserialize)]
struct ReleaseInfoJson {
    #[serde(default)]
    release_url: Option<String>,
}

/// What the index says about one release.
#[derive(Clone, Debug, Default)]
pub struct ReleaseState {
    pub release_url: Option<String>,
    pub files: Vec<IndexFile>,
}

impl ReleaseState {
    pub fn file(&self, filename: &str) -> Option<&IndexFile> {
        self.files.iter().find(|f| f.filename == filename)
    }
}

pub struct JsonApi<'a> {
    pub http: &'a Http,
    pub index_url: &'a Url,
}

impl JsonApi<'_> {
    pub fn release_json_url(&self, name: &str, version: &str) -> anyhow::Result<Url> {
        self.index_url
            .join(&format!("pypi/{name}/{version}/json"))
            .with_context(|| format!("bad index URL {}", self.index_url))
    }

    /// The release's page, as Warehouse lays out its URLs; the JSON API's `release_url`
    /// replaces it when the index answers.
    pub fn release_page(&self, name: &str, version: &str) -> String {
        self.index_url
            .join(&format!("project/{name}/{version}/"))
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// The release's files, or `None` when the index does not know the release (404).
    pub async fn release(&self, name: &str, version: &str) -> anyhow::Result<Option<ReleaseState>> {
        let url = self.release_json_url(name, version)?;
        let what = format!("reading {url}");
        self.http
            .retry(&what, |_| self.read(url.clone(), &what))
            .await
    }

    /// One read, no retries: for a caller that polls anyway (confirmation), so that a JSON
    /// API that is down cannot stretch its bounded wait.
    pub async fn release_once(
        &self,
        name: &str,
        version: &str,
    ) -> anyhow::Result<Option<ReleaseState>> {
        let url = self.release_json_url(name, version)?;
        let what = format!("reading {url}");
        self.read(url, &what).await.map_err(|f| match f {
            Failure::Permanent(e) => e,
            Failure::Transient { reason, .. } => anyhow!(reason),
        })
    }

    async fn read(&self, url: Url, what: &str) -> Result<Option<ReleaseState>, Failure> {
        let request = self
            .http
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        let answer = self.http.send_text(what, request).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(Failure::Permanent(anyhow!(
                "{what}: HTTP {}{}",
                answer.status,
                http::snippet(&answer.text)
            )));
        }
        // A CDN error page with a 200 is transient; JSON of the wrong shape is not something
        // a retry fixes.
        let parsed: ReleaseJson = serde_json::from_value(answer.json_value(what)?)
            .map_err(|e| Failure::Permanent(anyhow!("{what}: unexpected JSON: {e}")))?;
        Ok(Some(ReleaseState {
            release_url: parsed.info.release_url.as_deref().and_then(web_url),
            files: parsed.urls,
        }))
    }
}

/// A URL from the index's answer, kept only when it is an absolute http(s) URL, and then in
/// its parsed form: it reaches outputs, the summary and the log, and a `javascript:` link or
/// a line break in it must not.
///
/// The fragment is dropped: a download needs none, and without one no `#` (nor the runner's
/// `##[` command syntax) can remain in the URL.
fn web_url(s: &str) -> Option<String> {
    let mut url = Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.has_host())?;
    url.set_fragment(None);
    Some(url.into())
}

fn web_url_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .as_deref()
        .and_then(web_url))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_urls_are_kept_only_when_they_are_web_urls() {
        assert_eq!(
            web_url("https://files.example/a b.whl").as_deref(),
            Some("https://files.example/a%20b.whl")
        );
        assert_eq!(
            web_url("https://x.example/\n::stop-commands::y").as_deref(),
            Some("https://x.example/::stop-commands::y")
        );
        assert_eq!(
            web_url("https://x.example/a.whl#sha256=00 ##[add-mask]z").as_deref(),
            Some("https://x.example/a.whl")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("/relative/path.whl"), None);
    }

    #[test]
    fn index_urls() {
        let u = |s: &str| index_url_for(&Url::parse(s).unwrap()).to_string();
        assert_eq!(u("https://upload.pypi.org/legacy/"), "https://pypi.org/");
        assert_eq!(u("https://test.pypi.org/legacy/"), "https://test.pypi.org/");
        assert_eq!(u("http://127.0.0.1:8080/legacy/"), "http://127.0.0.1:8080/");
        assert_eq!(
            u("https://pkgs.example.com/pypi/legacy/"),
            "https://pkgs.example.com/"
        );
    }
}
