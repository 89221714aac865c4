//! Integration tests of the local Warehouse: real HTTP against a running server.
mod api;
mod oidc;
mod support;
mod tls;
mod upload;
