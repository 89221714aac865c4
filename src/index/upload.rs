//! Warehouse's legacy upload API: one multipart POST per file.
//!
//! The file is streamed from disk, never held in memory, and hashed on the way out: the
//! sha256 and blake2b-256 form fields follow the `content` part, which Warehouse (and every
//! index that parses the whole form first) accepts. When the digests are already known the
//! fields go before the content, which is the order any index accepts.
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use reqwest::{Body, StatusCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use url::Url;

use crate::distribution::Distribution;
use crate::hashing::{Digests, Hasher};
use crate::http::{self, Failure, Http, FILE_CHUNK};
use crate::secret::Secret;

const FILE_CHANGED: &str = "changed while it was being uploaded";

/// How many file bodies are read, hashed and sent at once, across all uploads: the only part
/// of an upload that holds buffers. An upload takes a slot just before it sends its file and
/// gives it back once the file has been read to its end and the connection has written (or
/// dropped) every chunk of it, so the uploads that wait on the index's answer (most of a far
/// index's time) hold none, and the uploads in flight are bounded by the concurrency alone.
/// Counting the chunks the connection still holds matters over HTTP/2, where a stream's data
/// waits in the connection's buffers for its flow-control window.
#[derive(Clone)]
pub struct BodySlots(Arc<Semaphore>);

impl BodySlots {
    pub fn new(slots: usize) -> Self {
        BodySlots(Arc::new(Semaphore::new(slots.max(1))))
    }

    /// Wait for a free slot. The semaphore is never closed; if it ever were, sending without
    /// a slot is better than failing the upload.
    async fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.0.clone().acquire_owned().await.ok()
    }

    /// Slots free right now.
    #[cfg(test)]
    fn free(&self) -> usize {
        self.0.available_permits()
    }
}

#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: Secret,
    /// The one upload URL a minted token may be sent to: the one it was minted for.
    pub only_to: Option<Url>,
}

impl Credentials {
    /// A minted token goes nowhere but where it was minted for.
    fn check_destination(&self, url: &Url) -> anyhow::Result<()> {
        match &self.only_to {
            Some(allowed) if allowed != url => Err(anyhow!(
                "refusing to send the minted upload token to {url}: it was minted for uploads \
                 to {allowed} only"
            )),
            _ => Ok(()),
        }
    }
}

/// Why the index refused a file, classified so the caller can explain what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 403: the credentials are not valid (or, for a minted token, no longer valid).
    Auth { message: String },
    /// 403: valid credentials without the right to upload to this project.
    Forbidden { message: String },
    /// 400: another file with this name exists on the index.
    FileExists {
        message: String,
        index_blake2_256: Option<String>,
    },
    /// 400: the release already has a (different) sdist.
    SdistExists { message: String },
    /// 409, as indexes other than Warehouse (pypiserver, devpi) answer for an existing file.
    Conflict { message: String },
    /// Anything else the index refused.
    Other { status: u16, message: String },
}

impl Refusal {
    pub fn message(&self) -> &str {
        match self {
            Refusal::Auth { message }
            | Refusal::Forbidden { message }
            | Refusal::FileExists { message, .. }
            | Refusal::SdistExists { message }
            | Refusal::Conflict { message } => message,
            Refusal::Other { message, .. } => message,
        }
    }

    fn classify(status: StatusCode, message: String) -> Refusal {
        let lower = message.to_ascii_lowercase();
        match status.as_u16() {
            403 if lower.contains("invalid or non-existent authentication")
                || lower.contains("invalid api token")
                || lower.contains("expired") =>
            {
                Refusal::Auth { message }
            }
            401 => Refusal::Auth { message },
            403 => Refusal::Forbidden { message },
            400 if lower.contains("file already exists") => Refusal::FileExists {
                index_blake2_256: blake2_from_message(&message),
                message,
            },
            400 if lower.contains("only one sdist may be uploaded per release") => {
                Refusal::SdistExists { message }
            }
            409 => Refusal::Conflict { message },
            code => Refusal::Other {
                status: code,
                message,
            },
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = match self {
            Refusal::Auth { .. } | Refusal::Forbidden { .. } => 403,
            Refusal::FileExists { .. } | Refusal::SdistExists { .. } => 400,
            Refusal::Conflict { .. } => 409,
            Refusal::Other { status, .. } => *status,
        };
        write!(f, "the index answered {status}: {}", self.message())
    }
}

impl std::error::Error for Refusal {}

/// Why one upload did not go through.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The index answered and refused the file.
    #[error("{0}")]
    Refused(Refusal),
    /// No answer that settles it: the retries ran out, or the file could not be read.
    #[error("{0:#}")]
    Failed(anyhow::Error),
}

