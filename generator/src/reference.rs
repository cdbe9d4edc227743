//! The reference model: each column of docs/signals.md computed directly from one user's full
//! event list, sorted by event time.
//!
//! It is deliberately naive (no incremental state, no day buckets, a fresh pass per column)
//! so that each function can be checked against its definition by reading it; the pipeline's
//! incremental implementation is tested against it. It shares no code with `portrait-core`.
//! Money is summed in integer cents, as the definitions require. The expected alerts
//! (`alerts`) replay the lifecycle stage of these same functions over time.

mod alerts;
mod churn_model;

use std::collections::{BTreeMap, BTreeSet};

use crate::catalogue::Category;
use crate::event::{AccountAction, Direction, Event, EventKind, Order, PromoAction};
use crate::time::DAY_MS;
use crate::truth::ExpectedProfile;

pub(crate) use alerts::expected_alerts;
#[cfg(test)]
pub(crate) use alerts::literal_alerts;

/// A user message containing one of these (case-insensitively) marks the user marketing-averse.
pub(crate) const OPT_OUT_KEYWORDS: [&str; 7] = [
    "退订",
    "别发了",
    "不要再发",
    "取消订阅",
    "骚扰",
    "unsubscribe",
    "stop",
];
/// A search query containing one of these (case-insensitively) is promo engagement.
pub(crate) const PROMO_WORDS: [&str; 9] = [
    "优惠", "折扣", "秒杀", "满减", "券", "coupon", "sale", "discount", "deal",
];
/// `activated` = messages_sent >= this.
const ACTIVATION_MESSAGES: usize = 3;
/// Category weights halve every 14 days.
const HALF_LIFE_MS: i64 = 14 * DAY_MS;
const TOP_CATEGORY_COUNT: usize = 5;

/// Plain substring match after Unicode lower-casing: "Stopped" contains "stop".
pub(crate) fn contains_any(text: &str, words: &[&str]) -> bool {
    let lower = text.to_lowercase();
    words.iter().any(|w| lower.contains(w))
}

/// `day(t)` = ⌊t / DAY⌋.
fn day(ts: i64) -> i64 {
    ts.div_euclid(DAY_MS)
}

/// A ClickHouse `DateTime`: ⌊ms / 1000⌋.
fn seconds(ts: i64) -> i64 {
    ts.div_euclid(1000)
}

/// max(0, ⌊(W − since) / DAY⌋).
fn whole_days_before(w: i64, since: i64) -> u32 {
    (w - since).div_euclid(DAY_MS).max(0) as u32
}

/// `U`: page_view, search, user chat, order, and account register / login / friend_added.
fn is_user_initiated(kind: &EventKind) -> bool {
    match kind {
        EventKind::PageView(_) | EventKind::Search(_) | EventKind::Order(_) => true,
        EventKind::Chat(chat) => chat.direction == Direction::User,
        EventKind::Account(account) => matches!(
            account.action,
            AccountAction::Register | AccountAction::Login | AccountAction::FriendAdded
        ),
        EventKind::Promotion(_) => false,
    }
}

/// `C`: account friend_deleted or cancel.
fn is_hard_churn(kind: &EventKind) -> bool {
    matches!(kind, EventKind::Account(a)
        if matches!(a.action, AccountAction::FriendDeleted | AccountAction::Cancel))
}

/// A non-empty `coupon_id` or `promo_id`, or `discount > 0`.
fn is_promo_order(order: &Order) -> bool {
    let non_empty = |id: Option<&str>| id.is_some_and(|id| !id.is_empty());
    non_empty(order.coupon_id.as_deref())
        || non_empty(order.promo_id)
        || order.discount.is_some_and(|d| d.0 > 0)
}

