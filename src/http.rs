//! The one HTTP client and the one retry policy every request goes through.
//!
//! Every network call of a publish (ID token, audience, mint, artifacts, upload, JSON API)
//! is retried the same way: exponential backoff with jitter on connection errors, timeouts,
//! 429 and 5xx, honouring `Retry-After`, within a bounded total time, each retry logged with
//! its reason. Callers decide what is transient beyond that (a non-JSON answer from the mint
//! endpoint, say) by returning [`Failure::Transient`] themselves.
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use reqwest::header::{HeaderMap, LOCATION, RETRY_AFTER};
use reqwest::{Response, StatusCode};

pub const USER_AGENT: &str = concat!("pypi-oidc-publish/", env!("CARGO_PKG_VERSION"));

/// How long a connection may take to open before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long an idle connection is kept for reuse: across the pauses of a publish (signing,
/// the sdist after the wheels, confirmation), shorter than servers' own keep-alive.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(50);

/// Files are read and sent in chunks of this size (the index's uploads and a Release's
/// assets): one read and a few writes each, and the memory budget of the bodies counts them.
pub const FILE_CHUNK: usize = 512 * 1024;

#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// The most time spent waiting between attempts, in all. Attempts themselves are bounded
    /// by their own timeouts, so a long upload does not eat the budget of its retries.
    pub budget: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::with_base_delay(Duration::from_secs(1))
    }
}

impl RetryPolicy {
    /// Production's rules with another first backoff: the test suite shortens it (see
    /// [`crate::github::runner::Runner::retry_base_ms`]) so fault tests stay fast, while the number
    /// of attempts and the rules stay those of production.
    pub fn with_base_delay(base: Duration) -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: base,
            max_delay: base.saturating_mul(20),
            budget: Duration::from_secs(300),
        }
    }
}

/// What went wrong with one attempt.
#[derive(Debug)]
pub enum Failure {
    /// Worth another attempt (after `retry_after` when the server said so).
    Transient {
        reason: String,
        retry_after: Option<Duration>,
        /// The server asked to slow down (429, or any `Retry-After`), not merely failed.
        throttled: bool,
    },
    /// Final: retrying cannot help.
    Permanent(anyhow::Error),
}

