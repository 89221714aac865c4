//! Contract-faithful local stand-ins for Warehouse (PyPI) and GitHub, for tests and the demo.
//!
//! Every server binds `127.0.0.1:0` (or a port given for the demo) and follows the public
//! contracts in `../shared/CONTRACTS.md`; when in doubt they follow the real service, never
//! this project's client.
//!
//! - [`warehouse`]: the index (legacy upload API, JSON API, PEP 503 simple pages, file
//!   downloads, trusted-publisher `/_/oidc/audience` and `/_/oidc/mint-token`).
//! - [`github`]: GitHub's OIDC token endpoint and issuer (JWKS), the Actions REST API for
//!   runs and artifacts, and a separate blob host for artifact downloads.
//! - [`dists`]: builders of real, pip-installable wheels and sdists.
//! - [`sigstore`]: a local Fulcio and Rekor v1 and their trusted root, for PEP 740
//!   attestations.
//! - [`faults`]: on-demand fault injection shared by the servers.
//! - [`tls`]: HTTPS for the index (benchmarks), with a CA made at start.

pub mod dists;
pub mod faults;
pub mod github;
pub mod sigstore;
pub mod tls;
pub mod warehouse;

pub use warehouse::{
    OidcMode, StoredFile, TrustedIssuer, TrustedPublisher, UploadRecord, Warehouse, WarehouseConfig,
};

/// Test-only RSA key of the local GitHub OIDC issuer (see `keys/README.md`).
pub const GITHUB_OIDC_TEST_KEY_PEM: &str = include_str!("../keys/github-oidc-test-key.pem");
/// Public half of [`GITHUB_OIDC_TEST_KEY_PEM`], which the local Warehouse trusts.
pub const GITHUB_OIDC_TEST_PUBLIC_KEY_PEM: &str = include_str!("../keys/github-oidc-test-pub.pem");
