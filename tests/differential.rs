//! Differential test against Python's `packaging` (the reference implementation of PEP 440,
//! PEP 508, PEP 503 names and the wheel and sdist file names, which pip, build backends and
//! Warehouse run): thousands of generated inputs and the real names, versions, requirements
//! and wheel tags of the packages installed next to it, judged by this crate and by
//! `packaging`, compared. The client and the testbed both build on `pep440_rs`/`pep508_rs`,
//! so a quirk of those crates would pass every other test.
//!
//! One `python3` process judges the whole batch (JSON on stdin and stdout). `python3` with
//! `packaging` must be on PATH (`scripts/test` puts `.venv/bin` first); without it the test
//! fails rather than passing unchecked.
//!
//! Where the two disagree and the specifications side with this crate (or it is a known gap
//! that fails closed), [`known`] names the class with the reason; any other disagreement fails
//! the test. `DIFFERENTIAL_SEED=n` tries other inputs.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use serde_json::{json, Value};

use pypi_oidc_publish::distribution::fuzzing::{
    check_expression, escaped, parse_requirement, parse_wheel, pypi_accepts_platform,
};

/// How many inputs of each kind are generated (besides the real ones).
const GENERATED: usize = 3000;

const PYTHON: &str = r#"
import json, sys
from importlib import metadata
from packaging.utils import (canonicalize_name, parse_wheel_filename, parse_sdist_filename,
                             InvalidName, InvalidWheelFilename, InvalidSdistFilename)
from packaging.version import Version, InvalidVersion
from packaging.requirements import Requirement, InvalidRequirement
from packaging.licenses import canonicalize_license_expression, InvalidLicenseExpression
import packaging

def corpus():
    names, versions, requirements, wheels, licenses = set(), set(), set(), set(), set()
    for d in metadata.distributions():
        n, v = d.metadata["Name"], d.metadata["Version"]
        if not n or not v:
            continue
        names.add(n); versions.add(v)
        requirements.update(d.requires or [])
        if d.metadata["License-Expression"]:
            licenses.add(d.metadata["License-Expression"])
        tags = [l.split(":", 1)[1].strip() for l in (d.read_text("WHEEL") or "").splitlines()
                if l.startswith("Tag:")]
        for t in tags:
            wheels.add(f"{canonicalize_name(n).replace('-', '_')}-{v}-{t}.whl")
    return {k: sorted(v) for k, v in
            dict(names=names, versions=versions, requirements=requirements, wheels=wheels,
                 licenses=licenses).items()}

def name(s):
    try:
        return {"ok": True, "canonical": canonicalize_name(s, validate=True)}
    except InvalidName:
        return {"ok": False}

def version(s):
    try:
        v = Version(s)
    except InvalidVersion:
        return {"ok": False}
    return {"ok": True, "str": str(v), "public": v.public, "local": v.local is not None}

def requirement(s):
    try:
        r = Requirement(s)
    except InvalidRequirement:
        return {"ok": False}
    if r.url:
        # Warehouse refuses direct references in Requires-Dist.
        return {"ok": False}
    return {"ok": True, "name": canonicalize_name(r.name),
            "extras": sorted(canonicalize_name(e) for e in r.extras),
            "specifiers": len(r.specifier)}

def wheel(s):
    try:
        n, v, b, tags = parse_wheel_filename(s)
        # PyPI wants the normalised project name in the file name (PEP 427 / PEP 625).
        part = s.split("-", 1)[0]
        if part != canonicalize_name(part, validate=True).replace("-", "_"):
            return {"ok": False}
    except (InvalidWheelFilename, InvalidVersion, InvalidName):
        return {"ok": False}
    return {"ok": True, "name": str(n), "version": str(v), "build": list(b) if b else None,
            "tags": sorted(str(t) for t in tags)}

def license(s):
    try:
        canonicalize_license_expression(s)
        return {"ok": True}
    except InvalidLicenseExpression:
        return {"ok": False}