/// The expected profile of a user with at least one event, evaluated at watermark `w`.
pub(crate) fn profile(user_id: &str, events: &[Event], w: i64) -> ExpectedProfile {
    let mut all: Vec<&Event> = events.iter().collect();
    all.sort_by_key(|e| e.ts);
    let user: Vec<i64> = all
        .iter()
        .filter(|e| is_user_initiated(&e.kind))
        .map(|e| e.ts)
        .collect();
    let churn: Vec<i64> = all
        .iter()
        .filter(|e| is_hard_churn(&e.kind))
        .map(|e| e.ts)
        .collect();
    let orders: Vec<(i64, &Order)> = all
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Order(order) => Some((e.ts, &**order)),
            _ => None,
        })
        .collect();
    let chats = |direction| {
        all.iter().filter_map(move |e| match &e.kind {
            EventKind::Chat(chat) if chat.direction == direction => Some((e.ts, chat.text)),
            _ => None,
        })
    };
    let count = |f: fn(&EventKind) -> bool| all.iter().filter(|e| f(&e.kind)).count() as u64;

    let first_seen = all.first().expect("a profile needs at least one event").ts;
    let last_active = user.last().copied();
    let revenue_cents: i64 = orders.iter().map(|(_, o)| o.amount.0).sum();
    let discount_cents: i64 = orders
        .iter()
        .map(|(_, o)| o.discount.map_or(0, |d| d.0))
        .sum();
    let promo_orders = orders.iter().filter(|(_, o)| is_promo_order(o)).count() as u64;

    let sent: Vec<i64> = chats(Direction::User).map(|(ts, _)| ts).collect();
    let activated_at = sent.get(ACTIVATION_MESSAGES - 1).copied();

    let days_inactive = whole_days_before(w, last_active.unwrap_or(first_seen));
    let (events_7d, events_prev_28d) = recent_counts(&user, w);
    let frequency_drop = frequency_drop(events_7d, events_prev_28d);
    let hard_churned = hard_churned(&churn, last_active);
    let reactivated_at = reactivated_at(&user, &churn);
    let churn_signals = ChurnSignals {
        hard_churned,
        days_inactive,
        frequency_drop,
        events_prev_28d,
    };

    let order_times: Vec<i64> = orders.iter().map(|(ts, _)| *ts).collect();
    let churn_model = churn_model::churn_model_columns(&order_times, w);
    let last_order = orders.last().map(|(ts, _)| *ts);
    let rfm =
        last_order.map(|ts| Rfm::score(whole_days_before(w, ts), orders.len(), revenue_cents));

    ExpectedProfile {
        user_id: user_id.to_owned(),
        first_seen_at: seconds(first_seen),
        first_contact_at: all
            .iter()
            .find(|e| {
                matches!(&e.kind, EventKind::Account(a) if a.action == AccountAction::FriendAdded)
            })
            .map(|e| seconds(e.ts)),
        last_active_at: last_active.map(seconds),
        page_views: count(|k| matches!(k, EventKind::PageView(_))),
        searches: count(|k| matches!(k, EventKind::Search(_))),
        messages_sent: sent.len() as u64,
        messages_received: chats(Direction::Staff).count() as u64,
        orders: orders.len() as u64,
        promo_orders,
        revenue: revenue_cents as f64 / 100.0,
        discount_total: discount_cents as f64 / 100.0,
        active_days_30d: user
            .iter()
            .map(|&ts| day(ts))
            .filter(|&d| d > day(w) - 30)
            .collect::<BTreeSet<_>>()
            .len() as u32,
        activated: activated_at.is_some(),
        activated_at: activated_at.map(seconds),
        days_inactive,
        events_7d,
        events_prev_28d,
        frequency_drop,
        hard_churned,
        marketing_averse: chats(Direction::User)
            .any(|(_, text)| text.is_some_and(|t| contains_any(t, &OPT_OUT_KEYWORDS))),
        reactivated_at: reactivated_at.map(seconds),
        lifecycle_stage: lifecycle_stage(&churn_signals, reactivated_at, first_seen, w).to_owned(),
        churn_risk: churn_risk(&churn_signals),
        promo_order_share: if orders.is_empty() {
            0.0
        } else {
            promo_orders as f64 / orders.len() as f64
        },
        discount_share: if revenue_cents + discount_cents == 0 {
            0.0
        } else {
            discount_cents as f64 / (revenue_cents + discount_cents) as f64
        },
        promo_engagement: all.iter().filter(|e| is_promo_engagement(&e.kind)).count() as u64,
        promo_tier: promo_tier(orders.len() as u64, promo_orders).to_owned(),
        rfm_recency_days: rfm.as_ref().map(|r| r.recency_days),
        rfm_r: rfm.as_ref().map(|r| r.r),
        rfm_f: rfm.as_ref().map(|r| r.f),
        rfm_m: rfm.as_ref().map(|r| r.m),
        rfm_segment: rfm.as_ref().map(|r| r.segment().to_owned()),
        top_categories: top_categories(&all, w),
        purchasing_power: purchasing_power(orders.iter().map(|(_, o)| *o)).map(str::to_owned),
        repeat_order_days: churn_model.as_ref().map(|c| c.repeat_order_days),
        order_span_days: churn_model.as_ref().map(|c| c.order_span_days),
        customer_age_days: churn_model.as_ref().map(|c| c.customer_age_days),
        p_alive: churn_model.as_ref().map(|c| c.p_alive),
        expected_orders_90d: churn_model.as_ref().map(|c| c.expected_orders_90d),
    }
}

/// (`events_7d`, `events_prev_28d`): events of `U` on days d > day(W) − 7, and on days
/// day(W) − 35 < d <= day(W) − 7.
fn recent_counts(user: &[i64], w: i64) -> (u32, u32) {
    let today = day(w);
    let last_7 = user.iter().filter(|&&ts| day(ts) > today - 7).count();
    let prev_28 = user
        .iter()
        .filter(|&&ts| today - 35 < day(ts) && day(ts) <= today - 7)
        .count();
    (last_7 as u32, prev_28 as u32)
}

