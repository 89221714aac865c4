//! `verify NAME==VERSION`: what the index serves, proved for anyone. Every file of the
//! release is downloaded and its sha256 compared with the index's listing; its provenance
//! (PEP 740, Warehouse's integrity API) is verified against the trust root, and the publisher
//! identity the certificates name is compared with the one the caller expects.
use anyhow::anyhow;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use url::Url;

use crate::attest::verify::{verify_attestation, Expected, Identity, TrustRoot};
use crate::cli::VerifyArgs;
use crate::http::{self, Failure as HttpFailure, Http};
use crate::index::{IndexFile, SimpleApi};
use crate::reporting::{self, outputs, shown, summary, Level};
use crate::runner::Runner;

use super::{plural, Failure};

/// Warehouse's integrity API media type (`warehouse/api/integrity.py`).
const INTEGRITY_V1: &str = "application/vnd.pypi.integrity.v1+json";

/// The largest file downloaded (PyPI's limit can be raised per project, far beyond its 100 MiB
/// default; the bytes are hashed as they arrive and never held).
const MAX_FILE_SIZE: u64 = 8 << 30;

/// What was found for one file.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
enum Verdict {
    /// Every attestation verified, all by the expected publisher.
    Verified { identity: Identity },
    /// The index serves no provenance for it.
    Unsigned,
    /// The content, an attestation or the index's answer is wrong.
    Invalid { reason: String },
    /// Valid attestations, by someone else than the expected publisher.
    AnotherIdentity { reason: String, identity: Identity },
}

impl Verdict {
    fn label(&self) -> &'static str {
        match self {
            Verdict::Verified { .. } => "verified",
            Verdict::Unsigned => "unsigned",
            Verdict::Invalid { .. } => "invalid",
            Verdict::AnotherIdentity { .. } => "another identity",
        }
    }

    fn detail(&self) -> String {
        match self {
            Verdict::Verified { identity } => format!(
                "{} {}@{} ({})",
                identity.repository, identity.workflow, identity.git_ref, identity.commit
            ),
            Verdict::Unsigned => "the index serves no provenance for it".to_owned(),
            Verdict::Invalid { reason } | Verdict::AnotherIdentity { reason, .. } => reason.clone(),
        }
    }
}

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
        crate::versions::simple_index(cfg.index.simple.as_ref(), &cfg.index.repository_url)?;
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
    for file in &files {
        let verdict = check_file(&cfg.http, &cfg, &cfg.trust, &cfg.expected, file).await;
        reports.push(FileReport {
            filename: file.filename.clone(),
            sha256: file.digests.sha256.clone(),
            verdict,
        });
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

async fn check_file(
    http: &Http,
    cfg: &crate::cli::VerifyConfig,
    trust: &TrustRoot,
    expected: &Expected,
    file: &IndexFile,
) -> Verdict {
    let invalid = |reason: String| Verdict::Invalid { reason };
    let Some(listed) = file.digests.sha256.as_deref() else {
        return invalid("the index lists no sha256 for it".to_owned());
    };
    let Some(url) = file.url.as_deref().and_then(|u| Url::parse(u).ok()) else {
        return invalid("the index lists no download URL for it".to_owned());
    };
    match download_sha256(http, &url, &file.filename).await {
        Ok(actual) if actual.eq_ignore_ascii_case(listed) => {}
        Ok(actual) => {
            return invalid(format!(
                "its content has sha256 {actual}, the index lists {}",
                shown(listed)
            ))
        }
        Err(e) => return invalid(format!("{e:#}")),
    }
    let provenance = match read_provenance(http, cfg, &file.filename).await {
        Ok(Some(p)) => p,
        Ok(None) => return Verdict::Unsigned,
        Err(e) => return invalid(format!("{e:#}")),
    };
    judge(trust, expected, &provenance, &file.filename, listed)
}

/// Every attestation of every bundle must verify; all must name the expected publisher.
fn judge(
    trust: &TrustRoot,
    expected: &Expected,
    provenance: &Value,
    filename: &str,
    sha256: &str,
) -> Verdict {
    let invalid = |reason: String| Verdict::Invalid { reason };
    if provenance.get("version").and_then(Value::as_u64) != Some(1) {
        return invalid("the index's provenance object is not version 1".to_owned());
    }
    let attestations: Vec<&Value> = provenance
        .get("attestation_bundles")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("attestations").and_then(Value::as_array))
        .flatten()
        .collect();
    if attestations.is_empty() {
        return invalid("the index's provenance holds no attestation".to_owned());
    }
    let mut identity = None;
    for attestation in attestations {
        let verified = match verify_attestation(trust, attestation, filename, sha256) {
            Ok(v) => v,
            Err(reason) => return invalid(reason),
        };
        if let Some(reason) = expected.mismatch(&verified.identity) {
            return Verdict::AnotherIdentity {
                reason,
                identity: verified.identity,
            };
        }
        identity = Some(verified.identity);
    }
    match identity {
        Some(identity) => Verdict::Verified { identity },
        None => invalid("the index's provenance holds no attestation".to_owned()),
    }
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

/// The file's provenance object from the integrity API, `None` when the index has none.
async fn read_provenance(
    http: &Http,
    cfg: &crate::cli::VerifyConfig,
    filename: &str,
) -> anyhow::Result<Option<Value>> {
    let mut url = cfg.index.index_url.clone();
    url.path_segments_mut()
        .map_err(|_| anyhow!("{} cannot have a path", cfg.index.index_url))?
        .pop_if_empty()
        .extend([
            "integrity",
            &cfg.normalized,
            &cfg.version,
            filename,
            "provenance",
        ]);
    let what = format!("reading the provenance of {}", shown(filename));
    let answer = http
        .retry(&what, |_| async {
            let request = http
                .client
                .get(url.clone())
                .header(reqwest::header::ACCEPT, INTEGRITY_V1);
            http.send_text(&what, request).await
        })
        .await?;
    if answer.status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !answer.status.is_success() {
        return Err(anyhow!(
            "{what}: HTTP {}{}",
            answer.status,
            http::snippet(&answer.text)
        ));
    }
    serde_json::from_str(&answer.text)
        .map(Some)
        .map_err(|_| anyhow!("{what}: the answer is not JSON"))
}
