//! Names, versions and distribution filenames as `packaging` (which Warehouse uses) sees them.
use std::str::FromStr;

use pep440_rs::Version;

/// PEP 503 normalisation: lower case, runs of `-`, `_`, `.` become one `-`.
pub(crate) fn canonicalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_run = false;
    for ch in name.chars() {
        if matches!(ch, '-' | '_' | '.') {
            if !in_run {
                out.push('-');
            }
            in_run = true;
        } else {
            out.extend(ch.to_lowercase());
            in_run = false;
        }
    }
    out
}

/// `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, case-insensitive and ASCII only: the project
/// name rule of Warehouse's upload form and of `packaging.utils.canonicalize_name(validate=True)`.
pub(crate) fn is_valid_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

pub(crate) fn parse_version(text: &str) -> Option<Version> {
    Version::from_str(text).ok()
}

/// `packaging.utils.canonicalize_version`: the normalised version with trailing zeros of the
/// release segment removed, so `1.0.0` and `1` name the same release.
pub(crate) fn canonicalize_version(version: &Version) -> String {
    let mut release = version.release().to_vec();
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    Version::new(release)
        .with_epoch(version.epoch())
        .with_pre(version.pre())
        .with_post(version.post())
        .with_dev(version.dev())
        .with_local(version.local().to_vec())
        .to_string()
}

/// Python's `repr()` of a string, which Warehouse embeds in many messages (`{name!r}`).
pub(crate) fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for ch in text.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..=0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// One tag of a wheel's (possibly compressed) tag set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WheelTag {
    pub platform: String,
}

#[derive(Debug)]
pub(crate) struct WheelName {
    /// Canonicalised project name.
    pub name: String,
    pub version: Version,
    pub tags: Vec<WheelTag>,
}

/// `packaging.utils.parse_wheel_filename`, with its error texts.
pub(crate) fn parse_wheel_filename(filename: &str) -> Result<WheelName, String> {
    let Some(stem) = filename.strip_suffix(".whl") else {
        return Err(format!(
            "Invalid wheel filename (extension must be '.whl'): {}",
            py_repr(filename)
        ));
    };
    let dashes = stem.matches('-').count();
    if dashes != 4 && dashes != 5 {
        return Err(format!(
            "Invalid wheel filename (wrong number of parts): {}",
            py_repr(stem)
        ));
    }
    let parts: Vec<&str> = stem.splitn(dashes - 1, '-').collect();
    let name_part = parts[0];
    let name_ok = !name_part.is_empty()
        && !name_part.contains("__")
        && name_part
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if !name_ok {
        return Err(format!("Invalid project name: {}", py_repr(stem)));
    }
    let Some(version) = parse_version(parts[1]) else {
        return Err(format!(
            "Invalid wheel filename (invalid version): {}",
            py_repr(stem)
        ));
    };
    if dashes == 5 && !parts[2].starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "Invalid build number: {} in {}",
            parts[2],
            py_repr(stem)
        ));
    }
    let Some(tags) = parse_tag(parts[parts.len() - 1]) else {
        return Err(format!(
            "Invalid wheel filename (invalid tag component): {}",
            py_repr(stem)
        ));
    };
    Ok(WheelName {
        name: canonicalize_name(name_part),
        version,
        tags,
    })
}

/// `packaging.tags.parse_tag`: `py2.py3-none-any` expands to one tag per combination.
fn parse_tag(tag: &str) -> Option<Vec<WheelTag>> {
    let parts: Vec<&str> = tag.split('-').collect();
    let [interpreters, abis, platforms] = parts.as_slice() else {
        return None;
    };
    let split = |s: &str| -> Option<Vec<String>> {
        let items: Vec<String> = s.split('.').map(str::to_ascii_lowercase).collect();
        items.iter().all(|i| !i.is_empty()).then_some(items)
    };
    let interpreters = split(interpreters)?;
    let abis = split(abis)?;
    let platforms = split(platforms)?;
    let mut tags = Vec::new();
    for _ in &interpreters {
        for _ in &abis {
            for platform in &platforms {
                let tag = WheelTag {
                    platform: platform.clone(),
                };
                if !tags.contains(&tag) {
                    tags.push(tag);
                }
            }
        }
    }
    Some(tags)
}

/// `packaging.utils.parse_sdist_filename`: (canonical name, version), with its error texts.
pub(crate) fn parse_sdist_filename(filename: &str) -> Result<(String, Version), String> {
    let stem = if let Some(stem) = filename.strip_suffix(".tar.gz") {
        stem
    } else if let Some(stem) = filename.strip_suffix(".zip") {
        stem
    } else {
        return Err(format!(
            "Invalid sdist filename (extension must be '.tar.gz' or '.zip'): {}",
            py_repr(filename)
        ));
    };
    let Some((name_part, version_part)) = stem.rsplit_once('-') else {
        return Err(format!("Invalid sdist filename: {}", py_repr(filename)));
    };
    if name_part.is_empty() {
        return Err(format!(
            "Invalid sdist filename (empty project name): {}",
            py_repr(filename)
        ));
    }
    let Some(version) = parse_version(version_part) else {
        return Err(format!(
            "Invalid sdist filename (invalid version): {}",
            py_repr(filename)
        ));
    };
    Ok((canonicalize_name(name_part), version))
}

