//! What the stage reads of a user's history as of the cursor ([`Past`]), and the timeline's
//! own copy of it for the times it cannot be the profile state's ([`History`]).
//!
//! The profile state runs up to the alerts' lateness ahead of the cursor: it takes every
//! event as it arrives, the timeline decides instants only once every event before them is
//! in. While no event is pending the two agree (every event the state holds is at or before
//! the cursor, or cannot move the stage), so the timeline reads the state itself; only while
//! the user is active does it keep a [`History`], copied from the state before the first
//! pending event was applied, and dropped at the first decision that finds no new event.

use super::{Class, Pending};
use crate::signals::{LifecycleStage, SignalConfig};
use crate::state::days::DayLog;
use crate::state::lifecycle::Lifecycle;
use crate::state::maybe_time::MaybeTime;
use crate::state::ProfileState;
use crate::time::{Day, EventTime, MILLIS_PER_DAY};

/// The fields the stage and the alerts' reasons read, borrowed from the profile state or
/// from a [`History`].
#[derive(Debug, Clone, Copy)]
pub(super) struct Past<'a> {
    pub(super) lifecycle: Lifecycle<'a>,
    pub(super) messages_sent: u64,
}

/// The timeline's own copy of the fields [`Past`] reads, as of the cursor.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct History {
    pub(super) first_seen: EventTime,
    pub(super) last_active: MaybeTime,
    pub(super) last_churn: MaybeTime,
    pub(super) days: DayLog,
    pub(super) messages_sent: u64,
}

impl History {
    /// The history of a first event at `ts`, before it is applied.
    pub(super) fn new(ts: EventTime) -> Self {
        History {
            first_seen: ts,
            last_active: MaybeTime::NONE,
            last_churn: MaybeTime::NONE,
            days: DayLog::default(),
            messages_sent: 0,
        }
    }

    /// A copy of `past`.
    pub(super) fn of(past: Past<'_>) -> Self {
        let Lifecycle {
            first_seen,
            last_active,
            last_churn,
            days,
        } = past.lifecycle;
        History {
            first_seen,
            last_active: last_active.into(),
            last_churn: last_churn.into(),
            days: days.clone(),
            messages_sent: past.messages_sent,
        }
    }

    /// Takes in one event, as [`ProfileState::apply`] does for these fields.
    pub(super) fn apply(&mut self, ts: EventTime, class: Class) {
        self.first_seen = self.first_seen.min(ts);
        match class {
            Class::Seen => {}
            Class::Active | Class::Message => {
                self.last_active.keep_latest(ts);
                self.days.record_active(ts);
                if class == Class::Message {
                    self.messages_sent += 1;
                }
            }
            Class::Churn => {
                self.last_churn.keep_latest(ts);
                self.days.record_churn(ts);
            }
        }
    }

    pub(super) fn past(&self) -> Past<'_> {
        Past {
            lifecycle: Lifecycle {
                first_seen: self.first_seen,
                last_active: self.last_active.get(),
                last_churn: self.last_churn.get(),
                days: &self.days,
            },
            messages_sent: self.messages_sent,
        }
    }
}

impl<'a> Past<'a> {
    /// The profile state's fields: the history as of the cursor while nothing is pending.
    pub(super) fn of_state(state: &'a ProfileState) -> Self {
        Past {
            lifecycle: state.lifecycle(),
            messages_sent: state.messages_sent(),
        }
    }

