//! Core metadata (`METADATA` / `PKG-INFO`): parsing the RFC 822 style headers and body.
//!
//! `python-pkginfo` 0.7 was considered and not used: it has no `Import-Name`,
//! `Import-Namespace` (metadata 2.5) nor the metadata 1.1 `Requires` / `Provides` /
//! `Obsoletes` fields, silently keeps the first of a repeated single-use field, and decodes
//! RFC 2047 words, none of which matches how PyPI reads metadata. The format is small, so
//! this module parses it the way Python's `email` parser (compat32, as `packaging` uses it)
//! does, keeping every header in order.

use std::fmt;

/// The highest metadata version PyPI accepts, as known to this version of the tool.
pub(crate) const NEWEST_KNOWN_MINOR: u32 = 5;

/// One core-metadata field: its header, the legacy upload form name, whether it may repeat,
/// and the metadata version that introduced it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    pub header: &'static str,
    pub form: &'static str,
    pub multiple: bool,
    pub added: (u32, u32),
}

const fn field(
    header: &'static str,
    form: &'static str,
    multiple: bool,
    added: (u32, u32),
) -> Field {
    Field {
        header,
        form,
        multiple,
        added,
    }
}

/// Every core-metadata field, in the order the upload form sends them. Form names follow
/// Warehouse's legacy upload API (`warehouse/forklift/metadata.py`): mostly the lower-cased
/// header with `_`, plural for `classifiers`, `project_urls`, and singular `platform`,
/// `supported_platform`, `license_file`, `import_name`, `import_namespace`.
pub(crate) const FIELDS: &[Field] = &[
    field("Metadata-Version", "metadata_version", false, (1, 0)),
    field("Name", "name", false, (1, 0)),
    field("Version", "version", false, (1, 0)),
    field("Summary", "summary", false, (1, 0)),
    field("Description", "description", false, (1, 0)),
    field(
        "Description-Content-Type",
        "description_content_type",
        false,
        (2, 1),
    ),
    field("Keywords", "keywords", false, (1, 0)),
    field("Home-page", "home_page", false, (1, 0)),
    field("Download-URL", "download_url", false, (1, 1)),
    field("Author", "author", false, (1, 0)),
    field("Author-email", "author_email", false, (1, 0)),
    field("Maintainer", "maintainer", false, (1, 2)),
    field("Maintainer-email", "maintainer_email", false, (1, 2)),
    field("License", "license", false, (1, 0)),
    field("License-Expression", "license_expression", false, (2, 4)),
    field("Requires-Python", "requires_python", false, (1, 2)),
    field("Platform", "platform", true, (1, 0)),
    field("Supported-Platform", "supported_platform", true, (1, 1)),
    field("Classifier", "classifiers", true, (1, 1)),
    field("Requires", "requires", true, (1, 1)),
    field("Provides", "provides", true, (1, 1)),
    field("Obsoletes", "obsoletes", true, (1, 1)),
    field("Requires-Dist", "requires_dist", true, (1, 2)),
    field("Provides-Dist", "provides_dist", true, (1, 2)),
    field("Obsoletes-Dist", "obsoletes_dist", true, (1, 2)),
    field("Requires-External", "requires_external", true, (1, 2)),
    field("Project-URL", "project_urls", true, (1, 2)),
    field("Provides-Extra", "provides_extra", true, (2, 1)),
    field("Dynamic", "dynamic", true, (2, 2)),
    field("License-File", "license_file", true, (2, 4)),
    field("Import-Name", "import_name", true, (2, 5)),
    field("Import-Namespace", "import_namespace", true, (2, 5)),
];

pub(crate) fn known_field(header: &str) -> Option<&'static Field> {
    FIELDS
        .iter()
        .find(|f| f.header.eq_ignore_ascii_case(header))
}

/// The parsed core metadata of one distribution.
///
/// `metadata_version`, `name` and `version` hold the header values as written (empty when
/// the header is missing, which the checks report); [`CoreMetadata::get`] and
/// [`CoreMetadata::get_all`] reach every other header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: String,
    pub version: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// Why a metadata file could not be read at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    NotUtf8 { valid_up_to: usize },
    OrphanContinuation { line: usize },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotUtf8 { valid_up_to } => write!(
                f,
                "is not valid UTF-8 (first bad byte at offset {valid_up_to}); core metadata must \
                 be UTF-8: rebuild the distribution with a current build backend"
            ),
            ParseError::OrphanContinuation { line } => write!(
                f,
                "line {line} is indented but follows no header, so it continues nothing; fix \
                 the metadata (rebuild the distribution)"
            ),
        }
    }
}

impl CoreMetadata {
    /// Parses `METADATA` / `PKG-INFO` bytes.
    ///
    /// Like Python's `email` parser, headers end at the first empty line or at the first
    /// line that is neither a `Name: value` header nor an indented continuation; the rest
    /// is the body (the long description). Folded header lines are unfolded; for
    /// `Description` the `|` that marks each continuation line is removed.
    pub fn parse(bytes: &[u8]) -> Result<Self, ParseError> {
        let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);

