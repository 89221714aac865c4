//! The data the GitHub stand-in serves: its configuration, workflow runs and artifacts, git
//! tags and releases.
use base64::Engine as _;
use rand::Rng as _;
use sha2::Digest as _;

use super::time;

/// What the stand-in pretends to be: one repository and the token its API accepts.
#[derive(Clone, Debug)]
pub struct GitHubConfig {
    /// `OWNER/REPO`, as in `GITHUB_REPOSITORY`.
    pub repository: String,
    pub repository_id: u64,
    pub repository_owner_id: u64,
    /// The token the REST API accepts (`Authorization: Bearer <token>` or `token <token>`).
    pub github_token: String,
    /// GitHub caps `per_page` at 100.
    pub per_page_max: usize,
    /// Anonymous requests to a private repository answer 404; a public one serves reads
    /// (but never artifact downloads) without a token, as GitHub does.
    pub private: bool,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        Self {
            repository: "octo-org/octo-repo".to_owned(),
            repository_id: 892_341_657,
            repository_owner_id: 81_234_567,
            github_token: random_github_token(),
            per_page_max: 100,
            private: false,
        }
    }
}

impl GitHubConfig {
    /// The `OWNER` part of [`Self::repository`].
    pub fn owner(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(o, _)| o)
    }

    /// The `REPO` part of [`Self::repository`].
    pub fn name(&self) -> &str {
        self.repository
            .split_once('/')
            .map_or(self.repository.as_str(), |(_, n)| n)
    }

    pub(crate) fn visibility(&self) -> &'static str {
        if self.private {
            "private"
        } else {
            "public"
        }
    }
}

/// A fresh token shaped like an Actions `GITHUB_TOKEN` (`ghs_` + 36 alphanumerics), random so
/// that a leak check grepping for it cannot match by accident.
pub fn random_github_token() -> String {
    const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let tail: String = (0..36)
        .map(|_| char::from(ALNUM[rng.random_range(0..ALNUM.len())]))
        .collect();
    format!("ghs_{tail}")
}

