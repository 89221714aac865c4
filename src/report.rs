//! What a publish found, release by release and file by file. One [`Report`] is built per run and rendered by
//! [`crate::reporting`] as the step outputs, the job summary and the `--report` file, so
//! they can never disagree about which files are on the index.
use anyhow::Context;
use serde::Serialize;

/// What became of a file. Whether the index listed it with the sha256 that was sent is part of
/// the status, so a file the index lists with other bytes ([`FileStatus::Mismatch`]) can never
/// also count as confirmed, or as on the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileStatus {
    /// Sent by this run and accepted by the index.
    Uploaded(Confirmation),
    /// The index already had this exact file (same sha256); nothing was sent.
    AlreadyThere(Confirmation),
    /// The index lists a file of this name with another sha256 than this build's: it holds
    /// other bytes under the name (someone else uploaded them, or the index answers wrongly).
    /// Not published, whatever the upload's answer was.
    Mismatch,
    /// The index refused the file, or sending it failed for good.
    Failed,
    /// Not attempted: the run stopped first (an earlier failure or a cancellation).
    NotUploaded,
    /// `--dry-run`: would be uploaded.
    WouldUpload,
}

/// Whether the index has listed an uploaded (or already present) file with the sha256 that
/// was sent. An index that has not listed it yet may lag; one that lists other bytes is a
/// [`FileStatus::Mismatch`], not a confirmation state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Confirmation {
    Unconfirmed,
    Confirmed,
}

impl FileStatus {
    /// On the index with this build's bytes, by the index's answer (an upload it accepted, a
    /// listing with the same sha256).
    pub fn on_index(self) -> bool {
        matches!(self, FileStatus::Uploaded(_) | FileStatus::AlreadyThere(_))
    }

    /// Listed by the index with the sha256 that was sent.
    pub fn confirmed(self) -> bool {
        matches!(
            self,
            FileStatus::Uploaded(Confirmation::Confirmed)
                | FileStatus::AlreadyThere(Confirmation::Confirmed)
        )
    }

    /// The same status, now that the index listed the file with the sha256 that was sent.
    pub fn confirm(self) -> FileStatus {
        match self {
            FileStatus::Uploaded(_) => FileStatus::Uploaded(Confirmation::Confirmed),
            FileStatus::AlreadyThere(_) => FileStatus::AlreadyThere(Confirmation::Confirmed),
            other => other,
        }
    }

    /// The name in `published` and `--report` (`status`).
    pub fn name(self) -> &'static str {
        match self {
            FileStatus::Uploaded(_) => "uploaded",
            FileStatus::AlreadyThere(_) => "already-there",
            FileStatus::Mismatch => "mismatch",
            FileStatus::Failed => "failed",
            FileStatus::NotUploaded => "not-uploaded",
            FileStatus::WouldUpload => "would-upload",
        }
    }

    /// The words of the job summary's table.
    pub fn label(self) -> &'static str {
        match self {
            FileStatus::Uploaded(_) => "uploaded",
            FileStatus::AlreadyThere(_) => "already there",
            FileStatus::Mismatch => "MISMATCH",
            FileStatus::Failed => "FAILED",
            FileStatus::NotUploaded => "not uploaded",
            FileStatus::WouldUpload => "would upload (dry run)",
        }
    }
}

impl Serialize for FileStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub filename: String,
    pub status: FileStatus,
    /// The file's URL as the index lists it; unknown until confirmed (`""` in the JSON).
    #[serde(serialize_with = "empty_if_none")]
    pub url: Option<String>,
    /// Unknown for a file that was never hashed (`""` in the JSON).
    #[serde(serialize_with = "empty_if_none")]
    pub sha256: Option<String>,
    #[serde(serialize_with = "empty_if_none")]
    pub blake2_256: Option<String>,
    pub size: u64,
    pub packagetype: String,
    pub python_version: String,
    /// When the index says the file was uploaded (ISO 8601, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where this run wrote the file's PEP 740 attestation. The attestation itself (about
    /// 8 KB) stays out of the outputs: a job's outputs are limited to 1 MB in all, and a
    /// following step receives an input as one environment string, limited to 128 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation_file: Option<String>,
    /// The provenance the index serves for the file, read back after the upload and
    /// verified; `None` when it was not read back (no attestation, or an index without
    /// Warehouse's integrity API).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<ProvenanceCheck>,
}

