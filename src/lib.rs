//! `pypi-oidc-publish`: the publish phase of a two-phase Python release.
//!
//! The crate is a library so that the binary stays a thin shell and integration tests can
//! reach the pieces; the command-line contract lives in [`cli`].

pub mod artifacts;
pub mod attest;
pub mod auth;
pub mod cli;
pub mod commands;
pub mod distribution;
pub mod github_release;
pub mod hashing;
pub mod http;
pub mod index;
pub mod oidc;
pub mod publish;
pub mod record;
pub mod report;
pub mod reporting;
pub mod runner;
pub mod secret;
pub mod signals;
pub mod upload;
pub mod versions;
