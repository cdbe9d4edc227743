//! What the lifecycle stage reads from a user's history.
//!
//! Two places ask for the stage: the profile row ([`ProfileState::evaluate`], from every
//! event applied so far) and the alert timeline ([`crate::alerts::StageTimeline`], from the
//! events up to its cursor, which it keeps in a copy of these same fields). Both go through
//! [`Lifecycle::signals`], so an alert and a profile can never disagree on what a stage means.

use crate::signals::churn::risk::churn_risk;
use crate::signals::churn::stage::{lifecycle_stage, StageInputs};
use crate::signals::churn::{PREVIOUS_WINDOW_END, RECENT_WINDOW};
use crate::signals::{churn, elapsed, LifecycleStage, SignalConfig};
use crate::time::{Day, EventTime};

use super::days::{ActiveDay, DayLog};

#[cfg(doc)]
use super::ProfileState;

/// A borrowed view of the fields the churn columns are computed from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lifecycle<'a> {
    /// Min ts of any event.
    pub(crate) first_seen: EventTime,
    /// Max ts of a user-initiated event.
    pub(crate) last_active: Option<EventTime>,
    /// Max ts of a hard-churn event.
    pub(crate) last_churn: Option<EventTime>,
    pub(crate) days: &'a DayLog,
}

/// The churn columns at one watermark: the stage and what it was decided from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ChurnSignals {
    pub(crate) days_inactive: u32,
    pub(crate) events_7d: u32,
    pub(crate) events_prev_28d: u32,
    pub(crate) frequency_drop: f64,
    pub(crate) hard_churned: bool,
    pub(crate) stage: LifecycleStage,
    pub(crate) churn_risk: f64,
}

impl<'a> Lifecycle<'a> {
    /// `days_inactive` counts from here: the last user-initiated event, or the first event
    /// when there is none.
    pub(crate) fn inactive_since(&self) -> EventTime {
        self.last_active.unwrap_or(self.first_seen)
    }

    pub(crate) fn hard_churned(&self) -> bool {
        churn::hard_churned(self.last_churn, self.last_active)
    }

    /// The stage at watermarks after `from`, visited in ascending order, and the midnights
    /// where the windows change: see [`StageSweep`].
    pub(crate) fn stage_sweep(
        self,
        from: EventTime,
        reactivated_at: Option<EventTime>,
    ) -> StageSweep<'a, impl Iterator<Item = ActiveDay> + Clone + 'a> {
        let today = from.day();
        let (previous_since, recent_since) = window_starts(today);
        // One pass: the counts, and the iterator's place at each window's first day.
        let (mut recent, mut previous) = (0, 0);
        let mut days = self.days.active_days();
        let (mut previous_edge, mut recent_edge) = (days.clone(), days.clone());
        while let Some(day) = days.next() {
            let events = u64::from(day.events);
            if day.day > recent_since {
                recent += events;
                continue;
            }
            if day.day > previous_since {
                previous += events;
            } else {
                previous_edge = days.clone();
            }
            recent_edge = days.clone();
        }
        StageSweep {
            lifecycle: self,
            reactivated_at,
            hard_churned: self.hard_churned(),
            today,
            recent,
            previous,
            previous_edge: previous_edge.peekable(),
            recent_edge: recent_edge.peekable(),
        }
    }

    /// `reactivated_at`, which does not move with the watermark.
    pub(crate) fn reactivated_at(&self, config: &SignalConfig) -> Option<EventTime> {
        self.days.reactivated_at(config.reactivation_gap_days)
    }

    /// The churn columns at `watermark`, given `reactivated_at` (callers that evaluate
    /// several watermarks compute it once).
    pub(crate) fn signals(
        &self,
        watermark: EventTime,
        reactivated_at: Option<EventTime>,
        config: &SignalConfig,
    ) -> ChurnSignals {
        let today = watermark.day();
        let counts = churn::recent_counts(self.days.active_days(), today);
        let inputs = self.stage_inputs(watermark, counts, reactivated_at, self.hard_churned());
        let (events_7d, events_prev_28d) = counts;
        let StageInputs {
            hard_churned,
            days_inactive,
            frequency_drop,
            ..
        } = inputs;
        ChurnSignals {
            days_inactive,
            events_7d,
            events_prev_28d,
            frequency_drop,
            hard_churned,
            stage: lifecycle_stage(&inputs, today, &config.lifecycle),
            churn_risk: churn_risk(
                hard_churned,
                days_inactive,
                frequency_drop,
                config.lifecycle.churned_days,
            ),
        }
    }

    /// What the stage rules read at `watermark`, given the window counts `(events_7d,
    /// events_prev_28d)` as of its day.
    fn stage_inputs(
        &self,
        watermark: EventTime,
        (events_7d, events_prev_28d): (u32, u32),
        reactivated_at: Option<EventTime>,
        hard_churned: bool,
    ) -> StageInputs {
        StageInputs {
            hard_churned,
            days_inactive: elapsed::whole_days(self.inactive_since(), watermark),
            frequency_drop: churn::frequency_drop(events_7d, events_prev_28d),
            events_prev_28d,
            reactivated_on: reactivated_at.map(EventTime::day),
            first_seen_on: self.first_seen.day(),
        }
    }
}

