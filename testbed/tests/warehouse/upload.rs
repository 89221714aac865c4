//! The legacy upload API: checks, their order, and Warehouse's messages.
use testbed::faults::{route, Fault};
use testbed::WarehouseConfig;

use crate::support::*;

const INVALID_AUTH: &str = "Invalid or non-existent authentication information. See \
                            https://pypi.org/help/#invalid-auth for more information.";

async fn expect(
    wh: &testbed::Warehouse,
    form: &Upload,
    token: &str,
    status: u16,
    message: &str,
) -> RawResponse {
    let resp = upload(wh, form, Some(basic(token)), None).await;
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (status, message),
        "{}",
        resp.body
    );
    resp
}

#[tokio::test]
async fn stores_wheel_and_sdist_and_records_every_field() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let whl = wheel("demo_pkg", "1.0.0", "a");
    let form = Upload::for_file(
        "Demo.Pkg",
        "1.0.0",
        "demo_pkg-1.0.0-py3-none-any.whl",
        whl.clone(),
    )
    .add("classifiers", "Programming Language :: Python :: 3")
    .add("classifiers", "Operating System :: OS Independent")
    .add("requires_dist", "requests>=2")
    .add("requires_dist", "rich; extra == \"cli\"")
    .add("project_urls", "Source, https://example.org/src")
    .add("project_urls", "Issues, https://example.org/issues");
    let resp = expect(&wh, &form, &token, 200, "OK").await;
    // Warehouse answers with Pyramid's bare HTTPOk page.
    assert_eq!(resp.body, "200 OK\n\n\n\n\n\n\n");

    let tgz = sdist("demo_pkg", "1.0.0", "x");
    expect(
        &wh,
        &Upload::for_file("Demo.Pkg", "1.0.0", "demo_pkg-1.0.0.tar.gz", tgz.clone()),
        &token,
        200,
        "OK",
    )
    .await;

    let files = wh.files("demo-pkg", "1.0");
    assert_eq!(files.len(), 2);
    let stored = files
        .iter()
        .find(|f| f.packagetype == "bdist_wheel")
        .unwrap();
    let d = digests(&whl);
    assert_eq!(stored.filename, "demo_pkg-1.0.0-py3-none-any.whl");
    assert_eq!(
        (stored.sha256.as_str(), stored.md5.as_str()),
        (d.sha256.as_str(), d.md5.as_str())
    );
    assert_eq!(stored.blake2_256, d.blake2_256);
    assert_eq!(stored.size, whl.len() as u64);
    assert_eq!(stored.python_version, "py3");
    assert_eq!(std::fs::read(&stored.path).unwrap(), whl);
    let sd = files.iter().find(|f| f.packagetype == "sdist").unwrap();
    assert_eq!(sd.python_version, "source");

    let uploads = wh.uploads();
    assert_eq!(uploads.len(), 2);
    let first = &uploads[0];
    assert_eq!(first.authorization.as_deref(), Some(basic(&token).as_str()));
    assert_eq!(
        first.filename.as_deref(),
        Some("demo_pkg-1.0.0-py3-none-any.whl")
    );
    let values = |k: &str| -> Vec<&str> {
        first
            .fields
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(values("classifiers").len(), 2);
    assert_eq!(
        values("requires_dist"),
        vec!["requests>=2", "rich; extra == \"cli\""]
    );
    assert!(first.fields.iter().all(|(k, _)| k != "content"));
}

#[tokio::test]
async fn identical_reupload_is_ok_and_a_different_file_is_a_conflict() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let name = "pkg-1.0-py3-none-any.whl";
    let form = Upload::for_file("pkg", "1.0", name, wheel("pkg", "1.0", "a"));
    expect(&wh, &form, &token, 200, "OK").await;
    expect(&wh, &form, &token, 200, "OK").await;
    assert_eq!(wh.files("pkg", "1.0").len(), 1);

    let other = wheel("pkg", "1.0", "b");
    let blake2 = digests(&other).blake2_256;
    let message = format!(
        "File already exists ('{name}', with blake2_256 hash '{blake2}'). See \
         https://pypi.org/help/#file-name-reuse for more information."
    );
    let conflict = Upload::for_file("pkg", "1.0", name, other);
    let resp = expect(&wh, &conflict, &token, 400, &message).await;
    // No Accept header: Pyramid's text/plain page.
    assert_eq!(
        resp.body,
        format!(
            "400 {message}\n\nThe server could not comply with the request since it is either \
             malformed or otherwise incorrect.\n\n\n{message}\n\n"
        )
    );
    let json = upload(
        &wh,
        &conflict,
        Some(basic(&token)),
        Some("application/json"),
    )
    .await;
    let body: serde_json::Value = serde_json::from_str(&json.body).unwrap();
    assert_eq!(body["code"], format!("400 {message}"));
    assert_eq!(body["title"], "Bad Request");
    let html = upload(&wh, &conflict, Some(basic(&token)), Some("*/*")).await;
    assert!(html
        .body
        .starts_with(&format!("<html>\n <head>\n  <title>400 {message}</title>")));
    assert!(html.body.contains("&#x27;pkg-1.0-py3-none-any.whl&#x27;"));
    assert_eq!(
        wh.files("pkg", "1.0")[0].sha256,
        digests(&wheel("pkg", "1.0", "a")).sha256
    );
}

