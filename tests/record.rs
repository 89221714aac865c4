//! The `record` step against real Python: every rewritten fixture must be byte-for-byte what
//! `json.dumps(data, indent=2) + "\n"` gives for the same data loaded with `json.load` and
//! changed the same way in Python.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pypi_oidc_publish::record::{run, RecordArgs, RecordOutcome};
use serde_json::{json, Value};

/// Runs a Python snippet with `argv[1:]`, feeding `stdin`; returns its stdout.
fn python(script: &str, args: &[&str], stdin: &str) -> String {
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 must be installed to run these tests");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Writes `data` to `path` exactly as the project's tooling does.
fn python_write(path: &Path, data: &Value) {
    python(
        r#"import json, sys
data = json.loads(sys.stdin.read())
with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
    f.write(json.dumps(data, indent=2) + "\n")"#,
        &[path.to_str().unwrap()],
        &data.to_string(),
    );
}

/// What Python writes after loading `path` and setting `fields[name] = value` on the records
/// at the given indexes.
fn python_rewrite(path: &Path, changes: &[(usize, &str, Value)]) -> String {
    let changes = Value::Array(
        changes
            .iter()
            .map(|(index, name, value)| json!([index, name, value]))
            .collect(),
    );
    python(
        r#"import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
for index, name, value in json.loads(sys.stdin.read()):
    data[index]["fields"][name] = value
sys.stdout.write(json.dumps(data, indent=2) + "\n")"#,
        &[path.to_str().unwrap()],
        &changes.to_string(),
    )
}

/// Django's rendering of the earliest of `times` (DjangoJSONEncoder, with USE_TZ in UTC).
fn python_django_time(times: &[&str]) -> String {
    python(
        r#"import json, sys
from datetime import datetime, timezone
times = [datetime.fromisoformat(t.replace("Z", "+00:00")).astimezone(timezone.utc)
         for t in json.loads(sys.stdin.read())]
o = min(times)
r = o.isoformat()
if o.microsecond:
    r = r[:23] + r[26:]
if r.endswith("+00:00"):
    r = r[:-6] + "Z"
sys.stdout.write(r)"#,
        &[],
        &json!(times).to_string(),
    )
}

fn example_record(label: &str) -> Value {
    json!({"model": label, "fields": {
        "is_seed_data": true, "is_user_data": false, "is_deleted": false,
        "package": ["arthexis"], "release_manager": ["arthexis", "arthexis"],
        "version": "0.1.33", "revision": "c611331c888401d4abbfe5829df407f3354e54ea",
        "severity": "normal", "pypi_url": "", "github_url": "", "release_on": null,
        "scheduled_date": null, "scheduled_time": null}})
}

const WHEEL_TIME: &str = "2025-11-13T04:11:52.345678Z";
const SDIST_TIME: &str = "2025-11-13T04:11:50.064987Z";

fn published() -> String {
    json!([
        {"filename": "arthexis-0.1.33-py3-none-any.whl",
         "url": "https://files.pythonhosted.org/packages/aa/arthexis-0.1.33-py3-none-any.whl",
         "sha256": "00", "size": 10, "packagetype": "bdist_wheel",
         "upload_time": WHEEL_TIME, "status": "uploaded"},
        {"filename": "arthexis-0.1.33.tar.gz",
         "url": "https://files.pythonhosted.org/packages/bb/arthexis-0.1.33.tar.gz",
         "sha256": "11", "size": 20, "packagetype": "sdist",
         "upload_time": SDIST_TIME, "status": "uploaded"}
    ])
    .to_string()
}

fn args(dir: &Path) -> RecordArgs {
    RecordArgs {
        published: published(),
        fixtures: dir.to_owned(),
        ..RecordArgs::default()
    }
}

fn release_file(dir: &Path, version: &str) -> PathBuf {
    dir.join(format!(
        "releases__packagerelease_{}.json",
        version.replace('.', "_")
    ))
}

const PYPI_URL: &str = "https://pypi.org/project/arthexis/0.1.33/";

#[test]
fn the_example_record_is_rewritten_as_python_would() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    python_write(&path, &json!([example_record("core.packagerelease")]));
    let release_on = python_django_time(&[WHEEL_TIME, SDIST_TIME]);
    assert_eq!(release_on, "2025-11-13T04:11:50.064Z");
    let expected = python_rewrite(
        &path,
        &[
            (0, "pypi_url", json!(PYPI_URL)),
            (0, "release_on", json!(release_on)),
        ],
    );

    let outcome = run(&args(dir.path())).unwrap();

    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    let RecordOutcome::Changed(change) = &outcome else {
        panic!("expected a change, got {outcome:?}");
    };
    assert_eq!(change.file, path);
    assert_eq!(change.fields, ["pypi_url", "release_on"]);
    assert!(change.written && !change.created);
    assert!(change.diff.contains("-      \"pypi_url\": \"\",\n"));
    assert!(change
        .diff
        .contains(&format!("+      \"pypi_url\": \"{PYPI_URL}\",\n")));
    assert!(change.diff.contains("-      \"release_on\": null,\n"));
    // Only the two changed lines differ.
    assert_eq!(
        change.diff.lines().filter(|l| l.starts_with('-')).count(),
        3
    );
    assert_eq!(
        change.diff.lines().filter(|l| l.starts_with('+')).count(),
        3
    );
    assert!(outcome
        .to_string()
        .contains("Updated the arthexis 0.1.33 record"));
}

