//! The event contract, checked from both of its sides: the JSON Schema in
//! `schemas/events.schema.json` and the decoder in `portrait-core` must accept and reject the
//! same messages, and the generator's traffic must be what both call valid (or, for its
//! deliberately malformed messages, what the decoder rejects for the stated reason).
//!
//! Examples live in `tests/fixtures/`: `valid_events/*.json` must pass both sides;
//! `invalid_events/<reason>.<case>.json` must fail both, the decoder with `<reason>` as its
//! reason code. Where the schema cannot judge (a payload that is not JSON, a payload over the
//! size limit) the tests below say so and check what can be checked.
//!
//! Needs no services: it runs with `cargo test --test event_contract`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use jsonschema::Validator;
use portrait_core::event::{decode, DecodeError, DecodeLimits};
use portrait_generator::{generate, GeneratorConfig, MalformedKind, Message};
use serde_json::{json, Value};

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The schema, with `format` asserted: validators need not check `date-time`, this one does,
/// and the schema's own pattern covers validators that do not.
fn schema() -> Validator {
    let text = fs::read_to_string(repo_path("schemas/events.schema.json")).unwrap();
    let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles")
}

/// The schema's complaints about `payload`, which must be JSON.
fn schema_errors(schema: &Validator, payload: &[u8]) -> Vec<String> {
    let instance: Value = serde_json::from_slice(payload).expect("payload is JSON");
    schema
        .iter_errors(&instance)
        .map(|e| e.to_string())
        .collect()
}