/// `C` is non-empty and either `U` is empty or max ts over `C` > `last_active_at`. `churn` is
/// the sorted ts of `C`.
fn hard_churned(churn: &[i64], last_active: Option<i64>) -> bool {
    match (churn.last(), last_active) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(&churned), Some(active)) => churned > active,
    }
}

/// clamp(1 − (events_7d / 7) / (events_prev_28d / 28), 0, 1); 0 when events_prev_28d = 0.
fn frequency_drop(events_7d: u32, events_prev_28d: u32) -> f64 {
    if events_prev_28d == 0 {
        return 0.0;
    }
    let drop = 1.0 - (f64::from(events_7d) / 7.0) / (f64::from(events_prev_28d) / 28.0);
    drop.clamp(0.0, 1.0)
}

/// `first(d)` of the latest comeback day, if any. `user` is the sorted ts of `U`. An active day
/// `d` with previous active day `p` is a comeback when d − p >= 30, or when a churn event lies
/// strictly between `last(p)` (the last event of `p`) and `first(d)` (the first event of `d`).
fn reactivated_at(user: &[i64], churn: &[i64]) -> Option<i64> {
    let mut latest_comeback = None;
    for pair in user.windows(2) {
        let (last_of_previous_day, first_of_day) = (pair[0], pair[1]);
        if day(first_of_day) == day(last_of_previous_day) {
            continue;
        }
        let long_gap = day(first_of_day) - day(last_of_previous_day) >= 30;
        let churned_between = churn
            .iter()
            .any(|&c| last_of_previous_day < c && c < first_of_day);
        if long_gap || churned_between {
            latest_comeback = Some(first_of_day);
        }
    }
    latest_comeback
}

/// The inputs of the churn rules.
struct ChurnSignals {
    hard_churned: bool,
    days_inactive: u32,
    frequency_drop: f64,
    events_prev_28d: u32,
}

/// The first rule that matches: churned, dormant, at_risk, reactivated, new, active.
fn lifecycle_stage(
    churn: &ChurnSignals,
    reactivated_at: Option<i64>,
    first_seen: i64,
    w: i64,
) -> &'static str {
    let recent = |ts: i64| day(ts) > day(w) - 7;
    if churn.hard_churned || churn.days_inactive >= 60 {
        "churned"
    } else if churn.days_inactive >= 30 {
        "dormant"
    } else if churn.days_inactive >= 14
        || (churn.frequency_drop >= 0.5 && churn.events_prev_28d >= 4)
    {
        "at_risk"
    } else if reactivated_at.is_some_and(recent) {
        "reactivated"
    } else if recent(first_seen) {
        "new"
    } else {
        "active"
    }
}

/// 1 when hard-churned, else 1 − (1 − a)(1 − f/2) with a = min(days_inactive, 60) / 60.
fn churn_risk(churn: &ChurnSignals) -> f64 {
    if churn.hard_churned {
        return 1.0;
    }
    let a = f64::from(churn.days_inactive.min(60)) / 60.0;
    1.0 - (1.0 - a) * (1.0 - churn.frequency_drop / 2.0)
}

/// Page views with `is_promo`, searches with a promo word, promotions claimed or redeemed.
fn is_promo_engagement(kind: &EventKind) -> bool {
    match kind {
        EventKind::PageView(view) => view.is_promo == Some(true),
        EventKind::Search(search) => contains_any(search.query, &PROMO_WORDS),
        EventKind::Promotion(promotion) => {
            matches!(
                promotion.action,
                PromoAction::Claimed | PromoAction::Redeemed
            )
        }
        _ => false,
    }
}

/// unknown (< 3 orders), promo_only, high (>= 0.6), medium (>= 0.3), low (> 0), none.
fn promo_tier(orders: u64, promo_orders: u64) -> &'static str {
    let share = promo_orders as f64 / orders as f64;
    if orders < 3 {
        "unknown"
    } else if promo_orders == orders {
        "promo_only"
    } else if share >= 0.6 {
        "high"
    } else if share >= 0.3 {
        "medium"
    } else if share > 0.0 {
        "low"
    } else {
        "none"
    }
}

/// RFM scores of a user with at least one order.
struct Rfm {
    recency_days: u32,
    r: u8,
    f: u8,
    m: u8,
}

impl Rfm {
    fn score(recency_days: u32, orders: usize, revenue_cents: i64) -> Rfm {
        let r = match recency_days {
            0..=7 => 5,
            8..=30 => 4,
            31..=90 => 3,
            91..=180 => 2,
            _ => 1,
        };
        let f = match orders {
            10.. => 5,
            5..=9 => 4,
            3..=4 => 3,
            2 => 2,
            _ => 1,
        };
        let m = match revenue_cents {
            300_000.. => 5,
            100_000.. => 4,
            30_000.. => 3,
            10_000.. => 2,
            _ => 1,
        };
        Rfm {
            recency_days,
            r,
            f,
            m,
        }
    }

