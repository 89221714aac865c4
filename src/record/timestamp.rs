//! Reading the index's upload times and writing them the way Django's JSON serializer does.
//!
//! Hand-written rather than taken from a date crate: one fixed input shape (RFC 3339 date-time)
//! does not justify a new dependency, and the `time` release already in the lock file needs
//! Rust 1.88, newer than this crate's declared `rust-version`.

use std::fmt;

use anyhow::{bail, Context, Result};

/// An instant in UTC with microsecond precision (what Python's `datetime` holds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct UtcTime {
    micros_since_epoch: i64,
}

impl UtcTime {
    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM]` (a space may replace `T`, as in
    /// Python's `isoformat(" ")`). No offset means UTC, as the index's `upload_time` field is
    /// written. Fraction digits past the sixth are dropped, as Python does.
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
        let days = self.micros_since_epoch.div_euclid(MICROS_PER_DAY);
        let in_day = self.micros_since_epoch.rem_euclid(MICROS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let seconds = in_day / 1_000_000;
        let micros = in_day % 1_000_000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        )?;
        if micros != 0 {
            write!(f, ".{:03}", micros / 1000)?;
        }
        f.write_str("Z")
    }
}

const MICROS_PER_DAY: i64 = 86_400 * 1_000_000;

fn parse_inner(text: &str) -> Result<UtcTime> {
    let mut cursor = Cursor { text, at: 0 };
    let year = cursor.digits(4)?;
    cursor.eat(b"-")?;
    let month = cursor.digits(2)?;
    cursor.eat(b"-")?;
    let day = cursor.digits(2)?;
    cursor.eat(b"Tt ")?;
    let hour = cursor.digits(2)?;
    cursor.eat(b":")?;
    let minute = cursor.digits(2)?;
    cursor.eat(b":")?;
    let second = cursor.digits(2)?;
    let mut micros = 0;
    if cursor.peek() == Some(b'.') {
        cursor.at += 1;
        let start = cursor.at;
        while cursor.peek().is_some_and(|b| b.is_ascii_digit()) {
            cursor.at += 1;
        }
        let fraction = &text[start..cursor.at];
        if fraction.is_empty() {
            bail!("a '.' must be followed by fraction digits");
        }
        let kept = &fraction[..fraction.len().min(6)];
        micros = kept.parse::<i64>()? * 10_i64.pow(6 - kept.len() as u32);
    }
    let offset_minutes = match cursor.peek() {
        None => 0,
        Some(b'Z' | b'z') => {
            cursor.at += 1;
            0
        }
        Some(sign @ (b'+' | b'-')) => {
            cursor.at += 1;
            let hours = cursor.digits(2)?;
            cursor.eat(b":")?;
            let minutes = cursor.digits(2)?;
            if hours > 23 || minutes > 59 {
                bail!("the UTC offset is out of range");
            }
            let total = hours * 60 + minutes;
            if sign == b'-' {
                -total
            } else {
                total
            }
        }
        Some(_) => bail!("unexpected text after the seconds"),
    };
    if cursor.at != text.len() {
        bail!("unexpected text after the UTC offset");
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        bail!("there is no such date");
    }
    if hour > 23 || minute > 59 || second > 59 {
        bail!("there is no such time of day");
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Ok(UtcTime {
        micros_since_epoch: seconds * 1_000_000 + micros,
    })
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn digits(&mut self, count: usize) -> Result<i64> {
        let end = self.at + count;
        let field = self
            .text
            .get(self.at..end)
            .filter(|field| field.bytes().all(|b| b.is_ascii_digit()))
            .with_context(|| format!("expected {count} digits at offset {}", self.at))?;
        self.at = end;
        Ok(field.parse()?)
    }

    fn eat(&mut self, allowed: &[u8]) -> Result<()> {
        match self.peek() {
            Some(found) if allowed.contains(&found) => {
                self.at += 1;
                Ok(())
            }
            _ => bail!(
                "expected {:?} at offset {}",
                String::from_utf8_lossy(allowed),
                self.at
            ),
        }
    }
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 in the proleptic Gregorian calendar, counting in 400-year eras
/// (146 097 days each) from a March-based year so that the leap day falls last.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let march_month = (month + 9) % 12;
    let day_of_year = (153 * march_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let shifted = days + 719_468;
    let era = shifted.div_euclid(146_097);
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let march_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * march_month + 2) / 5 + 1;
    let month = if march_month < 10 {
        march_month + 3
    } else {
        march_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
            "yesterday",
        ] {
            assert!(UtcTime::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn calendar_round_trips() {
        for days in [-719_468, -1, 0, 59, 60, 10_957, 20_405, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
    }
}
