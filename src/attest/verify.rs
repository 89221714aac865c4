//! Verifying a PEP 740 attestation as a downstream user would: the index's word is not
//! taken for anything.
//!
//! The cryptography is the Sigstore project's own verifier (`sigstore-verify`): the leaf
//! certificate chains to a Fulcio CA of the trust root and carries a valid SCT, the Rekor
//! entry's inclusion proof, signed checkpoint and signed entry timestamp verify against a
//! Rekor key of the trust root and describe this very signature, the DSSE signature verifies
//! with the leaf's key, and the in-toto statement names the file's sha256. What is PyPI's and
//! ours stays here: turning the attestation object into a Sigstore bundle, the subject's name
//! (PEP 740: exactly one subject, the distribution's filename), the predicate type, and the
//! publisher identity read from Fulcio's extensions and compared with what the caller expects.
use anyhow::{Context, Result};
use serde::Serialize;
use serde_json::{json, Value};
use sigstore_verify::trust_root::{TrustedRoot, SIGSTORE_PRODUCTION_TRUSTED_ROOT};
use sigstore_verify::types::{Bundle, Sha256Hash};
use sigstore_verify::{VerificationPolicy, Verifier};

use super::{PAYLOAD_TYPE, PUBLISH_PREDICATE};
use crate::inert::shown;

/// GitHub Actions' OIDC issuer, the only one PyPI accepts for GitHub publishers.
pub const GITHUB_ISSUER: &str = "https://token.actions.githubusercontent.com";

/// SLSA provenance, the other predicate type PyPI accepts.
const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";

const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";

/// The Sigstore instance whose signatures are believed.
pub struct TrustRoot {
    verifier: Verifier,
    /// Where it came from, for messages.
    pub source: String,
}

impl TrustRoot {
    /// Sigstore's public-good instance, which PyPI trusts: the `trusted_root.json` the
    /// `sigstore-verify` release ships (no TUF refresh).
    pub fn public_good() -> Result<TrustRoot> {
        Self::from_json(
            SIGSTORE_PRODUCTION_TRUSTED_ROOT,
            "Sigstore's public-good trusted root",
        )
    }

    /// A `trusted_root.json` (media type `application/vnd.dev.sigstore.trustedroot+json`).
    pub fn from_json(text: &str, source: &str) -> Result<TrustRoot> {
        let root = TrustedRoot::from_json(text)
            .with_context(|| format!("{source} is not a Sigstore trusted root"))?;
        let verifier = Verifier::new(&root)
            .with_context(|| format!("{source}: the trusted root cannot be used"))?;
        Ok(TrustRoot {
            verifier,
            source: source.to_owned(),
        })
    }

    /// Reads `path` (at most 1 MiB: a trusted root is a few kilobytes).
    pub fn from_file(path: &std::path::Path) -> Result<TrustRoot> {
        const LIMIT: u64 = 1 << 20;
        let source = format!("trust root {}", path.display());
        let size = std::fs::metadata(path)
            .with_context(|| format!("cannot read {source}: fix --trust-root"))?
            .len();
        anyhow::ensure!(
            size <= LIMIT,
            "{source} is {size} bytes, more than a trusted root's {LIMIT}: fix --trust-root"
        );
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {source}: fix --trust-root"))?;
        Self::from_json(&text, &source)
    }
}

/// Who signed, as Fulcio certified it from the signer's GitHub ID token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Identity {
    /// The OIDC issuer (extension .8).
    pub issuer: String,
    /// `OWNER/REPO` of the source repository (extension .12).
    pub repository: String,
    /// The workflow file that ran (from the build config URI, extension .18), e.g. `release.yml`.
    pub workflow: String,
    /// The git ref the workflow ran at (extension .14), e.g. `refs/tags/v1.2.3`.
    pub git_ref: String,
    /// The commit the workflow ran at (extension .13).
    pub commit: String,
}

/// What a verified attestation says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub identity: Identity,
    pub predicate_type: String,
}

/// The publisher identity the caller expects; `None` fields are not checked.
#[derive(Clone, Debug)]
pub struct Expected {
    pub issuer: String,
    /// `OWNER/REPO` (GitHub compares names case-insensitively).
    pub repository: String,
    pub workflow: Option<String>,
    pub git_ref: Option<String>,
    pub commit: Option<String>,
}

