//! `action.yml` and the binary must describe the same action.
//!
//! GitHub hands every input to the container as `INPUT_<NAME>` and the binary reads each one
//! as the fallback of the flag of the same name, so nothing but this test notices when the
//! two drift apart. It reads `action.yml`, the built binary's `--help` of every subcommand,
//! the `INPUT_*` names and output names in `src/`, and the Dockerfile's entrypoint, and fails
//! when:
//! - an input is declared that the binary never reads, or the binary reads an `INPUT_*`
//!   variable that is not declared (a user could not set it);
//! - a flag has no `INPUT_*` fallback (the action could not set it);
//! - a declared default differs from the binary's own default;
//! - an output is declared but never written, or written but not declared;
//! - the `command` input's values and the binary's subcommands differ, or the image's
//!   entrypoint does not run a subcommand of the binary.
//!
//! The YAML is parsed with `serde_yaml_ng` (the maintained continuation of `serde_yaml`); it
//! refuses duplicate keys, which would otherwise silently hide a second declaration.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

const BIN: &str = env!("CARGO_BIN_EXE_pypi-oidc-publish");

fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

// ---------------------------------------------------------------------------------------
// action.yml
// ---------------------------------------------------------------------------------------

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionYml {
    name: String,
    description: String,
    // Keys GitHub allows that this test has no rule for; named so that a misspelt key
    // is still refused.
    #[serde(default, rename = "author")]
    _author: Option<String>,
    #[serde(default, rename = "branding")]
    _branding: Option<serde_yaml_ng::Value>,
    #[serde(default)]
    inputs: BTreeMap<String, InputDecl>,
    #[serde(default)]
    outputs: BTreeMap<String, OutputDecl>,
    runs: Runs,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputDecl {
    description: String,
    #[serde(default)]
    required: Option<bool>,
    #[serde(default)]
    default: Option<serde_yaml_ng::Value>,
    #[serde(default, rename = "deprecationMessage")]
    _deprecation_message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OutputDecl {
    description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Runs {
    using: String,
    image: String,
    #[serde(default)]
    entrypoint: Option<String>,
    #[serde(default)]
    args: Option<Vec<String>>,
    #[serde(default, rename = "env")]
    _env: Option<BTreeMap<String, String>>,
}

/// Parsed through `Value` first: its mappings reject duplicate keys, a typed map would keep
/// the last one.
fn parse_action(text: &str) -> Result<ActionYml, String> {
    let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    serde_yaml_ng::from_value(value).map_err(|e| e.to_string())
}

fn action() -> ActionYml {
    let path = repo_file("action.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_action(&text).unwrap_or_else(|e| panic!("action.yml: {e}"))
}

/// The variable GitHub sets for an input: `INPUT_` + the name upper-cased, spaces to `_`.
fn input_env(input: &str) -> String {
    format!("INPUT_{}", input.replace(' ', "_").to_uppercase())
}

/// A default as the runner passes it: YAML booleans and numbers arrive as their text.
fn default_text(value: &serde_yaml_ng::Value) -> String {
    match value {
        serde_yaml_ng::Value::String(s) => s.clone(),
        serde_yaml_ng::Value::Bool(b) => b.to_string(),
        serde_yaml_ng::Value::Number(n) => n.to_string(),
        serde_yaml_ng::Value::Null => String::new(),
        other => panic!("action.yml: a default must be a scalar, found {other:?}"),
    }
}

fn is_expression(s: &str) -> bool {
    s.trim_start().starts_with("${{")
}

// ---------------------------------------------------------------------------------------
// The binary's flags, from `--help`
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
struct Flag {
    command: String,
    long: String,
    takes_value: bool,
    env: Option<String>,
    default: Option<String>,
    possible_values: Vec<String>,
}

fn help_of(args: &[&str]) -> Result<String, String> {
    help_with_env(args, &[])
}

/// `--help` of `args` in an environment holding only `env`: an `INPUT_*` variable of the
/// caller would otherwise show up as a value.
fn help_with_env(args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
    let out = Command::new(BIN)
        .args(args)
        .arg("--help")
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .map_err(|e| format!("cannot run {BIN}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`pypi-oidc-publish {} --help` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("help is not UTF-8: {e}"))
}

/// Subcommand names listed under `Commands:` of the top-level help (without `help`).
fn listed_subcommands(help: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if !line.starts_with(' ') {
            in_commands = line.trim_end() == "Commands:";
            continue;
        }
        if in_commands && line.starts_with("  ") && !line[2..].starts_with(' ') {
            if let Some(name) = line.split_whitespace().next() {
                if name != "help" {
                    names.push(name.to_owned());
                }
            }
        }
    }
    names
}

/// `  -v, --verbose  ...` or `      --repository-url <URL>  ...`: the long name, whether it
/// takes a value, and any description on the same line.
fn option_header(line: &str) -> Option<(String, bool, String)> {
    let trimmed = line.trim_start();
    let indent = line.len() - trimmed.len();
    if !(indent == 2 || indent == 6) || !trimmed.starts_with('-') {
        return None;
    }
    let (head, rest) = match trimmed.find("  ") {
        Some(i) => (&trimmed[..i], trimmed[i..].trim()),
        None => (trimmed, ""),
    };
    let long_start = head.find("--")? + 2;
    let long: String = head[long_start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if long.is_empty() {
        return None;
    }
    Some((long, head.contains('<'), rest.to_owned()))
}

/// Text of `[key: ...]` in `text`, starting the search at `from`.
fn bracketed(text: &str, key: &str, from: usize) -> Option<(usize, String)> {
    let open = format!("[{key}: ");
    let start = text[from..].find(&open)? + from;
    let value_start = start + open.len();
    let end = text[value_start..].find(']')? + value_start;
    Some((start, text[value_start..end].trim().to_owned()))
}

fn parse_flags(command: &str, help: &str) -> Vec<Flag> {
    let mut blocks: Vec<(String, bool, Vec<String>)> = Vec::new();
    for line in help.lines() {
        if let Some((long, takes_value, rest)) = option_header(line) {
            blocks.push((long, takes_value, vec![rest]));
        } else if !line.starts_with(' ') && !line.is_empty() {
            // A section heading ("Options:", "Arguments:") ends the current option.
            blocks.push((String::new(), false, Vec::new()));
        } else if let Some(block) = blocks.last_mut() {
            block.2.push(line.to_owned());
        }
    }
    blocks
        .into_iter()
        .filter(|(long, _, _)| !long.is_empty() && long != "help" && long != "version")
        .map(|(long, takes_value, lines)| {
            let joined = lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            // clap prints `[env: ...]` before its own `[default: ...]`; a `[default: ...]`
            // earlier in the text is prose of the flag's description.
            let env = bracketed(&joined, "env", 0);
            let after_env = env.as_ref().map(|(at, _)| *at).unwrap_or(0);
            let default = bracketed(&joined, "default", after_env).map(|(_, v)| v);
            let env = env.map(|(_, v)| v.split('=').next().unwrap_or_default().to_owned());
            let mut possible_values: Vec<String> = bracketed(&joined, "possible values", 0)
                .map(|(_, v)| v.split(", ").map(str::to_owned).collect())
                .unwrap_or_default();
            // Long form: "Possible values:" then one "- value: help" line per value.
            let mut in_values = false;
            for line in &lines {
                let t = line.trim();
                if t == "Possible values:" {
                    in_values = true;
                } else if in_values {
                    match t.strip_prefix("- ") {
                        Some(item) => possible_values
                            .push(item.split(':').next().unwrap_or(item).trim().to_owned()),
                        None => in_values = false,
                    }
                }
            }
            Flag {
                command: command.to_owned(),
                long,
                takes_value,
                env,
                default,
                possible_values,
            }
        })
        .collect()
}

/// The subcommand the image's ENTRYPOINT runs, from the Dockerfile's exec-form ENTRYPOINT.
fn entrypoint_subcommand() -> (String, Vec<String>) {
    let path = repo_file("Dockerfile");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let line = text
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("ENTRYPOINT"))
        .unwrap_or_else(|| panic!("the Dockerfile has no ENTRYPOINT"));
    let json = line.trim_start()["ENTRYPOINT".len()..].trim();
    let argv: Vec<String> = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("ENTRYPOINT must be exec form (a JSON array): {line}: {e}"));
    assert!(
        argv.len() == 2,
        "ENTRYPOINT must be [BINARY, SUBCOMMAND], found {argv:?}"
    );
    (argv[1].clone(), argv)
}

struct Binary {
    /// The subcommands listed in `--help`.
    subcommands: Vec<String>,
    flags: Vec<Flag>,
}

fn binary() -> Binary {
    let top = help_of(&[]).unwrap_or_else(|e| panic!("{e}"));
    let subcommands = listed_subcommands(&top);
    assert!(
        !subcommands.is_empty(),
        "no subcommands found in the top-level help:\n{top}"
    );
    let mut flags = Vec::new();
    for cmd in &subcommands {
        let help = help_of(&[cmd]).unwrap_or_else(|e| panic!("{e}"));
        flags.extend(parse_flags(cmd, &help));
    }
    Binary { subcommands, flags }
}

/// The subcommand whose help `help` is, from its `Usage:` line.
fn usage_subcommand(help: &str) -> Option<String> {
    let usage = help.lines().find_map(|l| l.strip_prefix("Usage: "))?;
    usage.split_whitespace().nth(1).map(str::to_owned)
}

// ---------------------------------------------------------------------------------------
// The sources: INPUT_* names and output names
// ---------------------------------------------------------------------------------------

fn rust_sources(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// A string literal of the source: its text (escapes kept as written) and byte offset.
#[derive(Debug)]
struct Literal {
    at: usize,
    text: String,
}

/// Splits Rust source into its string literals and the code around them, with comments and
/// the insides of string and char literals blanked (offsets kept), so braces and quotes in
/// them cannot mislead the scans below. Handles `//`, nested `/* */`, `"..."` with escapes,
/// `r#"..."#`, char literals and lifetimes: enough for this crate's own sources.
fn lex(src: &str) -> (String, Vec<Literal>) {
    let b = src.as_bytes();
    let mut code = b.to_vec();
    let mut lits = Vec::new();
    let mut i = 0;
    let blank = |code: &mut Vec<u8>, from: usize, to: usize| {
        for c in &mut code[from..to] {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut code, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (mut depth, mut j) = (1, i + 2);
                while j < b.len() && depth > 0 {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 2;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 2;
                    } else {
                        j += 1;
                    }
                }
                blank(&mut code, i, j);
                i = j;
            }
            b'r' if matches!(b.get(i + 1), Some(b'"') | Some(b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
                let open = i + 1 + hashes;
                if b.get(open) != Some(&b'"') {
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                let end = src[open + 1..]
                    .find(&close)
                    .map_or(b.len(), |n| open + 1 + n);
                lits.push(Literal {
                    at: i,
                    text: src[open + 1..end].to_owned(),
                });
                blank(&mut code, open + 1, end);
                i = (end + close.len()).min(b.len());
            }
            b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                lits.push(Literal {
                    at: i,
                    text: src[i + 1..end].to_owned(),
                });
                blank(&mut code, i + 1, end);
                i = end + 1;
            }
            b'\'' => {
                // A char literal ('x', '\n', '"') or a lifetime ('a).
                if b.get(i + 1) == Some(&b'\\') {
                    let end = src[i + 3..].find('\'').map_or(b.len(), |n| i + 3 + n);
                    blank(&mut code, i + 1, end);
                    i = end + 1;
                } else if b.get(i + 2) == Some(&b'\'') {
                    blank(&mut code, i + 1, i + 2);
                    i += 3;
                } else {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    (String::from_utf8(code).expect("blanking keeps UTF-8"), lits)
}

/// Byte ranges of items under `#[cfg(test)]` (test modules and test-only functions).
fn test_only_ranges(code: &str) -> Vec<(usize, usize)> {
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(n) = code[from..].find("#[cfg(test)]") {
        let start = from + n;
        let after = start + "#[cfg(test)]".len();
        let end = match (code[after..].find('{'), code[after..].find(';')) {
            (Some(brace), semi) if semi.is_none_or(|s| brace < s) => {
                matching_brace(code, after + brace)
            }
            (_, Some(semi)) => after + semi + 1,
            _ => code.len(),
        };
        ranges.push((start, end));
        from = end;
    }
    ranges
}

/// Offset just past the `}` matching the `{` at `open`, in lexed code.
fn matching_brace(code: &str, open: usize) -> usize {
    matching(code, open, b'{', b'}').map_or(code.len(), |i| i + 1)
}

/// Offset of the delimiter closing the one at `open`, in lexed code (no literals or
/// comments left to confuse the count).
fn matching(code: &str, open: usize, opening: u8, closing: u8) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in code.as_bytes().iter().enumerate().skip(open) {
        if c == opening {
            depth += 1;
        } else if c == closing {
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

struct SourceFacts {
    /// `INPUT_*` names in string literals of non-test code, with where they are.
    inputs: BTreeMap<String, String>,
    /// Output names passed to `write_named_outputs`, with where they are.
    outputs: BTreeMap<String, String>,
}

fn source_facts() -> SourceFacts {
    let mut files = Vec::new();
    rust_sources(&repo_file("src"), &mut files);
    files.sort();
    let mut facts = SourceFacts {
        inputs: BTreeMap::new(),
        outputs: BTreeMap::new(),
    };
    for file in files {
        let src = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
        let rel = file
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(&file)
            .display()
            .to_string();
        scan_file(&rel, &src, &mut facts);
    }
    facts
}

fn scan_file(rel: &str, src: &str, facts: &mut SourceFacts) {
    let (code, lits) = lex(src);
    let tests = test_only_ranges(&code);
    let in_tests = |at: usize| tests.iter().any(|&(s, e)| at >= s && at < e);
    let line_of = |at: usize| src[..at].matches('\n').count() + 1;
    for lit in lits.iter().filter(|l| !in_tests(l.at)) {
        if let Some(name) = lit.text.strip_prefix("INPUT_") {
            // A bare "INPUT_" is the prefix test of the empty-input filter, not a name.
            if !name.is_empty() {
                facts
                    .inputs
                    .entry(lit.text.clone())
                    .or_insert_with(|| format!("{rel}:{}", line_of(lit.at)));
            }
        }
    }
    for (at, args) in call_arguments(&code, "write_named_outputs") {
        if in_tests(at) {
            continue;
        }
        // Each output is a `("name", value)` tuple: the literal right after a `(`.
        for lit in lits.iter().filter(|l| l.at > args.0 && l.at < args.1) {
            if code[..lit.at].trim_end().ends_with('(') {
                facts
                    .outputs
                    .entry(lit.text.clone())
                    .or_insert_with(|| format!("{rel}:{}", line_of(lit.at)));
            }
        }
    }
}

/// Calls of `name(...)` (not its definition): the call's offset and its argument range.
fn call_arguments(code: &str, name: &str) -> Vec<(usize, (usize, usize))> {
    let mut calls = Vec::new();
    let mut from = 0;
    while let Some(n) = code[from..].find(name) {
        let at = from + n;
        from = at + name.len();
        let before = code[..at].trim_end();
        let is_ident_part = code[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_');
        if is_ident_part || before.ends_with("fn") {
            continue;
        }
        let rest = &code[from..];
        if !rest.trim_start().starts_with('(') {
            continue;
        }
        let open = from + rest.find('(').unwrap_or(0);
        let close = matching_paren(code, open);
        calls.push((at, (open, close)));
    }
    calls
}

fn matching_paren(code: &str, open: usize) -> usize {
    matching(code, open, b'(', b')').unwrap_or(code.len())
}

fn fail_if_any(problems: Vec<String>, what: &str) {
    assert!(problems.is_empty(), "{what}:\n- {}", problems.join("\n- "));
}

// ---------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------

#[test]
fn every_declared_input_is_read_by_the_binary() {
    let action = action();
    let bin = binary();
    let src = source_facts();
    let read: BTreeSet<String> = bin
        .flags
        .iter()
        .filter_map(|f| f.env.clone())
        .chain(src.inputs.keys().cloned())
        .collect();
    let problems = action
        .inputs
        .keys()
        .filter(|name| !read.contains(&input_env(name)))
        .map(|name| {
            format!(
                "input `{name}`: the binary never reads {} (add `env = \"{}\"` to its flag, or \
                 remove the input)",
                input_env(name),
                input_env(name)
            )
        })
        .collect();
    fail_if_any(problems, "action.yml declares inputs the binary ignores");
}

#[test]
fn every_input_the_binary_reads_is_declared() {
    let action = action();
    let declared: BTreeSet<String> = action.inputs.keys().map(|n| input_env(n)).collect();
    let bin = binary();
    let src = source_facts();
    let mut problems = Vec::new();
    for flag in &bin.flags {
        if let Some(env) = &flag.env {
            if env.starts_with("INPUT_") && !declared.contains(env) {
                problems.push(format!(
                    "`{} --{}` reads {env}, which action.yml does not declare (add input `{}`)",
                    flag.command,
                    flag.long,
                    env["INPUT_".len()..].to_lowercase()
                ));
            }
        }
    }
    for (env, at) in &src.inputs {
        if !declared.contains(env) {
            problems.push(format!(
                "{at} reads {env}, which action.yml does not declare (add input `{}`)",
                env["INPUT_".len()..].to_lowercase()
            ));
        }
    }
    problems.dedup();
    fail_if_any(
        problems,
        "the binary reads inputs action.yml does not declare",
    );
}

#[test]
fn every_flag_falls_back_to_an_input() {
    let bin = binary();
    let problems = bin
        .flags
        .iter()
        .filter(|f| !f.env.as_deref().is_some_and(|e| e.starts_with("INPUT_")))
        .map(|f| {
            format!(
                "`{} --{}` has no INPUT_ fallback, so the action cannot set it (add `env = \"{}\"`)",
                f.command,
                f.long,
                input_env(&f.long)
            )
        })
        .collect();
    fail_if_any(problems, "flags the action cannot set");
}

#[test]
fn declared_defaults_are_the_binary_defaults() {
    let action = action();
    let bin = binary();
    let mut problems = Vec::new();
    for (name, decl) in &action.inputs {
        let env = input_env(name);
        let declared = decl.default.as_ref().map(default_text);
        for flag in bin.flags.iter().filter(|f| f.env.as_deref() == Some(&env)) {
            let who = format!("input `{name}` (`{} --{}`)", flag.command, flag.long);
            match (&declared, flag.takes_value, &flag.default) {
                // An expression is the runner's to evaluate; the binary must not have a
                // default of its own that it would silently prefer.
                (Some(d), _, None) if is_expression(d) => {}
                (Some(d), _, Some(b)) if is_expression(d) => problems.push(format!(
                    "{who}: action.yml defaults to {d} but the binary to {b:?}"
                )),
                (Some(d), true, Some(b)) if d != b => problems.push(format!(
                    "{who}: action.yml default {d:?}, binary default {b:?}"
                )),
                (None, true, Some(b)) => problems.push(format!(
                    "{who}: the binary defaults to {b:?}; declare `default: '{b}'`"
                )),
                (Some(d), true, None) if !d.is_empty() => problems.push(format!(
                    "{who}: action.yml defaults to {d:?} but the binary has no default"
                )),
                // A switch is off unless the input says `true`.
                (Some(d), false, _) if d != "false" => problems.push(format!(
                    "{who}: a switch, so its default must be 'false', not {d:?}"
                )),
                (None, false, _) => {
                    problems.push(format!("{who}: a switch; declare `default: 'false'`"))
                }
                _ => {}
            }
        }
    }
    fail_if_any(problems, "action.yml defaults disagree with the binary");
}

#[test]
fn flags_sharing_an_input_share_its_default() {
    let bin = binary();
    let mut by_env: BTreeMap<&str, BTreeSet<(Option<&str>, bool)>> = BTreeMap::new();
    for f in &bin.flags {
        if let Some(env) = &f.env {
            by_env
                .entry(env)
                .or_default()
                .insert((f.default.as_deref(), f.takes_value));
        }
    }
    let problems = by_env
        .into_iter()
        .filter(|(_, variants)| variants.len() > 1)
        .map(|(env, variants)| {
            format!("{env} means different things to different subcommands: {variants:?}")
        })
        .collect();
    fail_if_any(problems, "one input, several meanings");
}

#[test]
fn declared_outputs_are_the_written_outputs() {
    let action = action();
    let src = source_facts();
    assert!(
        !src.outputs.is_empty(),
        "found no output written through write_named_outputs in src/"
    );
    let mut problems = Vec::new();
    for name in action.outputs.keys() {
        if !src.outputs.contains_key(name) {
            problems.push(format!(
                "output `{name}` is declared but src/ never writes it"
            ));
        }
    }
    for (name, at) in &src.outputs {
        if !action.outputs.contains_key(name) {
            problems.push(format!(
                "{at} writes output `{name}`, which action.yml does not declare"
            ));
        }
    }
    fail_if_any(problems, "action.yml outputs disagree with the binary");
}

#[test]
fn command_input_selects_each_subcommand() {
    let action = action();
    let bin = binary();
    let (entry, _) = entrypoint_subcommand();
    let decl = action
        .inputs
        .get("command")
        .expect("action.yml must declare the `command` input the entrypoint dispatches on");
    let default = decl.default.as_ref().map(default_text).unwrap_or_default();
    // `ENTRYPOINT SUBCOMMAND --help` is the help of the subcommand the inputs select.
    let help = help_of(&[&entry]).unwrap_or_else(|e| {
        panic!("{e}\n(the image's entrypoint runs `{entry}`; with --help it must show the help of the selected subcommand)")
    });
    assert_eq!(
        usage_subcommand(&help).as_deref(),
        Some(default.as_str()),
        "with no `command` input the entrypoint must run the declared default {default:?}"
    );
    for cmd in &bin.subcommands {
        let help = help_with_env(&[&entry], &[("INPUT_COMMAND", cmd)])
            .unwrap_or_else(|e| panic!("INPUT_COMMAND={cmd}: {e}"));
        assert_eq!(
            usage_subcommand(&help).as_deref(),
            Some(cmd.as_str()),
            "INPUT_COMMAND={cmd} must run `{cmd}`"
        );
        assert!(
            decl.description.contains(&format!("`{cmd}`")),
            "the `command` input's description does not mention `{cmd}`"
        );
    }
    let refused = Command::new(BIN)
        .arg(&entry)
        .env_clear()
        .env("INPUT_COMMAND", "no-such-command")
        .output()
        .expect("run the entrypoint");
    assert!(
        !refused.status.success()
            && String::from_utf8_lossy(&refused.stderr).contains("no-such-command"),
        "an unknown `command` must be refused by name"
    );
}

#[test]
fn entrypoint_runs_the_binary_the_image_ships() {
    let (_, argv) = entrypoint_subcommand();
    assert_eq!(
        argv[0], "/pypi-oidc-publish",
        "the ENTRYPOINT must run the binary the image copies to /pypi-oidc-publish"
    );
    let dockerfile = std::fs::read_to_string(repo_file("Dockerfile")).expect("Dockerfile");
    assert!(
        dockerfile.contains("cargo build --release --locked -p pypi-oidc-publish"),
        "the image must build only the publisher, from the lockfile"
    );
}

#[test]
fn action_runs_a_pinned_container() {
    let action = action();
    assert_eq!(action.runs.using, "docker");
    let image = action.runs.image.as_str();
    let pinned = image
        .strip_prefix("docker://")
        .and_then(|r| r.split_once("@sha256:"))
        .is_some_and(|(_, hex)| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(
        image == "Dockerfile" || pinned,
        "runs.image must be `Dockerfile` or a docker:// image pinned by @sha256 digest, not {image:?}"
    );
    assert!(
        action.runs.entrypoint.is_none() && action.runs.args.is_none(),
        "the image's ENTRYPOINT dispatches on INPUT_COMMAND; runs.entrypoint/args would bypass it"
    );
}

#[test]
fn every_input_and_output_is_described() {
    let action = action();
    assert!(!action.name.trim().is_empty() && !action.description.trim().is_empty());
    let mut problems = Vec::new();
    for (name, decl) in &action.inputs {
        if decl.description.trim().is_empty() {
            problems.push(format!("input `{name}` has no description"));
        }
        if decl.required == Some(true) {
            problems.push(format!(
                "input `{name}` is required, but each command needs different inputs: the \
                 binary says which one is missing"
            ));
        }
        if name.chars().any(|c| c.is_ascii_uppercase() || c == '_') {
            problems.push(format!("input `{name}`: names are lower-case kebab-case"));
        }
    }
    for (name, decl) in &action.outputs {
        if decl.description.trim().is_empty() {
            problems.push(format!("output `{name}` has no description"));
        }
    }
    fail_if_any(problems, "undocumented action metadata");
}

// ---------------------------------------------------------------------------------------
// The readers above must be able to see a disagreement
// ---------------------------------------------------------------------------------------

#[test]
fn a_duplicate_input_is_refused() {
    let yml = "name: a\ndescription: b\ninputs:\n  x:\n    description: one\n  x:\n    \
               description: two\nruns:\n  using: docker\n  image: Dockerfile\n";
    let err = parse_action(yml).expect_err("a duplicate key must not parse");
    assert!(err.contains("duplicate"), "{err}");
}

#[test]
fn help_parsing_reads_env_default_and_values() {
    let help = "Usage: x\n\nOptions:\n      --index-url <URL>\n          Web root [default: \
                derived from --repository-url] [env:\n          INPUT_INDEX-URL=]\n  -v, \
                --verbose\n          Debug [env: INPUT_VERBOSE=]\n      --mode <MODE>\n          \
                Mode\n\n          Possible values:\n          - auto:   a\n          - never:  \
                b\n\n          [env: INPUT_MODE=]\n          [default: auto]\n      --project \
                <P>  Name\n  -h, --help  Print help\n";
    let flags = parse_flags("c", help);
    let by: BTreeMap<&str, &Flag> = flags.iter().map(|f| (f.long.as_str(), f)).collect();
    assert_eq!(by.len(), 4, "{flags:?}");
    let index = by["index-url"];
    assert_eq!(index.env.as_deref(), Some("INPUT_INDEX-URL"));
    assert_eq!(index.default, None, "prose before [env:] is not a default");
    assert!(index.takes_value);
    let verbose = by["verbose"];
    assert!(!verbose.takes_value);
    assert_eq!(verbose.env.as_deref(), Some("INPUT_VERBOSE"));
    let mode = by["mode"];
    assert_eq!(mode.default.as_deref(), Some("auto"));
    assert_eq!(mode.possible_values, ["auto", "never"]);
    assert_eq!(by["project"].env, None);
}

#[test]
fn source_scan_skips_comments_and_tests() {
    let src = r#"
        // "INPUT_IN_COMMENT"
        /* "INPUT_IN_BLOCK" */
        #[arg(long, env = "INPUT_REAL")]
        fn f() { let c = '"'; let s = r"INPUT_RAW"; write_named_outputs(&[("urls", &u), ("name", n)]); }
        pub fn write_named_outputs(pairs: &[(&str, &str)]) {}
        #[cfg(test)]
        mod tests { fn g() { std::env::set_var("INPUT_TEST_ONLY", "1"); write_named_outputs(&[("t", "")]); } }
        fn after() { let _ = "INPUT_AFTER_TESTS"; }
    "#;
    let mut facts = SourceFacts {
        inputs: BTreeMap::new(),
        outputs: BTreeMap::new(),
    };
    scan_file("x.rs", src, &mut facts);
    let inputs: Vec<&str> = facts.inputs.keys().map(String::as_str).collect();
    assert_eq!(inputs, ["INPUT_AFTER_TESTS", "INPUT_RAW", "INPUT_REAL"]);
    let outputs: Vec<&str> = facts.outputs.keys().map(String::as_str).collect();
    assert_eq!(outputs, ["name", "urls"]);
}