/// [`Lifecycle::signals`]'s stage at watermarks that only move forward, and where the window
/// counts change. Where `signals` sums the windows over the whole day log at each watermark,
/// the sweep slides them: a day leaves each window once, so a search over many watermarks
/// costs one pass over the log, not one per watermark. The counts change only at the
/// midnight where the next day leaves a window ([`StageSweep::next_window_edge`]), the
/// instants a search for the next change visits. Same rules, same inputs: the counts are exact
/// sums (`recent_counts` saturates, which for counts is the sum capped at `u32::MAX`, as here).
pub(crate) struct StageSweep<'a, I: Iterator<Item = ActiveDay>> {
    lifecycle: Lifecycle<'a>,
    reactivated_at: Option<EventTime>,
    hard_churned: bool,
    /// The day of the last watermark (of `from` before the first).
    today: Day,
    /// The events in `events_7d`'s window and in `events_prev_28d`'s as of `today`.
    recent: u64,
    previous: u64,
    /// The first day still in `events_prev_28d`'s window or after it, and the first day still
    /// in `events_7d`'s window.
    previous_edge: std::iter::Peekable<I>,
    recent_edge: std::iter::Peekable<I>,
}

impl<I: Iterator<Item = ActiveDay>> StageSweep<'_, I> {
    /// The first midnight after `today` at which a day leaves a window: the next `d + 7` or
    /// `d + 35` over the active days `d`.
    pub(crate) fn next_window_edge(&mut self) -> Option<EventTime> {
        let recent = self.recent_edge.peek().map(|d| d.day.plus(RECENT_WINDOW));
        let previous = self
            .previous_edge
            .peek()
            .map(|d| d.day.plus(PREVIOUS_WINDOW_END));
        recent.into_iter().chain(previous).min().map(Day::start)
    }

    /// `signals(watermark, reactivated_at, config).stage`, for a `watermark` at or after the
    /// previous one.
    pub(crate) fn stage(&mut self, watermark: EventTime, config: &SignalConfig) -> LifecycleStage {
        let today = watermark.day();
        debug_assert!(today >= self.today, "watermarks in ascending order");
        self.today = today;
        let (previous_since, recent_since) = window_starts(today);
        // Into the previous window first: a day may pass both at once.
        while let Some(day) = self.recent_edge.next_if(|d| d.day <= recent_since) {
            self.recent -= u64::from(day.events);
            self.previous += u64::from(day.events);
        }
        while let Some(day) = self.previous_edge.next_if(|d| d.day <= previous_since) {
            self.previous -= u64::from(day.events);
        }
        let capped = |events: u64| u32::try_from(events).unwrap_or(u32::MAX);
        let counts = (capped(self.recent), capped(self.previous));
        let inputs =
            self.lifecycle
                .stage_inputs(watermark, counts, self.reactivated_at, self.hard_churned);
        lifecycle_stage(&inputs, today, &config.lifecycle)
    }
}

/// The last days outside `events_prev_28d`'s window and outside `events_7d`'s, as of `today`
/// (as `churn::recent_counts` counts them).
fn window_starts(today: Day) -> (Day, Day) {
    (today.plus(-PREVIOUS_WINDOW_END), today.plus(-RECENT_WINDOW))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::signals::churn::recent_counts;
    use crate::signals::SignalConfig;
    use crate::testing::{arbitrary, state_of, DAY};
    use crate::time::EventTime;

    proptest! {
        /// At ascending watermarks, the sweep gives the stage `signals` gives, and its next
        /// window edge is the first midnight at which the window counts change.
        #[test]
        fn the_sweep_follows_signals_and_finds_where_the_windows_change(
            events in arbitrary::events(80, 1..40),
            from in -10 * DAY..90 * DAY,
            steps in proptest::collection::vec(0..3 * DAY, 1..40),
        ) {
            let config = SignalConfig::default();
            let state = state_of(&events);
            let lifecycle = state.lifecycle();
            let reactivated_at = lifecycle.reactivated_at(&config);
            let first = events.iter().map(|e| e.ts).min().unwrap();
            let mut at = EventTime::from_millis(first.millis() + from);
            let mut sweep = lifecycle.stage_sweep(at, reactivated_at);
            let counts = |day| recent_counts(state.days.active_days(), day);
            for step in steps {
                let today = at.day();
                match sweep.next_window_edge() {
                    Some(edge) => {
                        let edge = edge.day();
                        prop_assert!(edge > today);
                        prop_assert_ne!(counts(edge), counts(today));
                        prop_assert_eq!(counts(edge.plus(-1)), counts(today));
                    }
                    None => prop_assert_eq!(counts(today.plus(40)), counts(today)),
                }
                at = EventTime::from_millis(at.millis() + step);
                prop_assert_eq!(
                    sweep.stage(at, &config),
                    lifecycle.signals(at, reactivated_at, &config).stage
                );
            }
        }
    }
}
