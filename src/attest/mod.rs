//! PEP 740 publish attestations, signed keylessly with Sigstore. Party: Sigstore (Fulcio
//! certifies a key, [`fulcio`]; Rekor logs a signature, [`rekor`]); nothing here speaks to
//! GitHub or the index: the ID token comes from [`crate::github::id_token`], and the
//! attestations go to the index with the upload ([`crate::index::upload`]).
//!
//! One run makes one ephemeral P-256 key and asks Fulcio for a certificate binding it to the
//! job's GitHub identity (an ID token with audience `sigstore`). Each distribution then gets
//! an in-toto publish statement ([`dsse`]), signed as a DSSE envelope and logged in Rekor (v1,
//! `dsse` entry); the certificate, the log entry and the envelope make the attestation object
//! that goes into the upload's `attestations` field.
//!
//! Every request goes through [`Http::retry`]. Nothing here verifies the Fulcio chain, the
//! SCT or Rekor's signatures against a trust root: the index does that with the root it
//! pins, and a second copy in the client could only disagree with it. What is checked is
//! what a broken or misconfigured server would get wrong, before the upload is refused for
//! it: the certificate is for our key and embeds an SCT, and the log entry records our
//! payload, our signature, our certificate and a valid inclusion proof.
mod dsse;
mod fulcio;
mod merkle;
pub mod provenance;
mod rekor;
pub mod verify;

use std::sync::Arc;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::SigningKey;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::sync::Mutex;
use url::Url;

use crate::github::id_token::RunnerOidc;
use crate::http::{self, Http};

pub use dsse::{pae, publish_statement, PAYLOAD_TYPE, PUBLISH_PREDICATE};

pub const DEFAULT_FULCIO_URL: &str = "https://fulcio.sigstore.dev";
pub const DEFAULT_REKOR_URL: &str = "https://rekor.sigstore.dev";

/// Where to get certificates and log signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigstoreUrls {
    pub fulcio: Url,
    pub rekor: Url,
}

impl Default for SigstoreUrls {
    /// The public-good instance, which is what PyPI trusts.
    fn default() -> Self {
        SigstoreUrls {
            fulcio: Url::parse(DEFAULT_FULCIO_URL).expect("constant URL"),
            rekor: Url::parse(DEFAULT_REKOR_URL).expect("constant URL"),
        }
    }
}

/// `{filename}.publish.attestation`, the name pypa/gh-action-pypi-publish gives the file it
/// writes next to each distribution.
pub fn attestation_file_name(dist_filename: &str) -> String {
    format!("{dist_filename}.publish.attestation")
}

/// The `attestations` upload field for one file: a JSON array of its attestations.
pub fn upload_field(attestation: &Value) -> String {
    Value::Array(vec![attestation.clone()]).to_string()
}

/// A key and the certificate Fulcio issued for it.
struct Identity {
    key: SigningKey,
    leaf: fulcio::Leaf,
}

impl Identity {
    async fn obtain(http: &Http, runner: &RunnerOidc, fulcio_url: &Url) -> Result<Identity> {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let leaf = fulcio::request_certificate(http, runner, fulcio_url, &key)
            .await
            .context("could not get a Sigstore signing certificate for the attestations")?;
        tracing::info!("got a Sigstore signing certificate from {fulcio_url}");
        Ok(Identity { key, leaf })
    }
}

/// Signs publish attestations: one ephemeral key and certificate, renewed when the
/// certificate (10 minutes at Fulcio) has used up half its life so that a slow Rekor still
/// logs every signature while the certificate is valid.
pub struct Signer {
    runner: RunnerOidc,
    urls: SigstoreUrls,
    current: Mutex<Arc<Identity>>,
}

impl Signer {
    /// ID token (audience `sigstore`) -> Fulcio certificate for a fresh P-256 key.
    pub async fn new(http: &Http, runner: &RunnerOidc, urls: &SigstoreUrls) -> Result<Signer> {
        let identity = Identity::obtain(http, runner, &urls.fulcio).await?;
        Ok(Signer {
            runner: runner.clone(),
            urls: urls.clone(),
            current: Mutex::new(Arc::new(identity)),
        })
    }

    /// The DER certificate the next attestation will be signed with.
    pub async fn certificate_der(&self) -> Vec<u8> {
        self.current.lock().await.leaf.der.clone()
    }

    async fn identity(&self, http: &Http) -> Result<Arc<Identity>> {
        let mut current = self.current.lock().await;
        if current.leaf.needs_renewal() {
            tracing::info!("the Sigstore signing certificate is half-way to expiry; renewing it");
            *current = Arc::new(Identity::obtain(http, &self.runner, &self.urls.fulcio).await?);
        }
        Ok(Arc::clone(&current))
    }

    /// Statement for (filename, sha256 hex) -> DSSE signature -> Rekor `dsse` entry -> the
    /// PEP 740 attestation object.
    pub async fn attest(&self, http: &Http, filename: &str, sha256_hex: &str) -> Result<Value> {
        let statement = dsse::publish_statement(filename, sha256_hex)?;
        let identity = self.identity(http).await?;
        let envelope = dsse::Envelope::sign(&identity.key, statement);
        let proposed = rekor::proposed_entry(&envelope.to_json(), &identity.leaf.pem);
        let expected = rekor::Expected {
            payload: &envelope.payload,
            signature: &envelope.signature,
            cert_pem: &identity.leaf.pem,
        };
        let entry = rekor::log_entry(http, &self.urls.rekor, &proposed, &expected)
            .await
            .with_context(|| format!("could not log the attestation of {filename} in Rekor"))?;
        Ok(attestation(&identity.leaf.der, entry, &envelope))
    }
}