        let mut headers: Vec<(String, String)> = Vec::new();
        let mut body = None;
        let mut rest = text;
        let mut line_no = 0;
        while !rest.is_empty() {
            let (line, next) = match rest.find('\n') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            let line = line.strip_suffix('\r').unwrap_or(line);
            line_no += 1;
            if line.is_empty() {
                body = Some(next.to_owned());
                break;
            }
            if line.starts_with([' ', '\t']) {
                let Some((key, value)) = headers.last_mut() else {
                    return Err(ParseError::OrphanContinuation { line: line_no });
                };
                unfold(key, value, line);
            } else if let Some((key, value)) = split_header(line) {
                headers.push((
                    key.to_owned(),
                    value.trim_start_matches([' ', '\t']).to_owned(),
                ));
            } else {
                tracing::warn!(
                    line = line_no,
                    "metadata line is not a header; reading the rest as the description body"
                );
                body = Some(rest.to_owned());
                break;
            }
            rest = next;
        }
        for (_, value) in &mut headers {
            let trimmed = value.trim_end();
            if trimmed.len() != value.len() {
                value.truncate(trimmed.len());
            }
        }

        let first = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Ok(CoreMetadata {
            metadata_version: first("Metadata-Version"),
            name: first("Name"),
            version: first("Version"),
            body: body.filter(|b| !b.trim().is_empty()),
            headers,
        })
    }

    /// The first value of a header (case-insensitive name), if present.
    pub fn get(&self, header: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(header))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, in file order.
    pub fn get_all(&self, header: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(header))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// All headers as written, in file order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// The metadata body (the long description since metadata 2.1), when not blank.
    pub fn body(&self) -> Option<&str> {
        self.body.as_deref()
    }

    /// The long description: the body, or else the legacy `Description` header.
    pub fn description(&self) -> Option<&str> {
        self.body().or_else(|| self.get("Description"))
    }

    /// `Metadata-Version` as `(major, minor)`, when it has that form.
    pub fn metadata_version_parts(&self) -> Option<(u32, u32)> {
        parse_metadata_version(&self.metadata_version)
    }
}

pub(crate) fn parse_metadata_version(value: &str) -> Option<(u32, u32)> {
    let (major, minor) = value.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(major) || !digits(minor) {
        return None;
    }
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// `Name: value` where the name is printable ASCII without spaces or colons (RFC 5322
/// field name), as Python's email parser recognises headers.
fn split_header(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once(':')?;
    let valid = !key.is_empty() && key.bytes().all(|b| (33..=126).contains(&b));
    valid.then_some((key, value))
}

fn unfold(key: &str, value: &mut String, continuation: &str) {
    if key.eq_ignore_ascii_case("Description") {
        // Core metadata writes each further description line as 7+ spaces and a `|`
        // (older tools: 8 spaces), so the indentation is markup, not content.
        let stripped = continuation.trim_start_matches([' ', '\t']);
        let line = match stripped.strip_prefix('|') {
            Some(rest) => rest,
            None => {
                let indent = continuation.len() - stripped.len();
                &continuation[indent.min(8)..]
            }
        };
        value.push('\n');
        value.push_str(line);
    } else {
        // RFC 5322 unfolding: the line break goes, the whitespace stays.
        value.push_str(continuation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_headers_body_and_repeats() {
        let m = CoreMetadata::parse(
            b"Metadata-Version: 2.4\r\nName: demo\r\nVersion: 1.0\r\nClassifier: A\r\n\
              classifier:  B  \r\n\r\n# Title\r\n\r\nText\r\n",
        )
        .unwrap();
        assert_eq!(m.metadata_version, "2.4");
        assert_eq!(m.name, "demo");
        assert_eq!(m.version, "1.0");
        assert_eq!(m.get_all("Classifier"), ["A", "B"]);
        assert_eq!(m.body(), Some("# Title\r\n\r\nText\r\n"));
        assert_eq!(m.description(), m.body());
    }

    #[test]
    fn unfolds_continuations_and_the_description_header() {
        let m = CoreMetadata::parse(
            b"Metadata-Version: 1.1\nName: old\nVersion: 1\nSummary: a long\n  summary\n\
              Description: first\n        |second\n        |\n        |  indented\n",
        )
        .unwrap();
        assert_eq!(m.get("Summary"), Some("a long  summary"));
        assert_eq!(m.description(), Some("first\nsecond\n\n  indented"));
        assert_eq!(m.body(), None);
    }

    #[test]
    fn a_non_header_line_starts_the_body_and_blank_bodies_are_none() {
        let m = CoreMetadata::parse(b"Name: x\nthis is text\nmore: text\n").unwrap();
        assert_eq!(m.body(), Some("this is text\nmore: text\n"));
        let m = CoreMetadata::parse(b"Name: x\n\n   \n").unwrap();
        assert_eq!(m.body(), None);
        assert_eq!(m.metadata_version, "");
    }

    #[test]
    fn rejects_non_utf8_and_orphan_continuations() {
        assert_eq!(
            CoreMetadata::parse(b"Name: caf\xe9\n"),
            Err(ParseError::NotUtf8 { valid_up_to: 9 })
        );
        assert_eq!(
            CoreMetadata::parse(b"  indented\nName: x\n"),
            Err(ParseError::OrphanContinuation { line: 1 })
        );
    }

    #[test]
    fn metadata_versions_parse_as_major_minor() {
        assert_eq!(parse_metadata_version("2.4"), Some((2, 4)));
        assert_eq!(parse_metadata_version("10.12"), Some((10, 12)));
        assert_eq!(parse_metadata_version("2"), None);
        assert_eq!(parse_metadata_version("2.x"), None);
        assert_eq!(parse_metadata_version(" 2.1"), None);
    }
}