#[test]
fn non_ascii_and_escapes_match_python_and_github_url_is_set() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    let mut record = example_record("release.packagerelease");
    let fields = record["fields"].as_object_mut().unwrap();
    fields.insert(
        "release_summary".into(),
        json!("Ünïcode — 日本語 🎉 \"quoted\" back\\slash\ttab\nline\u{1}\u{7f}\u{8}\u{c}\r"),
    );
    fields.insert("pypi_publish_log".into(), json!(""));
    fields.insert("empty_list".into(), json!([]));
    fields.insert("empty_dict".into(), json!({}));
    python_write(&path, &json!([record]));
    let original = std::fs::read_to_string(&path).unwrap();
    assert!(original.contains("\\u00dcn\\u00efcode \\u2014 \\u65e5\\u672c\\u8a9e \\ud83c\\udf89"));
    let github = "https://github.com/arthexis/arthexis/releases/tag/v0.1.33";
    let expected = python_rewrite(
        &path,
        &[
            (0, "pypi_url", json!(PYPI_URL)),
            (
                0,
                "release_on",
                json!(python_django_time(&[WHEEL_TIME, SDIST_TIME])),
            ),
            (0, "github_url", json!(github)),
        ],
    );

    let outcome = run(&RecordArgs {
        github_url: Some(github.into()),
        ..args(dir.path())
    })
    .unwrap();

    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    let RecordOutcome::Changed(change) = outcome else {
        panic!("expected a change");
    };
    assert_eq!(change.fields, ["pypi_url", "release_on", "github_url"]);
}

#[test]
fn only_the_matching_record_of_several_changes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("releases__several.json");
    let mut other_package = example_record("core.packagerelease");
    other_package["fields"]["package"] = json!(["gway"]);
    let mut other_version = example_record("core.packagerelease");
    other_version["fields"]["version"] = json!("0.1.32");
    let numbers = json!({"model": "core.package", "pk": 1, "fields": {
        "name": "arthexis", "numbers": [1.0, 1e16, 1e15, 1e-5, 0.0001, 0.1, 2.5e-300,
            123456789012345678.0, 1.7976931348623157e308, -0.0, 18446744073709551615u64,
            -9223372036854775808i64, 0, -1]}});
    let target = example_record("release.packagerelease");
    python_write(
        &path,
        &json!([other_package, numbers, other_version, target]),
    );
    let expected = python_rewrite(
        &path,
        &[
            (3, "pypi_url", json!(PYPI_URL)),
            (
                3,
                "release_on",
                json!(python_django_time(&[WHEEL_TIME, SDIST_TIME])),
            ),
        ],
    );

    let outcome = run(&args(dir.path())).unwrap();

    assert_eq!(outcome.file(), path);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

#[test]
fn numbers_written_unlike_python_are_rewritten_as_python_would() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    // Hand-written layout and number spellings Python would not produce; the rewrite must
    // still equal Python's load-and-dump.
    std::fs::write(
        &path,
        r#"[{"model": "core.packagerelease", "fields": {"package": ["Arthexis"],
 "version": "0.1.33", "pypi_url": "", "release_on": null, "github_url": "",
 "weights": [1E16, 1.50, 0.000010, 12345678901234567890, -0.0, 5e-324, 1e22, 1e21]}}]"#,
    )
    .unwrap();
    let expected = python_rewrite(
        &path,
        &[
            (0, "pypi_url", json!(PYPI_URL)),
            (
                0,
                "release_on",
                json!(python_django_time(&[WHEEL_TIME, SDIST_TIME])),
            ),
        ],
    );
    run(&args(dir.path())).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

