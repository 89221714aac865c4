//! A file's provenance as the index serves it (Warehouse's integrity API,
//! `GET /integrity/{project}/{version}/{filename}/provenance`), and what it proves: every
//! attestation in it verified, and by whom.
use anyhow::anyhow;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use super::verify::{verify_attestation, Expected, Identity, TrustRoot};
use crate::http::{self, Http};
use crate::inert::shown;

/// Warehouse's integrity API media type (`warehouse/api/integrity.py`).
const INTEGRITY_V1: &str = "application/vnd.pypi.integrity.v1+json";

/// What a file's provenance proves.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// Every attestation verified, all by the expected publisher.
    Verified { identity: Identity },
    /// The index serves no provenance for it.
    Unsigned,
    /// The content, an attestation or the index's answer is wrong.
    Invalid { reason: String },
    /// Valid attestations, by someone else than the expected publisher.
    AnotherIdentity { reason: String, identity: Identity },
}

impl Verdict {
    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Verified { .. } => "verified",
            Verdict::Unsigned => "unsigned",
            Verdict::Invalid { .. } => "invalid",
            Verdict::AnotherIdentity { .. } => "another identity",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Verdict::Verified { identity } => format!(
                "{} {}@{} ({})",
                identity.repository, identity.workflow, identity.git_ref, identity.commit
            ),
            Verdict::Unsigned => "the index serves no provenance for it".to_owned(),
            Verdict::Invalid { reason } | Verdict::AnotherIdentity { reason, .. } => reason.clone(),
        }
    }
}

impl Verdict {
    pub fn is_verified(&self) -> bool {
        matches!(self, Verdict::Verified { .. })
    }
}

/// Every attestation of every bundle must verify; all must name the expected publisher.
pub fn judge(
    trust: &TrustRoot,
    expected: &Expected,
    provenance: &Value,
    filename: &str,
    sha256: &str,
) -> Verdict {
    let invalid = |reason: String| Verdict::Invalid { reason };
    if provenance.get("version").and_then(Value::as_u64) != Some(1) {
        return invalid("the index's provenance object is not version 1".to_owned());
    }
    let attestations: Vec<&Value> = provenance
        .get("attestation_bundles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("attestations").and_then(Value::as_array))
        .flatten()
        .collect();
    if attestations.is_empty() {
        return invalid("the index's provenance holds no attestation".to_owned());
    }
    let mut identity = None;
    for attestation in attestations {
        let verified = match verify_attestation(trust, attestation, filename, sha256) {
            Ok(v) => v,
            Err(reason) => return invalid(reason),
        };
        if let Some(reason) = expected.mismatch(&verified.identity) {
            return Verdict::AnotherIdentity {
                reason,
                identity: verified.identity,
            };
        }
        identity = Some(verified.identity);
    }
    match identity {
        Some(identity) => Verdict::Verified { identity },
        None => invalid("the index's provenance holds no attestation".to_owned()),
    }
}

/// The file's provenance object from the integrity API, `None` when the index has none.
pub async fn read(
    http: &Http,
    index_url: &Url,
    normalized_name: &str,
    version: &str,
    filename: &str,
) -> anyhow::Result<Option<Value>> {
    let mut url = index_url.clone();
    url.path_segments_mut()
        .map_err(|_| anyhow!("{index_url} cannot have a path"))?
        .pop_if_empty()
        .extend([
            "integrity",
            normalized_name,
            version,
            filename,
            "provenance",
        ]);
    let what = format!("reading the provenance of {}", shown(filename));
    let answer = http
        .retry(&what, |_| async {
            let request = http
                .client
                .get(url.clone())
                .header(reqwest::header::ACCEPT, INTEGRITY_V1);
            http.send_text(&what, request).await
        })
        .await?;
    if answer.status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !answer.status.is_success() {
        return Err(anyhow!(
            "{what}: HTTP {}{}",
            answer.status,
            http::snippet(&answer.text)
        ));
    }
    serde_json::from_str(&answer.text)
        .map(Some)
        .map_err(|_| anyhow!("{what}: the answer is not JSON"))
}
