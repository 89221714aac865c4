//! Confirm: the files that are on the index, as its Simple API (or, on Warehouse, its JSON
//! API) lists them.
use std::time::{Duration, Instant};

use crate::distribution::Release;
use crate::index::Index;
use crate::report::Notice;
use crate::report::ReleaseReport;

/// Wait, bounded, until the index lists every file that is on it with the sha256 that was
/// sent, and take each file's download URL from it (Warehouse's JSON API is cached and may
/// lag; other indexes list a file as soon as they accept it). The release page is
/// Warehouse's `release_url` or devpi's release page; other indexes have none. Returns what to tell when some file stayed unconfirmed.
pub async fn confirm(
    api: &Index<'_>,
    release: &Release,
    report: &mut ReleaseReport,
    timeout: Duration,
) -> Option<Notice> {
    let pending = |r: &ReleaseReport| {
        r.files
            .iter()
            .filter(|f| f.status.on_index() && !f.confirmed)
            .count()
    };
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
                if let Some(remote) = state.file(&f.filename) {
                    let same = remote
                        .digests
                        .sha256
                        .as_deref()
                        .zip(f.sha256.as_deref())
                        .is_some_and(|(remote, local)| remote.eq_ignore_ascii_case(local));
                    if same {
                        f.url = remote.url.clone();
                        f.upload_time = remote.upload_time_iso_8601.clone();
                        f.confirmed = true;
                    }
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
    if pending(report) == 0 {
        return None;
    }
    let missing: Vec<_> = report
        .files
        .iter()
        .filter(|f| f.status.on_index() && !f.confirmed)
        .map(|f| f.filename.as_str())
        .collect();
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
