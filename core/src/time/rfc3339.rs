//! RFC 3339 date-times (section 5.6, `date-time`), read and written by hand.
//!
//! The grammar is fixed-width except for the fraction, so a cursor over bytes is shorter than a
//! dependency and reports exactly where a producer's text goes wrong. Dates are proleptic
//! Gregorian; the day-number conversions are Howard Hinnant's `days_from_civil` /
//! `civil_from_days`, exact for every year this module accepts.

use std::fmt;

use super::{TimeError, MILLIS_PER_DAY};

/// Epoch milliseconds of `text`, before the caller's range check.
pub(super) fn parse(text: &str) -> Result<i64, TimeError> {
    let mut cursor = Cursor {
        bytes: text.as_bytes(),
        at: 0,
    };
    let year = cursor.number(4, "a 4-digit year")?;
    cursor.expect(b"-", "`-`")?;
    let month = cursor.number(2, "a 2-digit month")?;
    cursor.expect(b"-", "`-`")?;
    let day = cursor.number(2, "a 2-digit day")?;
    cursor.expect(b"Tt", "`T`")?;
    let hour = cursor.number(2, "2-digit hours")?;
    cursor.expect(b":", "`:`")?;
    let minute = cursor.number(2, "2-digit minutes")?;
    cursor.expect(b":", "`:`")?;
    let second = cursor.number(2, "2-digit seconds")?;
    let millis = cursor.fraction_millis()?;
    let offset_minutes = cursor.offset_minutes()?;
    if cursor.at != cursor.bytes.len() {
        return Err(cursor.syntax("the end of the timestamp"));
    }

    check(month, 1..=12, "month")?;
    check(day, 1..=days_in_month(year, month), "day of month")?;
    check(hour, 0..=23, "hour")?;
    check(minute, 0..=59, "minute")?;
    check(second, 0..=59, "second (leap seconds are not supported)")?;

    let days = days_from_civil(year, month, day);
    let local_minutes = (days * 24 + hour) * 60 + minute;
    Ok(((local_minutes - offset_minutes) * 60 + second) * 1000 + millis)
}

/// Writes `millis` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub(super) fn write(f: &mut fmt::Formatter<'_>, millis: i64) -> fmt::Result {
    let (year, month, day) = civil_from_days(millis.div_euclid(MILLIS_PER_DAY));
    let in_day = millis.rem_euclid(MILLIS_PER_DAY);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
    write!(
        f,
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}Z"
    )
}

/// Reads the fixed-width grammar left to right, remembering the byte offset for errors.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn syntax(&self, expected: &'static str) -> TimeError {
        TimeError::Syntax {
            at: self.at,
            expected,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Consumes one byte that must be one of `allowed`.
    fn expect(&mut self, allowed: &[u8], expected: &'static str) -> Result<u8, TimeError> {
        match self.peek() {
            Some(byte) if allowed.contains(&byte) => {
                self.at += 1;
                Ok(byte)
            }
            _ => Err(self.syntax(expected)),
        }
    }

    /// Consumes exactly `width` ASCII digits.
    fn number(&mut self, width: usize, expected: &'static str) -> Result<i64, TimeError> {
        let mut value = 0;
        for _ in 0..width {
            let digit = self.expect(b"0123456789", expected)?;
            value = value * 10 + i64::from(digit - b'0');
        }
        Ok(value)
    }

    /// An optional `.` and 1 to 9 digits, truncated to milliseconds.
    fn fraction_millis(&mut self) -> Result<i64, TimeError> {
        if self.peek() != Some(b'.') {
            return Ok(0);
        }
        self.at += 1;
        let start = self.at;
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.at += 1;
        }
        let digits = &self.bytes[start..self.at];
        if digits.is_empty() {
            return Err(self.syntax("a digit after `.`"));
        }
        if digits.len() > 9 {
            return Err(TimeError::FieldOutOfRange {
                field: "fractional seconds (at most 9 digits)",
            });
        }
        Ok(digits
            .iter()
            .chain(b"00")
            .take(3)
            .fold(0, |millis, digit| millis * 10 + i64::from(digit - b'0')))
    }

    /// `Z` or `±hh:mm`, as minutes east of UTC (`-00:00` is UTC too).
    fn offset_minutes(&mut self) -> Result<i64, TimeError> {
        let sign = match self.expect(b"Zz+-", "`Z` or an offset like `+08:00`")? {
            b'+' => 1,
            b'-' => -1,
            _ => return Ok(0),
        };
        let hours = self.number(2, "2-digit offset hours")?;
        self.expect(b":", "`:` in the offset")?;
        let minutes = self.number(2, "2-digit offset minutes")?;
        check(hours, 0..=23, "offset hours")?;
        check(minutes, 0..=59, "offset minutes")?;
        Ok(sign * (hours * 60 + minutes))
    }
}

