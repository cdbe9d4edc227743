//! The generator's typed event records: what the simulation produces, what the reference model
//! reads, and (through `Serialize`) exactly the `props` object of the contract.
//!
//! Records are kept compact because a large data set holds millions of them: vocabulary is
//! `&'static str` from the catalogue, a category is one byte, and the rare, large order record
//! is boxed so it does not widen every other event.

use serde::{Serialize, Serializer};

use crate::catalogue::Category;

/// One valid event of one user. The user and the event id are implied by where the record is
/// stored (see `dataset`), so they cost nothing here.
#[derive(Debug)]
pub(crate) struct Event {
    /// Event time, epoch milliseconds.
    pub ts: i64,
    pub kind: EventKind,
}

/// The typed body of an event; serializes (untagged) to the contract's `props` object.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum EventKind {
    PageView(PageView),
    Search(Search),
    Chat(Chat),
    Order(Box<Order>),
    Promotion(Promotion),
    Account(Account),
}

impl EventKind {
    /// The envelope's `type`.
    pub fn type_name(&self) -> &'static str {
        match self {
            EventKind::PageView(_) => "page_view",
            EventKind::Search(_) => "search",
            EventKind::Chat(_) => "chat_message",
            EventKind::Order(_) => "order",
            EventKind::Promotion(_) => "promotion",
            EventKind::Account(_) => "account",
        }
    }
}

/// Money in whole cents. The wire form is a JSON number with at most two decimals: `cents /
/// 100` as an `f64` is the double nearest that decimal, and JSON writers print the shortest
/// text that reads back as it, which is that decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cents(pub i64);

impl Serialize for Cents {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_f64(self.0 as f64 / 100.0)
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct PageView {
    pub page: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dwell_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_promo: Option<bool>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Search {
    pub query: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Direction {
    /// Sent by the user.
    User,
    /// Sent by staff to the user.
    Staff,
}

#[derive(Debug, Serialize)]
pub(crate) struct Chat {
    pub direction: Direction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub staff_id: Option<StaffId>,
}

/// A staff member, written `staff-N`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StaffId(pub u8);

impl Serialize for StaffId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("staff-{}", self.0))
    }
}

#[derive(Debug, Serialize)]
pub(crate) struct Order {
    pub order_id: String,
    /// Paid, after the discount.
    pub amount: Cents,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Cents>,
    /// `Some("")` happens on purpose: an empty coupon does not make a promo order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_id: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promo_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Item {
    pub category: Category,
    /// Unit price.
    pub price: Cents,
    pub qty: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum PromoAction {
    Issued,
    Claimed,
    Redeemed,
    Expired,
}

#[derive(Debug, Serialize)]
pub(crate) struct Promotion {
    pub action: PromoAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub promo_id: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_id: Option<Box<str>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum AccountAction {
    Register,
    Login,
    FriendAdded,
    FriendDeleted,
    Cancel,
}

#[derive(Debug, Serialize)]
pub(crate) struct Account {
    pub action: AccountAction,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_print_as_two_decimal_numbers() {
        let json = |c| serde_json::to_string(&Cents(c)).unwrap();
        assert_eq!(json(12_345), "123.45");
        assert_eq!(json(1_999_999_999), "19999999.99");
        assert_eq!(json(10), "0.1");
        assert_eq!(json(700), "7.0");
    }

    #[test]
    fn amounts_print_with_at_most_two_decimals_and_the_exact_cents() {
        for cents in (0..100_000_000).step_by(997) {
            let text = serde_json::to_string(&Cents(cents)).unwrap();
            let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
            assert!(frac.len() <= 2, "{cents}: {text}");
            let frac_cents: i64 = format!("{frac:0<2}").parse().unwrap();
            assert_eq!(
                whole.parse::<i64>().unwrap() * 100 + frac_cents,
                cents,
                "{text}"
            );
        }
    }

    #[test]
    fn props_serialize_without_absent_fields() {
        let order = EventKind::Order(Box::new(Order {
            order_id: "u000001-o1".into(),
            amount: Cents(9_900),
            discount: Some(Cents(0)),
            coupon_id: Some("".into()),
            promo_id: None,
            items: vec![Item {
                category: Category::all().next().unwrap(),
                price: Cents(4_950),
                qty: 2,
            }],
        }));
        assert_eq!(
            serde_json::to_string(&order).unwrap(),
            r#"{"order_id":"u000001-o1","amount":99.0,"discount":0.0,"coupon_id":"","items":[{"category":"数码","price":49.5,"qty":2}]}"#
        );
        let chat = EventKind::Chat(Chat {
            direction: Direction::Staff,
            text: None,
            staff_id: Some(StaffId(3)),
        });
        assert_eq!(
            serde_json::to_string(&chat).unwrap(),
            r#"{"direction":"staff","staff_id":"staff-3"}"#
        );
        let account = EventKind::Account(Account {
            action: AccountAction::FriendDeleted,
        });
        assert_eq!(
            serde_json::to_string(&account).unwrap(),
            r#"{"action":"friend_deleted"}"#
        );
    }
}
