//! Fulcio: trade the job's ID token and a fresh key's CSR for a short-lived signing
//! certificate (`POST /api/v2/signingCert`).
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde_json::Value;
use url::Url;
use x509_cert::builder::{Builder, RequestBuilder};
use x509_cert::der::pem::LineEnding;
use x509_cert::der::{Decode, Encode, EncodePem};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::name::Name;
use x509_cert::Certificate;

use super::{endpoint, service_error};
use crate::github::id_token::RunnerOidc;
use crate::http::{Failure, Http};

/// The audience Fulcio accepts ID tokens for.
pub const AUDIENCE: &str = "sigstore";

/// RFC 6962's embedded precertificate SCT list; sigstore verifiers refuse a certificate
/// without one.
const SCT_LIST_OID: &str = "1.3.6.1.4.1.11129.2.4.2";

/// The signing certificate Fulcio issued for our key.
#[derive(Clone, Debug)]
pub struct Leaf {
    /// The DER bytes exactly as Fulcio issued them.
    pub der: Vec<u8>,
    /// The PEM form Rekor records as the entry's verifier (and verifiers rebuild from the
    /// DER), so it must be the canonical encoding: 64-column lines, LF, trailing newline.
    pub pem: String,
    lifetime: Duration,
    received: Instant,
}

impl Leaf {
    /// Whether half the certificate's life has passed: the other half is left for Rekor
    /// (and its retries) to log a signature made now while the certificate is valid, which
    /// verifiers require. Measured on the monotonic clock from when it arrived, so a skewed
    /// runner clock cannot make a fresh certificate look expired.
    pub fn needs_renewal(&self) -> bool {
        self.received.elapsed() >= self.lifetime / 2
    }
}

/// A PKCS#10 request for `key`. The subject is empty, as sigstore-python sends it: Fulcio
/// takes the identity from the ID token only, and an e-mail attribute would be an
/// IA5String that a non-ASCII GitHub `sub` (environment names) cannot be written in.
pub fn csr_pem(key: &SigningKey) -> Result<String> {
    let mut builder = RequestBuilder::new(Name::default(), key)
        .context("could not start the certificate signing request")?;
    builder
        .add_extension(&BasicConstraints {
            ca: false,
            path_len_constraint: None,
        })
        .context("could not add basicConstraints to the certificate signing request")?;
    let csr = builder
        .build::<DerSignature>()
        .context("could not sign the certificate signing request")?;
    csr.to_pem(LineEnding::LF)
        .context("could not encode the certificate signing request")
}

/// Ask Fulcio for a certificate binding `key` to this job's identity.
pub async fn request_certificate(
    http: &Http,
    runner: &RunnerOidc,
    fulcio: &Url,
    key: &SigningKey,
) -> Result<Leaf> {
    let url = endpoint(fulcio, "api/v2/signingCert")?;
    let body = serde_json::json!({
        "certificateSigningRequest": STANDARD.encode(csr_pem(key)?),
    });
    let ours = VerifyingKey::from(key);
    let what = format!("requesting a signing certificate from Fulcio at {fulcio}");
    http.retry(&what, |_| {
        let (url, body, what) = (url.clone(), body.clone(), what.clone());
        async move {
            // A fresh ID token per attempt: a retry after a long outage must not present a
            // token that expired while waiting.
            let token = runner
                .id_token(http, AUDIENCE)
                .await
                .context("requesting the GitHub ID token for Sigstore (audience `sigstore`)")
                .map_err(Failure::Permanent)?;
            let request = http
                .client
                .post(url)
                .bearer_auth(token.expose())
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body);
            let answer = http.send_text(&what, request).await?;
            let status = answer.status;
            if !status.is_success() {
                return Err(Failure::Permanent(service_error(
                    "Fulcio",
                    status,
                    &answer.text,
                    Some(token.expose()),
                )));
            }
            let json = answer.json_value(&what)?;
            parse_answer(&json, &ours).map_err(|e| {
                Failure::Permanent(e.context(format!("Fulcio at {fulcio} answered HTTP {status}")))
            })
        }
    })
    .await
}

