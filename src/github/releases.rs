//! The GitHub Release of a version tag, and the published files attached to it
//! (`github-release`), spoken as GitHub's REST contract: the release by tag, its creation, its
//! assets (paginated), uploads to the release's own `upload_url`, asset digests.
//!
//! The GitHub token goes to the API's origin and to the upload origin the API names in the
//! release's `upload_url`, only when that origin is one GitHub uses for uploads (the API's
//! own, as on GitHub Enterprise Server, the same host, or `uploads.` beside `api.`); no request
//! that carries it follows a redirect.
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_LENGTH, CONTENT_TYPE, LINK};
use reqwest::{Method, StatusCode};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use url::Url;

use crate::github::rest::Source;
use crate::http::{self, Answer, Failure, Http};
use crate::inert::shown;
use crate::record::published::PublishedFile;

#[derive(Clone, Debug, Deserialize)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Kept only when it is an http(s) URL: it becomes a step output.
    #[serde(default, deserialize_with = "crate::http::web_url_field")]
    pub html_url: Option<String>,
    /// A URI template: `https://uploads.github.com/repos/o/r/releases/1/assets{?name,label}`.
    pub upload_url: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Asset {
    pub id: u64,
    pub name: String,
    /// `uploaded`; `starter` for an upload that never completed.
    #[serde(default)]
    pub state: Option<String>,
    /// `sha256:<hex>`; absent on assets uploaded before GitHub computed digests.
    #[serde(default)]
    pub digest: Option<String>,
    #[serde(default, deserialize_with = "crate::http::web_url_field")]
    pub browser_download_url: Option<String>,
}

impl Asset {
    pub fn sha256(&self) -> Option<String> {
        let d = self.digest.as_deref()?;
        let hex = d.strip_prefix("sha256:")?;
        Some(hex.to_ascii_lowercase())
    }

    fn complete(&self) -> bool {
        self.state.as_deref().is_none_or(|s| s == "uploaded")
    }
}

/// A published file found among the local files, with the sha256 the index holds.
#[derive(Clone, Debug)]
pub struct LocalFile {
    pub name: String,
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

/// Why the files cannot be attached; each names the file and what to do.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.join("\n"))]
pub struct Refused(pub Vec<String>);

/// The published files, each taken from `candidates` (the files found in the sources) and
/// checked against the sha256 the publish step reported. Every problem is returned at once:
/// a file missing, a file whose bytes differ, a file the publish did not put on the index.
pub fn match_published(
    published: &[PublishedFile],
    candidates: &[PathBuf],
) -> Result<Vec<LocalFile>, Refused> {
    let mut by_name: HashMap<String, Vec<&PathBuf>> = HashMap::new();
    for path in candidates {
        if let Some(name) = path.file_name() {
            by_name
                .entry(name.to_string_lossy().into_owned())
                .or_default()
                .push(path);
        }
    }
    let mut problems = Vec::new();
    let mut files = Vec::new();
    if published.is_empty() {
        problems.push(
            "--published lists no files: pass the publish step's `published` output".to_owned(),
        );
    }
    for p in published {
        let name = &p.filename;
        let status = p.status.as_deref().unwrap_or("uploaded");
        if !p.on_index() {
            // A mismatch is no half-done publish a re-run completes: the index holds other
            // bytes under the name, and no re-run can replace them.
            let advice = if status == "mismatch" {
                "the index holds other bytes under this name: find out why (see the publish \
                 step's error) and publish a new version; a re-run cannot replace it"
            } else {
                "re-run the publish first"
            };
            problems.push(format!(
                "{}: the publish step reports it `{}`, not on the index; a GitHub Release gets \
                 only files the index holds ({advice})",
                shown(name),
                shown(status)
            ));
            continue;
        }
        let Some(expected) = p
            .sha256
            .as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        else {
            problems.push(format!(
                "{}: --published gives no sha256 for it; pass the publish step's `published` \
                 output unchanged",
                shown(name)
            ));
            continue;
        };
        let Some(paths) = by_name.get(name.as_str()) else {
            problems.push(format!(
                "{}: published, but not among the files given (sha256 {expected}); attach from \
                 the same run-id, files or packages-dir that were published",
                shown(name)
            ));
            continue;
        };
        let mut seen = Vec::new();
        let mut found = None;
        for path in paths {
            match sha256_file(path) {
                Ok((sha, size)) if sha == expected => {
                    found = Some(LocalFile {
                        name: name.clone(),
                        path: (*path).clone(),
                        sha256: sha,
                        size,
                    });
                    break;
                }
                Ok((sha, _)) => seen.push(format!("{} has sha256 {sha}", shown(path.display()))),
                Err(e) => seen.push(format!("{e:#}")),
            }
        }
        match found {
            Some(f) => files.push(f),
            None => problems.push(format!(
                "{}: not the file that was published: the index holds sha256 {expected}, but {}; \
                 attach the files of the run that was published",
                shown(name),
                seen.join("; ")
            )),
        }
    }
    if problems.is_empty() {
        Ok(files)
    } else {
        Err(Refused(problems))
    }
}

fn sha256_file(path: &Path) -> anyhow::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)
        .with_context(|| format!("cannot read {}", shown(path.display())))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 512 * 1024];
    let mut size = 0u64;
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", shown(path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// What to do with each file, decided before anything is attached.
#[derive(Debug, Default)]
pub struct AssetPlan {
    /// Already attached with the same sha256.
    pub keep: Vec<(LocalFile, Asset)>,
    pub upload: Vec<LocalFile>,
    /// Assets to delete first: a different file under a published name (`--clobber`), or an
    /// upload that never completed (state `starter`), which blocks the name.
    pub delete: Vec<Asset>,
    /// A different file under a published name, without `--clobber`.
    pub conflicts: Vec<String>,
}

