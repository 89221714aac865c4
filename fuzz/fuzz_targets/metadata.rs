//! Core metadata (`METADATA` / `PKG-INFO`): parsing and PyPI's rules never panic, the
//! parsed view is consistent, the upload form is built from it, and every problem message
//! is inert.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;
use pypi_oidc_publish::distribution::fuzzing::check_metadata;
use pypi_oidc_publish::distribution::{CoreMetadata, DistKind, Distribution};
use pypi_oidc_publish_fuzz::assert_inert;

fuzz_target!(|data: &[u8]| {
    let metadata = match CoreMetadata::parse(data) {
        Ok(metadata) => metadata,
        Err(e) => {
            assert_inert(&e.to_string());
            return;
        }
    };
    assert_eq!(metadata.name, metadata.get("Name").unwrap_or_default());
    assert_eq!(
        metadata.version,
        metadata.get("Version").unwrap_or_default()
    );
    for (key, value) in metadata.headers() {
        assert!(
            !key.is_empty() && !key.contains([':', ' ', '\n']),
            "{key:?}"
        );
        assert_eq!(value.trim_end(), value, "header values are trimmed");
    }
    if let Some(body) = metadata.body() {
        assert!(!body.trim().is_empty(), "a blank body is no body");
    }

    let (identity, problems) = check_metadata(&metadata, "demo-1.0.dist-info/METADATA");
    for problem in &problems {
        assert_inert(problem);
    }
    if problems.is_empty() {
        assert!(
            identity.is_some(),
            "accepted metadata has a name and version"
        );
    }

    let distribution = Distribution {
        path: PathBuf::from("demo-1.0-py3-none-any.whl"),
        filename: "demo-1.0-py3-none-any.whl".to_owned(),
        kind: DistKind::Wheel,
        size: data.len() as u64,
        metadata,
        pyversion: "py3".to_owned(),
    };
    let fields = distribution.form_fields();
    let keys: Vec<&str> = fields.iter().map(|(key, _)| *key).collect();
    assert_eq!(
        keys[..5],
        [
            "metadata_version",
            "name",
            "version",
            "filetype",
            "pyversion"
        ]
    );
    // The identity is always sent; any other field only with a value.
    assert!(fields[5..]
        .iter()
        .all(|(_, value)| !value.trim().is_empty()));
    if problems.is_empty() {
        assert!(fields[..3].iter().all(|(_, value)| !value.is_empty()));
    }
});