#[test]
fn a_second_run_changes_nothing_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    python_write(&path, &json!([example_record("core.packagerelease")]));
    run(&args(dir.path())).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));

    let outcome = run(&args(dir.path())).unwrap();

    assert_eq!(
        outcome,
        RecordOutcome::Unchanged {
            file: path.clone(),
            package: "arthexis".into(),
            version: "0.1.33".into()
        }
    );
    assert!(outcome.to_string().contains("nothing changed"));
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
}

#[test]
fn files_already_there_keep_the_recorded_release_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    let mut record = example_record("core.packagerelease");
    record["fields"]["release_on"] = json!("2025-11-13T04:11:50.064Z");
    record["fields"]["pypi_url"] = json!("https://pypi.org/project/arthexis/0.1.33");
    python_write(&path, &json!([record]));
    let already_there = json!([{"filename": "arthexis-0.1.33.tar.gz", "status": "already-there"}]);
    let expected = python_rewrite(&path, &[(0, "pypi_url", json!(PYPI_URL))]);

    let outcome = run(&RecordArgs {
        published: already_there.to_string(),
        ..args(dir.path())
    })
    .unwrap();

    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    let RecordOutcome::Changed(change) = outcome else {
        panic!("expected a change");
    };
    assert_eq!(change.fields, ["pypi_url"]);
}

#[test]
fn without_any_upload_time_an_unpublished_record_needs_release_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    python_write(&path, &json!([example_record("core.packagerelease")]));
    let original = std::fs::read(&path).unwrap();
    let already_there =
        json!([{"filename": "arthexis-0.1.33.tar.gz", "status": "already-there"}]).to_string();

    let error = run(&RecordArgs {
        published: already_there.clone(),
        ..args(dir.path())
    })
    .unwrap_err();
    assert!(format!("{error:#}").contains("--release-on"), "{error:#}");
    assert_eq!(std::fs::read(&path).unwrap(), original);

    let expected = python_rewrite(
        &path,
        &[
            (
                0,
                "pypi_url",
                json!("https://example.test/arthexis/0.1.33/"),
            ),
            (
                0,
                "release_on",
                json!(python_django_time(&["2025-11-13T06:11:50+02:00"])),
            ),
        ],
    );
    run(&RecordArgs {
        published: already_there,
        release_on: Some("2025-11-13T06:11:50+02:00".into()),
        release_url: Some("https://example.test/arthexis/0.1.33/".into()),
        ..args(dir.path())
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
    assert!(expected.contains("\"release_on\": \"2025-11-13T04:11:50Z\""));
}

#[test]
fn published_list_can_come_from_a_file_and_names_are_normalised() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fixtures");
    std::fs::create_dir(&fixtures).unwrap();
    let path = release_file(&fixtures, "1.0.0");
    let mut record = example_record("release.packagerelease");
    record["fields"]["package"] = json!(["My.Package"]);
    record["fields"]["version"] = json!("1.0.0");
    python_write(&path, &json!([record]));
    let list = dir.path().join("published.json");
    std::fs::write(
        &list,
        json!([{"filename": "my_package-1.0.0-py3-none-any.whl",
                "upload_time": "2024-02-29T23:59:59.999999Z", "status": "uploaded"}])
        .to_string(),
    )
    .unwrap();
    let expected = python_rewrite(
        &path,
        &[
            (
                0,
                "pypi_url",
                json!("https://pypi.org/project/my-package/1.0.0/"),
            ),
            (0, "release_on", json!("2024-02-29T23:59:59.999Z")),
        ],
    );

    run(&RecordArgs {
        published: list.to_str().unwrap().into(),
        fixtures: fixtures.clone(),
        ..RecordArgs::default()
    })
    .unwrap();

    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}

#[test]
fn a_missing_record_is_an_error_naming_folder_package_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let neighbour = release_file(dir.path(), "0.1.32");
    let mut record = example_record("core.packagerelease");
    record["fields"]["version"] = json!("0.1.32");
    python_write(&neighbour, &json!([record]));
    let before = std::fs::read(&neighbour).unwrap();

    let error = run(&args(dir.path())).unwrap_err().to_string();

    assert!(error.contains(&dir.path().display().to_string()), "{error}");
    assert!(error.contains("arthexis"), "{error}");
    assert!(error.contains("0.1.33"), "{error}");
    assert!(error.contains("--create"), "{error}");
    assert_eq!(std::fs::read(&neighbour).unwrap(), before);
    assert!(!release_file(dir.path(), "0.1.33").exists());
}

