//! Helpers: real distributions, raw HTTP uploads (to see the reason phrase) and ID tokens.
use std::io::Write;

use base64::Engine;
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use md5::Md5;
use sha2::Sha256;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use testbed::{TrustedIssuer, Warehouse, WarehouseConfig};

pub const ISSUER: &str = "https://token.actions.githubusercontent.com";

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Digests {
    pub md5: String,
    pub sha256: String,
    pub blake2_256: String,
}

pub fn digests(data: &[u8]) -> Digests {
    Digests {
        md5: hex(&Md5::digest(data)),
        sha256: hex(&Sha256::digest(data)),
        blake2_256: hex(&Blake2b::<U32>::digest(data)),
    }
}

/// A minimal but valid pure-Python wheel (METADATA, WHEEL, RECORD, one module).
pub fn wheel(dist: &str, version: &str, extra_module: &str) -> Vec<u8> {
    let info = format!("{dist}-{version}.dist-info");
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            format!("{dist}/__init__.py"),
            format!("VALUE = {extra_module:?}\n").into_bytes(),
        ),
        (
            format!("{info}/METADATA"),
            format!(
                "Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\nSummary: test \
                 package\nRequires-Python: >=3.8\n"
            )
            .into_bytes(),
        ),
        (
            format!("{info}/WHEEL"),
            b"Wheel-Version: 1.0\nGenerator: testbed-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
                .to_vec(),
        ),
    ];
    let mut record = String::new();
    for (name, data) in &files {
        let hash = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
        record.push_str(&format!("{name},sha256={hash},{}\n", data.len()));
    }
    record.push_str(&format!("{info}/RECORD,,\n"));
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in files
            .iter()
            .chain([(format!("{info}/RECORD"), record.into_bytes())].iter())
        {
            zip.start_file(name.as_str(), opts).unwrap();
            zip.write_all(data).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// A minimal sdist `.tar.gz` with a single top-level directory holding PKG-INFO.
pub fn sdist(dist: &str, version: &str, marker: &str) -> Vec<u8> {
    let top = format!("{dist}-{version}");
    let pkg_info = format!("Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n");
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, data) in [
        (format!("{top}/PKG-INFO"), pkg_info.into_bytes()),
        (format!("{top}/setup.py"), marker.as_bytes().to_vec()),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        tar.append_data(&mut header, name, data.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A multipart upload form (fields in order, then the file).
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub filename: Option<String>,
    pub content: Vec<u8>,
    pub content_type: Option<String>,
}

impl Upload {
    /// The fields twine would send for this file.
    pub fn for_file(name: &str, version: &str, filename: &str, content: Vec<u8>) -> Upload {
        let d = digests(&content);
        let sdist = filename.ends_with(".tar.gz") || filename.ends_with(".zip");
        let fields = [
            (":action", "file_upload"),
            ("protocol_version", "1"),
            ("metadata_version", "2.1"),
            ("name", name),
            ("version", version),
            ("filetype", if sdist { "sdist" } else { "bdist_wheel" }),
            ("pyversion", if sdist { "source" } else { "py3" }),
            ("summary", "test package"),
            ("requires_python", ">=3.8"),
            ("md5_digest", &d.md5),
            ("sha256_digest", &d.sha256),
            ("blake2_256_digest", &d.blake2_256),
        ];
        Upload {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            filename: Some(filename.to_owned()),
            content,
            content_type: Some("application/octet-stream".to_owned()),
        }
    }

    pub fn set(mut self, key: &str, value: &str) -> Upload {
        self.fields.retain(|(k, _)| k != key);
        self.fields.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn add(mut self, key: &str, value: &str) -> Upload {
        self.fields.push((key.to_owned(), value.to_owned()));
        self
    }

    pub fn remove(mut self, key: &str) -> Upload {
        self.fields.retain(|(k, _)| k != key);
        self
    }

    pub fn body(&self, boundary: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for (k, v) in &self.fields {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"
                )
                .as_bytes(),
            );
        }
        if let Some(filename) = &self.filename {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"content\"; filename=\"{filename}\"\r\n"
                )
                .as_bytes(),
            );
            if let Some(ct) = &self.content_type {
                body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&self.content);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        body
    }
}

