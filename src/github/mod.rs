//! Everything said to GitHub, and read from it: the runner's environment ([`runner`]), the
//! triggering run's artifacts ([`artifacts`]: read over REST, the run's trust verdict, the
//! download, the safe extraction) and the GitHub Release of a version tag ([`releases`]).
//!
//! The GitHub token goes to the API's origin only (and, for release assets, to the upload
//! origin the API names); nothing here speaks to an index or to Sigstore.
pub mod artifacts;
pub(crate) mod releases;
pub(crate) mod rest;
pub mod runner;
