//! P-256 keys: the services' own signing keys, and how sigstore names a key (its log id).
use anyhow::Context as _;
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePublicKey as _, EncodePrivateKey as _, EncodePublicKey as _};
use sha2::{Digest as _, Sha256};

/// A signing key with its public half already encoded the way sigstore needs it.
pub(crate) struct KeyPair {
    signing: SigningKey,
    spki_der: Vec<u8>,
}

impl KeyPair {
    /// A fresh random key. Keys live only as long as the server: nothing is persisted.
    pub fn generate() -> anyhow::Result<Self> {
        // A random 32-byte string is a valid scalar unless it is zero or >= the group order,
        // which is astronomically unlikely; a few retries make failure impossible in practice.
        for _ in 0..16 {
            let bytes: [u8; 32] = rand::random();
            if let Ok(signing) = SigningKey::from_bytes(&bytes.into()) {
                let spki_der = signing
                    .verifying_key()
                    .to_public_key_der()
                    .context("encoding a P-256 public key as SubjectPublicKeyInfo")?
                    .into_vec();
                return Ok(Self { signing, spki_der });
            }
        }
        anyhow::bail!("could not draw a valid P-256 private key from the random source")
    }

    /// ECDSA P-256 with SHA-256 over `message`, DER-encoded (what X.509, RFC 6962, Rekor and
    /// DSSE all carry).
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        let signature: Signature = self.signing.sign(message);
        signature.to_der().as_bytes().to_vec()
    }

    /// DER SubjectPublicKeyInfo of the public key.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// RFC 6962 key id: SHA-256 of the DER SubjectPublicKeyInfo (Rekor's log id, a CT
    /// log's id, the `keyId` of a trusted root).
    pub fn key_id(&self) -> [u8; 32] {
        key_id(&self.spki_der)
    }

    /// The private key as PKCS#8 DER (what a TLS server loads).
    pub fn pkcs8_der(&self) -> anyhow::Result<Vec<u8>> {
        Ok(self
            .signing
            .to_pkcs8_der()
            .context("encoding a P-256 private key as PKCS#8")?
            .as_bytes()
            .to_vec())
    }

    /// `-----BEGIN PUBLIC KEY-----` PEM of the public key.
    pub fn public_pem(&self) -> String {
        super::encoding::pem("PUBLIC KEY", &self.spki_der)
    }

    #[cfg(test)]
    pub fn verifying_key(&self) -> &VerifyingKey {
        self.signing.verifying_key()
    }
}

/// SHA-256 of a DER SubjectPublicKeyInfo.
pub(crate) fn key_id(spki_der: &[u8]) -> [u8; 32] {
    Sha256::digest(spki_der).into()
}

/// The P-256 key in a DER SubjectPublicKeyInfo, if it is one.
pub(crate) fn p256_from_spki(spki_der: &[u8]) -> Option<VerifyingKey> {
    VerifyingKey::from_public_key_der(spki_der).ok()
}

/// Whether `signature` (DER ECDSA) is `key`'s signature of `message` with SHA-256.
pub(crate) fn verify(key: &VerifyingKey, message: &[u8], signature: &[u8]) -> bool {
    Signature::from_der(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_verifies() {
        let key = KeyPair::generate().unwrap();
        let sig = key.sign(b"hello");
        assert!(verify(key.verifying_key(), b"hello", &sig));
        assert!(!verify(key.verifying_key(), b"hellO", &sig));
        let parsed = p256_from_spki(key.spki_der()).unwrap();
        assert_eq!(&parsed, key.verifying_key());
        assert!(key.public_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
    }
}
