//! The order and the overlap of uploads, seen from the index: a new release's first file
//! alone, the sdist last; and an index that rate-limits: a wide release still goes up whole,
//! each file once, the user is told once that the uploads slowed down, and the lower limit
//! holds for the rest of the publish. An index slow to answer: a wide release has every upload
//! waiting on it at once, however few files are being sent at a time.
mod common;

use std::path::Path;
use std::time::Duration;

use common::{Stack, PROJECT};
use testbed::dists::{self, Project};
use testbed::faults::{route, Fault};
use testbed::warehouse::FarIndex;
use testbed::{UploadRecord, WarehouseConfig};

/// An index that takes `work` on every upload before it answers, so uploads sent together
/// are seen in flight together.
fn busy_index(work: Duration) -> WarehouseConfig {
    WarehouseConfig {
        far: FarIndex {
            upload_time: work,
            ..FarIndex::default()
        },
        ..WarehouseConfig::default()
    }
}

/// `wheels` wheels (one per Python tag) and an sdist of `name` `version` in `dir`.
fn wide_release(dir: &Path, name: &str, version: &str, wheels: usize) {
    std::fs::create_dir_all(dir).unwrap();
    let project = Project::new(name, version);
    for minor in 0..wheels {
        dists::write_wheel(&project, dir, &format!("cp3{}", 8 + minor)).unwrap();
    }
    dists::write_sdist(&project, dir).unwrap();
}

/// The accepted (200) upload of each file, in the order they reached the index.
fn accepted(uploads: &[UploadRecord]) -> Vec<&UploadRecord> {
    let mut ok: Vec<&UploadRecord> = uploads.iter().filter(|u| u.status == 200).collect();
    ok.sort_by_key(|u| u.started);
    ok
}

/// Each upload request on a line: when it was sent and answered (ms after the first), its
/// status, how many were in flight when it arrived, the file.
fn brief(uploads: &[UploadRecord]) -> String {
    let Some(t0) = uploads.iter().map(|u| u.started).min() else {
        return "no uploads".to_owned();
    };
    let ms = |t: std::time::Instant| t.duration_since(t0).as_millis();
    uploads
        .iter()
        .map(|u| {
            format!(
                "{:>6} {:>6} {} {:>2} {}\n",
                ms(u.started),
                ms(u.ended),
                u.status,
                u.in_flight,
                u.filename.as_deref().unwrap_or("-")
            )
        })
        .collect()
}