#[tokio::test]
async fn authentication_failures() {
    let wh = start(WarehouseConfig::default()).await;
    let form = Upload::for_file(
        "pkg",
        "1.0",
        "pkg-1.0-py3-none-any.whl",
        wheel("pkg", "1.0", "a"),
    );
    let none = upload(&wh, &form, None, None).await;
    assert_eq!((none.status, none.reason.as_str()), (403, INVALID_AUTH));
    let unknown = upload(&wh, &form, Some(basic("pypi-not-a-token")), None).await;
    assert_eq!(
        (unknown.status, unknown.reason.as_str()),
        (403, INVALID_AUTH)
    );
    let password = format!(
        "Basic {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:hunter2")
    );
    let resp = upload(&wh, &form, Some(password.clone()), None).await;
    assert_eq!(resp.status, 403);
    assert_eq!(
        resp.reason,
        "Username/Password authentication is no longer supported. Migrate to API Tokens or \
         Trusted Publishers instead. See https://pypi.org/help/#apitoken and \
         https://pypi.org/help/#trusted-publishers"
    );
    // The record keeps what the client sent, so tests can look for leaked secrets.
    assert_eq!(
        wh.uploads()[2].authorization.as_deref(),
        Some(password.as_str())
    );
    // A bearer token works like basic auth with __token__.
    let token = wh.add_api_token(None);
    let ok = upload(&wh, &form, Some(format!("Bearer {token}")), None).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn project_scoped_tokens() {
    let wh = start(WarehouseConfig::default()).await;
    let scoped = wh.add_api_token(Some("mine"));
    wh.create_project("Theirs");
    let form = Upload::for_file(
        "theirs",
        "1.0",
        "theirs-1.0-py3-none-any.whl",
        wheel("theirs", "1.0", "a"),
    );
    // Both the ProjectName and the ProjectID caveat fail, and Warehouse reports both.
    expect(
        &wh,
        &form,
        &scoped,
        403,
        "Invalid API Token: project-scoped token is not valid for project: 'Theirs', \
         project-scoped token is not valid for project: 'Theirs'",
    )
    .await;
    // A project-scoped token cannot create a new project either; nothing is left behind.
    let new = Upload::for_file(
        "brand-new",
        "1.0",
        "brand_new-1.0-py3-none-any.whl",
        wheel("brand_new", "1.0", "a"),
    );
    expect(
        &wh,
        &new,
        &scoped,
        403,
        "Invalid API Token: project-scoped token is not valid for project: 'brand-new', \
         project-scoped token is not valid for project: 'brand-new'",
    )
    .await;
    let json = reqwest::get(format!("{}/pypi/brand-new/json", wh.url()))
        .await
        .unwrap();
    assert_eq!(json.status(), 404);
    let mine = Upload::for_file(
        "mine",
        "1.0",
        "mine-1.0-py3-none-any.whl",
        wheel("mine", "1.0", "a"),
    );
    expect(&wh, &mine, &scoped, 200, "OK").await;
}

