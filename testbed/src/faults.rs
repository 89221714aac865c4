//! On-demand fault injection, shared by every local server.
//!
//! A test arms a fault for a route key (one of the constants below) and a number of requests;
//! the handler of that route asks [`Faults::intercept`] first and, when a fault is due, answers
//! with it instead of the normal response. Faults are consumed in the order they were armed.
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;

/// Route keys. Servers use these names so tests can target them without knowing paths.
pub mod route {
    pub const UPLOAD: &str = "upload";
    pub const JSON_API: &str = "json";
    pub const SIMPLE: &str = "simple";
    pub const FILES: &str = "files";
    pub const OIDC_AUDIENCE: &str = "oidc-audience";
    pub const OIDC_MINT: &str = "oidc-mint";
    pub const ID_TOKEN: &str = "id-token";
    pub const RUN: &str = "run";
    pub const ARTIFACTS: &str = "artifacts";
    pub const ARTIFACT_ZIP: &str = "artifact-zip";
    pub const BLOB: &str = "blob";
    /// Releases on the API host: by tag, create, list and delete assets.
    pub const RELEASES: &str = "releases";
    /// Asset uploads on the upload host.
    pub const RELEASE_UPLOAD: &str = "release-upload";
    pub const FULCIO: &str = "fulcio";
    pub const REKOR: &str = "rekor";
}

#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and body (content type `application/json` when the body
    /// parses as JSON, `text/plain` otherwise).
    Status { status: u16, body: String },
    /// An HTML error page such as a CDN answers (non-JSON 5xx).
    HtmlPage { status: u16 },
    /// Wait this long, then answer normally.
    Delay(Duration),
    /// Never answer (the client's timeout must cut it off).
    Hang,
    /// Start a response and drop the connection in the middle of its body.
    DropConnection,
    /// 429 Too Many Requests, as a rate-limited index (or the CDN in front of it) answers,
    /// with `Retry-After: retry_after` when given (seconds or an HTTP date, sent verbatim).
    RateLimited { retry_after: Option<String> },
    /// Answer with a redirect (`status` 301, 302, 303, 307 or 308) to `location`, as a proxy
    /// or a moved host in front of a server does.
    Redirect { status: u16, location: String },
    /// Answer with this status, `Content-Type` and body, as another server or a proxy in front
    /// of the index might (a PEP 691 page that lacks a key, say).
    Body {
        status: u16,
        content_type: String,
        body: String,
    },
    /// Answer `status` with this HTTP reason phrase (as Warehouse puts its message there) and
    /// an empty body. A reason phrase holds no CR or LF, but any other visible text.
    Reason { status: u16, reason: String },
    /// Hold the request until `count` requests have met this fault (counted over the
    /// server's life), or for `at_most`, then answer normally: an index slow to answer, where
    /// [`Faults::most_held`] tells how many requests a client kept waiting on it at once.
    Gather { count: usize, at_most: Duration },
    /// 200 with a body of `bytes` bytes sent in 16 KiB pieces, `pause` apart, with chunked
    /// transfer encoding (no Content-Length), as a proxy that re-encodes a download answers:
    /// the client learns the size only by counting.
    Chunked { bytes: u64, pause: Duration },
}

/// Marks the answer of [`Fault::DropConnection`], which a server may replace by its own
/// content cut off the same way.
#[derive(Clone, Copy, Debug)]
pub struct DroppedMidBody;

#[derive(Default)]
pub struct Faults {
    armed: Mutex<VecDeque<(String, Fault, usize)>>,
    fired: Mutex<Vec<(String, String)>>,
    gathered: Gathered,
}

/// The requests [`Fault::Gather`] met: how many in all, how many are held now, the most at once.
#[derive(Default)]
struct Gathered {
    arrived: tokio::sync::watch::Sender<usize>,
    held: AtomicUsize,
    most: AtomicUsize,
}

impl Faults {
    /// Arm `fault` for the next `times` requests to `route`.
    pub fn inject(&self, route: &str, fault: Fault, times: usize) {
        if times > 0 {
            self.armed
                .lock()
                .push_back((route.to_owned(), fault, times));
        }
    }

    /// Disarm everything.
    pub fn clear(&self) {
        self.armed.lock().clear();
    }

    /// How many faults have fired on `route` so far.
    pub fn fired(&self, route: &str) -> usize {
        self.fired.lock().iter().filter(|(r, _)| r == route).count()
    }

    /// The most requests [`Fault::Gather`] held at once.
    pub fn most_held(&self) -> usize {
        self.gathered.most.load(Ordering::SeqCst)
    }

