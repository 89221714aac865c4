//! `POST /legacy/`: Warehouse's `file_upload` view (`warehouse/forklift/legacy.py`), its
//! checks in its order, and the neighbouring legacy actions.
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};

use super::auth::{self, Presented, Target};
use super::form::{self, Content, ContentMode, UploadForm};
use super::metadata::{self, Meta};
use super::names::{canonicalize_name, canonicalize_version, py_repr};
use super::pyramid::HttpException;
use super::state::{Credential, FileEntry, Release};
use super::upload_form::{self, ValidForm};
use super::{distfile, Arrival, Shared, UploadRecord};
use crate::faults::route;

const ONE_MIB: u64 = 1024 * 1024;
const ONE_GIB: u64 = 1024 * 1024 * 1024;
const MAX_PROJECT_SIZE: u64 = 10 * ONE_GIB;

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

/// `:action` from the query string (Pyramid's `request.params` includes it).
fn query_action(query: Option<&str>) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        let k = k.replace("%3A", ":").replace("%3a", ":");
        (k == ":action").then(|| v.to_owned())
    })
}

fn record(
    shared: &Shared,
    arrival: &Arrival,
    form: &UploadForm,
    status: u16,
    message: String,
    authorization: Option<String>,
) {
    shared.record_upload(UploadRecord {
        filename: form.filename(),
        status,
        message,
        fields: form.fields.clone(),
        content_at: form.content_at,
        stored: false,
        authorization,
        started: arrival.started,
        ended: Instant::now(),
        in_flight: arrival.in_flight,
        version: arrival.version,
    });
}

const UPLOAD_PAGE: &str = "<!DOCTYPE html>\n<html lang=\"en\">\n  <head><title>Warehouse \
    upload API</title></head>\n  <body>\n    <p>This URL is an API endpoint for uploading files to \
    the index. Use an upload tool such as twine.</p>\n  </body>\n</html>\n";

/// `GET /legacy/` (and a POST without a known `:action`): Warehouse serves its HTML page
/// about the upload API with 200.
pub(crate) async fn upload_page() -> Response {
    (StatusCode::OK, Html(UPLOAD_PAGE)).into_response()
}

/// `POST /legacy`: Warehouse answers 308 to the URL with the trailing slash.
pub(crate) async fn missing_trailing_slash(
    State(shared): State<Arc<Shared>>,
    req: Request,
) -> Response {
    let arrival = shared.upload_arrives(req.version());
    let authorization = header_string(req.headers(), header::AUTHORIZATION);
    let accept = header_string(req.headers(), header::ACCEPT);
    let form = form::read(req, &ContentMode::Discard)
        .await
        .unwrap_or_default();
    let exc = HttpException::redirect(
        308,
        "An upload was attempted to /legacy but the expected upload URL is /legacy/ (with a \
         trailing slash)",
        "/legacy/".to_owned(),
    );
    record(
        &shared,
        &arrival,
        &form,
        exc.status,
        exc.reason(),
        authorization,
    );
    exc.render(accept.as_deref(), &shared.base_url)
}

