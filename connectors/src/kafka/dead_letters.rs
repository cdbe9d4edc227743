//! The Kafka dead-letter sink: rejected input re-sent, byte for byte, to a dead-letter topic.
//!
//! Each message keeps its original key and value, so whoever fixes the producer can replay it
//! to the input topic as it is; why it was rejected and where it came from travel as headers,
//! the usual place for that in Kafka (Kafka Connect's `errors.deadletterqueue` does the same):
//!
//! | header | value (UTF-8 text) |
//! |---|---|
//! | `portrait.reason` | the stable reason code, e.g. `invalid_json` |
//! | `portrait.detail` | the human explanation |
//! | `portrait.source.topic` | the input topic |
//! | `portrait.source.partition` | its partition, in decimal |
//! | `portrait.source.offset` | the message's offset there, in decimal |
//!
//! Numbers are decimal text rather than big-endian integers so that any consumer (a console
//! consumer, a Java client, a dashboard) shows them as they are. The dead-letter topic is
//! partitioned by the original key like any keyed topic, so its partition numbers need not
//! match the source's: the source partition is in the headers.

use std::sync::OnceLock;

use rdkafka::message::{Header, OwnedHeaders};

use super::config::KafkaConfig;
use super::producer::{Outgoing, ProduceError, Producer};
use crate::dead_letter::DeadLetter;

/// Header names, as listed in the module documentation.
const REASON: &str = "portrait.reason";
const DETAIL: &str = "portrait.detail";
const SOURCE_TOPIC: &str = "portrait.source.topic";
const SOURCE_PARTITION: &str = "portrait.source.partition";
const SOURCE_OFFSET: &str = "portrait.source.offset";

/// Sends dead letters to a Kafka topic, with the same durable, idempotent producer settings
/// as [`Producer`].
///
/// The producer is created on the first letter. Most runs send none, and an idle librdkafka
/// producer is not free: its polling thread took 2.6% of a replay's CPU (docs/performance.md).
/// Its settings are checked when this is created, so a bad one still fails at start.
pub struct DeadLetterProducer {
    config: KafkaConfig,
    producer: OnceLock<Producer>,
}

impl DeadLetterProducer {
    pub fn new(config: &KafkaConfig) -> Result<Self, ProduceError> {
        Producer::check(config)?;
        Ok(Self {
            config: config.clone(),
            producer: OnceLock::new(),
        })
    }

    /// Sends every letter to `topic` and returns once the broker acknowledged all of them: only
    /// then may the pipeline count their offsets as done. A failure may leave some of them
    /// written; sending the whole slice again then repeats those, which a dead-letter topic
    /// tolerates (the coordinates in the headers tell repeats apart).
    pub async fn send(&self, topic: &str, letters: &[DeadLetter]) -> Result<(), ProduceError> {
        self.producer()?
            .send_messages::<_, &[u8], &[u8]>(topic, letters, |_| {})
            .await
            .map(drop)
    }

    fn producer(&self) -> Result<&Producer, ProduceError> {
        if let Some(producer) = self.producer.get() {
            return Ok(producer);
        }
        let created = Producer::new(&self.config)?;
        Ok(self.producer.get_or_init(|| created))
    }
}

/// The letter as it is re-sent: its own key and payload, the reason and coordinates as headers.
impl<'a> From<&'a DeadLetter> for Outgoing<&'a [u8], &'a [u8]> {
    fn from(letter: &'a DeadLetter) -> Self {
        Outgoing {
            key: letter.key.as_deref(),
            payload: letter.payload.as_slice(),
            headers: Some(headers(letter)),
        }
    }
}

/// The reason and source coordinates of `letter`, as headers.
fn headers(letter: &DeadLetter) -> OwnedHeaders {
    let partition = letter.partition.to_string();
    let offset = letter.offset.to_string();
    let pairs = [
        (REASON, letter.reason),
        (DETAIL, letter.detail.as_str()),
        (SOURCE_TOPIC, letter.topic.as_str()),
        (SOURCE_PARTITION, partition.as_str()),
        (SOURCE_OFFSET, offset.as_str()),
    ];
    pairs.into_iter().fold(
        OwnedHeaders::new_with_capacity(pairs.len()),
        |headers, (key, value)| {
            headers.insert(Header {
                key,
                value: Some(value),
            })
        },
    )
}

#[cfg(test)]
mod tests {
    use rdkafka::message::Headers as _;

    use super::*;

    #[test]
    fn headers_carry_reason_detail_and_source_coordinates_as_text() {
        let letter = DeadLetter {
            topic: "events".to_owned(),
            partition: 7,
            offset: 12_345,
            key: Some(b"u-1".to_vec()),
            payload: b"{".to_vec(),
            reason: "invalid_json",
            detail: "payload is not valid JSON: EOF while parsing".to_owned(),
            received_at_ms: 0,
        };
        let headers = headers(&letter);
        let pairs: Vec<(&str, Option<&[u8]>)> = headers
            .iter()
            .map(|header| (header.key, header.value))
            .collect();
        assert_eq!(
            pairs,
            [
                ("portrait.reason", Some(&b"invalid_json"[..])),
                (
                    "portrait.detail",
                    Some(&b"payload is not valid JSON: EOF while parsing"[..])
                ),
                ("portrait.source.topic", Some(&b"events"[..])),
                ("portrait.source.partition", Some(&b"7"[..])),
                ("portrait.source.offset", Some(&b"12345"[..])),
            ]
        );
    }
}
