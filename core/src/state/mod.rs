//! Per-user state: what Portrait remembers about a user between events, and nothing more.
//!
//! A [`ProfileState`] is small and packed, as a process holds millions: a few extreme
//! timestamps and counters inline (144 bytes in all), the chat and order totals boxed for the
//! users who have them, the day log (`days`: one 12-byte entry per active day of the last
//! `RETENTION_DAYS`), and one weight per category, under an interned name. Its size is bounded
//! however many events the user sends (under 2 KiB with the defaults; `docs/state.md` has the
//! layout and the figures).
//!
//! - [`ProfileState::apply`] is the per-event hot path: a few comparisons and additions in
//!   place, no allocation except for a user's first message or order, a new day after the
//!   first, or a new category after the first.
//! - [`ProfileState::evaluate`] computes the [`Profile`] row at a watermark (`evaluate.rs`);
//!   [`ProfileState::next_change`] says when that row will next change (`deadline.rs`), which
//!   is what the timer sweep keys users by.
//! - [`ProfileState::prune`] folds away the days no window can need any more.
//! - [`ProfileState::encode`] / [`ProfileState::decode`] are the `profile_state` blob (`codec`).
//!
//! The result never depends on the order events were applied in, nor on when `prune` ran,
//! provided no event arrives after the watermark has moved `RETENTION_DAYS` past its day
//! (`docs/state.md`, "Exactness").

pub(crate) mod codec;
pub(crate) mod days;
mod deadline;
mod evaluate;
pub(crate) mod lifecycle;
pub(crate) mod maybe_time;
mod stored;
#[cfg(test)]
mod tests;

pub use codec::StateDecodeError;
pub use deadline::deadlines_fingerprint;
pub use stored::StoredUser;

use crate::event::{AccountAction, Direction, Event, EventKind, Order};
use crate::signals::activation::EarliestMessages;
use crate::signals::value::purchasing_power::ItemSpend;
use crate::signals::value::top_categories::CategoryWeights;
use crate::signals::{activity, churn, promotion, SignalConfig};
use crate::time::{Day, EventTime};
use codec::{invalid, Reader, Writer};
use days::{DayLog, OrderDay};
use maybe_time::MaybeTime;

#[cfg(doc)]
use crate::profile::Profile;

/// The blob layout version, the first byte of every encoded state. Version 2 added the order
/// days (`OrderTotals::order_days`, the day log's order flags); a version 1 state cannot tell
/// them, so it is refused, and rebuilt by replaying the input.
const VERSION: u8 = 2;

/// Everything Portrait keeps about one user.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileState {
    // Activity.
    /// Min ts of any event.
    first_seen: EventTime,
    /// Min ts of `friend_added`.
    first_contact: MaybeTime,
    /// Max ts of a user-initiated event.
    last_active: MaybeTime,
    page_views: u64,
    searches: u64,
    /// Chat messages: `None` until the first (see [`ChatTotals`]).
    chat: Option<Box<ChatTotals>>,

    /// Orders: activity, promotion and value columns all read these. `None` until the first
    /// order (see [`OrderTotals`]).
    orders: Option<Box<OrderTotals>>,

    // Churn.
    /// Max ts of a hard-churn event.
    last_churn: MaybeTime,

    promo_engagement: u64,

    /// Per-day entries for the windowed columns and comebacks.
    days: DayLog,
    /// Decayed interest per category.
    categories: CategoryWeights,
}

impl ProfileState {
    /// The state of a user whose first applied event is `first`. There is no empty state:
    /// every column is defined from the first event on.
    pub fn new(first: &Event<'_>, config: &SignalConfig) -> Self {
        let mut state = ProfileState {
            first_seen: first.ts,
            first_contact: MaybeTime::NONE,
            last_active: MaybeTime::NONE,
            page_views: 0,
            searches: 0,
            chat: None,
            orders: None,
            last_churn: MaybeTime::NONE,
            promo_engagement: 0,
            days: DayLog::default(),
            categories: CategoryWeights::default(),
        };
        state.apply(first, config);
        state
    }

