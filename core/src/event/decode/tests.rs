use std::borrow::Cow;

use proptest::prelude::*;
use serde_json::{json, Value};

use super::*;
use crate::event::{
    AccountAction, Direction, EventKind, Item, Order, PageView, PromotionAction, Search,
};

const NOON: i64 = 1_714_564_800_000; // 2024-05-01T12:00:00Z

fn page_view_event() -> Value {
    json!({"event_id": "e1", "type": "page_view", "user_id": "u1",
           "ts": "2024-05-01T12:00:00Z", "props": {"page": "/home"}})
}

fn order_event() -> Value {
    json!({"event_id": "o1", "type": "order", "user_id": "u1", "ts": NOON,
           "props": {"order_id": "A1", "amount": 12.5,
                     "items": [{"category": "shoes", "price": 12.5, "qty": 1}]}})
}

/// `event` with the value at `path` (dot-separated; numbers index arrays) replaced, or removed
/// when `value` is `None`.
fn with(mut event: Value, path: &str, value: Option<Value>) -> Value {
    fn slot<'v>(node: &'v mut Value, key: &str) -> &'v mut Value {
        match key.parse::<usize>() {
            Ok(index) => &mut node[index],
            Err(_) => &mut node[key],
        }
    }
    let (parents, last) = path.rsplit_once('.').unwrap_or(("", path));
    let parent = parents
        .split('.')
        .filter(|key| !key.is_empty())
        .fold(&mut event, slot);
    match value {
        Some(value) => *slot(parent, last) = value,
        None => {
            parent.as_object_mut().unwrap().remove(last);
        }
    }
    event
}

fn error_of(event: &Value) -> DecodeError {
    error_of_text(&event.to_string())
}

fn error_of_text(payload: &str) -> DecodeError {
    decode(payload.as_bytes(), &DecodeLimits::default()).unwrap_err()
}

#[test]
fn decodes_each_type_with_its_props() {
    let cases = [
        (
            json!({"page": "/p/1", "category": "shoes", "dwell_ms": 5000, "is_promo": true}),
            "page_view",
        ),
        (
            json!({"query": "running shoes", "category": "shoes"}),
            "search",
        ),
        (
            json!({"direction": "user", "text": "hi", "staff_id": "s1"}),
            "chat_message",
        ),
        (
            json!({"order_id": "A1", "amount": 99.9, "discount": 10, "coupon_id": "c1",
                "promo_id": "p1", "items": [{"category": "shoes", "price": 54.95, "qty": 2}]}),
            "order",
        ),
        (
            json!({"action": "claimed", "promo_id": "p1", "coupon_id": "c1"}),
            "promotion",
        ),
        (json!({"action": "friend_added"}), "account"),
    ];
    for (props, event_type) in cases {
        let event = with(page_view_event(), "type", Some(json!(event_type)));
        let payload = with(event, "props", Some(props)).to_string();
        let event = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(event.event_id, "e1");
        assert_eq!(event.user_id, "u1");
        assert_eq!(event.ts, EventTime::from_millis(NOON));
        assert_eq!(event.event_type().as_str(), event_type);
        match event.kind {
            EventKind::PageView(p) => assert_eq!(
                p,
                PageView {
                    page: "/p/1".into(),
                    category: Some("shoes".into()),
                    dwell_ms: Some(5000),
                    is_promo: true
                }
            ),
            EventKind::Search(s) => assert_eq!(
                s,
                Search {
                    query: "running shoes".into(),
                    category: Some("shoes".into())
                }
            ),
            EventKind::ChatMessage(c) => {
                assert_eq!(c.direction, Direction::User);
                assert_eq!(c.text.as_deref(), Some("hi"));
                assert_eq!(c.staff_id.as_deref(), Some("s1"));
            }
            EventKind::Order(o) => assert_eq!(
                o,
                Order {
                    order_id: "A1".into(),
                    amount_cents: 9990,
                    discount_cents: 1000,
                    coupon_id: Some("c1".into()),
                    promo_id: Some("p1".into()),
                    items: vec![Item {
                        category: "shoes".into(),
                        price_cents: 5495,
                        qty: 2
                    }],
                }
            ),
            EventKind::Promotion(p) => {
                assert_eq!(p.action, PromotionAction::Claimed);
                assert_eq!(
                    (p.promo_id.as_deref(), p.coupon_id.as_deref()),
                    (Some("p1"), Some("c1"))
                );
            }
            EventKind::Account(a) => assert_eq!(a.action, AccountAction::FriendAdded),
        }
    }
}

#[test]
fn absent_optional_props_take_their_defaults() {
    let payload = page_view_event().to_string();
    let EventKind::PageView(view) = decode(payload.as_bytes(), &DecodeLimits::default())
        .unwrap()
        .kind
    else {
        panic!("not a page view");
    };
    assert_eq!(
        (view.category, view.dwell_ms, view.is_promo),
        (None, None, false)
    );

    let payload = with(order_event(), "props.items", None).to_string();
    let EventKind::Order(order) = decode(payload.as_bytes(), &DecodeLimits::default())
        .unwrap()
        .kind
    else {
        panic!("not an order");
    };
    assert_eq!(
        (order.discount_cents, order.items.len(), order.coupon_id),
        (0, 0, None)
    );
}

#[test]
fn null_optional_fields_count_as_absent() {
    let event = with(page_view_event(), "props.is_promo", Some(Value::Null));
    let payload = with(event, "props.category", Some(Value::Null)).to_string();
    let EventKind::PageView(view) = decode(payload.as_bytes(), &DecodeLimits::default())
        .unwrap()
        .kind
    else {
        panic!("not a page view");
    };
    assert_eq!((view.category, view.is_promo), (None, false));
}

#[test]
fn strings_without_escapes_borrow_from_the_payload() {
    let payload = page_view_event().to_string();
    let event = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap();
    assert!(matches!(event.user_id, Cow::Borrowed("u1")));
    assert!(matches!(
        event.kind,
        EventKind::PageView(PageView {
            page: Cow::Borrowed("/home"),
            ..
        })
    ));
}

#[test]
fn escaped_strings_are_unescaped() {
    let payload = br#"{"event_id":"e\"1","type":"search","user_id":"\u7528\u6237","ts":0,
                      "props":{"query":"a\\b\nc \ud83d\ude00"}}"#;
    let event = decode(payload, &DecodeLimits::default()).unwrap();
    assert_eq!(event.event_id, "e\"1");
    assert_eq!(event.user_id, "用户");
    let EventKind::Search(search) = event.kind else {
        panic!("not a search")
    };
    assert_eq!(search.query, "a\\b\nc 😀");
}