pub fn plan_assets(files: &[LocalFile], existing: &[Asset], clobber: bool) -> AssetPlan {
    let mut plan = AssetPlan::default();
    for file in files {
        let Some(asset) = existing.iter().find(|a| a.name == file.name) else {
            plan.upload.push(file.clone());
            continue;
        };
        if !asset.complete() {
            plan.delete.push(asset.clone());
            plan.upload.push(file.clone());
            continue;
        }
        match asset.sha256() {
            Some(sha) if sha == file.sha256 => plan.keep.push((file.clone(), asset.clone())),
            theirs => {
                if clobber {
                    plan.delete.push(asset.clone());
                    plan.upload.push(file.clone());
                } else {
                    let theirs = match theirs {
                        Some(sha) => format!("sha256 {sha}"),
                        None => "no digest on GitHub, so it cannot be shown to be the same file"
                            .to_owned(),
                    };
                    plan.conflicts.push(format!(
                        "{}: the release already has a different asset of this name ({theirs}; \
                         published: sha256 {}); delete it on GitHub or pass --clobber to \
                         replace it",
                        shown(&file.name),
                        file.sha256
                    ));
                }
            }
        }
    }
    plan
}

/// The release notes of a release this tool creates: where the version is published (no
/// link when the index has no release page), and what was attached.
pub fn release_notes(
    name: &str,
    version: &str,
    release_url: Option<&str>,
    files: &[LocalFile],
) -> String {
    use crate::inert::md;
    let page = match release_url {
        Some(url) => format!(": {}", md(url)),
        None => " (the index has no release page)".to_owned(),
    };
    let mut body = format!(
        "{} {} is published on the index{page}\n\nFiles (the same bytes as on the index):\n\n",
        md(name),
        md(version),
    );
    for f in files {
        body.push_str(&format!("- {} (sha256 {})\n", md(&f.name), f.sha256));
    }
    body
}

