//! `pypi-oidc-publish`: the publish phase of a two-phase Python release.
//!
//! The crate is a library so that the binary stays a thin shell and integration tests can
//! reach the pieces; the command-line contract lives in [`cli`].

pub mod cli;
pub mod distribution;
pub mod record;
