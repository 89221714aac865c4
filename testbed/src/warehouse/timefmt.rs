//! UTC timestamps in the two forms the JSON API prints (`strftime` and `isoformat()`).
use std::time::SystemTime;

use jiff::civil::DateTime;
use jiff::tz::Offset;
use jiff::Timestamp;

pub(crate) fn unix_now() -> i64 {
    Timestamp::now().as_second()
}

/// The UTC wall-clock reading of `t`; a time jiff cannot hold (beyond year 9999) reads as the
/// epoch, as the stand-in's clock never produces one.
fn civil(t: SystemTime) -> DateTime {
    Offset::UTC.to_datetime(Timestamp::try_from(t).unwrap_or(Timestamp::UNIX_EPOCH))
}

/// `upload_time.strftime("%Y-%m-%dT%H:%M:%S")`
pub(crate) fn strftime_seconds(t: SystemTime) -> String {
    civil(t).strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

/// `upload_time.isoformat() + "Z"`: Python prints microseconds only when they are not zero.
pub(crate) fn isoformat_z(t: SystemTime) -> String {
    let civil = civil(t);
    let base = civil.strftime("%Y-%m-%dT%H:%M:%S");
    match civil.subsec_nanosecond() / 1000 {
        0 => format!("{base}Z"),
        micros => format!("{base}.{micros:06}Z"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats_like_python() {
        let t = UNIX_EPOCH + Duration::from_micros(1_709_294_400_123_456);
        assert_eq!(strftime_seconds(t), "2024-03-01T12:00:00");
        assert_eq!(isoformat_z(t), "2024-03-01T12:00:00.123456Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(isoformat_z(t), "2000-02-29T00:00:00Z");
        // Below a microsecond is below what Python's datetime keeps.
        let t = UNIX_EPOCH + Duration::from_nanos(951_782_400_000_000_999);
        assert_eq!(isoformat_z(t), "2000-02-29T00:00:00Z");
    }
}
