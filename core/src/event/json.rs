//! Reading one field of a payload: presence, JSON type, then the typed value, with the field's
//! path in every error.
//!
//! The wire structs capture each field as a `&RawValue`, a slice of the payload that serde has
//! checked to be well-formed JSON, instead of letting serde convert it. A serde type error would
//! only say "invalid type: integer `5`, expected a string at line 1 column 40"; reading the
//! slice here lets the decoder say *which* field is wrong in a [`DecodeError`] with a stable
//! reason, and lets strings stay borrowed and money be read from its decimal digits.

use std::borrow::Cow;

use serde::de::{Deserialize, IgnoredAny};
use serde_json::value::RawValue;

use super::money::{self, MoneyError};
use super::names::WireName;
use super::DecodeError;

/// Reads a field the contract requires; absent and `null` are both [`DecodeError::MissingField`].
pub(crate) fn required<'a, T>(
    raw: Option<&'a RawValue>,
    path: &'static str,
    read: fn(&'a RawValue, &'static str) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    read(raw.ok_or(DecodeError::MissingField(path))?, path)
}

/// Reads an optional field; absent and `null` are both `None`.
pub(crate) fn optional<'a, T>(
    raw: Option<&'a RawValue>,
    path: &'static str,
    read: fn(&'a RawValue, &'static str) -> Result<T, DecodeError>,
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

/// A non-negative integer written without fraction or exponent, such as a duration.
pub(crate) fn unsigned(raw: &RawValue, path: &'static str) -> Result<u64, DecodeError> {
    let text = of_type(raw, path, JsonType::Number, "a non-negative integer")?;
    text.parse().map_err(|_| DecodeError::InvalidValue {
        field: path,
        problem: if text.starts_with('-') {
            "must not be negative"
        } else {
            "must be a whole number below 2^64, without fraction or exponent"
        },
    })
}

/// Money: a non-negative JSON number, as whole cents (see [`money`]).
pub(crate) fn money(raw: &RawValue, path: &'static str) -> Result<i64, DecodeError> {
    let text = of_type(raw, path, JsonType::Number, "a number")?;
    money::cents(text).map_err(|error| DecodeError::InvalidValue {
        field: path,
        problem: match error {
            MoneyError::Negative => "must not be negative",
            MoneyError::TooLarge => "is too large (over 2^63 - 1 cents)",
        },
    })
}

/// The elements of a JSON array, each still raw.
pub(crate) fn array<'a>(
    raw: &'a RawValue,
    path: &'static str,
) -> Result<Vec<&'a RawValue>, DecodeError> {
    let text = of_type(raw, path, JsonType::Array, "an array")?;
    serde_json::from_str(text).map_err(DecodeError::invalid_json)
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
