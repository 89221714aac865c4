//! Confirm: the files that are on the index, as its Simple API (or, on Warehouse, its JSON
//! API) lists them.
use std::time::{Duration, Instant};

use crate::distribution::Release;
use crate::index::{Index, IndexFile};
use crate::inert::shown;
use crate::report::{FileReport, FileStatus, Notice, ReleaseReport};

/// Wait, bounded, until the index lists every file that is on it with the sha256 that was
/// sent, and take each file's download URL from it (Warehouse's JSON API is cached and may
/// lag; other indexes list a file as soon as they accept it). A file listed with another
/// sha256 is no lag: it becomes a [`FileStatus::Mismatch`] at once, its `error` saying what
/// the index holds. The release page is Warehouse's `release_url` or devpi's release page;
/// other indexes have none. Returns what to tell when some file stayed unlisted.
pub async fn confirm(
    api: &Index<'_>,
    release: &Release,
    report: &mut ReleaseReport,
    timeout: Duration,
) -> Option<Notice> {
    let pending = |r: &ReleaseReport| r.files.iter().filter(|f| awaited(f)).count();
    // Files the plan found already read once more: for the release page, and in case the
    // index now lists other bytes under their names.
    if report.files.iter().all(|f| !f.status.on_index()) {
        return None;
    }
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut read_from = String::new();
    loop {
        if let Ok(Some(state)) = api
            .release_once(&release.normalized_name, &release.version)
            .await
        {
            read_from = state.read_from.clone();
            if let Some(url) = &state.release_url {
                report.release_url = url.clone();
            }
            for f in report.files.iter_mut().filter(|f| f.status.on_index()) {
                if let Some(listed) = state.file(&f.filename) {
                    compare(f, listed, &read_from);
                }
            }
        }
        if pending(report) == 0 || started.elapsed() >= timeout {
            break;
        }
        let wait = delay.min(timeout.saturating_sub(started.elapsed()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            signal = crate::signals::cancelled() => {
                tracing::warn!("{signal} received: stopped waiting for the index to list the files");
                break;
            }
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    if report.release_url.is_empty() && !api.is_warehouse() {
        if let Some(page) = api
            .devpi_release_page(&release.normalized_name, &release.version)
            .await
        {
            report.release_url = page;
        }
    }
    let missing: Vec<_> = report
        .files
        .iter()
        .filter(|f| awaited(f))
        .map(|f| f.filename.as_str())
        .collect();
    if missing.is_empty() {
        return None;
    }
    Some(Notice::warning(
        "Not yet visible on the index",
        format!(
            "the index accepted {} (HTTP 200) but {} did not list {} with the same sha256 \
             within {}s{}. Check {} later.",
            missing.join(", "),
            if read_from.is_empty() {
                "the index"
            } else {
                &read_from
            },
            if missing.len() == 1 { "it" } else { "them" },
            timeout.as_secs(),
            if api.is_warehouse() {
                "; the JSON API is cached and can lag behind uploads"
            } else {
                ""
            },
            if report.release_url.is_empty() {
                &read_from
            } else {
                &report.release_url
            }
        ),
    ))
}

/// A file the index took (or had) that it has not yet listed with the sha256 that was sent.
fn awaited(f: &FileReport) -> bool {
    f.status.on_index() && !f.status.confirmed()
}

/// Settle a file the index took (or had) against the index's listing of its name: the same
/// sha256 confirms it (and gives its URL and upload time); another sha256 is a mismatch. A
/// listing without a sha256 proves neither: the file stays unconfirmed.
fn compare(f: &mut FileReport, listed: &IndexFile, read_from: &str) {
    let (Some(theirs), Some(ours)) = (listed.digests.sha256.as_deref(), f.sha256.as_deref()) else {
        return;
    };
    if theirs.eq_ignore_ascii_case(ours) {
        f.status = f.status.confirm();
        f.url = listed.url.clone();
        f.upload_time = listed.upload_time_iso_8601.clone();
        return;
    }
    let how = match f.status {
        FileStatus::Uploaded(_) => "this run sent",
        _ => "this build has",
    };
    f.error = Some(format!(
        "{}: {} lists it with sha256 {}, but {how} sha256 {ours}: the index holds other bytes \
         under this name. Someone else uploaded a file of this name, or the index (or a proxy \
         or cache in front of it) answers with wrong data. Do not re-run blindly: a re-run \
         cannot replace it (a file name is never reused on the index). Download the file from \
         the index and compare it with your build; if it is not yours, find out who could \
         upload to the project and revoke those credentials, then publish a new version.",
        f.filename,
        if read_from.is_empty() {
            "the index".to_owned()
        } else {
            shown(read_from).to_string()
        },
        shown(theirs),
    ));
    f.status = FileStatus::Mismatch;
    f.url = None;
    f.upload_time = None;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::IndexDigests;
    use crate::report::Confirmation;

    const OURS: &str = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11";

    fn sent(status: FileStatus) -> FileReport {
        FileReport {
            filename: "demo-1.0.tar.gz".to_owned(),
            status,
            url: None,
            sha256: Some(OURS.to_owned()),
            blake2_256: None,
            size: 1,
            packagetype: "sdist".to_owned(),
            python_version: "source".to_owned(),
            upload_time: None,
            error: None,
            attestation_file: None,
            provenance: None,
        }
    }

    fn listing(sha256: Option<&str>) -> IndexFile {
        IndexFile {
            filename: "demo-1.0.tar.gz".to_owned(),
            url: Some("https://files.example/demo-1.0.tar.gz".to_owned()),
            size: 1,
            packagetype: "sdist".to_owned(),
            python_version: "source".to_owned(),
            digests: IndexDigests {
                sha256: sha256.map(str::to_owned),
                blake2b_256: None,
            },
            upload_time_iso_8601: Some("2026-01-01T00:00:00Z".to_owned()),
            yanked: false,
        }
    }

    #[test]
    fn the_same_sha256_confirms_and_gives_the_url() {
        let mut f = sent(FileStatus::Uploaded(Confirmation::Unconfirmed));
        compare(&mut f, &listing(Some(&OURS.to_uppercase())), "");
        assert_eq!(f.status, FileStatus::Uploaded(Confirmation::Confirmed));
        assert_eq!(
            f.url.as_deref(),
            Some("https://files.example/demo-1.0.tar.gz")
        );
        assert!(f.error.is_none());
    }

    #[test]
    fn another_sha256_is_a_mismatch_naming_both_digests() {
        let theirs = "bb".repeat(32);
        for status in [
            FileStatus::Uploaded(Confirmation::Unconfirmed),
            // Confirmed by the plan, then listed with other bytes: still a mismatch.
            FileStatus::AlreadyThere(Confirmation::Confirmed),
        ] {
            let mut f = sent(status);
            f.url = Some("https://files.example/old".to_owned());
            compare(
                &mut f,
                &listing(Some(&theirs)),
                "https://index.example/simple/demo/",
            );
            assert_eq!(f.status, FileStatus::Mismatch);
            assert!(!f.status.on_index() && !f.status.confirmed());
            assert_eq!(f.url, None);
            let error = f.error.unwrap();
            for needle in [OURS, theirs.as_str(), "demo-1.0.tar.gz", "Do not re-run"] {
                assert!(error.contains(needle), "{needle}: {error}");
            }
        }
    }

    #[test]
    fn a_listing_without_a_sha256_proves_nothing() {
        let mut f = sent(FileStatus::Uploaded(Confirmation::Unconfirmed));
        compare(&mut f, &listing(None), "");
        assert_eq!(f.status, FileStatus::Uploaded(Confirmation::Unconfirmed));
        assert!(awaited(&f));
    }
}
