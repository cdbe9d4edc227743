//! The props of each event type: which fields each type reads, and their reading into the
//! typed model.
//!
//! Each type's fields are listed in [`names`]; the scan captures them into [`Props`] in the
//! same pass as the envelope when `type` comes before `props` (as producers write it), else
//! `props` is scanned a second time once the type is known. The reader of each type then
//! decides what is required, what type each field has and which values are allowed. Fields
//! the type does not name are validated by the scan and skipped: the contract says unknown
//! props are ignored. Each free-text field and number is also held to its [`DecodeLimits`].

use super::json::{
    array_up_to, boolean, money_up_to, one_of, optional, required, string_up_to, unsigned_up_to,
    wrong_type, JsonType,
};
use super::model::{Account, ChatMessage, EventKind, Item, Order, PageView, Promotion, Search};
use super::scan::{JsonError, Raw, Scanner};
use super::{DecodeError, DecodeLimits, EventType};

/// The props fields each type reads, in the order producers write them (the contract's),
/// which is the order [`Scanner::object`] finds fastest. No type has more than [`MAX_FIELDS`].
fn names(event_type: EventType) -> &'static [&'static str] {
    match event_type {
        EventType::PageView => &["page", "category", "dwell_ms", "is_promo"],
        EventType::Search => &["query", "category"],
        EventType::ChatMessage => &["direction", "text", "staff_id"],
        EventType::Order => &[
            "order_id",
            "amount",
            "discount",
            "coupon_id",
            "promo_id",
            "items",
        ],
        EventType::Promotion => &["action", "promo_id", "coupon_id"],
        EventType::Account => &["action"],
    }
}

const MAX_FIELDS: usize = 6;

/// A type's props values, in the order of [`names`]: each type's reader names them so.
type Values<'a> = [Option<Raw<'a>>; MAX_FIELDS];

/// The fields of a props object, as the scan found them for one type.
#[derive(Debug, Default)]
pub(super) struct Props<'a> {
    /// The type whose fields these are; `None` until captured.
    event_type: Option<EventType>,
    /// Each field's value (`null` included), indexed as [`names`] lists them.
    values: Values<'a>,
    /// Bit `i` is set when field `i` was given twice. Reported when the props are read, so
    /// that the envelope's problems come first, as the contract's order says.
    duplicated: u8,
}

impl<'a> Props<'a> {
    /// Captures the fields `event_type` reads from the props object under the cursor;
    /// returns the whole object.
    pub(super) fn capture(
        &mut self,
        scanner: &mut Scanner<'a>,
        event_type: EventType,
    ) -> Result<Raw<'a>, JsonError> {
        self.event_type = Some(event_type);
        scanner.object(names(event_type), |scanner, index| {
            let value = scanner.value()?;
            if let Some(index) = index {
                if self.values[index].replace(value).is_some() {
                    self.duplicated |= 1 << index;
                }
            }
            Ok(())
        })
    }

    /// The values, or the first field given twice as invalid JSON: which value is meant is
    /// ambiguous. `event_type` is the one they were captured for.
    fn values(&self, event_type: EventType) -> Result<Values<'a>, DecodeError> {
        if self.duplicated == 0 {
            return Ok(self.values);
        }
        let name = names(event_type)[self.duplicated.trailing_zeros() as usize];
        Err(DecodeError::duplicate_field(&format!("props.{name}")))
    }
}

/// Decodes the props of `event_type`: `raw` is the `props` value, `props` its fields if the
/// scan captured them for this type.
pub(super) fn decode<'a>(
    event_type: EventType,
    raw: Raw<'a>,
    props: &Props<'a>,
    limits: &DecodeLimits,
) -> Result<EventKind<'a>, DecodeError> {
    if raw.kind != JsonType::Object {
        return Err(wrong_type(raw, "props", "an object"));
    }
    let mut rescanned = Props::default();
    let props = if props.event_type == Some(event_type) {
        props
    } else {
        rescanned.capture(&mut Scanner::new(raw.text), event_type)?;
        &rescanned
    };
    let values = props.values(event_type)?;
    Ok(match event_type {
        EventType::PageView => EventKind::PageView(page_view(values, limits)?),
        EventType::Search => EventKind::Search(search(values, limits)?),
        EventType::ChatMessage => EventKind::ChatMessage(chat_message(values, limits)?),
        EventType::Order => EventKind::Order(order(values, limits)?),
        EventType::Promotion => EventKind::Promotion(promotion(values, limits)?),
        EventType::Account => EventKind::Account(account(values)?),
    })
}

