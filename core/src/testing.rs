//! Test-only shorthands: events built the way the contract describes them, times written as
//! (day, hour), and a user's state and profile from a list of events.

use std::borrow::Cow;

use crate::alerts::{Alert, AlertRules, StageTimeline};
use crate::churn_model::BgNbdParams;
use crate::event::{
    Account, AccountAction, ChatMessage, Direction, Event, EventKind, Item, Order, PageView,
    Promotion, PromotionAction, Search,
};
use crate::profile::Profile;
use crate::signals::SignalConfig;
use crate::state::ProfileState;
use crate::time::{EventTime, MILLIS_PER_DAY};

pub(crate) const DAY: i64 = MILLIS_PER_DAY;
pub(crate) const HOUR: i64 = 3_600_000;

/// `hour` o'clock on day `day` (days since 1970-01-01).
pub(crate) fn at(day: i64, hour: i64) -> EventTime {
    EventTime::from_millis(day * DAY + hour * HOUR)
}

pub(crate) fn event(ts: EventTime, kind: EventKind<'static>) -> Event<'static> {
    Event {
        event_id: Cow::Borrowed("e"),
        user_id: Cow::Borrowed("u"),
        ts,
        kind,
    }
}

fn page_view(ts: EventTime, category: Option<&'static str>, is_promo: bool) -> Event<'static> {
    event(
        ts,
        EventKind::PageView(PageView {
            page: Cow::Borrowed("/"),
            category: category.map(Cow::Borrowed),
            dwell_ms: None,
            is_promo,
        }),
    )
}

/// A page view without category.
pub(crate) fn view(ts: EventTime) -> Event<'static> {
    page_view(ts, None, false)
}

pub(crate) fn view_of(ts: EventTime, category: &'static str) -> Event<'static> {
    page_view(ts, Some(category), false)
}

pub(crate) fn promo_view(ts: EventTime) -> Event<'static> {
    page_view(ts, None, true)
}

pub(crate) fn search(
    ts: EventTime,
    query: &'static str,
    category: Option<&'static str>,
) -> Event<'static> {
    event(
        ts,
        EventKind::Search(Search {
            query: Cow::Borrowed(query),
            category: category.map(Cow::Borrowed),
        }),
    )
}

pub(crate) fn chat(
    ts: EventTime,
    direction: Direction,
    text: Option<&'static str>,
) -> Event<'static> {
    event(
        ts,
        EventKind::ChatMessage(ChatMessage {
            direction,
            text: text.map(Cow::Borrowed),
            staff_id: None,
        }),
    )
}

/// An order of `amount_cents` without discount, ids or items.
pub(crate) fn order(ts: EventTime, amount_cents: i64) -> Event<'static> {
    order_with(ts, amount_cents, 0, None, None, &[])
}

/// An order with every prop; `items` are (category, price in cents, qty).
pub(crate) fn order_with(
    ts: EventTime,
    amount_cents: i64,
    discount_cents: i64,
    coupon_id: Option<&'static str>,
    promo_id: Option<&'static str>,
    items: &[(&'static str, i64, u32)],
) -> Event<'static> {
    event(
        ts,
        EventKind::Order(Order {
            order_id: Cow::Borrowed("o"),
            amount_cents,
            discount_cents,
            coupon_id: coupon_id.map(Cow::Borrowed),
            promo_id: promo_id.map(Cow::Borrowed),
            items: items
                .iter()
                .map(|&(category, price_cents, qty)| Item {
                    category: Cow::Borrowed(category),
                    price_cents,
                    qty,
                })
                .collect(),
        }),
    )
}

pub(crate) fn promotion(ts: EventTime, action: PromotionAction) -> Event<'static> {
    event(
        ts,
        EventKind::Promotion(Promotion {
            action,
            promo_id: None,
            coupon_id: None,
        }),
    )
}

pub(crate) fn account(ts: EventTime, action: AccountAction) -> Event<'static> {
    event(ts, EventKind::Account(Account { action }))
}

/// The state after applying `events` in order with the default configuration.
pub(crate) fn state_of(events: &[Event<'_>]) -> ProfileState {
    let config = SignalConfig::default();
    let (first, rest) = events.split_first().expect("a state needs an event");
    let mut state = ProfileState::new(first, &config);
    for event in rest {
        state.apply(event, &config);
    }
    state
}

/// A user as the shard keeps them with alerts on: the profile state, and the stage timeline
/// beside it, which is given each event before the state takes it in.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Followed {
    /// `None` before the first event.
    pub(crate) state: Option<ProfileState>,
    pub(crate) timeline: StageTimeline,
}