    /// Takes in one event, whatever its time relative to the events before it or to the
    /// watermark. Applying the same event twice counts it twice: the caller skips replayed
    /// offsets.
    pub fn apply(&mut self, event: &Event<'_>, config: &SignalConfig) {
        let ts = event.ts;
        self.first_seen = self.first_seen.min(ts);
        if activity::is_user_initiated(&event.kind) {
            self.last_active.keep_latest(ts);
            self.days.record_active(ts);
        } else if churn::is_hard_churn(&event.kind) {
            self.last_churn.keep_latest(ts);
            self.days.record_churn(ts);
        }
        if promotion::is_promo_engagement(&event.kind, &config.promo_keywords) {
            self.promo_engagement += 1;
        }
        let interests = &config.top_categories;
        match &event.kind {
            EventKind::PageView(view) => {
                self.page_views += 1;
                if let Some(category) = &view.category {
                    self.categories
                        .add(category, ts, interests.view_weight, interests);
                }
            }
            EventKind::Search(search) => {
                self.searches += 1;
                if let Some(category) = &search.category {
                    self.categories
                        .add(category, ts, interests.search_weight, interests);
                }
            }
            EventKind::ChatMessage(chat) => match chat.direction {
                Direction::User => {
                    let totals = self.chat_mut();
                    totals.messages_sent += 1;
                    totals.first_messages.record(ts, config.activation_messages);
                    totals.marketing_averse = totals.marketing_averse
                        || churn::is_opt_out(chat, &config.marketing_keywords);
                }
                Direction::Staff => self.chat_mut().messages_received += 1,
            },
            EventKind::Order(order) => self.apply_order(ts, order, config),
            EventKind::Account(account) => {
                if account.action == AccountAction::FriendAdded {
                    self.first_contact.keep_earliest(ts);
                }
            }
            EventKind::Promotion(_) => {}
        }
    }

    fn apply_order(&mut self, ts: EventTime, order: &Order<'_>, config: &SignalConfig) {
        let seen = self.days.record_order(ts.day());
        let totals = self
            .orders
            .get_or_insert_with(|| Box::new(OrderTotals::NONE));
        totals.count_order_day(ts.day(), seen);
        totals.orders += 1;
        if promotion::is_promo_order(order) {
            totals.promo_orders += 1;
        }
        totals.revenue_cents = totals.revenue_cents.saturating_add(order.amount_cents);
        totals.discount_cents = totals.discount_cents.saturating_add(order.discount_cents);
        totals.last_order.keep_latest(ts);
        let interests = &config.top_categories;
        for item in &order.items {
            totals.items.record(item);
            self.categories
                .add(&item.category, ts, interests.item_weight, interests);
        }
    }

    /// The chat totals, zero without messages.
    fn chat_totals(&self) -> &ChatTotals {
        self.chat.as_deref().unwrap_or(&ChatTotals::NONE)
    }

    fn chat_mut(&mut self) -> &mut ChatTotals {
        self.chat.get_or_insert_with(|| Box::new(ChatTotals::NONE))
    }

    /// The order totals, zero without orders.
    fn order_totals(&self) -> &OrderTotals {
        self.orders.as_deref().unwrap_or(&OrderTotals::NONE)
    }

    /// Drops the detail no window can need once the watermark is `watermark`: the day
    /// entries of days `<= day(watermark) − RETENTION_DAYS`, folded into a summary.
    ///
    /// Call it with non-decreasing watermarks; afterwards, evaluate only at watermarks at or
    /// after the latest one pruned at. An event on a day already pruned (it arrived after the
    /// pruning watermark had moved `RETENTION_DAYS` past its day) still counts in every column
    /// except `reactivated_at` (see `docs/state.md`, "Exactness").
    pub fn prune(&mut self, watermark: EventTime, config: &SignalConfig) {
        self.days.prune(watermark, config.reactivation_gap_days);
    }

    /// Heap bytes the state holds, by allocated capacity: with `size_of::<ProfileState>()`,
    /// the memory one user costs (the "state size" metric).
    pub fn heap_bytes(&self) -> usize {
        self.heap_bytes_by_part()
            .iter()
            .map(|(_, bytes)| bytes)
            .sum()
    }

