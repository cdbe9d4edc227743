//! Why a payload was rejected: the error a producer reads in the dead-letter table.
//!
//! Every variant says which field is wrong, what was expected and what was found, and maps to a
//! stable snake_case [`reason`](DecodeError::reason) code for the dead-letter table and the
//! dead-letter metric. Codes are an interface: dashboards group by them, so never rename one.

use super::scan::JsonError;
use crate::time::TimeError;

/// A payload that does not satisfy the event contract.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    /// Checked before parsing, so an oversized payload costs nothing to reject.
    #[error("payload is {size} bytes, over the limit of {limit} bytes")]
    PayloadTooLarge { size: usize, limit: usize },

    /// Not UTF-8, not JSON (as serde_json's `Value` has it), or JSON with a field given twice
    /// in an object the decoder reads.
    #[error("payload is not valid JSON: {message}")]
    InvalidJson { message: String },

    /// A required field is absent or `null`; the path is JSON-like, e.g. `props.amount`.
    #[error("required field `{0}` is missing or null")]
    MissingField(&'static str),

    /// A field has the wrong JSON type, e.g. a string where a number is required.
    #[error("`{field}` must be {expected}, found {found}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },

    /// `type` is a string but not one of the six event types.
    #[error(
        "unknown event type {0:?}; expected one of {expected}",
        expected = super::EventType::NAMES.join(", ")
    )]
    UnknownType(String),

    /// `ts` is neither an RFC 3339 date-time nor integer epoch milliseconds in range.
    #[error("`ts` {text} is not a valid timestamp: {problem}")]
    BadTimestamp { text: String, problem: TimeError },

    /// `user_id` is the empty string.
    #[error("`user_id` is empty")]
    EmptyUserId,

    /// `user_id` is longer than the limit, counted in UTF-8 bytes after unescaping.
    #[error("`user_id` is {len} bytes, over the limit of {limit} bytes")]
    UserIdTooLong { len: usize, limit: usize },

    /// A string field of a closed set (`direction`, `action`) holds a value outside it.
    #[error("`{field}` is {value:?}; expected one of {}", .expected.join(", "))]
    InvalidEnumValue {
        field: &'static str,
        value: String,
        expected: &'static [&'static str],
    },

    /// A value of the right type that the contract forbids: negative money, zero quantity, ...
    #[error("`{field}` {problem}")]
    InvalidValue {
        field: &'static str,
        problem: &'static str,
    },

    /// A string other than `user_id` over its limit ([`DecodeLimits`](super::DecodeLimits)),
    /// counted in UTF-8 bytes after unescaping.
    #[error("`{field}` is {len} bytes, over the limit of {limit} bytes")]
    TooLong {
        field: &'static str,
        len: usize,
        limit: usize,
    },

    /// An array (an order's `items`) with more elements than the limit.
    #[error("`{field}` has {count} elements, over the limit of {limit}")]
    TooManyItems {
        field: &'static str,
        count: usize,
        limit: usize,
    },

    /// A number above its limit: an amount, a quantity, a dwell time. `text` is the number as
    /// written (its first 40 bytes), `maximum` the limit in the same unit (money in currency
    /// units, `10000000000.00`, though the limit is set in cents).
    #[error("`{field}` is {text}, over the maximum of {maximum}")]
    ValueTooLarge {
        field: &'static str,
        text: String,
        maximum: String,
    },
}

impl DecodeError {
    /// Every reason code, for listing them (docs, metrics registered at zero).
    pub const REASONS: &'static [&'static str] = &[
        "payload_too_large",
        "invalid_json",
        "missing_field",
        "wrong_type",
        "unknown_type",
        "bad_timestamp",
        "empty_user_id",
        "user_id_too_long",
        "invalid_enum_value",
        "invalid_value",
        "too_long",
        "too_many_items",
        "value_too_large",
    ];

    /// The stable snake_case code of this error, stored as the dead-letter reason.
    pub const fn reason(&self) -> &'static str {
        match self {
            DecodeError::PayloadTooLarge { .. } => "payload_too_large",
            DecodeError::InvalidJson { .. } => "invalid_json",
            DecodeError::MissingField(_) => "missing_field",
            DecodeError::WrongType { .. } => "wrong_type",
            DecodeError::UnknownType(_) => "unknown_type",
            DecodeError::BadTimestamp { .. } => "bad_timestamp",
            DecodeError::EmptyUserId => "empty_user_id",
            DecodeError::UserIdTooLong { .. } => "user_id_too_long",
            DecodeError::InvalidEnumValue { .. } => "invalid_enum_value",
            DecodeError::InvalidValue { .. } => "invalid_value",
            DecodeError::TooLong { .. } => "too_long",
            DecodeError::TooManyItems { .. } => "too_many_items",
            DecodeError::ValueTooLarge { .. } => "value_too_large",
        }
    }

    /// The field at fault, as a JSON-like path (`props.items[].price`, or `event` for a payload
    /// that is JSON but not an object); `None` when the payload is too large or not JSON. Worth
    /// its own dead-letter column: producers fix fields, and grouping by it shows which one.
    pub const fn field(&self) -> Option<&'static str> {
        match self {
            DecodeError::PayloadTooLarge { .. } | DecodeError::InvalidJson { .. } => None,
            DecodeError::MissingField(field)
            | DecodeError::WrongType { field, .. }
            | DecodeError::InvalidEnumValue { field, .. }
            | DecodeError::InvalidValue { field, .. }
            | DecodeError::TooLong { field, .. }
            | DecodeError::TooManyItems { field, .. }
            | DecodeError::ValueTooLarge { field, .. } => Some(field),
            DecodeError::UnknownType(_) => Some("type"),
            DecodeError::BadTimestamp { .. } => Some("ts"),
            DecodeError::EmptyUserId | DecodeError::UserIdTooLong { .. } => Some("user_id"),
        }
    }

    /// An [`InvalidJson`](DecodeError::InvalidJson) for a field given twice in one object, which
    /// JSON allows but leaves ambiguous; `path` as in [`field`](DecodeError::field).
    pub(crate) fn duplicate_field(path: &str) -> Self {
        DecodeError::InvalidJson {
            message: format!("duplicate field `{path}`"),
        }
    }
}

