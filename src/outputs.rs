//! What a publish reports: step outputs, the job summary, and the `--report` file.
//!
//! One [`Report`] is built per run and rendered three ways, so the outputs, the summary and
//! the report can never disagree about which files are on the index.
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileStatus {
    /// Sent by this run and accepted by the index.
    Uploaded,
    /// The index already had this exact file (same sha256); nothing was sent.
    AlreadyThere,
    /// The index refused the file, or sending it failed for good.
    Failed,
    /// Not attempted: the run stopped first (an earlier failure or a cancellation).
    NotUploaded,
    /// `--dry-run`: would be uploaded.
    WouldUpload,
}

impl FileStatus {
    pub fn on_index(self) -> bool {
        matches!(self, FileStatus::Uploaded | FileStatus::AlreadyThere)
    }

    fn label(self) -> &'static str {
        match self {
            FileStatus::Uploaded => "uploaded",
            FileStatus::AlreadyThere => "already there",
            FileStatus::Failed => "FAILED",
            FileStatus::NotUploaded => "not uploaded",
            FileStatus::WouldUpload => "would upload (dry run)",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct FileReport {
    pub filename: String,
    pub status: FileStatus,
    /// The file's URL as the index lists it; unknown until confirmed (`""` in the JSON).
    #[serde(serialize_with = "empty_if_none")]
    pub url: Option<String>,
    /// Unknown for a file that was never hashed (`""` in the JSON).
    #[serde(serialize_with = "empty_if_none")]
    pub sha256: Option<String>,
    #[serde(serialize_with = "empty_if_none")]
    pub blake2_256: Option<String>,
    pub size: u64,
    pub packagetype: String,
    pub python_version: String,
    /// When the index says the file was uploaded (ISO 8601, UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upload_time: Option<String>,
    /// Whether the JSON API listed the file with the same sha256 after the upload.
    pub confirmed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Where this run wrote the file's PEP 740 attestation. The attestation itself (about
    /// 8 KB) stays out of the outputs: a job's outputs are limited to 1 MB in all, and a
    /// following step receives an input as one environment string, limited to 128 KiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attestation_file: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub name: String,
    pub version: String,
    pub repository_url: String,
    pub release_url: String,
    pub files: Vec<FileReport>,
    /// The workflow run whose artifacts were published, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<RunSource>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RunSource {
    pub run_id: u64,
    pub run_url: Option<String>,
    pub event: String,
    pub head_sha: String,
    pub head_branch: Option<String>,
    pub artifacts: Vec<String>,
}

impl RunSource {
    pub fn from_download(d: &crate::artifacts::Downloaded) -> Self {
        RunSource {
            run_id: d.run.id,
            run_url: d.run.html_url.clone(),
            event: d.run.event.clone(),
            head_sha: d.run.head_sha.clone(),
            head_branch: d.run.head_branch.clone(),
            artifacts: d.artifacts.iter().map(|a| a.name.clone()).collect(),
        }
    }
}

impl Report {
    /// Every file is on the index.
    pub fn complete(&self) -> bool {
        !self.files.is_empty() && self.files.iter().all(|f| f.status.on_index())
    }

    pub fn urls(&self) -> Vec<&str> {
        self.files
            .iter()
            .filter(|f| f.status.on_index())
            .filter_map(|f| f.url.as_deref())
            .collect()
    }

    /// The `published` output and the `--report` file: one object per file.
    pub fn published_json(&self) -> anyhow::Result<String> {
        serde_json::to_string(&self.files).context("serialising the report")
    }
}

/// The `published` JSON keeps its documented shape: an unknown value is an empty string.
fn empty_if_none<S: serde::Serializer>(v: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.as_deref().unwrap_or_default())
}

/// Append the step outputs to `$GITHUB_OUTPUT` (no-op outside Actions).
pub fn write_github_output(report: &Report) -> anyhow::Result<()> {
    let published = report.published_json()?;
    let complete = if report.complete() { "true" } else { "false" };
    let urls = report.urls().join("\n");
    write_named_outputs(&[
        ("urls", &urls),
        ("release-url", &report.release_url),
        ("published", &published),
        ("name", &report.name),
        ("version", &report.version),
        ("complete", complete),
    ])
}

/// Append `name=value` pairs to `$GITHUB_OUTPUT` (no-op outside Actions).
pub fn write_named_outputs(pairs: &[(&str, &str)]) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_OUTPUT").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let out: String = pairs.iter().map(|(n, v)| output_entry(n, v)).collect();
    append(Path::new(&path), &out).context("writing step outputs to $GITHUB_OUTPUT")
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

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Append a markdown summary to `$GITHUB_STEP_SUMMARY` (no-op outside Actions).
pub fn write_step_summary(markdown: &str) -> anyhow::Result<()> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    append(Path::new(&path), markdown).context("writing the job summary")
}