    async fn gather(&self, count: usize, at_most: Duration) {
        let g = &self.gathered;
        // Subscribed before counting this request in, so its own arrival is seen.
        let mut arrived = g.arrived.subscribe();
        let held = g.held.fetch_add(1, Ordering::SeqCst) + 1;
        g.most.fetch_max(held, Ordering::SeqCst);
        g.arrived.send_modify(|n| *n += 1);
        // The count of arrivals only grows, so every waiter sees it reach `count`.
        let _ = tokio::time::timeout(at_most, arrived.wait_for(|n| *n >= count)).await;
        g.held.fetch_sub(1, Ordering::SeqCst);
    }

    fn take(&self, route: &str) -> Option<Fault> {
        let mut armed = self.armed.lock();
        let pos = armed.iter().position(|(r, _, _)| r == route)?;
        let entry = &mut armed[pos];
        let fault = entry.1.clone();
        entry.2 -= 1;
        if entry.2 == 0 {
            armed.remove(pos);
        }
        drop(armed);
        self.fired
            .lock()
            .push((route.to_owned(), format!("{fault:?}")));
        Some(fault)
    }

    /// Called first by a handler: `Some(response)` means answer with it and do nothing else.
    pub async fn intercept(&self, route: &str) -> Option<Response> {
        match self.take(route)? {
            Fault::Delay(d) => {
                tokio::time::sleep(d).await;
                None
            }
            Fault::Hang => {
                std::future::pending::<()>().await;
                None
            }
            Fault::Gather { count, at_most } => {
                self.gather(count, at_most).await;
                None
            }
            Fault::Status { status, body } => {
                let status =
                    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let ctype = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
                    "application/json"
                } else {
                    "text/plain; charset=utf-8"
                };
                Some((status, [(header::CONTENT_TYPE, ctype)], body).into_response())
            }
            Fault::Body {
                status,
                content_type,
                body,
            } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                Some((status, [(header::CONTENT_TYPE, content_type)], body).into_response())
            }
            Fault::Reason { status, reason } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
                let mut resp = status.into_response();
                match hyper::ext::ReasonPhrase::try_from(reason.into_bytes()) {
                    Ok(phrase) => {
                        resp.extensions_mut().insert(phrase);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "not a reason phrase; sending the standard one")
                    }
                }
                Some(resp)
            }
            Fault::RateLimited { retry_after } => {
                let mut resp = (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                    "Too many requests; slow down.",
                )
                    .into_response();
                if let Some(value) =
                    retry_after.and_then(|v| axum::http::HeaderValue::from_str(&v).ok())
                {
                    resp.headers_mut().insert(header::RETRY_AFTER, value);
                }
                Some(resp)
            }
            Fault::Redirect { status, location } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::TEMPORARY_REDIRECT);
                Some((status, [(header::LOCATION, location)]).into_response())
            }
            Fault::HtmlPage { status } => {
                let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
                let page = format!(
                    "<html><head><title>{status}</title></head><body><h1>{status}</h1>\
                     <p>Backend unavailable, please try again.</p></body></html>"
                );
                Some(
                    (
                        status,
                        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                        page,
                    )
                        .into_response(),
                )
            }
            Fault::DropConnection => {
                // Headers and a first chunk go out, then the body stream fails: hyper aborts
                // the connection mid-body, which the client sees as a dropped connection. The
                // pause lets hyper flush the headers before the failure.
                let first = futures_util::stream::once(async {
                    Ok::<bytes::Bytes, std::io::Error>(bytes::Bytes::from_static(b"{\"partial\": "))
                });
                let fail = futures_util::stream::once(async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                        std::io::ErrorKind::ConnectionReset,
                        "injected drop",
                    ))
                });
                let body = Body::from_stream(futures_util::StreamExt::chain(first, fail));
                Some(
                    Response::builder()
                        .status(StatusCode::OK)
                        .header(header::CONTENT_TYPE, "application/json")
                        .header(header::CONTENT_LENGTH, "4096")
                        .extension(DroppedMidBody)
                        .body(body)
                        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
                )
            }
            Fault::Chunked { bytes, pause } => {
                const PIECE: u64 = 16 << 10;
                let pieces = futures_util::stream::unfold(bytes, move |left| async move {
                    if left == 0 {
                        return None;
                    }
                    let n = left.min(PIECE);
                    if !pause.is_zero() {
                        tokio::time::sleep(pause).await;
                    }
                    let piece = bytes::Bytes::from(vec![b'P'; n as usize]);
                    Some((Ok::<_, std::io::Error>(piece), left - n))
                });
                Some(
                    Response::builder()
                        .status(StatusCode::OK)
                        .header(header::CONTENT_TYPE, "application/octet-stream")
                        .body(Body::from_stream(pieces))
                        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response()),
                )
            }
        }
    }
}
