//! Finding, naming and checking the distributions of one release before anything is uploaded.
//! Party: none: pure checks of local files, so they run (and are fuzzed) without a network.
//!
//! [`collect`] turns the paths the user gave into a [`Release`]: every wheel and sdist found,
//! checked the way PyPI checks them on upload (file names, archive structure, core metadata)
//! and against each other (one project, one version, at most one sdist). Any problem fails
//! the whole set, so a release is never published half-way because one file was refused.

use std::fmt;
use std::path::PathBuf;

mod collect;
mod filename;
mod form;
mod license;
mod metadata;
mod requirement;
mod rules;
mod sdist;
mod wheel;
mod zip_framing;

#[cfg(test)]
mod tests;

pub use collect::{collect, collect_releases};
pub use filename::{is_distribution, name_and_version, normalized_name};
pub use metadata::{CoreMetadata, ParseError};

/// The parsers the fuzz targets in `fuzz/` and the differential test against `packaging`
/// (`tests/differential.rs`) drive directly, because going through [`collect`] would need a
/// file per input (file names) or a whole archive (metadata rules). Not a supported API.
#[doc(hidden)]
pub mod fuzzing {
    pub use super::filename::{
        classify, escaped, parse_wheel, pypi_accepts_platform, FileClass, WheelName,
    };
    pub use super::license::check_expression;
    pub use super::requirement::parse as parse_requirement;
    pub use super::rules::{check as check_metadata, Identity};
}

/// The most a METADATA / PKG-INFO file may weigh; real ones are kilobytes, a long README
/// included.
pub(crate) const MAX_METADATA_BYTES: u64 = 10 * 1024 * 1024;

/// The two kinds of distribution PyPI accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DistKind {
    Wheel,
    Sdist,
}

impl DistKind {
    /// The `filetype` of the legacy upload form.
    pub fn filetype(&self) -> &'static str {
        match self {
            DistKind::Wheel => "bdist_wheel",
            DistKind::Sdist => "sdist",
        }
    }
}

/// One checked distribution file.
#[derive(Debug, Clone)]
pub struct Distribution {
    pub path: PathBuf,
    /// The file name as it will be uploaded.
    pub filename: String,
    pub kind: DistKind,
    /// Size in bytes when checked.
    pub size: u64,
    pub metadata: CoreMetadata,
    /// The wheel's python tag (`py3`, `cp311`, `py2.py3`), or `source` for an sdist: the
    /// `pyversion` form field.
    pub pyversion: String,
}

impl Distribution {
    /// The fields of Warehouse's legacy upload form for this file, except `:action`,
    /// `protocol_version`, `content` and the digests: `metadata_version`, `name`, `version`,
    /// `filetype`, `pyversion`, then every core-metadata field present (repeated keys for
    /// multiple-use fields). Empty values are left out.
    pub fn form_fields(&self) -> Vec<(&'static str, String)> {
        form::fields(&self.metadata, self.kind.filetype(), &self.pyversion)
    }
}

/// The distributions of one release, all checked.
#[derive(Debug, Clone)]
pub struct Release {
    /// The project name as written in the metadata.
    pub name: String,
    /// The PEP 503 normalised name (`Demo.Pkg` -> `demo-pkg`).
    pub normalized_name: String,
    /// The version as written in the metadata.
    pub version: String,
    /// Wheels sorted by file name, then the sdist.
    pub distributions: Vec<Distribution>,
}

/// A file or folder that was looked at and left out, with the reason (for a notice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

/// One thing wrong with one file (or path), saying what is wrong and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // File names come from outside (an artifact may name its files anything).
        write!(
            f,
            "{}: {}",
            crate::inert::shown(self.path.display()),
            self.message
        )
    }
}

/// Why nothing may be uploaded: every problem found, across all files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckFailure {
    pub problems: Vec<Problem>,
}

impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for CheckFailure {}