    /// [`ProfileState::heap_bytes`] by part of the state, for the memory benchmark.
    pub fn heap_bytes_by_part(&self) -> [(&'static str, usize); 4] {
        let orders = self.orders.as_ref().map_or(0, |_| size_of::<OrderTotals>());
        let chat = self.chat.as_ref().map_or(0, |chat| {
            size_of::<ChatTotals>() + chat.first_messages.heap_bytes()
        });
        [
            ("orders", orders),
            ("chat", chat),
            ("days", self.days.heap_bytes()),
            ("categories", self.categories.heap_bytes()),
        ]
    }

    /// Appends the `profile_state` blob: a version byte, then the fields as varints (times as
    /// distances from `first_seen`, days as distances from the previous entry). The layout is
    /// in `docs/state.md`. Equal states give equal bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let base = self.first_seen;
        let totals = self.order_totals();
        let chat = self.chat_totals();
        let mut w = Writer::new(out);
        w.u8(VERSION);
        w.signed(base.millis());
        let optional = [
            self.first_contact.get(),
            self.last_active.get(),
            totals.last_order.get(),
            self.last_churn.get(),
        ];
        let flags = optional
            .iter()
            .enumerate()
            .fold(u8::from(chat.marketing_averse) << 4, |flags, (bit, ts)| {
                flags | u8::from(ts.is_some()) << bit
            });
        w.u8(flags);
        for ts in optional.into_iter().flatten() {
            w.after(base, ts);
        }
        for counter in [
            self.page_views,
            self.searches,
            chat.messages_sent,
            chat.messages_received,
            totals.orders,
            totals.promo_orders,
            self.promo_engagement,
        ] {
            w.varint(counter.into());
        }
        // Never negative: the decoder rejects negative amounts.
        w.varint(totals.revenue_cents as u128);
        w.varint(totals.discount_cents as u128);
        if totals.orders > 0 {
            w.varint(totals.order_days.into());
            w.varint(totals.first_order_day.since(base.day()) as u128);
        }
        totals.items.encode(&mut w);
        chat.first_messages.encode(base, &mut w);
        self.days.encode(base, &mut w);
        self.categories.encode(&mut w);
    }

    /// Restores a state from what [`ProfileState::encode`] wrote, checking the invariants the
    /// state relies on.
    pub fn decode(bytes: &[u8]) -> Result<Self, StateDecodeError> {
        let mut r = Reader::new(bytes);
        match r.u8("version").map_err(|_| StateDecodeError::Empty)? {
            VERSION => {}
            found => {
                return Err(StateDecodeError::UnsupportedVersion {
                    found,
                    supported: VERSION,
                })
            }
        }
        let first_seen = EventTime::try_from_millis(r.signed("first_seen")?)
            .map_err(|_| invalid("first_seen", "outside the years 0000 to 9999"))?;
        let flags = r.u8("flags")?;
        if flags >= 1 << 5 {
            return Err(invalid("flags", "unknown flags set"));
        }
        let mut optional = |bit: u8, field| {
            (flags & 1 << bit != 0)
                .then(|| r.after(first_seen, field))
                .transpose()
        };
        let first_contact = optional(0, "first_contact")?;
        let last_active = optional(1, "last_active")?;
        let last_order = optional(2, "last_order")?;
        let last_churn = optional(3, "last_churn")?;
        // Fields are read in the order they are written, which is the blob's order.
        let marketing_averse = flags & 1 << 4 != 0;
        let page_views = r.int("page_views")?;
        let searches = r.int("searches")?;
        let messages_sent = r.int("messages_sent")?;
        let messages_received = r.int("messages_received")?;
        let orders = r.int("orders")?;
        let promo_orders = r.int("promo_orders")?;
        let promo_engagement = r.int("promo_engagement")?;
        let revenue_cents = r.int("revenue_cents")?;
        let discount_cents = r.int("discount_cents")?;
        let (order_days, first_order_day) = if orders > 0 {
            let order_days = r.int("order_days")?;
            let since_first_seen: i32 = r.int("first_order_day")?;
            let first_order_day = first_seen
                .day()
                .get()
                .checked_add(since_first_seen)
                .map(Day::new)
                .ok_or(invalid("first_order_day", "beyond the range of days"))?;
            (order_days, first_order_day)
        } else {
            OrderTotals::NO_ORDER_DAYS
        };
        let totals = OrderTotals {
            orders,
            promo_orders,
            revenue_cents,
            discount_cents,
            last_order: last_order.into(),
            order_days,
            first_order_day,
            items: ItemSpend::decode(&mut r)?,
        };
        if totals.promo_orders > totals.orders {
            return Err(invalid("promo_orders", "more promo orders than orders"));
        }
        totals.check_order_days()?;
        let chat = ChatTotals {
            messages_sent,
            messages_received,
            marketing_averse,
            first_messages: EarliestMessages::decode(first_seen, &mut r)?,
        };
        let state = ProfileState {
            first_seen,
            first_contact: first_contact.into(),
            last_active: last_active.into(),
            last_churn: last_churn.into(),
            page_views,
            searches,
            promo_engagement,
            // Boxed only when there is something in them, as `apply` does: equal states are
            // equal values.
            chat: (chat != ChatTotals::NONE).then(|| Box::new(chat)),
            orders: (totals != OrderTotals::NONE).then(|| Box::new(totals)),
            days: DayLog::decode(first_seen, &mut r)?,
            categories: CategoryWeights::decode(&mut r)?,
        };
        r.finish()?;
        Ok(state)
    }
}

