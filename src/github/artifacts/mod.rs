//! The artifacts of the triggering workflow run: read the run, refuse an untrusted one,
//! list and pick its artifacts, download them (the GitHub token goes to the API host only),
//! verify their digests, and extract them safely.
use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::header::{ACCEPT, AUTHORIZATION, LINK, LOCATION};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::http::{self, Failure, Http};
use crate::secret::Secret;

/// All the artifacts of one run together may not expand beyond this.
pub const MAX_EXTRACTED_TOTAL: u64 = 8 << 30;
/// An artifact archive may hold at most this many members: a dist/ folder holds a handful,
/// and every member costs a file and a central-directory record held in memory.
pub const MAX_MEMBERS: usize = 10_000;
/// The most a zip may weigh when GitHub does not say its size (`size_in_bytes` 0 or absent);
/// a zip larger than everything it may expand to could not be extracted anyway.
pub const MAX_ZIP_BYTES: u64 = MAX_EXTRACTED_TOTAL;
/// A single entry may not be larger than this.
const MAX_ENTRY_SIZE: u64 = 2 << 30;
/// Entries larger than [`RATIO_CHECK_FLOOR`] may not expand more than this many times:
/// wheels and sdists are compressed already, so a large, highly compressible entry is a bomb.
const MAX_RATIO: u64 = 200;
const RATIO_CHECK_FLOOR: u64 = 64 << 20;

pub struct Source {
    pub api_url: Url,
    /// `owner/repo`
    pub repository: String,
    /// `GITHUB_REPOSITORY_ID`, when known: a repository deleted and re-created under the
    /// same name (or a rename race) keeps its name but not its id.
    pub repository_id: Option<u64>,
    pub token: Secret,
}

/// Events whose runs build what this repository's own branches, tags or maintainers hold;
/// a run of any other event is published only when `--allow-run-events` names it.
pub const TRUSTED_EVENTS: [&str; 4] = ["push", "release", "workflow_dispatch", "schedule"];

pub struct Selection {
    pub run_id: u64,
    pub patterns: Vec<String>,
    pub expect_sha: Option<String>,
    /// Publish from a run whose code came from another repository (a fork) anyway (loudly).
    pub allow_untrusted_run: bool,
    /// Events beyond [`TRUSTED_EVENTS`] whose runs may be published (with a warning).
    pub allow_run_events: Vec<String>,
    /// The workflow file the run must come from, e.g. `.github/workflows/build.yml`.
    pub build_workflow: Option<String>,
    /// The refs the run may have built; empty: any.
    pub build_refs: BuildRefs,
}

/// `refs/tags/<glob>` or `refs/heads/<glob>` patterns (`*` stays within one `/`-separated
/// part, `**` crosses them), as `build-refs` gives them: the refs a run may have built.
///
/// The run object names its ref only as `head_branch`, a bare name that is a branch's or a
/// tag's. A tag pattern therefore admits a run only when the tag of that name exists and
/// names the run's `head_sha` (a branch named like a tag, or a tag moved after the build,
/// does not pass); a branch pattern only when no tag of that name exists (so the name cannot
/// be a tag's).
#[derive(Clone, Debug, Default)]
pub struct BuildRefs(Vec<RefPattern>);

