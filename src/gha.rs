//! GitHub Actions workflow commands (`::add-mask::`, `::error::`, groups) and run detection.
//!
//! Outside Actions the same calls degrade to plain, readable lines on stderr, so one code path
//! serves both a CI log and a terminal.
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// True when running inside a GitHub Actions job (the runner sets this for every step,
/// container actions included).
pub fn in_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Escape a command's message (data) as the runner expects.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property value (`title=...`), which also reserves `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

static COMMANDS_ON_STDERR: AtomicBool = AtomicBool::new(false);

/// Send workflow commands to stderr, for subcommands whose stdout is data (`mint-token`
/// prints only the token, so `$(...)` captures nothing else). The runner reads commands from
/// both streams.
pub fn commands_on_stderr() {
    COMMANDS_ON_STDERR.store(true, Ordering::Relaxed);
}

fn command(line: String) {
    // A failed write (closed pipe) must not abort a publish halfway, so it is ignored.
    if COMMANDS_ON_STDERR.load(Ordering::Relaxed) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{line}");
    } else {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Tell the runner to redact `secret` from every later log line. Must be called before the
/// secret could be printed by anything, which is why it runs even outside Actions detection
/// checks of other commands: masking an unused value costs nothing.
pub fn add_mask(secret: &str) {
    if in_actions() && !secret.is_empty() {
        // A multi-line secret must be masked line by line; the runner masks per line.
        for line in secret.lines().filter(|l| !l.trim().is_empty()) {
            command(format!("::add-mask::{}", escape_data(line)));
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

/// An annotation: `::error title=T::message` in Actions, `error: T: message` elsewhere.
pub fn annotate(level: Level, title: &str, message: &str) {
    if in_actions() {
        command(format!(
            "::{} title={}::{}",
            level.as_str(),
            escape_property(title),
            escape_data(message)
        ));
    } else {
        eprintln!("{}: {title}: {message}", level.as_str());
    }
}

/// A collapsible group of log lines; closed when dropped.
pub struct Group {
    open: bool,
}

pub fn group(title: &str) -> Group {
    if in_actions() {
        command(format!("::group::{}", escape_data(title)));
        Group { open: true }
    } else {
        eprintln!("== {title}");
        Group { open: false }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if self.open {
            command("::endgroup::".to_owned());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
