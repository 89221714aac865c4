//! Read back: after the index confirmed the files, what it now serves as each signed file's
//! provenance (Warehouse's integrity API), verified as anyone would verify it, and signed by
//! this very run: the identity of the certificate the run signed with.
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use url::Url;

use super::Step;
use crate::attest::provenance::{self, Verdict};
use crate::attest::verify::{certificate_identity, Expected, TrustRoot};
use crate::distribution::Release;
use crate::http::Http;
use crate::report::{ProvenanceCheck, ReleaseReport};

/// What reading one release's provenance back found, for the caller to tell.
#[derive(Default)]
pub struct ReadBack {
    /// Files read back.
    pub checked: usize,
    /// (file, reason) of each file whose provenance is not verified.
    pub failed: Vec<(String, String)>,
    /// The publisher the index names for the verified files (its provenance's `publisher`).
    pub publisher: Option<Value>,
}

/// Sets `provenance` on every file of `report` that this run signed and the index lists; a
/// file whose provenance is not verified gets its reason in `error`.
pub async fn read_back(
    http: &Http,
    index_url: &Url,
    release: &Release,
    steps: &[Step<'_>],
    report: &mut ReleaseReport,
    trust: &TrustRoot,
) -> ReadBack {
    let mut out = ReadBack::default();
    for f in report.files.iter_mut().filter(|f| f.status.confirmed()) {
        let Some(step) = steps.iter().find(|s| s.dist.filename == f.filename) else {
            continue;
        };
        let (Some(attestation), Some(sha256)) = (step.attestation(), f.sha256.as_deref()) else {
            continue;
        };
        out.checked += 1;
        let mut publisher = None;
        let verdict = match signed_as(&attestation.field) {
            Ok(expected) => {
                match provenance::read(
                    http,
                    index_url,
                    &release.normalized_name,
                    &release.version,
                    &f.filename,
                )
                .await
                {
                    Ok(Some(p)) => {
                        publisher = p.pointer("/attestation_bundles/0/publisher").cloned();
                        provenance::judge(trust, &expected, &p, &f.filename, sha256)
                    }
                    Ok(None) => Verdict::Unsigned,
                    Err(e) => Verdict::Invalid {
                        reason: format!("{e:#}"),
                    },
                }
            }
            Err(reason) => Verdict::Invalid { reason },
        };
        if verdict.is_verified() {
            f.provenance = Some(ProvenanceCheck::Verified);
            out.publisher = out.publisher.or(publisher);
        } else {
            let reason = format!(
                "the provenance the index serves is {}: {}",
                verdict.label(),
                verdict.detail()
            );
            f.provenance = Some(ProvenanceCheck::Invalid);
            f.error = Some(reason.clone());
            out.failed.push((f.filename.clone(), reason));
        }
    }
    out
}

/// The identity this run signed with, from the certificate in the attestation it uploaded.
fn signed_as(field: &str) -> Result<Expected, String> {
    let sent: Value = serde_json::from_str(field)
        .map_err(|_| "the uploaded attestation cannot be read back".to_owned())?;
    let der = sent
        .pointer("/0/verification_material/certificate")
        .and_then(Value::as_str)
        .and_then(|c| STANDARD.decode(c).ok())
        .ok_or("the uploaded attestation has no certificate")?;
    certificate_identity(&der).map(|identity| Expected::exactly(&identity))
}