#[test]
fn create_writes_a_record_shaped_like_the_newest_neighbour() {
    let dir = tempfile::tempdir().unwrap();
    // The newest release by PEP 440 (0.1.32, not 0.1.9) has the current schema.
    let old = release_file(dir.path(), "0.1.9");
    let mut old_record = example_record("core.packagerelease");
    old_record["fields"]["version"] = json!("0.1.9");
    python_write(&old, &json!([old_record]));
    let newest = release_file(dir.path(), "0.1.32");
    let newest_record = json!({"model": "release.packagerelease", "fields": {
        "is_seed_data": true, "is_user_data": false, "is_deleted": false,
        "package": ["arthexis"], "version": "0.1.32",
        "revision": "d8dbde4a65000a34dfbd04142b691c2831d37b3b", "severity": "critical",
        "pypi_url": "https://pypi.org/project/arthexis/0.1.32/", "github_url": "g",
        "pypi_publish_log": "Uploading…", "release_on": "2025-11-01T03:47:43.980Z",
        "scheduled_date": "2025-11-01", "scheduled_time": "03:00:00"}});
    python_write(&newest, &json!([newest_record]));
    let before = (
        std::fs::read(&old).unwrap(),
        std::fs::read(&newest).unwrap(),
    );
    let release_on = python_django_time(&[WHEEL_TIME, SDIST_TIME]);
    let expected = python(
        r#"import copy, json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    record = copy.deepcopy(json.load(f)[0])
record.pop("pk", None)
record["fields"].update(json.loads(sys.stdin.read()))
sys.stdout.write(json.dumps([record], indent=2) + "\n")"#,
        &[newest.to_str().unwrap()],
        &json!({"version": "0.1.33", "revision": "c611331c", "severity": "normal",
                "pypi_url": PYPI_URL, "github_url": "", "pypi_publish_log": "",
                "release_on": release_on, "scheduled_date": null, "scheduled_time": null})
        .to_string(),
    );
    let create = RecordArgs {
        create: true,
        revision: Some("c611331c".into()),
        ..args(dir.path())
    };

    let dry = run(&RecordArgs {
        dry_run: true,
        ..create.clone()
    })
    .unwrap();
    let target = release_file(dir.path(), "0.1.33");
    assert!(!target.exists(), "a dry run wrote {}", target.display());
    let RecordOutcome::Changed(dry) = dry else {
        panic!("expected a planned change");
    };
    assert!(dry.created && !dry.written);
    assert!(dry.diff.starts_with("--- /dev/null\n"));

    let outcome = run(&create).unwrap();

    assert_eq!(std::fs::read_to_string(&target).unwrap(), expected);
    let RecordOutcome::Changed(change) = outcome else {
        panic!("expected a change");
    };
    assert!(change.created && change.written);
    assert_eq!(change.file, target);
    assert_eq!(
        (
            std::fs::read(&old).unwrap(),
            std::fs::read(&newest).unwrap()
        ),
        before
    );
    // The record now exists, so a repeat updates nothing.
    assert!(matches!(
        run(&create).unwrap(),
        RecordOutcome::Unchanged { .. }
    ));
}

