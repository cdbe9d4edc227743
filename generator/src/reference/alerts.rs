//! The expected alerts of one user: the lifecycle stage of the reference model replayed over
//! event time.
//!
//! `stage(t)` is the stage `profile` computes from the user's events with ts <= t, at
//! W = t. It is a step function of t that can only change at an event instant, at
//! `since + 14, 30 or 60 days` (`since` = the latest user-initiated ts, or `first_seen` before
//! any: the days_inactive thresholds), or at a UTC midnight (the day windows, the expiry of
//! `reactivated` and `new`). Evaluating it at every such candidate instant in ascending order
//! therefore finds every change:
//!
//! - `at_risk`, `dormant`, `churned`, `reactivated`: a change *into* that stage. At the first
//!   event the previous stage is `None`.
//! - `activated`: at `activated_at` (the 3rd smallest ts of the user's messages), from the stage
//!   at the previous candidate (`None` at the first event) to the stage at that instant.
//! - Cooldown: per kind, in time order, an alert fires only if none of that kind fired less
//!   than 7 days earlier; a suppressed one does not restart the cooldown.
//! - Only alerts at or before `bound` (the truth's watermark) are expected.

use std::collections::BTreeMap;
use std::iter;

use super::{
    day, frequency_drop, hard_churned, is_hard_churn, is_user_initiated, lifecycle_stage,
    reactivated_at, recent_counts, whole_days_before, ChurnSignals, ACTIVATION_MESSAGES,
};
use crate::event::{Direction, Event, EventKind};
use crate::expected_alerts::ExpectedAlert;
use crate::time::DAY_MS;

/// At most one alert per user and kind within this much event time.
const COOLDOWN_MS: i64 = 7 * DAY_MS;
/// The days_inactive thresholds of the at_risk, dormant and churned rules.
const INACTIVITY_DAYS: [i64; 3] = [14, 30, 60];
/// The stages whose entry is an alert of the same name.
const ALERTING_STAGES: [&str; 4] = ["at_risk", "dormant", "churned", "reactivated"];

/// The expected alerts of a user with `events` (in any order), at or before `bound`, sorted by
/// (at_ms, kind).
pub(crate) fn expected_alerts(user_id: &str, events: &[Event], bound: i64) -> Vec<ExpectedAlert> {
    let Some(history) = History::new(events) else {
        return Vec::new();
    };
    let stages = history
        .candidates(bound)
        .into_iter()
        .map(|t| (t, history.stage_at(t)));
    let mut alerts: Vec<ExpectedAlert> = cooldown(transitions(stages, history.activated_at))
        .into_iter()
        .map(|alert| alert.into_expected(user_id))
        .collect();
    alerts.sort();
    alerts
}

/// One user's events reduced to what the stage and activation read, each list sorted by ts.
struct History {
    /// Every event's ts.
    all: Vec<i64>,
    /// `U`.
    user: Vec<i64>,
    /// `C`.
    churn: Vec<i64>,
    /// The 3rd smallest ts of the user's messages (equal timestamps count separately).
    activated_at: Option<i64>,
}

impl History {
    /// `None` for a user without events.
    fn new(events: &[Event]) -> Option<History> {
        let sorted_ts = |keep: fn(&EventKind) -> bool| {
            let mut ts: Vec<i64> = events
                .iter()
                .filter(|e| keep(&e.kind))
                .map(|e| e.ts)
                .collect();
            ts.sort_unstable();
            ts
        };
        let messages =
            sorted_ts(|k| matches!(k, EventKind::Chat(c) if c.direction == Direction::User));
        let history = History {
            all: sorted_ts(|_| true),
            user: sorted_ts(is_user_initiated),
            churn: sorted_ts(is_hard_churn),
            activated_at: messages.get(ACTIVATION_MESSAGES - 1).copied(),
        };
        (!history.all.is_empty()).then_some(history)
    }

    fn first_seen(&self) -> i64 {
        self.all[0]
    }

    /// Every instant in [first_seen, bound] where the stage may change, ascending, without
    /// duplicates: each event ts; `since + 14, 30, 60 days` for each value `since` takes (the
    /// first event, then each user-initiated event), skipped when the next value comes first
    /// (`since` has moved on by then); each midnight after the first event's day.
    fn candidates(&self, bound: i64) -> Vec<i64> {
        let mut out = self.all.clone();
        let since: Vec<i64> = iter::once(self.first_seen())
            .chain(self.user.iter().copied())
            .collect();
        for (i, &from) in since.iter().enumerate() {
            let next = since.get(i + 1).copied();
            for days in INACTIVITY_DAYS {
                let threshold = from + days * DAY_MS;
                if next.is_none_or(|next| threshold < next) {
                    out.push(threshold);
                }
            }
        }
        out.extend((day(self.first_seen()) + 1..=day(bound)).map(|d| d * DAY_MS));
        out.retain(|&t| t <= bound);
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The lifecycle stage `profile` computes from the events with ts <= t at W = t. Apart from
    /// binary searches, it reads only the events of the last 35 days (and, for a comeback, the
    /// one before the last 7 days).
    fn stage_at(&self, t: i64) -> &'static str {
        let user = &self.user[..at_or_before(&self.user, t)];
        let churn = &self.churn[..at_or_before(&self.churn, t)];
        let last_active = user.last().copied();
        let today = day(t);
        // The day windows reach back 35 days: earlier events count in neither.
        let windows = &user[user.partition_point(|&ts| day(ts) <= today - 35)..];
        let (events_7d, events_prev_28d) = recent_counts(windows, t);
        let signals = ChurnSignals {
            hard_churned: hard_churned(churn, last_active),
            days_inactive: whole_days_before(t, last_active.unwrap_or(self.first_seen())),
            frequency_drop: frequency_drop(events_7d, events_prev_28d),
            events_prev_28d,
        };
        lifecycle_stage(
            &signals,
            recent_comeback(user, churn, t),
            self.first_seen(),
            t,
        )
    }
}