/// `File already exists ('x.whl', with blake2_256 hash 'HEX'). ...` -> HEX
fn blake2_from_message(message: &str) -> Option<String> {
    let rest = message.split("blake2_256 hash '").nth(1)?;
    let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
    (hex.len() == 64).then_some(hex)
}

/// The index's own words for a refusal: the HTTP reason phrase (Warehouse puts its message
/// there), else the text of the body with any HTML stripped.
async fn refusal_message(resp: reqwest::Response) -> String {
    let reason = resp
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned());
    let canonical = resp.status().canonical_reason().unwrap_or("");
    let body = http::error_text(resp).await;
    if let Some(reason) = reason.filter(|r| !r.is_empty() && r != canonical) {
        return crate::inert::shown(reason).to_string();
    }
    let text = strip_tags(&body);
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Pyramid's plain-text error page repeats the generic explanation; keep what follows.
    let text = text
        .split("malformed or otherwise incorrect.")
        .last()
        .unwrap_or(&text)
        .trim()
        .to_owned();
    if text.is_empty() {
        canonical.to_owned()
    } else {
        let text: String = text.chars().take(1000).collect();
        crate::inert::shown(text).to_string()
    }
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// What one upload needs besides the file.
pub struct UploadRequest<'a> {
    pub url: &'a Url,
    pub credentials: &'a Credentials,
    pub distribution: &'a Distribution,
    /// Digests computed beforehand, if any; otherwise they are computed while streaming.
    pub known_digests: Option<&'a Digests>,
    /// PEP 740 attestations, a JSON array, sent as the `attestations` field.
    pub attestations: Option<&'a str>,
    /// Advanced by every byte sent (terminal only).
    pub progress: Option<&'a indicatif::ProgressBar>,
    /// Shared with the other uploads of the publish; `None`: no bound.
    pub body_slots: Option<&'a BodySlots>,
}

/// Upload one file, retrying transient failures. On success returns the digests of the bytes
/// that were sent.
pub async fn upload(http: &Http, req: &UploadRequest<'_>) -> Result<Digests, UploadError> {
    req.credentials
        .check_destination(req.url)
        .map_err(UploadError::Failed)?;
    let filename = &req.distribution.filename;
    let what = format!("upload of {filename}");
    // A refusal is an answer, not a failed attempt: it leaves the retry loop as a value.
    match http.retry(&what, |_| attempt(http, req)).await {
        Ok(Ok(digests)) => Ok(digests),
        Ok(Err(refusal)) => Err(UploadError::Refused(refusal)),
        Err(e) => Err(UploadError::Failed(e)),
    }
}

async fn attempt(
    http: &Http,
    req: &UploadRequest<'_>,
) -> Result<Result<Digests, Refusal>, Failure> {
    let dist = req.distribution;
    let (form, digests_rx) = build_form(req).await?;
    let timeout = upload_timeout(dist.size);
    let resp = http
        .upload
        .post(req.url.clone())
        .basic_auth(
            &req.credentials.username,
            Some(req.credentials.password.expose()),
        )
        .timeout(timeout)
        .multipart(form)
        .send()
        .await
        .map_err(|e| {
            // The file changing under us is no network fault: retrying cannot help.
            if http::error_chain(&e).contains(FILE_CHANGED) {
                return Failure::Permanent(anyhow!(
                    "{} {FILE_CHANGED}: it must not be modified while it is published",
                    dist.path.display()
                ));
            }
            http::transport_failure(&format!("sending {}", dist.filename), e)
        })?;
    let resp = http::transient_status(&format!("uploading {}", dist.filename), resp).await?;
    let status = resp.status();
    if status.is_redirection() {
        let to = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|l| l.to_str().ok())
            .unwrap_or("(no Location)")
            .to_owned();
        return Ok(Err(Refusal::Other {
            status: status.as_u16(),
            message: format!(
                "the index redirects uploads to {}; a redirected upload is not resent, so \
                 set --repository-url (the `repository-url` input) to the final URL",
                crate::inert::shown(to)
            ),
        }));
    }
    if !status.is_success() {
        let message = refusal_message(resp).await;
        return Ok(Err(Refusal::classify(status, message)));
    }
    // Read the answer to its end: a connection dropped before the index finished answering
    // leaves the outcome unknown, and an identical re-upload is safe (it answers 200).
    http::read_limited(resp, http::ERROR_BODY_LIMIT)
        .await
        .map_err(|e| {
            http::transport_failure(&format!("reading the answer to {}", dist.filename), e)
        })?;
    let digests = match (req.known_digests, digests_rx) {
        (Some(d), _) => d.clone(),
        (None, Some(rx)) => rx.await.map_err(|_| {
            Failure::Permanent(anyhow!(
                "{}: the upload finished but the file was not read to its end",
                dist.filename
            ))
        })?,
        (None, None) => return Err(Failure::Permanent(anyhow!("internal: no digests"))),
    };
    Ok(Ok(digests))
}

