//! Message headers as a consumer sees them: borrowed name/value pairs, in the order they were
//! written. Portrait's own input carries none; the dead-letter topic puts the rejection reason
//! and the source coordinates there, so that its readers get them without parsing the payload.

use std::fmt;

use super::queue::QueuedMessage;

/// The headers of one consumed message, borrowed from its batch like the key and payload.
///
/// Parsed only when asked for: librdkafka parses a message's headers on the first request, and
/// the pipeline's input has none to read, so doing it for every message would cost a few
/// percent of the CPU for nothing (docs/performance.md).
#[derive(Clone, Copy)]
pub struct Headers<'a>(&'a QueuedMessage);

impl<'a> Headers<'a> {
    pub(crate) fn new(message: &'a QueuedMessage) -> Self {
        Self(message)
    }

    /// Every header as `(name, value)`, in order; a header sent without a value has `None`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a [u8]>)> {
        self.0.headers()
    }

    /// The value of the first header called `name`; `None` if there is no such header or it
    /// has no value.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter()
            .find(|(key, _)| *key == name)
            .and_then(|(_, value)| value)
    }
}

/// Lists the pairs, values as lossy UTF-8 (header values are text more often than not).
impl fmt::Debug for Headers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(key, value)| (key, value.map(String::from_utf8_lossy))),
            )
            .finish()
    }
}

/// Equal when the same pairs come in the same order.
impl PartialEq for Headers<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Headers<'_> {}
