//! Writing JSON exactly as Python's `json.dumps(value, indent=2)` does, so that a rewritten
//! fixture differs from the one the target project's own tooling writes only where the data
//! differs.

use serde_json::{Map, Number, Value};

/// Renders `value` as `json.dumps(value, indent=2)` would (no trailing newline).
///
/// Python's defaults with `indent` set: item separator `,` followed by a newline and the
/// indentation, key separator `": "`, `ensure_ascii=True`, `allow_nan=True`.
pub fn dumps_indent2(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, 0);
    out
}

fn write_value(out: &mut String, value: &Value, level: usize) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => write_number(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => write_array(out, items, level),
        Value::Object(map) => write_object(out, map, level),
    }
}

fn write_array(out: &mut String, items: &[Value], level: usize) {
    if items.is_empty() {
        out.push_str("[]");
        return;
    }
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        newline_indent(out, level + 1);
        write_value(out, item, level + 1);
    }
    newline_indent(out, level);
    out.push(']');
}

fn write_object(out: &mut String, map: &Map<String, Value>, level: usize) {
    if map.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push('{');
    for (index, (key, item)) in map.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        newline_indent(out, level + 1);
        write_string(out, key);
        out.push_str(": ");
        write_value(out, item, level + 1);
    }
    newline_indent(out, level);
    out.push('}');
}

fn newline_indent(out: &mut String, level: usize) {
    out.push('\n');
    for _ in 0..level {
        out.push_str("  ");
    }
}

fn write_number(out: &mut String, number: &Number) {
    if let Some(unsigned) = number.as_u64() {
        out.push_str(&unsigned.to_string());
    } else if let Some(signed) = number.as_i64() {
        out.push_str(&signed.to_string());
    } else if let Some(float) = number.as_f64() {
        out.push_str(&float_repr(float));
    }
}

/// Escapes like CPython's `encode_basestring_ascii`: only printable ASCII other than `"` and
/// `\` is written as is (so DEL, 0x7f, is escaped too), hex digits are lower case, and
/// characters beyond the BMP become UTF-16 surrogate pairs.
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for character in text.chars() {
        match character {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            ' '..='~' => out.push(character),
            other => {
                let mut units = [0u16; 2];
                for unit in other.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
        }
    }
    out.push('"');
}

/// Python's `float.__repr__`: the shortest digits that round-trip, in positional notation
/// when the decimal exponent is in `-4 < decpt <= 16`, else `d.ddde±XX`; a whole number in
/// positional notation keeps a trailing `.0`.
pub fn float_repr(value: f64) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.to_owned();
    }
    // Rust's `{:e}` also prints the shortest round-tripping digits, as `d.ddde<exp>`.
    let scientific = format!("{value:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let decpt = exponent + 1;
    let mut out = String::from(sign);
    if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            out.push('.');
            out.push_str(rest);
        }
        let exponent_sign = if exponent < 0 { '-' } else { '+' };
        out.push_str(&format!("e{exponent_sign}{:02}", exponent.unsigned_abs()));
    } else if decpt <= 0 {
        out.push_str("0.");
        out.push_str(&"0".repeat(decpt.unsigned_abs() as usize));
        out.push_str(&digits);
    } else {
        let decpt = decpt as usize;
        if decpt >= digits.len() {
            out.push_str(&digits);
            out.push_str(&"0".repeat(decpt - digits.len()));
            out.push_str(".0");
        } else {
            out.push_str(&digits[..decpt]);
            out.push('.');
            out.push_str(&digits[decpt..]);
        }
    }
    out
}

/// The first number literal in `text` (already known to be valid JSON) that `serde_json`
/// cannot hold the way Python does: an integer outside the 64-bit range (serde_json turns it
/// into a float) or `-0` (serde_json reads it as the float `-0.0`, Python as the integer 0).
/// Returns the 1-based line and the literal.
pub fn first_inexact_integer(text: &str) -> Option<(usize, String)> {
    let bytes = text.as_bytes();
    let mut line = 1;
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'\n' => line += 1,
            b'"' => {
                index += 1;
                while index < bytes.len() && bytes[index] != b'"' {
                    // Raw newlines cannot occur inside a valid JSON string, so only escapes
                    // need care here.
                    if bytes[index] == b'\\' {
                        index += 1;
                    }
                    index += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = index;
                while index < bytes.len()
                    && matches!(bytes[index], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    index += 1;
                }
                let literal = &text[start..index];
                let is_integer = !literal.contains(['.', 'e', 'E']);
                let exact = literal != "-0"
                    && (literal.parse::<u64>().is_ok() || literal.parse::<i64>().is_ok());
                if is_integer && !exact {
                    return Some((line, literal.to_owned()));
                }
                continue;
            }
            _ => {}
        }
        index += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_containers_stay_on_one_line() {
        assert_eq!(
            dumps_indent2(&json!({"a": [], "b": {}})),
            "{\n  \"a\": [],\n  \"b\": {}\n}"
        );
    }

    #[test]
    fn escapes_like_ensure_ascii() {
        assert_eq!(
            dumps_indent2(&json!("a\"b\\c\n\r\t\u{8}\u{c}\u{1}\u{7f}é🎉")),
            "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u007f\\u00e9\\ud83c\\udf89\""
        );
    }

    #[test]
    fn floats_follow_python_repr() {
        let cases = [
            (1.0, "1.0"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-5, "1.5e-05"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (0.1, "0.1"),
            (1e300, "1e+300"),
            (-2.5, "-2.5"),
        ];
        for (value, expected) in cases {
            assert_eq!(float_repr(value), expected, "repr of {value:?}");
        }
    }

    #[test]
    fn finds_integers_serde_json_cannot_keep() {
        assert_eq!(first_inexact_integer("[1, -2, 3.5e10]"), None);
        assert_eq!(
            first_inexact_integer("[\"123456789012345678901234\",\n18446744073709551616]"),
            Some((2, "18446744073709551616".to_owned()))
        );
        assert_eq!(first_inexact_integer("[-0]"), Some((1, "-0".to_owned())));
        assert_eq!(first_inexact_integer("[\"\\\"-0\"]"), None);
    }
}
