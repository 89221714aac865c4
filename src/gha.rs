//! GitHub Actions workflow commands (`::add-mask::`, `::error::`, groups) and run detection.
//!
//! Outside Actions the same calls degrade to plain, readable lines on stderr, so one code path
//! serves both a CI log and a terminal.
use std::fmt;
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

/// Outside data (file and member names, run metadata, index answers, package metadata) as it
/// may appear inside a log line, an annotation or an error: every control character (CR, LF,
/// ESC, NEL, ...) and the Unicode line and paragraph separators written as an escape (`\n`,
/// `\u{1b}`), so the value stays on its line and cannot start a new one that the runner would
/// read as a workflow command.
pub fn shown<T: fmt::Display>(value: T) -> Shown<T> {
    Shown(value)
}

/// See [`shown`].
pub struct Shown<T>(T);

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        write!(Inert(f), "{}", self.0)
    }
}

impl<T: fmt::Display> fmt::Debug for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// True for the characters [`shown`] escapes.
fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A writer that escapes what [`is_unsafe_char`] matches.
struct Inert<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Inert<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some(at) = rest.find(is_unsafe_char) {
            self.0.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().unwrap_or_default();
            write!(self.0, "{}", c.escape_default())?;
            rest = &rest[at + c.len_utf8()..];
        }
        self.0.write_str(rest)
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

    #[test]
    fn shown_keeps_outside_data_on_its_line() {
        let hostile = "notes\n::stop-commands::x\r\n\u{1b}[31mred\u{85}\u{2028}.txt";
        let s = shown(hostile).to_string();
        assert!(
            !s.contains(['\n', '\r', '\u{1b}', '\u{85}', '\u{2028}']),
            "{s}"
        );
        assert_eq!(
            s,
            "notes\\n::stop-commands::x\\r\\n\\u{1b}[31mred\\u{85}\\u{2028}.txt"
        );
        assert_eq!(
            shown("wheel-1.0-py3-none-any.whl").to_string(),
            "wheel-1.0-py3-none-any.whl"
        );
    }
}
