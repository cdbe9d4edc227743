//! `decode`: one Kafka payload in, one validated [`Event`] (or the reason it is not one) out.
//!
//! This is the per-record hot path, so a valid event allocates only for an order's items and
//! for strings with escapes. Two steps:
//!
//! 1. One pass of the scanner ([`super::scan`]) over the payload validates all of it as JSON
//!    and captures the envelope's fields, and the props fields of the event's type, as slices
//!    of it ([`Envelope`]); invalid JSON anywhere is reported before anything else.
//! 2. The fields are read in the order of the contract's table (`event_id`, `type`,
//!    `user_id`, `ts`, `props`, then the props in their order), and the first problem is the
//!    one reported.
//!
//! Why not serde_json: capturing `&RawValue`s through it took a pass for the envelope, another
//! for the props, and a parse of each field's slice; validating and capturing in one pass
//! decodes an event in less than half the time (docs/performance.md). serde_json is still the
//! tests' oracle of what is JSON.

use std::borrow::Cow;

use serde::Deserialize;

use super::json::{is_integer, required, string, string_up_to, wrong_type, JsonType};
use super::props::{self, Props};
use super::scan::{Raw, Scanner};
use super::{DecodeError, Event, EventType};
use crate::time::{EventTime, TimeError};

/// The bounds a payload must keep, checked before and while decoding: the defences against
/// hostile or broken producers (docs/security.md, "Hostile input").
///
/// The contract fixes what a value *means* (an amount is `>= 0`, a quantity `>= 1`); these
/// limits bound how *big* it may be, so that one message costs bounded work and memory, and
/// nothing downstream (sums of cents, the events archive, keyword scans) meets a value it cannot
/// hold. Each violation is dead-lettered with its own reason code: `payload_too_large`,
/// `user_id_too_long`, `too_long`, `too_many_items`, `value_too_large`.
///
/// The defaults are far above anything a real producer sends (the generator's largest order
/// has 3 items and lines of 2,700.00) and far below what would hurt. Plain fields with serde
/// `default`, so a config file can embed it and set only the limits it changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeLimits {
    /// Larger payloads are rejected before any parsing. Default 64 KiB.
    pub max_payload_bytes: usize,
    /// The longest accepted `user_id`, in UTF-8 bytes after unescaping. Default 128 (DESIGN.md).
    pub max_user_id_bytes: usize,
    /// The longest accepted value of every other free-text field (`event_id`, `page`,
    /// `category`, `query`, `staff_id`, `order_id`, `coupon_id`, `promo_id`, an item's
    /// `category`), in UTF-8 bytes after unescaping. Default 2048: a page URL with its tracking
    /// parameters still fits, where 1024 would reject real traffic; ids and categories are far
    /// shorter.
    pub max_string_bytes: usize,
    /// The longest accepted chat `text`, in UTF-8 bytes after unescaping. Default 16 KiB.
    /// Text is only scanned for keywords and never stored, so the limit only bounds that scan;
    /// it is generous because rejecting a message also loses it for activation (4 KiB is about
    /// 1,400 CJK characters, which one pasted message can exceed).
    pub max_text_bytes: usize,
    /// The most `items` one order may list. Default 200.
    pub max_items: usize,
    /// The largest `amount`, `discount` and item `price`, in cents, compared with the exact
    /// decimal value before rounding (as the schema's `maximum` is). Default 10^12 cents
    /// (10,000,000,000.00): with `max_qty` it keeps one line's `price × qty` within 10^18,
    /// below `i64::MAX`. It also rejects `1e400`, the text that would be infinity as an `f64`.
    pub max_amount_cents: i64,
    /// The largest item `qty`. Default 1,000,000.
    pub max_qty: u32,
    /// The longest accepted `dwell_ms`. Default 604,800,000 (7 days): generous, because
    /// rejecting the view also loses it for the counts, and dwell time feeds no signal.
    pub max_dwell_ms: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        DecodeLimits {
            max_payload_bytes: 65_536,
            max_user_id_bytes: 128,
            max_string_bytes: 2_048,
            max_text_bytes: 16_384,
            max_items: 200,
            max_amount_cents: 1_000_000_000_000,
            max_qty: 1_000_000,
            max_dwell_ms: 604_800_000,
        }
    }
}

