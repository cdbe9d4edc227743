//! The typed event: what a payload means once it has passed the contract.
//!
//! Strings are `Cow<'a, str>`: borrowed from the Kafka payload unless the JSON text carries an
//! escape (`\n`, `\u00e9`), the only case where decoding has to build a new string. Money is in
//! whole cents (`i64`), so sums are exact and independent of their order.

use std::borrow::Cow;

use super::names::{AccountAction, Direction, EventType, PromotionAction};
use crate::time::EventTime;

/// One decoded event, borrowing from the payload it was decoded from.
#[derive(Debug, Clone, PartialEq)]
pub struct Event<'a> {
    /// Unique per event, as the producer assigned it; never empty.
    pub event_id: Cow<'a, str>,
    /// The user the event belongs to (and the Kafka message key): 1 to 128 bytes by default.
    pub user_id: Cow<'a, str>,
    /// When it happened, per the producer.
    pub ts: EventTime,
    /// The type and its props.
    pub kind: EventKind<'a>,
}

impl Event<'_> {
    /// The envelope's `type`.
    pub fn event_type(&self) -> EventType {
        self.kind.event_type()
    }
}

/// The event's type with the props of that type.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind<'a> {
    PageView(PageView<'a>),
    Search(Search<'a>),
    ChatMessage(ChatMessage<'a>),
    Order(Order<'a>),
    Promotion(Promotion<'a>),
    Account(Account),
}

impl EventKind<'_> {
    /// The wire `type` this kind was decoded from.
    pub fn event_type(&self) -> EventType {
        match self {
            EventKind::PageView(_) => EventType::PageView,
            EventKind::Search(_) => EventType::Search,
            EventKind::ChatMessage(_) => EventType::ChatMessage,
            EventKind::Order(_) => EventType::Order,
            EventKind::Promotion(_) => EventType::Promotion,
            EventKind::Account(_) => EventType::Account,
        }
    }
}

/// `page_view` props.
#[derive(Debug, Clone, PartialEq)]
pub struct PageView<'a> {
    pub page: Cow<'a, str>,
    pub category: Option<Cow<'a, str>>,
    pub dwell_ms: Option<u64>,
    /// Whether the page is a promotion page; absent means `false`.
    pub is_promo: bool,
}

/// `search` props.
#[derive(Debug, Clone, PartialEq)]
pub struct Search<'a> {
    pub query: Cow<'a, str>,
    pub category: Option<Cow<'a, str>>,
}

/// `chat_message` props.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage<'a> {
    pub direction: Direction,
    /// Used for keyword flags only; the contract forbids persisting it.
    pub text: Option<Cow<'a, str>>,
    pub staff_id: Option<Cow<'a, str>>,
}

/// `order` props. Money is in whole cents, rounded half away from zero from the JSON number.
#[derive(Debug, Clone, PartialEq)]
pub struct Order<'a> {
    pub order_id: Cow<'a, str>,
    /// The amount paid, `>= 0`.
    pub amount_cents: i64,
    /// The discount granted, `>= 0`; absent means 0.
    pub discount_cents: i64,
    pub coupon_id: Option<Cow<'a, str>>,
    pub promo_id: Option<Cow<'a, str>>,
    /// The order lines; absent means none.
    pub items: Vec<Item<'a>>,
}

/// One order line.
#[derive(Debug, Clone, PartialEq)]
pub struct Item<'a> {
    pub category: Cow<'a, str>,
    /// Unit price, `>= 0`.
    pub price_cents: i64,
    /// Units bought, `>= 1`.
    pub qty: u32,
}

/// `promotion` props.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion<'a> {
    pub action: PromotionAction,
    pub promo_id: Option<Cow<'a, str>>,
    pub coupon_id: Option<Cow<'a, str>>,
}

/// `account` props.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    pub action: AccountAction,
}
