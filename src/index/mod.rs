//! Everything said to a Python package index, and read from it. Party: the index (PyPI,
//! TestPyPI, any Warehouse, devpi, pypiserver, ...); nothing here speaks to GitHub or Sigstore.
//!
//! - Where it lives: [`IndexTarget`] (upload URL, web root, simple index, audience).
//! - The read side: [`simple`] (the Simple API every index serves), [`json`] (Warehouse's JSON
//!   API), and [`versions`] (what a project holds and whether a version is new, for
//!   `preflight`).
//! - Credentials: [`auth`] (an API token or trusted publishing) and [`mint`] (the
//!   trusted-publishing exchange: the job's ID token, from [`crate::github::id_token`], for
//!   a short-lived upload token).
//! - The write side: [`upload`] (the legacy upload form, with a file's attestations).
//!
//! A minted token goes only over https to the index it was minted at.
pub(crate) mod auth;
mod json;
pub(crate) mod mint;
pub mod simple;
pub(crate) mod upload;
pub(crate) mod versions;

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::anyhow;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::http::{Failure, Http};
pub use json::JsonApi;
pub use simple::{simple_url_for, SimpleApi};

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

/// The index a command talks to.
#[derive(Clone, Debug)]
pub struct IndexTarget {
    /// The legacy upload URL.
    pub repository_url: Url,
    /// The web root: JSON API and trusted-publishing endpoints.
    pub index_url: Url,
    /// The simple index, when given or derived from a known layout.
    pub simple: Option<SimpleIndex>,
    /// The trusted-publishing audience the workflow named for an index other than PyPI and
    /// TestPyPI (`--oidc-audience`).
    pub oidc_audience: Option<String>,
}

/// One file of a release as the JSON API lists it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct IndexFile {
    pub filename: String,
    /// Only an absolute http(s) URL is kept (see [`web_url`]).
    #[serde(deserialize_with = "crate::http::web_url_field")]
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
    /// Yanked (PEP 592): still on the index, skipped by installers that were not pinned to it.
    #[serde(default)]
    pub yanked: bool,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IndexDigests {
    #[serde(default)]
    pub sha256: Option<String>,
    #[serde(default)]
    pub blake2b_256: Option<String>,
}

/// What the index says about one release.
#[derive(Clone, Debug, Default)]
pub struct ReleaseState {
    pub release_url: Option<String>,
    pub files: Vec<IndexFile>,
    /// Read from Warehouse (its JSON API): `upload_time` and `release_url` are known.
    pub warehouse: bool,
    /// What was read, for the log.
    pub read_from: String,
}

impl ReleaseState {
    pub fn file(&self, filename: &str) -> Option<&IndexFile> {
        self.files.iter().find(|f| f.filename == filename)
    }
}

/// A single attempt's failure as an error, for callers that poll anyway.
fn once(f: Failure) -> anyhow::Error {
    match f {
        Failure::Permanent(e) => e,
        Failure::Transient { reason, .. } => anyhow!(reason),
    }
}

/// Where the simple index is, and how that was decided.
#[derive(Clone, Debug)]
pub struct SimpleIndex {
    pub url: Url,
    /// `--simple-url`, or the layout it was derived from.
    pub why: String,
}

/// The index's read side: the Simple API on every index; Warehouse's per-release JSON where
/// the index is Warehouse (PyPI and TestPyPI by name; any other as soon as its simple page
/// says so), decided by the one request that reads the simple page, never by a timeout.
pub struct Index<'a> {
    pub json: JsonApi<'a>,
    pub simple: Option<&'a SimpleIndex>,
    warehouse: AtomicBool,
}

impl<'a> Index<'a> {
    pub fn new(http: &'a Http, index_url: &'a Url, simple: Option<&'a SimpleIndex>) -> Self {
        let known = matches!(index_url.host_str(), Some("pypi.org" | "test.pypi.org"));
        Index {
            json: JsonApi { http, index_url },
            simple,
            warehouse: AtomicBool::new(known),
        }
    }

    /// Whether the index is known to be Warehouse (with its JSON API) by now.
    pub fn is_warehouse(&self) -> bool {
        self.warehouse.load(Ordering::Relaxed)
    }

    /// The release, read with retries; `None` when the index does not know the project.
    pub async fn release(&self, name: &str, version: &str) -> anyhow::Result<Option<ReleaseState>> {
        self.read(name, version, true).await
    }

    /// One read, no retries: for confirmation, which polls anyway.
    pub async fn release_once(
        &self,
        name: &str,
        version: &str,
    ) -> anyhow::Result<Option<ReleaseState>> {
        self.read(name, version, false).await
    }

    async fn read(
        &self,
        name: &str,
        version: &str,
        retry: bool,
    ) -> anyhow::Result<Option<ReleaseState>> {
        if !self.is_warehouse() {
            let simple = self.simple.ok_or_else(|| {
                anyhow!(
                    "the simple index of {} is not known (its layout is none of PyPI's, \
                     Warehouse's, pypiserver's or devpi's): give --simple-url (input \
                     `simple-url`)",
                    self.json.index_url
                )
            })?;
            let api = SimpleApi {
                http: self.json.http,
                url: &simple.url,
            };
            let Some(page) = api.project(name, retry).await? else {
                return Ok(None);
            };
            if !page.warehouse {
                return Ok(Some(ReleaseState {
                    release_url: None,
                    files: page.files_of(version),
                    warehouse: false,
                    read_from: page.described,
                }));
            }
            self.warehouse.store(true, Ordering::Relaxed);
            tracing::debug!("{} is Warehouse: reading its JSON API", page.described);
            if page.files_of(version).is_empty() {
                // Warehouse lists no file of this version: the release is new.
                return Ok(Some(ReleaseState {
                    warehouse: true,
                    read_from: page.described,
                    ..ReleaseState::default()
                }));
            }
        }
        // Warehouse: its per-release JSON is small where a simple page can weigh megabytes,
        // and carries the release page and each file's upload time.
        if retry {
            self.json.release(name, version).await
        } else {
            self.json.release_once(name, version).await
        }
    }

    /// What a read of the release looks at first, for the log when it found nothing.
    pub fn first_read(&self, name: &str, version: &str) -> String {
        let simple = self.simple.filter(|_| !self.is_warehouse()).and_then(|s| {
            SimpleApi {
                http: self.json.http,
                url: &s.url,
            }
            .page_url(name)
            .ok()
        });
        match simple {
            Some(page) => page.to_string(),
            None => self
                .json
                .release_json_url(name, version)
                .map(|u| u.to_string())
                .unwrap_or_default(),
        }
    }

    /// devpi's release page (`/{user}/{index}/{name}/{version}`), when the simple index is
    /// devpi's and the page answers: no other index but Warehouse has one.
    pub async fn devpi_release_page(&self, name: &str, version: &str) -> Option<String> {
        let simple = self.simple?;
        if !simple.url.path().ends_with("/+simple/") {
            return None;
        }
        let page = simple.url.join(&format!("../{name}/{version}")).ok()?;
        let request = self
            .json
            .http
            .no_redirect
            .get(page.clone())
            .header(reqwest::header::ACCEPT, "text/html, application/json;q=0.9")
            .timeout(self.json.http.timeout);
        let ok = request.send().await.is_ok_and(|r| r.status().is_success());
        ok.then(|| crate::http::web_url(page.as_str())).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
