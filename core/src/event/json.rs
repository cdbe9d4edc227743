//! Reading one field of a payload: presence, JSON type, then the typed value, with the field's
//! path in every error.
//!
//! The scanner ([`super::scan`]) captures each field as a [`Raw`]: a slice of the payload,
//! validated but not converted. Reading it here lets the decoder say *which* field is wrong in
//! a [`DecodeError`] with a stable reason, lets strings stay borrowed, and lets money be read
//! from its decimal digits.
//!
//! Readers that check a size limit ([`super::DecodeLimits`]) are built from the limit, e.g.
//! `string_up_to(max)`, and are passed to [`required`] and [`optional`] like the others.
//!
//! The small readers are `#[inline]`: their `Result<_, DecodeError>` is 64 bytes, which a
//! call passes through memory, and reading an absent optional field cost as much as scanning
//! it.

use std::borrow::Cow;

use super::money::{self, MoneyError};
use super::names::WireName;
use super::scan::{unescape, Raw, Scanner};
use super::DecodeError;

/// Reads a field the contract requires; absent and `null` are both [`DecodeError::MissingField`].
#[inline]
pub(crate) fn required<'a, T>(
    raw: Option<Raw<'a>>,
    path: &'static str,
    read: impl FnOnce(Raw<'a>, &'static str) -> Result<T, DecodeError>,
) -> Result<T, DecodeError> {
    match raw {
        Some(raw) if raw.kind != JsonType::Null => read(raw, path),
        _ => Err(DecodeError::MissingField(path)),
    }
}

/// Reads an optional field; absent and `null` are both `None`.
#[inline]
pub(crate) fn optional<'a, T>(
    raw: Option<Raw<'a>>,
    path: &'static str,
    read: impl FnOnce(Raw<'a>, &'static str) -> Result<T, DecodeError>,
) -> Result<Option<T>, DecodeError> {
    raw.filter(|raw| raw.kind != JsonType::Null)
        .map(|raw| read(raw, path))
        .transpose()
}

/// A JSON string, borrowed from the payload unless it contains escapes.
#[inline]
pub(crate) fn string<'a>(raw: Raw<'a>, path: &'static str) -> Result<Cow<'a, str>, DecodeError> {
    let text = of_type(raw, path, JsonType::String, "a string")?;
    let content = &text[1..text.len() - 1];
    Ok(if raw.escaped {
        Cow::Owned(unescape(content)?)
    } else {
        // The scanner validated the string; without escapes, its content is its value.
        Cow::Borrowed(content)
    })
}

/// A reader of a string of at most `max_bytes` UTF-8 bytes after unescaping, else
/// [`DecodeError::TooLong`].
#[inline]
pub(crate) fn string_up_to<'a>(
    max_bytes: usize,
) -> impl Fn(Raw<'a>, &'static str) -> Result<Cow<'a, str>, DecodeError> {
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
pub(crate) fn one_of<E: WireName>(raw: Raw<'_>, path: &'static str) -> Result<E, DecodeError> {
    let name = string(raw, path)?;
    E::parse(&name).ok_or_else(|| DecodeError::InvalidEnumValue {
        field: path,
        value: name.into_owned(),
        expected: E::NAMES,
    })
}

/// `true` or `false`.
#[inline]
pub(crate) fn boolean(raw: Raw<'_>, path: &'static str) -> Result<bool, DecodeError> {
    Ok(of_type(raw, path, JsonType::Boolean, "a boolean")? == "true")
}

/// A reader of a non-negative integer of at most `max`, written without fraction or exponent,
/// such as a duration. `-0` is zero, as it is for the schema's `minimum: 0`.
pub(crate) fn unsigned_up_to(
    max: u64,
) -> impl Fn(Raw<'_>, &'static str) -> Result<u64, DecodeError> {
    move |raw, path| {
        let text = of_type(raw, path, JsonType::Number, "a non-negative integer")?;
        let invalid = |problem| DecodeError::InvalidValue {
            field: path,
            problem,
        };
        if !is_integer(text) {
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

/// Whether the JSON number `text` is written without fraction or exponent. Bytes, not
/// `str::contains` with a char pattern: number text is ASCII, and this is on the hot path.
#[inline]
pub(crate) fn is_integer(number: &str) -> bool {
    !number.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'))
}

/// A reader of money: a JSON number from 0 to `max_cents` cents, compared exactly, as whole
/// cents (see [`money`]).
pub(crate) fn money_up_to(
    max_cents: i64,
) -> impl Fn(Raw<'_>, &'static str) -> Result<i64, DecodeError> {
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

/// The elements of a JSON array, each read with `read` (which gets the cursor before the
/// element and must consume it), or the first element's error, or
/// [`DecodeError::TooManyItems`] once there are more than `max_len`.
///
/// Elements are read as they are met, and past the limit the rest is only skipped, and
/// counted for the message, so a hostile array of thousands of elements costs a
/// lexical scan, not thousands of reads. The array was validated with the whole payload; this
/// scans it a second time, which only an order's `items` needs.
pub(crate) fn array_up_to<'a, T>(
    raw: Raw<'a>,
    path: &'static str,
    max_len: usize,
    mut read: impl FnMut(&mut Scanner<'a>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let text = of_type(raw, path, JsonType::Array, "an array")?;
    let mut values = Vec::new();
    let mut count = 0;
    Scanner::new(text).array(|scanner| {
        count += 1;
        if count > max_len {
            scanner.value()?;
        } else {
            values.push(read(scanner)?);
        }
        Ok::<_, DecodeError>(())
    })?;
    if count > max_len {
        return Err(DecodeError::TooManyItems {
            field: path,
            count,
            limit: max_len,
        });
    }
    Ok(values)
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
#[inline]
fn of_type<'a>(
    raw: Raw<'a>,
    path: &'static str,
    wanted: JsonType,
    expected: &'static str,
) -> Result<&'a str, DecodeError> {
    if raw.kind == wanted {
        Ok(raw.text)
    } else {
        Err(wrong_type(raw, path, expected))
    }
}

/// A [`DecodeError::WrongType`] for the value `raw` found at `path`.
pub(crate) fn wrong_type(raw: Raw<'_>, path: &'static str, expected: &'static str) -> DecodeError {
    DecodeError::WrongType {
        field: path,
        expected,
        found: raw.kind.described(),
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