    /// The R × F grid: rows R 4–5, R 3, R 1–2; columns F 1, F 2–3, F 4–5.
    fn segment(&self) -> &'static str {
        match (self.r, self.f) {
            (4..=5, 1) => "new_customer",
            (4..=5, 2..=3) => "potential_loyalist",
            (4..=5, _) => "champions",
            (3, 1) => "promising",
            (3, 2..=3) => "needs_attention",
            (3, _) => "loyal",
            (_, 1) => "hibernating",
            (_, 2..=3) => "at_risk",
            _ => "cant_lose",
        }
    }
}

/// Up to 5 categories by decayed weight (view 1, search 2, order item 5; half-life 14 days
/// relative to W), compared as round(weight / max weight · 10⁹), ties by name.
fn top_categories(all: &[&Event], w: i64) -> Vec<String> {
    let mut weights: BTreeMap<&'static str, f64> = BTreeMap::new();
    for event in all {
        let decay = ((event.ts - w) as f64 / HALF_LIFE_MS as f64).exp2();
        let mut add = |category: Category, base: f64| {
            *weights.entry(category.name()).or_insert(0.0) += base * decay;
        };
        match &event.kind {
            EventKind::PageView(view) => view.category.into_iter().for_each(|c| add(c, 1.0)),
            EventKind::Search(search) => search.category.into_iter().for_each(|c| add(c, 2.0)),
            EventKind::Order(order) => order.items.iter().for_each(|i| add(i.category, 5.0)),
            _ => {}
        }
    }
    let max = weights.values().copied().fold(0.0, f64::max);
    let mut scored: Vec<(i64, &str)> = weights
        .iter()
        .map(|(&name, &weight)| ((weight / max * 1e9).round() as i64, name))
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(TOP_CATEGORY_COUNT)
        .map(|(_, name)| name.to_owned())
        .collect()
}

/// From the average item price p = Σ(price · qty) / Σ qty: low (< 50), medium (< 200), high
/// (< 800), premium; `None` without items. Compared in cents without dividing: p < t exactly
/// when Σ(price · qty) < t · Σ qty.
fn purchasing_power<'a>(orders: impl Iterator<Item = &'a Order>) -> Option<&'static str> {
    let (spent, quantity) =
        orders
            .flat_map(|o| &o.items)
            .fold((0i64, 0i64), |(spent, quantity), item| {
                let qty = i64::from(item.qty);
                (spent + item.price.0 * qty, quantity + qty)
            });
    let below = |threshold_cents: i64| spent < threshold_cents * quantity;
    match quantity {
        0 => None,
        _ if below(5_000) => Some("low"),
        _ if below(20_000) => Some("medium"),
        _ if below(80_000) => Some("high"),
        _ => Some("premium"),
    }
}

#[cfg(test)]
mod tests {
    //! The builders are shared with the tests of `alerts`.

    use super::*;
    use crate::event::{Account, Cents, Chat, Item, PageView, Promotion, Search};

    pub(super) const HOUR: i64 = 3_600_000;
    /// The watermark of most tests: day 100, noon. day(W) = 100.
    const W: i64 = 100 * DAY_MS + 12 * HOUR;

    pub(super) fn at(day: i64, hour: i64) -> i64 {
        day * DAY_MS + hour * HOUR
    }

    fn category(name: &str) -> Category {
        Category::all().find(|c| c.name() == name).unwrap()
    }

    fn event(ts: i64, kind: EventKind) -> Event {
        Event { ts, kind }
    }

    pub(super) fn view(ts: i64, name: Option<&str>) -> Event {
        let kind = EventKind::PageView(PageView {
            page: "/item",
            category: name.map(category),
            dwell_ms: None,
            is_promo: None,
        });
        event(ts, kind)
    }

    fn promo_view(ts: i64) -> Event {
        let kind = EventKind::PageView(PageView {
            page: "/promo",
            category: None,
            dwell_ms: None,
            is_promo: Some(true),
        });
        event(ts, kind)
    }

    fn search(ts: i64, query: &'static str, name: Option<&str>) -> Event {
        let kind = EventKind::Search(Search {
            query,
            category: name.map(category),
        });
        event(ts, kind)
    }

    pub(super) fn chat(ts: i64, direction: Direction, text: Option<&'static str>) -> Event {
        let kind = EventKind::Chat(Chat {
            direction,
            text,
            staff_id: None,
        });
        event(ts, kind)
    }

    pub(super) fn account(ts: i64, action: AccountAction) -> Event {
        event(ts, EventKind::Account(Account { action }))
    }

    pub(super) fn promotion(ts: i64, action: PromoAction) -> Event {
        let kind = EventKind::Promotion(Promotion {
            action,
            promo_id: None,
            coupon_id: None,
        });
        event(ts, kind)
    }