def sdist(pair):
    n, v = pair
    try:
        expected = f"{canonicalize_name(n, validate=True).replace('-', '_')}-{Version(v)}.tar.gz"
        pn, pv = parse_sdist_filename(expected)
    except (InvalidName, InvalidVersion, InvalidSdistFilename) as e:
        return {"error": str(e)}
    return {"filename": expected, "name": str(pn), "version": str(pv)}

if sys.argv[1] == "corpus":
    json.dump({"packaging": packaging.__version__, **corpus()}, sys.stdout)
else:
    batch = json.load(sys.stdin)
    json.dump({
        "names": [name(s) for s in batch["names"]],
        "versions": [version(s) for s in batch["versions"]],
        "sorted": sorted(range(len(batch["sortable"])),
                         key=lambda i: (Version(batch["sortable"][i]), i)),
        "requirements": [requirement(s) for s in batch["requirements"]],
        "wheels": [wheel(s) for s in batch["wheels"]],
        "sdists": [sdist(p) for p in batch["sdists"]],
        "licenses": [license(s) for s in batch["licenses"]],
    }, sys.stdout)
"#;

/// Why a disagreement is expected, if it is: the specifications side with this crate, or it
/// is a known gap where this crate refuses what PyPI would accept (it fails closed: nothing is
/// uploaded and the error names the value). Anything else fails the test.
fn known(kind: &str, input: &str, ours: &Value, theirs: &Value) -> Option<&'static str> {
    let ours_ok = ours["ok"] == true;
    let theirs_ok = theirs["ok"] == true;
    let their_name = theirs["name"].as_str().unwrap_or_default();
    match kind {
        // packaging's tokenizer ends a name at a word boundary, so `foo_` passes as `foo-`;
        // PEP 508 and the core metadata spec end a name with a letter or digit.
        "requirements"
            if theirs_ok
                && !ours_ok
                && (their_name.ends_with('-')
                    || theirs["extras"].as_array().is_some_and(|e| {
                        e.iter()
                            .any(|x| x.as_str().is_some_and(|x| x.ends_with('-')))
                    })) =>
        {
            Some("PEP 508: a name or extra ends with a letter or digit")
        }
        // PEP 508 `version_many` has no trailing comma; packaging tolerates one.
        "requirements" if theirs_ok && !ours_ok && regex_lite_trailing_comma(input) => {
            Some("PEP 508: no trailing ',' in a specifier list")
        }
        // Arbitrary equality takes any string (PEP 440 `===`); pep440_rs only takes
        // versions. Known gap, fails closed.
        "requirements" if theirs_ok && !ours_ok && input.contains("===") => {
            Some("GAP: `===` with a string that is not a PEP 440 version is refused")
        }
        // A header value never holds a line break; pep508_rs takes one as whitespace.
        "requirements" if ours_ok && !theirs_ok && input.contains(['\n', '\r']) => {
            Some("a line break inside a requirement cannot occur in a metadata header")
        }
        // Warehouse's platform allowlist (`_valid_platform_tag`) and the compatibility tag
        // alphabet, which packaging's parser does not check.
        "wheels" if theirs_ok && !ours_ok && !wheel_tags_pypi_accepts(input) => {
            Some("PyPI refuses the platform tag, or a tag holds characters no tag has")
        }
        // SPDX: `license-id "+"`, one plus; packaging strips any number.
        "licenses" if theirs_ok && !ours_ok && input.contains("++") => {
            Some("SPDX: at most one '+' after a license identifier")
        }
        _ => None,
    }
}

fn regex_lite_trailing_comma(input: &str) -> bool {
    let spec = input.split(';').next().unwrap_or_default().trim_end();
    let spec = spec.strip_suffix(')').unwrap_or(spec).trim_end();
    spec.ends_with(',')
}

fn wheel_tags_pypi_accepts(filename: &str) -> bool {
    let stem = filename.strip_suffix(".whl").unwrap_or(filename);
    let parts: Vec<&str> = stem.split('-').collect();
    parts.len() >= 5
        && parts[parts.len() - 3..].iter().all(|tag| {
            tag.split('.')
                .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        })
        && parts[parts.len() - 1].split('.').all(pypi_accepts_platform)
}