pub(crate) async fn legacy(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let arrival = shared.upload_arrives(req.version());
    let authorization = header_string(req.headers(), header::AUTHORIZATION);
    let accept = header_string(req.headers(), header::ACCEPT);
    let action_in_query = query_action(req.uri().query());
    if let Some(resp) = shared.faults.intercept(route::UPLOAD).await {
        // Read the body so the client gets the injected answer rather than a reset.
        let form = form::read(req, &ContentMode::Discard)
            .await
            .unwrap_or_default();
        record(
            &shared,
            &arrival,
            &form,
            resp.status().as_u16(),
            "injected fault".to_owned(),
            authorization,
        );
        return resp;
    }
    let mode = if shared.config.sink {
        ContentMode::Discard
    } else {
        ContentMode::Store {
            dir: shared.storage.join("tmp"),
            limit: shared.config.max_file_size,
        }
    };
    let form = match form::read(req, &mode).await {
        Ok(form) => form,
        Err(err) => {
            let exc = HttpException::with_message(400, err);
            record(
                &shared,
                &arrival,
                &UploadForm::default(),
                exc.status,
                exc.reason(),
                authorization,
            );
            return exc.render(accept.as_deref(), &shared.base_url);
        }
    };
    let far = &shared.config.far;
    if let Some(content) = form.content.as_ref() {
        let work = far.upload_work(content.size);
        if !work.is_zero() {
            tokio::time::sleep(work).await;
        }
    }
    if shared.config.sink {
        let ok = HttpException::plain(200);
        record(&shared, &arrival, &form, 200, ok.reason(), authorization);
        return ok.render(accept.as_deref(), &shared.base_url);
    }
    let action = action_in_query.or_else(|| {
        form.fields
            .iter()
            .rev()
            .find(|(k, _)| k == ":action")
            .map(|(_, v)| v.clone())
    });
    let fields = form.fields.clone();
    let filename = form.filename();
    let content_at = form.content_at;
    let mut stored = false;
    let outcome = match action.as_deref() {
        Some("file_upload") => {
            file_upload(&shared, form, authorization.as_deref(), &mut stored).await
        }
        Some("submit") | Some("submit_pkg_info") => Err(HttpException::with_message(
            410,
            "Project pre-registration is no longer required or supported, upload your files \
             instead.",
        )),
        Some("doc_upload") => Err(HttpException::with_message(
            410,
            "Uploading documentation is no longer supported, we recommend using \
             https://readthedocs.org/.",
        )),
        _ => {
            shared.record_upload(UploadRecord {
                filename,
                status: 200,
                message: "OK".to_owned(),
                fields,
                content_at,
                stored: false,
                authorization,
                started: arrival.started,
                ended: Instant::now(),
                in_flight: arrival.in_flight,
                version: arrival.version,
            });
            return upload_page().await;
        }
    };
    let exc = outcome.unwrap_or_else(|e| e);
    if exc.status >= 400 {
        tracing::info!(status = exc.status, message = %exc.message, "upload refused");
    }
    shared.record_upload(UploadRecord {
        filename,
        status: exc.status,
        message: exc.reason(),
        fields,
        content_at,
        stored,
        authorization,
        started: arrival.started,
        ended: Instant::now(),
        in_flight: arrival.in_flight,
        version: arrival.version,
    });
    exc.render(accept.as_deref(), &shared.base_url)
}

fn bad(message: impl Into<String>) -> HttpException {
    HttpException::with_message(400, message)
}

/// The form as `request.POST` is after Warehouse's clean-up: keys whose (last) value is
/// `UNKNOWN` removed, NUL characters escaped.
fn clean_fields(mut fields: Vec<(String, String)>) -> Vec<(String, String)> {
    let mut keys: Vec<String> = Vec::new();
    for (k, _) in &fields {
        if !keys.contains(k) {
            keys.push(k.clone());
        }
    }
    for key in keys {
        let Some(last) = fields
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.clone())
        else {
            continue;
        };
        if last.trim() == "UNKNOWN" {
            fields.retain(|(k, _)| *k != key);
        } else if last.contains('\0') {
            let pos = fields.iter().position(|(k, _)| *k == key).unwrap_or(0);
            fields.retain(|(k, _)| *k != key);
            fields.insert(pos, (key, last.replace('\0', "\\x00")));
        }
    }
    fields
}