impl Expected {
    /// Why `identity` is not the expected one (every difference), or `None` when it is.
    pub fn mismatch(&self, identity: &Identity) -> Option<String> {
        let mut out = Vec::new();
        let mut differ = |what: &str, want: &str, got: &str, same: bool| {
            if !same {
                out.push(format!("{what} {} (expected {})", shown(got), shown(want)));
            }
        };
        differ(
            "issuer",
            &self.issuer,
            &identity.issuer,
            self.issuer == identity.issuer,
        );
        differ(
            "repository",
            &self.repository,
            &identity.repository,
            self.repository.eq_ignore_ascii_case(&identity.repository),
        );
        if let Some(w) = &self.workflow {
            differ("workflow", w, &identity.workflow, *w == identity.workflow);
        }
        if let Some(r) = &self.git_ref {
            differ(
                "ref",
                r,
                &identity.git_ref,
                ref_matches(r, &identity.git_ref),
            );
        }
        if let Some(c) = &self.commit {
            differ(
                "commit",
                c,
                &identity.commit,
                c.eq_ignore_ascii_case(&identity.commit),
            );
        }
        (!out.is_empty()).then(|| format!("signed by another identity: {}", out.join(", ")))
    }
}

/// `v1.2.3` matches `refs/tags/v1.2.3` and `main` matches `refs/heads/main`; a full ref only
/// itself.
fn ref_matches(want: &str, got: &str) -> bool {
    if want.starts_with("refs/") {
        return want == got;
    }
    got.strip_prefix("refs/tags/")
        .or_else(|| got.strip_prefix("refs/heads/"))
        == Some(want)
}

/// Verifies one PEP 740 attestation object for the file `filename` whose content has
/// `sha256` (hex). The error is the reason, ready to show (outside strings through
/// [`shown`]).
pub fn verify_attestation(
    trust: &TrustRoot,
    attestation: &Value,
    filename: &str,
    sha256: &str,
) -> Result<Verified, String> {
    let bundle = to_bundle(attestation)?;
    let digest = Sha256Hash::from_hex(sha256)
        .map_err(|_| format!("the index lists sha256 {} for it", shown(sha256)))?;
    let result = trust
        .verifier
        .verify(digest, &bundle, &VerificationPolicy::any_identity())
        .map_err(|e| format!("Sigstore verification failed: {}", shown(e)))?;
    let predicate_type = check_statement(attestation, filename)?;
    let certificate = result
        .certificate()
        .ok_or("the verified bundle has no certificate")?;
    let identity = identity(certificate.issuer.as_deref(), &certificate.ci_claims)?;
    Ok(Verified {
        identity,
        predicate_type,
    })
}

/// The publisher identity a certificate (DER) names: what this run signed with, to compare
/// what the index serves back with.
pub fn certificate_identity(der: &[u8]) -> Result<Identity, String> {
    let der = sigstore_verify::types::DerCertificate::from_bytes(der);
    let info = sigstore_verify::crypto::parse_certificate_info(&der)
        .map_err(|e| format!("the signing certificate cannot be read: {}", shown(e)))?;
    identity(info.issuer.as_deref(), &info.ci_claims)
}

impl Expected {
    /// Exactly `identity`: the same issuer, repository, workflow, ref and commit.
    pub fn exactly(identity: &Identity) -> Expected {
        Expected {
            issuer: identity.issuer.clone(),
            repository: identity.repository.clone(),
            workflow: Some(identity.workflow.clone()),
            git_ref: Some(identity.git_ref.clone()),
            commit: Some(identity.commit.clone()),
        }
    }
}

/// The attestation object as the Sigstore bundle (v0.3) it abbreviates, as pypi-attestations'
/// `Attestation.to_bundle` builds it.
fn to_bundle(attestation: &Value) -> Result<Bundle, String> {
    if attestation.get("version").and_then(Value::as_u64) != Some(1) {
        return Err("not a version 1 attestation object".to_owned());
    }
    let field = |pointer: &str| -> Result<&Value, String> {
        attestation
            .pointer(pointer)
            .ok_or_else(|| format!("malformed attestation: no {pointer}"))
    };
    let document = json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {
            "certificate": {"rawBytes": field("/verification_material/certificate")?},
            "tlogEntries": field("/verification_material/transparency_entries")?,
        },
        "dsseEnvelope": {
            "payload": field("/envelope/statement")?,
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": field("/envelope/signature")?}],
        },
    });
    Bundle::from_json(&document.to_string())
        .map_err(|e| format!("malformed attestation: {}", shown(e)))
}