fn python(mode: &str, input: Option<&Value>) -> Value {
    let mut child = Command::new("python3")
        .args(["-c", PYTHON, mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("python3 is not on PATH ({e}): run through scripts/test (.venv/bin first)")
        });
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        stdin
            .write_all(input.to_string().as_bytes())
            .expect("feed python3");
    }
    drop(stdin);
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "python3 with packaging failed (is packaging installed? scripts/python-tools):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python3 answers JSON")
}

fn pick<'a>(items: &[&'a str]) -> &'a str {
    items[fastrand::usize(..items.len())]
}

/// One random edit (insert, delete or replace a character), so that near-misses of valid
/// inputs are tried too.
fn mutate(s: &str, alphabet: &[char]) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    let at = fastrand::usize(..=chars.len());
    let c = alphabet[fastrand::usize(..alphabet.len())];
    match fastrand::u8(..3) {
        0 => chars.insert(at, c),
        1 if at < chars.len() => {
            chars.remove(at);
        }
        _ if at < chars.len() => chars[at] = c,
        _ => chars.push(c),
    }
    chars.into_iter().collect()
}

fn maybe_mutate(s: String, alphabet: &[char]) -> String {
    if fastrand::u8(..4) == 0 {
        mutate(&s, alphabet)
    } else {
        s
    }
}

const NAME_CHARS: &[char] = &[
    'a', 'b', 'Z', 'x', '0', '7', '.', '_', '-', '-', '.', ' ', '@', 'é', '+', '!',
];
const VERSION_CHARS: &[char] = &[
    '0', '1', '9', '.', '-', '_', '+', '!', '*', 'a', 'b', 'c', 'r', 'v', 'V', 'x', ' ', 'é',
];
const REQ_CHARS: &[char] = &[
    ' ', '[', ']', '(', ')', ',', ';', '@', '=', '<', '>', '!', '~', '*', '.', '\'', '"', 'a', '1',
    '-', '_', '/', ':', '#',
];

fn gen_name() -> String {
    let parts = ["a", "Foo", "bar", "x1", "9", "Z", "zope", "py", "A0b"];
    let seps = ["-", "_", ".", "--", "_.", "-_-", "__"];
    let mut s = String::new();
    if fastrand::u8(..10) == 0 {
        s.push_str(pick(&seps));
    }
    for i in 0..fastrand::usize(1..4) {
        if i > 0 {
            s.push_str(pick(&seps));
        }
        s.push_str(pick(&parts));
    }
    if fastrand::u8(..10) == 0 {
        s.push_str(pick(&seps));
    }
    maybe_mutate(s, NAME_CHARS)
}

fn gen_version() -> String {
    let mut s = String::new();
    if fastrand::u8(..8) == 0 {
        s.push_str(pick(&["v", "V", " ", "\t"]));
    }
    if fastrand::u8(..8) == 0 {
        s.push_str(pick(&["1!", "0!", "12!"]));
    }
    let parts = fastrand::usize(1..5);
    let release: Vec<String> = (0..parts)
        .map(|_| pick(&["0", "1", "2", "10", "01", "007", "2024"]).to_owned())
        .collect();
    s.push_str(&release.join("."));
    let seps = ["", ".", "-", "_"];
    if fastrand::bool() {
        s.push_str(pick(&seps));
        s.push_str(pick(&[
            "a", "b", "rc", "c", "alpha", "beta", "pre", "preview", "A", "RC",
        ]));
        s.push_str(pick(&seps));
        s.push_str(pick(&["", "0", "1", "12"]));
    }
    if fastrand::u8(..3) == 0 {
        s.push_str(pick(&[
            "-1", ".post", "post2", "_post3", "-rev4", ".r5", "-POST",
        ]));
    }
    if fastrand::u8(..3) == 0 {
        s.push_str(pick(&[".dev", "dev1", "-dev2", "_DEV3", ".dev0"]));
    }
    if fastrand::u8(..5) == 0 {
        s.push_str(pick(&[
            "+local",
            "+abc.1",
            "+1_2-3",
            "+UBUNTU.1",
            "+",
            "+a..b",
        ]));
    }
    if fastrand::u8(..10) == 0 {
        s.push_str(pick(&[" ", "\n", ".*", "*"]));
    }
    maybe_mutate(s, VERSION_CHARS)
}

