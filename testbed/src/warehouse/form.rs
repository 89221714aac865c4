//! Reads the multipart body of an upload: text fields into memory, the `content` file part
//! streamed to a temporary file on disk while it is hashed and counted.
use std::path::{Path, PathBuf};

use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use futures_util::StreamExt;
use md5::Md5;
use sha2::Sha256;
use tempfile::TempPath;
use tokio::io::AsyncWriteExt;

type Blake2b256 = Blake2b<U32>;

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Where the `content` part goes.
pub(crate) enum ContentMode {
    /// To a temporary file in `dir`; bytes past `limit` are counted but not written.
    Store { dir: PathBuf, limit: u64 },
    /// Nowhere: read and dropped (bench `sink` mode, injected faults).
    Discard,
}

#[derive(Debug)]
pub(crate) struct Content {
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size: u64,
    /// More bytes than the limit arrived; nothing usable is on disk.
    pub too_large: bool,
    pub md5: String,
    pub sha256: String,
    pub blake2_256: String,
    /// The bytes on disk (deleted when dropped unless persisted).
    pub temp: Option<TempPath>,
}

#[derive(Debug, Default)]
pub(crate) struct UploadForm {
    /// Text fields in the order they came.
    pub fields: Vec<(String, String)>,
    /// Names of parts other than `content` that came as files.
    pub file_fields: Vec<String>,
    /// How many text fields came before the `content` part.
    pub content_at: Option<usize>,
    pub content: Option<Content>,
}

impl UploadForm {
    /// The filename of the `content` part, if any.
    pub fn filename(&self) -> Option<String> {
        self.content.as_ref().and_then(|c| c.filename.clone())
    }
}

async fn drain(req: Request) -> Result<(), String> {
    let mut stream = req.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        chunk.map_err(|e| format!("reading the request body failed: {e}"))?;
    }
    Ok(())
}

async fn new_temp(dir: &Path) -> Result<(tokio::fs::File, TempPath), String> {
    let dir = dir.to_owned();
    let named = tokio::task::spawn_blocking(move || {
        tempfile::Builder::new()
            .prefix("upload-")
            .suffix(".part")
            .tempfile_in(&dir)
            .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))
    })
    .await
    .map_err(|e| format!("temporary file task failed: {e}"))??;
    let (file, path) = named.into_parts();
    Ok((tokio::fs::File::from_std(file), path))
}

/// Reads the whole body. A body that is not `multipart/form-data` is drained and yields an
/// empty form (Warehouse then finds no `:action`).
pub(crate) async fn read(req: Request, mode: &ContentMode) -> Result<UploadForm, String> {
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("multipart/form-data"));
    if !is_multipart {
        drain(req).await?;
        return Ok(UploadForm::default());
    }
    let mut multipart = Multipart::from_request(req, &())
        .await
        .map_err(|e| format!("invalid multipart body: {e}"))?;
    let mut form = UploadForm::default();
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| format!("invalid multipart body: {e}"))?
    {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        if name == "content" {
            form.content_at = Some(form.fields.len());
            let content_type = field.content_type().map(str::to_owned);
            let mut md5 = Md5::new();
            let mut sha256 = Sha256::new();
            let mut blake2 = Blake2b256::new();
            let mut size = 0u64;
            let mut too_large = false;
            let (mut file, temp) = match mode {
                ContentMode::Store { dir, .. } => {
                    let (file, path) = new_temp(dir).await?;
                    (Some(file), Some(path))
                }
                ContentMode::Discard => (None, None),
            };
            let limit = match mode {
                ContentMode::Store { limit, .. } => *limit,
                ContentMode::Discard => u64::MAX,
            };
            while let Some(chunk) = field
                .chunk()
                .await
                .map_err(|e| format!("invalid multipart body: {e}"))?
            {
                size += chunk.len() as u64;
                if too_large {
                    continue;
                }
                if size > limit {
                    too_large = true;
                    file = None;
                    continue;
                }
                if let Some(f) = file.as_mut() {
                    md5.update(&chunk);
                    sha256.update(&chunk);
                    blake2.update(&chunk);
                    f.write_all(&chunk)
                        .await
                        .map_err(|e| format!("cannot write the upload to disk: {e}"))?;
                }
            }
            if let Some(mut f) = file {
                f.flush()
                    .await
                    .map_err(|e| format!("cannot write the upload to disk: {e}"))?;
            }
            form.content = Some(Content {
                filename,
                content_type,
                size,
                too_large,
                md5: hex(&md5.finalize()),
                sha256: hex(&sha256.finalize()),
                blake2_256: hex(&blake2.finalize()),
                temp: if too_large { None } else { temp },
            });
        } else {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| format!("invalid multipart body: {e}"))?;
            if filename.is_some() {
                form.file_fields.push(name.clone());
            }
            form.fields
                .push((name, String::from_utf8_lossy(&bytes).into_owned()));
        }
    }
    Ok(form)
}
