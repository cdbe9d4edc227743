//! Event time: when something happened, as the producer says, in UTC epoch milliseconds.
//!
//! [`EventTime`] is never wall-clock time; the pipeline only ever compares event times with each
//! other and with the watermark, which is what makes a replay deterministic. [`Day`] is the UTC
//! calendar day all windows are defined on (`day(t) = ⌊t / 86 400 000⌋`, DESIGN.md "Time").
//!
//! The contract accepts `ts` in two forms, both parsed here: an RFC 3339 string
//! ([`EventTime::parse_rfc3339`]) or integer epoch milliseconds ([`EventTime::try_from_millis`]).
//! Both are limited to the years 0000..=9999, the span an RFC 3339 string can write, so every
//! accepted instant has both forms and a producer's unit mistake (microseconds or nanoseconds
//! sent as milliseconds) is rejected instead of landing thousands of years in the future.

mod rfc3339;

use std::fmt;

/// Milliseconds in a UTC day (days have no leap seconds in epoch time).
pub const MILLIS_PER_DAY: i64 = 86_400_000;

/// A point in event time: milliseconds since 1970-01-01T00:00:00Z.
///
/// Decoded events always hold a time in [`EventTime::MIN`]..=[`EventTime::MAX`];
/// [`EventTime::from_millis`] builds any other instant the pipeline computes (a watermark).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventTime(i64);

impl EventTime {
    /// 0000-01-01T00:00:00.000Z, the earliest instant an RFC 3339 string can write.
    pub const MIN: EventTime = EventTime(-62_167_219_200_000);
    /// 9999-12-31T23:59:59.999Z, the latest instant an RFC 3339 string can write.
    pub const MAX: EventTime = EventTime(253_402_300_799_999);

    /// Wraps epoch milliseconds without a range check, for instants the pipeline computes.
    pub const fn from_millis(millis: i64) -> Self {
        EventTime(millis)
    }

    /// Accepts epoch milliseconds from the wire: the instant must lie in `MIN..=MAX`.
    pub fn try_from_millis(millis: i64) -> Result<Self, TimeError> {
        if (Self::MIN.0..=Self::MAX.0).contains(&millis) {
            Ok(EventTime(millis))
        } else {
            Err(TimeError::OutOfRange)
        }
    }

    /// Parses an RFC 3339 date-time (`2024-05-01T12:00:00Z`, `2024-05-01T20:00:00.123+08:00`).
    ///
    /// Fractional seconds may have up to 9 digits and are truncated to milliseconds. Leap
    /// seconds (`:60`) are rejected: epoch milliseconds cannot represent them.
    pub fn parse_rfc3339(text: &str) -> Result<Self, TimeError> {
        let millis = rfc3339::parse(text)?;
        Self::try_from_millis(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn millis(self) -> i64 {
        self.0
    }

    /// The UTC calendar day this instant falls on (flooring, so instants before 1970 work too).
    pub const fn day(self) -> Day {
        // Cannot truncate: |i64::MAX / MILLIS_PER_DAY| < i32::MAX.
        Day(self.0.div_euclid(MILLIS_PER_DAY) as i32)
    }

    /// Milliseconds since the start of [`EventTime::day`], below [`MILLIS_PER_DAY`].
    pub const fn millis_of_day(self) -> u32 {
        // Cannot truncate: the remainder is below MILLIS_PER_DAY < u32::MAX.
        self.0.rem_euclid(MILLIS_PER_DAY) as u32
    }
}

/// Writes RFC 3339 in UTC with milliseconds, e.g. `2024-05-01T12:00:00.000Z`; within
/// `MIN..=MAX` this is exactly what [`EventTime::parse_rfc3339`] reads back.
impl fmt::Display for EventTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        rfc3339::write(f, self.0)
    }
}

/// A UTC calendar day: days since 1970-01-01 (negative before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i32);

impl Day {
    /// Wraps a day number (days since 1970-01-01).
    pub const fn new(days: i32) -> Self {
        Day(days)
    }

    /// Days since 1970-01-01.
    pub const fn get(self) -> i32 {
        self.0
    }

    /// The first millisecond of this day.
    pub const fn start(self) -> EventTime {
        EventTime(self.0 as i64 * MILLIS_PER_DAY)
    }