/// A tag name as git allows it, so it can go into a URL path as it is.
pub fn check_tag(tag: &str) -> anyhow::Result<()> {
    let bad = tag.is_empty()
        || tag.starts_with(['-', '/', '.'])
        || tag.ends_with(['/', '.'])
        || tag.contains("..")
        || tag.contains("@{")
        || tag.contains("//")
        || tag.ends_with(".lock")
        || tag
            .chars()
            .any(|c| c.is_control() || " ~^:?*[\\%#".contains(c));
    if bad {
        bail!(
            "{:?} is not a usable tag name (git refuses spaces, control characters and \
             ~^:?*[\\, and this tool also % and #): pass --tag",
            tag
        );
    }
    Ok(())
}

/// The GitHub REST client of this module.
pub struct Releases<'a> {
    http: &'a Http,
    source: &'a Source,
}

impl<'a> Releases<'a> {
    pub fn new(http: &'a Http, source: &'a Source) -> Self {
        Releases { http, source }
    }

    fn endpoint(&self, segments: &[&str]) -> anyhow::Result<Url> {
        let mut url = self.source.api_url.clone();
        {
            let mut path = url
                .path_segments_mut()
                .map_err(|_| anyhow!("GITHUB_API_URL {} cannot be a base", self.source.api_url))?;
            path.pop_if_empty().push("repos");
            path.extend(self.source.repository.split('/'));
            for s in segments {
                path.extend(s.split('/'));
            }
        }
        Ok(url)
    }

    /// The published release of the tag, if there is one.
    pub async fn by_tag(&self, tag: &str) -> anyhow::Result<Option<Release>> {
        let url = self.endpoint(&["releases/tags", tag])?;
        let what = format!("reading the release of tag {tag}");
        let answer = self.call(Method::GET, url, &what, None).await?;
        match answer.status {
            StatusCode::OK => parse(&what, &answer.text).map(Some),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(github_error(&what, s, &answer.text)),
        }
    }

    /// Create the release; when one appeared for the tag meanwhile (another run, or this
    /// request's own retry), that one.
    pub async fn create(
        &self,
        tag: &str,
        title: &str,
        body: &str,
        prerelease: bool,
    ) -> anyhow::Result<Release> {
        let url = self.endpoint(&["releases"])?;
        let what = format!("creating the release of tag {tag}");
        let payload = serde_json::json!({
            "tag_name": tag,
            "name": title,
            "body": body,
            "draft": false,
            "prerelease": prerelease,
            // GitHub's default `true` would mark a backport (1.2.5 after 2.0) as the latest
            // release; `legacy` decides by date and semantic version.
            "make_latest": "legacy",
        });
        let answer = self.call(Method::POST, url, &what, Some(payload)).await?;
        match answer.status {
            StatusCode::CREATED | StatusCode::OK => parse(&what, &answer.text),
            StatusCode::UNPROCESSABLE_ENTITY if already_exists(&answer.text) => {
                self.by_tag(tag).await?.ok_or_else(|| {
                    anyhow!(
                        "{what}: GitHub says the tag has a release, but does not show it (a \
                         draft?); publish or delete that draft and run again"
                    )
                })
            }
            s => Err(github_error(&what, s, &answer.text)),
        }
    }

    /// Every asset of the release, following the `Link` header's `next` pages.
    pub async fn assets(&self, release: &Release) -> anyhow::Result<Vec<Asset>> {
        let mut url = self.endpoint(&["releases", &release.id.to_string(), "assets"])?;
        url.set_query(Some("per_page=100"));
        let mut all = Vec::new();
        for page in 1.. {
            let what = format!(
                "listing the assets of release {} (page {page})",
                shown(&release.tag_name)
            );
            let answer = self.call(Method::GET, url.clone(), &what, None).await?;
            if answer.status != StatusCode::OK {
                return Err(github_error(&what, answer.status, &answer.text));
            }
            let assets: Vec<Asset> = parse(&what, &answer.text)?;
            all.extend(assets);
            let next = answer
                .headers
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(crate::github::rest::next_link);
            let Some(next) = next else { break };
            url = Url::parse(&next).with_context(|| format!("{what}: bad `Link` header"))?;
            if page >= 1000 {
                bail!("{what}: more than 1000 pages, giving up");
            }
        }
        Ok(all)
    }

