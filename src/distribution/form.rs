//! The core-metadata part of Warehouse's legacy upload form.
//!
//! Compared with twine (`PackageFile.metadata_dictionary`) and uv (`form_metadata`): the
//! same field names, the description from the body or else the header, keywords as one
//! comma-separated string, and no License-File for metadata older than 2.4 (setuptools wrote
//! it there with another meaning and PyPI refuses it, so twine drops it too). Unlike uv, empty
//! fields are left out rather than sent empty.

use super::metadata::{CoreMetadata, FIELDS};

/// distutils wrote `UNKNOWN` for missing values and Warehouse deletes such form fields, so
/// they are not sent at all.
const DISTUTILS_PLACEHOLDER: &str = "UNKNOWN";

pub(crate) fn fields(
    metadata: &CoreMetadata,
    filetype: &str,
    pyversion: &str,
) -> Vec<(&'static str, String)> {
    let mut out = vec![
        ("metadata_version", metadata.metadata_version.clone()),
        ("name", metadata.name.clone()),
        ("version", metadata.version.clone()),
        ("filetype", filetype.to_owned()),
        ("pyversion", pyversion.to_owned()),
    ];
    let old_license_files = metadata
        .metadata_version_parts()
        .is_some_and(|v| v < (2, 4));
    for field in FIELDS {
        match field.form {
            "metadata_version" | "name" | "version" => {}
            "description" => {
                if let Some(description) = metadata.description() {
                    // Sent as written: leading spaces and blank lines can be markup.
                    if is_value(description) {
                        out.push(("description", description.to_owned()));
                    }
                }
            }
            "keywords" => {
                if let Some(keywords) = metadata.get(field.header) {
                    let list: Vec<&str> = keywords
                        .split(',')
                        .map(str::trim)
                        .filter(|k| !k.is_empty())
                        .collect();
                    push(&mut out, "keywords", &list.join(", "));
                }
            }
            "license_file" if old_license_files => {}
            form if field.multiple => {
                for value in metadata.get_all(field.header) {
                    push(&mut out, form, value);
                }
            }
            form => {
                if let Some(value) = metadata.get(field.header) {
                    push(&mut out, form, value);
                }
            }
        }
    }
    out
}

fn is_value(value: &str) -> bool {
    let trimmed = value.trim();
    !trimmed.is_empty() && trimmed != DISTUTILS_PLACEHOLDER
}

fn push(out: &mut Vec<(&'static str, String)>, key: &'static str, value: &str) {
    if is_value(value) {
        out.push((key, value.trim().to_owned()));
    }
}
