//! A wheel read from bytes: the zip framing checks, the central directory, METADATA and
//! the rules, through the public `collect`. The file name is fixed, so anything accepted must
//! be demo 1.0; anything refused is refused with inert messages naming the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pypi_oidc_publish::distribution::collect;
use pypi_oidc_publish_fuzz::{assert_inert, scratch_file};

fuzz_target!(|data: &[u8]| {
    let path = scratch_file("demo-1.0-py3-none-any.whl", data);
    match collect(std::slice::from_ref(&path)) {
        Ok((release, skipped)) => {
            assert_eq!(release.normalized_name, "demo");
            assert_eq!(release.distributions.len(), 1);
            assert_eq!(release.distributions[0].size, data.len() as u64);
            assert!(skipped.is_empty());
        }
        Err(failure) => {
            assert!(!failure.problems.is_empty());
            for problem in &failure.problems {
                assert_eq!(problem.path, path, "a problem names the file");
                assert_inert(&problem.message);
            }
        }
    }
});