/// The scanner's syntax errors, which name the byte offset.
impl From<JsonError> for DecodeError {
    fn from(error: JsonError) -> Self {
        DecodeError::InvalidJson {
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each variant; `reason()`'s exhaustive match makes a new variant fail to
    /// compile until it has a code, and this list makes it fail the test until it is listed.
    fn one_of_each() -> Vec<DecodeError> {
        vec![
            DecodeError::PayloadTooLarge { size: 2, limit: 1 },
            DecodeError::InvalidJson {
                message: "EOF".into(),
            },
            DecodeError::MissingField("props.amount"),
            DecodeError::WrongType {
                field: "ts",
                expected: "a string",
                found: "an object",
            },
            DecodeError::UnknownType("purchase".into()),
            DecodeError::BadTimestamp {
                text: "\"x\"".into(),
                problem: TimeError::OutOfRange,
            },
            DecodeError::EmptyUserId,
            DecodeError::UserIdTooLong {
                len: 200,
                limit: 128,
            },
            DecodeError::InvalidEnumValue {
                field: "props.direction",
                value: "sideways".into(),
                expected: &["user", "staff"],
            },
            DecodeError::InvalidValue {
                field: "props.amount",
                problem: "must not be negative",
            },
            DecodeError::TooLong {
                field: "props.page",
                len: 3000,
                limit: 2048,
            },
            DecodeError::TooManyItems {
                field: "props.items",
                count: 201,
                limit: 200,
            },
            DecodeError::ValueTooLarge {
                field: "props.amount",
                text: "1e400".into(),
                maximum: "10000000000.00".into(),
            },
        ]
    }

    #[test]
    fn reason_codes_are_distinct_and_all_listed() {
        let reasons: Vec<_> = one_of_each().iter().map(DecodeError::reason).collect();
        assert_eq!(reasons, DecodeError::REASONS);
        let mut distinct = reasons.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), reasons.len());
        for reason in reasons {
            assert!(
                reason.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{reason}"
            );
        }
    }

    #[test]
    fn field_names_the_culprit_when_there_is_one() {
        let fields: Vec<_> = one_of_each().iter().map(DecodeError::field).collect();
        assert_eq!(
            fields,
            [
                None,
                None,
                Some("props.amount"),
                Some("ts"),
                Some("type"),
                Some("ts"),
                Some("user_id"),
                Some("user_id"),
                Some("props.direction"),
                Some("props.amount"),
                Some("props.page"),
                Some("props.items"),
                Some("props.amount"),
            ]
        );
    }

    #[test]
    fn messages_name_the_field_and_the_expectation() {
        let messages: Vec<_> = one_of_each().iter().map(ToString::to_string).collect();
        assert_eq!(
            messages[2],
            "required field `props.amount` is missing or null"
        );
        assert_eq!(messages[3], "`ts` must be a string, found an object");
        assert_eq!(
            messages[4],
            "unknown event type \"purchase\"; expected one of \
             page_view, search, chat_message, order, promotion, account"
        );
        assert_eq!(
            messages[8],
            "`props.direction` is \"sideways\"; expected one of user, staff"
        );
        assert_eq!(messages[9], "`props.amount` must not be negative");
        assert_eq!(
            messages[10],
            "`props.page` is 3000 bytes, over the limit of 2048 bytes"
        );
        assert_eq!(
            messages[11],
            "`props.items` has 201 elements, over the limit of 200"
        );
        assert_eq!(
            messages[12],
            "`props.amount` is 1e400, over the maximum of 10000000000.00"
        );
    }
}