    /// An order of `amount` cents with the given terms and `(category, unit price, qty)` items.
    fn order(ts: i64, amount: i64, discount: Option<i64>, coupon: Option<&str>) -> Event {
        order_with(ts, amount, discount, coupon, None, &[])
    }

    fn order_with(
        ts: i64,
        amount: i64,
        discount: Option<i64>,
        coupon: Option<&str>,
        promo_id: Option<&'static str>,
        items: &[(&str, i64, u32)],
    ) -> Event {
        let items = items
            .iter()
            .map(|&(name, price, qty)| Item {
                category: category(name),
                price: Cents(price),
                qty,
            })
            .collect();
        let kind = EventKind::Order(Box::new(Order {
            order_id: "o".to_owned(),
            amount: Cents(amount),
            discount: discount.map(Cents),
            coupon_id: coupon.map(Into::into),
            promo_id,
            items,
        }));
        event(ts, kind)
    }

    fn of(events: &[Event]) -> ExpectedProfile {
        profile("u1", events, W)
    }

    /// A steady user: one page view every day from day 60 to day 100.
    fn steady() -> Vec<Event> {
        (60..=100).map(|d| view(at(d, 9), None)).collect()
    }

    #[test]
    fn third_message_out_of_order_sets_activated_at() {
        let events = [
            chat(50_000, Direction::User, None),
            chat(10_000, Direction::User, None),
            chat(5_000, Direction::Staff, None),
            chat(30_000, Direction::User, None),
            chat(20_000, Direction::User, None),
        ];
        let p = of(&events);
        assert_eq!((p.messages_sent, p.messages_received), (4, 1));
        assert!(p.activated);
        // User messages at 10, 20, 30, 50 s: the third is at 30 s.
        assert_eq!(p.activated_at, Some(30));
    }

    #[test]
    fn two_messages_do_not_activate() {
        let events = [
            chat(1_000, Direction::User, None),
            chat(2_000, Direction::User, None),
            chat(3_000, Direction::Staff, None),
        ];
        let p = of(&events);
        assert!(!p.activated);
        assert_eq!(p.activated_at, None);
    }

    #[test]
    fn equal_timestamps_count_separately_for_activation() {
        let events = [
            chat(7_000, Direction::User, None),
            chat(7_000, Direction::User, None),
            chat(7_999, Direction::User, None),
        ];
        assert_eq!(of(&events).activated_at, Some(7));
    }

    #[test]
    fn activity_columns_count_by_type_and_convert_to_seconds() {
        let events = [
            promotion(at(80, 1), PromoAction::Issued),
            account(at(80, 2) + 1_999, AccountAction::Register),
            account(at(81, 2), AccountAction::FriendAdded),
            account(at(90, 2), AccountAction::FriendAdded),
            view(at(95, 3), None),
            search(at(95, 4), "books", None),
            chat(at(96, 5), Direction::Staff, None),
        ];
        let p = of(&events);
        assert_eq!(p.first_seen_at, at(80, 1) / 1000);
        assert_eq!(p.first_contact_at, Some(at(81, 2) / 1000));
        // The staff message is not user-initiated: last active is the search.
        assert_eq!(p.last_active_at, Some(at(95, 4) / 1000));
        assert_eq!((p.page_views, p.searches, p.messages_received), (1, 1, 1));
        assert_eq!(p.active_days_30d, 4); // days 80, 81, 90, 95
    }

    #[test]
    fn active_days_window_is_the_last_30_days() {
        // day(W) − 30 = 70 is outside the window, 71 inside; the same day counts once.
        let events = [
            view(at(70, 23), None),
            view(at(71, 0), None),
            view(at(71, 5), None),
            view(at(100, 13), None),
        ];
        assert_eq!(of(&events).active_days_30d, 2);
    }

    #[test]
    fn days_inactive_counts_whole_days_from_last_activity_and_never_goes_negative() {
        let p = of(&[view(at(90, 13), None)]);
        // W − last = 9 days 23 hours.
        assert_eq!(p.days_inactive, 9);
        // An event ahead of W (by less than the lateness) counts, and the clamp gives 0.
        assert_eq!(of(&[view(W + 60_000, None)]).days_inactive, 0);
    }

    #[test]
    fn without_user_events_days_inactive_counts_from_first_seen() {
        let events = [
            promotion(at(60, 0), PromoAction::Issued),
            promotion(at(70, 0), PromoAction::Expired),
        ];
        let p = of(&events);
        assert_eq!(p.last_active_at, None);
        assert_eq!(p.days_inactive, 40); // 40 days 12 hours
        assert_eq!(p.lifecycle_stage, "dormant");
        assert!(!p.hard_churned);
    }