/// The job summary of a publish. Every value in it is outside data (names, URLs, run
/// metadata, index messages) and goes through [`md`]; links are HTML anchors so a URL cannot
/// end one early.
pub fn summary_markdown(report: &Report, dry_run: bool) -> String {
    let mut md_out = String::new();
    let on_index = report.files.iter().filter(|f| f.status.on_index()).count();
    let (name, version) = (md(&report.name), md(&report.version));
    let title = if dry_run {
        format!("Dry run: {name} {version}")
    } else if report.complete() {
        format!("Published {name} {version}")
    } else {
        format!(
            "Publish of {name} {version} incomplete: {on_index} of {} files on the index",
            report.files.len()
        )
    };
    md_out.push_str(&format!("## {title}\n\n"));
    if !report.release_url.is_empty() {
        md_out.push_str(&format!(
            "Release page: {}  \nIndex: <code>{}</code>\n\n",
            link(&report.release_url, &md(&report.release_url)),
            md(&report.repository_url)
        ));
    }
    if let Some(src) = &report.source {
        let run_text = format!("run {}", src.run_id);
        let run = match &src.run_url {
            Some(u) => link(u, &run_text),
            None => run_text,
        };
        md_out.push_str(&format!(
            "From {run} (<code>{}</code>{}), commit <code>{}</code>, artifacts: {}\n\n",
            md(&src.event),
            src.head_branch
                .as_deref()
                .map(|b| format!(" on <code>{}</code>", md(b)))
                .unwrap_or_default(),
            md(&src.head_sha),
            src.artifacts
                .iter()
                .map(|a| format!("<code>{}</code>", md(a)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    md_out.push_str("| File | Status | Size | SHA-256 |\n|---|---|---:|---|\n");
    for f in &report.files {
        let code = format!("<code>{}</code>", md(&f.filename));
        let name = match &f.url {
            Some(url) => link(url, &code),
            None => code,
        };
        let sha = match &f.sha256 {
            Some(sha) => format!("<code>{}</code>", md(sha)),
            None => String::from("–"),
        };
        md_out.push_str(&format!(
            "| {name} | {} | {} | {sha} |\n",
            f.status.label(),
            human_size(f.size)
        ));
    }
    let attested = report
        .files
        .iter()
        .filter(|f| f.attestation_file.is_some())
        .count();
    if attested > 0 {
        md_out.push_str(&format!(
            "\nPEP 740 publish attestations signed and uploaded for {attested} file{}.\n",
            if attested == 1 { "" } else { "s" }
        ));
    }
    let failures: Vec<_> = report
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| (f, e)))
        .collect();
    if !failures.is_empty() {
        md_out.push_str("\n### What went wrong\n\n");
        for (f, e) in failures {
            md_out.push_str(&format!("- <code>{}</code>: {}\n", md(&f.filename), md(e)));
        }
    }
    if !dry_run && !report.complete() {
        md_out.push_str(
            "\nFiles marked uploaded or already there are on the index. Re-running the job is \
             safe: files already on the index with the same hash are not sent again.\n",
        );
    }
    md_out.push('\n');
    md_out
}

/// Outside data as inert text of the job summary (markdown with inline HTML): one line
/// ([`crate::gha::shown`]), and every character that markdown or HTML could read as markup
/// written as a character reference, so `<script>`, a backtick, `|` (a table cell's end),
/// `[`...`](...)`, `![`...`]` (an image fetched by every reader), `@team` or `*` show as
/// themselves. Safe in text, in a table cell and in a quoted
/// HTML attribute.
pub fn md(value: impl std::fmt::Display) -> String {
    let one_line = crate::gha::shown(value).to_string();
    let mut out = String::with_capacity(one_line.len());
    for c in one_line.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            // `_` stays: intraword (every wheel name has one) it never starts emphasis.
            '\'' | '`' | '|' | '*' | '[' | ']' | '\\' | '~' | '!' | '$' | '@' => {
                out.push_str(&format!("&#{};", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Preformatted text (a multi-line explanation) for the job summary, inside `<pre>`: HTML
/// escaped, lines kept, control characters other than LF escaped.
pub fn html(text: &str) -> String {
    text.split('\n').map(md).collect::<Vec<_>>().join("\n")
}

/// An HTML link to `url` when it is an http(s) URL (a `javascript:` one is shown, not
/// linked), with `text` already escaped.
fn link(url: &str, text: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "https" | "http") => {
            format!("<a href=\"{}\">{text}</a>", md(u.as_str()))
        }
        _ => text.to_owned(),
    }
}

pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// Write the `--report` file (the `published` JSON, pretty-printed), atomically.
pub fn write_report_file(path: &Path, report: &Report) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(&report.files).context("serialising the report")?;
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

    #[test]
    fn summary_values_are_inert() {
        let hostile = "<script>alert(1)</script> `x` | [a](https://evil.example) ![i](https://t.example/p) @org/team *b*\n## Head";
        let out = md(hostile);
        for bad in ["<", ">", "`", "|", "[", "]", "!", "@", "*", "\n"] {
            assert!(!out.contains(bad), "{bad:?} in {out}");
        }
        assert!(out.contains("&lt;script&gt;"), "{out}");
        assert_eq!(
            md("demo_package-1.0-py3-none-any.whl"),
            "demo_package-1.0-py3-none-any.whl"
        );
        assert_eq!(link("javascript:alert(1)", "t"), "t");
        assert_eq!(
            link("https://files.example/a\"b", "t"),
            "<a href=\"https://files.example/a%22b\">t</a>"
        );
    }

    #[test]
    fn summary_of_hostile_report_has_one_table_row_per_file() {
        let report = Report {
            name: "demo".into(),
            version: "1.0".into(),
            repository_url: "https://upload.example/legacy/".into(),
            release_url: "javascript:alert(1)".into(),
            files: vec![FileReport {
                filename: "x|y`<b>\n| evil | row |".into(),
                status: FileStatus::Failed,
                url: None,
                sha256: None,
                blake2_256: None,
                size: 1,
                packagetype: "bdist_wheel".into(),
                python_version: "py3".into(),
                upload_time: None,
                confirmed: false,
                error: Some("HTTP 400 <img src=x onerror=alert(1)>\n::stop-commands::t".into()),
                attestation_file: None,
            }],
            source: None,
        };
        let md_text = summary_markdown(&report, false);
        let rows = md_text.lines().filter(|l| l.starts_with('|')).count();
        assert_eq!(rows, 3, "{md_text}");
        assert!(
            !md_text.contains("<b>") && !md_text.contains("<img"),
            "{md_text}"
        );
        assert!(!md_text.contains("href=\"javascript"), "{md_text}");
        assert!(
            md_text.lines().all(|l| !l.trim_start().starts_with("::")),
            "{md_text}"
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(human_size(10), "10 B");
        assert_eq!(human_size(32 * 1024 * 1024), "32.0 MiB");
    }
}
