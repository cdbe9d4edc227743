//! `lifecycle_stage`: one word for where the user stands.
//!
//! docs/signals.md: "`lifecycle_stage`, the first rule that matches:
//! 1. `churned`: `hard_churned`, or `days_inactive >= 60`
//! 2. `dormant`: `days_inactive >= 30`
//! 3. `at_risk`: `days_inactive >= 14`, or `frequency_drop >= 0.5` and `events_prev_28d >= 4`
//! 4. `reactivated`: `reactivated_at` is set and `day(reactivated_at) > day(W) − 7`
//! 5. `new`: `day(first_seen_at) > day(W) − 7`
//! 6. `active`"

use serde::{Deserialize, Serialize};

use crate::event::wire_enum;
use crate::time::Day;

wire_enum! {
    /// The `lifecycle_stage` column. Alerts fire on transitions into `at_risk`, `dormant`,
    /// `churned` and `reactivated`.
    pub enum LifecycleStage {
        Churned = "churned",
        Dormant = "dormant",
        AtRisk = "at_risk",
        Reactivated = "reactivated",
        New = "new",
        Active = "active",
    }
}

/// The thresholds of the stage rules (`[signals.lifecycle]`); defaults from docs/signals.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifecycleThresholds {
    /// `churned` from this many days inactive; also where `churn_risk` reaches 1. Default 60.
    pub churned_days: u32,
    /// `dormant` from this many days inactive. Default 30.
    pub dormant_days: u32,
    /// `at_risk` from this many days inactive. Default 14.
    pub at_risk_days: u32,
    /// `at_risk` also from this `frequency_drop`, when `events_prev_28d` is at least
    /// `at_risk_min_previous_events`. Default 0.5.
    pub at_risk_frequency_drop: f64,
    /// See `at_risk_frequency_drop`: a drop on too little history is noise. Default 4.
    pub at_risk_min_previous_events: u32,
    /// `reactivated` and `new` last this many days: the day of the comeback or of the first
    /// event must be after `day(W) − recent_days`. Default 7.
    pub recent_days: u32,
}

impl Default for LifecycleThresholds {
    fn default() -> Self {
        LifecycleThresholds {
            churned_days: 60,
            dormant_days: 30,
            at_risk_days: 14,
            at_risk_frequency_drop: 0.5,
            at_risk_min_previous_events: 4,
            recent_days: 7,
        }
    }
}

/// What the stage rules read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StageInputs {
    pub(crate) hard_churned: bool,
    pub(crate) days_inactive: u32,
    pub(crate) frequency_drop: f64,
    pub(crate) events_prev_28d: u32,
    /// `day(reactivated_at)`.
    pub(crate) reactivated_on: Option<Day>,
    /// `day(first_seen_at)`.
    pub(crate) first_seen_on: Day,
}

