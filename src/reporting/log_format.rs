//! Human-readable progress on stderr through `tracing`: plain lines, a level word only when
//! it matters (warnings and errors), so CI logs read like a story, not a trace dump.
use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

struct Plain;

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut w: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        match *event.metadata().level() {
            Level::ERROR => write!(w, "error: ")?,
            Level::WARN => write!(w, "warning: ")?,
            Level::DEBUG | Level::TRACE => write!(w, "debug: ")?,
            Level::INFO => {}
        }
        ctx.field_format().format_fields(w.by_ref(), event)?;
        writeln!(w)
    }
}

/// One event's formatted text, handed whole to the step log's writer when the event is done
/// (the subscriber writes an event in one piece, then drops the writer), so the writer sees
/// complete lines and can make them inert.
#[derive(Default)]
struct EventBuffer(Vec<u8>);

impl std::io::Write for EventBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for EventBuffer {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            super::print_err(&String::from_utf8_lossy(&self.0));
        }
    }
}

/// `verbose` shows this crate's debug lines; `RUST_LOG` overrides everything.
pub fn init(verbose: bool) {
    let default = if verbose {
        "pypi_oidc_publish=debug,info"
    } else {
        "info"
    };
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(EventBuffer::default)
        // The step log is plain text: escape codes around field names would reach it as
        // escaped text (`\u{1b}[3m`), since the writer makes every control character inert.
        .with_ansi(false)
        .event_format(Plain)
        .try_init();
}
