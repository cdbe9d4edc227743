//! Churn: is the user leaving, or gone?
//!
//! docs/signals.md, "Churn" (the stage, the risk score and comebacks have their own modules):
//! - "`days_inactive` = max(0, ⌊(W − last_active_at) / DAY⌋); when `U` is empty, counted from
//!   `first_seen_at` instead." (see [`crate::signals::elapsed`])
//! - "`events_7d`: number of events in `U` with `day(ts) > day(W) − 7`."
//! - "`events_prev_28d`: number of events in `U` with `day(W) − 35 < day(ts) <= day(W) − 7`."
//! - "`frequency_drop` = clamp(1 − (events_7d / 7) / (events_prev_28d / 28), 0, 1); 0 when
//!   `events_prev_28d` = 0."
//! - "`hard_churned`: `C` is non-empty and either `U` is empty or max ts over `C` >
//!   `last_active_at`."
//! - "`marketing_averse`: some `direction = user` chat message has a `text` containing,
//!   compared case-insensitively (Unicode lower case), one of 退订, 别发了, 不要再发, 取消订阅,
//!   骚扰, unsubscribe, stop. ... The text is never stored."
//!
//! "Hard-churn events (`C` below): `account` with action `friend_deleted` or `cancel`."

pub(crate) mod probability;
pub(crate) mod reactivation;
pub(crate) mod risk;
pub(crate) mod stage;

use crate::event::{AccountAction, ChatMessage, Direction, EventKind};
use crate::signals::Keywords;
use crate::state::days::ActiveDay;
use crate::time::{Day, EventTime};

/// `events_7d` counts the days `d > day(W) − 7`.
pub(crate) const RECENT_WINDOW: i32 = 7;
/// `events_prev_28d` counts the days `day(W) − 35 < d <= day(W) − 7`.
pub(crate) const PREVIOUS_WINDOW_END: i32 = 35;

/// Whether the event is in `C`, the hard-churn events.
pub(crate) fn is_hard_churn(kind: &EventKind<'_>) -> bool {
    matches!(kind, EventKind::Account(account)
        if matches!(account.action, AccountAction::FriendDeleted | AccountAction::Cancel))
}

/// Whether this message makes its sender `marketing_averse`.
pub(crate) fn is_opt_out(chat: &ChatMessage<'_>, keywords: &Keywords) -> bool {
    chat.direction == Direction::User && chat.text.as_deref().is_some_and(|t| keywords.found_in(t))
}

/// `hard_churned`, from the latest `C` and `U` times.
pub(crate) fn hard_churned(last_churn: Option<EventTime>, last_active: Option<EventTime>) -> bool {
    match (last_churn, last_active) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(churn), Some(active)) => churn > active,
    }
}

/// `events_7d` and `events_prev_28d` as of the day `today` = `day(W)`.
pub(crate) fn recent_counts(days: impl IntoIterator<Item = ActiveDay>, today: Day) -> (u32, u32) {
    let recent_since = today.plus(-RECENT_WINDOW);
    let previous_since = today.plus(-PREVIOUS_WINDOW_END);
    days.into_iter()
        .fold((0u32, 0u32), |(recent, previous), d| {
            if d.day > recent_since {
                (recent.saturating_add(d.events), previous)
            } else if d.day > previous_since {
                (recent, previous.saturating_add(d.events))
            } else {
                (recent, previous)
            }
        })
}

