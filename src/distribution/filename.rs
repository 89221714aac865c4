//! Distribution file names: what kind of file a name denotes, and the wheel name grammar.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::inert::shown;

/// What a file name says a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileClass {
    Wheel,
    Sdist,
    /// A distribution format PyPI no longer accepts, with a description of it.
    Legacy(&'static str),
    /// Not a distribution; the reason says what it looks like.
    Other(&'static str),
}

/// Legacy formats, refused rather than skipped so that a folder holding one does not
/// silently publish a release without it.
const LEGACY: &[(&str, &str)] = &[
    (".zip", "a .zip sdist"),
    (".tar.bz2", "a .tar.bz2 sdist"),
    (".tar.xz", "a .tar.xz sdist"),
    (".tgz", "a .tgz sdist"),
    (".egg", "an egg"),
    (".exe", "a Windows installer (bdist_wininst)"),
    (".msi", "a Windows installer (bdist_msi)"),
];

/// Companion files a build or signing step leaves next to distributions.
const COMPANIONS: &[(&str, &str)] = &[
    (".asc", "a signature, not a distribution"),
    (".sig", "a signature, not a distribution"),
    (".sigstore", "a Sigstore bundle, not a distribution"),
    (".sigstore.json", "a Sigstore bundle, not a distribution"),
    (".attestation", "an attestation, not a distribution"),
    (".intoto.jsonl", "an attestation, not a distribution"),
    (
        ".metadata",
        "detached wheel metadata (PEP 658), not a distribution",
    ),
];

pub fn classify(filename: &str) -> FileClass {
    let lower = filename.to_ascii_lowercase();
    if filename.starts_with('.') {
        return FileClass::Other("a hidden file");
    }
    if let Some((_, why)) = COMPANIONS.iter().find(|(ext, _)| lower.ends_with(ext)) {
        return FileClass::Other(why);
    }
    if lower.ends_with(".whl") {
        return FileClass::Wheel;
    }
    if lower.ends_with(".tar.gz") {
        return FileClass::Sdist;
    }
    if let Some((_, what)) = LEGACY.iter().find(|(ext, _)| lower.ends_with(ext)) {
        return FileClass::Legacy(what);
    }
    FileClass::Other("not a wheel (.whl) or sdist (.tar.gz)")
}

/// The parts of a wheel file name,
/// `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WheelName {
    /// The name part exactly as written.
    pub name: String,
    /// The version part exactly as written.
    pub version: String,
    pub build: Option<String>,
    pub python: String,
    pub abi: String,
    pub platform: String,
}

impl WheelName {
    /// The `.dist-info` folder PyPI reads, named after the file name's parts as written.
    pub fn dist_info(&self) -> String {
        format!("{}-{}.dist-info", self.name, self.version)
    }
}

const WHEEL_GRAMMAR: &str =
    "{name}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl, where '-' \
     separates the parts and is written as '_' inside a name or version";

