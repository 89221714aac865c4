//! Confirm: the files that are on the index, as its JSON API lists them.
use std::time::{Duration, Instant};

use crate::distribution::Release;
use crate::index::JsonApi;
use crate::report::Notice;
use crate::report::Report;

/// Wait, bounded, until the JSON API lists every file that is on the index with the sha256
/// that was sent, and take each file's URL from it. The JSON API is cached and may lag.
/// Returns what to tell when some file stayed unconfirmed.
pub async fn confirm(
    api: &JsonApi<'_>,
    release: &Release,
    report: &mut Report,
    timeout: Duration,
) -> Option<Notice> {
    let pending = |r: &Report| {
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
    loop {
        if let Ok(Some(state)) = api
            .release_once(&release.normalized_name, &release.version)
            .await
        {
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
                tracing::warn!("{signal} received: stopped waiting for the JSON API");
                break;
            }
        }
        delay = (delay * 2).min(Duration::from_secs(5));
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
            "the index accepted {} (HTTP 200) but its JSON API did not list {} with the same \
             sha256 within {}s; the JSON API is cached and can lag behind uploads. Check {} later.",
            missing.join(", "),
            if missing.len() == 1 { "it" } else { "them" },
            timeout.as_secs(),
            report.release_url
        ),
    ))
}
