//! Reading the index's upload times and writing them the way Django's JSON serializer does.

use std::fmt;

use anyhow::{bail, Context, Result};
use jiff::fmt::temporal::Pieces;
use jiff::tz::Offset;
use jiff::Timestamp;

/// An instant in UTC with microsecond precision (what Python's `datetime` holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime(Timestamp);

impl UtcTime {
    /// Parses an ISO 8601 date-time such as `2025-11-13T04:11:50.064123Z` or
    /// `2025-11-13 04:11:50+00:00` (a space may replace `T`, as in Python's `isoformat(" ")`).
    /// No offset means UTC, as the index's `upload_time` field is written. Fraction digits past
    /// the sixth are dropped, as Python does.
    pub fn parse(text: &str) -> Result<Self> {
        parse_inner(text.trim()).with_context(|| {
            format!("{text:?} is not an ISO 8601 date-time such as 2025-11-13T04:11:50.064123Z")
        })
    }

    /// Django's `DjangoJSONEncoder` form: `isoformat()` cut to milliseconds (no fraction at
    /// all when the microseconds are zero) with `+00:00` written as `Z`.
    pub fn to_django(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Civil fields rather than `Timestamp::subsec_*`, which go negative before 1970.
        let civil = Offset::UTC.to_datetime(self.0);
        write!(f, "{}", civil.strftime("%Y-%m-%dT%H:%M:%S"))?;
        if civil.subsec_nanosecond() / 1000 != 0 {
            write!(f, ".{:03}", civil.millisecond())?;
        }
        f.write_str("Z")
    }
}

fn parse_inner(text: &str) -> Result<UtcTime> {
    let pieces = Pieces::parse(text)?;
    // A bare date would otherwise be read as midnight; an upload time always has a clock time.
    let Some(time) = pieces.time() else {
        bail!("a time of day must follow the date");
    };
    if pieces.time_zone_annotation().is_some() {
        bail!("a bracketed time zone name is not part of an upload time");
    }
    // Python's `datetime` holds microseconds: cut the civil time there, before any offset.
    let time = time
        .with()
        .subsec_nanosecond(time.subsec_nanosecond() / 1000 * 1000)
        .build()?;
    let offset = pieces.to_numeric_offset().unwrap_or(Offset::UTC);
    Ok(UtcTime(
        offset.to_timestamp(pieces.date().to_datetime(time))?,
    ))
}
#[cfg(test)]
mod tests {
    use super::*;

    fn django(text: &str) -> String {
        UtcTime::parse(text).unwrap().to_django()
    }

    #[test]
    fn truncates_to_milliseconds_like_django() {
        assert_eq!(
            django("2025-11-13T04:11:50.064987Z"),
            "2025-11-13T04:11:50.064Z"
        );
        assert_eq!(
            django("2025-11-13T04:11:50.000123Z"),
            "2025-11-13T04:11:50.000Z"
        );
        assert_eq!(django("2025-11-13T04:11:50Z"), "2025-11-13T04:11:50Z");
        assert_eq!(django("2025-11-13T04:11:50.5"), "2025-11-13T04:11:50.500Z");
        assert_eq!(
            django("2025-11-13T04:11:50.1234567+00:00"),
            "2025-11-13T04:11:50.123Z"
        );
        assert_eq!(
            django("2025-11-13 04:11:50.123999999+00:00"),
            "2025-11-13T04:11:50.123Z"
        );
        // Nanoseconds alone are below what Python keeps, so no fraction is written.
        assert_eq!(
            django("1969-12-31T23:59:59.0000009Z"),
            "1969-12-31T23:59:59Z"
        );
    }

    #[test]
    fn converts_offsets_to_utc() {
        assert_eq!(django("2024-03-01T01:30:00+02:00"), "2024-02-29T23:30:00Z");
        assert_eq!(django("1999-12-31T23:00:00-01:00"), "2000-01-01T00:00:00Z");
        assert_eq!(
            django("1969-12-31T23:59:59.999Z"),
            "1969-12-31T23:59:59.999Z"
        );
    }

    #[test]
    fn orders_by_instant() {
        let a = UtcTime::parse("2025-01-01T00:00:00+01:00").unwrap();
        let b = UtcTime::parse("2024-12-31T23:30:00Z").unwrap();
        assert!(a < b);
    }

    #[test]
    fn rejects_what_is_not_a_date_time() {
        for bad in [
            "2025-02-29T00:00:00Z",
            "2025-13-01T00:00:00Z",
            "2025-11-13",
            "2025-11-13T24:00:00Z",
            "2025-11-13T04:11:50.Z",
            "2025-11-13T04:11:50Zjunk",
            "2025-11-13T04:11:50Z[Europe/Paris]",
            "yesterday",
        ] {
            assert!(UtcTime::parse(bad).is_err(), "{bad} should be rejected");
        }
    }
}