/// A generous bound on one upload: a stall is caught sooner by the read timeout.
fn upload_timeout(size: u64) -> Duration {
    Duration::from_secs(120 + size / (256 * 1024))
}

type DigestsRx = tokio::sync::oneshot::Receiver<Digests>;

async fn build_form(req: &UploadRequest<'_>) -> Result<(Form, Option<DigestsRx>), Failure> {
    let dist = req.distribution;
    let mut form = Form::new()
        .text(":action", "file_upload")
        .text("protocol_version", "1");
    for (key, value) in dist.form_fields() {
        form = form.text(key, value);
    }
    if let Some(att) = req.attestations {
        form = form.text("attestations", att.to_owned());
    }
    if let Some(d) = req.known_digests {
        form = form
            .text("sha256_digest", d.sha256.clone())
            .text("blake2_256_digest", d.blake2_256.clone());
    }
    let file = tokio::fs::File::open(&dist.path)
        .await
        .with_context(|| format!("cannot open {} for upload", dist.path.display()))?
        .into_std()
        .await;
    // Taken before the request goes out, so the wait is not counted against the
    // connection's read timeout; given back by the stream at the file's end.
    let slot = match req.body_slots {
        Some(slots) => slots.take().await,
        None => None,
    };
    let (tx, rx) = tokio::sync::oneshot::channel();
    let body = Body::wrap_stream(hashing_stream(
        file,
        dist.size,
        dist.path.display().to_string(),
        tx,
        req.progress.cloned(),
        slot,
    ));
    let content = Part::stream_with_length(body, dist.size)
        .file_name(dist.filename.clone())
        .mime_str("application/octet-stream")
        .map_err(|e| Failure::Permanent(anyhow!("content part: {e}")))?;
    form = form.part("content", content);
    if req.known_digests.is_some() {
        return Ok((form, None));
    }
    // The digest parts resolve once the content stream has been read to its end; multipart
    // parts are sent in order, so by then the whole file has gone out.
    let (sha_tx, sha_rx) = tokio::sync::oneshot::channel::<Digests>();
    let (blake_tx, blake_rx) = tokio::sync::oneshot::channel::<String>();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Digests>();
    tokio::spawn(async move {
        if let Ok(d) = rx.await {
            let _ = blake_tx.send(d.blake2_256.clone());
            let _ = sha_tx.send(d.clone());
            let _ = done_tx.send(d);
        }
    });
    let sha_part = deferred_part(async move { sha_rx.await.map(|d| d.sha256) });
    let blake_part = deferred_part(blake_rx);
    form = form
        .part("sha256_digest", sha_part)
        .part("blake2_256_digest", blake_part);
    Ok((form, Some(done_rx)))
}

/// A 64-character hex field whose value is known only later.
fn deferred_part<F>(value: F) -> Part
where
    F: std::future::Future<Output = Result<String, tokio::sync::oneshot::error::RecvError>>
        + Send
        + 'static,
{
    let stream = futures_util::stream::once(async move {
        value
            .await
            .map(Bytes::from)
            .map_err(|_| std::io::Error::other("the file stream ended early"))
    });
    Part::stream_with_length(Body::wrap_stream(stream), 64)
}

