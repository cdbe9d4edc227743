//! [`ProfileState::next_change`]: when a user's profile changes without any new event.
//!
//! A churning user sends nothing; the timer sweep notices them by keying every user by the
//! watermark at which their profile will next differ, and re-evaluating only the users whose
//! deadline the watermark has passed (DESIGN.md, "Data flow").
//!
//! Between events the profile depends on `W` through three step functions only:
//! - `day(W)`, for the day windows (`active_days_30d`, `events_7d`, `events_prev_28d`) and the
//!   `reactivated` and `new` rules. It matters only at the midnights where a window edge
//!   passes a day that counts: an active day `d` moves from the last 7 days to the 28 before at
//!   `d + 7`, leaves the 30 days at `d + 30` and the 35 at `d + 35`; `reactivated` and `new`
//!   expire `recent_days` after their day.
//! - ⌊(W − last activity) / DAY⌋ for `days_inactive`: it steps every whole day after the last
//!   user-initiated event (or the first event).
//! - ⌊(W − last order) / DAY⌋ for `rfm_recency_days`: likewise from the last order.
//! - max(day(W), day(last order)) for `customer_age_days`: a buyer ages by a day at every
//!   midnight from the last order's day on, and the churn model's columns with it.
//!
//! Everything else in the row is a function of these. The day counts are columns, so each of
//! their steps is a change; a window-edge midnight is a change if the windowed columns differ
//! there. The next change is the earliest of these.
//!
//! In consequence every user's deadline is at most a day (plus the lateness) away:
//! `days_inactive` ticks once a day for as long as no event arrives, so the sweep
//! re-evaluates each idle user about once per day of event time, and only then.

use sha2::{Digest, Sha256};

use super::ProfileState;
use crate::signals::activity::ACTIVE_DAYS_WINDOW;
use crate::signals::churn::{PREVIOUS_WINDOW_END, RECENT_WINDOW};
use crate::signals::{elapsed, SignalConfig};
use crate::time::{Day, EventTime};

impl ProfileState {
    /// The smallest watermark after `watermark` at which [`ProfileState::evaluate`] gives a
    /// different profile, if no event arrives in between. Exact: the profile is the same at
    /// every watermark in `[watermark, next_change)` and differs at `next_change`. `None` only
    /// when the next change would lie beyond the range of `i64` milliseconds.
    pub fn next_change(&self, watermark: EventTime, config: &SignalConfig) -> Option<EventTime> {
        let reactivated_at = self.reactivated_at(config);
        let now = self.windowed(watermark, reactivated_at, config);
        let tick = [
            elapsed::next_tick(self.lifecycle().inactive_since(), watermark),
            self.order_totals()
                .last_order
                .get()
                .and_then(|last| elapsed::next_tick(last, watermark)),
            self.order_totals()
                .last_order
                .get()
                .map(|last| watermark.day().max(last.day()).plus(1).start()),
        ]
        .into_iter()
        .flatten()
        .min();

        // Only the midnights before the tick can come first, and the tick is at most a day
        // away: walk the window edges in order from today, the next one found by a scan
        // (nothing to allocate or sort), and stop at the first that changes the profile.
        let mut after = watermark.day();
        let edge = loop {
            let Some(day) = self
                .window_edges(reactivated_at, config)
                .filter(|&day| day > after)
                .min()
            else {
                break None;
            };
            let midnight = day.start();
            if tick.is_some_and(|tick| midnight >= tick) {
                break None;
            }
            if self.windowed(midnight, reactivated_at, config) != now {
                break Some(midnight);
            }
            after = day;
        };
        edge.or(tick)
    }

    /// The days at whose start a day window or a recent-days rule can change.
    fn window_edges<'a>(
        &'a self,
        reactivated_at: Option<EventTime>,
        config: &SignalConfig,
    ) -> impl Iterator<Item = Day> + 'a {
        let recent_days = i64::from(config.lifecycle.recent_days);
        let windows = self.days.active_days().flat_map(|d| {
            [RECENT_WINDOW, ACTIVE_DAYS_WINDOW, PREVIOUS_WINDOW_END].map(|w| d.day.plus(w))
        });
        let recent = [
            reactivated_at.map(EventTime::day),
            Some(self.first_seen.day()),
        ]
        .into_iter()
        .flatten()
        .filter_map(move |day| days_after(day, recent_days));
        windows.chain(recent)
    }
}

/// What [`ProfileState::next_change`] and
/// [`StageTimeline::next_due`](crate::alerts::StageTimeline::next_due) return depends on, beyond
/// the state: the rules coded here and there, and `config`. Bump it whenever either function
/// may return something else for the same state and configuration.
const DEADLINE_RULES: u32 = 2;

/// A fingerprint of what a user's deadlines are computed with: the rules' version
/// (`DEADLINE_RULES`) and every signal setting (`config`'s `Debug` text, which lists every
/// field and has no unordered collection). `profile_state` stores it beside each user's next
/// deadline and alert due time, so that a restore trusts the stored times only if they were
/// computed exactly as this process would compute them, and decodes the user to compute them
/// otherwise. Never 0: that is the value of rows written before deadlines were stored.
pub fn deadlines_fingerprint(config: &SignalConfig) -> u64 {
    let mut hash = Sha256::new();
    hash.update(DEADLINE_RULES.to_le_bytes());
    hash.update(format!("{config:?}").as_bytes());
    let digest = hash.finalize();
    let prefix: [u8; 8] = digest[..8]
        .try_into()
        .expect("a SHA-256 digest has 32 bytes");
    u64::from_le_bytes(prefix).max(1)
}

/// `day` + `days`, if that is still a `Day`.
fn days_after(day: Day, days: i64) -> Option<Day> {
    i32::try_from(i64::from(day.get()) + days)
        .ok()
        .map(Day::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_every_setting_and_nothing_else() {
        let config = SignalConfig::default();
        let fingerprint = deadlines_fingerprint(&config);
        assert_ne!(fingerprint, 0, "0 marks rows without stored deadlines");
        assert_eq!(deadlines_fingerprint(&config.clone()), fingerprint);
        let mut stricter = config.clone();
        stricter.lifecycle.recent_days += 1;
        assert_ne!(deadlines_fingerprint(&stricter), fingerprint);
        let mut keywords = config;
        keywords.promo_keywords = crate::signals::Keywords::new(["sale"]).unwrap();
        assert_ne!(deadlines_fingerprint(&keywords), fingerprint);
    }
}
