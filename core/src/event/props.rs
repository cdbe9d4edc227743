//! The props of each event type: the wire shape and its reading into the typed model.
//!
//! Every wire field is a raw JSON slice (see [`super::json`]), so this module decides what is
//! required, what type each field has and which values are allowed. Fields not named here are
//! skipped by serde without being converted: the contract says unknown props are ignored.
//! Each free-text field and number is also held to its [`DecodeLimits`].

use serde::Deserialize;
use serde_json::value::RawValue;

use super::json::{
    array_up_to, boolean, money_up_to, object, one_of, optional, required, string_up_to,
    unsigned_up_to,
};
use super::model::{Account, ChatMessage, EventKind, Item, Order, PageView, Promotion, Search};
use super::{DecodeError, DecodeLimits, EventType};

/// Decodes `props` as the props of `event_type`.
pub(super) fn decode<'a>(
    event_type: EventType,
    props: &'a RawValue,
    limits: &DecodeLimits,
) -> Result<EventKind<'a>, DecodeError> {
    let props = props.get();
    Ok(match event_type {
        EventType::PageView => EventKind::PageView(read(props, limits, page_view)?),
        EventType::Search => EventKind::Search(read(props, limits, search)?),
        EventType::ChatMessage => EventKind::ChatMessage(read(props, limits, chat_message)?),
        EventType::Order => EventKind::Order(read(props, limits, order)?),
        EventType::Promotion => EventKind::Promotion(read(props, limits, promotion)?),
        EventType::Account => EventKind::Account(read(props, limits, account)?),
    })
}

/// Captures the `props` object as the wire struct `W`, then reads it with `typed`.
fn read<'a, W: Deserialize<'a>, T>(
    props: &'a str,
    limits: &DecodeLimits,
    typed: fn(W, &DecodeLimits) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    typed(object(props, "props")?, limits)
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

fn page_view<'a>(p: PageViewProps<'a>, limits: &DecodeLimits) -> Result<PageView<'a>, DecodeError> {
    let string = string_up_to(limits.max_string_bytes);
    Ok(PageView {
        page: required(p.page, "props.page", &string)?,
        category: optional(p.category, "props.category", &string)?,
        dwell_ms: optional(
            p.dwell_ms,
            "props.dwell_ms",
            unsigned_up_to(limits.max_dwell_ms),
        )?,
        is_promo: optional(p.is_promo, "props.is_promo", boolean)?.unwrap_or(false),
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct SearchProps<'a> {
    query: Option<&'a RawValue>,
    category: Option<&'a RawValue>,
}

fn search<'a>(p: SearchProps<'a>, limits: &DecodeLimits) -> Result<Search<'a>, DecodeError> {
    let string = string_up_to(limits.max_string_bytes);
    Ok(Search {
        query: required(p.query, "props.query", &string)?,
        category: optional(p.category, "props.category", &string)?,
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ChatMessageProps<'a> {
    direction: Option<&'a RawValue>,
    text: Option<&'a RawValue>,
    staff_id: Option<&'a RawValue>,
}

fn chat_message<'a>(
    p: ChatMessageProps<'a>,
    limits: &DecodeLimits,
) -> Result<ChatMessage<'a>, DecodeError> {
    Ok(ChatMessage {
        direction: required(p.direction, "props.direction", one_of)?,
        text: optional(p.text, "props.text", string_up_to(limits.max_text_bytes))?,
        staff_id: optional(
            p.staff_id,
            "props.staff_id",
            string_up_to(limits.max_string_bytes),
        )?,
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

fn order<'a>(p: OrderProps<'a>, limits: &DecodeLimits) -> Result<Order<'a>, DecodeError> {
    let string = string_up_to(limits.max_string_bytes);
    let money = money_up_to(limits.max_amount_cents);
    let items = |raw, path| {
        array_up_to(raw, path, limits.max_items, |item| {
            self::item(object(item.get(), "props.items[]")?, limits)
        })
    };
    Ok(Order {
        order_id: required(p.order_id, "props.order_id", &string)?,
        amount_cents: required(p.amount, "props.amount", &money)?,
        discount_cents: optional(p.discount, "props.discount", &money)?.unwrap_or(0),
        coupon_id: optional(p.coupon_id, "props.coupon_id", &string)?,
        promo_id: optional(p.promo_id, "props.promo_id", &string)?,
        items: optional(p.items, "props.items", items)?.unwrap_or_default(),
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ItemProps<'a> {
    category: Option<&'a RawValue>,
    price: Option<&'a RawValue>,
    qty: Option<&'a RawValue>,
}

fn item<'a>(p: ItemProps<'a>, limits: &DecodeLimits) -> Result<Item<'a>, DecodeError> {
    let qty = |raw, path| quantity(raw, path, limits.max_qty);
    Ok(Item {
        category: required(
            p.category,
            "props.items[].category",
            string_up_to(limits.max_string_bytes),
        )?,
        price_cents: required(
            p.price,
            "props.items[].price",
            money_up_to(limits.max_amount_cents),
        )?,
        qty: required(p.qty, "props.items[].qty", qty)?,
    })
}

/// An item's `qty`: at least one unit, and at most `max` (a `u32`).
fn quantity(raw: &RawValue, path: &'static str, max: u32) -> Result<u32, DecodeError> {
    let qty = unsigned_up_to(u64::from(max))(raw, path)?;
    match u32::try_from(qty) {
        Ok(qty) if qty >= 1 => Ok(qty),
        _ => Err(DecodeError::InvalidValue {
            field: path,
            problem: "must be at least 1",
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

fn promotion<'a>(
    p: PromotionProps<'a>,
    limits: &DecodeLimits,
) -> Result<Promotion<'a>, DecodeError> {
    let string = string_up_to(limits.max_string_bytes);
    Ok(Promotion {
        action: required(p.action, "props.action", one_of)?,
        promo_id: optional(p.promo_id, "props.promo_id", &string)?,
        coupon_id: optional(p.coupon_id, "props.coupon_id", &string)?,
    })
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct AccountProps<'a> {
    action: Option<&'a RawValue>,
}

fn account(p: AccountProps<'_>, _limits: &DecodeLimits) -> Result<Account, DecodeError> {
    Ok(Account {
        action: required(p.action, "props.action", one_of)?,
    })
}