/// `frequency_drop`: how far the last week's daily rate fell below the four weeks' before.
pub(crate) fn frequency_drop(events_7d: u32, events_prev_28d: u32) -> f64 {
    if events_prev_28d == 0 {
        return 0.0;
    }
    let drop = 1.0 - (f64::from(events_7d) / 7.0) / (f64::from(events_prev_28d) / 28.0);
    drop.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::AccountAction::{Cancel, FriendDeleted, Register};
    use crate::event::Direction::{Staff, User};
    use crate::event::PromotionAction::{Expired, Issued};
    use crate::testing::{account, at, chat, profile, promotion, view};

    #[test]
    fn days_inactive_counts_from_the_last_user_initiated_event() {
        let events = [view(at(90, 13)), chat(at(95, 1), Staff, None)];
        // W − last = 9 days 23 hours; the staff message does not count.
        assert_eq!(profile(&events, at(100, 12)).days_inactive, 9);
    }

    #[test]
    fn without_user_events_days_inactive_counts_from_first_seen() {
        let events = [promotion(at(60, 0), Issued), promotion(at(70, 0), Expired)];
        let p = profile(&events, at(100, 12));
        assert_eq!(p.last_active_at, None);
        assert_eq!(p.days_inactive, 40); // 40 days 12 hours
        assert!(!p.hard_churned);
    }

    #[test]
    fn recent_windows_split_at_day_w_minus_7_and_35() {
        let events = [
            view(at(65, 0)),  // day(W) − 35: in neither window
            view(at(66, 0)),  // first day of the previous 28
            view(at(93, 23)), // day(W) − 7: last day of the previous 28
            view(at(93, 1)),
            view(at(94, 0)), // first day of the last 7
            view(at(100, 13)),
        ];
        let p = profile(&events, at(100, 12));
        assert_eq!((p.events_7d, p.events_prev_28d), (2, 3));
    }

    #[test]
    fn frequency_drop_is_zero_without_previous_activity() {
        assert_eq!(frequency_drop(0, 0), 0.0);
        assert_eq!(frequency_drop(5, 0), 0.0);
        let p = profile(&[view(at(100, 1))], at(100, 12));
        assert_eq!((p.events_prev_28d, p.frequency_drop), (0, 0.0));
    }

    #[test]
    fn frequency_drop_compares_daily_rates_and_clamps() {
        assert_eq!(frequency_drop(0, 8), 1.0);
        // 7 in the last week vs 28 in the four before: the same rate.
        assert_eq!(frequency_drop(7, 28), 0.0);
        // Twice the rate would be −1: clamped to 0.
        assert_eq!(frequency_drop(14, 28), 0.0);
        // 1 a week vs 8 in four weeks (2 a week): half the rate.
        assert_eq!(frequency_drop(1, 8), 0.5);
        // 1 − (1/7) / (28/28) = 6/7.
        assert!((frequency_drop(1, 28) - 6.0 / 7.0).abs() < 1e-15);
    }

    #[test]
    fn hard_churn_is_a_delete_or_cancel_after_the_last_activity() {
        let deleted = [view(at(99, 8)), account(at(99, 9), FriendDeleted)];
        assert!(profile(&deleted, at(100, 0)).hard_churned);

        let came_back = [account(at(99, 9), Cancel), account(at(99, 10), Register)];
        assert!(!profile(&came_back, at(100, 0)).hard_churned);

        // Arrival order does not matter: the register is still the later event.
        let came_back_late = [account(at(99, 10), Register), account(at(99, 9), Cancel)];
        assert!(!profile(&came_back_late, at(100, 0)).hard_churned);

        // Only a churn event, no user-initiated one: churned.
        assert!(profile(&[account(at(99, 9), Cancel)], at(100, 0)).hard_churned);

        // A staff message after the delete is not activity.
        let with_staff = [
            view(at(99, 8)),
            account(at(99, 9), FriendDeleted),
            chat(at(99, 10), Staff, None),
        ];
        assert!(profile(&with_staff, at(100, 0)).hard_churned);

        // At the same instant as the last activity: not later.
        let same_instant = [view(at(99, 9)), account(at(99, 9), Cancel)];
        assert!(!profile(&same_instant, at(100, 0)).hard_churned);
    }

    #[test]
    fn marketing_aversion_reads_user_messages_only_case_insensitively() {
        let staff_only = [chat(at(1, 0), Staff, Some("回复TD退订"))];
        assert!(!profile(&staff_only, at(2, 0)).marketing_averse);
        for text in [
            "STOP",
            "I stopped reading",
            "请不要再发了",
            "Unsubscribe",
            "别发了!!",
            "骚扰",
        ] {
            let p = profile(&[chat(at(1, 0), User, Some(text))], at(2, 0));
            assert!(p.marketing_averse, "{text}");
        }
        let polite = [
            chat(at(1, 0), User, Some("这个有优惠吗")),
            chat(at(1, 1), User, None),
        ];
        assert!(!profile(&polite, at(2, 0)).marketing_averse);
    }
}
