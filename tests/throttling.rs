//! An index that rate-limits: a wide release still goes up whole, each file once, and the
//! user is told once that the uploads slowed down. An index slow to answer: a wide release has
//! every upload in flight at once, however few files are being sent at a time.
mod common;

use std::time::Duration;

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

#[tokio::test(flavor = "multi_thread")]
async fn an_index_slow_to_answer_has_every_wheel_of_a_wide_release_waiting_on_it_at_once() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let env = vec![("INPUT_PASSWORD", token)];
    let version = "7.1.0";
    let dir = stack.dists(PROJECT, version);
    let project = Project::new(PROJECT, version);
    for minor in 8..31 {
        dists::write_wheel(&project, &dir, &format!("cp3{minor}")).unwrap();
    }
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(files, 25);
    // The first wheel goes alone (it creates the release) and is answered at once; each of
    // the other 23 is held until all 23 are waiting on the index, as a far index keeps them
    // while it stores each file. A client that sends fewer at once (a memory budget that
    // counts uploads waiting on an answer as if they held buffers) lets the hold run out,
    // and fewer are seen at once.
    let wide = files - 2;
    let faults = stack.warehouse.faults();
    faults.inject(route::UPLOAD, Fault::Delay(Duration::ZERO), 1);
    faults.inject(
        route::UPLOAD,
        Fault::Gather {
            count: wide,
            at_most: Duration::from_secs(20),
        },
        wide,
    );
    let out = stack.publish(&[dir.to_str().unwrap()], &env).await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(faults.fired(route::UPLOAD), 1 + wide);
    assert_eq!(faults.most_held(), wide, "{}", out.everything());
    assert_eq!(stack.warehouse.files(PROJECT, version).len(), files);
}