/// The number of `sorted` values <= t: the length of the prefix at instant t.
fn at_or_before(sorted: &[i64], t: i64) -> usize {
    sorted.partition_point(|&ts| ts <= t)
}

/// `reactivated_at(user, churn)` when it is on a day > day(t) − 7 (the only case where
/// `lifecycle_stage` reads it), else `None`. A comeback is the later event of a pair of
/// consecutive events, so a recent one is in a pair whose later event is recent: the pairs from
/// the event before the first recent one on, whose comebacks are all recent. The latest of them
/// is then the latest overall. A churn event between two of them is later than the first.
fn recent_comeback(user: &[i64], churn: &[i64], t: i64) -> Option<i64> {
    let first_recent = user.partition_point(|&ts| day(ts) <= day(t) - 7);
    let pairs = &user[first_recent.saturating_sub(1)..];
    let churn = match pairs.first() {
        Some(&earliest) => &churn[at_or_before(churn, earliest)..],
        None => churn,
    };
    reactivated_at(pairs, churn)
}

/// An alert before the cooldown and before it is tied to a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transition {
    at_ms: i64,
    kind: &'static str,
    stage_before: Option<&'static str>,
    stage_after: &'static str,
}

impl Transition {
    fn into_expected(self, user_id: &str) -> ExpectedAlert {
        ExpectedAlert {
            user_id: user_id.to_owned(),
            kind: self.kind.to_owned(),
            at_ms: self.at_ms,
            stage_before: self.stage_before.map(str::to_owned),
            stage_after: self.stage_after.to_owned(),
        }
    }
}

/// Every alert candidate, in time order, from the stage at each candidate instant (ascending,
/// starting at the first event): a change into an alerting stage, and `activated` at
/// `activated_at` (one of the instants when it is within the bound, as it is an event's ts).
fn transitions(
    stages: impl IntoIterator<Item = (i64, &'static str)>,
    activated_at: Option<i64>,
) -> Vec<Transition> {
    let mut out = Vec::new();
    let mut previous = None;
    for (at_ms, stage) in stages {
        let mut push = |kind| {
            out.push(Transition {
                at_ms,
                kind,
                stage_before: previous,
                stage_after: stage,
            })
        };
        if activated_at == Some(at_ms) {
            push("activated");
        }
        if previous != Some(stage) && ALERTING_STAGES.contains(&stage) {
            push(stage);
        }
        previous = Some(stage);
    }
    out
}

/// Keeps, per kind in time order, the candidates at least [`COOLDOWN_MS`] after the last one
/// of that kind that was kept.
fn cooldown(candidates: Vec<Transition>) -> Vec<Transition> {
    let mut last_fired: BTreeMap<&str, i64> = BTreeMap::new();
    candidates
        .into_iter()
        .filter(|c| {
            let fires = last_fired
                .get(c.kind)
                .is_none_or(|&fired| c.at_ms - fired >= COOLDOWN_MS);
            if fires {
                last_fired.insert(c.kind, c.at_ms);
            }
            fires
        })
        .collect()
}

/// The same alerts computed the slow, literal way: `profile` evaluated on the prefix of the
/// events at every candidate instant, with no pruning of the inactivity thresholds. `events`
/// must be sorted by ts (so that a prefix is a slice).
#[cfg(test)]
pub(crate) fn literal_alerts(user_id: &str, events: &[Event], bound: i64) -> Vec<ExpectedAlert> {
    assert!(events.windows(2).all(|w| w[0].ts <= w[1].ts));
    let Some(history) = History::new(events) else {
        return Vec::new();
    };
    let mut instants: Vec<i64> = events.iter().map(|e| e.ts).collect();
    for e in events
        .iter()
        .filter(|e| is_user_initiated(&e.kind))
        .chain(&events[..1])
    {
        instants.extend(INACTIVITY_DAYS.map(|days| e.ts + days * DAY_MS));
    }
    instants.extend((day(events[0].ts) + 1..=day(bound)).map(|d| d * DAY_MS));
    instants.retain(|&t| t <= bound);
    instants.sort_unstable();
    instants.dedup();
    let stage = |t: i64| {
        let prefix = &events[..events.partition_point(|e| e.ts <= t)];
        let stage = super::profile(user_id, prefix, t).lifecycle_stage;
        *ALERTING_STAGES
            .iter()
            .chain(&["new", "active"])
            .find(|&&s| s == stage)
            .expect("a known stage")
    };
    let stages = instants.into_iter().map(|t| (t, stage(t)));
    let mut alerts: Vec<ExpectedAlert> = cooldown(transitions(stages, history.activated_at))
        .into_iter()
        .map(|alert| alert.into_expected(user_id))
        .collect();
    alerts.sort();
    alerts
}

#[cfg(test)]
mod tests;
