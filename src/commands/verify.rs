//! `verify NAME==VERSION`: what the index serves, proved for anyone. Every file of the
//! release is downloaded (or the local files given are read) and its sha256 compared with
//! the index's listing; its provenance
//! (PEP 740, Warehouse's integrity API) is verified against the trust root, and the publisher
//! identity the certificates name is compared with the one the caller expects.
use std::path::Path;

use anyhow::anyhow;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;

use crate::attest::provenance::{self, Verdict};
use crate::cli::{VerifyArgs, VerifyConfig};
use crate::github::runner::Runner;
use crate::http::{self, Failure as HttpFailure, Http};
use crate::index::{IndexFile, SimpleApi};
use crate::reporting::{self, outputs, shown, summary, Level};

use super::{plural, Failure};

/// The largest file downloaded (PyPI's limit can be raised per project, far beyond its 100 MiB
/// default; the bytes are hashed as they arrive and never held).
const MAX_FILE_SIZE: u64 = 8 << 30;

#[derive(Serialize)]
struct FileReport {
    filename: String,
    sha256: Option<String>,
    #[serde(flatten)]
    verdict: Verdict,
}

pub async fn verify(args: VerifyArgs, runner: &Runner) -> Result<(), Failure> {
    let cfg = args.resolve(runner)?;
    let simple =
        crate::index::versions::simple_index(cfg.index.simple.as_ref(), &cfg.index.repository_url)?;
    let api = SimpleApi {
        http: &cfg.http,
        url: &simple.url,
    };
    let release = format!("{}=={}", cfg.normalized, cfg.version);
    let page = api.listing(&cfg.normalized).await?.ok_or_else(|| {
        anyhow!(
            "{} is not on {} (its page answers 404): check the name and --repository-url",
            cfg.normalized,
            simple.url
        )
    })?;
    let files = page.files_of(&cfg.version);
    if files.is_empty() {
        return Err(anyhow!(
            "{} lists no file of {release}: check the version",
            page.described
        )
        .into());
    }
    tracing::info!(
        "{release}: {} file{} on {}; verifying against {}",
        files.len(),
        plural(files.len()),
        simple.url,
        cfg.trust.source
    );

    let mut reports = Vec::new();
    if cfg.local.is_empty() {
        for file in &files {
            let verdict = check_file(&cfg, file, Content::Download).await;
            reports.push(FileReport {
                filename: file.filename.clone(),
                sha256: file.digests.sha256.clone(),
                verdict,
            });
        }
    } else {
        for path in &cfg.local {
            reports.push(check_local(&cfg, &release, &files, path).await);
        }
        let unchecked = files
            .iter()
            .filter(|f| !reports.iter().any(|r| r.filename == f.filename))
            .count();
        if unchecked > 0 {
            tracing::info!(
                "{unchecked} more file{} of {release} on the index not checked: only the local \
                 files given are",
                plural(unchecked)
            );
        }
    }
    tell(&release, &reports)?;
    if let Some(path) = &cfg.report {
        let document = json!({
            "release": release,
            "index": simple.url.as_str(),
            "trust_root": cfg.trust.source,
            "ok": all_verified(&reports),
            "files": reports,
        });
        outputs::write_json_file(
            path,
            &serde_json::to_string_pretty(&document).map_err(anyhow::Error::from)?,
        )?;
    }
    if all_verified(&reports) {
        return Ok(());
    }
    let bad = reports
        .iter()
        .filter(|r| !matches!(r.verdict, Verdict::Verified { .. }))
        .count();
    Err(Failure::Told(format!(
        "{bad} of {} file{} of {release} not verified",
        reports.len(),
        plural(reports.len())
    )))
}

fn all_verified(reports: &[FileReport]) -> bool {
    reports
        .iter()
        .all(|r| matches!(r.verdict, Verdict::Verified { .. }))
}

