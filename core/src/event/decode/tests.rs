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
    decode(event.to_string().as_bytes(), &DecodeLimits::default()).unwrap_err()
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
fn invalid_json_carries_serdes_position() {
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
    assert!(error.to_string().contains("line 1 column 16"), "{error}");
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
    for qty in [json!(0), json!(1.5), json!(-1), json!(4_294_967_296_u64)] {
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

// Property tests: no input makes `decode` panic, and what it accepts honours the contract.

/// A JSON value of any shape, small.
fn any_json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        any::<bool>().prop_map(|b| b.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| json!(f).to_string()),
        "-?[0-9]{1,22}(\\.[0-9]{1,22})?([eE][+-]?[0-9]{1,5})?",
        any::<String>().prop_map(|s| json!(s).to_string()),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec((field_name(), inner), 0..4).prop_map(|fields| object(&fields)),
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

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("page".to_owned()),
        Just("amount".to_owned()),
        any::<String>()
    ]
}

fn object(fields: &[(String, String)]) -> String {
    let fields: Vec<_> = fields
        .iter()
        .map(|(k, v)| format!("{}:{v}", json!(k)))
        .collect();
    format!("{{{}}}", fields.join(","))
}

/// A value for the field `name`: usually one that is right or nearly right for it (so that
/// generated events get deep into the decoder), sometimes any JSON at all.
fn value_for(name: &str) -> BoxedStrategy<String> {
    let plausible: &[&str] = match name {
        "type" => &[
            "\"page_view\"", "\"search\"", "\"chat_message\"", "\"order\"", "\"promotion\"",
            "\"account\"", "\"other\"",
        ],
        "ts" => &[
            "1714564800000", "-1", "\"2024-05-01T12:00:00Z\"", "\"2024-05-01T20:00:00.5+08:00\"",
            "1.5", "\"2024-02-30T00:00:00Z\"",
        ],
        "dwell_ms" => &["0", "5000", "-1", "1.5"],
        "is_promo" => &["true", "false"],
        "direction" => &["\"user\"", "\"staff\"", "\"sideways\""],
        "action" => &["\"claimed\"", "\"expired\"", "\"login\"", "\"cancel\"", "\"bogus\""],
        "amount" | "discount" => &["0", "12.345", "99", "0.285", "-1", "1e400"],
        "items" => &[
            "[]", "[{\"category\":\"c\",\"price\":1.5,\"qty\":2}]",
            "[{\"category\":\"c\",\"price\":0,\"qty\":1},{\"category\":\"d\",\"price\":2,\"qty\":3}]",
            "[{\"category\":\"c\",\"price\":-1,\"qty\":0}]", "[{\"category\":\"c\"}]", "[1]",
        ],
        "unknown" => &["{}"],
        _ => &["\"x\"", "\"x\"", "\"x\"", "\"\"", "\"\\u00e9\\n\""],
    };
    prop_oneof![
        9 => prop::sample::select(plausible).prop_map(str::to_owned),
        1 => any_json(),
    ]
    .boxed()
}

/// Some of `names` (distinct, in order), each with a value for it.
fn fields_of(
    names: &'static [&'static str],
    count: std::ops::Range<usize>,
) -> impl Strategy<Value = Vec<(String, String)>> {
    prop::sample::subsequence(names, count).prop_flat_map(|names| {
        names
            .into_iter()
            .map(|name| value_for(name).prop_map(move |value| (name.to_owned(), value)))
            .collect::<Vec<_>>()
    })
}

/// An event of a random type whose fields are usually present and plausible for that type.
fn event_like() -> impl Strategy<Value = String> {
    prop::sample::select(EventType::ALL).prop_flat_map(|event_type| {
        let envelope_names = &["event_id", "user_id", "ts"];
        let envelope = prop_oneof![9 => fields_of(envelope_names, 3..4), 1 => fields_of(envelope_names, 0..4)];
        let type_name = prop_oneof![9 => Just(json!(event_type.as_str()).to_string()), 1 => value_for("type")];
        let names = props_names(event_type);
        let props = prop_oneof![
            9 => fields_of(names, names.len() - 1..names.len() + 1).prop_map(|fields| object(&fields)),
            1 => any_json(),
        ];
        (envelope, type_name, prop::option::weighted(0.95, props))
    })
    .prop_map(|(mut fields, type_name, props)| {
        fields.push(("type".to_owned(), type_name));
        fields.extend(props.map(|props| ("props".to_owned(), props)));
        object(&fields)
    })
}

/// What every accepted event satisfies, whatever the input.
fn check_accepted(payload: &[u8], limits: &DecodeLimits) -> Result<(), TestCaseError> {
    if let Ok(event) = decode(payload, limits) {
        prop_assert!(!event.event_id.is_empty());
        prop_assert!(!event.user_id.is_empty() && event.user_id.len() <= limits.max_user_id_bytes);
        prop_assert!((EventTime::MIN..=EventTime::MAX).contains(&event.ts));
        if let EventKind::Order(order) = &event.kind {
            prop_assert!(order.amount_cents >= 0 && order.discount_cents >= 0);
            prop_assert!(order
                .items
                .iter()
                .all(|item| item.price_cents >= 0 && item.qty >= 1));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(payload in prop::collection::vec(any::<u8>(), 0..300)) {
        check_accepted(&payload, &DecodeLimits::default())?;
    }

    #[test]
    fn arbitrary_json_never_panics(payload in any_json()) {
        check_accepted(payload.as_bytes(), &DecodeLimits::default())?;
    }

    #[test]
    fn event_like_json_never_panics_and_accepts_only_valid_events(payload in event_like()) {
        check_accepted(payload.as_bytes(), &DecodeLimits::default())?;
        check_accepted(payload.as_bytes(), &DecodeLimits { max_payload_bytes: 200, max_user_id_bytes: 1 })?;
    }

    #[test]
    fn every_strict_prefix_of_an_event_is_invalid_json(cut in 0usize..1000) {
        let payload = order_event().to_string();
        let prefix = &payload.as_bytes()[..cut % payload.len()];
        prop_assert_eq!(decode(prefix, &DecodeLimits::default()).unwrap_err().reason(), "invalid_json");
    }

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
