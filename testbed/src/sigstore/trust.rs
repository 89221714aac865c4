//! The sigstore trusted root (`dev.sigstore.trustroot.v1.TrustedRoot`): writing the local
//! services' one, and reading any into the form the verifier uses.
use anyhow::Context as _;
use p256::ecdsa::VerifyingKey;
use serde_json::{json, Value};
use x509_cert::der::Decode as _;
use x509_cert::Certificate;

use super::encoding::{b64, b64_decode, parse_rfc3339, rfc3339};
use super::keys::{self, KeyPair};

pub const TRUSTED_ROOT_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.trustedroot+json;version=0.1";
pub const CLIENT_TRUST_CONFIG_MEDIA_TYPE: &str =
    "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json";
pub const SIGNING_CONFIG_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.signingconfig.v0.2+json";

/// A window of validity in Unix seconds; `end: None` is open-ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ValidFor {
    pub start: u64,
    pub end: Option<u64>,
}

impl ValidFor {
    /// Started by `now` (expired keys and CAs still verify old signatures, as in
    /// sigstore-python's verification keyrings).
    fn started(&self, now: u64) -> bool {
        self.start <= now
    }
}

/// A log's verification key (Rekor or CT).
#[derive(Clone, Debug)]
pub(crate) struct TrustedKey {
    pub key_id: [u8; 32],
    pub key: VerifyingKey,
    pub valid_for: Option<ValidFor>,
}

/// A certificate authority: its chain (issuing certificate first) and validity window.
#[derive(Clone, Debug)]
pub(crate) struct TrustedAuthority {
    pub certificates: Vec<Certificate>,
    pub valid_for: Option<ValidFor>,
}

/// A parsed trusted root. Only P-256 log keys are understood; others are skipped, as
/// sigstore-python skips key types it cannot load.
#[derive(Clone, Debug)]
pub struct TrustRoot {
    pub(crate) authorities: Vec<TrustedAuthority>,
    pub(crate) tlogs: Vec<TrustedKey>,
    pub(crate) ctlogs: Vec<TrustedKey>,
    json: String,
}

fn valid_for(v: Option<&Value>) -> anyhow::Result<Option<ValidFor>> {
    let Some(v) = v else {
        return Ok(None);
    };
    let time = |name: &str| -> anyhow::Result<Option<u64>> {
        match v.get(name).and_then(Value::as_str) {
            Some(text) => parse_rfc3339(text)
                .map(Some)
                .with_context(|| format!("validFor.{name} {text:?} is not an RFC 3339 time")),
            None => Ok(None),
        }
    };
    let start = time("start")?.context("validFor has no start")?;
    Ok(Some(ValidFor {
        start,
        end: time("end")?,
    }))
}

fn log_keys(list: Option<&Value>) -> anyhow::Result<Vec<TrustedKey>> {
    let mut out = Vec::new();
    for log in list.and_then(Value::as_array).into_iter().flatten() {
        let public_key = log.get("publicKey").context("a log without publicKey")?;
        let details = public_key
            .get("keyDetails")
            .and_then(Value::as_str)
            .unwrap_or("");
        let raw = public_key
            .get("rawBytes")
            .and_then(Value::as_str)
            .and_then(b64_decode)
            .context("a log publicKey without base64 rawBytes")?;
        let Some(key) = (details == "PKIX_ECDSA_P256_SHA_256")
            .then(|| keys::p256_from_spki(&raw))
            .flatten()
        else {
            tracing::warn!(details, "skipping a trusted root log key that is not P-256");
            continue;
        };
        out.push(TrustedKey {
            key_id: keys::key_id(&raw),
            key,
            valid_for: valid_for(public_key.get("validFor"))?,
        });
    }
    Ok(out)
}