const ALLOWED_PLATFORMS: &[&str] = &[
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
const MACOSX_ARCHES: &[&str] = &[
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
const MACOSX_MAJORS: &[&str] = &["11", "12", "13", "14", "15", "26"];
const JOINT_LINUX_ARCHES: &[&str] = &[
    "x86_64", "i686", "aarch64", "armv7l", "ppc64le", "s390x", "riscv64",
];
const IOS_ARCHES: &[&str] = &["arm64", "x86_64"];
const ANDROID_ARCHES: &[&str] = &["armeabi_v7a", "arm64_v8a", "x86", "x86_64"];

/// Splits `<digits>_` off the front, as the `(\d+)_` groups of Warehouse's regexes do.
fn take_number(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit())?;
    if end == 0 || !s[end..].starts_with('_') {
        return None;
    }
    Some((&s[..end], &s[end + 1..]))
}

/// Warehouse's `_valid_platform_tag`: the platforms PyPI accepts binary wheels for.
pub(crate) fn valid_platform_tag(tag: &str) -> bool {
    if ALLOWED_PLATFORMS.contains(&tag) {
        return true;
    }
    if let Some(rest) = tag.strip_prefix("macosx_") {
        if let Some((major, rest)) = take_number(rest) {
            if let Some((minor, arch)) = take_number(rest) {
                if MACOSX_ARCHES.contains(&arch)
                    && (major == "10" || (MACOSX_MAJORS.contains(&major) && minor == "0"))
                {
                    return true;
                }
            }
        }
    }
    for (prefix, extra) in [("manylinux_", Some("ppc64")), ("musllinux_", None)] {
        if let Some(rest) = tag.strip_prefix(prefix) {
            if let Some((_, rest)) = take_number(rest) {
                if let Some((_, arch)) = take_number(rest) {
                    return JOINT_LINUX_ARCHES.contains(&arch) || extra == Some(arch);
                }
            }
        }
    }
    if let Some(rest) = tag.strip_prefix("ios_") {
        if let Some((_, rest)) = take_number(rest) {
            if let Some((_, rest)) = take_number(rest) {
                for sdk in ["_iphoneos", "_iphonesimulator"] {
                    if let Some(idx) = rest.rfind(sdk) {
                        if IOS_ARCHES.contains(&&rest[..idx]) {
                            return true;
                        }
                    }
                }
            }
        }
    }
    if let Some(rest) = tag.strip_prefix("android_") {
        if let Some((_, arch)) = take_number(rest) {
            return ANDROID_ARCHES.contains(&arch);
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_names() {
        assert_eq!(canonicalize_name("Foo.Bar__baz-Q"), "foo-bar-baz-q");
        assert!(is_valid_project_name("a"));
        assert!(is_valid_project_name("My_pkg.2"));
        assert!(!is_valid_project_name("-bad"));
        assert!(!is_valid_project_name("bad name"));
    }

    #[test]
    fn canonical_versions() {
        let v = parse_version("1.0.0").unwrap();
        assert_eq!(canonicalize_version(&v), "1");
        let v = parse_version("2.10.0rc1.post0").unwrap();
        assert_eq!(canonicalize_version(&v), "2.10rc1.post0");
    }

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr("a.whl"), "'a.whl'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a\\b\x01"), "'a\\\\b\\x01'");
    }

    #[test]
    fn wheel_filenames() {
        let w = parse_wheel_filename("my_pkg-1.0-py2.py3-none-any.whl").unwrap();
        assert_eq!(w.name, "my-pkg");
        assert_eq!(w.tags.len(), 1);
        assert_eq!(
            parse_wheel_filename("pkg-1.0-py3-none.whl").unwrap_err(),
            "Invalid wheel filename (wrong number of parts): 'pkg-1.0-py3-none'"
        );
        assert_eq!(
            parse_wheel_filename("pkg-x.y-py3-none-any.whl").unwrap_err(),
            "Invalid wheel filename (invalid version): 'pkg-x.y-py3-none-any'"
        );
        assert!(parse_wheel_filename("pkg-1.0-1-py3-none-any.whl").is_ok());
        assert!(parse_wheel_filename("pkg-1.0-x1-py3-none-any.whl").is_err());
    }

    #[test]
    fn platform_tags() {
        for ok in [
            "any",
            "manylinux_2_17_x86_64",
            "musllinux_1_2_aarch64",
            "macosx_10_9_x86_64",
            "macosx_11_0_arm64",
            "win_amd64",
        ] {
            assert!(valid_platform_tag(ok), "{ok}");
        }
        for bad in ["linux_x86_64", "macosx_11_3_arm64", "musllinux_1_2_ppc64"] {
            assert!(!valid_platform_tag(bad), "{bad}");
        }
    }
}
