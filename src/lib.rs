//! `pypi-oidc-publish`: the publish phase of a two-phase Python release.
//!
//! The crate is a library so that the binary stays a thin shell (`main` only starts the
//! runtime and runs [`commands`]) and so that tests, benchmarks and fuzz targets reach the
//! pieces they exercise. Only those are public; the rest is the publish machinery the
//! commands use.

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
