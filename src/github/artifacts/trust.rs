//! The run's trust verdict: whether a run may be published from (its repository, event,
//! workflow file and the ref it built), before anything of it is downloaded.
use anyhow::{anyhow, bail};

use super::rest::tag_commit;
use super::{Run, Selection};
use crate::github::rest::Source;
use crate::http::Http;

/// Events whose runs build what this repository's own branches, tags or maintainers hold;
/// a run of any other event is published only when `--allow-run-events` names it.
pub const TRUSTED_EVENTS: [&str; 4] = ["push", "release", "workflow_dispatch", "schedule"];

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

/// The ref the run built, when `build-refs` allows it (see [`BuildRefs`]); `Err` says why
/// not. Asks GitHub for the tag of the run's `head_branch` name.
pub(super) async fn check_build_ref(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::artifacts::RepoRef;

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
}
