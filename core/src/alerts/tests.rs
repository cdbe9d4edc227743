//! The timeline against its definition: `stage(t)` = the stage of the events with `ts <= t`
//! at `W = t`, checked by brute force (a fresh `ProfileState` per instant), and alerts that do
//! not depend on how often the pipeline advances.

use proptest::prelude::*;

use super::{Alert, AlertKind, AlertRules};
use crate::churn_model::BgNbdParams;
use crate::event::AccountAction::Cancel;
use crate::event::Direction::User;
use crate::event::Event;
use crate::signals::{LifecycleStage, SignalConfig};
use crate::testing::{account, arbitrary, at, chat, state_of, view, Followed, DAY, HOUR};
use crate::time::EventTime;

/// (kind, transition time, stage before, stage after): what identifies an alert and its move.
type Seen = (AlertKind, EventTime, Option<LifecycleStage>, LifecycleStage);

fn seen(alert: &Alert) -> Seen {
    (alert.kind, alert.at, alert.stage_before, alert.stage_after)
}

/// Records `events` (in the given order) and advances once to each of `stops`.
fn run(events: &[Event<'_>], stops: &[EventTime]) -> Vec<Alert> {
    let (config, rules) = (SignalConfig::default(), AlertRules::default());
    let mut user = Followed::default();
    for event in events {
        assert!(user.record(event), "no stop yet, so nothing is late");
    }
    let mut alerts = Vec::new();
    for &stop in stops {
        user.advance(stop, &config, &rules, |alert| alerts.push(alert));
    }
    alerts
}

fn kinds_and_times(alerts: &[Alert]) -> Vec<(&'static str, EventTime)> {
    alerts.iter().map(|a| (a.kind.as_str(), a.at)).collect()
}

#[test]
fn a_user_who_goes_quiet_is_at_risk_dormant_then_churned_to_the_millisecond() {
    let last = at(100, 9);
    let alerts = run(&[view(at(100, 8)), view(last)], &[at(200, 0)]);
    assert_eq!(
        kinds_and_times(&alerts),
        [
            ("at_risk", EventTime::from_millis(last.millis() + 14 * DAY)),
            ("dormant", EventTime::from_millis(last.millis() + 30 * DAY)),
            ("churned", EventTime::from_millis(last.millis() + 60 * DAY)),
        ]
    );
    // new -> active at the midnight 7 days after the first day raises nothing, but it is the
    // stage the user leaves.
    assert_eq!(alerts[0].stage_before, Some(LifecycleStage::Active));
    assert_eq!(alerts[1].stage_before, Some(LifecycleStage::AtRisk));
    assert_eq!(
        alerts[2].reason,
        "no activity for 60 days (last active 1970-04-11)"
    );
    assert_eq!(alerts[2].snapshot.days_inactive, 60);
    assert_eq!(alerts[2].snapshot.churn_risk, 1.0);
}

#[test]
fn alerts_do_not_depend_on_how_often_the_timeline_advances() {
    let events = [
        view(at(100, 8)),
        chat(at(101, 9), User, None),
        account(at(103, 10), Cancel),
        view(at(150, 12)),
        chat(at(150, 13), User, None),
        chat(at(150, 14), User, None),
    ];
    let once = run(&events, &[at(300, 0)]);
    let hourly: Vec<EventTime> = (100 * 24..300 * 24).map(|h| at(0, h)).collect();
    let often = run(&events, &hourly);
    assert_eq!(once, often);
    assert_eq!(
        kinds_and_times(&once),
        [
            ("churned", at(103, 10)),
            ("reactivated", at(150, 12)),
            ("activated", at(150, 14)),
            (
                "at_risk",
                EventTime::from_millis(at(150, 14).millis() + 14 * DAY)
            ),
            (
                "dormant",
                EventTime::from_millis(at(150, 14).millis() + 30 * DAY)
            ),
            (
                "churned",
                EventTime::from_millis(at(150, 14).millis() + 60 * DAY)
            ),
        ]
    );
    assert_eq!(
        once[1].reason, "active again after leaving on 1970-04-14",
        "the comeback names the churn it ended"
    );
    assert_eq!(once[2].reason, "sent 3 messages to staff");
}

#[test]
fn events_after_the_decision_point_wait_until_it_passes_them() {
    let (config, rules) = (SignalConfig::default(), AlertRules::default());
    let mut user = Followed::default();
    let mut alerts = Vec::new();
    user.record(&view(at(100, 8)));
    user.advance(at(160, 0), &config, &rules, |a| alerts.push(a));
    assert_eq!(alerts.len(), 2, "at_risk and dormant so far");

    // A comeback on day 161 is ahead of the cursor: not decided yet. Churn at 60 days comes
    // first, and is still decided as if the comeback were not there.
    assert!(user.record(&view(at(161, 5))));
    assert_eq!(user.next_due(&config), Some(at(160, 8)));
    user.advance(at(161, 4), &config, &rules, |a| alerts.push(a));
    assert_eq!(kinds_and_times(&alerts[2..]), [("churned", at(160, 8))]);
    assert_eq!(user.next_due(&config), Some(at(161, 5)));
    user.advance(at(161, 5), &config, &rules, |a| alerts.push(a));
    assert_eq!(kinds_and_times(&alerts[3..]), [("reactivated", at(161, 5))]);
    assert_eq!(
        alerts[3].reason,
        "active again after 60 days without activity"
    );
}

#[test]
fn a_late_event_counts_and_its_change_is_raised_at_the_cursor() {
    let (config, rules) = (SignalConfig::default(), AlertRules::default());
    let mut user = Followed::default();
    let mut alerts = Vec::new();
    user.record(&view(at(100, 8)));
    user.advance(at(120, 0), &config, &rules, |a| alerts.push(a));
    assert_eq!(kinds_and_times(&alerts), [("at_risk", at(114, 8))]);

    // A cancel on day 110 arrives after the cursor passed day 120: too late to be placed in
    // time, so the churn is raised when it is noticed.
    assert!(!user.record(&account(at(110, 0), Cancel)));
    assert_eq!(user.next_due(&config), Some(at(120, 0)));
    user.advance(at(120, 0), &config, &rules, |a| alerts.push(a));
    assert_eq!(kinds_and_times(&alerts[1..]), [("churned", at(120, 0))]);
}

#[test]
fn the_cooldown_holds_back_a_second_alert_of_a_kind_within_seven_days() {
    // Steady activity, then a week at a quarter of the rate: at_risk by frequency drop at a
    // midnight; a busy day ends it; the drop comes back within the week and again later.
    let mut events = Vec::new();
    for day in 100..128 {
        events.push(view(at(day, 10)));
        events.push(view(at(day, 11)));
    }
    for day in [128, 132] {
        events.push(view(at(day, 10)));
    }
    let alerts = run(&events, &[at(160, 0)]);
    let at_risk: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::AtRisk)
        .map(|a| a.at)
        .collect();
    assert!(!at_risk.is_empty());
    for pair in at_risk.windows(2) {
        assert!(
            pair[1].millis() - pair[0].millis() >= 7 * DAY,
            "{at_risk:?}"
        );
    }
}

