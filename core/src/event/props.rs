//! The props of each event type: the wire shape and its reading into the typed model.
//!
//! Every wire field is a raw JSON slice (see [`super::json`]), so this module decides what is
//! required, what type each field has and which values are allowed. Fields not named here are
//! skipped by serde without being converted: the contract says unknown props are ignored.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{array, boolean, money, object, one_of, optional, required, string, unsigned};
use super::model::{Account, ChatMessage, EventKind, Item, Order, PageView, Promotion, Search};
use super::{DecodeError, EventType};

/// Decodes `props` as the props of `event_type`.
pub(super) fn decode<'a>(
    event_type: EventType,
    props: &'a RawValue,
) -> Result<EventKind<'a>, DecodeError> {
    let props = props.get();
    Ok(match event_type {
        EventType::PageView => EventKind::PageView(read(props, page_view)?),
        EventType::Search => EventKind::Search(read(props, search)?),
        EventType::ChatMessage => EventKind::ChatMessage(read(props, chat_message)?),
        EventType::Order => EventKind::Order(read(props, order)?),
        EventType::Promotion => EventKind::Promotion(read(props, promotion)?),
        EventType::Account => EventKind::Account(read(props, account)?),
    })
}

/// Captures the `props` object as the wire struct `W`, then reads it with `typed`.
fn read<'a, W: Deserialize<'a>, T>(
    props: &'a str,
    typed: fn(W) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    typed(object(props, "props")?)
}

// The wire structs borrow every field from the payload; the container-level bound replaces a
// `#[serde(borrow)]` on each field.

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct PageViewProps<'a> {
    page: Option<&'a RawValue>,
    category: Option<&'a RawValue>,
    dwell_ms: Option<&'a RawValue>,
    is_promo: Option<&'a RawValue>,
}

fn page_view(p: PageViewProps<'_>) -> Result<PageView<'_>, DecodeError> {
    Ok(PageView {
        page: required(p.page, "props.page", string)?,
        category: optional(p.category, "props.category", string)?,
        dwell_ms: optional(p.dwell_ms, "props.dwell_ms", unsigned)?,
        is_promo: optional(p.is_promo, "props.is_promo", boolean)?.unwrap_or(false),
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct SearchProps<'a> {
    query: Option<&'a RawValue>,
    category: Option<&'a RawValue>,
}

fn search(p: SearchProps<'_>) -> Result<Search<'_>, DecodeError> {
    Ok(Search {
        query: required(p.query, "props.query", string)?,
        category: optional(p.category, "props.category", string)?,
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ChatMessageProps<'a> {
    direction: Option<&'a RawValue>,
    text: Option<&'a RawValue>,
    staff_id: Option<&'a RawValue>,
}

fn chat_message(p: ChatMessageProps<'_>) -> Result<ChatMessage<'_>, DecodeError> {
    Ok(ChatMessage {
        direction: required(p.direction, "props.direction", one_of)?,
        text: optional(p.text, "props.text", string)?,
        staff_id: optional(p.staff_id, "props.staff_id", string)?,
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct OrderProps<'a> {
    order_id: Option<&'a RawValue>,
    amount: Option<&'a RawValue>,
    discount: Option<&'a RawValue>,
    coupon_id: Option<&'a RawValue>,
    promo_id: Option<&'a RawValue>,
    items: Option<&'a RawValue>,
}

fn order(p: OrderProps<'_>) -> Result<Order<'_>, DecodeError> {
    Ok(Order {
        order_id: required(p.order_id, "props.order_id", string)?,
        amount_cents: required(p.amount, "props.amount", money)?,
        discount_cents: optional(p.discount, "props.discount", money)?.unwrap_or(0),
        coupon_id: optional(p.coupon_id, "props.coupon_id", string)?,
        promo_id: optional(p.promo_id, "props.promo_id", string)?,
        items: optional(p.items, "props.items", items)?.unwrap_or_default(),
    })
}

fn items<'a>(raw: &'a RawValue, path: &'static str) -> Result<Vec<Item<'a>>, DecodeError> {
    array(raw, path)?
        .into_iter()
        .map(|item| self::item(object(item.get(), "props.items[]")?))
        .collect()
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ItemProps<'a> {
    category: Option<&'a RawValue>,
    price: Option<&'a RawValue>,
    qty: Option<&'a RawValue>,
}

fn item(p: ItemProps<'_>) -> Result<Item<'_>, DecodeError> {
    Ok(Item {
        category: required(p.category, "props.items[].category", string)?,
        price_cents: required(p.price, "props.items[].price", money)?,
        qty: required(p.qty, "props.items[].qty", quantity)?,
    })
}

/// An item's `qty`: at least one unit, and few enough for a `u32`.
fn quantity(raw: &RawValue, path: &'static str) -> Result<u32, DecodeError> {
    match u32::try_from(unsigned(raw, path)?) {
        Ok(qty) if qty >= 1 => Ok(qty),
        _ => Err(DecodeError::InvalidValue {
            field: path,
            problem: "must be a whole number from 1 to 4294967295",
        }),
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct PromotionProps<'a> {
    action: Option<&'a RawValue>,
    promo_id: Option<&'a RawValue>,
    coupon_id: Option<&'a RawValue>,
}

fn promotion(p: PromotionProps<'_>) -> Result<Promotion<'_>, DecodeError> {
    Ok(Promotion {
        action: required(p.action, "props.action", one_of)?,
        promo_id: optional(p.promo_id, "props.promo_id", string)?,
        coupon_id: optional(p.coupon_id, "props.coupon_id", string)?,
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct AccountProps<'a> {
    action: Option<&'a RawValue>,
}

fn account(p: AccountProps<'_>) -> Result<Account, DecodeError> {
    Ok(Account {
        action: required(p.action, "props.action", one_of)?,
    })
}