/// Lower-case hex of `n` random bytes.
pub(crate) fn random_hex(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// A random version-4 UUID in its usual text form (GitHub's `jti` looks like this).
pub(crate) fn random_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// GitHub's legacy global node id: base64 of `"<len(type)>:<Type><id>"`.
pub(crate) fn node_id(type_name: &str, id: u64) -> String {
    base64::engine::general_purpose::STANDARD
        .encode(format!("{:02}:{type_name}{id}", type_name.len()))
}

/// A workflow run as `GET /repos/{o}/{r}/actions/runs/{id}` describes it.
#[derive(Clone, Debug)]
pub struct WorkflowRun {
    /// Assigned by [`super::GitHub::add_run`]; whatever is set here is replaced.
    pub id: u64,
    /// The workflow's `name:`.
    pub name: String,
    pub display_title: String,
    /// `push`, `pull_request`, `pull_request_target`, `workflow_dispatch`, ...
    pub event: String,
    /// `queued`, `in_progress`, `completed`, ...
    pub status: String,
    /// `success`, `failure`, `cancelled`, ...; `None` (JSON null) until completed.
    pub conclusion: Option<String>,
    pub head_sha: String,
    pub head_branch: String,
    /// The repository the run's code came from: another one for a fork's pull request.
    pub head_repository_full_name: String,
    pub head_repository_id: u64,
    /// The workflow file, e.g. `.github/workflows/build.yml`.
    pub path: String,
    pub workflow_id: u64,
    pub run_number: u64,
    pub run_attempt: u64,
    pub actor_login: String,
    pub actor_id: u64,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
}

impl WorkflowRun {
    /// A completed, successful `push` build of `main` in the configured repository itself.
    pub fn push_success(config: &GitHubConfig) -> Self {
        let now = time::now();
        Self {
            id: 0,
            name: "Build".to_owned(),
            display_title: "Release 1.0.0".to_owned(),
            event: "push".to_owned(),
            status: "completed".to_owned(),
            conclusion: Some("success".to_owned()),
            head_sha: random_hex(20),
            head_branch: "main".to_owned(),
            head_repository_full_name: config.repository.clone(),
            head_repository_id: config.repository_id,
            path: ".github/workflows/build.yml".to_owned(),
            workflow_id: 98_765_432,
            run_number: 42,
            run_attempt: 1,
            actor_login: "octocat".to_owned(),
            actor_id: 583_231,
            created_at: now.saturating_sub(600),
            updated_at: now.saturating_sub(60),
        }
    }

    /// A completed, successful `pull_request` build whose code came from a fork: its artifacts
    /// are untrusted data.
    pub fn fork_pull_request(config: &GitHubConfig, fork_full_name: &str, fork_id: u64) -> Self {
        Self {
            event: "pull_request".to_owned(),
            display_title: "Totally harmless change".to_owned(),
            head_branch: "patch-1".to_owned(),
            head_repository_full_name: fork_full_name.to_owned(),
            head_repository_id: fork_id,
            actor_login: "mallory".to_owned(),
            actor_id: 1_337_001,
            ..Self::push_success(config)
        }
    }
}

impl WorkflowRun {
    /// A completed, successful run of this repository triggered by `event` (`release`,
    /// `workflow_run`, `issue_comment`, ...).
    pub fn of_event(config: &GitHubConfig, event: &str) -> Self {
        Self {
            event: event.to_owned(),
            ..Self::push_success(config)
        }
    }

    /// A build started by `workflow_run` after a fork's pull-request CI finished: GitHub runs
    /// it in this repository, but its `head_repository` (and head branch and commit) are the
    /// fork's, so a build that checks out the head builds the fork's code.
    pub fn workflow_run_after_fork_ci(
        config: &GitHubConfig,
        fork_full_name: &str,
        fork_id: u64,
    ) -> Self {
        Self {
            event: "workflow_run".to_owned(),
            ..Self::fork_pull_request(config, fork_full_name, fork_id)
        }
    }

    /// The same run, of another workflow file (`.github/workflows/NAME`).
    pub fn with_path(self, path: &str) -> Self {
        Self {
            path: path.to_owned(),
            ..self
        }
    }
}

/// A workflow run artifact (actions/upload-artifact v4: one zip, with a sha256 `digest`).
#[derive(Clone, Debug)]
pub struct Artifact {
    pub id: u64,
    pub run_id: u64,
    pub name: String,
    pub size_in_bytes: u64,
    /// Also reported (and enforced) once `expires_at` has passed.
    pub expired: bool,
    /// `sha256:<hex of the zip>`; tests corrupt it or set `None` (older artifacts have none).
    pub digest: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub updated_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// What the blob host serves for this artifact.
    pub zip_bytes: Vec<u8>,
    pub(crate) blob_path: String,
}

impl Artifact {
    pub(crate) fn is_expired(&self, now: u64) -> bool {
        self.expired || self.expires_at <= now
    }
}

/// The job context the next ID tokens describe. Numeric claims are serialized as strings, as
/// GitHub does.
#[derive(Clone, Debug)]
pub struct JobClaims {
    /// `OWNER/REPO`.
    pub repository: String,
    pub repository_owner: String,
    pub repository_owner_id: u64,
    pub repository_id: u64,
    /// `public`, `private` or `internal`.
    pub repository_visibility: String,
    /// The workflow's `name:`.
    pub workflow: String,
    /// `OWNER/REPO/.github/workflows/FILE@REF` of the running workflow.
    pub workflow_ref: String,
    pub workflow_sha: String,
    /// Like `workflow_ref`, but of the reusable workflow when the job calls one.
    pub job_workflow_ref: String,
    pub job_workflow_sha: String,
    /// The `ref` claim (`refs/heads/main`).
    pub ref_: String,
    /// `branch` or `tag`.
    pub ref_type: String,
    pub ref_protected: bool,
    pub sha: String,
    /// Set for pull_request events only, empty otherwise.
    pub head_ref: String,
    pub base_ref: String,
    /// Present only when the job names an environment.
    pub environment: Option<String>,
    pub event_name: String,
    pub run_id: u64,
    pub run_number: u64,
    pub run_attempt: u64,
    pub actor: String,
    pub actor_id: u64,
    /// `github-hosted` or `self-hosted`.
    pub runner_environment: String,
    /// Overrides the subject GitHub would build (repositories can customize its template).
    pub sub_override: Option<String>,
    /// Pretend the token was issued at this Unix time (tests of expired tokens); `None`: now.
    pub issued_at: Option<u64>,
}

impl JobClaims {
    /// A `workflow_run`-triggered publish job on `main` of the configured repository, in the
    /// `pypi` environment.
    pub fn for_repo(config: &GitHubConfig) -> Self {
        let owner = config.owner().to_owned();
        let workflow_ref = format!(
            "{}/.github/workflows/publish.yml@refs/heads/main",
            config.repository
        );
        let sha = random_hex(20);
        Self {
            repository: config.repository.clone(),
            repository_owner: owner,
            repository_owner_id: config.repository_owner_id,
            repository_id: config.repository_id,
            repository_visibility: config.visibility().to_owned(),
            workflow: "Publish".to_owned(),
            workflow_ref: workflow_ref.clone(),
            workflow_sha: sha.clone(),
            job_workflow_ref: workflow_ref,
            job_workflow_sha: sha.clone(),
            ref_: "refs/heads/main".to_owned(),
            ref_type: "branch".to_owned(),
            ref_protected: true,
            sha,
            head_ref: String::new(),
            base_ref: String::new(),
            environment: Some("pypi".to_owned()),
            event_name: "workflow_run".to_owned(),
            run_id: 14_144_996_512,
            run_number: 7,
            run_attempt: 1,
            actor: "octocat".to_owned(),
            actor_id: 583_231,
            runner_environment: "github-hosted".to_owned(),
            sub_override: None,
            issued_at: None,
        }
    }

    /// The subject as GitHub builds it by default: environment first, then pull_request,
    /// then the ref.
    pub fn subject(&self) -> String {
        if let Some(sub) = &self.sub_override {
            return sub.clone();
        }
        let repo = &self.repository;
        match &self.environment {
            Some(env) => format!("repo:{repo}:environment:{env}"),
            None if self.event_name == "pull_request" => format!("repo:{repo}:pull_request"),
            None => format!("repo:{repo}:ref:{}", self.ref_),
        }
    }

    /// The JWT payload: every claim GitHub puts in an Actions ID token.
    pub(crate) fn payload(&self, iss: &str, aud: &str, iat: u64) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        let mut s = |k: &str, v: String| {
            m.insert(k.to_owned(), serde_json::Value::String(v));
        };
        s("jti", random_uuid());
        s("sub", self.subject());
        s("aud", aud.to_owned());
        s("iss", iss.to_owned());
        s("ref", self.ref_.clone());
        s("sha", self.sha.clone());
        s("repository", self.repository.clone());
        s("repository_owner", self.repository_owner.clone());
        s("repository_owner_id", self.repository_owner_id.to_string());
        s("repository_id", self.repository_id.to_string());
        s("repository_visibility", self.repository_visibility.clone());
        s("run_id", self.run_id.to_string());
        s("run_number", self.run_number.to_string());
        s("run_attempt", self.run_attempt.to_string());
        s("actor", self.actor.clone());
        s("actor_id", self.actor_id.to_string());
        s("workflow", self.workflow.clone());
        s("workflow_ref", self.workflow_ref.clone());
        s("workflow_sha", self.workflow_sha.clone());
        s("job_workflow_ref", self.job_workflow_ref.clone());
        s("job_workflow_sha", self.job_workflow_sha.clone());
        s("head_ref", self.head_ref.clone());
        s("base_ref", self.base_ref.clone());
        s("event_name", self.event_name.clone());
        s("ref_type", self.ref_type.clone());
        s("ref_protected", self.ref_protected.to_string());
        s("runner_environment", self.runner_environment.clone());
        if let Some(env) = &self.environment {
            s("environment", env.clone());
        }
        // GitHub's tokens are valid from 5 minutes before issue until 5 minutes after.
        m.insert("iat".to_owned(), iat.into());
        m.insert("nbf".to_owned(), iat.saturating_sub(300).into());
        m.insert("exp".to_owned(), (iat + 300).into());
        serde_json::Value::Object(m)
    }
}