/// Decodes one message payload into an [`Event`] borrowing from it, or says why it breaks the
/// event contract.
///
/// Never panics, whatever the bytes. Rules the contract leaves open, decided here: a `null`
/// field counts as absent; `props` is required for every type (each has a required prop);
/// unknown fields are ignored in the envelope as in props; a field the decoder reads given
/// twice in one object is invalid JSON, since which value is meant is ambiguous; `event_id`
/// must not be empty. What is valid JSON is what `serde_json::Value` accepts, so a lone
/// surrogate (`"\ud800"`) or 128 nested arrays are invalid anywhere, even in an unknown field.
///
/// ```
/// use portrait_core::event::{decode, DecodeLimits, EventKind};
///
/// let payload = br#"{"event_id":"e1","type":"search","user_id":"u1",
///                    "ts":"2024-05-01T12:00:00Z","props":{"query":"coupon"}}"#;
/// let event = decode(payload, &DecodeLimits::default()).unwrap();
/// assert_eq!(event.user_id, "u1");
/// assert!(matches!(event.kind, EventKind::Search(ref s) if s.query == "coupon"));
///
/// let error = decode(b"{\"event_id\":", &DecodeLimits::default()).unwrap_err();
/// assert_eq!(error.reason(), "invalid_json");
/// ```
pub fn decode<'a>(payload: &'a [u8], limits: &DecodeLimits) -> Result<Event<'a>, DecodeError> {
    if payload.len() > limits.max_payload_bytes {
        return Err(DecodeError::PayloadTooLarge {
            size: payload.len(),
            limit: limits.max_payload_bytes,
        });
    }
    let text = std::str::from_utf8(payload).map_err(|error| DecodeError::InvalidJson {
        message: format!("not UTF-8: {error}"),
    })?;
    // Filled in place: the envelope is a few hundred bytes, which a return would copy.
    let mut envelope = Envelope::default();
    envelope.scan(text)?;

    let [event_id, event_type, user_id, ts, props] = envelope.values;
    let event_id = required(event_id, "event_id", |raw, path| {
        self::event_id(raw, path, limits.max_string_bytes)
    })?;
    let event_type = required(event_type, "type", self::event_type)?;
    let user_id = required(user_id, "user_id", string)?;
    if user_id.is_empty() {
        return Err(DecodeError::EmptyUserId);
    }
    if user_id.len() > limits.max_user_id_bytes {
        return Err(DecodeError::UserIdTooLong {
            len: user_id.len(),
            limit: limits.max_user_id_bytes,
        });
    }
    let ts = required(ts, "ts", timestamp)?;
    let kind = required(props, "props", |raw, _| {
        props::decode(event_type, raw, &envelope.props, limits)
    })?;
    Ok(Event {
        event_id,
        user_id,
        ts,
        kind,
    })
}

/// The envelope's fields, in the order producers write them (the contract's), which is the
/// order [`Scanner::object`] finds fastest.
const FIELDS: [&str; 5] = ["event_id", "type", "user_id", "ts", "props"];
const TYPE: usize = 1;
const PROPS: usize = 4;

/// The envelope as the scan found it: each field's value (`null` included), not yet read.
#[derive(Debug, Default)]
struct Envelope<'a> {
    /// Indexed as [`FIELDS`].
    values: [Option<Raw<'a>>; FIELDS.len()],
    /// The fields of `props`, if the scan could capture them: when `type` came first.
    props: Props<'a>,
}

impl<'a> Envelope<'a> {
    /// Validates the whole payload and captures its envelope and props fields, or fails with
    /// [`DecodeError::InvalidJson`], or with [`DecodeError::WrongType`] for JSON that is not an
    /// object.
    fn scan(&mut self, text: &'a str) -> Result<(), DecodeError> {
        let mut scanner = Scanner::new(text);
        if !scanner.at_object() {
            let value = scanner.value()?;
            scanner.end()?;
            return Err(wrong_type(value, "event", "an object"));
        }
        // The type named so far, read early so that props can be captured in the same pass.
        // Only a plain string is read here; anything else is left to the reading, which
        // reports it (and then has no use for the props).
        let mut event_type = None;
        scanner.object(&FIELDS, |scanner, index| {
            let Some(index) = index else {
                return Ok(scanner.value().map(drop)?);
            };
            let value = match event_type {
                Some(event_type) if index == PROPS && scanner.at_object() => {
                    self.props.capture(scanner, event_type)?
                }
                _ => scanner.value()?,
            };
            if index == TYPE && value.kind == JsonType::String && !value.escaped {
                event_type = EventType::parse(&value.text[1..value.text.len() - 1]);
            }
            if self.values[index].replace(value).is_some() {
                return Err(DecodeError::duplicate_field(FIELDS[index]));
            }
            Ok(())
        })?;
        scanner.end()?;
        Ok(())
    }
}

fn event_id<'a>(
    raw: Raw<'a>,
    path: &'static str,
    max_bytes: usize,
) -> Result<Cow<'a, str>, DecodeError> {
    let id = string_up_to(max_bytes)(raw, path)?;
    if id.is_empty() {
        return Err(DecodeError::InvalidValue {
            field: path,
            problem: "must not be empty",
        });
    }
    Ok(id)
}

fn event_type(raw: Raw<'_>, path: &'static str) -> Result<EventType, DecodeError> {
    let name = string(raw, path)?;
    EventType::parse(&name).ok_or_else(|| DecodeError::UnknownType(name.into_owned()))
}

/// `ts`: an RFC 3339 string or integer epoch milliseconds, within [`EventTime::MIN`]..=`MAX`.
fn timestamp(raw: Raw<'_>, path: &'static str) -> Result<EventTime, DecodeError> {
    let parsed = match raw.kind {
        JsonType::String => EventTime::parse_rfc3339(&string(raw, path)?),
        JsonType::Number if !is_integer(raw.text) => Err(TimeError::NotAnInteger),
        JsonType::Number => raw
            .text
            .parse()
            .map_err(|_| TimeError::OutOfRange)
            .and_then(EventTime::try_from_millis),
        _ => {
            let expected = "an RFC 3339 string or integer epoch milliseconds";
            return Err(wrong_type(raw, path, expected));
        }
    };
    parsed.map_err(|problem| DecodeError::BadTimestamp {
        text: raw.text.to_owned(),
        problem,
    })
}

#[cfg(test)]
mod tests;