#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request on a fresh connection, answer read to the end.
pub async fn raw_request(
    wh: &Warehouse,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> RawResponse {
    let addr = wh.url().trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("no end of headers");
    // The reason phrase is ISO-8859-1 on the wire.
    let head: String = raw[..split].iter().map(|&b| b as char).collect();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    parts.next();
    let status = parts.next().unwrap().parse().unwrap();
    let reason = parts.next().unwrap_or_default().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    RawResponse {
        status,
        reason,
        headers,
        body: String::from_utf8_lossy(&raw[split + 4..]).into_owned(),
    }
}

pub fn basic(token: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("__token__:{token}"))
    )
}

/// POSTs the form to `/legacy/` with `Authorization` (if any) and `Accept`.
pub async fn upload(
    wh: &Warehouse,
    form: &Upload,
    authorization: Option<String>,
    accept: Option<&str>,
) -> RawResponse {
    let boundary = "testbedboundary7MA4YWxkTrZu0gW";
    let mut headers = vec![(
        "Content-Type",
        format!("multipart/form-data; boundary={boundary}"),
    )];
    if let Some(auth) = authorization {
        headers.push(("Authorization", auth));
    }
    if let Some(accept) = accept {
        headers.push(("Accept", accept.to_owned()));
    }
    raw_request(wh, "POST", "/legacy/", &headers, &form.body(boundary)).await
}

pub async fn start(config: WarehouseConfig) -> Warehouse {
    Warehouse::start(config).await.unwrap()
}

/// A stand-in for PyPI itself, whose audience is `pypi`.
pub fn oidc_config() -> WarehouseConfig {
    WarehouseConfig {
        audience: "pypi".to_owned(),
        trusted_issuer: Some(TrustedIssuer {
            issuer: ISSUER.to_owned(),
            public_key_pem: testbed::GITHUB_OIDC_TEST_PUBLIC_KEY_PEM.to_owned(),
        }),
        ..WarehouseConfig::default()
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Claims of a GitHub Actions ID token for `owner/repo`'s `workflow`.
pub fn claims(
    owner: &str,
    repo: &str,
    workflow: &str,
    environment: Option<&str>,
) -> serde_json::Value {
    let now = now();
    let jti: [u8; 16] = rand::random();
    let mut claims = serde_json::json!({
        "jti": hex(&jti),
        "sub": format!("repo:{owner}/{repo}:ref:refs/tags/v1.0"),
        "aud": "pypi",
        "ref": "refs/tags/v1.0",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "repository": format!("{owner}/{repo}"),
        "repository_owner": owner,
        "repository_owner_id": "4242",
        "repository_id": "777",
        "run_id": "1",
        "event_name": "push",
        "workflow_ref": format!("{owner}/{repo}/.github/workflows/{workflow}@refs/tags/v1.0"),
        "job_workflow_ref": format!("{owner}/{repo}/.github/workflows/{workflow}@refs/tags/v1.0"),
        "iss": ISSUER,
        "nbf": now - 5,
        "iat": now - 5,
        "exp": now + 300,
    });
    if let Some(env) = environment {
        claims["environment"] = env.into();
        claims["sub"] = format!("repo:{owner}/{repo}:environment:{env}").into();
    }
    claims
}

pub fn sign(claims: &serde_json::Value) -> String {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(testbed::GITHUB_OIDC_TEST_KEY_PEM.as_bytes())
        .unwrap();
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        claims,
        &key,
    )
    .unwrap()
}

/// POSTs `body` to the mint endpoint; returns (status, JSON body).
pub async fn mint_raw(wh: &Warehouse, body: String) -> (u16, serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/_/oidc/mint-token", wh.url()))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, json)
}

pub async fn mint(wh: &Warehouse, jwt: &str) -> (u16, serde_json::Value) {
    mint_raw(wh, serde_json::json!({ "token": jwt }).to_string()).await
}

/// The error code and description of a 422 mint answer.
pub fn mint_error(body: &serde_json::Value) -> (String, String) {
    assert_eq!(body["message"], "Token request failed", "{body}");
    let err = &body["errors"][0];
    (
        err["code"].as_str().unwrap().to_owned(),
        err["description"].as_str().unwrap().to_owned(),
    )
}
