//! The index's data: projects, releases, files, API tokens and trusted publishers.
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use pep440_rs::Version;

use super::names::canonicalize_name;

/// A file the index holds, as tests see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredFile {
    pub filename: String,
    pub sha256: String,
    pub blake2_256: String,
    pub md5: String,
    pub size: u64,
    pub packagetype: String,
    pub python_version: String,
    /// Where the bytes are on disk (empty in `sink` mode, which stores nothing).
    pub path: PathBuf,
    /// The raw `attestations` form field that came with the file, if any.
    pub attestations: Option<String>,
}

/// One request to the upload endpoint, whatever its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRecord {
    /// The filename of the `content` part, if there was one.
    pub filename: Option<String>,
    pub status: u16,
    /// The message Warehouse put in the status line ("OK" on success).
    pub message: String,
    /// Every form field in order, except `content`.
    pub fields: Vec<(String, String)>,
    /// How many of `fields` came before the `content` part (None without one): where the
    /// client put the file in the form.
    pub content_at: Option<usize>,
    /// This request added a file to the index (false for the identical file sent again,
    /// which Warehouse answers 200 without storing anything).
    pub stored: bool,
    /// The `Authorization` header exactly as received.
    pub authorization: Option<String>,
    /// When the request reached the handler, and when its answer was settled (order and
    /// overlap of uploads).
    pub started: Instant,
    pub ended: Instant,
    /// Upload requests in flight at the index when this one arrived, itself included.
    pub in_flight: usize,
    /// The HTTP version of the request.
    pub version: axum::http::Version,
}