fn last<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `_validate_filename`.
fn validate_filename(filename: &str, filetype: &str) -> Result<(), HttpException> {
    if filename.chars().any(|c| (c as u32) < 32 || c as u32 == 127) {
        return Err(bad(
            "Cannot upload a file with non-printable characters (ordinals 0-31) or the DEL \
             character (ordinal 127) in the name.",
        ));
    }
    if filename.contains('/') || filename.contains('\\') {
        return Err(bad("Cannot upload a file with '/' or '\\' in the name."));
    }
    let lower = filename.to_ascii_lowercase();
    let extension = [".tar.gz", ".zip", ".whl"]
        .iter()
        .find(|ext| lower.len() > ext.len() && lower.ends_with(*ext))
        .map(|ext| &filename[filename.len() - ext.len()..]);
    match extension {
        Some(ext) => {
            let allowed: &[&str] = if filetype == "sdist" {
                &[".zip", ".tar.gz"]
            } else {
                &[".whl"]
            };
            if !allowed.contains(&ext) {
                return Err(bad(format!(
                    "Invalid file extension: Extension {ext} is invalid for filetype {filetype}. \
                     See https://www.python.org/dev/peps/pep-0527 for more information."
                )));
            }
            Ok(())
        }
        None => Err(bad(
            "Invalid file extension: Use .tar.gz, .whl or .zip extension. See \
             https://www.python.org/dev/peps/pep-0527 and https://peps.python.org/pep-0715/ for \
             more information",
        )),
    }
}

/// What is decided before the archive is opened.
struct Plan {
    project_id: Option<u64>,
    /// Display name after this upload (`project.name = meta.name`).
    project_name: String,
    project_normalized: String,
    release_exists: bool,
}

enum Duplicate {
    None,
    Identical,
    Conflict,
}

fn duplicate(shared: &Shared, filename: &str, content: &Content) -> Duplicate {
    let index = shared.index.lock();
    match index.find_file(filename, &content.blake2_256) {
        None => Duplicate::None,
        Some(f)
            if f.filename == filename
                && f.sha256 == content.sha256
                && f.blake2_256 == content.blake2_256 =>
        {
            Duplicate::Identical
        }
        Some(_) => Duplicate::Conflict,
    }
}

fn file_exists(shared: &Shared, filename: &str, blake2_256: &str) -> HttpException {
    bad(format!(
        "File already exists ({}, with blake2_256 hash {}). See {} for more information.",
        py_repr(filename),
        py_repr(blake2_256),
        shared.help_url("file-name-reuse")
    ))
}

/// PyPI's release window (since July 2026): no new file for a release created more than 14
/// days ago; an identical re-upload still answers 200 (checked before this).
const RELEASE_WINDOW: Duration = Duration::from_secs(14 * 86_400);
const RELEASE_CLOSED: &str = "Uploading new files to releases older than 14 days is not allowed";

fn release_closed(shared: &Shared, normalized: &str, canonical: &str) -> bool {
    let index = shared.index.lock();
    index
        .project(normalized)
        .and_then(|p| p.release_by_canonical(canonical))
        .is_some_and(|r| {
            SystemTime::now()
                .duration_since(r.created)
                .is_ok_and(|age| age > RELEASE_WINDOW)
        })
}

fn sdist_exists(shared: &Shared, normalized: &str, canonical: &str) -> bool {
    let index = shared.index.lock();
    index
        .project(normalized)
        .and_then(|p| p.release_by_canonical(canonical))
        .is_some_and(|r| r.files.iter().any(|f| f.packagetype == "sdist"))
}

/// Checks the identity, the form, the metadata and permissions (everything before the
/// bytes are looked at), as `file_upload` does.
fn check_request(
    shared: &Shared,
    credential: &Credential,
    valid: &ValidForm,
    meta: &Meta,
) -> Result<Plan, HttpException> {
    let index = shared.index.lock();
    let (project_id, current_name, normalized) = match index.project(&valid.name) {
        Some(p) => (Some(p.id), p.name.clone(), p.normalized.clone()),
        None => {
            if !matches!(credential, Credential::User { .. }) {
                return Err(bad(
                    "Non-user identities cannot create new projects. This was probably caused by \
                     successfully using a pending publisher but specifying the project name \
                     incorrectly (either in the publisher or in your project's metadata). Please \
                     ensure that both match. See: \
                     https://docs.pypi.org/trusted-publishers/troubleshooting/",
                ));
            }
            (None, valid.name.clone(), canonicalize_name(&valid.name))
        }
    };
    auth::check_caveats(
        &index,
        credential,
        &Target {
            id: project_id,
            name: &current_name,
            normalized: &normalized,
        },
    )
    .map_err(|msg| HttpException::with_message(403, msg))?;
    let canonical = canonicalize_version(&meta.version);
    let release_exists = index
        .project(&normalized)
        .is_some_and(|p| p.release_by_canonical(&canonical).is_some());
    Ok(Plan {
        project_id,
        project_name: meta.name.clone(),
        project_normalized: normalized,
        release_exists,
    })
}