fn gen_requirement() -> String {
    let mut s = gen_name();
    if fastrand::u8(..3) == 0 {
        s.push_str(pick(&["", " "]));
        s.push_str(pick(&[
            "[web]",
            "[a,B_c]",
            "[ x , y ]",
            "[]",
            "[a-b.c]",
            "[1x]",
        ]));
    }
    match fastrand::u8(..6) {
        0 => {}
        1 => s.push_str(pick(&[
            " @ https://example.org/x.whl",
            "@ file:///tmp/x",
            " @ git+https://example.org/r.git@v1#egg=x",
        ])),
        _ => {
            let ops = [">=", "<", "==", "!=", "~=", "===", "<=", ">", "= ="];
            let mut spec: Vec<String> = Vec::new();
            for _ in 0..fastrand::usize(1..3) {
                spec.push(format!("{}{}", pick(&ops), gen_version()));
            }
            let joined = spec.join(pick(&[",", ", ", " ,"]));
            if fastrand::u8(..4) == 0 {
                s.push_str(&format!(" ({joined})"));
            } else {
                s.push_str(pick(&["", " "]));
                s.push_str(&joined);
            }
        }
    }
    if fastrand::u8(..3) == 0 {
        s.push_str(pick(&["; ", " ; ", ";"]));
        s.push_str(pick(&[
            "python_version >= '3.8'",
            "extra == 'web'",
            "sys_platform == \"win32\" and python_version < \"3.10\"",
            "os_name=='nt' or (platform_machine == 'x86_64')",
            "python_full_version ~= '3.9.1'",
            "implementation_name == 'cpython' and extra == 'Web_Tools'",
            "platform_release >= '5'",
            "'linux' in sys_platform",
            "python_version > 3.8",
            "unknown_marker == '1'",
        ]));
    }
    maybe_mutate(s, REQ_CHARS)
}

fn gen_wheel() -> String {
    let name = match fastrand::u8(..3) {
        0 => gen_name(),
        _ => gen_name().replace(['-', '.'], "_"),
    };
    let mut parts = vec![name, gen_version().replace('-', "_")];
    if fastrand::u8(..4) == 0 {
        parts.push(pick(&["1", "2abc", "x1", "0_0", ""]).to_owned());
    }
    parts.push(pick(&["py3", "py2.py3", "cp312", "cp39.cp310", "py3x", ""]).to_owned());
    parts.push(pick(&["none", "abi3", "cp312", "none.abi3"]).to_owned());
    parts.push(
        pick(&[
            "any",
            "manylinux_2_17_x86_64.manylinux2014_x86_64",
            "win_amd64",
            "macosx_11_0_arm64",
            "linux-x86_64",
        ])
        .to_owned(),
    );
    let s = format!(
        "{}{}",
        parts.join("-"),
        pick(&[".whl", ".whl", ".whl", ".WHL"])
    );
    maybe_mutate(s, NAME_CHARS)
}

fn gen_license() -> String {
    let ids = [
        "MIT",
        "mit",
        "Apache-2.0",
        "BSD-3-Clause",
        "GPL-2.0-only",
        "GPL-3.0-or-later",
        "GPL-2.0+",
        "LGPL-2.1+",
        "MPL-2.0",
        "ISC",
        "LicenseRef-Company",
        "LicenseRef-x.y-1",
        "Apache 2.0",
        "BSD",
        "GPLv3",
        "Unlicense",
        "0BSD",
        "CC0-1.0",
        "eCos-2.0",
        "wxWindows",
        "Python-2.0",
        "PSF-2.0",
        "AGPL-3.0",
        "Zlib",
        "NOT-A-LICENSE",
        "MIT+",
        "",
    ];
    let exceptions = [
        "Classpath-exception-2.0",
        "LLVM-exception",
        "llvm-exception",
        "Nope",
    ];
    let mut s = String::new();
    for i in 0..fastrand::usize(1..4) {
        if i > 0 {
            s.push_str(pick(&[
                " AND ", " OR ", " and ", " or ", " ", "/", " WITH ",
            ]));
        }
        let paren = fastrand::u8(..5) == 0;
        if paren {
            s.push('(');
        }
        s.push_str(pick(&ids));
        if fastrand::u8(..6) == 0 {
            s.push_str(pick(&[" WITH ", " with "]));
            s.push_str(pick(&exceptions));
        }
        if paren && fastrand::u8(..8) != 0 {
            s.push(')');
        }
    }
    maybe_mutate(s, &['(', ')', ' ', '-', '+', '.', 'a', '1'])
}

