//! Recording published URLs into the release fixtures.