    /// The first instant in `(after, limit]` at which time alone moves the stage from
    /// `stage`, the stage at `after`.
    pub(super) fn next_stage_change(
        self,
        stage: LifecycleStage,
        after: EventTime,
        limit: EventTime,
        config: &SignalConfig,
        reactivated: &mut Reactivated,
    ) -> Option<EventTime> {
        let t = &config.lifecycle;
        let lifecycle = self.lifecycle;
        let since = lifecycle.inactive_since().millis();
        let thresholds = [t.at_risk_days, t.dormant_days, t.churned_days]
            .map(|days| EventTime::from_millis(since + i64::from(days) * MILLIS_PER_DAY));
        // Within a day nothing but a threshold can change the stage: most calls (between two
        // events of one day) end here, without allocating.
        let earliest = thresholds
            .into_iter()
            .filter(|&at| at > after)
            .fold(after.day().plus(1).start(), EventTime::min);
        if earliest > limit {
            return None;
        }

        // The other candidates: the midnights where a window edge passes an active day, and
        // where `reactivated` or `new` expire. The stage is evaluated at each, in time order,
        // until it differs: the thresholds and expiries, sorted here, merged with the window
        // edges the sweep finds as it slides the windows along.
        let reactivated_at = reactivated.get(self, config);
        let expiries = [
            reactivated_at.map(EventTime::day),
            Some(lifecycle.first_seen.day()),
        ]
        .into_iter()
        .flatten()
        .filter_map(|day| i32::try_from(i64::from(day.get()) + i64::from(t.recent_days)).ok())
        .map(|day| Day::new(day).start());
        let mut fixed = [EventTime::MAX; 5];
        let mut len = 0;
        for at in thresholds.into_iter().chain(expiries) {
            fixed[len] = at;
            len += 1;
        }
        fixed[..len].sort_unstable();
        let mut fixed = fixed[..len]
            .iter()
            .copied()
            .skip_while(|&at| at <= after)
            .peekable();
        let mut sweep = lifecycle.stage_sweep(after, reactivated_at);
        loop {
            let at = fixed
                .peek()
                .copied()
                .into_iter()
                .chain(sweep.next_window_edge())
                .min()
                .filter(|&at| at <= limit)?;
            while fixed.next_if_eq(&at).is_some() {}
            // Past the window edge too, if `at` is one: the sweep moves to `at`'s day.
            if sweep.stage(at, config) != stage {
                return Some(at);
            }
        }
    }

    /// Whether the events of one instant `at`, just applied, leave `stage(at)` as the last
    /// settled instant had it (`stage`) and raise nothing, so that settling can be skipped.
    /// `previous_active` is `last_active` before them, `activated` whether the activation
    /// alert's instant is decided. Two cases are certain without computing the signals:
    ///
    /// - A user-initiated event on a day that already had one, in `reactivated`, `new` or
    ///   `active`. The stage was decided earlier on this day (at the day's first
    ///   user-initiated instant, which is never skipped, or later), so with the same day:
    ///   `days_inactive` was and is 0, the user was and is not hard-churned (no churn comes
    ///   after the new event), the comeback scan gives the same `reactivated_at` (the day's
    ///   first event, which opens any comeback, is unchanged), `first_seen` is the same, and
    ///   `events_7d` only grew, which lowers `frequency_drop`: no rule above the stage can
    ///   start to match, and the rules below read what they read before.
    /// - Hard-churn events and nothing user-initiated, in `churned`: the user is hard-churned
    ///   (the churn is after every activity) and stays `churned`.
    ///
    /// Unless the activation alert is due, which needs the signals for its snapshot.
    pub(super) fn unmoved_by(
        self,
        (stage, activated): (Option<LifecycleStage>, bool),
        instant: &[Pending],
        at: EventTime,
        previous_active: Option<EventTime>,
        config: &SignalConfig,
    ) -> bool {
        if !activated && self.messages_sent >= u64::from(config.activation_messages) {
            return false;
        }
        let has = |wanted: &[Class]| instant.iter().any(|p| wanted.contains(&p.class));
        if has(&[Class::Active, Class::Message]) {
            previous_active.is_some_and(|previous| previous.day() == at.day())
                && matches!(
                    stage,
                    Some(
                        LifecycleStage::Reactivated | LifecycleStage::New | LifecycleStage::Active
                    )
                )
        } else {
            has(&[Class::Churn]) && stage == Some(LifecycleStage::Churned)
        }
    }
}

/// `reactivated_at` of the history as it stands, once computed, kept between the instants of
/// one [`StageTimeline::advance`](super::StageTimeline::advance): the comeback scan is the
/// dearest part of the signals. It holds across the changes time alone makes (no event is
/// applied) and across the instants [`Past::unmoved_by`] passes (their events leave it as it
/// was); `advance` forgets it before settling any other instant, and starts each call without
/// it (late events are taken in between calls).
#[derive(Debug, Default)]
pub(super) struct Reactivated(Option<Option<EventTime>>);

impl Reactivated {
    pub(super) fn get(&mut self, past: Past<'_>, config: &SignalConfig) -> Option<EventTime> {
        *self
            .0
            .get_or_insert_with(|| past.lifecycle.reactivated_at(config))
    }

    /// The history changed in a way that may move it.
    pub(super) fn forget(&mut self) {
        self.0 = None;
    }
}
