//! A byte-level progress bar, on a terminal only: CI logs get plain lines instead.
//!
//! The step log's writer hides the bar while it writes a line (see `log::set_bar`), so the
//! two never garble each other.
use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `total` bytes when stderr is an interactive terminal; `None` in CI.
pub fn start(total: u64) -> Option<ProgressBar> {
    if !std::io::IsTerminal::is_terminal(&std::io::stderr()) || super::log::in_actions() {
        return None;
    }
    let style = ProgressStyle::with_template(
        "{spinner} uploading [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .ok()?
    .progress_chars("=> ");
    let bar = ProgressBar::new(total).with_style(style);
    super::log::set_bar(Some(bar.clone()));
    Some(bar)
}

/// Remove the bar from the screen.
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    super::log::set_bar(None);
}