impl Failure {
    pub fn transient(reason: impl Into<String>) -> Self {
        Failure::Transient {
            reason: reason.into(),
            retry_after: None,
            throttled: false,
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Permanent(e)
    }
}

/// Told each time a server asks to slow down (see [`Http::on_throttle`]).
pub type ThrottleHook = Arc<dyn Fn() + Send + Sync>;

#[derive(Clone)]
pub struct Http {
    pub client: reqwest::Client,
    /// Never follows redirects: for uploads (a redirected POST turns into a body-less GET
    /// whose 200 would look like success) and for the GitHub API, whose artifact redirect
    /// must be followed without the token.
    pub no_redirect: reqwest::Client,
    /// Sends files (the index's uploads, a Release's assets): never follows redirects, and
    /// speaks HTTP/1.1 even to a server offering HTTP/2, so that each file in flight has a
    /// connection of its own (its own TCP window, its own TLS stream on whichever core is
    /// free) instead of all of them sharing one: measured faster in every preset of
    /// `bench/publish.py` (README, Performance).
    pub upload: reqwest::Client,
    pub policy: RetryPolicy,
    /// The longest a response may stall between two reads, and the whole of a small API
    /// request: nothing can hang a job forever.
    pub timeout: Duration,
    on_throttle: Option<ThrottleHook>,
}

impl Http {
    pub fn new(policy: RetryPolicy, timeout: Duration) -> anyhow::Result<Self> {
        let client = Self::builder(timeout)
            // For reads: reqwest drops `Authorization` on a cross-host redirect.
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .context("could not set up the HTTP client (TLS roots?)")?;
        let no_redirect = Self::builder(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("could not set up the HTTP client (TLS roots?)")?;
        let upload = Self::builder(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .http1_only()
            .build()
            .context("could not set up the HTTP client (TLS roots?)")?;
        Ok(Http {
            client,
            no_redirect,
            upload,
            policy,
            timeout,
            on_throttle: None,
        })
    }

    /// The same client (same connections), whose requests also tell `hook` each time a
    /// server asks to slow down: the uploads lower their concurrency with it.
    pub fn on_throttle(&self, hook: ThrottleHook) -> Http {
        Http {
            on_throttle: Some(hook),
            ..self.clone()
        }
    }

    /// The settings every client of this program shares. Connections are pooled and reused
    /// (a far index costs a round trip or three per new TLS connection), and HTTP/2 is used
    /// when the server offers it in the TLS handshake (ALPN; reqwest's `http2` feature is on),
    /// so the many small reads of a publish share one connection to the index.
    pub fn builder(timeout: Duration) -> reqwest::ClientBuilder {
        static TLS_PROVIDER: std::sync::Once = std::sync::Once::new();
        // reqwest takes the process's default provider; an error only says one is set.
        TLS_PROVIDER.call_once(|| {
            let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        });
        reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .read_timeout(timeout)
            .pool_idle_timeout(POOL_IDLE_TIMEOUT)
            .tcp_nodelay(true)
            // Uploads of many files over one HTTP/2 connection: let flow control grow the
            // windows to the link rather than stall a far index's answers at 64 KiB.
            .http2_adaptive_window(true)
    }

    /// Run `attempt` until it succeeds, fails permanently, or the policy is exhausted.
    /// `what` names the operation in logs and in the final error.
    pub async fn retry<T, F, Fut>(&self, what: &str, mut attempt: F) -> anyhow::Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, Failure>>,
    {
        let start = Instant::now();
        let mut waited = Duration::ZERO;
        let mut n = 0;
        loop {
            n += 1;
            let (reason, retry_after) = match attempt(n).await {
                Ok(v) => return Ok(v),
                Err(Failure::Permanent(e)) => return Err(e),
                Err(Failure::Transient {
                    reason,
                    retry_after,
                    throttled,
                }) => {
                    if throttled {
                        if let Some(hook) = &self.on_throttle {
                            hook();
                        }
                    }
                    (reason, retry_after)
                }
            };
            let delay = self.delay(n, retry_after);
            if n >= self.policy.max_attempts || waited + delay > self.policy.budget {
                return Err(anyhow!(
                    "{what} failed after {n} attempt{} over {:.1}s; last error: {reason}",
                    if n == 1 { "" } else { "s" },
                    start.elapsed().as_secs_f64()
                ));
            }
            tracing::warn!(
                "{what}: attempt {n} of {} failed ({reason}); retrying in {:.1}s",
                self.policy.max_attempts,
                delay.as_secs_f64()
            );
            tokio::time::sleep(delay).await;
            waited += delay;
        }
    }

    fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .policy
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        // Full jitter in the upper half keeps concurrent uploads from retrying in lockstep.
        let jittered = exp.mul_f64(0.5 + fastrand::f64() * 0.5);
        let backoff = jittered.min(self.policy.max_delay);
        match retry_after {
            Some(server) => server.max(backoff).min(self.policy.budget),
            None => backoff,
        }
    }
}

/// Is this transport error worth another attempt? Connection failures, timeouts and bodies
/// cut off in flight are; a malformed URL or a TLS policy error is not.
pub fn transport_failure(what: &str, e: reqwest::Error) -> Failure {
    // Never show URLs in errors: a presigned blob URL carries a credential in its query.
    let e = e.without_url();
    let detail = error_chain(&e);
    // A certificate the runner does not accept stays so: retrying only delays the answer.
    if let Some(reason) = rejected_certificate(&e) {
        let hint = match reason {
            rustls::CertificateError::UnknownIssuer => {
                " An index with a certificate authority of its own needs it among the runner's \
                 roots: point SSL_CERT_FILE at a bundle that holds it (README, \"Private indexes \
                 and SSL_CERT_FILE\")."
            }
            _ => "",
        };
        return Failure::Permanent(anyhow!(
            "{what}: the server's TLS certificate was refused ({detail}).{hint}"
        ));
    }
    if e.is_connect() || e.is_timeout() || e.is_request() || e.is_body() || e.is_decode() {
        Failure::transient(format!("{what}: {detail}"))
    } else {
        Failure::Permanent(anyhow!("{what}: {detail}"))
    }
}

/// Why rustls refused the server's certificate, if that is what failed. rustls's error sits
/// in an `io::Error` (in another, through reqwest's connector), whose `source()` skips what
/// it holds, so each `io::Error` on the way is opened instead.
fn rejected_certificate(e: &(dyn std::error::Error + 'static)) -> Option<rustls::CertificateError> {
    let mut cause = Some(e);
    while let Some(err) = cause {
        if let Some(rustls::Error::InvalidCertificate(reason)) = err.downcast_ref::<rustls::Error>()
        {
            return Some(reason.clone());
        }
        cause = match err
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
        {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => err.source(),
        };
    }
    None
}

/// The full cause chain of an error on one line (reqwest hides the interesting part, such as
/// "connection refused", in its sources).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    s
}

/// The most of an error answer that is read (and then shown in part).
pub const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// The most of a JSON answer that is read: far above any real answer of the services spoken
/// to, far below what could exhaust memory when a broken proxy streams without end.
pub const JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// Read at most `limit` bytes of a body; the flag says whether it was cut.
pub async fn read_limited(
    mut resp: Response,
    limit: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut out = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        let room = limit - out.len();
        if chunk.len() > room {
            out.extend_from_slice(&chunk[..room]);
            return Ok((out, true));
        }
        out.extend_from_slice(&chunk);
    }
    Ok((out, false))
}

/// An error answer's text, bounded; a failure to read it gives what was read (maybe nothing).
pub async fn error_text(resp: Response) -> String {
    match read_limited(resp, ERROR_BODY_LIMIT).await {
        Ok((bytes, _)) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => String::new(),
    }
}

/// A JSON answer's text, refused when larger than [`JSON_BODY_LIMIT`].
pub async fn json_text(what: &str, resp: Response) -> Result<String, Failure> {
    let (bytes, cut) = read_limited(resp, JSON_BODY_LIMIT)
        .await
        .map_err(|e| transport_failure(what, e))?;
    if cut {
        return Err(Failure::Permanent(anyhow!(
            "{what}: the answer is larger than {} MiB; refusing to read it",
            JSON_BODY_LIMIT >> 20
        )));
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// An answer read whole, after [`Http::send_text`] classified it.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON. A body that is not JSON at all (a proxy's or CDN's error page, even
    /// under a 2xx) is transient; what the JSON means is for the caller to judge.
    pub fn json_value(&self, what: &str) -> Result<serde_json::Value, Failure> {
        serde_json::from_str(&self.text).map_err(|_| {
            Failure::transient(format!(
                "{what}: HTTP {}, not JSON{}",
                self.status,
                snippet(&self.text)
            ))
        })
    }
}

impl Http {
    /// GET a JSON document that may not exist: `None` for a 404, the value for a 2xx, a
    /// permanent failure quoting the answer otherwise (a non-JSON page is transient, as a
    /// CDN's error page is).
    pub async fn get_json_if_any(
        &self,
        what: &str,
        url: url::Url,
    ) -> Result<Option<serde_json::Value>, Failure> {
        let request = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json");
        let answer = self.send_text(what, request).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(Failure::Permanent(anyhow!(
                "{what}: HTTP {}{}",
                answer.status,
                snippet(&answer.text)
            )));
        }
        answer.json_value(what).map(Some)
    }

    /// Send one request with the small-request timeout and read its answer (bounded):
    /// transport errors, 429 and 5xx come back as [`Failure::Transient`], every other status
    /// as an [`Answer`] for the caller to judge. The one way every API call of this program
    /// is made, so they all fail and retry alike.
    pub async fn send_text(
        &self,
        what: &str,
        req: reqwest::RequestBuilder,
    ) -> Result<Answer, Failure> {
        let resp = req
            .timeout(self.timeout)
            .send()
            .await
            .map_err(|e| transport_failure(what, e))?;
        let resp = transient_status(what, resp).await?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let text = json_text(what, resp).await?;
        Ok(Answer {
            status,
            headers,
            text,
        })
    }
}

/// Statuses that say "try again": rate limiting and server-side failures.
pub fn is_transient_status(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
        || status.is_server_error()
}

/// `Retry-After` as seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    when.duration_since(std::time::SystemTime::now()).ok()
}

