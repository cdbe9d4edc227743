//! Operator alerts: what fires, when, and with which id.
//!
//! An alert fires when a user's lifecycle stage moves into `at_risk`, `dormant`, `churned` or
//! `reactivated`, and when the user becomes activated (DESIGN.md, "Alerts"); and, where the
//! configuration asks for it, when a flush finds a user entered a segment (docs/segments.md). The stage is
//! followed in event time by a [`StageTimeline`] per user: `stage(t)` is the stage of the
//! events with `ts <= t` evaluated at `W = t`, and every change of that step function is a
//! transition with its own time. So a user who slides from `at_risk` to `dormant` between two
//! flushes gets both alerts, and the alerts depend on the events only, never on when the
//! pipeline flushed, how it batched, or how often it restarted (`docs/alerts.md`).
//!
//! [`Alert::id`] hashes (user, kind, transition time): a replay sends the same id again, and
//! every consumer deduplicates on it.

mod id;
mod reason;
#[cfg(test)]
mod tests;
mod timeline;

use crate::event::wire_enum;
use crate::signals::LifecycleStage;
use crate::time::{EventTime, MILLIS_PER_DAY};

pub use timeline::StageTimeline;

wire_enum! {
    /// What an alert is about: a stage entered, activation, or a segment entered. The last
    /// comes from a flush, not from a [`StageTimeline`], and stays last: a timeline keeps a
    /// time per kind before it.
    pub enum AlertKind {
        AtRisk = "at_risk",
        Dormant = "dormant",
        Churned = "churned",
        Reactivated = "reactivated",
        Activated = "activated",
        SegmentEntered = "segment_entered",
    }
}

impl AlertKind {
    /// The alert a move into `stage` raises, if any.
    fn entering(stage: LifecycleStage) -> Option<AlertKind> {
        match stage {
            LifecycleStage::AtRisk => Some(AlertKind::AtRisk),
            LifecycleStage::Dormant => Some(AlertKind::Dormant),
            LifecycleStage::Churned => Some(AlertKind::Churned),
            LifecycleStage::Reactivated => Some(AlertKind::Reactivated),
            LifecycleStage::New | LifecycleStage::Active => None,
        }
    }
}

/// The alert rules' settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRules {
    /// At most one alert per user and kind within this many days of event time. Default 7.
    pub cooldown_days: u32,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules { cooldown_days: 7 }
    }
}

impl AlertRules {
    fn cooldown_ms(&self) -> i64 {
        i64::from(self.cooldown_days) * MILLIS_PER_DAY
    }
}

/// One alert: who, what, when, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub user_id: String,
    pub kind: AlertKind,
    /// The transition time, in event time.
    pub at: EventTime,
    /// The stage just before `at`; `None` when `at` is the user's first event.
    pub stage_before: Option<LifecycleStage>,
    pub stage_after: LifecycleStage,
    /// The reason in words, e.g. "no activity for 30 days (last active 2026-03-02)".
    pub reason: String,
    pub snapshot: AlertSnapshot,
    /// For [`AlertKind::SegmentEntered`], the segments entered; empty for every other kind.
    pub segments: Vec<String>,
}

/// The signals behind an alert, as of its transition time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AlertSnapshot {
    pub days_inactive: u32,
    pub events_7d: u32,
    pub events_prev_28d: u32,
    pub frequency_drop: f64,
    pub churn_risk: f64,
    pub hard_churned: bool,
    pub messages_sent: u64,
    /// `DateTime` seconds, like the profile's column.
    pub last_active_at: Option<i64>,
}

impl Alert {
    /// The deterministic id: the same user, kind, transition time (and segments) give the
    /// same id on every run, so replays and retries can be deduplicated.
    pub fn id(&self) -> String {
        id::alert_id(&self.user_id, self.kind, self.at, &self.segments)
    }
}