/// What this crate makes of each input, in the shape the Python side answers.
fn ours_name(s: &str) -> Value {
    // rules.rs refuses an empty Name before it parses one.
    if s.is_empty() {
        return json!({"ok": false});
    }
    match PackageName::from_str(s) {
        Ok(n) => json!({"ok": true, "canonical": n.as_ref()}),
        Err(_) => json!({"ok": false}),
    }
}

fn ours_version(s: &str) -> Value {
    match Version::from_str(s) {
        Ok(v) => json!({
            "ok": true,
            "str": v.to_string(),
            "public": v.clone().without_local().to_string(),
            "local": v.is_local(),
        }),
        Err(_) => json!({"ok": false}),
    }
}

fn ours_requirement(s: &str) -> Value {
    // As rules.rs judges a Requires-Dist: a valid PEP 508 requirement that is no direct URL.
    match parse_requirement(s) {
        Ok(r) => match &r.version_or_url {
            Some(pep508_rs::VersionOrUrl::Url(_)) => json!({"ok": false}),
            spec => {
                let specifiers = match spec {
                    Some(pep508_rs::VersionOrUrl::VersionSpecifier(v)) => v.len(),
                    _ => 0,
                };
                let extras: BTreeSet<String> = r.extras.iter().map(|e| e.to_string()).collect();
                json!({
                    "ok": true,
                    "name": r.name.as_ref(),
                    "extras": extras.into_iter().collect::<Vec<_>>(),
                    "specifiers": specifiers,
                })
            }
        },
        Err(_) => json!({"ok": false}),
    }
}

fn ours_wheel(s: &str) -> Value {
    let Ok(w) = parse_wheel(s) else {
        return json!({"ok": false});
    };
    let (Ok(name), Ok(version)) = (
        PackageName::from_str(&w.name),
        Version::from_str(&w.version),
    ) else {
        return json!({"ok": false});
    };
    // collect.rs: the name part must be the normalised name, written with '_' (and match
    // the metadata's Name, which is never empty).
    if w.name.is_empty() || w.name != escaped(&name) {
        return json!({"ok": false});
    }
    let mut tags = BTreeSet::new();
    for p in w.python.split('.') {
        for a in w.abi.split('.') {
            for pl in w.platform.split('.') {
                tags.insert(format!("{p}-{a}-{pl}").to_ascii_lowercase());
            }
        }
    }
    let build = w.build.as_ref().map(|b| {
        let digits: String = b.chars().take_while(char::is_ascii_digit).collect();
        json!([digits.parse::<u64>().unwrap_or(0), &b[digits.len()..]])
    });
    json!({
        "ok": true,
        "name": name.as_ref(),
        "version": version.to_string(),
        "build": build,
        "tags": tags.into_iter().collect::<Vec<_>>(),
    })
}

fn ours_license(s: &str) -> Value {
    json!({"ok": check_expression(s).is_ok()})
}

fn ours_sdist(name: &str, version: &str) -> Option<Value> {
    let name = PackageName::from_str(name)
        .ok()
        .filter(|_| !name.is_empty())?;
    let version = Version::from_str(version).ok()?;
    // The file name collect.rs requires of an sdist.
    Some(json!({
        "filename": format!("{}-{}.tar.gz", escaped(&name), version),
        "name": name.as_ref(),
        "version": version.to_string(),
    }))
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|s| s.as_str().expect("a string").to_owned())
        .collect()
}

