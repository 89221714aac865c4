//! `pypi-oidc-publish`: the publish phase of a two-phase Python release.
//!
//! The crate is a library so that the binary stays a thin shell (`main` only starts the
//! runtime and runs [`commands`]) and so that tests, benchmarks and fuzz targets reach the
//! pieces they exercise. Only those are public; the rest is the publish machinery the
//! commands use.
//!
//! Each outside party has one folder, which holds everything sent to it and read from it:
//! [`github`] (the runner, the REST API, run artifacts, releases, the job's ID token),
//! `index` (the read side, credentials and the mint exchange, the upload form) and
//! [`attest`] (Sigstore). The stages between them ([`commands`], `publish`,
//! [`distribution`], [`record`], [`reporting`]) speak to no party of their own.

pub mod attest;
pub mod cli;
pub mod commands;
pub mod distribution;
pub mod github;
pub mod hashing;
pub mod http;
mod index;
mod inert;
mod publish;
pub mod record;
mod report;
pub mod reporting;
mod secret;
pub mod signals;
