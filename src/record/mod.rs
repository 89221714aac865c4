//! Recording published URLs into the release fixtures. Party: none: it reads the publish
//! step's `published` output ([`published`]) and rewrites local fixture files.
//!
//! After the publish job, the target project's `packagerelease` fixture for the release gets
//! its `pypi_url`, `release_on` (and `github_url` when given). The file is rewritten exactly
//! as the project's own tooling writes it (`json.dumps(records, indent=2) + "\n"`), so the
//! diff is only the changed fields.

mod diff;
mod fields;
mod fixtures;
pub mod published;
pub mod pyjson;
mod timestamp;

use std::fmt;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde_json::Value;

use fields::Published;
use fixtures::{FixtureFile, RecordRef};
use published::Release;
use timestamp::UtcTime;

/// What `pypi-oidc-publish record` is asked to do. Options given as empty strings count as
/// not given, since that is how an unset action input arrives (`INPUT_NAME=`).
#[derive(Debug, Clone, Default)]
pub struct RecordArgs {
    /// `--published` / `INPUT_PUBLISHED`: the publish step's `published` output, either the
    /// JSON array itself (a value starting with `[`) or the path of a file holding it.
    pub published: String,
    /// `--fixtures` / `INPUT_FIXTURES`: the folder holding `releases__packagerelease_*.json`.
    pub fixtures: PathBuf,
    /// `--release-url` / `INPUT_RELEASE-URL`: the release page; default
    /// `https://pypi.org/project/{name}/{version}/` when the published files are on PyPI
    /// (see [`published::default_release_page`]), else empty.
    pub release_url: Option<String>,
    /// `--name` / `INPUT_NAME`: default from the first published filename.
    pub name: Option<String>,
    /// `--version` / `INPUT_VERSION`: default from the first published filename.
    pub version: Option<String>,
    /// `--github-url` / `INPUT_GITHUB-URL`: written to `github_url` when given.
    pub github_url: Option<String>,
    /// `--release-on` / `INPUT_RELEASE-ON`: overrides the first upload time (ISO 8601).
    pub release_on: Option<String>,
    /// `--revision` / `INPUT_REVISION`: the commit written into a record made by `--create`.
    pub revision: Option<String>,
    /// `--create` / `INPUT_CREATE`: add the record when the folder has none for the release.
    pub create: bool,
    /// `--dry-run` / `INPUT_DRY-RUN`: report the diff, write nothing.
    pub dry_run: bool,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordOutcome {
    /// A record was updated or created (or would have been, under `--dry-run`).
    Changed(RecordChange),
    /// The record already holds these values; no file was written.
    Unchanged {
        file: PathBuf,
        package: String,
        version: String,
    },
}

/// A change to one fixture file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordChange {
    pub file: PathBuf,
    pub package: String,
    pub version: String,
    /// The record was added by `--create` rather than updated.
    pub created: bool,
    /// The fields set: the changed ones of an updated record, all of a created one.
    pub fields: Vec<String>,
    /// Unified diff of the file.
    pub diff: String,
    /// False under `--dry-run`: nothing was written.
    pub written: bool,
}

impl RecordOutcome {
    /// The fixture file concerned.
    pub fn file(&self) -> &Path {
        match self {
            RecordOutcome::Changed(change) => &change.file,
            RecordOutcome::Unchanged { file, .. } => file,
        }
    }
}

impl fmt::Display for RecordOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecordOutcome::Unchanged {
                file,
                package,
                version,
            } => write!(
                f,
                "{} already records {package} {version} as published; nothing changed",
                file.display()
            ),
            RecordOutcome::Changed(change) => {
                let verb = match (change.written, change.created) {
                    (true, true) => "Created",
                    (true, false) => "Updated",
                    (false, true) => "Dry run, nothing written: would create",
                    (false, false) => "Dry run, nothing written: would update",
                };
                writeln!(
                    f,
                    "{verb} the {} {} record in {} ({})",
                    change.package,
                    change.version,
                    change.file.display(),
                    change.fields.join(", ")
                )?;
                f.write_str(&change.diff)
            }
        }
    }
}

