//! The download: list and pick the run's artifacts, fetch each zip (the GitHub token goes
//! to the API host only, never to where it redirects), verify its digest, and extract it.
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use reqwest::header::{ACCEPT, AUTHORIZATION, LOCATION};
use reqwest::StatusCode;
use sha2::{Digest, Sha256};
use url::Url;

use super::extract::{extract_within, Budget, MAX_ZIP_BYTES};
use super::rest::{fetch_run, github_error, list_artifacts, Api};
use super::trust::{check_build_ref, vet_run};
use super::{Artifact, Downloaded, Selection};
use crate::github::rest::Source;
use crate::http::{self, Failure, Http};

/// Read and vet the run, then list, pick, download, verify and extract its artifacts into
/// `dest` (which must not exist yet, or be empty).
pub async fn download(
    http: &Http,
    source: &Source,
    sel: &Selection,
    dest: &Path,
) -> anyhow::Result<Downloaded> {
    let api = Api::new(http, source)?;
    let run = fetch_run(http, source, sel.run_id).await?;
    let shown = crate::inert::shown;
    tracing::info!(
        "workflow run {} ({}): event {}, workflow {}, from {}, commit {}, conclusion {}",
        run.id,
        shown(run.name.as_deref().unwrap_or("unnamed")),
        shown(&run.event),
        shown(run.path.as_deref().unwrap_or("unknown")),
        shown(
            run.head_repository
                .as_ref()
                .map_or("an unknown repository", |r| r.full_name.as_str())
        ),
        shown(&run.head_sha),
        shown(run.conclusion.as_deref().unwrap_or("none"))
    );
    if run.conclusion.as_deref() != Some("success") {
        bail!(
            "refusing to publish from workflow run {}: it concluded `{}`, not `success` \
             (status `{}`); only a successful build may be published",
            run.id,
            shown(run.conclusion.as_deref().unwrap_or("none")),
            shown(run.status.as_deref().unwrap_or("unknown"))
        );
    }
    let notices = vet_run(&run, &source.repository, source.repository_id, sel)?
        .into_iter()
        .map(|c| crate::report::Notice::warning(c.title, c.message))
        .collect();
    let build_ref = if sel.build_refs.is_empty() {
        None
    } else {
        let checked = check_build_ref(http, source, &run, &sel.build_refs).await?;
        tracing::info!(
            "run {} built {}, which build-refs allows",
            run.id,
            crate::inert::shown(&checked)
        );
        Some(checked)
    };
    if let Some(expected) = &sel.expect_sha {
        if !run.head_sha.eq_ignore_ascii_case(expected.trim()) {
            bail!(
                "refusing to publish from workflow run {}: it built commit {}, not the expected {}",
                run.id,
                shown(&run.head_sha),
                expected.trim()
            );
        }
    }

    let all = list_artifacts(&api, sel.run_id).await?;
    let picked = pick(&all, &sel.patterns, sel.run_id)?;
    prepare_dest(dest)?;
    let mut files = Vec::new();
    let mut other_files = Vec::new();
    let mut by_name: HashMap<String, (PathBuf, String)> = HashMap::new();
    let mut budget = Budget::default();
    for artifact in &picked {
        let zip_path = dest.join(format!(".{}.zip", artifact.id));
        download_zip(&api, artifact, &zip_path).await?;
        let out_dir = dest.join(safe_dir_name(&artifact.name));
        let extracted = extract_within(&zip_path, &out_dir, &mut budget)
            .with_context(|| format!("artifact {:?} (id {})", artifact.name, artifact.id))?;
        let _ = std::fs::remove_file(&zip_path);
        for (path, sha) in extracted {
            let fname = path
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default();
            if !crate::distribution::is_distribution(&fname) {
                other_files.push(path);
                continue;
            }
            match by_name.get(&fname) {
                Some((_, prev)) if *prev == sha => continue, // the same file in two artifacts
                Some((prev_path, _)) => bail!(
                    "two different files named {fname} in the selected artifacts ({} and {}): \
                     select one artifact with --artifact-pattern",
                    prev_path.display(),
                    path.display()
                ),
                None => {
                    by_name.insert(fname, (path.clone(), sha));
                    files.push(path);
                }
            }
        }
    }
    files.sort();
    Ok(Downloaded {
        run,
        artifacts: picked,
        files,
        other_files,
        dir: dest.to_owned(),
        notices,
        build_ref,
    })
}

