use super::*;
use crate::event::AccountAction;
use crate::reference::tests::{account, at, chat, view};

/// Far enough that no test is cut short by the bound unless it means to be.
const LATE: i64 = 200 * DAY_MS;

fn alerts(events: &[Event], bound: i64) -> Vec<ExpectedAlert> {
    expected_alerts("u1", events, bound)
}

fn alert(kind: &str, at_ms: i64, before: Option<&str>, after: &str) -> ExpectedAlert {
    ExpectedAlert {
        user_id: "u1".to_owned(),
        kind: kind.to_owned(),
        at_ms,
        stage_before: before.map(str::to_owned),
        stage_after: after.to_owned(),
    }
}

/// Two page views on days 10 and 11 at 09:00, then silence.
fn quiet() -> Vec<Event> {
    vec![view(at(10, 9), None), view(at(11, 9), None)]
}

#[test]
fn a_quiet_user_goes_at_risk_dormant_and_churned_at_exact_thresholds() {
    let last_active = at(11, 9);
    assert_eq!(
        alerts(&quiet(), LATE),
        [
            alert(
                "at_risk",
                last_active + 14 * DAY_MS,
                Some("active"),
                "at_risk"
            ),
            alert(
                "dormant",
                last_active + 30 * DAY_MS,
                Some("at_risk"),
                "dormant"
            ),
            alert(
                "churned",
                last_active + 60 * DAY_MS,
                Some("dormant"),
                "churned"
            ),
        ]
    );
}

#[test]
fn new_turns_active_at_a_midnight_without_an_alert() {
    let events = [view(at(10, 9), None)];
    let history = History::new(&events).unwrap();
    // First seen on day 10: new while day(W) − 7 < 10, so until the end of day 16.
    assert_eq!(history.stage_at(at(10, 9)), "new");
    assert_eq!(history.stage_at(at(17, 0) - 1), "new");
    assert_eq!(history.stage_at(at(17, 0)), "active");
    // No alert at that midnight, but it is the stage the next alert starts from.
    assert_eq!(
        alerts(&events, at(30, 0)),
        [alert("at_risk", at(24, 9), Some("active"), "at_risk")]
    );
}

#[test]
fn a_cancel_after_activity_churns_at_that_instant() {
    let mut events = quiet();
    events.push(account(at(12, 15), AccountAction::Cancel));
    assert_eq!(
        alerts(&events, LATE),
        [alert("churned", at(12, 15), Some("new"), "churned")]
    );
    // A user whose only event is a friend delete starts out churned.
    let only = [account(at(12, 15), AccountAction::FriendDeleted)];
    assert_eq!(
        alerts(&only, LATE),
        [alert("churned", at(12, 15), None, "churned")]
    );
}

#[test]
fn a_comeback_after_30_days_reactivates_at_its_first_event() {
    let mut events = quiet();
    events.extend([view(at(50, 12), None), view(at(50, 10), None)]);
    assert_eq!(
        alerts(&events, at(60, 0)),
        [
            alert("at_risk", at(25, 9), Some("active"), "at_risk"),
            alert("dormant", at(41, 9), Some("at_risk"), "dormant"),
            alert("reactivated", at(50, 10), Some("dormant"), "reactivated"),
        ]
    );
    // Reactivated for 7 days (days 50 to 56), then active without an alert.
    let history = History::new(&events).unwrap();
    assert_eq!(history.stage_at(at(57, 0) - 1), "reactivated");
    assert_eq!(history.stage_at(at(57, 0)), "active");
}

/// One view a day on days 0 to 27, then two on day 32 and two on day 36. The frequency drop
/// makes the user at_risk at the midnights of days 31, 33 and 39, and two views bring them back
/// to active on days 32 and 36 (see the comments for the counts).
fn on_and_off() -> Vec<Event> {
    let mut events: Vec<Event> = (0..=27).map(|d| view(at(d, 9), None)).collect();
    for day in [32, 36] {
        events.extend([view(at(day, 10), None), view(at(day, 11), None)]);
    }
    events
}

