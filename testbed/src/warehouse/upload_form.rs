//! Warehouse's `UploadForm` (`warehouse/forklift/forms.py`) with WTForms semantics, and the
//! message `file_upload` builds from its first error.
use super::names::{is_valid_project_name, py_repr};

const REQUIRED: &str = "This field is required.";
const NAME_RULE: &str =
    "Start and end with a letter or numeral containing only ASCII numeric and '.', '_' and '-'.";

/// The validated non-metadata fields of an upload.
#[derive(Debug, Clone)]
pub(crate) struct ValidForm {
    pub name: String,
    pub filetype: String,
    pub pyversion: String,
    pub comment: Option<String>,
    pub md5_digest: Option<String>,
    pub sha256_digest: Option<String>,
    pub blake2_256_digest: Option<String>,
}

/// WTForms `StringField` data: the first value of the key.
fn first<'a>(fields: &'a [(String, String)], key: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// `Optional()`: absent or blank input stops the chain without errors.
fn optional(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

fn is_hex64(v: &str) -> bool {
    v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The message for the first failing field, as `file_upload` words it.
fn field_message(field: &str, error: &str, data: Option<&str>) -> String {
    if field == "name" {
        // The only field with a description: its value is quoted, shortened past 60 chars.
        let data = data.unwrap_or("");
        let shown = if data.chars().count() > 60 {
            let chars: Vec<char> = data.chars().collect();
            let head: String = chars[..30].iter().collect();
            let tail: String = chars[chars.len() - 30..].iter().collect();
            format!("{head}...{tail}")
        } else {
            data.to_owned()
        };
        format!(
            "{} is an invalid value for Name. Error: {error} See \
             https://packaging.python.org/specifications/core-metadata for more information.",
            py_repr(&shown)
        )
    } else {
        format!("Invalid value for {field}. Error: {error}")
    }
}

pub(crate) fn validate(fields: &[(String, String)]) -> Result<ValidForm, String> {
    let mut errors: Vec<(&str, &str, Option<&str>)> = Vec::new();

    let name = first(fields, "name");
    match name {
        Some(n) if !n.is_empty() => {
            if !is_valid_project_name(n) {
                errors.push(("name", NAME_RULE, name));
            }
        }
        _ => errors.push(("name", REQUIRED, name)),
    }
    let filetype = first(fields, "filetype");
    match filetype {
        Some(t) if !t.is_empty() => {
            if t != "sdist" && t != "bdist_wheel" {
                errors.push(("filetype", "Use a known file type.", filetype));
            }
        }
        _ => errors.push(("filetype", REQUIRED, filetype)),
    }
    let sha256 = optional(first(fields, "sha256_digest"));
    if sha256.is_some_and(|v| !is_hex64(v)) {
        errors.push((
            "sha256_digest",
            "Use a valid, hex-encoded, SHA256 message digest.",
            sha256,
        ));
    }
    let blake2 = optional(first(fields, "blake2_256_digest"));
    if blake2.is_some_and(|v| !is_hex64(v)) {
        errors.push((
            "blake2_256_digest",
            "Use a valid, hex-encoded, BLAKE2 message digest.",
            blake2,
        ));
    }
    if !errors.is_empty() {
        // "name" comes first (it is in `_error_message_order`), then alphabetical order.
        errors.sort_by_key(|(field, _, _)| (*field != "name", *field));
        let (field, error, data) = errors[0];
        return Err(field_message(field, error, data));
    }
    let filetype = filetype.unwrap_or_default().to_owned();
    let mut pyversion = optional(first(fields, "pyversion")).map(str::to_owned);
    if filetype != "sdist" && pyversion.is_none() {
        return Err(field_message(
            "pyversion",
            "Python version is required for binary distribution uploads.",
            None,
        ));
    }
    if filetype == "sdist" {
        match pyversion.as_deref() {
            None => pyversion = Some("source".to_owned()),
            Some("source") => {}
            Some(_) => {
                return Err(field_message(
                    "pyversion",
                    "Use 'source' as Python version for an sdist.",
                    None,
                ))
            }
        }
    }
    let md5 = optional(first(fields, "md5_digest"));
    if md5.is_none() && sha256.is_none() && blake2.is_none() {
        return Err("Error: Include at least one message digest.".to_owned());
    }
    Ok(ValidForm {
        name: name.unwrap_or_default().to_owned(),
        filetype,
        pyversion: pyversion.unwrap_or_default(),
        comment: optional(first(fields, "comment")).map(str::to_owned),
        md5_digest: md5.map(str::to_owned),
        sha256_digest: sha256.map(str::to_owned),
        blake2_256_digest: blake2.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn messages() {
        assert_eq!(
            validate(&f(&[("filetype", "sdist"), ("md5_digest", "x")])).unwrap_err(),
            "'' is an invalid value for Name. Error: This field is required. See \
             https://packaging.python.org/specifications/core-metadata for more information."
        );
        assert_eq!(
            validate(&f(&[
                ("name", "ok"),
                ("filetype", "egg"),
                ("md5_digest", "x")
            ]))
            .unwrap_err(),
            "Invalid value for filetype. Error: Use a known file type."
        );
        assert_eq!(
            validate(&f(&[
                ("name", "ok"),
                ("filetype", "bdist_wheel"),
                ("md5_digest", "x")
            ]))
            .unwrap_err(),
            "Invalid value for pyversion. Error: Python version is required for binary \
             distribution uploads."
        );
        assert_eq!(
            validate(&f(&[("name", "ok"), ("filetype", "sdist")])).unwrap_err(),
            "Error: Include at least one message digest."
        );
        let ok = validate(&f(&[
            ("name", "ok"),
            ("filetype", "sdist"),
            ("md5_digest", "x"),
        ]))
        .unwrap();
        assert_eq!(ok.pyversion, "source");
    }
}