/// PEP 740's own rules on the (already signature-checked) statement: one subject, named as
/// the file, and a predicate type PyPI accepts. Returns the predicate type.
fn check_statement(attestation: &Value, filename: &str) -> Result<String, String> {
    use base64::Engine;
    let encoded = attestation
        .pointer("/envelope/statement")
        .and_then(Value::as_str)
        .ok_or("malformed attestation: no statement")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|_| "malformed attestation: the statement is not base64")?;
    let statement: Value = serde_json::from_slice(&bytes)
        .map_err(|_| "malformed attestation: the statement is not JSON")?;
    let subjects = statement
        .get("subject")
        .and_then(Value::as_array)
        .ok_or("the statement has no subject list")?;
    let [subject] = subjects.as_slice() else {
        return Err(format!(
            "the statement has {} subjects; PEP 740 wants exactly one",
            subjects.len()
        ));
    };
    let name = subject.get("name").and_then(Value::as_str).unwrap_or("");
    if name != filename {
        return Err(format!(
            "the attestation is for {}, not for this file",
            shown(name)
        ));
    }
    let predicate_type = statement
        .get("predicateType")
        .and_then(Value::as_str)
        .unwrap_or("");
    if predicate_type != PUBLISH_PREDICATE && predicate_type != SLSA_PROVENANCE_V1 {
        return Err(format!(
            "unknown attestation type {}",
            shown(predicate_type)
        ));
    }
    Ok(predicate_type.to_owned())
}

/// The GitHub publisher identity in a Fulcio certificate.
fn identity(
    issuer: Option<&str>,
    claims: &sigstore_verify::crypto::FulcioCiClaims,
) -> Result<Identity, String> {
    let missing = |what: &str| format!("the certificate has no {what}: not a GitHub workflow's");
    let issuer = issuer.ok_or_else(|| missing("OIDC issuer"))?;
    let source = claims
        .source_repository_uri
        .as_deref()
        .ok_or_else(|| missing("source repository"))?;
    let repository = source
        .strip_prefix("https://github.com/")
        .filter(|r| r.split('/').count() == 2)
        .ok_or_else(|| {
            format!(
                "the certificate's source repository {} is not a GitHub repository",
                shown(source)
            )
        })?;
    let build_config = claims
        .build_config_uri
        .as_deref()
        .ok_or_else(|| missing("build config"))?;
    let workflow = build_config
        .strip_prefix(source)
        .and_then(|rest| rest.strip_prefix("/.github/workflows/"))
        .and_then(|rest| rest.split_once('@'))
        .map(|(file, _)| file)
        .ok_or_else(|| {
            format!(
                "the certificate's build config {} is not a workflow of {}",
                shown(build_config),
                shown(source)
            )
        })?;
    Ok(Identity {
        issuer: issuer.to_owned(),
        repository: repository.to_owned(),
        workflow: workflow.to_owned(),
        git_ref: claims.source_repository_ref.clone().unwrap_or_default(),
        commit: claims.source_repository_digest.clone().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            issuer: GITHUB_ISSUER.to_owned(),
            repository: "Octo/Demo".to_owned(),
            workflow: "release.yml".to_owned(),
            git_ref: "refs/tags/v1.0.0".to_owned(),
            commit: "abc123".to_owned(),
        }
    }

    fn expected() -> Expected {
        Expected {
            issuer: GITHUB_ISSUER.to_owned(),
            repository: "octo/demo".to_owned(),
            workflow: Some("release.yml".to_owned()),
            git_ref: Some("v1.0.0".to_owned()),
            commit: Some("ABC123".to_owned()),
        }
    }

    #[test]
    fn the_expected_identity_matches_and_each_difference_is_named() {
        assert_eq!(expected().mismatch(&identity()), None);
        let mut other = identity();
        other.repository = "evil/demo".to_owned();
        other.workflow = "other.yml".to_owned();
        let why = expected().mismatch(&other).unwrap();
        assert!(
            why.contains("repository evil/demo (expected octo/demo)"),
            "{why}"
        );
        assert!(
            why.contains("workflow other.yml (expected release.yml)"),
            "{why}"
        );
        let mut other = identity();
        other.git_ref = "refs/heads/v1.0.0".to_owned();
        assert_eq!(
            expected().mismatch(&other),
            None,
            "a short ref names a branch or a tag"
        );
        other.git_ref = "refs/tags/v1.0.1".to_owned();
        assert!(expected().mismatch(&other).unwrap().contains("ref"));
        let mut other = identity();
        other.commit = "abc124".to_owned();
        assert!(expected().mismatch(&other).unwrap().contains("commit"));
        let mut other = identity();
        other.issuer = "https://example.com".to_owned();
        assert!(expected().mismatch(&other).unwrap().contains("issuer"));
    }

    #[test]
    fn the_public_good_root_loads() {
        TrustRoot::public_good().unwrap();
    }
}