    pub async fn delete_asset(&self, asset: &Asset) -> anyhow::Result<()> {
        let url = self.endpoint(&["releases/assets", &asset.id.to_string()])?;
        let what = format!("deleting asset {}", shown(&asset.name));
        let answer = self.call(Method::DELETE, url, &what, None).await?;
        match answer.status {
            // Gone already is what was wanted.
            StatusCode::NO_CONTENT | StatusCode::NOT_FOUND => Ok(()),
            s => Err(github_error(&what, s, &answer.text)),
        }
    }

    /// Upload one file to the release's `upload_url`. A retry that finds the asset already
    /// there (the first attempt reached GitHub but its answer was lost) reads it back and
    /// accepts it when its sha256 is the file's.
    pub async fn upload(&self, release: &Release, file: &LocalFile) -> anyhow::Result<Asset> {
        let mut url = self.upload_base(release)?;
        url.query_pairs_mut().append_pair("name", &file.name);
        let what = format!(
            "uploading {} to release {}",
            shown(&file.name),
            shown(&release.tag_name)
        );
        let outcome = self
            .http
            .retry(&what, |_| self.upload_once(url.clone(), file, &what))
            .await?;
        let asset = match outcome {
            Some(asset) => asset,
            None => self
                .assets(release)
                .await?
                .into_iter()
                .find(|a| a.name == file.name && a.complete())
                .ok_or_else(|| {
                    anyhow!("{what}: GitHub says the asset exists, but does not list it")
                })?,
        };
        match asset.sha256() {
            Some(sha) if sha != file.sha256 => bail!(
                "{what}: GitHub holds sha256 {sha} for {}, not the published {}; delete the \
                 asset and run again",
                shown(&asset.name),
                file.sha256
            ),
            _ => Ok(asset),
        }
    }

    /// `Ok(None)`: 422 `already_exists`.
    async fn upload_once(
        &self,
        url: Url,
        file: &LocalFile,
        what: &str,
    ) -> Result<Option<Asset>, Failure> {
        let handle = tokio::fs::File::open(&file.path).await.map_err(|e| {
            Failure::Permanent(anyhow!("cannot open {}: {e}", shown(file.path.display())))
        })?;
        let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(
            handle,
            crate::http::FILE_CHUNK,
        ));
        // No whole-request timeout: a large file may take long; a stall is cut by the
        // client's read timeout.
        let resp = self
            .http
            .upload
            .post(url)
            .header(
                AUTHORIZATION,
                format!("Bearer {}", self.source.token.expose()),
            )
            .header(ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
            .header(CONTENT_TYPE, content_type(&file.name))
            .header(CONTENT_LENGTH, file.size)
            .body(body)
            .send()
            .await
            .map_err(|e| http::transport_failure(what, e))?;
        let resp = http::transient_status(what, resp).await?;
        let status = resp.status();
        let text = http::json_text(what, resp).await?;
        match status {
            StatusCode::CREATED | StatusCode::OK => {
                parse(what, &text).map(Some).map_err(Failure::Permanent)
            }
            StatusCode::UNPROCESSABLE_ENTITY if already_exists(&text) => Ok(None),
            s => Err(Failure::Permanent(github_error(what, s, &text))),
        }
    }

    /// The upload URL without its template part, after checking that its origin may receive
    /// the token.
    fn upload_base(&self, release: &Release) -> anyhow::Result<Url> {
        let template = release.upload_url.split('{').next().unwrap_or_default();
        let url = Url::parse(template).map_err(|_| {
            anyhow!(
                "release {}: `upload_url` {:?} is not a URL",
                shown(&release.tag_name),
                release.upload_url
            )
        })?;
        if !upload_origin_allowed(&self.source.api_url, &url) {
            bail!(
                "release {}: refusing to send the GitHub token to {}, which GitHub named as the \
                 upload host but is neither the API host ({}) nor its `uploads.` host",
                shown(&release.tag_name),
                shown(url.origin().ascii_serialization()),
                self.source.api_url.origin().ascii_serialization()
            );
        }
        Ok(url)
    }