#[test]
fn unknown_fields_are_ignored_in_envelope_and_props() {
    let event = with(order_event(), "schema_version", Some(json!(3)));
    let event = with(event, "props.channel", Some(json!({"nested": [1, 2]})));
    let payload = with(event, "props.items.0.sku", Some(json!("X-1"))).to_string();
    assert!(decode(payload.as_bytes(), &DecodeLimits::default()).is_ok());
}

#[test]
fn both_timestamp_forms_give_the_same_instant() {
    for ts in [
        json!(NOON),
        json!("2024-05-01T12:00:00Z"),
        json!("2024-05-01T20:00:00.000+08:00"),
    ] {
        let payload = with(page_view_event(), "ts", Some(ts)).to_string();
        let event = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(event.ts.millis(), NOON);
    }
}

#[test]
fn missing_envelope_fields_are_reported_by_name() {
    for field in ["event_id", "type", "user_id", "ts", "props"] {
        assert_eq!(
            error_of(&with(page_view_event(), field, None)),
            DecodeError::MissingField(field)
        );
        assert_eq!(
            error_of(&with(page_view_event(), field, Some(Value::Null))),
            DecodeError::MissingField(field),
            "null {field}"
        );
    }
}

#[test]
fn missing_props_amount_is_reported_with_path() {
    let error = error_of(&with(order_event(), "props.amount", None));
    assert_eq!(error, DecodeError::MissingField("props.amount"));
    assert_eq!(error.reason(), "missing_field");
    assert_eq!(
        error.to_string(),
        "required field `props.amount` is missing or null"
    );
}

#[test]
fn missing_required_props_are_reported_with_path() {
    let cases = [
        ("page_view", json!({}), "props.page"),
        ("search", json!({"category": "x"}), "props.query"),
        ("chat_message", json!({"text": "hi"}), "props.direction"),
        ("order", json!({"amount": 1}), "props.order_id"),
        ("promotion", json!({"promo_id": "p"}), "props.action"),
        ("account", json!({}), "props.action"),
    ];
    for (event_type, props, path) in cases {
        let event = with(page_view_event(), "type", Some(json!(event_type)));
        assert_eq!(
            error_of(&with(event, "props", Some(props))),
            DecodeError::MissingField(path)
        );
    }
    let item_without_qty = with(order_event(), "props.items.0.qty", None);
    assert_eq!(
        error_of(&item_without_qty),
        DecodeError::MissingField("props.items[].qty")
    );
}

#[test]
fn wrong_json_types_name_the_field_and_both_types() {
    let cases = [
        (
            with(page_view_event(), "event_id", Some(json!(5))),
            "event_id",
            "a string",
            "a number",
        ),
        (
            with(page_view_event(), "type", Some(json!(["page_view"]))),
            "type",
            "a string",
            "an array",
        ),
        (
            with(page_view_event(), "user_id", Some(json!(42))),
            "user_id",
            "a string",
            "a number",
        ),
        (
            with(page_view_event(), "props", Some(json!("/home"))),
            "props",
            "an object",
            "a string",
        ),
        (
            with(page_view_event(), "props", Some(json!(["/home"]))),
            "props",
            "an object",
            "an array",
        ),
        (
            with(page_view_event(), "props.page", Some(json!(1))),
            "props.page",
            "a string",
            "a number",
        ),
        (
            with(page_view_event(), "props.is_promo", Some(json!("yes"))),
            "props.is_promo",
            "a boolean",
            "a string",
        ),
        (
            with(page_view_event(), "props.dwell_ms", Some(json!("5s"))),
            "props.dwell_ms",
            "a non-negative integer",
            "a string",
        ),
        (
            with(order_event(), "props.amount", Some(json!("12.50"))),
            "props.amount",
            "a number",
            "a string",
        ),
        (
            with(order_event(), "props.items", Some(json!({}))),
            "props.items",
            "an array",
            "an object",
        ),
        (
            with(order_event(), "props.items.0", Some(json!(5))),
            "props.items[]",
            "an object",
            "a number",
        ),
    ];
    for (event, field, expected, found) in cases {
        assert_eq!(
            error_of(&event),
            DecodeError::WrongType {
                field,
                expected,
                found
            },
            "{event}"
        );
    }
    let ts_error = error_of(&with(page_view_event(), "ts", Some(json!(true))));
    assert!(matches!(
        ts_error,
        DecodeError::WrongType {
            field: "ts",
            found: "a boolean",
            ..
        }
    ));
}

#[test]
fn a_json_array_is_not_read_as_an_event_by_position() {
    let payload = br#"["e1","page_view","u1",0,{"page":"/home"}]"#;
    let error = decode(payload, &DecodeLimits::default()).unwrap_err();
    assert_eq!(
        error,
        DecodeError::WrongType {
            field: "event",
            expected: "an object",
            found: "an array"
        }
    );
}

#[test]
fn invalid_json_carries_the_byte_offset() {
    for payload in [
        &b"{\"event_id\":\"e1\","[..],
        b"",
        b"not json",
        b"{} {}",
        b"{\"a\":1,}",
    ] {
        let error = decode(payload, &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.reason(), "invalid_json", "{error}");
    }
    let error = decode(b"{\"event_id\":\"e1\"", &DecodeLimits::default()).unwrap_err();
    assert!(error.to_string().contains("at byte 16"), "{error}");
}

#[test]
fn non_utf8_payload_is_invalid_json() {
    let error = decode(b"{\"event_id\":\"\xff\"}", &DecodeLimits::default()).unwrap_err();
    assert_eq!(error.reason(), "invalid_json");
    assert!(error.to_string().contains("not UTF-8"), "{error}");
}

#[test]
fn a_field_given_twice_is_invalid_json() {
    let payload = br#"{"event_id":"e1","event_id":"e2","type":"search","user_id":"u","ts":0,"props":{"query":"q"}}"#;
    let error = decode(payload, &DecodeLimits::default()).unwrap_err();
    assert_eq!(error.reason(), "invalid_json");
    assert!(
        error.to_string().contains("duplicate field `event_id`"),
        "{error}"
    );
}

