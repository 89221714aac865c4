//! The real third-party indexes, installed from PyPI by `scripts/python-tools`: pypiserver
//! (htpasswd, PEP 503 HTML only, no JSON API) and devpi-server (a user index, PEP 691 JSON
//! with relative URLs). Each test starts its server once on a free port and runs the whole
//! story against it: publish with a password, download every output URL and compare the
//! bytes, re-run (nothing sent again), refuse a different file under a taken name before any
//! upload, and pip-install the release back. A server that cannot start fails the test with
//! its log: nothing is skipped.
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{pip_install_and_import, run, Outcome};
use testbed::dists::{self, Project};

const USER: &str = "alice";
const PASSWORD: &str = "s3cret-real-index";

/// A server process, killed when the test ends (also when it panics).
struct Server {
    child: Child,
    log: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Wait until `path` answers, or fail with the server's log.
    async fn wait_ready(&mut self, path: &str) {
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "the server exited ({status}) before answering:\n{}",
                    self.log()
                );
            }
            if let Ok(r) = client.get(self.url(path)).send().await {
                if r.status().is_success() {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "the server did not answer {path} within 90 s:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// How many uploads (lines with `marker`) the server has logged.
    fn posts(&self, marker: &str) -> usize {
        self.log().matches(marker).count()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A tool from `.venv/bin` (scripts/test puts it first on PATH).
fn tool(name: &str) -> Command {
    Command::new(name)
}

fn spawn(mut cmd: Command, log: &Path) -> Child {
    let out = std::fs::File::create(log).unwrap();
    let err = out.try_clone().unwrap();
    cmd.stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {cmd:?} ({e}): run scripts/python-tools to install it")
        })
}

fn check(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}): run scripts/python-tools"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// pypiserver 2.x with an htpasswd file (made with passlib) that lets alice upload.
async fn start_pypiserver() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = dir.path().join("htpasswd");
    check(tool("python3").args([
        "-c",
        "import sys; from passlib.apache import HtpasswdFile as H; h = H(sys.argv[1], new=True); \
         h.set_password(sys.argv[2], sys.argv[3]); h.save()",
        htpasswd.to_str().unwrap(),
        USER,
        PASSWORD,
    ]));
    let packages = dir.path().join("packages");
    std::fs::create_dir(&packages).unwrap();
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut cmd = tool("pypi-server");
    // -v logs each request, which tells how many uploads reached it.
    cmd.args([
        "run",
        "-v",
        "-i",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-P",
    ])
    .arg(&htpasswd)
    .args(["-a", "update"])
    .arg(&packages);
    let child = spawn(cmd, &log);
    let mut server = Server {
        child,
        log,
        dir,
        port,
    };
    server.wait_ready("/simple/").await;
    server
}

/// devpi-server 6.x, initialised with devpi-init, with user alice and her index `dev`
/// (non-volatile, as a release index is) created through its REST API.
async fn start_devpi() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let serverdir = dir.path().join("server");
    check(tool("devpi-init").arg("--serverdir").arg(&serverdir));
    let port = free_port();
    let log = dir.path().join("server.log");
    let mut cmd = tool("devpi-server");
    cmd.arg("--serverdir")
        .arg(&serverdir)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .arg("--offline-mode");
    let child = spawn(cmd, &log);
    let mut server = Server {
        child,
        log,
        dir,
        port,
    };
    server.wait_ready("/+api").await;
    let client = reqwest::Client::new();
    let put = |path: &str, body: serde_json::Value, auth: bool| {
        let mut req = client
            .put(server.url(path))
            .header("Accept", "application/json")
            .json(&body);
        if auth {
            req = req.basic_auth(USER, Some(PASSWORD));
        }
        req.send()
    };
    let user = put(
        &format!("/{USER}"),
        serde_json::json!({ "password": PASSWORD }),
        false,
    )
    .await
    .unwrap();
    assert!(
        user.status().is_success(),
        "creating the devpi user: {user:?}"
    );
    let index = put(
        &format!("/{USER}/dev"),
        serde_json::json!({ "type": "stage", "bases": [], "volatile": false }),
        true,
    )
    .await
    .unwrap();
    assert!(
        index.status().is_success(),
        "creating the devpi index: {index:?}"
    );
    server
}

