//! Finding, naming and checking the distributions of one release before anything is uploaded.
//! (Temporary interface stub; the real module lands from the h-dist branch.)
use std::path::PathBuf;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DistKind {
    Wheel,
    Sdist,
}

impl DistKind {
    pub fn filetype(&self) -> &'static str {
        match self {
            DistKind::Wheel => "bdist_wheel",
            DistKind::Sdist => "sdist",
        }
    }
}

#[derive(Debug, Clone)]
pub struct CoreMetadata;

#[derive(Debug, Clone)]
pub struct Distribution {
    pub path: PathBuf,
    pub filename: String,
    pub kind: DistKind,
    pub size: u64,
    pub metadata: CoreMetadata,
    pub pyversion: String,
}

impl Distribution {
    pub fn form_fields(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

#[derive(Debug, Clone)]
pub struct Release {
    pub name: String,
    pub normalized_name: String,
    pub version: String,
    pub distributions: Vec<Distribution>,
}

#[derive(Debug, Clone)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug)]
pub struct Problem {
    pub path: PathBuf,
    pub message: String,
}

#[derive(Debug)]
pub struct CheckFailure {
    pub problems: Vec<Problem>,
}

impl std::fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for p in &self.problems {
            writeln!(f, "{}: {}", p.path.display(), p.message)?;
        }
        Ok(())
    }
}
impl std::error::Error for CheckFailure {}

pub fn collect(_paths: &[PathBuf]) -> Result<(Release, Vec<Skipped>), CheckFailure> {
    Err(CheckFailure { problems: vec![] })
}
