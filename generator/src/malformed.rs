//! Invalid messages, one kind per way the contract can be broken.
//!
//! Each is built from a small template for a real user and a real event time, so it lands on
//! the same partition and at the same point of the stream as valid traffic. None of them may
//! change any profile: the pipeline must send each to the dead-letter sink.

use serde_json::{json, Value};

/// The contract's default payload size limit is 64 KiB; the oversized message is ~70 KiB.
const OVERSIZED_PADDING_BYTES: usize = 70 * 1024;

/// How a malformed message breaks the event contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MalformedKind {
    /// Not JSON at all: a valid payload cut in half.
    InvalidJson,
    MissingEventId,
    MissingType,
    MissingUserId,
    MissingTs,
    /// `type` is not one of the six event types.
    UnknownType,
    /// `ts` is a string that is not RFC 3339.
    UnparseableTs,
    /// `ts` is neither a string nor an integer (a boolean).
    TsWrongType,
    /// `user_id` is the empty string.
    EmptyUserId,
    /// `user_id` is over 128 bytes (though under 128 characters: 50 CJK characters).
    UserIdTooLong,
    /// The payload exceeds the size limit (an otherwise valid event with a huge unknown prop).
    PayloadTooLarge,
    /// An order whose `amount` is a string.
    AmountWrongType,
    /// A page view whose `is_promo` is a string.
    IsPromoWrongType,
    /// A chat message whose `direction` is `sideways`.
    InvalidDirection,
    /// An account event whose `action` is `explode`.
    InvalidAccountAction,
    /// An order with a negative `amount`.
    NegativeAmount,
}

impl MalformedKind {
    /// Every kind; generation cycles through them in this order.
    pub const ALL: [MalformedKind; 16] = [
        MalformedKind::InvalidJson,
        MalformedKind::MissingEventId,
        MalformedKind::MissingType,
        MalformedKind::MissingUserId,
        MalformedKind::MissingTs,
        MalformedKind::UnknownType,
        MalformedKind::UnparseableTs,
        MalformedKind::TsWrongType,
        MalformedKind::EmptyUserId,
        MalformedKind::UserIdTooLong,
        MalformedKind::PayloadTooLarge,
        MalformedKind::AmountWrongType,
        MalformedKind::IsPromoWrongType,
        MalformedKind::InvalidDirection,
        MalformedKind::InvalidAccountAction,
        MalformedKind::NegativeAmount,
    ];

    /// A snake_case reason code, e.g. `missing_ts`.
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::InvalidJson => "invalid_json",
            MalformedKind::MissingEventId => "missing_event_id",
            MalformedKind::MissingType => "missing_type",
            MalformedKind::MissingUserId => "missing_user_id",
            MalformedKind::MissingTs => "missing_ts",
            MalformedKind::UnknownType => "unknown_type",
            MalformedKind::UnparseableTs => "unparseable_ts",
            MalformedKind::TsWrongType => "ts_wrong_type",
            MalformedKind::EmptyUserId => "empty_user_id",
            MalformedKind::UserIdTooLong => "user_id_too_long",
            MalformedKind::PayloadTooLarge => "payload_too_large",
            MalformedKind::AmountWrongType => "amount_wrong_type",
            MalformedKind::IsPromoWrongType => "is_promo_wrong_type",
            MalformedKind::InvalidDirection => "invalid_direction",
            MalformedKind::InvalidAccountAction => "invalid_account_action",
            MalformedKind::NegativeAmount => "negative_amount",
        }
    }

    /// The payload of a message of this kind for `user_id`, with event time `ts_ms`.
    pub(crate) fn payload(self, user_id: &str, event_id: &str, ts_ms: i64) -> Vec<u8> {
        let event = |event_type: &str, props: Value| {
            json!({
                "event_id": event_id,
                "type": event_type,
                "user_id": user_id,
                "ts": ts_ms,
                "props": props,
            })
        };
        let page_view = || event("page_view", json!({ "page": "/home" }));
        let order = |amount: Value| {
            event(
                "order",
                json!({ "order_id": format!("{event_id}-o"), "amount": amount }),
            )
        };
        let document = match self {
            MalformedKind::InvalidJson => return truncated(&page_view()),
            MalformedKind::MissingEventId => without(page_view(), "event_id"),
            MalformedKind::MissingType => without(page_view(), "type"),
            MalformedKind::MissingUserId => without(page_view(), "user_id"),
            MalformedKind::MissingTs => without(page_view(), "ts"),
            MalformedKind::UnknownType => event("wishlist_add", json!({ "item": "lego" })),
            MalformedKind::UnparseableTs => with(page_view(), "ts", json!("yesterday at noon")),
            MalformedKind::TsWrongType => with(page_view(), "ts", json!(true)),
            MalformedKind::EmptyUserId => with(page_view(), "user_id", json!("")),
            MalformedKind::UserIdTooLong => with(page_view(), "user_id", json!("用户".repeat(25))),
            MalformedKind::PayloadTooLarge => event(
                "page_view",
                json!({ "page": "/home", "padding": "x".repeat(OVERSIZED_PADDING_BYTES) }),
            ),
            MalformedKind::AmountWrongType => order(json!("12.50")),
            MalformedKind::IsPromoWrongType => {
                event("page_view", json!({ "page": "/promo", "is_promo": "yes" }))
            }
            MalformedKind::InvalidDirection => event(
                "chat_message",
                json!({ "direction": "sideways", "text": "hi" }),
            ),
            MalformedKind::InvalidAccountAction => event("account", json!({ "action": "explode" })),
            MalformedKind::NegativeAmount => order(json!(-12.5)),
        };
        serde_json::to_vec(&document).expect("a JSON value always serializes")
    }
}

