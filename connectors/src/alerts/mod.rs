//! The alert sinks outside the database: an HTTP webhook, and the JSON both it and the Kafka
//! alert topic carry.
//!
//! The pipeline decides alerts (`portrait_core::alerts`) and hands each flush's alerts to every
//! enabled sink, committing its Kafka offsets only once all of them acknowledged (DESIGN.md,
//! "Alerts" and guarantee 3, alerts are at-least-once with stable ids). The three sinks live
//! with the system they talk to:
//!
//! - the ClickHouse table `profile_alerts`: [`AlertRow`](crate::clickhouse::AlertRow), written
//!   in the flush's [`SinkBatch`](crate::clickhouse::SinkBatch);
//! - a Kafka topic: [`AlertProducer`](crate::kafka::AlertProducer), keyed by user;
//! - a webhook: [`WebhookSink`], here, with its own retries (`webhook/`).
//!
//! The webhook is here rather than in a folder of its own because it shares the JSON with the
//! Kafka sink and has no other system behind it. This folder:
//!
//! - `payload.rs`: the JSON of one alert, shared by the webhook and the Kafka topic, so a
//!   consumer of either parses the same shape;
//! - `webhook/`: the `[alerts.webhook]` settings (`config.rs`), the sink that POSTs each
//!   alert, signs it, and retries it until it is accepted (`mod.rs`), and its tests against a
//!   real HTTP server (`tests.rs`, `test_server.rs`).

mod payload;
mod webhook;

pub use payload::{AlertPayload, SnapshotPayload};
pub use webhook::{WebhookConfig, WebhookConfigError, WebhookSink};

/// The alert of the hand-checked examples, for the other modules' tests.
#[cfg(test)]
pub(crate) use payload::tests::dormant as sample_alert;
