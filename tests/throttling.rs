//! An index that rate-limits: a wide release still goes up whole, each file once, and the
//! user is told once that the uploads slowed down.
mod common;

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_publishes_every_file_exactly_once_and_says_so_once() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let env = vec![("INPUT_PASSWORD", token)];
    let version = "7.0.0";
    let dir = stack.dists(PROJECT, version);
    let project = Project::new(PROJECT, version);
    for minor in 8..19 {
        dists::write_wheel(&project, &dir, &format!("cp3{minor}")).unwrap();
    }
    let expected = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(expected, 13);
    // The first requests (the wide release starts many uploads at once) meet 429 with
    // Retry-After, as PyPI's rate limit answers. Four in all: whatever order the uploads
    // take, no file can meet more 429s than the retry policy's attempts allow, so a file
    // lost here is the client's fault, not the storm's.
    let faults = stack.warehouse.faults();
    faults.inject(
        route::UPLOAD,
        Fault::RateLimited {
            retry_after: Some("1".to_owned()),
        },
        4,
    );
    let out = stack.publish(&[dir.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(faults.fired(route::UPLOAD), 4);

    let files = stack.warehouse.files(PROJECT, version);
    assert_eq!(files.len(), expected, "{files:?}");
    let uploads = stack.warehouse.uploads();
    for f in &files {
        let accepted: Vec<_> = uploads
            .iter()
            .filter(|u| u.filename.as_deref() == Some(f.filename.as_str()) && u.status == 200)
            .collect();
        assert_eq!(accepted.len(), 1, "{}: {accepted:?}", f.filename);
        assert!(accepted[0].stored, "{}: {accepted:?}", f.filename);
    }
    let throttled = uploads.iter().filter(|u| u.status == 429).count();
    assert_eq!(throttled, 4, "{uploads:?}");

    let told = out
        .everything()
        .matches("the index asked to slow down")
        .count();
    assert_eq!(told, 1, "told once: {}", out.everything());
}
