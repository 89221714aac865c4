//! Warehouse's JSON API (`/pypi/{name}/{version}/json`): only Warehouse has it, and only it
//! carries a release's page and each file's upload time.
use anyhow::{anyhow, Context};

use serde::Deserialize;
use url::Url;

use super::{IndexFile, ReleaseState};
use crate::http::web_url;
use crate::http::{Failure, Http};

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
        self.read(url, &what).await.map_err(super::once)
    }

    async fn read(&self, url: Url, what: &str) -> Result<Option<ReleaseState>, Failure> {
        let read_from = url.to_string();
        let Some(value) = self.http.get_json_if_any(what, url).await? else {
            return Ok(None);
        };
        // JSON of the wrong shape is not something a retry fixes.
        let parsed: ReleaseJson = serde_json::from_value(value)
            .map_err(|e| Failure::Permanent(anyhow!("{what}: unexpected JSON: {e}")))?;
        Ok(Some(ReleaseState {
            release_url: parsed.info.release_url.as_deref().and_then(web_url),
            files: parsed.urls,
            warehouse: true,
            read_from,
        }))
    }
}