fn write_dists(dir: &Path, project: &Project) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    dists::write_wheel(project, dir, "py3").unwrap();
    dists::write_sdist(project, dir).unwrap();
    dir.to_owned()
}

async fn publish(server: &Server, repository_url: &str, dist: &Path) -> (Outcome, Duration) {
    let started = Instant::now();
    let out = run(
        server.dir.path(),
        &[
            "publish",
            "--repository-url",
            repository_url,
            "--user",
            USER,
            "--trusted-publishing",
            "never",
            dist.to_str().unwrap(),
        ],
        &[("INPUT_PASSWORD", PASSWORD.to_owned())],
    )
    .await;
    (out, started.elapsed())
}

/// Every `urls` line and every `published[].url` downloads exactly the local file.
async fn assert_urls_serve_the_files(out: &Outcome, dist: &Path) {
    let published = out.published();
    let urls_output = out.output("urls");
    let urls: Vec<&str> = urls_output.lines().map(str::trim).collect();
    assert_eq!(urls.len(), 2, "{}", out.github_output);
    for entry in &published {
        let name = entry["filename"].as_str().unwrap();
        let url = entry["url"].as_str().unwrap();
        assert!(urls.contains(&url), "{url} missing from urls: {urls:?}");
        let local = std::fs::read(dist.join(name)).unwrap();
        let got = reqwest::get(url).await.unwrap();
        assert!(got.status().is_success(), "{url}: {}", got.status());
        assert!(
            got.bytes().await.unwrap().as_ref() == local.as_slice(),
            "{url} does not serve the bytes of {name}"
        );
    }
}

/// The whole story against one index: publish, downloads, re-run, conflict, pip install.
/// `release_page`: the `release-url` the index has (empty for one without release pages).
async fn story(
    server: &Server,
    repository_url: &str,
    simple_url: &str,
    upload_marker: &str,
    release_page: &str,
) {
    let project = Project::new("real-demo", "1.0.0");
    let dist = write_dists(&server.dir.path().join("dist"), &project);

    let (out, took) = publish(server, repository_url, &dist).await;
    assert!(out.ok(), "{}\n{}", out.debug(), server.log());
    assert!(
        out.stderr
            .contains(&format!("plan: read {simple_url}real-demo/")),
        "the log names the simple page read: {}",
        out.stderr
    );
    for entry in out.published() {
        assert_eq!(entry["status"], "uploaded", "{entry}");
        assert_eq!(entry["confirmed"], true, "{entry}");
    }
    // No wait on a JSON API these indexes do not have (it used to take 60 s).
    assert!(took < Duration::from_secs(20), "publish took {took:?}");
    assert_urls_serve_the_files(&out, &dist).await;
    let release_url = out.output("release-url");
    assert_eq!(release_url, release_page);
    if release_url.trim().is_empty() {
        assert!(out.summary.contains("No release page"), "{}", out.summary);
    } else {
        let page = reqwest::get(release_url.trim()).await.unwrap();
        assert!(
            page.status().is_success(),
            "{release_url}: {}",
            page.status()
        );
    }

    // Re-run: everything already there with the same sha256, nothing sent.
    let uploads = server.posts(upload_marker);
    assert_eq!(uploads, 2, "{}", server.log());
    let (again, _) = publish(server, repository_url, &dist).await;
    assert!(again.ok(), "{}", again.debug());
    for entry in again.published() {
        assert_eq!(entry["status"], "already-there", "{entry}");
    }
    assert_urls_serve_the_files(&again, &dist).await;
    assert_eq!(server.posts(upload_marker), uploads, "nothing sent again");

    // Another wheel under the taken name: refused before any upload, naming both hashes.
    let other = Project::new("real-demo", "1.0.0").with_payload("real_demo/data.bin", 64);
    let other_dist = server.dir.path().join("other");
    std::fs::create_dir_all(&other_dist).unwrap();
    let wheel = dists::write_wheel(&other, &other_dist, "py3").unwrap();
    let (conflict, _) = publish(server, repository_url, &wheel).await;
    assert_eq!(conflict.code, 1, "{}", conflict.debug());
    let on_index = out
        .published()
        .into_iter()
        .find(|e| e["packagetype"] == "bdist_wheel")
        .unwrap()["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(&wheel).unwrap()))
    };
    assert_ne!(sent, on_index);
    assert!(
        conflict.stderr.contains(&on_index)
            && conflict.stderr.contains(&sent)
            && conflict.stderr.contains("nothing was uploaded"),
        "{}",
        conflict.stderr
    );
    assert_eq!(server.posts(upload_marker), uploads, "nothing sent");

    let version = pip_install_and_import(
        simple_url,
        "real-demo==1.0.0",
        &project.import_name(),
        server.dir.path(),
    );
    assert_eq!(version, "1.0.0");
}