fn check(
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    field: &'static str,
) -> Result<(), TimeError> {
    if range.contains(&value) {
        Ok(())
    } else {
        Err(TimeError::FieldOutOfRange { field })
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    // Years start in March so that the leap day is the last day of the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
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
    use super::super::EventTime;
    use super::*;
    use proptest::prelude::*;

    fn millis(text: &str) -> i64 {
        EventTime::parse_rfc3339(text).unwrap().millis()
    }

    #[test]
    fn utc_instants_parse_to_epoch_millis() {
        assert_eq!(millis("1970-01-01T00:00:00Z"), 0);
        assert_eq!(millis("2024-05-01T12:00:00Z"), 1_714_564_800_000);
        assert_eq!(millis("1969-12-31T23:59:59.999Z"), -1);
    }

    #[test]
    fn rfc3339_with_offset_equals_utc_instant() {
        let utc = millis("2024-05-01T12:00:00Z");
        assert_eq!(millis("2024-05-01T20:00:00+08:00"), utc);
        assert_eq!(millis("2024-05-01T06:30:00-05:30"), utc);
        assert_eq!(millis("2024-05-01T12:00:00-00:00"), utc);
        // An offset can move the instant to another UTC day.
        assert_eq!(millis("2024-05-02T01:00:00+13:00"), utc);
    }

    #[test]
    fn fractional_seconds_are_truncated_to_millis() {
        assert_eq!(millis("1970-01-01T00:00:00.1Z"), 100);
        assert_eq!(millis("1970-01-01T00:00:00.12Z"), 120);
        assert_eq!(millis("1970-01-01T00:00:00.123456789Z"), 123);
        assert_eq!(millis("1970-01-01T00:00:00.9999Z"), 999);
    }

    #[test]
    fn lowercase_separator_and_zulu_are_accepted() {
        assert_eq!(
            millis("2024-05-01t12:00:00z"),
            millis("2024-05-01T12:00:00Z")
        );
    }

    #[test]
    fn leap_day_exists_only_in_leap_years() {
        assert!(EventTime::parse_rfc3339("2024-02-29T00:00:00Z").is_ok());
        assert!(EventTime::parse_rfc3339("2000-02-29T00:00:00Z").is_ok());
        let not_leap = Err(TimeError::FieldOutOfRange {
            field: "day of month",
        });
        assert_eq!(EventTime::parse_rfc3339("2023-02-29T00:00:00Z"), not_leap);
        assert_eq!(EventTime::parse_rfc3339("1900-02-29T00:00:00Z"), not_leap);
    }

    #[test]
    fn impossible_components_name_the_component() {
        let field = |text| match EventTime::parse_rfc3339(text) {
            Err(TimeError::FieldOutOfRange { field }) => field,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(field("2024-13-01T00:00:00Z"), "month");
        assert_eq!(field("2024-00-01T00:00:00Z"), "month");
        assert_eq!(field("2024-04-31T00:00:00Z"), "day of month");
        assert_eq!(field("2024-04-01T24:00:00Z"), "hour");
        assert_eq!(field("2024-04-01T00:60:00Z"), "minute");
        assert_eq!(
            field("2016-12-31T23:59:60Z"),
            "second (leap seconds are not supported)"
        );
        assert_eq!(field("2024-04-01T00:00:00+24:00"), "offset hours");
        assert_eq!(
            field("2024-04-01T00:00:00.1234567891Z"),
            "fractional seconds (at most 9 digits)"
        );
    }

    #[test]
    fn malformed_text_reports_position_and_expectation() {
        let syntax = |text| match EventTime::parse_rfc3339(text) {
            Err(TimeError::Syntax { at, expected }) => (at, expected),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(syntax(""), (0, "a 4-digit year"));
        assert_eq!(syntax("2024-05-01 12:00:00Z"), (10, "`T`"));
        assert_eq!(
            syntax("2024-05-01T12:00:00"),
            (19, "`Z` or an offset like `+08:00`")
        );
        assert_eq!(syntax("2024-05-01T12:00:00.Z"), (20, "a digit after `.`"));
        assert_eq!(
            syntax("2024-05-01T12:00:00+0800"),
            (22, "`:` in the offset")
        );
        assert_eq!(
            syntax("2024-05-01T12:00:00Z "),
            (20, "the end of the timestamp")
        );
        assert_eq!(syntax("2024-5-01T12:00:00Z"), (6, "a 2-digit month"));
        assert_eq!(syntax("+2024-05-01T12:00:00Z"), (0, "a 4-digit year"));
    }

    #[test]
    fn offsets_past_the_year_range_are_out_of_range() {
        assert_eq!(
            EventTime::parse_rfc3339("0000-01-01T00:00:00+00:01"),
            Err(TimeError::OutOfRange)
        );
        assert_eq!(
            EventTime::parse_rfc3339("9999-12-31T23:59:59-00:01"),
            Err(TimeError::OutOfRange)
        );
    }

    #[test]
    fn display_writes_utc_with_millis() {
        assert_eq!(
            EventTime::from_millis(0).to_string(),
            "1970-01-01T00:00:00.000Z"
        );
        assert_eq!(
            EventTime::from_millis(-1).to_string(),
            "1969-12-31T23:59:59.999Z"
        );
        assert_eq!(EventTime::MAX.to_string(), "9999-12-31T23:59:59.999Z");
    }

    proptest! {
        #[test]
        fn display_then_parse_is_identity(ms in EventTime::MIN.millis()..=EventTime::MAX.millis()) {
            let time = EventTime::from_millis(ms);
            prop_assert_eq!(EventTime::parse_rfc3339(&time.to_string()), Ok(time));
        }

        #[test]
        fn parsing_arbitrary_text_never_panics(text in ".{0,40}") {
            let _ = EventTime::parse_rfc3339(&text);
        }

        #[test]
        fn parsing_timestamp_shaped_text_never_panics(text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,12})?([Zz]|[+-][0-9]{2}:[0-9]{2})?") {
            let _ = EventTime::parse_rfc3339(&text);
        }
    }
}