/// `stored` turns true only when this request added the file to the index (not when the
/// index already had the identical file).
async fn file_upload(
    shared: &Arc<Shared>,
    form: UploadForm,
    authorization: Option<&str>,
    stored: &mut bool,
) -> Result<HttpException, HttpException> {
    // Identity first: Warehouse bails out before looking at the form.
    let credential = match auth::parse_authorization(authorization) {
        Presented::Password => {
            return Err(HttpException::status_only(
                403,
                format!(
                    "Username/Password authentication is no longer supported. Migrate to API \
                     Tokens or Trusted Publishers instead. See {} and {}",
                    shared.help_url("apitoken"),
                    shared.help_url("trusted-publishers")
                ),
            ))
        }
        Presented::Token(token) => shared.index.lock().tokens.get(&token).cloned(),
        Presented::Nothing => None,
    };
    let Some(credential) = credential else {
        return Err(HttpException::with_message(
            403,
            format!(
                "Invalid or non-existent authentication information. See {} for more information.",
                shared.help_url("invalid-auth")
            ),
        ));
    };

    let UploadForm {
        fields,
        file_fields,
        content,
        ..
    } = form;
    let fields = clean_fields(fields);
    if last(&fields, "protocol_version").unwrap_or("1") != "1" {
        return Err(bad("Unknown protocol version."));
    }
    if let Some(field) = file_fields.iter().find(|f| *f != "gpg_signature") {
        return Err(bad(format!("{field}: Should not be a tuple.")));
    }
    let valid = upload_form::validate(&fields).map_err(bad)?;
    let meta = metadata::parse(&fields).map_err(bad)?;
    let Some(content) = content else {
        return Err(bad("Upload payload does not have a file."));
    };
    let Some(filename) = content.filename.clone() else {
        return Err(bad("Upload payload does not have a file."));
    };

    let plan = check_request(shared, &credential, &valid, &meta)?;

    validate_filename(&filename, &valid.filetype)?;
    if content
        .content_type
        .as_deref()
        .is_some_and(|t| t.starts_with("image/"))
    {
        return Err(bad("Invalid distribution file."));
    }
    let limit = shared.config.max_file_size;
    if content.too_large {
        return Err(bad(format!(
            "File too large. Limit for project {} is {} MB. See \
             https://docs.pypi.org/project-management/storage-limits#requesting-a-file-size-limit-increase \
             for more information.",
            py_repr(&plan.project_name),
            limit / ONE_MIB
        )));
    }
    let project_total = shared
        .index
        .lock()
        .project(&plan.project_normalized)
        .map(|p| p.total_size())
        .unwrap_or(0);
    if content.size + project_total > MAX_PROJECT_SIZE {
        return Err(bad(format!(
            "Project size too large. Limit for project {} total size is {} GB. See \
             https://docs.pypi.org/project-management/storage-limits#requesting-a-project-size-limit-increase",
            py_repr(&plan.project_name),
            MAX_PROJECT_SIZE / ONE_GIB
        )));
    }
    let supplied = [
        (&valid.md5_digest, &content.md5),
        (&valid.sha256_digest, &content.sha256),
        (&valid.blake2_256_digest, &content.blake2_256),
    ];
    if supplied.iter().any(|(given, actual)| {
        given
            .as_ref()
            .is_some_and(|g| g.to_ascii_lowercase() != **actual)
    }) {
        return Err(bad(
            "The digest supplied does not match a digest calculated from the uploaded file.",
        ));
    }
    match duplicate(shared, &filename, &content) {
        Duplicate::Identical => return Ok(HttpException::plain(200)),
        Duplicate::Conflict => return Err(file_exists(shared, &filename, &content.blake2_256)),
        Duplicate::None => {}
    }
    let canonical = canonicalize_version(&meta.version);
    if release_closed(shared, &plan.project_normalized, &canonical) {
        return Err(bad(RELEASE_CLOSED));
    }
    if valid.filetype == "sdist" && sdist_exists(shared, &plan.project_normalized, &canonical) {
        return Err(bad("Only one sdist may be uploaded per release."));
    }

    let Some(temp) = content.temp.as_ref() else {
        return Err(bad("Invalid distribution file. None"));
    };
    let archive_path: PathBuf = temp.to_path_buf();
    let wheel_metadata = {
        let filename = filename.clone();
        let filetype = valid.filetype.clone();
        let project_name = plan.project_name.clone();
        let project_normalized = plan.project_normalized.clone();
        let meta_name = meta.name.clone();
        let meta_version = meta.version.clone();
        let license_files = meta.license_files.clone();
        tokio::task::spawn_blocking(move || {
            distfile::check(
                &archive_path,
                &distfile::Expectation {
                    filename: &filename,
                    filetype: &filetype,
                    project_name: &project_name,
                    project_normalized: &project_normalized,
                    meta_name: &meta_name,
                    meta_version: &meta_version,
                    license_files: &license_files,
                },
            )
        })
        .await
        .map_err(|e| HttpException::with_message(500, format!("archive check failed: {e}")))?
        .map_err(bad)?
    };

    let attestations = last(&fields, "attestations").map(str::to_owned);
    let provenance = match &attestations {
        Some(raw) => {
            super::attestations::check(shared, &credential, raw, &filename, &content.sha256)?
        }
        None => None,
    };

    let stored_name = filename.clone();
    let result = store(
        shared,
        plan,
        valid,
        meta,
        content,
        filename,
        wheel_metadata,
        attestations,
        stored,
    )
    .await;
    if let (Ok(_), Some(provenance)) = (&result, provenance) {
        super::attestations::remember(shared, &stored_name, provenance);
    }
    result
}