#[test]
fn agrees_with_python_packaging() {
    std::panic::set_hook(Box::new(|_| {}));
    fastrand::seed(
        std::env::var("DIFFERENTIAL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x005e_ed44_0508),
    );
    let corpus = python("corpus", None);
    let mut names = strings(&corpus["names"]);
    let mut versions = strings(&corpus["versions"]);
    let mut requirements = strings(&corpus["requirements"]);
    let mut wheels = strings(&corpus["wheels"]);
    let mut licenses = strings(&corpus["licenses"]);
    assert!(
        names.len() > 10 && requirements.len() > 10,
        "the real corpus is too small: {corpus}"
    );
    names.extend((0..GENERATED).map(|_| gen_name()));
    versions.extend((0..GENERATED).map(|_| gen_version()));
    requirements.extend((0..GENERATED).map(|_| gen_requirement()));
    wheels.extend((0..GENERATED).map(|_| gen_wheel()));
    licenses.extend((0..GENERATED).map(|_| gen_license()));
    // Ordering: the versions both sides accept, sorted by each.
    let sortable: Vec<String> = versions
        .iter()
        .filter(|v| Version::from_str(v).is_ok())
        .cloned()
        .collect();
    let sdists: Vec<(String, String)> = names
        .iter()
        .zip(versions.iter().rev())
        .filter(|(n, v)| ours_sdist(n, v).is_some())
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect();
    let batch = json!({
        "names": names, "versions": versions, "sortable": sortable,
        "requirements": requirements, "wheels": wheels, "sdists": sdists, "licenses": licenses,
    });
    let theirs = python("judge", Some(&batch));

    let mut disagreements = Vec::new();
    let mut explained: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut compare = |kind: &str, inputs: &[String], ours: &dyn Fn(&str) -> Value| {
        let answers = theirs[kind].as_array().expect("answers");
        assert_eq!(answers.len(), inputs.len(), "{kind}");
        for (input, their) in inputs.iter().zip(answers) {
            // A valid Python version that this crate refuses would also fail `sortable`.
            // A panic is a disagreement too (the release binary aborts on one).
            let our = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| ours(input)))
                .unwrap_or_else(|_| json!({"panicked": true}));
            if our == *their {
                continue;
            }
            match known(kind, input, &our, their) {
                Some(why) => *explained.entry(why).or_insert(0) += 1,
                None => {
                    disagreements.push(format!("{kind} {input:?}: ours {our}, packaging {their}"))
                }
            }
        }
    };
    compare("names", &names, &ours_name);
    compare("versions", &versions, &ours_version);
    compare("requirements", &requirements, &ours_requirement);
    compare("wheels", &wheels, &ours_wheel);
    compare("licenses", &licenses, &ours_license);
    let sdist_inputs: Vec<String> = sdists.iter().map(|(n, v)| format!("{n}\0{v}")).collect();
    compare("sdists", &sdist_inputs, &|s: &str| {
        let (n, v) = s.split_once('\0').expect("pair");
        ours_sdist(n, v).expect("filtered")
    });

    let mut ours_sorted: Vec<usize> = (0..sortable.len()).collect();
    ours_sorted.sort_by_key(|&i| (Version::from_str(&sortable[i]).expect("filtered"), i));
    let their_sorted: Vec<usize> = theirs["sorted"]
        .as_array()
        .expect("sorted")
        .iter()
        .map(|i| i.as_u64().expect("index") as usize)
        .collect();
    for (a, b) in ours_sorted.iter().zip(&their_sorted) {
        if a != b {
            disagreements.push(format!(
                "version order: ours puts {:?} where packaging puts {:?}",
                sortable[*a], sortable[*b]
            ));
            break;
        }
    }

    drop(std::panic::take_hook());
    // Shown with --nocapture: what the expected disagreements were, and how often.
    for (why, n) in &explained {
        println!("{n:5} expected disagreements: {why}");
    }
    let total = names.len()
        + versions.len()
        + requirements.len()
        + wheels.len()
        + sdists.len()
        + licenses.len();
    assert!(
        disagreements.is_empty(),
        "{} of {total} inputs judged differently from packaging {} (decide against the \
         specs; add a class to `known` only where the spec sides with this crate):\n{}",
        disagreements.len(),
        corpus["packaging"],
        disagreements.join("\n")
    );
}