/// Stream a file in chunks, hashing each one, and send the digests when the end is reached.
/// A file whose length changed since it was checked fails the stream instead of sending a
/// body that disagrees with its declared length. `slot` is held until the stream ends (its
/// last chunk read, a failure, or the body dropped unsent) and no chunk it gave out is alive.
fn hashing_stream(
    file: std::fs::File,
    expected: u64,
    label: String,
    tx: tokio::sync::oneshot::Sender<Digests>,
    progress: Option<indicatif::ProgressBar>,
    slot: Option<OwnedSemaphorePermit>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    struct State {
        file: std::fs::File,
        hasher: Hasher,
        tx: Option<tokio::sync::oneshot::Sender<Digests>>,
        slot: Option<Arc<OwnedSemaphorePermit>>,
    }
    let state = State {
        file,
        hasher: Hasher::default(),
        tx: Some(tx),
        slot: slot.map(Arc::new),
    };
    futures_util::stream::unfold(Some(state), move |state| {
        let label = label.clone();
        let progress = progress.clone();
        async move {
            let mut st = state?;
            let (file, read) = next_chunk(st.file).await;
            st.file = match file {
                Some(file) => file,
                None => return Some((Err(std::io::Error::other("the reader is gone")), None)),
            };
            let buf = match read {
                Ok(buf) => buf,
                Err(e) => return Some((Err(e), None)),
            };
            let n = buf.len();
            if n == 0 {
                if st.hasher.len() != expected {
                    let e = std::io::Error::other(format!(
                        "{label} {FILE_CHANGED} ({} bytes instead of {expected})",
                        st.hasher.len()
                    ));
                    return Some((Err(e), None));
                }
                if let Some(tx) = st.tx.take() {
                    let _ = tx.send(st.hasher.finish());
                }
                return None;
            }
            let chunk = match &st.slot {
                Some(slot) => Bytes::from_owner(SlotChunk {
                    bytes: buf,
                    _slot: slot.clone(),
                }),
                None => buf,
            };
            st.hasher.update_parallel(chunk.clone()).await;
            if let Some(p) = &progress {
                p.inc(n as u64);
            }
            Some((Ok::<Bytes, std::io::Error>(chunk), Some(st)))
        }
    })
}

/// The next `FILE_CHUNK` bytes of `file` (fewer at its end, none past it), read on the blocking
/// pool straight into a buffer that is neither zeroed first nor copied after, as tokio's
/// `File` would (it reads into a buffer of its own): a 300 MiB release is 300 MiB less of
/// each. The file comes back for the next read, unless the blocking pool is shutting down.
async fn next_chunk(file: std::fs::File) -> (Option<std::fs::File>, std::io::Result<Bytes>) {
    // Allocated here, not on the blocking thread: the chunk is freed on the runtime's threads,
    // and memory freed there goes back to the allocator's pools of the threads that took it.
    let mut buf = Vec::with_capacity(FILE_CHUNK);
    let read = tokio::task::spawn_blocking(move || {
        // `read_to_end` reads into the spare capacity without initialising it, and `take`
        // keeps it from growing the buffer past one chunk.
        let read = std::io::Read::read_to_end(
            &mut std::io::Read::take(&file, FILE_CHUNK as u64),
            &mut buf,
        );
        (file, read.map(|_| Bytes::from(buf)))
    })
    .await;
    match read {
        Ok((file, read)) => (Some(file), read),
        Err(e) => (None, Err(std::io::Error::other(e))),
    }
}

/// A chunk of a body that keeps the body's slot taken while the connection holds it.
struct SlotChunk {
    bytes: Bytes,
    _slot: Arc<OwnedSemaphorePermit>,
}

impl AsRef<[u8]> for SlotChunk {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_warehouse_refusals() {
        let msg = "File already exists ('demo-1.0-py3-none-any.whl', with blake2_256 hash \
                   '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'). \
                   See https://pypi.org/help/#file-name-reuse for more information.";
        match Refusal::classify(StatusCode::BAD_REQUEST, msg.into()) {
            Refusal::FileExists {
                index_blake2_256, ..
            } => assert_eq!(
                index_blake2_256.as_deref(),
                Some("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            Refusal::classify(StatusCode::FORBIDDEN, "Invalid or non-existent authentication information. See https://pypi.org/help/#invalid-auth for more information.".into()),
            Refusal::Auth { .. }
        ));
        assert!(matches!(
            Refusal::classify(
                StatusCode::FORBIDDEN,
                "The given token isn't allowed to upload to project 'x'".into()
            ),
            Refusal::Forbidden { .. }
        ));
        assert!(matches!(
            Refusal::classify(
                StatusCode::BAD_REQUEST,
                "Only one sdist may be uploaded per release.".into()
            ),
            Refusal::SdistExists { .. }
        ));
    }