fn page_view<'a>(values: Values<'a>, limits: &DecodeLimits) -> Result<PageView<'a>, DecodeError> {
    let [page, category, dwell_ms, is_promo, ..] = values;
    let string = string_up_to(limits.max_string_bytes);
    Ok(PageView {
        page: required(page, "props.page", &string)?,
        category: optional(category, "props.category", &string)?,
        dwell_ms: optional(
            dwell_ms,
            "props.dwell_ms",
            unsigned_up_to(limits.max_dwell_ms),
        )?,
        is_promo: optional(is_promo, "props.is_promo", boolean)?.unwrap_or(false),
    })
}

fn search<'a>(values: Values<'a>, limits: &DecodeLimits) -> Result<Search<'a>, DecodeError> {
    let [query, category, ..] = values;
    let string = string_up_to(limits.max_string_bytes);
    Ok(Search {
        query: required(query, "props.query", &string)?,
        category: optional(category, "props.category", &string)?,
    })
}

fn chat_message<'a>(
    values: Values<'a>,
    limits: &DecodeLimits,
) -> Result<ChatMessage<'a>, DecodeError> {
    let [direction, text, staff_id, ..] = values;
    Ok(ChatMessage {
        direction: required(direction, "props.direction", one_of)?,
        text: optional(text, "props.text", string_up_to(limits.max_text_bytes))?,
        staff_id: optional(
            staff_id,
            "props.staff_id",
            string_up_to(limits.max_string_bytes),
        )?,
    })
}

fn order<'a>(values: Values<'a>, limits: &DecodeLimits) -> Result<Order<'a>, DecodeError> {
    let [order_id, amount, discount, coupon_id, promo_id, items] = values;
    let string = string_up_to(limits.max_string_bytes);
    let money = money_up_to(limits.max_amount_cents);
    let read_items =
        |raw, path| array_up_to(raw, path, limits.max_items, |scanner| item(scanner, limits));
    Ok(Order {
        order_id: required(order_id, "props.order_id", &string)?,
        amount_cents: required(amount, "props.amount", &money)?,
        discount_cents: optional(discount, "props.discount", &money)?.unwrap_or(0),
        coupon_id: optional(coupon_id, "props.coupon_id", &string)?,
        promo_id: optional(promo_id, "props.promo_id", &string)?,
        items: optional(items, "props.items", read_items)?.unwrap_or_default(),
    })
}

/// An item's fields, as [`Scanner::object`] finds them fastest.
const ITEM_FIELDS: [&str; 3] = ["category", "price", "qty"];

/// One element of `items`, under the cursor.
fn item<'a>(scanner: &mut Scanner<'a>, limits: &DecodeLimits) -> Result<Item<'a>, DecodeError> {
    if !scanner.at_object() {
        return Err(wrong_type(scanner.value()?, "props.items[]", "an object"));
    }
    let mut values = [None; ITEM_FIELDS.len()];
    scanner.object(&ITEM_FIELDS, |scanner, index| {
        let value = scanner.value()?;
        if let Some(index) = index {
            if values[index].replace(value).is_some() {
                let name = ITEM_FIELDS[index];
                return Err(DecodeError::duplicate_field(&format!(
                    "props.items[].{name}"
                )));
            }
        }
        Ok(())
    })?;
    let [category, price, qty] = values;
    let quantity = |raw, path| quantity(raw, path, limits.max_qty);
    Ok(Item {
        category: required(
            category,
            "props.items[].category",
            string_up_to(limits.max_string_bytes),
        )?,
        price_cents: required(
            price,
            "props.items[].price",
            money_up_to(limits.max_amount_cents),
        )?,
        qty: required(qty, "props.items[].qty", quantity)?,
    })
}

/// An item's `qty`: at least one unit, and at most `max` (a `u32`).
fn quantity(raw: Raw<'_>, path: &'static str, max: u32) -> Result<u32, DecodeError> {
    let qty = unsigned_up_to(u64::from(max))(raw, path)?;
    match u32::try_from(qty) {
        Ok(qty) if qty >= 1 => Ok(qty),
        _ => Err(DecodeError::InvalidValue {
            field: path,
            problem: "must be at least 1",
        }),
    }
}

fn promotion<'a>(values: Values<'a>, limits: &DecodeLimits) -> Result<Promotion<'a>, DecodeError> {
    let [action, promo_id, coupon_id, ..] = values;
    let string = string_up_to(limits.max_string_bytes);
    Ok(Promotion {
        action: required(action, "props.action", one_of)?,
        promo_id: optional(promo_id, "props.promo_id", &string)?,
        coupon_id: optional(coupon_id, "props.coupon_id", &string)?,
    })
}

fn account(values: Values<'_>) -> Result<Account, DecodeError> {
    let [action, ..] = values;
    Ok(Account {
        action: required(action, "props.action", one_of)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_type_reads_more_fields_than_props_holds() {
        for &event_type in EventType::ALL {
            assert!(names(event_type).len() <= MAX_FIELDS, "{event_type}");
        }
    }
}