#[tokio::test]
async fn form_and_metadata_validation() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let base = || {
        Upload::for_file(
            "pkg",
            "1.0",
            "pkg-1.0-py3-none-any.whl",
            wheel("pkg", "1.0", "a"),
        )
    };
    let see = "See https://packaging.python.org/specifications/core-metadata for more information.";
    let cases: Vec<(Upload, String)> = vec![
        (
            base().set("protocol_version", "2"),
            "Unknown protocol version.".into(),
        ),
        (
            base().remove("name"),
            format!("'' is an invalid value for Name. Error: This field is required. {see}"),
        ),
        (
            base().set("name", "bad name!"),
            format!(
                "'bad name!' is an invalid value for Name. Error: Start and end with a letter or \
                 numeral containing only ASCII numeric and '.', '_' and '-'. {see}"
            ),
        ),
        (
            base().set("filetype", "bdist_egg"),
            "Invalid value for filetype. Error: Use a known file type.".into(),
        ),
        (
            base().remove("pyversion"),
            "Invalid value for pyversion. Error: Python version is required for binary \
             distribution uploads."
                .into(),
        ),
        (
            base()
                .remove("md5_digest")
                .remove("sha256_digest")
                .remove("blake2_256_digest"),
            "Error: Include at least one message digest.".into(),
        ),
        (
            base().set("sha256_digest", "xyz"),
            "Invalid value for sha256_digest. Error: Use a valid, hex-encoded, SHA256 message \
             digest."
                .into(),
        ),
        (
            base().set("metadata_version", "2.0"),
            format!("'2.0' is not a valid metadata version. {see}"),
        ),
        (
            base().set("metadata_version", "3.0"),
            format!("'3.0' is not a valid metadata version. {see}"),
        ),
        (
            base().set("version", "1.0-bogus!"),
            format!("'1.0-bogus!' is invalid for 'version'. {see}"),
        ),
        (
            base().set("version", "1.0+local"),
            format!("The use of local versions in '1.0+local' is not allowed. {see}"),
        ),
        (
            base().add("requires_dist", "not a requirement ("),
            format!("'not a requirement (' is invalid for 'requires-dist'. {see}"),
        ),
        (
            base().set("requires_python", ">=3.8, bogus"),
            format!("'>=3.8, bogus' is invalid for 'requires-python'. {see}"),
        ),
        (
            base().set("license_expression", "MIT"),
            format!("license-expression introduced in metadata version 2.4, not 2.1. {see}"),
        ),
        (
            base().add("summary", "second"),
            format!("'summary' has invalid data. {see}"),
        ),
        (
            base().set("home_page", "ftp://example.org"),
            format!("'ftp://example.org' is not a valid url. {see}"),
        ),
        (
            Upload {
                filename: None,
                ..base()
            },
            "Upload payload does not have a file.".into(),
        ),
    ];
    for (form, message) in cases {
        expect(&wh, &form, &token, 400, &message).await;
    }
    // distutils' "UNKNOWN" placeholders are dropped, not stored.
    expect(&wh, &base().set("summary", "UNKNOWN"), &token, 200, "OK").await;
    let info: serde_json::Value = reqwest::get(format!("{}/pypi/pkg/1.0/json", wh.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["info"]["summary"], serde_json::Value::Null);
    assert!(wh
        .uploads()
        .iter()
        .all(|u| u.status == 400 || u.status == 200));
}

#[tokio::test]
async fn field_sent_as_a_file_is_refused() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let form = Upload::for_file(
        "pkg",
        "1.0",
        "pkg-1.0-py3-none-any.whl",
        wheel("pkg", "1.0", "a"),
    );
    let boundary = "b0undary";
    let mut body = form.body(boundary);
    let extra = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"license\"; filename=\"LICENSE\"\r\n\r\nMIT\r\n"
    );
    body.splice(0..0, extra.into_bytes());
    let resp = raw_request(
        &wh,
        "POST",
        "/legacy/",
        &[
            (
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
            ("Authorization", basic(&token)),
        ],
        &body,
    )
    .await;
    assert_eq!(
        (resp.status, resp.reason.as_str()),
        (400, "license: Should not be a tuple.")
    );
}