    #[test]
    fn recent_windows_split_at_day_w_minus_7_and_35() {
        let events = [
            view(at(65, 0), None),  // day(W) − 35: in neither window
            view(at(66, 0), None),  // first day of the previous 28
            view(at(93, 23), None), // day(W) − 7: last day of the previous 28
            view(at(94, 0), None),  // first day of the last 7
            view(at(100, 13), None),
        ];
        let p = of(&events);
        assert_eq!((p.events_7d, p.events_prev_28d), (2, 2));
    }

    #[test]
    fn frequency_drop_compares_daily_rates_and_clamps() {
        assert_eq!(frequency_drop(0, 0), 0.0);
        assert_eq!(frequency_drop(5, 0), 0.0);
        assert_eq!(frequency_drop(0, 8), 1.0);
        // 7 in the last week vs 28 in the four before: the same rate.
        assert_eq!(frequency_drop(7, 28), 0.0);
        // Twice the rate would be −1: clamped to 0.
        assert_eq!(frequency_drop(14, 28), 0.0);
        // 1 a week vs 8 in four weeks (2 a week): half the rate.
        assert_eq!(frequency_drop(1, 8), 0.5);
        assert!((frequency_drop(1, 28) - 6.0 / 7.0).abs() < 1e-12);
    }

    #[test]
    fn hard_churn_is_a_delete_or_cancel_after_the_last_activity() {
        let deleted = [
            view(at(99, 8), None),
            account(at(99, 9), AccountAction::FriendDeleted),
        ];
        let p = of(&deleted);
        assert!(p.hard_churned);
        assert_eq!((p.lifecycle_stage.as_str(), p.churn_risk), ("churned", 1.0));

        let came_back = [
            account(at(99, 9), AccountAction::Cancel),
            account(at(99, 10), AccountAction::Register),
        ];
        assert!(!of(&came_back).hard_churned);

        // Only a churn event, no user-initiated one: churned.
        assert!(of(&[account(at(99, 9), AccountAction::Cancel)]).hard_churned);

        // A staff message after the delete is not activity.
        let with_staff = [
            view(at(99, 8), None),
            account(at(99, 9), AccountAction::FriendDeleted),
            chat(at(99, 10), Direction::Staff, None),
        ];
        assert!(of(&with_staff).hard_churned);
    }

    #[test]
    fn marketing_aversion_reads_user_messages_only_case_insensitively() {
        let staff_only = [chat(1, Direction::Staff, Some("回复TD退订"))];
        assert!(!of(&staff_only).marketing_averse);
        for text in ["STOP", "I stopped reading", "请不要再发了", "Unsubscribe"] {
            assert!(
                of(&[chat(1, Direction::User, Some(text))]).marketing_averse,
                "{text}"
            );
        }
        let polite = [
            chat(1, Direction::User, Some("这个有优惠吗")),
            chat(2, Direction::User, None),
        ];
        assert!(!of(&polite).marketing_averse);
    }

    #[test]
    fn cancel_between_active_days_makes_a_comeback_but_not_within_a_day() {
        let events = [
            view(at(60, 9), None),
            // 37 days later, a comeback on day 97 at 10:00...
            view(at(97, 10), None),
            // ...and a cancel between two events of day 97 is no comeback of its own...
            account(at(97, 12), AccountAction::Cancel),
            account(at(97, 15), AccountAction::Register),
            // ...but a cancel after the last event of day 97 makes day 98 one.
            account(at(97, 20), AccountAction::FriendDeleted),
            view(at(98, 9), None),
        ];
        let p = of(&events);
        assert_eq!(p.reactivated_at, Some(at(98, 9) / 1000));
        assert!(!p.hard_churned);
        assert_eq!(p.lifecycle_stage, "reactivated");

        let same_day_only = &events[..4];
        assert_eq!(of(same_day_only).reactivated_at, Some(at(97, 10) / 1000));
    }

    #[test]
    fn a_29_day_gap_is_no_comeback_and_30_days_is() {
        let gap = |days: i64| [view(at(50, 23), None), view(at(50 + days, 0), None)];
        assert_eq!(of(&gap(29)).reactivated_at, None);
        assert_eq!(of(&gap(30)).reactivated_at, Some(at(80, 0) / 1000));
    }

    #[test]
    fn a_churn_event_at_the_same_instant_as_an_event_splits_nothing() {
        let events = [
            view(at(90, 9), None),
            account(at(90, 9), AccountAction::FriendDeleted),
            view(at(90, 10), None),
        ];
        assert_eq!(of(&events).reactivated_at, None);
    }