/// Turn a transient status into a [`Failure::Transient`] carrying the server's words, and
/// pass every other response through.
pub async fn transient_status(what: &str, resp: Response) -> Result<Response, Failure> {
    let status = resp.status();
    if !is_transient_status(status) {
        return Ok(resp);
    }
    let retry_after = retry_after(resp.headers());
    let throttled = status == StatusCode::TOO_MANY_REQUESTS || retry_after.is_some();
    let body = error_text(resp).await;
    Err(Failure::Transient {
        reason: format!("{what}: HTTP {status}{}", snippet(&body)),
        retry_after,
        throttled,
    })
}

/// A short, single-line excerpt of a response body for an error message.
pub fn snippet(body: &str) -> String {
    let one_line: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.is_empty() {
        return String::new();
    }
    let cut: String = one_line.chars().take(300).collect();
    let more = if cut.len() < one_line.len() {
        "…"
    } else {
        ""
    };
    format!(": {}{more}", crate::inert::shown(&cut))
}

/// A URL from an answer (an index's file or release page, GitHub's release or asset), kept
/// only when it is an absolute http(s) URL, and then in its parsed form: it reaches outputs,
/// the summary and the log, and a `javascript:` link or a line break in it must not.
///
/// The fragment is dropped: a download needs none, and without one no `#` (nor the runner's
/// `##[` command syntax) can remain in the URL.
pub fn web_url(s: &str) -> Option<String> {
    let mut url = url::Url::parse(s)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.has_host())?;
    url.set_fragment(None);
    Some(url.into())
}

