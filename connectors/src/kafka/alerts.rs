//! The Kafka alert sink: each alert as one message on an alert topic, for the programs that act
//! on alerts (a CRM workflow, a notification service) rather than the people a webhook tells.
//!
//! | part | content |
//! |---|---|
//! | key | the `user_id` (UTF-8): partitioned by user like the input, so one user's alerts stay in order in one partition |
//! | value | the alert's JSON, byte for byte the webhook's body ([`AlertPayload`]) |
//! | header `portrait.alert_id` | the `alert_id` as text, so a consumer can deduplicate without parsing the value |
//!
//! Delivery is at-least-once: a flush retried after a failure, or a replay after a crash, sends
//! an alert again with the same `alert_id` (DESIGN.md, guarantee 3). The producer is the same
//! durable, idempotent one as [`Producer`]'s, so a retry inside librdkafka adds no repeat.

use portrait_core::alerts::Alert;
use rdkafka::message::{Header, OwnedHeaders};

use super::config::KafkaConfig;
use super::producer::{Outgoing, ProduceError, Producer};
use crate::alerts::AlertPayload;

/// The header carrying the alert's id.
const ALERT_ID: &str = "portrait.alert_id";

/// Sends alerts to a Kafka topic.
pub struct AlertProducer {
    producer: Producer,
}

impl AlertProducer {
    pub fn new(config: &KafkaConfig) -> Result<Self, ProduceError> {
        Ok(Self {
            producer: Producer::new(config)?,
        })
    }

    /// Sends every alert to `topic` and returns once the broker acknowledged all of them: only
    /// then may the pipeline commit the offsets that raised them. A failure may leave some of
    /// them written; sending the whole slice again repeats those, with the same ids.
    pub async fn send(&self, topic: &str, alerts: &[Alert]) -> Result<(), ProduceError> {
        self.producer
            .send_messages::<_, &[u8], Vec<u8>>(topic, alerts, |_| {})
            .await
            .map(drop)
    }
}

/// The alert as a message: keyed by its user, its JSON as the value, its id as a header.
impl<'a> From<&'a Alert> for Outgoing<&'a [u8], Vec<u8>> {
    fn from(alert: &'a Alert) -> Self {
        let payload = AlertPayload::new(alert);
        Outgoing {
            key: Some(alert.user_id.as_bytes()),
            headers: Some(headers(&payload.alert_id)),
            payload: payload.to_json(),
        }
    }
}

fn headers(alert_id: &str) -> OwnedHeaders {
    OwnedHeaders::new_with_capacity(1).insert(Header {
        key: ALERT_ID,
        value: Some(alert_id),
    })
}

#[cfg(test)]
mod tests {
    use rdkafka::message::Headers as _;

    use super::*;

    #[test]
    fn the_alert_id_travels_as_a_text_header() {
        let headers = headers("d424017bf689b2a99ff9844d5d956d45");
        let pairs: Vec<(&str, Option<&[u8]>)> = headers
            .iter()
            .map(|header| (header.key, header.value))
            .collect();
        assert_eq!(
            pairs,
            [(
                "portrait.alert_id",
                Some(&b"d424017bf689b2a99ff9844d5d956d45"[..])
            )]
        );
    }
}
