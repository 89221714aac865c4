//! Step outputs (`$GITHUB_OUTPUT`) and the `--report` file.
use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::report::Report;

/// Append the step outputs to `$GITHUB_OUTPUT` (no-op outside Actions).
pub fn write_github_output(report: &Report) -> anyhow::Result<()> {
    let published = report.published_json()?;
    let releases = report.releases_json()?;
    let complete = if report.complete() { "true" } else { "false" };
    let urls = report.urls().join("\n");
    // One release's name, version and page; empty when the publish held several (see
    // `releases`).
    let (name, version, release_url) = report
        .single()
        .map(|r| (r.name.as_str(), r.version.as_str(), r.release_url.as_str()))
        .unwrap_or_default();
    write_named_outputs(&[
        ("urls", &urls),
        ("release-url", release_url),
        ("published", &published),
        ("releases", &releases),
        ("name", name),
        ("version", version),
        ("complete", complete),
    ])
}

/// Append `name=value` pairs to `$GITHUB_OUTPUT` (no-op outside Actions).
pub fn write_named_outputs(pairs: &[(&str, &str)]) -> anyhow::Result<()> {
    let Some(path) = super::log::output_file() else {
        return Ok(());
    };
    let out: String = pairs.iter().map(|(n, v)| output_entry(n, v)).collect();
    append(path, &out).context("writing step outputs to $GITHUB_OUTPUT")
}

/// `name<<DELIM\nvalue\nDELIM\n`, with a random delimiter that the value cannot contain,
/// so a value can never inject another output.
fn output_entry(name: &str, value: &str) -> String {
    let mut delim;
    loop {
        delim = format!("ghadelimiter_{:032x}", fastrand::u128(..));
        if !value.contains(&delim) {
            break;
        }
    }
    format!("{name}<<{delim}\n{value}\n{delim}\n")
}

pub(super) fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Write the `--report` file (the `published` JSON, pretty-printed), atomically.
pub fn write_report_file(path: &Path, report: &Report) -> anyhow::Result<()> {
    write_json_file(path, &report.published_json_pretty()?)
}

/// Write a JSON report file (`--report` of any command), atomically.
pub fn write_json_file(path: &Path, json: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot create a file in {}", dir.display()))?;
    tmp.write_all(json.as_bytes())
        .and_then(|_| tmp.write_all(b"\n"))
        .with_context(|| format!("cannot write {}", path.display()))?;
    // A temporary file is private (0600); the report is for the steps that follow, which in
    // a container action run as another user than the container's root.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    tmp.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delimiter_never_in_value() {
        let e = output_entry("urls", "a\nb");
        let mut lines = e.lines();
        let head = lines.next().unwrap();
        let delim = head.strip_prefix("urls<<").unwrap();
        assert_eq!(lines.collect::<Vec<_>>(), vec!["a", "b", delim]);
    }
}
