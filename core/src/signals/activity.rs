//! Activity: when the user was seen and what they did.
//!
//! docs/signals.md, "Activity":
//!
//! | column | definition |
//! |---|---|
//! | `first_seen_at` | min ts over all of the user's events |
//! | `first_contact_at` | min ts of `account`/`friend_added`; NULL if none |
//! | `last_active_at` | max ts over `U`; NULL if `U` is empty |
//! | `page_views`, `searches`, `orders` | number of events of that type |
//! | `messages_sent` / `messages_received` | chat messages with `direction` `user` / `staff` |
//! | `revenue` | Σ `amount` over orders |
//! | `discount_total` | Σ `discount` over orders (absent = 0) |
//! | `active_days_30d` | number of distinct `day(ts)` over `U` with `day(ts) > day(W) − 30` |
//!
//! "User-initiated events (`U`): `page_view`, `search`, `chat_message` with
//! `direction = user`, `order`, and `account` with action `register`, `login` or
//! `friend_added`."
//!
//! The counters and extremes are plain fields of the state, updated in `apply`; this module
//! holds the definitions that are more than a field.

use crate::event::{AccountAction, Direction, EventKind};
use crate::state::days::ActiveDay;
use crate::time::Day;

/// `active_days_30d` counts the days `d > day(W) − 30`.
pub(crate) const ACTIVE_DAYS_WINDOW: i32 = 30;

/// Whether the event is in `U`, the user-initiated events.
pub(crate) fn is_user_initiated(kind: &EventKind<'_>) -> bool {
    match kind {
        EventKind::PageView(_) | EventKind::Search(_) | EventKind::Order(_) => true,
        EventKind::ChatMessage(chat) => chat.direction == Direction::User,
        EventKind::Account(account) => matches!(
            account.action,
            AccountAction::Register | AccountAction::Login | AccountAction::FriendAdded
        ),
        EventKind::Promotion(_) => false,
    }
}

/// `active_days_30d` as of the day `today` = `day(W)`.
pub(crate) fn active_days_30d(days: impl IntoIterator<Item = ActiveDay>, today: Day) -> u32 {
    let since = today.plus(-ACTIVE_DAYS_WINDOW);
    days.into_iter().filter(|d| d.day > since).count() as u32
}

#[cfg(test)]
mod tests {
    use crate::event::AccountAction::{Cancel, FriendAdded, FriendDeleted, Login, Register};
    use crate::event::Direction::{Staff, User};
    use crate::event::PromotionAction::Issued;
    use crate::testing::{account, at, chat, order, order_with, profile, promotion, search, view};
    use crate::time::EventTime;

    #[test]
    fn counts_by_type_and_times_in_seconds() {
        let events = [
            promotion(at(80, 1), Issued),
            account(EventTime::from_millis(at(80, 2).millis() + 1_999), Register),
            account(at(90, 2), FriendAdded),
            account(at(81, 2), FriendAdded),
            view(at(95, 3)),
            search(at(95, 4), "books", None),
            chat(at(96, 5), Staff, None),
            chat(at(94, 5), User, None),
            order(at(93, 0), 1_050),
        ];
        let p = profile(&events, at(100, 0));
        assert_eq!(p.first_seen_at, at(80, 1).millis() / 1000);
        // The earliest friend_added, though it arrived second.
        assert_eq!(p.first_contact_at, Some(at(81, 2).millis() / 1000));
        // The staff message is not user-initiated: last active is the search.
        assert_eq!(p.last_active_at, Some(at(95, 4).millis() / 1000));
        assert_eq!((p.page_views, p.searches, p.orders), (1, 1, 1));
        assert_eq!((p.messages_sent, p.messages_received), (1, 1));
        assert_eq!(p.revenue, 10.5);
    }

    #[test]
    fn seconds_round_down_and_money_sums_in_cents() {
        let events = [
            account(EventTime::from_millis(1_999), Register),
            order_with(at(1, 0), 10, 5, None, None, &[]),
            order_with(at(1, 1), 20, 0, None, None, &[]),
        ];
        let p = profile(&events, at(2, 0));
        assert_eq!(p.first_seen_at, 1);
        // 0.10 + 0.20 is 0.30000000000000004 in f64; 30 cents is 0.3.
        assert_eq!(p.revenue, 0.3);
        assert_eq!(p.discount_total, 0.05);
    }

    #[test]
    fn last_active_ignores_promotions_staff_messages_and_churn() {
        let events = [
            view(at(90, 1)),
            promotion(at(91, 1), Issued),
            chat(at(92, 1), Staff, Some("hello")),
            account(at(93, 1), FriendDeleted),
            account(at(94, 1), Cancel),
        ];
        assert_eq!(
            profile(&events, at(100, 0)).last_active_at,
            Some(at(90, 1).millis() / 1000)
        );
        let only_promotions = [promotion(at(91, 1), Issued)];
        assert_eq!(profile(&only_promotions, at(100, 0)).last_active_at, None);
    }

    #[test]
    fn active_days_window_is_the_last_30_days() {
        // day(W) = 100: day 70 = day(W) − 30 is outside, 71 inside; a day counts once.
        let events = [
            view(at(70, 23)),
            account(at(71, 0), Login),
            view(at(71, 5)),
            chat(at(80, 5), User, None),
            chat(at(85, 5), Staff, None), // not user-initiated
            view(at(100, 13)),            // ahead of W, still counted
        ];
        assert_eq!(profile(&events, at(100, 12)).active_days_30d, 3);
        // A day later, day 71 has left the window.
        assert_eq!(profile(&events, at(101, 12)).active_days_30d, 2);
    }
}
