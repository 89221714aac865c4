//! A byte-level progress bar, on a terminal only: CI logs get plain lines instead.
//!
//! Log lines go through the bar while it is drawn (see [`suspend_for_log`]), so the two never
//! garble each other.
use std::sync::{Mutex, OnceLock};

use indicatif::{ProgressBar, ProgressStyle};

static ACTIVE: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();

fn slot() -> &'static Mutex<Option<ProgressBar>> {
    ACTIVE.get_or_init(|| Mutex::new(None))
}

/// A bar for `total` bytes when stderr is an interactive terminal; `None` in CI.
pub fn start(total: u64) -> Option<ProgressBar> {
    if !super::log::stderr_is_terminal() || crate::reporting::in_actions() {
        return None;
    }
    let style = ProgressStyle::with_template(
        "{spinner} uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .ok()?
    .progress_chars("=> ");
    let bar = ProgressBar::new(total).with_style(style);
    if let Ok(mut s) = slot().lock() {
        *s = Some(bar.clone());
    }
    Some(bar)
}

/// Remove the bar from the screen.
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if let Ok(mut s) = slot().lock() {
        *s = None;
    }
}

/// Run `write` (a log line) with the bar hidden, if one is drawn.
pub fn suspend_for_log<R>(write: impl FnOnce() -> R) -> R {
    let bar = slot().lock().ok().and_then(|s| s.clone());
    match bar {
        Some(b) => b.suspend(write),
        None => write(),
    }
}