/// What reading a signed file's provenance back from the index found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProvenanceCheck {
    /// Every attestation verified, signed by this run's identity.
    Verified,
    /// Missing, not verifying, or signed by another identity (the file's `error` says which).
    Invalid,
}

/// A publish: one [`ReleaseReport`] per release (project, version) it handled.
#[derive(Clone, Debug)]
pub struct Report {
    pub repository_url: String,
    /// Sorted by project name, as the distributions were checked.
    pub releases: Vec<ReleaseReport>,
    /// The workflow run whose artifacts were published, if any.
    pub source: Option<RunSource>,
}

/// One release of a publish and its files.
#[derive(Clone, Debug)]
pub struct ReleaseReport {
    pub name: String,
    pub version: String,
    /// The index's page of the release; empty when it has none.
    pub release_url: String,
    pub files: Vec<FileReport>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSource {
    pub run_id: u64,
    pub run_url: Option<String>,
    pub event: String,
    pub head_sha: String,
    pub head_branch: Option<String>,
    /// The ref the run built, as `build-refs` checked it (`refs/tags/v1.0`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_ref: Option<String>,
    pub artifacts: Vec<String>,
}

/// An entry of the `published` output: the file, and the release it belongs to (a publish
/// may hold several).
#[derive(Serialize)]
struct PublishedEntry<'a> {
    name: &'a str,
    version: &'a str,
    #[serde(flatten)]
    file: &'a FileReport,
    /// Whether the index listed the file with the sha256 that was sent (never for a
    /// `mismatch`).
    confirmed: bool,
}

/// An entry of the `releases` output.
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ReleaseEntry<'a> {
    name: &'a str,
    version: &'a str,
    release_url: &'a str,
    complete: bool,
}

impl ReleaseReport {
    /// Every file of the release is on the index.
    pub fn complete(&self) -> bool {
        !self.files.is_empty()
            && self
                .files
                .iter()
                .all(|f| f.status.on_index() && f.provenance != Some(ProvenanceCheck::Invalid))
    }
}

impl Report {
    /// Every file of every release is on the index.
    pub fn complete(&self) -> bool {
        !self.releases.is_empty() && self.releases.iter().all(ReleaseReport::complete)
    }

    /// The release, when the publish handled exactly one: the `name`, `version` and
    /// `release-url` outputs are its own, and empty otherwise.
    pub fn single(&self) -> Option<&ReleaseReport> {
        match self.releases.as_slice() {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Every file of every release.
    pub fn files(&self) -> impl Iterator<Item = &FileReport> {
        self.releases.iter().flat_map(|r| r.files.iter())
    }

    pub fn urls(&self) -> Vec<&str> {
        self.files()
            .filter(|f| f.status.on_index())
            .filter_map(|f| f.url.as_deref())
            .collect()
    }

    fn published_entries(&self) -> Vec<PublishedEntry<'_>> {
        self.releases
            .iter()
            .flat_map(|r| {
                r.files.iter().map(|file| PublishedEntry {
                    name: &r.name,
                    version: &r.version,
                    file,
                    confirmed: file.status.confirmed(),
                })
            })
            .collect()
    }

    /// The `published` output: one object per file, with its release's name and version.
    pub fn published_json(&self) -> anyhow::Result<String> {
        serde_json::to_string(&self.published_entries()).context("serialising the report")
    }

    /// The `--report` file: the `published` JSON, pretty-printed.
    pub fn published_json_pretty(&self) -> anyhow::Result<String> {
        serde_json::to_string_pretty(&self.published_entries()).context("serialising the report")
    }

    /// The `releases` output: one `{name, version, release-url, complete}` per release.
    pub fn releases_json(&self) -> anyhow::Result<String> {
        let entries: Vec<_> = self
            .releases
            .iter()
            .map(|r| ReleaseEntry {
                name: &r.name,
                version: &r.version,
                release_url: &r.release_url,
                complete: r.complete(),
            })
            .collect();
        serde_json::to_string(&entries).context("serialising the releases")
    }
}

/// The `published` JSON keeps its documented shape: an unknown value is an empty string.
fn empty_if_none<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or_default())
}