    #[test]
    fn lifecycle_rules_apply_in_order() {
        let signals = |days_inactive, frequency_drop, events_prev_28d| ChurnSignals {
            hard_churned: false,
            days_inactive,
            frequency_drop,
            events_prev_28d,
        };
        let stage = |s: &ChurnSignals, reactivated, first_seen| {
            lifecycle_stage(s, reactivated, first_seen, W)
        };
        let old = at(10, 0);
        assert_eq!(stage(&signals(60, 0.0, 0), None, old), "churned");
        assert_eq!(stage(&signals(59, 0.0, 0), None, old), "dormant");
        assert_eq!(stage(&signals(30, 1.0, 9), None, old), "dormant");
        assert_eq!(stage(&signals(29, 0.0, 0), None, old), "at_risk");
        assert_eq!(stage(&signals(14, 0.0, 0), None, old), "at_risk");
        assert_eq!(stage(&signals(0, 0.5, 4), None, old), "at_risk");
        // A drop on too little history is not a risk.
        assert_eq!(stage(&signals(0, 1.0, 3), None, old), "active");
        assert_eq!(stage(&signals(0, 0.49, 40), None, old), "active");
        // Reactivated on day 94 = day(W) − 6: recent. On day 93: not.
        assert_eq!(
            stage(&signals(13, 0.0, 0), Some(at(94, 0)), old),
            "reactivated"
        );
        assert_eq!(stage(&signals(0, 0.0, 0), Some(at(93, 23)), old), "active");
        // Reactivation outranks being new.
        assert_eq!(
            stage(&signals(0, 0.0, 0), Some(at(95, 0)), at(94, 0)),
            "reactivated"
        );
        assert_eq!(stage(&signals(0, 0.0, 0), None, at(94, 0)), "new");
        assert_eq!(stage(&signals(0, 0.0, 0), None, at(93, 23)), "active");
        let churned = ChurnSignals {
            hard_churned: true,
            ..signals(0, 0.0, 0)
        };
        assert_eq!(stage(&churned, None, at(99, 0)), "churned");
    }

    #[test]
    fn a_steady_user_is_active_with_no_risk() {
        let p = of(&steady());
        assert_eq!(p.lifecycle_stage, "active");
        assert_eq!((p.events_7d, p.events_prev_28d), (7, 28));
        assert_eq!(
            (p.days_inactive, p.frequency_drop, p.churn_risk),
            (0, 0.0, 0.0)
        );
    }

    #[test]
    fn churn_risk_grows_with_inactivity_and_falling_frequency() {
        let risk = |days_inactive, frequency_drop| {
            churn_risk(&ChurnSignals {
                hard_churned: false,
                days_inactive,
                frequency_drop,
                events_prev_28d: 10,
            })
        };
        // a = 30/60 = 0.5, f = 0.5: 1 − 0.5 · 0.75.
        assert_eq!(risk(30, 0.5), 0.625);
        assert_eq!(risk(0, 1.0), 0.5);
        assert_eq!(risk(60, 0.0), 1.0);
        assert_eq!(risk(200, 0.0), 1.0);
    }

    #[test]
    fn promo_orders_need_a_non_empty_id_or_a_positive_discount() {
        let events = [
            order(at(90, 0), 10_000, None, None),
            order(at(90, 1), 10_000, Some(0), Some("")),
            order(at(90, 2), 9_000, Some(1_000), None),
            order(at(90, 3), 10_000, None, Some("c1")),
            order_with(at(90, 4), 10_000, None, None, Some("618"), &[]),
        ];
        let p = of(&events);
        assert_eq!((p.orders, p.promo_orders), (5, 3));
        assert_eq!(p.promo_order_share, 0.6);
        assert_eq!(p.promo_tier, "high");
        assert_eq!((p.revenue, p.discount_total), (490.0, 10.0));
        // 1 000 / (49 000 + 1 000) cents.
        assert_eq!(p.discount_share, 0.02);
    }

    #[test]
    fn promo_tier_follows_the_share_of_promo_orders() {
        assert_eq!(promo_tier(0, 0), "unknown");
        assert_eq!(promo_tier(2, 2), "unknown");
        assert_eq!(promo_tier(3, 3), "promo_only");
        assert_eq!(promo_tier(5, 3), "high"); // 0.6
        assert_eq!(promo_tier(10, 3), "medium"); // 0.3
        assert_eq!(promo_tier(4, 1), "low"); // 0.25
        assert_eq!(promo_tier(3, 0), "none");
    }

    #[test]
    fn without_orders_shares_are_zero_and_rfm_is_null() {
        let p = of(&steady());
        assert_eq!((p.promo_order_share, p.discount_share), (0.0, 0.0));
        assert_eq!(p.promo_tier, "unknown");
        assert_eq!(
            (p.rfm_recency_days, p.rfm_r, p.rfm_segment),
            (None, None, None)
        );
        assert_eq!(p.purchasing_power, None);
    }

    #[test]
    fn promo_engagement_counts_promo_views_searches_and_claims() {
        let events = [
            promo_view(1),
            view(2, None),
            search(3, "beauty SALE", None),
            search(4, "pet food wholesale", None), // "sale" inside a word counts
            search(5, "奶粉 优惠券", None),        // 优惠 and 券: one search, counted once
            search(6, "lipstick", None),
            promotion(7, PromoAction::Issued),
            promotion(8, PromoAction::Claimed),
            promotion(9, PromoAction::Redeemed),
            promotion(10, PromoAction::Expired),
            chat(11, Direction::User, Some("有优惠吗")), // chats do not count
        ];
        assert_eq!(of(&events).promo_engagement, 6);
    }

