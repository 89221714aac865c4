//! Byte and text encodings sigstore's formats use: base64, PEM, RFC 8785 canonical JSON and
//! RFC 3339 timestamps.
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use serde_json::Value;

/// Standard base64 with padding (protobuf JSON, Rekor and PEP 740 all write this).
pub(crate) fn b64(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Base64 as readers of these formats accept it: standard or URL-safe alphabet, padded or
/// not (protobuf JSON and Go's DSSE decoder accept all four).
pub(crate) fn b64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}

/// Strict standard base64 (padding required), as Python's `base64.b64decode` reads it after
/// dropping line breaks.
pub(crate) fn b64_decode_strict(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    STANDARD.decode(compact).ok()
}

/// PEM with 64-character lines and a final newline, byte for byte what Go's `pem.Encode` and
/// Python's `cryptography` write (Rekor compares certificates in this form).
pub(crate) fn pem(label: &str, der: &[u8]) -> String {
    let body = b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// The DER contents of every `label` block in `text`, in order.
pub(crate) fn pem_blocks(text: &str, label: &str) -> Vec<Vec<u8>> {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let after = &rest[start + begin.len()..];
        let Some(stop) = after.find(&end) else {
            break;
        };
        let body: String = after[..stop]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Ok(der) = STANDARD.decode(body) {
            out.push(der);
        }
        rest = &after[stop + end.len()..];
    }
    out
}

/// RFC 8785 (JCS) canonical JSON. The documents canonicalized here (Rekor entry bodies, the
/// signed entry timestamp payload) hold only strings, integers, booleans, null, arrays and
/// objects, so numbers other than integers are refused rather than approximated.
pub(crate) fn canonical_json(value: &Value) -> anyhow::Result<String> {
    let mut out = String::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut String) -> anyhow::Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                anyhow::bail!("canonical JSON of a non-integer number ({n}) is not supported");
            }
            out.push_str(&n.to_string());
        }
        // serde_json escapes exactly what ECMAScript's JSON.stringify escapes: `"`, `\`, and
        // control characters (short forms for \b \t \n \f \r, lower-case \u00xx otherwise).
        Value::String(s) => out.push_str(&serde_json::to_string(s)?),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Keys sort by their UTF-16 code units, not by bytes.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key)?);
                out.push(':');
                write_canonical(&map[key.as_str()], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time (protobuf JSON's Timestamp form).
pub(crate) fn rfc3339(unix: u64) -> String {
    match x509_cert::der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix)) {
        Ok(t) => t.to_string(),
        Err(_) => "9999-12-31T23:59:59Z".to_owned(),
    }
}

/// Parses an RFC 3339 UTC timestamp (`Z` suffix, optional fractional seconds, which are
/// dropped) as protobuf JSON writes them.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let text = text.strip_suffix('Z').or_else(|| text.strip_suffix('z'))?;
    let (main, _fraction) = text.split_once('.').unwrap_or((text, ""));
    let b = main.as_bytes();
    if b.len() != 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| main.get(r)?.parse::<u16>().ok();
    let t = x509_cert::der::DateTime::new(
        num(0..4)?,
        u8::try_from(num(5..7)?).ok()?,
        u8::try_from(num(8..10)?).ok()?,
        u8::try_from(num(11..13)?).ok()?,
        u8::try_from(num(14..16)?).ok()?,
        u8::try_from(num(17..19)?).ok()?,
    )
    .ok()?;
    Some(t.unix_duration().as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_and_escapes() {
        let v = json!({"logIndex": 3, "body": "a\"b\u{1}é/", "integratedTime": 17, "logID": "ff",
                       "z": [true, null, {"b": 1, "a": 2}]});
        assert_eq!(
            canonical_json(&v).unwrap(),
            "{\"body\":\"a\\\"b\\u0001é/\",\"integratedTime\":17,\"logID\":\"ff\",\"logIndex\":3,\
             \"z\":[true,null,{\"a\":2,\"b\":1}]}"
        );
        assert!(canonical_json(&json!({"x": 1.5})).is_err());
        // UTF-16 order puts U+FF61 after U+1F600's surrogates (0xD83D), byte order would not.
        let v = json!({"\u{ff61}": 1, "\u{1f600}": 2});
        assert_eq!(
            canonical_json(&v).unwrap(),
            "{\"\u{1f600}\":2,\"\u{ff61}\":1}"
        );
    }

    #[test]
    fn pem_round_trip() {
        let der: Vec<u8> = (0..100u8).collect();
        let text = pem("CERTIFICATE", &der);
        assert!(text.lines().all(|l| l.len() <= 64));
        assert!(text.ends_with("-----END CERTIFICATE-----\n"));
        assert_eq!(pem_blocks(&text, "CERTIFICATE"), vec![der]);
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_rfc3339("2022-04-13T20:06:15.000Z"),
            Some(1_649_880_375)
        );
        assert_eq!(parse_rfc3339(&rfc3339(1_700_000_000)), Some(1_700_000_000));
        assert_eq!(parse_rfc3339("2022-04-13 20:06:15Z"), None);
    }

    #[test]
    fn base64_variants() {
        assert_eq!(b64_decode("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(b64_decode("+/8").unwrap(), vec![0xfb, 0xff]);
        assert!(b64_decode_strict("+/8").is_none());
    }
}
