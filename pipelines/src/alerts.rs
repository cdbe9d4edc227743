//! The `[alerts]` section, and handing a flush's alerts to every enabled sink.
//!
//! The rules live in `portrait_core::alerts` and each user's timeline in its shard; this is
//! the configuration that switches the sinks on and off, and the delivery step of the flush.
//! Every sink is retried until it acknowledges (the webhook inside its own delivery, the
//! Kafka topic here), because the flush commits offsets only afterwards: an alert is never
//! lost, and one re-sent after a crash carries the same `alert_id` (`docs/alerts.md`).

use portrait_connectors::alerts::{WebhookConfig, WebhookConfigError, WebhookSink};
use portrait_connectors::kafka::{AlertProducer, KafkaConfig, ProduceError};
use portrait_core::alerts::{Alert, AlertRules};
use serde::{Deserialize, Serialize};

use crate::retry::retry;

/// Which alerts are decided when, and where they go. Each sink is on or off by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// At most one alert per user and kind within this many days of event time. Default 7.
    pub cooldown_days: u32,
    /// How late an event may arrive and still be placed in time for alerts, in milliseconds:
    /// a transition at `t` is decided once every input topic of the user's partition has
    /// reached `t` + this. Larger is exact for later data, smaller alerts sooner. Default
    /// 300 000 (5 minutes, like `pipeline.lateness_ms`).
    pub lateness_ms: i64,
    /// Write alerts to the ClickHouse table `profile_alerts`. Default on.
    pub clickhouse: bool,
    /// Produce alerts to this Kafka topic, keyed by `user_id`; empty for none (the default).
    pub kafka_topic: String,
    /// POST each alert to a webhook (`[alerts.webhook]`); off while its `url` is empty.
    pub webhook: WebhookConfig,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            cooldown_days: AlertRules::default().cooldown_days,
            lateness_ms: 300_000,
            clickhouse: true,
            kafka_topic: String::new(),
            webhook: WebhookConfig::default(),
        }
    }
}

/// An `[alerts]` setting the engine cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertsConfigError {
    #[error("alerts.lateness_ms must be >= 0")]
    NegativeLateness,
    #[error("alerts.webhook: {0}")]
    Webhook(#[from] WebhookConfigError),
}

impl AlertsConfig {
    /// Whether any sink is on: without one, no timeline is kept at all.
    pub fn enabled(&self) -> bool {
        self.clickhouse || self.kafka_enabled() || self.webhook_enabled()
    }

    pub fn rules(&self) -> AlertRules {
        AlertRules {
            cooldown_days: self.cooldown_days,
        }
    }

    fn kafka_enabled(&self) -> bool {
        !self.kafka_topic.trim().is_empty()
    }

    fn webhook_enabled(&self) -> bool {
        !self.webhook.url.trim().is_empty()
    }

    /// Every mistake in this section.
    pub fn validate(&self) -> Vec<AlertsConfigError> {
        let mut mistakes = Vec::new();
        if self.lateness_ms < 0 {
            mistakes.push(AlertsConfigError::NegativeLateness);
        }
        if self.webhook_enabled() {
            mistakes.extend(self.webhook.validate().into_iter().map(Into::into));
        }
        mistakes
    }
}

/// The alert sinks outside ClickHouse (which takes alerts in the flush's one write).
pub(crate) struct AlertSinks {
    topic: Option<(String, AlertProducer)>,
    webhook: Option<WebhookSink>,
}

impl AlertSinks {
    pub(crate) fn new(config: &AlertsConfig, kafka: &KafkaConfig) -> Result<Self, ProduceError> {
        let topic = if config.kafka_enabled() {
            Some((config.kafka_topic.clone(), AlertProducer::new(kafka)?))
        } else {
            None
        };
        Ok(AlertSinks {
            topic,
            webhook: config
                .webhook_enabled()
                .then(|| WebhookSink::new(&config.webhook)),
        })
    }

    /// The Kafka topic to create at start, if any.
    pub(crate) fn topic(&self) -> Option<&str> {
        self.topic.as_ref().map(|(topic, _)| topic.as_str())
    }

    /// Returns once every enabled sink acknowledged every alert.
    pub(crate) async fn deliver(&self, alerts: &[Alert]) {
        if alerts.is_empty() {
            return;
        }
        if let Some((topic, producer)) = &self.topic {
            retry("producing alerts", || producer.send(topic, alerts)).await;
        }
        if let Some(webhook) = &self.webhook {
            webhook.deliver(alerts).await;
        }
    }
}
