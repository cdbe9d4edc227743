//! Reading one field of a payload: presence, JSON type, then the typed value, with the field's
//! path in every error.
//!
//! The wire structs capture each field as a `&RawValue`, a slice of the payload that serde has
//! checked to be well-formed JSON, instead of letting serde convert it. A serde type error would
//! only say "invalid type: integer `5`, expected a string at line 1 column 40"; reading the
//! slice here lets the decoder say *which* field is wrong in a [`DecodeError`] with a stable
//! reason, and lets strings stay borrowed and money be read from its decimal digits.
//!
//! Readers that check a size limit ([`super::DecodeLimits`]) are built from the limit, e.g.
//! `string_up_to(max)`, and are passed to [`required`] and [`optional`] like the others.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer as _, IgnoredAny, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::money::{self, MoneyError};
use super::names::WireName;
use super::DecodeError;

/// Reads a field the contract requires; absent and `null` are both [`DecodeError::MissingField`].
pub(crate) fn required<'a, T>(
    raw: Option<&'a RawValue>,
    path: &'static str,
    read: impl FnOnce(&'a RawValue, &'static str) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    read(raw.ok_or(DecodeError::MissingField(path))?, path)
}

/// Reads an optional field; absent and `null` are both `None`.
pub(crate) fn optional<'a, T>(
    raw: Option<&'a RawValue>,
    path: &'static str,
    read: impl FnOnce(&'a RawValue, &'static str) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    raw.map(|raw| read(raw, path)).transpose()
}

/// Deserializes `text` into a wire struct, insisting on a JSON object.
///
/// serde's derived structs also accept a JSON array, matching elements to fields by position;
/// the contract has no positional form, so anything but an object is a type error (or invalid
/// JSON, if it is not even that).
pub(crate) fn object<'a, T: Deserialize<'a>>(
    text: &'a str,
    path: &'static str,
) -> Result<T, DecodeError> {
    let text = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if JsonType::of(text) == JsonType::Object {
        return serde_json::from_str(text).map_err(DecodeError::invalid_json);
    }
    serde_json::from_str::<IgnoredAny>(text).map_err(DecodeError::invalid_json)?;
    Err(wrong_type(text, path, "an object"))
}

/// A JSON string, borrowed from the payload unless it contains escapes.
pub(crate) fn string<'a>(
    raw: &'a RawValue,
    path: &'static str,
) -> Result<Cow<'a, str>, DecodeError> {
    let text = of_type(raw, path, JsonType::String, "a string")?;
    let content = &text[1..text.len() - 1];
    if content.contains('\\') {
        serde_json::from_str(text)
            .map(Cow::Owned)
            .map_err(DecodeError::invalid_json)
    } else {
        // serde validated the string while capturing it; without escapes, its content is its
        // value.
        Ok(Cow::Borrowed(content))
    }
}

/// A reader of a string of at most `max_bytes` UTF-8 bytes after unescaping, else
/// [`DecodeError::TooLong`].
pub(crate) fn string_up_to<'a>(
    max_bytes: usize,
) -> impl Fn(&'a RawValue, &'static str) -> Result<Cow<'a, str>, DecodeError> {
    move |raw, path| {
        let value = string(raw, path)?;
        if value.len() > max_bytes {
            return Err(DecodeError::TooLong {
                field: path,
                len: value.len(),
                limit: max_bytes,
            });
        }
        Ok(value)
    }
}

/// A string naming one variant of a closed set, such as `direction`.
pub(crate) fn one_of<E: WireName>(raw: &RawValue, path: &'static str) -> Result<E, DecodeError> {
    let name = string(raw, path)?;
    E::parse(&name).ok_or_else(|| DecodeError::InvalidEnumValue {
        field: path,
        value: name.into_owned(),
        expected: E::NAMES,
    })
}

/// `true` or `false`.
pub(crate) fn boolean(raw: &RawValue, path: &'static str) -> Result<bool, DecodeError> {
    Ok(of_type(raw, path, JsonType::Boolean, "a boolean")? == "true")
}

/// A reader of a non-negative integer of at most `max`, written without fraction or exponent,
/// such as a duration. `-0` is zero, as it is for the schema's `minimum: 0`.
pub(crate) fn unsigned_up_to(
    max: u64,
) -> impl Fn(&RawValue, &'static str) -> Result<u64, DecodeError> {
    move |raw, path| {
        let text = of_type(raw, path, JsonType::Number, "a non-negative integer")?;
        let invalid = |problem| DecodeError::InvalidValue {
            field: path,
            problem,
        };
        if text.contains(['.', 'e', 'E']) {
            return Err(invalid(
                "must be a whole number, without fraction or exponent",
            ));
        }
        let digits = match text.strip_prefix('-') {
            Some("0") => "0",
            Some(_) => return Err(invalid("must not be negative")),
            None => text,
        };
        // Only digits remain, so the parse fails only above `u64::MAX`, which is over any limit.
        match digits.parse::<u64>() {
            Ok(value) if value <= max => Ok(value),
            _ => Err(too_large(path, text, max.to_string())),
        }
    }
}