/// Records the published release in the fixtures folder.
pub fn run(args: &RecordArgs) -> Result<RecordOutcome> {
    let files = published::of_release(
        published::load(&args.published)?,
        given(&args.name).as_deref(),
    )?;
    let release = published::release(
        &files,
        given(&args.name).as_deref(),
        given(&args.version).as_deref(),
    )?;
    let explicit_time = given(&args.release_on)
        .map(|text| UtcTime::parse(&text).context("--release-on"))
        .transpose()?;
    let release_time = match explicit_time {
        Some(time) => Some(time),
        None => published::first_upload(&files)?,
    };
    published::all_on_index(&files)?;
    let pypi_url = given(&args.release_url)
        .or_else(|| published::default_release_page(&files, &release))
        .unwrap_or_else(|| {
            crate::reporting::tell(&crate::report::Notice::info(
                "No release page",
                format!(
                    "{} {}: the publish step's `release-url` is empty (the index has no release \
                     page) and the files are not on PyPI, so no PyPI page is guessed: \
                     `pypi_url` is recorded empty",
                    crate::inert::shown(&release.name),
                    crate::inert::shown(&release.version)
                ),
            ));
            String::new()
        });
    let github_url = given(&args.github_url);

    let mut folder = fixtures::load_folder(&args.fixtures)?;
    let found = fixtures::find(&folder, &release);
    let plan = match found.as_slice() {
        [at] => update(
            &mut folder,
            *at,
            &release,
            pypi_url,
            release_time,
            github_url,
        )?,
        [] if args.create => {
            let published = Published {
                pypi_url,
                release_on: Some(required_time(release_time, &release)?),
                github_url: Some(github_url.unwrap_or_default()),
            };
            create(&folder, &args.fixtures, &release, &published, args)?
        }
        [] => return Err(missing_record(&args.fixtures, folder.len(), &release)),
        many => return Err(duplicate_records(&args.fixtures, &folder, many, &release)),
    };
    finish(plan, &release, args.dry_run)
}

/// What a run decided to do with the fixtures.
enum Step {
    Unchanged(PathBuf),
    Rewrite(Plan),
}

/// A rewrite of one file, decided but not yet made.
struct Plan {
    path: PathBuf,
    old_text: Option<String>,
    new_text: String,
    created: bool,
    fields: Vec<String>,
}

fn update(
    folder: &mut [FixtureFile],
    at: RecordRef,
    release: &Release,
    pypi_url: String,
    release_time: Option<UtcTime>,
    github_url: Option<String>,
) -> Result<Step> {
    let file = &mut folder[at.file];
    let as_python_writes_it = fixtures::render(&file.data) == file.text;
    let Some(record_fields) = file
        .data
        .get_mut(at.record)
        .and_then(|record| record.get_mut("fields"))
        .and_then(Value::as_object_mut)
    else {
        bail!(
            "{}: the record vanished while being updated",
            file.path.display()
        );
    };
    let release_on = match release_time {
        Some(time) => Some(time.to_django()),
        None if is_set(record_fields.get("release_on")) => None,
        None => Some(required_time(None, release)?),
    };
    let published = Published {
        pypi_url,
        release_on,
        github_url,
    };
    let changed = fields::apply(record_fields, &published)
        .with_context(|| format!("{} (record {})", file.path.display(), at.record + 1))?;
    if changed.is_empty() {
        return Ok(Step::Unchanged(file.path.clone()));
    }
    if !as_python_writes_it {
        tracing::warn!(
            file = %file.path.display(),
            "the file is not laid out as json.dumps(indent=2) writes it; rewriting it also normalises its layout"
        );
    }
    Ok(Step::Rewrite(Plan {
        path: file.path.clone(),
        old_text: Some(file.text.clone()),
        new_text: fixtures::render(&file.data),
        created: false,
        fields: changed,
    }))
}

