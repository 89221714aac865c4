//! UTC timestamps in the two forms the JSON API prints (`strftime` and `isoformat()`).
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

struct Parts {
    year: i64,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    micros: u32,
}

fn parts(t: SystemTime) -> Parts {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400) as u32;
    // Civil-from-days (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Parts {
        year,
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
        micros: d.subsec_micros(),
    }
}

/// `upload_time.strftime("%Y-%m-%dT%H:%M:%S")`
pub(crate) fn strftime_seconds(t: SystemTime) -> String {
    let p = parts(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        p.year, p.month, p.day, p.hour, p.minute, p.second
    )
}

/// `upload_time.isoformat() + "Z"`: Python prints microseconds only when they are not zero.
pub(crate) fn isoformat_z(t: SystemTime) -> String {
    let p = parts(t);
    let base = strftime_seconds(t);
    if p.micros == 0 {
        format!("{base}Z")
    } else {
        format!("{base}.{:06}Z", p.micros)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_like_python() {
        let t = UNIX_EPOCH + Duration::from_micros(1_709_294_400_123_456);
        assert_eq!(strftime_seconds(t), "2024-03-01T12:00:00");
        assert_eq!(isoformat_z(t), "2024-03-01T12:00:00.123456Z");
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(isoformat_z(t), "2000-02-29T00:00:00Z");
    }
}