/// Parses a wheel file name, collecting every grammar problem.
pub fn parse_wheel(filename: &str) -> Result<WheelName, Vec<String>> {
    let Some(stem) = filename.strip_suffix(".whl") else {
        return Err(vec![
            "the extension must be written in lower case, '.whl': rename the file".to_owned(),
        ]);
    };
    let parts: Vec<&str> = stem.split('-').collect();
    let (name, version, build, tags) = match parts.as_slice() {
        [name, version, python, abi, platform] => {
            (*name, *version, None, [*python, *abi, *platform])
        }
        [name, version, build, python, abi, platform] => {
            (*name, *version, Some(*build), [*python, *abi, *platform])
        }
        _ => {
            return Err(vec![format!(
                "is not a valid wheel file name: it has {} '-'-separated parts, a wheel has 5 or \
                 6 ({WHEEL_GRAMMAR}); rebuild the wheel instead of renaming it",
                parts.len()
            )])
        }
    };
    let mut problems = Vec::new();
    // pep508_rs takes "" for a valid name; found by fuzzing (`fuzz/fuzz_targets/filename.rs`).
    if name.is_empty() || PackageName::from_str(name).is_err() {
        problems.push(format!(
            "the name part {name:?} of the file name is not a valid project name: rebuild the \
             wheel ({WHEEL_GRAMMAR})"
        ));
    }
    if let Err(e) = Version::from_str(version) {
        // The parser's message quotes the input.
        problems.push(format!(
            "the version part {version:?} of the file name is not a valid PEP 440 version \
             ({}): rebuild the wheel",
            shown(e)
        ));
    }
    if let Some(build) = build {
        if !build.starts_with(|c: char| c.is_ascii_digit()) {
            problems.push(format!(
                "the build tag {build:?} must start with a digit: rebuild the wheel \
                 ({WHEEL_GRAMMAR})"
            ));
        }
    }
    for (what, tag) in ["python", "abi", "platform"].iter().zip(tags) {
        let valid = tag
            .split('.')
            .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        if !valid {
            problems.push(format!(
                "the {what} tag {tag:?} is not a tag or '.'-separated set of tags (letters, \
                 digits and '_'): rebuild the wheel"
            ));
        }
    }
    if problems.is_empty() {
        for platform in tags[2].split('.') {
            if !pypi_accepts_platform(platform) {
                problems.push(format!(
                    "the platform tag {platform:?} is not one PyPI accepts: build portable \
                     wheels (manylinux/musllinux on Linux, e.g. repair with auditwheel; \
                     macosx/win/ios/android tags elsewhere), or upgrade pypi-oidc-publish if \
                     PyPI has since added this platform"
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(WheelName {
            name: name.to_owned(),
            version: version.to_owned(),
            build: build.map(str::to_owned),
            python: tags[0].to_owned(),
            abi: tags[1].to_owned(),
            platform: tags[2].to_owned(),
        })
    } else {
        Err(problems)
    }
}

/// The name as PyPI wants it in file names: PEP 503 normalised, `-` written as `_`.
pub fn escaped(name: &PackageName) -> String {
    name.as_dist_info_name().into_owned()
}

/// Whether Warehouse's `_valid_platform_tag` accepts a platform tag (as of 2025: the static
/// list, macOS 10.x and 11-15/26 with minor 0, manylinux/musllinux PEP 600/656 tags, iOS and
/// Android). Mirrors PyPI so that a wheel it would refuse stops the whole release up front.
pub fn pypi_accepts_platform(tag: &str) -> bool {
    const STATIC: &[&str] = &[
        "any",
        "win32",
        "win_arm64",
        "win_amd64",
        "win_ia64",
        "manylinux1_x86_64",
        "manylinux1_i686",
        "manylinux2010_x86_64",
        "manylinux2010_i686",
        "manylinux2014_x86_64",
        "manylinux2014_i686",
        "manylinux2014_aarch64",
        "manylinux2014_armv7l",
        "manylinux2014_ppc64",
        "manylinux2014_ppc64le",
        "manylinux2014_s390x",
        "linux_armv6l",
        "linux_armv7l",
    ];
    const MACOS_ARCHES: &[&str] = &[
        "ppc",
        "ppc64",
        "i386",
        "x86_64",
        "arm64",
        "intel",
        "fat",
        "fat3",
        "fat64",
        "universal",
        "universal2",
    ];
    const MACOS_MAJORS: &[&str] = &["11", "12", "13", "14", "15", "26"];
    const LINUX_ARCHES: &[&str] = &[
        "x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64",
    ];
    const IOS_ARCHES: &[&str] = &["arm64", "x86_64"];
    const ANDROID_ARCHES: &[&str] = &["armeabi_v7a", "arm64_v8a", "x86", "x86_64"];

    if STATIC.contains(&tag) {
        return true;
    }
    if let Some(rest) = tag.strip_prefix("macosx_") {
        if let Some((major, minor, arch)) = number_number_rest(rest) {
            let known_arch = MACOS_ARCHES.contains(&arch);
            return known_arch
                && (major == "10" || (MACOS_MAJORS.contains(&major) && minor == "0"));
        }
        return false;
    }
    for (prefix, extra) in [("manylinux_", Some("ppc64")), ("musllinux_", None)] {
        if let Some(rest) = tag.strip_prefix(prefix) {
            return number_number_rest(rest)
                .is_some_and(|(_, _, arch)| LINUX_ARCHES.contains(&arch) || Some(arch) == extra);
        }
    }
    if let Some(rest) = tag.strip_prefix("ios_") {
        let Some((_, _, rest)) = number_number_rest(rest) else {
            return false;
        };
        return ["_iphoneos", "_iphonesimulator"].iter().any(|sdk| {
            rest.strip_suffix(sdk)
                .is_some_and(|arch| IOS_ARCHES.contains(&arch))
        });
    }
    if let Some(rest) = tag.strip_prefix("android_") {
        return rest
            .split_once('_')
            .is_some_and(|(api, arch)| is_number(api) && ANDROID_ARCHES.contains(&arch));
    }
    false
}

fn is_number(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Splits `{digits}_{digits}_{rest}`.
fn number_number_rest(s: &str) -> Option<(&str, &str, &str)> {
    let (a, rest) = s.split_once('_')?;
    let (b, rest) = rest.split_once('_')?;
    (is_number(a) && is_number(b) && !rest.is_empty()).then_some((a, b, rest))
}

/// Whether a file name names a distribution the checks should see: a wheel, an sdist, or a
/// legacy format that they refuse (so that it is never silently left out of a release).
pub fn is_distribution(filename: &str) -> bool {
    !matches!(classify(filename), FileClass::Other(_))
}

/// The project name (as written) and the version a distribution file name carries: a
/// wheel's first two parts; for an sdist (`.tar.gz`, legacy `.zip`), what precedes and what
/// follows the last `-` (a PEP 625 name has none of its own; a legacy one may).
pub fn name_and_version(filename: &str) -> Option<(String, String)> {
    if classify(filename) == FileClass::Wheel {
        return parse_wheel(filename).ok().map(|w| (w.name, w.version));
    }
    let stem = filename
        .strip_suffix(".tar.gz")
        .or_else(|| filename.strip_suffix(".zip"))?;
    let (name, version) = stem.rsplit_once('-')?;
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_owned(), version.to_owned()))
}

/// A project name as the index compares it (PEP 503: lower case, runs of `-`, `_`, `.` as
/// one `-`); `None` for a string that is no valid project name.
pub fn normalized_name(name: &str) -> Option<String> {
    PackageName::from_str(name).ok().map(|n| n.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_files_by_name() {
        assert_eq!(classify("a-1.0-py3-none-any.whl"), FileClass::Wheel);
        assert_eq!(classify("a-1.0.tar.gz"), FileClass::Sdist);
        assert_eq!(classify("A-1.0.ZIP"), FileClass::Legacy("a .zip sdist"));
        assert_eq!(classify("a-1.0-py3.7.egg"), FileClass::Legacy("an egg"));
        assert!(matches!(classify("a-1.0.tar.gz.asc"), FileClass::Other(_)));
        assert!(matches!(
            classify("a-1.0-py3-none-any.whl.metadata"),
            FileClass::Other(w) if w.contains("PEP 658")
        ));
        assert!(matches!(classify(".gitignore"), FileClass::Other(_)));
        assert!(matches!(classify("build.log"), FileClass::Other(_)));
    }

    #[test]
    fn parses_wheel_names_with_and_without_build_tags() {
        let w = parse_wheel(
            "demo_pkg-1.0-1abc-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name, "demo_pkg");
        assert_eq!(w.build.as_deref(), Some("1abc"));
        assert_eq!(w.python, "cp311");
        assert_eq!(w.dist_info(), "demo_pkg-1.0.dist-info");
        let w = parse_wheel("demo-2.0rc1-py2.py3-none-any.whl").unwrap();
        assert_eq!(
            (w.version.as_str(), w.python.as_str()),
            ("2.0rc1", "py2.py3")
        );
    }

    #[test]
    fn reports_wheel_grammar_problems() {
        let e = parse_wheel("demo-1.0.whl").unwrap_err();
        assert!(
            e[0].contains("has 2 '-'-separated parts, a wheel has 5 or 6"),
            "{e:?}"
        );
        let e = parse_wheel("demo-1.0-abc-py3-none-any.whl").unwrap_err();
        assert!(
            e[0].contains("build tag \"abc\" must start with a digit"),
            "{e:?}"
        );
        let e = parse_wheel("demo-one-py3-none-any.whl").unwrap_err();
        assert!(e[0].contains("version part \"one\""), "{e:?}");
        let e = parse_wheel("demo-1.0-py3..-none-any.whl").unwrap_err();
        assert!(e[0].contains("python tag \"py3..\""), "{e:?}");
        let e = parse_wheel("demo-1.0-py3-none-any.WHL").unwrap_err();
        assert!(e[0].contains("lower case"), "{e:?}");
        let e = parse_wheel("-5-py3-none-any.whl").unwrap_err();
        assert!(e[0].contains("name part \"\" of the file name"), "{e:?}");
        let e = parse_wheel("de mo-1.0-py3-none-any.whl").unwrap_err();
        assert!(e[0].contains("name part \"de mo\""), "{e:?}");
        let e = parse_wheel("demo-x-1.0-abc-py3-none-any.whl").unwrap_err();
        assert!(e[0].contains("has 7 '-'-separated parts"), "{e:?}");
    }

    /// Found by `fuzz/fuzz_targets/filename.rs`: the PEP 440 parser's message quotes the
    /// version part, NULs included.
    #[test]
    fn grammar_problems_keep_control_characters_escaped() {
        let e = parse_wheel(
            "demo_pkg-1.0\0\0\0lc-cp311-cp714-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap_err();
        assert!(e[0].contains("found `\\u{0}\\u{0}\\u{0}lc`"), "{e:?}");
        assert!(!e.iter().any(|m| m.contains(char::is_control)), "{e:?}");
    }

    #[test]
    fn platform_tags_follow_pypi() {
        for ok in [
            "any",
            "win_amd64",
            "manylinux_2_28_aarch64",
            "manylinux_2_17_ppc64",
            "musllinux_1_2_x86_64",
            "macosx_10_9_x86_64",
            "macosx_11_0_arm64",
            "macosx_26_0_universal2",
            "ios_13_0_arm64_iphoneos",
            "android_24_arm64_v8a",
            "linux_armv7l",
        ] {
            assert!(pypi_accepts_platform(ok), "{ok}");
        }
        for refused in [
            "linux_x86_64",
            "macosx_11_1_arm64",
            "macosx_10_9_sparc",
            "musllinux_1_2_ppc64",
            "ios_13_0_arm64",
            "android_x_arm64_v8a",
            "cygwin_x86_64",
        ] {
            assert!(!pypi_accepts_platform(refused), "{refused}");
        }
        let e = parse_wheel("demo-1.0-cp311-cp311-linux_x86_64.whl").unwrap_err();
        assert!(e[0].contains("platform tag \"linux_x86_64\" is not one PyPI accepts"));
        assert!(e[0].contains("auditwheel"));
    }
}