/// The new record goes into the file the project's tooling would name for the release,
/// after any records already there. Its shape is copied from the newest release of the same
/// package (the current schema), or of any package when this is the first one.
fn create(
    folder: &[FixtureFile],
    dir: &Path,
    release: &Release,
    published: &Published,
    args: &RecordArgs,
) -> Result<Step> {
    let neighbour = newest_neighbour(folder, release).with_context(|| {
        format!(
            "cannot --create the {} {} record: {} holds no packagerelease record to copy the shape from; add the first one by hand",
            release.name,
            release.version,
            dir.display()
        )
    })?;
    let mut record = fields::new_record(neighbour, release, given(&args.revision).as_deref())?;
    let Some(record_fields) = record.get_mut("fields").and_then(Value::as_object_mut) else {
        bail!("the new record has no fields");
    };
    fields::apply(record_fields, published)?;
    let field_names = record_fields.keys().cloned().collect();

    let path = dir.join(fixtures::file_name_for(&release.version));
    let existing = folder.iter().find(|file| file.path == path);
    let (old_text, data) = match existing {
        Some(file) => {
            let Some(records) = file.data.as_array() else {
                bail!(
                    "{} exists but is not a JSON list of records; cannot add the {} {} record to it",
                    path.display(),
                    release.name,
                    release.version
                );
            };
            let mut records = records.clone();
            records.push(record);
            (Some(file.text.clone()), Value::Array(records))
        }
        None => (None, Value::Array(vec![record])),
    };
    Ok(Step::Rewrite(Plan {
        path,
        old_text,
        new_text: fixtures::render(&data),
        created: true,
        fields: field_names,
    }))
}

fn newest_neighbour<'a>(folder: &'a [FixtureFile], release: &Release) -> Option<&'a Value> {
    let rank = |fields: &serde_json::Map<String, Value>| {
        let version =
            fixtures::version_of(fields).and_then(|v| v.parse::<pep440_rs::Version>().ok());
        (fixtures::is_package(fields, release), version)
    };
    let (at, _) =
        fixtures::release_records(folder).max_by(|(_, a), (_, b)| rank(a).cmp(&rank(b)))?;
    folder[at.file].data.get(at.record)
}

fn finish(step: Step, release: &Release, dry_run: bool) -> Result<RecordOutcome> {
    let plan = match step {
        Step::Unchanged(file) => {
            tracing::info!(file = %file.display(), "the release is already recorded");
            return Ok(RecordOutcome::Unchanged {
                file,
                package: release.name.clone(),
                version: release.version.clone(),
            });
        }
        Step::Rewrite(plan) => plan,
    };
    let shown = plan.path.display().to_string();
    let (old_label, old_text) = match &plan.old_text {
        Some(text) => (format!("a/{shown}"), text.as_str()),
        None => ("/dev/null".to_owned(), ""),
    };
    let diff = diff::unified(old_text, &plan.new_text, &old_label, &format!("b/{shown}"));
    if !dry_run {
        fixtures::write_atomically(&plan.path, &plan.new_text)?;
        tracing::info!(file = %shown, fields = ?plan.fields, "recorded the release");
    }
    Ok(RecordOutcome::Changed(RecordChange {
        file: plan.path,
        package: release.name.clone(),
        version: release.version.clone(),
        created: plan.created,
        fields: plan.fields,
        diff,
        written: !dry_run,
    }))
}

fn missing_record(dir: &Path, files_read: usize, release: &Release) -> anyhow::Error {
    anyhow::anyhow!(
        "no packagerelease record for {} {} in the fixtures folder {} ({files_read} JSON files read); \
         it is normally in {}. Check --fixtures, --name and --version, or pass --create to add \
         one shaped like the other releases",
        release.name,
        release.version,
        dir.display(),
        fixtures::file_name_for(&release.version)
    )
}

fn duplicate_records(
    dir: &Path,
    folder: &[FixtureFile],
    found: &[RecordRef],
    release: &Release,
) -> anyhow::Error {
    let places: Vec<String> = found
        .iter()
        .map(|at| {
            let path = folder[at.file].path.display();
            format!("{path} (record {})", at.record + 1)
        })
        .collect();
    anyhow::anyhow!(
        "{} {} has {} packagerelease records in {}: {}; keep only one",
        release.name,
        release.version,
        found.len(),
        dir.display(),
        places.join(", ")
    )
}

/// An option's value, or `None` when it is unset or blank.
fn given(option: &Option<String>) -> Option<String> {
    option
        .as_deref()
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

fn is_set(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    }
}

/// The `release_on` to write when the record has none yet.
fn required_time(time: Option<UtcTime>, release: &Release) -> Result<String> {
    match time {
        Some(time) => Ok(time.to_django()),
        None => bail!(
            "no upload time for {} {}: no file in --published has an upload_time (they were all already on the index) and the record has no release_on yet; pass --release-on with the time of the release's first upload, e.g. 2025-11-13T04:11:50.064Z",
            release.name,
            release.version
        ),
    }
}
