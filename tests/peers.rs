//! Real peers against the same local index: files uploaded by `twine` and `uv publish` (from
//! PyPI) are accepted by the Warehouse stand-in, and this binary then finds them already there
//! with the same hashes, so a release started with another tool is finished safely by this one.
mod common;

use std::process::Command;

use common::{Stack, PROJECT};

fn tool(name: &str) -> Command {
    // scripts/test puts .venv/bin first on PATH.
    Command::new(name)
}

#[tokio::test(flavor = "multi_thread")]
async fn twine_upload_then_ours_sees_it_already_there() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "1.0.0");
    let files: Vec<_> = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let out = tool("twine")
        .args([
            "upload",
            "--non-interactive",
            "--disable-progress-bar",
            "--repository-url",
        ])
        .arg(stack.warehouse.upload_url())
        .args(["-u", "__token__", "-p", &token])
        .args(&files)
        .output()
        .expect("twine (scripts/python-tools installs it)");
    assert!(
        out.status.success(),
        "twine: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stack.warehouse.files(PROJECT, "1.0.0").len(), 2);

    let uploads_before = stack.warehouse.uploads().len();
    let ours = stack
        .publish(&[dist.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(ours.ok(), "{}", ours.debug());
    assert!(ours
        .published()
        .iter()
        .all(|e| e["status"] == "already-there"));
    assert_eq!(
        stack.warehouse.uploads().len(),
        uploads_before,
        "nothing sent again"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn uv_publish_then_ours_finishes_the_release() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dist = stack.dists(PROJECT, "2.0.0");
    let wheel = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "whl"))
        .unwrap();
    // uv uploads only the wheel; ours then adds the sdist and leaves the wheel alone.
    let out = tool("uv")
        .args(["publish", "--publish-url"])
        .arg(stack.warehouse.upload_url())
        .args(["--token", &token])
        .arg(&wheel)
        .output()
        .expect("uv (scripts/python-tools installs it)");
    assert!(
        out.status.success(),
        "uv: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = stack
        .publish(&[dist.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(ours.ok(), "{}", ours.debug());
    let status = |kind: &str| {
        ours.published()
            .into_iter()
            .find(|e| e["packagetype"] == kind)
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("bdist_wheel"), "already-there");
    assert_eq!(status("sdist"), "uploaded");
    assert_eq!(stack.warehouse.files(PROJECT, "2.0.0").len(), 2);
}