#[test]
fn a_props_field_given_twice_is_invalid_json_if_the_type_reads_it() {
    let twice = |props: &str| {
        format!(r#"{{"event_id":"e1","type":"page_view","user_id":"u1","ts":0,"props":{props}}}"#)
    };
    let error = error_of_text(&twice(r#"{"page":"/a","dwell_ms":1,"page":"/b"}"#));
    assert_eq!(
        error,
        DecodeError::InvalidJson {
            message: "duplicate field `props.page`".into()
        }
    );
    // A null counts as given.
    let error = error_of_text(&twice(r#"{"page":"/a","category":null,"category":"x"}"#));
    assert_eq!(
        error.to_string(),
        "payload is not valid JSON: duplicate field `props.category`"
    );
    // `query` is no page view's field: ignored, twice or not.
    let payload = twice(r#"{"page":"/a","query":"q","query":"r"}"#);
    assert!(decode(payload.as_bytes(), &DecodeLimits::default()).is_ok());
    // The envelope's problems come first, in the contract's order.
    let payload = twice(r#"{"page":"/a","page":"/b"}"#).replace(r#""u1""#, r#""""#);
    assert_eq!(error_of_text(&payload), DecodeError::EmptyUserId);
}

#[test]
fn an_item_field_given_twice_is_invalid_json() {
    let payload = order_event()
        .to_string()
        .replace(r#""qty":1"#, r#""qty":1,"qty":2"#);
    assert_eq!(
        error_of_text(&payload).to_string(),
        "payload is not valid JSON: duplicate field `props.items[].qty`"
    );
}

#[test]
fn fields_are_found_in_any_order_and_through_escapes() {
    let in_order = order_event().to_string();
    let expected = decode(in_order.as_bytes(), &DecodeLimits::default()).unwrap();
    // `props` before `type`, the props' and the item's fields reversed, keys escaped.
    let payloads = [
        r#"{"props":{"items":[{"qty":1,"price":12.5,"category":"shoes"}],"amount":12.5,"order_id":"A1"},
            "ts":1714564800000,"user_id":"u1","type":"order","event_id":"o1"}"#,
        r#"{"\u0065vent_id":"o1","typ\u0065":"order","user_id":"u1","ts":1714564800000,
            "props":{"order\u005fid":"A1","amount":12.5,"items":[{"c\u0061tegory":"shoes","price":12.5,"qty":1}]}}"#,
        r#"{"event_id" : "o1" , "type" : "ord\u0065r" , "user_id":"u1", "ts":1714564800000,
            "props" : { "order_id" : "A1" , "amount" : 12.5 , "items" : [ { "category" : "shoes" , "price" : 12.5 , "qty" : 1 } ] } }"#,
    ];
    for payload in payloads {
        let event = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(event, expected, "{payload}");
    }
    // A duplicate is found when `props` is read after `type` too.
    let twice = r#"{"props":{"query":"a","query":"b"},"event_id":"e1","type":"search","user_id":"u1","ts":0}"#;
    assert_eq!(
        error_of_text(twice).to_string(),
        "payload is not valid JSON: duplicate field `props.query`"
    );
}

#[test]
fn invalid_json_anywhere_is_invalid_json_even_in_fields_nobody_reads() {
    let unknown = |value: &str| {
        page_view_event()
            .to_string()
            .replacen('{', &format!(r#"{{"unknown":{value},"#), 1)
    };
    for value in [
        r#""\ud800""#,
        r#""\udc00\ud800""#,
        r#"{"a":["x\ud83d"]}"#,
        r#"{"\ud800":1}"#,
        r#""\x""#,
        "[1,]",
        "01",
        "1.e5",
        "\"tab\tinside\"",
        "nulL",
    ] {
        let payload = unknown(value);
        assert!(
            serde_json::from_str::<Value>(&payload).is_err(),
            "{payload}"
        );
        assert_eq!(
            error_of_text(&payload).reason(),
            "invalid_json",
            "{payload}"
        );
    }
    for value in [
        r#""\ud83d\ude00""#,
        "1e400",
        "-0.0e-0",
        r#"{"a":{"a":1,"a":2}}"#,
    ] {
        let payload = unknown(value);
        assert!(
            decode(payload.as_bytes(), &DecodeLimits::default()).is_ok(),
            "{payload}"
        );
    }
}

#[test]
fn nesting_deeper_than_serde_json_allows_is_invalid_json() {
    // The event object is one level, so an unknown field can nest 126 more.
    for (depth, valid) in [(126, true), (127, false), (10_000, false)] {
        let value = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let payload =
            page_view_event()
                .to_string()
                .replacen('{', &format!(r#"{{"unknown":{value},"#), 1);
        let decoded = decode(payload.as_bytes(), &DecodeLimits::default());
        assert_eq!(decoded.is_ok(), valid, "{depth}");
        assert_eq!(
            serde_json::from_str::<Value>(&payload).is_ok(),
            valid,
            "{depth}"
        );
    }
}

#[test]
fn unknown_type_carries_the_name() {
    let error = error_of(&with(page_view_event(), "type", Some(json!("purchase"))));
    assert_eq!(error, DecodeError::UnknownType("purchase".into()));
    assert_eq!(
        error_of(&with(page_view_event(), "type", Some(json!("PAGE_VIEW")))).reason(),
        "unknown_type"
    );
}

#[test]
fn bad_timestamps_carry_the_offending_text() {
    let cases = [
        (
            json!("2024-13-01T00:00:00Z"),
            TimeError::FieldOutOfRange { field: "month" },
        ),
        (
            json!("yesterday"),
            TimeError::Syntax {
                at: 0,
                expected: "a 4-digit year",
            },
        ),
        (json!(1.7e12), TimeError::NotAnInteger),
        (json!(1_714_564_800_000.5), TimeError::NotAnInteger),
        (json!(1_714_564_800_000_000_i64), TimeError::OutOfRange),
        (json!(u64::MAX), TimeError::OutOfRange),
        (json!(-62_167_219_200_001_i64), TimeError::OutOfRange),
    ];
    for (ts, problem) in cases {
        let text = ts.to_string();
        assert_eq!(
            error_of(&with(page_view_event(), "ts", Some(ts))),
            DecodeError::BadTimestamp { text, problem }
        );
    }
    let error = error_of(&with(page_view_event(), "ts", Some(json!("2024-05-01"))));
    assert_eq!(
        error.to_string(),
        "`ts` \"2024-05-01\" is not a valid timestamp: expected `T` at byte 10 (RFC 3339 looks \
         like 2024-05-01T12:00:00Z or 2024-05-01T20:00:00.123+08:00)"
    );
}

#[test]
fn empty_user_id_is_rejected() {
    assert_eq!(
        error_of(&with(page_view_event(), "user_id", Some(json!("")))),
        DecodeError::EmptyUserId
    );
}

#[test]
fn user_id_limit_counts_utf8_bytes_after_unescaping() {
    let at_limit = format!("{}ab", "用".repeat(42)); // 42 × 3 + 2 = 128 bytes
    let over_limit = "用".repeat(43); // 129 bytes, 43 characters
    let payload = with(page_view_event(), "user_id", Some(json!(at_limit))).to_string();
    assert!(decode(payload.as_bytes(), &DecodeLimits::default()).is_ok());
    assert_eq!(
        error_of(&with(page_view_event(), "user_id", Some(json!(over_limit)))),
        DecodeError::UserIdTooLong {
            len: 129,
            limit: 128
        }
    );
    // 128 escaped characters are 768 bytes of JSON but 128 bytes of user id.
    let escaped = page_view_event()
        .to_string()
        .replace("\"u1\"", &format!("\"{}\"", "\\u0041".repeat(128)));
    assert_eq!(
        decode(escaped.as_bytes(), &DecodeLimits::default())
            .unwrap()
            .user_id
            .len(),
        128
    );
}

#[test]
fn limits_are_configurable() {
    let limits = DecodeLimits {
        max_payload_bytes: 1024,
        max_user_id_bytes: 4,
        ..DecodeLimits::default()
    };
    let payload = with(page_view_event(), "user_id", Some(json!("12345"))).to_string();
    assert_eq!(
        decode(payload.as_bytes(), &limits).unwrap_err(),
        DecodeError::UserIdTooLong { len: 5, limit: 4 }
    );
}

#[test]
fn payload_over_the_limit_is_rejected_before_parsing() {
    let limits = DecodeLimits {
        max_payload_bytes: 100,
        ..DecodeLimits::default()
    };
    assert_eq!(
        decode(&[b'x'; 101], &limits).unwrap_err(),
        DecodeError::PayloadTooLarge {
            size: 101,
            limit: 100
        }
    );
    // At the limit, the payload is parsed (and here found to be invalid JSON).
    assert_eq!(
        decode(&[b'x'; 100], &limits).unwrap_err().reason(),
        "invalid_json"
    );
}

#[test]
fn negative_money_is_an_invalid_value() {
    for path in ["props.amount", "props.discount", "props.items.0.price"] {
        let error = error_of(&with(order_event(), path, Some(json!(-0.01))));
        let field = if path.contains("items") {
            "props.items[].price"
        } else {
            path
        };
        assert_eq!(
            error,
            DecodeError::InvalidValue {
                field,
                problem: "must not be negative"
            }
        );
    }
}

#[test]
fn money_is_rounded_half_away_from_zero_to_cents() {
    let event = with(order_event(), "props.amount", Some(json!(0.285)));
    let payload = with(event, "props.discount", Some(json!(3))).to_string();
    let EventKind::Order(order) = decode(payload.as_bytes(), &DecodeLimits::default())
        .unwrap()
        .kind
    else {
        panic!("not an order");
    };
    assert_eq!((order.amount_cents, order.discount_cents), (29, 300));
}

#[test]
fn item_quantity_must_be_a_positive_whole_number() {
    for qty in [json!(0), json!(1.5), json!(-1), json!(-0.0), json!(1e3)] {
        let error = error_of(&with(order_event(), "props.items.0.qty", Some(qty.clone())));
        assert_eq!(error.reason(), "invalid_value", "qty {qty}: {error}");
    }
}

#[test]
fn negative_dwell_time_is_an_invalid_value() {
    let error = error_of(&with(page_view_event(), "props.dwell_ms", Some(json!(-5))));
    assert_eq!(
        error,
        DecodeError::InvalidValue {
            field: "props.dwell_ms",
            problem: "must not be negative"
        }
    );
}

#[test]
fn unknown_enum_values_list_the_expected_ones() {
    let chat = with(page_view_event(), "type", Some(json!("chat_message")));
    let error = error_of(&with(chat, "props", Some(json!({"direction": "sideways"}))));
    assert_eq!(
        error,
        DecodeError::InvalidEnumValue {
            field: "props.direction",
            value: "sideways".into(),
            expected: &["user", "staff"]
        }
    );
    let account = with(page_view_event(), "type", Some(json!("account")));
    let error = error_of(&with(account, "props", Some(json!({"action": "Login"}))));
    assert_eq!(error.reason(), "invalid_enum_value");
}

#[test]
fn empty_event_id_is_an_invalid_value() {
    assert_eq!(
        error_of(&with(page_view_event(), "event_id", Some(json!("")))),
        DecodeError::InvalidValue {
            field: "event_id",
            problem: "must not be empty"
        }
    );
}

// Hostile input: the limits of `DecodeLimits` (docs/security.md, "Hostile input").

fn chat_event() -> Value {
    json!({"event_id": "c1", "type": "chat_message", "user_id": "u1", "ts": NOON,
           "props": {"direction": "user", "text": "hi", "staff_id": "s1"}})
}

fn promotion_event() -> Value {
    json!({"event_id": "p1", "type": "promotion", "user_id": "u1", "ts": NOON,
           "props": {"action": "claimed", "promo_id": "p", "coupon_id": "c"}})
}

fn search_event() -> Value {
    json!({"event_id": "s1", "type": "search", "user_id": "u1", "ts": NOON,
           "props": {"query": "q", "category": "c"}})
}

fn page_view_with_everything() -> Value {
    with(page_view_event(), "props.category", Some(json!("c")))
}

fn order_with_ids() -> Value {
    let order = with(order_event(), "props.coupon_id", Some(json!("c")));
    with(order, "props.promo_id", Some(json!("p")))
}

#[test]
fn every_free_text_field_is_limited_in_utf8_bytes_after_unescaping() {
    let limit = DecodeLimits::default().max_string_bytes;
    let cases = [
        (page_view_event(), "event_id", "event_id"),
        (page_view_event(), "props.page", "props.page"),
        (
            page_view_with_everything(),
            "props.category",
            "props.category",
        ),
        (search_event(), "props.query", "props.query"),
        (search_event(), "props.category", "props.category"),
        (chat_event(), "props.staff_id", "props.staff_id"),
        (order_with_ids(), "props.order_id", "props.order_id"),
        (order_with_ids(), "props.coupon_id", "props.coupon_id"),
        (order_with_ids(), "props.promo_id", "props.promo_id"),
        (promotion_event(), "props.promo_id", "props.promo_id"),
        (promotion_event(), "props.coupon_id", "props.coupon_id"),
        (
            order_event(),
            "props.items.0.category",
            "props.items[].category",
        ),
    ];
    for (event, path, field) in cases {
        let at_limit = format!("{}ab", "用".repeat((limit - 2) / 3)); // 2048 bytes
        assert_eq!(at_limit.len(), limit);
        let payload = with(event.clone(), path, Some(json!(at_limit))).to_string();
        assert!(
            decode(payload.as_bytes(), &DecodeLimits::default()).is_ok(),
            "{path}"
        );
        assert_eq!(
            error_of(&with(event, path, Some(json!(format!("{at_limit}x"))))),
            DecodeError::TooLong {
                field,
                len: limit + 1,
                limit
            }
        );
    }
    // Escapes count as the characters they stand for: 2048 × `\u0041` is 2048 bytes.
    let escaped = page_view_event()
        .to_string()
        .replace("\"/home\"", &format!("\"{}\"", "\\u0041".repeat(limit)));
    assert!(decode(escaped.as_bytes(), &DecodeLimits::default()).is_ok());
}

#[test]
fn chat_text_has_its_own_longer_limit() {
    let limits = DecodeLimits::default();
    let text = "x".repeat(limits.max_text_bytes);
    let payload = with(chat_event(), "props.text", Some(json!(text))).to_string();
    assert!(decode(payload.as_bytes(), &limits).is_ok());
    assert_eq!(
        error_of(&with(
            chat_event(),
            "props.text",
            Some(json!(format!("{text}用")))
        )),
        DecodeError::TooLong {
            field: "props.text",
            len: limits.max_text_bytes + 3,
            limit: limits.max_text_bytes
        }
    );
}

fn order_with_items(count: usize) -> Value {
    let items = vec![json!({"category": "c", "price": 1, "qty": 1}); count];
    with(order_event(), "props.items", Some(Value::Array(items)))
}

#[test]
fn an_order_lists_at_most_max_items() {
    let limits = DecodeLimits::default();
    let payload = order_with_items(limits.max_items).to_string();
    let EventKind::Order(order) = decode(payload.as_bytes(), &limits).unwrap().kind else {
        panic!("not an order");
    };
    assert_eq!(order.items.len(), 200);
    // The message counts them all, though only the first 200 are read.
    assert_eq!(
        error_of(&order_with_items(1000)),
        DecodeError::TooManyItems {
            field: "props.items",
            count: 1000,
            limit: 200
        }
    );
}

#[test]
fn a_bad_item_before_the_limit_is_reported_first() {
    let event = with(order_with_items(500), "props.items.3.qty", Some(json!(0)));
    assert_eq!(error_of(&event).field(), Some("props.items[].qty"));
    // One past the limit is where the limit is met; a bad item after it is never read.
    let event = with(order_with_items(500), "props.items.300.qty", Some(json!(0)));
    assert_eq!(error_of(&event).reason(), "too_many_items");
}

#[test]
fn money_above_the_maximum_is_too_large_whatever_its_form() {
    for path in ["props.amount", "props.discount", "props.items.0.price"] {
        let field = if path.contains("items") {
            "props.items[].price"
        } else {
            path
        };
        for at_max in ["10000000000", "10000000000.00", "1e10", "9999999999.999"] {
            let payload = with(order_event(), path, Some(json!("@")))
                .to_string()
                .replace("\"@\"", at_max);
            assert!(
                decode(payload.as_bytes(), &DecodeLimits::default()).is_ok(),
                "{path} = {at_max}"
            );
        }
        for (over, quoted) in [
            ("10000000000.01", "10000000000.01"),
            ("10000000000.001", "10000000000.001"),
            ("1e400", "1e400"),
            ("1E+99999999999999999999", "1E+99999999999999999999"),
            (
                "123456789012345678901234567890123456789012345678901234567890",
                "1234567890123456789012345678901234567890...",
            ),
        ] {
            let payload = with(order_event(), path, Some(json!("@")))
                .to_string()
                .replace("\"@\"", over);
            assert_eq!(
                decode(payload.as_bytes(), &DecodeLimits::default()).unwrap_err(),
                DecodeError::ValueTooLarge {
                    field,
                    text: quoted.into(),
                    maximum: "10000000000.00".into()
                },
                "{path} = {over}"
            );
        }
    }
}

#[test]
fn negative_zero_is_zero_and_tiny_amounts_round_to_zero() {
    for zero in ["-0", "-0.0", "-0e5", "0e400", "1e-400"] {
        let payload = with(order_event(), "props.amount", Some(json!("@")))
            .to_string()
            .replace("\"@\"", zero);
        let EventKind::Order(order) = decode(payload.as_bytes(), &DecodeLimits::default())
            .unwrap()
            .kind
        else {
            panic!("not an order");
        };
        assert_eq!(order.amount_cents, 0, "{zero}");
    }
    let payload = with(page_view_event(), "props.dwell_ms", Some(json!("@")))
        .to_string()
        .replace("\"@\"", "-0");
    let EventKind::PageView(view) = decode(payload.as_bytes(), &DecodeLimits::default())
        .unwrap()
        .kind
    else {
        panic!("not a page view");
    };
    assert_eq!(view.dwell_ms, Some(0));
}

#[test]
fn nan_and_infinity_are_not_json() {
    for literal in ["NaN", "Infinity", "-Infinity", "nan", "inf"] {
        let payload = with(order_event(), "props.amount", Some(json!("@")))
            .to_string()
            .replace("\"@\"", literal);
        let error = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap_err();
        assert_eq!(error.reason(), "invalid_json", "{literal}");
    }
}

#[test]
fn quantity_is_limited() {
    let limits = DecodeLimits::default();
    let payload = with(
        order_event(),
        "props.items.0.qty",
        Some(json!(limits.max_qty)),
    )
    .to_string();
    assert!(decode(payload.as_bytes(), &limits).is_ok());
    for (qty, text) in [
        (json!(1_000_001), "1000001"),
        (json!(4_294_967_296_u64), "4294967296"),
        (json!(u64::MAX), "18446744073709551615"),
    ] {
        assert_eq!(
            error_of(&with(order_event(), "props.items.0.qty", Some(qty))),
            DecodeError::ValueTooLarge {
                field: "props.items[].qty",
                text: text.into(),
                maximum: "1000000".into()
            }
        );
    }
    let beyond_u64 = with(order_event(), "props.items.0.qty", Some(json!("@")))
        .to_string()
        .replace("\"@\"", "99999999999999999999999");
    assert_eq!(
        decode(beyond_u64.as_bytes(), &limits).unwrap_err().reason(),
        "value_too_large"
    );
    assert_eq!(
        error_of(&with(order_event(), "props.items.0.qty", Some(json!(0)))),
        DecodeError::InvalidValue {
            field: "props.items[].qty",
            problem: "must be at least 1"
        }
    );
}

#[test]
fn dwell_time_is_limited() {
    let limits = DecodeLimits::default();
    let at_max = with(
        page_view_event(),
        "props.dwell_ms",
        Some(json!(limits.max_dwell_ms)),
    );
    assert!(decode(at_max.to_string().as_bytes(), &limits).is_ok());
    assert_eq!(
        error_of(&with(
            page_view_event(),
            "props.dwell_ms",
            Some(json!(604_800_001))
        )),
        DecodeError::ValueTooLarge {
            field: "props.dwell_ms",
            text: "604800001".into(),
            maximum: "604800000".into()
        }
    );
    for written in ["1e3", "1.0", "1e400"] {
        let payload = with(page_view_event(), "props.dwell_ms", Some(json!("@")))
            .to_string()
            .replace("\"@\"", written);
        assert_eq!(
            decode(payload.as_bytes(), &limits).unwrap_err(),
            DecodeError::InvalidValue {
                field: "props.dwell_ms",
                problem: "must be a whole number, without fraction or exponent"
            },
            "{written}"
        );
    }
}

#[test]
fn limits_deserialize_from_partial_config() {
    let limits: DecodeLimits = serde_json::from_str(r#"{"max_items": 5}"#).unwrap();
    assert_eq!(
        limits,
        DecodeLimits {
            max_items: 5,
            ..DecodeLimits::default()
        }
    );
    let round_trip: DecodeLimits =
        serde_json::from_str(&serde_json::to_string(&limits).unwrap()).unwrap();
    assert_eq!(round_trip, limits);
    assert!(serde_json::from_str::<DecodeLimits>(r#"{"max_item": 5}"#).is_err());
}

// Property tests: no input makes `decode` panic, and what it accepts honours the contract and
// the limits. Issue 10 asks CI for at least 100,000 cases: the counts below add up to 102,000,
// which take about 5 s of one core in a debug build (docs/security.md, "Hostile input").

/// Limits small enough that generated values cross every one of them.
const TIGHT: DecodeLimits = DecodeLimits {
    max_payload_bytes: 1_000,
    max_user_id_bytes: 6,
    max_string_bytes: 6,
    max_text_bytes: 10,
    max_items: 2,
    max_amount_cents: 10_000,
    max_qty: 3,
    max_dwell_ms: 5_000,
};

/// The reasons a tighter limit can add to an event that looser limits accept.
const LIMIT_REASONS: &[&str] = &[
    "payload_too_large",
    "user_id_too_long",
    "too_long",
    "too_many_items",
    "value_too_large",
];

fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        // A failure is shrunk and reported; the regressions file would only be noise in CI.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The names the contract gives fields, so that generated objects look like events.
const FIELD_NAMES: &[&str] = &[
    "event_id",
    "type",
    "user_id",
    "ts",
    "props",
    "page",
    "category",
    "dwell_ms",
    "is_promo",
    "query",
    "direction",
    "text",
    "staff_id",
    "order_id",
    "amount",
    "discount",
    "coupon_id",
    "promo_id",
    "items",
    "price",
    "qty",
    "action",
];

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(FIELD_NAMES).prop_map(str::to_owned),
        1 => any::<String>(),
    ]
}

/// Any `serde_json::Value` tree, small: every JSON type at any depth up to 4, with numbers from
/// the whole `i64`, `u64` and `f64` ranges (non-finite floats become `null`, since JSON has no
/// literal for them; `nan_and_infinity_are_not_json` covers the literals).
fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        any::<String>().prop_map(Value::from),
        prop::sample::select(FIELD_NAMES).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..5)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
}

/// The props each type names, plus one the contract does not.
fn props_names(event_type: EventType) -> &'static [&'static str] {
    match event_type {
        EventType::PageView => &["page", "category", "dwell_ms", "is_promo", "unknown"],
        EventType::Search => &["query", "category", "unknown"],
        EventType::ChatMessage => &["direction", "text", "staff_id", "unknown"],
        EventType::Order => &[
            "order_id",
            "amount",
            "discount",
            "coupon_id",
            "promo_id",
            "items",
            "unknown",
        ],
        EventType::Promotion => &["action", "promo_id", "coupon_id", "unknown"],
        EventType::Account => &["action", "unknown"],
    }
}

fn values(values: &[Value]) -> BoxedStrategy<Value> {
    prop::sample::select(values.to_vec()).boxed()
}

/// A value for the field `name`: usually one that is right or nearly right for it, on both
/// sides of the [`TIGHT`] limits (so that generated events get deep into the decoder and
/// cross every limit), sometimes any JSON at all.
fn value_for(name: &str) -> BoxedStrategy<Value> {
    let plausible = match name {
        "type" => values(&[
            json!("page_view"),
            json!("search"),
            json!("chat_message"),
            json!("order"),
            json!("promotion"),
            json!("account"),
            json!("other"),
        ]),
        "ts" => prop_oneof![
            4 => values(&[
                json!(NOON),
                json!(-1),
                json!("2024-05-01T12:00:00Z"),
                json!("2024-05-01T20:00:00.5+08:00"),
            ]),
            1 => values(&[
                json!(-0.0),
                json!(1.5),
                json!("2024-02-30T00:00:00Z"),
                json!(u64::MAX),
            ]),
        ]
        .boxed(),
        "dwell_ms" => prop_oneof![
            4 => (0u64..10_000).prop_map(Value::from),
            1 => values(&[json!(-1), json!(-0.0), json!(1.5), json!(u64::MAX), json!(604_800_001)]),
        ]
        .boxed(),
        "is_promo" => values(&[json!(true), json!(false)]),
        "direction" => values(&[json!("user"), json!("staff"), json!("user"), json!("sideways")]),
        "action" => values(&[
            json!("claimed"),
            json!("expired"),
            json!("login"),
            json!("cancel"),
            json!("bogus"),
        ]),
        "amount" | "discount" | "price" => prop_oneof![
            4 => (0u32..12_000).prop_map(|cents| json!(f64::from(cents) / 100.0)),
            2 => (0u32..120).prop_map(Value::from),
            1 => values(&[
                json!(-0.0),
                json!(-0.01),
                json!(100.001),
                json!(1e17),
                json!(1e300),
                json!(f64::MIN_POSITIVE),
                json!(10_000_000_000.0),
                json!(10_000_000_000.01),
            ]),
        ]
        .boxed(),
        "qty" => prop_oneof![
            4 => (1u64..6).prop_map(Value::from),
            1 => values(&[json!(0), json!(-1), json!(1.5), json!(4_294_967_296_u64), json!(1_000_001)]),
        ]
        .boxed(),
        "items" => prop::collection::vec(item_like(), 0..5)
            .prop_map(Value::Array)
            .boxed(),
        "text" => "\\PC{0,14}".prop_map(Value::from).boxed(),
        "unknown" => any_value().boxed(),
        // The free-text fields: ASCII, multi-byte, and characters JSON must escape.
        _ => prop_oneof![
            12 => "[a-z0-9]{1,6}",
            1 => "[a-z0-9]{7,9}",
            2 => "[a-z用户é]{0,3}",
            1 => "[a-z\"\\\\\n\t\u{1}]{0,6}",
        ]
        .prop_map(Value::from)
        .boxed(),
    };
    prop_oneof![29 => plausible, 1 => any_value()].boxed()
}

/// Some of `names` (distinct, in order), each with a value for it, as an object.
fn object_of(
    names: &'static [&'static str],
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = serde_json::Map<String, Value>> {
    prop::sample::subsequence(names, count).prop_flat_map(|names| {
        names
            .into_iter()
            .map(|name| value_for(name).prop_map(move |value| (name.to_owned(), value)))
            .collect::<Vec<_>>()
            .prop_map(|fields| fields.into_iter().collect())
    })
}

fn item_like() -> impl Strategy<Value = Value> {
    const ITEM: &[&str] = &["category", "price", "qty"];
    const ITEM_AND_MORE: &[&str] = &["category", "price", "qty", "unknown"];
    prop_oneof![
        25 => object_of(ITEM, 3..4).prop_map(Value::Object),
        4 => object_of(ITEM_AND_MORE, 2..5).prop_map(Value::Object),
        1 => any_value(),
    ]
}

/// An event of a random type whose fields are usually present and plausible for that type.
fn event_like() -> impl Strategy<Value = Value> {
    const ENVELOPE: &[&str] = &["event_id", "user_id", "ts"];
    prop::sample::select(EventType::ALL)
        .prop_flat_map(|event_type| {
            let envelope =
                prop_oneof![29 => object_of(ENVELOPE, 3..4), 1 => object_of(ENVELOPE, 0..4)];
            let type_value =
                prop_oneof![29 => Just(json!(event_type.as_str())), 1 => value_for("type")];
            let names = props_names(event_type);
            let props = prop_oneof![
                29 => object_of(names, names.len() - 1..names.len() + 1).prop_map(Value::Object),
                1 => any_value(),
            ];
            (envelope, type_value, prop::option::weighted(0.98, props))
        })
        .prop_map(|(mut fields, type_value, props)| {
            fields.insert("type".to_owned(), type_value);
            if let Some(props) = props {
                fields.insert("props".to_owned(), props);
            }
            Value::Object(fields)
        })
}

/// Valid events of every type, with every optional prop, to mutate.
fn valid_payloads() -> Vec<String> {
    [
        page_view_with_everything(),
        search_event(),
        chat_event(),
        order_with_ids(),
        promotion_event(),
        json!({"event_id": "a1", "type": "account", "user_id": "u1", "ts": "2024-05-01T12:00:00Z",
               "props": {"action": "login"}}),
    ]
    .iter()
    .map(Value::to_string)
    .collect()
}

/// One edit of a payload's bytes.
#[derive(Debug, Clone)]
enum Edit {
    Replace(usize, u8),
    Insert(usize, u8),
    Delete(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    // Bytes that mean something to JSON are likelier to reach past the parser than others.
    let byte = prop_oneof![
        3 => prop::sample::select(b"{}[]\",:0123456789.eE-+ntfu\\ \xff".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(at, b)| Edit::Replace(at, b)),
        (any::<usize>(), byte).prop_map(|(at, b)| Edit::Insert(at, b)),
        any::<usize>().prop_map(Edit::Delete),
    ]
}

fn apply(payload: &mut Vec<u8>, edit: &Edit) {
    match *edit {
        Edit::Replace(at, byte) if !payload.is_empty() => {
            let at = at % payload.len();
            payload[at] = byte;
        }
        Edit::Insert(at, byte) => payload.insert(at % (payload.len() + 1), byte),
        Edit::Delete(at) if !payload.is_empty() => {
            payload.remove(at % payload.len());
        }
        _ => {}
    }
}

/// What every accepted event satisfies, whatever the input: the contract, and `limits`.
fn honours(event: &Event<'_>, limits: &DecodeLimits) -> Result<(), TestCaseError> {
    let string = |s: &str| s.len() <= limits.max_string_bytes;
    let optional = |s: &Option<Cow<'_, str>>| s.as_deref().is_none_or(string);
    prop_assert!(!event.event_id.is_empty() && string(&event.event_id));
    prop_assert!(!event.user_id.is_empty() && event.user_id.len() <= limits.max_user_id_bytes);
    prop_assert!((EventTime::MIN..=EventTime::MAX).contains(&event.ts));
    let money = |cents: i64| (0..=limits.max_amount_cents).contains(&cents);
    match &event.kind {
        EventKind::PageView(view) => {
            prop_assert!(string(&view.page) && optional(&view.category));
            prop_assert!(view.dwell_ms.is_none_or(|ms| ms <= limits.max_dwell_ms));
        }
        EventKind::Search(search) => {
            prop_assert!(string(&search.query) && optional(&search.category));
        }
        EventKind::ChatMessage(chat) => {
            let text = chat.text.as_deref().map_or(0, str::len);
            prop_assert!(text <= limits.max_text_bytes && optional(&chat.staff_id));
        }
        EventKind::Order(order) => {
            prop_assert!(string(&order.order_id));
            prop_assert!(optional(&order.coupon_id) && optional(&order.promo_id));
            prop_assert!(money(order.amount_cents) && money(order.discount_cents));
            prop_assert!(order.items.len() <= limits.max_items);
            for item in &order.items {
                prop_assert!(string(&item.category) && money(item.price_cents));
                prop_assert!((1..=limits.max_qty).contains(&item.qty));
            }
        }
        EventKind::Promotion(promotion) => {
            prop_assert!(optional(&promotion.promo_id) && optional(&promotion.coupon_id));
        }
        EventKind::Account(_) => {}
    }
    Ok(())
}

/// Decodes `payload` under the default and the [`TIGHT`] limits: neither panics, the default
/// says `invalid_json` exactly when serde_json does, each accepted event honours its limits, and the tight limits only ever add a limit violation: an event
/// both accept is the same event, and one only the default accepts fails a limit.
fn check(payload: &[u8]) -> Result<(), TestCaseError> {
    let default = decode(payload, &DecodeLimits::default());
    agrees_with_serde_json(payload, &default)?;
    let tight = decode(payload, &TIGHT);
    if let Ok(event) = &default {
        honours(event, &DecodeLimits::default())?;
    }
    match (default, tight) {
        (Ok(default), Ok(tight)) => {
            honours(&tight, &TIGHT)?;
            prop_assert_eq!(default, tight);
        }
        (Ok(_), Err(error)) => {
            prop_assert!(LIMIT_REASONS.contains(&error.reason()), "{}", error);
        }
        (Err(error), Ok(_)) => {
            prop_assert!(false, "only the tight limits accept it: {}", error);
        }
        (Err(_), Err(_)) => {}
    }
    Ok(())
}

/// serde_json's reading of a payload: the oracle for what is JSON. It checks what
/// `serde_json::Value` checks (grammar, escapes, surrogates, UTF-8, nesting depth) and also
/// notes whether some object gives a key twice, which `Value` accepts (the last one wins).
struct Json {
    duplicate_keys: bool,
}

impl Json {
    const SCALAR: Json = Json {
        duplicate_keys: false,
    };
}

impl<'de> serde::Deserialize<'de> for Json {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> serde::de::Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Json, E> {
        Ok(Json::SCALAR)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Json, E> {
        Ok(Json::SCALAR)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Json, E> {
        Ok(Json::SCALAR)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Json, E> {
        Ok(Json::SCALAR)
    }

    fn visit_str<E>(self, _: &str) -> Result<Json, E> {
        Ok(Json::SCALAR)
    }

    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::SCALAR)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut duplicate_keys = false;
        while let Some(element) = seq.next_element::<Json>()? {
            duplicate_keys |= element.duplicate_keys;
        }
        Ok(Json { duplicate_keys })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut keys = std::collections::HashSet::new();
        let mut duplicate_keys = false;
        while let Some(key) = map.next_key::<String>()? {
            duplicate_keys |= !keys.insert(key);
            duplicate_keys |= map.next_value::<Json>()?.duplicate_keys;
        }
        Ok(Json { duplicate_keys })
    }
}

/// `decoded` (under the default limits) is `invalid_json` exactly when serde_json finds that
/// `payload` is not JSON, or when it gives a field the decoder reads twice.
fn agrees_with_serde_json(
    payload: &[u8],
    decoded: &Result<Event<'_>, DecodeError>,
) -> Result<(), TestCaseError> {
    let message = match decoded {
        Err(DecodeError::InvalidJson { message }) => Some(message),
        _ => None,
    };
    let oracle = serde_json::from_slice::<Json>(payload);
    // The oracle is `Value`'s verdict, with duplicate keys noted.
    prop_assert_eq!(
        oracle.is_ok(),
        serde_json::from_slice::<Value>(payload).is_ok()
    );
    match oracle {
        Ok(Json {
            duplicate_keys: false,
        }) => prop_assert!(message.is_none(), "{:?}", decoded),
        // Where it reads the object, the decoder rejects a field given twice: that is then
        // its only reason to call the payload invalid.
        Ok(Json {
            duplicate_keys: true,
        }) => {
            if let Some(message) = message {
                prop_assert!(message.starts_with("duplicate field"), "{}", message);
            }
        }
        // `Value` holds a number as an `f64`, so it rejects one that overflows it (`1e400`);
        // JSON's grammar sets no such limit, and the decoder reads numbers from their text.
        Err(error) if error.to_string().starts_with("number out of range") => {}
        Err(error) => prop_assert!(message.is_some(), "serde_json: {}; {:?}", error, decoded),
    }
    Ok(())
}

/// Bits of JSON text, right and wrong, for [`json_like_text`].
const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    " ",
    "\t",
    "\"a\"",
    "\"\"",
    "\"event_id\"",
    "\"type\"",
    "\"user_id\"",
    "\"ts\"",
    "\"props\"",
    "\"page\"",
    "\"query\"",
    "\"items\"",
    "\"price\"",
    "\"search\"",
    "\"page_view\"",
    "\"order\"",
    "\"e\\u0076ent_id\"",
    "\"\\ud83d\\ude00\"",
    "\"\\ud800\"",
    "\"\\udc00\"",
    "\"\\ud800\\u0041\"",
    "\"\\u00e9\"",
    "\"\\u12\"",
    "\"\\q\"",
    "\"\\n\"",
    "\"\u{1}\"",
    "\"用户\"",
    "0",
    "-0",
    "01",
    "1.",
    "1.5e+3",
    "-2.25",
    "1e400",
    "12345678901234567890",
    "true",
    "false",
    "null",
    "nul",
    "tru",
    "-",
    "NOON",
    "\"2024-05-01T12:00:00Z\"",
];

/// Text made of [`JSON_TOKENS`]: mostly invalid JSON, now and then valid, often close to both.
fn json_like_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(JSON_TOKENS), 0..40)
        .prop_map(|tokens| tokens.concat().replace("NOON", &NOON.to_string()))
}

/// A JSON number as text, of any size and precision, including what no `f64` holds (`1e400`,
/// 30 significant digits) and what `serde_json::Value` cannot carry.
const NUMBER_TEXT: &str = "-?(0|[1-9][0-9]{0,22})(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,22})?";

/// The numeric fields, each a path for [`with`] in the event it belongs to.
fn numeric_fields() -> Vec<(Value, &'static str)> {
    vec![
        (order_event(), "props.amount"),
        (order_event(), "props.discount"),
        (order_event(), "props.items.0.price"),
        (order_event(), "props.items.0.qty"),
        (page_view_event(), "props.dwell_ms"),
        (page_view_event(), "ts"),
    ]
}

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn arbitrary_bytes_never_panic(payload in prop::collection::vec(any::<u8>(), 0..300)) {
        check(&payload)?;
    }
}

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn arbitrary_json_values_never_panic(value in any_value()) {
        check(value.to_string().as_bytes())?;
    }
}

proptest! {
    #![proptest_config(cases(30_000))]

    #[test]
    fn event_like_values_never_panic_and_accept_only_what_honours_the_limits(event in event_like()) {
        check(event.to_string().as_bytes())?;
    }
}

proptest! {
    #![proptest_config(cases(20_000))]

    #[test]
    fn valid_events_with_random_byte_edits_never_panic(
        which in any::<prop::sample::Index>(),
        edits in prop::collection::vec(edit(), 1..5),
    ) {
        let payloads = valid_payloads();
        let mut payload = which.get(&payloads).clone().into_bytes();
        for edit in &edits {
            apply(&mut payload, edit);
        }
        check(&payload)?;
    }
}

proptest! {
    #![proptest_config(cases(10_000))]

    #[test]
    fn any_number_text_in_a_numeric_field_never_panics(
        which in any::<prop::sample::Index>(),
        number in NUMBER_TEXT,
    ) {
        let fields = numeric_fields();
        let (event, path) = which.get(&fields);
        let payload = with(event.clone(), path, Some(json!("@")))
            .to_string()
            .replace("\"@\"", &number);
        check(payload.as_bytes())?;
    }
}

proptest! {
    #![proptest_config(cases(1_000))]

    #[test]
    fn every_strict_prefix_of_an_event_is_invalid_json(cut in 0usize..1000) {
        let payload = order_event().to_string();
        let prefix = &payload.as_bytes()[..cut % payload.len()];
        prop_assert_eq!(decode(prefix, &DecodeLimits::default()).unwrap_err().reason(), "invalid_json");
    }
}

proptest! {
    #![proptest_config(cases(10_000))]

    #[test]
    fn json_like_text_is_invalid_json_exactly_when_serde_json_says_so(text in json_like_text()) {
        check(text.as_bytes())?;
        // The same text as the value of an unknown field of a valid event.
        let event = page_view_event().to_string();
        let wrapped = event.replacen('{', &format!("{{\"unknown\":{text},"), 1);
        check(wrapped.as_bytes())?;
    }
}

proptest! {
    #![proptest_config(cases(1_000))]

    #[test]
    fn any_strings_survive_a_round_trip(user_id in "\\PC{1,40}", query in any::<String>(), event_id in ".{1,20}") {
        prop_assume!(user_id.len() <= 128);
        let event = json!({"event_id": event_id, "type": "search", "user_id": user_id, "ts": NOON,
                           "props": {"query": query}});
        let payload = event.to_string();
        let decoded = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap();
        prop_assert_eq!(&decoded.event_id, &event_id);
        prop_assert_eq!(&decoded.user_id, &user_id);
        prop_assert_eq!(decoded.kind, EventKind::Search(Search { query: query.into(), category: None }));
    }
}