    /// One JSON API request with the token, retried by the shared policy; the token goes to
    /// the API origin only, and a redirect is an answer, never followed.
    async fn call(
        &self,
        method: Method,
        url: Url,
        what: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<Answer> {
        if url.origin() != self.source.api_url.origin() {
            bail!(
                "{what}: refusing to send the GitHub token to {}, which is not the API host",
                shown(url.origin().ascii_serialization())
            );
        }
        self.http
            .retry(what, |_| {
                let mut request = self
                    .http
                    .no_redirect
                    .request(method.clone(), url.clone())
                    .header(
                        AUTHORIZATION,
                        format!("Bearer {}", self.source.token.expose()),
                    )
                    .header(ACCEPT, "application/vnd.github+json")
                    .header("X-GitHub-Api-Version", "2022-11-28");
                if let Some(b) = &body {
                    request = request.json(b);
                }
                self.http.send_text(what, request)
            })
            .await
    }
}

/// The API's own origin (GitHub Enterprise Server serves uploads under `/api/uploads`), the
/// same host on another port, or `uploads.X` for the API host `api.X` (github.com and
/// GHE.com), always with the API's scheme.
pub fn upload_origin_allowed(api: &Url, upload: &Url) -> bool {
    if upload.scheme() != api.scheme() || !upload.username().is_empty() {
        return false;
    }
    match (api.host_str(), upload.host_str()) {
        (Some(a), Some(u)) => {
            u.eq_ignore_ascii_case(a)
                || a.strip_prefix("api.")
                    .is_some_and(|rest| u.eq_ignore_ascii_case(&format!("uploads.{rest}")))
        }
        _ => false,
    }
}

fn content_type(name: &str) -> &'static str {
    let n = name.to_ascii_lowercase();
    if n.ends_with(".whl") || n.ends_with(".zip") {
        "application/zip"
    } else if n.ends_with(".tar.gz") {
        "application/gzip"
    } else {
        "application/octet-stream"
    }
}

fn parse<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> anyhow::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| anyhow!("{what}: unexpected answer from GitHub: {}", shown(e)))
}

/// A 422 whose `errors` say `already_exists`.
fn already_exists(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("errors").and_then(|e| e.as_array()).cloned())
        .is_some_and(|errors| {
            errors
                .iter()
                .any(|e| e.get("code").and_then(|c| c.as_str()) == Some("already_exists"))
        })
}