/// Release metadata, fixed by the upload that created the release (as on Warehouse).
#[derive(Clone, Debug, Default)]
pub(crate) struct ReleaseMeta {
    pub summary: Option<String>,
    pub description: String,
    pub description_content_type: Option<String>,
    pub keywords: Option<String>,
    pub license: Option<String>,
    pub license_expression: Option<String>,
    pub license_files: Option<Vec<String>>,
    pub classifiers: Vec<String>,
    pub author: Option<String>,
    pub author_email: Option<String>,
    pub maintainer: Option<String>,
    pub maintainer_email: Option<String>,
    pub requires_python: Option<String>,
    pub platform: Option<String>,
    pub home_page: Option<String>,
    pub download_url: Option<String>,
    /// `Project-URL` pairs in upload order.
    pub project_urls: Vec<(String, String)>,
    pub requires_dist: Vec<String>,
    pub provides_extra: Vec<String>,
    pub dynamic: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct FileEntry {
    pub filename: String,
    pub packagetype: String,
    pub python_version: String,
    pub comment_text: Option<String>,
    pub size: u64,
    pub md5: String,
    pub sha256: String,
    pub blake2_256: String,
    /// Storage path below `/packages/`: `bb/bb/rest-of-blake2/filename`.
    pub path: String,
    pub disk_path: PathBuf,
    pub upload_time: SystemTime,
    /// sha256 of the wheel's METADATA, served as PEP 658 `.metadata`.
    pub metadata_sha256: Option<String>,
    pub attestations: Option<String>,
    /// Journal serial of the upload that added the file.
    pub serial: u64,
    /// Which successful upload (1, 2, ...) added it, for the stale-JSON view.
    pub upload_seq: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct Release {
    pub version: Version,
    /// The normalised version string Warehouse stores (`str(meta.version)`).
    pub version_str: String,
    pub canonical_version: String,
    pub meta: ReleaseMeta,
    pub files: Vec<FileEntry>,
    pub serial_created: u64,
    /// Which successful upload created the release.
    pub upload_seq: u64,
    /// When the release was created (its first file), for the release window.
    pub created: SystemTime,
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub id: u64,
    pub name: String,
    pub normalized: String,
    pub releases: Vec<Release>,
    pub last_serial: u64,
    pub created_serial: u64,
}

impl Project {
    pub fn total_size(&self) -> u64 {
        self.releases
            .iter()
            .flat_map(|r| &r.files)
            .map(|f| f.size)
            .sum()
    }

    pub fn release_by_canonical(&self, canonical: &str) -> Option<&Release> {
        self.releases
            .iter()
            .find(|r| r.canonical_version == canonical)
    }
}

/// The identity claims a GitHub trusted publisher is registered with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GitHubIdentity {
    pub repository_owner: String,
    pub repository_owner_id: String,
    pub repository_name: String,
    pub workflow_filename: String,
    /// Lower-cased, as Warehouse stores it; empty means "any environment".
    pub environment: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Publisher {
    pub id: u64,
    pub identity: GitHubIdentity,
    pub project_ids: Vec<u64>,
}

#[derive(Clone, Debug)]
pub(crate) struct PendingPublisher {
    pub project_name: String,
    pub identity: GitHubIdentity,
}

/// What an API token (a macaroon on Warehouse) stands for, and its caveats.
#[derive(Clone, Debug)]
pub(crate) enum Credential {
    /// A user's token; `scope` lists the projects (normalised name, id) it is limited to.
    User { scope: Option<Vec<(String, u64)>> },
    /// A token minted from an OIDC ID token.
    Oidc {
        publisher_id: u64,
        project_ids: Vec<u64>,
        not_before: i64,
        expires_at: i64,
    },
}

#[derive(Default)]
pub(crate) struct Index {
    pub projects: Vec<Project>,
    pub tokens: HashMap<String, Credential>,
    pub publishers: Vec<Publisher>,
    pub pending: Vec<PendingPublisher>,
    /// `jti` of every ID token that minted a token, with its `exp`.
    pub used_jti: HashMap<String, i64>,
    serial: u64,
    next_id: u64,
    /// Number of successful uploads so far; the latest one has this sequence number.
    pub uploads_done: u64,
}

impl Index {
    /// Next journal serial (Warehouse's `JournalEntry.id`).
    pub fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    pub fn current_serial(&self) -> u64 {
        self.serial
    }

    pub fn new_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn project(&self, name: &str) -> Option<&Project> {
        let normalized = canonicalize_name(name);
        self.projects.iter().find(|p| p.normalized == normalized)
    }

    /// Creates the project if it does not exist; returns its id.
    pub fn ensure_project(&mut self, name: &str) -> u64 {
        if let Some(p) = self.project(name) {
            return p.id;
        }
        let id = self.new_id();
        let serial = self.next_serial();
        self.projects.push(Project {
            id,
            name: name.to_owned(),
            normalized: canonicalize_name(name),
            releases: Vec::new(),
            last_serial: serial,
            created_serial: serial,
        });
        id
    }

    /// The file with this filename, or else one with this blake2 digest (Warehouse's
    /// `_is_duplicate_file` lookup, across all projects).
    pub fn find_file(&self, filename: &str, blake2_256: &str) -> Option<&FileEntry> {
        let all = || {
            self.projects
                .iter()
                .flat_map(|p| &p.releases)
                .flat_map(|r| &r.files)
        };
        all()
            .find(|f| f.filename == filename)
            .or_else(|| all().find(|f| f.blake2_256 == blake2_256))
    }

    pub fn find_file_by_path(&self, path: &str) -> Option<&FileEntry> {
        self.projects
            .iter()
            .flat_map(|p| &p.releases)
            .flat_map(|r| &r.files)
            .find(|f| f.path == path)
    }

    pub fn publisher(&self, id: u64) -> Option<&Publisher> {
        self.publishers.iter().find(|p| p.id == id)
    }

    /// Registers a publisher for a project, reusing an identical publisher (Warehouse keeps
    /// one publisher per identity and links it to several projects).
    pub fn add_publisher(&mut self, identity: GitHubIdentity, project_id: u64) {
        if let Some(p) = self.publishers.iter_mut().find(|p| p.identity == identity) {
            if !p.project_ids.contains(&project_id) {
                p.project_ids.push(project_id);
            }
            return;
        }
        let id = self.new_id();
        self.publishers.push(Publisher {
            id,
            identity,
            project_ids: vec![project_id],
        });
    }
}