/// A folder name for an artifact: artifact names may hold characters a path should not.
fn safe_dir_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_start_matches('.') {
        "" => "artifact".to_owned(),
        t => t.to_owned(),
    }
}

fn prepare_dest(dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        let mut entries =
            std::fs::read_dir(dest).with_context(|| format!("cannot read {}", dest.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty: artifacts are extracted only into a new or empty folder",
                dest.display()
            );
        }
    } else {
        std::fs::create_dir_all(dest)
            .with_context(|| format!("cannot create {}", dest.display()))?;
    }
    Ok(())
}

fn pick(all: &[Artifact], patterns: &[String], run_id: u64) -> anyhow::Result<Vec<Artifact>> {
    let globs = patterns
        .iter()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            glob::Pattern::new(p.trim())
                .with_context(|| format!("--artifact-pattern {p:?} is not a valid glob"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let picked: Vec<Artifact> = all
        .iter()
        .filter(|a| globs.is_empty() || globs.iter().any(|g| g.matches(&a.name)))
        .cloned()
        .collect();
    let names = || {
        all.iter()
            .map(|a| a.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if all.is_empty() {
        bail!("workflow run {run_id} has no artifacts: the build must upload its dist/ folder with actions/upload-artifact");
    }
    if picked.is_empty() {
        bail!(
            "no artifact of run {run_id} matches {}; its artifacts are: {}",
            patterns.join(", "),
            names()
        );
    }
    let expired: Vec<_> = picked
        .iter()
        .filter(|a| a.expired)
        .map(|a| a.name.as_str())
        .collect();
    if !expired.is_empty() {
        bail!(
            "artifact{} {} of run {run_id} expired and can no longer be downloaded: re-run the \
             build workflow to produce fresh artifacts (or raise its retention-days)",
            if expired.len() == 1 { "" } else { "s" },
            expired.join(", ")
        );
    }
    Ok(picked)
}

async fn download_zip(api: &Api<'_>, artifact: &Artifact, dest: &Path) -> anyhow::Result<()> {
    let url = match artifact.archive_download_url.as_deref().map(Url::parse) {
        Some(Ok(u)) if api.is_api(&u) => u,
        _ => api.endpoint(&format!("actions/artifacts/{}/zip", artifact.id))?,
    };
    let what = format!("downloading artifact {:?}", artifact.name);
    // upload-artifact v4 records the zip's own size; a blob that sends more is not that zip.
    let cap = match artifact.size_in_bytes {
        0 => MAX_ZIP_BYTES,
        n if n > MAX_ZIP_BYTES => bail!(
            "artifact {:?} (id {}) is {n} bytes, more than the {MAX_ZIP_BYTES}-byte limit on \
             an artifact zip: publish from an artifact that holds only the distributions",
            artifact.name,
            artifact.id
        ),
        n => n,
    };
    let expected = artifact
        .digest
        .as_deref()
        .map(|d| d.strip_prefix("sha256:").unwrap_or(d).to_ascii_lowercase());
    let sha = api
        .http
        .retry(&what, |_| {
            let url = url.clone();
            let what = what.clone();
            async move { download_attempt(api, url, dest, &what, cap).await }
        })
        .await?;
    match expected {
        Some(e) if e != sha => bail!(
            "artifact {:?} (id {}): the downloaded zip's sha256 is {sha}, but GitHub recorded \
             {e}: the archive was altered or corrupted in transit; nothing was published",
            artifact.name,
            artifact.id
        ),
        Some(_) => tracing::info!("artifact {:?}: sha256 verified", artifact.name),
        None => tracing::info!(
            "artifact {:?}: GitHub recorded no digest to verify",
            artifact.name
        ),
    }
    Ok(())
}

/// One attempt: ask the API (with the token) where the zip is, then fetch it from there
/// (without the token), streaming it to disk while hashing.
async fn download_attempt(
    api: &Api<'_>,
    url: Url,
    dest: &Path,
    what: &str,
    cap: u64,
) -> Result<String, Failure> {
    let resp = api
        .no_redirect
        .get(url.clone())
        .header(
            AUTHORIZATION,
            format!("Bearer {}", api.source.token.expose()),
        )
        .header(ACCEPT, "application/vnd.github+json")
        .timeout(api.http.timeout)
        .send()
        .await
        .map_err(|e| http::transport_failure(what, e))?;
    let resp = http::transient_status(what, resp).await?;
    let status = resp.status();
    let from_blob = status.is_redirection();
    let resp = if from_blob {
        let location = resp
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| Failure::Permanent(anyhow!("{what}: a redirect without a Location")))?;
        let blob = url
            .join(location)
            .map_err(|_| Failure::Permanent(anyhow!("{what}: a redirect to an invalid URL")))?;
        // The blob URL is presigned: no GitHub token, and it must not appear in errors.
        let resp = api
            .http
            .client
            .get(blob)
            .timeout(Duration::from_secs(3600))
            .send()
            .await
            .map_err(|e| http::transport_failure(what, e))?;
        http::transient_status(what, resp).await?
    } else {
        resp
    };
    let status = resp.status();
    if !status.is_success() {
        let body = http::error_text(resp).await;
        if status == StatusCode::GONE {
            return Err(Failure::Permanent(anyhow!(
                "{what}: the artifact has expired (HTTP 410)"
            )));
        }
        // An expired presigned URL (403 from the blob host) is fixed by asking the API again.
        if status == StatusCode::FORBIDDEN && from_blob {
            return Err(Failure::transient(format!(
                "{what}: the download link was refused"
            )));
        }
        if from_blob {
            return Err(Failure::Permanent(anyhow!(
                "{what}: the storage host answered HTTP {status}{}",
                http::snippet(&body)
            )));
        }
        return Err(Failure::Permanent(github_error(what, status, &body)));
    }
    let too_big = |got: u64| {
        Failure::Permanent(anyhow!(
            "{what}: the download sent {got} bytes or more, beyond the {cap} bytes the artifact \
             is listed at (`size_in_bytes`, or the limit when GitHub lists none): refusing \
             it; nothing was published"
        ))
    };
    if let Some(len) = resp.content_length().filter(|&len| len > cap) {
        return Err(too_big(len));
    }
    let mut file = tokio::fs::File::create(dest)
        .await
        .with_context(|| format!("cannot create {}", dest.display()))
        .map_err(Failure::Permanent)?;
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    let mut resp = resp;
    loop {
        let chunk = resp
            .chunk()
            .await
            .map_err(|e| http::transport_failure(what, e))?;
        let Some(chunk) = chunk else { break };
        received = received.saturating_add(chunk.len() as u64);
        if received > cap {
            drop(file);
            let _ = tokio::fs::remove_file(dest).await;
            return Err(too_big(received));
        }
        hasher.update(&chunk);
        tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
            .await
            .with_context(|| format!("cannot write {}", dest.display()))
            .map_err(Failure::Permanent)?;
    }
    tokio::io::AsyncWriteExt::flush(&mut file)
        .await
        .with_context(|| format!("cannot write {}", dest.display()))
        .map_err(Failure::Permanent)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_names_are_safe() {
        assert_eq!(safe_dir_name("../dist"), "_dist");
        assert_eq!(safe_dir_name("wheels linux"), "wheels_linux");
        assert_eq!(safe_dir_name(".."), "artifact");
    }
}