fn github_error(what: &str, status: StatusCode, body: &str) -> anyhow::Error {
    let message = crate::github::rest::github_message(body);
    let hint = match status.as_u16() {
        401 => " Check the GitHub token (github-token input or GITHUB_TOKEN).",
        403 => " The job needs `permissions: contents: write` (and `actions: read` for run artifacts).",
        s if (300..400).contains(&s) => " Redirects are not followed with the token: point GITHUB_API_URL at the final API host.",
        _ => "",
    };
    anyhow!("{what}: GitHub answered HTTP {status}: {message}.{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn the_token_goes_only_to_githubs_upload_hosts() {
        let api = url("https://api.github.com");
        assert!(upload_origin_allowed(
            &api,
            &url("https://uploads.github.com/repos/o/r/releases/1/assets")
        ));
        assert!(!upload_origin_allowed(
            &api,
            &url("http://uploads.github.com/x")
        ));
        assert!(!upload_origin_allowed(
            &api,
            &url("https://uploads.evil.example/x")
        ));
        assert!(!upload_origin_allowed(
            &api,
            &url("https://uploads.github.com.evil.example/x")
        ));
        let ghes = url("https://ghe.example.com/api/v3");
        assert!(upload_origin_allowed(
            &ghes,
            &url("https://ghe.example.com/api/uploads/repos/o/r")
        ));
        assert!(!upload_origin_allowed(
            &ghes,
            &url("https://uploads.ghe.example.com/x")
        ));
        let local = url("http://127.0.0.1:4000");
        assert!(upload_origin_allowed(
            &local,
            &url("http://127.0.0.1:4001/repos")
        ));
        assert!(!upload_origin_allowed(
            &local,
            &url("http://localhost:4001/repos")
        ));
    }

    fn file(name: &str, sha: &str) -> LocalFile {
        LocalFile {
            name: name.into(),
            path: PathBuf::from(name),
            sha256: sha.into(),
            size: 1,
        }
    }

    fn asset(name: &str, digest: Option<&str>, state: &str) -> Asset {
        Asset {
            id: 1,
            name: name.into(),
            state: Some(state.into()),
            digest: digest.map(|d| format!("sha256:{d}")),
            browser_download_url: None,
        }
    }

    #[test]
    fn assets_are_kept_uploaded_replaced_or_refused() {
        let files = [
            file("a.whl", "aa"),
            file("b.tar.gz", "bb"),
            file("c.whl", "cc"),
            file("d.whl", "dd"),
        ];
        let existing = [
            asset("a.whl", Some("AA"), "uploaded"),
            asset("b.tar.gz", Some("00"), "uploaded"),
            asset("c.whl", Some("cc"), "starter"),
            asset("other.txt", None, "uploaded"),
        ];
        let plan = plan_assets(&files, &existing, false);
        assert_eq!(plan.keep.len(), 1);
        assert_eq!(plan.keep[0].0.name, "a.whl");
        let up: Vec<_> = plan.upload.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(up, ["c.whl", "d.whl"]);
        assert_eq!(plan.delete.len(), 1);
        assert_eq!(plan.conflicts.len(), 1);
        assert!(
            plan.conflicts[0].starts_with("b.tar.gz:"),
            "{:?}",
            plan.conflicts
        );
        let plan = plan_assets(&files, &existing, true);
        assert!(plan.conflicts.is_empty());
        assert_eq!(plan.delete.len(), 2);
        assert_eq!(plan.upload.len(), 3);
        // No digest on GitHub: not shown to be the same file.
        let plan = plan_assets(&files[..1], &[asset("a.whl", None, "uploaded")], false);
        assert_eq!(plan.conflicts.len(), 1);
    }

    #[test]
    fn only_files_on_the_index_are_matched_and_a_mismatch_is_not_sent_back_to_a_rerun() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-1.0.tar.gz");
        std::fs::write(&path, b"sdist").unwrap();
        let sha = hex::encode(Sha256::digest(b"sdist"));
        let entry = |status: &str| PublishedFile {
            filename: "demo-1.0.tar.gz".to_owned(),
            upload_time: None,
            sha256: Some(sha.clone()),
            status: Some(status.to_owned()),
            url: None,
        };
        let paths = [path];
        let matched = match_published(&[entry("already-there")], &paths).unwrap();
        assert_eq!(matched.len(), 1);
        let Err(Refused(failed)) = match_published(&[entry("failed")], &paths) else {
            panic!("a failed file was matched");
        };
        assert!(failed[0].contains("re-run the publish first"), "{failed:?}");
        let Err(Refused(mismatch)) = match_published(&[entry("mismatch")], &paths) else {
            panic!("a mismatched file was matched");
        };
        assert!(
            mismatch[0].contains("publish a new version"),
            "{mismatch:?}"
        );
        assert!(
            !mismatch[0].contains("re-run the publish first"),
            "{mismatch:?}"
        );
    }

    #[test]
    fn tags_that_cannot_go_into_a_path_are_refused() {
        for ok in ["v1.2.3", "release/1.0", "1.0rc1"] {
            check_tag(ok).unwrap();
        }
        for bad in [
            "", "v1 2", "-x", "a..b", "v1\n::x", "a?b", "a%2F", "x/", "../v1",
        ] {
            assert!(check_tag(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn already_exists_is_read_from_the_errors() {
        assert!(already_exists(
            r#"{"message":"Validation Failed","errors":[{"resource":"ReleaseAsset","code":"already_exists","field":"name"}]}"#
        ));
        assert!(!already_exists(
            r#"{"message":"Validation Failed","errors":[{"code":"invalid"}]}"#
        ));
        assert!(!already_exists("<html>"));
    }
}
