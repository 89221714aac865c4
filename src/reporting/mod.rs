//! Everything the user is told, and the one writer of the step log: log lines, workflow
//! commands (masks, annotations, groups), the progress bar, the job summary, the step
//! outputs and the `--report` file. Nothing else in the crate writes to stdout or stderr.
//! Party: the runner that runs this step, through its log and its files (`$GITHUB_OUTPUT`,
//! `$GITHUB_STEP_SUMMARY`), never over the network.
mod log;
pub mod log_format;
pub mod outputs;
pub mod progress;
pub mod summary;

/// The command layer's name for [`crate::inert::shown`], beside the writer it words lines for.
pub use crate::inert::shown;
pub use log::{
    add_mask, annotate, command_line, commands_on_stderr, group, in_actions, init,
    install_panic_hook, print_err, print_out, Group, Level, Sink,
};

use crate::report::{Notice, Severity};

/// Tell a notice: an annotation in Actions, a line on stderr elsewhere.
pub fn tell(notice: &Notice) {
    let level = match notice.severity {
        Severity::Warning => Level::Warning,
        Severity::Notice => Level::Notice,
    };
    annotate(level, &notice.title, &notice.message);
}

/// A size as people read it: `1.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(32 * 1024 * 1024), "32.0 MiB");
    }
}
