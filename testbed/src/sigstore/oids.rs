//! Object identifiers of the certificate extensions Fulcio writes and verifiers read.
use x509_cert::der::oid::ObjectIdentifier;

const fn oid(text: &str) -> ObjectIdentifier {
    ObjectIdentifier::new_unwrap(text)
}

/// Fulcio's GitHub extensions (sigstore/fulcio `docs/oid-info.md`). `.1` to `.6` carry raw
/// bytes (deprecated, but `policy.Identity(issuer=...)` still reads `.1`); `.8` onwards a
/// DER UTF8String.
pub mod fulcio {
    use super::{oid, ObjectIdentifier};

    pub const ISSUER_V1: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.1");
    pub const GITHUB_WORKFLOW_TRIGGER: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.2");
    pub const GITHUB_WORKFLOW_SHA: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.3");
    pub const GITHUB_WORKFLOW_NAME: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.4");
    pub const GITHUB_WORKFLOW_REPOSITORY: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.5");
    pub const GITHUB_WORKFLOW_REF: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.6");
    pub const ISSUER_V2: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.8");
    pub const BUILD_SIGNER_URI: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.9");
    pub const BUILD_SIGNER_DIGEST: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.10");
    pub const RUNNER_ENVIRONMENT: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.11");
    pub const SOURCE_REPOSITORY_URI: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.12");
    pub const SOURCE_REPOSITORY_DIGEST: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.13");
    pub const SOURCE_REPOSITORY_REF: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.14");
    pub const SOURCE_REPOSITORY_IDENTIFIER: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.15");
    pub const SOURCE_REPOSITORY_OWNER_URI: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.16");
    pub const SOURCE_REPOSITORY_OWNER_IDENTIFIER: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.17");
    pub const BUILD_CONFIG_URI: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.18");
    pub const BUILD_CONFIG_DIGEST: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.19");
    pub const BUILD_TRIGGER: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.20");
    pub const RUN_INVOCATION_URI: ObjectIdentifier = oid("1.3.6.1.4.1.57264.1.21");
}

/// RFC 6962 embedded SCT list (`PrecertificateSignedCertificateTimestamps`).
pub const CT_PRECERT_SCTS: ObjectIdentifier = oid("1.3.6.1.4.1.11129.2.4.2");
/// ecdsa-with-SHA256.
pub const ECDSA_WITH_SHA256: ObjectIdentifier = oid("1.2.840.10045.4.3.2");
