//! The one writer of the step log: every byte the binary prints to stdout or stderr passes
//! through here, as a workflow command it built itself (`::add-mask::`, annotations, groups)
//! or as text that can never be read as one.
//!
//! The runner reads workflow commands on both streams: a line whose start (after blanks) is
//! `::`, and a line holding `##[` anywhere (the runner's older syntax). Text that reaches the
//! log, outside data included, is made inert here, whatever its caller forgot: control
//! characters other than LF and TAB escaped, `##[` broken, and a line that would start with
//! `::` prefixed with `\` (by [`crate::inert`]). Outside the runner the same calls give plain,
//! readable lines.
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use indicatif::ProgressBar;

use crate::inert::{inert, shown};

/// Where the step log and its files are, from the runner's environment; set once at start.
/// The caller reads them from the runner, so the writer needs nothing of GitHub's.
pub struct Sink {
    /// `GITHUB_ACTIONS`: workflow commands are understood.
    pub in_actions: bool,
    /// `$GITHUB_OUTPUT`.
    pub output_file: Option<PathBuf>,
    /// `$GITHUB_STEP_SUMMARY`.
    pub summary_file: Option<PathBuf>,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Take the runner's files and whether this is an Actions job; call once, first thing.
pub fn init(sink: Sink) {
    let _ = SINK.set(sink);
}

/// True when running inside a GitHub Actions job (the runner sets `GITHUB_ACTIONS` for every
/// step, container actions included): workflow commands are understood.
pub fn in_actions() -> bool {
    SINK.get().is_some_and(|s| s.in_actions)
}

/// `$GITHUB_OUTPUT`, when the runner gave one.
pub(super) fn output_file() -> Option<&'static Path> {
    SINK.get().and_then(|s| s.output_file.as_deref())
}

/// `$GITHUB_STEP_SUMMARY`, when the runner gave one.
pub(super) fn summary_file() -> Option<&'static Path> {
    SINK.get().and_then(|s| s.summary_file.as_deref())
}

/// Escape a command's message (data) as the runner expects, and the other control
/// characters (an ANSI escape in an annotation would reach the web UI) as [`shown`] does.
fn escape_data(s: &str) -> String {
    let s = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    shown(s).to_string()
}

/// A secret is escaped only as the runner unescapes it, so the runner masks the exact value.
fn escape_mask(s: &str) -> String {
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

#[derive(Clone, Copy)]
enum Stream {
    Out,
    Err,
}

/// Write bytes that are already safe for the log. A failed write (closed pipe) must not abort
/// a publish halfway, so it is ignored. Writes to stderr hide the progress bar meanwhile.
fn write_raw(stream: Stream, bytes: &[u8]) {
    match stream {
        Stream::Out => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(bytes);
            let _ = out.flush();
        }
        Stream::Err => suspend_bar(|| {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(bytes);
        }),
    }
}

fn command(line: String) {
    let stream = if COMMANDS_ON_STDERR.load(Ordering::Relaxed) {
        Stream::Err
    } else {
        Stream::Out
    };
    write_raw(stream, format!("{line}\n").as_bytes());
}

/// Print text (the binary's own, holding outside data or not) on stdout, made [`inert`].
pub fn print_out(text: &str) {
    write_raw(Stream::Out, inert(text).as_bytes());
}

/// Print text on stderr, made [`inert`]: log lines, errors, the plain-text annotations.
pub fn print_err(text: &str) {
    write_raw(Stream::Err, inert(text).as_bytes());
}

/// Print clap's message for a command-line mistake (or its `--help` / `--version` text)
/// through the writer, since it echoes the argument as given; returns clap's exit status (2
/// for a mistake, 0 for help and version). Styling is dropped: only the text is printed.
pub fn command_line(e: &clap::Error) -> u8 {
    let text = e.render().to_string();
    if e.use_stderr() {
        print_err(&text);
    } else {
        print_out(&text);
    }
    u8::try_from(e.exit_code()).unwrap_or(2)
}

/// Route every panic (a bug) through the writer and end the process with status 1: the
/// default hook prints the panic's message, which may hold outside data, raw on stderr.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        print_err(&panic_text(info));
        // `RUST_BACKTRACE` asks for one, as with the default hook.
        let trace = std::backtrace::Backtrace::capture();
        if trace.status() == std::backtrace::BacktraceStatus::Captured {
            print_err(&trace.to_string());
        }
        std::process::exit(1);
    }));
}

/// What a panic tells: that it is a bug, and the panic's own message and place.
fn panic_text(info: &dyn fmt::Display) -> String {
    format!(
        "error: internal error (a bug in pypi-oidc-publish; please report it with this \
         message): {info}\nThe run stopped here: the lines above say what it had done."
    )
}

/// The progress bar on the terminal, if one is drawn: hidden while a line is written.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

pub(super) fn set_bar(bar: Option<ProgressBar>) {
    if let Ok(mut b) = BAR.lock() {
        *b = bar;
    }
}

fn suspend_bar<R>(write: impl FnOnce() -> R) -> R {
    let bar = BAR.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(b) => b.suspend(write),
        None => write(),
    }
}

/// Tell the runner to redact `secret` from every later log line. Must be called before the
/// secret could be printed by anything, which is why it runs even outside Actions detection
/// checks of other commands: masking an unused value costs nothing.
pub fn add_mask(secret: &str) {
    if in_actions() && !secret.is_empty() {
        // A multi-line secret must be masked line by line; the runner masks per line.
        for line in secret.lines().filter(|l| !l.trim().is_empty()) {
            command(format!("::add-mask::{}", escape_mask(line)));
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
        print_err(&format!("{}: {title}: {message}", level.as_str()));
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
        print_err(&format!("== {title}"));
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
    fn a_panic_is_told_as_a_bug_and_inert() {
        let text = inert(&panic_text(
            &"panicked at x.rs:1:1:\nbad ::stop-commands::y\n::error::z",
        ));
        assert!(text.starts_with("error: internal error (a bug"), "{text}");
        assert!(
            text.lines().all(|l| !l.trim_start().starts_with("::")),
            "{text}"
        );
    }

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(escape_data("50%\r\nnext"), "50%25%0D%0Anext");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn annotation_data_holds_no_raw_control_characters() {
        let e = escape_data("50%\r\n::x\u{1b}[31m");
        assert_eq!(e, "50%25%0D%0A::x\\u{1b}[31m");
        // A secret is escaped only as the runner unescapes it.
        assert_eq!(escape_mask("a%b\tc"), "a%25b\tc");
    }
}