/// Removes a file stored for an upload that lost a race against an equal one.
fn discard(path: &std::path::Path) {
    if let Err(err) = std::fs::remove_file(path) {
        tracing::warn!(error = %err, path = %path.display(), "cannot remove a discarded upload");
    }
}

/// Moves the file into place and records project, release and file.
#[allow(clippy::too_many_arguments)]
async fn store(
    shared: &Arc<Shared>,
    plan: Plan,
    valid: ValidForm,
    meta: Meta,
    content: Content,
    filename: String,
    wheel_metadata: Option<Vec<u8>>,
    attestations: Option<String>,
    stored: &mut bool,
) -> Result<HttpException, HttpException> {
    let b2 = &content.blake2_256;
    let rel_path = format!("{}/{}/{}/{}", &b2[..2], &b2[2..4], &b2[4..], filename);
    let disk_path = shared.storage.join("packages").join(&rel_path);
    let Some(temp) = content.temp else {
        return Err(bad("Invalid distribution file. None"));
    };
    let metadata_sha256 = {
        let target = disk_path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<Option<String>> {
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent)?;
            }
            temp.persist(&target).map_err(|e| e.error)?;
            match wheel_metadata {
                Some(bytes) => {
                    use sha2::Digest;
                    let mut side = target.clone().into_os_string();
                    side.push(".metadata");
                    std::fs::write(PathBuf::from(side), &bytes)?;
                    Ok(Some(form::hex(&sha2::Sha256::digest(&bytes))))
                }
                None => Ok(None),
            }
        })
        .await
        .map_err(|e| HttpException::with_message(500, format!("storing the file failed: {e}")))?
        .map_err(|e| {
            tracing::error!(error = %e, path = %disk_path.display(), "cannot store an uploaded file");
            HttpException::with_message(500, format!("cannot store the file: {e}"))
        })?
    };

    let mut index = shared.index.lock();
    // Another upload may have committed the same file meanwhile.
    if let Some(f) = index.find_file(&filename, &content.blake2_256) {
        if f.filename == filename && f.sha256 == content.sha256 {
            return Ok(HttpException::plain(200));
        }
        discard(&disk_path);
        return Err(file_exists(shared, &filename, &content.blake2_256));
    }
    let canonical = canonicalize_version(&meta.version);
    if valid.filetype == "sdist"
        && index
            .project(&plan.project_normalized)
            .and_then(|p| p.release_by_canonical(&canonical))
            .is_some_and(|r| r.files.iter().any(|f| f.packagetype == "sdist"))
    {
        discard(&disk_path);
        return Err(bad("Only one sdist may be uploaded per release."));
    }
    let project_id = match plan.project_id {
        Some(id) => id,
        None => index.ensure_project(&meta.name),
    };
    index.uploads_done += 1;
    let upload_seq = index.uploads_done;
    let release_serial = if plan.release_exists {
        None
    } else {
        Some(index.next_serial())
    };
    let file_serial = index.next_serial();
    let Some(project) = index.projects.iter_mut().find(|p| p.id == project_id) else {
        return Err(HttpException::with_message(
            500,
            "the project vanished during the upload",
        ));
    };
    project.name = meta.name.clone();
    if project.release_by_canonical(&canonical).is_none() {
        project.releases.push(Release {
            version_str: meta.version.to_string(),
            version: meta.version.clone(),
            canonical_version: canonical.clone(),
            meta: meta.release,
            files: Vec::new(),
            serial_created: release_serial.unwrap_or(file_serial),
            upload_seq,
            created: SystemTime::now(),
        });
    }
    project.last_serial = file_serial;
    let Some(release) = project
        .releases
        .iter_mut()
        .find(|r| r.canonical_version == canonical)
    else {
        return Err(HttpException::with_message(
            500,
            "the release vanished during the upload",
        ));
    };
    release.files.push(FileEntry {
        filename,
        packagetype: valid.filetype,
        python_version: valid.pyversion,
        comment_text: valid.comment,
        size: content.size,
        md5: content.md5,
        sha256: content.sha256,
        blake2_256: content.blake2_256,
        path: rel_path,
        disk_path,
        upload_time: SystemTime::now(),
        metadata_sha256,
        attestations,
        serial: file_serial,
        upload_seq,
    });
    *stored = true;
    Ok(HttpException::plain(200))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_dropped() {
        let fields = vec![
            ("summary".to_owned(), "UNKNOWN".to_owned()),
            ("name".to_owned(), "pkg".to_owned()),
            ("license".to_owned(), "a\0b".to_owned()),
        ];
        let cleaned = clean_fields(fields);
        assert_eq!(
            cleaned,
            vec![
                ("name".to_owned(), "pkg".to_owned()),
                ("license".to_owned(), "a\\x00b".to_owned())
            ]
        );
    }

    #[test]
    fn filename_rules() {
        assert!(validate_filename("pkg-1.0.tar.gz", "sdist").is_ok());
        assert_eq!(
            validate_filename("pkg-1.0.whl", "sdist")
                .unwrap_err()
                .message,
            "Invalid file extension: Extension .whl is invalid for filetype sdist. See \
             https://www.python.org/dev/peps/pep-0527 for more information."
        );
        assert_eq!(
            validate_filename("pkg-1.0.egg", "bdist_wheel")
                .unwrap_err()
                .message,
            "Invalid file extension: Use .tar.gz, .whl or .zip extension. See \
             https://www.python.org/dev/peps/pep-0527 and https://peps.python.org/pep-0715/ for \
             more information"
        );
        assert_eq!(
            validate_filename("a/b.whl", "bdist_wheel")
                .unwrap_err()
                .message,
            "Cannot upload a file with '/' or '\\' in the name."
        );
    }

    #[test]
    fn action_from_query() {
        assert_eq!(
            query_action(Some("%3Aaction=file_upload")).as_deref(),
            Some("file_upload")
        );
        assert_eq!(query_action(Some("x=1")), None);
    }
}