    #[test]
    fn rfm_scores_recency_frequency_and_revenue() {
        // 5 orders, the last 31 days 12 hours before W, 1 000.00 in all.
        let events: Vec<Event> = (0..5)
            .map(|i| order(at(65 + i, 0), 20_000, None, None))
            .collect();
        let p = of(&events);
        assert_eq!(p.rfm_recency_days, Some(31));
        assert_eq!((p.rfm_r, p.rfm_f, p.rfm_m), (Some(3), Some(4), Some(4)));
        assert_eq!(p.rfm_segment.as_deref(), Some("loyal"));

        let single = of(&[order(at(100, 0), 9_999, None, None)]);
        assert_eq!(
            (single.rfm_r, single.rfm_f, single.rfm_m),
            (Some(5), Some(1), Some(1))
        );
        assert_eq!(single.rfm_segment.as_deref(), Some("new_customer"));
    }

    #[test]
    fn rfm_grid_covers_every_cell() {
        let segment = |r, f| {
            Rfm {
                recency_days: 0,
                r,
                f,
                m: 1,
            }
            .segment()
        };
        assert_eq!(segment(5, 1), "new_customer");
        assert_eq!(segment(4, 3), "potential_loyalist");
        assert_eq!(segment(4, 4), "champions");
        assert_eq!(segment(3, 1), "promising");
        assert_eq!(segment(3, 2), "needs_attention");
        assert_eq!(segment(3, 5), "loyal");
        assert_eq!(segment(2, 1), "hibernating");
        assert_eq!(segment(1, 3), "at_risk");
        assert_eq!(segment(1, 4), "cant_lose");
    }

    #[test]
    fn rfm_thresholds() {
        let score = |days, orders, cents| {
            let rfm = Rfm::score(days, orders, cents);
            (rfm.r, rfm.f, rfm.m)
        };
        assert_eq!(score(7, 10, 300_000), (5, 5, 5));
        assert_eq!(score(8, 9, 299_999), (4, 4, 4));
        assert_eq!(score(30, 5, 100_000), (4, 4, 4));
        assert_eq!(score(90, 3, 30_000), (3, 3, 3));
        assert_eq!(score(91, 2, 10_000), (2, 2, 2));
        assert_eq!(score(181, 1, 9_999), (1, 1, 1));
    }

    #[test]
    fn top_categories_weigh_kinds_and_decay_with_a_14_day_half_life() {
        let events = [
            // books: one order item 28 days before W: 5 / 4 = 1.25.
            order_with(W - 28 * DAY_MS, 100, None, None, None, &[("books", 100, 3)]),
            // toys: a search at W: 2.
            search(W, "lego", Some("toys")),
            // home: views 14 days before W and at W: 0.5 + 1 = 1.5.
            view(W - 14 * DAY_MS, Some("home")),
            view(W, Some("home")),
            // No category: ignored.
            view(W, None),
        ];
        assert_eq!(of(&events).top_categories, ["toys", "home", "books"]);
    }

    #[test]
    fn top_categories_break_ties_by_name_and_keep_five() {
        let names = ["数码", "travel", "books", "beauty", "home", "食品"];
        let events: Vec<Event> = names.iter().map(|&n| view(W, Some(n))).collect();
        // Byte order: ASCII names first, then 数 (U+6570) before 食 (U+98DF).
        assert_eq!(
            of(&events).top_categories,
            ["beauty", "books", "home", "travel", "数码"]
        );
    }

    #[test]
    fn purchasing_power_uses_the_quantity_weighted_average_price() {
        // (10.00 · 1 + 110.00 · 1) / 2 = 60.00: medium.
        let two = [order_with(
            1,
            0,
            None,
            None,
            None,
            &[("books", 1_000, 1), ("home", 11_000, 1)],
        )];
        assert_eq!(of(&two).purchasing_power.as_deref(), Some("medium"));
        // (10.00 · 3 + 110.00 · 1) / 4 = 35.00: low.
        let heavy = [order_with(
            1,
            0,
            None,
            None,
            None,
            &[("books", 1_000, 3), ("home", 11_000, 1)],
        )];
        assert_eq!(of(&heavy).purchasing_power.as_deref(), Some("low"));
        let tiers = [
            (4_999, "low"),
            (5_000, "medium"),
            (79_999, "high"),
            (80_000, "premium"),
        ];
        for (price, tier) in tiers {
            let one = [order_with(1, 0, None, None, None, &[("books", price, 2)])];
            assert_eq!(of(&one).purchasing_power.as_deref(), Some(tier), "{price}");
        }
        // Orders without items give no tier.
        assert_eq!(of(&[order(1, 500, None, None)]).purchasing_power, None);
    }
}
