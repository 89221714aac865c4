//! An sdist read from bytes, through the public `collect`.
//!
//! gzip's CRC would make nearly every mutation of a compressed seed a mere "corrupt archive",
//! so by default the input is the tar itself, compressed here; an input starting with the
//! gzip magic is used as is, to fuzz the gzip layer too.
#![no_main]

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;
use libfuzzer_sys::fuzz_target;
use pypi_oidc_publish::distribution::collect;
use pypi_oidc_publish_fuzz::{assert_inert, scratch_file};

fuzz_target!(|data: &[u8]| {
    let bytes = if data.starts_with(&[0x1f, 0x8b]) {
        data.to_vec()
    } else {
        let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
        gz.write_all(data).expect("compressing in memory");
        gz.finish().expect("compressing in memory")
    };
    let path = scratch_file("demo-1.0.tar.gz", &bytes);
    match collect(std::slice::from_ref(&path)) {
        Ok((release, _)) => {
            assert_eq!(release.normalized_name, "demo");
            assert_eq!(release.distributions.len(), 1);
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
