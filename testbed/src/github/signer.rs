//! The key the stand-in signs ID tokens with, held by the shared state and used by the
//! token endpoint and the issuer's JWKS.
use anyhow::Context as _;
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use super::model::JobClaims;

/// Signs ID tokens with the checked-in test key and publishes its public half.
pub(crate) struct Signer {
    key: EncodingKey,
    kid: String,
    jwk: Jwk,
}

impl Signer {
    pub fn new() -> anyhow::Result<Self> {
        let key = EncodingKey::from_rsa_pem(crate::GITHUB_OIDC_TEST_KEY_PEM.as_bytes())
            .context("parsing the test OIDC key testbed/keys/github-oidc-test-key.pem")?;
        let mut jwk = Jwk::from_encoding_key(&key, Algorithm::RS256)
            .context("deriving the JWK of the test OIDC key")?;
        // A key id that is stable across runs and tied to the key, like a thumbprint.
        let kid = jwk.thumbprint(ThumbprintHash::SHA256);
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        Ok(Self { key, kid, jwk })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.jwk] })
    }

    /// An RS256 ID token describing `claims`, issued at `iat`.
    pub fn sign(
        &self,
        claims: &JobClaims,
        issuer: &str,
        audience: &str,
        iat: u64,
    ) -> anyhow::Result<String> {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        let payload = claims.payload(issuer, audience, iat);
        jsonwebtoken::encode(&header, &payload, &self.key).context("signing a test ID token")
    }
}
