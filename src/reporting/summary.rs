//! The job summary (`$GITHUB_STEP_SUMMARY`): markdown in which every value from outside is
//! inert.
use crate::report::{FileStatus, ProvenanceCheck, ReleaseReport, Report};

use anyhow::Context;

use super::human_size;
use super::outputs::append;
/// The job summary's name for [`crate::inert::md`], beside the summary it words.
pub use crate::inert::md;

/// The job summary of a publish: one table per release. Every value in it is outside data
/// (names, URLs, run metadata, index messages) and goes through [`md`]; links are HTML anchors
/// so a URL cannot end one early.
pub fn summary_markdown(report: &Report, dry_run: bool) -> String {
    let mut md_out = String::new();
    match report.releases.as_slice() {
        [one] => {
            release_heading(&mut md_out, "##", one, &report.repository_url, dry_run);
            source_line(&mut md_out, report);
            release_files(&mut md_out, "###", one);
        }
        releases => {
            let done = releases.iter().filter(|r| r.complete()).count();
            let title = if dry_run {
                format!("Dry run: {} releases", releases.len())
            } else if report.complete() {
                format!("Published {} releases", releases.len())
            } else {
                format!(
                    "Publish incomplete: {done} of {} releases complete",
                    releases.len()
                )
            };
            md_out.push_str(&format!("## {title}\n\n"));
            source_line(&mut md_out, report);
            for r in releases {
                release_heading(&mut md_out, "###", r, &report.repository_url, dry_run);
                release_files(&mut md_out, "####", r);
                md_out.push('\n');
            }
        }
    }
    if !dry_run && !report.complete() {
        md_out.push_str(
            "\nFiles marked uploaded or already there are on the index. Re-running the job is \
             safe: files already on the index with the same hash are not sent again.\n",
        );
    }
    if report.files().any(|f| f.status == FileStatus::Mismatch) {
        md_out.push_str(
            "\nA file marked MISMATCH is listed by the index with other bytes than this build's \
             (see What went wrong): someone else uploaded a file of that name, or the index \
             answers wrongly. Do not re-run blindly: a re-run cannot replace it.\n",
        );
    }
    md_out.push('\n');
    md_out
}

/// A release's title and page.
fn release_heading(
    md_out: &mut String,
    level: &str,
    release: &ReleaseReport,
    repository_url: &str,
    dry_run: bool,
) {
    let on_index = release.files.iter().filter(|f| f.status.on_index()).count();
    let (name, version) = (md(&release.name), md(&release.version));
    let title = if dry_run {
        format!("Dry run: {name} {version}")
    } else if release.complete() {
        format!("Published {name} {version}")
    } else {
        format!(
            "Publish of {name} {version} incomplete: {on_index} of {} files on the index",
            release.files.len()
        )
    };
    md_out.push_str(&format!("{level} {title}\n\n"));
    if !release.release_url.is_empty() {
        md_out.push_str(&format!(
            "Release page: {}  \nIndex: <code>{}</code>\n\n",
            link(&release.release_url, &md(&release.release_url)),
            md(repository_url)
        ));
    }
}

/// The run the artifacts came from, if they did.
fn source_line(md_out: &mut String, report: &Report) {
    if let Some(src) = &report.source {
        let run_text = format!("run {}", src.run_id);
        let run = match &src.run_url {
            Some(u) => link(u, &run_text),
            None => run_text,
        };
        md_out.push_str(&format!(
            "From {run} (<code>{}</code>{}), commit <code>{}</code>, artifacts: {}\n\n",
            md(&src.event),
            match (&src.build_ref, &src.head_branch) {
                (Some(r), _) => format!(" of <code>{}</code>, which build-refs allows", md(r)),
                (None, Some(b)) => format!(" on <code>{}</code>", md(b)),
                (None, None) => String::new(),
            },
            md(&src.head_sha),
            src.artifacts
                .iter()
                .map(|a| format!("<code>{}</code>", md(a)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
}

/// A release's table of files, its attestations and what went wrong.
fn release_files(md_out: &mut String, level: &str, release: &ReleaseReport) {
    let read_back = release.files.iter().any(|f| f.provenance.is_some());
    if read_back {
        md_out
            .push_str("| File | Status | Size | SHA-256 | Provenance |\n|---|---|---:|---|---|\n");
    } else {
        md_out.push_str("| File | Status | Size | SHA-256 |\n|---|---|---:|---|\n");
    }
    for f in &release.files {
        let code = format!("<code>{}</code>", md(&f.filename));
        let name = match &f.url {
            Some(url) => link(url, &code),
            None => code,
        };
        let sha = match &f.sha256 {
            Some(sha) => format!("<code>{}</code>", md(sha)),
            None => String::from("–"),
        };
        let provenance = match (read_back, f.provenance) {
            (false, _) => "",
            (true, Some(ProvenanceCheck::Verified)) => " ✅ verified |",
            (true, Some(ProvenanceCheck::Invalid)) => " ❌ invalid |",
            (true, None) => " – |",
        };
        md_out.push_str(&format!(
            "| {name} | {} | {} | {sha} |{provenance}\n",
            f.status.label(),
            human_size(f.size)
        ));
    }
    let attested = release
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
    let failures: Vec<_> = release
        .files
        .iter()
        .filter_map(|f| f.error.as_ref().map(|e| (f, e)))
        .collect();
    if !failures.is_empty() {
        md_out.push_str(&format!("\n{level} What went wrong\n\n"));
        for (f, e) in failures {
            md_out.push_str(&format!("- <code>{}</code>: {}\n", md(&f.filename), md(e)));
        }
    }
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

/// Append a markdown summary to `$GITHUB_STEP_SUMMARY` (no-op outside Actions).
pub fn write_step_summary(markdown: &str) -> anyhow::Result<()> {
    let Some(path) = super::log::summary_file() else {
        return Ok(());
    };
    append(path, markdown).context("writing the job summary")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::FileReport;

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
        let release = ReleaseReport {
            name: "demo".into(),
            version: "1.0".into(),
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
                error: Some("HTTP 400 <img src=x onerror=alert(1)>\n::stop-commands::t".into()),
                attestation_file: None,
                provenance: None,
            }],
        };
        let report = Report {
            repository_url: "https://upload.example/legacy/".into(),
            releases: vec![release],
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
}