#[test]
fn create_without_any_neighbour_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let error = run(&RecordArgs {
        create: true,
        ..args(dir.path())
    })
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(
        message.contains("no packagerelease record to copy"),
        "{message}"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn malformed_json_names_file_and_line_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    let broken = "[\n  {\n    \"model\": \"core.packagerelease\",\n    \"fields\": {\n      \"version\": \"0.1.33\",,\n    }\n  }\n]\n";
    std::fs::write(&path, broken).unwrap();

    let error = run(&args(dir.path())).unwrap_err().to_string();

    assert!(error.contains(&path.display().to_string()), "{error}");
    assert!(error.contains("line 5"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn integers_beyond_64_bits_are_refused_rather_than_rounded() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    let mut record = example_record("core.packagerelease");
    record["fields"]["counter"] = json!(1);
    python_write(&path, &json!([record]));
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\"counter\": 1", "\"counter\": 18446744073709551616");
    std::fs::write(&path, &text).unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("18446744073709551616"))
        .unwrap()
        + 1;

    let error = run(&args(dir.path())).unwrap_err().to_string();

    assert!(error.contains(&format!("line {line}")), "{error}");
    assert!(error.contains("18446744073709551616"), "{error}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

#[test]
fn dry_run_reports_the_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    python_write(&path, &json!([example_record("core.packagerelease")]));
    let before = std::fs::read(&path).unwrap();

    let outcome = run(&RecordArgs {
        dry_run: true,
        ..args(dir.path())
    })
    .unwrap();

    assert_eq!(std::fs::read(&path).unwrap(), before);
    let shown = outcome.to_string();
    assert!(shown.contains("nothing written"), "{shown}");
    assert!(
        shown.contains(&format!("+      \"pypi_url\": \"{PYPI_URL}\",")),
        "{shown}"
    );
}

#[test]
fn files_of_another_release_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    python_write(
        &release_file(dir.path(), "0.1.33"),
        &json!([example_record("core.packagerelease")]),
    );
    let error = run(&RecordArgs {
        version: Some("0.1.34".into()),
        ..args(dir.path())
    })
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("arthexis-0.1.33-py3-none-any.whl"),
        "{error}"
    );
}

#[test]
fn the_writer_matches_python_on_many_generated_values() {
    use pypi_oidc_publish::record::pyjson::dumps_indent2;
    // A fixed xorshift sequence: reproducible, yet spread over all float exponents and over
    // code points from control characters to the astral planes.
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut floats = Vec::new();
    while floats.len() < 3000 {
        let value = f64::from_bits(next());
        if value.is_finite() {
            floats.push(json!(value));
        }
        // Also short decimals around the positional/exponent switch points.
        let scale = 10f64.powi((next() % 40) as i32 - 20);
        floats.push(json!((next() % 1000) as f64 * scale));
    }
    let mut strings = Vec::new();
    for _ in 0..300 {
        let text: String = (0..12)
            .filter_map(|_| {
                let code = match next() % 4 {
                    0 => next() % 0x80,
                    1 => next() % 0x800,
                    2 => next() % 0x1_0000,
                    _ => next() % 0x11_0000,
                };
                char::from_u32(code as u32)
            })
            .collect();
        strings.push(json!(text));
    }
    let integers: Vec<Value> = (0..300)
        .map(|i| {
            let bits = next();
            if i % 2 == 0 {
                json!(bits)
            } else {
                json!(bits as i64)
            }
        })
        .collect();
    let data = json!({"floats": floats, "strings": strings, "integers": integers,
                      "nested": [{}, [], {"a": [[]]}]});
    let expected = python(
        "import json, sys\nsys.stdout.write(json.dumps(json.loads(sys.stdin.read()), indent=2))",
        &[],
        &serde_json::to_string(&data).unwrap(),
    );
    let ours = dumps_indent2(&data);
    let first_difference = ours.lines().zip(expected.lines()).find(|(a, b)| a != b);
    assert_eq!(first_difference, None);
    assert_eq!(ours, expected);
}

#[test]
fn several_releases_in_published_record_the_one_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = release_file(dir.path(), "0.1.33");
    python_write(&path, &json!([example_record("core.packagerelease")]));
    let expected = python_rewrite(
        &path,
        &[
            (0, "pypi_url", json!(PYPI_URL)),
            (0, "release_on", json!("2025-11-13T04:11:50.064Z")),
        ],
    );
    // A publish of two projects: the plugin's file went up first, and must not become the
    // recorded release's time.
    let mut both: Vec<Value> = serde_json::from_str(&published()).unwrap();
    for f in &mut both {
        f["name"] = json!("arthexis");
        f["version"] = json!("0.1.33");
    }
    both.push(json!({"name": "arthexis-plugin", "version": "2.0",
        "filename": "arthexis_plugin-2.0-py3-none-any.whl",
        "upload_time": "2025-11-01T00:00:00Z", "status": "uploaded"}));
    let published = Value::Array(both).to_string();

    let error = run(&RecordArgs {
        published: published.clone(),
        ..args(dir.path())
    })
    .unwrap_err();
    assert!(
        format!("{error:#}").contains(
            "--published holds several releases (arthexis 0.1.33, arthexis-plugin 2.0): pass \
             --name"
        ),
        "{error:#}"
    );

    run(&RecordArgs {
        published,
        name: Some("Arthexis".to_owned()),
        ..args(dir.path())
    })
    .unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), expected);
}
