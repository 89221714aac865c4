//! Field-level rules of core metadata: the individual checks `packaging.metadata` and
//! Warehouse apply to single values, and the normalisations Warehouse stores.
use std::collections::HashMap;

use super::names::py_repr;

const PYTHON_KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// `packaging.metadata._parse_project_urls`; `None` on a repeated label.
pub(crate) fn parse_project_urls(values: &[String]) -> Option<Vec<(String, String)>> {
    let mut urls: Vec<(String, String)> = Vec::new();
    for pair in values {
        let (label, url) = match pair.split_once(',') {
            Some((l, u)) => (l.trim().to_owned(), u.trim().to_owned()),
            None => (pair.trim().to_owned(), String::new()),
        };
        if urls.iter().any(|(l, _)| *l == label) {
            return None;
        }
        urls.push((label, url));
    }
    Some(urls)
}

/// `str(SpecifierSet)`: each specifier without spaces, sorted, comma-joined.
pub(crate) fn normalize_specifiers(text: &str) -> String {
    let mut specs: Vec<String> = text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.chars().filter(|c| !c.is_whitespace()).collect())
        .collect();
    specs.sort();
    specs.join(",")
}

pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r'
            | '\u{0b}'
            | '\u{0c}'
            | '\u{1c}'
            | '\u{1d}'
            | '\u{1e}'
            | '\u{85}'
            | '\u{2028}'
            | '\u{2029}'
    )
}

pub(crate) fn check_content_type(value: &str) -> Result<(), String> {
    let field = "'description-content-type'";
    let mut parts = value.split(';');
    let content_type = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let known = ["text/plain", "text/x-rst", "text/markdown"];
    if !known.contains(&content_type.as_str()) {
        return Err(format!(
            "{field} must be one of ['text/plain', 'text/x-rst', 'text/markdown'], not {}",
            py_repr(value)
        ));
    }
    let mut params: HashMap<String, String> = HashMap::new();
    for p in parts {
        if let Some((k, v)) = p.split_once('=') {
            params.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            );
        }
    }
    let charset = params.get("charset").map(String::as_str).unwrap_or("UTF-8");
    if !charset.eq_ignore_ascii_case("utf-8") {
        return Err(format!(
            "{field} can only specify the UTF-8 charset, not {}",
            py_repr(charset)
        ));
    }
    let variant = params.get("variant").map(String::as_str).unwrap_or("GFM");
    if content_type == "text/markdown" && variant != "GFM" && variant != "CommonMark" {
        return Err(format!(
            "valid Markdown variants for {field} are ['GFM', 'CommonMark'], not {}",
            py_repr(variant)
        ));
    }
    Ok(())
}

/// SPDX expression syntax (ids, `AND`/`OR`/`WITH`, parentheses). The SPDX license list itself
/// is not consulted.
pub(crate) fn valid_license_expression(text: &str) -> bool {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let is_id = |t: &str| {
        !t.is_empty()
            && !["and", "or", "with"].contains(&t.to_ascii_lowercase().as_str())
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ':'))
    };
    // expr := term ((AND|OR) term)* ; term := '(' expr ')' | id [WITH id]
    fn expr(t: &[&str], i: &mut usize, is_id: &dyn Fn(&str) -> bool) -> bool {
        if !term(t, i, is_id) {
            return false;
        }
        while *i < t.len() && ["and", "or"].contains(&t[*i].to_ascii_lowercase().as_str()) {
            *i += 1;
            if !term(t, i, is_id) {
                return false;
            }
        }
        true
    }
    fn term(t: &[&str], i: &mut usize, is_id: &dyn Fn(&str) -> bool) -> bool {
        if *i < t.len() && t[*i] == "(" {
            *i += 1;
            if !expr(t, i, is_id) || *i >= t.len() || t[*i] != ")" {
                return false;
            }
            *i += 1;
            return true;
        }
        if *i >= t.len() || !is_id(t[*i]) {
            return false;
        }
        *i += 1;
        if *i < t.len() && t[*i].eq_ignore_ascii_case("with") {
            *i += 1;
            if *i >= t.len() || !is_id(t[*i]) {
                return false;
            }
            *i += 1;
        }
        true
    }
    let mut i = 0;
    expr(&tokens, &mut i, &is_id) && i == tokens.len()
}

pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

pub(crate) fn check_license_files(paths: &[String]) -> Result<(), String> {
    let field = "'license-file'";
    for path in paths {
        let p = py_repr(path);
        if path.contains("..") {
            return Err(format!(
                "{p} is invalid for {field}, parent directory indicators are not allowed"
            ));
        }
        if path.contains('*') {
            return Err(format!(
                "{p} is invalid for {field}, paths must be resolved"
            ));
        }
        let windows_abs = path.len() >= 2 && path.as_bytes()[1] == b':' || path.starts_with('\\');
        if path.starts_with('/') || windows_abs {
            return Err(format!(
                "{p} is invalid for {field}, paths must be relative"
            ));
        }
        if path.contains('\\') {
            return Err(format!(
                "{p} is invalid for {field}, paths must use '/' delimiter"
            ));
        }
    }
    Ok(())
}

pub(crate) fn check_import_names(field: &str, values: &[String]) -> Result<(), String> {
    for value in values {
        let (name, private) = match value.split_once(';') {
            Some((n, p)) => (n.trim_end(), Some(p)),
            None => (value.trim_end(), None),
        };
        for ident in name.split('.') {
            if !is_identifier(ident) {
                return Err(format!(
                    "{} is invalid for '{field}'; {} is not a valid identifier",
                    py_repr(name),
                    py_repr(ident)
                ));
            }
            if PYTHON_KEYWORDS.contains(&ident) {
                return Err(format!(
                    "{} is invalid for '{field}'; {} is a keyword",
                    py_repr(name),
                    py_repr(ident)
                ));
            }
        }
        if private.is_some_and(|p| p.trim_start() != "private") {
            return Err(format!(
                "{} is invalid for '{field}'; the only valid option is 'private'",
                py_repr(value)
            ));
        }
    }
    Ok(())
}

/// Warehouse's `http.is_valid_uri(url, require_authority=False)`: an http(s) URI.
pub(crate) fn is_valid_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://"))
        && !url.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// `email_validator.validate_email(check_deliverability=False)`, reduced to its common errors.
pub(crate) fn email_error(addr: &str) -> Option<&'static str> {
    let Some((local, domain)) = addr.rsplit_once('@') else {
        return Some("An email address must have an @-sign.");
    };
    if local.is_empty() {
        return Some("There must be something before the @-sign.");
    }
    if domain.is_empty() {
        return Some("There must be something after the @-sign.");
    }
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Some("The part after the @-sign is not valid. It should have a period.");
    }
    None
}

/// `email.utils.parseaddr`: the address inside `<...>` or the whole value.
pub(crate) fn parse_address(value: &str) -> String {
    match (value.find('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => value[a + 1..b].trim().to_owned(),
        _ => value.trim().to_owned(),
    }
}

pub(crate) fn python_title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev_letter = false;
    for c in s.chars() {
        if c.is_alphabetic() {
            if prev_letter {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_letter = true;
        } else {
            out.push(c);
            prev_letter = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions() {
        assert!(valid_license_expression(
            "MIT OR (Apache-2.0 AND BSD-3-Clause)"
        ));
        assert!(valid_license_expression(
            "GPL-2.0-or-later WITH Classpath-exception-2.0"
        ));
        assert!(!valid_license_expression("MIT OR"));
        assert!(!valid_license_expression("(MIT"));
    }
}
