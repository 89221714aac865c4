//! Everything said to GitHub, and read from it: the runner's environment ([`runner`]), the
//! triggering run's artifacts ([`artifacts`]: read over REST, the run's trust verdict, the
//! download, the safe extraction), the GitHub Release of a version tag ([`releases`]), and
//! the job's OIDC ID token ([`id_token`]), which the index and Sigstore are then shown.
//!
//! The GitHub token goes to the API's origin only (and, for release assets, to the upload
//! origin the API names); nothing here speaks to an index or to Sigstore.
pub mod artifacts;
pub mod id_token;
pub(crate) mod releases;
pub(crate) mod rest;
pub mod runner;