    /// The instant `millis` milliseconds after this day's start (the inverse of
    /// [`EventTime::day`] with [`EventTime::millis_of_day`]).
    pub const fn at(self, millis: u32) -> EventTime {
        EventTime(self.0 as i64 * MILLIS_PER_DAY + millis as i64)
    }

    /// The day `days` days later (earlier when negative).
    pub const fn plus(self, days: i32) -> Day {
        Day(self.0 + days)
    }

    /// How many days `self` is after `earlier` (negative when before).
    pub const fn since(self, earlier: Day) -> i32 {
        self.0 - earlier.0
    }
}

/// Why a timestamp was not accepted; shown to the producer in the dead-letter reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    /// The text is not shaped like RFC 3339; `expected` names what was wanted at byte `at`.
    #[error(
        "expected {expected} at byte {at} (RFC 3339 looks like 2024-05-01T12:00:00Z or \
         2024-05-01T20:00:00.123+08:00)"
    )]
    Syntax { at: usize, expected: &'static str },
    /// A component is well formed but impossible, such as month 13 or February 30.
    #[error("{field} is out of range")]
    FieldOutOfRange { field: &'static str },
    /// A JSON number with a fraction or exponent where integer milliseconds are expected.
    #[error("epoch milliseconds must be an integer")]
    NotAnInteger,
    /// The instant lies outside 0000-01-01T00:00:00Z..=9999-12-31T23:59:59.999Z.
    #[error(
        "outside 0000-01-01T00:00:00Z..=9999-12-31T23:59:59.999Z (is it in micro- or nanoseconds?)"
    )]
    OutOfRange,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_floors_toward_negative_infinity() {
        assert_eq!(EventTime::from_millis(0).day(), Day::new(0));
        assert_eq!(
            EventTime::from_millis(MILLIS_PER_DAY - 1).day(),
            Day::new(0)
        );
        assert_eq!(EventTime::from_millis(MILLIS_PER_DAY).day(), Day::new(1));
        assert_eq!(EventTime::from_millis(-1).day(), Day::new(-1));
        assert_eq!(EventTime::from_millis(-MILLIS_PER_DAY).day(), Day::new(-1));
    }

    #[test]
    fn day_start_is_its_first_millisecond() {
        let day = EventTime::from_millis(1_714_564_800_123).day();
        assert_eq!(day.start().day(), day);
        assert_eq!(
            EventTime::from_millis(day.start().millis() - 1).day().get(),
            day.get() - 1
        );
    }

    #[test]
    fn an_instant_is_its_day_and_its_millis_of_day() {
        for millis in [
            0,
            1,
            MILLIS_PER_DAY - 1,
            MILLIS_PER_DAY,
            -1,
            1_714_564_800_123,
        ] {
            let t = EventTime::from_millis(millis);
            assert_eq!(t.day().at(t.millis_of_day()), t);
        }
        assert_eq!(EventTime::from_millis(-1).millis_of_day(), 86_399_999);
        assert_eq!(Day::new(10).plus(-3), Day::new(7));
        assert_eq!(Day::new(10).since(Day::new(40)), -30);
    }

    #[test]
    fn range_constants_are_the_rfc3339_extremes() {
        assert_eq!(
            EventTime::parse_rfc3339("0000-01-01T00:00:00Z"),
            Ok(EventTime::MIN)
        );
        assert_eq!(
            EventTime::parse_rfc3339("9999-12-31T23:59:59.999999999Z"),
            Ok(EventTime::MAX)
        );
    }

    #[test]
    fn millis_outside_the_range_are_rejected() {
        assert_eq!(
            EventTime::try_from_millis(EventTime::MAX.millis()),
            Ok(EventTime::MAX)
        );
        assert_eq!(
            EventTime::try_from_millis(EventTime::MIN.millis()),
            Ok(EventTime::MIN)
        );
        assert_eq!(
            EventTime::try_from_millis(EventTime::MAX.millis() + 1),
            Err(TimeError::OutOfRange)
        );
        assert_eq!(
            EventTime::try_from_millis(EventTime::MIN.millis() - 1),
            Err(TimeError::OutOfRange)
        );
        // Microseconds sent as milliseconds.
        assert_eq!(
            EventTime::try_from_millis(1_714_564_800_000_000),
            Err(TimeError::OutOfRange)
        );
    }
}