/// A reader of money: a JSON number from 0 to `max_cents` cents, compared exactly, as whole
/// cents (see [`money`]).
pub(crate) fn money_up_to(
    max_cents: i64,
) -> impl Fn(&RawValue, &'static str) -> Result<i64, DecodeError> {
    move |raw, path| {
        let text = of_type(raw, path, JsonType::Number, "a number")?;
        money::cents(text, max_cents).map_err(|error| match error {
            MoneyError::Negative => DecodeError::InvalidValue {
                field: path,
                problem: "must not be negative",
            },
            MoneyError::AboveMaximum => too_large(path, text, money::format_cents(max_cents)),
        })
    }
}

/// The elements of a JSON array, each read with `read`, or the first element's error, or
/// [`DecodeError::TooManyItems`] once there are more than `max_len`.
///
/// One pass, without collecting the raw elements first: elements are read as they are met, and
/// past the limit (or after an error) the rest is only skipped, and counted for the message,
/// so a hostile array of thousands of elements costs a lexical scan, not thousands of reads.
pub(crate) fn array_up_to<'a, T>(
    raw: &'a RawValue,
    path: &'static str,
    max_len: usize,
    read: impl FnMut(&'a RawValue) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let text = of_type(raw, path, JsonType::Array, "an array")?;
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let elements = Elements {
        path,
        max_len,
        read,
        _elements: std::marker::PhantomData,
    };
    deserializer
        .deserialize_seq(elements)
        .map_err(DecodeError::invalid_json)?
}

/// The serde visitor behind [`array_up_to`]. Its value is itself a `Result`, so that a
/// [`DecodeError`] passes through serde unchanged instead of becoming a serde message.
struct Elements<'a, T, F> {
    path: &'static str,
    max_len: usize,
    read: F,
    _elements: std::marker::PhantomData<fn(&'a RawValue) -> T>,
}

impl<'a, T, F> Visitor<'a> for Elements<'a, T, F>
where
    F: FnMut(&'a RawValue) -> Result<T, DecodeError>,
{
    type Value = Result<Vec<T>, DecodeError>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'a>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(element) = seq.next_element::<&'a RawValue>()? {
            if values.len() == self.max_len {
                let mut count = values.len() + 1;
                while seq.next_element::<IgnoredAny>()?.is_some() {
                    count += 1;
                }
                return Ok(Err(DecodeError::TooManyItems {
                    field: self.path,
                    count,
                    limit: self.max_len,
                }));
            }
            match (self.read)(element) {
                Ok(value) => values.push(value),
                Err(error) => {
                    // serde insists on reaching the closing bracket.
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    return Ok(Err(error));
                }
            }
        }
        Ok(Ok(values))
    }
}

/// A [`DecodeError::ValueTooLarge`] for the number `text` at `path`, quoting at most 40 bytes
/// of it: a hostile number can be 64 KiB of digits.
fn too_large(path: &'static str, text: &str, maximum: String) -> DecodeError {
    const QUOTED: usize = 40;
    // JSON number text is ASCII, so any byte offset is a character boundary.
    let text = match text.get(..QUOTED) {
        Some(start) if text.len() > QUOTED => format!("{start}..."),
        _ => text.to_owned(),
    };
    DecodeError::ValueTooLarge {
        field: path,
        text,
        maximum,
    }
}

/// The JSON text of `raw` if it has the `wanted` type, else a type error saying `expected`.
fn of_type<'a>(
    raw: &'a RawValue,
    path: &'static str,
    wanted: JsonType,
    expected: &'static str,
) -> Result<&'a str, DecodeError> {
    let text = raw.get();
    if JsonType::of(text) == wanted {
        Ok(text)
    } else {
        Err(wrong_type(text, path, expected))
    }
}

/// A [`DecodeError::WrongType`] for the JSON `text` found at `path`.
pub(crate) fn wrong_type(text: &str, path: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::WrongType {
        field: path,
        expected,
        found: JsonType::of(text).described(),
    }
}

/// The six JSON types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JsonType {
    String,
    Number,
    Boolean,
    Null,
    Array,
    Object,
}

impl JsonType {
    /// The type of well-formed JSON `text` without leading whitespace: its first byte tells.
    pub(crate) fn of(text: &str) -> Self {
        match text.as_bytes().first() {
            Some(b'"') => JsonType::String,
            Some(b'{') => JsonType::Object,
            Some(b'[') => JsonType::Array,
            Some(b't' | b'f') => JsonType::Boolean,
            Some(b'n') => JsonType::Null,
            _ => JsonType::Number,
        }
    }

    /// "found ..." in a [`DecodeError::WrongType`] message.
    fn described(self) -> &'static str {
        match self {
            JsonType::String => "a string",
            JsonType::Number => "a number",
            JsonType::Boolean => "a boolean",
            JsonType::Null => "null",
            JsonType::Array => "an array",
            JsonType::Object => "an object",
        }
    }
}
