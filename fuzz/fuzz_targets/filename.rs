//! Wheel file names: parsing never panics, a parsed name renders back to the same text and
//! parses again to the same parts, and the parts are what the grammar promises.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;
use pypi_oidc_publish::distribution::fuzzing::{classify, parse_wheel, FileClass, WheelName};
use pypi_oidc_publish_fuzz::assert_inert;

fn render(w: &WheelName) -> String {
    let build = w
        .build
        .as_ref()
        .map(|b| format!("-{b}"))
        .unwrap_or_default();
    format!(
        "{}-{}{build}-{}-{}-{}.whl",
        w.name, w.version, w.python, w.abi, w.platform
    )
}

fuzz_target!(|data: &[u8]| {
    let Ok(name) = std::str::from_utf8(data) else {
        return;
    };
    let class = classify(name);
    match parse_wheel(name) {
        Ok(wheel) => {
            assert_eq!(class, FileClass::Wheel, "{name:?} parses as a wheel");
            assert_eq!(
                render(&wheel),
                name,
                "a parsed name renders back as written"
            );
            assert_eq!(parse_wheel(&render(&wheel)).as_ref(), Ok(&wheel));
            assert!(pep508_rs::PackageName::from_str(&wheel.name).is_ok());
            assert!(pep440_rs::Version::from_str(&wheel.version).is_ok());
            for part in [
                &wheel.name,
                &wheel.version,
                &wheel.python,
                &wheel.abi,
                &wheel.platform,
            ] {
                assert!(
                    !part.is_empty() && !part.contains(['-', '/', '\\']),
                    "{wheel:?}"
                );
            }
            assert!(wheel.dist_info().ends_with(".dist-info"));
        }
        Err(problems) => {
            assert!(!problems.is_empty(), "a refusal says why");
            for problem in &problems {
                assert_inert(problem);
            }
        }
    }
});