#[test]
fn the_cooldown_suppresses_a_second_alert_within_7_days_and_does_not_restart() {
    let events = on_and_off();
    let history = History::new(&events).unwrap();
    let stage = |t| history.stage_at(t);
    // Day 31: 3 events in the last 7 days vs 25 in the 28 before: drop 0.52.
    assert_eq!(
        (stage(at(31, 0) - 1), stage(at(31, 0))),
        ("active", "at_risk")
    );
    // Day 32: the second view makes 4 vs 26: drop 0.38.
    assert_eq!(
        (stage(at(32, 10)), stage(at(32, 11))),
        ("at_risk", "active")
    );
    // Day 33: 3 vs 27: drop 0.56. Day 36: 4 vs 26 again. Day 39: 2 vs 25: drop 0.68.
    assert_eq!(stage(at(33, 0)), "at_risk");
    assert_eq!(
        (stage(at(36, 10)), stage(at(36, 11))),
        ("at_risk", "active")
    );
    assert_eq!(
        (stage(at(39, 0) - 1), stage(at(39, 0))),
        ("active", "at_risk")
    );

    let bound = at(45, 0);
    let stages = history
        .candidates(bound)
        .into_iter()
        .map(|t| (t, history.stage_at(t)));
    let at_risk: Vec<i64> = transitions(stages, None).iter().map(|t| t.at_ms).collect();
    assert_eq!(at_risk, [at(31, 0), at(33, 0), at(39, 0)]);
    // Day 33 is 2 days after day 31: suppressed. Day 39 is 6 days after the suppressed one but
    // 8 after the last that fired: it fires.
    assert_eq!(
        alerts(&events, bound),
        [
            alert("at_risk", at(31, 0), Some("active"), "at_risk"),
            alert("at_risk", at(39, 0), Some("active"), "at_risk"),
        ]
    );
}

#[test]
fn the_cooldown_is_exactly_7_days_per_kind() {
    let candidate = |kind, at_ms| Transition {
        at_ms,
        kind,
        stage_before: Some("active"),
        stage_after: "at_risk",
    };
    let fired = cooldown(vec![
        candidate("at_risk", 0),
        candidate("dormant", 1),
        candidate("at_risk", COOLDOWN_MS - 1),
        candidate("at_risk", COOLDOWN_MS),
        candidate("at_risk", 2 * COOLDOWN_MS - 1),
    ]);
    let times: Vec<(&str, i64)> = fired.iter().map(|t| (t.kind, t.at_ms)).collect();
    assert_eq!(
        times,
        [("at_risk", 0), ("dormant", 1), ("at_risk", COOLDOWN_MS)]
    );
}

#[test]
fn activation_is_at_the_third_user_message_whatever_the_order() {
    let events = [
        chat(at(3, 10), Direction::User, None),
        chat(at(1, 10), Direction::User, None),
        chat(at(1, 9), Direction::Staff, None),
        chat(at(2, 10), Direction::User, None),
        chat(at(5, 10), Direction::User, None),
    ];
    assert_eq!(
        alerts(&events, at(6, 0)),
        [alert("activated", at(3, 10), Some("new"), "new")]
    );
    // Three messages at the first instant: activated from no stage at all.
    let at_once: Vec<Event> = (0..3)
        .map(|_| chat(at(1, 10), Direction::User, None))
        .collect();
    assert_eq!(
        alerts(&at_once, at(6, 0)),
        [alert("activated", at(1, 10), None, "new")]
    );
}

#[test]
fn activation_and_a_transition_at_the_same_instant_are_two_alerts() {
    let mut events = quiet();
    events.extend([
        chat(at(11, 10), Direction::User, None),
        chat(at(11, 11), Direction::User, None),
        chat(at(50, 10), Direction::User, None),
    ]);
    let comeback = &alerts(&events, at(51, 0))[2..];
    assert_eq!(
        comeback,
        [
            alert("activated", at(50, 10), Some("dormant"), "reactivated"),
            alert("reactivated", at(50, 10), Some("dormant"), "reactivated"),
        ]
    );
}

#[test]
fn alerts_after_the_bound_are_not_expected() {
    let dormant_at = at(41, 9);
    assert_eq!(
        alerts(&quiet(), dormant_at)
            .iter()
            .map(|a| a.kind.as_str())
            .collect::<Vec<_>>(),
        ["at_risk", "dormant"]
    );
    assert_eq!(alerts(&quiet(), dormant_at - 1).len(), 1);
    // Events after the bound change nothing before it, and activation after it is not expected.
    let mut late = quiet();
    late.extend((0..3).map(|_| chat(dormant_at + 1, Direction::User, None)));
    assert_eq!(alerts(&late, dormant_at), alerts(&quiet(), dormant_at));
    // A bound on a midnight includes that midnight's alert.
    assert_eq!(
        alerts(&on_and_off(), at(31, 0)),
        [alert("at_risk", at(31, 0), Some("active"), "at_risk")]
    );
    // A user first seen after the bound has no alerts.
    assert_eq!(alerts(&quiet(), at(10, 9) - 1), []);
}

#[test]
fn the_literal_replay_agrees_on_hand_built_users() {
    let sorted = |mut events: Vec<Event>| {
        events.sort_by_key(|e| e.ts);
        events
    };
    let mut cancel = quiet();
    cancel.push(account(at(12, 15), AccountAction::Cancel));
    let mut comeback = quiet();
    comeback.extend([view(at(50, 10), None), view(at(50, 12), None)]);
    for events in [quiet(), cancel, comeback, on_and_off()] {
        let events = sorted(events);
        assert_eq!(
            alerts(&events, LATE),
            literal_alerts("u1", &events, LATE),
            "{events:?}"
        );
    }
}