/// What a ref or a tag object points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitTarget {
    pub kind: ObjectKind,
    pub sha: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectKind {
    Commit,
    Tag,
}

impl ObjectKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commit",
            ObjectKind::Tag => "tag",
        }
    }

    pub(crate) fn url_path(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commits",
            ObjectKind::Tag => "tags",
        }
    }
}

/// An annotated tag object.
#[derive(Clone, Debug)]
pub struct TagObject {
    pub tag: String,
    pub message: String,
    pub object: GitTarget,
    pub created_at: u64,
}

impl GitTarget {
    pub fn commit(sha: &str) -> Self {
        GitTarget {
            kind: ObjectKind::Commit,
            sha: sha.to_owned(),
        }
    }
}

/// A release as GitHub stores it.
#[derive(Clone, Debug)]
pub struct Release {
    pub id: u64,
    pub tag_name: String,
    pub target_commitish: String,
    pub name: Option<String>,
    pub body: Option<String>,
    pub draft: bool,
    pub prerelease: bool,
    pub make_latest: Option<String>,
    pub created_at: u64,
}

/// An asset of a release.
#[derive(Clone, Debug)]
pub struct ReleaseAsset {
    pub id: u64,
    pub release_id: u64,
    pub name: String,
    pub label: Option<String>,
    /// `uploaded`, or `starter` for an upload that never completed.
    pub state: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// `sha256:<hex>`; `None` for assets from before GitHub computed digests.
    pub digest: Option<String>,
    pub created_at: u64,
}

impl ReleaseAsset {
    pub fn new(release_id: u64, name: &str, bytes: Vec<u8>) -> Self {
        ReleaseAsset {
            id: 0,
            release_id,
            name: name.to_owned(),
            label: None,
            state: "uploaded".to_owned(),
            content_type: "application/octet-stream".to_owned(),
            digest: Some(format!("sha256:{:x}", sha2::Sha256::digest(&bytes))),
            bytes,
            created_at: time::now(),
        }
    }
}