/// The leaf of `signedCertificateEmbeddedSct.chain.certificates` (leaf first), checked to
/// be for our key and to carry the SCT that verifiers require.
pub fn parse_answer(json: &Value, ours: &VerifyingKey) -> Result<Leaf> {
    let chain = json
        .pointer("/signedCertificateEmbeddedSct/chain/certificates")
        .and_then(Value::as_array);
    let Some(chain) = chain else {
        if json.get("signedCertificateDetachedSct").is_some() {
            return Err(anyhow!(
                "the certificate came with a detached SCT; PEP 740 verifiers need the SCT \
                 embedded in the certificate, so use a Fulcio instance that embeds SCTs \
                 (as the public one does)"
            ));
        }
        return Err(anyhow!(
            "the answer has no signedCertificateEmbeddedSct.chain.certificates"
        ));
    };
    let leaf_pem = chain
        .first()
        .and_then(Value::as_str)
        .ok_or_else(|| anyhow!("the certificate chain is empty"))?;
    let (label, der) = x509_cert::der::pem::decode_vec(leaf_pem.as_bytes())
        .map_err(|e| anyhow!("the leaf certificate is not PEM: {e}"))?;
    if label != "CERTIFICATE" {
        return Err(anyhow!(
            "the first chain entry is a PEM {label:?}, not a CERTIFICATE"
        ));
    }
    let cert = Certificate::from_der(&der)
        .map_err(|e| anyhow!("the leaf certificate is not valid X.509: {e}"))?;
    let tbs = &cert.tbs_certificate;
    let spki = tbs
        .subject_public_key_info
        .to_der()
        .map_err(|e| anyhow!("cannot re-encode the certificate's public key: {e}"))?;
    let theirs = VerifyingKey::from_public_key_der(&spki)
        .map_err(|e| anyhow!("the certificate's key is not a P-256 key: {e}"))?;
    if &theirs != ours {
        return Err(anyhow!(
            "the certificate is for a different public key than the one we asked for"
        ));
    }
    let has_sct = tbs
        .extensions
        .iter()
        .flatten()
        .any(|ext| ext.extn_id.to_string() == SCT_LIST_OID);
    if !has_sct {
        return Err(anyhow!(
            "the certificate has no embedded SCT, which PEP 740 verifiers require"
        ));
    }
    let not_before = tbs.validity.not_before.to_unix_duration();
    let not_after = tbs.validity.not_after.to_unix_duration();
    let lifetime = not_after.checked_sub(not_before).unwrap_or_default();
    let pem = x509_cert::der::pem::encode_string("CERTIFICATE", LineEnding::LF, &der)
        .map_err(|e| anyhow!("cannot PEM-encode the certificate: {e}"))?;
    Ok(Leaf {
        der,
        pem,
        lifetime,
        received: Instant::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;
    use std::str::FromStr;
    use x509_cert::builder::{CertificateBuilder, Profile};
    use x509_cert::ext::{AsExtension, Extension};
    use x509_cert::request::CertReq;
    use x509_cert::serial_number::SerialNumber;
    use x509_cert::spki::SubjectPublicKeyInfoOwned;
    use x509_cert::time::Validity;

    /// A Fulcio-like leaf for `subject_key`, issued by a throwaway CA key.
    fn issue_leaf(subject_key: &VerifyingKey, with_sct: bool) -> String {
        issue_leaf_for(subject_key, with_sct, Duration::from_secs(600))
    }

    fn issue_leaf_for(subject_key: &VerifyingKey, with_sct: bool, lifetime: Duration) -> String {
        let ca = SigningKey::random(&mut rand_core::OsRng);
        let spki = SubjectPublicKeyInfoOwned::from_key(*subject_key).unwrap();
        let mut builder = CertificateBuilder::new(
            Profile::Leaf {
                issuer: Name::from_str("O=sigstore.dev,CN=sigstore-intermediate").unwrap(),
                enable_key_agreement: false,
                enable_key_encipherment: false,
            },
            SerialNumber::from(7u32),
            Validity::from_now(lifetime).unwrap(),
            Name::default(),
            spki,
            &ca,
        )
        .unwrap();
        if with_sct {
            builder.add_extension(&SctList).unwrap();
        }
        builder
            .build::<DerSignature>()
            .unwrap()
            .to_pem(LineEnding::LF)
            .unwrap()
    }

    /// A stand-in for the SCT list extension (an OCTET STRING holding a TLS-encoded list):
    /// the client only checks that it is there.
    struct SctList;
    impl x509_cert::der::EncodeValue for SctList {
        fn value_len(&self) -> x509_cert::der::Result<x509_cert::der::Length> {
            Ok(x509_cert::der::Length::new(4))
        }
        fn encode_value(&self, w: &mut impl x509_cert::der::Writer) -> x509_cert::der::Result<()> {
            w.write(&[0, 2, 0, 0])
        }
    }
    impl x509_cert::der::FixedTag for SctList {
        const TAG: x509_cert::der::Tag = x509_cert::der::Tag::OctetString;
    }
    impl x509_cert::der::oid::AssociatedOid for SctList {
        const OID: x509_cert::der::oid::ObjectIdentifier =
            x509_cert::der::oid::ObjectIdentifier::new_unwrap(SCT_LIST_OID);
    }
    impl AsExtension for SctList {
        fn critical(&self, _: &Name, _: &[Extension]) -> bool {
            false
        }
    }

    fn answer(chain: &[&str]) -> Value {
        serde_json::json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": chain}}})
    }

    #[test]
    fn csr_carries_our_key_an_empty_subject_and_a_valid_self_signature() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let pem = csr_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----\n"));
        let (_, der) = x509_cert::der::pem::decode_vec(pem.as_bytes()).unwrap();
        let csr = CertReq::from_der(&der).unwrap();
        assert!(csr.info.subject.0.is_empty());
        let spki = csr.info.public_key.to_der().unwrap();
        let in_csr = VerifyingKey::from_public_key_der(&spki).unwrap();
        assert_eq!(in_csr, VerifyingKey::from(&key));
        // The self-signature is Fulcio's proof of possession.
        let signed = csr.info.to_der().unwrap();
        let sig = DerSignature::try_from(csr.signature.raw_bytes()).unwrap();
        in_csr.verify(&signed, &sig).unwrap();
        assert_eq!(csr.algorithm.oid.to_string(), "1.2.840.10045.4.3.2"); // ecdsa-with-SHA256
        let ext_req = csr
            .info
            .attributes
            .iter()
            .any(|a| a.oid.to_string() == "1.2.840.113549.1.9.14");
        assert!(ext_req, "the CSR asks for basicConstraints CA:false");
    }

    #[test]
    fn answer_gives_the_leaf_for_our_key() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let ours = VerifyingKey::from(&key);
        let leaf_pem = issue_leaf(&ours, true);
        let root_pem = issue_leaf(
            &VerifyingKey::from(&SigningKey::random(&mut rand_core::OsRng)),
            false,
        );
        let leaf = parse_answer(&answer(&[&leaf_pem, &root_pem]), &ours).unwrap();
        let (_, der) = x509_cert::der::pem::decode_vec(leaf_pem.as_bytes()).unwrap();
        assert_eq!(leaf.der, der);
        assert_eq!(leaf.pem, leaf_pem);
        assert!(leaf.pem.ends_with("-----END CERTIFICATE-----\n"));
        assert!(!leaf.needs_renewal());
        let brief = issue_leaf_for(&ours, true, Duration::from_secs(1));
        let brief = parse_answer(&answer(&[&brief]), &ours).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        assert!(brief.needs_renewal());
    }

    #[test]
    fn answer_is_refused_for_another_key_missing_sct_or_detached_sct() {
        let ours = VerifyingKey::from(&SigningKey::random(&mut rand_core::OsRng));
        let other = VerifyingKey::from(&SigningKey::random(&mut rand_core::OsRng));
        let err = parse_answer(&answer(&[&issue_leaf(&other, true)]), &ours).unwrap_err();
        assert!(err.to_string().contains("different public key"), "{err}");
        let err = parse_answer(&answer(&[&issue_leaf(&ours, false)]), &ours).unwrap_err();
        assert!(err.to_string().contains("no embedded SCT"), "{err}");
        let detached =
            serde_json::json!({"signedCertificateDetachedSct": {"chain": {"certificates": []}}});
        let err = parse_answer(&detached, &ours).unwrap_err();
        assert!(err.to_string().contains("detached SCT"), "{err}");
        let err = parse_answer(&answer(&[]), &ours).unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        let err = parse_answer(&answer(&["not pem"]), &ours).unwrap_err();
        assert!(err.to_string().contains("not PEM"), "{err}");
    }
}
