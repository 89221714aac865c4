//! `License-Expression` (PEP 639): an SPDX license expression whose identifiers are on the
//! SPDX license list, as PyPI checks it (`packaging.licenses.canonicalize_license_expression`:
//! identifiers and operators in any case, `LicenseRef-`/`DocumentRef-` references, `+`).
//!
//! The list comes from the `spdx` crate, which tracks the SPDX license list release by
//! release; a hand-kept copy would go stale as licenses are added.

use spdx::{Expression, ParseMode};

/// Identifiers as written, matched to the list in any case, as `packaging` matches them;
/// deprecated identifiers stay valid (PyPI accepts them).
const MODE: ParseMode = ParseMode {
    allow_slash_as_or_operator: false,
    allow_imprecise_license_names: false,
    allow_postfix_plus_on_gpl: true,
    allow_deprecated: true,
    allow_unknown: false,
};

/// Checks one `License-Expression` value; the error says what is wrong with it.
pub fn check_expression(value: &str) -> Result<(), String> {
    if value.trim().is_empty() {
        return Err("it is empty".to_owned());
    }
    // SPDX separates operators with whitespace: `MIT+or X` is one (invalid) term, though
    // the crate's lexer would split it.
    let spaced = value.replace('(', " ( ").replace(')', " ) ");
    if let Some(term) = spaced.split_whitespace().find(|t| {
        let id = t.strip_suffix('+').unwrap_or(t);
        !(["(", ")"].contains(t)
            || !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':')))
    }) {
        return Err(format!(
            "{term:?} is not a license identifier, an operator or a parenthesis"
        ));
    }
    let canonical = with_listed_case(value);
    Expression::parse_mode(&canonical, MODE)
        .map(|_| ())
        .map_err(|e| e.reason.to_string())
}

/// `value` with every identifier the SPDX list holds in another case written as listed, so
/// that `mit or apache-2.0` reads as `MIT OR Apache-2.0`.
fn with_listed_case(value: &str) -> String {
    let spaced = value.replace('(', " ( ").replace(')', " ) ");
    spaced
        .split_whitespace()
        .map(|token| {
            let (id, plus) = match token.strip_suffix('+') {
                Some(id) => (id, "+"),
                None => (token, ""),
            };
            let listed = spdx::identifiers::LICENSES
                .iter()
                .map(|l| l.name)
                .chain(spdx::identifiers::EXCEPTIONS.iter().map(|e| e.name))
                .find(|name| name.eq_ignore_ascii_case(id));
            match listed {
                Some(name) => format!("{name}{plus}"),
                None if ["and", "or", "with"].contains(&token.to_ascii_lowercase().as_str()) => {
                    token.to_ascii_uppercase()
                }
                None => token.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::check_expression;

    #[test]
    fn spdx_expressions_with_listed_identifiers_pass() {
        for good in [
            "MIT",
            "MIT OR Apache-2.0",
            "mit or apache-2.0",
            "(MIT AND BSD-3-Clause) OR Apache-2.0",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "GPL-2.0+",
            "LicenseRef-Proprietary",
            "LicenseRef-my-company AND MIT",
            "Apache-2.0 WITH LLVM-exception",
        ] {
            assert_eq!(check_expression(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn syntax_errors_and_unknown_identifiers_are_refused() {
        for bad in [
            "",
            "MIT OR",
            "(MIT",
            "MIT AND (Apache-2.0",
            "MIT Apache-2.0",
            "Apache 2.0",
            "MIT/Apache-2.0",
            "BSD",
            "GPLv3",
            "Not-A-License-1.0",
            "MIT WITH MIT",
            "MIT WITH Not-An-Exception",
            "MIT+or Apache-2.0",
            "(MIT+WITH LLVM-exception)",
            "GPL-2.0++",
        ] {
            assert!(check_expression(bad).is_err(), "{bad:?} passed");
        }
    }
}
