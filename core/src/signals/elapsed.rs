//! Whole days elapsed since an instant, as of the watermark.
//!
//! docs/signals.md: "`days_inactive` = max(0, ⌊(W − last_active_at) / DAY⌋)" and
//! "`rfm_recency_days` = max(0, ⌊(W − max order ts) / DAY⌋)". The clamp matters because an event
//! may be up to the lateness ahead of `W`.

use crate::time::{EventTime, MILLIS_PER_DAY};

/// max(0, ⌊(watermark − since) / DAY⌋), saturating at `u32::MAX` days.
pub(crate) fn whole_days(since: EventTime, watermark: EventTime) -> u32 {
    let days = elapsed(since, watermark).max(0);
    u32::try_from(days).unwrap_or(u32::MAX)
}

/// The smallest watermark after `watermark` at which [`whole_days`] gives another value: the
/// next multiple of a day after `since`, and never `since` itself (the clamp holds the value
/// at 0 until a whole day has passed). `None` past the range of `i64` milliseconds.
pub(crate) fn next_tick(since: EventTime, watermark: EventTime) -> Option<EventTime> {
    let days = elapsed(since, watermark).max(0) + 1;
    days.checked_mul(MILLIS_PER_DAY)
        .and_then(|ms| since.millis().checked_add(ms))
        .map(EventTime::from_millis)
}

fn elapsed(since: EventTime, watermark: EventTime) -> i64 {
    watermark
        .millis()
        .saturating_sub(since.millis())
        .div_euclid(MILLIS_PER_DAY)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{at, DAY};

    #[test]
    fn whole_days_round_down_and_never_go_negative() {
        let since = at(90, 13);
        assert_eq!(whole_days(since, at(100, 12)), 9); // 9 days 23 hours
        assert_eq!(whole_days(since, at(100, 13)), 10);
        assert_eq!(whole_days(since, since), 0);
        // An event ahead of W (within the lateness): clamped to 0.
        assert_eq!(whole_days(since, at(90, 12)), 0);
    }

    #[test]
    fn the_next_tick_is_the_next_whole_day_after_since() {
        let since = at(90, 13);
        assert_eq!(next_tick(since, at(100, 12)), Some(at(100, 13)));
        assert_eq!(next_tick(since, at(100, 13)), Some(at(101, 13)));
        // Ahead of W: the value stays 0 until a whole day has passed.
        let w = EventTime::from_millis(since.millis() - 5 * 60_000);
        assert_eq!(next_tick(since, w), Some(at(91, 13)));
        assert_eq!(
            next_tick(since, since),
            Some(EventTime::from_millis(since.millis() + DAY))
        );
        let just_before = EventTime::from_millis(at(91, 13).millis() - 1);
        assert_eq!(whole_days(since, just_before), 0);
        assert_eq!(next_tick(since, just_before), Some(at(91, 13)));
        assert_eq!(whole_days(since, at(91, 13)), 1);
    }
}