/// The first rule that matches, as of the day `today` = `day(W)`.
pub(crate) fn lifecycle_stage(
    s: &StageInputs,
    today: Day,
    t: &LifecycleThresholds,
) -> LifecycleStage {
    let recent = |day: Day| i64::from(today.since(day)) < i64::from(t.recent_days);
    if s.hard_churned || s.days_inactive >= t.churned_days {
        LifecycleStage::Churned
    } else if s.days_inactive >= t.dormant_days {
        LifecycleStage::Dormant
    } else if s.days_inactive >= t.at_risk_days
        || (s.frequency_drop >= t.at_risk_frequency_drop
            && s.events_prev_28d >= t.at_risk_min_previous_events)
    {
        LifecycleStage::AtRisk
    } else if s.reactivated_on.is_some_and(recent) {
        LifecycleStage::Reactivated
    } else if recent(s.first_seen_on) {
        LifecycleStage::New
    } else {
        LifecycleStage::Active
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AccountAction::Cancel;
    use crate::testing::{account, at, profile, view};

    const TODAY: Day = Day::new(100);

    fn inputs(days_inactive: u32, frequency_drop: f64, events_prev_28d: u32) -> StageInputs {
        StageInputs {
            hard_churned: false,
            days_inactive,
            frequency_drop,
            events_prev_28d,
            reactivated_on: None,
            first_seen_on: Day::new(10),
        }
    }

    fn stage(s: StageInputs) -> &'static str {
        lifecycle_stage(&s, TODAY, &LifecycleThresholds::default()).as_str()
    }

    #[test]
    fn inactivity_thresholds_apply_in_order() {
        assert_eq!(stage(inputs(60, 0.0, 0)), "churned");
        assert_eq!(stage(inputs(59, 0.0, 0)), "dormant");
        assert_eq!(stage(inputs(30, 1.0, 9)), "dormant");
        assert_eq!(stage(inputs(29, 0.0, 0)), "at_risk");
        assert_eq!(stage(inputs(14, 0.0, 0)), "at_risk");
        assert_eq!(stage(inputs(13, 0.0, 0)), "active");
    }

    #[test]
    fn a_frequency_drop_needs_enough_history_to_be_a_risk() {
        assert_eq!(stage(inputs(0, 0.5, 4)), "at_risk");
        assert_eq!(stage(inputs(0, 1.0, 3)), "active");
        assert_eq!(stage(inputs(0, 0.49, 40)), "active");
    }

    #[test]
    fn hard_churn_outranks_everything() {
        let s = StageInputs {
            hard_churned: true,
            first_seen_on: TODAY,
            ..inputs(0, 0.0, 0)
        };
        assert_eq!(stage(s), "churned");
    }

    #[test]
    fn reactivated_lasts_seven_days_and_outranks_new() {
        let reactivated = |day, first_seen| StageInputs {
            reactivated_on: Some(Day::new(day)),
            first_seen_on: Day::new(first_seen),
            ..inputs(0, 0.0, 0)
        };
        // Day 94 = day(W) − 6 is recent, day 93 is not.
        assert_eq!(stage(reactivated(94, 10)), "reactivated");
        assert_eq!(stage(reactivated(93, 10)), "active");
        assert_eq!(stage(reactivated(95, 94)), "reactivated");
        // Inactivity outranks a recent comeback.
        let inactive = StageInputs {
            days_inactive: 14,
            ..reactivated(99, 10)
        };
        assert_eq!(stage(inactive), "at_risk");
    }

    #[test]
    fn new_lasts_seven_days_from_the_first_event() {
        let first_seen = |day| StageInputs {
            first_seen_on: Day::new(day),
            ..inputs(0, 0.0, 0)
        };
        assert_eq!(stage(first_seen(94)), "new");
        assert_eq!(stage(first_seen(93)), "active");
    }

    #[test]
    fn stage_of_a_user_from_events() {
        // Active on days 60 and 95 (a comeback after 35 days), evaluated on day 100.
        let events = [view(at(60, 1)), view(at(95, 1))];
        assert_eq!(
            profile(&events, at(100, 0)).lifecycle_stage,
            LifecycleStage::Reactivated
        );
        // Seen first 3 days ago.
        assert_eq!(
            profile(&[view(at(97, 1))], at(100, 0)).lifecycle_stage,
            LifecycleStage::New
        );
        let cancelled = [view(at(99, 1)), account(at(99, 2), Cancel)];
        assert_eq!(
            profile(&cancelled, at(100, 0)).lifecycle_stage,
            LifecycleStage::Churned
        );
    }

    #[test]
    fn names_round_trip() {
        assert_eq!(
            LifecycleStage::NAMES,
            [
                "churned",
                "dormant",
                "at_risk",
                "reactivated",
                "new",
                "active"
            ]
        );
        for &stage in LifecycleStage::ALL {
            assert_eq!(LifecycleStage::parse(stage.as_str()), Some(stage));
        }
        assert_eq!(LifecycleStage::parse("Active"), None);
    }
}