#[derive(Clone, Debug)]
struct RefPattern {
    kind: RefKind,
    /// The pattern of the name after `refs/tags/` or `refs/heads/`.
    name: glob::Pattern,
    text: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RefKind {
    Tag,
    Branch,
}

impl BuildRefs {
    /// Comma- or newline-separated patterns; an error names the one that is not usable.
    pub fn parse<S: AsRef<str>>(given: &[S]) -> anyhow::Result<BuildRefs> {
        let mut patterns = Vec::new();
        for text in given
            .iter()
            .flat_map(|g| g.as_ref().split([',', '\n']))
            .map(str::trim)
            .filter(|t| !t.is_empty())
        {
            let (kind, rest) = if let Some(rest) = text.strip_prefix("refs/tags/") {
                (RefKind::Tag, rest)
            } else if let Some(rest) = text.strip_prefix("refs/heads/") {
                (RefKind::Branch, rest)
            } else {
                bail!(
                    "build-refs (--build-refs) pattern {:?} names neither a tag nor a branch: \
                     write refs/tags/<pattern> (e.g. refs/tags/v*) or refs/heads/<branch> \
                     (e.g. refs/heads/main)",
                    text
                );
            };
            let name = glob::Pattern::new(rest).map_err(|e| {
                anyhow!("build-refs (--build-refs) pattern {text:?} is not a valid glob: {e}")
            })?;
            patterns.push(RefPattern {
                kind,
                name,
                text: text.to_owned(),
            });
        }
        Ok(BuildRefs(patterns))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn allows(&self, kind: RefKind, name: &str) -> bool {
        let options = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        self.0
            .iter()
            .any(|p| p.kind == kind && p.name.matches_with(name, options))
    }

    fn shown(&self) -> String {
        self.0
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Run {
    pub id: u64,
    #[serde(default)]
    pub name: Option<String>,
    pub event: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub conclusion: Option<String>,
    pub head_sha: String,
    #[serde(default)]
    pub head_branch: Option<String>,
    /// The workflow file, e.g. `.github/workflows/build.yml` (a `@ref` suffix for some).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub html_url: Option<String>,
    #[serde(default)]
    pub head_repository: Option<RepoRef>,
    #[serde(default)]
    pub repository: Option<RepoRef>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct RepoRef {
    pub full_name: String,
    #[serde(default)]
    pub id: Option<u64>,
}

#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Artifact {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub size_in_bytes: u64,
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub archive_download_url: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
}

#[derive(Deserialize)]
struct ArtifactPage {
    #[serde(default)]
    artifacts: Vec<Artifact>,
}

/// What was downloaded: the run, the artifacts used, and the extracted distribution files.
pub struct Downloaded {
    pub run: Run,
    pub artifacts: Vec<Artifact>,
    pub files: Vec<PathBuf>,
    pub other_files: Vec<PathBuf>,
    pub dir: PathBuf,
    /// What was let through only by an override (`allow-untrusted-run`, `allow-run-events`),
    /// to be told as warnings.
    pub notices: Vec<crate::report::Notice>,
    /// The ref the run built, as `build-refs` checked it (`refs/tags/v1.0`); None when
    /// build-refs was not given.
    pub build_ref: Option<String>,
}

struct Api<'a> {
    http: &'a Http,
    /// Never follows redirects: the artifact download's redirect must be followed by hand,
    /// without the GitHub token.
    no_redirect: reqwest::Client,
    source: &'a Source,
}

impl<'a> Api<'a> {
    fn new(http: &'a Http, source: &'a Source) -> anyhow::Result<Self> {
        Ok(Api {
            http,
            no_redirect: http.no_redirect.clone(),
            source,
        })
    }

    /// The GitHub token goes only to the API's own origin.
    fn is_api(&self, url: &Url) -> bool {
        url.origin() == self.source.api_url.origin()
    }

    fn endpoint(&self, path: &str) -> anyhow::Result<Url> {
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

/// GitHub's own words for a refusal: the `message` of its JSON error body, else the body's
/// start; shown as data.
pub(crate) fn github_message(body: &str) -> String {
    serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| {
            v.get("message")
                .and_then(|m| m.as_str())
                .map(|m| crate::inert::shown(m).to_string())
        })
        .unwrap_or_else(|| http::snippet(body).trim_start_matches(": ").to_owned())
}

fn github_error(what: &str, status: StatusCode, body: &str) -> anyhow::Error {
    let message = github_message(body);
    let hint = match status.as_u16() {
        401 => " Check the GitHub token (github-token input or GITHUB_TOKEN).",
        403 => " The token needs `actions: read` (runs, artifacts) or `contents: read` (tags) on this repository.",
        404 => " Check the run id and that the token can see this repository (`actions: read`).",
        _ => "",
    };
    anyhow!("{what}: GitHub answered HTTP {status}: {message}.{hint}")
}

/// `<url>; rel="next"` from a `Link` header.
pub(crate) fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim();
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

/// A reason to publish from a run only because an override flag says so.
#[derive(Debug)]
pub struct Concession {
    pub title: &'static str,
    pub message: String,
}

/// Whether the run may be published from: `Err` says why not and what to change; `Ok` lists
/// what was let through only by an override, each to be shown as a warning.
pub fn vet_run(
    run: &Run,
    repository: &str,
    repository_id: Option<u64>,
    sel: &Selection,
) -> anyhow::Result<Vec<Concession>> {
    let mut conceded = Vec::new();
    let id = run.id;
    let event = crate::inert::shown(&run.event);

    // The run endpoint was asked under this repository, so the run's own `repository` is this
    // one: its id stands in when GITHUB_REPOSITORY_ID is not set.
    let repository_id = repository_id.or_else(|| {
        run.repository
            .as_ref()
            .filter(|r| r.full_name.eq_ignore_ascii_case(repository))
            .and_then(|r| r.id)
    });
    let foreign = match &run.head_repository {
        None => Some(format!(
            "run {id} (event `{event}`) names no head repository (the repository its code came \
             from was deleted, or GitHub did not say), so its code cannot be shown to come from \
             {repository}"
        )),
        Some(head) => {
            let same_name = head.full_name.eq_ignore_ascii_case(repository);
            let same_id = match (head.id, repository_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            (!(same_name && same_id)).then(|| {
                format!(
                    "run {id} (event `{event}`) built code from {} (repository id {}), not \
                     from this repository {repository} (id {}): a fork's code must never be \
                     published from this repository's release job",
                    crate::inert::shown(&head.full_name),
                    head.id
                        .map_or_else(|| "unknown".to_owned(), |i| i.to_string()),
                    repository_id.map_or_else(|| "unknown".to_owned(), |i| i.to_string()),
                )
            })
        }
    };
    if let Some(why) = foreign {
        if !sel.allow_untrusted_run {
            bail!(
                "refusing to publish from an untrusted run: {why}. Publish from a run of this \
                 repository (a push, a release, a manual dispatch). Nothing was downloaded."
            );
        }
        conceded.push(Concession {
            title: "PUBLISHING FROM AN UNTRUSTED RUN",
            message: format!("{why}; allow-untrusted-run was given, so publishing anyway"),
        });
    }

    if !TRUSTED_EVENTS.contains(&run.event.as_str()) {
        let allowed = sel
            .allow_run_events
            .iter()
            .any(|e| e.trim().eq_ignore_ascii_case(&run.event));
        if !allowed {
            bail!(
                "refusing to publish from workflow run {id}: it was triggered by `{event}`, and \
                 only runs triggered by {} are published unless the `allow-run-events` input \
                 (--allow-run-events) names their event. A `{event}` run may build code this \
                 repository has not reviewed (a pull request's head, a comment's request); if \
                 this build only ever builds this repository's own code, set \
                 `allow-run-events: {event}`. Nothing was downloaded.",
                TRUSTED_EVENTS.join(", ")
            );
        }
        conceded.push(Concession {
            title: "Publishing from a run of an extra event",
            message: format!(
                "run {id} was triggered by `{event}`, which allow-run-events accepts: make sure \
                 that workflow never builds a pull request's or a stranger's code"
            ),
        });
    }

    if let Some(pin) = sel
        .build_workflow
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let wanted = workflow_file(pin);
        let wanted = if wanted.contains('/') {
            wanted.to_owned()
        } else {
            format!(".github/workflows/{wanted}")
        };
        match run.path.as_deref() {
            Some(path) if workflow_file(path) == wanted => {}
            Some(path) => bail!(
                "refusing to publish from workflow run {id}: it ran the workflow {}, but the \
                 `build-workflow` input (--build-workflow) pins {wanted}: pass the id of a run \
                 of {wanted}, or correct build-workflow. Nothing was downloaded.",
                crate::inert::shown(path)
            ),
            None => bail!(
                "refusing to publish from workflow run {id}: GitHub did not say which workflow \
                 file it ran, so it cannot be checked against the `build-workflow` input \
                 ({wanted}). Nothing was downloaded."
            ),
        }
    }
    Ok(conceded)
}

/// A workflow path without its `@ref` suffix (GitHub adds one for some runs) or a leading
/// `./`.
fn workflow_file(path: &str) -> &str {
    let file = path.split_once('@').map_or(path, |(file, _)| file).trim();
    file.strip_prefix("./").unwrap_or(file)
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

/// The ref the run built, when `build-refs` allows it (see [`BuildRefs`]); `Err` says why
/// not. Asks GitHub for the tag of the run's `head_branch` name.
async fn check_build_ref(
    http: &Http,
    source: &Source,
    run: &Run,
    refs: &BuildRefs,
) -> anyhow::Result<String> {
    use crate::inert::shown;
    let id = run.id;
    let refuse = |why: String| {
        anyhow!(
            "refusing to publish from workflow run {id}: {why}; the `build-refs` input \
             (--build-refs) allows only {}. Publish a run of an allowed ref, or correct \
             build-refs. Nothing was downloaded.",
            refs.shown()
        )
    };
    let Some(name) = run.head_branch.as_deref().filter(|n| !n.is_empty()) else {
        return Err(refuse(
            "GitHub does not say which branch or tag it built".to_owned(),
        ));
    };
    let as_tag = refs.allows(RefKind::Tag, name);
    let as_branch = refs.allows(RefKind::Branch, name);
    if !as_tag && !as_branch {
        return Err(refuse(format!(
            "it built {} (a branch or a tag of that name), which no pattern matches",
            shown(name)
        )));
    }
    // A name that cannot be a tag's: only a branch pattern can admit it.
    let tag = if crate::github::releases::check_tag(name).is_ok() {
        tag_commit(http, source, name).await?
    } else {
        None
    };
    let built = &run.head_sha;
    match tag {
        Some(commit) if as_tag && commit.eq_ignore_ascii_case(built) => {
            Ok(format!("refs/tags/{name}"))
        }
        None if as_branch => Ok(format!("refs/heads/{name}")),
        Some(commit) if as_tag => Err(refuse(format!(
            "it built commit {} for {}, but the tag {} names commit {} now (the tag moved \
             after the build, or the run built a branch of that name)",
            shown(built),
            shown(name),
            shown(name),
            commit
        ))),
        Some(_) => Err(refuse(format!(
            "it built {}, and a tag of that name exists, so the run cannot be shown to have \
             built the branch",
            shown(name)
        ))),
        None => Err(refuse(format!(
            "it built {}, but no tag of that name exists: the run built a branch named like a \
             tag (or the tag was deleted)",
            shown(name)
        ))),
    }
}

/// Read and vet the run, then list, pick, download, verify and extract its artifacts into
/// `dest` (which must not exist yet, or be empty).
pub async fn download(
    http: &Http,
    source: &Source,
    sel: &Selection,
    dest: &Path,
) -> anyhow::Result<Downloaded> {
    let api = Api::new(http, source)?;
    let run = fetch_run(http, source, sel.run_id).await?;
    let shown = crate::inert::shown;
    tracing::info!(
        "workflow run {} ({}): event {}, workflow {}, from {}, commit {}, conclusion {}",
        run.id,
        shown(run.name.as_deref().unwrap_or("unnamed")),
        shown(&run.event),
        shown(run.path.as_deref().unwrap_or("unknown")),
        shown(
            run.head_repository
                .as_ref()
                .map_or("an unknown repository", |r| r.full_name.as_str())
        ),
        shown(&run.head_sha),
        shown(run.conclusion.as_deref().unwrap_or("none"))
    );
    if run.conclusion.as_deref() != Some("success") {
        bail!(
            "refusing to publish from workflow run {}: it concluded `{}`, not `success` \
             (status `{}`); only a successful build may be published",
            run.id,
            shown(run.conclusion.as_deref().unwrap_or("none")),
            shown(run.status.as_deref().unwrap_or("unknown"))
        );
    }
    let notices = vet_run(&run, &source.repository, source.repository_id, sel)?
        .into_iter()
        .map(|c| crate::report::Notice::warning(c.title, c.message))
        .collect();
    let build_ref = if sel.build_refs.is_empty() {
        None
    } else {
        let checked = check_build_ref(http, source, &run, &sel.build_refs).await?;
        tracing::info!(
            "run {} built {}, which build-refs allows",
            run.id,
            crate::inert::shown(&checked)
        );
        Some(checked)
    };
    if let Some(expected) = &sel.expect_sha {
        if !run.head_sha.eq_ignore_ascii_case(expected.trim()) {
            bail!(
                "refusing to publish from workflow run {}: it built commit {}, not the expected {}",
                run.id,
                shown(&run.head_sha),
                expected.trim()
            );
        }
    }

    let all = list_artifacts(&api, sel.run_id).await?;
    let picked = pick(&all, &sel.patterns, sel.run_id)?;
    prepare_dest(dest)?;
    let mut files = Vec::new();
    let mut other_files = Vec::new();
    let mut by_name: HashMap<String, (PathBuf, String)> = HashMap::new();
    let mut budget = Budget::default();
    for artifact in &picked {
        let zip_path = dest.join(format!(".{}.zip", artifact.id));
        download_zip(&api, artifact, &zip_path).await?;
        let out_dir = dest.join(safe_dir_name(&artifact.name));
        let extracted = extract_within(&zip_path, &out_dir, &mut budget)
            .with_context(|| format!("artifact {:?} (id {})", artifact.name, artifact.id))?;
        let _ = std::fs::remove_file(&zip_path);
        for (path, sha) in extracted {
            let fname = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !crate::distribution::is_distribution(&fname) {
                other_files.push(path);
                continue;
            }
            match by_name.get(&fname) {
                Some((_, prev)) if *prev == sha => continue, // the same file in two artifacts
                Some((prev_path, _)) => bail!(
                    "two different files named {fname} in the selected artifacts ({} and {}): \
                     select one artifact with --artifact-pattern",
                    prev_path.display(),
                    path.display()
                ),
                None => {
                    by_name.insert(fname, (path.clone(), sha));
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    Ok(Downloaded {
        run,
        artifacts: picked,
        files,
        other_files,
        dir: dest.to_owned(),
        notices,
        build_ref,
    })
}

/// A folder name for an artifact: artifact names may hold characters a path should not.
fn safe_dir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_start_matches('.') {
        "" => "artifact".to_owned(),
        t => t.to_owned(),
    }
}

fn prepare_dest(dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        let mut entries =
            std::fs::read_dir(dest).with_context(|| format!("cannot read {}", dest.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: artifacts are extracted only into a new or empty folder",
                dest.display()
            );
        }
    } else {
        std::fs::create_dir_all(dest)
            .with_context(|| format!("cannot create {}", dest.display()))?;
    }
    Ok(())
}

async fn list_artifacts(api: &Api<'_>, run_id: u64) -> anyhow::Result<Vec<Artifact>> {
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

fn pick(all: &[Artifact], patterns: &[String], run_id: u64) -> anyhow::Result<Vec<Artifact>> {
    let globs = patterns
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            glob::Pattern::new(p.trim())
                .with_context(|| format!("--artifact-pattern {p:?} is not a valid glob"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let picked: Vec<Artifact> = all
        .iter()
        .filter(|a| globs.is_empty() || globs.iter().any(|g| g.matches(&a.name)))
        .cloned()
        .collect();
    let names = || {
        all.iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if all.is_empty() {
        bail!("workflow run {run_id} has no artifacts: the build must upload its dist/ folder with actions/upload-artifact");
    }
    if picked.is_empty() {
        bail!(
            "no artifact of run {run_id} matches {}; its artifacts are: {}",
            patterns.join(", "),
            names()
        );
    }
    let expired: Vec<_> = picked
        .iter()
        .filter(|a| a.expired)
        .map(|a| a.name.as_str())
        .collect();
    if !expired.is_empty() {
        bail!(
            "artifact{} {} of run {run_id} expired and can no longer be downloaded: re-run the \
             build workflow to produce fresh artifacts (or raise its retention-days)",
            if expired.len() == 1 { "" } else { "s" },
            expired.join(", ")
        );
    }
    Ok(picked)
}

async fn download_zip(api: &Api<'_>, artifact: &Artifact, dest: &Path) -> anyhow::Result<()> {
    let url = match artifact.archive_download_url.as_deref().map(Url::parse) {
        Some(Ok(u)) if api.is_api(&u) => u,
        _ => api.endpoint(&format!("actions/artifacts/{}/zip", artifact.id))?,
    };
    let what = format!("downloading artifact {:?}", artifact.name);
    // upload-artifact v4 records the zip's own size; a blob that sends more is not that zip.
    let cap = match artifact.size_in_bytes {
        0 => MAX_ZIP_BYTES,
        n if n > MAX_ZIP_BYTES => bail!(
            "artifact {:?} (id {}) is {n} bytes, more than the {MAX_ZIP_BYTES}-byte limit on \
             an artifact zip: publish from an artifact that holds only the distributions",
            artifact.name,
            artifact.id
        ),
        n => n,
    };
    let expected = artifact
        .digest
        .as_deref()
        .map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_ascii_lowercase());
    let sha = api
        .http
        .retry(&what, |_| {
            let url = url.clone();
            let what = what.clone();
            async move { download_attempt(api, url, dest, &what, cap).await }
        })
        .await?;
    match expected {
        Some(e) if e != sha => bail!(
            "artifact {:?} (id {}): the downloaded zip's sha256 is {sha}, but GitHub recorded \
             {e}: the archive was altered or corrupted in transit; nothing was published",
            artifact.name,
            artifact.id
        ),
        Some(_) => tracing::info!("artifact {:?}: sha256 verified", artifact.name),
        None => tracing::info!(
            "artifact {:?}: GitHub recorded no digest to verify",
            artifact.name
        ),
    }
    Ok(())
}

/// One attempt: ask the API (with the token) where the zip is, then fetch it from there
/// (without the token), streaming it to disk while hashing.
async fn download_attempt(
    api: &Api<'_>,
    url: Url,
    dest: &Path,
    what: &str,
    cap: u64,
) -> Result<String, Failure> {
    let resp = api
        .no_redirect
        .get(url.clone())
        .header(
            AUTHORIZATION,
            format!("Bearer {}", api.source.token.expose()),
        )
        .header(ACCEPT, "application/vnd.github+json")
        .timeout(api.http.timeout)
        .send()
        .await
        .map_err(|e| http::transport_failure(what, e))?;
    let resp = http::transient_status(what, resp).await?;
    let status = resp.status();
    let from_blob = status.is_redirection();
    let resp = if from_blob {
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| Failure::Permanent(anyhow!("{what}: a redirect without a Location")))?;
        let blob = url
            .join(location)
            .map_err(|_| Failure::Permanent(anyhow!("{what}: a redirect to an invalid URL")))?;
        // The blob URL is presigned: no GitHub token, and it must not appear in errors.
        let resp = api
            .http
            .client
            .get(blob)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| http::transport_failure(what, e))?;
        http::transient_status(what, resp).await?
    } else {
        resp
    };
    let status = resp.status();
    if !status.is_success() {
        let body = http::error_text(resp).await;
        if status == StatusCode::GONE {
            return Err(Failure::Permanent(anyhow!(
                "{what}: the artifact has expired (HTTP 410)"
            )));
        }
        // An expired presigned URL (403 from the blob host) is fixed by asking the API again.
        if status == StatusCode::FORBIDDEN && from_blob {
            return Err(Failure::transient(format!(
                "{what}: the download link was refused"
            )));
        }
        if from_blob {
            return Err(Failure::Permanent(anyhow!(
                "{what}: the storage host answered HTTP {status}{}",
                http::snippet(&body)
            )));
        }
        return Err(Failure::Permanent(github_error(what, status, &body)));
    }
    let too_big = |got: u64| {
        Failure::Permanent(anyhow!(
            "{what}: the download sent {got} bytes or more, beyond the {cap} bytes the artifact \
             is listed at (`size_in_bytes`, or the limit when GitHub lists none): refusing \
             it; nothing was published"
        ))
    };
    if let Some(len) = resp.content_length().filter(|&len| len > cap) {
        return Err(too_big(len));
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .with_context(|| format!("cannot create {}", dest.display()))
        .map_err(Failure::Permanent)?;
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    let mut resp = resp;
    loop {
        let chunk = resp
            .chunk()
            .await
            .map_err(|e| http::transport_failure(what, e))?;
        let Some(chunk) = chunk else { break };
        received = received.saturating_add(chunk.len() as u64);
        if received > cap {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
            return Err(too_big(received));
        }
        hasher.update(&chunk);
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .with_context(|| format!("cannot write {}", dest.display()))
            .map_err(Failure::Permanent)?;
    }
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .with_context(|| format!("cannot write {}", dest.display()))
        .map_err(Failure::Permanent)?;
    Ok(hex::encode(hasher.finalize()))
}

/// What the artifacts of one run may still expand to, together: each archive is charged
/// its declared sizes before anything of it is written.
#[derive(Debug)]
pub struct Budget {
    pub limit: u64,
    pub used: u64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            limit: MAX_EXTRACTED_TOTAL,
            used: 0,
        }
    }
}

/// True for characters no member name of a distribution artifact holds, and that would turn
/// a name into several log lines or a terminal escape.
fn is_control_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// Extract a zip into `out_dir` (created fresh), refusing anything that could write outside
/// it or exhaust the disk. Returns the regular files written, with their sha256.
pub fn extract(zip_path: &Path, out_dir: &Path) -> anyhow::Result<Vec<(PathBuf, String)>> {
    extract_within(zip_path, out_dir, &mut Budget::default())
}

/// The names of the central directory's records as stored, counting every record (the zip
/// reader keeps only the last of several with one name). At most [`MAX_MEMBERS`].
fn central_names(file: &mut std::fs::File, start: u64) -> anyhow::Result<Vec<Vec<u8>>> {
    use std::io::{BufReader, Seek, SeekFrom};
    const RECORD: u32 = 0x0201_4b50;
    file.seek(SeekFrom::Start(start))
        .context("cannot read the zip's central directory")?;
    let mut reader = BufReader::new(file);
    let mut names = Vec::new();
    let mut fixed = [0u8; 46];
    loop {
        if reader.read_exact(&mut fixed).is_err()
            || u32::from_le_bytes([fixed[0], fixed[1], fixed[2], fixed[3]]) != RECORD
        {
            return Ok(names);
        }
        if names.len() == MAX_MEMBERS {
            bail!(
                "the archive holds more than {MAX_MEMBERS} members, the limit: upload only the \
                 distributions (the dist/ folder) as the artifact"
            );
        }
        let field = |at: usize| usize::from(u16::from_le_bytes([fixed[at], fixed[at + 1]]));
        let mut name = vec![0u8; field(28)];
        reader
            .read_exact(&mut name)
            .context("the zip's central directory is truncated")?;
        let skip = i64::try_from(field(30) + field(32)).unwrap_or(i64::MAX);
        reader
            .seek_relative(skip)
            .context("the zip's central directory is truncated")?;
        names.push(name);
    }
}

/// [`extract`], charging the archive's expanded size to `budget`, shared by all the
/// artifacts of a run.
pub fn extract_within(
    zip_path: &Path,
    out_dir: &Path,
    budget: &mut Budget,
) -> anyhow::Result<Vec<(PathBuf, String)>> {
    let file = std::fs::File::open(zip_path)
        .with_context(|| format!("cannot open {}", zip_path.display()))?;
    let mut archive = zip::ZipArchive::new(file).context("not a valid zip archive")?;
    let mut records = std::fs::File::open(zip_path)
        .with_context(|| format!("cannot open {}", zip_path.display()))?;
    let stored = central_names(&mut records, archive.central_directory_start())?;
    if stored.len() > archive.len() {
        // The zip reader keeps one record per name: a second one would silently win.
        let mut names = std::collections::HashSet::new();
        let twice = stored
            .iter()
            .find(|n| !names.insert(n.as_slice()))
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .unwrap_or_default();
        bail!("entries {twice:?} and {twice:?} collide: the same path twice in one archive");
    }

    // Vet every entry before writing anything, so a hostile archive leaves nothing behind.
    let mut declared_total: u64 = 0;
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut plan = Vec::new();
    for i in 0..archive.len() {
        let entry = archive
            .by_index_raw(i)
            .with_context(|| format!("entry #{i} is unreadable"))?;
        let raw = entry.name().to_owned();
        if raw.contains(is_control_char) {
            bail!(
                "entry {raw:?} has a control character in its name: refusing it (distribution \
                 files never hold one, and it would forge log lines)"
            );
        }
        let Some(rel) = entry.enclosed_name() else {
            bail!("entry {raw:?} has an absolute path or `..`: refusing to extract it (it would write outside the extraction folder)");
        };
        if raw.contains('\\') || raw.contains('\0') {
            bail!("entry {raw:?} has a backslash or NUL in its name: refusing it");
        }
        if entry.unix_mode().is_some_and(|m| m & 0o170000 == 0o120000) {
            bail!("entry {raw:?} is a symbolic link: artifacts of distributions hold only regular files");
        }
        if entry.is_dir() {
            plan.push((i, rel, true));
            continue;
        }
        let key = rel.to_string_lossy().to_lowercase();
        if let Some(prev) = seen.insert(key, raw.clone()) {
            bail!("entries {prev:?} and {raw:?} collide: the same path twice in one archive");
        }
        let size = entry.size();
        if size > MAX_ENTRY_SIZE {
            bail!("entry {raw:?} declares {size} bytes, more than the {MAX_ENTRY_SIZE}-byte limit");
        }
        if size > RATIO_CHECK_FLOOR && size / entry.compressed_size().max(1) > MAX_RATIO {
            bail!(
                "entry {raw:?} would expand {}-fold to {size} bytes: refusing a likely zip bomb",
                size / entry.compressed_size().max(1)
            );
        }
        declared_total = declared_total.saturating_add(size);
        if budget.used.saturating_add(declared_total) > budget.limit {
            bail!(
                "entry {raw:?} takes the run's artifacts beyond {} bytes expanded, in all \
                 ({} bytes from the artifacts before this one): refusing a likely zip bomb; \
                 select fewer artifacts with artifact-pattern",
                budget.limit,
                budget.used
            );
        }
        plan.push((i, rel, false));
    }
    budget.used = budget.used.saturating_add(declared_total);

    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut written = Vec::new();
    for (i, rel, is_dir) in plan {
        let target = out_dir.join(&rel);
        if is_dir {
            std::fs::create_dir_all(&target)
                .with_context(|| format!("cannot create {}", target.display()))?;
            continue;
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        let mut entry = archive
            .by_index(i)
            .with_context(|| format!("entry {} is unreadable", rel.display()))?;
        let declared = entry.size();
        // create_new: never follow or overwrite anything that is already there.
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        let mut hasher = Sha256::new();
        let mut limited = (&mut entry).take(declared + 1);
        let mut buf = vec![0u8; 256 * 1024];
        let mut total = 0u64;
        loop {
            let n = limited
                .read(&mut buf)
                .with_context(|| format!("entry {} is corrupt", rel.display()))?;
            if n == 0 {
                break;
            }
            total += n as u64;
            if total > declared {
                drop(out);
                let _ = std::fs::remove_file(&target);
                bail!("entry {} expands beyond its declared size of {declared} bytes: refusing a likely zip bomb", rel.display());
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .with_context(|| format!("cannot write {}", target.display()))?;
        }
        written.push((target, hex::encode(hasher.finalize())));
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_header_next() {
        let h = r#"<https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=2>; rel="next", <https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=3>; rel="last""#;
        assert_eq!(
            next_link(h).as_deref(),
            Some("https://api.github.com/repositories/1/actions/runs/2/artifacts?per_page=100&page=2")
        );
        assert_eq!(next_link(r#"<https://x/?page=1>; rel="prev""#), None);
    }

    const REPO: &str = "octo/repo";
    const REPO_ID: u64 = 100;

    fn run(event: &str, head: Option<(&str, Option<u64>)>) -> Run {
        Run {
            id: 7,
            name: None,
            event: event.into(),
            status: None,
            conclusion: Some("success".into()),
            head_sha: "abc".into(),
            head_branch: None,
            path: Some(".github/workflows/build.yml".into()),
            html_url: None,
            head_repository: head.map(|(full_name, id)| RepoRef {
                full_name: full_name.into(),
                id,
            }),
            repository: None,
        }
    }

    fn selection() -> Selection {
        Selection {
            run_id: 7,
            patterns: Vec::new(),
            expect_sha: None,
            allow_untrusted_run: false,
            allow_run_events: Vec::new(),
            build_workflow: None,
            build_refs: BuildRefs::default(),
        }
    }

    fn vet(run: &Run, sel: &Selection) -> Result<Vec<Concession>, String> {
        vet_run(run, REPO, Some(REPO_ID), sel).map_err(|e| e.to_string())
    }

    #[test]
    fn runs_of_this_repository_and_trusted_events_pass_silently() {
        for event in ["push", "release", "workflow_dispatch", "schedule"] {
            let r = run(event, Some(("Octo/Repo", Some(REPO_ID))));
            let conceded = vet(&r, &selection()).unwrap();
            assert!(conceded.is_empty(), "{event}: {conceded:?}");
        }
        // An id GitHub did not give is not held against the run; the name still is.
        assert!(vet(&run("push", Some((REPO, None))), &selection())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_fork_is_refused_whatever_the_event() {
        for event in [
            "workflow_run",
            "push",
            "pull_request",
            "pull_request_target",
        ] {
            let r = run(event, Some(("mallory/repo", Some(666))));
            let mut sel = selection();
            sel.allow_run_events = vec![event.to_owned()];
            let err = vet(&r, &sel).unwrap_err();
            assert!(
                err.contains("mallory/repo") && err.contains("fork"),
                "{event}: {err}"
            );
        }
        // Same name, another repository (deleted and re-created under the name).
        let err = vet(&run("push", Some((REPO, Some(999)))), &selection()).unwrap_err();
        assert!(err.contains("999"), "{err}");
        // No head repository at all.
        let err = vet(&run("push", None), &selection()).unwrap_err();
        assert!(err.contains("no head repository"), "{err}");
        // The override lets it through, loudly.
        let mut sel = selection();
        sel.allow_untrusted_run = true;
        let conceded = vet(&run("push", Some(("mallory/repo", Some(666)))), &sel).unwrap();
        assert_eq!(conceded.len(), 1);
        assert!(conceded[0].message.contains("mallory/repo"));
    }

    #[test]
    fn the_repository_id_falls_back_to_the_runs_own_repository() {
        let mut r = run("push", Some((REPO, Some(999))));
        r.repository = Some(RepoRef {
            full_name: REPO.into(),
            id: Some(REPO_ID),
        });
        assert!(vet_run(&r, REPO, None, &selection()).is_err());
        r.head_repository = Some(RepoRef {
            full_name: REPO.into(),
            id: Some(REPO_ID),
        });
        assert!(vet_run(&r, REPO, None, &selection()).is_ok());
    }

    #[test]
    fn other_events_only_when_allowed_and_then_with_a_warning() {
        for event in [
            "workflow_run",
            "pull_request",
            "pull_request_target",
            "issue_comment",
            "repository_dispatch",
            "merge_group",
        ] {
            let r = run(event, Some((REPO, Some(REPO_ID))));
            let err = vet(&r, &selection()).unwrap_err();
            assert!(
                err.contains(&format!("allow-run-events: {event}")),
                "{event}: {err}"
            );
            let mut sel = selection();
            sel.allow_run_events = vec!["push".into(), event.to_owned()];
            let conceded = vet(&r, &sel).unwrap();
            assert_eq!(conceded.len(), 1, "{event}");
            assert!(conceded[0].message.contains(event));
        }
        // Allowing one event does not allow another.
        let mut sel = selection();
        sel.allow_run_events = vec!["workflow_run".into()];
        assert!(vet(&run("issue_comment", Some((REPO, Some(REPO_ID)))), &sel).is_err());
    }

    #[test]
    fn a_pinned_build_workflow_must_match() {
        let mut sel = selection();
        let mut r = run("push", Some((REPO, Some(REPO_ID))));
        for pin in [
            ".github/workflows/build.yml",
            "build.yml",
            "./.github/workflows/build.yml",
        ] {
            sel.build_workflow = Some(pin.into());
            assert!(vet(&r, &sel).is_ok(), "{pin}");
        }
        r.path = Some(".github/workflows/build.yml@refs/heads/main".into());
        assert!(vet(&r, &sel).is_ok());
        r.path = Some(".github/workflows/ci.yml".into());
        let err = vet(&r, &sel).unwrap_err();
        assert!(
            err.contains(".github/workflows/ci.yml") && err.contains(".github/workflows/build.yml"),
            "{err}"
        );
        r.path = None;
        assert!(vet(&r, &sel).is_err());
        sel.build_workflow = None;
        assert!(vet(&r, &sel).is_ok());
    }

    #[test]
    fn build_refs_patterns_are_tags_or_branches_with_git_style_globs() {
        let refs =
            BuildRefs::parse(&["refs/tags/v*, refs/heads/main", "refs/heads/release/**"]).unwrap();
        assert!(refs.allows(RefKind::Tag, "v1.0.0"));
        assert!(
            !refs.allows(RefKind::Tag, "v1/evil"),
            "`*` stays within a part"
        );
        assert!(!refs.allows(RefKind::Branch, "v1.0.0"));
        assert!(refs.allows(RefKind::Branch, "main"));
        assert!(!refs.allows(RefKind::Branch, "mainly"));
        assert!(refs.allows(RefKind::Branch, "release/1.x/hotfix"));
        assert!(!refs.allows(RefKind::Tag, "main"));
        assert!(BuildRefs::parse::<&str>(&[]).unwrap().is_empty());
        assert!(BuildRefs::parse(&[" ,\n"]).unwrap().is_empty());
        for bad in ["v*", "tags/v*", "refs/pull/1/head", "refs/tags/[v"] {
            let err = BuildRefs::parse(&[bad]).unwrap_err().to_string();
            assert!(err.contains(bad), "{bad}: {err}");
        }
    }

    #[test]
    fn dir_names_are_safe() {
        assert_eq!(safe_dir_name("../dist"), "_dist");
        assert_eq!(safe_dir_name("wheels linux"), "wheels_linux");
        assert_eq!(safe_dir_name(".."), "artifact");
    }
}

/// `extract` on its own: each hostile shape is refused with an error naming the member, and
/// nothing is written anywhere: not in the extraction folder, not in its parent, not at an
/// absolute path.
#[cfg(test)]
mod extract_tests {
    use super::*;
    use testbed::github::{zip_with_raw_entries, RawEntry};

    /// Every file and folder below `root`.
    fn everything_below(root: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        let mut todo = vec![root.to_owned()];
        while let Some(dir) = todo.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    todo.push(path.clone());
                }
                out.push(path);
            }
        }
        out.sort();
        out
    }

    struct Case {
        tmp: tempfile::TempDir,
        zip: PathBuf,
        out: PathBuf,
    }

    /// The zip sits in the temp root; the extraction folder is `<root>/parent/out`, so an
    /// escape one or two levels up lands somewhere this test looks.
    fn case(entries: &[RawEntry]) -> Case {
        let tmp = tempfile::tempdir().unwrap();
        let zip = tmp.path().join("artifact.zip");
        std::fs::write(&zip, zip_with_raw_entries(entries)).unwrap();
        let parent = tmp.path().join("parent");
        std::fs::create_dir(&parent).unwrap();
        let out = parent.join("out");
        Case { tmp, zip, out }
    }

    /// Extract, expect a refusal mentioning `needle`, and check nothing at all was written.
    fn refused(entries: &[RawEntry], needle: &str) {
        let c = case(entries);
        let err = match extract(&c.zip, &c.out) {
            Ok(files) => panic!("{needle}: extracted {files:?}"),
            Err(e) => format!("{e:#}"),
        };
        assert!(err.contains(needle), "the error names {needle:?}: {err}");
        let left = everything_below(c.tmp.path());
        assert_eq!(
            left,
            vec![c.zip.clone(), c.tmp.path().join("parent")],
            "{needle}: something was written"
        );
    }

    fn ok() -> RawEntry {
        RawEntry::file("demo-1.0-py3-none-any.whl", b"wheel bytes")
    }

    #[test]
    fn a_good_archive_extracts_with_hashes() {
        let c = case(&[ok(), RawEntry::file("sub/demo-1.0.tar.gz", b"sdist")]);
        let files = extract(&c.zip, &c.out).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].0, c.out.join("demo-1.0-py3-none-any.whl"));
        assert_eq!(files[0].1, hex::encode(Sha256::digest(b"wheel bytes")));
        assert_eq!(
            std::fs::read(c.out.join("sub/demo-1.0.tar.gz")).unwrap(),
            b"sdist"
        );
    }

    #[test]
    fn traversal_is_refused() {
        refused(&[ok(), RawEntry::file("../evil.txt", b"x")], "../evil.txt");
        refused(
            &[ok(), RawEntry::file("../../evil.txt", b"x")],
            "../../evil.txt",
        );
        refused(
            &[ok(), RawEntry::file("a/../../evil.txt", b"x")],
            "a/../../evil.txt",
        );
    }

    #[test]
    fn absolute_paths_are_refused() {
        let c = case(&[]);
        // An absolute path into this test's own folder, so an escape would be seen.
        let target = c.tmp.path().join("parent").join("abs.txt");
        let name = target.display().to_string();
        refused(&[ok(), RawEntry::file(&name, b"x")], &name);
        assert!(!target.exists());
        refused(&[ok(), RawEntry::file("/tmp/x", b"x")], "/tmp/x");
    }

    #[test]
    fn symlinks_are_refused() {
        refused(
            &[ok(), RawEntry::symlink("link", "..")],
            "is a symbolic link",
        );
        // A link to a folder outside, then a file written through it.
        refused(
            &[
                RawEntry::symlink("link", "../.."),
                RawEntry::file("link/evil.txt", b"x"),
            ],
            "\"link\" is a symbolic link",
        );
    }

    #[test]
    fn backslashes_and_control_characters_are_refused() {
        refused(&[ok(), RawEntry::file("..\\evil.txt", b"x")], "backslash");
        refused(&[ok(), RawEntry::file("dist\\a.whl", b"x")], "backslash");
        for name in [
            "a\nb.whl",
            "a\rb.whl",
            "a\u{1b}[31mb.whl",
            "a\u{85}b.whl",
            "a\u{2028}b.whl",
        ] {
            refused(&[ok(), RawEntry::file(name, b"x")], "control character");
        }
        refused(
            &[ok(), RawEntry::file("a\0b.whl", b"x")],
            "control character",
        );
    }

    #[test]
    fn names_that_collide_are_refused() {
        refused(
            &[
                RawEntry::file("Demo.whl", b"1"),
                RawEntry::file("demo.whl", b"2"),
            ],
            "collide",
        );
        refused(
            &[RawEntry::file("d.whl", b"1"), RawEntry::file("d.whl", b"2")],
            "collide",
        );
    }

    #[test]
    fn sizes_that_lie_are_refused() {
        let c = case(&[
            ok(),
            RawEntry::file("bomb.bin", &[0u8; 1 << 20]).declaring_size(1024),
        ]);
        let err = format!("{:#}", extract(&c.zip, &c.out).unwrap_err());
        assert!(
            err.contains("bomb.bin") && err.contains("declared size"),
            "{err}"
        );
        assert!(
            !c.out.join("bomb.bin").exists(),
            "the partial file is removed"
        );
        refused(
            &[
                ok(),
                RawEntry::file("huge.bin", b"tiny").declaring_size(0xFFFF_FFFE),
            ],
            "huge.bin",
        );
    }

    #[test]
    fn member_count_is_bounded() {
        let many: Vec<RawEntry> = (0..=MAX_MEMBERS)
            .map(|i| RawEntry {
                deflate: false,
                ..RawEntry::file(&format!("f{i}"), b"")
            })
            .collect();
        refused(&many, &format!("more than {MAX_MEMBERS} members"));
        let c = case(&many[..MAX_MEMBERS]);
        assert_eq!(extract(&c.zip, &c.out).unwrap().len(), MAX_MEMBERS);
    }

    #[test]
    fn the_expanded_total_is_shared_by_all_archives_of_a_run() {
        let mut budget = Budget {
            limit: 100,
            used: 0,
        };
        let first = case(&[RawEntry::file("a.whl", &[1u8; 60])]);
        extract_within(&first.zip, &first.out, &mut budget).unwrap();
        assert_eq!(budget.used, 60);
        // 60 more would fit one archive alone, not the run.
        let second = case(&[RawEntry::file("b.whl", &[2u8; 60])]);
        let err = format!(
            "{:#}",
            extract_within(&second.zip, &second.out, &mut budget).unwrap_err()
        );
        assert!(err.contains("b.whl") && err.contains("100 bytes"), "{err}");
        assert!(
            !second.out.exists(),
            "nothing of the second archive was written"
        );
        assert_eq!(budget.used, 60);
    }
}