    #[tokio::test]
    async fn a_minted_token_is_sent_only_to_the_upload_url_it_was_minted_for() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo-1.0.tar.gz");
        std::fs::write(&path, b"x").unwrap();
        let metadata = crate::distribution::CoreMetadata::parse(
            b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
        )
        .unwrap();
        let distribution = Distribution {
            path,
            filename: "demo-1.0.tar.gz".to_owned(),
            kind: crate::distribution::DistKind::Sdist,
            size: 1,
            metadata,
            pyversion: "source".to_owned(),
        };
        let minted_for = Url::parse("https://index.example/legacy/").unwrap();
        let credentials = Credentials {
            username: "__token__".to_owned(),
            password: Secret::new("pypi-token"),
            only_to: Some(minted_for),
        };
        // Nothing listens there: any attempt to send would fail otherwise.
        let elsewhere = Url::parse("http://127.0.0.1:9/legacy/").unwrap();
        let http = Http::new(
            crate::http::RetryPolicy::with_base_delay(Duration::from_millis(1)),
            Duration::from_secs(5),
        )
        .unwrap();
        let req = UploadRequest {
            url: &elsewhere,
            credentials: &credentials,
            distribution: &distribution,
            known_digests: None,
            attestations: None,
            progress: None,
            body_slots: None,
        };
        let err = upload(&http, &req).await.unwrap_err().to_string();
        assert!(
            err.contains("refusing to send the minted upload token to http://127.0.0.1:9/legacy/")
                && err.contains("https://index.example/legacy/ only"),
            "{err}"
        );
    }

    /// A file of `len` bytes, opened for streaming.
    fn file_of(dir: &tempfile::TempDir, len: usize) -> std::fs::File {
        let path = dir.path().join("f.whl");
        std::fs::write(&path, vec![7u8; len]).unwrap();
        std::fs::File::open(&path).unwrap()
    }

    #[tokio::test]
    async fn a_body_holds_its_slot_until_its_last_byte_and_no_longer() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().unwrap();
        let len = 2 * FILE_CHUNK + 10;
        let slots = BodySlots::new(1);
        let slot = slots.take().await;
        assert!(slot.is_some());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let mut body = Box::pin(hashing_stream(
            file_of(&dir, len),
            len as u64,
            "f.whl".into(),
            tx,
            None,
            slot,
        ));
        let mut sent = 0;
        let mut last = None;
        while sent < len {
            // Every byte of the file still to come: the slot is held.
            assert_eq!(slots.free(), 0, "freed after {sent} of {len} bytes");
            let chunk = body.next().await.unwrap().unwrap();
            sent += chunk.len();
            last = Some(chunk);
        }
        assert!(body.next().await.is_none());
        // Read to its end, but the connection has not written the last chunk yet (an HTTP/2
        // stream waiting for its window): still held.
        assert_eq!(slots.free(), 0);
        assert_eq!(last.map(|c| c.len()), Some(10));
        // Written: the body is still alive (the upload waits on the answer), the slot is free.
        assert_eq!(slots.free(), 1);
        assert_eq!(rx.await.unwrap().sha256.len(), 64);
        drop(body);
        assert_eq!(slots.free(), 1);
    }

    #[tokio::test]
    async fn a_body_dropped_unsent_or_failing_gives_its_slot_back() {
        use futures_util::StreamExt;
        let dir = tempfile::tempdir().unwrap();
        let slots = BodySlots::new(1);
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let body = hashing_stream(
            file_of(&dir, 100),
            100,
            "f".into(),
            tx,
            None,
            slots.take().await,
        );
        assert_eq!(slots.free(), 0);
        drop(body);
        assert_eq!(slots.free(), 1);
        // A file shorter than declared fails the stream, which gives the slot back at once.
        let (tx, _rx) = tokio::sync::oneshot::channel();
        let mut body = Box::pin(hashing_stream(
            file_of(&dir, 100),
            200,
            "f".into(),
            tx,
            None,
            slots.take().await,
        ));
        assert_eq!(body.next().await.unwrap().unwrap().len(), 100);
        assert_eq!(slots.free(), 0);
        let err = body.next().await.unwrap().unwrap_err();
        assert!(err.to_string().contains(FILE_CHANGED), "{err}");
        assert_eq!(slots.free(), 1);
    }

    #[test]
    fn strips_html() {
        assert_eq!(
            strip_tags("<html><body><h1>400 Bad</h1>x</body></html>")
                .split_whitespace()
                .collect::<Vec<_>>(),
            vec!["400", "Bad", "x"]
        );
    }
}
