//! Everything said to GitHub, and read from it. Party: GitHub (its REST API, the artifacts'
//! blob host, a release's upload host, the runner's token service and environment); nothing
//! here speaks to an index or to Sigstore.
//!
//! - [`runner`]: the runner's environment, read once (tokens, event, output files).
//! - [`rest`]: what every REST call shares (the API, the token, GitHub's refusals, paging).
//! - [`artifacts`]: a workflow run's artifacts: read over REST, the run's trust verdict, the
//!   download, the safe extraction.
//! - [`releases`]: the GitHub Release of a version tag and its assets.
//! - [`id_token`]: the job's OIDC ID token, which the index ([`crate::index::mint`]) and
//!   Sigstore ([`crate::attest`]) are then shown.
//!
//! The GitHub token goes to the API's origin only (and, for release assets, to the upload
//! origin the API names).
pub mod artifacts;
pub mod id_token;
pub(crate) mod releases;
pub(crate) mod rest;
pub mod runner;