/// What a user's chat messages add up to. Boxed in the state, as many users never chat.
#[derive(Debug, Clone, PartialEq)]
struct ChatTotals {
    /// Messages from the user.
    messages_sent: u64,
    /// Messages from staff.
    messages_received: u64,
    /// The earliest user messages, for `activated_at`.
    first_messages: EarliestMessages,
    /// An OR over the user's messages; the text is never stored.
    marketing_averse: bool,
}

impl ChatTotals {
    /// No messages.
    const NONE: ChatTotals = ChatTotals {
        messages_sent: 0,
        messages_received: 0,
        marketing_averse: false,
        first_messages: EarliestMessages::NONE,
    };
}

/// What a user's orders add up to. Boxed in the state, as many users never order: for them
/// the box is an 8-byte `None` instead of 72 bytes of zeros.
#[derive(Debug, Clone, PartialEq)]
struct OrderTotals {
    orders: u64,
    promo_orders: u64,
    /// Sums in whole cents, saturating (amounts are never negative, so saturating sums do not
    /// depend on the order of their terms either).
    revenue_cents: i64,
    discount_cents: i64,
    /// Max ts of an order, for RFM recency.
    last_order: MaybeTime,
    /// Distinct days with an order, for the churn model: its repeat purchases x are the days
    /// after the first (docs/signals.md, "Churn probability").
    order_days: u32,
    /// The day of the first order.
    first_order_day: Day,
    items: ItemSpend,
}

impl OrderTotals {
    /// No orders.
    const NONE: OrderTotals = OrderTotals {
        orders: 0,
        promo_orders: 0,
        revenue_cents: 0,
        discount_cents: 0,
        last_order: MaybeTime::NONE,
        order_days: Self::NO_ORDER_DAYS.0,
        first_order_day: Self::NO_ORDER_DAYS.1,
        items: ItemSpend::NONE,
    };

    /// `order_days` and `first_order_day` without orders.
    const NO_ORDER_DAYS: (u32, Day) = (0, Day::new(0));

    /// Counts the day of a new order among the order days, unless the day had an order
    /// already, as [`DayLog::record_order`] says. Call it before the order is counted.
    ///
    /// A day folded out of the log no longer says whether it had an order; it is new for sure
    /// only before the first order day or after the last. An order on a folded day between
    /// them (it arrived after the watermark had moved `RETENTION_DAYS` past its day) is left
    /// out: the one case where `order_days` may come out short (docs/state.md, "Exactness").
    fn count_order_day(&mut self, day: Day, seen: OrderDay) {
        let last_order_day = self.last_order.get().map(EventTime::day);
        let new = match (seen, last_order_day) {
            (_, None) => true,
            (OrderDay::New, _) => true,
            (OrderDay::Known, _) => false,
            (OrderDay::Folded, Some(last)) => day < self.first_order_day || day > last,
        };
        if last_order_day.is_none() || day < self.first_order_day {
            self.first_order_day = day;
        }
        if new {
            self.order_days += 1;
        }
    }

    /// The invariants of the order days, which the churn model relies on: one day per first
    /// and last order day at least, no more days than orders or than the days they span.
    fn check_order_days(&self) -> Result<(), StateDecodeError> {
        let Some(last) = self.last_order.get().map(EventTime::day) else {
            return Ok(());
        };
        let span = last.since(self.first_order_day);
        let fits = span >= 0
            && u64::from(self.order_days) <= self.orders
            && i64::from(self.order_days) <= i64::from(span) + 1
            && (self.order_days == 1) == (span == 0)
            && self.order_days >= 1;
        if fits {
            Ok(())
        } else {
            Err(invalid(
                "order_days",
                "inconsistent with the orders and their first and last days",
            ))
        }
    }
}
