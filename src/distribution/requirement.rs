//! PEP 508 requirement strings, parsed without letting a malformed name crash the run.

use std::str::FromStr;

use pep508_rs::{Requirement, VerbatimUrl};

/// Parses a PEP 508 requirement. `pep508_rs` 0.9 panics ("`PackageName` validation should
/// match PEP 508 parsing") on a name that ends in `-`, `_` or `.` followed by anything, such
/// as `foo- >=1` or `foo_[x]`; with `panic = "abort"` that would kill the release binary on
/// one bad Requires-Dist. PEP 508 names end with a letter or digit, so such a name is
/// refused here, before the crate sees it.
pub fn parse(value: &str) -> Result<Requirement<VerbatimUrl>, String> {
    // pep508_rs 0.9 also slices a marker by a count of characters as if it were bytes, and
    // panics inside a character that takes more than one (found by fuzzing). PEP 508 is
    // ASCII throughout: names, versions, markers and their quoted strings, and URLs.
    if let Some(c) = value.chars().find(|c| !c.is_ascii()) {
        return Err(format!(
            "it holds the non-ASCII character {c:?}, but names, versions and markers are ASCII"
        ));
    }
    let (name, rest) = identifier(value.trim_start());
    ends_in_letter_or_digit("name", name)?;
    // The extras panic the same way (`foo[bar_]`, "`ExtraName` validation should match").
    if let Some(extras) = rest.trim_start().strip_prefix('[') {
        let extras = extras.split(']').next().unwrap_or_default();
        for extra in extras.split(',') {
            ends_in_letter_or_digit("extra", identifier(extra.trim_start()).0)?;
        }
    }
    Requirement::from_str(value).map_err(|e| e.message.to_string())
}

/// The leading run of name characters of `s`, and what follows it.
fn identifier(s: &str) -> (&str, &str) {
    let len = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(s.len());
    s.split_at(len)
}

fn ends_in_letter_or_digit(what: &str, id: &str) -> Result<(), String> {
    match id.chars().last().filter(|c| matches!(c, '-' | '_' | '.')) {
        Some(last) => Err(format!(
            "the {what} {id:?} must end with a letter or digit, not {last:?}"
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn names_ending_in_a_separator_are_refused_not_a_panic() {
        // Each of these made pep508_rs 0.9 panic (found by the differential test).
        for bad in [
            "foo- >=1",
            "foo_[x]",
            "Z. @ https://example.org/x.whl",
            "bar_;extra == 'web'",
            "a--x1__Foo- (!=0!2.007@b12,==007post2.dev+local)",
            "  foo. (>=1)",
            "A0b-_-1__a[a,B_] ~=1!01.2+; python_full_version ~= '3.9.1'",
            "foo[bar- ]",
            "foo [x, y.]>=1",
        ] {
            let err = parse(bad).expect_err(bad);
            assert!(
                err.contains("must end with a letter or digit"),
                "{bad}: {err}"
            );
        }
        for bad in ["foo-", "foo_"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn valid_requirements_still_parse() {
        for good in [
            "foo",
            "foo-bar[web]>=1.0,<2; python_version >= '3.9'",
            "foo_bar.baz (==1.*)",
            "x @ https://example.org/x.whl",
            "foo[a_b, c.d]",
            "foo[]",
        ] {
            assert!(parse(good).is_ok(), "{good}");
        }
    }
}
