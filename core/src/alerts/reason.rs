//! An alert's reason in words, for the person who acts on it.

use super::AlertKind;
use crate::signals::LifecycleThresholds;
use crate::state::lifecycle::ChurnSignals;
use crate::time::EventTime;

/// What a reason is worded from, as of the transition.
pub(super) struct Context<'a> {
    pub(super) kind: AlertKind,
    pub(super) at: EventTime,
    pub(super) signals: &'a ChurnSignals,
    pub(super) thresholds: &'a LifecycleThresholds,
    pub(super) last_active: Option<EventTime>,
    /// `last_active` before the events at `at`, when events triggered the transition.
    pub(super) previous_active: Option<EventTime>,
    pub(super) last_churn: Option<EventTime>,
    pub(super) first_seen: EventTime,
    pub(super) messages_sent: u64,
}

/// E.g. "no activity for 30 days (last active 2026-03-02)".
pub(super) fn reason(c: &Context<'_>) -> String {
    let s = c.signals;
    match c.kind {
        AlertKind::Churned if s.hard_churned => match c.last_churn {
            Some(left) => format!(
                "deleted the staff contact or cancelled the account on {}",
                date(left)
            ),
            None => "deleted the staff contact or cancelled the account".to_owned(),
        },
        AlertKind::AtRisk if s.days_inactive < c.thresholds.at_risk_days => falling(s),
        AlertKind::AtRisk | AlertKind::Dormant | AlertKind::Churned => inactive(c),
        AlertKind::Reactivated => comeback(c),
        AlertKind::Activated => format!("sent {} messages to staff", c.messages_sent),
        AlertKind::SegmentEntered => unreachable!("a flush words its segment alerts"),
    }
}

fn inactive(c: &Context<'_>) -> String {
    let days = c.signals.days_inactive;
    match c.last_active {
        Some(last) => format!("no activity for {days} days (last active {})", date(last)),
        None => format!(
            "no activity for {days} days (first seen {}, never active since)",
            date(c.first_seen)
        ),
    }
}

fn falling(s: &ChurnSignals) -> String {
    format!(
        "activity fell by {:.0}%: {} events in the last 7 days against {} in the 28 days before",
        s.frequency_drop * 100.0,
        s.events_7d,
        s.events_prev_28d
    )
}

fn comeback(c: &Context<'_>) -> String {
    let Some(previous) = c.previous_active else {
        return format!("came back on {}", date(c.at));
    };
    if let Some(left) = c.last_churn.filter(|&left| left > previous) {
        return format!("active again after leaving on {}", date(left));
    }
    let days = (c.at.millis() - previous.millis()) / crate::time::MILLIS_PER_DAY;
    format!("active again after {days} days without activity")
}

/// `YYYY-MM-DD`, UTC.
fn date(ts: EventTime) -> String {
    let mut text = ts.to_string();
    text.truncate("YYYY-MM-DD".len());
    text
}