/// [`web_url`] as a serde field reader.
pub fn web_url_field<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    use serde::Deserialize;
    Ok(Option::<String>::deserialize(d)?
        .as_deref()
        .and_then(web_url))
}

/// Where a redirect answer points, resolved against the request's URL, for an error message.
pub(crate) fn redirect_target(url: &url::Url, reply: &Answer) -> String {
    match reply
        .headers
        .get(LOCATION)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    {
        Some(location) => match url.join(&location) {
            Ok(target) => crate::inert::shown(target).to_string(),
            Err(_) => format!("{:?}", location),
        },
        None => "(no Location header)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_and_dates() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let future = std::time::SystemTime::now() + Duration::from_secs(120);
        h.insert(
            RETRY_AFTER,
            httpdate::fmt_http_date(future).parse().unwrap(),
        );
        let d = retry_after(&h).unwrap();
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120));
    }

    #[tokio::test]
    async fn retries_transient_then_succeeds_and_stops_on_permanent() {
        let http = Http::new(
            RetryPolicy {
                max_attempts: 4,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
                budget: Duration::from_secs(5),
            },
            Duration::from_secs(5),
        )
        .unwrap();
        let got = http
            .retry("thing", |n| async move {
                if n < 3 {
                    Err(Failure::transient("flaky"))
                } else {
                    Ok(n)
                }
            })
            .await
            .unwrap();
        assert_eq!(got, 3);

        let mut calls = 0;
        let err = http
            .retry("thing", |_| {
                calls += 1;
                async { Err::<(), _>(Failure::Permanent(anyhow!("nope"))) }
            })
            .await
            .unwrap_err();
        assert_eq!(calls, 1);
        assert_eq!(err.to_string(), "nope");

        let err = http
            .retry("thing", |_| async {
                Err::<(), _>(Failure::transient("down"))
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("after 4 attempts"), "{err}");
        assert!(err.to_string().contains("down"), "{err}");
    }

    #[tokio::test]
    async fn a_server_asking_to_slow_down_is_told_to_the_hook_and_a_plain_failure_is_not() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let told = Arc::new(AtomicUsize::new(0));
        let counter = told.clone();
        let http = Http::new(
            RetryPolicy {
                max_attempts: 4,
                base_delay: Duration::from_millis(1),
                max_delay: Duration::from_millis(2),
                budget: Duration::from_secs(5),
            },
            Duration::from_secs(5),
        )
        .unwrap()
        .on_throttle(Arc::new(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        }));
        let got = http
            .retry("thing", |n| async move {
                match n {
                    1 => Err(Failure::transient("connection reset")),
                    2 | 3 => Err(Failure::Transient {
                        reason: "HTTP 429".into(),
                        retry_after: Some(Duration::ZERO),
                        throttled: true,
                    }),
                    _ => Ok(n),
                }
            })
            .await
            .unwrap();
        assert_eq!(got, 4);
        assert_eq!(told.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_refused_certificate_is_found_inside_nested_io_errors() {
        use std::io::{Error, ErrorKind};
        let refused = rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer);
        // As reqwest's connector hands it over: io::Error(Other, io::Error(InvalidData, ..)).
        let nested = Error::other(Error::new(ErrorKind::InvalidData, refused));
        assert_eq!(
            rejected_certificate(&nested),
            Some(rustls::CertificateError::UnknownIssuer)
        );
        let other = Error::other(Error::new(
            ErrorKind::InvalidData,
            rustls::Error::DecryptError,
        ));
        assert_eq!(rejected_certificate(&other), None);
        let refused_connection = Error::from(ErrorKind::ConnectionRefused);
        assert_eq!(rejected_certificate(&refused_connection), None);
    }

    #[test]
    fn snippet_is_one_bounded_line() {
        assert_eq!(snippet(""), "");
        assert_eq!(snippet("a\n b"), ": a b");
        assert!(snippet(&"x".repeat(1000)).ends_with('…'));
    }

    #[test]
    fn urls_from_answers_are_kept_only_when_they_are_web_urls() {
        assert_eq!(
            web_url("https://files.example/a b.whl").as_deref(),
            Some("https://files.example/a%20b.whl")
        );
        assert_eq!(
            web_url("https://x.example/\n::stop-commands::y").as_deref(),
            Some("https://x.example/::stop-commands::y")
        );
        assert_eq!(
            web_url("https://x.example/a.whl#sha256=00 ##[add-mask]z").as_deref(),
            Some("https://x.example/a.whl")
        );
        assert_eq!(web_url("javascript:alert(1)"), None);
        assert_eq!(web_url("/relative/path.whl"), None);
    }
}
