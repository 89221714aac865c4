//! Fulcio's side of OIDC: checking an ID token from the (local) GitHub issuer and turning
//! its claims into the certificate's identity, as Fulcio's GitHub workflow principal does.
use anyhow::Context as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::Encode as _;

use super::ca::LeafIdentity;
use super::oids::fulcio as oid;

pub(crate) type Claims = Map<String, Value>;

/// Verifies RS256 ID tokens of one issuer for one audience.
pub(crate) struct TokenVerifier {
    issuer: String,
    audience: String,
    key: DecodingKey,
}

impl TokenVerifier {
    pub fn new(issuer: &str, public_key_pem: &str, audience: &str) -> anyhow::Result<Self> {
        Ok(Self {
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            key: DecodingKey::from_rsa_pem(public_key_pem.as_bytes())
                .context("the OIDC issuer's public_key_pem is not an RSA public key in PEM form")?,
        })
    }

    /// The claims of a valid token: signature, issuer, audience, expiry and not-before.
    pub fn verify(&self, token: &str) -> Result<Claims, String> {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        jsonwebtoken::decode::<Claims>(token, &self.key, &validation)
            .map(|data| data.claims)
            .map_err(|e| format!("invalid ID token: {e}"))
    }
}

/// The claims Fulcio requires of a GitHub Actions token, in the order it checks them.
const REQUIRED: &[&str] = &[
    "job_workflow_ref",
    "sha",
    "event_name",
    "repository",
    "workflow",
    "ref",
    "job_workflow_sha",
    "runner_environment",
    "repository_id",
    "repository_owner",
    "repository_owner_id",
    "workflow_ref",
    "workflow_sha",
    "run_id",
    "run_attempt",
];

fn utf8_der(text: &str) -> Result<Vec<u8>, String> {
    Utf8StringRef::new(text)
        .and_then(|s| s.to_der())
        .map_err(|e| format!("cannot encode {text:?} as a UTF8String: {e}"))
}

/// The signed subject (`sub`), which a public-key request's proof of possession signs.
pub(crate) fn subject(claims: &Claims) -> Option<&str> {
    claims.get("sub").and_then(Value::as_str)
}

/// SAN and extensions of a GitHub workflow principal (Fulcio `identity/github`).
pub(crate) fn github_workflow(claims: &Claims) -> Result<LeafIdentity, String> {
    let get = |name: &str| -> Result<String, String> {
        match claims.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("missing {name} claim in ID token")),
        }
    };
    for name in REQUIRED {
        get(name)?;
    }
    let issuer = get("iss")?;
    let base = "https://github.com/";
    let repository = get("repository")?;
    let signer_uri = format!("{base}{}", get("job_workflow_ref")?);
    let mut extensions = vec![
        // Deprecated raw-bytes forms, still written by Fulcio.
        (oid::ISSUER_V1, issuer.clone().into_bytes()),
        (
            oid::GITHUB_WORKFLOW_TRIGGER,
            get("event_name")?.into_bytes(),
        ),
        (oid::GITHUB_WORKFLOW_SHA, get("sha")?.into_bytes()),
        (oid::GITHUB_WORKFLOW_NAME, get("workflow")?.into_bytes()),
        (
            oid::GITHUB_WORKFLOW_REPOSITORY,
            repository.clone().into_bytes(),
        ),
        (oid::GITHUB_WORKFLOW_REF, get("ref")?.into_bytes()),
    ];
    let der_values = [
        (oid::ISSUER_V2, issuer),
        (oid::BUILD_SIGNER_URI, signer_uri.clone()),
        (oid::BUILD_SIGNER_DIGEST, get("job_workflow_sha")?),
        (oid::RUNNER_ENVIRONMENT, get("runner_environment")?),
        (oid::SOURCE_REPOSITORY_URI, format!("{base}{repository}")),
        (oid::SOURCE_REPOSITORY_DIGEST, get("sha")?),
        (oid::SOURCE_REPOSITORY_REF, get("ref")?),
        (oid::SOURCE_REPOSITORY_IDENTIFIER, get("repository_id")?),
        (
            oid::SOURCE_REPOSITORY_OWNER_URI,
            format!("{base}{}", get("repository_owner")?),
        ),
        (
            oid::SOURCE_REPOSITORY_OWNER_IDENTIFIER,
            get("repository_owner_id")?,
        ),
        (
            oid::BUILD_CONFIG_URI,
            format!("{base}{}", get("workflow_ref")?),
        ),
        (oid::BUILD_CONFIG_DIGEST, get("workflow_sha")?),
        (oid::BUILD_TRIGGER, get("event_name")?),
        (
            oid::RUN_INVOCATION_URI,
            format!(
                "{base}{repository}/actions/runs/{}/attempts/{}",
                get("run_id")?,
                get("run_attempt")?
            ),
        ),
    ];
    for (id, value) in der_values {
        extensions.push((id, utf8_der(&value)?));
    }
    Ok(LeafIdentity {
        san_uri: signer_uri,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims() -> Claims {
        let v = json!({
            "iss": "https://issuer.example", "sub": "repo:o/r:ref:refs/heads/main",
            "job_workflow_ref": "o/r/.github/workflows/rel.yml@refs/heads/main",
            "sha": "abc", "event_name": "push", "repository": "o/r", "workflow": "Release",
            "ref": "refs/heads/main", "job_workflow_sha": "abc",
            "runner_environment": "github-hosted", "repository_id": "1",
            "repository_owner": "o", "repository_owner_id": "2",
            "workflow_ref": "o/r/.github/workflows/rel.yml@refs/heads/main",
            "workflow_sha": "abc", "run_id": "7", "run_attempt": "1"
        });
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn github_extensions() {
        let id = github_workflow(&claims()).unwrap();
        assert_eq!(
            id.san_uri,
            "https://github.com/o/r/.github/workflows/rel.yml@refs/heads/main"
        );
        let find = |o| {
            id.extensions
                .iter()
                .find(|(x, _)| *x == o)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(find(oid::ISSUER_V1), b"https://issuer.example".to_vec());
        let mut expected = vec![0x0c, 22];
        expected.extend(b"https://issuer.example");
        assert_eq!(find(oid::ISSUER_V2), expected);
        assert!(String::from_utf8_lossy(&find(oid::RUN_INVOCATION_URI))
            .ends_with("https://github.com/o/r/actions/runs/7/attempts/1"));
    }

    #[test]
    fn missing_claims_are_named() {
        let mut c = claims();
        c.remove("workflow_sha");
        assert_eq!(
            github_workflow(&c).err().unwrap(),
            "missing workflow_sha claim in ID token"
        );
    }
}
