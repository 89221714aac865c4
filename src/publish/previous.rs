//! Changed provenance: the release before this one named another publisher. PyPI shows a
//! release's provenance as changed when its publisher (repository, workflow file or
//! environment) is not the previous release's: the sign of a moved workflow, or of a
//! takeover. Only a warning: moving a workflow on purpose is legitimate.
use serde_json::Value;
use url::Url;

use crate::attest::provenance;
use crate::distribution::Release;
use crate::http::Http;
use crate::index::{SimpleApi, SimpleIndex};
use crate::inert::shown;
use crate::report::Notice;

/// A warning naming both publishers when the highest earlier release (not yanked) of
/// `release` names another publisher than `publisher` (this release's, as the index now
/// serves it). Nothing to compare (no earlier release, one without provenance, an index
/// without a simple index) is no warning; a failure to read is logged only, as the publish
/// itself is done.
///
/// The earlier publisher is taken as the index states it, unverified: it is what PyPI shows
/// and compares, and this is a warning about what PyPI shows.
pub async fn publisher_change(
    http: &Http,
    simple: Option<&SimpleIndex>,
    index_url: &Url,
    release: &Release,
    publisher: &Value,
) -> Option<Notice> {
    let (previous, before) = match previous_publisher(http, simple?, index_url, release).await {
        Ok(found) => found?,
        Err(e) => {
            tracing::info!("previous release's provenance not compared: {e:#}");
            return None;
        }
    };
    if same_publisher(&before, publisher) {
        return None;
    }
    Some(Notice::warning(
        "Provenance changed",
        format!(
            "{name} {version} was published by {now}, but {name} {previous} by {before}: \
             PyPI shows this release's provenance as changed. If the publishing workflow was \
             not moved on purpose, find out who published it",
            name = release.normalized_name,
            version = release.version,
            now = shown(publisher_text(publisher)),
            previous = shown(&previous),
            before = shown(publisher_text(&before)),
        ),
    ))
}

/// The highest earlier release (as written on the index) and the publisher the provenance
/// of its first signed file names, if any.
async fn previous_publisher(
    http: &Http,
    simple: &SimpleIndex,
    index_url: &Url,
    release: &Release,
) -> anyhow::Result<Option<(String, Value)>> {
    let Ok(version) = release.version.parse::<pep440_rs::Version>() else {
        return Ok(None);
    };
    let api = SimpleApi {
        http,
        url: &simple.url,
    };
    let Some(page) = api.listing(&release.normalized_name).await? else {
        return Ok(None);
    };
    let previous = crate::index::versions::versions_on(&page)
        .versions
        .into_iter()
        .filter(|v| !v.yanked && v.version < version)
        .max_by(|a, b| a.version.cmp(&b.version));
    let Some(previous) = previous else {
        return Ok(None);
    };
    // The first file that has provenance: a release may be signed only in part. Bounded, as
    // a release may hold dozens of wheels and this is a warning only.
    for file in page.files_of(&previous.text).iter().take(MAX_FILES_READ) {
        let served = provenance::read(
            http,
            index_url,
            &release.normalized_name,
            &previous.text,
            &file.filename,
        )
        .await?;
        if let Some(publisher) =
            served.and_then(|p| p.pointer("/attestation_bundles/0/publisher").cloned())
        {
            return Ok(Some((previous.text, publisher)));
        }
    }
    Ok(None)
}

/// Files of the earlier release whose provenance is asked for, at most.
const MAX_FILES_READ: usize = 4;

/// A provenance publisher as people read it: `GitHub OWNER/REPO, workflow FILE, environment
/// ENV`. Outside data: the caller shows it through `shown`.
fn publisher_text(publisher: &Value) -> String {
    let mut text = format!(
        "{} {}, workflow {}",
        field(publisher, "kind"),
        field(publisher, "repository"),
        field(publisher, "workflow")
    );
    let environment = field(publisher, "environment");
    if !environment.is_empty() {
        text.push_str(&format!(", environment {environment}"));
    }
    text
}

/// Whether two provenance publishers are one, compared as PyPI matches a trusted publisher:
/// the repository and the environment without regard to case (GitHub treats both so), the
/// workflow file exactly (PyPI matches it within `job_workflow_ref` as written). A missing
/// environment and an empty one are the same: no environment.
fn same_publisher(a: &Value, b: &Value) -> bool {
    let caseless = |name| field(a, name).eq_ignore_ascii_case(field(b, name));
    caseless("kind")
        && caseless("repository")
        && field(a, "workflow") == field(b, "workflow")
        && caseless("environment")
}

/// A text field of a publisher object; absent, null or not text is empty.
fn field<'a>(publisher: &'a Value, name: &str) -> &'a str {
    publisher.get(name).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn publisher(repository: &str, workflow: &str, environment: Value) -> Value {
        json!({
            "kind": "GitHub",
            "repository": repository,
            "workflow": workflow,
            "environment": environment,
        })
    }

    #[test]
    fn a_publisher_is_its_repository_workflow_and_environment() {
        let base = publisher("octo-org/octo-repo", "publish.yml", json!("pypi"));
        assert!(same_publisher(&base, &base));
        // GitHub's repository and environment names are not case-sensitive.
        assert!(same_publisher(
            &base,
            &publisher("Octo-Org/Octo-Repo", "publish.yml", json!("PyPI"))
        ));
        for other in [
            publisher("octo-org/other-repo", "publish.yml", json!("pypi")),
            publisher("octo-org/octo-repo", "release.yml", json!("pypi")),
            publisher("octo-org/octo-repo", "Publish.yml", json!("pypi")),
            publisher("octo-org/octo-repo", "publish.yml", json!("testpypi")),
            publisher("octo-org/octo-repo", "publish.yml", Value::Null),
        ] {
            assert!(!same_publisher(&base, &other), "{other}");
        }
        // No environment, however written.
        assert!(same_publisher(
            &publisher("octo-org/octo-repo", "publish.yml", Value::Null),
            &json!({"kind": "GitHub", "repository": "octo-org/octo-repo", "workflow": "publish.yml"})
        ));
    }

    #[test]
    fn a_publisher_reads_as_people_name_it() {
        assert_eq!(
            publisher_text(&publisher("octo-org/octo-repo", "publish.yml", Value::Null)),
            "GitHub octo-org/octo-repo, workflow publish.yml"
        );
        assert_eq!(
            publisher_text(&publisher(
                "octo-org/octo-repo",
                "publish.yml",
                json!("pypi")
            )),
            "GitHub octo-org/octo-repo, workflow publish.yml, environment pypi"
        );
    }
}