#[test]
fn next_due_is_the_next_change_time_alone_makes() {
    let config = SignalConfig::default();
    let mut user = Followed::default();
    user.record(&view(at(100, 8)));
    assert_eq!(user.next_due(&config), Some(at(100, 8)));
    user.advance(at(100, 9), &config, &AlertRules::default(), |_| {});
    // new until the midnight starting day 107.
    assert_eq!(user.next_due(&config), Some(at(107, 0)));
}

/// Every instant where the stage may change: the events, the inactivity thresholds after each
/// of them, and every midnight.
fn candidates(events: &[Event<'_>], until: EventTime) -> Vec<EventTime> {
    let first = events.iter().map(|e| e.ts).min().expect("events");
    let mut all: Vec<EventTime> = events.iter().map(|e| e.ts).collect();
    for e in events {
        for days in [14, 30, 60] {
            all.push(EventTime::from_millis(e.ts.millis() + days * DAY));
        }
    }
    all.extend((first.day().get() + 1..=until.day().get()).map(|d| at(d.into(), 0)));
    all.retain(|&t| t <= until);
    all.sort_unstable();
    all.dedup();
    all
}

/// The definition, by brute force: the stage at every candidate instant from a fresh state of
/// the events up to it, and an alert wherever it moves into an alerting stage or activation
/// happens, subject to the cooldown.
fn brute_force(events: &[Event<'_>], until: EventTime) -> Vec<Seen> {
    let config = SignalConfig::default();
    let cooldown = i64::from(AlertRules::default().cooldown_days) * DAY;
    let mut fired: Vec<(AlertKind, EventTime)> = Vec::new();
    let mut raised = Vec::new();
    let mut before: Option<LifecycleStage> = None;
    let mut was_activated = false;
    for t in candidates(events, until) {
        let upto: Vec<Event<'_>> = events.iter().filter(|e| e.ts <= t).cloned().collect();
        let profile = state_of(&upto).evaluate("u", t, &config, &BgNbdParams::default());
        let stage = profile.lifecycle_stage;
        let entered = (before != Some(stage))
            .then(|| super::AlertKind::entering(stage))
            .flatten();
        let activated = profile.activated && !was_activated;
        was_activated = profile.activated;
        for kind in [entered, activated.then_some(AlertKind::Activated)]
            .into_iter()
            .flatten()
        {
            let last = fired.iter().rev().find(|(k, _)| *k == kind);
            if last.is_none_or(|(_, last)| t.millis() - last.millis() >= cooldown) {
                fired.push((kind, t));
                raised.push((kind, t, before, stage));
            }
        }
        before = Some(stage);
    }
    raised
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_timeline_follows_the_definition_whatever_the_advance_steps(
        events in arbitrary::events(120, 1..25),
        steps in proptest::collection::vec(1..20 * DAY, 1..30),
    ) {
        let first = events.iter().map(|e| e.ts).min().unwrap();
        let until = at(first.day().get().into(), 0);
        let until = EventTime::from_millis(until.millis() + 200 * DAY);
        let mut stops: Vec<EventTime> = steps
            .iter()
            .scan(first.millis() - HOUR, |t, step| {
                *t += step;
                Some(EventTime::from_millis(*t))
            })
            .filter(|&t| t < until)
            .collect();
        stops.push(until);
        let stepped: Vec<Seen> = run(&events, &stops).iter().map(seen).collect();
        prop_assert_eq!(&stepped, &brute_force(&events, until));
    }
}

/// The timeline's state as stored: the `profile_state` blob's part for it.
fn stored(user: &Followed) -> Vec<u8> {
    let mut blob = Vec::new();
    if let Some(state) = &user.state {
        let mut w = crate::state::codec::Writer::new(&mut blob);
        user.timeline.encode(state, &mut w);
    }
    blob
}

/// Valid stage thresholds around the defaults (`at_risk_days <= dormant_days <=
/// churned_days`, `churned_days >= 1`), so that the fast paths meet other configurations of
/// the rules than the default one.
fn config() -> impl Strategy<Value = SignalConfig> {
    (1..5u32, 0..20u32, 0..20u32, 1..30u32, 0..10u32, 0..=4u32).prop_map(
        |(activation, at_risk, dormant, churned, recent, min_previous)| {
            let mut config = SignalConfig {
                activation_messages: activation,
                ..SignalConfig::default()
            };
            let t = &mut config.lifecycle;
            t.at_risk_days = at_risk;
            t.dormant_days = at_risk + dormant;
            t.churned_days = at_risk + dormant + churned;
            (t.recent_days, t.at_risk_min_previous_events) = (recent, min_previous);
            config
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// `advance` and `next_due` skip the instants that cannot move the stage, slide the
    /// windows over the candidates of a change and read the profile state where it is the
    /// history; the reference settles every instant, sums the windows at every candidate and
    /// decides from a copy of the history. Fed the same events with the same decision points
    /// (ascending, at random places in the arrival order, so that some events come after their
    /// time is decided), both raise the same alerts in the same order, give the same next due
    /// time and store the same timeline, after every step. Some users have events in their
    /// state from before their timeline began.
    #[test]
    fn the_fast_paths_decide_exactly_what_the_reference_decides(
        events in prop_oneof![arbitrary::events(150, 1..40), arbitrary::events(40, 1..80)],
        stops in proptest::collection::vec(
            (any::<proptest::sample::Index>(), -DAY..160 * DAY),
            0..12,
        ),
        config in prop_oneof![Just(SignalConfig::default()), config()],
        cooldown_days in 0..10u32,
        before_alerts in prop_oneof![3 => Just(0usize), 1 => 1..5usize],
    ) {
        let rules = AlertRules { cooldown_days };
        let first = events.iter().map(|e| e.ts).min().unwrap();
        let before_alerts = before_alerts.min(events.len() - 1);
        let (before_alerts, events) = events.split_at(before_alerts);
        let mut stops: Vec<(usize, EventTime)> = stops
            .iter()
            .map(|(place, offset)| {
                (place.index(events.len() + 1), EventTime::from_millis(first.millis() + offset))
            })
            .collect();
        stops.sort_unstable_by_key(|&(place, _)| place);
        let times = {
            let mut times: Vec<EventTime> = stops.iter().map(|&(_, at)| at).collect();
            times.sort_unstable();
            times
        };
        for (stop, at) in stops.iter_mut().zip(times) {
            stop.1 = at;
        }
        let end = EventTime::from_millis(first.millis() + 200 * DAY);
        stops.push((events.len(), end));

        let mut fast = Followed::begun_after(before_alerts);
        let mut reference = fast.clone();
        let mut recorded = 0;
        for &(place, at) in &stops {
            for event in &events[recorded..place] {
                prop_assert_eq!(fast.record(event), reference.record(event));
            }
            recorded = recorded.max(place);
            let (mut by_fast, mut by_reference) = (Vec::new(), Vec::new());
            fast.advance_by(false, at, &config, &rules, |a| by_fast.push(a));
            reference.advance_by(true, at, &config, &rules, |a| by_reference.push(a));
            prop_assert_eq!(by_fast, by_reference);
            prop_assert_eq!(fast.next_due_by(false, &config), reference.next_due_by(true, &config));
            prop_assert_eq!(stored(&fast), stored(&reference));
            prop_assert_eq!(&fast.timeline, &reference.timeline);
        }
    }
}
