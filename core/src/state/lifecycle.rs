//! What the lifecycle stage reads from a user's history.
//!
//! Two places ask for the stage: the profile row ([`ProfileState::evaluate`], from every
//! event applied so far) and the alert timeline ([`crate::alerts::StageTimeline`], from the
//! events up to its cursor, which it keeps in a copy of these same fields). Both go through
//! [`Lifecycle::signals`], so an alert and a profile can never disagree on what a stage means.

use crate::signals::churn::risk::churn_risk;
use crate::signals::churn::stage::{lifecycle_stage, StageInputs};
use crate::signals::{churn, elapsed, LifecycleStage, SignalConfig};
use crate::time::EventTime;

use super::days::DayLog;

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

impl Lifecycle<'_> {
    /// `days_inactive` counts from here: the last user-initiated event, or the first event
    /// when there is none.
    pub(crate) fn inactive_since(&self) -> EventTime {
        self.last_active.unwrap_or(self.first_seen)
    }

    pub(crate) fn hard_churned(&self) -> bool {
        churn::hard_churned(self.last_churn, self.last_active)
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
        let days_inactive = elapsed::whole_days(self.inactive_since(), watermark);
        let (events_7d, events_prev_28d) = churn::recent_counts(self.days.active_days(), today);
        let frequency_drop = churn::frequency_drop(events_7d, events_prev_28d);
        let hard_churned = self.hard_churned();
        let inputs = StageInputs {
            hard_churned,
            days_inactive,
            frequency_drop,
            events_prev_28d,
            reactivated_on: reactivated_at.map(EventTime::day),
            first_seen_on: self.first_seen.day(),
        };
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
}
