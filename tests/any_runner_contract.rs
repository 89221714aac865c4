//! `any-runner/action.yml` (the composite action for every runner) must be the container
//! action `action.yml` with another way to run the same binary: the same inputs (names,
//! descriptions, `required`, defaults), the same outputs, every input handed to the binary as
//! the container action hands it (`INPUT_<NAME>`), and the wheel installed only by pinned
//! hashes. tests/action_contract.rs holds action.yml to the binary; this holds the composite
//! action to action.yml. scripts/wheel-test runs its steps with a wheel built here.

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml_ng::Value;

/// The step variable that carries input `name`: dashes spelt `_` (the run step turns them
/// back), since not every shell passes on a variable whose name holds a dash.
const INPUT_VAR_PREFIX: &str = "PYPI_OIDC_PUBLISH_INPUT_";

fn read_yaml(rel: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn section<'a>(action: &'a Value, key: &str) -> BTreeMap<String, &'a Value> {
    action[key]
        .as_mapping()
        .unwrap_or_else(|| panic!("no `{key}:` mapping"))
        .iter()
        .map(|(k, v)| (k.as_str().unwrap().to_owned(), v))
        .collect()
}

fn steps(action: &Value) -> &Vec<Value> {
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    action["runs"]["steps"].as_sequence().unwrap()
}

fn step<'a>(action: &'a Value, id: &str) -> &'a Value {
    steps(action)
        .iter()
        .find(|s| s["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no step with id `{id}`"))
}

#[test]
fn inputs_are_the_container_actions() {
    let container = read_yaml("action.yml");
    let composite = read_yaml("any-runner/action.yml");
    let (want, got) = (section(&container, "inputs"), section(&composite, "inputs"));
    let names = |m: &BTreeMap<String, &Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(names(&got), names(&want), "the two actions' inputs differ");
    for (name, spec) in &want {
        for key in ["description", "required", "default"] {
            assert_eq!(
                got[name][key], spec[key],
                "input `{name}`: `{key}` differs from action.yml's"
            );
        }
    }
}

#[test]
fn outputs_are_the_container_actions_and_come_from_the_binary() {
    let container = read_yaml("action.yml");
    let composite = read_yaml("any-runner/action.yml");
    let (want, got) = (
        section(&container, "outputs"),
        section(&composite, "outputs"),
    );
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "the two actions' outputs differ"
    );
    for (name, spec) in &got {
        assert_eq!(
            spec["description"], want[name]["description"],
            "output `{name}`"
        );
        assert_eq!(
            spec["value"].as_str(),
            Some(format!("${{{{ steps.run.outputs.{name} }}}}").as_str()),
            "output `{name}` must be the run step's output of the same name"
        );
    }
}

#[test]
fn every_input_reaches_the_binary_as_the_container_action_passes_it() {
    let composite = read_yaml("any-runner/action.yml");
    let inputs = section(&composite, "inputs");
    let run = step(&composite, "run");
    let env: BTreeMap<String, String> = run["env"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_owned(),
                v.as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let mut passed: Vec<String> = env
        .keys()
        .filter_map(|k| k.strip_prefix(INPUT_VAR_PREFIX))
        .map(str::to_owned)
        .collect();
    passed.sort();
    let mut wanted = Vec::new();
    for name in inputs.keys() {
        // `_` in an input name would come back as `-`: INPUT_ names keep dashes only.
        assert!(
            name.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "input `{name}`: only lower-case letters, digits and dashes map back exactly"
        );
        let var = name.to_uppercase().replace('-', "_");
        assert_eq!(
            env.get(&format!("{INPUT_VAR_PREFIX}{var}"))
                .map(String::as_str),
            Some(format!("${{{{ inputs.{name} }}}}").as_str()),
            "input `{name}` is not passed to the binary"
        );
        wanted.push(var);
    }
    wanted.sort();
    assert_eq!(passed, wanted, "the run step passes variables of no input");
    // The run step itself, with a stand-in binary that prints what it was given.
    let script = run["run"].as_str().unwrap();
    let bin = tempfile::tempdir().unwrap();
    let fake = bin.path().join("pypi-oidc-publish");
    // Python, not sh: dash drops a variable whose name holds a dash before a child sees it.
    let printer = "#!/usr/bin/env python3\n\
                   import os, sys\n\
                   for k in sorted(k for k in os.environ if k.startswith('INPUT_')):\n\
                   \x20   print(f'{k}={os.environ[k]}')\n\
                   print('args: ' + ' '.join(sys.argv[1:]))\n";
    std::fs::write(&fake, printer).unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let mut command = std::process::Command::new("bash");
    command
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", script])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BIN", bin.path());
    for name in inputs.keys() {
        let var = name.to_uppercase().replace('-', "_");
        command.env(
            format!("{INPUT_VAR_PREFIX}{var}"),
            format!("value of {name}"),
        );
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut want: Vec<String> = inputs
        .keys()
        .map(|name| format!("INPUT_{}=value of {name}", name.to_uppercase()))
        .collect();
    want.push("args: action".to_owned());
    want.sort();
    // Both sides sorted as strings: the printer sorts by name, in which `INPUT_RELEASE`
    // comes before `INPUT_RELEASE-ON`, while `INPUT_RELEASE=` sorts after `INPUT_RELEASE-`.
    let mut got: Vec<&str> = stdout.lines().collect();
    got.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn the_wheel_is_installed_only_by_pinned_hashes() {
    let composite = read_yaml("any-runner/action.yml");
    let install = step(&composite, "install")["run"].as_str().unwrap();
    for needed in [
        "--require-hashes",
        "--only-binary :all:",
        "--no-deps",
        "-r \"$pins\"",
    ] {
        assert!(
            install.contains(needed),
            "install step lacks {needed}:\n{install}"
        );
    }
    assert!(Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("any-runner/requirements.txt")
        .is_file());
    for s in steps(&composite) {
        let run = s["run"].as_str().unwrap_or("");
        assert!(
            !run.contains("${{"),
            "an expression inside `run:` is a script injection; pass it through `env:`"
        );
        assert_eq!(s["shell"].as_str(), Some("bash"), "{s:?}");
    }
}