/// `(file stem, bytes)` of every `*.json` file in `tests/fixtures/<dir>`, sorted by name.
fn fixtures(dir: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(repo_path("tests/fixtures").join(dir))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| {
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            (stem, fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {dir}");
    files
}

#[test]
fn valid_examples_pass_schema_and_decoder() {
    let schema = schema();
    for (name, payload) in fixtures("valid_events") {
        assert_eq!(
            schema_errors(&schema, &payload),
            Vec::<String>::new(),
            "{name}"
        );
        let event = decode(&payload, &DecodeLimits::default())
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        let expected_type = name.split('.').next().unwrap();
        assert_eq!(event.event_type().as_str(), expected_type, "{name}");
    }
}

#[test]
fn invalid_examples_fail_schema_and_decoder_with_their_reason() {
    let schema = schema();
    let mut covered = BTreeSet::new();
    for (name, payload) in fixtures("invalid_events") {
        let reason = name.split('.').next().unwrap();
        assert!(
            DecodeError::REASONS.contains(&reason),
            "{name}: unknown reason code"
        );
        covered.insert(reason.to_owned());

        let error = decode(&payload, &DecodeLimits::default())
            .err()
            .unwrap_or_else(|| panic!("{name}: the decoder accepted it"));
        assert_eq!(error.reason(), reason, "{name}: {error}");

        if reason == "invalid_json" {
            // The schema judges JSON values; text that is not one never reaches it.
            assert!(
                serde_json::from_slice::<Value>(&payload).is_err(),
                "{name} is JSON"
            );
        } else {
            assert!(
                !schema_errors(&schema, &payload).is_empty(),
                "{name}: the schema accepted it"
            );
        }
    }
    // payload_too_large has its own test: a 64 KiB fixture would only be noise.
    let expected: BTreeSet<_> = DecodeError::REASONS
        .iter()
        .filter(|&&reason| reason != "payload_too_large")
        .map(|reason| reason.to_string())
        .collect();
    assert_eq!(
        covered, expected,
        "every reason code needs an invalid example"
    );
}

/// Every field of the contract, as a path for [`mutated`] (numbers index arrays).
const FIELD_PATHS: &[&str] = &[
    "event_id",
    "type",
    "user_id",
    "ts",
    "props",
    "props.page",
    "props.category",
    "props.dwell_ms",
    "props.is_promo",
    "props.query",
    "props.direction",
    "props.text",
    "props.staff_id",
    "props.order_id",
    "props.amount",
    "props.discount",
    "props.coupon_id",
    "props.promo_id",
    "props.items",
    "props.items.0",
    "props.items.0.category",
    "props.items.0.price",
    "props.items.0.qty",
    "props.action",
];

/// `document` with the value at `path` replaced (or removed, for `None`); `None` when the
/// path's parent does not exist in this document.
fn mutated(document: &Value, path: &str, value: Option<&Value>) -> Option<Value> {
    let mut document = document.clone();
    let (parents, last) = path.rsplit_once('.').unwrap_or(("", path));
    let mut parent = &mut document;
    for key in parents.split('.').filter(|key| !key.is_empty()) {
        parent = match key.parse::<usize>() {
            Ok(index) => parent.get_mut(index)?,
            Err(_) => parent.get_mut(key)?,
        };
    }
    match (parent, last.parse::<usize>(), value) {
        (Value::Array(items), Ok(index), Some(value)) if index < items.len() => {
            items[index] = value.clone()
        }
        (Value::Object(fields), Err(_), Some(value)) => {
            fields.insert(last.to_owned(), value.clone());
        }
        (Value::Object(fields), Err(_), None) => {
            fields.remove(last)?;
        }
        _ => return None,
    }
    Some(document)
}

/// A differential test: each valid example with one field removed or replaced by a value of
/// another type, range or vocabulary. Schema and decoder must agree on every variant, which
/// finds a rule written on one side only. The values include each size limit and one past it
/// (docs/security.md, "Hostile input"), and avoid the documented differences (see the schema's
/// top-level `$comment`): multi-byte strings near a limit, integers written as `1.0`, offsets
/// past year 9999, numbers beyond `f64`.
#[test]
fn schema_and_decoder_agree_on_every_single_field_change() {
    let schema = schema();
    let limits = DecodeLimits::default();
    let items = |count| vec![json!({"category": "c", "price": 1, "qty": 1}); count];
    let at_and_over_the_limits = [
        json!("x".repeat(limits.max_string_bytes)),
        json!("x".repeat(limits.max_string_bytes + 1)),
        json!("x".repeat(limits.max_text_bytes + 1)),
        json!(items(limits.max_items)),
        json!(items(limits.max_items + 1)),
        json!(limits.max_amount_cents / 100),
        json!(limits.max_amount_cents as f64 / 100.0 + 0.01),
        json!(limits.max_qty),
        json!(limits.max_qty + 1),
        json!(limits.max_dwell_ms),
        json!(limits.max_dwell_ms + 1),
    ];
    let values = [
        json!(null),
        json!(true),
        json!(0),
        json!(1),
        json!(-1),
        json!(1.5),
        json!(12.345),
        json!(""),
        json!("x"),
        json!("user"),
        json!("staff"),
        json!("login"),
        json!("claimed"),
        json!("order"),
        json!("2026-01-01T00:00:00Z"),
        json!("2026-02-30T00:00:00Z"),
        json!(1_767_225_600_000_i64),
        json!([]),
        json!({}),
        json!([{"category": "c", "price": 1, "qty": 1}]),
    ];
    let values: Vec<_> = values.into_iter().chain(at_and_over_the_limits).collect();
    let mut checked = 0;
    for (name, payload) in fixtures("valid_events") {
        let document: Value = serde_json::from_slice(&payload).unwrap();
        let changes = values.iter().map(Some).chain([None]);
        for (path, value) in FIELD_PATHS
            .iter()
            .flat_map(|p| changes.clone().map(move |v| (p, v)))
        {
            let Some(variant) = mutated(&document, path, value) else {
                continue;
            };
            let payload = serde_json::to_vec(&variant).unwrap();
            let schema_says = schema_errors(&schema, &payload);
            let decoder_says = decode(&payload, &DecodeLimits::default()).map(|_| ());
            assert_eq!(
                schema_says.is_empty(),
                decoder_says.is_ok(),
                "{name} with {path} = {value:?}: schema {schema_says:?}, decoder {decoder_says:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} variants");
}

#[test]
fn payload_over_the_size_limit_is_rejected_by_the_decoder_the_schema_cannot_tell() {
    let limits = DecodeLimits::default();
    let padding = "x".repeat(limits.max_payload_bytes);
    let payload = json!({"event_id": "e-1", "type": "page_view", "user_id": "u1", "ts": 0,
                         "props": {"page": "/home", "padding": padding}})
    .to_string();
    // JSON Schema has no keyword for the size of the serialized document: the schema accepts
    // it, and the size limit is the decoder's alone.
    assert_eq!(
        schema_errors(&schema(), payload.as_bytes()),
        Vec::<String>::new()
    );
    let error = decode(payload.as_bytes(), &limits).unwrap_err();
    assert_eq!(error.reason(), "payload_too_large");
}

/// `1e400` is valid JSON, but no `f64` holds it, so `serde_json` (and the schema validator
/// behind it) cannot read the document at all. The decoder reads money from its decimal text
/// and rejects it as over the maximum, like any other large amount.
#[test]
fn a_number_beyond_f64_is_too_large_for_the_decoder_and_unreadable_for_the_schema() {
    for (field, number) in [
        ("amount", "1e400"),
        ("amount", "-1e400"),
        ("discount", "1E+400"),
    ] {
        let payload = format!(
            r#"{{"event_id":"e-1","type":"order","user_id":"u1","ts":0,
                "props":{{"order_id":"o-1","amount":1,"{field}":{number}}}}}"#
        )
        .replace(r#""amount":1,"amount""#, r#""amount""#);
        assert!(
            serde_json::from_str::<Value>(&payload).is_err(),
            "{payload}"
        );
        let error = decode(payload.as_bytes(), &DecodeLimits::default()).unwrap_err();
        let expected = if number.starts_with('-') {
            "invalid_value"
        } else {
            "value_too_large"
        };
        assert_eq!(error.reason(), expected, "{number}: {error}");
        assert_eq!(
            error.field(),
            Some(if field == "amount" {
                "props.amount"
            } else {
                "props.discount"
            })
        );
    }
}

/// `-0` is zero on both sides, where the field takes an integer as where it takes money. (Not a
/// fixture: the differential test re-serializes fixtures, and serde_json writes `-0` back as
/// `-0.0`, an integer with a fraction, a documented difference.)
#[test]
fn negative_zero_is_zero_for_schema_and_decoder() {
    let schema = schema();
    let payloads = [
        r#"{"event_id":"e-1","type":"page_view","user_id":"u1","ts":-0,"props":{"page":"/","dwell_ms":-0}}"#,
        r#"{"event_id":"e-1","type":"order","user_id":"u1","ts":0,"props":{"order_id":"o","amount":-0,"discount":-0.0,"items":[{"category":"c","price":-0e3,"qty":1}]}}"#,
    ];
    for payload in payloads {
        assert_eq!(
            schema_errors(&schema, payload.as_bytes()),
            Vec::<String>::new(),
            "{payload}"
        );
        let event = decode(payload.as_bytes(), &DecodeLimits::default())
            .unwrap_or_else(|error| panic!("{payload}: {error}"));
        assert_eq!(event.ts.millis(), 0);
    }
}

fn generated(malformed_rate: f64) -> Vec<Message> {
    let config = GeneratorConfig {
        malformed_rate,
        ..GeneratorConfig::default()
    };
    generate(&config).messages().to_vec()
}

#[test]
fn every_generated_message_passes_schema_and_decoder() {
    let schema = schema();
    let messages = generated(0.0);
    let mut per_type = BTreeMap::new();
    for message in &messages {
        let text = String::from_utf8_lossy(&message.payload);
        assert_eq!(message.malformed, None, "{text}");
        let errors = schema_errors(&schema, &message.payload);
        assert!(errors.is_empty(), "{text}: {errors:?}");
        let event = decode(&message.payload, &DecodeLimits::default())
            .unwrap_or_else(|error| panic!("{text}: {error}"));
        assert_eq!(event.user_id, message.key, "the key is the user_id: {text}");
        assert_eq!(
            Some(event.event_type().as_str()),
            message.event_type,
            "{text}"
        );
        *per_type.entry(event.event_type().as_str()).or_insert(0) += 1;
    }
    assert_eq!(per_type.len(), 6, "every type is generated: {per_type:?}");
}

#[test]
fn every_generated_malformed_message_is_rejected_for_its_reason() {
    let messages = generated(0.05);
    let mut seen = BTreeSet::new();
    for message in &messages {
        let text = String::from_utf8_lossy(&message.payload);
        let result = decode(&message.payload, &DecodeLimits::default());
        let Some(kind) = message.malformed else {
            assert!(result.is_ok(), "{text}: {:?}", result.err());
            continue;
        };
        let error = result
            .err()
            .unwrap_or_else(|| panic!("{}: accepted {text}", kind.as_str()));
        assert_eq!(
            (error.reason(), error.field()),
            common::expected_rejection(kind),
            "{}: {error}",
            kind.as_str()
        );
        seen.insert(kind.as_str());
    }
    let all: BTreeSet<_> = MalformedKind::ALL
        .iter()
        .map(|kind| kind.as_str())
        .collect();
    assert_eq!(seen, all, "every malformed kind is generated");
}