fn is_sdist(u: &UploadRecord) -> bool {
    u.filename
        .as_deref()
        .is_some_and(|f| f.ends_with(".tar.gz"))
}

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
async fn a_new_release_gets_its_first_wheel_alone_then_the_wheels_together_then_the_sdist() {
    let stack = Stack::start_with(busy_index(Duration::from_millis(300))).await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("wide");
    wide_release(&dir, PROJECT, "1.0.0", 4);
    let out = stack
        .publish(&[dir.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());

    let uploads = stack.warehouse.uploads();
    let order = accepted(&uploads);
    assert_eq!(order.len(), 5, "{uploads:#?}");
    let (first, rest) = order.split_first().unwrap();
    let (sdist, wheels) = rest.split_last().unwrap();
    // The first upload creates the release: a wheel, answered before any other is sent.
    assert!(!is_sdist(first), "first: {:?}", first.filename);
    for u in rest {
        assert!(
            u.started >= first.ended,
            "{:?} was sent while the first file {:?} was still in flight",
            u.filename,
            first.filename
        );
    }
    // The other wheels go together: every one of them was sent before any was answered.
    let last_sent = wheels.iter().map(|u| u.started).max().unwrap();
    let first_answered = wheels.iter().map(|u| u.ended).min().unwrap();
    assert!(
        last_sent < first_answered,
        "the wheels were not in flight together: {wheels:#?}"
    );
    assert_eq!(wheels.iter().map(|u| u.in_flight).max(), Some(3));
    // The sdist last, once every wheel is on the index.
    assert!(is_sdist(sdist), "last: {:?}", sdist.filename);
    let wheels_done = wheels.iter().map(|u| u.ended).max().unwrap();
    assert!(
        sdist.started >= wheels_done,
        "the sdist was sent before the wheels were all up"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_in_the_first_release_slows_every_release_after_it() {
    const CORE: &str = "demo-core";
    const PLUGIN: &str = "demo-plugin";
    let stack = Stack::start_with(busy_index(Duration::from_millis(250))).await;
    let token = stack.warehouse.add_api_token(None);
    let (core, plugin) = (
        stack.tmp.path().join("core"),
        stack.tmp.path().join("plugin"),
    );
    wide_release(&core, CORE, "1.0.0", 7);
    wide_release(&plugin, PLUGIN, "1.0.0", 7);
    // The core's first file (alone: a new release) goes through; its six other wheels, sent
    // together at a limit of 8, each meet a 429 with Retry-After: one wave, one halving to 4.
    let faults = stack.warehouse.faults();
    faults.inject(route::UPLOAD, Fault::Delay(Duration::ZERO), 1);
    faults.inject(
        route::UPLOAD,
        Fault::RateLimited {
            retry_after: Some("1".to_owned()),
        },
        6,
    );
    let out = stack
        .publish(
            &[
                "--verbose",
                "--concurrency",
                "8",
                core.to_str().unwrap(),
                plugin.to_str().unwrap(),
            ],
            &[("INPUT_PASSWORD", token)],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(faults.fired(route::UPLOAD), 7);

    let uploads = stack.warehouse.uploads();
    let throttled: Vec<_> = uploads.iter().filter(|u| u.status == 429).collect();
    assert_eq!(throttled.len(), 6, "{uploads:#?}");
    assert!(
        throttled.iter().all(|u| !is_sdist(u)),
        "the storm hit the wheels sent together"
    );
    let order = accepted(&uploads);
    assert_eq!(order.len(), 16, "each file accepted once: {uploads:#?}");
    let of = |name: &str| -> Vec<&UploadRecord> {
        let prefix = format!("{}-", name.replace('-', "_"));
        order
            .iter()
            .copied()
            .filter(|u| u.filename.as_deref().unwrap_or("").starts_with(&prefix))
            .collect()
    };
    // The limit the storm left: the first lowering is a warning, any later one (a 429 to an
    // upload that started after a lowering) is told at debug.
    let lowered = out
        .stderr
        .lines()
        .filter_map(|l| {
            let (_, rest) = l
                .split_once("uploading at most ")
                .or_else(|| l.split_once("slow down; "))?;
            rest.split(' ').next()?.parse::<usize>().ok()
        })
        .next_back()
        .unwrap_or_else(|| panic!("the lowering was not told: {}", out.debug()));
    assert!(lowered <= 4, "one storm halves 8 at least once: {lowered}");
    // The core's wheels were sent together: the storm met uploads in flight at once.
    let core_peak = of(CORE).iter().map(|u| u.in_flight).max().unwrap();
    assert!(core_peak >= 2, "{}", brief(&uploads));
    // The plugin, uploaded after the storm, never had more in flight than the lowered limit,
    // though its six wheels after the first would all go at once at the old limit of 8.
    let plugin_peak = of(PLUGIN).iter().map(|u| u.in_flight).max().unwrap();
    assert!(
        plugin_peak <= lowered,
        "the plugin's uploads reached {plugin_peak} in flight after the index asked to slow \
         down to {lowered}:\n{}",
        brief(&uploads)
    );
    let told = out
        .everything()
        .matches("the index asked to slow down")
        .count();
    assert_eq!(told, 1, "told once: {}", out.everything());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_release_already_on_the_index_gets_its_wheels_together_from_the_first() {
    let stack = Stack::start_with(busy_index(Duration::from_millis(300))).await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("wide");
    wide_release(&dir, PROJECT, "1.0.0", 4);
    // The release is created by one wheel published first.
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let created_by = names
        .iter()
        .find(|p| p.extension().is_some_and(|e| e == "whl"));
    let out = stack
        .publish(
            &[created_by.unwrap().to_str().unwrap()],
            &[("INPUT_PASSWORD", token.clone())],
        )
        .await;
    assert!(out.ok(), "{}", out.debug());
    let before = stack.warehouse.uploads().len();

    // The rest of the release: nothing to race for, so no file waits for another.
    let out = stack
        .publish(&[dir.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());
    let uploads = stack.warehouse.uploads()[before..].to_vec();
    let order = accepted(&uploads);
    assert_eq!(
        order.len(),
        4,
        "three wheels and the sdist: {}",
        brief(&uploads)
    );
    let wheels: Vec<_> = order.iter().filter(|u| !is_sdist(u)).collect();
    let last_sent = wheels.iter().map(|u| u.started).max().unwrap();
    let first_answered = wheels.iter().map(|u| u.ended).min().unwrap();
    assert!(
        last_sent < first_answered,
        "a wheel waited for another: {}",
        brief(&uploads)
    );
    assert!(is_sdist(order[3]), "the sdist last: {}", brief(&uploads));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_release_of_only_an_sdist_goes_up() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let dir = stack.tmp.path().join("sdist-only");
    std::fs::create_dir_all(&dir).unwrap();
    dists::write_sdist(&Project::new(PROJECT, "1.0.0"), &dir).unwrap();
    let out = stack
        .publish(&[dir.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());
    let files = stack.warehouse.files(PROJECT, "1.0.0");
    assert_eq!(files.len(), 1, "{}", out.debug());
    assert!(
        files[0].filename.ends_with(".tar.gz"),
        "{}",
        files[0].filename
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_index_slow_to_answer_has_every_wheel_of_a_wide_release_waiting_on_it_at_once() {
    let stack = Stack::start().await;
    let token = stack.warehouse.add_api_token(None);
    let version = "7.1.0";
    let dir = stack.tmp.path().join("widest");
    wide_release(&dir, PROJECT, version, 24);
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
    let out = stack
        .publish(&[dir.to_str().unwrap()], &[("INPUT_PASSWORD", token)])
        .await;
    assert!(out.ok(), "{}", out.debug());
    assert_eq!(faults.fired(route::UPLOAD), 1 + wide);
    assert_eq!(faults.most_held(), wide, "{}", out.everything());
    assert_eq!(stack.warehouse.files(PROJECT, version).len(), files);
}
