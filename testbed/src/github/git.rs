//! Tags in the git database, as GitHub's REST API serves them:
//! - `GET /repos/{o}/{r}/git/ref/tags/{tag}` ("Get a reference"): exactly that ref (no prefix
//!   match, unlike `git/refs/`), whose `object` is the commit of a lightweight tag or the tag
//!   object of an annotated one; 404 `Not Found` when it does not exist.
//! - `GET /repos/{o}/{r}/git/tags/{tag_sha}` ("Get a tag"): an annotated tag object, whose
//!   `object` is a commit or, for a tag of a tag, another tag object; 404 for any other sha.
//!
//! Tags can be moved (`git push --force` of a tag), as a test of a tag moved after a build.
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::json;

use super::model::{node_id, random_hex, GitTarget, ObjectKind, TagObject};
use super::releases::{authorize, json_response};
use super::rest::{error, RepoRef};
use super::state::{Mutable, Shared};
use super::time;

const DOC_REF: &str = "https://docs.github.com/rest/git/refs#get-a-reference";
const DOC_TAG: &str = "https://docs.github.com/rest/git/tags#get-a-tag";

impl Mutable {
    /// Stores a new tag object named `tag` pointing at `object`; returns its sha.
    pub(crate) fn new_tag_object(&mut self, tag: &str, object: GitTarget) -> String {
        let sha = random_hex(20);
        self.tag_objects.insert(
            sha.clone(),
            TagObject {
                tag: tag.to_owned(),
                message: format!("Release {tag}\n"),
                object,
                created_at: time::now(),
            },
        );
        sha
    }

    /// The commit a tag finally names, through any tag objects (git's `tag^{commit}`).
    pub(crate) fn peeled(&self, tag: &str) -> Option<String> {
        let mut target = self.tags.get(tag)?.clone();
        // Tag objects cannot form a cycle (a sha names its content); the bound only guards
        // a state a test built by hand.
        for _ in 0..64 {
            match target.kind {
                ObjectKind::Commit => return Some(target.sha),
                ObjectKind::Tag => target = self.tag_objects.get(&target.sha)?.object.clone(),
            }
        }
        None
    }

    /// Points `tag` at `commit`: an annotated tag gets a new tag object (as `git tag -f -a`
    /// and a forced push make), a lightweight one is rewritten.
    pub(crate) fn move_tag(&mut self, tag: &str, commit: &str) {
        let annotated = self
            .tags
            .get(tag)
            .is_some_and(|t| t.kind == ObjectKind::Tag);
        let target = if annotated {
            GitTarget {
                kind: ObjectKind::Tag,
                sha: self.new_tag_object(tag, GitTarget::commit(commit)),
            }
        } else {
            GitTarget::commit(commit)
        };
        self.tags.insert(tag.to_owned(), target);
    }
}

fn object_json(shared: &Shared, target: &GitTarget) -> serde_json::Value {
    json!({
        "sha": target.sha,
        "type": target.kind.as_str(),
        "url": format!(
            "{}/repos/{}/git/{}/{}",
            shared.api_base,
            shared.config.repository,
            target.kind.url_path(),
            target.sha
        ),
    })
}

/// `GET /repos/{o}/{r}/git/ref/{ref}`: tags only (other refs: not found).
pub(crate) async fn get_ref(
    State(shared): State<Arc<Shared>>,
    Path((o, r, reference)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(resp) = authorize(&shared, &headers, false, DOC_REF) {
        return *resp;
    }
    let target = reference
        .strip_prefix("tags/")
        .filter(|_| RepoRef::Name(o, r).is_ours(&shared))
        .and_then(|tag| shared.state.lock().tags.get(tag).cloned());
    let Some(target) = target else {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_REF);
    };
    let repo = &shared.config.repository;
    json_response(
        StatusCode::OK,
        &json!({
            "ref": format!("refs/{reference}"),
            "node_id": node_id("Ref", reference.len() as u64),
            "url": format!("{}/repos/{repo}/git/refs/{reference}", shared.api_base),
            "object": object_json(&shared, &target),
        }),
    )
}

/// `GET /repos/{o}/{r}/git/tags/{tag_sha}`.
pub(crate) async fn get_tag(
    State(shared): State<Arc<Shared>>,
    Path((o, r, sha)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(resp) = authorize(&shared, &headers, false, DOC_TAG) {
        return *resp;
    }
    let found = Some(&sha)
        .filter(|_| RepoRef::Name(o, r).is_ours(&shared))
        .and_then(|sha| shared.state.lock().tag_objects.get(sha).cloned());
    let Some(tag) = found else {
        return error(StatusCode::NOT_FOUND, "Not Found", DOC_TAG);
    };
    json_response(
        StatusCode::OK,
        &json!({
            "node_id": node_id("Tag", tag.created_at),
            "tag": tag.tag,
            "sha": sha,
            "url": format!(
                "{}/repos/{}/git/tags/{sha}",
                shared.api_base, shared.config.repository
            ),
            "message": tag.message,
            "tagger": {
                "name": "Octo Cat",
                "email": "octocat@users.noreply.github.com",
                "date": time::rfc3339(tag.created_at),
            },
            "object": object_json(&shared, &tag.object),
            "verification": {
                "verified": false,
                "reason": "unsigned",
                "signature": null,
                "payload": null,
                "verified_at": null,
            },
        }),
    )
}
