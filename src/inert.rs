//! Outside text made inert, for the step log and for markdown (the job summary, a release's
//! notes): pure functions, so that the checks that word their findings with outside data (file
//! names, metadata, index and GitHub answers) and the code that writes to GitHub need not
//! import the log's writer ([`crate::reporting`]) to do so.
//!
//! The runner reads workflow commands on both streams: a line whose start (after blanks) is
//! `::`, and a line holding `##[` anywhere (the runner's older syntax). [`shown`] keeps a value
//! on its line and breaks `##[`; [`inert`] makes whole text safe: control characters other
//! than LF and TAB escaped, `##[` broken, and a line that would start with `::` prefixed with
//! `\`.
use std::borrow::Cow;
use std::fmt;

/// `text` made safe to print: see this module's documentation. LF and TAB are the binary's own
/// layout and are kept; every line ends with LF.
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    for line in text.split('\n') {
        let line = shown_keeping_tabs(line);
        let line = if line.contains("##[") {
            Cow::Owned(line.replace("##[", "##\\["))
        } else {
            line
        };
        if line.trim_start().starts_with("::") {
            out.push('\\');
        }
        out.push_str(&line);
        out.push('\n');
    }
    if text.ends_with('\n') {
        out.pop();
    }
    out
}

fn shown_keeping_tabs(line: &str) -> Cow<'_, str> {
    if !line.contains(|c| c != '\t' && is_unsafe_char(c)) {
        return Cow::Borrowed(line);
    }
    Cow::Owned(
        line.split('\t')
            .map(|part| shown(part).to_string())
            .collect::<Vec<_>>()
            .join("\t"),
    )
}

/// Outside data (file and member names, run metadata, index answers, package metadata) as it
/// may appear inside a log line, an annotation or an error: every control character (CR, LF,
/// ESC, NEL, ...) and the Unicode line and paragraph separators written as an escape (`\n`,
/// `\u{1b}`), so the value stays on its line and cannot start a new one that the runner would
/// read as a workflow command; `##[` (a command anywhere in a line) is broken as `##\[`.
pub fn shown<T: fmt::Display>(value: T) -> Shown<T> {
    Shown(value)
}

/// See [`shown`].
pub struct Shown<T>(T);

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write as _;
        write!(Inert { out: f, hashes: 0 }, "{}", self.0)
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

/// A writer that escapes what [`is_unsafe_char`] matches, and breaks `##[` (the runner's
/// older command syntax, read anywhere in a line) into `##\[`, even across writes.
struct Inert<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    /// `#` characters just written, up to 2.
    hashes: u8,
}

impl fmt::Write for Inert<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut start = 0;
        for (at, c) in s.char_indices() {
            let unsafe_char = is_unsafe_char(c);
            let bracket = c == '[' && self.hashes >= 2;
            if unsafe_char || bracket {
                self.out.write_str(&s[start..at])?;
                if bracket {
                    self.out.write_str("\\[")?;
                } else {
                    write!(self.out, "{}", c.escape_default())?;
                }
                start = at + c.len_utf8();
            }
            self.hashes = if c == '#' {
                (self.hashes + 1).min(2)
            } else {
                0
            };
        }
        self.out.write_str(&s[start..])
    }
}

/// Outside data as inert text of the job summary (markdown with inline HTML): one line
/// ([`shown`]), and every character that markdown or HTML could read as markup
/// written as a character reference, so `<script>`, a backtick, `|` (a table cell's end),
/// `[`...`](...)`, `![`...`]` (an image fetched by every reader), `@team` or `*` show as
/// themselves. Safe in text, in a table cell and in a quoted
/// HTML attribute.
pub fn md(value: impl std::fmt::Display) -> String {
    let one_line = shown(value).to_string();
    let mut out = String::with_capacity(one_line.len());
    for c in one_line.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // `_` stays: intraword (every wheel name has one) it never starts emphasis.
            '\'' | '`' | '|' | '*' | '[' | ']' | '\\' | '~' | '!' | '$' | '@' => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the runner would read as a command in one line of the log: `::` at the start
    /// after blanks (.NET's TrimStart), or `##[` anywhere (the runner's older syntax).
    fn runner_reads_a_command(line: &str) -> bool {
        line.trim_start().starts_with("::") || line.contains("##[")
    }

    #[test]
    fn inert_text_never_holds_a_command() {
        let hostile = [
            "::stop-commands::x",
            "  \t ::add-mask::",
            "skipping notes\n::stop-commands::x\n.txt: not a distribution",
            "Build\r::set-env name=X::y",
            "a ##[add-mask]secret",
            "\u{1b}[2K\u{1b}[1G::error::fake",
            "\u{85}::warning::next-line",
            "%0A::group::x",
        ];
        for text in hostile {
            let out = inert(text);
            assert!(out.ends_with('\n'));
            // The runner splits lines on LF, CR and CRLF.
            for line in out.split(['\n', '\r']) {
                assert!(!runner_reads_a_command(line), "{text:?} gave {line:?}");
                assert!(!line.contains(['\u{1b}', '\u{85}']), "{line:?}");
            }
        }
        // The binary's own layout is kept.
        assert_eq!(inert("a\n\tb"), "a\n\tb\n");
        assert_eq!(inert("line\n"), "line\n");
        assert_eq!(inert("::x"), "\\::x\n");
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
