//! Cancellation: a cancelled job (SIGTERM from the runner) or Ctrl-C stops the publish
//! cleanly, so the report can still say what reached the index.
//!
//! The handlers are installed once, at start: from then on the process never dies of the
//! signal mid-upload, and every phase can ask whether it should stop. (In a container the
//! binary is PID 1, which the kernel gives no default handler at all.)
use std::sync::OnceLock;

use tokio::sync::watch;

static STATE: OnceLock<watch::Sender<Option<&'static str>>> = OnceLock::new();

fn sender() -> &'static watch::Sender<Option<&'static str>> {
    STATE.get_or_init(|| watch::channel(None).0)
}

/// Listen for SIGTERM and SIGINT for the rest of the run. Call inside the runtime.
pub fn install() {
    let tx = sender();
    tokio::spawn(async move {
        let name = wait_for_signal().await;
        tx.send_replace(Some(name));
    });
}

async fn wait_for_signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = tokio::signal::ctrl_c() => "SIGINT",
            },
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}

/// Resolves with the signal's name once the process is asked to stop (at once if it already
/// was); never resolves otherwise.
pub async fn cancelled() -> &'static str {
    let mut rx = sender().subscribe();
    loop {
        if let Some(name) = *rx.borrow_and_update() {
            return name;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}
