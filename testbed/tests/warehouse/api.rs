//! Read APIs: JSON API, simple pages, downloads, and a real pip against them.
use testbed::faults::{route, Fault};
use testbed::{Warehouse, WarehouseConfig};

use crate::support::*;

async fn publish(
    wh: &Warehouse,
    token: &str,
    name: &str,
    version: &str,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let dist = name.to_lowercase().replace(['-', '.'], "_");
    let content = wheel(&dist, version, version);
    let mut form = Upload::for_file(
        name,
        version,
        &format!("{dist}-{version}-py3-none-any.whl"),
        content.clone(),
    );
    for (k, v) in extra {
        form = form.add(k, v);
    }
    let resp = upload(wh, &form, Some(basic(token)), None).await;
    assert_eq!(resp.status, 200, "{} {}", resp.reason, resp.body);
    content
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn json_api_has_warehouse_shape() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let content = publish(
        &wh,
        &token,
        "demo-pkg",
        "1.0",
        &[
            ("home_page", "https://example.org"),
            ("project_urls", "Homepage, https://example.org"),
            ("project_urls", "Source, https://example.org/src"),
            ("classifiers", "Programming Language :: Python :: 3"),
            ("requires_dist", "requests>=2"),
            ("keywords", "a,b"),
        ],
    )
    .await;
    publish(&wh, &token, "demo-pkg", "2.0rc1", &[]).await;
    let base = wh.url();

    let resp = reqwest::get(format!("{base}/pypi/demo-pkg/json"))
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let serial: u64 = resp.headers()["x-pypi-last-serial"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    let info = &body["info"];
    // The latest final release wins over a newer pre-release.
    assert_eq!(info["version"], "1.0");
    assert_eq!(info["name"], "demo-pkg");
    assert_eq!(info["summary"], "test package");
    assert_eq!(info["requires_python"], ">=3.8");
    assert_eq!(info["keywords"], "a, b");
    assert_eq!(
        info["classifiers"],
        serde_json::json!(["Programming Language :: Python :: 3"])
    );
    assert_eq!(info["requires_dist"], serde_json::json!(["requests>=2"]));
    // Homepage is not repeated from Project-URL.
    assert_eq!(
        info["project_urls"],
        serde_json::json!({"Homepage": "https://example.org", "Source": "https://example.org/src"})
    );
    assert_eq!(info["package_url"], format!("{base}/project/demo-pkg/"));
    assert_eq!(info["project_url"], format!("{base}/project/demo-pkg/"));
    assert_eq!(info["release_url"], format!("{base}/project/demo-pkg/1.0/"));
    assert_eq!(info["yanked"], false);
    assert_eq!(body["vulnerabilities"], serde_json::json!([]));
    assert_eq!(body["last_serial"].as_u64(), Some(serial));
    let releases = body["releases"].as_object().unwrap();
    assert_eq!(releases.len(), 2);
    let urls = body["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 1);
    let file = &urls[0];
    let d = digests(&content);
    assert_eq!(file["filename"], "demo_pkg-1.0-py3-none-any.whl");
    assert_eq!(file["packagetype"], "bdist_wheel");
    assert_eq!(file["python_version"], "py3");
    assert_eq!(file["size"], content.len());
    assert_eq!(file["digests"]["sha256"], d.sha256.as_str());
    assert_eq!(file["digests"]["md5"], d.md5.as_str());
    assert_eq!(file["digests"]["blake2b_256"], d.blake2_256.as_str());
    assert_eq!(file["md5_digest"], d.md5.as_str());
    assert_eq!(file["requires_python"], ">=3.8");
    assert_eq!(file["yanked"], false);
    let iso = file["upload_time_iso_8601"].as_str().unwrap();
    assert!(
        iso.ends_with('Z') && iso.starts_with(&file["upload_time"].as_str().unwrap()[..19]),
        "{iso}"
    );
    let url = file["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!(
            "{base}/packages/{}/{}/{}/demo_pkg-1.0-py3-none-any.whl",
            &d.blake2_256[..2],
            &d.blake2_256[2..4],
            &d.blake2_256[4..]
        )
    );
    let downloaded = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(downloaded.as_ref(), content.as_slice());

    // A version URL: only that release, no "releases", canonical version matching.
    let rel: serde_json::Value = reqwest::get(format!("{base}/pypi/demo-pkg/1.0.0/json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rel["info"]["version"], "1.0");
    assert!(rel.get("releases").is_none());
    let pre: serde_json::Value = reqwest::get(format!("{base}/pypi/demo-pkg/2.0rc1/json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        pre["urls"][0]["filename"],
        "demo_pkg-2.0rc1-py3-none-any.whl"
    );
}

#[tokio::test]
async fn json_api_not_found_and_redirects() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    publish(&wh, &token, "demo-pkg", "1.0", &[]).await;
    wh.create_project("empty");
    let base = wh.url();
    for path in [
        "/pypi/nope/json",
        "/pypi/empty/json",
        "/pypi/demo-pkg/9.9/json",
    ] {
        let resp = reqwest::get(format!("{base}{path}")).await.unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        assert_eq!(resp.text().await.unwrap(), r#"{"message": "Not Found"}"#);
    }
    let client = no_redirects();
    let resp = client
        .get(format!("{base}/pypi/Demo_Pkg/json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(
        resp.headers()["location"].to_str().unwrap(),
        format!("{base}/pypi/demo-pkg/json")
    );
    let resp = client
        .get(format!("{base}/pypi/Demo.Pkg/1.0/json"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(
        resp.headers()["location"].to_str().unwrap(),
        format!("{base}/pypi/demo-pkg/1.0/json")
    );
}

#[tokio::test]
async fn stale_json_lags_one_upload() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    publish(&wh, &token, "pkg", "1.0", &[]).await;
    publish(&wh, &token, "pkg", "2.0", &[]).await;
    wh.set_stale_json(2);
    let base = wh.url();
    let stale: serde_json::Value = reqwest::get(format!("{base}/pypi/pkg/json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stale["info"]["version"], "1.0");
    assert_eq!(
        reqwest::get(format!("{base}/pypi/pkg/2.0/json"))
            .await
            .unwrap()
            .status(),
        404
    );
    // The lag is over.
    let fresh = reqwest::get(format!("{base}/pypi/pkg/2.0/json"))
        .await
        .unwrap();
    assert_eq!(fresh.status(), 200);
}

#[tokio::test]
async fn simple_pages() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let content = publish(&wh, &token, "Demo.Pkg", "1.0", &[]).await;
    let base = wh.url();
    let index = reqwest::get(wh.simple_url()).await.unwrap();
    assert!(index.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let index = index.text().await.unwrap();
    assert!(
        index.contains("<a href=\"/simple/demo-pkg/\">Demo.Pkg</a>"),
        "{index}"
    );

    let page = reqwest::get(format!("{base}/simple/demo-pkg/"))
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    let d = digests(&content);
    assert!(page.contains("<title>Links for demo-pkg</title>"));
    assert!(
        page.contains(&format!(
            "demo_pkg-1.0-py3-none-any.whl#sha256={}\"",
            d.sha256
        )),
        "{page}"
    );
    assert!(page.contains("data-requires-python=\"&gt;=3.8\""), "{page}");
    assert!(page.contains("data-core-metadata=\"sha256="), "{page}");

    let client = no_redirects();
    for (path, location) in [
        ("/simple/Demo.Pkg/", "/simple/demo-pkg/"),
        ("/simple/demo-pkg", "/simple/demo-pkg/"),
        ("/simple", "/simple/"),
    ] {
        let resp = client.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(resp.status(), 301, "{path}");
        assert_eq!(
            resp.headers()["location"].to_str().unwrap(),
            format!("{base}{location}")
        );
    }
    let missing = reqwest::get(format!("{base}/simple/nope/")).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.text().await.unwrap(), "404 Not Found");

    let json: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/simple/demo-pkg/"))
        .header("Accept", "application/vnd.pypi.simple.v1+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["name"], "demo-pkg");
    assert_eq!(json["versions"], serde_json::json!(["1.0"]));
    assert_eq!(json["files"][0]["hashes"]["sha256"], d.sha256.as_str());

    // PEP 658 metadata next to the wheel.
    let meta_url = format!("{}.metadata", json["files"][0]["url"].as_str().unwrap());
    let meta = reqwest::get(meta_url).await.unwrap().text().await.unwrap();
    assert!(
        meta.starts_with("Metadata-Version: 2.1\nName: demo_pkg"),
        "{meta}"
    );
}

#[tokio::test]
async fn faults_on_read_routes() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    publish(&wh, &token, "pkg", "1.0", &[]).await;
    wh.faults()
        .inject(route::JSON_API, Fault::HtmlPage { status: 502 }, 1);
    wh.faults().inject(
        route::SIMPLE,
        Fault::Status {
            status: 500,
            body: "{}".into(),
        },
        1,
    );
    let base = wh.url();
    let json = reqwest::get(format!("{base}/pypi/pkg/json")).await.unwrap();
    assert_eq!(json.status(), 502);
    let simple = reqwest::get(format!("{base}/simple/pkg/")).await.unwrap();
    assert_eq!(simple.status(), 500);
    assert_eq!(
        reqwest::get(format!("{base}/pypi/pkg/json"))
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(wh
        .requests()
        .contains(&("GET".to_owned(), "/pypi/pkg/json".to_owned(), 502)));
}

#[tokio::test]
async fn pip_downloads_from_the_simple_index() {
    let wh = start(WarehouseConfig::default()).await;
    let token = wh.add_api_token(None);
    let content = publish(&wh, &token, "tiny-demo", "0.1.0", &[]).await;
    let dest = tempfile::tempdir().unwrap();
    let out = tokio::process::Command::new("python3")
        .args([
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--no-cache-dir",
            "--disable-pip-version-check",
        ])
        .arg("--index-url")
        .arg(wh.simple_url())
        .arg("-d")
        .arg(dest.path())
        .arg("tiny-demo==0.1.0")
        .env("PIP_CONFIG_FILE", "/dev/null")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_INDEX_URL")
        .output()
        .await
        .expect("python3 must be installed to run this test");
    assert!(
        out.status.success(),
        "pip failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let got = std::fs::read(dest.path().join("tiny_demo-0.1.0-py3-none-any.whl")).unwrap();
    assert_eq!(got, content);
    assert!(wh
        .requests()
        .iter()
        .any(|(m, p, s)| m == "GET" && p == "/simple/tiny-demo/" && *s == 200));
}
