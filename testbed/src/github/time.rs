//! The few timestamp formats GitHub and Azure blob storage speak, on whole Unix seconds.
use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    u64::try_from(Timestamp::now().as_second()).unwrap_or(0)
}

/// The instant `unix` seconds after the epoch; past year 9999 (which no stand-in clock reaches)
/// it saturates rather than failing, so formatting never has to.
fn at(unix: u64) -> Timestamp {
    i64::try_from(unix)
        .ok()
        .and_then(|secs| Timestamp::from_second(secs).ok())
        .unwrap_or(Timestamp::MAX)
}

/// `2024-03-06T15:34:56Z`, as GitHub's REST API and Azure SAS `st`/`se` write times.
pub fn rfc3339(unix: u64) -> String {
    at(unix).strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `Wed, 06 Mar 2024 15:34:56 GMT`, as Azure writes times in its error details.
pub fn rfc1123(unix: u64) -> String {
    at(unix).strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses exactly the `YYYY-MM-DDTHH:MM:SSZ` form [`rfc3339`] writes.
pub fn parse_rfc3339(s: &str) -> Option<u64> {
    // `strptime` also takes unpadded fields; the form written is fixed-width.
    if s.len() != "2024-03-06T15:34:56Z".len() {
        return None;
    }
    let civil = DateTime::strptime("%Y-%m-%dT%H:%M:%SZ", s).ok()?;
    let unix = Offset::UTC.to_timestamp(civil).ok()?.as_second();
    u64::try_from(unix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_709_739_296), "2024-03-06T15:34:56Z");
        assert_eq!(rfc1123(1_709_739_296), "Wed, 06 Mar 2024 15:34:56 GMT");
        assert_eq!(rfc1123(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
    }

    #[test]
    fn parse_round_trips() {
        for t in [0, 951_782_400, 1_709_739_296, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(t)), Some(t));
        }
        assert_eq!(parse_rfc3339("2024-13-06T15:34:56Z"), None);
        assert_eq!(parse_rfc3339("2024-03-06 15:34:56Z"), None);
        assert_eq!(parse_rfc3339("2024-03-06T15:34:56+00:00"), None);
        assert_eq!(parse_rfc3339("2024-3-6T15:34:56Z"), None);
    }
}
