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
//!
//! Everything else in the row is a function of these. The two day counts are columns, so each
//! of their steps is a change; a window-edge midnight is a change if the windowed columns
//! differ there. The next change is the earliest of these.
//!
//! In consequence every user's deadline is at most a day (plus the lateness) away:
//! `days_inactive` ticks once a day for as long as no event arrives, so the sweep
//! re-evaluates each idle user about once per day of event time, and only then.

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

/// `day` + `days`, if that is still a `Day`.
fn days_after(day: Day, days: i64) -> Option<Day> {
    i32::try_from(i64::from(day.get()) + days)
        .ok()
        .map(Day::new)
}