fn with(mut document: Value, key: &str, value: Value) -> Value {
    document[key] = value;
    document
}

fn without(mut document: Value, key: &str) -> Value {
    if let Some(object) = document.as_object_mut() {
        object.remove(key);
    }
    document
}

/// The first half of the document's text (at a character boundary): an unclosed object.
fn truncated(document: &Value) -> Vec<u8> {
    let text = document.to_string();
    let mut cut = text.len() / 2;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.as_bytes()[..cut].to_vec()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn parse(kind: MalformedKind) -> Result<Value, serde_json::Error> {
        serde_json::from_slice(&kind.payload("u000001", "u000001-x0", 1_767_225_600_000))
    }

    #[test]
    fn reason_codes_are_unique_snake_case() {
        let codes: HashSet<&str> = MalformedKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(codes.len(), MalformedKind::ALL.len());
        assert!(codes
            .iter()
            .all(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_')));
    }

    #[test]
    fn invalid_json_does_not_parse_and_the_rest_do() {
        assert!(parse(MalformedKind::InvalidJson).is_err());
        for kind in &MalformedKind::ALL[1..] {
            assert!(parse(*kind).is_ok(), "{kind:?}");
        }
    }

    #[test]
    fn each_kind_breaks_exactly_what_it_says() {
        let doc = |kind| parse(kind).unwrap();
        assert!(doc(MalformedKind::MissingEventId).get("event_id").is_none());
        assert!(doc(MalformedKind::MissingType).get("type").is_none());
        assert!(doc(MalformedKind::MissingUserId).get("user_id").is_none());
        assert!(doc(MalformedKind::MissingTs).get("ts").is_none());
        assert_eq!(doc(MalformedKind::TsWrongType)["ts"], json!(true));
        assert_eq!(doc(MalformedKind::EmptyUserId)["user_id"], "");
        let long = doc(MalformedKind::UserIdTooLong)["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(long.len() > 128 && long.chars().count() < 128);
        assert!(doc(MalformedKind::AmountWrongType)["props"]["amount"].is_string());
        assert!(
            doc(MalformedKind::NegativeAmount)["props"]["amount"]
                .as_f64()
                .unwrap()
                < 0.0
        );
        assert_eq!(
            doc(MalformedKind::InvalidDirection)["props"]["direction"],
            "sideways"
        );
        assert_eq!(
            doc(MalformedKind::InvalidAccountAction)["props"]["action"],
            "explode"
        );
        assert!(doc(MalformedKind::IsPromoWrongType)["props"]["is_promo"].is_string());
    }

    #[test]
    fn oversized_payload_exceeds_64_kib_and_others_are_small() {
        for kind in MalformedKind::ALL {
            let len = kind.payload("u000001", "u000001-x0", 0).len();
            if kind == MalformedKind::PayloadTooLarge {
                assert!(len > 64 * 1024 && len < 80 * 1024, "{len}");
            } else {
                assert!(len < 1024, "{kind:?}: {len}");
            }
        }
    }

    #[test]
    fn payloads_are_single_lines() {
        for kind in MalformedKind::ALL {
            assert!(!kind.payload("u1", "u1-x0", 0).contains(&b'\n'));
        }
    }
}