/// The attestation object, keys in the order pypi-attestations writes them.
fn attestation(cert_der: &[u8], entry: Value, envelope: &dsse::Envelope) -> Value {
    json!({
        "version": 1,
        "verification_material": {
            "certificate": STANDARD.encode(cert_der),
            "transparency_entries": [entry],
        },
        "envelope": {
            "statement": STANDARD.encode(&envelope.payload),
            "signature": STANDARD.encode(&envelope.signature),
        },
    })
}

/// `base` with `path` appended, keeping any path prefix `base` has (a Sigstore instance
/// behind a reverse proxy, or a local stand-in).
fn endpoint(base: &Url, path: &str) -> Result<Url> {
    let joined = format!("{}/{path}", base.as_str().trim_end_matches('/'));
    Url::parse(&joined).with_context(|| format!("{base} does not make a valid URL with {path}"))
}

/// A refusal from Fulcio or Rekor, with the service's own message (both answer
/// `{"code": …, "message": …}`) and never the ID token, even if the service echoed it.
fn service_error(
    service: &str,
    status: StatusCode,
    body: &str,
    secret: Option<&str>,
) -> anyhow::Error {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .map(|m| format!(": {}", crate::inert::shown(m)))
        .unwrap_or_else(|| http::snippet(body));
    let message = match secret {
        Some(s) if !s.is_empty() => message.replace(s, "***"),
        _ => message,
    };
    let hint = match (service, status.as_u16()) {
        ("Fulcio", 401 | 403) => {
            " (Fulcio did not accept the job's ID token: is the Fulcio URL one that trusts \
             GitHub Actions tokens?)"
        }
        ("Rekor", 400) => " (Rekor refused the entry as malformed or not verifiable)",
        _ => "",
    };
    anyhow::anyhow!("{service} answered HTTP {status}{message}{hint}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_urls_are_the_public_instance() {
        let urls = SigstoreUrls::default();
        assert_eq!(urls.fulcio.as_str(), "https://fulcio.sigstore.dev/");
        assert_eq!(urls.rekor.as_str(), "https://rekor.sigstore.dev/");
    }

    #[test]
    fn file_names_and_upload_field() {
        assert_eq!(
            attestation_file_name("demo-1.0.tar.gz"),
            "demo-1.0.tar.gz.publish.attestation"
        );
        let field = upload_field(&json!({"version": 1}));
        assert_eq!(field, "[{\"version\":1}]");
    }

    #[test]
    fn endpoints_keep_a_path_prefix() {
        let base = Url::parse("http://127.0.0.1:8080/sigstore/rekor/").unwrap();
        assert_eq!(
            endpoint(&base, "api/v1/log/entries").unwrap().as_str(),
            "http://127.0.0.1:8080/sigstore/rekor/api/v1/log/entries"
        );
        let base = Url::parse("https://fulcio.sigstore.dev").unwrap();
        assert_eq!(
            endpoint(&base, "api/v2/signingCert").unwrap().as_str(),
            "https://fulcio.sigstore.dev/api/v2/signingCert"
        );
    }

    #[test]
    fn service_errors_carry_the_message_and_never_the_token() {
        let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvIn0.c2ln";
        let body =
            format!(r#"{{"code":16,"message":"error processing the identity token {token}"}}"#);
        let err = service_error("Fulcio", StatusCode::UNAUTHORIZED, &body, Some(token));
        let text = err.to_string();
        assert!(
            text.starts_with("Fulcio answered HTTP 401 Unauthorized: error processing"),
            "{text}"
        );
        assert!(!text.contains(token), "{text}");
        assert!(text.contains("ID token"), "{text}");
        let err = service_error("Rekor", StatusCode::BAD_REQUEST, "<html>bad</html>", None);
        assert!(err.to_string().contains("<html>bad</html>"), "{err}");
    }

    #[test]
    fn attestation_object_has_the_pep_740_shape() {
        let envelope = dsse::Envelope {
            payload: b"{\"_type\":\"x\"}".to_vec(),
            signature: vec![0x30, 0x44, 0x02],
        };
        let att = attestation(&[0x30, 0x82], json!({"logIndex": "1"}), &envelope);
        assert_eq!(att["version"], 1);
        assert_eq!(att["verification_material"]["certificate"], "MII=");
        assert_eq!(
            att["verification_material"]["transparency_entries"][0]["logIndex"],
            "1"
        );
        assert_eq!(
            STANDARD
                .decode(att["envelope"]["statement"].as_str().unwrap())
                .unwrap(),
            envelope.payload
        );
        assert_eq!(
            att["envelope"]["signature"],
            STANDARD.encode(&envelope.signature)
        );
        let keys: Vec<&String> = att.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["version", "verification_material", "envelope"]);
    }
}