/// The table on stdout and in the job summary; an error annotation per failing file.
fn tell(release: &str, reports: &[FileReport]) -> anyhow::Result<()> {
    let mut md = format!(
        "## Provenance of {}\n\n| File | Verdict | Publisher or reason |\n| --- | --- | --- |\n",
        summary::md(release)
    );
    for r in reports {
        let ok = matches!(r.verdict, Verdict::Verified { .. });
        // The verdict first: an outside string never starts a line.
        reporting::print_out(&format!(
            "{} {:<16} {}: {}",
            if ok { "✅" } else { "❌" },
            r.verdict.label(),
            shown(&r.filename),
            shown(r.verdict.detail())
        ));
        md.push_str(&format!(
            "| {} | {} {} | {} |\n",
            summary::md(&r.filename),
            if ok { "✅" } else { "❌" },
            r.verdict.label(),
            summary::md(r.verdict.detail())
        ));
        if !ok {
            reporting::annotate(
                Level::Error,
                "Provenance not verified",
                &format!(
                    "{}: {}: {}",
                    shown(&r.filename),
                    r.verdict.label(),
                    shown(r.verdict.detail())
                ),
            );
        }
    }
    summary::write_step_summary(&format!("{md}\n"))
}

/// Where the bytes whose sha256 is compared with the listing come from.
enum Content<'a> {
    /// Downloaded from the URL the index lists.
    Download,
    /// A local file, already hashed.
    Local { sha256: &'a str },
}

/// One local file: listed by the index for this release under its name, then as a
/// downloaded one.
async fn check_local(
    cfg: &VerifyConfig,
    release: &str,
    files: &[IndexFile],
    path: &Path,
) -> FileReport {
    let filename = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let invalid = |reason: String, sha256: Option<String>| FileReport {
        filename: filename.clone(),
        sha256,
        verdict: Verdict::Invalid { reason },
    };
    let sha256 = match crate::hashing::hash_file(path).await {
        Ok(digests) => digests.sha256,
        Err(e) => return invalid(format!("{e:#}"), None),
    };
    let Some(file) = files.iter().find(|f| f.filename == filename) else {
        return invalid(
            format!("the index lists no file of that name for {release}"),
            Some(sha256),
        );
    };
    let verdict = check_file(cfg, file, Content::Local { sha256: &sha256 }).await;
    FileReport {
        filename,
        sha256: Some(sha256.clone()),
        verdict,
    }
}

async fn check_file(cfg: &VerifyConfig, file: &IndexFile, content: Content<'_>) -> Verdict {
    let http = &cfg.http;
    let invalid = |reason: String| Verdict::Invalid { reason };
    let Some(listed) = file.digests.sha256.as_deref() else {
        return invalid("the index lists no sha256 for it".to_owned());
    };
    let actual = match content {
        Content::Local { sha256 } => Ok(sha256.to_owned()),
        Content::Download => {
            let Some(url) = file.url.as_deref().and_then(|u| Url::parse(u).ok()) else {
                return invalid("the index lists no download URL for it".to_owned());
            };
            download_sha256(http, &url, &file.filename).await
        }
    };
    match actual {
        Ok(actual) if actual.eq_ignore_ascii_case(listed) => {}
        Ok(actual) => {
            return invalid(format!(
                "its content has sha256 {actual}, the index lists {}",
                shown(listed)
            ))
        }
        Err(e) => return invalid(format!("{e:#}")),
    }
    let provenance = match provenance::read(
        http,
        &cfg.index.index_url,
        &cfg.normalized,
        &cfg.version,
        &file.filename,
    )
    .await
    {
        Ok(Some(p)) => p,
        Ok(None) => return Verdict::Unsigned,
        Err(e) => return invalid(format!("{e:#}")),
    };
    provenance::judge(
        &cfg.trust,
        &cfg.expected,
        &provenance,
        &file.filename,
        listed,
    )
}

/// The file's sha256, hashed as it downloads (at most [`MAX_FILE_SIZE`] bytes).
async fn download_sha256(http: &Http, url: &Url, filename: &str) -> anyhow::Result<String> {
    let what = format!("downloading {}", shown(filename));
    http.retry(&what, |_| async {
        let resp = http
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| http::transport_failure(&what, e))?;
        let mut resp = http::transient_status(&what, resp).await?;
        if !resp.status().is_success() {
            return Err(HttpFailure::Permanent(anyhow!(
                "{what}: HTTP {}",
                resp.status()
            )));
        }
        let mut hasher = Sha256::new();
        let mut size: u64 = 0;
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| http::transport_failure(&what, e))?
        {
            size += chunk.len() as u64;
            if size > MAX_FILE_SIZE {
                return Err(HttpFailure::Permanent(anyhow!(
                    "{what}: larger than {}",
                    reporting::human_size(MAX_FILE_SIZE)
                )));
            }
            hasher.update(&chunk);
        }
        Ok(hex::encode(hasher.finalize()))
    })
    .await
}