/// Something the user should know that is not a failure. The machinery finds it; the
/// command layer tells it (an annotation in Actions, a line elsewhere).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub severity: Severity,
    pub title: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Warning,
    Notice,
}

impl Notice {
    pub fn warning(title: impl Into<String>, message: impl Into<String>) -> Notice {
        Notice {
            severity: Severity::Warning,
            title: title.into(),
            message: message.into(),
        }
    }

    pub fn info(title: impl Into<String>, message: impl Into<String>) -> Notice {
        Notice {
            severity: Severity::Notice,
            title: title.into(),
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn release(name: &str, status: FileStatus) -> ReleaseReport {
        ReleaseReport {
            name: name.to_owned(),
            version: "1.0".to_owned(),
            release_url: format!("https://index.example/project/{name}/1.0/"),
            files: vec![FileReport {
                filename: format!("{name}-1.0.tar.gz"),
                status,
                url: None,
                sha256: None,
                blake2_256: None,
                size: 1,
                packagetype: "sdist".to_owned(),
                python_version: "source".to_owned(),
                upload_time: None,
                error: None,
                attestation_file: None,
                provenance: None,
            }],
        }
    }

    #[test]
    fn each_file_names_its_release_and_each_release_its_completeness() {
        let report = Report {
            repository_url: String::new(),
            releases: vec![
                release("core", FileStatus::Uploaded(Confirmation::Confirmed)),
                release("plugin", FileStatus::Failed),
            ],
            source: None,
        };
        assert!(!report.complete());
        assert!(report.single().is_none());
        let published: serde_json::Value =
            serde_json::from_str(&report.published_json().unwrap()).unwrap();
        assert_eq!(published[1]["name"], "plugin");
        assert_eq!(published[1]["version"], "1.0");
        assert_eq!(published[1]["filename"], "plugin-1.0.tar.gz");
        let releases: serde_json::Value =
            serde_json::from_str(&report.releases_json().unwrap()).unwrap();
        assert_eq!(
            releases,
            serde_json::json!([
                {"name": "core", "version": "1.0",
                 "release-url": "https://index.example/project/core/1.0/", "complete": true},
                {"name": "plugin", "version": "1.0",
                 "release-url": "https://index.example/project/plugin/1.0/", "complete": false},
            ])
        );
    }

    #[test]
    fn a_mismatch_is_neither_on_the_index_nor_confirmed_nor_a_url() {
        let mut release = release("core", FileStatus::Mismatch);
        release.files[0].url = Some("https://files.example/core-1.0.tar.gz".to_owned());
        let report = Report {
            repository_url: String::new(),
            releases: vec![release],
            source: None,
        };
        assert!(!report.complete());
        assert!(report.urls().is_empty());
        let published: serde_json::Value =
            serde_json::from_str(&report.published_json().unwrap()).unwrap();
        assert_eq!(published[0]["status"], "mismatch");
        assert_eq!(published[0]["confirmed"], false);
        let confirmed = FileStatus::Uploaded(Confirmation::Confirmed);
        assert!(confirmed.confirmed() && confirmed.on_index());
        assert_eq!(FileStatus::Mismatch.confirm(), FileStatus::Mismatch);
    }
}