#[tokio::test]
async fn filename_and_archive_checks() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let whl = |dist: &str, version: &str| wheel(dist, version, "a");
    let cases: Vec<(Upload, &str)> = vec![
        (
            Upload::for_file(
                "pkg",
                "1.0",
                "other-1.0-py3-none-any.whl",
                whl("other", "1.0"),
            ),
            "Start filename for 'pkg' with 'pkg'.",
        ),
        (
            Upload::for_file(
                "my-pkg",
                "1.0",
                "My_Pkg-1.0-py3-none-any.whl",
                whl("My_Pkg", "1.0"),
            ),
            "Filename 'My_Pkg-1.0-py3-none-any.whl' should contain the normalized project name \
             'my_pkg', not 'My_Pkg'.",
        ),
        (
            Upload::for_file("pkg", "1.0", "pkg-2.0-py3-none-any.whl", whl("pkg", "2.0")),
            "Version in filename should be '1.0' not '2.0'.",
        ),
        (
            Upload::for_file(
                "pkg",
                "1.0",
                "pkg-1.0-cp311-cp311-linux_x86_64.whl",
                whl("pkg", "1.0"),
            ),
            "Binary wheel 'pkg-1.0-cp311-cp311-linux_x86_64.whl' has an unsupported platform tag \
             'linux_x86_64'.",
        ),
        (
            Upload::for_file("pkg", "1.0", "pkg-1.0.whl", whl("pkg", "1.0")),
            "Invalid distribution file. Unable to parse name and version from wheel filename",
        ),
        (
            Upload::for_file(
                "pkg",
                "1.0",
                "pkg-1.0-py3-none-any.whl",
                b"not a zip".to_vec(),
            ),
            "Invalid distribution file. File is not a zipfile",
        ),
        (
            Upload::for_file(
                "pkg",
                "1.0",
                "pkg-1.0-py3-none-any.whl",
                whl("wrong", "1.0"),
            ),
            "Invalid distribution file. WHEEL not found at pkg-1.0.dist-info/WHEEL",
        ),
        (
            Upload::for_file("pkg", "1.0", "pkg-1.0.egg", whl("pkg", "1.0")),
            "Invalid file extension: Use .tar.gz, .whl or .zip extension. See \
             https://www.python.org/dev/peps/pep-0527 and https://peps.python.org/pep-0715/ for \
             more information",
        ),
        (
            Upload::for_file("pkg", "1.0", "pkg-1.0-py3-none-any.whl", whl("pkg", "1.0"))
                .set("filetype", "sdist")
                .set("pyversion", "source"),
            "Invalid file extension: Extension .whl is invalid for filetype sdist. See \
             https://www.python.org/dev/peps/pep-0527 for more information.",
        ),
        (
            Upload::for_file("pkg", "1.0", "Pkg-1.0.tar.gz", sdist("Pkg", "1.0", "x")),
            "Filename 'Pkg-1.0.tar.gz' is invalid, should be 'pkg-1.0.tar.gz'.",
        ),
        (
            Upload::for_file("pkg", "1.0", "pkg-1.0.tar.gz", whl("pkg", "1.0")),
            "Invalid distribution file. File is not a tarfile",
        ),
        (
            Upload::for_file("pkg", "1.0", "pkg-1.0-py3-none-any.whl", whl("pkg", "1.0"))
                .set("sha256_digest", &"0".repeat(64)),
            "The digest supplied does not match a digest calculated from the uploaded file.",
        ),
    ];
    for (form, message) in cases {
        expect(&wh, &form, &token, 400, message).await;
    }
    let mut image = Upload::for_file("pkg", "1.0", "pkg-1.0-py3-none-any.whl", whl("pkg", "1.0"));
    image.content_type = Some("image/png".into());
    expect(&wh, &image, &token, 400, "Invalid distribution file.").await;
    // Nothing was stored by any of these.
    assert!(wh.files("pkg", "1.0").is_empty());
}

#[tokio::test]
async fn one_sdist_per_release_and_size_limits() {
    let wh = start(WarehouseConfig {
        max_file_size: 2 * 1024 * 1024,
        ..WarehouseConfig::default()
    })
    .await;
    let token = wh.add_api_token(None);
    let first = Upload::for_file("pkg", "1.0", "pkg-1.0.tar.gz", sdist("pkg", "1.0", "x"));
    expect(&wh, &first, &token, 200, "OK").await;
    let zip_sdist = Upload::for_file("pkg", "1.0", "pkg-1.0.tar.gz", sdist("pkg", "1.0", "y"));
    let blake2 = digests(&zip_sdist.content).blake2_256;
    expect(
        &wh,
        &zip_sdist,
        &token,
        400,
        &format!(
            "File already exists ('pkg-1.0.tar.gz', with blake2_256 hash '{blake2}'). See \
             https://pypi.org/help/#file-name-reuse for more information."
        ),
    )
    .await;
    // A second sdist under another (post-release) spelling of the same version.
    let second = Upload::for_file(
        "pkg",
        "1.0.0",
        "pkg-1.0.0.tar.gz",
        sdist("pkg", "1.0.0", "z"),
    );
    expect(
        &wh,
        &second,
        &token,
        400,
        "Only one sdist may be uploaded per release.",
    )
    .await;

    let big: Vec<u8> = (0..3 * 1024 * 1024u32)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let too_big = Upload::for_file("pkg", "2.0", "pkg-2.0-py3-none-any.whl", big);
    expect(
        &wh,
        &too_big,
        &token,
        400,
        "File too large. Limit for project 'pkg' is 2 MB. See \
         https://docs.pypi.org/project-management/storage-limits#requesting-a-file-size-limit-increase \
         for more information.",
    )
    .await;
}

