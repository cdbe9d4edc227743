//! A dead letter: an input message the pipeline could not use, kept with the reason and the
//! Kafka coordinates that find it again (DESIGN.md, guarantee 5: bad input never stops the
//! pipeline, it goes to the dead-letter sinks and the offset advances).
//!
//! One value feeds both dead-letter sinks: the ClickHouse `dead_letters` table
//! ([`DeadLetterRow`](crate::clickhouse::DeadLetterRow)) and the Kafka dead-letter topic
//! ([`DeadLetterProducer`](crate::kafka::DeadLetterProducer)). It owns copies of the key and
//! payload because it outlives the consumer batch it came from: it waits in the flush buffer
//! until the sinks acknowledge it, and only then does its offset count as done (FAULTS.md
//! pitfall 5).
//!
//! The reason is a `&'static str` rather than a [`DecodeError`](portrait_core::event::DecodeError)
//! because the pipeline also rejects messages that decode fine but break a rule of its own (a
//! key that is not the `user_id`).

/// A rejected message, with where it came from and why it was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetter {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// The message key as received; `None` for an unkeyed message.
    pub key: Option<Vec<u8>>,
    /// The message value as received; empty for a message without one.
    pub payload: Vec<u8>,
    /// The stable snake_case code of the rejection, e.g.
    /// [`DecodeError::reason`](portrait_core::event::DecodeError::reason): what dashboards and
    /// the dead-letter metric group by.
    pub reason: &'static str,
    /// The human explanation, e.g. the `DecodeError`'s `Display` text: which field, what was
    /// expected, what was found.
    pub detail: String,
    /// When the pipeline rejected the message: wall-clock epoch milliseconds.
    pub received_at_ms: i64,
}
