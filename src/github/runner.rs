//! The GitHub Actions runner's environment, read once at start into one typed value: which
//! job this is, what the runner hands it (tokens, files for outputs and the summary), and
//! the event that started it. Nothing else in the crate reads the process environment
//! (`INPUT_*` variables are arguments, and [`crate::cli`] reads them).
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::secret::Secret;

/// An event payload larger than this is not read (real ones are a few hundred KiB at most).
const MAX_EVENT_SIZE: u64 = 32 << 20;

#[derive(Debug, Default)]
pub struct Runner {
    /// `GITHUB_ACTIONS=true`: a job of GitHub Actions, whose runner reads workflow commands.
    pub in_actions: bool,
    /// `GITHUB_REPOSITORY`, `owner/repo`.
    pub repository: Option<String>,
    /// `GITHUB_REPOSITORY_ID`.
    pub repository_id: Option<u64>,
    /// `GITHUB_API_URL`, as given (parsed where it is used, with an error naming it).
    pub api_url: Option<String>,
    /// `GITHUB_TOKEN`, when the workflow passed it in the environment.
    pub github_token: Option<Secret>,
    /// `PYPI_API_TOKEN`, the conventional variable of an API token.
    pub pypi_api_token: Option<Secret>,
    /// `GITHUB_EVENT_NAME`: `workflow_run`, `push`, `pull_request`, ...
    pub event_name: Option<String>,
    /// `GITHUB_SHA`: the commit this job runs for.
    pub sha: Option<String>,
    /// `GITHUB_REF`: the ref this job runs for (`refs/tags/v1.0`, `refs/heads/main`).
    pub git_ref: Option<String>,
    /// The parts of `GITHUB_EVENT_PATH`'s payload this tool uses.
    pub event: Event,
    /// `RUNNER_TEMP`, only when it exists here: inside a container action it names the host's
    /// folder, which is not mounted (actions/runner#1984).
    pub temp_dir: Option<PathBuf>,
    /// `ACTIONS_ID_TOKEN_REQUEST_URL` and `_TOKEN`: set only in a job with `id-token: write`.
    pub id_token_request: Option<IdTokenRequest>,
    /// `GITHUB_OUTPUT`: the file step outputs are appended to.
    pub output_file: Option<PathBuf>,
    /// `GITHUB_STEP_SUMMARY`: the file the job summary is appended to.
    pub summary_file: Option<PathBuf>,
    /// `PYPI_OIDC_PUBLISH_RETRY_BASE_MS`: the test suite shortens the retry backoff with it;
    /// the number of attempts and the rules stay those of production.
    pub retry_base_ms: Option<u64>,
}

/// Where and how a job asks GitHub for an OIDC ID token.
#[derive(Clone, Debug)]
pub struct IdTokenRequest {
    pub url: String,
    pub token: Secret,
}

/// What this tool reads from the event payload.
#[derive(Debug, Default, Deserialize)]
pub struct Event {
    /// Present when a `workflow_run` event started the job: the run that triggered it.
    #[serde(default)]
    pub workflow_run: Option<EventRun>,
    #[serde(default)]
    pub pull_request: Option<EventPullRequest>,
    #[serde(default)]
    pub repository: Option<EventRepo>,
}

#[derive(Debug, Deserialize)]
pub struct EventRun {
    pub id: u64,
}

#[derive(Debug, Deserialize)]
pub struct EventPullRequest {
    pub head: EventRef,
    pub base: EventRef,
}

#[derive(Debug, Deserialize)]
pub struct EventRef {
    #[serde(default)]
    pub repo: Option<EventRepo>,
}

#[derive(Debug, Deserialize)]
pub struct EventRepo {
    pub full_name: String,
}

impl Runner {
    /// Read the environment of this process. An event payload that cannot be read counts as
    /// none: the event only refines defaults and explanations.
    pub fn from_env() -> Runner {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        let path = |k: &str| var(k).map(PathBuf::from);
        let secret = |k: &str| var(k).map(Secret::new);
        Runner {
            in_actions: var("GITHUB_ACTIONS").is_some_and(|v| v == "true"),
            repository: var("GITHUB_REPOSITORY"),
            repository_id: var("GITHUB_REPOSITORY_ID").and_then(|v| v.trim().parse().ok()),
            api_url: var("GITHUB_API_URL"),
            github_token: secret("GITHUB_TOKEN"),
            pypi_api_token: secret("PYPI_API_TOKEN"),
            event_name: var("GITHUB_EVENT_NAME"),
            sha: var("GITHUB_SHA"),
            git_ref: var("GITHUB_REF"),
            event: path("GITHUB_EVENT_PATH")
                .and_then(|p| read_event(&p))
                .unwrap_or_default(),
            temp_dir: path("RUNNER_TEMP").filter(|p| p.is_dir()),
            id_token_request: match (
                var("ACTIONS_ID_TOKEN_REQUEST_URL"),
                secret("ACTIONS_ID_TOKEN_REQUEST_TOKEN"),
            ) {
                (Some(url), Some(token)) => Some(IdTokenRequest { url, token }),
                _ => None,
            },
            output_file: path("GITHUB_OUTPUT"),
            summary_file: path("GITHUB_STEP_SUMMARY"),
            retry_base_ms: var("PYPI_OIDC_PUBLISH_RETRY_BASE_MS").and_then(|v| v.parse().ok()),
        }
    }

    /// The run that triggered this job, when a `workflow_run` event started it.
    pub fn triggering_run_id(&self) -> Option<u64> {
        if self.event_name.as_deref() != Some("workflow_run") {
            return None;
        }
        self.event.workflow_run.as_ref().map(|r| r.id)
    }

    /// The fork a `pull_request` job runs for, if it runs for one.
    pub fn pull_request_fork(&self) -> Option<&str> {
        if self.event_name.as_deref() != Some("pull_request") {
            return None;
        }
        let pr = self.event.pull_request.as_ref()?;
        let head = &pr.head.repo.as_ref()?.full_name;
        let base = pr
            .base
            .repo
            .as_ref()
            .or(self.event.repository.as_ref())?
            .full_name
            .as_str();
        (!head.eq_ignore_ascii_case(base)).then_some(head.as_str())
    }
}

fn read_event(path: &Path) -> Option<Event> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(MAX_EVENT_SIZE)
        .read_to_end(&mut bytes)
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_event(name: &str, json: &str) -> Runner {
        Runner {
            event_name: Some(name.to_owned()),
            event: serde_json::from_str(json).unwrap(),
            ..Runner::default()
        }
    }

    #[test]
    fn triggering_run_only_for_workflow_run_events() {
        let json = r#"{"workflow_run": {"id": 77, "name": "Build"}, "action": "completed"}"#;
        assert_eq!(
            with_event("workflow_run", json).triggering_run_id(),
            Some(77)
        );
        assert_eq!(with_event("push", json).triggering_run_id(), None);
    }

    #[test]
    fn fork_of_a_pull_request() {
        let json = r#"{"pull_request": {"head": {"repo": {"full_name": "mallory/repo"}},
                       "base": {"repo": {"full_name": "octo/repo"}}}}"#;
        assert_eq!(
            with_event("pull_request", json).pull_request_fork(),
            Some("mallory/repo")
        );
        let same = r#"{"pull_request": {"head": {"repo": {"full_name": "Octo/Repo"}},
                       "base": {"repo": {"full_name": "octo/repo"}}}}"#;
        assert_eq!(with_event("pull_request", same).pull_request_fork(), None);
    }
}
