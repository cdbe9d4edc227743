//! The report's date, `--date YYYY-MM-DD`: a UTC calendar day, read strictly and written back
//! the same way.
//!
//! The calendar arithmetic is the core's ([`EventTime::parse_rfc3339`]): the day is read as
//! that midnight in RFC 3339, so an impossible date (February 30) is refused with the core's
//! words for it. The shape is checked here first, so that a mistake such as `2026-3-1` is
//! reported against what the operator typed, not against the longer text the core reads.

use std::fmt;

use portrait_core::time::{Day, EventTime};

/// The shape `--date` must have, for messages.
const SHAPE: &str = "YYYY-MM-DD, e.g. 2026-03-01";

/// A UTC calendar day given on the command line or read from ClickHouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReportDate(pub Day);

impl ReportDate {
    /// Reads `YYYY-MM-DD`: exactly four, two and two digits, a real Gregorian date.
    pub fn parse(text: &str) -> Result<ReportDate, String> {
        let bytes = text.as_bytes();
        let shaped = bytes.len() == 10
            && bytes.iter().enumerate().all(|(i, b)| match i {
                4 | 7 => *b == b'-',
                _ => b.is_ascii_digit(),
            });
        if !shaped {
            return Err(format!("{text:?} is not a date: expected {SHAPE}"));
        }
        let midnight = EventTime::parse_rfc3339(&format!("{text}T00:00:00Z"))
            .map_err(|e| format!("{text:?} is not a date: {e} (expected {SHAPE})"))?;
        Ok(ReportDate(midnight.day()))
    }

    /// The day `days` days later (earlier when negative).
    pub fn plus(self, days: i32) -> ReportDate {
        ReportDate(self.0.plus(days))
    }

    /// A ClickHouse `Date` as RowBinary carries it: days since 1970-01-01.
    pub fn from_clickhouse(days: u16) -> ReportDate {
        ReportDate(Day::new(i32::from(days)))
    }

    /// `MM-DD`, for axis labels where the year is in the title.
    pub fn month_day(self) -> String {
        self.to_string()["YYYY-".len()..].to_owned()
    }
}

/// `YYYY-MM-DD`, what [`ReportDate::parse`] reads and what the SQL's `toDate(?)` takes.
impl fmt::Display for ReportDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.start().to_string();
        f.write_str(&text[.."YYYY-MM-DD".len()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_reads_back_as_it_was_written() {
        for text in [
            "2026-03-01",
            "1970-01-01",
            "2024-02-29",
            "1969-12-31",
            "9999-12-31",
        ] {
            assert_eq!(ReportDate::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(ReportDate::parse("1970-01-02").unwrap().0, Day::new(1));
    }

    #[test]
    fn a_date_of_the_wrong_shape_is_refused_with_the_expected_shape() {
        for text in [
            "2026-3-1",
            "2026-03-01T00:00:00Z",
            "20260301",
            " 2026-03-01",
            "",
            "２０２６-03-01",
        ] {
            let err = ReportDate::parse(text).unwrap_err();
            assert!(err.contains("expected YYYY-MM-DD"), "{text}: {err}");
        }
    }

    #[test]
    fn an_impossible_date_is_refused_with_the_field_at_fault() {
        let err = ReportDate::parse("2026-02-30").unwrap_err();
        assert!(err.contains("day of month is out of range"), "{err}");
        let err = ReportDate::parse("2026-13-01").unwrap_err();
        assert!(err.contains("month is out of range"), "{err}");
    }

    #[test]
    fn clickhouse_dates_count_days_from_the_epoch() {
        assert_eq!(ReportDate::from_clickhouse(0).to_string(), "1970-01-01");
        assert_eq!(
            ReportDate::from_clickhouse(20_513).to_string(),
            "2026-03-01"
        );
        let day = ReportDate::parse("2026-03-01").unwrap();
        assert_eq!(day.plus(-29).to_string(), "2026-01-31");
        assert_eq!(day.month_day(), "03-01");
    }
}
