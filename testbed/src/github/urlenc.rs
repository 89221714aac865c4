//! Percent-encoding for the query strings the stand-in writes and reads.

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// RFC 3986 component encoding: everything but unreserved characters becomes `%XX`.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded` encoding (space as `+`), as Azure writes `rscd`.
pub fn form_encode(s: &str) -> String {
    encode_component(s).replace("%20", "+")
}

/// Decodes `+` and `%XX`; invalid escapes are kept as they are.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The raw (still encoded) `key=value` pairs of a query string, in order.
pub fn raw_pairs(query: &str) -> Vec<(&str, &str)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect()
}

/// The decoded value of the first `key` in a query string.
pub fn get(query: &str, key: &str) -> Option<String> {
    raw_pairs(query)
        .into_iter()
        .find(|(k, _)| decode(k) == key)
        .map(|(_, v)| decode(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_form_rules() {
        let s = "attachment; filename=\"a b+c.zip\"";
        assert_eq!(decode(&form_encode(s)), s);
        assert_eq!(form_encode(s), "attachment%3B+filename%3D%22a+b%2Bc.zip%22");
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(
            get("x=1&audience=https%3A%2F%2Fa&x=2", "x").as_deref(),
            Some("1")
        );
        assert_eq!(
            get("api-version=2.0&audience=https%3A%2F%2Fa", "audience").as_deref(),
            Some("https://a")
        );
    }
}