#[tokio::test]
async fn legacy_actions_and_routes() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let form = Upload::for_file(
        "pkg",
        "1.0",
        "pkg-1.0-py3-none-any.whl",
        wheel("pkg", "1.0", "a"),
    );
    // Without :action Warehouse serves its HTML page about the upload API, with 200.
    let page = upload(&wh, &form.clone_without_action(), Some(basic(&token)), None).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .unwrap()
        .starts_with("text/html"));
    assert!(wh.files("pkg", "1.0").is_empty());
    let doc = upload(
        &wh,
        &form.clone_without_action().add(":action", "doc_upload"),
        Some(basic(&token)),
        None,
    )
    .await;
    assert_eq!(
        (doc.status, doc.reason.as_str()),
        (
            410,
            "Uploading documentation is no longer supported, we recommend using https://readthedocs.org/."
        )
    );
    let boundary = "xyz";
    let redirect = raw_request(
        &wh,
        "POST",
        "/legacy",
        &[
            (
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            ),
            ("Authorization", basic(&token)),
        ],
        &form.body(boundary),
    )
    .await;
    assert_eq!(redirect.status, 308);
    assert_eq!(
        redirect.reason,
        "An upload was attempted to /legacy but the expected upload URL is /legacy/ (with a trailing slash)"
    );
    assert_eq!(
        redirect.header("location"),
        Some(format!("{}/legacy/", wh.url()).as_str())
    );
}

#[tokio::test]
async fn injected_faults_and_sink_mode() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let form = Upload::for_file(
        "pkg",
        "1.0",
        "pkg-1.0-py3-none-any.whl",
        wheel("pkg", "1.0", "a"),
    );
    wh.faults().inject(
        route::UPLOAD,
        Fault::Status {
            status: 503,
            body: "upstream down".into(),
        },
        1,
    );
    let resp = upload(&wh, &form, Some(basic(&token)), None).await;
    assert_eq!((resp.status, resp.body.as_str()), (503, "upstream down"));
    assert_eq!(wh.faults().fired(route::UPLOAD), 1);
    assert!(wh.files("pkg", "1.0").is_empty());
    let record = &wh.uploads()[0];
    assert_eq!(
        (record.status, record.filename.as_deref()),
        (503, Some("pkg-1.0-py3-none-any.whl"))
    );
    // The retry goes through.
    assert_eq!(
        upload(&wh, &form, Some(basic(&token)), None).await.status,
        200
    );
    let statuses: Vec<u16> = wh
        .requests()
        .iter()
        .filter(|(m, p, _)| m == "POST" && p == "/legacy/")
        .map(|(_, _, s)| *s)
        .collect();
    assert_eq!(statuses, vec![503, 200]);

    let sink = start(WarehouseConfig {
        sink: true,
        ..WarehouseConfig::default()
    })
    .await;
    let resp = upload(&sink, &form, None, None).await;
    assert_eq!(resp.status, 200);
    assert!(sink.files("pkg", "1.0").is_empty());
    assert_eq!(sink.uploads().len(), 1);
}

#[tokio::test]
async fn attestations_need_trusted_publishing() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let form = Upload::for_file(
        "pkg",
        "1.0",
        "pkg-1.0-py3-none-any.whl",
        wheel("pkg", "1.0", "a"),
    )
    .add("attestations", "[]");
    expect(
        &wh,
        &form,
        &token,
        400,
        "Invalid attestations supplied during upload: Attestations are only supported when using \
         Trusted Publishing",
    )
    .await;
}

impl CloneWithoutAction for Upload {
    fn clone_without_action(&self) -> Upload {
        Upload {
            fields: self
                .fields
                .iter()
                .filter(|(k, _)| k != ":action")
                .cloned()
                .collect(),
            filename: self.filename.clone(),
            content: self.content.clone(),
            content_type: self.content_type.clone(),
        }
    }
}

trait CloneWithoutAction {
    fn clone_without_action(&self) -> Upload;
}

#[tokio::test]
async fn concurrent_identical_uploads_store_one_file() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let form = Upload::for_file(
        "pkg",
        "1.0",
        "pkg-1.0-py3-none-any.whl",
        wheel("pkg", "1.0", "a"),
    );
    let (a, b, c) = tokio::join!(
        upload(&wh, &form, Some(basic(&token)), None),
        upload(&wh, &form, Some(basic(&token)), None),
        upload(&wh, &form, Some(basic(&token)), None)
    );
    assert_eq!((a.status, b.status, c.status), (200, 200, 200));
    let files = wh.files("pkg", "1.0");
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0].path).unwrap(), form.content);
}