impl Followed {
    /// A user whose state holds `events` from before alerts were on: the timeline begins
    /// after them.
    pub(crate) fn begun_after(events: &[Event<'_>]) -> Self {
        Followed {
            state: (!events.is_empty()).then(|| state_of(events)),
            timeline: StageTimeline::default(),
        }
    }

    /// [`StageTimeline::record`], then the event into the state.
    pub(crate) fn record(&mut self, event: &Event<'_>) -> bool {
        let on_time = self.timeline.record(self.state.as_ref(), event);
        let config = SignalConfig::default();
        match &mut self.state {
            Some(state) => state.apply(event, &config),
            None => self.state = Some(ProfileState::new(event, &config)),
        }
        on_time
    }

    /// [`StageTimeline::advance`] with the user's state, or with `reference` its reference
    /// walk.
    pub(crate) fn advance_by(
        &mut self,
        reference: bool,
        to: EventTime,
        config: &SignalConfig,
        rules: &AlertRules,
        out: impl FnMut(Alert),
    ) {
        // Before the first event (a test moving the cursor ahead of every event) the timeline
        // has nothing to read of a state: any state will do.
        let placeholder;
        let state = match &self.state {
            Some(state) => state,
            None => {
                placeholder = state_of(&[view(to)]);
                &placeholder
            }
        };
        if reference {
            self.timeline
                .advance_reference(state, "u", to, config, rules, out);
        } else {
            self.timeline.advance(state, "u", to, config, rules, out);
        }
    }

    /// [`StageTimeline::advance`] with the user's state.
    pub(crate) fn advance(
        &mut self,
        to: EventTime,
        config: &SignalConfig,
        rules: &AlertRules,
        out: impl FnMut(Alert),
    ) {
        self.advance_by(false, to, config, rules, out);
    }

    /// [`StageTimeline::next_due`] with the user's state, or with `reference` its reference
    /// search. Nothing is due before the first event.
    pub(crate) fn next_due_by(&self, reference: bool, config: &SignalConfig) -> Option<EventTime> {
        let state = self.state.as_ref()?;
        if reference {
            self.timeline.next_due_reference(state, config)
        } else {
            self.timeline.next_due(state, config)
        }
    }

    pub(crate) fn next_due(&self, config: &SignalConfig) -> Option<EventTime> {
        self.next_due_by(false, config)
    }
}

/// The profile of user "u" after `events`, evaluated at `watermark` with the defaults.
pub(crate) fn profile(events: &[Event<'_>], watermark: EventTime) -> Profile {
    state_of(events).evaluate(
        "u",
        watermark,
        &SignalConfig::default(),
        &BgNbdParams::default(),
    )
}

/// Strategies for property tests: a user's events of every kind, with times that make the
/// windows, the comeback rule and same-day ties interesting.
pub(crate) mod arbitrary {
    use proptest::prelude::*;
    use proptest::sample::select;

    use super::*;

    const CATEGORIES: &[&str] = &["books", "toys", "home", "beauty", "数码", "食品", "pets"];
    const QUERIES: &[&str] = &["lego", "Big SALE", "优惠券", "lipstick", "deal of the day"];
    const TEXTS: &[&str] = &["hi", "STOP please", "退订", "有优惠吗", "how much?"];
    const IDS: &[&str] = &["", "c1"];

    /// An event time `day0 + [0, days)`: uniform over the span, or clustered in spells five
    /// weeks apart (so comebacks happen), or on a few exact instants (so ties happen).
    pub(crate) fn time(day0: i64, days: i64) -> impl Strategy<Value = EventTime> {
        prop_oneof![
            (0..days * DAY).prop_map(move |ms| EventTime::from_millis(day0 * DAY + ms)),
            (0..days / 35 + 1, 0..4 * DAY).prop_map(move |(spell, ms)| {
                EventTime::from_millis((day0 + spell * 35) * DAY + ms)
            }),
            (0..days, 0..3i64).prop_map(move |(day, hour)| at(day0 + day, hour * 9)),
        ]
    }

    fn category() -> impl Strategy<Value = Option<&'static str>> {
        proptest::option::of(select(CATEGORIES))
    }

    pub(crate) fn kind() -> impl Strategy<Value = EventKind<'static>> {
        let page_view = (category(), any::<bool>()).prop_map(|(category, is_promo)| {
            EventKind::PageView(PageView {
                page: Cow::Borrowed("/p"),
                category: category.map(Cow::Borrowed),
                dwell_ms: None,
                is_promo,
            })
        });
        let search = (select(QUERIES), category()).prop_map(|(query, category)| {
            EventKind::Search(Search {
                query: Cow::Borrowed(query),
                category: category.map(Cow::Borrowed),
            })
        });
        let chat = (
            select(&[Direction::User, Direction::Staff][..]),
            proptest::option::of(select(TEXTS)),
        )
            .prop_map(|(direction, text)| {
                EventKind::ChatMessage(ChatMessage {
                    direction,
                    text: text.map(Cow::Borrowed),
                    staff_id: None,
                })
            });
        let item = (select(CATEGORIES), 0..100_000i64, 1..4u32).prop_map(
            |(category, price_cents, qty)| Item {
                category: Cow::Borrowed(category),
                price_cents,
                qty,
            },
        );
        let order = (
            0..500_000i64,
            prop_oneof![Just(0i64), 0..5_000i64],
            proptest::option::of(select(IDS)),
            proptest::option::of(select(IDS)),
            proptest::collection::vec(item, 0..3),
        )
            .prop_map(|(amount_cents, discount_cents, coupon, promo, items)| {
                EventKind::Order(Order {
                    order_id: Cow::Borrowed("o"),
                    amount_cents,
                    discount_cents,
                    coupon_id: coupon.map(Cow::Borrowed),
                    promo_id: promo.map(Cow::Borrowed),
                    items,
                })
            });
        let promotion = select(PromotionAction::ALL).prop_map(|action| {
            EventKind::Promotion(Promotion {
                action,
                promo_id: None,
                coupon_id: None,
            })
        });
        let account =
            select(AccountAction::ALL).prop_map(|action| EventKind::Account(Account { action }));
        prop_oneof![
            4 => page_view,
            2 => search,
            3 => chat,
            2 => order,
            1 => promotion,
            2 => account,
        ]
    }

    /// One user's events over `days` days from day 20 000 (2024-10-04), in arbitrary order.
    pub(crate) fn events(
        days: i64,
        len: std::ops::Range<usize>,
    ) -> impl Strategy<Value = Vec<Event<'static>>> {
        proptest::collection::vec(
            (time(20_000, days), kind()).prop_map(|(ts, kind)| event(ts, kind)),
            len,
        )
    }
}