impl TrustRoot {
    /// Reads a trusted root JSON document (protobuf JSON form, camelCase).
    pub fn from_json(text: &str) -> anyhow::Result<TrustRoot> {
        let doc: Value = serde_json::from_str(text).context("the trusted root is not JSON")?;
        let media_type = doc.get("mediaType").and_then(Value::as_str).unwrap_or("");
        anyhow::ensure!(
            media_type == TRUSTED_ROOT_MEDIA_TYPE,
            "unsupported trusted root format: {media_type}"
        );
        let mut authorities = Vec::new();
        for ca in doc
            .get("certificateAuthorities")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let mut certificates = Vec::new();
            for cert in ca
                .pointer("/certChain/certificates")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let der = cert
                    .get("rawBytes")
                    .and_then(Value::as_str)
                    .and_then(b64_decode)
                    .context("a CA certificate without base64 rawBytes")?;
                certificates
                    .push(Certificate::from_der(&der).context("a CA certificate is not X.509")?);
            }
            anyhow::ensure!(
                !certificates.is_empty(),
                "missing a certificate in Certificate Authority"
            );
            authorities.push(TrustedAuthority {
                certificates,
                valid_for: valid_for(ca.get("validFor"))?,
            });
        }
        Ok(TrustRoot {
            authorities,
            tlogs: log_keys(doc.get("tlogs"))?,
            ctlogs: log_keys(doc.get("ctlogs"))?,
            json: text.to_owned(),
        })
    }

    /// The document this was read from.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Every CA certificate that may anchor a chain at `now` (expired CAs included).
    pub(crate) fn fulcio_certs(&self, now: u64) -> Vec<&Certificate> {
        self.authorities
            .iter()
            .filter(|a| a.valid_for.as_ref().is_none_or(|v| v.started(now)))
            .flat_map(|a| a.certificates.iter())
            .collect()
    }

    fn keyring(keys: &[TrustedKey], now: u64) -> Vec<&TrustedKey> {
        keys.iter()
            .filter(|k| k.valid_for.as_ref().is_none_or(|v| v.started(now)))
            .collect()
    }

    pub(crate) fn rekor_keys(&self, now: u64) -> Vec<&TrustedKey> {
        Self::keyring(&self.tlogs, now)
    }

    pub(crate) fn ct_keys(&self, now: u64) -> Vec<&TrustedKey> {
        Self::keyring(&self.ctlogs, now)
    }
}

/// Verifies `signature` over `data` with the key named `key_id`, or with any key when none
/// has that id (sigstore's keyring treats the id as a hint).
pub(crate) fn keyring_verify(
    keys: &[&TrustedKey],
    key_id: &[u8],
    data: &[u8],
    signature: &[u8],
) -> Result<(), String> {
    let named: Vec<&&TrustedKey> = keys.iter().filter(|k| k.key_id[..] == *key_id).collect();
    let candidates: Vec<&&TrustedKey> = if named.is_empty() {
        keys.iter().collect()
    } else {
        named
    };
    if candidates
        .iter()
        .any(|k| keys::verify(&k.key, data, signature))
    {
        Ok(())
    } else {
        Err("keyring: invalid signature".to_owned())
    }
}

/// What goes into the local trusted root.
pub(crate) struct RootParts<'a> {
    pub fulcio_url: &'a str,
    pub rekor_url: &'a str,
    pub ct_url: &'a str,
    /// Issuing chain DER, intermediate first.
    pub chain: &'a [Vec<u8>],
    pub rekor_key: &'a KeyPair,
    pub ct_key: &'a KeyPair,
    pub valid_from: u64,
}

fn log_instance(url: &str, key: &KeyPair, valid_from: u64) -> Value {
    json!({
        "baseUrl": url,
        "hashAlgorithm": "SHA2_256",
        "publicKey": {
            "rawBytes": b64(key.spki_der()),
            "keyDetails": "PKIX_ECDSA_P256_SHA_256",
            "validFor": {"start": rfc3339(valid_from)}
        },
        "logId": {"keyId": b64(&key.key_id())}
    })
}

pub(crate) fn trusted_root(parts: &RootParts<'_>) -> Value {
    let certificates: Vec<Value> = parts
        .chain
        .iter()
        .map(|der| json!({"rawBytes": b64(der)}))
        .collect();
    json!({
        "mediaType": TRUSTED_ROOT_MEDIA_TYPE,
        "tlogs": [log_instance(parts.rekor_url, parts.rekor_key, parts.valid_from)],
        "certificateAuthorities": [{
            "subject": {"organization": "sigstore.testbed", "commonName": "sigstore"},
            "uri": parts.fulcio_url,
            "certChain": {"certificates": certificates},
            "validFor": {"start": rfc3339(parts.valid_from)}
        }],
        "ctlogs": [log_instance(parts.ct_url, parts.ct_key, parts.valid_from)],
        "timestampAuthorities": []
    })
}

/// A `ClientTrustConfig` (trusted root plus signing config) for sigstore clients'
/// `--trust-config`.
pub(crate) fn client_trust_config(root: Value, parts: &RootParts<'_>, oidc_url: &str) -> Value {
    let service = |url: &str| {
        json!({
            "url": url,
            "majorApiVersion": 1,
            "validFor": {"start": rfc3339(parts.valid_from)},
            "operator": "sigstore.testbed"
        })
    };
    json!({
        "mediaType": CLIENT_TRUST_CONFIG_MEDIA_TYPE,
        "trustedRoot": root,
        "signingConfig": {
            "mediaType": SIGNING_CONFIG_MEDIA_TYPE,
            "caUrls": [service(parts.fulcio_url)],
            "oidcUrls": [service(oidc_url)],
            "rekorTlogUrls": [service(parts.rekor_url)],
            "tsaUrls": [],
            "rekorTlogConfig": {"selector": "ANY"},
            "tsaConfig": {"selector": "ANY"}
        }
    })
}