#[tokio::test(flavor = "multi_thread")]
async fn pypiserver_publish_rerun_conflict_and_pip_install() {
    let server = start_pypiserver().await;
    let upload = server.url("/");
    let simple = server.url("/simple/");
    story(&server, &upload, &simple, "<LocalRequest: POST ", "").await;
    preflight_after_publish(&server, &upload).await;
    // pypiserver sends a project it does not hold to PyPI (its fallback): another index's
    // page says nothing about this one, so preflight cannot call the project new.
    let out = preflight(
        &server,
        &upload,
        &["--name", "never-published", "--version", "1.0"],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr
            .contains("https://pypi.org/simple/never-published/")
            && out.stderr.contains("--disable-fallback"),
        "{}",
        out.debug()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn devpi_publish_rerun_conflict_and_pip_install() {
    let server = start_devpi().await;
    let upload = server.url(&format!("/{USER}/dev/"));
    let simple = server.url(&format!("/{USER}/dev/+simple/"));
    let page = server.url(&format!("/{USER}/dev/real-demo/1.0.0"));
    story(
        &server,
        &upload,
        &simple,
        &format!("POST /{USER}/dev/\n"),
        &page,
    )
    .await;
    preflight_after_publish(&server, &upload).await;
    // devpi answers 404 for a project the index does not hold: a new project.
    let out = preflight(
        &server,
        &upload,
        &["--name", "never-published", "--version", "1.0"],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains("will be its first release"),
        "{}",
        out.debug()
    );
}

async fn preflight(server: &Server, repository_url: &str, args: &[&str]) -> Outcome {
    let mut full = vec!["preflight", "--repository-url", repository_url];
    full.extend_from_slice(args);
    run(
        server.dir.path(),
        &full,
        &[("GITHUB_ACTIONS", "true".to_owned())],
    )
    .await
}

/// After `story` published real-demo 1.0.0: preflight reads the index's simple page as the
/// publish did, so the published version is refused (also written `1.0`), a higher one passes
/// and a lower one needs `--allow-older`.
async fn preflight_after_publish(server: &Server, repository_url: &str) {
    for taken in ["1.0.0", "1.0"] {
        let out = preflight(
            server,
            repository_url,
            &["--name", "real-demo", "--version", taken],
        )
        .await;
        assert_eq!(out.code, 1, "{}\n{}", out.debug(), server.log());
        assert!(
            out.stderr
                .contains(&format!("real-demo {taken} is already on")),
            "{}",
            out.debug()
        );
        assert_eq!(out.output("latest"), "1.0.0");
    }
    let out = preflight(
        server,
        repository_url,
        &["--name", "real-demo", "--version", "1.0.1"],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stderr.contains("is new on")
            && out
                .stderr
                .contains("higher than its highest release, 1.0.0"),
        "{}",
        out.debug()
    );
    let out = preflight(
        server,
        repository_url,
        &["--name", "real-demo", "--version", "0.9"],
    )
    .await;
    assert_eq!(out.code, 1, "{}", out.debug());
    assert!(
        out.stderr.contains("0.9 is lower than 1.0.0"),
        "{}",
        out.debug()
    );
    let out = preflight(
        server,
        repository_url,
        &["--name", "real-demo", "--version", "0.9", "--allow-older"],
    )
    .await;
    assert!(out.ok(), "{}", out.debug());
    assert!(
        out.stdout
            .contains("::warning title=Releasing an older version::"),
        "{}",
        out.debug()
    );
}
