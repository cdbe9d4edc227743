//! Event time as the contract writes it: epoch milliseconds, UTC days, and RFC 3339 strings.
//!
//! The formatter is written out here (days-to-civil-date arithmetic) rather than taken from a
//! date crate, so the generator stays small and shares no time code with the pipeline it checks.

use serde::{Serialize, Serializer};

/// One UTC day in milliseconds: `day(t)` = ⌊t / DAY_MS⌋ in docs/signals.md.
pub const DAY_MS: i64 = 86_400_000;

/// 2026-01-01T00:00:00Z, the default start of a generated data set.
pub const DEFAULT_START_MS: i64 = 1_767_225_600_000;

/// The days a data set spans: day `d` (0-based) starts at `start_ms + d · DAY_MS`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Calendar {
    pub start_ms: i64,
    pub days: u32,
}

impl Calendar {
    pub fn day_start(&self, day: u32) -> i64 {
        self.start_ms + i64::from(day) * DAY_MS
    }

    /// The instant the simulated period ends: nothing that would happen later is generated.
    pub fn end_ms(&self) -> i64 {
        self.day_start(self.days)
    }
}

/// How an event's `ts` is written on the wire. The contract accepts both forms, and the
/// offset form must denote the same instant as the UTC one, so the generator mixes all three.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsFormat {
    /// An integer: epoch milliseconds.
    EpochMillis,
    /// `2026-01-01T00:00:00.000Z`
    Utc,
    /// `2026-01-01T08:00:00.000+08:00`: the same instant, written in China's local time.
    China,
}

impl TsFormat {
    const CHINA_OFFSET_MINUTES: i64 = 8 * 60;
}

/// An event time paired with the form it is written in.
pub(crate) struct WireTs {
    pub ms: i64,
    pub format: TsFormat,
}

impl Serialize for WireTs {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.format {
            TsFormat::EpochMillis => serializer.serialize_i64(self.ms),
            TsFormat::Utc => serializer.serialize_str(&rfc3339(self.ms, 0)),
            TsFormat::China => {
                serializer.serialize_str(&rfc3339(self.ms, TsFormat::CHINA_OFFSET_MINUTES))
            }
        }
    }
}

/// Formats `ms` as RFC 3339 with milliseconds, in the local time of a zone `offset_minutes`
/// east of UTC (`Z` for offset 0).
pub(crate) fn rfc3339(ms: i64, offset_minutes: i64) -> String {
    let local = ms + offset_minutes * 60_000;
    let (year, month, day) = civil_from_days(local.div_euclid(DAY_MS));
    let in_day = local.rem_euclid(DAY_MS);
    let (hour, minute) = (in_day / 3_600_000, in_day / 60_000 % 60);
    let (second, milli) = (in_day / 1000 % 60, in_day % 1000);
    let zone = if offset_minutes == 0 {
        "Z".to_owned()
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let abs = offset_minutes.abs();
        format!("{sign}{:02}:{:02}", abs / 60, abs % 60)
    };
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{milli:03}{zone}")
}

/// The proleptic Gregorian date of a day number (days since 1970-01-01), after Howard
/// Hinnant's `civil_from_days`: shift to eras of 400 years starting on 0000-03-01, so leap days
/// fall at the end of each year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_zero_is_1970() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn default_start_is_new_year_2026() {
        // 56 years from 1970, 14 of them leap (1972..=2024): 20 454 days.
        assert_eq!(DEFAULT_START_MS, 20_454 * DAY_MS);
        assert_eq!(rfc3339(DEFAULT_START_MS, 0), "2026-01-01T00:00:00.000Z");
    }

    #[test]
    fn china_offset_writes_the_same_instant_in_local_time() {
        let ms = DEFAULT_START_MS - 1; // 2025-12-31T23:59:59.999Z
        assert_eq!(rfc3339(ms, 0), "2025-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(ms, 480), "2026-01-01T07:59:59.999+08:00");
    }

    #[test]
    fn leap_day_and_negative_offsets() {
        // 2024-02-29T12:34:56.789Z = 19 782 days + 45 296.789 s.
        let ms = 19_782 * DAY_MS + 45_296_789;
        assert_eq!(rfc3339(ms, 0), "2024-02-29T12:34:56.789Z");
        assert_eq!(rfc3339(ms, -330), "2024-02-29T07:04:56.789-05:30");
    }

    #[test]
    fn times_before_1970_floor_to_the_previous_day() {
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn wire_ts_writes_integers_or_strings() {
        let json = |format| {
            serde_json::to_string(&WireTs {
                ms: DEFAULT_START_MS,
                format,
            })
        };
        assert_eq!(json(TsFormat::EpochMillis).unwrap(), "1767225600000");
        assert_eq!(json(TsFormat::Utc).unwrap(), "\"2026-01-01T00:00:00.000Z\"");
        assert_eq!(
            json(TsFormat::China).unwrap(),
            "\"2026-01-01T08:00:00.000+08:00\""
        );
    }
}
