//! The signed payload: an in-toto v1 Statement about one distribution, wrapped in a DSSE
//! envelope.
use anyhow::{bail, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{DerSignature, SigningKey};
use serde_json::json;

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PUBLISH_PREDICATE: &str = "https://docs.pypi.org/attestations/publish/v1";
/// The DSSE payload type of an in-toto statement.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// The publish statement for one file, as compact JSON in the key order pypi-attestations
/// writes (`_type`, `subject`, `predicateType`, `predicate`). Verifiers check the signature
/// over these exact bytes, so the order is for familiarity, not correctness.
pub fn publish_statement(filename: &str, sha256_hex: &str) -> Result<Vec<u8>> {
    if filename.is_empty() || filename.contains(['/', '\\']) {
        bail!("cannot attest {filename:?}: the subject must be a bare distribution file name");
    }
    let digest = sha256_hex.to_ascii_lowercase();
    if digest.len() != 64 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("cannot attest {filename}: {sha256_hex:?} is not a hex SHA-256 digest");
    }
    let statement = json!({
        "_type": STATEMENT_TYPE,
        "subject": [{"name": filename, "digest": {"sha256": digest}}],
        "predicateType": PUBLISH_PREDICATE,
        "predicate": null,
    });
    Ok(serde_json::to_vec(&statement)?)
}

/// DSSE's pre-authentication encoding: what is actually signed, so that the payload type
/// cannot be swapped under a valid signature.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A signed statement: the payload and one ECDSA P-256/SHA-256 signature in DER.
pub struct Envelope {
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
}

impl Envelope {
    pub fn sign(key: &SigningKey, payload: Vec<u8>) -> Envelope {
        let signature: DerSignature = key.sign(&pae(PAYLOAD_TYPE, &payload));
        Envelope {
            payload,
            signature: signature.as_bytes().to_vec(),
        }
    }

    /// The envelope as DSSE JSON (what Rekor's `dsse` type takes).
    pub fn to_json(&self) -> String {
        json!({
            "payload": STANDARD.encode(&self.payload),
            "payloadType": PAYLOAD_TYPE,
            "signatures": [{"sig": STANDARD.encode(&self.signature)}],
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::VerifyingKey;

    const DIGEST: &str = "0c3d4a5f7f2b6e1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f";

    #[test]
    fn pae_matches_the_dsse_spec_example() {
        // The worked example of the DSSE v1 protocol document.
        let got = pae("http://example.com/HelloWorld", b"hello world");
        assert_eq!(
            got,
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
        let got = pae(PAYLOAD_TYPE, b"{}");
        assert_eq!(got, b"DSSEv1 28 application/vnd.in-toto+json 2 {}".to_vec());
    }

    #[test]
    fn statement_has_one_subject_and_the_publish_predicate() {
        let bytes = publish_statement("demo-1.0-py3-none-any.whl", DIGEST).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            format!(
                "{{\"_type\":\"https://in-toto.io/Statement/v1\",\"subject\":[{{\"name\":\
                 \"demo-1.0-py3-none-any.whl\",\"digest\":{{\"sha256\":\"{DIGEST}\"}}}}],\
                 \"predicateType\":\"https://docs.pypi.org/attestations/publish/v1\",\
                 \"predicate\":null}}"
            )
        );
        let parsed: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(parsed["subject"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn statement_normalises_the_digest_and_refuses_bad_input() {
        let upper = publish_statement("demo-1.0.tar.gz", &DIGEST.to_uppercase()).unwrap();
        assert!(String::from_utf8(upper).unwrap().contains(DIGEST));
        assert!(publish_statement("demo-1.0.tar.gz", "abc").is_err());
        assert!(publish_statement("demo-1.0.tar.gz", &"g".repeat(64)).is_err());
        assert!(publish_statement("dist/demo-1.0.tar.gz", DIGEST).is_err());
        assert!(publish_statement("", DIGEST).is_err());
    }

    #[test]
    fn envelope_signature_verifies_over_the_pae() {
        let key = SigningKey::random(&mut rand_core::OsRng);
        let payload = publish_statement("demo-1.0.tar.gz", DIGEST).unwrap();
        let env = Envelope::sign(&key, payload.clone());
        let sig = p256::ecdsa::DerSignature::try_from(env.signature.as_slice()).unwrap();
        let vk = VerifyingKey::from(&key);
        vk.verify(&pae(PAYLOAD_TYPE, &payload), &sig).unwrap();
        // Over the bare payload (no PAE) the signature must not verify.
        assert!(vk.verify(&payload, &sig).is_err());

        let json: serde_json::Value = serde_json::from_str(&env.to_json()).unwrap();
        assert_eq!(json["payloadType"], PAYLOAD_TYPE);
        assert_eq!(
            STANDARD.decode(json["payload"].as_str().unwrap()).unwrap(),
            payload
        );
        assert_eq!(
            STANDARD
                .decode(json["signatures"][0]["sig"].as_str().unwrap())
                .unwrap(),
            env.signature
        );
    }
}
